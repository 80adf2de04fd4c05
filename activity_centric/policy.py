"""Follow-up policy decisions: does a lead have a next step, and may an operation take its last one away?

A sales team's follow-up policy (``crm.team.followup_policy``) is one of :data:`POLICIES`:

- ``off`` -- nothing is checked and nothing is flagged (Odoo's own behaviour);
- ``warn`` -- leads without a next step are flagged, nothing is refused;
- ``enforce`` -- an operation that leaves an open lead with no open activity is refused.

A lead's follow-up state (``crm.lead.followup_state``) is one of :data:`STATES`: ``exempt`` when it needs no
next step (archived or lost, won, in a folded stage, or given a "no follow-up" reason), otherwise
``scheduled`` when it has at least one open activity and ``missing`` when it has none -- a lead is flagged
``missing`` only where its team asks for a next step (``warn`` or ``enforce``): in an ``off`` team (or without
a team) a lead without activity is ``exempt``.

Everything here is a pure function of plain values (:class:`LeadFacts`, policy names, counts): the Odoo addon
reads the facts with a few set-based queries and asks these functions, so the rules are the same on the
server, over RPC and offline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

POLICIES: tuple[str, ...] = ("off", "warn", "enforce")
"""Allowed follow-up policies of a sales team, from the most lenient to the strictest."""

SCHEDULED, MISSING, EXEMPT = "scheduled", "missing", "exempt"
STATES: tuple[str, ...] = (SCHEDULED, MISSING, EXEMPT)
"""Follow-up states of a lead."""

NO_NEXT_STEP = "no_next_step"
"""Reason code of a refused removal: the lead would be left without any open activity."""

DEFAULT_ACTIVITY = "default_activity"
"""Reason code of an allowed entry: the lead gets its team's default first activity as its next step."""


@dataclass(frozen=True)
class LeadFacts:
    """What the follow-up rules need to know about one lead.

    Attributes:
        active: False when the lead is archived or lost.
        won: the lead is in a won stage.
        folded: the lead is in a folded stage.
        has_reason: the lead has a "no follow-up" reason.
        open_activities: open (active, not done) activities on the lead, >= 0.
    """

    active: bool
    won: bool
    folded: bool
    has_reason: bool
    open_activities: int


@dataclass(frozen=True)
class Decision:
    """The answer of :func:`check_removal`.

    Attributes:
        allowed: the operation may proceed.
        reason: a machine code: None when allowed, :data:`NO_NEXT_STEP` (``"no_next_step"``) when refused.
        remaining: open activities the lead keeps after the operation.
    """

    allowed: bool
    reason: str | None = None
    remaining: int = 0


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown follow-up policy {policy!r}: use one of {', '.join(map(repr, POLICIES))}")


def _check_count(value: int, name: str) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0 (a number of activities), got {value!r}")


def is_exempt(lead: LeadFacts) -> bool:
    """True when the lead needs no next step: archived or lost, won, in a folded stage, or with a reason."""
    return (not lead.active) or lead.won or lead.folded or lead.has_reason


def followup_state(lead: LeadFacts, policy: str) -> str:
    """The lead's follow-up state under its team's ``policy`` (one of :data:`POLICIES`; ``off`` for a lead
    without a team): ``exempt`` (see :func:`is_exempt`), else ``scheduled`` when it has an open activity,
    else ``missing`` where the policy asks for a next step (``warn``, ``enforce``) and ``exempt`` where it
    does not (``off``: Odoo as usual, nothing is flagged).

    Raises:
        ValueError: unknown policy, or ``lead.open_activities`` is negative.
    """
    _check_policy(policy)
    _check_count(lead.open_activities, "open_activities")
    if is_exempt(lead):
        return EXEMPT
    if lead.open_activities > 0:
        return SCHEDULED
    return EXEMPT if policy == "off" else MISSING


def check_removal(lead: LeadFacts, policy: str, removed: int, added: int = 0) -> Decision:
    """May an operation remove ``removed`` open activities from the lead while ``added`` new ones appear?

    Inputs:

    - ``lead``: the lead's facts before the operation;
    - ``policy``: the follow-up policy of the lead's team, one of :data:`POLICIES`;
    - ``removed``: open activities the operation takes away (marked done, cancelled, deleted, moved to another
      record), >= 0;
    - ``added``: open activities the same operation creates on the lead (e.g. the next activity of an
      activity-type chain, scheduled when the current one is marked done), >= 0.

    Output: a :class:`Decision` with ``remaining = max(open_activities - removed, 0) + added``. The operation
    is refused (``allowed=False``, ``reason="no_next_step"``) only when the policy is ``enforce``, the lead is
    not exempt, ``removed > 0`` and ``remaining == 0``; otherwise it is allowed (``reason=None``). ``off`` and
    ``warn`` never refuse; an operation that removes nothing is never refused.

    Raises:
        ValueError: unknown policy (the message lists the allowed ones), or a negative count.
    """
    _check_policy(policy)
    _check_count(lead.open_activities, "open_activities")
    _check_count(removed, "removed")
    _check_count(added, "added")
    remaining = max(lead.open_activities - removed, 0) + added
    refused = policy == "enforce" and removed > 0 and remaining == 0 and not is_exempt(lead)
    if refused:
        return Decision(allowed=False, reason=NO_NEXT_STEP, remaining=remaining)
    return Decision(allowed=True, reason=None, remaining=remaining)


def check_entry(
    before: LeadFacts, before_policy: str, after: LeadFacts, after_policy: str, has_default_type: bool
) -> Decision:
    """May a change of the lead itself leave it open without a next step in a team that enforces one?

    Activities are not the only way a lead can end up open without a next step: it can be moved into an
    ``enforce`` team (a team change, a merge, a conversion), restored from lost or archived, taken out of a
    won or folded stage, or lose its no-follow-up reason. The invariant of an ``enforce`` team holds for
    every open lead however it got there.

    Inputs: the lead's facts and its team's policy before and after the change; ``has_default_type``: the
    team after the change has a default first activity.

    Output: a :class:`Decision` (``remaining`` = the open activities after the change):

    - refused (``reason="no_next_step"``) when, after the change, the policy is ``enforce`` and the lead's
      state is ``missing`` while it was not already so before (an ``enforce`` lead with a ``missing`` state
      that the change leaves missing is not refused: the change does not cause it), and the team has no
      default first activity;
    - allowed with ``reason="default_activity"`` in that same case when the team has a default first
      activity: the lead is given it as its next step;
    - allowed (``reason=None``) otherwise.

    Raises:
        ValueError: unknown policy, or a negative ``open_activities``.
    """
    _check_policy(before_policy)
    _check_policy(after_policy)
    _check_count(before.open_activities, "open_activities")
    _check_count(after.open_activities, "open_activities")
    already_missing = before_policy == "enforce" and followup_state(before, before_policy) == MISSING
    entering = (
        after_policy == "enforce" and followup_state(after, after_policy) == MISSING and not already_missing
    )
    if not entering:
        return Decision(allowed=True, reason=None, remaining=after.open_activities)
    if has_default_type:
        return Decision(allowed=True, reason=DEFAULT_ACTIVITY, remaining=after.open_activities)
    return Decision(allowed=False, reason=NO_NEXT_STEP, remaining=after.open_activities)


def needs_default_activity(lead: LeadFacts, policy: str, has_default_type: bool, interactive: bool) -> bool:
    """Should the team's default first activity be scheduled on this lead?

    True when the policy is ``warn`` or ``enforce``, the team has a default activity type, the lead was not
    created interactively (imports, web forms, e-mail gateway, API...) and its follow-up state is
    ``missing``.

    Raises:
        ValueError: unknown policy, or a negative ``open_activities``.
    """
    _check_policy(policy)
    return (
        policy in ("warn", "enforce")
        and bool(has_default_type)
        and not interactive
        and followup_state(lead, policy) == MISSING
    )


def refused_leads(
    leads: Mapping[int, LeadFacts],
    policies: Mapping[int, str],
    removed: Mapping[int, int],
    added: Mapping[int, int] | None = None,
) -> list[int]:
    """Batch form of :func:`check_removal`: the ids of the leads whose operation is refused.

    Inputs, all keyed by lead id:

    - ``leads``: the facts of every lead the operation touches (only these ids are checked);
    - ``policies``: the policy of each lead's team; a lead missing here is ``off``;
    - ``removed``: open activities removed from each lead; a lead missing here has 0 removed;
    - ``added``: open activities created on each lead by the same operation; missing (or None) = 0.

    Output: the refused lead ids, sorted ascending (empty when everything is allowed).

    Raises:
        ValueError: as :func:`check_removal` (naming the lead).
    """
    added = added or {}
    refused = []
    for lead_id, lead in leads.items():
        try:
            decision = check_removal(
                lead, policies.get(lead_id, "off"), removed.get(lead_id, 0), added.get(lead_id, 0)
            )
        except ValueError as exc:
            raise ValueError(f"lead {lead_id!r}: {exc}") from exc
        if not decision.allowed:
            refused.append(lead_id)
    return sorted(refused)
