"""Funnel metrics over a CRM pipeline's stage transitions (plain pandas/numpy, no Odoo needed).

The input is the transitions table (one row per stay of a lead in a stage, see
:mod:`funnel_metrics.transitions`); the metrics are functions of it:

- :func:`stage_conversion` -- per stage, leads that entered, advanced, were lost, are still open;
- :func:`time_in_stage` -- per stage, median and 90th percentile of the time in the stage (days), with stays
  still open treated as censored (Kaplan-Meier, :func:`kaplan_meier`).
"""

from funnel_metrics.conversion import stage_conversion
from funnel_metrics.dwell import kaplan_meier, time_in_stage
from funnel_metrics.transitions import (
    OUTCOMES,
    TRANSITION_COLUMNS,
    TransitionsError,
    load_transitions,
    save_transitions,
    transitions_from_records,
    validate_transitions,
)

__all__ = [
    "OUTCOMES",
    "TRANSITION_COLUMNS",
    "TransitionsError",
    "kaplan_meier",
    "load_transitions",
    "save_transitions",
    "stage_conversion",
    "time_in_stage",
    "transitions_from_records",
    "validate_transitions",
]
