"""simulate_funnel: a well-formed transitions table, reproducible, and faithful to the truth it reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import (
    TRANSITION_COLUMNS,
    simulate_funnel,
    stage_conversion,
    stage_skips,
    time_in_stage,
    validate_transitions,
)

SNAPSHOT = pd.Timestamp("2024-02-10", tz="UTC")


@pytest.fixture(scope="module")
def half_open():
    return simulate_funnel(5000, start="2024-01-01", end="2024-02-20", snapshot=SNAPSHOT, seed=3)


def test_table_is_valid_with_the_extra_columns(half_open):
    frame, _ = half_open
    assert list(frame.columns) == [*TRANSITION_COLUMNS, "expected_revenue", "campaign"]
    pd.testing.assert_frame_equal(validate_transitions(frame), frame)
    assert str(frame["expected_revenue"].dtype) == "float64" and (frame["expected_revenue"] > 0).all()


def test_stays_follow_each_other_and_are_cut_at_the_snapshot(half_open):
    frame, _ = half_open
    assert frame["entered_at"].max() <= SNAPSHOT and frame["left_at"].max() <= SNAPSHOT
    ordered = frame.sort_values(["lead_id", "entered_at", "stage_sequence"], kind="stable")
    assert ordered.index.equals(frame.index)  # rows come by lead, then time
    same_lead = frame["lead_id"].to_numpy()[1:] == frame["lead_id"].to_numpy()[:-1]
    left, entered = frame["left_at"].to_numpy()[:-1], frame["entered_at"].to_numpy()[1:]
    assert (left[same_lead] == entered[same_lead]).all()  # a stay ends when the next begins
    last = ~np.r_[same_lead, False]
    is_open = frame["left_at"].isna().to_numpy()
    assert not (is_open & ~last).any()  # only a lead's last stay can be open ...
    won_stage = (frame["stage"] == "Won").to_numpy()
    assert (is_open[last] == (frame["outcome"].to_numpy()[last] == "open")).all()  # ... and it is iff open
    assert (frame.loc[won_stage, "entered_at"] == frame.loc[won_stage, "left_at"]).all()  # ends as it starts
    assert (frame.loc[won_stage, "outcome"] == "won").all()


def test_leads_arriving_after_the_snapshot_are_not_there(half_open):
    frame, _ = half_open
    first = frame.groupby("lead_id")["entered_at"].min()
    arrivals_in_window = (first.index.max() - 1) / 5000  # lead ids follow arrival order
    assert 0.75 < arrivals_in_window < 0.85  # 40 of the 50 days
    assert first.is_monotonic_increasing


def test_lead_attributes_are_constant_and_consistent(half_open):
    frame, _ = half_open
    per_lead = frame.groupby("lead_id")[["user", "team", "product", "source", "campaign", "expected_revenue"]]
    assert (per_lead.nunique() <= 1).all().all()
    assert frame.groupby("user")["team"].nunique().eq(1).all()
    lost = frame["outcome"] == "lost"
    assert frame.loc[lost, "lost_reason"].notna().all() and frame.loc[~lost, "lost_reason"].isna().all()
    sequence = frame["stage"].map({"New": 1, "Qualified": 2, "Proposal": 3, "Negotiation": 4, "Won": 5})
    np.testing.assert_array_equal(sequence.to_numpy(dtype="int64"), frame["stage_sequence"].to_numpy())


def test_reproducible_by_seed():
    one, truth = simulate_funnel(300, seed=5)
    two, _ = simulate_funnel(300, seed=5)
    other, _ = simulate_funnel(300, seed=6)
    pd.testing.assert_frame_equal(one, two)
    assert not one["entered_at"].equals(other["entered_at"])
    assert truth["snapshot"] == pd.Timestamp("2024-03-01", tz="UTC")  # default: the end


def test_truth_with_and_without_skips():
    _, plain = simulate_funnel(0)
    assert plain["win_probability"] == pytest.approx(
        {"New": 0.126, "Qualified": 0.21, "Proposal": 0.42, "Negotiation": 0.7, "Won": 1.0}
    )
    _, skipping = simulate_funnel(
        0, stages=("A", "B", "C"), advance=(0.5, 0.5, 0.5), median_days=(1, 1, 1), skip_probability=0.2
    )
    # C: 0.5; B: 0.5 * 0.5 (no stage to skip to but the won one); A: 0.5 * (0.8 * 0.25 + 0.2 * 0.5)
    assert skipping["win_probability"] == pytest.approx({"A": 0.15, "B": 0.25, "C": 0.5, "Won": 1.0})
    assert skipping["advance"] == {"A": 0.5, "B": 0.5, "C": 0.5}
    assert skipping["median_days"] == {"A": 1.0, "B": 1.0, "C": 1.0}


def test_run_to_the_end_the_funnel_has_the_stated_rates_and_dwell():
    frame, truth = simulate_funnel(
        40_000, start="2024-01-01", end="2024-02-01", snapshot="2030-01-01", seed=9
    )
    outcome = frame.groupby("lead_id")["outcome"].first()
    assert not (outcome == "open").any()
    won_share = (outcome == "won").mean()
    spread = np.sqrt(0.126 * 0.874 / len(outcome))
    assert abs(won_share - truth["win_probability"]["New"]) < 4 * spread
    conversion = stage_conversion(frame).set_index("stage")
    for stage, advance in truth["advance"].items():
        n = conversion.loc[stage, "advanced"] + conversion.loc[stage, "lost"]
        assert abs(conversion.loc[stage, "conversion_rate"] - advance) < 4 * np.sqrt(
            advance * (1 - advance) / n
        )
    dwell = time_in_stage(frame).set_index("stage")
    for stage, median in truth["median_days"].items():
        assert dwell.loc[stage, "median_days"] == pytest.approx(median, rel=0.1)


def test_skips_happen_at_the_stated_rate():
    frame, _ = simulate_funnel(20_000, skip_probability=0.1, snapshot="2030-01-01", seed=2)
    skips = stage_skips(frame).set_index(["from_stage", "to_stage"])
    assert set(skips.index) == {("New", "Proposal"), ("Qualified", "Negotiation")}  # never into Won
    advanced_from_new = stage_conversion(frame).set_index("stage").loc["New", "advanced"]
    assert skips.loc[("New", "Proposal"), "moves"] / advanced_from_new == pytest.approx(0.1, abs=0.015)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"advance": (0.5, 0.5)}, "one value per stage", id="lengths"),
        pytest.param({"advance": (0.5, 1.5, 0.5, 0.5)}, r"in \[0, 1\]", id="probability"),
        pytest.param({"median_days": (1, 0, 1, 1)}, "positive", id="median"),
        pytest.param({"end": "2023-12-01"}, "must be after start", id="dates"),
        pytest.param({"stages": ("New", "Won", "A", "B")}, "distinct", id="won-name"),
        pytest.param({"users": ()}, "users must name", id="users"),
        pytest.param({"skip_probability": 2}, "skip_probability", id="skip"),
        pytest.param({"user_skill": (1.0, 2.0)}, "one value per user", id="skill-length"),
        pytest.param({"user_skill": (1, 1, 0, 1, 1, 1)}, "positive", id="skill-zero"),
        pytest.param({"stuck_share": -0.1}, "stuck_share", id="stuck-share"),
        pytest.param({"stuck_factor": 0.5}, "stuck_factor", id="stuck-factor"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_funnel(10, **kwargs)


def test_departures_left_out_give_the_plain_model():
    plain, truth = simulate_funnel(2000, skip_probability=0.05, seed=4)
    same, same_truth = simulate_funnel(
        2000, skip_probability=0.05, seed=4, user_skill=None, stuck_share=0.0, stuck_factor=3.0
    )
    pd.testing.assert_frame_equal(plain, same)
    assert "advance_by_user" not in truth and "stuck_lead_ids" not in truth
    assert same_truth.keys() == truth.keys()


def test_skilled_salespeople_convert_better():
    users = ("ace", "mid", "weak")
    frame, truth = simulate_funnel(
        30_000, users=users, user_skill=(1.3, 1.0, 0.7), snapshot="2030-01-01", seed=11
    )
    assert truth["advance_by_user"]["ace"]["Negotiation"] == pytest.approx(0.91)  # 0.7 x 1.3
    assert truth["advance_by_user"]["ace"]["Qualified"] == pytest.approx(0.65)
    assert truth["advance_by_user"]["weak"]["New"] == pytest.approx(0.42)
    outcome = frame.groupby("lead_id")[["user", "outcome"]].first()
    won = outcome["outcome"].eq("won").groupby(outcome["user"]).mean()
    # P(won from New): the product of the four advance probabilities, each scaled by the skill
    expected = {name: np.prod(list(truth["advance_by_user"][name].values())) for name in users}
    for name in users:
        n = (outcome["user"] == name).sum()
        assert abs(won[name] - expected[name]) < 4 * np.sqrt(expected[name] * (1 - expected[name]) / n)
    assert won["ace"] > 2 * won["mid"] > 4 * won["weak"]
    per_user = {
        name: stage_conversion(part).set_index("stage").loc["New", "conversion_rate"]
        for name, part in frame.groupby("user", observed=True)
    }
    assert per_user["ace"] == pytest.approx(0.78, abs=0.02) and per_user["weak"] == pytest.approx(
        0.42, abs=0.02
    )


def test_stuck_leads_stay_longer_and_are_named():
    frame, truth = simulate_funnel(20_000, stuck_share=0.1, stuck_factor=8.0, snapshot="2030-01-01", seed=12)
    stuck = truth["stuck_lead_ids"]
    assert stuck.dtype == np.int64 and (np.diff(stuck) > 0).all()
    assert len(stuck) / 20_000 == pytest.approx(0.1, abs=0.01)
    is_stuck = frame["lead_id"].isin(stuck)
    new = frame["stage"] == "New"
    days = (frame["left_at"] - frame["entered_at"]).dt.total_seconds() / 86_400
    assert days[new & ~is_stuck].median() == pytest.approx(3, rel=0.1)  # the stated median
    assert days[new & is_stuck].median() == pytest.approx(24, rel=0.15)  # eight times longer
    # being stuck slows the leads down, it does not change their chances
    outcome = frame.groupby("lead_id")["outcome"].first()
    won_stuck = (outcome[outcome.index.isin(stuck)] == "won").mean()
    assert won_stuck == pytest.approx(truth["win_probability"]["New"], abs=0.03)
