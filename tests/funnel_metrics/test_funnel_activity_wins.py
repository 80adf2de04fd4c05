"""Which activities win deals: recovered from simulated pipelines whose effect of each type is known."""

from __future__ import annotations

import pandas as pd
import pytest

from funnel_metrics import (
    ActivitiesError,
    activity_sequences,
    deals_from_transitions,
    load_activities,
    rep_activity_shares,
    saturation,
    save_activities,
    simulate_activities,
    simulate_funnel,
    touch_gaps,
    win_rate_by_count,
)

T0 = pd.Timestamp("2024-01-01T00:00:00Z")


def day(offset: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(days=offset)


@pytest.fixture(scope="module")
def pipeline() -> pd.DataFrame:
    table, _truth = simulate_funnel(
        20_000, start="2024-01-01", end="2024-12-01", snapshot="2025-01-01", seed=1
    )
    return table


def test_deals_leave_open_leads_out_and_are_decided_when_the_last_stay_ends(make_transitions) -> None:
    table = make_transitions(
        [
            (1, "New", 1, 0, 2, "won"),
            (1, "Won", 2, 2, None, "won"),  # a won lead sits in the won stage from the day it is won
            (2, "New", 1, 0, 5, "lost"),
            (3, "New", 1, 1, None, "open"),
        ]
    )
    deals = deals_from_transitions(table)
    assert deals["lead_id"].tolist() == [1, 2]
    assert deals["outcome"].tolist() == ["won", "lost"]
    assert deals["decided_at"].tolist() == [day(2), day(5)]


def test_known_effects_are_recovered_within_their_intervals(pipeline: pd.DataFrame) -> None:
    activities, truth = simulate_activities(pipeline, seed=3)
    deals = deals_from_transitions(pipeline)
    by_count = win_rate_by_count(activities, deals, max_count=5, confidence=0.999)
    for name, rates in truth["win_rate"].items():
        rows = by_count[by_count["activity_type"] == name]
        assert (rows["ci_low"].to_numpy() <= rates).all() and (rates <= rows["ci_high"].to_numpy()).all(), (
            name
        )
    # every deal is in exactly one bucket of each type
    assert (by_count.groupby("activity_type")["deals"].sum() == len(deals)).all()

    points = saturation(win_rate_by_count(activities, deals)).set_index("activity_type")
    assert points.loc["Meeting", "useful_count"] == truth["useful_count"]["Meeting"] == 2
    assert points.loc["Call", "lowering_from"] == truth["lowering_from"]["Call"] == 5
    assert pd.isna(points.loc["Meeting", "lowering_from"]) and pd.isna(points.loc["Call", "useful_count"])
    assert points.loc["Email"][["useful_count", "lowering_from"]].isna().all()  # no effect: nothing stated


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_a_pipeline_where_activities_change_nothing_states_nothing(pipeline: pd.DataFrame, seed: int) -> None:
    flat = dict.fromkeys(("Call", "Email", "Meeting", "Visit"), (1.0,) * 6)
    means = {"Call": 2.5, "Email": 2.0, "Meeting": 1.5, "Visit": 0.8}
    activities, _truth = simulate_activities(pipeline, flat, means, seed=seed)
    points = saturation(win_rate_by_count(activities, deals_from_transitions(pipeline)))
    assert points["useful_count"].isna().all() and points["lowering_from"].isna().all()
    assert points["peak_count"].notna().all()


def test_activities_after_the_decision_and_on_open_leads_do_not_count(make_transitions) -> None:
    table = make_transitions(
        [(1, "New", 1, 0, 10, "won"), (2, "New", 1, 0, 10, "lost"), (3, "New", 1, 0, None, "open")]
    )
    activities = pd.DataFrame(
        {
            "lead_id": [1, 1, 1, 2, 3, 3],
            "activity_type": ["Call", "Call", "Call", "Call", "Call", "Call"],
            "done_at": [day(1), day(10), day(11), day(3), day(1), day(2)],
            "user": ["alice"] * 6,
        }
    )
    by_count = win_rate_by_count(activities, deals_from_transitions(table), max_count=2)
    assert by_count[["bucket", "deals", "won"]].values.tolist() == [["0", 0, 0], ["1", 1, 0], ["2+", 1, 1]]


def test_saturation_states_nothing_on_buckets_with_too_few_deals(pipeline: pd.DataFrame) -> None:
    activities, _truth = simulate_activities(pipeline, seed=3)
    by_count = win_rate_by_count(activities, deals_from_transitions(pipeline))
    points = saturation(by_count, min_deals=len(pipeline))
    assert points["peak_count"].isna().all() and points["useful_count"].isna().all()


def _hand_activities(make_transitions) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = make_transitions(
        [
            (1, "New", 1, 0, 20, "won"),
            (2, "New", 1, 0, 20, "won"),
            (3, "New", 1, 0, 20, "lost"),
            (4, "New", 1, 0, 20, "lost"),
        ]
    )
    rows = [
        (1, "Call", 1),
        (1, "Meeting", 3),
        (1, "Meeting", 9),  # gaps 2, 6
        (2, "Call", 2),
        (2, "Meeting", 3),  # gap 1
        (3, "Email", 1),
        (3, "Email", 5),  # gap 4
        (4, "Call", 0),  # lead 4: no gap
    ]
    activities = pd.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "activity_type": [r[1] for r in rows],
            "done_at": [day(r[2]) for r in rows],
            "user": [None] * len(rows),
        }
    )
    return activities, deals_from_transitions(table)


def test_sequences_are_the_first_types_in_order_with_shares_of_won_and_lost(make_transitions) -> None:
    activities, deals = _hand_activities(make_transitions)
    result = activity_sequences(activities, deals, length=2).set_index("sequence")
    assert set(result.index) == {"Call › Meeting", "Email › Email", "Call"}
    assert result.loc["Call › Meeting", ["deals", "won", "lost"]].tolist() == [2, 2, 0]
    assert (
        result.loc["Call › Meeting", "won_share"] == 1.0 and result.loc["Email › Email", "lost_share"] == 0.5
    )
    assert activity_sequences(activities.iloc[:0], deals)["sequence"].tolist() == ["(none)"]


def test_touch_gaps_compare_won_and_lost_deals(make_transitions) -> None:
    activities, deals = _hand_activities(make_transitions)
    gaps = touch_gaps(activities, deals).set_index("outcome")
    assert gaps.loc["won", ["deals", "gaps"]].tolist() == [2, 3]
    assert gaps.loc["won", "median_days"] == pytest.approx(2.0)
    assert gaps.loc["lost", ["deals", "gaps", "median_days"]].tolist() == [1, 1, pytest.approx(4.0)]


def test_rep_shares_are_shares_of_his_deals_reaching_the_useful_count(make_transitions) -> None:
    activities, deals = _hand_activities(make_transitions)
    deals["user"] = ["alice", "alice", "bob", "bob"]
    result = rep_activity_shares(activities, deals, {"Meeting": 2}).set_index(["user", "activity_type"])
    assert result.loc[("alice", "Meeting"), "share_reaching"] == 0.5  # lead 1 had 2 meetings, lead 2 one
    assert result.loc[("bob", "Call"), "share_reaching"] == 0.5
    assert result.loc[("alice", "Call"), "win_rate"] == 1.0 and result.loc[("bob", "Call"), "win_rate"] == 0.0
    assert "count" not in result.columns and result.loc[("alice", "Meeting"), "useful_count"] == 2


def test_activities_files_round_trip_and_bad_tables_say_what_is_wrong(tmp_path, make_transitions) -> None:
    activities, deals = _hand_activities(make_transitions)
    for name in ("a.csv.gz", "a.parquet"):
        save_activities(activities, tmp_path / name)
        back = load_activities(tmp_path / name)
        assert back["done_at"].tolist() == activities["done_at"].tolist()
        assert back["activity_type"].tolist() == activities["activity_type"].tolist()
    with pytest.raises(ActivitiesError, match="missing column"):
        win_rate_by_count(activities.drop(columns="done_at"), deals)
    with pytest.raises(ActivitiesError, match="open leads"):
        win_rate_by_count(activities, deals.assign(outcome="open"))
    with pytest.raises(ValueError, match="max_count"):
        win_rate_by_count(activities, deals, max_count=0)


def test_the_order_of_the_rows_does_not_matter(pipeline: pd.DataFrame) -> None:
    activities, _truth = simulate_activities(pipeline, seed=3)
    deals = deals_from_transitions(pipeline)
    shuffled = activities.sample(frac=1.0, random_state=0).reset_index(drop=True)
    for function in (activity_sequences, touch_gaps, win_rate_by_count):
        pd.testing.assert_frame_equal(function(shuffled, deals), function(activities, deals))
