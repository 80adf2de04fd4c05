"""The rules file of ``sla_rules simulate``: calendars, teams and rules in YAML.

::

    calendars:
      brussels: {tz: Europe/Brussels, hours: {mon: [[8, 12], [13, 17]], fri: [[8, 12]]},
                 holidays: [2026-12-25], leaves: [["2026-12-24T12:00", "2026-12-24T17:00"]]}  # local time
    default_calendar: brussels
    teams:
      Europe: {leader: alice, members: [bob, carol, {user: dave, absent: true}, {user: erin, capacity: 0}]}
    rules:
      - name: Reassign untouched opportunities
        clock: assignment          # stage_entry, create, assignment, last_action
        threshold: 4
        unit: business_days        # business_days, business_hours, days, hours
        warning_before: 1
        lead_type: opportunity     # lead, opportunity, both (default)
        teams: [Europe]            # scope; also stages: [...], companies: [...]
        action: reassign           # reassign, return_to_marketing, mark_lost, pull_back, escalate, archive
        reassign: round_robin      # or team_leader, or {user: bob}
        calendar: brussels         # default: default_calendar
      - {name: Back to marketing, ..., action: return_to_marketing, team: Marketing, tags: [stale]}
      - {name: Give up, ..., action: mark_lost, lost_reason: Too expensive}

Teams, stages, users, companies, tags and lost reasons are names; with a ``teams`` section, every team a rule
names must be one of it (an unknown team is refused as such). :func:`load_config` reads a file and
:func:`parse_config` the parsed data; every error says which rule (position and name) and which key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from activity_centric.workcalendar import CalendarError
from sla_rules._common import RuleError, is_number
from sla_rules.businesstime import WorkCalendar
from sla_rules.problems import problems_error
from sla_rules.rules import Member, Rule, TeamInfo, validate_rule

TOP_KEYS: tuple[str, ...] = ("calendars", "default_calendar", "teams", "rules")
RULE_KEYS: tuple[str, ...] = (
    "id",
    "name",
    "clock",
    "threshold",
    "unit",
    "warning_before",
    "lead_type",
    "teams",
    "stages",
    "companies",
    "action",
    "reassign",
    "team",
    "tags",
    "lost_reason",
    "calendar",
)
"""Keys of a rule in the YAML file."""
_REQUIRED: tuple[str, ...] = ("name", "clock", "threshold", "unit", "action")


@dataclass(frozen=True)
class Config:
    """A parsed rules file.

    - ``rules``: the rules, ids = their ``id`` key or their position (1, 2, ...), names as values;
    - ``calendars``: rule id -> its calendar (the rule's own, else the default), for
      :func:`~sla_rules.simulate.evaluate`; rules without one are left out;
    - ``teams``: team name -> :class:`~sla_rules.rules.TeamInfo` (names as ids).
    """

    rules: tuple[Rule, ...]
    calendars: dict[Any, WorkCalendar] = field(default_factory=dict)
    teams: dict[str, TeamInfo] = field(default_factory=dict)


def load_config(path: str | Path) -> Config:
    """Read and check a rules file (see the module docstring).

    Raises:
        RuleError: unreadable file, YAML syntax error, or a bad value (the message names the place).
    """
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"{path}: cannot read the rules file ({exc.strerror or exc}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RuleError(f"{path}: not valid YAML{where}: {problem}.") from None
    try:
        return parse_config(data)
    except RuleError as exc:
        raise RuleError(f"{path}: {exc}", exc.problems) from None


def parse_config(data: Any) -> Config:
    """A :class:`Config` from the parsed YAML data (a mapping with :data:`TOP_KEYS`).

    Raises:
        RuleError: as :func:`load_config`.
    """
    if not isinstance(data, Mapping):
        raise RuleError("The rules file must be a mapping with a 'rules' list (and calendars, teams).")
    unknown = [str(key) for key in data if key not in TOP_KEYS]
    if unknown:
        raise RuleError(f"Unknown key(s) {', '.join(unknown)}: use {', '.join(TOP_KEYS)}.")
    calendars = _calendars(data.get("calendars"))
    default = data.get("default_calendar")
    if default is not None and str(default) not in calendars:
        raise RuleError(f"default_calendar: no calendar named {default!r} under calendars.")
    teams = _teams(data.get("teams"))
    items = data.get("rules")
    if not isinstance(items, list) or not items:
        raise RuleError("rules: give a list of rules (each with name, clock, threshold, unit and action).")
    rules, rule_calendars, seen = [], {}, set()
    for position, item in enumerate(items, start=1):
        rule, calendar_name = _rule(item, position)
        if rule.id in seen:
            raise RuleError(f"rule {position} ({rule.name}): id {rule.id!r} is used by an earlier rule.")
        seen.add(rule.id)
        name = calendar_name if calendar_name is not None else default
        if name is not None:
            if str(name) not in calendars:
                raise RuleError(f"rule {position} ({rule.name}), key calendar: no calendar named {name!r}.")
            rule_calendars[rule.id] = calendars[str(name)]
        if teams:
            _check_teams(rule, position, teams)
        problems = validate_rule(rule, has_calendar=rule.id in rule_calendars)
        if problems:
            raise problems_error(problems, f"rule {position} ({rule.name}): ")
        rules.append(rule)
    return Config(tuple(rules), rule_calendars, teams)


def _check_teams(rule: Rule, position: int, teams: Mapping[str, TeamInfo]) -> None:
    """With a ``teams`` section, every team a rule names (its scope, its target team) is one of it."""
    for key, names in (("teams", rule.team_ids), ("team", {rule.target_team_id} - {None})):
        unknown = sorted(str(name) for name in names if str(name) not in teams)
        if unknown:
            raise RuleError(
                f"rule {position} ({rule.name}), key {key}: unknown team {', '.join(unknown)}: "
                f"the file's teams are {', '.join(sorted(teams))} (check the spelling, or add the team "
                "under teams)."
            )


def _calendars(value: Any) -> dict[str, WorkCalendar]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RuleError("calendars: give a mapping of calendar names to {tz, hours, holidays, leaves}.")
    result = {}
    for name, spec in value.items():
        try:
            result[str(name)] = WorkCalendar.from_mapping(spec if spec is not None else {})
        except CalendarError as exc:
            raise RuleError(f"calendar {name}: {exc}", code=exc.code, params=exc.params) from None
    return result


def _teams(value: Any) -> dict[str, TeamInfo]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RuleError("teams: give a mapping of team names to {leader, members}.")
    result = {}
    for name, spec in value.items():
        spec = spec or {}
        where = f"team {name}"
        if not isinstance(spec, Mapping):
            raise RuleError(f"{where}: give {{leader: name, members: [...]}}.")
        unknown = [str(key) for key in spec if key not in ("leader", "members")]
        if unknown:
            raise RuleError(f"{where}: unknown key(s) {', '.join(unknown)}: use leader, members.")
        members = spec.get("members") or []
        if not isinstance(members, list):
            raise RuleError(f"{where}, key members: give a list of user names or {{user, absent, capacity}}.")
        leader = spec.get("leader")
        result[str(name)] = TeamInfo(
            str(name),
            str(leader) if leader is not None else None,
            tuple(_member(item, f"{where}, key members") for item in members),
        )
    return result


def _member(item: Any, where: str) -> Member:
    if isinstance(item, (str, int)) and not isinstance(item, bool):
        return Member(str(item))
    if not isinstance(item, Mapping) or "user" not in item:
        raise RuleError(
            f"{where}: give a user name or {{user: name, absent: true, capacity: 3}}, got {item!r}."
        )
    unknown = [str(key) for key in item if key not in ("user", "absent", "capacity")]
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(unknown)}: use user, absent, capacity.")
    absent = item.get("absent", False)
    if not isinstance(absent, bool):
        raise RuleError(f"{where}: absent must be true or false, got {absent!r}.")
    capacity = item.get("capacity")
    if capacity is not None and (isinstance(capacity, bool) or not isinstance(capacity, int)):
        raise RuleError(f"{where}: capacity must be a whole number of leads, got {capacity!r}.")
    return Member(str(item["user"]), absent, capacity)


def _names(value: Any, where: str) -> frozenset:
    if value is None:
        return frozenset()
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return frozenset([str(value)])
    if isinstance(value, list) and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in value):
        return frozenset(str(v) for v in value)
    raise RuleError(f"{where}: give a name or a list of names, got {value!r}.")


def _rule(item: Any, position: int) -> tuple[Rule, Any]:
    """A rule from its YAML mapping, and the name of its calendar (or ``None``)."""
    if not isinstance(item, Mapping):
        raise RuleError(f"rule {position}: give a mapping with name, clock, threshold, unit and action.")
    name = item.get("name")
    where = f"rule {position}" + (f" ({name})" if name else "")
    unknown = [str(key) for key in item if key not in RULE_KEYS]
    if unknown:
        raise RuleError(f"{where}: unknown key(s) {', '.join(unknown)}: use {', '.join(RULE_KEYS)}.")
    missing = [key for key in _REQUIRED if item.get(key) in (None, "")]
    if missing:
        raise RuleError(f"{where}: missing key(s) {', '.join(missing)}.")
    for key in ("threshold", "warning_before"):
        if key in item and not is_number(item[key]):
            raise RuleError(f"{where}, key {key}: give a number, got {item[key]!r}.")
    for key in ("name", "clock", "unit", "action", "lead_type"):
        if key in item and not isinstance(item[key], str):
            raise RuleError(f"{where}, key {key}: give a text, got {item[key]!r}.")
    mode, user = _reassign(item.get("reassign"), f"{where}, key reassign")
    single = {}
    for key in ("team", "lost_reason", "calendar"):
        value = item.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            raise RuleError(f"{where}, key {key}: give a name, got {value!r}.")
        single[key] = str(value) if value is not None else None
    rule_id = item.get("id", position)
    if isinstance(rule_id, bool) or not isinstance(rule_id, (str, int)):
        raise RuleError(f"{where}, key id: give a number or a text, got {rule_id!r}.")
    rule = Rule(
        id=rule_id,
        name=str(name),
        clock=item["clock"],
        threshold=item["threshold"],
        unit=item["unit"],
        action=item["action"],
        warning_before=item.get("warning_before", 0.0),
        team_ids=_names(item.get("teams"), f"{where}, key teams"),
        lead_type=item.get("lead_type", "both"),
        stage_ids=_names(item.get("stages"), f"{where}, key stages"),
        company_ids=_names(item.get("companies"), f"{where}, key companies"),
        reassign_mode=mode,
        user_id=user,
        target_team_id=single["team"],
        tag_ids=_names(item.get("tags"), f"{where}, key tags"),
        lost_reason_id=single["lost_reason"],
    )
    return rule, single["calendar"]


def _reassign(value: Any, where: str) -> tuple[str, str | None]:
    if value is None:
        return "round_robin", None
    if isinstance(value, str):
        if value == "user":
            raise RuleError(f"{where}: name the user: reassign: {{user: bob}}.")
        return value, None
    if isinstance(value, Mapping) and list(value) == ["user"] and isinstance(value["user"], (str, int)):
        return "user", str(value["user"])
    raise RuleError(f"{where}: use round_robin, team_leader or {{user: name}}, got {value!r}.")
