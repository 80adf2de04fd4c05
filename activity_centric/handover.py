"""What a change of hands does to a lead's open activities, and the date proposed for a next step.

- :func:`activities_to_hand_over`: when a lead gets a new salesperson, which of its open activities go to
  the new owner. Odoo leaves activities where they are; in a team with a follow-up policy (``warn`` or
  ``enforce``), and always when an SLA rule reassigns the lead, the previous owner's open activities on the
  lead go to the new owner: the next step follows the lead, and nobody keeps work on a lead he may no
  longer open.
- :func:`next_step_deadline`: the due date proposed for the activity that follows a completed one. Odoo
  counts a type's delay from the previous deadline (``delay_from = previous_activity``), which gives a date
  already past when the completed activity was late; in ``warn`` and ``enforce`` teams a date already past is
  never proposed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from activity_centric.policy import _check_policy


@dataclass(frozen=True)
class Reassignment:
    """One lead's change of salesperson.

    Attributes:
        previous_user: the salesperson before the change (None: the lead had none).
        new_user: the salesperson after the change (None: the lead has none now).
        policy: the follow-up policy of the lead's team after the change (``off``, ``warn``, ``enforce``).
        by_sla: the change is an SLA rule's own reassignment.
    """

    previous_user: int | None
    new_user: int | None
    policy: str
    by_sla: bool = False


@dataclass(frozen=True)
class OpenActivity:
    """An open activity: its id, the lead it is on, the user it is assigned to (None: nobody)."""

    activity_id: int
    lead_id: int
    user_id: int | None


def hands_over(change: Reassignment) -> bool:
    """True when the change hands the previous owner's open activities to the new owner: the lead really
    changes from one salesperson to another, and the team has a follow-up policy (``warn``/``enforce``) or
    the change is an SLA rule's reassignment.

    Raises:
        ValueError: unknown policy.
    """
    _check_policy(change.policy)
    changes_hands = (
        bool(change.previous_user) and bool(change.new_user) and change.previous_user != change.new_user
    )
    return changes_hands and (change.by_sla or change.policy != "off")


def activities_to_hand_over(
    changes: Mapping[int, Reassignment], activities: Iterable[OpenActivity]
) -> dict[int, int]:
    """Which open activities go to whom when leads change hands.

    Inputs: ``changes`` keyed by lead id; ``activities``: open activities of (some of) these leads; an
    activity on a lead without a change is ignored.

    Output: ``{activity id: new user id}`` for the activities assigned to the previous owner of a lead whose
    change :func:`hands_over`; activities of other users (a manager's, a colleague's) stay theirs.

    Raises:
        ValueError: unknown policy (naming the lead).
    """
    handing = {}
    for lead_id, change in changes.items():
        try:
            if hands_over(change):
                handing[lead_id] = change
        except ValueError as exc:
            raise ValueError(f"lead {lead_id!r}: {exc}") from exc
    return {
        activity.activity_id: handing[activity.lead_id].new_user
        for activity in activities
        if activity.lead_id in handing and activity.user_id == handing[activity.lead_id].previous_user
    }


def next_step_deadline(proposed: date, from_today: date, today: date, policy: str) -> date:
    """The due date to propose for a next step.

    Inputs: ``proposed``, the date the activity type gives (its delay counted from the previous deadline or
    from today, as the type says); ``from_today``, the type's delay counted from ``today``; ``policy``, the
    follow-up policy of the lead's team.

    Output: ``proposed``, unless the policy is ``warn`` or ``enforce`` and ``proposed`` is before ``today``:
    then ``from_today`` (a next step is never overdue at birth). ``off`` keeps Odoo's date.

    Raises:
        ValueError: unknown policy.
    """
    _check_policy(policy)
    if policy != "off" and proposed < today:
        return from_today
    return proposed
