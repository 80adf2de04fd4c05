"""Business-time arithmetic: when is a clock start breached, and what is its deadline.

An SLA threshold is an amount of time in one of four units (:data:`UNITS`). For a clock start ``S`` and an
evaluation time ``now`` the breach test is monotone: ``S`` is breached at ``now`` if and only if
``S <= cutoff(now, ...)``, and ``deadline(S, ...)`` is the earliest ``now`` at which ``S`` is breached. So
``cutoff(deadline(S)) >= S``, and ``cutoff(now) < S`` for every ``now < deadline(S)``. One cutoff per rule
selects every breached record with one SQL comparison (``clock_column <= cutoff``).

Units:

- ``hours`` / ``days``: elapsed time (a day is 24 hours); the calendar is ignored (it may be ``None``).
  ``cutoff = now - amount``, ``deadline = S + amount``.
- ``business_hours``: the time elapsed between ``S`` and ``now`` is the total length of the work intervals
  inside ``[S, now)``. The work intervals are, for every local date of the calendar's time zone, the
  attendances of its weekday (local hours, DST-aware), minus the calendar's leaves. ``cutoff(now, h)`` walks
  back from ``now`` through the work intervals consuming ``h`` hours; when they are consumed exactly at the
  start of an interval, the cutoff is that start (the latest instant with ``h`` hours of work until
  ``now``). This is Odoo's ``resource.calendar.plan_hours(-h, now, compute_leaves=True)``; ``deadline(S, h)``
  is ``plan_hours(h, S, compute_leaves=True)`` (walking forward; consumed exactly at the end of an interval
  gives that end). As in Odoo, attendance hours are rounded to the minute and localised as pytz does by
  default (``is_dst=False``: an ambiguous local hour is taken in standard time, a non-existent one with the
  offset before the change). One difference: Odoo ends an attendance ``to 24:00`` at 23:59:59.999999, this
  module at the next midnight.
- ``business_days`` (a whole number ``n >= 1``): a working date is a local date with some work left after the
  leaves (its weekday has attendances, and the leaves do not cover all of them). With ``d`` the local date
  and ``t`` the local time of day of ``now``:

  - ``cutoff(now, n)``: if ``d`` is a working date, ``t`` on the ``n``-th working date before ``d``;
    otherwise 00:00 of the ``n``-th working date before ``d``, counting the last working date before ``d``
    as the 1st. (A Saturday with ``n = 1`` gives Friday 00:00: everything that started before Friday has
    had its full business day by Saturday, while a start on Friday at 10:00 is due on Monday at 10:00.)
  - ``deadline(S, n)``: if ``S`` falls on a working date after 00:00, ``t`` on the ``n``-th working date
    after it; otherwise (a non-working date, or exactly 00:00) 00:00 of the day after the ``(n-1)``-th
    working date after the first working date on or after ``S``: a Saturday start with ``n = 4`` gives
    Friday 00:00, the end of Thursday.

  Equivalently, a business-day clock runs through each working date (one unit per date, in proportion to
  the local time of day) and stands still on the other dates; a start is breached once ``n`` units have
  run since it. The local time of day is wall-clock time: a local time that does not exist (DST gap) is
  shifted forward for a deadline (for a cutoff, the last instant before the gap, which is the same test);
  an ambiguous one takes its first occurrence, and the repeated hour after a DST change counts as the
  first instant after it, so that the clock never runs backwards. Working dates come from numpy's
  ``busdaycalendar`` (weekmask: the weekdays with attendances; holidays: the dates the leaves cover
  entirely), or from an explicit list (:func:`business_days_cutoff`, for the Odoo addon).

  ``activity_centric.chains.deadlines`` keeps the time of day for a start on a non-working day (a Saturday
  10:00 start with 1 business day is due on Tuesday 10:00). That rule is not monotone (a Saturday 09:00
  start would be due before a Friday 23:00 start is), which the SLA selection with one cutoff per rule
  needs; hence the different rule here.

Inputs and outputs: scalar functions take a ``datetime`` (naive = UTC, or aware) and return a naive UTC
``datetime`` for a naive input and an aware UTC one for an aware input, rounded to the microsecond in the
direction that keeps the breach test exact (cutoffs down, deadlines up). :func:`deadlines` takes and returns
``datetime64[ns, UTC]`` Series (naive input = UTC; NaT kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from activity_centric._common import holiday_array, weekmask
from sla_rules._common import (
    DAY_NS,
    NAT,
    UTC_NS,
    RuleError,
    is_number,
    scalar_utc,
    to_datetime,
    utc_series,
)

UNITS: tuple[str, ...] = ("business_days", "business_hours", "days", "hours")
"""Units of a threshold (see the module docstring)."""
BUSINESS_UNITS: tuple[str, ...] = ("business_days", "business_hours")
"""The units that need a :class:`WorkCalendar`."""

NEED_CALENDAR = (
    "Business days and business hours need a working calendar: choose one on the rule or give the company a "
    "working schedule."
)
WHOLE_DAYS = "Business days are counted in whole days: use a whole number."
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of the YAML form (Monday first); full names (``monday``) are accepted too."""

_HOUR_NS = 3600 * 10**9
_MINUTE_NS = 60 * 10**9


@dataclass(frozen=True)
class Attendance:
    """Working hours on one weekday, from ``hour_from`` to ``hour_to`` (local, ``0 <= from < to <= 24``).

    ``weekday``: 0 = Monday .. 6 = Sunday. Hours are decimal (8.5 = 08:30) and rounded to the minute.

    Raises:
        RuleError: a weekday outside 0..6, hours out of range or in the wrong order.
    """

    weekday: int
    hour_from: float
    hour_to: float

    def __post_init__(self) -> None:
        day = self.weekday
        if isinstance(day, bool) or not isinstance(day, (int, np.integer)) or not 0 <= day <= 6:
            raise RuleError(f"A weekday must be 0 (Monday) to 6 (Sunday), got {day!r}.")
        start, end = self.hour_from, self.hour_to
        if not (is_number(start) and is_number(end) and 0 <= start < end <= 24):
            raise RuleError(
                f"Working hours must run from an earlier to a later hour between 0 and 24, got "
                f"{start!r} to {end!r} on {DAY_NAMES[int(day)]}."
            )

    @property
    def bounds_ns(self) -> tuple[int, int]:
        """Start and end as nanoseconds after local midnight, rounded to the minute (as Odoo does)."""
        return round(self.hour_from * 60) * _MINUTE_NS, round(self.hour_to * 60) * _MINUTE_NS


DEFAULT_ATTENDANCES: tuple[Attendance, ...] = tuple(
    Attendance(day, start, end) for day in range(5) for start, end in ((8.0, 12.0), (13.0, 17.0))
)
"""Monday to Friday, 08:00-12:00 and 13:00-17:00 (Odoo's default 40-hour week)."""


@dataclass(frozen=True)
class WorkCalendar:
    """A working calendar: a time zone, weekly attendances and closures.

    - ``tz``: IANA time zone name of the attendances (``Europe/Brussels``);
    - ``attendances``: :class:`Attendance` values (or ``(weekday, hour_from, hour_to)`` tuples); overlapping
      ones are merged. Default: :data:`DEFAULT_ATTENDANCES`;
    - ``leaves``: closures (public holidays, company leaves) as ``(start, end)`` datetimes, naive = UTC or
      aware; stored sorted, as naive UTC.

    Raises:
        RuleError: unknown time zone, bad attendance, a leave that does not end after it starts.
    """

    tz: str = "UTC"
    attendances: tuple[Attendance, ...] = DEFAULT_ATTENDANCES
    leaves: tuple[tuple[dt.datetime, dt.datetime], ...] = ()

    def __post_init__(self) -> None:
        _zone(self.tz)
        attendances = []
        for item in self.attendances:
            if isinstance(item, Attendance):
                attendances.append(item)
            elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 3:
                attendances.append(Attendance(*item))
            else:
                raise RuleError(
                    f"An attendance must be (weekday, hour_from, hour_to), got {item!r}: e.g. (0, 8, 12)."
                )
        leaves = []
        for item in self.leaves:
            if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
                raise RuleError(f"A leave must be a (start, end) pair of datetimes, got {item!r}.")
            (start, _), (end, _) = (
                scalar_utc(item[0], "A leave's start"),
                scalar_utc(item[1], "A leave's end"),
            )
            if end <= start:
                raise RuleError(f"A leave must end after it starts, got {item[0]} to {item[1]}.")
            leaves.append((to_datetime(start.value, False, "floor"), to_datetime(end.value, False, "ceil")))
        object.__setattr__(self, "attendances", tuple(attendances))
        object.__setattr__(self, "leaves", tuple(sorted(leaves)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> WorkCalendar:
        """A calendar from its YAML form::

            {tz: Europe/Brussels,
             hours: {mon: [[8, 12], [13, 17]], ..., fri: [[8, 12]]},   # "8:30" works too; omitted days: off
             holidays: [2026-12-25, 2027-01-01],                        # whole local days
             leaves: [["2026-12-24T12:00", "2026-12-24T17:00"]]}        # local time

        ``tz`` defaults to UTC; without ``hours``, :data:`DEFAULT_ATTENDANCES`. A local leave bound that does
        not exist (DST gap) is shifted forward, an ambiguous one takes its first occurrence.

        Raises:
            RuleError: an unknown key, a bad value; the message names the key.
        """
        if not isinstance(data, Mapping):
            raise RuleError(
                "A calendar must be a mapping with tz, hours, holidays and leaves, "
                f"got {type(data).__name__}."
            )
        unknown = sorted(str(key) for key in data if key not in ("tz", "hours", "holidays", "leaves"))
        if unknown:
            raise RuleError(f"Unknown calendar key(s) {', '.join(unknown)}: use tz, hours, holidays, leaves.")
        tz = data.get("tz") or "UTC"
        if not isinstance(tz, str):
            raise RuleError(f"tz: give a time zone name such as Europe/Brussels, got {tz!r}.")
        _zone(tz)
        hours = data.get("hours")
        attendances = DEFAULT_ATTENDANCES if hours is None else _attendances(hours)
        walls: list[tuple[int, int]] = []
        holidays = data.get("holidays") or []
        if not isinstance(holidays, (list, tuple)):
            raise RuleError(f"holidays: give a list of dates (YYYY-MM-DD), got {holidays!r}.")
        try:
            days = holiday_array(holidays).astype("int64")
        except ValueError as exc:
            raise RuleError(f"holidays: {exc}; use YYYY-MM-DD.") from None
        walls.extend((int(day) * DAY_NS, (int(day) + 1) * DAY_NS) for day in days)
        leaves = data.get("leaves") or []
        if not isinstance(leaves, (list, tuple)):
            raise RuleError(f"leaves: give a list of [start, end] local datetimes, got {leaves!r}.")
        for position, item in enumerate(leaves, start=1):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise RuleError(
                    f"leaves, item {position}: give [start, end] local datetimes, e.g. "
                    f'["2026-12-24T12:00", "2026-12-24T17:00"], got {item!r}.'
                )
            bounds = []
            for value in item:
                stamp, aware = scalar_utc(value, f"leaves, item {position}")
                if aware:
                    raise RuleError(f"leaves, item {position}: give local times without an offset.")
                bounds.append(stamp.value)
            if bounds[1] <= bounds[0]:
                raise RuleError(f"leaves, item {position}: the leave must end after it starts.")
            walls.append((bounds[0], bounds[1]))
        utc = _localize(
            np.array(walls, dtype="int64").reshape(-1), tz, ambiguous="first", nonexistent="forward"
        )
        pairs = tuple(
            (to_datetime(int(start), False, "floor"), to_datetime(int(end), False, "floor"))
            for start, end in utc.reshape(-1, 2)
            if end > start
        )
        return cls(tz=tz, attendances=attendances, leaves=pairs)

    def working_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The local dates in ``[start, end]`` (both included) with some work left after the leaves.

        Raises:
            RuleError: the calendar has no working time at all.
        """
        first, last = np.datetime64(start, "D"), np.datetime64(end, "D")
        if last < first:
            return []
        days = np.arange(first, last + 1)
        return [day.item() for day in days[np.is_busday(days, busdaycal=self._busdaycal)]]

    # -- internals (cached per calendar; the dataclass is frozen) ------------------------------------------

    @cached_property
    def _attendance_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weekday, start and end (ns after local midnight) of each attendance."""
        weekdays = np.array([a.weekday for a in self.attendances], dtype="int64")
        bounds = np.array([a.bounds_ns for a in self.attendances], dtype="int64").reshape(-1, 2)
        return weekdays, bounds[:, 0], bounds[:, 1]

    @cached_property
    def _leave_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The leaves as merged, sorted UTC nanosecond intervals."""
        if not self.leaves:
            empty = np.array([], dtype="int64")
            return empty, empty
        bounds = np.array([[pd.Timestamp(a).value, pd.Timestamp(b).value] for a, b in self.leaves])
        starts, ends, _ = _merge(bounds[:, 0], bounds[:, 1], np.zeros(len(bounds), dtype="int64"), touch=True)
        return starts, ends

    @cached_property
    def _weekly_ns(self) -> int:
        _, starts, ends = self._attendance_table
        return int((ends - starts).sum())

    @cached_property
    def _busdaycal(self) -> np.busdaycalendar:
        """numpy's working dates: weekmask of the attended weekdays, fully closed dates as holidays."""
        weekdays, _, _ = self._attendance_table
        try:
            mask = weekmask(sorted(set(weekdays.tolist())))
        except ValueError:
            raise _no_working_time(self) from None
        starts, ends = self._leave_bounds
        holidays = np.array([], dtype="int64")
        if len(starts):
            first = _local_days(starts, self.tz)
            last = _local_days(ends - 1, self.tz)
            candidates = np.unique(
                np.concatenate([np.arange(a, b + 1) for a, b in zip(first, last, strict=True)])
            )
            candidates = candidates[np.array(mask, dtype=bool)[(candidates + 3) % 7]]
            seg_start, seg_end, owner = self._work_segments(candidates)
            work = np.bincount(
                owner, weights=(seg_end - seg_start).astype("float64"), minlength=len(candidates)
            )
            holidays = candidates[work <= 0]
        return np.busdaycalendar(weekmask=mask, holidays=holidays.astype("datetime64[D]"))

    def _work_segments(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Work intervals of the local dates ``days`` (int64 day numbers): UTC ns starts and ends, sorted and
        disjoint, and the position in ``days`` of the date each interval belongs to."""
        weekdays, att_start, att_end = self._attendance_table
        day_weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        walls_from, walls_to, owners = [], [], []
        for weekday, start, end in zip(weekdays, att_start, att_end, strict=True):
            owner = np.flatnonzero(day_weekday == weekday)
            walls_from.append(days[owner] * DAY_NS + start)
            walls_to.append(days[owner] * DAY_NS + end)
            owners.append(owner)
        if not owners:
            empty = np.array([], dtype="int64")
            return empty, empty, empty
        starts = _localize(np.concatenate(walls_from), self.tz, ambiguous="standard", nonexistent="standard")
        ends = _localize(np.concatenate(walls_to), self.tz, ambiguous="standard", nonexistent="standard")
        owner = np.concatenate(owners)
        keep = ends > starts
        starts, ends, owner = _merge(starts[keep], ends[keep], owner[keep], touch=False)
        return _subtract(starts, ends, owner, *self._leave_bounds)

    def _business_hours(self, instants: np.ndarray, hours_ns: int, direction: int) -> np.ndarray:
        """Walk ``hours_ns`` of work forward (+1, deadlines) or back (-1, cutoffs) from each instant."""
        if not self._weekly_ns:
            raise _no_working_time(self)
        days = _local_days(instants, self.tz)
        low, high = int(days.min()) - 1, int(days.max()) + 1
        weeks = hours_ns // self._weekly_ns + 1
        extra = 7 * weeks + 7
        cap = 7 * (2 * weeks + 4) + 14
        leave_starts, leave_ends = self._leave_bounds
        if len(leave_starts):
            if direction > 0:
                cap += max(0, int(_local_days(leave_ends[-1:], self.tz)[0]) - high)
            else:
                cap += max(0, low - int(_local_days(leave_starts[:1], self.tz)[0]))
        while True:
            first, last = (low, high + extra) if direction > 0 else (low - extra, high)
            starts, ends, _ = self._work_segments(np.arange(first, last + 1, dtype="int64"))
            if len(starts):
                length = ends - starts
                cum_end = np.cumsum(length)
                cum_start = cum_end - length
                index = np.searchsorted(starts, instants, side="right") - 1
                safe = np.clip(index, 0, None)
                done = np.where(
                    index >= 0, cum_start[safe] + np.clip(instants - starts[safe], 0, length[safe]), 0
                )
                target = done + direction * hours_ns
                if direction > 0 and (target <= cum_end[-1]).all():
                    found = np.searchsorted(cum_end, target, side="left")
                    return starts[found] + (target - cum_start[found])
                if direction < 0 and (target >= 0).all():
                    found = np.searchsorted(cum_end, target, side="right")
                    return starts[found] + (target - cum_start[found])
            if extra >= cap:
                raise _no_working_time(self)
            extra = min(extra * 2, cap)


# ------------------------------------------------------------------------------------------------------
# public functions
# ------------------------------------------------------------------------------------------------------


def cutoff(now: dt.datetime, amount: float, unit: str, calendar: WorkCalendar | None = None) -> dt.datetime:
    """The latest clock start that is breached at ``now`` when ``amount`` ``unit`` are allowed.

    Inputs: ``now`` (naive = UTC, or aware); ``amount`` (> 0; a whole number for ``business_days``);
    ``unit`` (one of :data:`UNITS`); ``calendar`` (needed by the business units).

    Output: a ``datetime``, naive UTC for a naive ``now``, aware UTC otherwise; a start ``S`` is breached at
    ``now`` if and only if ``S <= cutoff(now, ...)`` (see the module docstring for each unit).

    Raises:
        RuleError: unknown unit, bad amount, no calendar for a business unit, a calendar without working time.
    """
    stamp, aware = scalar_utc(now, "now")
    return to_datetime(int(_shift(np.array([stamp.value]), amount, unit, calendar, -1)[0]), aware, "floor")


def deadline(
    start: dt.datetime, amount: float, unit: str, calendar: WorkCalendar | None = None
) -> dt.datetime:
    """The earliest time at which a clock started at ``start`` is breached (``amount`` ``unit`` allowed).

    Inputs and output as :func:`cutoff` (``start`` instead of ``now``).

    Raises:
        RuleError: as :func:`cutoff`.
    """
    stamp, aware = scalar_utc(start, "start")
    return to_datetime(int(_shift(np.array([stamp.value]), amount, unit, calendar, +1)[0]), aware, "ceil")


def deadlines(starts: pd.Series, amount: float, unit: str, calendar: WorkCalendar | None = None) -> pd.Series:
    """:func:`deadline` of every start, vectorised.

    Inputs: ``starts``, a Series of datetimes (tz-aware, or naive = UTC; NaT allowed); the rest as
    :func:`deadline`.

    Output: a ``datetime64[ns, UTC]`` Series with the index of ``starts``, named ``deadline`` (NaT where the
    start is NaT).

    Raises:
        RuleError: as :func:`cutoff`, or ``starts`` that are not datetimes.
    """
    utc = utc_series(starts, "starts")
    values = _shift(utc.array.asi8.copy(), amount, unit, calendar, +1)
    result = pd.DatetimeIndex(values.view("datetime64[ns]")).tz_localize("UTC")
    return pd.Series(result, index=utc.index, name="deadline").astype(UTC_NS)


def business_days_cutoff(
    now: dt.datetime, amount: int, tz: str, working_dates: Collection[dt.date]
) -> dt.datetime:
    """:func:`cutoff` in ``business_days`` for an explicit set of working dates (local dates of ``tz``).

    The Odoo addon computes the working dates from a ``resource.calendar`` and calls this; :func:`cutoff`
    applies the same rule to the working dates of a :class:`WorkCalendar`.

    Inputs: ``now`` (naive = UTC, or aware); ``amount``: a whole number >= 1; ``tz``: IANA time zone name;
    ``working_dates``: every working date from the ``amount``-th before the local date of ``now`` up to that
    date (dates after it are ignored; a missing one is taken as a non-working date).

    Output: as :func:`cutoff`.

    Raises:
        RuleError: bad amount, unknown time zone, too few working dates before ``now``.
    """
    _check_amount(amount, "business_days")
    _zone(tz)
    stamp, aware = scalar_utc(now, "now")
    try:
        dates = holiday_array(working_dates)
    except ValueError as exc:
        raise RuleError(f"working_dates: {exc}.") from None
    if not len(dates):
        raise RuleError("No working dates given: give the working dates before the evaluation time.")
    walls = _wall_clock(np.array([stamp.value]), tz)
    local = _business_days_walls(walls, int(amount), _ListedDays(dates), -1)
    return to_datetime(
        int(_localize(local, tz, ambiguous="first", nonexistent="backward")[0]), aware, "floor"
    )


# ------------------------------------------------------------------------------------------------------
# internals
# ------------------------------------------------------------------------------------------------------


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RuleError(f"Unknown time zone {tz!r}: use an IANA name such as Europe/Brussels.") from None


def _no_working_time(calendar: WorkCalendar) -> RuleError:
    return RuleError(
        f"The working calendar ({calendar.tz}) has no working time: give it working hours, or fewer leaves."
    )


def _check_amount(amount: Any, unit: str) -> None:
    if unit not in UNITS:
        raise RuleError(f"Unknown unit {unit!r}: use one of {', '.join(UNITS)}.")
    if not is_number(amount):
        raise RuleError(f"The amount of time must be a number, got {amount!r}.")
    if amount <= 0:
        raise RuleError("The amount of time must be greater than zero.")
    if unit == "business_days" and amount != int(amount):
        raise RuleError(WHOLE_DAYS)


def _shift(instants: np.ndarray, amount: Any, unit: str, calendar: Any, direction: int) -> np.ndarray:
    """Cutoffs (direction -1) or deadlines (+1) of UTC ns ``instants`` (NaT kept)."""
    _check_amount(amount, unit)
    if unit in BUSINESS_UNITS and not isinstance(calendar, WorkCalendar):
        raise RuleError(NEED_CALENDAR)
    result = np.full(len(instants), NAT, dtype="int64")
    valid = instants != NAT
    values = instants[valid]
    if not len(values):
        return result
    if unit in ("hours", "days"):
        step = round(float(amount) * (3600 if unit == "hours" else 86400) * 10**9)
        result[valid] = values + direction * step
    elif unit == "business_hours":
        result[valid] = calendar._business_hours(values, round(float(amount) * _HOUR_NS), direction)
    else:
        walls = _wall_clock(values, calendar.tz)
        local = _business_days_walls(walls, int(amount), _CalendarDays(calendar._busdaycal), direction)
        gap = "backward" if direction < 0 else "forward"
        result[valid] = _localize(local, calendar.tz, ambiguous="first", nonexistent=gap)
    return result


class _CalendarDays:
    """Working dates of a numpy ``busdaycalendar``."""

    def __init__(self, calendar: np.busdaycalendar) -> None:
        self.calendar = calendar

    def is_working(self, days: np.ndarray) -> np.ndarray:
        return np.is_busday(days, busdaycal=self.calendar)

    def offset(self, days: np.ndarray, count: int, roll: str) -> np.ndarray:
        return np.busday_offset(days, count, roll=roll, busdaycal=self.calendar)


class _ListedDays:
    """Working dates of an explicit sorted ``datetime64[D]`` array, with ``busday_offset``'s semantics."""

    def __init__(self, dates: np.ndarray) -> None:
        self.dates = dates

    def is_working(self, days: np.ndarray) -> np.ndarray:
        return np.isin(days, self.dates)

    def offset(self, days: np.ndarray, count: int, roll: str) -> np.ndarray:
        if roll == "forward":
            rolled = np.searchsorted(self.dates, days, side="left")
        else:
            rolled = np.searchsorted(self.dates, days, side="right") - 1
        moved = rolled + count
        bad = (rolled < 0) | (rolled >= len(self.dates)) | (moved < 0) | (moved >= len(self.dates))
        if bad.any():
            day = days[np.flatnonzero(bad)[0]]
            raise RuleError(
                f"The working dates given ({self.dates[0]} to {self.dates[-1]}) do not reach "
                f"{max(abs(count), 1)} working day(s) back from {day}: give more working dates before it."
            )
        return self.dates[moved]


def _business_days_walls(walls: np.ndarray, days_count: int, days: Any, direction: int) -> np.ndarray:
    """The business-days rule on local wall times (ns): cutoffs (-1) or deadlines (+1), as wall times."""
    result = np.full(len(walls), NAT, dtype="int64")
    valid = walls != NAT
    wall = walls[valid]
    day = wall // DAY_NS
    time_of_day = wall - day * DAY_NS
    date = day.astype("datetime64[D]")
    working = days.is_working(date)
    out = np.empty(len(wall), dtype="int64")
    if direction < 0:
        same_time = working
        moved = days.offset(date[same_time], -days_count, "forward")
        out[same_time] = moved.astype("int64") * DAY_NS + time_of_day[same_time]
        start_of = days.offset(date[~same_time], -(days_count - 1), "backward")
        out[~same_time] = start_of.astype("int64") * DAY_NS
    else:
        same_time = working & (time_of_day > 0)
        moved = days.offset(date[same_time], days_count, "forward")
        out[same_time] = moved.astype("int64") * DAY_NS + time_of_day[same_time]
        last_day = days.offset(date[~same_time], days_count - 1, "forward")
        out[~same_time] = (last_day.astype("int64") + 1) * DAY_NS
    result[valid] = out
    return result


def _local_days(instants: np.ndarray, tz: str) -> np.ndarray:
    """Local day numbers (days since 1970-01-01) of UTC ns instants."""
    if tz == "UTC":
        return instants // DAY_NS
    local = pd.DatetimeIndex(instants.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    return local.tz_localize(None).asi8 // DAY_NS


def _localize(walls: np.ndarray, tz: str, *, ambiguous: str, nonexistent: str) -> np.ndarray:
    """UTC ns of local wall times (ns, NaT kept).

    ``ambiguous``: ``first`` (first occurrence) or ``standard`` (the later one, in standard time: pytz's
    default ``is_dst=False``, as Odoo localises attendances). ``nonexistent``: ``forward`` (the instant of
    the change), ``backward`` (the last instant before it) or ``standard`` (the offset before the change,
    as pytz's ``is_dst=False``).
    """
    walls = np.asarray(walls, dtype="int64")
    if tz == "UTC":
        return walls.copy()
    result = np.full(len(walls), NAT, dtype="int64")
    valid = walls != NAT
    gap = {"forward": "shift_forward", "backward": "shift_backward", "standard": "NaT"}[nonexistent]
    index = pd.DatetimeIndex(walls[valid].view("datetime64[ns]"))
    local = index.tz_localize(tz, ambiguous="NaT", nonexistent=gap).as_unit("ns")
    values = local.asi8.copy()
    zone = ZoneInfo(tz)
    for position in np.flatnonzero(local.isna()):  # DST changes only: a few per year
        wall = int(index.asi8[position])
        naive = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=wall // 1000)
        earlier = naive.replace(tzinfo=zone, fold=0)
        exists = earlier.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) == naive
        chosen = naive.replace(tzinfo=zone, fold=1 if exists and ambiguous == "standard" else 0)
        offset = chosen.utcoffset() or dt.timedelta(0)
        values[position] = wall - (offset // dt.timedelta(microseconds=1)) * 1000
    result[valid] = values
    return result


def _wall_clock(instants: np.ndarray, tz: str) -> np.ndarray:
    """Local wall times (ns) of UTC ns instants, never running backwards.

    The repeated hour after a DST change (the second occurrence of its local times) maps to the first local
    time after it, so that the business-day clock is monotone in real time.
    """
    if tz == "UTC":
        return instants.copy()
    local = pd.DatetimeIndex(instants.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    walls = local.tz_localize(None).asi8.copy()
    first = _localize(walls, tz, ambiguous="first", nonexistent="forward")
    zone = ZoneInfo(tz)
    for position in np.flatnonzero(first < instants):  # in a repeated hour: rare
        seconds_low, seconds_high = int(first[position]) // 10**9, int(instants[position]) // 10**9
        while seconds_high - seconds_low > 1:  # the change happens at a whole second
            middle = (seconds_low + seconds_high) // 2
            if dt.datetime.fromtimestamp(middle, zone).fold:
                seconds_high = middle
            else:
                seconds_low = middle
        change_wall = dt.datetime.fromtimestamp(seconds_high, zone).replace(tzinfo=None)
        fold_length = int(instants[position] - first[position])
        change_ns = (change_wall - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1) * 1000
        walls[position] = change_ns + fold_length
    return walls


def _merge(
    starts: np.ndarray, ends: np.ndarray, owner: np.ndarray, *, touch: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of intervals (sorted by start); ``touch``: also merge intervals that only touch."""
    if not len(starts):
        return starts, ends, owner
    order = np.argsort(starts, kind="stable")
    starts, ends, owner = starts[order], ends[order], owner[order]
    reach = np.maximum.accumulate(ends)
    new = np.ones(len(starts), dtype=bool)
    new[1:] = starts[1:] > reach[:-1] if touch else starts[1:] >= reach[:-1]
    heads = np.flatnonzero(new)
    return starts[heads], np.maximum.reduceat(ends, heads), owner[heads]


def _subtract(
    starts: np.ndarray, ends: np.ndarray, owner: np.ndarray, cut_starts: np.ndarray, cut_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disjoint sorted intervals minus disjoint sorted cuts (elementary segments between all bounds)."""
    if not len(starts) or not len(cut_starts):
        return starts, ends, owner
    near = (cut_ends > starts[0]) & (cut_starts < ends[-1])
    cut_starts, cut_ends = cut_starts[near], cut_ends[near]
    if not len(cut_starts):
        return starts, ends, owner
    points = np.unique(np.concatenate([starts, ends, cut_starts, cut_ends]))
    low, high = points[:-1], points[1:]
    inside = np.searchsorted(starts, low, side="right") - 1
    inside_safe = np.clip(inside, 0, None)
    worked = (inside >= 0) & (ends[inside_safe] > low)
    cut = np.searchsorted(cut_starts, low, side="right") - 1
    closed = (cut >= 0) & (cut_ends[np.clip(cut, 0, None)] > low)
    keep = worked & ~closed
    return low[keep], high[keep], owner[inside_safe[keep]]


def _hour(value: Any, where: str) -> float:
    if is_number(value):
        return float(value)
    if isinstance(value, str) and ":" in value:
        hours, _, minutes = value.strip().partition(":")
        if hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            return int(hours) + int(minutes) / 60
    raise RuleError(f"{where}: give hours as numbers (8.5) or HH:MM (08:30), got {value!r}.")


def _attendances(hours: Any) -> tuple[Attendance, ...]:
    """Attendances from the YAML ``hours`` mapping (weekday key -> list of [from, to])."""
    if not isinstance(hours, Mapping):
        raise RuleError(f"hours: give a mapping of weekdays (mon..sun) to [[from, to], ...], got {hours!r}.")
    names = {name: day for day, name in enumerate(DAY_NAMES)}
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    names.update({name: day for day, name in enumerate(full)})
    result = []
    for key, spans in hours.items():
        day = names.get(str(key).strip().lower())
        if day is None:
            raise RuleError(f"hours: unknown weekday {key!r}: use {', '.join(DAY_NAMES)}.")
        for span in spans or []:
            where = f"hours.{DAY_NAMES[day]}"
            if not isinstance(span, (list, tuple)) or len(span) != 2:
                raise RuleError(f"{where}: give [from, to] pairs such as [8, 12], got {span!r}.")
            try:
                result.append(Attendance(day, _hour(span[0], where), _hour(span[1], where)))
            except RuleError as exc:
                raise RuleError(f"{where}: {exc}") from None
    return tuple(result)
