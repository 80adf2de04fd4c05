"""gaming_signals on a hand-built table whose every count is known by construction."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from activity_centric import SIGNAL_COLUMNS, gaming_signals

NAN = float("nan")
T0 = pd.Timestamp("2024-03-01T09:00:00Z")
COUNT_COLUMNS = [c for c in SIGNAL_COLUMNS if not c.endswith("_share")]


def activity(user, *, done_after_s=None, feedback=False, deadline_days=1, reschedules=0, created=T0):
    """One activity row: created at ``created``, due ``deadline_days`` later (a date), done after
    ``done_after_s`` seconds or still open (None)."""
    return {
        "user": user,
        "created_at": created,
        "deadline": (created + pd.Timedelta(days=deadline_days)).date(),
        "done_at": pd.NaT if done_after_s is None else created + pd.Timedelta(seconds=done_after_s),
        "has_feedback": feedback,
        "reschedule_count": reschedules,
    }


def activities_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["user", "created_at", "deadline", "done_at", "has_feedback", "reschedule_count"]
    )
    for column in ("created_at", "done_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


ACTIVITIES = [
    # bob listed first, and has fewer of everything: the output must still be alphabetical
    activity("bob", deadline_days=3),
    activity("bob", deadline_days=10),
    # alice
    activity("alice", done_after_s=30),  # quick
    activity("alice", done_after_s=30, feedback=True, reschedules=2),  # fast, but with feedback: not quick
    activity("alice", done_after_s=60),  # exactly at the limit: quick
    activity("alice", done_after_s=61),  # just over: not quick
    activity("alice", done_after_s=2 * 86400),  # a real task
    activity("alice", deadline_days=200),  # far placeholder
    activity("alice", deadline_days=180),  # exactly 180 days: not "more than"
    activity("alice", deadline_days=181),  # far placeholder
    activity("alice", done_after_s=3600, deadline_days=365, reschedules=5),  # far but done; rescheduled
    activity("alice", deadline_days=1, reschedules=3),  # open, rescheduled (>= 3)
    # dave: only activities
    activity("dave", done_after_s=5),
]
LEADS = pd.DataFrame(
    {
        "user": ["carol", "alice", "alice", "bob", "alice", "carol", "alice"],
        "followup_state": ["missing", "scheduled", "scheduled", "exempt", "missing", "missing", "exempt"],
    }
)

# user: done, quick_done, quick_share, open, far, far_share, rescheduled, resched_share, open_leads, missing,
# missing_share
EXPECTED = {
    "alice": (6, 2, 2 / 6, 4, 2, 2 / 4, 2, 2 / 10, 3, 1, 1 / 3),
    "bob": (0, 0, NAN, 2, 0, 0.0, 0, 0.0, 0, 0, NAN),  # only an exempt lead
    "carol": (0, 0, NAN, 0, 0, NAN, 0, NAN, 2, 2, 1.0),  # only in leads
    "dave": (1, 1, 1.0, 0, 0, NAN, 0, 0.0, 0, 0, NAN),  # only in activities
}


def expected_frame(expected: dict) -> pd.DataFrame:
    frame = pd.DataFrame.from_dict(expected, orient="index", columns=list(SIGNAL_COLUMNS))
    frame.index.name = "user"
    return frame.astype(
        dict.fromkeys(COUNT_COLUMNS, "int64") | {c: "float64" for c in SIGNAL_COLUMNS if c.endswith("_share")}
    )


def test_every_count_and_share():
    result = gaming_signals(activities_frame(ACTIVITIES), LEADS)
    pd.testing.assert_frame_equal(result, expected_frame(EXPECTED), check_index_type=False)


def test_columns_and_dtypes():
    result = gaming_signals(activities_frame(ACTIVITIES), LEADS)
    assert list(result.columns) == list(SIGNAL_COLUMNS)
    assert result.index.name == "user"
    for column in COUNT_COLUMNS:
        assert result[column].dtype == "int64", column
    for column in set(SIGNAL_COLUMNS) - set(COUNT_COLUMNS):
        assert result[column].dtype == "float64", column


def test_without_leads_the_lead_columns_are_zero():
    result = gaming_signals(activities_frame(ACTIVITIES))
    assert list(result.index) == ["alice", "bob", "dave"]
    assert (result["open_leads"] == 0).all() and (result["missing"] == 0).all()
    assert result["missing_share"].isna().all()
    assert result.loc["alice", "quick_done"] == 2


def test_sorted_by_user_never_by_count():
    # integer user ids: numeric order (2 < 10 < 33), not string order, and not by any count
    rows = [activity(33, done_after_s=1)] * 5 + [activity(2)] + [activity(10, done_after_s=1)] * 3
    result = gaming_signals(activities_frame(rows))
    assert list(result.index) == [2, 10, 33]
    assert list(result["done"]) == [0, 3, 5]


def test_input_order_and_index_do_not_matter():
    frame = activities_frame(ACTIVITIES)
    shuffled = frame.sample(frac=1.0, random_state=np.random.default_rng(4))
    shuffled.index = shuffled.index * 7 + 100
    leads = LEADS.iloc[::-1].set_axis(list("abcdefg"))
    pd.testing.assert_frame_equal(gaming_signals(shuffled, leads), gaming_signals(frame, LEADS))


@pytest.mark.parametrize(
    ("kwargs", "column", "expected_alice"),
    [
        pytest.param({"quick_seconds": 10}, "quick_done", 0, id="stricter-quick"),
        pytest.param(
            {"quick_seconds": 3600}, "quick_done", 4, id="quick-within-an-hour"
        ),  # 30, 60, 61, 3600 s
        pytest.param({"far_days": 179}, "far_placeholders", 3, id="far-179"),
        pytest.param({"far_days": 200}, "far_placeholders", 0, id="far-200"),
        pytest.param({"reschedule_min": 1}, "rescheduled", 3, id="rescheduled-once"),
        pytest.param({"reschedule_min": 6}, "rescheduled", 0, id="rescheduled-6"),
    ],
)
def test_thresholds(kwargs, column, expected_alice):
    result = gaming_signals(activities_frame(ACTIVITIES), LEADS, **kwargs)
    assert result.loc["alice", column] == expected_alice


def test_far_compares_dates_not_times_and_accepts_datetime_deadlines():
    late = pd.Timestamp("2024-03-01T23:30:00Z")
    rows = [
        activity("x", created=late, deadline_days=180),  # date 180 days after the creation date
        activity("x", created=late, deadline_days=181),
    ]
    frame = activities_frame(rows)
    assert gaming_signals(frame).loc["x", "far_placeholders"] == 1
    frame["deadline"] = pd.to_datetime(frame["deadline"]) + pd.Timedelta(hours=1)  # datetime64 deadlines
    assert gaming_signals(frame).loc["x", "far_placeholders"] == 1


def test_naive_timestamps_are_utc_and_missing_flags_default():
    frame = activities_frame([activity("x", done_after_s=20), activity("x", done_after_s=20)])
    frame["created_at"] = frame["created_at"].dt.tz_localize(None)  # naive = UTC, done_at stays aware
    frame["has_feedback"] = [None, True]
    frame["reschedule_count"] = [None, 4]
    result = gaming_signals(frame)
    assert result.loc["x", "quick_done"] == 1
    assert result.loc["x", "rescheduled"] == 1


@pytest.mark.parametrize(
    "column", ["user", "created_at", "deadline", "done_at", "has_feedback", "reschedule_count"]
)
def test_missing_activity_column_is_named(column):
    with pytest.raises(ValueError, match=f"activities is missing column\\(s\\): {column}"):
        gaming_signals(activities_frame(ACTIVITIES).drop(columns=column))


@pytest.mark.parametrize("column", ["user", "followup_state"])
def test_missing_lead_column_is_named(column):
    with pytest.raises(ValueError, match=f"leads is missing column\\(s\\): {column}"):
        gaming_signals(activities_frame(ACTIVITIES), LEADS.drop(columns=column))


def test_unknown_followup_state():
    leads = pd.DataFrame({"user": ["a"], "followup_state": ["overdue"]})
    with pytest.raises(ValueError, match="'overdue'"):
        gaming_signals(activities_frame([]), leads)


def test_empty_input_gives_an_empty_frame():
    result = gaming_signals(activities_frame([]), LEADS.iloc[:0])
    assert result.empty
    assert list(result.columns) == list(SIGNAL_COLUMNS)
    assert result.index.name == "user"
    assert gaming_signals(activities_frame([])).empty


def test_only_leads():
    result = gaming_signals(activities_frame([]), LEADS)
    assert list(result.index) == ["alice", "bob", "carol"]
    assert list(result["missing"]) == [1, 0, 2]
    assert (result["done"] == 0).all() and result["quick_done_share"].isna().all()


def test_deadline_as_python_dates_or_strings():
    frame = activities_frame([activity("x", deadline_days=300)])
    frame["deadline"] = [dt.date(2024, 12, 31)]
    assert gaming_signals(frame).loc["x", "far_placeholders"] == 1
    frame["deadline"] = ["2024-03-02"]
    assert gaming_signals(frame).loc["x", "far_placeholders"] == 0
