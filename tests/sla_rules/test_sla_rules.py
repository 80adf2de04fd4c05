"""Rule semantics: validation problems, scope, clocks, cutoffs/status, action planning."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from sla_calendars import BRUSSELS, UTC, at

from sla_rules import (
    ACTIONS,
    CLOCK_COLUMNS,
    CLOCK_REQUIRES,
    CLOCK_RESTARTS,
    CLOCKS,
    LEAD_TYPES,
    REASSIGN_MODES,
    Cutoffs,
    LeadSnapshot,
    Member,
    PlannedAction,
    Problem,
    Rule,
    RuleError,
    TeamInfo,
    clock_start,
    clock_starts,
    cutoffs,
    in_scope,
    plan_actions,
    problem_text,
    scope_conditions,
    status,
    validate_rule,
)
from sla_rules.problems import problems_error

NOW = dt.datetime(2026, 11, 23, 9, 0)


def rule(**changes) -> Rule:
    base = Rule(
        id=1, name="Untouched", clock="assignment", threshold=4, unit="business_days", action="reassign"
    )
    return dataclasses.replace(base, **changes)


def lead(**changes) -> LeadSnapshot:
    base = LeadSnapshot(
        id=10,
        type="opportunity",
        team_id="Europe",
        user_id="bob",
        stage_id="New",
        company_id=1,
        create_date=dt.datetime(2026, 11, 2, 9),
        date_last_stage_update=dt.datetime(2026, 11, 3, 9),
        date_open=dt.datetime(2026, 11, 4, 9),
        sla_last_action_date=dt.datetime(2026, 11, 5, 9),
    )
    return dataclasses.replace(base, **changes)


def test_constants():
    assert CLOCKS == ("stage_entry", "create", "assignment", "last_action", "handed_over")
    assert ACTIONS == (
        "reassign",
        "return_to_marketing",
        "mark_lost",
        "pull_back",
        "escalate",
        "archive",
        "return_to_sender",
    )
    assert REASSIGN_MODES == ("round_robin", "team_leader", "user")
    assert LEAD_TYPES == ("lead", "opportunity", "both")
    assert CLOCK_COLUMNS == {
        "stage_entry": "date_last_stage_update",
        "create": "create_date",
        "assignment": "date_open",
        "last_action": "sla_last_action_date",
        "handed_over": "handoff_sent_date",
    }
    assert CLOCK_RESTARTS == {
        "stage_entry": ("sla_team_since",),
        "create": (),
        "assignment": ("sla_owner_since",),
        "last_action": ("sla_owner_since",),
        "handed_over": (),
    }
    assert CLOCK_REQUIRES["handed_over"] == ()


def test_rule_id_sets_become_frozensets():
    built = rule(team_ids=[1, 2, 2], stage_ids=("New",), company_ids={3}, tag_ids=None)
    assert built.team_ids == frozenset({1, 2})
    assert built.stage_ids == frozenset({"New"})
    assert built.company_ids == frozenset({3})
    assert built.tag_ids == frozenset()
    assert rule(team_ids="Europe").team_ids == frozenset({"Europe"})
    assert hash(built) == hash(rule(team_ids=(2, 1), stage_ids=["New"], company_ids=[3]))


# ---------------------------------------------------------------------------------------------------------
# validate_rule
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "kwargs", "code", "message"),
    [
        ({"threshold": 0}, {}, "threshold_not_positive", "The threshold must be greater than zero."),
        (
            {"threshold": -3, "unit": "hours"},
            {},
            "threshold_not_positive",
            "The threshold must be greater than zero.",
        ),
        ({"threshold": "4"}, {}, "threshold_not_positive", "The threshold must be greater than zero."),
        (
            {},
            {"has_calendar": False},
            "calendar_missing",
            "Business days and business hours need a working calendar: choose one on the rule or give the "
            "company a working schedule.",
        ),
        (
            {"unit": "business_hours"},
            {"has_calendar": False},
            "calendar_missing",
            "Business days and business hours need a working calendar",
        ),
        (
            {"warning_before": 4},
            {},
            "warning_not_before_breach",
            "A warning must come before the breach: make the warning lead time smaller than the threshold.",
        ),
        ({"warning_before": -1}, {}, "warning_negative", "The warning lead time must be zero"),
        (
            {"threshold": 2.5},
            {},
            "whole_days",
            "Business days are counted in whole days: use a whole number.",
        ),
        # the warning too: its cutoff is counted in whole business days, like the threshold's
        (
            {"warning_before": 1.5},
            {},
            "whole_days",
            "Business days are counted in whole days: use a whole number.",
        ),
        (
            {"reassign_mode": "user"},
            {},
            "reassign_user_missing",
            "Reassigning to a named user needs that user.",
        ),
        (
            {"team_ids": ["Europe", "Asia"]},
            {"team_sizes": {"Europe": 0}},
            "round_robin_empty_teams",
            "Round robin needs members in every team of the rule: team(s) Asia, Europe have none.",
        ),
        # one empty team is enough: its breached leads could not be reassigned
        (
            {"team_ids": ["Europe", "Asia"]},
            {"team_sizes": {"Europe": 3}},
            "round_robin_empty_teams",
            "Round robin needs members in every team of the rule: team(s) Asia have none.",
        ),
        ({"reassign_mode": "lottery"}, {}, "unknown_reassign_mode", "Unknown way to reassign 'lottery'"),
        ({"action": "mark_lost"}, {}, "lost_reason_missing", "Marking as lost needs a lost reason."),
        (
            {"clock": "birthday"},
            {},
            "unknown_clock",
            "Unknown clock 'birthday': use one of stage_entry, create",
        ),
        ({"unit": "weeks"}, {}, "unknown_unit", "Unknown unit 'weeks': use one of business_days"),
        ({"action": "delete"}, {}, "unknown_action", "Unknown action 'delete'"),
        ({"lead_type": "deal"}, {}, "unknown_lead_type", "Unknown lead type 'deal'"),
        ({"name": " "}, {}, "name_missing", "A rule needs a name."),
    ],
)
def test_validate_rule_problems(changes, kwargs, code, message):
    problems = validate_rule(rule(**changes), **kwargs)
    assert [problem.code for problem in problems] == [code]
    assert message in problem_text(problems[0])
    assert all(isinstance(problem, Problem) for problem in problems)


def test_problem_text_names_the_teams():
    problems = validate_rule(rule(team_ids=[7, 8]), team_sizes={7: 2})
    assert problems == (Problem("round_robin_empty_teams", {"team_ids": (8,)}),)
    assert problem_text(problems[0], {("team", 8): "Asia"}) == (
        "Round robin needs members in every team of the rule: team(s) Asia have none."
    )


@pytest.mark.parametrize(
    ("changes", "kwargs"),
    [
        ({}, {}),
        ({"warning_before": 1}, {}),
        ({"unit": "hours", "threshold": 2.5}, {"has_calendar": False}),
        ({"unit": "business_hours", "threshold": 2.5, "warning_before": 0.5}, {}),
        ({"unit": "days", "threshold": 30, "warning_before": 5}, {"has_calendar": False}),
        ({"team_ids": ["Europe", "Asia"]}, {"team_sizes": {"Europe": 3, "Asia": 1}}),
        ({}, {"team_sizes": {}}),  # round robin without a team: any team of the lead
        ({"reassign_mode": "user", "user_id": "bob"}, {}),
        ({"reassign_mode": "team_leader", "team_ids": ["Asia"]}, {"team_sizes": {"Asia": 0}}),
        ({"action": "mark_lost", "lost_reason_id": 3}, {}),
        ({"action": "return_to_marketing"}, {}),
        ({"action": "pull_back", "clock": "last_action"}, {}),
        ({"action": "escalate", "lead_type": "lead"}, {}),
        ({"action": "archive", "clock": "create"}, {}),
    ],
)
def test_valid_rules(changes, kwargs):
    assert validate_rule(rule(**changes), **kwargs) == ()


def test_validate_rule_lists_every_problem():
    bad = rule(threshold=0, unit="business_hours", action="mark_lost", clock="never")
    problems = validate_rule(bad, has_calendar=False)
    assert [problem.code for problem in problems] == [
        "unknown_clock",
        "threshold_not_positive",
        "calendar_missing",
        "lost_reason_missing",
    ]
    error = problems_error(problems, "rule 1: ")
    assert isinstance(error, RuleError) and isinstance(error, ValueError)
    assert error.problems == tuple(problem_text(problem) for problem in problems)
    assert str(error) == "rule 1: " + " ".join(error.problems)


# ---------------------------------------------------------------------------------------------------------
# scope and clocks
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule_changes", "lead_changes", "expected"),
    [
        ({}, {}, True),
        ({}, {"active": False}, False),
        ({}, {"won": True}, False),
        ({"lead_type": "opportunity"}, {}, True),
        ({"lead_type": "lead"}, {}, False),
        ({"lead_type": "lead"}, {"type": "lead"}, True),
        ({"team_ids": {"Europe", "Asia"}}, {}, True),
        ({"team_ids": {"Asia"}}, {}, False),
        ({"team_ids": {"Asia"}}, {"team_id": None}, False),
        ({"stage_ids": {"New"}}, {}, True),
        ({"stage_ids": {"Won"}}, {}, False),
        ({"company_ids": {1}}, {}, True),
        ({"company_ids": {2}}, {}, False),
        ({"company_ids": {2}, "team_ids": {"Europe"}}, {"company_id": 2}, True),
    ],
)
def test_in_scope(rule_changes, lead_changes, expected):
    assert in_scope(rule(**rule_changes), lead(**lead_changes)) is expected


def test_scope_conditions():
    assert scope_conditions(rule(lead_type="both")) == (("active", "=", True), ("won", "=", False))
    assert scope_conditions(rule(lead_type="lead", team_ids=[1, 2], company_ids=[3])) == (
        ("active", "=", True),
        ("won", "=", False),
        ("type", "=", "lead"),
        ("team_id", "in", frozenset({1, 2})),
        ("company_id", "in", frozenset({3})),
    )


@pytest.mark.parametrize(
    ("clock", "lead_changes", "expected"),
    [
        ("stage_entry", {}, dt.datetime(2026, 11, 3, 9)),
        ("create", {}, dt.datetime(2026, 11, 2, 9)),
        ("assignment", {}, dt.datetime(2026, 11, 4, 9)),
        ("last_action", {}, dt.datetime(2026, 11, 5, 9)),
        ("assignment", {"user_id": None}, None),
        ("assignment", {"user_id": False}, None),
        ("last_action", {"sla_last_action_date": None}, None),
    ],
)
def test_clock_start(clock, lead_changes, expected):
    assert clock_start(clock, lead(**lead_changes)) == expected
    assert clock_start(rule(clock=clock), lead(**lead_changes)) == expected


def test_clock_start_unknown_clock():
    with pytest.raises(RuleError, match="Unknown clock"):
        clock_start("sunrise", lead())


HANDED_OVER = dt.datetime(2026, 11, 16, 9)  # after every clock column of lead()
ALL_CLOCKS = {
    "stage_entry": dt.datetime(2026, 11, 3, 9),
    "create": dt.datetime(2026, 11, 2, 9),
    "assignment": dt.datetime(2026, 11, 4, 9),
    "last_action": dt.datetime(2026, 11, 5, 9),
    "handed_over": None,  # no handoff awaits
}
CHANGES_OF_HANDS = [
    # a new salesperson in the same team: a fresh clock for the new owner; the deal is as stuck as it was
    (
        "new salesperson",
        {"sla_owner_since": HANDED_OVER},
        {**ALL_CLOCKS, "assignment": HANDED_OVER, "last_action": HANDED_OVER},
    ),
    # a new team (pulled back from a partner, returned to marketing): its pipeline starts afresh too
    (
        "new team",
        {"sla_owner_since": HANDED_OVER, "sla_team_since": HANDED_OVER},
        {**ALL_CLOCKS, "stage_entry": HANDED_OVER, "assignment": HANDED_OVER, "last_action": HANDED_OVER},
    ),
    # a change of hands before the clock's own event does not move it back
    (
        "handed over before",
        {"sla_owner_since": dt.datetime(2026, 11, 1, 9), "sla_team_since": dt.datetime(2026, 11, 1, 9)},
        ALL_CLOCKS,
    ),
    ("no change known", {}, ALL_CLOCKS),
    # no clock without its own event, nor an assignment clock without a salesperson
    (
        "own column empty",
        {"sla_last_action_date": None, "sla_owner_since": HANDED_OVER},
        {**ALL_CLOCKS, "assignment": HANDED_OVER, "last_action": None},
    ),
    (
        "unassigned",
        {"user_id": None, "sla_owner_since": HANDED_OVER},
        {**ALL_CLOCKS, "assignment": None, "last_action": HANDED_OVER},
    ),
    # naive UTC and aware values compare as instants: 10:00 in Brussels is 09:00 UTC
    (
        "aware",
        {"sla_owner_since": dt.datetime(2026, 11, 16, 10, tzinfo=dt.timezone(dt.timedelta(hours=1)))},
        {
            **ALL_CLOCKS,
            "assignment": dt.datetime(2026, 11, 16, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "last_action": dt.datetime(2026, 11, 16, 10, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        },
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [(changes, expected) for _name, changes, expected in CHANGES_OF_HANDS],
    ids=[name for name, _changes, _expected in CHANGES_OF_HANDS],
)
def test_a_change_of_hands_restarts_the_clocks(changes, expected):
    assert {clock: clock_start(clock, lead(**changes)) for clock in CLOCKS} == expected


def test_clock_starts_is_clock_start_on_a_table():
    # one column holds naive or aware values, not both: the aware case is the scalar test's
    cases = [changes for name, changes, _expected in CHANGES_OF_HANDS if name != "aware"]
    snapshots = [lead(id=index, **changes) for index, changes in enumerate(cases)]
    table = pd.DataFrame([dataclasses.asdict(snapshot) for snapshot in snapshots])
    for clock in CLOCKS:
        starts = clock_starts(rule(clock=clock), table)
        assert str(starts.dtype) == "datetime64[ns, UTC]"
        expected = [clock_start(clock, snapshot) for snapshot in snapshots]
        assert [None if pd.isna(value) else value for value in starts] == [
            None if value is None else pd.Timestamp(value, tz="UTC") for value in expected
        ]
    # a table without the restart columns: the clocks run from their own columns
    without = table.drop(columns=["sla_owner_since", "sla_team_since"])
    last_action = pd.Timestamp(ALL_CLOCKS["last_action"], tz="UTC")
    assert clock_starts("last_action", without).tolist() == [last_action] * 4 + [pd.NaT, last_action]
    with pytest.raises(RuleError, match="no column sla_last_action_date"):
        clock_starts("last_action", table.drop(columns=["sla_last_action_date"]))


# ---------------------------------------------------------------------------------------------------------
# cutoffs and status
# ---------------------------------------------------------------------------------------------------------


def test_cutoffs():
    now = at("2026-11-23T10:00+01:00")
    with_warning = rule(warning_before=1)
    assert cutoffs(with_warning, now, BRUSSELS) == Cutoffs(
        act=at("2026-11-17T10:00+01:00"), warn=at("2026-11-18T10:00+01:00")
    )
    assert cutoffs(rule(), now, BRUSSELS) == Cutoffs(act=at("2026-11-17T10:00+01:00"), warn=None)
    hours = rule(unit="business_hours", threshold=16, warning_before=4)
    assert cutoffs(hours, now, BRUSSELS) == Cutoffs(
        at("2026-11-19T10:00+01:00"), at("2026-11-19T15:00+01:00")
    )
    aware = cutoffs(rule(unit="hours", threshold=2), now.replace(tzinfo=UTC), None)
    assert aware.act == dt.datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-11-17T09:59+01:00", "breach"),
        ("2026-11-17T10:00+01:00", "breach"),
        ("2026-11-17T10:01+01:00", "warn"),
        ("2026-11-18T10:00+01:00", "warn"),
        ("2026-11-18T10:00:01+01:00", "ok"),
        ("2026-11-23T09:00+01:00", "ok"),
    ],
)
def test_status(start, expected):
    now = at("2026-11-23T10:00+01:00")
    assert status(rule(warning_before=1), at(start), now, BRUSSELS) == expected
    no_warning = "ok" if expected == "warn" else expected
    assert status(rule(), at(start), now, BRUSSELS) == no_warning


def test_status_without_a_start():
    assert status(rule(), None, NOW, BRUSSELS) == "ok"


def test_status_mixes_aware_and_naive():
    start = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert status(rule(), start, at("2026-11-23T10:00+01:00"), BRUSSELS) == "breach"


# ---------------------------------------------------------------------------------------------------------
# plan_actions
# ---------------------------------------------------------------------------------------------------------

EUROPE = TeamInfo(
    "Europe",
    leader_id="alice",
    members=(
        Member("bob"),
        Member("carol"),
        Member("dave", absent=True),
        Member("erin", capacity_left=0),
        Member("frank", capacity_left=1),
    ),
)
EMPTY = TeamInfo("Empty", leader_id=None, members=())
TEAMS = {"Europe": EUROPE, "Empty": EMPTY}
NAMES = {"bob": "Bob", "carol": "Carol", "alice": "Alice", "frank": "Frank", "Europe": "Europe"}


def leads_owned_by(*owners, team="Europe") -> list[LeadSnapshot]:
    return [lead(id=100 + i, user_id=owner, team_id=team) for i, owner in enumerate(owners)]


def test_round_robin_rotates_skipping_owner_absent_and_full():
    leads = leads_owned_by("bob", "carol", "carol", "bob", None)
    planned, rotation = plan_actions(rule(), leads, TEAMS, names=NAMES)
    assert [p.changes for p in planned] == [
        {"user_id": "carol"},  # after nobody: bob owns it -> carol
        {"user_id": "frank"},  # after carol: dave absent, erin full -> frank (now full)
        {"user_id": "bob"},  # after frank: bob
        {"user_id": "carol"},  # after bob: carol
        {"user_id": "bob"},  # after carol: dave, erin, frank all out -> bob
    ]
    assert rotation == {"Europe": "bob"}
    assert planned[0] == PlannedAction(
        100,
        "reassign",
        {"user_id": "carol"},
        None,
        "Reassigned from Bob to Carol (round robin in Europe).",
        None,
    )
    assert planned[4].description == "Assigned to Bob (round robin in Europe)."
    assert all(p.action == "reassign" and p.error is None for p in planned)


def test_round_robin_continues_the_rotation():
    planned, rotation = plan_actions(rule(), leads_owned_by(None), TEAMS, rotation={"Europe": "carol"})
    assert planned[0].changes == {"user_id": "frank"}
    assert rotation == {"Europe": "frank"}
    again, rotation = plan_actions(rule(), leads_owned_by(None), TEAMS, rotation={"Europe": "frank"})
    assert again[0].changes == {"user_id": "bob"}
    unknown, _ = plan_actions(rule(), leads_owned_by(None), TEAMS, rotation={"Europe": "zed"})
    assert unknown[0].changes == {"user_id": "bob"}


def test_round_robin_keeps_other_teams_rotation_and_input():
    given = {"Asia": "yuki"}
    _, rotation = plan_actions(rule(), leads_owned_by("bob"), TEAMS, rotation=given)
    assert rotation == {"Asia": "yuki", "Europe": "carol"}
    assert given == {"Asia": "yuki"}


def test_round_robin_nobody_eligible():
    team = TeamInfo(
        "Solo", "alice", (Member("bob"), Member("carol", absent=True), Member("dan", capacity_left=0))
    )
    planned, rotation = plan_actions(rule(), leads_owned_by("bob", team="Solo"), {"Solo": team})
    assert (
        planned[0].error
        == "No member of Solo can take it: bob owns it, carol is absent, dan has no capacity left."
    )
    assert planned[0].changes == {}
    assert rotation == {}


@pytest.mark.parametrize(
    ("team", "teams", "message"),
    [
        ("Empty", TEAMS, "No member of Empty can take it: the team has no members."),
        ("Asia", TEAMS, "No member of Asia can take it: the team is not known."),
        (None, TEAMS, "No member of its team can take it: the lead has no sales team."),
    ],
)
def test_round_robin_errors(team, teams, message):
    planned, _ = plan_actions(rule(), leads_owned_by("bob", team=team), teams)
    assert planned[0].error == message
    assert planned[0].description == ""


def test_round_robin_capacity_is_used_up_within_a_call():
    team = TeamInfo("T", None, (Member("a", capacity_left=1), Member("b", capacity_left=2)))
    planned, _ = plan_actions(rule(), leads_owned_by(None, None, None, None, team="T"), {"T": team})
    assert [p.changes.get("user_id") for p in planned] == ["a", "b", "b", None]
    assert planned[3].error == "No member of T can take it: a has no capacity left, b has no capacity left."


def test_team_leader_and_user():
    leader = rule(reassign_mode="team_leader")
    planned, rotation = plan_actions(leader, leads_owned_by("bob", "alice", None), TEAMS, names=NAMES)
    assert planned[0].changes == {"user_id": "alice"}
    assert planned[0].description == "Reassigned from Bob to Alice (team leader of Europe)."
    assert planned[1].error == "The team leader Alice already owns it."
    assert planned[2].description == "Assigned to Alice (team leader of Europe)."
    assert rotation == {}
    no_leader, _ = plan_actions(leader, leads_owned_by("bob", team="Empty"), TEAMS)
    assert no_leader[0].error == "Empty has no team leader to take it."
    orphan, _ = plan_actions(leader, leads_owned_by("bob", team=None), TEAMS)
    assert orphan[0].error == "The lead has no sales team, so no team leader to take it."
    to_bob = rule(reassign_mode="user", user_id="bob")
    planned, _ = plan_actions(to_bob, leads_owned_by("carol", "bob"), TEAMS, names=NAMES)
    assert planned[0] == PlannedAction(
        100, "reassign", {"user_id": "bob"}, description="Reassigned from Carol to Bob."
    )
    assert planned[1].error == "Bob already owns it."
    nobody, _ = plan_actions(rule(reassign_mode="user"), leads_owned_by("carol"), TEAMS)
    assert nobody[0].error == "Reassigning to a named user needs that user."


def test_return_to_marketing():
    back = rule(action="return_to_marketing", target_team_id="Marketing", tag_ids={"stale", "cold"})
    planned, rotation = plan_actions(back, leads_owned_by("bob"), TEAMS)
    assert planned[0].changes == {
        "type": "lead",
        "user_id": None,
        "team_id": "Marketing",
        "tag_ids_add": ("cold", "stale"),
    }
    assert planned[0].description == (
        "Returned to marketing (Marketing): back to a lead without a salesperson, tagged cold, stale."
    )
    assert rotation == {}
    bare, _ = plan_actions(rule(action="return_to_marketing"), leads_owned_by("bob"), TEAMS)
    assert bare[0].changes == {"type": "lead", "user_id": None, "team_id": None, "tag_ids_add": ()}


def test_mark_lost_and_archive():
    lost = rule(action="mark_lost", lost_reason_id=7)
    planned, _ = plan_actions(lost, leads_owned_by("bob"), TEAMS, names={7: "No answer"})
    assert planned[0] == PlannedAction(
        100, "mark_lost", {"active": False, "lost_reason_id": 7}, description="Marked as lost (No answer)."
    )
    no_reason, _ = plan_actions(rule(action="mark_lost"), leads_owned_by("bob"), TEAMS)
    assert no_reason[0].error == "Marking as lost needs a lost reason."
    archived, _ = plan_actions(rule(action="archive"), leads_owned_by("bob", None), TEAMS)
    assert [p.changes for p in archived] == [{"active": False}, {"active": False}]
    assert archived[0].description == "Archived."


@pytest.mark.parametrize(
    ("target", "lead_changes", "changes", "description"),
    [
        (
            "Europe",
            {"user_id": "bob"},
            {"team_id": "Europe", "user_id": None},
            "Pulled back from Bob to Europe.",
        ),
        (None, {"user_id": "bob"}, {"user_id": None}, "Pulled back from Bob."),
        (
            "Europe",
            {"user_id": "bob", "has_partner_assigned": True, "partner_assigned_id": 55},
            {"team_id": "Europe", "user_id": None, "partner_assigned_id": None},
            "Pulled back from Bob and partner Acme to Europe.",
        ),
        (
            None,
            {"user_id": None, "has_partner_assigned": True, "partner_assigned_id": 55},
            {"user_id": None, "partner_assigned_id": None},
            "Pulled back from partner Acme.",
        ),
        (
            None,
            {"user_id": "bob", "has_partner_assigned": True, "partner_assigned_id": None},
            {"user_id": None},
            "Pulled back from Bob.",
        ),
    ],
)
def test_pull_back(target, lead_changes, changes, description):
    pull = rule(action="pull_back", target_team_id=target)
    planned, _ = plan_actions(pull, [lead(**lead_changes)], TEAMS, names={**NAMES, 55: "Acme"})
    assert planned[0].changes == changes
    assert planned[0].description == description
    assert planned[0].error is None


def test_pull_back_nothing_to_pull():
    pull = rule(action="pull_back")
    planned, _ = plan_actions(pull, [lead(user_id=None, partner_assigned_id=55)], TEAMS)
    assert planned[0].error == (
        "Nothing to pull back: the lead has neither an assigned partner nor a salesperson."
    )
    assert planned[0].changes == {}


def test_escalate():
    escalate = rule(action="escalate")
    planned, _ = plan_actions(escalate, leads_owned_by("bob"), TEAMS, names=NAMES)
    assert planned[0] == PlannedAction(
        100, "escalate", {}, notify_user_id="alice", description="Escalated to Alice (leader of Europe)."
    )
    no_leader, _ = plan_actions(escalate, leads_owned_by("bob", team="Empty"), TEAMS)
    assert no_leader[0].error == "Empty has no team leader to escalate to."
    assert no_leader[0].notify_user_id is None


def test_handed_over_clock_runs_from_the_handoff_and_never_restarts():
    sent = dt.datetime(2026, 11, 10, 9)
    # a later change of hands (the lead moved to the receiving team) does not restart it
    handed = lead(handoff_sent_date=sent, sla_owner_since=HANDED_OVER, sla_team_since=HANDED_OVER)
    assert clock_start("handed_over", handed) == sent
    assert clock_start("handed_over", lead()) is None
    table = pd.DataFrame([dataclasses.asdict(handed), dataclasses.asdict(lead(id=2))])
    assert clock_starts("handed_over", table).tolist() == [pd.Timestamp(sent, tz="UTC"), pd.NaT]


def test_return_to_sender():
    back = rule(action="return_to_sender", clock="handed_over")
    assert validate_rule(back) == ()
    planned, _ = plan_actions(back, [lead(handoff_sent_date=dt.datetime(2026, 11, 10, 9))], TEAMS)
    assert planned[0] == PlannedAction(
        10, "return_to_sender", {}, description="Handoff returned to its sender: nobody decided on it."
    )
    nothing, _ = plan_actions(back, [lead()], TEAMS)
    assert nothing[0].error == "No handoff awaits a decision: nothing to return to its sender."


def test_plan_actions_is_deterministic_and_keeps_order():
    leads = leads_owned_by("bob", "carol", None, "frank", "bob")
    first = plan_actions(rule(), leads, TEAMS, names=NAMES)
    assert first == plan_actions(rule(), leads, TEAMS, names=NAMES)
    assert [p.lead_id for p in first[0]] == [100, 101, 102, 103, 104]
    assert plan_actions(rule(), [], TEAMS) == ([], {})


def test_plan_actions_unknown_action_or_mode():
    with pytest.raises(RuleError, match="Unknown action"):
        plan_actions(rule(action="explode"), leads_owned_by("bob"), TEAMS)
    with pytest.raises(RuleError, match="Unknown way to reassign"):
        plan_actions(rule(reassign_mode="dice"), leads_owned_by("bob"), TEAMS)


def test_names_fall_back_to_ids():
    planned, _ = plan_actions(rule(reassign_mode="user", user_id=9), [lead(user_id=3)], TEAMS, names={})
    assert planned[0].description == "Reassigned from 3 to 9."


def test_names_by_kind_never_mix_ids_of_different_records():
    """Odoo ids are per model: user 9, tag 9 and team 9 are three records with three names."""
    names = {
        ("user", 9): "Emma",
        ("tag", 9): "Nurture",
        ("team", 9): "Marketing",
        ("lost_reason", 9): "Stalled",
    }
    returned, _ = plan_actions(
        rule(action="return_to_marketing", target_team_id=9, tag_ids=frozenset({9})),
        [lead(id=1, user_id=9)],
        {},
        names=names,
    )
    assert returned[0].description == (
        "Returned to marketing (Marketing): back to a lead without a salesperson, tagged Nurture."
    )
    lost, _ = plan_actions(
        rule(action="mark_lost", lost_reason_id=9), [lead(id=1, user_id=9)], {}, names=names
    )
    assert lost[0].description == "Marked as lost (Stalled)."
