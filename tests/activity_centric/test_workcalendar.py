"""The work calendar: working days (half-day closures, public holidays, DST, two-week schedules, flexible
hours), and the agreement of everything that counts them: SLA cutoffs and deadlines (sla_rules), event-chain
deadlines and the "Plan tomorrow" working days (activity_centric)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from activity_centric import (
    Attendance,
    CalendarError,
    Threshold,
    WorkCalendar,
    as_utc_series,
    deadlines,
    week_type,
    working_days,
)
from sla_rules import RuleError, cutoff, deadline

BRUSSELS = "Europe/Brussels"


def local(text: str) -> dt.datetime:
    """A Brussels wall time (``2026-03-18T08:00``) as a naive UTC datetime."""
    return pd.Timestamp(text).tz_localize(BRUSSELS).tz_convert("UTC").tz_localize(None).to_pydatetime()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def whole_day(text: str) -> tuple[dt.datetime, dt.datetime]:
    """A closure of the whole local day, as Odoo stores a public holiday (until 23:59:59)."""
    return local(f"{text}T00:00"), local(f"{text}T23:59:59")


WEEK = tuple(Attendance(d, start, end) for d in range(5) for start, end in ((8, 12), (13, 17)))
# March 2026: Wednesday 18 closed in the morning only, Friday 20 a public holiday
CLOSURES = (
    (local("2026-03-18T08:00"), local("2026-03-18T12:00")),
    whole_day("2026-03-20"),
)
FIXED = WorkCalendar(tz=BRUSSELS, attendances=WEEK, leaves=CLOSURES)
# Weeks of parity 0 (e.g. from Monday 16 March 2026): Monday to Friday; weeks of parity 1 (from Monday 23
# March): Monday to Wednesday mornings
TWO_WEEKS = WorkCalendar(
    tz=BRUSSELS,
    attendances=tuple(Attendance(a.weekday, a.hour_from, a.hour_to, 0) for a in WEEK)
    + tuple(Attendance(d, 8, 12, 1) for d in range(3)),
    leaves=CLOSURES,
)
FLEXIBLE = WorkCalendar(tz=BRUSSELS, attendances=(), leaves=CLOSURES, hours_per_week=40, hours_per_day=8)
CALENDARS = {"fixed": FIXED, "two-weeks": TWO_WEEKS, "flexible": FLEXIBLE}


def test_week_type_is_odoos():
    assert [week_type(day(d)) for d in ("2026-03-16", "2026-03-22", "2026-03-23", "2026-03-30")] == [
        0,
        0,
        1,
        0,
    ]


@pytest.mark.parametrize(
    ("calendar", "expected"),
    [
        # the half-day closure (18) leaves a working day; the public holiday (20) does not
        ("fixed", ["2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-23", "2026-03-24"]),
        ("two-weeks", ["2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-23", "2026-03-24"]),
        ("flexible", ["2026-03-16", "2026-03-17", "2026-03-18", "2026-03-19", "2026-03-23", "2026-03-24"]),
    ],
)
def test_half_day_closure_is_a_working_day_a_public_holiday_is_not(calendar, expected):
    work = CALENDARS[calendar]
    assert work.working_dates(day("2026-03-16"), day("2026-03-24")) == [day(d) for d in expected]
    assert work.is_working_day(day("2026-03-18"))
    assert not work.is_working_day(day("2026-03-20"))


def test_two_week_schedule():
    got = TWO_WEEKS.working_dates(day("2026-03-23"), day("2026-04-05"))
    odd_week = ["2026-03-23", "2026-03-24", "2026-03-25"]
    even_week = ["2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02", "2026-04-03"]
    assert got == [day(d) for d in odd_week + even_week]
    assert TWO_WEEKS.weekly_hours == pytest.approx((40 + 12) / 2)
    # the odd week works mornings only: Monday 23 March 08:00 + 5 business hours = Tuesday 09:00
    assert deadline(local("2026-03-23T08:00"), 5, "business_hours", TWO_WEEKS) == local("2026-03-24T09:00")
    # Wednesday 25 March 11:00 + 2 business hours: 1 hour that morning, then Monday 30 March 08:00-09:00
    assert deadline(local("2026-03-25T11:00"), 2, "business_hours", TWO_WEEKS) == local("2026-03-30T09:00")


def test_flexible_hours_count_days_not_hours():
    assert FLEXIBLE.working_dates(day("2026-03-21"), day("2026-03-23")) == [day("2026-03-23")]
    # a whole-day closure (as Odoo stores it, until 23:59:59) closes a flexible day; a morning one does not
    assert deadline(local("2026-03-19T10:00"), 1, "business_days", FLEXIBLE) == local("2026-03-23T10:00")
    with pytest.raises(CalendarError, match="flexible hours") as caught:
        FLEXIBLE.work_intervals(np.arange(20528, 20530))
    assert caught.value.code == "flexible_hours"
    with pytest.raises(RuleError, match="business hours cannot be counted") as refused:
        cutoff(local("2026-03-19T10:00"), 4, "business_hours", FLEXIBLE)
    assert refused.value.code == "flexible_hours"
    short = WorkCalendar(tz=BRUSSELS, attendances=(), hours_per_week=20, hours_per_day=7)
    assert [d.weekday() for d in short.working_dates(day("2026-03-16"), day("2026-03-22"))] == [0, 1, 2]


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # last Sunday of March: Friday 10:00 CET + 1 business day = Monday 10:00 CEST (one hour less)
        ("2026-03-27T10:00", 1, "2026-03-30T10:00"),
        # last Sunday of October: Friday 10:00 CEST + 1 business day = Monday 10:00 CET
        ("2026-10-23T10:00", 1, "2026-10-26T10:00"),
    ],
)
def test_business_days_across_dst_keep_the_local_time(start, days, expected):
    work = WorkCalendar(tz=BRUSSELS, attendances=WEEK)
    assert deadline(local(start), days, "business_days", work) == local(expected)
    chain = deadlines(pd.Series([local(start)]), Threshold(days, "business_days"), calendar=work)
    assert chain.iloc[0] == pd.Timestamp(local(expected), tz="UTC")


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        ("2026-03-27T16:00", 2, "2026-03-30T09:00"),
        ("2026-10-23T16:00", 2, "2026-10-26T09:00"),
    ],
)
def test_business_hours_across_dst(start, hours, expected):
    work = WorkCalendar(tz=BRUSSELS, attendances=WEEK)
    assert deadline(local(start), hours, "business_hours", work) == local(expected)
    assert cutoff(local(expected), hours, "business_hours", work) == local(start)


def test_weekdays_and_holidays_are_a_calendar_of_whole_days():
    work = WorkCalendar.from_weekdays((0, 1, 2, 3), [day("2026-03-17")], tz=BRUSSELS)
    assert work.working_dates(day("2026-03-16"), day("2026-03-22")) == [
        day(d) for d in ("2026-03-16", "2026-03-18", "2026-03-19")
    ]


def test_no_working_time():
    with pytest.raises(CalendarError, match="no working time") as caught:
        WorkCalendar(attendances=()).offset(np.array(["2026-03-16"], dtype="datetime64[D]"), 1, "forward")
    assert caught.value.code == "no_working_time"
    closed = WorkCalendar(tz=BRUSSELS, leaves=((local("2026-03-01T00:00"), local("2027-03-01T00:00")),))
    assert working_days(day("2026-03-16"), 1, calendar=closed) == [day("2027-03-01")]


def test_as_utc_series():
    series = as_utc_series(pd.Series(["2026-03-16T10:00", None]), "starts")
    assert str(series.dtype) == "datetime64[ns, UTC]"
    assert series.iloc[0] == pd.Timestamp("2026-03-16T10:00", tz="UTC")
    assert pd.isna(series.iloc[1])
    with pytest.raises(ValueError, match="starts must hold datetimes"):
        as_utc_series(pd.Series(["next week"]), "starts")


# ---------------------------------------------------------------------------------------------------------
# agreement: SLA business days, event chains and Plan tomorrow count the same working days
# ---------------------------------------------------------------------------------------------------------

STARTS = [
    local(f"{date.isoformat()}T{hour}")
    for first in ("2026-03-16", "2026-10-19")  # two weeks around each DST change
    for date in pd.date_range(first, periods=14).date
    for hour in ("00:00", "10:00")
]


@pytest.mark.parametrize("name", list(CALENDARS))
@pytest.mark.parametrize("days", [1, 2, 4])
def test_sla_chains_and_plan_tomorrow_agree(name, days):
    work = CALENDARS[name]
    # every calendar of this module, with its closures moved into October too
    october = tuple(
        (start + dt.timedelta(days=210), end + dt.timedelta(days=210)) for start, end in work.leaves
    )
    work = WorkCalendar(
        work.tz, work.attendances, work.leaves + october, work.hours_per_week, work.hours_per_day
    )
    chain = deadlines(pd.Series(STARTS), Threshold(days, "business_days"), calendar=work)
    for position, start in enumerate(STARTS):
        stamp = pd.Timestamp(start, tz="UTC").tz_convert(BRUSSELS)
        date, time_of_day = stamp.date(), stamp.time()
        after = work.working_dates(date + dt.timedelta(days=1), date + dt.timedelta(days=60))
        # Plan tomorrow: the next working days
        assert working_days(date, days, calendar=work) == after[:days]
        ahead = ([date] if work.is_working_day(date) else []) + after
        # event chains: the days-th working day after the first one on or after the start, same local time
        due = pd.Timestamp(dt.datetime.combine(ahead[days], time_of_day)).tz_localize(BRUSSELS)
        assert chain.iloc[position] == due
        # SLA: the same on a working day after 00:00; otherwise the end of the working day before it
        sla = deadline(start, days, "business_days", work)
        if work.is_working_day(date) and time_of_day != dt.time(0):
            assert pd.Timestamp(sla, tz="UTC") == due
        else:
            end = pd.Timestamp(ahead[days - 1] + dt.timedelta(days=1)).tz_localize(BRUSSELS)
            assert pd.Timestamp(sla, tz="UTC") == end
        # and the SLA cutoff at that deadline selects the start, a microsecond earlier it does not
        assert cutoff(sla, days, "business_days", work) >= start
        assert cutoff(sla - dt.timedelta(microseconds=1), days, "business_days", work) < start
