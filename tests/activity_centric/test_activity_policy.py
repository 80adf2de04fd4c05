"""Follow-up policy decisions: every policy against every follow-up state, chaining, batches, errors."""

from __future__ import annotations

import itertools

import pytest

from activity_centric import (
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


def lead(open_activities: int = 0, *, active=True, won=False, folded=False, has_reason=False) -> LeadFacts:
    return LeadFacts(
        active=active, won=won, folded=folded, has_reason=has_reason, open_activities=open_activities
    )


# name -> (facts, expected state). Each exempt lead has exactly one exemption cause and no activity, so
# it would be "missing" without that cause.
LEADS = {
    "scheduled-one": (lead(1), SCHEDULED),
    "scheduled-three": (lead(3), SCHEDULED),
    "missing": (lead(0), MISSING),
    "archived": (lead(0, active=False), EXEMPT),
    "won": (lead(0, won=True), EXEMPT),
    "folded": (lead(0, folded=True), EXEMPT),
    "reason": (lead(0, has_reason=True), EXEMPT),
    "won-with-activity": (lead(2, won=True), EXEMPT),
}


def test_constants():
    assert POLICIES == ("off", "warn", "enforce")
    assert STATES == ("scheduled", "missing", "exempt")
    assert (SCHEDULED, MISSING, EXEMPT) == STATES


@pytest.mark.parametrize("policy", ["warn", "enforce"])
@pytest.mark.parametrize("name", list(LEADS))
def test_followup_state_and_exemption(name, policy):
    facts, expected = LEADS[name]
    assert followup_state(facts, policy) == expected
    assert is_exempt(facts) == (expected == EXEMPT)


@pytest.mark.parametrize("name", list(LEADS))
def test_off_team_flags_nothing(name):
    """Off is Odoo as usual: a lead without a next step is not missing one; the other states are facts."""
    facts, expected = LEADS[name]
    assert followup_state(facts, "off") == (EXEMPT if expected == MISSING else expected)


# (lead name, removed, added) -> remaining; refused only under enforce (checked below against the policy).
REMOVALS = [
    # lead, removed, added, remaining, refused_under_enforce
    ("scheduled-one", 1, 0, 0, True),  # the last activity done, nothing next: the case the policy is for
    ("scheduled-one", 1, 1, 1, False),  # activity-type chaining scheduled the next one
    ("scheduled-one", 1, 2, 2, False),
    ("scheduled-one", 0, 0, 1, False),  # nothing removed
    ("scheduled-one", 3, 0, 0, True),  # more removed than open: remaining floors at 0
    ("scheduled-three", 1, 0, 2, False),  # others stay open
    ("scheduled-three", 3, 0, 0, True),  # batch completion of all of them
    ("scheduled-three", 3, 1, 1, False),
    ("missing", 0, 0, 0, False),  # nothing to remove: never refused, even with nothing left
    ("missing", 0, 1, 1, False),
    ("missing", 1, 0, 0, True),  # stale count: still refuses to end with nothing
    ("archived", 1, 0, 0, False),
    ("won", 1, 0, 0, False),
    ("folded", 1, 0, 0, False),
    ("reason", 1, 0, 0, False),
    ("won-with-activity", 2, 0, 0, False),
]


@pytest.mark.parametrize(
    ("policy", "name", "removed", "added", "remaining", "refused_under_enforce"),
    [
        pytest.param(policy, *row, id=f"{policy}-{row[0]}-rm{row[1]}-add{row[2]}")
        for policy, row in itertools.product(POLICIES, REMOVALS)
    ],
)
def test_check_removal_every_policy_and_state(policy, name, removed, added, remaining, refused_under_enforce):
    facts, _ = LEADS[name]
    decision = check_removal(facts, policy, removed, added)
    refused = policy == "enforce" and refused_under_enforce
    assert decision == Decision(
        allowed=not refused, reason="no_next_step" if refused else None, remaining=remaining
    )


def test_added_defaults_to_zero():
    assert check_removal(lead(1), "enforce", 1) == Decision(False, "no_next_step", 0)
    assert check_removal(lead(1), "warn", 1) == Decision(True, None, 0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: check_removal(lead(1), "strict", 1), "'off', 'warn', 'enforce'", id="policy"),
        pytest.param(lambda: check_removal(lead(1), "Enforce", 1), "unknown follow-up policy", id="case"),
        pytest.param(lambda: check_removal(lead(1), "enforce", -1), "removed", id="removed"),
        pytest.param(lambda: check_removal(lead(1), "enforce", 1, -1), "added", id="added"),
        pytest.param(lambda: check_removal(lead(-1), "off", 0), "open_activities", id="open"),
        pytest.param(lambda: followup_state(lead(-2), "warn"), "open_activities", id="state-open"),
        pytest.param(
            lambda: followup_state(lead(0), "strict"), "unknown follow-up policy", id="state-policy"
        ),
        pytest.param(lambda: needs_default_activity(lead(0), "always", True, False), "policy", id="default"),
    ],
)
def test_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    ("policy", "name", "has_default_type", "interactive", "expected"),
    [
        ("warn", "missing", True, False, True),
        ("enforce", "missing", True, False, True),
        ("off", "missing", True, False, False),  # policy off: Odoo's own behaviour
        ("enforce", "missing", False, False, False),  # no default type configured
        ("enforce", "missing", True, True, False),  # created by a person in the UI: they plan it themselves
        ("enforce", "scheduled-one", True, False, False),  # already has a next step
        ("enforce", "won", True, False, False),
        ("enforce", "reason", True, False, False),
        ("warn", "archived", True, False, False),
    ],
)
def test_needs_default_activity(policy, name, has_default_type, interactive, expected):
    facts, _ = LEADS[name]
    assert needs_default_activity(facts, policy, has_default_type, interactive) is expected


def test_refused_leads_batch():
    leads = {
        30: lead(1),  # enforce, last one removed -> refused
        10: lead(1),  # enforce, last one removed -> refused
        20: lead(1),  # enforce, chaining adds one -> allowed
        40: lead(2),  # enforce, one of two removed -> allowed
        50: lead(1),  # warn -> allowed
        60: lead(1),  # no policy given -> off -> allowed
        70: lead(1, won=True),  # exempt -> allowed
        80: lead(1),  # enforce, nothing removed (missing in `removed`) -> allowed
    }
    policies = {
        10: "enforce",
        20: "enforce",
        30: "enforce",
        40: "enforce",
        50: "warn",
        70: "enforce",
        80: "enforce",
    }
    removed = {10: 1, 20: 1, 30: 1, 40: 1, 50: 1, 60: 1, 70: 1}
    assert refused_leads(leads, policies, removed, {20: 1}) == [10, 30]
    assert refused_leads(leads, policies, removed) == [10, 20, 30]
    assert refused_leads({}, {}, {}) == []


def test_refused_leads_agrees_with_check_removal():
    cases = list(itertools.product(POLICIES, LEADS, [0, 1, 2], [0, 1]))
    leads = {i: LEADS[name][0] for i, (_, name, _, _) in enumerate(cases)}
    policies = {i: case[0] for i, case in enumerate(cases)}
    removed = {i: case[2] for i, case in enumerate(cases)}
    added = {i: case[3] for i, case in enumerate(cases)}
    expected = [i for i in leads if not check_removal(leads[i], policies[i], removed[i], added[i]).allowed]
    assert refused_leads(leads, policies, removed, added) == expected
    assert expected  # the table does contain refusals


def test_refused_leads_error_names_the_lead():
    with pytest.raises(ValueError, match="lead 7: unknown follow-up policy"):
        refused_leads({7: lead(1)}, {7: "nope"}, {7: 1})


def test_facts_and_decisions_are_frozen_values():
    facts = lead(1)
    with pytest.raises(AttributeError):
        facts.open_activities = 0  # type: ignore[misc]
    assert facts == lead(1) and hash(facts) == hash(lead(1))
    assert Decision(True) == Decision(allowed=True, reason=None, remaining=0)


# ---- changes of the lead itself: entering or returning to an enforce team ------------------------------

ENTRIES = {
    # name -> (before, before policy, after, after policy, expected decision without a default type)
    "hop back into enforce with no activity": (lead(0), "off", lead(0), "enforce", NO_NEXT_STEP),
    "restored from lost": (lead(0, active=False), "enforce", lead(0), "enforce", NO_NEXT_STEP),
    "out of the won stage": (lead(0, won=True), "enforce", lead(0), "enforce", NO_NEXT_STEP),
    "out of a folded stage": (lead(0, folded=True), "enforce", lead(0), "enforce", NO_NEXT_STEP),
    "reason removed": (lead(0, has_reason=True), "enforce", lead(0), "enforce", NO_NEXT_STEP),
    "from a warn team, missing there": (lead(0), "warn", lead(0), "enforce", NO_NEXT_STEP),
    "enters with an activity": (lead(0), "off", lead(1), "enforce", None),
    "enters with a reason": (lead(0), "off", lead(0, has_reason=True), "enforce", None),
    "enters lost": (lead(0, active=False), "off", lead(0, active=False), "enforce", None),
    "already missing there (legacy)": (lead(0), "enforce", lead(0), "enforce", None),
    "leaves enforce": (lead(0), "enforce", lead(0), "off", None),
    "into a warn team": (lead(0), "off", lead(0), "warn", None),
    "restored in an off team": (lead(0, active=False), "off", lead(0), "off", None),
    "stays scheduled": (lead(2), "enforce", lead(2), "enforce", None),
}


@pytest.mark.parametrize("name", ENTRIES)
def test_check_entry(name):
    before, before_policy, after, after_policy, expected = ENTRIES[name]
    refused = check_entry(before, before_policy, after, after_policy, has_default_type=False)
    assert refused.allowed is (expected is None)
    assert refused.reason == expected
    assert refused.remaining == after.open_activities
    given = check_entry(before, before_policy, after, after_policy, has_default_type=True)
    assert given.allowed
    assert given.reason == (DEFAULT_ACTIVITY if expected else None), (
        "a default first activity is the next step"
    )


def test_check_entry_every_policy_pair_agrees_with_the_states():
    """Refused exactly when the lead is missing in an enforce team afterwards and was not before."""
    facts = [fact for fact, _state in LEADS.values()]
    for before, after, p_before, p_after in itertools.product(facts, facts, POLICIES, POLICIES):
        decision = check_entry(before, p_before, after, p_after, has_default_type=False)
        missing_after = p_after == "enforce" and followup_state(after, p_after) == MISSING
        missing_before = p_before == "enforce" and followup_state(before, p_before) == MISSING
        assert decision.allowed is not (missing_after and not missing_before)


def test_check_entry_rejects_unknown_policies():
    with pytest.raises(ValueError, match="unknown follow-up policy 'strict'"):
        check_entry(lead(0), "off", lead(0), "strict", has_default_type=False)
    with pytest.raises(ValueError, match="open_activities must be >= 0"):
        check_entry(lead(-1), "off", lead(0), "enforce", has_default_type=False)
