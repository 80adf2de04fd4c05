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
  attendances of its weekday (and week, in a two-week schedule; local hours, DST-aware), minus the calendar's
  leaves (:meth:`~activity_centric.workcalendar.WorkCalendar.work_intervals`). ``cutoff(now, h)`` walks back
  from ``now`` through the work intervals consuming ``h`` hours; when they are consumed exactly at the start
  of an interval, the cutoff is that start (the latest instant with ``h`` hours of work until ``now``). This
  is Odoo's ``resource.calendar.plan_hours(-h, now, compute_leaves=True)``; ``deadline(S, h)`` is
  ``plan_hours(h, S, compute_leaves=True)`` (walking forward; consumed exactly at the end of an interval
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
  first instant after it, so that the clock never runs backwards. Working dates are the calendar's
  (:meth:`activity_centric.workcalendar.WorkCalendar.working_dates`: the same definition for event chains
  and "Plan tomorrow"); on a flexible-hours calendar (no fixed times) business days work, business hours
  are refused.

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
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from activity_centric.instants import DAY_NS, NAT, UTC_NS, utc_datetime
from activity_centric.workcalendar import (
    DAY_NAMES,
    DEFAULT_ATTENDANCES,
    Attendance,
    CalendarError,
    WorkCalendar,
    local_days,
    localize,
    no_working_time,
)
from sla_rules._common import RuleError, is_number, scalar_utc, utc_series

__all__ = [
    "BUSINESS_UNITS",
    "DAY_NAMES",
    "DEFAULT_ATTENDANCES",
    "UNITS",
    "Attendance",
    "WorkCalendar",
    "cutoff",
    "deadline",
    "deadlines",
]

UNITS: tuple[str, ...] = ("business_days", "business_hours", "days", "hours")
"""Units of a threshold (see the module docstring)."""
BUSINESS_UNITS: tuple[str, ...] = ("business_days", "business_hours")
"""The units that need a :class:`~activity_centric.workcalendar.WorkCalendar`."""

NEED_CALENDAR = (
    "Business days and business hours need a working calendar: choose one on the rule or give the company a "
    "working schedule."
)
WHOLE_DAYS = "Business days are counted in whole days: use a whole number."

_HOUR_NS = 3600 * 10**9


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
    return utc_datetime(int(_shift(np.array([stamp.value]), amount, unit, calendar, -1)[0]), aware, "floor")


def deadline(
    start: dt.datetime, amount: float, unit: str, calendar: WorkCalendar | None = None
) -> dt.datetime:
    """The earliest time at which a clock started at ``start`` is breached (``amount`` ``unit`` allowed).

    Inputs and output as :func:`cutoff` (``start`` instead of ``now``).

    Raises:
        RuleError: as :func:`cutoff`.
    """
    stamp, aware = scalar_utc(start, "start")
    return utc_datetime(int(_shift(np.array([stamp.value]), amount, unit, calendar, +1)[0]), aware, "ceil")


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


# ------------------------------------------------------------------------------------------------------
# internals
# ------------------------------------------------------------------------------------------------------


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
    """Cutoffs (direction -1) or deadlines (+1) of UTC ns ``instants`` (NaT kept).

    A calendar that cannot answer (no working time, flexible hours for business hours) raises a
    :class:`RuleError` carrying the calendar's problem ``code`` and ``params``.
    """
    _check_amount(amount, unit)
    if unit in BUSINESS_UNITS and not isinstance(calendar, WorkCalendar):
        raise RuleError(NEED_CALENDAR)
    result = np.full(len(instants), NAT, dtype="int64")
    valid = instants != NAT
    values = instants[valid]
    if not len(values):
        return result
    try:
        if unit in ("hours", "days"):
            step = round(float(amount) * (3600 if unit == "hours" else 86400) * 10**9)
            result[valid] = values + direction * step
        elif unit == "business_hours":
            result[valid] = _business_hours(calendar, values, round(float(amount) * _HOUR_NS), direction)
        else:
            walls = _wall_clock(values, calendar.tz)
            local = _business_days_walls(walls, int(amount), calendar, direction)
            gap = "backward" if direction < 0 else "forward"
            result[valid] = localize(local, calendar.tz, ambiguous="first", nonexistent=gap)
    except CalendarError as exc:
        raise RuleError(str(exc), code=exc.code, params=exc.params) from None
    return result


def _business_hours(
    calendar: WorkCalendar, instants: np.ndarray, hours_ns: int, direction: int
) -> np.ndarray:
    """Walk ``hours_ns`` of work forward (+1, deadlines) or back (-1, cutoffs) from each instant."""
    weekly_ns = round(calendar.weekly_hours * _HOUR_NS)
    if not weekly_ns:
        raise no_working_time(calendar)
    days = local_days(instants, calendar.tz)
    low, high = int(days.min()) - 1, int(days.max()) + 1
    weeks = hours_ns // weekly_ns + 1
    extra = 7 * weeks + 7
    cap = 7 * (2 * weeks + 4) + 14
    if calendar.leaves:
        if direction > 0:
            last_end = np.array([max(pd.Timestamp(end).value for _, end in calendar.leaves)])
            cap += max(0, int(local_days(last_end, calendar.tz)[0]) - high)
        else:
            first_start = np.array([pd.Timestamp(calendar.leaves[0][0]).value])
            cap += max(0, low - int(local_days(first_start, calendar.tz)[0]))
    while True:
        first, last = (low, high + extra) if direction > 0 else (low - extra, high)
        starts, ends, _ = calendar.work_intervals(np.arange(first, last + 1, dtype="int64"))
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
            raise no_working_time(calendar)
        extra = min(extra * 2, cap)


def _business_days_walls(walls: np.ndarray, days_count: int, days: Any, direction: int) -> np.ndarray:
    """The business-days rule on local wall times (ns): cutoffs (-1) or deadlines (+1), as wall times."""
    result = np.full(len(walls), NAT, dtype="int64")
    valid = walls != NAT
    wall = walls[valid]
    day = wall // DAY_NS
    time_of_day = wall - day * DAY_NS
    date = day.astype("datetime64[D]")
    working = days.working_day_mask(date)
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


def _wall_clock(instants: np.ndarray, tz: str) -> np.ndarray:
    """Local wall times (ns) of UTC ns instants, never running backwards.

    The repeated hour after a DST change (the second occurrence of its local times) maps to the first local
    time after it, so that the business-day clock is monotone in real time.
    """
    if tz == "UTC":
        return instants.copy()
    local = pd.DatetimeIndex(instants.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    walls = local.tz_localize(None).asi8.copy()
    first = localize(walls, tz, ambiguous="first", nonexistent="forward")
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
