"""The ``sla_rules`` command: what SLA rules would do, on a CSV snapshot or a live Odoo database.

::

    sla_rules simulate --demo --at 2026-11-23T09:00
    sla_rules simulate --rules rules.yaml --snapshot leads.csv --at 2026-11-23T09:00 [--format csv]
    sla_rules simulate --rules rules.yaml --url https://odoo.example.com --db prod [--user LOGIN] --at ...

The rules file (YAML, see :mod:`sla_rules.config`) holds the rules, their working calendars and, for a CSV
snapshot, the sales teams. ``--url`` reads the open leads and the sales teams from an Odoo 19 database
(JSON-2 by default, see :mod:`sla_rules.snapshot`); calendars still come from the rules file (company
working schedules in Odoo are not read). Nothing is written anywhere.

The API key is read from the environment variable ``SLA_RULES_API_KEY`` or from ``--api-key-file``, never
from the command line, and never printed.

Output: a table (rule, lead, owner, clock start, deadline, status, what would happen) and one summary line
per rule; ``--format csv`` writes the :func:`~sla_rules.simulate.evaluate` frame instead.

Exit status: 0 done; 2 bad input (options, files, rules, names Odoo does not know, Odoo refusing the login)
with a one-line message on stderr; 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from activity_centric.instants import parse_instant
from funnel_metrics import cli as funnel_cli
from funnel_metrics.cli import UserError
from funnel_metrics.extract import ExtractError, connect
from sla_rules._common import RuleError, label
from sla_rules.config import load_config
from sla_rules.problems import problems_error
from sla_rules.rules import validate_rule
from sla_rules.simulate import evaluate
from sla_rules.snapshot import Snapshot, read_csv, read_odoo, team_sizes

PROG = "sla_rules"
ENV_API_KEY = "SLA_RULES_API_KEY"
DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_RULES = DATA_DIR / "example_rules.yaml"
DEMO_LEADS = DATA_DIR / "example_leads.csv"
TABLE_COLUMNS: tuple[str, ...] = (
    "rule",
    "lead",
    "owner",
    "clock start",
    "deadline",
    "status",
    "what would happen",
)
"""Columns of the table output."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sla_rules`` (subcommand ``simulate``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="SLA rules for an Odoo CRM pipeline: see what they would do, without doing it.",
        epilog=f"Try: {PROG} simulate --demo --at 2026-11-23T09:00",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    simulate = commands.add_parser(
        "simulate",
        help="list the leads the rules would warn or act on, and what they would do",
        description="List the leads each rule would warn or act on at a given time, and what it would do "
        "(reassign, return to marketing, mark lost, pull back, escalate, archive). Nothing is changed. "
        "Working calendars come from the rules file: company working schedules in Odoo are not read.",
    )
    source = simulate.add_argument_group("leads (one of)")
    one = source.add_mutually_exclusive_group(required=True)
    one.add_argument(
        "--demo", action="store_true", help="the bundled example rules and leads (no files, no Odoo)"
    )
    one.add_argument(
        "--snapshot", metavar="CSV", help="open leads as CSV (names for teams, users, stages...)"
    )
    one.add_argument("--url", metavar="URL", help="an Odoo 19 server, e.g. http://localhost:8069")
    simulate.add_argument(
        "--rules", metavar="YAML", help="the rules file: rules, calendars, teams (required unless --demo)"
    )
    simulate.add_argument(
        "--at",
        metavar="ISO",
        help="evaluation time in ISO 8601, year first, e.g. 2026-11-23T09:00 (UTC) or 2026-11-23T10:00+01:00 "
        "(default: now); 01/02/2026 and the like are refused, not guessed",
    )
    simulate.add_argument(
        "--format", choices=("table", "csv"), default="table", help="table (default) or csv on stdout"
    )
    funnel_cli.add_odoo_arguments(simulate, ENV_API_KEY)
    simulate.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr while reading Odoo (default: when stderr is a terminal)",
    )
    simulate.set_defaults(func=_simulate)
    return parser


def _at(text: str | None) -> pd.Timestamp:
    """``--at`` as a UTC Timestamp (:func:`~activity_centric.instants.parse_instant`: ISO 8601 only, naive =
    UTC, an offset is converted); default now."""
    if not text:
        return pd.Timestamp.now(tz="UTC").floor("s")
    try:
        return parse_instant(text, "--at")
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _snapshot(args: argparse.Namespace) -> Snapshot:
    if args.demo:
        if args.rules:
            raise UserError("--demo brings its own rules: leave out --rules, or use --snapshot with them")
        snapshot = read_csv(DEMO_LEADS, load_config(DEMO_RULES))
        return dataclasses.replace(snapshot, source="the demo data")
    if not args.rules:
        raise UserError("--rules is required (a YAML rules file), unless --demo")
    config = load_config(args.rules)
    if args.snapshot:
        return read_csv(args.snapshot, config)
    if not args.db:
        raise UserError("--url needs --db (the Odoo database name)")
    if args.page_size < 1:
        raise UserError("--page-size must be at least 1")
    connection = connect(
        args.url,
        args.db,
        args.login,
        funnel_cli.api_key(args, ENV_API_KEY),
        protocol=args.protocol,
        retries=args.retries,
    )
    return read_odoo(
        connection,
        config,
        page_size=args.page_size,
        retries=args.retries,
        progress=funnel_cli._progress(args),
    )


def _simulate(args: argparse.Namespace) -> int:
    at = _at(args.at)
    snapshot = _snapshot(args)
    sizes = team_sizes(snapshot.teams)
    for rule in snapshot.rules:
        if rule.action == "reassign" and rule.reassign_mode == "round_robin":
            problems = validate_rule(rule, has_calendar=rule.id in snapshot.calendars, team_sizes=sizes)
            if problems:
                raise problems_error(problems, f"rule {rule.name}: ", snapshot.names)
    frame = evaluate(snapshot.rules, snapshot.leads, at, snapshot.calendars, snapshot.teams, snapshot.names)
    if args.format == "csv":
        out = frame.copy()
        for column in ("clock_start", "deadline"):
            out[column] = out[column].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        out.to_csv(sys.stdout, index=False)
        return 0
    print(
        f"SLA rules at {at:%Y-%m-%d %H:%M} UTC on {len(snapshot.leads):,} lead(s) from {snapshot.source} "
        "(nothing is changed):"
    )
    print()
    print(render_table(frame, snapshot))
    print()
    for line in summary_lines(frame, [rule.name for rule in snapshot.rules]):
        print(line)
    return 0


def render_table(frame: pd.DataFrame, snapshot: Snapshot) -> str:
    """The evaluate() frame as a text table with :data:`TABLE_COLUMNS` (``no lead to warn or act on``
    when empty)."""
    if frame.empty:
        return "No lead to warn or act on."
    owners = dict(zip(snapshot.leads["id"], snapshot.leads["user_id"], strict=True))
    rows = []
    for record in frame.itertuples(index=False):
        owner = owners.get(record.lead_id)
        happens = f"cannot: {record.error}" if record.error else record.description
        rows.append(
            (
                str(record.rule),
                str(record.lead),
                label(owner, snapshot.names) if owner is not None and not pd.isna(owner) else "-",
                f"{record.clock_start:%Y-%m-%d %H:%M}",
                f"{record.deadline:%Y-%m-%d %H:%M}",
                str(record.status),
                str(happens),
            )
        )
    widths = [max(len(text) for text in column) for column in zip(TABLE_COLUMNS, *rows, strict=True)]
    lines = ["  ".join(text.ljust(width) for text, width in zip(TABLE_COLUMNS, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )
    return "\n".join(lines)


def summary_lines(frame: pd.DataFrame, rule_names: Sequence[str]) -> list[str]:
    """One line per rule: ``<rule>: W to warn, A to act on, F that cannot be acted on``."""
    lines = []
    for name in rule_names:
        rows = frame[frame["rule"] == name]
        warn = int((rows["status"] == "warn").sum())
        breach = rows["status"] == "breach"
        failed = int((breach & rows["error"].notna()).sum())
        acted = int(breach.sum()) - failed
        lines.append(f"{name}: {warn} to warn, {acted} to act on, {failed} that cannot be acted on")
    return lines


def _message(exc: BaseException) -> str:
    # funnel_metrics' messages name its own environment variable for the API key
    return str(exc).replace("FUNNEL_METRICS_API_KEY", ENV_API_KEY)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sla_rules`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return funnel_cli.run_command(build_parser(), argv, PROG, (UserError, RuleError, ExtractError), _message)


if __name__ == "__main__":
    sys.exit(main())
