"""A change of hands: which open activities go to the new owner; the date proposed for a next step."""

from __future__ import annotations

from datetime import date

import pytest

from activity_centric import (
    POLICIES,
    OpenActivity,
    Reassignment,
    activities_to_hand_over,
    hands_over,
    next_step_deadline,
)

ALICE, BOB, MANAGER = 1, 2, 3


@pytest.mark.parametrize(
    ("previous", "new", "policy", "by_sla", "expected"),
    [
        (ALICE, BOB, "off", False, False),  # Odoo's behaviour: activities stay
        (ALICE, BOB, "warn", False, True),
        (ALICE, BOB, "enforce", False, True),
        (ALICE, BOB, "off", True, True),  # the SLA rule's reassignment, whatever the team
        (ALICE, ALICE, "enforce", True, False),  # no change of hands
        (None, BOB, "enforce", True, False),  # nobody's activities to hand over
        (ALICE, None, "enforce", True, False),  # nobody to hand them to
    ],
)
def test_hands_over(previous, new, policy, by_sla, expected):
    assert hands_over(Reassignment(previous, new, policy, by_sla)) is expected


def test_only_the_previous_owners_activities_move():
    changes = {
        10: Reassignment(ALICE, BOB, "enforce"),
        11: Reassignment(ALICE, BOB, "off"),
        12: Reassignment(ALICE, BOB, "off", by_sla=True),
    }
    activities = [
        OpenActivity(100, 10, ALICE),
        OpenActivity(101, 10, MANAGER),  # the manager's own reminder stays his
        OpenActivity(102, 10, ALICE),
        OpenActivity(103, 11, ALICE),  # off team: stays
        OpenActivity(104, 12, ALICE),
        OpenActivity(105, 13, ALICE),  # a lead without a change
        OpenActivity(106, 12, None),
    ]
    assert activities_to_hand_over(changes, activities) == {100: BOB, 102: BOB, 104: BOB}


def test_unknown_policy_names_the_lead():
    with pytest.raises(ValueError, match="lead 7"):
        activities_to_hand_over({7: Reassignment(ALICE, BOB, "strict")}, [])


TODAY = date(2026, 3, 4)


@pytest.mark.parametrize("policy", POLICIES)
def test_a_date_not_past_is_kept(policy):
    assert next_step_deadline(date(2026, 3, 4), date(2026, 3, 9), TODAY, policy) == date(2026, 3, 4)
    assert next_step_deadline(date(2026, 3, 20), date(2026, 3, 9), TODAY, policy) == date(2026, 3, 20)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("off", date(2026, 2, 7)), ("warn", date(2026, 3, 9)), ("enforce", date(2026, 3, 9))],
)
def test_a_past_date_becomes_today_plus_the_delay(policy, expected):
    # the completed activity was due on 2 February, 30 days late; the type says 5 days after it
    assert next_step_deadline(date(2026, 2, 7), date(2026, 3, 9), TODAY, policy) == expected


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown follow-up policy"):
        next_step_deadline(TODAY, TODAY, TODAY, "strict")
