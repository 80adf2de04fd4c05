"""Event chains: deadlines (elapsed time, business days, time zones), pairing, statuses, compliance."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from activity_centric import (
    COMPLIANCE_COLUMNS,
    UNITS,
    Threshold,
    chain_compliance,
    chain_events,
    deadlines,
    threshold_problems,
)

NAN = float("nan")
UTC_NS = "datetime64[ns, UTC]"
T = pd.Timestamp("2024-05-06T09:00:00Z")  # a Monday


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def at(minutes: float) -> pd.Timestamp:
    return T + pd.Timedelta(minutes=minutes)


# ---------------------------------------------------------------------------------------------------------
# Threshold
# ---------------------------------------------------------------------------------------------------------


def test_units():
    assert UNITS == ("minutes", "hours", "days", "business_days")


@pytest.mark.parametrize(
    ("value", "unit", "message"),
    [
        (0, "minutes", "> 0"),
        (-1, "hours", "> 0"),
        (float("nan"), "days", "> 0"),
        (1, "weeks", "unknown threshold unit 'weeks'"),
        (1.5, "business_days", "whole number"),
        ("3", "days", "must be a number"),
    ],
)
def test_threshold_validation(value, unit, message):
    with pytest.raises(ValueError, match=message):
        Threshold(value, unit)


def test_threshold_accepts_whole_float_business_days():
    assert Threshold(2.0, "business_days").value == 2.0


@pytest.mark.parametrize(
    ("value", "unit", "codes"),
    [
        (4, "business_days", []),
        (0, "minutes", ["not_positive"]),
        (float("inf"), "hours", ["not_positive"]),
        (True, "days", ["not_a_number"]),
        (1.5, "business_days", ["fractional_business_days"]),
        (-1, "weeks", ["unknown_unit", "not_positive"]),
    ],
)
def test_threshold_problems_are_codes_with_the_value(value, unit, codes):
    problems = threshold_problems(value, unit)
    assert [problem.code for problem in problems] == codes
    for problem in problems:
        assert problem.params == (
            {"unit": unit, "units": UNITS} if problem.code == "unknown_unit" else {"value": value}
        )


# ---------------------------------------------------------------------------------------------------------
# deadlines
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "threshold", "kwargs", "expected"),
    [
        pytest.param("2024-05-06T09:00Z", Threshold(90, "minutes"), {}, "2024-05-06T10:30Z", id="minutes"),
        pytest.param("2024-05-06T09:00Z", Threshold(2.5, "hours"), {}, "2024-05-06T11:30Z", id="hours"),
        pytest.param(
            "2024-05-03T09:00Z", Threshold(1.5, "days"), {}, "2024-05-04T21:00Z", id="days-ignore-weekends"
        ),
        pytest.param(
            "2024-03-30T12:00Z",
            Threshold(1, "days"),
            {"tz": "Europe/Brussels"},
            "2024-03-31T12:00Z",
            id="days-are-24h-across-dst",
        ),
        # business days, UTC calendar
        pytest.param(
            "2024-01-05T16:00Z", Threshold(1, "business_days"), {}, "2024-01-08T16:00Z", id="friday+1"
        ),
        pytest.param(
            "2024-01-06T10:00Z", Threshold(1, "business_days"), {}, "2024-01-09T10:00Z", id="saturday+1"
        ),
        pytest.param(
            "2024-01-07T23:59Z", Threshold(1, "business_days"), {}, "2024-01-09T23:59Z", id="sunday+1"
        ),
        pytest.param(
            "2024-01-04T09:00Z", Threshold(2, "business_days"), {}, "2024-01-08T09:00Z", id="thursday+2"
        ),
        pytest.param(
            "2024-01-04T09:00Z",
            Threshold(2, "business_days"),
            {"holidays": [dt.date(2024, 1, 8)]},
            "2024-01-09T09:00Z",
            id="weekend-and-holiday",
        ),
        pytest.param(
            "2024-01-05T09:00Z",
            Threshold(1, "business_days"),
            {"holidays": ["2024-01-08", "2024-01-09"]},
            "2024-01-10T09:00Z",
            id="two-holidays-as-strings",
        ),
        pytest.param(
            "2024-01-04T09:00Z",
            Threshold(2, "business_days"),
            {"workdays": (6, 0, 1, 2, 3)},
            "2024-01-08T09:00Z",
            id="sunday-to-thursday-week",  # Thu -> (Fri, Sat off) Sun -> Mon
        ),
        pytest.param(
            "2024-01-01T09:00Z", Threshold(10, "business_days"), {}, "2024-01-15T09:00Z", id="two-weeks"
        ),
        # business days in Brussels
        pytest.param(
            # Friday 16:00 CET before the spring change (31 March); Easter Monday (1 April) is a holiday:
            # Tuesday 16:00 CEST = 14:00 UTC (the elapsed time is one hour shorter than in UTC days).
            "2024-03-29T15:00Z",
            Threshold(1, "business_days"),
            {"tz": "Europe/Brussels", "holidays": [dt.date(2024, 4, 1)]},
            "2024-04-02T14:00Z",
            id="brussels-spring-dst-and-easter",
        ),
        pytest.param(
            # Friday 10:00 CEST before the autumn change (27 October): Monday 10:00 CET = 09:00 UTC.
            "2024-10-25T08:00Z",
            Threshold(1, "business_days"),
            {"tz": "Europe/Brussels"},
            "2024-10-28T09:00Z",
            id="brussels-autumn-dst",
        ),
        pytest.param(
            # 23:30 UTC on Friday is already Saturday 00:30 in Brussels: rolls to Monday, +1 = Tuesday 00:30.
            "2024-01-05T23:30Z",
            Threshold(1, "business_days"),
            {"tz": "Europe/Brussels"},
            "2024-01-08T23:30Z",
            id="brussels-local-date-is-saturday",
        ),
        pytest.param(
            # 02:30 on 31 March does not exist in Brussels: shifted forward to 03:00 CEST = 01:00 UTC.
            "2024-03-30T01:30Z",
            Threshold(1, "business_days"),
            {"tz": "Europe/Brussels", "workdays": range(7)},
            "2024-03-31T01:00Z",
            id="brussels-nonexistent-local-time",
        ),
        pytest.param(
            # 02:30 on 27 October happens twice: the first (CEST) occurrence, 00:30 UTC.
            "2024-10-26T00:30Z",
            Threshold(1, "business_days"),
            {"tz": "Europe/Brussels", "workdays": range(7)},
            "2024-10-27T00:30Z",
            id="brussels-ambiguous-local-time",
        ),
        pytest.param(
            "2024-01-05T16:00Z",
            Threshold(1, "business_days"),
            {"tz": "America/New_York"},
            "2024-01-08T16:00Z",
            id="new-york",  # Friday 11:00 EST -> Monday 11:00 EST
        ),
    ],
)
def test_deadlines(start, threshold, kwargs, expected):
    result = deadlines(pd.Series([pd.Timestamp(start)]), threshold, **kwargs)
    assert result.dtype == UTC_NS
    assert result.iloc[0] == pd.Timestamp(expected)


def test_brussels_thursday_night_is_a_friday_start():
    # 2024-01-04 23:30 UTC = Friday 00:30 in Brussels; +1 business day = Monday 00:30 CET = Sunday 23:30 UTC.
    result = deadlines(
        pd.Series([utc("2024-01-04T23:30")]), Threshold(1, "business_days"), tz="Europe/Brussels"
    )
    assert result.iloc[0] == utc("2024-01-07T23:30")


def test_deadlines_keep_index_accept_naive_and_nat_and_are_vectorised():
    starts = pd.Series(
        [pd.Timestamp("2024-01-05 16:00"), pd.NaT, pd.Timestamp("2024-01-06 10:00")], index=[10, 20, 30]
    )
    result = deadlines(starts, Threshold(1, "business_days"))
    assert list(result.index) == [10, 20, 30]
    assert result.name == "deadline"
    assert (
        result[10] == utc("2024-01-08T16:00")
        and pd.isna(result[20])
        and result[30] == utc("2024-01-09T10:00")
    )
    assert deadlines(starts, Threshold(30, "minutes"))[10] == utc("2024-01-05T16:30")


def test_business_day_deadlines_match_a_day_by_day_count():
    """Every start of a fortnight, hour by hour, against counting working days one at a time."""
    starts = pd.Series(pd.date_range("2024-04-25", periods=24 * 14, freq="h", tz="UTC"))
    holidays = [dt.date(2024, 5, 1)]
    result = deadlines(starts, Threshold(3, "business_days"), holidays=holidays)
    for start, deadline in zip(starts, result, strict=True):
        day = start.date()
        while day.weekday() > 4 or day in holidays:  # roll forward
            day += dt.timedelta(days=1)
        for _ in range(3):
            day += dt.timedelta(days=1)
            while day.weekday() > 4 or day in holidays:
                day += dt.timedelta(days=1)
        assert deadline == pd.Timestamp.combine(day, start.time()).tz_localize("UTC")


def test_deadlines_errors():
    with pytest.raises(ValueError, match="time zone"):
        deadlines(pd.Series([T]), Threshold(1, "business_days"), tz="Mars/Olympus")
    with pytest.raises(ValueError, match="workdays"):
        deadlines(pd.Series([T]), Threshold(1, "business_days"), workdays=())


# ---------------------------------------------------------------------------------------------------------
# chain_events / chain_compliance
# ---------------------------------------------------------------------------------------------------------

# Threshold 60 minutes. key, start (minutes after T), user, team; ends below.
STARTS = pd.DataFrame(
    [
        (1, at(0), "alice", "A"),
        (2, at(0), "alice", "A"),
        (3, at(0), "alice", "A"),
        (4, at(60), "alice", "B"),
        (5, at(0), "bob", "A"),
        (6, at(300), "bob", "A"),  # the latest event: the default as_of
        (7, at(60), "bob", "B"),
        (7, at(240), "carol", "C"),  # a later start of key 7: ignored, with its user and team
        (8, at(120), "bob", "B"),
    ],
    columns=["key", "at", "user", "team"],
)
ENDS = pd.DataFrame(
    [
        (1, at(30)),  # within
        (2, at(60)),  # exactly at the deadline: within
        (3, at(90)),  # late
        (3, at(100)),  # a second end: the first one counts
        (4, at(0)),  # before its start: belongs to nothing, ignored ...
        (4, at(180)),  # ... this one ends chain 4, 120 minutes: late
        (7, at(80)),  # within, 20 minutes
        (8, at(120)),  # at the very start: within, 0 minutes
        (9, at(200)),  # no start: ignored
    ],
    columns=["key", "at"],
)
HOUR = Threshold(60, "minutes")

# key: user, team, start, end, elapsed, status (as of the default: at(300))
EXPECTED_EVENTS = [
    (1, "alice", "A", at(0), at(30), 30.0, "within"),
    (2, "alice", "A", at(0), at(60), 60.0, "within"),
    (3, "alice", "A", at(0), at(90), 90.0, "late"),
    (5, "bob", "A", at(0), pd.NaT, NAN, "missed"),
    (4, "alice", "B", at(60), at(180), 120.0, "late"),
    (7, "bob", "B", at(60), at(80), 20.0, "within"),
    (8, "bob", "B", at(120), at(120), 0.0, "within"),
    (6, "bob", "A", at(300), pd.NaT, NAN, "pending"),
]


def compliance_frame(rows, index) -> pd.DataFrame:
    frame = pd.DataFrame([row[1:] for row in rows], columns=list(COMPLIANCE_COLUMNS))
    frame.index = index
    return frame.astype(
        dict.fromkeys(COMPLIANCE_COLUMNS[:5], "int64") | dict.fromkeys(COMPLIANCE_COLUMNS[5:], "float64")
    )


def test_chain_events_pairs_each_start_with_its_first_end():
    events = chain_events(STARTS, ENDS, HOUR, by=["user", "team"])
    expected = pd.DataFrame(
        [(k, u, t, s, e, s + pd.Timedelta(hours=1), m, st) for k, u, t, s, e, m, st in EXPECTED_EVENTS],
        columns=["key", "user", "team", "start_at", "end_at", "deadline", "elapsed_minutes", "status"],
    )
    for column in ("start_at", "end_at", "deadline"):
        expected[column] = expected[column].astype(UTC_NS)
    pd.testing.assert_frame_equal(events, expected, check_dtype=False)
    for column in ("start_at", "end_at", "deadline"):
        assert events[column].dtype == UTC_NS


def test_compliance_by_user():
    result = chain_compliance(STARTS, ENDS, HOUR)
    # alice: 1, 2 within; 3, 4 late; median of 30, 60, 90, 120. bob: 7, 8 within; 5 missed; 6 pending.
    expected = compliance_frame(
        [("alice", 4, 2, 2, 0, 0, 0.5, 75.0), ("bob", 4, 2, 0, 1, 1, 2 / 3, 10.0)],
        pd.Index(["alice", "bob"], name="user"),
    )
    pd.testing.assert_frame_equal(result, expected, check_index_type=False)


def test_compliance_by_user_and_team():
    result = chain_compliance(STARTS, ENDS, HOUR, by=("user", "team"))
    expected = compliance_frame(
        [
            (None, 3, 2, 1, 0, 0, 2 / 3, 60.0),
            (None, 1, 0, 1, 0, 0, 0.0, 120.0),
            (None, 2, 0, 0, 1, 1, 0.0, NAN),  # nothing ended: no median
            (None, 2, 2, 0, 0, 0, 1.0, 10.0),
        ],
        pd.MultiIndex.from_tuples(
            [("alice", "A"), ("alice", "B"), ("bob", "A"), ("bob", "B")], names=["user", "team"]
        ),
    )
    pd.testing.assert_frame_equal(result, expected)


def test_compliance_by_team_only_and_overall():
    by_team = chain_compliance(STARTS, ENDS, HOUR, by=["team"])
    assert list(by_team.index) == ["A", "B"] and by_team.index.name == "team"
    assert list(by_team["started"]) == [5, 3]
    overall = chain_compliance(STARTS, ENDS, HOUR, by=())
    assert list(overall.index) == ["all"]
    assert overall.loc["all", ["started", "within", "late", "missed", "pending"]].tolist() == [8, 4, 2, 1, 1]
    assert overall.loc["all", "share_within"] == pytest.approx(4 / 7)


@pytest.mark.parametrize(
    ("as_of", "missed", "pending"),
    [
        pytest.param(None, 1, 1, id="default-latest-event"),
        pytest.param(at(30), 0, 2, id="before-deadline"),
        pytest.param(at(60), 0, 2, id="at-deadline-still-pending"),
        pytest.param(at(61), 1, 1, id="just-after"),
        pytest.param(at(361), 2, 0, id="both-missed"),
        pytest.param(at(360).tz_localize(None), 1, 1, id="naive-as-of-is-utc"),
        pytest.param("2024-05-06T16:00:00+02:00", 1, 1, id="string-with-offset"),  # = at(300)
    ],
)
def test_pending_versus_missed_by_as_of(as_of, missed, pending):
    result = chain_compliance(STARTS, ENDS, HOUR, as_of=as_of)
    assert result.loc["bob", "missed"] == missed
    assert result.loc["bob", "pending"] == pending
    assert result.loc["bob", "within"] == 2  # chains with an end do not depend on as_of
    decided = 2 + missed
    assert result.loc["bob", "share_within"] == pytest.approx(2 / decided)


def test_share_is_nan_when_everything_is_pending():
    starts = pd.DataFrame({"key": [1, 2], "at": [T, T], "user": ["x", "x"]})
    ends = pd.DataFrame({"key": pd.Series([], dtype="int64"), "at": pd.Series([], dtype=UTC_NS)})
    result = chain_compliance(starts, ends, Threshold(1, "days"), as_of=T)
    assert result.loc["x", "pending"] == 2 and np.isnan(result.loc["x", "share_within"])
    assert np.isnan(result.loc["x", "median_minutes"])


def test_business_day_chains_in_brussels():
    # Threshold 1 business day, Brussels, Easter Monday 2024-04-01 a holiday.
    starts = pd.DataFrame(
        {
            "key": [1, 2, 3],
            "at": [utc("2024-03-29T15:00"), utc("2024-03-29T15:00"), utc("2024-03-28T08:00")],
            "user": ["x", "x", "y"],
        }
    )
    ends = pd.DataFrame(
        {
            "key": [1, 2, 3],
            # 1: Tuesday 15:59 local: within. 2: Tuesday 16:01 local: late.
            # 3: Friday 09:00 local (Thursday + 1): within
            "at": [utc("2024-04-02T13:59"), utc("2024-04-02T14:01"), utc("2024-03-29T08:00")],
        }
    )
    kwargs = {"tz": "Europe/Brussels", "holidays": [dt.date(2024, 4, 1)]}
    events = chain_events(starts, ends, Threshold(1, "business_days"), **kwargs)
    assert list(events["status"]) == ["within", "within", "late"]  # sorted by start: key 3 first
    assert list(events["key"]) == [3, 1, 2]
    assert events["deadline"].tolist() == [
        utc("2024-03-29T08:00"),
        utc("2024-04-02T14:00"),
        utc("2024-04-02T14:00"),
    ]
    result = chain_compliance(starts, ends, Threshold(1, "business_days"), **kwargs)
    assert result[["within", "late"]].to_numpy().tolist() == [[1, 1], [1, 0]]
    # without the holiday, Monday is the deadline and both Tuesday ends are late
    result = chain_compliance(starts, ends, Threshold(1, "business_days"), tz="Europe/Brussels")
    assert result.loc["x", "late"] == 2


def test_input_order_and_naive_timestamps_do_not_matter():
    shuffled = STARTS.iloc[[8, 3, 0, 7, 5, 1, 6, 2, 4]].set_axis(list("abcdefghi"))
    shuffled = shuffled.assign(at=shuffled["at"].dt.tz_localize(None))
    ends = ENDS.iloc[::-1].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        chain_compliance(shuffled, ends, HOUR, by=["user", "team"]),
        chain_compliance(STARTS, ENDS, HOUR, by=["user", "team"]),
    )


def test_missing_group_values_form_their_own_group():
    starts = STARTS.assign(team=[None if t == "B" else t for t in STARTS["team"]])
    result = chain_compliance(starts, ENDS, HOUR, by=["team"])
    assert result.index[0] == "A" and pd.isna(result.index[-1])
    assert list(result["started"]) == [5, 3]


def test_no_starts_gives_an_empty_frame():
    result = chain_compliance(STARTS.iloc[:0], ENDS, HOUR)
    assert result.empty and list(result.columns) == list(COMPLIANCE_COLUMNS)
    assert chain_events(STARTS.iloc[:0], ENDS.iloc[:0], HOUR).empty


@pytest.mark.parametrize(
    ("starts", "ends", "kwargs", "message"),
    [
        (STARTS.drop(columns="key"), ENDS, {}, "starts is missing column\\(s\\): key"),
        (STARTS.drop(columns="at"), ENDS, {}, "starts is missing column\\(s\\): at"),
        (STARTS, ENDS, {"by": ["user", "region"]}, "starts is missing column\\(s\\): region"),
        (STARTS.drop(columns="user"), ENDS, {}, "starts is missing column\\(s\\): user"),
        (STARTS, ENDS.drop(columns="at"), {}, "ends is missing column\\(s\\): at"),
        (STARTS, ENDS.rename(columns={"key": "lead_id"}), {}, "ends is missing column\\(s\\): key"),
        (STARTS.assign(at=pd.NaT), ENDS, {}, "starts.at is missing"),
        (STARTS, ENDS, {"as_of": "not a date"}, "as_of"),
    ],
)
def test_errors(starts, ends, kwargs, message):
    with pytest.raises(ValueError, match=message):
        chain_compliance(starts, ends, HOUR, **kwargs)
