"""What SLA rules would do on a snapshot of leads: which leads they warn, which they act on, and how.

:func:`evaluate` is the offline twin of the addon's cron: per rule, the leads in scope
(:func:`~sla_rules.rules.in_scope`, whose conditions are the addon's domain) whose clock started at or
before the rule's cutoffs (one vectorised comparison per rule, as the addon's one SQL condition), then
:func:`~sla_rules.rules.plan_actions` on the breached ones. Rules are independent, as in the cron: a lead
acted on by one rule is still evaluated by the next (with the snapshot's values), while the capacity its
new owner used up carries over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sla_rules._common import UTC_NS, RuleError, label, scalar_utc
from sla_rules.businesstime import WorkCalendar, deadlines
from sla_rules.problems import problems_error
from sla_rules.rules import (
    LeadSnapshot,
    Rule,
    TeamInfo,
    clock_starts,
    cutoffs,
    in_scope,
    plan_actions,
    validate_rule,
)

OUTPUT_COLUMNS: tuple[str, ...] = (
    "rule",
    "lead_id",
    "lead",
    "clock",
    "clock_start",
    "deadline",
    "status",
    "action",
    "description",
    "error",
)
"""Columns of the :func:`evaluate` output, in order."""

_FIELDS = dataclasses.fields(LeadSnapshot)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in _FIELDS if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
)
"""Columns the leads table must have (the :class:`~sla_rules.rules.LeadSnapshot` fields without default)."""
OPTIONAL_COLUMNS: dict[str, Any] = {f.name: f.default for f in _FIELDS if f.name not in REQUIRED_COLUMNS}
"""Columns that default to the :class:`~sla_rules.rules.LeadSnapshot` defaults when missing."""

_TRUE = frozenset({"1", "true", "t", "yes", "y"})
_FALSE = frozenset({"0", "false", "f", "no", "n", ""})


def evaluate(
    rules: Sequence[Rule],
    leads: pd.DataFrame,
    now: dt.datetime,
    calendars: Mapping[Any, WorkCalendar] | WorkCalendar | None = None,
    teams: Mapping[Any, TeamInfo] | None = None,
    names: Mapping[Any, str] | None = None,
) -> pd.DataFrame:
    """The leads each rule would warn or act on at ``now``, and what it would do.

    Inputs:

    - ``rules``: the rules, in order (each is checked with :func:`~sla_rules.rules.validate_rule`);
    - ``leads``: one row per lead, the :class:`~sla_rules.rules.LeadSnapshot` field names as columns
      (extra columns ignored; ``partner_assigned_id``, ``has_partner_assigned``, ``active``, ``won``,
      ``name`` default when missing); datetimes naive UTC or aware;
    - ``now``: the evaluation time (naive = UTC);
    - ``calendars``: one calendar for every rule, or rule id -> calendar (key ``None``: the default);
    - ``teams``: team id -> :class:`~sla_rules.rules.TeamInfo` (round robin, leaders);
    - ``names``: id -> display name, for the descriptions.

    Output: one row per (rule, lead) that is warned or breached, ordered by rule then deadline (then the
    order of ``leads``), index 0..n-1, columns :data:`OUTPUT_COLUMNS`: ``rule`` (its name), ``lead_id``,
    ``lead`` (its name, or id), ``clock``, ``clock_start`` and ``deadline`` (``datetime64[ns, UTC]``),
    ``status`` (``warn`` / ``breach``), ``action`` (the rule's), ``description`` (what would happen; for a
    warning, when the breach is due) and ``error`` (why the action cannot be carried out, else ``None``).

    Raises:
        RuleError: a missing column (named), an invalid rule (named), unreadable datetimes.
    """
    missing = [column for column in REQUIRED_COLUMNS if column not in leads.columns]
    if missing:
        raise RuleError(
            f"The leads table is missing column(s) {', '.join(missing)}: give one column per lead field "
            f"({', '.join(REQUIRED_COLUMNS)})."
        )
    now_utc, _ = scalar_utc(now, "now")
    frame = leads.reset_index(drop=True)
    for column, default in OPTIONAL_COLUMNS.items():
        if column not in frame.columns:
            frame[column] = default
    for column, default in (("active", True), ("won", False), ("has_partner_assigned", False)):
        frame[column] = _flags(frame[column], default, column)
    snapshots = [_snapshot(record) for record in frame[[f.name for f in _FIELDS]].to_dict("records")]
    current_teams = dict(teams or {})
    parts = []
    for rule in rules:
        calendar = _calendar_for(rule, calendars)
        problems = validate_rule(rule, has_calendar=calendar is not None)
        if problems:
            raise problems_error(problems, f"Rule {rule.name or rule.id!r}: ")
        part, given = _evaluate_rule(rule, frame, snapshots, now_utc, calendar, current_teams, names)
        current_teams = _use_capacity(current_teams, given)
        parts.append(part)
    if not parts:
        return _empty()
    return pd.concat([_empty(), *parts], ignore_index=True).loc[:, list(OUTPUT_COLUMNS)]


def _evaluate_rule(
    rule: Rule,
    frame: pd.DataFrame,
    snapshots: Sequence[LeadSnapshot],
    now: pd.Timestamp,
    calendar: WorkCalendar | None,
    teams: Mapping[Any, TeamInfo],
    names: Mapping[Any, str] | None,
) -> tuple[pd.DataFrame, dict[tuple[Any, Any], int]]:
    """One rule's rows of the :func:`evaluate` output (``snapshots``: the rows of ``frame`` as leads), and the
    leads its reassignments gave (team, user)."""
    scope = pd.Series([in_scope(rule, lead) for lead in snapshots], index=frame.index, dtype=bool)
    starts = clock_starts(rule, frame)
    limits = cutoffs(rule, now, calendar)
    breach = scope & starts.le(scalar_utc(limits.act, "act")[0]).fillna(False)
    warn = pd.Series(False, index=frame.index)
    if limits.warn is not None:
        warn = scope & ~breach & starts.le(scalar_utc(limits.warn, "warn")[0]).fillna(False)
    chosen = np.flatnonzero((breach | warn).to_numpy(dtype=bool))
    if not len(chosen):
        return _empty(), {}
    due = deadlines(starts.iloc[chosen], rule.threshold, rule.unit, calendar)
    rows = frame.iloc[chosen]
    lead_names = [
        str(name) if isinstance(name, str) and name.strip() else label(lead_id, names)
        for name, lead_id in zip(rows["name"], rows["id"], strict=True)
    ]
    part = pd.DataFrame(
        {
            "rule": rule.name,
            "lead_id": rows["id"].to_numpy(dtype=object),
            "lead": lead_names,
            "clock": rule.clock,
            "clock_start": starts.iloc[chosen].to_numpy(),
            "deadline": due.to_numpy(),
            "status": np.where(breach.to_numpy()[chosen], "breach", "warn"),
            "action": rule.action,
            "description": [f"Warning: the breach is due on {stamp:%Y-%m-%d %H:%M} UTC." for stamp in due],
            "error": None,
            "_row": chosen,
        }
    )
    part["clock_start"] = part["clock_start"].astype(UTC_NS)
    part["deadline"] = part["deadline"].astype(UTC_NS)
    part = part.sort_values(["deadline", "_row"], kind="stable").reset_index(drop=True)
    acted = np.flatnonzero(part["status"].eq("breach").to_numpy())
    breached = [snapshots[int(row)] for row in part["_row"].to_numpy()[acted]]
    planned, _ = plan_actions(rule, breached, teams, None, names)
    part["error"] = part["error"].astype(object)
    given: dict[tuple[Any, Any], int] = {}
    for position, lead, action in zip(acted, breached, planned, strict=True):
        part.at[position, "description"] = action.description
        part.at[position, "error"] = action.error
        if action.error is None and "user_id" in action.changes and action.changes["user_id"] is not None:
            key = (lead.team_id, action.changes["user_id"])
            given[key] = given.get(key, 0) + 1
    return part.drop(columns="_row"), given


def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype=object) for column in OUTPUT_COLUMNS})
    frame["clock_start"] = frame["clock_start"].astype(UTC_NS)
    frame["deadline"] = frame["deadline"].astype(UTC_NS)
    return frame


def _calendar_for(rule: Rule, calendars: Any) -> WorkCalendar | None:
    if calendars is None or isinstance(calendars, WorkCalendar):
        return calendars
    if not isinstance(calendars, Mapping):
        raise RuleError(
            f"calendars must be a WorkCalendar or a mapping rule id -> calendar, got {calendars!r}."
        )
    return calendars.get(rule.id, calendars.get(None))


def _flags(values: pd.Series, default: bool, name: str) -> pd.Series:
    """A boolean column: booleans, 0/1 or true/false texts; missing values take ``default``."""

    def flag(value: Any) -> bool:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return default
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE if text else default
            raise RuleError(f"Column {name}: cannot read {value!r} as true or false.")
        return bool(value)

    return pd.Series([flag(value) for value in values], index=values.index, dtype=bool)


def _plain(value: Any) -> Any:
    """A frame cell as a plain value: missing -> None, Timestamps kept (they are datetimes)."""
    if value is None or (not isinstance(value, (str, bytes, tuple, list)) and pd.isna(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _snapshot(row: Mapping[str, Any]) -> LeadSnapshot:
    values = {f.name: _plain(row[f.name]) for f in _FIELDS}
    values["has_partner_assigned"] = bool(values["has_partner_assigned"])
    values["active"] = True if values["active"] is None else bool(values["active"])
    values["won"] = bool(values["won"])
    values["name"] = values["name"] or ""
    return LeadSnapshot(**values)


def _use_capacity(teams: Mapping[Any, TeamInfo], given: Mapping[tuple[Any, Any], int]) -> dict[Any, TeamInfo]:
    """``teams`` with the capacity of the members who were given leads used up."""
    result = dict(teams)
    for (team_id, user_id), count in given.items():
        team = result.get(team_id)
        if team is None:
            continue
        members = tuple(
            dataclasses.replace(member, capacity_left=member.capacity_left - count)
            if member.user_id == user_id and member.capacity_left is not None
            else member
            for member in team.members
        )
        result[team_id] = dataclasses.replace(team, members=members)
    return result
