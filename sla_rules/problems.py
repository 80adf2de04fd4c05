"""Why a rule cannot be used, as codes with parameters: :func:`sla_rules.rules.validate_rule` returns
:class:`~activity_centric.problems.Problem` values, the command line renders them in English with
:func:`problem_text`, and the Odoo addon ``crm_sla_rules`` maps each code to a translatable message.

Codes (:data:`PROBLEM_CODES`) and their parameters:

- ``name_missing``; ``threshold_not_positive``; ``warning_negative``; ``warning_not_before_breach``;
  ``calendar_missing`` (a business unit without a working calendar); ``whole_days`` (a fractional threshold or
  warning in business days); ``reassign_user_missing``; ``lost_reason_missing``;
- ``unknown_clock``, ``unknown_unit``, ``unknown_action``, ``unknown_lead_type``, ``unknown_reassign_mode``:
  ``value`` (the rule's) and ``choices`` (the accepted values, in order);
- ``round_robin_empty_teams``: ``team_ids``, the rule's teams without a member (sorted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from activity_centric.problems import Problem
from sla_rules._common import RuleError, label
from sla_rules.businesstime import NEED_CALENDAR, WHOLE_DAYS

_UNKNOWN = {
    "unknown_clock": "Unknown clock",
    "unknown_unit": "Unknown unit",
    "unknown_action": "Unknown action",
    "unknown_lead_type": "Unknown lead type",
    "unknown_reassign_mode": "Unknown way to reassign",
}
_TEXTS = {
    "name_missing": "A rule needs a name.",
    "threshold_not_positive": "The threshold must be greater than zero.",
    "warning_negative": "The warning lead time must be zero (no warning) or a positive number.",
    "warning_not_before_breach": (
        "A warning must come before the breach: make the warning lead time smaller than the threshold."
    ),
    "calendar_missing": NEED_CALENDAR,
    "whole_days": WHOLE_DAYS,
    "reassign_user_missing": "Reassigning to a named user needs that user.",
    "lost_reason_missing": "Marking as lost needs a lost reason.",
}
PROBLEM_CODES: tuple[str, ...] = (*_TEXTS, *_UNKNOWN, "round_robin_empty_teams")
"""Every code :func:`~sla_rules.rules.validate_rule` may return."""


def problem_text(problem: Problem, names: Mapping[Any, str] | None = None) -> str:
    """``problem`` as one English sentence saying what to do; ``names``: id -> display name of the teams
    (fallback: the id).

    Raises:
        KeyError: a code not in :data:`PROBLEM_CODES`.
    """
    params = problem.params
    if problem.code in _UNKNOWN:
        return f"{_UNKNOWN[problem.code]} {params['value']!r}: use one of {', '.join(params['choices'])}."
    if problem.code == "round_robin_empty_teams":
        teams = ", ".join(label(team, names, "team") for team in params["team_ids"])
        return f"Round robin needs members in every team of the rule: team(s) {teams} have none."
    return _TEXTS[problem.code]


def problems_error(problems: Sequence[Problem], where: str = "", names: Mapping[Any, str] | None = None):
    """A :class:`~sla_rules.RuleError` listing ``problems`` in English (``problems``: one sentence each), its
    message starting with ``where``."""
    texts = tuple(problem_text(problem, names) for problem in problems)
    return RuleError(where + " ".join(texts), texts)
