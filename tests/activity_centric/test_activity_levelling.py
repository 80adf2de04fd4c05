"""Workload levelling: loads, capacity checks, working days and the "Plan tomorrow" proposal."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from activity_centric import (
    Capacity,
    Item,
    Load,
    Move,
    Plan,
    day_load,
    fits,
    is_at_or_over,
    level,
    working_days,
)

# January 2024: Monday 1, ..., Thursday 4, Friday 5, Saturday 6, Sunday 7, Monday 8, Tuesday 9, ...
THU, FRI, SAT, SUN, MON, TUE, WED = (dt.date(2024, 1, d) for d in (4, 5, 6, 7, 8, 9, 10))
WED_BEFORE = dt.date(2024, 1, 3)


def d(day: int) -> dt.date:
    return dt.date(2024, 1, day)


# ---------------------------------------------------------------------------------------------------------
# day_load / fits / is_at_or_over
# ---------------------------------------------------------------------------------------------------------


def test_day_load_counts_only_that_user_and_day():
    items = [
        Item(1, 7, THU, 30.0),
        Item(2, 7, THU, 15.5),
        Item(3, 8, THU, 60.0),  # another user
        Item(4, 7, FRI, 60.0),  # another day
    ]
    assert day_load(items, 7, THU) == Load(2, 45.5)
    assert day_load(items, 7, SAT) == Load(0, 0.0)
    assert day_load(iter(items), 8, THU) == Load(1, 60.0)


@pytest.mark.parametrize(
    ("load", "capacity", "extra", "fits_expected", "at_or_over_expected"),
    [
        (Load(0, 0.0), Capacity(), Load(0, 0.0), True, False),  # unlimited
        (Load(99, 9999.0), Capacity(), Load(1, 60.0), True, False),
        (Load(2, 0.0), Capacity(count=3), Load(1, 0.0), True, False),  # exactly at the limit fits
        (Load(3, 0.0), Capacity(count=3), Load(0, 0.0), True, True),
        (Load(3, 0.0), Capacity(count=3), Load(1, 0.0), False, True),
        (Load(4, 0.0), Capacity(count=3), Load(0, 0.0), False, True),
        (Load(1, 90.0), Capacity(minutes=120), Load(1, 30.0), True, False),
        (Load(1, 90.0), Capacity(minutes=120), Load(1, 30.5), False, False),
        (Load(2, 120.0), Capacity(minutes=120), Load(0, 0.0), True, True),
        (Load(3, 0.1 + 0.2), Capacity(minutes=0.3), Load(0, 0.0), True, True),  # float sums
        (Load(1, 200.0), Capacity(count=5, minutes=120), Load(0, 0.0), False, True),  # minutes bind
        (Load(5, 10.0), Capacity(count=5, minutes=120), Load(0, 0.0), True, True),  # count reached
        (Load(0, 0.0), Capacity(count=0), Load(0, 0.0), True, True),  # a day off
        (Load(0, 0.0), Capacity(count=0), Load(1, 0.0), False, True),
    ],
)
def test_fits_and_is_at_or_over(load, capacity, extra, fits_expected, at_or_over_expected):
    assert fits(load, capacity, extra) is fits_expected
    assert is_at_or_over(load, capacity) is at_or_over_expected


def test_fits_default_extra_is_nothing():
    assert fits(Load(3, 0.0), Capacity(count=3))
    assert not fits(Load(4, 0.0), Capacity(count=3))


@pytest.mark.parametrize(
    "capacity", [Capacity(count=-1), Capacity(minutes=-5.0), Capacity(minutes=float("nan"))]
)
def test_negative_capacity_is_refused(capacity):
    with pytest.raises(ValueError, match=">= 0"):
        fits(Load(0, 0.0), capacity)
    with pytest.raises(ValueError, match=">= 0"):
        is_at_or_over(Load(0, 0.0), capacity)
    with pytest.raises(ValueError, match="user 7"):
        level([Item(1, 7, THU)], {7: capacity}, THU)


# ---------------------------------------------------------------------------------------------------------
# working_days
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "workdays", "holidays", "expected"),
    [
        pytest.param(THU, 3, (0, 1, 2, 3, 4), (), [FRI, MON, TUE], id="over-a-weekend"),
        pytest.param(FRI, 2, (0, 1, 2, 3, 4), (), [MON, TUE], id="from-friday"),
        pytest.param(SAT, 2, (0, 1, 2, 3, 4), (), [MON, TUE], id="from-saturday"),
        pytest.param(SUN, 1, (0, 1, 2, 3, 4), (), [MON], id="from-sunday"),
        pytest.param(THU, 3, (0, 1, 2, 3, 4), (FRI, MON), [TUE, WED, d(11)], id="holidays"),
        pytest.param(FRI, 1, (0, 1, 2, 3, 4), (SAT,), [MON], id="holiday-on-a-weekend"),
        pytest.param(THU, 3, (6, 0, 1, 2, 3), (), [SUN, MON, TUE], id="sunday-to-thursday"),
        pytest.param(THU, 2, range(7), (), [FRI, SAT], id="every-day"),
        pytest.param(THU, 0, (0, 1, 2, 3, 4), (), [], id="none"),
        pytest.param(
            dt.date(2024, 12, 31),
            2,
            (0, 1, 2, 3, 4),
            (dt.date(2025, 1, 1),),
            [dt.date(2025, 1, 2), dt.date(2025, 1, 3)],
            id="new-year",
        ),
    ],
)
def test_working_days(start, n, workdays, holidays, expected):
    result = working_days(start, n, workdays, holidays)
    assert result == expected
    assert all(type(day) is dt.date for day in result)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be >= 0"),
        ({"n": 2, "workdays": ()}, "workdays is empty"),
        ({"n": 2, "workdays": (0, 7)}, "0 \\(Monday\\) .. 6"),
    ],
)
def test_working_days_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        working_days(THU, **kwargs)


# ---------------------------------------------------------------------------------------------------------
# level
# ---------------------------------------------------------------------------------------------------------

# User 1 has 5 activities on Thursday, capacity 2 a day, and one activity already on Friday. Priorities are
# (stars,); the three lowest must go, lowest first: id 13 (0 stars), then 12 and 15 (1 star: newest id
# first, so 15 before 12). Friday has room for one (1 + 1 = 2), Monday is a holiday, Tuesday takes two.
OVERLOADED = [
    Item(11, 1, THU, 30.0, (3,)),
    Item(12, 1, THU, 30.0, (1,)),
    Item(13, 1, THU, 30.0, (0,)),
    Item(14, 1, THU, 30.0, (2,)),
    Item(15, 1, THU, 30.0, (1,)),
    Item(16, 1, FRI, 30.0, (0,)),
    Item(17, 1, WED_BEFORE, 30.0, (0,)),  # an earlier day: only load, never moved
]
OVERLOADED_MOVES = (
    Move(13, 1, THU, FRI),
    Move(15, 1, THU, TUE),
    Move(12, 1, THU, TUE),
)
OVERLOADED_LOADS = {
    (1, WED_BEFORE): Load(1, 30.0),
    (1, THU): Load(2, 60.0),
    (1, FRI): Load(2, 60.0),
    (1, TUE): Load(2, 60.0),
}


def test_lowest_priority_items_move_to_next_working_day_with_room():
    plan = level(OVERLOADED, {1: Capacity(count=2)}, THU, holidays=[MON])
    assert plan == Plan(moves=OVERLOADED_MOVES, unplaced=(), loads=OVERLOADED_LOADS)


def test_without_the_holiday_monday_is_used():
    plan = level(OVERLOADED, {1: Capacity(count=2)}, THU)
    assert plan.moves == (Move(13, 1, THU, FRI), Move(15, 1, THU, MON), Move(12, 1, THU, MON))


def test_weekend_is_skipped_from_friday():
    items = [Item(i, 1, FRI, priority=(i,)) for i in (1, 2, 3)]
    plan = level(items, {1: Capacity(count=1)}, FRI)
    assert plan.moves == (Move(1, 1, FRI, MON), Move(2, 1, FRI, TUE))
    assert plan.loads == {(1, FRI): Load(1, 0.0), (1, MON): Load(1, 0.0), (1, TUE): Load(1, 0.0)}


def test_weekend_workers_get_saturday():
    items = [Item(i, 1, FRI, priority=(i,)) for i in (1, 2)]
    plan = level(items, {1: Capacity(count=1)}, FRI, workdays=(0, 1, 2, 3, 4, 5))
    assert plan.moves == (Move(1, 1, FRI, SAT),)


def test_minutes_capacity_moves_until_the_minutes_fit():
    # 165 minutes on Thursday for 120 allowed. Lowest priority first: id 4 (30 min) -> 135, still over;
    # id 3 (30 min) -> 105, fits. Friday already has 100 minutes: 100 + 30 fits 120? no -> id 4 to Monday;
    # id 3 then: Friday no (130), Monday 30 + 30 = 60 -> Monday.
    items = [
        Item(1, 5, THU, 60.0, (9,)),
        Item(2, 5, THU, 45.0, (8,)),
        Item(3, 5, THU, 30.0, (2,)),
        Item(4, 5, THU, 30.0, (1,)),
        Item(9, 5, FRI, 100.0, (0,)),
    ]
    plan = level(items, {5: Capacity(minutes=120)}, THU)
    assert plan.moves == (Move(4, 5, THU, MON), Move(3, 5, THU, MON))
    assert plan.unplaced == ()
    assert plan.loads == {(5, THU): Load(2, 105.0), (5, FRI): Load(1, 100.0), (5, MON): Load(2, 60.0)}


def test_a_small_item_may_fill_a_gap_a_big_one_skipped():
    # Capacity 60 minutes; Thursday 95, Friday 45. Lowest priority first: item 2 (30 min) does not fit
    # Friday (75) -> Monday; Thursday at 65 is still over; item 3 (10 min) fits Friday (55); Thursday at 55.
    items = [
        Item(1, 1, THU, 40.0, (5,)),
        Item(2, 1, THU, 30.0, (1,)),
        Item(3, 1, THU, 10.0, (2,)),
        Item(4, 1, THU, 15.0, (3,)),
        Item(9, 1, FRI, 45.0, (0,)),
    ]
    plan = level(items, {1: Capacity(minutes=60)}, THU)
    assert plan.moves == (Move(2, 1, THU, MON), Move(3, 1, THU, FRI))
    assert plan.loads == {(1, THU): Load(2, 55.0), (1, FRI): Load(2, 55.0), (1, MON): Load(1, 30.0)}


def test_count_and_minutes_together():
    items = [Item(i, 1, THU, 50.0, (i,)) for i in (1, 2, 3)]
    # count allows 3, minutes allow 100: one must go.
    plan = level(items, {1: Capacity(count=3, minutes=100)}, THU)
    assert plan.moves == (Move(1, 1, THU, FRI),)


def test_unplaced_when_the_horizon_is_full():
    # Capacity 1 a day; Friday and Monday already full; horizon 2 -> nowhere to go.
    items = [
        Item(1, 1, THU, priority=(5,)),
        Item(2, 1, THU, priority=(1,)),
        Item(3, 1, THU, priority=(2,)),
        Item(4, 1, FRI),
        Item(5, 1, MON),
    ]
    plan = level(items, {1: Capacity(count=1)}, THU, horizon=2)
    assert plan.moves == ()
    assert plan.unplaced == (2, 3, 1)  # all tried while the day stays over, lowest priority first
    assert plan.loads[(1, THU)] == Load(3, 0.0)
    # with one more day of horizon, the lowest goes to Tuesday and the next finds nothing
    plan = level(items, {1: Capacity(count=1)}, THU, horizon=3)
    assert plan.moves == (Move(2, 1, THU, TUE),)
    assert plan.unplaced == (3, 1)


def test_zero_horizon_places_nothing():
    items = [Item(i, 1, THU) for i in (1, 2)]
    plan = level(items, {1: Capacity(count=1)}, THU, horizon=0)
    assert plan.moves == () and plan.unplaced == (2, 1)


def test_an_item_bigger_than_the_capacity_stays_unplaced():
    # 90 minutes never fit a 60-minute day: item 1 stays (unplaced). The day is still over, so the next item
    # is tried and moves; the day ends lighter, though still over.
    items = [Item(1, 1, THU, 90.0, (1,)), Item(2, 1, THU, 20.0, (5,))]
    plan = level(items, {1: Capacity(minutes=60)}, THU, horizon=3)
    assert plan.unplaced == (1,)
    assert plan.moves == (Move(2, 1, THU, FRI),)
    assert plan.loads == {(1, THU): Load(1, 90.0), (1, FRI): Load(1, 20.0)}


def test_an_item_as_big_as_the_capacity_moves_to_an_empty_day():
    items = [Item(1, 1, THU, 60.0, (1,)), Item(2, 1, THU, 20.0, (5,)), Item(3, 1, FRI, 10.0)]
    plan = level(items, {1: Capacity(minutes=60)}, THU)
    assert plan.moves == (Move(1, 1, THU, MON),)  # Friday has 10 minutes already: no room for 60


def test_immovable_items_stay_and_count():
    items = [
        Item(1, 1, THU, priority=(0,), movable=False),  # lowest priority but pinned (e.g. a meeting)
        Item(2, 1, THU, priority=(5,)),
        Item(3, 1, THU, priority=(6,)),
    ]
    plan = level(items, {1: Capacity(count=1)}, THU)
    assert plan.moves == (Move(2, 1, THU, FRI), Move(3, 1, THU, MON))
    assert plan.loads[(1, THU)] == Load(1, 0.0)


def test_only_pinned_items_over_capacity_gives_nothing_to_do():
    items = [Item(i, 1, THU, movable=False) for i in (1, 2, 3)]
    assert level(items, {1: Capacity(count=1)}, THU) == Plan((), (), {(1, THU): Load(3, 0.0)})


def test_equal_priority_moves_the_newest_id_first():
    items = [Item(i, 1, THU, priority=(1, "a")) for i in (5, 9, 7)]
    plan = level(items, {1: Capacity(count=1)}, THU)
    assert [move.id for move in plan.moves] == [9, 7]


def test_tuple_priorities_compare_lexicographically():
    items = [
        Item(1, 1, THU, priority=(2, 10.0)),
        Item(2, 1, THU, priority=(2, 500.0)),
        Item(3, 1, THU, priority=(1, 9999.0)),
        Item(4, 1, THU, priority=(3,)),
    ]
    plan = level(items, {1: Capacity(count=2)}, THU)
    assert [move.id for move in plan.moves] == [3, 1]


def test_users_without_capacity_or_unlimited_are_untouched():
    items = [Item(i, user, THU) for user in (1, 2, 3) for i in range(user * 10, user * 10 + 4)]
    plan = level(items, {2: Capacity(), 3: Capacity(count=3)}, THU)  # user 1 absent, user 2 unlimited
    assert plan.moves == (Move(33, 3, THU, FRI),)
    assert plan.loads == {
        (1, THU): Load(4, 0.0),
        (2, THU): Load(4, 0.0),
        (3, THU): Load(3, 0.0),
        (3, FRI): Load(1, 0.0),
    }


def test_users_within_capacity_and_other_days_are_untouched():
    items = [Item(1, 1, THU), Item(2, 1, FRI), Item(3, 1, FRI), Item(4, 1, FRI)]  # Friday over, not levelled
    plan = level(items, {1: Capacity(count=2)}, THU)
    assert plan == Plan((), (), {(1, THU): Load(1, 0.0), (1, FRI): Load(3, 0.0)})


def test_users_are_levelled_independently_in_ascending_order():
    items = [Item(i, user, THU, priority=(i,)) for user in (9, 4) for i in range(user * 10, user * 10 + 3)]
    plan = level(items, {4: Capacity(count=1), 9: Capacity(count=2)}, THU)
    assert plan.moves == (Move(40, 4, THU, FRI), Move(41, 4, THU, MON), Move(90, 9, THU, FRI))


def test_deterministic_under_shuffled_input():
    items = [
        Item(
            i, user, THU if i % 4 else FRI, minutes=float(i % 7) * 10, priority=(i % 3,), movable=i % 11 != 0
        )
        for user in (1, 2, 3)
        for i in range(user * 100, user * 100 + 25)
    ]
    capacities = {1: Capacity(count=5), 2: Capacity(minutes=120.0), 3: Capacity(count=8, minutes=200.0)}
    expected = level(items, capacities, THU, holidays=[MON], horizon=4)
    assert expected.moves and expected.unplaced  # the scenario exercises both
    rng = random.Random(5)
    for _ in range(5):
        shuffled = items[:]
        rng.shuffle(shuffled)
        assert level(shuffled, capacities, THU, holidays=[MON], horizon=4) == expected


def test_plan_loads_match_the_items_after_the_moves():
    items = [
        Item(i, user, THU if i % 3 else FRI, minutes=float(5 + i % 4 * 15), priority=(i % 5,))
        for user in (1, 2)
        for i in range(user * 50, user * 50 + 20)
    ]
    plan = level(items, {1: Capacity(count=6), 2: Capacity(minutes=150.0)}, THU, horizon=6)
    moved_to = {move.id: move.to_day for move in plan.moves}
    after = [Item(i.id, i.user, moved_to.get(i.id, i.day), i.minutes) for i in items]
    keys = {(i.user, i.day) for i in after}
    assert plan.loads == {key: day_load(after, *key) for key in sorted(keys)}
    assert list(plan.loads) == sorted(plan.loads)
    for move in plan.moves:
        assert move.to_day > move.from_day == THU
        assert move.to_day.weekday() < 5
    # a day that received items is within capacity (items are placed only where they fit)
    receiving = {(move.user, move.to_day) for move in plan.moves}
    capacities = {1: Capacity(count=6), 2: Capacity(minutes=150.0)}
    assert receiving
    for user, day in receiving:
        assert fits(plan.loads[(user, day)], capacities[user])


def test_levelling_a_non_working_day_moves_forward():
    items = [Item(1, 1, SAT), Item(2, 1, SAT)]
    plan = level(items, {1: Capacity(count=1)}, SAT)
    assert plan.moves == (Move(2, 1, SAT, MON),)


@pytest.mark.parametrize(
    ("items", "kwargs", "message"),
    [
        ([Item(1, 1, THU), Item(1, 2, FRI)], {}, "unique; duplicated: 1"),
        ([Item(1, 1, THU, minutes=-5.0)], {}, "minutes must be >= 0"),
        ([Item(1, 1, THU)], {"horizon": -1}, "horizon"),
        ([Item(1, 1, THU)], {"workdays": ()}, "workdays"),
    ],
)
def test_level_errors(items, kwargs, message):
    with pytest.raises(ValueError, match=message):
        level(items, {1: Capacity(count=1)}, THU, **kwargs)


def test_empty_input_gives_an_empty_plan():
    assert level([], {1: Capacity(count=1)}, THU) == Plan((), (), {})
