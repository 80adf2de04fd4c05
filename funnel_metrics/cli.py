"""The ``funnel-metrics`` command: an HTML funnel report, or the transitions table, from Odoo or a file.

::

    funnel-metrics report --demo -o report.html
    funnel-metrics report --url https://odoo.example.com --db prod --from 2025-01-01 --to 2025-03-31 \\
        --targets targets.csv --stated stated.csv -o report.html        # API key in FUNNEL_METRICS_API_KEY
    funnel-metrics export --url http://localhost:8069 --db pipeline -o transitions.parquet
    funnel-metrics report --input transitions.csv --team Europe -o europe.html

Sources: ``--demo`` (a synthetic pipeline bundled with the package, no Odoo needed), ``--input`` (a
transitions table saved as CSV or Parquet) or ``--url`` (an Odoo 19 database with ``crm_stage_history``, read
over JSON-2 by default). ``--from``/``--to``/``--team`` select the leads whose first stage stay began in the
period (days in ``--tz``, UTC by default; the addon counts them in the user's time zone) and, with ``--team``,
that have a stay in one of those teams, each with its whole history -- the same selection as the addon's
reports -- whatever the source. In the report, conversion, time in stage, stuck leads and salesperson
effectiveness then count the teams' own stays (a lead's passage through a stage counts when its first stay
there is in one of the teams), as the addon's Funnel report filtered on those teams; the sections on leads
cover the selected leads' whole history.

Stage targets: from ``--targets`` (a CSV) when given; else, with ``--url``, the stage targets stored in Odoo
(*CRM › Configuration › Stage Targets* of the ``crm_stage_history`` addon), the ones its own Funnel report
uses. Amounts are in the currency of ``--currency`` when given; else, with ``--url``, in that of the user's
company in Odoo.

Dates and times (``--from``, ``--to``, ``--as-of``) are ISO 8601, year first (``2025-03-31``): another
format, such as ``01/02/2025``, is refused rather than guessed (see
:func:`activity_centric.instants.parse_instant`).

Cost per lead: from ``--costs`` (a CSV by ``--cost-by``, ``source`` by default) when given; else, with
``--url``, from the campaigns' costs of the ``crm_stage_history`` addon (``utm.campaign.cost``, readable by
sales managers only: for other users the report goes without, with a note on stderr), by campaign. A
campaign has one total cost and no month: it is put on the month of the campaign's first lead, so the
report's totals per campaign are exact while its split per month is not meaningful (see
:func:`funnel_metrics.extract.extract_campaign_costs`).

Decision phase: from ``--phase-changes`` (a CSV: ``lead_id``, ``changed_at``, ``phase``, optional
``phase_sequence``) when given; else, with ``--url``, the decision phase history of the ``crm_stage_survey``
addon as the user may read it (:func:`funnel_metrics.extract.extract_phase_changes`); without it (the addon
not installed, no access) the report's section says so. ``--demo`` uses the bundled phase changes, drawn
with a known link to the outcome (see :func:`demo_phase_changes`).

Which activities win deals: from ``--activities`` (completed activities: ``lead_id``, ``activity_type``,
``done_at``, ``user``; CSV or Parquet) when given; else, with ``--url``, the completed activities of the
extracted leads read from Odoo's chatter, and their won or lost status as Odoo decides it
(:func:`funnel_metrics.extract.extract_activities`, :func:`~funnel_metrics.extract.extract_deals`); with
``--demo`` the bundled ones. ``export --activities-output FILE`` writes them.

Demand waterfall: from ``--phases`` (lifecycle phase stays) and ``--handoffs`` (the handoffs between groups;
CSV or Parquet, see :mod:`funnel_metrics.phase_stays`) when given, with ``--phase-targets``; else, with
``--url``, the phase history and handoffs of the ``crm_lead_handoff`` addon, of the period and teams chosen,
as the user may read them (:func:`funnel_metrics.extract.extract_phase_stays`); with ``--demo`` the bundled
ones. The cost per sales-accepted lead uses ``--costs`` when it is by a column the phase stays have
(``source``, ``campaign``...). ``export --phases-output FILE --handoffs-output FILE`` writes them.

The API key is read from the environment variable ``FUNNEL_METRICS_API_KEY`` or from ``--api-key-file``,
never from the command line (where other users could see it) and never printed.

Exit status: 0 done; 2 bad input (options, files, Odoo refusing the login, no data in the period) with a
one-line message on stderr; 130 interrupted.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from activity_centric.instants import parse_day, parse_instant
from funnel_metrics.activity_wins import load_activities, save_activities, validate_activities
from funnel_metrics.decision_phase import load_phase_changes, simulate_phase_changes
from funnel_metrics.extract import (
    ACCESS,
    DEFAULT_PAGE_SIZE,
    MISSING_MODEL,
    NOT_FOUND,
    PROTOCOLS,
    ExtractError,
    _period_text,
    connect,
    extract_activities,
    extract_campaign_costs,
    extract_currency,
    extract_deals,
    extract_handoffs,
    extract_phase_changes,
    extract_phase_stays,
    extract_snapshots,
    extract_stage_targets,
    extract_transitions,
    select_period,
    team_stays,
)
from funnel_metrics.simulate_activities import simulate_activities
from funnel_metrics.transitions import TransitionsError, file_format, load_transitions, save_transitions

PROG = "funnel-metrics"
ENV_API_KEY = "FUNNEL_METRICS_API_KEY"
DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_FILES: dict[str, str] = {
    "transitions": "transitions.csv.gz",
    "targets": "targets.csv",
    "costs": "costs.csv",
    "activities": "activities.csv.gz",
    "stated": "stated.csv",
    "phase_changes": "phase_changes.csv.gz",
    "snapshots": "snapshots.csv.gz",
    "phase_stays": "phase_stays.csv.gz",
    "handoffs": "handoffs.csv.gz",
}
"""The bundled demo dataset, in :data:`DATA_DIR` (see :func:`write_demo_data`)."""
DEMO_SEED = 20240101


class UserError(Exception):
    """Bad input the user can fix; reported as one line on stderr with exit status 2."""


# ------------------------------------------------------------------------------------------------------
# arguments
# ------------------------------------------------------------------------------------------------------


def _add_source_options(common: argparse.ArgumentParser) -> None:
    """Where the transitions come from, and which of them: the options ``report`` and ``export`` share."""
    source = common.add_argument_group("source (one of)")
    one = source.add_mutually_exclusive_group(required=True)
    one.add_argument(
        "--demo", action="store_true", help="the bundled synthetic pipeline (5,000 leads, no Odoo needed)"
    )
    one.add_argument("--input", metavar="FILE", help="a transitions table: .csv, .csv.gz or .parquet")
    one.add_argument("--url", metavar="URL", help="an Odoo 19 server, e.g. http://localhost:8069")
    add_odoo_arguments(common, ENV_API_KEY)
    selection = common.add_argument_group(
        "selection",
        "Leads whose first stage stay began in the period (days inclusive, in --tz), as Odoo's report.",
    )
    selection.add_argument("--from", dest="date_from", metavar="DATE", help="first day, YYYY-MM-DD")
    selection.add_argument("--to", dest="date_to", metavar="DATE", help="last day, YYYY-MM-DD")
    selection.add_argument(
        "--tz",
        default="UTC",
        metavar="ZONE",
        help="time zone the days are counted in, e.g. Australia/Sydney (default UTC); Odoo's reports count "
        "them in the user's time zone, which they name",
    )
    selection.add_argument(
        "--team",
        dest="teams",
        action="extend",
        nargs="+",
        metavar="NAME",
        help="the leads with a stay in these sales teams (names, or ids), with their whole history; the "
        "report counts the teams' own stays",
    )
    common.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars on stderr (default: when stderr is a terminal)",
    )


def add_odoo_arguments(parser: argparse.ArgumentParser, env_var: str) -> None:
    """The options that reach an Odoo database (``--db``, ``--login``/``--user``, ``--api-key-file``,
    ``--protocol``, ``--page-size``, ``--retries``), shared by the project's commands; the API key itself
    comes from the environment variable ``env_var`` or the key file (see :func:`api_key`)."""
    odoo = parser.add_argument_group(
        "Odoo (with --url)",
        f"The API key comes from ${env_var} or --api-key-file, never the command line.",
    )
    odoo.add_argument("--db", metavar="DB", help="database name")
    odoo.add_argument(
        "--login", "--user", dest="login", metavar="LOGIN", help="user login (needed by xmlrpc and jsonrpc)"
    )
    odoo.add_argument(
        "--api-key-file",
        metavar="FILE",
        help="file holding the API key (Odoo: Preferences › Account Security › New API Key)",
    )
    odoo.add_argument(
        "--protocol", choices=PROTOCOLS, default="json2", help="json2 (default; Odoo 19), xmlrpc or jsonrpc"
    )
    odoo.add_argument(
        "--page-size",
        type=int,
        default=DEFAULT_PAGE_SIZE,
        metavar="N",
        help=f"leads per page of the stage history, rows per other call (default {DEFAULT_PAGE_SIZE})",
    )
    odoo.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="retries of a call failing transiently (default 3)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``funnel-metrics`` (subcommands ``report`` and ``export``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Funnel metrics of an Odoo CRM pipeline: an HTML report, or the transitions table.",
        epilog=f"Try: {PROG} report --demo -o report.html",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="write the HTML funnel report",
        description="Write a self-contained HTML report: funnel, conversion, time in stage, stuck leads, "
        "cohorts, salesperson effectiveness, calibration, cost per lead, forecast.",
    )
    _add_source_options(report)
    extra = report.add_argument_group("report inputs (--demo uses the bundled ones unless given)")
    extra.add_argument(
        "--targets",
        metavar="CSV",
        help="stage targets: stage[,team,user,product],target_conversion_rate (0-1),target_days_in_stage "
        "(with --url and no --targets: the stage targets in Odoo)",
    )
    extra.add_argument(
        "--costs",
        metavar="CSV",
        help="acquisition costs: source,period (2024-03),cost (with --url and no --costs: the campaigns' "
        "costs in Odoo, by campaign, for sales managers)",
    )
    extra.add_argument("--stated", metavar="CSV", help="stated stage probabilities: stage,probability (0-1)")
    extra.add_argument(
        "--cost-by", default="source", metavar="COLUMN", help="the column costs are by (source)"
    )
    extra.add_argument(
        "--currency",
        metavar="CODE",
        help="the currency of the amounts (costs, expected revenues), e.g. EUR (with --url and no "
        "--currency: the currency of your company in Odoo)",
    )
    extra.add_argument(
        "--as-of", metavar="ISO", help="snapshot time of open stays, ISO 8601 (default: latest in data)"
    )
    extra.add_argument("--title", default=None, help="page title")
    phase = report.add_argument_group("decision phase (--demo uses the bundled one unless given)")
    phase.add_argument(
        "--phase-changes",
        metavar="CSV",
        help="the customers' decision phase changes: lead_id,changed_at (ISO 8601),phase[,phase_sequence] "
        "(with --url and none given: the decision phase history in Odoo, crm_stage_survey)",
    )
    _add_activities_option(report)
    month_ends = report.add_argument_group("month-end probability snapshots")
    month_ends.add_argument(
        "--snapshots",
        metavar="FILE",
        help="month-end snapshots of the open opportunities: lead_id,snapshot_date,stage,probability (0-1),"
        "outcome (won/lost/open), .csv, .csv.gz or .parquet (with --url and no --snapshots: the month-end "
        "snapshots in Odoo, of --team if given)",
    )
    _add_waterfall_options(report)
    report.add_argument("-o", "--output", required=True, metavar="FILE.html", help="the report to write")
    report.set_defaults(func=_report)

    export = commands.add_parser(
        "export",
        help="write the transitions table",
        description="Write the transitions table (one row per stay) to CSV or Parquet.",
    )
    _add_source_options(export)
    export.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="output: .csv, .csv.gz or .parquet"
    )
    export.add_argument(
        "--activities-output",
        metavar="FILE",
        help="also write the completed activities of the leads (.csv, .csv.gz or .parquet; with --url read "
        "from Odoo's chatter, with --demo the bundled ones, not with --input)",
    )
    _add_waterfall_outputs(export)
    export.set_defaults(func=_export)
    return parser


# ------------------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------------------


def _progress(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def _existing(path: str, what: str) -> Path:
    file = Path(path)
    if not file.is_file():
        raise UserError(f"{what} file not found: {path}")
    return file


def _writable(path: str) -> Path:
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: the folder {folder} does not exist")
    if target.is_dir():
        raise UserError(f"cannot write {path}: it is a folder")
    return target


def api_key(args: argparse.Namespace, env_var: str = ENV_API_KEY) -> str:
    """The API key: from ``--api-key-file`` when given, else from the environment variable ``env_var``.

    Raises:
        UserError: unreadable or empty file, no key at all.
    """
    if args.api_key_file:
        try:
            key = Path(args.api_key_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(
                f"cannot read the API key file {args.api_key_file}: {exc.strerror or exc}"
            ) from None
        if not key:
            raise UserError(f"the API key file {args.api_key_file} is empty")
        return key
    key = os.environ.get(env_var, "").strip()
    if not key:
        raise UserError(
            f"no API key: set {env_var} or pass --api-key-file FILE "
            "(create a key in Odoo: Preferences › Account Security › New API Key)"
        )
    return key


def _load(args: argparse.Namespace) -> tuple[pd.DataFrame, str, Any]:
    """The transitions table of the chosen source, selected by period and teams, a label for messages, and
    the Odoo connection (``None`` for a file or the demo)."""
    start, end = _dates(args)  # an unreadable day is refused before anything is read
    if args.url:
        if not args.db:
            raise UserError("--url needs --db (the Odoo database name)")
        if args.page_size < 1:
            raise UserError("--page-size must be at least 1")
        connection = connect(
            args.url, args.db, args.login, api_key(args), protocol=args.protocol, retries=args.retries
        )
        table = extract_transitions(
            connection,
            start,
            end,
            teams=args.teams,
            page_size=args.page_size,
            progress=_progress(args),
            retries=args.retries,
            tz=args.tz,
        )
        return table, f"database {args.db!r}", connection
    if args.demo:
        path, label = DATA_DIR / DEMO_FILES["transitions"], "the demo data"
        if not path.is_file():
            raise UserError(f"the demo data is missing from this installation ({path}): reinstall {PROG}")
    else:
        path, label = _existing(args.input, "input"), args.input
    table = load_transitions(path)
    if start or end or args.teams:
        table = select_period(table, start, end, args.teams, tz=args.tz)
    if table.empty:
        teams = f" for team(s) {', '.join(args.teams)}" if args.teams else ""
        raise UserError(
            f"no stage history {_period_text(start, end)}{teams} in {label} (leads whose first stage stay "
            "began in the period): widen the period or check the teams"
        )
    return table, label, None


def _dates(args: argparse.Namespace) -> tuple[Any, Any]:
    """``--from`` and ``--to`` as days (ISO 8601 only, see :func:`activity_centric.instants.parse_day`)."""
    try:
        return tuple(
            parse_day(text, option) if text else None
            for text, option in ((args.date_from, "--from"), (args.date_to, "--to"))
        )
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _side_table(given: str | None, demo: bool, name: str) -> Path | None:
    if given:
        return _existing(given, name)
    if demo:
        return DATA_DIR / DEMO_FILES[name]
    return None


def _report(args: argparse.Namespace) -> int:
    from funnel_metrics import report

    output = _writable(args.output)
    as_of = None
    if args.as_of:
        try:
            as_of = parse_instant(args.as_of, "--as-of")
        except ValueError as exc:
            raise UserError(str(exc)) from None
    targets_path = _side_table(args.targets, args.demo, "targets")
    costs_path = _side_table(args.costs, args.demo, "costs")
    stated_path = _side_table(args.stated, args.demo, "stated")
    phase_path = _side_table(args.phase_changes, args.demo, "phase_changes")
    try:  # read the small files before a long extraction
        targets = report.load_targets(targets_path) if targets_path else None
        costs = report.load_costs(costs_path, by=args.cost_by) if costs_path else None
        stated = report.load_stated(stated_path) if stated_path else None
        phase_changes = load_phase_changes(phase_path) if phase_path else None
    except ValueError as exc:
        raise UserError(str(exc)) from None
    snapshots = _snapshots(args)
    waterfall = _waterfall_files(args)
    table, label, connection = _load(args)
    if snapshots is None and connection is not None:
        snapshots = _odoo_snapshots(connection, args)
    currency = args.currency.strip() if args.currency else None
    if connection is not None:
        if targets is None:
            targets = _odoo_targets(connection, args)
        if currency is None:
            currency = extract_currency(connection, retries=args.retries)
    phase_note = None
    if phase_changes is None and connection is not None:
        notes: list[str] = []
        phase_changes = extract_phase_changes(
            connection, table, retries=args.retries, page_size=args.page_size, note=notes.append
        )
        # said in the report's decision phase section, not on stderr: nothing else needs the phases
        phase_note = notes[0][0].upper() + notes[0][1:] + "." if notes else None
    cost_by, cost_note = args.cost_by, None
    if costs is None and connection is not None:
        costs = _campaign_costs(connection, table, args)
        if costs is not None:
            cost_by, cost_note = "campaign", CAMPAIGN_COSTS_NOTE
    if costs is not None:
        from funnel_metrics.cost import cost_per_lead

        try:
            cost_per_lead(table, costs, by=cost_by)
        except ValueError as exc:
            where = f"costs file {costs_path}" if costs_path else f"campaign costs of {label}"
            raise UserError(f"{where}: {exc}") from None
    title = args.title or ("Pipeline funnel report — demo data" if args.demo else report.DEFAULT_TITLE)
    activities, deals = _activities(args, table, connection)
    page = report.build_report(
        table,
        targets=targets,
        costs=costs,
        stated=stated,
        as_of=as_of,
        title=title,
        cost_by=cost_by,
        cost_note=cost_note,
        progress=_progress(args),
        selected=team_stays(table, args.teams) if args.teams else None,
        currency=currency,
        activities=activities,
        deals=deals,
        phase_changes=phase_changes,
        phase_note=phase_note,
        snapshots=snapshots,
        waterfall=waterfall if connection is None else _odoo_waterfall(connection, args, waterfall),
    )
    _write_text(output, page)
    print(
        f"wrote {output}: report on {table['lead_id'].nunique():,} leads ({len(table):,} stays) from {label}"
    )
    return 0


CAMPAIGN_COSTS_NOTE = (
    "Costs from the campaigns in Odoo: a campaign has one total cost, put on the month of its first lead "
    "here, so the totals per campaign are exact while the split per month is not meaningful."
)
"""What the report says under the cost section when the costs are the campaigns' (see
:func:`funnel_metrics.extract.extract_campaign_costs`)."""


def _note(message: str) -> None:
    print(f"{PROG}: note: {message}", file=sys.stderr)


def _campaign_costs(connection: Any, table: pd.DataFrame, args: argparse.Namespace) -> pd.DataFrame | None:
    """The campaigns' costs in Odoo for the report, or ``None`` (with a note on stderr) if there are none."""
    costs = extract_campaign_costs(
        connection, table, retries=args.retries, page_size=args.page_size, note=_note
    )
    if costs is not None and costs.empty:
        _note(f"no campaign has a cost in database {args.db!r}: pass --costs CSV for the cost per lead")
        return None
    return costs


def _odoo_targets(connection: Any, args: argparse.Namespace) -> pd.DataFrame | None:
    """The stage targets in Odoo for the report, or ``None`` (with a note on stderr) if there are none."""
    targets = extract_stage_targets(connection, retries=args.retries, page_size=args.page_size)
    if targets.empty:
        _note(
            f"no stage target in database {args.db!r} (CRM › Configuration › Stage Targets): pass "
            "--targets CSV to compare with targets"
        )
        return None
    return targets


def _snapshots(args: argparse.Namespace) -> pd.DataFrame | None:
    """The month-end snapshots of ``--snapshots`` (the bundled ones with ``--demo``), or ``None``."""
    from funnel_metrics.probability_bands import load_snapshots

    path = _side_table(args.snapshots, args.demo, "snapshots")
    if path is None:
        return None
    try:
        return load_snapshots(path)
    except ValueError as exc:
        raise UserError(f"snapshots file {path}: {exc}") from None


def _odoo_snapshots(connection: Any, args: argparse.Namespace) -> pd.DataFrame | None:
    """The month-end snapshots in Odoo for the report, or ``None`` if there are none (with a note on stderr
    when the addon is too old to keep them)."""
    try:
        snapshots = extract_snapshots(
            connection,
            teams=args.teams,
            page_size=args.page_size,
            progress=_progress(args),
            retries=args.retries,
        )
    except ExtractError as exc:
        if exc.kind not in (MISSING_MODEL, NOT_FOUND):
            raise
        _note(
            f"database {args.db!r} keeps no month-end snapshots (crm_stage_history before 19.0.1.5.0): "
            "update the addon, or pass --snapshots FILE to see calibration by month end"
        )
        return None
    return None if snapshots.empty else snapshots  # none: the report's section says what to do


def _export(args: argparse.Namespace) -> int:
    output = _writable(args.output)
    file_format(output)  # refuse an unknown suffix, or Parquet without pyarrow, before reading anything
    activities_output = None
    if args.activities_output:
        if args.input:
            raise UserError(
                "--activities-output needs --url or --demo: a transitions file holds no activities"
            )
        activities_output = _writable(args.activities_output)
        file_format(activities_output)
    waterfall_outputs = _waterfall_outputs(args)
    table, label, connection = _load(args)
    try:
        save_transitions(table, output)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}: {len(table):,} stays of {table['lead_id'].nunique():,} leads from {label}")
    if activities_output is not None:
        args.activities = None
        activities, _deals = _activities(args, table, connection)
        try:
            save_activities(activities, activities_output)
        except OSError as exc:
            raise UserError(f"cannot write {activities_output}: {exc.strerror or exc}") from None
        print(f"wrote {activities_output}: {len(activities):,} completed activities from {label}")
    _export_waterfall(args, waterfall_outputs, connection, label)
    return 0


# ------------------------------------------------------------------------------------------------------
# which activities win deals: the completed activities
# ------------------------------------------------------------------------------------------------------


def _add_activities_option(report: argparse.ArgumentParser) -> None:
    group = report.add_argument_group("which activities win deals")
    group.add_argument(
        "--activities",
        metavar="FILE",
        help="completed activities: lead_id,activity_type,done_at,user (.csv, .csv.gz or .parquet; with "
        "--url and no --activities: read from Odoo's chatter; with --demo: the bundled ones)",
    )


def _activities(
    args: argparse.Namespace, table: pd.DataFrame, connection: Any
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The completed activities of the table's leads and, from Odoo, their decided deals as Odoo decides
    them (``None``: the report derives them from the table); no activities when none are given."""
    path = _side_table(args.activities, args.demo, "activities")
    if path is not None:
        try:
            activities = load_activities(path)
        except ValueError as exc:
            raise UserError(f"activities file {path}: {exc}") from None
        return activities[activities["lead_id"].isin(table["lead_id"])].reset_index(drop=True), None
    if connection is None:
        return None, None
    leads = pd.unique(table["lead_id"]).tolist()
    options = {"page_size": args.page_size, "retries": args.retries}
    activities = extract_activities(connection, leads, progress=_progress(args), **options)
    return activities, extract_deals(connection, leads, **options)


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def run_command(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    prog: str,
    bad_input: tuple[type[BaseException], ...],
    message: Callable[[BaseException], str] = str,
) -> int:
    """Parse ``argv`` and run the chosen subcommand (``args.func``) with the exit statuses of the
    project's commands: 0 done, 2 bad input (``bad_input`` errors or a missing file: one line on
    stderr, worded by ``message``), 130 interrupted; a reader that goes away (``| head``) ends it
    quietly."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed by argparse
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    try:
        return int(args.func(args))
    except bad_input as exc:
        print(f"{prog}: error: {message(exc)}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"{prog}: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``funnel-metrics`` with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return run_command(build_parser(), argv, PROG, (UserError, ExtractError, TransitionsError))


# ------------------------------------------------------------------------------------------------------
# the demo dataset
# ------------------------------------------------------------------------------------------------------

# Three groups of salespeople selling the same pipeline with different skill, so that the report has
# something to tell apart: (users, teams, advance probability per stage, share of the leads).
_DEMO_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[float, ...], float], ...] = (
    (("alice", "bob"), ("Europe",), (0.60, 0.50, 0.60, 0.70), 0.34),
    (("carol", "dave"), ("Europe", "Americas"), (0.65, 0.60, 0.65, 0.75), 0.33),
    (("erin", "frank"), ("Americas",), (0.55, 0.40, 0.50, 0.65), 0.33),
)
_DEMO_UNIT_COST = {"web": 35.0, "referral": 12.0, "event": 140.0, "outbound": 75.0}
_DEMO_TARGETS = """stage,team,user,product,target_conversion_rate,target_days_in_stage
New,,,,0.60,5
Qualified,,,,0.55,10
Proposal,,,,0.60,14
Negotiation,,,,0.70,21
Qualified,Americas,,,0.50,12
Proposal,,frank,,0.55,
"""
# As a CRM often states them: optimistic in the middle of the pipeline.
_DEMO_STATED = """stage,probability
New,0.10
Qualified,0.30
Proposal,0.50
Negotiation,0.80
Won,1.00
"""


def demo_transitions(n_leads: int = 5000, seed: int = DEMO_SEED) -> pd.DataFrame:
    """The synthetic pipeline of the demo: ``n_leads`` leads over 2024, snapshotted on 2025-01-01.

    Built with :func:`funnel_metrics.simulate.simulate_funnel` for three groups of salespeople of different
    skill (see ``_DEMO_GROUPS``), merged and renumbered by arrival; timestamps are cut to whole seconds
    and expected revenues to cents so that the CSV stays small. Deterministic for a given seed.
    """
    from funnel_metrics.simulate import simulate_funnel

    parts = []
    for i, (users, teams, advance, share) in enumerate(_DEMO_GROUPS):
        part, _truth = simulate_funnel(
            round(n_leads * share),
            advance=advance,
            start="2024-01-01",
            end="2025-01-01",
            users=users,
            teams=teams,
            skip_probability=0.05,
            seed=seed + i,
        )
        part["lead_id"] = part["lead_id"] + 1_000_000 * (i + 1)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    first = table.groupby("lead_id")["entered_at"].transform("min")
    order = table.assign(_first=first).sort_values(["_first", "lead_id", "entered_at"], kind="stable")
    renumber = {old: new for new, old in enumerate(pd.unique(order["lead_id"]), start=1)}
    order["lead_id"] = order["lead_id"].map(renumber)
    table = order.drop(columns="_first").reset_index(drop=True)
    for column in ("entered_at", "left_at"):
        table[column] = table[column].dt.floor("s")
    table["expected_revenue"] = table["expected_revenue"].round(2)
    return table


def _demo_costs(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Monthly cost per source: leads x unit cost of the source, with some noise."""
    rng = np.random.default_rng(seed)
    first = table.groupby("lead_id").first()
    month = first["entered_at"].dt.tz_convert(None).dt.to_period("M").astype(str)
    counts = first.groupby([first["source"].astype(str), month]).size().rename("leads").reset_index()
    counts.columns = ["source", "period", "leads"]
    unit = counts["source"].map(_DEMO_UNIT_COST).fillna(50.0)
    noise = rng.lognormal(0.0, 0.15, len(counts))
    counts["cost"] = (counts["leads"] * unit * noise).round(2)
    return counts[["source", "period", "cost"]]


# The decision phase of the demo's customers, drawn given how each lead ends (P(phase | won), P(phase |
# lost)): comparing vendors or building a business case point to a win, needs and early exploring to a
# loss, deciding says nothing. Each lead gets at most one phase, within 20 days of entering the pipeline.
_DEMO_PHASES: dict[str, tuple[int, float, float]] = {
    "Need recognised": (10, 0.10, 0.25),
    "Exploring solutions": (20, 0.15, 0.30),
    "Comparing vendors": (30, 0.35, 0.10),
    "Building the business case": (40, 0.20, 0.05),
    "Deciding": (50, 0.10, 0.10),
}


def demo_phase_changes(table: pd.DataFrame, seed: int = DEMO_SEED) -> pd.DataFrame:
    """The decision phase changes of the demo pipeline ``table`` (:func:`demo_transitions`), with the known
    information of ``_DEMO_PHASES`` (see :func:`funnel_metrics.simulate_phase_changes`); instants cut to
    whole seconds. Deterministic for a given seed."""
    changes = simulate_phase_changes(
        table,
        {name: (won, lost) for name, (_seq, won, lost) in _DEMO_PHASES.items()},
        delay_days=20,
        seed=seed,
        phase_sequence={name: sequence for name, (sequence, _won, _lost) in _DEMO_PHASES.items()},
    )
    changes["changed_at"] = changes["changed_at"].dt.floor("s")
    return changes


def demo_snapshots(table: pd.DataFrame, seed: int = DEMO_SEED) -> pd.DataFrame:
    """Month-end snapshots of the demo pipeline (:func:`funnel_metrics.month_end_snapshots` of its stays),
    with probabilities as a CRM's users leave them: the stage's stated probability (``_DEMO_STATED``),
    nudged per opportunity by its salesperson or by predictive scoring (``is_automated``, about 40 % of the
    opportunities), to whole percents. Deterministic for a given seed."""
    from funnel_metrics.probability_bands import month_end_snapshots

    stated = {str(stage): float(p) for stage, p in (line.split(",") for line in _DEMO_STATED.split()[1:])}
    snapshots = month_end_snapshots(table, stated)
    rng = np.random.default_rng(seed)
    leads = snapshots["lead_id"].unique()
    nudge = pd.Series(rng.normal(0.0, 0.08, len(leads)), index=leads)
    automated = pd.Series(rng.random(len(leads)) < 0.4, index=leads)
    moved = snapshots["probability"] + nudge.reindex(snapshots["lead_id"]).to_numpy()
    snapshots["probability"] = np.clip(moved, 0.01, 0.99).round(2)
    snapshots["is_automated"] = automated.reindex(snapshots["lead_id"]).to_numpy()
    snapshots["snapshot_date"] = snapshots["snapshot_date"].dt.strftime("%Y-%m-%d")
    return snapshots.drop(columns="expected_revenue")


def _write_gzip_csv(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as a gzipped CSV without a timestamp in the gzip header (the bytes change with the data
    only)."""
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as target,
    ):
        target.write(frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ").encode("utf-8"))


def write_demo_data(
    path: str | os.PathLike[str] = DATA_DIR, n_leads: int = 5000, seed: int = DEMO_SEED
) -> None:
    """Write the demo dataset the ``--demo`` option reads (see :data:`DEMO_FILES`) into folder ``path``.

    Regenerate the bundled files with::

        python -c "from funnel_metrics.cli import write_demo_data; write_demo_data('funnel_metrics/data')"

    Files: ``transitions.csv.gz`` (:func:`demo_transitions`, gzip without timestamp so that the bytes only
    change with the data), ``targets.csv``, ``costs.csv`` (per source and month), ``stated.csv``,
    ``phase_changes.csv.gz`` (:func:`demo_phase_changes`), ``activities.csv.gz`` (completed activities
    drawn by :func:`funnel_metrics.simulate_activities` with its default effects: meetings help up to two,
    five calls or more go with losing), ``snapshots.csv.gz``
    (:func:`demo_snapshots`), ``phase_stays.csv.gz`` and ``handoffs.csv.gz`` (:func:`demo_waterfall`).
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    table = demo_transitions(n_leads, seed)
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / "transitions.csv"
        save_transitions(table, plain)
        with (
            plain.open("rb") as source,
            (folder / DEMO_FILES["transitions"]).open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as target,
        ):
            shutil.copyfileobj(source, target)
    _demo_costs(table, seed).to_csv(folder / DEMO_FILES["costs"], index=False)
    _write_gzip_csv(demo_snapshots(table, seed), folder / DEMO_FILES["snapshots"])
    (folder / DEMO_FILES["targets"]).write_text(_DEMO_TARGETS, encoding="utf-8")
    (folder / DEMO_FILES["stated"]).write_text(_DEMO_STATED, encoding="utf-8")
    _write_gzip_csv(demo_phase_changes(table, seed), folder / DEMO_FILES["phase_changes"])
    activities, _truth = simulate_activities(table, seed=seed)
    _write_gzip_csv(validate_activities(activities), folder / DEMO_FILES["activities"])
    write_demo_waterfall(folder, seed=seed)


# ------------------------------------------------------------------------------------------------------
# the demand waterfall: lifecycle phase stays and handoffs
# ------------------------------------------------------------------------------------------------------


def _add_waterfall_options(report: argparse.ArgumentParser) -> None:
    group = report.add_argument_group("demand waterfall (--demo uses the bundled one unless given)")
    group.add_argument(
        "--phases",
        metavar="FILE",
        help="lifecycle phase stays: lead_id,phase,phase_sequence,phase_kind,entered_at,left_at,team,user,"
        "source,medium,campaign,country,origin (.csv, .csv.gz or .parquet; with --url and no --phases: the "
        "phase history in Odoo, crm_lead_handoff)",
    )
    group.add_argument(
        "--handoffs",
        metavar="FILE",
        help="the handoffs of those leads: handoff_id,lead_id,route,from_team,to,phase,sent_at,decided_at,"
        "state,auto_accepted,reason,team,source,medium,campaign,country",
    )
    group.add_argument(
        "--phase-targets",
        metavar="CSV",
        help="phase targets: phase[,team,user],target_conversion_rate (0-1),target_days_in_phase",
    )


def _add_waterfall_outputs(export: argparse.ArgumentParser) -> None:
    for option, what in (("--phases-output", "lifecycle phase stays"), ("--handoffs-output", "handoffs")):
        export.add_argument(
            option,
            metavar="FILE",
            help=f"also write the {what} of the demand waterfall (.csv, .csv.gz or .parquet; with --url read "
            "from Odoo's crm_lead_handoff, with --demo the bundled ones, not with --input)",
        )


def _waterfall_files(args: argparse.Namespace) -> dict[str, Any]:
    """The waterfall's inputs given as files (the bundled ones with ``--demo``), read before a long
    extraction: ``phase_stays`` (None when not given), ``handoffs``, ``targets``."""
    from funnel_metrics.phase_stays import load_handoffs, load_phase_stays
    from funnel_metrics.report import load_phase_targets

    if args.handoffs and not (args.phases or args.url):
        raise UserError("--handoffs needs --phases (the phase stays of the handed-over leads)")
    bundled = args.demo and not args.phases
    inputs: dict[str, Any] = {"phase_stays": None, "handoffs": None, "targets": None}
    files = (
        ("phase_stays", _side_table(args.phases, bundled, "phase_stays"), load_phase_stays),
        ("handoffs", _side_table(args.handoffs, bundled, "handoffs"), load_handoffs),
        (
            "targets",
            _existing(args.phase_targets, "phase targets") if args.phase_targets else None,
            load_phase_targets,
        ),
    )
    for name, path, load in files:
        if path is None:
            continue
        try:
            inputs[name] = load(path)
        except ValueError as exc:
            raise UserError(f"{name.replace('_', ' ')} file {path}: {exc}") from None
    return inputs


def _read_waterfall(connection: Any, args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The phase stays of the period and teams of ``args`` in Odoo, and their handoffs."""
    start, end = _dates(args)
    options = {"page_size": args.page_size, "progress": _progress(args), "retries": args.retries}
    stays = extract_phase_stays(connection, start, end, args.teams, tz=args.tz, **options)
    return stays, extract_handoffs(connection, pd.unique(stays["lead_id"]).tolist(), **options)


def _odoo_waterfall(connection: Any, args: argparse.Namespace, inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` completed from Odoo when no phase stays were given; a database without the phases (or a
    user who may not read them) is a note in the report's section."""
    if inputs["phase_stays"] is not None:
        return inputs
    try:
        stays, handoffs = _read_waterfall(connection, args)
    except ExtractError as exc:
        if exc.kind not in (MISSING_MODEL, NOT_FOUND, ACCESS):
            raise
        return {**inputs, "note": f"{exc}; or pass --phases FILE."}
    return {**inputs, "phase_stays": stays, "handoffs": inputs["handoffs"] if args.handoffs else handoffs}


def _waterfall_outputs(args: argparse.Namespace) -> dict[str, Path]:
    """The ``--phases-output`` / ``--handoffs-output`` files, checked before anything is read."""
    outputs = {
        name: _writable(path)
        for name, path in (("phase_stays", args.phases_output), ("handoffs", args.handoffs_output))
        if path
    }
    if outputs and args.input:
        raise UserError(
            "--phases-output and --handoffs-output need --url or --demo: a transitions file holds "
            "no lifecycle phases"
        )
    for path in outputs.values():
        file_format(path)
    return outputs


def _export_waterfall(
    args: argparse.Namespace, outputs: dict[str, Path], connection: Any, label: str
) -> None:
    from funnel_metrics.phase_stays import load_handoffs, load_phase_stays, save_handoffs, save_phase_stays

    if not outputs:
        return
    if connection is not None:
        stays, handoffs = _read_waterfall(connection, args)
    else:
        stays = load_phase_stays(DATA_DIR / DEMO_FILES["phase_stays"])
        handoffs = load_handoffs(DATA_DIR / DEMO_FILES["handoffs"])
    tables = {
        "phase_stays": (stays, save_phase_stays, "lifecycle phase stays"),
        "handoffs": (handoffs, save_handoffs, "handoffs"),
    }
    for name, path in outputs.items():
        frame, save, what = tables[name]
        try:
            save(frame, path)
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
        print(f"wrote {path}: {len(frame):,} {what} from {label}")


def demo_waterfall(n_leads: int = 5000, seed: int = DEMO_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demand waterfall of the demo: ``n_leads`` leads over 2024
    (:func:`funnel_metrics.simulate_waterfall` with its default phases, handoffs, rejections and recycling;
    the demo pipeline's sources), snapshotted on 2025-01-01, instants cut to whole seconds. Deterministic
    for a given seed."""
    from funnel_metrics.simulate import simulate_waterfall

    stays, handoffs, _truth = simulate_waterfall(
        n_leads, start="2024-01-01", end="2025-01-01", sources=tuple(_DEMO_UNIT_COST), seed=seed
    )
    for frame, columns in ((stays, ("entered_at", "left_at")), (handoffs, ("sent_at", "decided_at"))):
        for column in columns:
            frame[column] = frame[column].dt.floor("s")
    return stays, handoffs


def write_demo_waterfall(
    path: str | os.PathLike[str] = DATA_DIR, n_leads: int = 5000, seed: int = DEMO_SEED
) -> None:
    """Write the demo's ``phase_stays.csv.gz`` and ``handoffs.csv.gz`` (:func:`demo_waterfall`) into folder
    ``path``, gzip without timestamp (part of :func:`write_demo_data`)."""
    stays, handoffs = demo_waterfall(n_leads, seed)
    folder = Path(path)
    _write_gzip_csv(stays, folder / DEMO_FILES["phase_stays"])
    _write_gzip_csv(handoffs, folder / DEMO_FILES["handoffs"])


if __name__ == "__main__":
    sys.exit(main())
