"""Month-end probability snapshots: bands of stated probability against how often they were won.

The simulated pipelines have a known truth by construction: each lead sits in one band of stated probability
for 1 to 6 month ends and is won with that band's *true* chance, which the tests choose.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import month_end_snapshots, probability_bands, snapshot_stage_rates
from funnel_metrics.probability_bands import SnapshotsError, validate_snapshots

MIDPOINTS = np.arange(10) / 10 + 0.05  # 5 %, 15 %, ..., 95 %
# ten bands checked at once: 99.5 % intervals, so that all ten cover the truth 95 % of the time (Bonferroni)
JOINT = 0.995


def simulate_snapshots(true_rate, n_leads: int, seed: int, open_share: float = 0.0) -> pd.DataFrame:
    """``n_leads`` leads, each stated at one band's midpoint for 1-6 month ends and won with
    ``true_rate[band]``; a share ``open_share`` of them is still open."""
    rng = np.random.default_rng(seed)
    band = rng.integers(0, 10, n_leads)
    months = rng.integers(1, 7, n_leads)
    won = rng.random(n_leads) < np.asarray(true_rate)[band]
    outcome = np.where(won, "won", "lost").astype(object)
    outcome[rng.random(n_leads) < open_share] = "open"
    lead = np.repeat(np.arange(1, n_leads + 1), months)
    month = np.arange(months.sum()) - np.repeat(np.cumsum(months) - months, months)
    return pd.DataFrame(
        {
            "lead_id": lead,
            "snapshot_date": pd.date_range("2024-01-31", periods=6, freq="ME")[month],
            "stage": np.where(MIDPOINTS[band[lead - 1]] > 0.5, "Proposal", "Qualified"),
            "stage_sequence": np.where(MIDPOINTS[band[lead - 1]] > 0.5, 2, 1),
            "probability": MIDPOINTS[band[lead - 1]],
            "outcome": outcome[lead - 1],
        }
    )


def test_ninety_percent_deals_winning_sixty_percent_are_found():
    truth = MIDPOINTS.copy()
    truth[9] = 0.60  # "90 percent deals are often only 60 percent likely"
    result = probability_bands(simulate_snapshots(truth, 6000, seed=7), confidence=JOINT)
    assert list(result["band"]) == [f"{i * 10}-{i * 10 + 10} %" for i in range(10)]
    assert (result["ci_low"] <= truth).all() and (truth <= result["ci_high"]).all(), result
    top = result.iloc[9]
    assert top["mean_stated"] == pytest.approx(0.95)
    assert top["ci_high"] < 0.75, "the interval rules the stated 95 % out"
    # the well-calibrated bands: the stated probability is inside the interval
    calibrated = result.iloc[:9]
    assert (
        (calibrated["ci_low"] <= calibrated["mean_stated"])
        & (calibrated["mean_stated"] <= calibrated["ci_high"])
    ).all()


def test_a_calibrated_pipeline_shows_no_gap_and_the_expected_brier():
    result = probability_bands(simulate_snapshots(MIDPOINTS, 6000, seed=12), confidence=JOINT)
    assert ((result["ci_low"] <= result["mean_stated"]) & (result["mean_stated"] <= result["ci_high"])).all()
    # a calibrated forecast's Brier score is the mean of p (1 - p)
    assert result.attrs["brier"] == pytest.approx(np.mean(MIDPOINTS * (1 - MIDPOINTS)), abs=0.01)


def test_intervals_count_each_lead_once():
    """Over many simulated pipelines the 95 % interval covers the truth about 95 % of the time; counting
    the snapshots of one lead as independent trials would make it far too narrow."""
    truth = MIDPOINTS.copy()
    truth[9] = 0.60
    covered = []
    for seed in range(200):
        top = probability_bands(simulate_snapshots(truth, 400, seed=1000 + seed)).iloc[9]
        covered.append(top["ci_low"] <= 0.60 <= top["ci_high"])
    assert 0.90 <= np.mean(covered) <= 0.99


def test_open_leads_are_left_out_and_counted():
    snapshots = pd.DataFrame(
        {
            "lead_id": [1, 1, 2, 3, 4],
            "snapshot_date": ["2024-01-31", "2024-02-29", "2024-01-31", "2024-01-31", "2024-02-29"],
            "stage": ["New"] * 5,
            "probability": [0.82, 0.85, 0.88, 0.80, None],
            "outcome": ["won", "won", "lost", "open", "lost"],
        }
    )
    result = probability_bands(snapshots)
    top = result.set_index("band").loc["80-90 %"]
    assert (top["snapshots"], top["n"], top["won"], top["leads"], top["open"]) == (4, 3, 2, 2, 1)
    assert top["observed"] == pytest.approx(2 / 3)
    assert top["mean_stated"] == pytest.approx((0.82 + 0.85 + 0.88) / 3)
    assert result.attrs["open_snapshots"] == 1 and result.attrs["unstated"] == 1
    assert result.attrs["brier"] == pytest.approx((0.18**2 + 0.15**2 + 0.88**2) / 3)
    assert result.attrs["brier_snapshots"] == 3
    assert result["n"].sum() == 3, "no other band holds anything"


def test_a_probability_on_an_edge_is_in_the_band_it_starts():
    snapshots = pd.DataFrame(
        {
            "lead_id": [1, 2, 3, 4],
            "snapshot_date": ["2024-01-31"] * 4,
            "stage": ["New"] * 4,
            "probability": [0.3, 30 / 100, 60 / 100, 1.0],
            "outcome": ["won", "lost", "won", "won"],
        }
    )
    result = probability_bands(snapshots).set_index("band")["snapshots"]
    assert (result["30-40 %"], result["60-70 %"], result["90-100 %"], result["20-30 %"]) == (2, 1, 1, 0)


def test_band_edges_are_configurable_and_checked():
    snapshots = simulate_snapshots(MIDPOINTS, 200, seed=3)
    result = probability_bands(snapshots, bands=[0, 0.5, 1])
    assert list(result["band"]) == ["0-50 %", "50-100 %"]
    assert result["snapshots"].sum() == len(snapshots)
    with pytest.raises(ValueError, match="from 0 to 1"):
        probability_bands(snapshots, bands=[0.1, 1])


def test_probabilities_in_percent_are_refused_with_the_fix():
    with pytest.raises(SnapshotsError, match="divide by 100"):
        validate_snapshots(
            pd.DataFrame(
                {
                    "lead_id": [1],
                    "snapshot_date": ["2024-01-31"],
                    "stage": ["New"],
                    "probability": [60],
                    "outcome": ["won"],
                }
            )
        )
    with pytest.raises(SnapshotsError, match="outcome"):
        validate_snapshots(pd.DataFrame({"lead_id": [1], "snapshot_date": ["2024-01-31"]}))


def test_stage_rates_recover_each_stage_and_recommend():
    truth = MIDPOINTS.copy()
    truth[5:] = 0.40  # every band above 50 % (stage Proposal) wins 40 %
    snapshots = simulate_snapshots(truth, 6000, seed=5)
    rates = snapshot_stage_rates(snapshots, stated={"Proposal": 0.75}, confidence=JOINT).set_index("stage")
    proposal = rates.loc["Proposal"]
    assert proposal["ci_low"] <= 0.40 <= proposal["ci_high"]
    assert proposal["stated"] == 0.75
    assert proposal["recommended"] == proposal["observed"], "enough leads: the measure as it is"
    qualified = rates.loc["Qualified"]
    assert qualified["ci_low"] <= MIDPOINTS[:5].mean() <= qualified["ci_high"]
    assert np.isnan(qualified["stated"])
    small = snapshot_stage_rates(snapshots[snapshots["lead_id"] <= 20], stated={"Proposal": 0.75})
    row = small.set_index("stage").loc["Proposal"]
    expected = (row["leads"] * row["observed"] + 20 * 0.75) / (row["leads"] + 20)
    assert row["recommended"] == pytest.approx(expected), "a few leads: shrunk toward the stated value"


def test_month_end_snapshots_of_stays(make_transitions, day):
    # 2024-01-01 is day 0; month ends are at days 31 (Feb 1), 60 (Mar 1), 91 (Apr 1)
    table = make_transitions(
        [
            (1, "New", 1, 10, 45, "won"),  # New over the January end
            (1, "Proposal", 2, 45, 70, "won"),  # Proposal over the February end
            (1, "Won", 3, 70, 70, "won"),  # a won stay never stands at a month end
            (2, "New", 1, 31, 60, "lost"),  # enters exactly at the January end, left exactly at February's
            (3, "New", 1, 50, None, "open"),  # still open: February and March ends up to as_of
        ]
    )
    snapshots = month_end_snapshots(table, {"New": 0.1, "Proposal": 0.6}, as_of=day(95))
    got = [
        (row.lead_id, row.snapshot_date.strftime("%Y-%m-%d"), row.stage, row.probability, row.outcome)
        for row in snapshots.itertuples()
    ]
    assert got == [
        (1, "2024-01-31", "New", 0.1, "won"),
        (2, "2024-01-31", "New", 0.1, "lost"),
        (1, "2024-02-29", "Proposal", 0.6, "won"),
        (3, "2024-02-29", "New", 0.1, "open"),
        (3, "2024-03-31", "New", 0.1, "open"),
    ]
    assert len(month_end_snapshots(table, {}, as_of=day(30))) == 0, "no month has ended yet"
