"""Business-time arithmetic: hand-computed cutoffs and deadlines per unit, calendars, and the breach-test
properties (monotone, deadline = earliest breach) on random instants."""

from __future__ import annotations

import datetime as dt
import zlib
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sla_calendars import (
    ALL_CALENDARS,
    BRUSSELS,
    BRUSSELS_CLOSURES,
    UTC,
    UTC_DEFAULT,
    at,
)

from activity_centric import CalendarError
from sla_rules import (
    DEFAULT_ATTENDANCES,
    UNITS,
    Attendance,
    RuleError,
    WorkCalendar,
    cutoff,
    deadline,
    deadlines,
)


def test_units():
    assert UNITS == ("business_days", "business_hours", "days", "hours")


# ---------------------------------------------------------------------------------------------------------
# hours / days: elapsed time, no calendar
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "amount", "unit", "expected_cutoff", "expected_deadline"),
    [
        ("2026-11-23T09:00+00:00", 4, "hours", "2026-11-23T05:00+00:00", "2026-11-23T13:00+00:00"),
        ("2026-11-23T09:00+00:00", 1.5, "hours", "2026-11-23T07:30+00:00", "2026-11-23T10:30+00:00"),
        ("2026-11-23T09:00+00:00", 2, "days", "2026-11-21T09:00+00:00", "2026-11-25T09:00+00:00"),
        ("2026-11-23T09:00+00:00", 0.5, "days", "2026-11-22T21:00+00:00", "2026-11-23T21:00+00:00"),
        # a day is 24 hours, also across a DST change (the calendar is ignored)
        ("2026-03-29T12:00+02:00", 1, "days", "2026-03-28T11:00+01:00", "2026-03-30T12:00+02:00"),
    ],
)
def test_elapsed_units(instant, amount, unit, expected_cutoff, expected_deadline):
    assert cutoff(at(instant), amount, unit) == at(expected_cutoff)
    assert deadline(at(instant), amount, unit) == at(expected_deadline)
    assert cutoff(at(instant), amount, unit, BRUSSELS) == at(expected_cutoff)


def test_naive_in_naive_out_aware_in_aware_out():
    naive = dt.datetime(2026, 11, 23, 9, 0)
    assert cutoff(naive, 1, "hours") == dt.datetime(2026, 11, 23, 8, 0)
    assert cutoff(naive, 1, "hours").tzinfo is None
    aware = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    result = cutoff(aware, 1, "business_hours", BRUSSELS)
    assert result == dt.datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert result.utcoffset() == dt.timedelta(0)
    assert deadline(aware, 1, "hours").tzinfo is not None
    assert isinstance(cutoff(pd.Timestamp("2026-11-23T09:00"), 1, "hours"), dt.datetime)


# ---------------------------------------------------------------------------------------------------------
# business hours (Odoo's plan_hours)
# ---------------------------------------------------------------------------------------------------------

BUSINESS_HOURS_CUTOFFS = [
    # Brussels, Mon-Fri 8-12 / 13-17 (CET, +01:00)
    ("brussels", "2026-11-23T10:00+01:00", 4, "2026-11-20T15:00+01:00"),
    ("brussels", "2026-11-23T10:00+01:00", 2, "2026-11-23T08:00+01:00"),  # consumed at a start: that start
    ("brussels", "2026-11-23T10:00+01:00", 1, "2026-11-23T09:00+01:00"),
    ("brussels", "2026-11-23T10:00+01:00", 2.5, "2026-11-20T16:30+01:00"),
    ("brussels", "2026-11-23T13:00+01:00", 1, "2026-11-23T11:00+01:00"),
    ("brussels", "2026-11-23T12:30+01:00", 1, "2026-11-23T11:00+01:00"),  # lunch does not count
    ("brussels", "2026-11-23T12:30+01:00", 4, "2026-11-23T08:00+01:00"),
    ("brussels", "2026-11-21T12:00+01:00", 8, "2026-11-20T08:00+01:00"),  # Saturday: all of Friday
    ("brussels", "2026-11-21T12:00+01:00", 9, "2026-11-19T16:00+01:00"),
    ("brussels", "2026-11-23T10:00+01:00", 40, "2026-11-16T10:00+01:00"),
    ("brussels", "2026-11-23T08:15+01:00", 0.5, "2026-11-20T16:45+01:00"),
    ("brussels", "2026-11-23T07:00+01:00", 3, "2026-11-20T14:00+01:00"),
    # public holiday (Wed 11th) and a closed Friday afternoon (13th)
    ("brussels-closures", "2026-11-12T10:00+01:00", 4, "2026-11-10T15:00+01:00"),
    ("brussels-closures", "2026-11-16T09:00+01:00", 2, "2026-11-13T11:00+01:00"),
    ("brussels-closures", "2026-11-16T09:00+01:00", 5, "2026-11-13T08:00+01:00"),
    ("brussels-closures", "2026-11-16T09:00+01:00", 6, "2026-11-12T16:00+01:00"),
    # a Friday-short week
    ("brussels-short-friday", "2026-11-23T09:00+01:00", 5, "2026-11-20T08:00+01:00"),
    ("brussels-short-friday", "2026-11-23T09:00+01:00", 6, "2026-11-19T16:00+01:00"),
    # DST: Brussels springs forward on Sun 2026-03-29 and falls back on Sun 2026-10-25
    ("brussels", "2026-03-30T09:00+02:00", 2, "2026-03-27T16:00+01:00"),
    ("brussels", "2026-10-26T09:00+01:00", 2, "2026-10-23T16:00+02:00"),
    # New York (9-17): DST ends Sun 2026-11-01, starts Sun 2026-03-08
    ("new-york", "2026-11-02T10:00-05:00", 3, "2026-10-30T15:00-04:00"),
    ("new-york", "2026-03-09T09:00-04:00", 3, "2026-03-06T14:00-05:00"),
    # Kolkata, +05:30
    ("kolkata", "2026-11-24T08:30+05:30", 1, "2026-11-23T16:30+05:30"),
    ("kolkata", "2026-11-23T13:00+05:30", 4.5, "2026-11-20T16:30+05:30"),
    # attendance 01:00-04:00 every day: on 2026-03-29 it is 01:00 CET to 04:00 CEST, 2 real hours
    ("brussels-nights", "2026-03-29T04:00+02:00", 2, "2026-03-29T01:00+01:00"),
    ("brussels-nights", "2026-03-29T04:00+02:00", 2.5, "2026-03-28T03:30+01:00"),
    # and on 2026-10-25 it is 01:00 CEST to 04:00 CET, 4 real hours
    ("brussels-nights", "2026-10-25T04:00+01:00", 4, "2026-10-25T01:00+02:00"),
]


@pytest.mark.parametrize(("calendar", "now", "hours", "expected"), BUSINESS_HOURS_CUTOFFS)
def test_business_hours_cutoff(calendar, now, hours, expected):
    assert cutoff(at(now), hours, "business_hours", ALL_CALENDARS[calendar]) == at(expected)


BUSINESS_HOURS_DEADLINES = [
    ("brussels", "2026-11-20T15:00+01:00", 4, "2026-11-23T10:00+01:00"),
    ("brussels", "2026-11-20T15:00+01:00", 2, "2026-11-20T17:00+01:00"),  # consumed at an end: that end
    ("brussels", "2026-11-21T10:00+01:00", 1, "2026-11-23T09:00+01:00"),
    ("brussels", "2026-11-23T11:30+01:00", 1, "2026-11-23T13:30+01:00"),
    ("brussels", "2026-11-23T12:30+01:00", 4, "2026-11-23T17:00+01:00"),
    ("brussels", "2026-11-23T07:00+01:00", 8, "2026-11-23T17:00+01:00"),
    ("brussels", "2026-11-23T07:00+01:00", 8.25, "2026-11-24T08:15+01:00"),
    ("brussels", "2026-11-23T10:00+01:00", 40, "2026-11-30T10:00+01:00"),
    ("brussels-closures", "2026-11-10T16:00+01:00", 4, "2026-11-12T11:00+01:00"),
    ("brussels-closures", "2026-11-13T11:00+01:00", 2, "2026-11-16T09:00+01:00"),
    ("brussels-closures", "2026-11-13T14:00+01:00", 1, "2026-11-16T09:00+01:00"),
    ("brussels-short-friday", "2026-11-19T16:00+01:00", 6, "2026-11-23T09:00+01:00"),
    ("brussels", "2026-03-27T16:00+01:00", 2, "2026-03-30T09:00+02:00"),
    ("brussels", "2026-10-23T16:00+02:00", 2, "2026-10-26T09:00+01:00"),
    ("new-york", "2026-10-30T16:00-04:00", 2, "2026-11-02T10:00-05:00"),
    ("new-york", "2026-03-06T16:30-05:00", 1, "2026-03-09T09:30-04:00"),
    ("kolkata", "2026-11-23T16:30+05:30", 1, "2026-11-24T08:30+05:30"),
    ("utc", "2026-11-20T16:00+00:00", 1, "2026-11-20T17:00+00:00"),
    ("utc", "2026-11-20T16:00+00:00", 1.5, "2026-11-23T08:30+00:00"),
    ("brussels-nights", "2026-03-29T00:00+01:00", 2, "2026-03-29T04:00+02:00"),
    ("brussels-nights", "2026-10-25T00:00+02:00", 4, "2026-10-25T04:00+01:00"),
]


@pytest.mark.parametrize(("calendar", "start", "hours", "expected"), BUSINESS_HOURS_DEADLINES)
def test_business_hours_deadline(calendar, start, hours, expected):
    assert deadline(at(start), hours, "business_hours", ALL_CALENDARS[calendar]) == at(expected)


def test_business_hours_across_a_long_closure():
    closed = WorkCalendar(tz="Europe/Brussels", leaves=((dt.datetime(2026, 7, 1), dt.datetime(2026, 9, 1)),))
    assert deadline(at("2026-06-30T16:00+02:00"), 2, "business_hours", closed) == at("2026-09-01T09:00+02:00")
    assert cutoff(at("2026-09-01T09:00+02:00"), 2, "business_hours", closed) == at("2026-06-30T16:00+02:00")


# ---------------------------------------------------------------------------------------------------------
# business days
# ---------------------------------------------------------------------------------------------------------

BUSINESS_DAYS_CUTOFFS = [
    ("brussels", "2026-11-23T10:00+01:00", 1, "2026-11-20T10:00+01:00"),
    ("brussels", "2026-11-23T10:00+01:00", 4, "2026-11-17T10:00+01:00"),
    ("brussels", "2026-11-25T18:30+01:00", 2, "2026-11-23T18:30+01:00"),  # time of day, after hours too
    ("brussels", "2026-11-23T00:00+01:00", 1, "2026-11-20T00:00+01:00"),
    # not a working date: 00:00 of the n-th working date before it, the last one counting as the 1st
    ("brussels", "2026-11-21T12:00+01:00", 1, "2026-11-20T00:00+01:00"),
    ("brussels", "2026-11-22T23:59+01:00", 1, "2026-11-20T00:00+01:00"),
    ("brussels", "2026-11-22T12:00+01:00", 2, "2026-11-19T00:00+01:00"),
    ("brussels", "2026-11-22T12:00+01:00", 5, "2026-11-16T00:00+01:00"),
    # holiday Wed 11th; Friday 13th keeps a morning, so it is a working date
    ("brussels-closures", "2026-11-12T10:00+01:00", 1, "2026-11-10T10:00+01:00"),
    ("brussels-closures", "2026-11-11T15:00+01:00", 1, "2026-11-10T00:00+01:00"),
    ("brussels-closures", "2026-11-16T10:00+01:00", 1, "2026-11-13T10:00+01:00"),
    ("brussels-closures", "2026-11-16T10:00+01:00", 3, "2026-11-10T10:00+01:00"),
    ("brussels", "2026-03-30T10:00+02:00", 1, "2026-03-27T10:00+01:00"),
    ("brussels", "2026-10-26T10:00+01:00", 1, "2026-10-23T10:00+02:00"),
    ("new-york", "2026-11-09T09:00-05:00", 5, "2026-11-02T09:00-05:00"),
    ("new-york", "2026-11-03T09:00-05:00", 2, "2026-10-30T09:00-04:00"),
    ("new-york", "2026-03-10T09:00-04:00", 2, "2026-03-06T09:00-05:00"),
    ("kolkata", "2026-11-23T10:00+05:30", 1, "2026-11-20T10:00+05:30"),
    ("kolkata", "2026-11-21T03:00+05:30", 1, "2026-11-20T00:00+05:30"),  # Friday 21:30 UTC is Saturday there
    ("utc", "2026-11-23T10:00+00:00", 1, "2026-11-20T10:00+00:00"),
    # every day works: a local time missing on the cutoff date gives the last instant before the gap
    ("brussels-always", "2026-03-30T02:30+02:00", 1, "2026-03-29T01:59:59.999999+01:00"),
    # an ambiguous local time takes its first occurrence
    ("brussels-always", "2026-10-26T02:30+01:00", 1, "2026-10-25T02:30+02:00"),
    # the repeated hour counts as the first instant after it (03:00 CET)
    ("brussels-always", "2026-10-25T02:30+01:00", 1, "2026-10-24T03:00+02:00"),
    ("brussels-always", "2026-10-25T02:30+02:00", 1, "2026-10-24T02:30+02:00"),
]


@pytest.mark.parametrize(("calendar", "now", "days", "expected"), BUSINESS_DAYS_CUTOFFS)
def test_business_days_cutoff(calendar, now, days, expected):
    assert cutoff(at(now), days, "business_days", ALL_CALENDARS[calendar]) == at(expected)


BUSINESS_DAYS_DEADLINES = [
    ("brussels", "2026-11-20T16:00+01:00", 1, "2026-11-23T16:00+01:00"),
    ("brussels", "2026-11-17T09:30+01:00", 4, "2026-11-23T09:30+01:00"),
    # not a working date: the end of the (n-1)-th working date after the next working date
    ("brussels", "2026-11-21T10:00+01:00", 4, "2026-11-27T00:00+01:00"),  # Saturday, 4 -> Friday 00:00
    ("brussels", "2026-11-21T10:00+01:00", 1, "2026-11-24T00:00+01:00"),
    ("brussels", "2026-11-22T23:00+01:00", 2, "2026-11-25T00:00+01:00"),
    # exactly 00:00 of a working date: that whole date counts
    ("brussels", "2026-11-23T00:00+01:00", 1, "2026-11-24T00:00+01:00"),
    ("brussels", "2026-11-20T00:00+01:00", 1, "2026-11-21T00:00+01:00"),
    ("brussels-closures", "2026-11-10T10:00+01:00", 1, "2026-11-12T10:00+01:00"),
    ("brussels-closures", "2026-11-11T10:00+01:00", 1, "2026-11-13T00:00+01:00"),
    ("brussels-closures", "2026-12-24T15:00+01:00", 1, "2026-12-28T15:00+01:00"),
    ("brussels", "2026-03-27T10:00+01:00", 1, "2026-03-30T10:00+02:00"),
    ("brussels", "2026-10-23T10:00+02:00", 1, "2026-10-26T10:00+01:00"),
    ("new-york", "2026-10-30T09:00-04:00", 2, "2026-11-03T09:00-05:00"),
    ("new-york", "2026-11-07T12:00-05:00", 1, "2026-11-10T00:00-05:00"),
    ("kolkata", "2026-11-20T16:00+05:30", 1, "2026-11-23T16:00+05:30"),
    # DST gap on the deadline date: shifted forward; ambiguous: first occurrence
    ("brussels-always", "2026-03-28T02:30+01:00", 1, "2026-03-29T03:00+02:00"),
    ("brussels-always", "2026-10-24T02:30+02:00", 1, "2026-10-25T02:30+02:00"),
    # a start in the repeated hour counts from 03:00
    ("brussels-always", "2026-10-25T02:30+01:00", 1, "2026-10-26T03:00+01:00"),
]


@pytest.mark.parametrize(("calendar", "start", "days", "expected"), BUSINESS_DAYS_DEADLINES)
def test_business_days_deadline(calendar, start, days, expected):
    assert deadline(at(start), days, "business_days", ALL_CALENDARS[calendar]) == at(expected)


# ---------------------------------------------------------------------------------------------------------
# calendars
# ---------------------------------------------------------------------------------------------------------


def test_default_calendar():
    assert UTC_DEFAULT.tz == "UTC"
    assert UTC_DEFAULT.attendances == DEFAULT_ATTENDANCES
    assert len(DEFAULT_ATTENDANCES) == 10
    assert {a.weekday for a in DEFAULT_ATTENDANCES} == {0, 1, 2, 3, 4}


def test_working_dates():
    got = BRUSSELS_CLOSURES.working_dates(dt.date(2026, 11, 9), dt.date(2026, 11, 16))
    assert got == [dt.date(2026, 11, d) for d in (9, 10, 12, 13, 16)]
    assert BRUSSELS_CLOSURES.working_dates(dt.date(2026, 11, 16), dt.date(2026, 11, 9)) == []
    christmas = BRUSSELS_CLOSURES.working_dates(dt.date(2026, 12, 24), dt.date(2026, 12, 28))
    assert christmas == [dt.date(2026, 12, 24), dt.date(2026, 12, 28)]


def test_a_leave_covering_a_whole_working_day_makes_it_a_holiday():
    leave = (at("2026-11-18T08:00+01:00"), at("2026-11-18T17:00+01:00"))
    calendar = WorkCalendar(tz="Europe/Brussels", leaves=(leave,))
    assert dt.date(2026, 11, 18) not in calendar.working_dates(dt.date(2026, 11, 16), dt.date(2026, 11, 20))
    morning = WorkCalendar(tz="Europe/Brussels", leaves=((leave[0], at("2026-11-18T12:00+01:00")),))
    assert dt.date(2026, 11, 18) in morning.working_dates(dt.date(2026, 11, 16), dt.date(2026, 11, 20))


def test_from_mapping():
    calendar = WorkCalendar.from_mapping(
        {
            "tz": "Europe/Brussels",
            "hours": {"mon": [[8, 12], ["13:00", "17:30"]], "Friday": [[8.5, 12]], "sat": None},
            "holidays": [dt.date(2026, 12, 25)],
            "leaves": [["2026-12-24T12:00", "2026-12-24T17:00"]],
        }
    )
    assert calendar.attendances == (Attendance(0, 8, 12), Attendance(0, 13, 17.5), Attendance(4, 8.5, 12))
    assert calendar.leaves == (
        (dt.datetime(2026, 12, 24, 11), dt.datetime(2026, 12, 24, 16)),
        (dt.datetime(2026, 12, 24, 23), dt.datetime(2026, 12, 25, 23)),
    )
    assert WorkCalendar.from_mapping({}) == WorkCalendar()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("Europe/Brussels", "must be a mapping"),
        ({"timezone": "UTC"}, "Unknown calendar key"),
        ({"tz": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'"),
        ({"tz": 3}, "tz: give a time zone name"),
        ({"hours": {"mon": [[12, 8]]}}, r"hours.mon: Working hours must run from an earlier to a later hour"),
        ({"hours": {"mon": [[8, 25]]}}, "between 0 and 24"),
        ({"hours": {"funday": [[8, 12]]}}, "unknown weekday 'funday'"),
        ({"hours": {"mon": [8, 12]}}, r"hours.mon: give \[from, to\] pairs"),
        ({"hours": {"mon": [["8h", 12]]}}, "give hours as numbers"),
        ({"hours": [[8, 12]]}, "hours: give a mapping of weekdays"),
        ({"holidays": ["tomorrow"]}, "holidays"),
        ({"holidays": "2026-12-25"}, "holidays: give a list"),
        (
            {"leaves": [["2026-12-24T17:00", "2026-12-24T12:00"]]},
            "item 1: the leave must end after it starts",
        ),
        ({"leaves": [["2026-12-24T12:00"]]}, r"leaves, item 1: give \[start, end\]"),
        ({"leaves": [["2026-12-24T12:00+01:00", "2026-12-24T17:00+01:00"]]}, "without an offset"),
    ],
)
def test_from_mapping_errors(data, message):
    with pytest.raises(CalendarError, match=message):
        WorkCalendar.from_mapping(data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Nowhere/Land"}, "Unknown time zone"),
        ({"attendances": (Attendance(0, 8, 12), (7, 8, 12))}, "weekday must be 0"),
        ({"attendances": ((0, 8),)}, "An attendance must be"),
        ({"leaves": ((dt.datetime(2026, 1, 2), dt.datetime(2026, 1, 1)),)}, "must end after it starts"),
        ({"leaves": (dt.datetime(2026, 1, 2),)}, "A leave must be a"),
    ],
)
def test_calendar_errors(kwargs, message):
    with pytest.raises(CalendarError, match=message):
        WorkCalendar(**kwargs)


def test_calendar_accepts_tuples_and_aware_leaves():
    aware = dt.datetime(2026, 12, 24, 12, tzinfo=ZoneInfo("Europe/Brussels"))
    calendar = WorkCalendar(attendances=((0, 8, 12),), leaves=((aware, aware + dt.timedelta(hours=5)),))
    assert calendar.attendances == (Attendance(0, 8, 12),)
    assert calendar.leaves == ((dt.datetime(2026, 12, 24, 11), dt.datetime(2026, 12, 24, 16)),)
    assert hash(calendar) == hash(WorkCalendar(attendances=(Attendance(0, 8, 12),), leaves=calendar.leaves))


@pytest.mark.parametrize(
    ("calendar", "unit", "message"),
    [
        (WorkCalendar(attendances=()), "business_hours", "has no working time"),
        (WorkCalendar(attendances=()), "business_days", "has no working time"),
        (None, "business_hours", "need a working calendar"),
        (None, "business_days", "need a working calendar"),
    ],
)
def test_no_working_time(calendar, unit, message):
    with pytest.raises(RuleError, match=message):
        cutoff(dt.datetime(2026, 11, 23, 9), 2, unit, calendar)
    with pytest.raises(RuleError, match=message):
        deadline(dt.datetime(2026, 11, 23, 9), 2, unit, calendar)


@pytest.mark.parametrize(
    ("amount", "unit", "message"),
    [
        (0, "hours", "greater than zero"),
        (-2, "business_hours", "greater than zero"),
        (float("nan"), "days", "must be a number"),
        ("4", "days", "must be a number"),
        (True, "days", "must be a number"),
        (1.5, "business_days", "whole number"),
        (1, "weeks", "Unknown unit 'weeks'"),
    ],
)
def test_amount_errors(amount, unit, message):
    with pytest.raises(RuleError, match=message):
        cutoff(dt.datetime(2026, 11, 23, 9), amount, unit, BRUSSELS)


@pytest.mark.parametrize("value", [None, "not a date", float("nan"), pd.NaT])
def test_instant_errors(value):
    with pytest.raises(RuleError, match="now"):
        cutoff(value, 1, "hours")


def test_rule_error_is_a_value_error():
    with pytest.raises(ValueError, match="greater than zero"):
        deadline(dt.datetime(2026, 1, 1), 0, "hours")


# ---------------------------------------------------------------------------------------------------------
# vectorised deadlines
# ---------------------------------------------------------------------------------------------------------


def test_deadlines_series():
    starts = pd.Series(
        [pd.Timestamp("2026-11-20T14:00"), pd.NaT, pd.Timestamp("2026-11-21T09:00")], index=[7, 8, 9]
    )
    result = deadlines(starts, 4, "business_hours", BRUSSELS)
    assert result.name == "deadline"
    assert str(result.dtype) == "datetime64[ns, UTC]"
    assert result.index.tolist() == [7, 8, 9]
    assert result[7] == pd.Timestamp(at("2026-11-23T10:00+01:00"), tz="UTC")
    assert pd.isna(result[8])
    assert result[9] == pd.Timestamp(at("2026-11-23T12:00+01:00"), tz="UTC")
    aware = deadlines(starts.dt.tz_localize("Europe/Brussels"), 1, "days")
    assert aware[7] == pd.Timestamp("2026-11-21T13:00Z")
    assert deadlines(pd.Series([], dtype="datetime64[ns]"), 1, "business_days", BRUSSELS).empty
    assert deadlines(pd.Series([pd.NaT, pd.NaT]), 1, "business_days", BRUSSELS).isna().all()


def test_deadlines_refuses_non_datetimes():
    with pytest.raises(RuleError, match="starts"):
        deadlines(pd.Series(["soon"]), 1, "hours")


# ---------------------------------------------------------------------------------------------------------
# properties on random instants: deadline = earliest breach, cutoff monotone, one implementation
# ---------------------------------------------------------------------------------------------------------

AMOUNTS = {
    "business_hours": (0.5, 1, 4, 8, 16, 37.5),
    "business_days": (1, 2, 4, 10),
    "hours": (3.5,),
    "days": (2,),
}
SPAN = (pd.Timestamp("2025-12-20T00:00Z").value // 10**9, pd.Timestamp("2027-01-10T00:00Z").value // 10**9)


def _instants(rng: np.random.Generator, size: int, calendar: WorkCalendar) -> list[dt.datetime]:
    """Random seconds in the span, plus local midnights and attendance bounds, and DST instants."""
    seconds = rng.integers(*SPAN, size=size)
    stamps = pd.to_datetime(seconds, unit="s", utc=True)
    local = stamps.tz_convert(calendar.tz).tz_localize(None)
    bounds = rng.choice([0.0, 8.0, 12.0, 13.0, 17.0, 1.0, 4.0], size=size)
    snapped = local.normalize() + pd.to_timedelta(bounds, unit="h")
    special = snapped.tz_localize(calendar.tz, ambiguous="NaT", nonexistent="NaT").dropna()
    dst = pd.to_datetime(
        [
            "2026-03-29T00:59:59Z",
            "2026-03-29T01:00:00Z",
            "2026-10-25T00:30:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T01:59:59Z",
            "2026-10-25T02:00:00Z",
            "2026-03-08T07:00:00Z",
            "2026-11-01T06:00:00Z",
        ],
        utc=True,
    )
    values = [*stamps, *special.tz_convert("UTC"), *dst]
    return [value.tz_convert("UTC").tz_localize(None).to_pydatetime() for value in values]


CASES = [
    pytest.param(name, unit, amount, id=f"{name}-{unit}-{amount}")
    for name in ALL_CALENDARS
    for unit, amounts in AMOUNTS.items()
    for amount in amounts
    if not (unit in ("hours", "days") and name != "brussels")
]


@pytest.mark.parametrize(("name", "unit", "amount"), CASES)
def test_deadline_is_the_earliest_breach(name, unit, amount):
    calendar = ALL_CALENDARS[name]
    rng = np.random.default_rng(zlib.crc32(f"{name}{unit}{amount}".encode()))
    starts = _instants(rng, 60, calendar)
    due = deadlines(pd.Series(starts), amount, unit, calendar)
    for start, vector in zip(starts, due, strict=True):
        end = deadline(start, amount, unit, calendar)
        assert end > start
        assert pd.Timestamp(end, tz="UTC") == vector.ceil("us")
        assert cutoff(end, amount, unit, calendar) >= start, (start, end)
        before = end - dt.timedelta(microseconds=1)
        assert cutoff(before, amount, unit, calendar) < start, (start, end)
        sooner = start + (end - start) * float(rng.random())
        assert cutoff(sooner, amount, unit, calendar) < start or sooner >= end


@pytest.mark.parametrize(("name", "unit", "amount"), CASES)
def test_cutoff_is_monotone_and_matches_deadline(name, unit, amount):
    calendar = ALL_CALENDARS[name]
    rng = np.random.default_rng(zlib.crc32(f"{unit}{name}{amount}".encode()))
    nows = sorted(_instants(rng, 60, calendar))
    limits = [cutoff(now, amount, unit, calendar) for now in nows]
    assert all(a <= b for a, b in zip(limits, limits[1:], strict=False))
    starts = _instants(rng, 30, calendar)
    due = {start: deadline(start, amount, unit, calendar) for start in starts}
    for now, limit in zip(nows[::3], limits[::3], strict=True):
        for start in starts:
            assert (start <= limit) == (due[start] <= now), (start, now, limit, due[start])


def _worked_seconds(calendar: WorkCalendar, start: dt.datetime, end: dt.datetime) -> float:
    """Reference: work in [start, end), walking local dates with zoneinfo (attendances away from DST)."""
    zone = ZoneInfo(calendar.tz)
    start_utc, end_utc = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    day = start_utc.astimezone(zone).date() - dt.timedelta(days=1)
    total = 0.0
    while day <= end_utc.astimezone(zone).date() + dt.timedelta(days=1):
        for attendance in calendar.attendances:
            if attendance.weekday != day.weekday():
                continue
            low = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=attendance.hour_from)
            high = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=attendance.hour_to)
            pieces = [(low.replace(tzinfo=zone).astimezone(UTC), high.replace(tzinfo=zone).astimezone(UTC))]
            for leave_from, leave_to in calendar.leaves:
                cut_low, cut_high = leave_from.replace(tzinfo=UTC), leave_to.replace(tzinfo=UTC)
                pieces = [
                    part
                    for a, b in pieces
                    for part in ((a, min(b, cut_low)), (max(a, cut_high), b))
                    if part[1] > part[0]
                ]
            for a, b in pieces:
                total += max(0.0, (min(b, end_utc) - max(a, start_utc)).total_seconds())
        day += dt.timedelta(days=1)
    return total


@pytest.mark.parametrize(
    "name", ["utc", "brussels", "brussels-closures", "brussels-short-friday", "new-york", "kolkata"]
)
def test_business_hours_breach_matches_a_reference_count(name):
    calendar = ALL_CALENDARS[name]
    rng = np.random.default_rng(7)
    for _ in range(40):
        now = _instants(rng, 1, calendar)[0]
        hours = float(rng.choice([0.5, 3, 8, 13.25]))
        limit = cutoff(now, hours, "business_hours", calendar)
        assert _worked_seconds(calendar, limit, now) == pytest.approx(hours * 3600, abs=1e-3)
        earlier = limit - dt.timedelta(minutes=float(rng.integers(1, 5000)))
        assert _worked_seconds(calendar, earlier, now) >= hours * 3600 - 1e-3
        later = limit + dt.timedelta(seconds=1)
        if later < now:
            assert _worked_seconds(calendar, later, now) < hours * 3600
