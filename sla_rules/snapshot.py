"""Lead snapshots for ``sla_rules simulate``: from a CSV file, or read from an Odoo 19 database over RPC.

Both give a :class:`Snapshot`: the leads table :func:`~sla_rules.simulate.evaluate` takes, the rules with
their calendars, and the teams. Teams, stages, users, companies, tags and lost reasons are names (strings)
on both sides, in the rules and in the leads table: the CSV holds names, and the Odoo reader turns the
records it reads into their names, after checking that every name the rules use exists in the database.

CSV columns: ``id``, ``type``, ``team``, ``user``, ``stage`` (required), ``name``, ``company``,
``partner_assigned``, ``active``, ``won``, the clock columns ``create_date``,
``date_last_stage_update``, ``date_open``, ``sla_last_action_date``, ``handoff_sent_date`` (ISO 8601, UTC;
required when a rule uses that clock), and the changes of hands that restart clocks, ``sla_owner_since`` and
``sla_team_since`` (optional; see :data:`~sla_rules.rules.CLOCK_RESTARTS`).
``team_id``/``user_id``/``stage_id``/``company_id``/``partner_assigned_id`` are accepted for ``team``... An
empty cell is a missing value.

Odoo: open leads (``crm.lead``, active, in batches), their stages (``is_won``), the sales teams of the
leads and of the rules with their leaders and members (``crm.team``, ``crm.team.member``: a member is
absent when paused, ``assignment_optout``, or out of office, ``res.users.is_out_of_office``; with an
``assignment_max`` its capacity left is ``assignment_max - lead_month_count``). ``sla_last_action_date``,
``sla_owner_since`` and ``sla_team_since`` are read when the database has them (the ``crm_sla_rules``
addon), ``handoff_sent_date`` too (``crm_lead_handoff``); rules on the ``last_action`` or ``handed_over``
clock are refused otherwise. Working calendars always come from the rules
file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from activity_centric.instants import csv_line
from sla_rules._common import RuleError
from sla_rules.businesstime import WorkCalendar
from sla_rules.config import Config
from sla_rules.rules import CLOCK_COLUMNS, CLOCK_RESTARTS, Member, Rule, TeamInfo

CSV_ALIASES: dict[str, str] = {
    "team": "team_id",
    "user": "user_id",
    "stage": "stage_id",
    "company": "company_id",
    "partner_assigned": "partner_assigned_id",
}
"""CSV column -> leads-table column."""
CSV_REQUIRED: tuple[str, ...] = ("id", "type", "team_id", "user_id", "stage_id")
RESTART_COLUMNS: tuple[str, ...] = tuple(sorted({c for columns in CLOCK_RESTARTS.values() for c in columns}))
DATETIME_COLUMNS: tuple[str, ...] = (*CLOCK_COLUMNS.values(), *RESTART_COLUMNS)
ADDON_COLUMNS: tuple[str, ...] = ("sla_last_action_date", "handoff_sent_date", *RESTART_COLUMNS)
"""The datetime columns that only a database with the ``crm_sla_rules`` addon has."""


@dataclass(frozen=True)
class Snapshot:
    """What :func:`~sla_rules.simulate.evaluate` needs: leads, rules (with names as ids), calendars by rule
    id, teams by name, a description of the source for messages."""

    leads: pd.DataFrame
    rules: tuple[Rule, ...]
    calendars: dict[Any, WorkCalendar]
    teams: dict[Any, TeamInfo]
    source: str
    names: dict[Any, str] = field(default_factory=dict)


def _clock_columns(rules: Iterable[Rule]) -> list[str]:
    return sorted({CLOCK_COLUMNS[rule.clock] for rule in rules})


def read_csv(path: str | Path, config: Config) -> Snapshot:
    """The leads of a CSV file (see the module docstring), with the rules and teams of ``config``.

    Raises:
        RuleError: unreadable file, a missing column, an unreadable date (named with its row).
    """
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise RuleError(f"{path}: snapshot file not found.") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise RuleError(f"{path}: cannot read the snapshot as CSV ({exc}).") from None
    raw.columns = [str(column).strip() for column in raw.columns]
    frame = pd.DataFrame(index=raw.index)
    for column in raw.columns:
        target = CSV_ALIASES.get(column, column)
        if target in frame.columns:
            raise RuleError(f"{path}: columns {column} and {target} say the same thing: keep one.")
        frame[target] = raw[column].str.strip().replace("", None)
    needed = [*CSV_REQUIRED, *_clock_columns(config.rules)]
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise RuleError(
            f"{path}: missing column(s) {', '.join(missing)} (the rules need: {', '.join(needed)})."
        )
    for column in DATETIME_COLUMNS:
        frame[column] = _datetimes(frame[column], f"{path}, column {column}") if column in frame else pd.NaT
    if frame["id"].isna().any():
        raise RuleError(
            f"{path}, column id: {csv_line(int(frame['id'].isna().to_numpy().argmax()))} has no id."
        )
    if frame["id"].str.fullmatch(r"\d+").all():
        frame["id"] = frame["id"].astype("int64")
    if "company_id" not in frame.columns:
        frame["company_id"] = None
    frame["has_partner_assigned"] = "partner_assigned_id" in frame.columns
    return Snapshot(frame, config.rules, dict(config.calendars), dict(config.teams), str(path))


def _datetimes(values: pd.Series, where: str) -> pd.Series:
    """ISO 8601 texts (naive = UTC) as ``datetime64[ns, UTC]``; names the first unreadable row by its line
    in the file (:func:`~activity_centric.instants.csv_line`)."""
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")
    bad = parsed.isna() & values.notna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise RuleError(
            f"{where}, {csv_line(row)}: cannot read {values.iloc[row]!r} as a date and time "
            "(use ISO 8601, e.g. 2026-11-20T09:30:00, UTC)."
        )
    return parsed.astype("datetime64[ns, UTC]")


# ------------------------------------------------------------------------------------------------------
# Odoo
# ------------------------------------------------------------------------------------------------------

LEAD_MODEL = "crm.lead"
_RELATIONS: tuple[str, ...] = ("team_id", "user_id", "stage_id", "company_id", "partner_assigned_id")
LEAD_FIELDS: tuple[str, ...] = (
    "name",
    "type",
    *_RELATIONS[:4],
    *(column for column in DATETIME_COLUMNS if column not in ADDON_COLUMNS),
)
"""``crm.lead`` fields read for every lead (plus :data:`ADDON_COLUMNS` and ``partner_assigned_id`` when the
database has them)."""
_MODELS: dict[str, tuple[str, str]] = {
    "team": ("crm.team", "sales team"),
    "stage": ("crm.stage", "stage"),
    "company": ("res.company", "company"),
    "user": ("res.users", "user"),
    "tag": ("crm.tag", "tag"),
    "lost_reason": ("crm.lost.reason", "lost reason"),
}


def _m2o(value: Any) -> tuple[int | None, str | None]:
    """A many2one value (``[id, name]`` or ``False``) as (id, name)."""
    if isinstance(value, (list, tuple)) and value:
        return int(value[0]), str(value[1]) if len(value) > 1 else str(value[0])
    if value in (None, False, 0, ""):
        return None, None
    return int(value), str(value)


class _Names:
    """Checks the names a rules file uses against the database: name (or login) -> the record's name."""

    def __init__(self, reader: Any, database: str) -> None:
        self.reader = reader
        self.database = database

    def check(self, kind: str, wanted: Iterable[str]) -> dict[str, str]:
        model, what = _MODELS[kind]
        wanted = sorted(set(wanted))
        if not wanted:
            return {}
        if kind == "user":
            domain: list[Any] = ["|", ("name", "in", wanted), ("login", "in", wanted)]
            rows = self.reader.search_read(model, domain, ["name", "login"])
        else:
            rows = self.reader.search_read(model, [("name", "in", wanted)], ["name"])
        found: dict[str, str] = {}
        for row in rows:
            found.setdefault(str(row["name"]), str(row["name"]))
            if kind == "user" and row.get("login"):
                found[str(row["login"])] = str(row["name"])
        unknown = [name for name in wanted if name not in found]
        if unknown:
            raise RuleError(
                f"The rules name {what}(s) that database {self.database!r} does not have: "
                f"{', '.join(unknown)}. "
                "Check the spelling (names as shown in Odoo; users by name or login)."
            )
        return found


def _rename_rules(rules: Sequence[Rule], names: _Names) -> tuple[Rule, ...]:
    """The rules with every name checked against the database (user logins turned into user names)."""
    wanted: dict[str, set[str]] = {kind: set() for kind in _MODELS}
    for rule in rules:
        wanted["team"] |= set(rule.team_ids) | ({rule.target_team_id} if rule.target_team_id else set())
        wanted["stage"] |= set(rule.stage_ids)
        wanted["company"] |= set(rule.company_ids)
        wanted["user"] |= {rule.user_id} if rule.user_id else set()
        wanted["tag"] |= set(rule.tag_ids) if rule.action == "return_to_marketing" else set()
        wanted["lost_reason"] |= {rule.lost_reason_id} if rule.lost_reason_id else set()
    found = {kind: names.check(kind, values) for kind, values in wanted.items()}
    return tuple(
        dataclasses.replace(
            rule,
            user_id=found["user"].get(rule.user_id, rule.user_id) if rule.user_id else rule.user_id,
        )
        for rule in rules
    )


def read_odoo(
    connection: Any,
    config: Config,
    *,
    page_size: int = 2000,
    retries: int = 3,
    backoff: float = 1.0,
    progress: bool = False,
) -> Snapshot:
    """The open leads and sales teams of an Odoo database (see the module docstring), with the rules of
    ``config`` checked against it.

    Inputs: ``connection``: an odoolib connection (:func:`funnel_metrics.extract.connect`); ``page_size``:
    rows per call; ``retries``/``backoff``: retries of calls failing transiently (see
    :func:`funnel_metrics.extract.extract_transitions`); ``progress``: a progress bar on stderr.

    Raises:
        RuleError: a name the database does not know, a ``last_action`` rule without ``crm_sla_rules``.
        funnel_metrics.extract.ExtractError: Odoo refused or failed a call.
    """
    from tqdm.auto import tqdm

    from funnel_metrics.extract import RpcCaller, RpcReader, many2one_id, read_context

    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, max(1, int(page_size)), read_context(connection, caller))
    database = caller.database
    lead_fields = _optional_fields(caller, reader)
    has_last_action = "sla_last_action_date" in lead_fields
    has_partner = "partner_assigned_id" in lead_fields
    refused = [rule.name for rule in config.rules if rule.clock == "last_action"]
    if refused and not has_last_action:
        raise RuleError(
            f"Rule(s) {', '.join(refused)} use the last_action clock, but database {database!r} has no "
            "last action date: the crm_sla_rules module is not installed there. Install it, or use another "
            "clock."
        )
    refused = [rule.name for rule in config.rules if rule.clock == "handed_over"]
    if refused and "handoff_sent_date" not in lead_fields:
        raise RuleError(
            f"Rule(s) {', '.join(refused)} use the handed_over clock, but database {database!r} has no "
            "handoffs: the crm_lead_handoff module is not installed there. Install it, or use another clock."
        )
    rules = _rename_rules(config.rules, _Names(reader, database))

    fields = [*LEAD_FIELDS, *(column for column in ADDON_COLUMNS if column in lead_fields)]
    fields += ["partner_assigned_id"] if has_partner else []
    with tqdm(desc="leads", unit=" leads", disable=not progress, leave=False) as bar:
        rows = list(reader.paged(LEAD_MODEL, [("active", "=", True)], fields, bar))
    stage_ids = {many2one_id(row.get("stage_id")) for row in rows} - {0}
    stages = reader.by_ids("crm.stage", stage_ids, ["name", "is_won"]) if stage_ids else []
    won_stages = {int(stage["id"]) for stage in stages if stage.get("is_won")}
    records = []
    for row in rows:
        record: dict[str, Any] = {
            "id": int(row["id"]),
            "name": row.get("name") or "",
            "type": row.get("type"),
        }
        for name in _RELATIONS:
            record[name] = _m2o(row.get(name))[1]
        record["won"] = many2one_id(row.get("stage_id")) in won_stages
        for name in DATETIME_COLUMNS:
            record[name] = row.get(name) or None
        records.append(record)
    columns = ["id", "name", "type", *_RELATIONS, "won"]
    frame = pd.DataFrame(records, columns=[*columns, *DATETIME_COLUMNS])
    for name in DATETIME_COLUMNS:
        frame[name] = _datetimes(frame[name].astype(object), f"{LEAD_MODEL}.{name}")
    frame["has_partner_assigned"] = has_partner
    frame["active"] = True

    team_ids = {many2one_id(row.get("team_id")) for row in rows} - {0}
    wanted_teams = {name for rule in rules for name in rule.team_ids}
    if wanted_teams:
        team_ids |= {
            int(row["id"])
            for row in reader.search_read("crm.team", [("name", "in", sorted(wanted_teams))], ["name"])
        }
    teams = _read_teams(reader, team_ids)
    return Snapshot(frame, rules, dict(config.calendars), teams, f"database {database!r}")


OPTIONAL_FIELDS_METHOD = "sla_snapshot_fields"
"""``crm.lead``'s read-only method of ``crm_sla_rules`` that says which optional columns the database has."""


def _optional_fields(caller: Any, reader: Any) -> set[str]:
    """Which of :data:`ADDON_COLUMNS` and ``partner_assigned_id`` the leads of the database have: from the
    ``crm_sla_rules`` addon's read-only ``crm.lead.sla_snapshot_fields`` (a read replica can serve it), or,
    on a database without that addon, from ``fields_get``."""
    from funnel_metrics.extract import ExtractError, _server_method

    wanted = [*ADDON_COLUMNS, "partner_assigned_id"]
    model = reader.model(LEAD_MODEL)
    try:
        method = _server_method(model, OPTIONAL_FIELDS_METHOD)
        return set(caller.call(LEAD_MODEL, method, names=wanted, context=reader.context) or [])
    except ExtractError as error:
        if error.kind != "missing method":
            raise
    return set(caller.call(LEAD_MODEL, model.fields_get, attributes=["type"]) or {}) & set(wanted)


def _read_teams(reader: Any, team_ids: set[int]) -> dict[Any, TeamInfo]:
    """Sales teams by name, with their leaders and members (rotation order: member id)."""
    if not team_ids:
        return {}
    teams = reader.by_ids("crm.team", team_ids, ["name", "user_id"])
    members = list(
        reader.paged(
            "crm.team.member",
            [("crm_team_id", "in", sorted(team_ids))],
            ["crm_team_id", "user_id", "assignment_optout", "assignment_max", "lead_month_count"],
        )
    )
    user_ids = {_m2o(row.get("user_id"))[0] for row in members} - {None}
    users = reader.by_ids("res.users", user_ids, ["is_out_of_office"]) if user_ids else []
    away = {int(row["id"]) for row in users if row.get("is_out_of_office")}
    by_team: dict[int, list[Member]] = {}
    for row in members:
        user_id, user_name = _m2o(row.get("user_id"))
        team_id, _ = _m2o(row.get("crm_team_id"))
        if user_id is None or team_id is None:
            continue
        maximum = int(row.get("assignment_max") or 0)
        capacity = maximum - int(row.get("lead_month_count") or 0) if maximum > 0 else None
        absent = bool(row.get("assignment_optout")) or user_id in away
        by_team.setdefault(team_id, []).append(Member(user_name, absent, capacity))
    result: dict[Any, TeamInfo] = {}
    for team in teams:
        name = str(team["name"])
        result[name] = TeamInfo(name, _m2o(team.get("user_id"))[1], tuple(by_team.get(int(team["id"]), ())))
    return result


def team_sizes(teams: Mapping[Any, TeamInfo]) -> dict[Any, int]:
    """Team id -> number of members, for :func:`~sla_rules.rules.validate_rule`."""
    return {team_id: len(team.members) for team_id, team in teams.items()}
