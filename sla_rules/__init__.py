"""SLA rules for an Odoo CRM pipeline, on plain values (no Odoo needed).

- **Business time** (:mod:`sla_rules.businesstime`): the monotone breach test of a threshold in
  ``business_days``, ``business_hours``, ``days`` or ``hours`` on a work calendar: :func:`cutoff` (a clock
  start is breached at ``now`` iff it is at or before the cutoff), :func:`deadline` / :func:`deadlines` (the
  earliest breach time). The calendar is :class:`activity_centric.WorkCalendar` (time zone, weekly
  attendances, leaves), re-exported here with :class:`Attendance` for the YAML configuration.
- **Rule semantics** (:mod:`sla_rules.rules`): :class:`Rule` and :func:`validate_rule`, whose problems are
  :class:`Problem` codes (:mod:`sla_rules.problems`; :func:`problem_text` in English); which leads a rule
  watches (:func:`scope_conditions`, :func:`in_scope`), its clock (:func:`clock_start`, :func:`clock_starts`;
  restarted when the lead changes hands, :data:`CLOCK_RESTARTS`), :func:`cutoffs` and :func:`status`; and
  what it does: :func:`plan_actions` over :class:`LeadSnapshot`, :class:`TeamInfo` and :class:`Member`
  values, giving :class:`PlannedAction` values.
- **Simulation** (:mod:`sla_rules.simulate`): :func:`evaluate` lists what rules would do on a snapshot of
  leads; the ``sla_rules simulate`` command (:mod:`sla_rules.cli`) runs it on a CSV snapshot or a live Odoo
  database, with rules, calendars and teams in YAML (:mod:`sla_rules.config`).

The Odoo addon ``crm_sla_rules`` validates its rules with :func:`validate_rule` (translating the codes),
selects breached leads with one SQL query per rule built from :func:`scope_conditions` and the clock's
columns, compared with the :func:`cutoff` of the rule's working schedule (read into a :class:`WorkCalendar`
by ``crm_pipeline_base``), and applies the planned actions. Every error is a :class:`RuleError` (a
``ValueError``) whose message says what is wrong and what to do; a calendar that cannot count (no working
time, business hours on flexible hours) gives one with the calendar's problem ``code``. Building a
:class:`WorkCalendar` from bad values raises :class:`activity_centric.CalendarError` (a ``ValueError`` too).
"""

from sla_rules._common import RuleError
from sla_rules.businesstime import (
    BUSINESS_UNITS,
    DEFAULT_ATTENDANCES,
    UNITS,
    Attendance,
    WorkCalendar,
    cutoff,
    deadline,
    deadlines,
)
from sla_rules.problems import PROBLEM_CODES, Problem, problem_text
from sla_rules.rules import (
    ACTIONS,
    CLOCK_COLUMNS,
    CLOCK_REQUIRES,
    CLOCK_RESTARTS,
    CLOCKS,
    LEAD_TYPES,
    REASSIGN_MODES,
    STATUSES,
    Cutoffs,
    LeadSnapshot,
    Member,
    PlannedAction,
    Rule,
    TeamInfo,
    clock_start,
    clock_starts,
    cutoffs,
    in_scope,
    plan_actions,
    scope_conditions,
    status,
    validate_rule,
)
from sla_rules.simulate import OUTPUT_COLUMNS, evaluate

__all__ = [
    "ACTIONS",
    "BUSINESS_UNITS",
    "CLOCKS",
    "CLOCK_COLUMNS",
    "CLOCK_REQUIRES",
    "CLOCK_RESTARTS",
    "DEFAULT_ATTENDANCES",
    "LEAD_TYPES",
    "OUTPUT_COLUMNS",
    "REASSIGN_MODES",
    "STATUSES",
    "UNITS",
    "Attendance",
    "Cutoffs",
    "LeadSnapshot",
    "Member",
    "PROBLEM_CODES",
    "PlannedAction",
    "Problem",
    "Rule",
    "RuleError",
    "TeamInfo",
    "WorkCalendar",
    "clock_start",
    "clock_starts",
    "cutoff",
    "cutoffs",
    "deadline",
    "deadlines",
    "evaluate",
    "in_scope",
    "plan_actions",
    "problem_text",
    "scope_conditions",
    "status",
    "validate_rule",
]
