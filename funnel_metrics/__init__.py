"""Funnel metrics over a CRM pipeline's stage transitions (plain pandas/numpy, no Odoo needed).

The input is the transitions table (one row per stay of a lead in a stage, see
:mod:`funnel_metrics.transitions`); the metrics are functions of it:

- :func:`stage_conversion` -- per stage, leads that entered, advanced, were lost, are still open;
- :func:`stay_days` -- how long each stay lasted (days; open stays up to the snapshot), the one duration
  every metric uses;
- :func:`time_in_stage` -- per stage, median and 90th percentile of the time in the stage (days), with stays
  still open treated as censored (Kaplan-Meier, :func:`kaplan_meier`);
- :func:`period_bounds` -- where a period of days starts and ends in a time zone (a Sydney manager's
  March), for the Odoo reports and the command line; :func:`cohort_rows` -- the stays a report over a
  period and some teams looks at (the leads that entered the pipeline in it, with their whole history);
- :func:`stays_from_changes` -- stays rebuilt from a chatter's stage changes (lead creation, then one stay
  per change), as the Odoo addons rebuild history and find stage entries;
- :func:`cumulative_funnel`, :func:`stage_skips`, :func:`cohort_conversion` -- how far leads get, stages
  jumped over, cohorts by the period they entered the pipeline;
- :func:`match_targets`, :func:`stuck_leads`, :func:`breakdown` -- stage targets (most specific first; the
  Odoo funnel report and stuck filter match with it too), open leads past their days-in-stage target,
  conversion and dwell per salesperson / team / product; :func:`selection_funnel` -- conversion and dwell
  credited to a selection of stays (some teams or salespersons), judged on the leads' whole history;
- :func:`rep_effectiveness` -- per salesperson, share of leads brought to a stage, with Wilson intervals
  (:func:`wilson_interval`);
- :func:`cost_per_lead` -- cost per lead and per qualified lead by source (or campaign...) and period;
- :func:`calibration` -- stated stage probabilities against the observed chance of winning, unbiased while
  many leads are still open, with a Brier score;
- :func:`phase_observations`, :func:`phase_win_rates`, :func:`phase_forecast_gain` -- the customer's
  decision phase as a forecast input: win rate by stage x phase, and whether adding the phase improves the
  Brier score over the stage alone on held-out months (:mod:`funnel_metrics.decision_phase`);
- :func:`month_end_snapshots`, :func:`probability_bands`, :func:`snapshot_stage_rates` -- calibration the
  way a manager checks it: month-end snapshots of the open opportunities' probabilities, per band of stated
  probability (and per stage), against how often they were won, with intervals and a Brier score;
- :func:`forecast` -- waterfall of the open pipeline: expected wins (and revenue) per period;
- :func:`early_warnings` -- the week's significant drops of conversion and time in stage per segment
  (team, salesperson, product, source, country) and stage, against the segment's own trailing baseline and
  its target, the false discovery rate controlled by :func:`benjamini_hochberg`;
- :func:`win_rate_by_count`, :func:`saturation`, :func:`activity_sequences`, :func:`touch_gaps`,
  :func:`rep_activity_shares` -- which activities win deals: win rate by the number of completed activities of
  each type before the decision (Wilson intervals), where more stops raising or starts lowering it, the
  frequent sequences and the time between touches in won and lost deals, per salesperson as shares;
  :func:`deals_from_transitions` -- the decided deals of a transitions table; :func:`load_activities`,
  :func:`save_activities`, :func:`validate_activities` -- the completed activities table;
  :func:`simulate_activities` -- activities with a known effect on winning, on a simulated pipeline;
- :func:`simulate_funnel` -- synthetic funnels with a known truth, snapshotted mid-flight;
  :mod:`funnel_metrics.demo_plan` -- the plan of the demo pipeline of the ``crm_pipeline_discipline`` addon
  (leads, stays, answers, activities, customer events), built on it;
- :func:`waterfall`, :func:`rejection_reasons`, :func:`sales_accepted_cost` -- the demand waterfall over the
  lifecycle phase stays and the handoffs between groups (:mod:`funnel_metrics.phase_stays`:
  :func:`load_phase_stays`, :func:`load_handoffs`...): leads entering each phase, conversion phase to phase
  (open leads are not failures), time per phase with open stays censored, acceptance rate of the handoffs,
  rejection reasons, cost per sales-accepted lead; :data:`DEFAULT_PHASES` -- the seeded phases;
  :func:`simulate_waterfall` -- a waterfall with handoffs and recycling of known truth, snapshotted
  mid-flight.

A pipeline snapshot is right-censored: open leads are not failures, and the slow ones (slow stays, slow
wins) are exactly those still open, so plain shares over closed leads are biased low. The metrics above
account for it.
"""

from funnel_metrics.conversion import stage_conversion
from funnel_metrics.dwell import kaplan_meier, stay_days, time_in_stage
from funnel_metrics.transitions import (
    OUTCOMES,
    TRANSITION_COLUMNS,
    TransitionsError,
    load_transitions,
    save_transitions,
    transitions_from_records,
    validate_transitions,
)
from funnel_metrics.stats import wilson_interval
from funnel_metrics.funnel import cohort_conversion, cumulative_funnel, stage_skips
from funnel_metrics.targets import breakdown, match_targets, selection_funnel, stuck_leads
from funnel_metrics.effectiveness import rep_effectiveness
from funnel_metrics.activity_wins import (
    ActivitiesError,
    activity_sequences,
    deals_from_transitions,
    load_activities,
    rep_activity_shares,
    save_activities,
    saturation,
    touch_gaps,
    validate_activities,
    win_rate_by_count,
)
from funnel_metrics.simulate_activities import simulate_activities
from funnel_metrics.cost import cost_per_lead
from funnel_metrics.forecast import forecast
from funnel_metrics.calibration import calibration
from funnel_metrics.simulate import simulate_funnel, simulate_waterfall
from funnel_metrics.early_warning import benjamini_hochberg, early_warnings
from funnel_metrics.probability_bands import (
    SNAPSHOT_COLUMNS,
    load_snapshots,
    month_end_snapshots,
    probability_bands,
    snapshot_stage_rates,
)
from funnel_metrics.chatter import stays_from_changes
from funnel_metrics.periods import cohort_rows, period_bounds
from funnel_metrics.decision_phase import (
    GAIN_VERDICTS,
    NO_PHASE,
    PhaseChangesError,
    load_phase_changes,
    phase_forecast_gain,
    phase_observations,
    phase_win_rates,
    simulate_phase_changes,
    validate_phase_changes,
)
from funnel_metrics.gates import (
    CRITERION_KINDS,
    Criterion,
    GateResult,
    criteria_problems,
    criterion_holds,
    problem_text,
    reached_stage,
    validate_criteria,
)
from funnel_metrics.phase_stays import (
    DEFAULT_PHASES,
    HANDOFF_COLUMNS,
    HANDOFF_STATES,
    PHASE_KINDS,
    PHASE_STAY_COLUMNS,
    PhaseStaysError,
    load_handoffs,
    load_phase_stays,
    save_handoffs,
    save_phase_stays,
    validate_handoffs,
    validate_phase_stays,
)
from funnel_metrics.waterfall import rejection_reasons, sales_accepted_cost, waterfall

__all__ = [
    "ActivitiesError",
    "activity_sequences",
    "deals_from_transitions",
    "load_activities",
    "rep_activity_shares",
    "save_activities",
    "saturation",
    "simulate_activities",
    "touch_gaps",
    "validate_activities",
    "win_rate_by_count",
    "CRITERION_KINDS",
    "GAIN_VERDICTS",
    "NO_PHASE",
    "PhaseChangesError",
    "load_phase_changes",
    "phase_forecast_gain",
    "phase_observations",
    "phase_win_rates",
    "simulate_phase_changes",
    "validate_phase_changes",
    "Criterion",
    "GateResult",
    "OUTCOMES",
    "TRANSITION_COLUMNS",
    "TransitionsError",
    "benjamini_hochberg",
    "breakdown",
    "calibration",
    "cohort_conversion",
    "cost_per_lead",
    "criteria_problems",
    "criterion_holds",
    "cumulative_funnel",
    "early_warnings",
    "forecast",
    "kaplan_meier",
    "load_transitions",
    "match_targets",
    "cohort_rows",
    "period_bounds",
    "problem_text",
    "reached_stage",
    "rep_effectiveness",
    "save_transitions",
    "selection_funnel",
    "simulate_funnel",
    "stage_conversion",
    "stage_skips",
    "stay_days",
    "stays_from_changes",
    "stuck_leads",
    "time_in_stage",
    "transitions_from_records",
    "validate_criteria",
    "validate_transitions",
    "wilson_interval",
    # month-end probability snapshots
    "SNAPSHOT_COLUMNS",
    "load_snapshots",
    "month_end_snapshots",
    "probability_bands",
    "snapshot_stage_rates",
    # demand waterfall: lifecycle phases and handoffs
    "DEFAULT_PHASES",
    "HANDOFF_COLUMNS",
    "HANDOFF_STATES",
    "PHASE_KINDS",
    "PHASE_STAY_COLUMNS",
    "PhaseStaysError",
    "load_handoffs",
    "load_phase_stays",
    "rejection_reasons",
    "sales_accepted_cost",
    "save_handoffs",
    "save_phase_stays",
    "validate_handoffs",
    "validate_phase_stays",
    "simulate_waterfall",
    "waterfall",
]
