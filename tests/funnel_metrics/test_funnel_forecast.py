"""forecast: hand-placed close dates, and expected wins against what the simulated open leads really did."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import forecast, simulate_funnel, transitions_from_records

NAN = float("nan")

# New(1) -> Qualified(2) -> Won(3); days since 2024-01-01, snapshot at day 30 (2024-01-31).
# Closed New stays all last 2 days and closed Qualified stays 4, 4 and 8 days; the open stays are censored
# early enough (or late enough) not to move the Kaplan-Meier medians: New 2 days, Qualified 4 days.
STAYS = [
    (1, "New", 1, 0, 2, "won"),
    (1, "Qualified", 2, 2, 6, "won"),
    (1, "Won", 3, 6, None, "won"),
    (2, "New", 1, 0, 2, "lost"),
    (2, "Qualified", 2, 2, 10, "lost"),
    (3, "New", 1, 1, 3, "won"),
    (3, "Qualified", 2, 3, 7, "won"),
    (3, "Won", 3, 7, None, "won"),
    (4, "New", 1, 0, 2, "lost"),
    (5, "New", 1, 29, None, "open"),  # 1 day in New: closes in 2 + 4 - 1 = 5 days, day 35 (February)
    (6, "New", 1, 25, 27, "open"),
    (6, "Qualified", 2, 27, None, "open"),  # 3 days in Qualified: closes in 4 - 3 = 1 day, day 31 (February)
    (7, "New", 1, 10, 12, "open"),
    (7, "Qualified", 2, 12, None, "open"),  # 18 days, 14 past the median: overdue
]
# calibration: New 5 moved on / 1 lost; Qualified 2 moved on / 1 lost -> P(won | Qualified) = 2/3,
# P(won | New) = 5/6 * 2/3 = 5/9
P_NEW, P_QUALIFIED = 5 / 9, 2 / 3


def forecast_frame(rows: list[tuple], revenue: bool = False) -> pd.DataFrame:
    """The expected forecast: its overdue row first (``("overdue", leads, wins[, revenue])``), then rows
    ``(period, later, leads, wins[, revenue])``."""
    columns = ["period", "later", "open_leads", "expected_wins"] + (["expected_revenue"] if revenue else [])
    frame = pd.DataFrame([(None, False, *rows[0][1:]), *rows[1:]], columns=columns)
    frame["period"] = pd.to_datetime(frame["period"], utc=True).astype("datetime64[ns, UTC]")
    frame.insert(1, "overdue", [True] + [False] * (len(rows) - 1))
    return frame.astype({"later": bool, "open_leads": "int64", "expected_wins": "float64"})


def test_waterfall_by_month_with_calibrated_probabilities(make_transitions, day):
    result = forecast(make_transitions(STAYS), as_of=day(30), horizon=2)
    expected = forecast_frame(
        [
            ("overdue", 1, P_QUALIFIED),  # L7: should have closed on day 16
            ("2024-01-01", False, 0, 0.0),  # January, whose last day is as_of
            ("2024-02-01", False, 2, P_QUALIFIED + P_NEW),  # L6, L5
            ("2024-03-01", True, 0, 0.0),  # later
        ]
    )
    pd.testing.assert_frame_equal(result, expected)
    assert result.attrs["as_of"] == day(30)
    assert result.attrs["win_probability"] == pytest.approx(
        {"New": P_NEW, "Qualified": P_QUALIFIED, "Won": 1.0}
    )
    assert result.attrs["leads_without_probability"] == 0


def test_waterfall_by_day_with_given_probabilities_and_revenue(make_transitions, day):
    frame = make_transitions(STAYS)
    frame["expected_revenue"] = frame["lead_id"].map({5: 1000.0, 6: 3000.0})  # L7's unknown: counts as 0
    result = forecast(
        frame, as_of=day(30), freq="D", horizon=3, win_probability={"New": 0.1, "Qualified": 0.5}
    )
    expected = forecast_frame(
        [
            ("overdue", 1, 0.5, 0.0),  # L7
            ("2024-01-31", False, 0, 0.0, 0.0),
            ("2024-02-01", False, 1, 0.5, 1500.0),  # L6
            ("2024-02-02", False, 0, 0.0, 0.0),
            ("2024-02-03", True, 1, 0.1, 100.0),  # L5, day 35, past the horizon
        ],
        revenue=True,
    )
    pd.testing.assert_frame_equal(result, expected)


def test_unknown_medians_and_probabilities_go_to_the_later_row(make_transitions, day):
    stays = [
        (1, "New", 1, 0, 1, "open"),
        (1, "Qualified", 2, 1, None, "open"),  # nobody ever left Qualified: no median, no probability
        (2, "New", 1, 0, 1, "lost"),
    ]
    result = forecast(make_transitions(stays), as_of=day(3), freq="D", horizon=2)
    assert result["open_leads"].tolist() == [0, 0, 0, 1]
    assert result["expected_wins"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert result.attrs["leads_without_probability"] == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"win_probability": {"New": 0.5}}, "no value for stage.*Qualified", id="missing-stage"),
        pytest.param({"win_probability": {"New": 5, "Qualified": 0.5}}, "between 0 and 1", id="out-of-range"),
        pytest.param({"horizon": 0}, "at least 1 period", id="horizon"),
        pytest.param({"freq": "fortnightly"}, "freq: cannot read", id="freq"),
    ],
)
def test_bad_arguments_are_refused(make_transitions, day, kwargs, message):
    with pytest.raises(ValueError, match=message):
        forecast(make_transitions(STAYS), as_of=day(30), **kwargs)


def test_a_lead_past_its_expected_close_is_overdue_not_in_an_ended_period(make_transitions, day):
    """Snapshot on the last day of January: a lead that should have closed in mid-January is overdue, a lead
    expected to close on the snapshot day itself is not (January), one a day later is in February."""
    stays = [
        *STAYS[:9],
        # Qualified stays: closed after 4, 4 and 8 days, open for 16, 8 and 7: a median of 8 days
        (5, "Qualified", 2, 14, None, "open"),  # 16 days in Qualified: due on day 22, overdue
        (6, "Qualified", 2, 22, None, "open"),  # 8 days: due on day 30, the snapshot: January
        (7, "Qualified", 2, 23, None, "open"),  # 7 days: due on day 31: February
    ]
    result = forecast(make_transitions(stays), as_of=day(30), horizon=2)
    assert result["overdue"].tolist() == [True, False, False, False]
    assert result["open_leads"].tolist() == [1, 1, 1, 0]
    assert result["open_leads"].sum() == 3  # every open lead once


def test_empty_table_gives_empty_periods():
    result = forecast(transitions_from_records([]), as_of="2024-05-10", horizon=3)
    assert result["period"].tolist()[1:] == [pd.Timestamp(f"2024-0{m}-01", tz="UTC") for m in (5, 6, 7, 8)]
    assert result["period"].isna().tolist() == [True, False, False, False, False]
    assert result["open_leads"].sum() == 0 and result["expected_wins"].sum() == 0.0


# --------------------------------------------------------------------------------------------------------
# simulated pipeline
# --------------------------------------------------------------------------------------------------------

SIMULATION = {"n_leads": 30_000, "start": "2024-01-01", "end": "2024-02-10", "seed": 12}


def current_stage_of_open_leads(frame: pd.DataFrame) -> pd.Series:
    open_stays = frame[frame["outcome"] == "open"].sort_values(["lead_id", "entered_at", "stage_sequence"])
    return open_stays.groupby("lead_id")["stage"].last()


def test_expected_wins_are_the_sum_of_the_open_leads_win_probabilities():
    frame, truth = simulate_funnel(**SIMULATION)
    result = forecast(frame, win_probability=truth["win_probability"], horizon=3)
    current = current_stage_of_open_leads(frame)
    assert result["open_leads"].sum() == len(current)
    assert result["expected_wins"].sum() == pytest.approx(current.map(truth["win_probability"]).sum())
    revenue = frame.groupby("lead_id")["expected_revenue"].first().loc[current.index]
    expected_revenue = (current.map(truth["win_probability"]) * revenue).sum()
    assert result["expected_revenue"].sum() == pytest.approx(expected_revenue)
    # the default (calibrated) probabilities give nearly the same total
    calibrated = forecast(frame, horizon=3)
    assert calibrated["expected_wins"].sum() == pytest.approx(result["expected_wins"].sum(), rel=0.05)


def test_expected_wins_match_what_the_open_leads_went_on_to_do():
    frame, truth = simulate_funnel(**SIMULATION)
    final, _ = simulate_funnel(**SIMULATION, snapshot="2026-01-01")  # the same leads, run to the end
    current = current_stage_of_open_leads(frame)
    probability = current.map(truth["win_probability"]).to_numpy()
    expected = forecast(frame, horizon=3)["expected_wins"].sum()
    actual = final[final["lead_id"].isin(current.index)].groupby("lead_id")["outcome"].first().eq("won").sum()
    spread = np.sqrt((probability * (1 - probability)).sum())
    assert abs(actual - expected) < 4 * spread, (actual, expected, spread)
    # and the waterfall puts most of them within the next two months (medians sum to 34 days)
    waterfall = forecast(frame, horizon=3)
    assert waterfall["open_leads"].iloc[:3].sum() > 0.8 * len(current)
