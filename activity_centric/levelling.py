"""Workload levelling for "Plan tomorrow": move the least important activities of an overloaded day.

A salesperson's day has a :class:`Capacity` (a number of activities and/or minutes of estimated work). When
the activities due on a day exceed it, :func:`level` proposes to move the least important movable ones to
the next working days that still have room, and reports what it could not place. It only proposes
(:class:`Plan`); the Odoo wizard shows the plan and writes the new deadlines.

Days are plain ``datetime.date`` values; working days are those of a work calendar
(:class:`~activity_centric.workcalendar.WorkCalendar`: the same working days as event chains and SLA business
time), or of a weekly pattern (``workdays``, Monday = 0) minus ``holidays``. Everything is deterministic:
the same items in any order give the same plan.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from activity_centric._common import WEEKDAYS
from activity_centric.workcalendar import WorkCalendar

# Estimated minutes are sums of floats (0.1 + 0.2 != 0.3): comparisons with a minutes limit allow this slack.
_MINUTES_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Item:
    """One activity as levelling sees it.

    Attributes:
        id: the activity id (unique among the items given to :func:`level`).
        user: the id of the salesperson it is assigned to.
        day: its deadline.
        minutes: estimated work, in minutes (>= 0).
        priority: larger = more important; compared as tuples (e.g. ``(lead_priority, expected_revenue)``).
        movable: False for activities that must stay on their day (they still count as load).
    """

    id: int
    user: int
    day: dt.date
    minutes: float = 0.0
    priority: tuple = ()
    movable: bool = True


@dataclass(frozen=True)
class Capacity:
    """What a salesperson can do in a day.

    Attributes:
        count: maximum number of activities per day; None = unlimited.
        minutes: maximum estimated minutes per day; None = unlimited.
    """

    count: int | None = None
    minutes: float | None = None


@dataclass(frozen=True)
class Load:
    """The work of one salesperson on one day: number of activities and total estimated minutes."""

    count: int
    minutes: float


@dataclass(frozen=True)
class Move:
    """A proposed move: activity ``id`` of ``user`` from ``from_day`` to the later ``to_day``."""

    id: int
    user: int
    from_day: dt.date
    to_day: dt.date


@dataclass(frozen=True)
class Plan:
    """The result of :func:`level`.

    Attributes:
        moves: the proposed moves, by user (ascending), then in the order the items were taken off the day
            (lowest priority first).
        unplaced: ids of items that should move off the day but found no working day with room within the
            horizon; they stay where they are.
        loads: the load per (user, day) after the moves, for every (user, day) that has items, in key order.
    """

    moves: tuple[Move, ...]
    unplaced: tuple[int, ...]
    loads: Mapping[tuple[int, dt.date], Load]


_NO_LOAD = Load(0, 0.0)


def _check_capacity(capacity: Capacity, owner: object = None) -> None:
    where = "" if owner is None else f" of user {owner!r}"
    if capacity.count is not None and capacity.count < 0:
        raise ValueError(f"capacity{where}: count must be >= 0 or None (unlimited), got {capacity.count!r}")
    if capacity.minutes is not None and (math.isnan(capacity.minutes) or capacity.minutes < 0):
        raise ValueError(
            f"capacity{where}: minutes must be >= 0 or None (unlimited), got {capacity.minutes!r}"
        )


def _unlimited(capacity: Capacity) -> bool:
    return capacity.count is None and capacity.minutes is None


def day_load(items: Iterable[Item], user: int, day: dt.date) -> Load:
    """The load of ``user`` on ``day``: how many of ``items`` are theirs on that day and their minutes."""
    count, minutes = 0, 0.0
    for item in items:
        if item.user == user and item.day == day:
            count += 1
            minutes += item.minutes
    return Load(count, minutes)


def fits(load: Load, capacity: Capacity, extra: Load = _NO_LOAD) -> bool:
    """True when ``load + extra`` is within ``capacity``: at most ``capacity.count`` activities and at most
    ``capacity.minutes`` minutes, for each limit that is set (None = unlimited).

    Raises:
        ValueError: a negative capacity.
    """
    _check_capacity(capacity)
    if capacity.count is not None and load.count + extra.count > capacity.count:
        return False
    return not (
        capacity.minutes is not None and load.minutes + extra.minutes > capacity.minutes + _MINUTES_TOLERANCE
    )


def is_at_or_over(load: Load, capacity: Capacity) -> bool:
    """True when the day has no room for one more activity: the count limit is set and reached
    (``load.count >= count``), or the minutes limit is set and reached (``load.minutes >= minutes``).

    Raises:
        ValueError: a negative capacity.
    """
    _check_capacity(capacity)
    if capacity.count is not None and load.count >= capacity.count:
        return True
    return capacity.minutes is not None and load.minutes >= capacity.minutes - _MINUTES_TOLERANCE


def working_days(
    start: dt.date,
    n: int,
    workdays: Collection[int] = WEEKDAYS,
    holidays: Collection[dt.date] = (),
    *,
    calendar: WorkCalendar | None = None,
) -> list[dt.date]:
    """The first ``n`` working days strictly after ``start``, in order.

    The working days are those of ``calendar`` (see :meth:`WorkCalendar.working_dates
    <activity_centric.workcalendar.WorkCalendar.working_dates>`); without it, the days whose ``weekday()``
    (Monday = 0 ... Sunday = 6) is in ``workdays`` and which are not in ``holidays``. ``start`` itself is
    never included, whether it is a working day or not.

    Raises:
        ValueError: ``n`` negative, ``workdays`` empty or outside 0..6, a holiday that is not a date.
        CalendarError: the calendar has no working day within reach.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0 (a number of days), got {n!r}")
    if calendar is None:
        calendar = WorkCalendar.from_weekdays(workdays, holidays)
    if n == 0:
        return []
    # Rolling backward then counting forward 1..n gives the working days strictly after ``start``, whether or
    # not ``start`` is itself a working day.
    days = calendar.offset(np.full(n, np.datetime64(start, "D")), np.arange(1, n + 1), "backward")
    return [value.item() for value in days]


def level(
    items: Iterable[Item],
    capacities: Mapping[int, Capacity],
    day: dt.date,
    *,
    workdays: Collection[int] = WEEKDAYS,
    holidays: Collection[dt.date] = (),
    calendar: WorkCalendar | None = None,
    horizon: int = 10,
) -> Plan:
    """Level the workload of ``day``: move the least important activities of overloaded salespeople.

    Inputs:

    - ``items``: the activities to consider, of any users and days (ids unique). Items on other days than
      ``day`` are never moved; they count as load on their day;
    - ``capacities``: the daily capacity of each user (by user id). Users missing here, or with an unlimited
      capacity (both limits None), are never levelled;
    - ``day``: the day to level;
    - ``calendar`` (or ``workdays`` / ``holidays``): the working days (see :func:`working_days`);
    - ``horizon``: how many working days after ``day`` may receive moved items.

    For each user in ascending id order whose load on ``day`` does not fit their capacity, the movable items
    of that day are taken in order of lowest priority first (sort key ``(priority, -id)`` ascending: lowest
    priority, then the newest id first) while the load remaining on ``day`` does not fit. Each item taken
    goes to the first of the ``horizon`` working days after ``day`` on which the user's load -- items already
    there plus items moved there earlier in this run -- plus the item fits the capacity. When no day fits,
    its id is reported in ``unplaced`` and it stays on ``day`` (and the next item is tried). Items never move
    to an earlier day. An item bigger than the whole capacity is moved only if some day has room for it,
    which never happens for a capacity of 0.

    Output: a :class:`Plan`. The same items in any order give the same plan.

    Raises:
        ValueError: a negative capacity, negative ``horizon``, duplicate item ids, negative minutes, or a bad
            calendar (see :func:`working_days`).
    """
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0 (a number of working days), got {horizon!r}")
    for user, capacity in capacities.items():
        _check_capacity(capacity, user)
    ordered = sorted(items, key=lambda item: item.id)
    _check_items(ordered)
    targets = working_days(day, horizon, workdays, holidays, calendar=calendar)

    loads: dict[tuple[int, dt.date], Load] = {}
    for item in ordered:
        loads[(item.user, item.day)] = _plus(loads.get((item.user, item.day), _NO_LOAD), item)

    moves: list[Move] = []
    unplaced: list[int] = []
    for user in sorted({item.user for item in ordered if item.day == day}):
        capacity = capacities.get(user)
        if capacity is None or _unlimited(capacity):
            continue
        candidates = sorted(
            (item for item in ordered if item.user == user and item.day == day and item.movable),
            key=lambda item: (item.priority, -item.id),
        )
        for item in candidates:
            if fits(loads[(user, day)], capacity):
                break
            extra = Load(1, item.minutes)
            target = next(
                (d for d in targets if fits(loads.get((user, d), _NO_LOAD), capacity, extra)),
                None,
            )
            if target is None:
                unplaced.append(item.id)
                continue
            loads[(user, day)] = _minus(loads[(user, day)], item)
            loads[(user, target)] = _plus(loads.get((user, target), _NO_LOAD), item)
            moves.append(Move(id=item.id, user=user, from_day=day, to_day=target))

    # Recomputed from the final positions (in id order), not from the running sums: no float drift.
    moved_to = {move.id: move.to_day for move in moves}
    final_loads: dict[tuple[int, dt.date], Load] = {}
    for item in ordered:
        key = (item.user, moved_to.get(item.id, item.day))
        final_loads[key] = _plus(final_loads.get(key, _NO_LOAD), item)
    final_loads = dict(sorted(final_loads.items()))
    return Plan(moves=tuple(moves), unplaced=tuple(unplaced), loads=final_loads)


def _check_items(items: list[Item]) -> None:
    duplicates = sorted(item_id for item_id, n in Counter(item.id for item in items).items() if n > 1)
    if duplicates:
        raise ValueError(f"item ids must be unique; duplicated: {', '.join(map(repr, duplicates))}")
    negative = [item.id for item in items if item.minutes < 0]
    if negative:
        raise ValueError(f"item minutes must be >= 0; negative on item(s) {', '.join(map(repr, negative))}")


def _plus(load: Load, item: Item) -> Load:
    return Load(load.count + 1, load.minutes + item.minutes)


def _minus(load: Load, item: Item) -> Load:
    return Load(load.count - 1, load.minutes - item.minutes)
