"""Calendars and time helpers shared by the sla_rules tests."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from sla_rules import Attendance, WorkCalendar

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    """An instant written with its offset (``2026-11-20T15:00+01:00``) as a naive UTC datetime."""
    stamp = pd.Timestamp(text)
    assert stamp.tzinfo is not None, f"write {text} with its UTC offset"
    return stamp.tz_convert("UTC").tz_localize(None).to_pydatetime()


def week(*spans: tuple[float, float], days: range = range(5)) -> tuple[Attendance, ...]:
    """The same hours on each of ``days`` (0 = Monday)."""
    return tuple(Attendance(day, start, end) for day in days for start, end in spans)


UTC_DEFAULT = WorkCalendar()
BRUSSELS = WorkCalendar(tz="Europe/Brussels")
# Wednesday 2026-11-11 is a public holiday; Friday 2026-11-13 afternoon is closed (local times).
BRUSSELS_CLOSURES = WorkCalendar.from_mapping(
    {
        "tz": "Europe/Brussels",
        "holidays": ["2026-11-11", "2026-12-25"],
        "leaves": [["2026-11-13T13:00", "2026-11-13T17:00"]],
    }
)
# Mon-Thu 8-12 and 13-17, Friday 8-12 only.
BRUSSELS_SHORT_FRIDAY = WorkCalendar(
    tz="Europe/Brussels",
    attendances=week((8, 12), (13, 17), days=range(4)) + (Attendance(4, 8, 12),),
)
NEW_YORK = WorkCalendar.from_mapping(
    {"tz": "America/New_York", "hours": {day: [[9, 17]] for day in ("mon", "tue", "wed", "thu", "fri")}}
)
KOLKATA = WorkCalendar(tz="Asia/Kolkata")
# Every day, around the clock: business days then follow local dates through the DST changes.
BRUSSELS_ALWAYS = WorkCalendar(tz="Europe/Brussels", attendances=week((0, 24), days=range(7)))
# Every day 01:00-04:00: the attendance straddles both DST changes of Brussels.
BRUSSELS_NIGHTS = WorkCalendar(tz="Europe/Brussels", attendances=week((1, 4), days=range(7)))

ALL_CALENDARS = {
    "utc": UTC_DEFAULT,
    "brussels": BRUSSELS,
    "brussels-closures": BRUSSELS_CLOSURES,
    "brussels-short-friday": BRUSSELS_SHORT_FRIDAY,
    "new-york": NEW_YORK,
    "kolkata": KOLKATA,
    "brussels-always": BRUSSELS_ALWAYS,
    "brussels-nights": BRUSSELS_NIGHTS,
}
