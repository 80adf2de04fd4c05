"""kaplan_meier and time_in_stage: hand-computed curves, a large censored sample, the snapshot time."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import kaplan_meier, stay_days, stuck_leads, time_in_stage, transitions_from_records

NAN = float("nan")


def dwell_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["stage", "stage_sequence", "n", "open", "median_days", "p90_days"])
    return frame.astype(
        {
            "stage": "string",
            "stage_sequence": "int64",
            "n": "int64",
            "open": "int64",
            "median_days": "float64",
            "p90_days": "float64",
        }
    )


# --------------------------------------------------------------------------------------------------------
# kaplan_meier
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("durations", "observed", "expected"),
    [
        pytest.param(
            [3.0, 1.0, 2.0],
            [True, True, True],
            [(1.0, 3, 1, 2 / 3), (2.0, 2, 1, 1 / 3), (3.0, 1, 1, 0.0)],
            id="all-observed",
        ),
        pytest.param(
            # At t=2 two events and one censoring: the censored one is still at risk at 2 (events first).
            [2.0, 2.0, 2.0, 5.0],
            [1, 1, 0, 1],
            [(2.0, 4, 2, 0.5), (5.0, 1, 1, 0.0)],
            id="tied-events-and-censoring",
        ),
        pytest.param(
            [1.0, 2.0, 3.0],
            [True, False, False],
            [(1.0, 3, 1, 2 / 3), (2.0, 2, 0, 2 / 3), (3.0, 1, 0, 2 / 3)],
            id="censored-tail-stays-up",
        ),
        pytest.param(
            # S(2)=0.8, censor at 3, S(4)=0.8*2/3, S(6)=0.8*2/3*1/2, S(8)=0
            [6.0, 2.0, 8.0, 3.0, 4.0],
            [True, True, True, False, True],
            [
                (2.0, 5, 1, 0.8),
                (3.0, 4, 0, 0.8),
                (4.0, 3, 1, 1.6 / 3),
                (6.0, 2, 1, 0.8 / 3),
                (8.0, 1, 1, 0.0),
            ],
            id="textbook",
        ),
        pytest.param([], [], [], id="empty"),
    ],
)
def test_kaplan_meier_table(durations, observed, expected):
    table = kaplan_meier(durations, observed)
    assert list(table.columns) == ["time", "at_risk", "events", "survival"]
    assert [str(t) for t in table.dtypes] == ["float64", "int64", "int64", "float64"]
    assert table.index.equals(pd.RangeIndex(len(expected)))
    assert table["time"].tolist() == [row[0] for row in expected]
    assert table["at_risk"].tolist() == [row[1] for row in expected]
    assert table["events"].tolist() == [row[2] for row in expected]
    np.testing.assert_allclose(table["survival"].to_numpy(), [row[3] for row in expected], rtol=0, atol=1e-12)


def test_kaplan_meier_without_censoring_is_one_minus_the_empirical_cdf():
    durations = np.random.default_rng(7).gamma(2.0, 3.0, 500)
    table = kaplan_meier(pd.Series(durations), np.ones(500, dtype=bool))
    ecdf = np.searchsorted(np.sort(durations), table["time"].to_numpy(), side="right") / 500
    np.testing.assert_allclose(table["survival"].to_numpy(), 1.0 - ecdf, atol=1e-12)


def reference_km(durations: np.ndarray, observed: np.ndarray) -> list[tuple]:
    """Kaplan-Meier step by step, one distinct time at a time (slow, obviously right)."""
    rows, survival = [], 1.0
    for time in sorted(set(durations.tolist())):
        at_risk = int((durations >= time).sum())
        events = int(((durations == time) & observed).sum())
        survival *= 1.0 - events / at_risk
        rows.append((time, at_risk, events, survival))
    return rows


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_kaplan_meier_matches_a_step_by_step_reference_on_tied_random_data(seed):
    rng = np.random.default_rng(seed)
    durations = rng.integers(0, 15, 400).astype(float)  # many ties, events and censorings mixed
    observed = rng.random(400) < 0.6
    table = kaplan_meier(durations, observed)
    expected = reference_km(durations, observed)
    assert table[["time", "at_risk", "events"]].to_numpy().tolist() == [list(row[:3]) for row in expected]
    np.testing.assert_allclose(table["survival"].to_numpy(), [row[3] for row in expected], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("durations", "observed", "message"),
    [
        pytest.param([1.0, 2.0], [True], "one flag per duration", id="length"),
        pytest.param([1.0, -2.0], [True, True], ">= 0", id="negative"),
        pytest.param([1.0, np.nan], [True, True], "finite", id="nan"),
        pytest.param([1.0, 2.0], [1, 2], "booleans", id="not-boolean"),
        pytest.param([[1.0], [2.0]], [True, True], "one-dimensional", id="2d"),
        pytest.param(["a", "b"], [True, True], "numbers", id="text"),
    ],
)
def test_kaplan_meier_refuses_bad_input(durations, observed, message):
    with pytest.raises(ValueError, match=message):
        kaplan_meier(durations, observed)


# --------------------------------------------------------------------------------------------------------
# time_in_stage
# --------------------------------------------------------------------------------------------------------


def test_all_stays_closed_median_and_p90_follow_the_km_definition(make_transitions):
    # New: 1..5 days -> median 3 (= numpy's median for odd n), p90 5 (S(4) = 0.2, S(5) = 0).
    # Qualified: 1..10 days -> S(t) = (10 - t) / 10: median 5 (the lower middle; numpy's median says 5.5),
    # p90 9 (S(9) = 0.1 exactly: "<= 0.1" must hold despite floating point).
    stays = [(lead, "New", 1, 0, lead, "lost") for lead in range(1, 6)]
    stays += [(100 + k, "Qualified", 2, 0, k, "lost") for k in range(1, 11)]
    result = time_in_stage(make_transitions(stays))
    expected = dwell_frame([("New", 1, 5, 0, 3.0, 5.0), ("Qualified", 2, 10, 0, 5.0, 9.0)])
    pd.testing.assert_frame_equal(result, expected)
    assert result.loc[0, "median_days"] == np.median([1, 2, 3, 4, 5])


def test_each_stage_gets_the_curve_of_its_own_stays(make_transitions):
    # Stages are estimated together; each must equal kaplan_meier on that stage's stays alone.
    rng = np.random.default_rng(11)
    stages = [("New", 1), ("Qualified", 2), ("Proposition", 3)]
    stays = []
    for lead in range(600):
        stage, sequence = stages[lead % 3]
        entered = float(rng.integers(0, 30))
        left = entered + float(rng.integers(0, 12)) if rng.random() < 0.9 else None
        stays.append((lead, stage, sequence, entered, left, "lost" if left is not None else "open"))
    frame = make_transitions(stays)
    result = time_in_stage(frame, as_of="2024-02-15")
    as_of = pd.Timestamp("2024-02-15T00:00:00Z")
    for row in result.itertuples():
        mine = frame[frame["stage"] == row.stage]
        days = (mine["left_at"].fillna(as_of) - mine["entered_at"]) / pd.Timedelta(days=1)
        curve = kaplan_meier(days.to_numpy(), mine["left_at"].notna().to_numpy())
        assert row.n == len(mine)
        assert row.open == int(mine["left_at"].isna().sum())
        np.testing.assert_equal(row.median_days, curve.loc[curve["survival"] <= 0.5 + 1e-9, "time"].min())
        np.testing.assert_equal(row.p90_days, curve.loc[curve["survival"] <= 0.1 + 1e-9, "time"].min())
    assert result["median_days"].notna().all()
    assert result["p90_days"].notna().any()


def test_open_stays_are_censored_at_as_of(make_transitions):
    # Proposition, with as_of = day 10: closed 2, 4, 6, 8 days and one stay open since day 7 (censored at 3).
    # S(2)=0.8, S(4)=0.8*2/3=0.53, S(6)=0.27 -> median 6 (the closed stays alone would say 4 or 5), p90 8.
    # Negotiation: one closed 1-day stay, two open ones (5 and 6 days): S never gets below 2/3 -> NaN.
    stays = [
        (1, "Proposition", 3, 0, 2, "lost"),
        (2, "Proposition", 3, 0, 4, "lost"),
        (3, "Proposition", 3, 0, 6, "lost"),
        (4, "Proposition", 3, 0, 8, "lost"),
        (5, "Proposition", 3, 7, None, "open"),
        (6, "Negotiation", 4, 1, 2, "lost"),
        (7, "Negotiation", 4, 5, None, "open"),
        (8, "Negotiation", 4, 4, None, "open"),
    ]
    result = time_in_stage(make_transitions(stays), as_of="2024-01-11T00:00:00Z")
    expected = dwell_frame([("Proposition", 3, 5, 1, 6.0, 8.0), ("Negotiation", 4, 3, 2, NAN, NAN)])
    pd.testing.assert_frame_equal(result, expected)


def test_open_stay_entered_after_as_of_lasts_zero_days(make_transitions):
    # Closed stays of 0 and 1 day plus an open stay entered after as_of. Censored at 0, it is at risk at 0:
    # S(0) = 2/3, S(1) = 0 -> median 1. (A negative duration would leave it out at 0: S(0) = 1/2, median 0.)
    stays = [(1, "New", 1, 2, 2, "lost"), (2, "New", 1, 2, 3, "lost"), (3, "New", 1, 9, None, "open")]
    result = time_in_stage(make_transitions(stays), as_of="2024-01-05")
    pd.testing.assert_frame_equal(result, dwell_frame([("New", 1, 3, 1, 1.0, 1.0)]))


def test_as_of_defaults_to_the_latest_timestamp_in_the_table(make_transitions, day):
    # Latest timestamp: lead 1 leaving New on day 10 (later than every entered_at, the latest being day 4).
    # Qualified: closed 5 and 7 days, lead 2 open since day 4 -> censored at 6 days with as_of = day 10:
    # S(5) = 2/3, S(7) = 0 -> median 7, p90 7. Had as_of been the latest entry (day 4) the open stay would be
    # censored at 0 (median 5); had it been the wall clock, it would outlast 7 days (p90 NaN).
    stays = [
        (1, "New", 1, 0, 10, "lost"),
        (2, "Qualified", 2, 4, None, "open"),
        (3, "Qualified", 2, 1, 6, "lost"),
        (4, "Qualified", 2, 2, 9, "lost"),
    ]
    frame = make_transitions(stays)
    result = time_in_stage(frame)
    assert result.attrs["as_of"] == day(10)
    expected = dwell_frame([("New", 1, 1, 0, 10.0, 10.0), ("Qualified", 2, 3, 1, 7.0, 7.0)])
    pd.testing.assert_frame_equal(result, expected)
    pd.testing.assert_frame_equal(time_in_stage(frame, as_of=day(10)), expected)
    assert time_in_stage(frame, as_of=day(4)).loc[1, "median_days"] == 5.0
    assert np.isnan(time_in_stage(frame, as_of=pd.Timestamp.now(tz="UTC")).loc[1, "p90_days"])


@pytest.mark.parametrize(
    "as_of",
    [
        pytest.param("2024-01-11T00:00:00Z", id="iso-z"),
        pytest.param("2024-01-11T00:00:00", id="iso-naive"),
        pytest.param("2024-01-11T01:00:00+01:00", id="iso-offset"),
        pytest.param(dt.datetime(2024, 1, 11), id="datetime-naive"),
        pytest.param(
            dt.datetime(2024, 1, 10, 19, tzinfo=dt.timezone(dt.timedelta(hours=-5))), id="datetime-tz"
        ),
        pytest.param(pd.Timestamp("2024-01-11", tz="UTC"), id="timestamp"),
        pytest.param(np.datetime64("2024-01-11T00:00:00"), id="numpy"),
    ],
)
def test_as_of_forms_all_mean_the_same_instant(make_transitions, day, as_of):
    stays = [(1, "New", 1, 0, 4, "lost"), (2, "New", 1, 3, None, "open"), (3, "New", 1, 1, 10, "lost")]
    result = time_in_stage(make_transitions(stays), as_of=as_of)
    assert result.attrs["as_of"] == day(10)
    # 4 (event), 7 (censored), 9 (event): S(4) = 2/3, S(9) = 0
    pd.testing.assert_frame_equal(result, dwell_frame([("New", 1, 3, 1, 9.0, 9.0)]))


@pytest.mark.parametrize("as_of", ["next tuesday", "", "NaT"])
def test_unreadable_as_of_is_refused(make_transitions, as_of):
    with pytest.raises(ValueError, match="as_of"):
        time_in_stage(make_transitions([(1, "New", 1, 0, None, "open")]), as_of=as_of)


def test_empty_transitions_give_an_empty_typed_frame():
    result = time_in_stage(transitions_from_records([]))
    pd.testing.assert_frame_equal(result, dwell_frame([]))
    assert result.attrs["as_of"] is None


def test_large_censored_sample_recovers_the_true_median_and_p90_where_closed_stays_alone_do_not():
    """20,000 leads enter a stage; dwell ~ exponential with a 10-day median; snapshot with ~40 % still in it.

    Entries grow exponentially towards the snapshot (ages ~ exponential with mean 1.5 dwell scales), so the
    probability that a stay is still open at the snapshot is 1 / (1 + 1.5) = 40 %. The closed stays are the
    short ones: their durations are exponential with rate 1/scale + 1/(1.5 scale), median 0.6 x the truth.
    """
    rng = np.random.default_rng(20240601)
    n = 20_000
    true_median = 10.0
    scale = true_median / np.log(2)  # exponential: median = scale * ln 2
    true_p90 = scale * np.log(10)  # S(t) = 0.1
    age = rng.exponential(1.5 * scale, n)  # days between entry and snapshot
    dwell = rng.exponential(scale, n)
    snapshot = pd.Timestamp("2025-06-30T12:00:00Z")
    entered = snapshot - pd.to_timedelta(np.round(age * 86_400), unit="s")
    closed = dwell <= age
    left = pd.Series(entered + pd.to_timedelta(np.round(dwell * 86_400), unit="s")).where(closed)
    frame = pd.DataFrame(
        {
            "lead_id": np.arange(n),
            "stage": "Qualified",
            "stage_sequence": 2,
            "entered_at": entered,
            "left_at": left,
            "user": None,
            "team": None,
            "product": None,
            "source": None,
            "outcome": np.where(closed, "lost", "open"),
            "lost_reason": None,
        }
    )
    assert 0.37 < 1 - closed.mean() < 0.43  # the scenario really has ~40 % of stays open

    result = time_in_stage(frame, as_of=snapshot)

    assert result.loc[0, "n"] == n
    assert result.loc[0, "open"] == int((~closed).sum())
    assert result.loc[0, "median_days"] == pytest.approx(true_median, rel=0.04)
    assert result.loc[0, "p90_days"] == pytest.approx(true_p90, rel=0.07)
    naive_median = float(np.median(dwell[closed]))
    assert (
        naive_median < 0.75 * true_median
    )  # why censoring matters: closed stays alone under-state the stage


def test_stay_days_is_the_duration_every_metric_uses(make_transitions, day):
    frame = make_transitions(
        [
            (1, "New", 1, 0, 2.5, "lost"),  # closed: 2.5 days
            (2, "New", 1, 1, None, "open"),  # open: 9 days at day 10
            (3, "New", 1, 12, None, "open"),  # entered after the snapshot: 0
        ]
    )
    days = stay_days(frame, as_of=day(10))
    assert days.name == "days" and days.tolist() == [2.5, 9.0, 0.0]
    stuck = stuck_leads(frame, pd.DataFrame({"stage": ["New"], "target_days_in_stage": [1]}), as_of=day(10))
    assert stuck["days_in_stage"].tolist() == [9.0]
    assert stay_days(frame).tolist() == [2.5, 11.0, 0.0]  # default snapshot: the latest timestamp (day 12)
