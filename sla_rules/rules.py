"""SLA rule semantics on plain values: what a rule is, which leads it watches, when they breach, what it does.

A :class:`Rule` is checked by :func:`validate_rule` (problems as :class:`~sla_rules.problems.Problem`
codes). It watches the open leads in its scope (:func:`scope_conditions`, tested on one lead by
:func:`in_scope`: active, not won, of its lead type, teams, stages and companies). Each lead has a clock
start (:func:`clock_start`: when it entered its stage, was created, was assigned, or last had an action —
restarted when the lead changes hands, see :data:`CLOCK_RESTARTS`); the lead is *breached* once
``threshold`` ``unit`` have run since it (see :mod:`sla_rules.businesstime`), and *warned*
``warning_before`` earlier. One breach of one clock start is one episode: a rerun never acts twice on it,
and a new clock start is a new episode (the addon's events are unique per rule, lead and clock start).

The Odoo addon ``crm_sla_rules`` validates its rules with :func:`validate_rule` and selects the leads to warn
and act on with one SQL query per rule: the domain of :func:`scope_conditions`, the clock start as the
latest of the clock's columns in :data:`CLOCK_COLUMNS` and :data:`CLOCK_RESTARTS` (set only when the fields
of :data:`CLOCK_REQUIRES` are), at or before the rule's cutoff (its tests check that this selection is the
leads :func:`in_scope` and :func:`status` say). It then builds :class:`LeadSnapshot` and :class:`TeamInfo`
values from the ORM and applies the :class:`PlannedAction` values of :func:`plan_actions`; the
``sla_rules simulate`` command prints them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sla_rules._common import RuleError, is_number, label, scalar_utc, utc_series
from sla_rules.businesstime import BUSINESS_UNITS, UNITS, WorkCalendar, cutoff
from sla_rules.problems import Problem

CLOCKS: tuple[str, ...] = ("stage_entry", "create", "assignment", "last_action", "handed_over")
"""What starts a rule's clock."""
ACTIONS: tuple[str, ...] = (
    "reassign",
    "return_to_marketing",
    "mark_lost",
    "pull_back",
    "escalate",
    "archive",
    "return_to_sender",
)
"""What a rule does to a breached lead (``return_to_sender``: the handoff nobody decided on goes back to its
sender, ``crm_lead_handoff``)."""
REASSIGN_MODES: tuple[str, ...] = ("round_robin", "team_leader", "user")
"""Who gets a reassigned lead."""
LEAD_TYPES: tuple[str, ...] = ("lead", "opportunity", "both")
"""Which leads a rule watches."""
CLOCK_COLUMNS: dict[str, str] = {
    "stage_entry": "date_last_stage_update",
    "create": "create_date",
    "assignment": "date_open",
    "last_action": "sla_last_action_date",
    "handed_over": "handoff_sent_date",
}
"""The ``crm.lead`` column of each clock: its own event."""
CLOCK_RESTARTS: dict[str, tuple[str, ...]] = {
    "stage_entry": ("sla_team_since",),
    "create": (),
    "assignment": ("sla_owner_since",),
    "last_action": ("sla_owner_since",),
    "handed_over": (),
}
"""The ``crm.lead`` columns of the changes of hands that restart each clock: ``sla_owner_since`` (the lead
got its salesperson or its sales team, whoever changed it) and ``sla_team_since`` (it entered its sales team).

A new owner gets the full time to act (``assignment``, ``last_action``): the previous owner's idle days are
not held against them. A new team also restarts ``stage_entry``: a deal pulled back from a partner, or sent
to another team, is new to that team's pipeline, while a new salesperson in the same team does not make a
deal stuck in its stage any less stuck. ``create`` measures the lead's age and never restarts, nor does
``handed_over`` (the time the receiving side of a handoff takes to accept or reject it: a new handoff is a
new clock start)."""
CLOCK_REQUIRES: dict[str, tuple[str, ...]] = {
    "stage_entry": (),
    "create": (),
    "assignment": ("user_id",),
    "last_action": (),
    "handed_over": (),
}
"""The other ``crm.lead`` fields that must be set for each clock to run: the ``assignment`` clock has no start
while the lead has no salesperson."""
STATUSES: tuple[str, ...] = ("ok", "warn", "breach")
"""Results of :func:`status`."""


def _ids(value: Any) -> frozenset:
    if value is None:
        return frozenset()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return frozenset([value])
    return frozenset(value)


@dataclass(frozen=True)
class Rule:
    """One SLA rule. Id sets (``team_ids``, ``stage_ids``, ``company_ids``, ``tag_ids``) accept any iterable
    and are stored as frozensets; an empty scope set means "all".

    - ``clock`` (:data:`CLOCKS`), ``threshold`` (> 0) in ``unit`` (:data:`~sla_rules.businesstime.UNITS`);
    - ``warning_before``: warn this long (same unit) before the breach; 0 = no warning;
    - ``action`` (:data:`ACTIONS`) with its parameters: ``reassign_mode`` and ``user_id`` (reassign),
      ``target_team_id`` (return_to_marketing, pull_back), ``tag_ids`` (return_to_marketing),
      ``lost_reason_id`` (mark_lost).

    Nothing is checked on construction: :func:`validate_rule` lists every problem at once.
    """

    id: int | str
    name: str
    clock: str
    threshold: float
    unit: str
    action: str
    warning_before: float = 0.0
    team_ids: frozenset = frozenset()
    lead_type: str = "both"
    stage_ids: frozenset = frozenset()
    company_ids: frozenset = frozenset()
    reassign_mode: str = "round_robin"
    user_id: int | str | None = None
    target_team_id: int | str | None = None
    tag_ids: frozenset = frozenset()
    lost_reason_id: int | str | None = None

    def __post_init__(self) -> None:
        for name in ("team_ids", "stage_ids", "company_ids", "tag_ids"):
            object.__setattr__(self, name, _ids(getattr(self, name)))


def validate_rule(
    rule: Rule, *, has_calendar: bool = True, team_sizes: Mapping[Any, int] | None = None
) -> tuple[Problem, ...]:
    """Every problem of ``rule``, as :class:`~sla_rules.problems.Problem` codes (empty: the rule can run).

    Inputs: ``has_calendar``: whether a working calendar is available to the rule (its own, or that of each
    of its companies); ``team_sizes``: team id -> number of members, to check round robin (not checked
    without it). Round robin needs a member in every team of the rule: a breached lead of an empty team
    could not be reassigned (a rule with no team is fine). Business days are whole days, for the
    threshold and the warning alike.
    """
    problems: list[Problem] = []
    if not str(rule.name or "").strip():
        problems.append(Problem("name_missing"))
    for code, value, choices in (
        ("unknown_clock", rule.clock, CLOCKS),
        ("unknown_unit", rule.unit, UNITS),
        ("unknown_action", rule.action, ACTIONS),
        ("unknown_lead_type", rule.lead_type, LEAD_TYPES),
    ):
        if value not in choices:
            problems.append(Problem(code, {"value": value, "choices": choices}))
    threshold_ok = is_number(rule.threshold) and rule.threshold > 0
    if not threshold_ok:
        problems.append(Problem("threshold_not_positive"))
    warning = rule.warning_before
    if not is_number(warning) or warning < 0:
        problems.append(Problem("warning_negative"))
    elif threshold_ok and warning > 0 and warning >= rule.threshold:
        problems.append(Problem("warning_not_before_breach"))
    if rule.unit in BUSINESS_UNITS and not has_calendar:
        problems.append(Problem("calendar_missing"))
    if rule.unit == "business_days" and (
        (threshold_ok and rule.threshold != int(rule.threshold))
        or (is_number(warning) and warning != int(warning))
    ):
        problems.append(Problem("whole_days"))
    if rule.action == "reassign":
        if rule.reassign_mode not in REASSIGN_MODES:
            problems.append(
                Problem("unknown_reassign_mode", {"value": rule.reassign_mode, "choices": REASSIGN_MODES})
            )
        elif rule.reassign_mode == "user" and rule.user_id is None:
            problems.append(Problem("reassign_user_missing"))
        elif rule.reassign_mode == "round_robin" and team_sizes is not None:
            empty = sorted((team for team in rule.team_ids if team_sizes.get(team, 0) <= 0), key=str)
            if empty:
                problems.append(Problem("round_robin_empty_teams", {"team_ids": tuple(empty)}))
    if rule.action == "mark_lost" and rule.lost_reason_id is None:
        problems.append(Problem("lost_reason_missing"))
    return tuple(problems)


# ------------------------------------------------------------------------------------------------------
# leads, scope, clocks
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadSnapshot:
    """What a rule needs to know about one lead (``crm.lead`` field names; ids or names as values).

    Datetimes are naive UTC (Odoo's convention) or aware. ``sla_owner_since`` / ``sla_team_since``: when the
    lead got its current salesperson or team / entered its current team (``None``: no change known, the
    clocks run from their own columns). ``handoff_sent_date``: when the handoff awaiting acceptance was sent
    (``None``: none awaits; the ``handed_over`` clock). ``has_partner_assigned``: the database has the
    ``partner_assigned_id`` field (``website_crm_partner_assign``).
    """

    id: int | str
    type: str
    team_id: Any
    user_id: Any
    stage_id: Any
    company_id: Any
    create_date: dt.datetime | None
    date_last_stage_update: dt.datetime | None
    date_open: dt.datetime | None
    sla_last_action_date: dt.datetime | None
    sla_owner_since: dt.datetime | None = None
    sla_team_since: dt.datetime | None = None
    handoff_sent_date: dt.datetime | None = None
    partner_assigned_id: int | str | None = None
    has_partner_assigned: bool = False
    active: bool = True
    won: bool = False
    name: str = ""


def _clock_of(rule_or_clock: Rule | str) -> str:
    clock = rule_or_clock.clock if isinstance(rule_or_clock, Rule) else rule_or_clock
    if clock not in CLOCKS:
        raise RuleError(f"Unknown clock {clock!r}: use one of {', '.join(CLOCKS)}.")
    return clock


def _present(value: Any) -> bool:
    """Not None / NaN / NaT / False (Odoo's empty many2one)."""
    if value is None or value is False:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like value
        return True


def clock_start(rule_or_clock: Rule | str, lead: LeadSnapshot) -> dt.datetime | None:
    """When the rule's clock started for ``lead``, or ``None``: the value of its clock column
    (:data:`CLOCK_COLUMNS`), or the latest change of hands that restarts it (:data:`CLOCK_RESTARTS`) when
    that came later. The value is returned as given (naive or aware).

    The clock has no start while its own column, or a field of :data:`CLOCK_REQUIRES`, is empty.

    Raises:
        RuleError: unknown clock.
    """
    clock = _clock_of(rule_or_clock)
    if not all(_present(getattr(lead, name)) for name in CLOCK_REQUIRES[clock]):
        return None
    start = getattr(lead, CLOCK_COLUMNS[clock])
    if not _present(start):
        return None
    for column in CLOCK_RESTARTS[clock]:
        restart = getattr(lead, column)
        if _present(restart) and scalar_utc(restart, column)[0] > scalar_utc(start, "The clock start")[0]:
            start = restart
    return start


def clock_starts(rule_or_clock: Rule | str, leads: pd.DataFrame) -> pd.Series:
    """:func:`clock_start` of every row of ``leads`` (:class:`LeadSnapshot` field names as columns; a missing
    restart column counts as empty), as a ``datetime64[ns, UTC]`` Series on the same index (``NaT``: no
    start).

    Raises:
        RuleError: unknown clock, a missing clock column, values that are not datetimes.
    """
    clock = _clock_of(rule_or_clock)
    column = CLOCK_COLUMNS[clock]
    if column not in leads.columns:
        raise RuleError(f"The leads table has no column {column}, the start of the {clock} clock.")
    starts = utc_series(leads[column], column)
    for restart_column in CLOCK_RESTARTS[clock]:
        if restart_column in leads.columns:
            restart = utc_series(leads[restart_column], restart_column)
            starts = starts.where(~(starts.notna() & restart.gt(starts)), restart)
    for name in CLOCK_REQUIRES[clock]:
        starts = starts.where(leads[name].notna() & leads[name].ne(False))
    return starts


def scope_conditions(rule: Rule) -> tuple[tuple[str, str, Any], ...]:
    """The leads ``rule`` watches, as conditions that must all hold: ``(field, operator, value)`` on
    :class:`LeadSnapshot` fields (``crm.lead`` fields, and ``won``), ``operator`` ``"="`` or ``"in"`` (a
    frozenset). Active, not won, of the rule's lead type, in one of its teams, stages and companies (an empty
    set means any).

    :func:`in_scope` tests them on one lead; the Odoo addon turns them into the domain of its one SQL query
    per rule (``won`` is crm's ``won_status``).
    """
    conditions: list[tuple[str, str, Any]] = [("active", "=", True), ("won", "=", False)]
    if rule.lead_type != "both":
        conditions.append(("type", "=", rule.lead_type))
    for name, wanted in (
        ("team_id", rule.team_ids),
        ("stage_id", rule.stage_ids),
        ("company_id", rule.company_ids),
    ):
        if wanted:
            conditions.append((name, "in", wanted))
    return tuple(conditions)


def in_scope(rule: Rule, lead: LeadSnapshot) -> bool:
    """Whether ``rule`` watches ``lead``: every one of its :func:`scope_conditions` holds."""
    return all(
        getattr(lead, name) in value if operator == "in" else getattr(lead, name) == value
        for name, operator, value in scope_conditions(rule)
    )


@dataclass(frozen=True)
class Cutoffs:
    """Clock starts at or before ``act`` are breached; those after it and at or before ``warn`` are warned
    (``warn`` is ``None`` without a warning)."""

    act: dt.datetime
    warn: dt.datetime | None


def cutoffs(rule: Rule, now: dt.datetime, calendar: WorkCalendar | None) -> Cutoffs:
    """The breach and warning cutoffs of ``rule`` at ``now``: ``cutoff(now, threshold)`` and, with a
    warning, ``cutoff(now, threshold - warning_before)`` (see :func:`sla_rules.businesstime.cutoff`).

    Output datetimes are naive UTC for a naive ``now``, aware UTC otherwise.

    Raises:
        RuleError: as :func:`~sla_rules.businesstime.cutoff`.
    """
    act = cutoff(now, rule.threshold, rule.unit, calendar)
    warn = None
    if rule.warning_before:
        warn = cutoff(now, rule.threshold - rule.warning_before, rule.unit, calendar)
    return Cutoffs(act, warn)


def status(rule: Rule, start: dt.datetime | None, now: dt.datetime, calendar: WorkCalendar | None) -> str:
    """``"breach"``, ``"warn"`` or ``"ok"`` for a clock started at ``start`` (``None``: ``"ok"``).

    Raises:
        RuleError: as :func:`cutoffs`.
    """
    if not _present(start):
        return "ok"
    limits = cutoffs(rule, now, calendar)
    begun, _ = scalar_utc(start, "start")
    if begun <= scalar_utc(limits.act, "act")[0]:
        return "breach"
    if limits.warn is not None and begun <= scalar_utc(limits.warn, "warn")[0]:
        return "warn"
    return "ok"


# ------------------------------------------------------------------------------------------------------
# action planning
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A sales team member, in rotation order: ``absent`` (out of office, or paused); ``capacity_left``:
    leads it may still take (``None`` = unlimited)."""

    user_id: Any
    absent: bool = False
    capacity_left: int | None = None


@dataclass(frozen=True)
class TeamInfo:
    """A sales team: its leader and its members in rotation order."""

    team_id: Any
    leader_id: Any = None
    members: tuple[Member, ...] = ()


@dataclass(frozen=True)
class PlannedAction:
    """What a rule does to one lead.

    - ``changes``: ``crm.lead`` field -> new value (``user_id``, ``team_id``, ``type``, ``active``,
      ``lost_reason_id``, ``partner_assigned_id``), and ``"tag_ids_add"``: a tuple of tag ids to add;
    - ``notify_user_id``: who gets an activity (escalate);
    - ``description``: one sentence for the chatter and the audit trail;
    - ``error``: why the action cannot be carried out (then nothing is to be applied).
    """

    lead_id: Any
    action: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    notify_user_id: Any = None
    description: str = ""
    error: str | None = None


def _sorted(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(sorted(values, key=lambda value: (str(type(value)), str(value))))


class _Planner:
    """Plans one rule's actions over leads in order, carrying the rotation and the capacities."""

    def __init__(
        self, rule: Rule, teams: Mapping[Any, TeamInfo], rotation: Mapping[Any, Any] | None, names: Any
    ):
        self.rule = rule
        self.teams = teams
        self.rotation: dict[Any, Any] = dict(rotation or {})
        self.names = names
        self.given: dict[tuple[Any, Any], int] = {}

    def name(self, value: Any, kind: str) -> str:
        return label(value, self.names, kind) if _present(value) else "nobody"

    def team(self, lead: LeadSnapshot) -> TeamInfo | None:
        return self.teams.get(lead.team_id) if _present(lead.team_id) else None

    def plan(self, lead: LeadSnapshot) -> PlannedAction:
        action = self.rule.action
        method = getattr(self, f"_{action}", None)
        if method is None:
            raise RuleError(f"Unknown action {action!r}: use one of {', '.join(ACTIONS)}.")
        return method(lead)

    def _failed(self, lead: LeadSnapshot, error: str) -> PlannedAction:
        return PlannedAction(lead.id, self.rule.action, {}, error=error)

    def _no_leader(self, lead: LeadSnapshot, purpose: str) -> PlannedAction:
        if not _present(lead.team_id):
            return self._failed(lead, f"The lead has no sales team, so no team leader to {purpose}.")
        return self._failed(lead, f"{self.name(lead.team_id, 'team')} has no team leader to {purpose}.")

    def _moved(self, lead: LeadSnapshot, new_user: Any, how: str) -> PlannedAction:
        if _present(lead.user_id):
            text = f"Reassigned from {self.name(lead.user_id, 'user')} to {self.name(new_user, 'user')}{how}."
        else:
            text = f"Assigned to {self.name(new_user, 'user')}{how}."
        return PlannedAction(lead.id, "reassign", {"user_id": new_user}, description=text)

    def _reassign(self, lead: LeadSnapshot) -> PlannedAction:
        mode = self.rule.reassign_mode
        if mode == "round_robin":
            return self._round_robin(lead)
        if mode == "team_leader":
            team = self.team(lead)
            if team is None or not _present(team.leader_id):
                return self._no_leader(lead, "take it")
            if team.leader_id == lead.user_id:
                return self._failed(
                    lead, f"The team leader {self.name(team.leader_id, 'user')} already owns it."
                )
            return self._moved(lead, team.leader_id, f" (team leader of {self.name(team.team_id, 'team')})")
        if mode == "user":
            if self.rule.user_id is None:
                return self._failed(lead, "Reassigning to a named user needs that user.")
            if self.rule.user_id == lead.user_id:
                return self._failed(lead, f"{self.name(self.rule.user_id, 'user')} already owns it.")
            return self._moved(lead, self.rule.user_id, "")
        raise RuleError(f"Unknown way to reassign {mode!r}: use one of {', '.join(REASSIGN_MODES)}.")

    def _round_robin(self, lead: LeadSnapshot) -> PlannedAction:
        team = self.team(lead)
        if team is None:
            reason = "the lead has no sales team" if not _present(lead.team_id) else "the team is not known"
            where = self.name(lead.team_id, "team") if _present(lead.team_id) else "its team"
            return self._failed(lead, f"No member of {where} can take it: {reason}.")
        members = list(team.members)
        if not members:
            return self._failed(
                lead, f"No member of {self.name(team.team_id, 'team')} can take it: the team has no members."
            )
        last = self.rotation.get(team.team_id)
        users = [member.user_id for member in members]
        first = users.index(last) + 1 if last is not None and last in users else 0
        reasons: list[str] = []
        for step in range(len(members)):
            member = members[(first + step) % len(members)]
            if member.user_id == lead.user_id:
                reasons.append(f"{self.name(member.user_id, 'user')} owns it")
            elif member.absent:
                reasons.append(f"{self.name(member.user_id, 'user')} is absent")
            elif member.capacity_left is not None and (
                member.capacity_left - self.given.get((team.team_id, member.user_id), 0) <= 0
            ):
                reasons.append(f"{self.name(member.user_id, 'user')} has no capacity left")
            else:
                key = (team.team_id, member.user_id)
                self.given[key] = self.given.get(key, 0) + 1
                self.rotation[team.team_id] = member.user_id
                return self._moved(
                    lead, member.user_id, f" (round robin in {self.name(team.team_id, 'team')})"
                )
        return self._failed(
            lead, f"No member of {self.name(team.team_id, 'team')} can take it: {', '.join(reasons)}."
        )

    def _return_to_marketing(self, lead: LeadSnapshot) -> PlannedAction:
        tags = _sorted(self.rule.tag_ids)
        target = self.rule.target_team_id
        changes = {"type": "lead", "user_id": None, "team_id": target, "tag_ids_add": tags}
        text = "Returned to marketing"
        text += f" ({self.name(target, 'team')})" if target is not None else " (no team)"
        text += ": back to a lead without a salesperson"
        if tags:
            text += f", tagged {', '.join(self.name(tag, 'tag') for tag in tags)}"
        return PlannedAction(lead.id, "return_to_marketing", changes, description=text + ".")

    def _mark_lost(self, lead: LeadSnapshot) -> PlannedAction:
        reason = self.rule.lost_reason_id
        if reason is None:
            return self._failed(lead, "Marking as lost needs a lost reason.")
        changes = {"active": False, "lost_reason_id": reason}
        return PlannedAction(
            lead.id, "mark_lost", changes, description=f"Marked as lost ({self.name(reason, 'lost_reason')})."
        )

    def _archive(self, lead: LeadSnapshot) -> PlannedAction:
        return PlannedAction(lead.id, "archive", {"active": False}, description="Archived.")

    def _pull_back(self, lead: LeadSnapshot) -> PlannedAction:
        partner = lead.has_partner_assigned and _present(lead.partner_assigned_id)
        if not partner and not _present(lead.user_id):
            return self._failed(
                lead, "Nothing to pull back: the lead has neither an assigned partner nor a salesperson."
            )
        changes: dict[str, Any] = {}
        target = self.rule.target_team_id
        if target is not None:
            changes["team_id"] = target
        changes["user_id"] = None
        if partner:
            changes["partner_assigned_id"] = None
        owners = [self.name(lead.user_id, "user")] if _present(lead.user_id) else []
        if partner:
            owners.append(f"partner {self.name(lead.partner_assigned_id, 'partner')}")
        text = f"Pulled back from {' and '.join(owners)}"
        text += f" to {self.name(target, 'team')}." if target is not None else "."
        return PlannedAction(lead.id, "pull_back", changes, description=text)

    def _escalate(self, lead: LeadSnapshot) -> PlannedAction:
        team = self.team(lead)
        if team is None or not _present(team.leader_id):
            return self._no_leader(lead, "escalate to")
        text = (
            f"Escalated to {self.name(team.leader_id, 'user')} (leader of {self.name(team.team_id, 'team')})."
        )
        return PlannedAction(lead.id, "escalate", {}, notify_user_id=team.leader_id, description=text)

    def _return_to_sender(self, lead: LeadSnapshot) -> PlannedAction:
        if not _present(lead.handoff_sent_date):
            return self._failed(lead, "No handoff awaits a decision: nothing to return to its sender.")
        return PlannedAction(
            lead.id,
            "return_to_sender",
            {},
            description="Handoff returned to its sender: nobody decided on it.",
        )


def plan_actions(
    rule: Rule,
    leads: Sequence[LeadSnapshot],
    teams: Mapping[Any, TeamInfo],
    rotation: Mapping[Any, Any] | None = None,
    names: Mapping[Any, str] | None = None,
) -> tuple[list[PlannedAction], dict[Any, Any]]:
    """What ``rule`` does to each of ``leads`` (already selected as breached), in the given order.

    Inputs: ``teams``: team id -> :class:`TeamInfo`; ``rotation``: team id -> the last user who got a lead
    from this rule in that team (round robin continues after it; missing = from the first member);
    ``names``: display names for the descriptions, keyed ``(kind, id)`` — kind one of ``user``, ``team``,
    ``tag``, ``lost_reason``, ``partner``, so that a user and a team with the same id never mix — or by the
    bare id (names as ids, as in a CSV snapshot); fallback: the id.

    Actions:

    - ``reassign``: ``{"user_id": new}`` (the team is kept). ``round_robin``: the next member of the lead's
      team after the rotation's last, skipping the current owner, absent members and members without
      capacity left (capacities are used up as leads are given); ``team_leader``: the team's leader;
      ``user``: ``rule.user_id``. An error when nobody can take it, or the chosen user already owns it;
    - ``return_to_marketing``: ``{"type": "lead", "user_id": None, "team_id": target team,
      "tag_ids_add": tags}``;
    - ``mark_lost``: ``{"active": False, "lost_reason_id": reason}``; ``archive``: ``{"active": False}``;
    - ``pull_back``: ``{"team_id": target team (kept when None), "user_id": None}``, plus
      ``{"partner_assigned_id": None}`` when the lead has an assigned partner; an error when it has neither
      a partner nor a salesperson;
    - ``escalate``: no change, ``notify_user_id`` = the team's leader (an error without one);
    - ``return_to_sender``: no change of the lead's fields here: the Odoo addon ``crm_lead_handoff`` marks its
      awaiting handoff returned and gives the lead back to the sender (an error when no handoff awaits).

    Output: the planned actions (one per lead, same order) and the new rotation (team id -> last user given
    a lead). Deterministic: same inputs, same output.

    Raises:
        RuleError: unknown action or reassign mode.
    """
    planner = _Planner(rule, teams, rotation, names)
    return [planner.plan(lead) for lead in leads], planner.rotation
