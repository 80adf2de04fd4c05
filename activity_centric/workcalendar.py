"""The work calendar (time zone, weekly attendances, leaves): which dates are working days, when work happens.

One calendar type serves every business-time decision: SLA cutoffs and deadlines (``sla_rules.businesstime``),
event-chain deadlines in business days (:mod:`activity_centric.chains`) and the days "Plan tomorrow" may move
work to (:mod:`activity_centric.levelling`). Inside Odoo the ``crm_pipeline_base`` addon turns a
``resource.calendar`` into a :class:`WorkCalendar`.

- **Attendances** (:class:`Attendance`): local hours of a weekday; with a ``week_type`` (0 or 1) only in
  the weeks of that parity (a two-week schedule; parity as Odoo's ``get_week_type``: whole weeks since
  Monday 1 January of year 1, modulo 2). Hours are localised DST-aware as pytz does by default
  (``is_dst=False``: an ambiguous local hour in standard time, a non-existent one with the offset before
  the change) and rounded to the minute, as Odoo does.
- **Flexible hours** (``hours_per_week`` given): no fixed times. The working weekdays are the first
  ``ceil(hours_per_week / hours_per_day)`` days from Monday (40 h at 8 h a day: Monday to Friday), each with
  ``hours_per_day`` centred on 12:00, as Odoo fills a flexible week that starts on a Monday. That decides
  which days are working days (a morning closure leaves one, a whole-day closure does not), so business
  days can be counted; business hours cannot, the times being an approximation (:data:`FLEXIBLE_HOURS`).
- **Leaves**: closures (public holidays, company leaves) as UTC intervals; they remove work.

**A working day** is a local date (in the calendar's time zone) with working time left after the leaves:
its weekday (and week parity) has attendances, and the leaves do not cover all of them. A half-day closure
leaves a working day; a closure of the whole day, or a public holiday, does not.

Errors are :class:`CalendarError` values with a problem ``code`` and ``params`` (so that an addon can
translate them) and an English message.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from activity_centric._common import holiday_array, weekmask
from activity_centric.instants import DAY_NS, NAT, utc_datetime, utc_timestamp

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of the mapping form (Monday first); full names (``monday``) are accepted too."""

# Problem codes of CalendarError (params in brackets)
UNKNOWN_TZ = "unknown_tz"  # [tz]
BAD_ATTENDANCE = "bad_attendance"  # [value]
BAD_LEAVE = "bad_leave"  # [value]
BAD_HOURS_PER_WEEK = "bad_hours_per_week"  # [hours_per_week, hours_per_day]
BAD_MAPPING = "bad_mapping"  # [key]
NO_WORKING_TIME = "no_working_time"  # [tz]
FLEXIBLE_HOURS = "flexible_hours"  # [tz]

_MINUTE_NS = 60 * 10**9
_ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()


class CalendarError(ValueError):
    """A calendar cannot be built or cannot answer: ``code`` says which problem (see the module's codes),
    ``params`` its values; the message says it in English, and what to do."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def _is_number(value: Any) -> bool:
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(value)
    )


@dataclass(frozen=True)
class Attendance:
    """Working hours on one weekday, from ``hour_from`` to ``hour_to`` (local, ``0 <= from < to <= 24``).

    ``weekday``: 0 = Monday .. 6 = Sunday. Hours are decimal (8.5 = 08:30) and rounded to the minute.
    ``week_type``: ``None`` (every week), or 0 / 1: only in the weeks of that parity (see :func:`week_type`).

    Raises:
        CalendarError: (``bad_attendance``) a weekday outside 0..6, hours out of range or in the wrong
            order, a week type other than 0, 1 or None.
    """

    weekday: int
    hour_from: float
    hour_to: float
    week_type: int | None = None

    def __post_init__(self) -> None:
        day = self.weekday
        if isinstance(day, bool) or not isinstance(day, (int, np.integer)) or not 0 <= day <= 6:
            raise CalendarError(
                BAD_ATTENDANCE, f"A weekday must be 0 (Monday) to 6 (Sunday), got {day!r}.", value=day
            )
        start, end = self.hour_from, self.hour_to
        if not (_is_number(start) and _is_number(end) and 0 <= start < end <= 24):
            raise CalendarError(
                BAD_ATTENDANCE,
                f"Working hours must run from an earlier to a later hour between 0 and 24, got "
                f"{start!r} to {end!r} on {DAY_NAMES[int(day)]}.",
                value=(start, end),
            )
        if self.week_type not in (None, 0, 1) or isinstance(self.week_type, bool):
            raise CalendarError(
                BAD_ATTENDANCE,
                f"A week type must be 0, 1 or None (every week), got {self.week_type!r}.",
                value=self.week_type,
            )

    @property
    def bounds_ns(self) -> tuple[int, int]:
        """Start and end as nanoseconds after local midnight, rounded to the minute (as Odoo does)."""
        return round(self.hour_from * 60) * _MINUTE_NS, round(self.hour_to * 60) * _MINUTE_NS


DEFAULT_ATTENDANCES: tuple[Attendance, ...] = tuple(
    Attendance(day, start, end) for day in range(5) for start, end in ((8.0, 12.0), (13.0, 17.0))
)
"""Monday to Friday, 08:00-12:00 and 13:00-17:00 (Odoo's default 40-hour week)."""


def week_type(day: dt.date) -> int:
    """The parity (0 or 1) of the week of ``day`` in a two-week schedule, as Odoo's
    ``resource.calendar.attendance.get_week_type``: whole weeks since Monday 1 January of year 1, modulo 2."""
    return (day.toordinal() - 1) // 7 % 2


@dataclass(frozen=True)
class WorkCalendar:
    """A work calendar: a time zone, weekly attendances (or flexible hours) and leaves.

    - ``tz``: IANA time zone name of the attendances (``Europe/Brussels``);
    - ``attendances``: :class:`Attendance` values (or ``(weekday, hour_from, hour_to[, week_type])``
      tuples); overlapping ones are merged. Default: :data:`DEFAULT_ATTENDANCES`;
    - ``leaves``: closures (public holidays, company leaves) as ``(start, end)`` datetimes, naive = UTC or
      aware; stored sorted, as naive UTC;
    - ``hours_per_week`` / ``hours_per_day``: flexible hours (no fixed times; attendances are ignored): see
      the module docstring.

    Raises:
        CalendarError: unknown time zone, bad attendance, a leave that does not end after it starts, bad
            flexible hours.
    """

    tz: str = "UTC"
    attendances: tuple[Attendance, ...] = DEFAULT_ATTENDANCES
    leaves: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    hours_per_week: float | None = None
    hours_per_day: float = 8.0

    def __post_init__(self) -> None:
        zone(self.tz)
        attendances = []
        for item in self.attendances:
            if isinstance(item, Attendance):
                attendances.append(item)
            elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) in (3, 4):
                attendances.append(Attendance(*item))
            else:
                raise CalendarError(
                    BAD_ATTENDANCE,
                    f"An attendance must be (weekday, hour_from, hour_to), got {item!r}: e.g. (0, 8, 12).",
                    value=item,
                )
        leaves = []
        for item in self.leaves:
            if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
                raise CalendarError(
                    BAD_LEAVE, f"A leave must be a (start, end) pair of datetimes, got {item!r}.", value=item
                )
            try:
                (start, _), (end, _) = (
                    utc_timestamp(item[0], "A leave's start"),
                    utc_timestamp(item[1], "A leave's end"),
                )
            except ValueError as exc:
                raise CalendarError(BAD_LEAVE, str(exc), value=item) from None
            if end <= start:
                raise CalendarError(
                    BAD_LEAVE, f"A leave must end after it starts, got {item[0]} to {item[1]}.", value=item
                )
            leaves.append((utc_datetime(start.value, False, "floor"), utc_datetime(end.value, False, "ceil")))
        if self.hours_per_week is not None and not (
            _is_number(self.hours_per_week)
            and _is_number(self.hours_per_day)
            and self.hours_per_week >= 0
            and 0 < self.hours_per_day <= 24
        ):
            raise CalendarError(
                BAD_HOURS_PER_WEEK,
                f"Flexible hours need hours per week (>= 0) and hours per day (more than 0, at most 24), "
                f"got {self.hours_per_week!r} and {self.hours_per_day!r}.",
                hours_per_week=self.hours_per_week,
                hours_per_day=self.hours_per_day,
            )
        object.__setattr__(self, "attendances", tuple(attendances))
        object.__setattr__(self, "leaves", tuple(sorted(leaves)))

    @classmethod
    def from_weekdays(
        cls, workdays: Collection[int], holidays: Iterable[Any] = (), tz: str = "UTC"
    ) -> WorkCalendar:
        """A calendar that works all day on ``workdays`` (Monday = 0), closed on ``holidays`` (whole local
        dates of ``tz``): working days without working hours.

        Raises:
            ValueError: ``workdays`` empty or outside 0..6, a holiday that is not a date.
            CalendarError: unknown time zone.
        """
        zone(tz)
        mask = weekmask(workdays)
        days = holiday_array(holidays).astype("int64")
        walls = np.stack([days * DAY_NS, (days + 1) * DAY_NS], axis=1).reshape(-1)
        utc = localize(walls, tz, ambiguous="first", nonexistent="forward")
        return cls(
            tz=tz,
            attendances=tuple(Attendance(day, 0, 24) for day in range(7) if mask[day]),
            leaves=_pairs(utc),
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> WorkCalendar:
        """A calendar from its mapping (YAML) form::

            {tz: Europe/Brussels,
             hours: {mon: [[8, 12], [13, 17]], ..., fri: [[8, 12]]},   # "8:30" works too; omitted days: off
             holidays: [2026-12-25, 2027-01-01],                        # whole local days
             leaves: [["2026-12-24T12:00", "2026-12-24T17:00"]]}        # local time

        ``tz`` defaults to UTC; without ``hours``, :data:`DEFAULT_ATTENDANCES`. A local leave bound that does
        not exist (DST gap) is shifted forward, an ambiguous one takes its first occurrence.

        Raises:
            CalendarError: an unknown key, a bad value; the message names the key.
        """
        if not isinstance(data, Mapping):
            raise _mapping_error(
                "",
                "A calendar must be a mapping with tz, hours, holidays and leaves, "
                f"got {type(data).__name__}.",
            )
        unknown = sorted(str(key) for key in data if key not in ("tz", "hours", "holidays", "leaves"))
        if unknown:
            raise _mapping_error(
                unknown[0], f"Unknown calendar key(s) {', '.join(unknown)}: use tz, hours, holidays, leaves."
            )
        tz = data.get("tz") or "UTC"
        if not isinstance(tz, str):
            raise _mapping_error("tz", f"tz: give a time zone name such as Europe/Brussels, got {tz!r}.")
        zone(tz)
        hours = data.get("hours")
        attendances = DEFAULT_ATTENDANCES if hours is None else _attendances(hours)
        walls: list[tuple[int, int]] = []
        holidays = data.get("holidays") or []
        if not isinstance(holidays, (list, tuple)):
            raise _mapping_error(
                "holidays", f"holidays: give a list of dates (YYYY-MM-DD), got {holidays!r}."
            )
        try:
            days = holiday_array(holidays).astype("int64")
        except ValueError as exc:
            raise _mapping_error("holidays", f"holidays: {exc}; use YYYY-MM-DD.") from None
        walls.extend((int(day) * DAY_NS, (int(day) + 1) * DAY_NS) for day in days)
        leaves = data.get("leaves") or []
        if not isinstance(leaves, (list, tuple)):
            raise _mapping_error(
                "leaves", f"leaves: give a list of [start, end] local datetimes, got {leaves!r}."
            )
        for position, item in enumerate(leaves, start=1):
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise _mapping_error(
                    "leaves",
                    f"leaves, item {position}: give [start, end] local datetimes, e.g. "
                    f'["2026-12-24T12:00", "2026-12-24T17:00"], got {item!r}.',
                )
            bounds = []
            for value in item:
                try:
                    stamp, aware = utc_timestamp(value, f"leaves, item {position}")
                except ValueError as exc:
                    raise _mapping_error("leaves", str(exc)) from None
                if aware:
                    raise _mapping_error(
                        "leaves", f"leaves, item {position}: give local times without an offset."
                    )
                bounds.append(stamp.value)
            if bounds[1] <= bounds[0]:
                raise _mapping_error(
                    "leaves", f"leaves, item {position}: the leave must end after it starts."
                )
            walls.append((bounds[0], bounds[1]))
        utc = localize(
            np.array(walls, dtype="int64").reshape(-1), tz, ambiguous="first", nonexistent="forward"
        )
        return cls(tz=tz, attendances=attendances, leaves=_pairs(utc))

    # -- public queries ------------------------------------------------------------------------------------

    @property
    def is_flexible(self) -> bool:
        """Whether the calendar has flexible hours (no fixed working times)."""
        return self.hours_per_week is not None

    @property
    def weekly_hours(self) -> float:
        """Hours of work in an average week before leaves (a two-week attendance counts half)."""
        if self.is_flexible:
            return float(self.hours_per_week)
        weekdays, week_types, starts, ends = self._attendance_table
        weights = np.where(week_types < 0, 1.0, 0.5)
        return float(((ends - starts) * weights).sum()) / 3600e9

    def working_dates(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The working days in ``[start, end]`` (both included), in order (see the module docstring)."""
        first, last = np.datetime64(start, "D").astype("int64"), np.datetime64(end, "D").astype("int64")
        if last < first:
            return []
        return [day.item() for day in self._working_numbers(int(first), int(last)).astype("datetime64[D]")]

    def is_working_day(self, day: dt.date) -> bool:
        """Whether the local date ``day`` is a working day."""
        return bool(self.working_day_mask(np.array([np.datetime64(day, "D")]))[0])

    def working_day_mask(self, days: np.ndarray) -> np.ndarray:
        """For each local date of ``days`` (``datetime64[D]``), whether it is a working day."""
        numbers = np.asarray(days, dtype="datetime64[D]").astype("int64")
        if not len(numbers):
            return np.zeros(0, dtype=bool)
        working = self._working_numbers(int(numbers.min()), int(numbers.max()))
        return np.isin(numbers, working)

    def offset(self, days: np.ndarray, count: int | np.ndarray, roll: str) -> np.ndarray:
        """Working days counted from ``days``, as ``numpy.busday_offset`` on this calendar.

        Each date of ``days`` (``datetime64[D]``) is first rolled to a working day (``roll``: ``forward``
        = the first working day on or after it, ``backward`` = the last one on or before it), then moved
        ``count`` working days (negative: back). ``count`` is an int or an array broadcast with ``days``.

        Output: ``datetime64[D]`` array.

        Raises:
            CalendarError: (``no_working_time``) not enough working days within reach (no attendance, or
                leaves closing everything).
        """
        numbers = np.asarray(days, dtype="datetime64[D]").astype("int64")
        counts = np.broadcast_to(np.asarray(count, dtype="int64"), numbers.shape)
        if not len(numbers):
            return numbers.astype("datetime64[D]")
        low, high = int(numbers.min()), int(numbers.max())
        reach = int(np.abs(counts).max())
        margin = 14 * (reach + 2)
        cap = margin + self._leave_reach(low, high) + 14
        if not self._has_work_pattern:
            raise no_working_time(self)
        while True:
            working = self._working_numbers(low - margin, high + margin)
            if roll == "forward":
                rolled = np.searchsorted(working, numbers, side="left")
            else:
                rolled = np.searchsorted(working, numbers, side="right") - 1
            moved = rolled + counts
            size = len(working)
            if (
                size
                and (rolled >= 0).all()
                and (rolled < size).all()
                and (moved >= 0).all()
                and (moved < size).all()
            ):
                return working[moved].astype("datetime64[D]")
            if margin >= cap:
                raise no_working_time(self)
            margin = min(margin * 2, cap)

    def work_intervals(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The work of the local dates ``days`` (int64 day numbers since 1970-01-01, or ``datetime64[D]``):
        UTC nanosecond starts and ends, sorted and disjoint, leaves removed, and for each interval the
        position in ``days`` of the date it belongs to.

        Raises:
            CalendarError: (``flexible_hours``) the calendar has no fixed working times.
        """
        if self.is_flexible:
            raise CalendarError(
                FLEXIBLE_HOURS,
                f"The working calendar ({self.tz}) has flexible hours, without fixed working times: business "
                "hours cannot be counted on it. Count business days, or give it working hours.",
                tz=self.tz,
            )
        return self._segments(np.asarray(days).astype("int64"))

    # -- internals (cached per calendar; the dataclass is frozen) ------------------------------------------

    @cached_property
    def _attendance_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Weekday, week type (-1: every week), start and end (ns after local midnight) of each attendance;
        for flexible hours, ``hours_per_day`` centred on 12:00 on each flexible weekday."""
        if self.is_flexible:
            count = min(7, math.ceil(self.hours_per_week / self.hours_per_day - 1e-9))
            weekdays = np.arange(count, dtype="int64")
            half = round(self.hours_per_day * 30) * _MINUTE_NS
            noon = 12 * 60 * _MINUTE_NS
            return weekdays, np.full(count, -1), np.full(count, noon - half), np.full(count, noon + half)
        weekdays = np.array([a.weekday for a in self.attendances], dtype="int64")
        week_types = np.array(
            [-1 if a.week_type is None else a.week_type for a in self.attendances], dtype="int64"
        )
        bounds = np.array([a.bounds_ns for a in self.attendances], dtype="int64").reshape(-1, 2)
        return weekdays, week_types, bounds[:, 0], bounds[:, 1]

    @cached_property
    def _has_work_pattern(self) -> bool:
        weekdays, _, starts, ends = self._attendance_table
        return bool(((ends - starts) > 0).any())

    @cached_property
    def _leave_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The leaves as merged, sorted UTC nanosecond intervals."""
        if not self.leaves:
            empty = np.array([], dtype="int64")
            return empty, empty
        bounds = np.array([[pd.Timestamp(a).value, pd.Timestamp(b).value] for a, b in self.leaves])
        starts, ends, _ = _merge(bounds[:, 0], bounds[:, 1], np.zeros(len(bounds), dtype="int64"), touch=True)
        return starts, ends

    def _leave_reach(self, low: int, high: int) -> int:
        """Days from ``[low, high]`` (local day numbers) to the farthest leave: how far a closure may push."""
        starts, ends = self._leave_bounds
        if not len(starts):
            return 0
        first = int(local_days(starts[:1], self.tz)[0])
        last = int(local_days(ends[-1:], self.tz)[0])
        return max(0, last - low, high - first)

    def _working_numbers(self, first: int, last: int) -> np.ndarray:
        """The working days in ``[first, last]`` as sorted int64 day numbers."""
        days = np.arange(first, last + 1, dtype="int64")
        seg_start, seg_end, owner = self._segments(days)
        work = np.bincount(owner, weights=(seg_end - seg_start).astype("float64"), minlength=len(days))
        return days[work > 0]

    def _segments(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        weekdays, week_types, att_start, att_end = self._attendance_table
        day_weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        day_parity = (days + _ORDINAL_1970 - 1) // 7 % 2
        walls_from, walls_to, owners = [], [], []
        for weekday, parity, start, end in zip(weekdays, week_types, att_start, att_end, strict=True):
            match = day_weekday == weekday
            if parity >= 0:
                match &= day_parity == parity
            owner = np.flatnonzero(match)
            walls_from.append(days[owner] * DAY_NS + start)
            walls_to.append(days[owner] * DAY_NS + end)
            owners.append(owner)
        if not owners:
            empty = np.array([], dtype="int64")
            return empty, empty, empty
        starts = localize(np.concatenate(walls_from), self.tz, ambiguous="standard", nonexistent="standard")
        ends = localize(np.concatenate(walls_to), self.tz, ambiguous="standard", nonexistent="standard")
        owner = np.concatenate(owners)
        keep = ends > starts
        starts, ends, owner = _merge(starts[keep], ends[keep], owner[keep], touch=False)
        return _subtract(starts, ends, owner, *self._leave_bounds)


def no_working_time(calendar: WorkCalendar) -> CalendarError:
    """The error (``no_working_time``) of a calendar in which no work can be found: no attendance, or leaves
    closing everything within reach."""
    return CalendarError(
        NO_WORKING_TIME,
        f"The working calendar ({calendar.tz}) has no working time: give it working hours, or fewer leaves.",
        tz=calendar.tz,
    )


# ------------------------------------------------------------------------------------------------------
# time-zone helpers
# ------------------------------------------------------------------------------------------------------


def zone(tz: str) -> ZoneInfo:
    """The time zone named ``tz``.

    Raises:
        CalendarError: (``unknown_tz``) not an IANA time zone name.
    """
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CalendarError(
            UNKNOWN_TZ, f"Unknown time zone {tz!r}: use an IANA name such as Europe/Brussels.", tz=tz
        ) from None


def local_days(instants: np.ndarray, tz: str) -> np.ndarray:
    """Local day numbers (days since 1970-01-01) in ``tz`` of UTC nanosecond instants."""
    if tz == "UTC":
        return instants // DAY_NS
    local = pd.DatetimeIndex(instants.view("datetime64[ns]")).tz_localize("UTC").tz_convert(tz)
    return local.tz_localize(None).asi8 // DAY_NS


def localize(walls: np.ndarray, tz: str, *, ambiguous: str, nonexistent: str) -> np.ndarray:
    """UTC nanoseconds of local wall times of ``tz`` (nanoseconds since 1970-01-01 local; NaT kept).

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
    info = ZoneInfo(tz)
    for position in np.flatnonzero(local.isna()):  # DST changes only: a few per year
        wall = int(index.asi8[position])
        naive = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=wall // 1000)
        earlier = naive.replace(tzinfo=info, fold=0)
        exists = earlier.astimezone(dt.timezone.utc).astimezone(info).replace(tzinfo=None) == naive
        chosen = naive.replace(tzinfo=info, fold=1 if exists and ambiguous == "standard" else 0)
        offset = chosen.utcoffset() or dt.timedelta(0)
        values[position] = wall - (offset // dt.timedelta(microseconds=1)) * 1000
    result[valid] = values
    return result


# ------------------------------------------------------------------------------------------------------
# internals
# ------------------------------------------------------------------------------------------------------


def _pairs(utc: np.ndarray) -> tuple[tuple[dt.datetime, dt.datetime], ...]:
    return tuple(
        (utc_datetime(int(start), False, "floor"), utc_datetime(int(end), False, "floor"))
        for start, end in utc.reshape(-1, 2)
        if end > start
    )


def _mapping_error(key: str, message: str) -> CalendarError:
    return CalendarError(BAD_MAPPING, message, key=key)


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
    if _is_number(value):
        return float(value)
    if isinstance(value, str) and ":" in value:
        hours, _, minutes = value.strip().partition(":")
        if hours.isdigit() and minutes.isdigit() and len(minutes) == 2:
            return int(hours) + int(minutes) / 60
    raise _mapping_error("hours", f"{where}: give hours as numbers (8.5) or HH:MM (08:30), got {value!r}.")


def _attendances(hours: Any) -> tuple[Attendance, ...]:
    """Attendances from the mapping's ``hours`` (weekday key -> list of [from, to])."""
    if not isinstance(hours, Mapping):
        raise _mapping_error(
            "hours", f"hours: give a mapping of weekdays (mon..sun) to [[from, to], ...], got {hours!r}."
        )
    names = {name: day for day, name in enumerate(DAY_NAMES)}
    full = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    names.update({name: day for day, name in enumerate(full)})
    result = []
    for key, spans in hours.items():
        day = names.get(str(key).strip().lower())
        if day is None:
            raise _mapping_error("hours", f"hours: unknown weekday {key!r}: use {', '.join(DAY_NAMES)}.")
        for span in spans or []:
            where = f"hours.{DAY_NAMES[day]}"
            if not isinstance(span, (list, tuple)) or len(span) != 2:
                raise _mapping_error(
                    "hours", f"{where}: give [from, to] pairs such as [8, 12], got {span!r}."
                )
            try:
                result.append(Attendance(day, _hour(span[0], where), _hour(span[1], where)))
            except CalendarError as exc:
                raise _mapping_error("hours", f"{where}: {exc}") from None
    return tuple(result)
