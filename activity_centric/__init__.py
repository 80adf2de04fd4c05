"""The logic behind "activity-centric" selling, on plain values and DataFrames (no Odoo needed).

- **Work calendar** (:mod:`activity_centric.workcalendar`): :class:`WorkCalendar` (time zone, weekly
  attendances -- also two-week schedules --, flexible hours, leaves) and the one definition of a working day
  (:meth:`WorkCalendar.working_dates`, :meth:`WorkCalendar.is_working_day`: a local date with working time
  left after the leaves), used by event chains, "Plan tomorrow" and ``sla_rules``' business time.
- **Problems** (:mod:`activity_centric.problems`): the form of every plain validator's findings, shared by
  the three packages: a :class:`Problem` is a code with parameters, which each addon turns into a
  translatable message and the command lines into English (:func:`english`).
- **Instants** (:mod:`activity_centric.instants`): UTC conversions shared with ``sla_rules``
  (:func:`as_utc_series`).
- **Follow-up policy decisions** (:mod:`activity_centric.policy`): a lead's follow-up state under its team's
  policy (:func:`followup_state`: ``scheduled``, ``missing`` -- never in an ``off`` team -- or ``exempt``),
  whether an operation may take away its last open activity under a team's policy (:func:`check_removal`,
  :func:`refused_leads`: ``off``, ``warn``, ``enforce``), whether a change of the lead itself (team,
  restore, stage, reason) may leave it open without a next step in an ``enforce`` team
  (:func:`check_entry`), and whether an automatically created lead gets the team's default first activity
  (:func:`needs_default_activity`).
- **Change of hands and next steps** (:mod:`activity_centric.handover`): which open activities go to the new
  salesperson when a lead is reassigned (:func:`activities_to_hand_over`, :func:`hands_over`), and the due
  date proposed for the activity that follows a completed one (:func:`next_step_deadline`).
- **Workload levelling** (:mod:`activity_centric.levelling`): daily load against a capacity in activities
  and/or minutes (:func:`day_load`, :func:`fits`, :func:`is_at_or_over`), the next working days of a calendar
  (:func:`working_days`), and the "Plan tomorrow" proposal that moves the least important activities of an
  overloaded day to the next working days with room (:func:`level`).
- **Gaming signals** (:mod:`activity_centric.signals`): per salesperson, activities closed seconds after
  being created without feedback, placeholders scheduled far ahead, repeated reschedules, leads with no next
  step (:func:`gaming_signals`).
- **Event-chain metrics** (:mod:`activity_centric.chains`): deadlines in elapsed time or business days of a
  work calendar (:func:`deadlines`), start/end event pairing and per-chain status (:func:`chain_events`),
  compliance per salesperson or team (:func:`chain_compliance`); what is wrong with a threshold, as problem
  codes (:func:`threshold_problems`).

The Odoo addon ``crm_activity_centric`` reads the facts with set-based queries and calls these functions.
"""

from activity_centric.instants import as_utc_series
from activity_centric.problems import Problem, english
from activity_centric.workcalendar import Attendance, CalendarError, WorkCalendar, week_type
from activity_centric.policy import (
    DEFAULT_ACTIVITY,
    EXEMPT,
    MISSING,
    NO_NEXT_STEP,
    POLICIES,
    SCHEDULED,
    STATES,
    Decision,
    LeadFacts,
    check_entry,
    check_removal,
    followup_state,
    is_exempt,
    needs_default_activity,
    refused_leads,
)
from activity_centric.handover import (
    OpenActivity,
    Reassignment,
    activities_to_hand_over,
    hands_over,
    next_step_deadline,
)
from activity_centric.levelling import (
    Capacity,
    Item,
    Load,
    Move,
    Plan,
    day_load,
    fits,
    is_at_or_over,
    level,
    working_days,
)
from activity_centric.signals import SIGNAL_COLUMNS, gaming_signals
from activity_centric.chains import (
    CHAIN_STATUSES,
    COMPLIANCE_COLUMNS,
    UNITS,
    Threshold,
    chain_compliance,
    chain_events,
    deadlines,
    threshold_problems,
)

__all__ = [
    "CHAIN_STATUSES",
    "COMPLIANCE_COLUMNS",
    "DEFAULT_ACTIVITY",
    "EXEMPT",
    "MISSING",
    "NO_NEXT_STEP",
    "POLICIES",
    "SCHEDULED",
    "SIGNAL_COLUMNS",
    "STATES",
    "UNITS",
    "Attendance",
    "CalendarError",
    "Capacity",
    "Decision",
    "Item",
    "LeadFacts",
    "Load",
    "Move",
    "OpenActivity",
    "Plan",
    "Problem",
    "Reassignment",
    "Threshold",
    "WorkCalendar",
    "activities_to_hand_over",
    "as_utc_series",
    "chain_compliance",
    "chain_events",
    "check_entry",
    "check_removal",
    "day_load",
    "deadlines",
    "english",
    "fits",
    "followup_state",
    "gaming_signals",
    "hands_over",
    "is_at_or_over",
    "is_exempt",
    "level",
    "needs_default_activity",
    "next_step_deadline",
    "refused_leads",
    "threshold_problems",
    "week_type",
    "working_days",
]
