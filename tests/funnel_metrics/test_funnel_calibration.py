"""calibration: a hand-computed chain, the Brier score, and the truth of simulated half-open funnels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import calibration, simulate_funnel, transitions_from_records
from funnel_metrics.stats import normal_quantile

NAN = float("nan")

# New(1) -> Qualified(2) -> Won(3)
STAYS = [
    *[
        stay
        for lead in (1, 2, 3)
        for stay in (
            (lead, "New", 1, 0, 1, "won"),
            (lead, "Qualified", 2, 1, 2, "won"),
            (lead, "Won", 3, 2, None, "won"),
        )
    ],
    (4, "New", 1, 0, 3, "lost"),  # lost in New
    (5, "New", 1, 0, 1, "lost"),
    (5, "Qualified", 2, 1, 4, "lost"),  # lost in Qualified
    (6, "New", 1, 2, None, "open"),  # open in New: left out of New's conversion
    (7, "New", 1, 0, 1, "open"),
    (7, "Qualified", 2, 1, None, "open"),  # moved on from New (a success there), open in Qualified
    (8, "New", 1, 0, 1, "won"),
    (8, "Qualified", 2, 1, 5, "won"),  # won while in Qualified, no won-stage stay: a success there
]
STATED = {"New": 0.3, "Qualified": 0.6, "Won": 1.0}


def test_observed_is_the_product_of_stage_conversions_of_decided_leads(make_transitions):
    # New: 6 moved on (L1 L2 L3 L5 L7 L8), 1 lost (L4) -> 6/7; Qualified: 3 moved on + L8 won there, 1 lost
    # (L5) -> 4/5; so P(won | New) = 6/7 * 4/5.
    result = calibration(make_transitions(STAYS), STATED, min_sample=6, prior_weight=4)
    assert result["stage"].tolist() == ["New", "Qualified", "Won"]
    np.testing.assert_allclose(result["observed"], [24 / 35, 4 / 5, 1.0])
    assert result["n"].tolist() == [7, 5, 3]  # decided leads; the won stage: leads in it
    np.testing.assert_allclose(result["stated"], [0.3, 0.6, 1.0])
    # New has 7 >= 6 decided leads: observed as it is; Qualified 5 < 6: (5 * 0.8 + 4 * 0.6) / (5 + 4)
    np.testing.assert_allclose(result["recommended"], [24 / 35, 6.4 / 9, 1.0])


def test_interval_by_the_delta_method_on_the_log(make_transitions):
    result = calibration(make_transitions(STAYS), STATED)
    z = normal_quantile(0.95)
    # each factor's variance term uses c = (successes + 1/2) / (decided + 1)
    new_term = (1 - 6.5 / 8) / (7 * 6.5 / 8)
    qualified_term = (1 - 4.5 / 6) / (5 * 4.5 / 6)
    expected_low = [
        24 / 35 * math.exp(-z * math.sqrt(new_term + qualified_term)),
        4 / 5 * math.exp(-z * math.sqrt(qualified_term)),
        1.0,
    ]
    np.testing.assert_allclose(result["ci_low"], expected_low)
    np.testing.assert_allclose(result["ci_high"], [1.0, 1.0, 1.0])  # clipped
    narrow = calibration(make_transitions(STAYS), STATED, confidence=0.5)
    assert narrow.loc[1, "ci_high"] == pytest.approx(
        4 / 5 * math.exp(normal_quantile(0.5) * math.sqrt(qualified_term))
    )


def test_brier_score_over_the_stays_of_resolved_leads(make_transitions):
    # won leads' stays: New (0.3 vs 1) x4, Qualified (0.6 vs 1) x4, Won (1 vs 1) x3;
    # lost leads' stays: New (0.3 vs 0) x2, Qualified (0.6 vs 0) x1; open leads L6 L7 are not scored
    result = calibration(make_transitions(STAYS), STATED)
    expected = (4 * 0.49 + 4 * 0.16 + 0 + 2 * 0.09 + 0.36) / 14
    assert result.attrs["brier"] == pytest.approx(expected)
    assert result.attrs["brier_stays"] == 14


def test_stages_without_a_stated_value(make_transitions):
    result = calibration(make_transitions(STAYS), {"New": 0.3}, min_sample=1000)
    assert np.isnan(result.loc[1, "stated"])
    assert result.loc[1, "recommended"] == pytest.approx(0.8)  # nothing to shrink toward: observed
    assert result.loc[0, "recommended"] == pytest.approx((7 * 24 / 35 + 20 * 0.3) / 27)
    assert result.attrs["brier"] == pytest.approx((4 * 0.49 + 2 * 0.09) / 6)  # New stays only


@pytest.mark.parametrize(
    ("stays", "observed", "low", "high_above"),
    [
        pytest.param(
            # nobody ever got out of Qualified alive: observed 0, interval [0, something above 0]
            [(1, "New", 1, 0, 1, "lost"), (1, "Qualified", 2, 1, 2, "lost"), (2, "New", 1, 0, 1, "won")]
            + [(2, "Won", 3, 1, None, "won")],
            [0.5 * 0.0, 0.0, 1.0],
            [0.0, 0.0, 1.0],
            0.0,
            id="zero",
        ),
        pytest.param(
            # no lead has decided in Qualified yet: no estimate for the chain through it
            [(1, "New", 1, 0, 1, "open"), (1, "Qualified", 2, 1, None, "open"), (2, "New", 1, 0, 1, "lost")],
            [NAN, NAN],
            [NAN, NAN],
            None,
            id="undecided",
        ),
    ],
)
def test_degenerate_chains(make_transitions, stays, observed, low, high_above):
    result = calibration(make_transitions(stays), {"New": 0.2, "Qualified": 0.4})
    np.testing.assert_equal(result["observed"].to_numpy(), observed)
    np.testing.assert_equal(result["ci_low"].to_numpy(), low)
    if high_above is None:
        assert result["ci_high"].isna().all()
        np.testing.assert_allclose(result["recommended"], [0.2, 0.4])  # the stated values stand
    else:
        assert (result["ci_high"].to_numpy()[:2] > high_above).all()


@pytest.mark.parametrize(
    ("stated", "message"),
    [
        pytest.param({"New": 30}, "divide by 100", id="percent"),
        pytest.param({"New": -0.1}, "between 0 and 1", id="negative"),
        pytest.param({"New": "high"}, "not a number", id="text"),
        pytest.param([0.1, 0.2], "mapping", id="not-a-mapping"),
    ],
)
def test_bad_stated_values_are_refused(make_transitions, stated, message):
    with pytest.raises(ValueError, match=message):
        calibration(make_transitions(STAYS), stated)


def test_empty_table():
    result = calibration(transitions_from_records([]), {})
    assert result.empty and np.isnan(result.attrs["brier"])


# --------------------------------------------------------------------------------------------------------
# simulated funnels: the truth is known
# --------------------------------------------------------------------------------------------------------


def test_recovers_the_true_win_probability_while_many_leads_are_open():
    frame, truth = simulate_funnel(100_000, start="2024-01-01", end="2024-02-10", seed=4)
    outcome = frame.groupby("lead_id")["outcome"].first()
    assert 0.33 < (outcome == "open").mean() < 0.45  # snapshot mid-flight

    result = calibration(frame, {}).set_index("stage")
    for stage in ("New", "Qualified", "Proposal", "Negotiation"):
        expected = truth["win_probability"][stage]
        row = result.loc[stage]
        assert row["ci_low"] <= expected <= row["ci_high"], stage
        assert row["observed"] == pytest.approx(expected, rel=0.05), stage

    # the plain share of closed leads that were won is far too low: slow wins are still open
    entered_new = frame.loc[frame["stage"] == "New", "lead_id"].unique()
    closed = outcome.loc[entered_new]
    naive = (closed == "won").sum() / closed.isin(["won", "lost"]).sum()
    assert naive < 0.5 * truth["win_probability"]["New"]
    assert naive < result.loc["New", "ci_low"]


def test_interval_covers_the_truth_about_as_often_as_stated():
    covered = []
    for seed in range(30):
        frame, truth = simulate_funnel(2000, start="2024-01-01", end="2024-02-10", seed=100 + seed)
        result = calibration(frame, {}).iloc[:4]
        expected = result["stage"].map(truth["win_probability"]).to_numpy(dtype=float)
        covered.extend((result["ci_low"] <= expected) & (expected <= result["ci_high"]))
    coverage = float(np.mean(covered))
    assert 0.88 <= coverage <= 0.995, coverage  # 120 intervals at 95 %


def test_recommended_moves_toward_the_evidence_as_the_sample_grows():
    frame, truth = simulate_funnel(3000, start="2024-01-01", end="2024-03-01", seed=8)
    stated = {"New": 0.5, "Qualified": 0.5, "Proposal": 0.5, "Negotiation": 0.5}
    result = calibration(frame, stated, min_sample=10**9, prior_weight=20)
    weight = result["n"] / (result["n"] + 20)
    expected = weight * result["observed"] + (1 - weight) * 0.5
    np.testing.assert_allclose(result["recommended"].iloc[:4], expected.iloc[:4])
    # stated 0.5 everywhere is far off: the Brier score of the truth is better
    better = calibration(frame, {s: truth["win_probability"][s] for s in stated})
    assert better.attrs["brier"] < result.attrs["brier"]
    pd.testing.assert_series_equal(better["observed"], result["observed"])
