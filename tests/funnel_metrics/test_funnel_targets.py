"""Stage targets: most-specific matching, stuck leads, the per-group breakdown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import (
    breakdown,
    match_targets,
    selection_funnel,
    simulate_funnel,
    stage_conversion,
    stuck_leads,
    time_in_stage,
    transitions_from_records,
)
from funnel_metrics.targets import SELECTION_COLUMNS

NAN = float("nan")
NA = None

# --------------------------------------------------------------------------------------------------------
# match_targets
# --------------------------------------------------------------------------------------------------------

TARGETS = pd.DataFrame(
    [
        # stage, user, team, product, target_days_in_stage, target_conversion_rate
        ("New", NA, NA, NA, 10, 0.5),  # 0 stage-only
        ("New", NA, NA, "Pro", 8, NA),  # 1 product
        ("New", NA, "Europe", NA, 6, 0.7),  # 2 team
        ("New", "alice", NA, NA, 4, NA),  # 3 user
        ("New", "alice", "Europe", NA, 3, 0.9),  # 4 user + team
        ("New", NA, "Europe", "Basic", 5, NA),  # 5 team + product
        ("Proposal", NA, NA, NA, 2, NA),  # 6 stage-only ...
        ("Proposal", NA, NA, NA, 9, NA),  # 7 ... the same scope again: the first row wins
        ("Negotiation", "alice", NA, NA, 0, 0),  # 8 zeros: no target
        ("Negotiation", NA, NA, NA, 12, 0.4),  # 9
    ],
    columns=["stage", "user", "team", "product", "target_days_in_stage", "target_conversion_rate"],
)


@pytest.mark.parametrize(
    ("row", "days", "rate"),
    [
        pytest.param(("New", "bob", "Americas", "Basic"), 10, 0.5, id="stage-only"),
        # the product target has no rate: the rate comes from the stage-only target
        pytest.param(("New", "bob", "Americas", "Pro"), 8, 0.5, id="product-then-stage-for-rate"),
        pytest.param(("New", "bob", "Europe", "Pro"), 6, 0.7, id="team-beats-product"),
        pytest.param(("New", "alice", "Americas", "Pro"), 4, 0.5, id="user-beats-product"),
        pytest.param(("New", "alice", "Europe", "Basic"), 3, 0.9, id="user-team-beats-team-product"),
        pytest.param(("New", "carol", "Europe", "Basic"), 5, 0.7, id="team-product-beats-team"),
        pytest.param(("New", NA, NA, NA), 10, 0.5, id="no-values-only-stage-targets"),
        pytest.param(("Qualified", "alice", "Europe", "Pro"), NAN, NAN, id="no-target-for-stage"),
        pytest.param(("Proposal", "bob", NA, NA), 2, NAN, id="tie-first-row"),
        pytest.param(("Negotiation", "alice", NA, NA), 12, 0.4, id="zero-is-no-target"),
    ],
)
def test_most_specific_target_per_measure(row, days, rate):
    frame = pd.DataFrame([row], columns=["stage", "user", "team", "product"], index=[7])
    got_days = match_targets(frame, TARGETS, "target_days_in_stage")
    got_rate = match_targets(frame, TARGETS, "target_conversion_rate")
    assert got_days.index.tolist() == [7] and got_days.name == "target_days_in_stage"
    np.testing.assert_equal([got_days.iloc[0], got_rate.iloc[0]], [days, rate])


def test_many_rows_at_once_match_one_by_one():
    rows = [
        ("New", "bob", "Americas", "Basic"),
        ("New", "alice", "Europe", "Basic"),
        ("Proposal", "bob", NA, NA),
        ("New", "carol", "Europe", "Basic"),
        ("Qualified", NA, NA, NA),
    ]
    frame = pd.DataFrame(rows * 2, columns=["stage", "user", "team", "product"])
    together = match_targets(frame, TARGETS, "target_days_in_stage").to_numpy()
    one_by_one = [match_targets(frame.iloc[[i]], TARGETS, "target_days_in_stage").iloc[0] for i in range(10)]
    np.testing.assert_equal(together, one_by_one)
    np.testing.assert_equal(together[:5], [10, 3, 2, 5, NAN])


def test_missing_frame_columns_are_not_fixed_dimensions():
    # without a team column, alice's user+team target does not apply; her user-only one does
    frame = pd.DataFrame({"stage": ["New", "New"], "user": ["alice", "bob"]})
    assert match_targets(frame, TARGETS, "target_days_in_stage").tolist() == [4, 10]


def test_targets_table_with_only_a_stage_and_one_measure():
    targets = pd.DataFrame({"stage": ["New"], "target_days_in_stage": [2.5]})
    frame = pd.DataFrame({"stage": ["New", "Won"]})
    np.testing.assert_equal(match_targets(frame, targets, "target_days_in_stage").to_numpy(), [2.5, NAN])
    assert match_targets(frame, targets, "target_conversion_rate").isna().all()


@pytest.mark.parametrize(
    ("products", "days"),
    [
        pytest.param(["Pro"], 8, id="one-tag"),
        pytest.param(("Basic", "Pro"), 8, id="the-tag-with-a-target"),
        pytest.param({"Basic"}, 10, id="tag-without-target"),
        pytest.param([], 10, id="no-tags"),
    ],
)
def test_a_lead_with_several_products_gets_the_target_of_any_of_them(products, days):
    frame = pd.DataFrame(
        {"stage": ["New", "New"], "team": ["Americas", "Europe"], "product": [products, "Pro"]}
    )
    assert match_targets(frame, TARGETS, "target_days_in_stage").tolist() == [days, 6]


def test_of_two_product_targets_that_apply_the_earlier_row_wins():
    targets = pd.DataFrame({"stage": ["New", "New"], "product": ["B", "A"], "target_days_in_stage": [7, 5]})
    frame = pd.DataFrame(
        {"stage": ["New", "New", "New"], "product": [["A", "B"], ["A"], "A"]}, index=[3, 1, 2]
    )
    got = match_targets(frame, targets, "target_days_in_stage")
    assert got.index.tolist() == [3, 1, 2] and got.tolist() == [7, 5, 5]


@pytest.mark.parametrize(
    ("targets", "measure", "message"),
    [
        pytest.param(
            pd.DataFrame({"user": ["a"]}), "target_days_in_stage", "missing the column 'stage'", id="stage"
        ),
        pytest.param(
            pd.DataFrame({"stage": ["New"], "target_conversion_rate": [80]}),
            "target_conversion_rate",
            "divide by 100",
            id="percent",
        ),
        pytest.param(
            pd.DataFrame({"stage": ["New"], "target_days_in_stage": [-1]}),
            "target_days_in_stage",
            ">= 0",
            id="negative",
        ),
        pytest.param(
            pd.DataFrame({"stage": ["New"], "target_days_in_stage": ["soon"]}),
            "target_days_in_stage",
            "cannot read 'soon'",
            id="text",
        ),
        pytest.param(pd.DataFrame({"stage": ["New"]}), "days", "measure must be one of", id="measure"),
    ],
)
def test_bad_targets_are_refused(targets, measure, message):
    with pytest.raises(ValueError, match=message):
        match_targets(pd.DataFrame({"stage": ["New"]}), targets, measure)


# --------------------------------------------------------------------------------------------------------
# stuck_leads
# --------------------------------------------------------------------------------------------------------


def with_users(frame: pd.DataFrame, users: dict[int, str | None]) -> pd.DataFrame:
    frame = frame.copy()
    frame["user"] = frame["lead_id"].map(users).astype(object)
    return frame


STUCK_STAYS = [
    (1, "New", 1, 17, None, "open"),  # 3 days, target 2: stuck by 1
    (2, "New", 1, 14, 16, "open"),
    (2, "Qualified", 2, 16, None, "open"),  # 4 days, target 5: fine
    (3, "Qualified", 2, 10, None, "open"),  # bob: 10 days, target 10: not *over* it
    (4, "Qualified", 2, 9, None, "open"),  # bob: 11 days, target 10: stuck by 1
    (5, "Qualified", 2, 5, None, "open"),  # 15 days, target 5: stuck by 10
    (6, "New", 1, 0, 1, "won"),
    (6, "Won", 9, 1, None, "won"),  # open stay of a won lead: not stuck
    (7, "New", 1, 0, 12, "lost"),  # closed
    (8, "Proposal", 3, 0, None, "open"),  # no target for Proposal
    (9, "New", 1, 25, None, "open"),  # entered after as_of: 0 days
]
STUCK_USERS = {
    1: "alice",
    2: "alice",
    3: "bob",
    4: "bob",
    5: "alice",
    6: "alice",
    7: "alice",
    8: "bob",
    9: "bob",
}
STUCK_TARGETS = pd.DataFrame(
    {
        "stage": ["New", "Qualified", "Qualified", "Won"],
        "user": [NA, NA, "bob", NA],
        "target_days_in_stage": [2, 5, 10, 1],
    }
)


def test_stuck_leads_are_open_stays_over_their_most_specific_target(make_transitions, day):
    frame = with_users(make_transitions(STUCK_STAYS), STUCK_USERS)
    result = stuck_leads(frame, STUCK_TARGETS, as_of=day(20))
    assert list(result.columns) == [
        "lead_id",
        "stage",
        "user",
        "team",
        "product",
        "entered_at",
        "days_in_stage",
        "target_days",
        "overdue_days",
    ]
    assert result["lead_id"].tolist() == [5, 1, 4]  # most overdue first, ties by lead id
    assert result["stage"].tolist() == ["Qualified", "New", "Qualified"]
    assert result["user"].tolist() == ["alice", "alice", "bob"]
    assert result["entered_at"].tolist() == [day(5), day(17), day(9)]
    np.testing.assert_allclose(result["days_in_stage"], [15, 3, 11])
    np.testing.assert_allclose(result["target_days"], [5, 2, 10])
    np.testing.assert_allclose(result["overdue_days"], [10, 1, 1])
    assert result.attrs["as_of"] == day(20)


def test_stuck_leads_default_snapshot_is_the_latest_timestamp(make_transitions, day):
    frame = with_users(make_transitions(STUCK_STAYS), STUCK_USERS)
    result = stuck_leads(frame, STUCK_TARGETS)
    assert result.attrs["as_of"] == day(25)
    # at day 25: L5 20 - 5, L1 8 - 2, L4 16 - 10, L3 15 - 10 (now over), L2 9 - 5 (now over); L9 0 days
    assert result["lead_id"].tolist() == [5, 1, 4, 3, 2]
    np.testing.assert_allclose(result["overdue_days"], [15, 6, 6, 5, 4])


def test_no_targets_no_stuck_leads(make_transitions, day):
    result = stuck_leads(make_transitions(STUCK_STAYS), pd.DataFrame({"stage": ["New"]}), as_of=day(20))
    assert result.empty and "overdue_days" in result.columns


# --------------------------------------------------------------------------------------------------------
# breakdown
# --------------------------------------------------------------------------------------------------------

HANDOVER = [
    (1, "New", 1, 0, 1, "lost"),  # alice ...
    (1, "Qualified", 2, 1, 3, "lost"),  # ... then bob, lost in Qualified
    (2, "New", 1, 0, 4, "lost"),  # bob, lost in New
    (3, "New", 1, 0, 2, "open"),  # alice ...
    (3, "Qualified", 2, 2, None, "open"),  # ... still in Qualified
    (4, "New", 1, 0, 1, "lost"),  # nobody's
]
HANDOVER_USERS = {(1, "New"): "alice", (1, "Qualified"): "bob", (2, "New"): "bob", (3, "New"): "alice"}
HANDOVER_USERS[(3, "Qualified")] = "alice"


def handover_frame(make_transitions) -> pd.DataFrame:
    frame = make_transitions(HANDOVER)
    keys = zip(frame["lead_id"], frame["stage"], strict=True)
    frame["user"] = pd.Series([HANDOVER_USERS.get(key) for key in keys], index=frame.index, dtype=object)
    return frame


def test_breakdown_by_user_follows_the_salesperson_of_each_stay(make_transitions, day):
    result = breakdown(handover_frame(make_transitions), "user", as_of=day(10))
    expected = pd.DataFrame(
        [
            # user, stage, seq, entered, advanced, lost, open, rate, median, p90
            ("alice", "New", 1, 2, 2, 0, 0, 1.0, 1.0, 2.0),  # L1 (1 day) and L3 (2 days) moved on
            ("alice", "Qualified", 2, 1, 0, 0, 1, NAN, NAN, NAN),  # L3 open for 8 days: censored
            ("bob", "New", 1, 1, 0, 1, 0, 0.0, 4.0, 4.0),
            ("bob", "Qualified", 2, 1, 0, 1, 0, 0.0, 2.0, 2.0),  # L1, after the handover
            (NA, "New", 1, 1, 0, 1, 0, 0.0, 1.0, 1.0),  # L4, no salesperson
        ],
        columns=[
            "user",
            "stage",
            "stage_sequence",
            "entered",
            "advanced",
            "lost",
            "open",
            "conversion_rate",
            "median_days",
            "p90_days",
        ],
    ).astype(
        {
            "user": "string",
            "stage": "string",
            **dict.fromkeys(("stage_sequence", "entered", "advanced"), "int64"),
        }
    )
    expected = expected.astype({"lost": "int64", "open": "int64"})
    pd.testing.assert_frame_equal(result, expected)
    assert result.attrs["as_of"] == day(10)


def test_breakdown_against_targets(make_transitions, day):
    targets = pd.DataFrame(
        {
            "stage": ["New", "Qualified", "New"],
            "user": [NA, "bob", NA],
            "team": [NA, NA, "Europe"],  # by user, the team is not fixed: this one never applies
            "target_conversion_rate": [0.8, 0.5, 0.99],
            "target_days_in_stage": [3, 1, 0.5],
        }
    )
    result = breakdown(handover_frame(make_transitions), "user", targets=targets, as_of=day(10))
    np.testing.assert_equal(result["target_conversion_rate"].to_numpy(), [0.8, NAN, 0.8, 0.5, 0.8])
    np.testing.assert_equal(result["target_days_in_stage"].to_numpy(), [3, NAN, 3, 1, 3])
    # alice New meets both; alice Qualified has neither; bob New converts 0 < 80 % and stays 4 > 3 days; bob
    # Qualified converts 0 < 50 % and stays 2 > 1 days; NA New converts 0 < 80 % in 1 < 3 days
    assert result["conversion_below_target"].tolist() == [False, False, True, True, True]
    assert result["days_over_target"].tolist() == [False, False, True, True, False]
    assert result["below_target"].tolist() == [False, False, True, True, True]
    for column in ("conversion_below_target", "days_over_target", "below_target"):
        assert result[column].dtype == bool


def test_each_measure_is_judged_against_its_own_target(make_transitions, day):
    """A stage that converts below its target but is quick enough is off target in conversion only, and
    the other way round; a stage without an estimate (nobody left it) is off target in neither."""
    targets = pd.DataFrame(
        {
            "stage": ["New", "Qualified"],
            "target_conversion_rate": [0.9, NAN],
            "target_days_in_stage": [100, 1],
        }
    )
    result = breakdown(handover_frame(make_transitions), "user", targets=targets, as_of=day(10))
    rows = {
        (user, stage): (conversion, days)
        for user, stage, conversion, days in zip(
            result["user"].fillna("-"),
            result["stage"],
            result["conversion_below_target"],
            result["days_over_target"],
            strict=True,
        )
    }
    # bob New: converts 0 < 90 %, stays 4 days < 100; bob Qualified: no conversion target, 2 > 1 days
    assert rows[("bob", "New")] == (True, False)
    assert rows[("bob", "Qualified")] == (False, True)
    # alice Qualified: still there, no estimate of either measure
    assert rows[("alice", "Qualified")] == (False, False)


def test_breakdown_refuses_an_unknown_dimension(make_transitions):
    with pytest.raises(ValueError, match="by must be one of user, team, product"):
        breakdown(make_transitions(HANDOVER), "source")


def random_stays(seed: int, n_leads: int) -> tuple[list[tuple], dict[int, str]]:
    """Random pipelines with re-entries, backward moves, skips and same-day moves; a user per lead."""
    rng = np.random.default_rng(seed)
    stages = [("New", 1), ("Qualified", 2), ("Review", 2), ("Proposition", 3), ("Won", 9)]
    stays, users = [], {}
    for lead in range(n_leads):
        outcome = str(rng.choice(["won", "lost", "open"]))
        users[lead] = str(rng.choice(["ann", "ben", "cid"]))
        for _ in range(int(rng.integers(1, 6))):
            stage, sequence = stages[int(rng.integers(len(stages)))]
            entered = int(rng.integers(0, 12))
            left = None if rng.random() < 0.2 else entered + int(rng.integers(0, 4))
            stays.append((lead, stage, sequence, entered, left, outcome))
    return stays, users


@pytest.mark.parametrize("seed", [1, 2])
def test_breakdown_of_leads_kept_by_one_user_is_the_funnel_of_each_users_leads(make_transitions, day, seed):
    stays, users = random_stays(seed, 400)
    frame = with_users(make_transitions(stays), users)
    result = breakdown(frame, "user", as_of=day(20))
    for user, leads in frame.groupby("user"):
        expected = stage_conversion(leads).merge(
            time_in_stage(leads, as_of=day(20)), on=["stage", "stage_sequence"]
        )
        expected = expected.drop(columns=["n"]).rename(columns={"open_x": "open"}).drop(columns=["open_y"])
        got = result[result["user"] == user].drop(columns=["user"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected.loc[:, list(got.columns)])


def test_breakdown_of_an_empty_table():
    result = breakdown(transitions_from_records([]), "team")
    assert result.empty and list(result.columns)[:3] == ["team", "stage", "stage_sequence"]


def test_breakdown_of_a_single_team_is_the_whole_funnel():
    frame, _ = simulate_funnel(4000, teams=("Europe",), skip_probability=0.1, seed=17)
    result = breakdown(frame, "team").drop(columns=["team"])
    expected = stage_conversion(frame).merge(time_in_stage(frame), on=["stage", "stage_sequence"])
    expected = expected.rename(columns={"open_x": "open"}).loc[:, list(result.columns)]
    pd.testing.assert_frame_equal(result, expected, rtol=0, atol=0)


# --------------------------------------------------------------------------------------------------------
# a selection of stays: breakdown(selected=...) and selection_funnel
# --------------------------------------------------------------------------------------------------------

SELECTION_NUMBERS = ["entered", "advanced", "lost", "open", "conversion_rate", "median_days", "p90_days"]


@pytest.mark.parametrize(
    ("users", "expected"),
    [
        (
            {"alice"},
            [
                # stage, seq, entered, advanced, lost, open, rate, median, p90
                ("New", 1, 2, 2, 0, 0, 1.0, 1.0, 2.0),  # L1 is an advance for alice: bob lost it later
                ("Qualified", 2, 1, 0, 0, 1, NAN, NAN, NAN),  # L3 open; L1's loss in Qualified is bob's
            ],
        ),
        ({"bob"}, [("New", 1, 1, 0, 1, 0, 0.0, 4.0, 4.0), ("Qualified", 2, 1, 0, 1, 0, 0.0, 2.0, 2.0)]),
        (
            {"alice", "bob"},
            [
                ("New", 1, 3, 2, 1, 0, 2 / 3, 2.0, 4.0),  # L4, nobody's, left out
                ("Qualified", 2, 2, 0, 1, 1, 0.0, 2.0, NAN),  # L1 2 days, L3 open 8 days
            ],
        ),
    ],
)
def test_selection_funnel_credits_the_passages_first_entered_by_the_selection(
    make_transitions, day, users, expected
):
    frame = handover_frame(make_transitions)
    result = selection_funnel(frame, frame["user"].isin(users), as_of=day(10))
    want = pd.DataFrame(expected, columns=["stage", "stage_sequence", *SELECTION_NUMBERS])
    want = want.astype(
        {"stage": "string", **dict.fromkeys(["stage_sequence", "entered", "advanced"], "int64")}
    )
    want = want.astype({"lost": "int64", "open": "int64"})
    pd.testing.assert_frame_equal(result, want)
    assert result.attrs["as_of"] == day(10)


def test_selection_funnel_of_every_stay_is_conversion_and_time_in_stage():
    frame, _ = simulate_funnel(3000, teams=("Europe", "Asia"), skip_probability=0.1, seed=5)
    result = selection_funnel(frame, np.ones(len(frame), dtype=bool))
    expected = stage_conversion(frame).merge(time_in_stage(frame), on=["stage", "stage_sequence"])
    expected = expected.rename(columns={"open_x": "open"}).loc[:, list(result.columns)]
    pd.testing.assert_frame_equal(result, expected, rtol=0, atol=0)


def random_handovers(make_transitions, seed: int, n_leads: int) -> pd.DataFrame:
    """Random pipelines (see :func:`random_stays`) where every stay has its own salesperson and team."""
    rng = np.random.default_rng(seed)
    stays, _ = random_stays(seed, n_leads)
    frame = make_transitions(stays)
    frame["user"] = rng.choice(np.array(["ann", "ben", "cid", None], dtype=object), len(frame))
    frame["team"] = rng.choice(np.array(["Europe", "Asia"], dtype=object), len(frame))
    return frame


@pytest.mark.parametrize("seed", [3, 4])
def test_a_selection_of_salespersons_keeps_their_rows_of_the_whole_breakdown(make_transitions, day, seed):
    frame = random_handovers(make_transitions, seed, 300)
    whole = breakdown(frame, "user", as_of=day(20))
    for users in ({"ann"}, {"ann", "cid"}):
        selected = frame["user"].isin(users)
        kept = breakdown(frame, "user", as_of=day(20), selected=selected)
        pd.testing.assert_frame_equal(kept, whole[whole["user"].isin(users)].reset_index(drop=True))
        combined = selection_funnel(frame, selected, as_of=day(20)).set_index(["stage", "stage_sequence"])
        sums = kept.groupby(["stage", "stage_sequence"])[["entered", "advanced", "lost", "open"]].sum()
        pd.testing.assert_frame_equal(combined[sums.columns], sums.loc[combined.index])
        dwell = time_in_stage(frame[selected.to_numpy()], as_of=day(20))
        np.testing.assert_array_equal(combined["median_days"].to_numpy(), dwell["median_days"].to_numpy())


def test_a_team_selection_per_salesperson_counts_only_the_teams_passages(make_transitions, day):
    frame = handover_frame(make_transitions)
    frame["team"] = ["Europe", "Asia", "Europe", "Europe", "Europe", "Europe"]  # bob took L1 to Asia
    result = breakdown(frame, "user", as_of=day(10), selected=frame["team"] == "Europe")
    assert list(zip(result["user"].fillna("-"), result["stage"], result["lost"], strict=True)) == [
        ("alice", "New", 0),
        ("alice", "Qualified", 0),
        ("bob", "New", 1),  # L2; L1's loss in Qualified was in Asia
        ("-", "New", 1),  # L4: no salesperson, but in Europe
    ]


@pytest.mark.parametrize("selected", [[True, False], np.ones((6, 1), dtype=bool), [1, 0, 1, 0, 1, 0]])
def test_a_selection_must_be_one_flag_per_stay(make_transitions, selected):
    frame = handover_frame(make_transitions)
    with pytest.raises(ValueError, match=r"selected must hold one True/False per row .*\(6 rows\)"):
        selection_funnel(frame, selected)
    with pytest.raises(ValueError, match="selected must hold one True/False per row"):
        breakdown(frame, "user", selected=selected)


def test_selection_funnel_of_an_empty_table():
    result = selection_funnel(transitions_from_records([]), [])
    assert result.empty and list(result.columns) == list(SELECTION_COLUMNS)


def test_selection_funnel_against_stage_targets():
    table, _ = simulate_funnel(300, seed=3)
    targets = pd.DataFrame(
        {
            "stage": ["New", "New", "Qualified"],
            "team": [None, "Europe", None],
            "target_conversion_rate": [1.0, 0.0, 0.0],
            "target_days_in_stage": [0.0, 1.0, 1000.0],
        }
    )
    plain = selection_funnel(table, None)
    result = selection_funnel(table, None, targets=targets).set_index("stage")
    pd.testing.assert_frame_equal(result.reset_index()[list(SELECTION_COLUMNS)], plain)
    # only the stage-wide targets apply (the days target of New is for a team)
    assert result.loc["New", "target_conversion_rate"] == 1.0
    assert np.isnan(result.loc["New", "target_days_in_stage"])
    assert bool(result.loc["New", "below_target"]) == (result.loc["New", "conversion_rate"] < 1.0)
    assert result.loc["New", "conversion_below_target"] == result.loc["New", "below_target"]
    assert not result.loc["New", "days_over_target"]
    assert result.loc["Qualified", "target_days_in_stage"] == 1000.0
    assert not result.loc["Qualified", "below_target"]
    assert result.loc[["Proposal", "Negotiation"], "target_conversion_rate"].isna().all()
    assert not result.loc[["Proposal", "Negotiation"], "below_target"].any()
