"""Event-chain metrics: how often, and how fast, a start event is followed by its end event.

A chain is a pair of events on the same key (usually a lead): a *start* (the lead was assigned, entered a
stage, got a customer reply...) and the first *end* at or after it (first activity done, first call, next
stage...). With a :class:`Threshold` ("within 4 business days") every chain gets a deadline and a status:

- ``within`` -- ended at or before its deadline;
- ``late`` -- ended after its deadline;
- ``missed`` -- not ended, and the deadline has passed (as of the snapshot time);
- ``pending`` -- not ended, and the deadline has not passed yet.

:func:`deadlines` computes the deadlines (wall-clock business days of a
:class:`~activity_centric.workcalendar.WorkCalendar`, or plain durations),
:func:`chain_events` pairs starts with ends (``pandas.merge_asof``, no loop) and classifies each chain,
:func:`chain_compliance` aggregates them per salesperson, team or any other columns.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from activity_centric._common import WEEKDAYS, require_columns
from activity_centric.instants import UTC_NS as _UTC_NS
from activity_centric.instants import as_utc_series, utc_timestamp
from activity_centric.problems import Problem, english
from activity_centric.workcalendar import WorkCalendar

UNITS: tuple[str, ...] = ("minutes", "hours", "days", "business_days")
"""Units of a :class:`Threshold`."""

WITHIN, LATE, MISSED, PENDING = "within", "late", "missed", "pending"
CHAIN_STATUSES: tuple[str, ...] = (WITHIN, LATE, MISSED, PENDING)
"""Statuses of a chain (see the module docstring)."""

COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "started",
    "within",
    "late",
    "missed",
    "pending",
    "share_within",
    "median_minutes",
)
"""Columns of the :func:`chain_compliance` output, in order."""

_CHAIN_COLUMNS: tuple[str, ...] = ("start_at", "end_at", "deadline", "elapsed_minutes", "status")


@dataclass(frozen=True)
class Threshold:
    """How long a chain may take: ``value`` (> 0) in ``unit`` (one of :data:`UNITS`).

    ``minutes``, ``hours`` and ``days`` are elapsed time (a day is 24 hours); ``business_days`` counts working
    days of a work calendar and needs an integer value (see :func:`deadlines`).

    Raises:
        ValueError: the first problem :func:`threshold_problems` finds (unknown unit, value not a number or
            not > 0, non-integer number of business days), in English.
    """

    value: float
    unit: str

    def __post_init__(self) -> None:
        problems = threshold_problems(self.value, self.unit)
        if problems:
            raise ValueError(problem_text(problems[0]))


THRESHOLD_TEXTS: dict[str, str] = {
    "unknown_unit": "unknown threshold unit {unit!r}: use one of {units}",
    "not_a_number": "threshold value must be a number, got {value!r}",
    "not_positive": "threshold value must be > 0, got {value!r}",
    "fractional_business_days": "a threshold in business_days needs a whole number of days, got {value!r}",
}
"""The English sentence of each problem code of :func:`threshold_problems` (see :func:`problem_text`)."""


def threshold_problems(value: object, unit: str) -> list[Problem]:
    """What is wrong with a threshold of ``value`` ``unit`` (empty: it is a valid :class:`Threshold`).

    Codes (at most one of the value's, checked in this order, plus the unit's), with their parameters:

    - ``unknown_unit``: ``unit`` is not one of :data:`UNITS` (``unit``, ``units``);
    - ``not_a_number``: ``value`` is not an int or float (a bool is not) (``value``);
    - ``not_positive``: ``value`` is not > 0, or not finite (``value``);
    - ``fractional_business_days``: a number of ``business_days`` that is not whole (``value``).
    """
    problems = []
    if unit not in UNITS:
        problems.append(Problem("unknown_unit", {"unit": unit, "units": UNITS}))
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        problems.append(Problem("not_a_number", {"value": value}))
    elif not math.isfinite(value) or value <= 0:
        problems.append(Problem("not_positive", {"value": value}))
    elif unit == "business_days" and value != int(value):
        problems.append(Problem("fractional_business_days", {"value": value}))
    return problems


def problem_text(problem: Problem) -> str:
    """One problem of :func:`threshold_problems` as an English sentence (what :class:`Threshold` raises)."""
    extra = {"units": ", ".join(problem.params["units"])} if problem.code == "unknown_unit" else {}
    return english(problem, THRESHOLD_TEXTS, **extra)


def deadlines(
    starts: pd.Series,
    threshold: Threshold,
    *,
    calendar: WorkCalendar | None = None,
    workdays: Collection[int] = WEEKDAYS,
    holidays: Collection[dt.date] = (),
    tz: str = "UTC",
) -> pd.Series:
    """The deadline of each start time.

    Inputs:

    - ``starts``: start instants (tz-aware, or naive = UTC; NaT allowed and kept);
    - ``threshold``: the allowed duration;
    - ``calendar``: the work calendar, used by ``business_days`` only; its working days are
      :meth:`WorkCalendar.working_dates <activity_centric.workcalendar.WorkCalendar.working_dates>` (a
      half-day closure leaves a working day). Without it, ``workdays`` (weekday numbers, Monday = 0),
      ``holidays`` (whole local dates) and ``tz`` (an IANA time zone name) give one
      (:meth:`~activity_centric.workcalendar.WorkCalendar.from_weekdays`).

    ``minutes``/``hours``/``days``: deadline = start + the duration (elapsed time; a day is 24 hours).

    ``business_days`` (n): the start is converted to the calendar's time zone and its local date rolled
    forward to a working day (a start on a non-working day counts from the next working day), then moved n
    working days on (:meth:`~activity_centric.workcalendar.WorkCalendar.offset`); the deadline is that date at
    the start's local time of day, converted back to UTC. A Friday 16:00 start with 1 business day gives
    Monday 16:00; a Saturday start gives Tuesday at the same time. Across a daylight-saving change the local
    time of day is kept (the elapsed hours differ); a local time that does not exist on the deadline date is
    shifted forward to the first one that does, an ambiguous one takes its first (daylight-saving) occurrence.

    Output: a ``datetime64[ns, UTC]`` Series with the index of ``starts``, named ``deadline``.

    Raises:
        ValueError: ``starts`` are not datetimes, unknown time zone, bad calendar
            (:class:`~activity_centric.workcalendar.CalendarError` for the calendar's own problems).
    """
    start_utc = as_utc_series(starts, "starts")
    if threshold.unit != "business_days":
        offset = pd.Timedelta(**{threshold.unit: threshold.value})
        return (start_utc + offset).astype(_UTC_NS).rename("deadline")
    if calendar is None:
        calendar = WorkCalendar.from_weekdays(workdays, holidays, tz)
    local = start_utc.dt.tz_convert(calendar.tz).dt.tz_localize(None)
    local_day = local.dt.normalize()
    time_of_day = local - local_day
    valid = local_day.notna().to_numpy()
    moved = np.full(len(local_day), np.datetime64("NaT", "D"))
    moved[valid] = calendar.offset(
        local_day.to_numpy()[valid].astype("datetime64[D]"), int(threshold.value), "forward"
    )
    local_deadline = pd.Series(moved.astype("datetime64[ns]"), index=starts.index) + time_of_day
    aware = local_deadline.dt.tz_localize(
        calendar.tz, ambiguous=np.ones(len(local_deadline), dtype=bool), nonexistent="shift_forward"
    )
    return aware.dt.tz_convert("UTC").astype(_UTC_NS).rename("deadline")


def chain_events(
    starts: pd.DataFrame,
    ends: pd.DataFrame,
    threshold: Threshold,
    *,
    by: Sequence[str] = ("user",),
    as_of: pd.Timestamp | None = None,
    calendar: WorkCalendar | None = None,
    workdays: Collection[int] = WEEKDAYS,
    holidays: Collection[dt.date] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """One row per chain: its start, its end (if any), its deadline and its status.

    Inputs:

    - ``starts``: start events, columns ``key`` (the chain key, e.g. a lead id), ``at`` (datetime, tz-aware or
      naive = UTC; required) and the ``by`` columns. Only the earliest start of a key is used (ties: the first
      row in input order); its ``by`` values are the chain's;
    - ``ends``: end events, columns ``key`` and ``at`` (rows with a missing ``at`` are ignored);
    - ``threshold``, ``calendar`` (or ``workdays``, ``holidays``, ``tz``): the deadline rule (see
      :func:`deadlines`);
    - ``by``: the grouping columns to carry over from ``starts``;
    - ``as_of``: the snapshot time that decides whether a chain without an end is ``missed`` (as_of after the
      deadline) or ``pending``. Default: the latest ``at`` in either table, or now when both are empty.
      Naive = UTC. It does not affect chains that have an end.

    A chain's end is the first end with the same key and ``at`` >= the start's ``at`` (an end before the
    start belongs to an earlier chain and is ignored).

    Output: index 0..n-1, rows sorted by start time then key, columns ``key``, the ``by`` columns,
    ``start_at``, ``end_at`` (NaT without an end), ``deadline`` (all ``datetime64[ns, UTC]``),
    ``elapsed_minutes`` (float, end - start; NaN without an end) and ``status`` (one of
    :data:`CHAIN_STATUSES`).

    Raises:
        ValueError: a missing column (named), a missing start time, unreadable timestamps or ``as_of``, or
            the errors of :func:`deadlines`.
    """
    by = list(by)
    require_columns(starts, ["key", "at", *by], "starts")
    require_columns(ends, ["key", "at"], "ends")
    start_at = as_utc_series(starts["at"], "starts.at")
    if start_at.isna().any():
        raise ValueError(
            f"starts.at is missing on {int(start_at.isna().sum())} row(s); every chain start needs a time"
        )
    end_at = as_utc_series(ends["at"], "ends.at")
    snapshot = _snapshot(as_of, start_at, end_at)

    left = pd.DataFrame({"key": starts["key"].array, "start_at": start_at.array})
    for column in by:
        left[column] = starts[column].array
    left = left.sort_values("start_at", kind="stable").drop_duplicates("key", keep="first")
    right = pd.DataFrame({"key": ends["key"].array, "end_at": end_at.array})
    right = right[right["end_at"].notna()].sort_values("end_at", kind="stable")
    if right["key"].dtype != left["key"].dtype:
        try:
            right["key"] = right["key"].astype(left["key"].dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"ends.key ({right['key'].dtype}) cannot be matched with starts.key ({left['key'].dtype}): "
                "give both the same type of key"
            ) from exc

    chains = pd.merge_asof(
        left,
        right,
        left_on="start_at",
        right_on="end_at",
        by="key",
        direction="forward",
        allow_exact_matches=True,
    )
    chains = chains.sort_values(["start_at", "key"], kind="stable").reset_index(drop=True)
    chains["end_at"] = chains["end_at"].astype(_UTC_NS)
    chains["deadline"] = deadlines(
        chains["start_at"], threshold, calendar=calendar, workdays=workdays, holidays=holidays, tz=tz
    )
    chains["elapsed_minutes"] = (chains["end_at"] - chains["start_at"]) / pd.Timedelta(minutes=1)
    ended = chains["end_at"].notna()
    chains["status"] = np.select(
        [
            ended & (chains["end_at"] <= chains["deadline"]),
            ended,
            snapshot > chains["deadline"],
        ],
        [WITHIN, LATE, MISSED],
        default=PENDING,
    )
    return chains.loc[:, ["key", *by, *_CHAIN_COLUMNS]]


def chain_compliance(
    starts: pd.DataFrame,
    ends: pd.DataFrame,
    threshold: Threshold,
    *,
    by: Sequence[str] = ("user",),
    as_of: pd.Timestamp | None = None,
    calendar: WorkCalendar | None = None,
    workdays: Collection[int] = WEEKDAYS,
    holidays: Collection[dt.date] = (),
    tz: str = "UTC",
) -> pd.DataFrame:
    """Per group: how many chains started, ended within or after their deadline, were missed, are pending.

    Inputs: as :func:`chain_events`, which pairs the events and classifies each chain.

    Output: one row per distinct combination of the ``by`` values among the (earliest) starts, indexed by
    the ``by`` columns (an index named after the column for one column, a MultiIndex for several; missing
    values form their own group, sorted last; with ``by=()``, a single row labelled ``"all"``), sorted by
    the group keys, columns (see :data:`COMPLIANCE_COLUMNS`):

    - ``started``, ``within``, ``late``, ``missed``, ``pending`` (int64, chains);
    - ``share_within`` (float64): within / (within + late + missed), NaN when that is 0 (pending chains
      are not decided yet);
    - ``median_minutes`` (float64): median elapsed minutes of the chains that ended, NaN if none did.

    No starts give an empty frame with these columns.

    Raises:
        ValueError: as :func:`chain_events`.
    """
    by = list(by)
    events = chain_events(
        starts,
        ends,
        threshold,
        by=by,
        as_of=as_of,
        calendar=calendar,
        workdays=workdays,
        holidays=holidays,
        tz=tz,
    )
    flags = pd.DataFrame(
        {"started": np.ones(len(events), dtype="int64")}
        | {status: (events["status"] == status).to_numpy(dtype="int64") for status in CHAIN_STATUSES}
    )
    flags["elapsed_minutes"] = events["elapsed_minutes"].to_numpy()
    if by:
        keys = [events[column] for column in by]
        grouped = flags.groupby(keys, dropna=False, sort=True)
    else:
        grouped = flags.groupby(np.zeros(len(flags), dtype="int64"))
    counts = grouped[["started", *CHAIN_STATUSES]].sum().astype("int64")
    result = counts.copy()
    decided = (counts[WITHIN] + counts[LATE] + counts[MISSED]).to_numpy(dtype="float64")
    share = np.full(len(decided), np.nan)
    np.divide(counts[WITHIN].to_numpy(dtype="float64"), decided, out=share, where=decided > 0)
    result["share_within"] = share
    result["median_minutes"] = grouped["elapsed_minutes"].median().astype("float64")
    if not by:
        result.index = pd.Index(["all"] * len(result))
    elif len(by) == 1:
        result.index.name = by[0]
    else:
        result.index.names = by
    return result.loc[:, list(COMPLIANCE_COLUMNS)]


def _snapshot(as_of: object, start_at: pd.Series, end_at: pd.Series) -> pd.Timestamp:
    if as_of is not None:
        return utc_timestamp(as_of, "as_of")[0]
    latest = pd.concat([start_at, end_at]).max()
    return pd.Timestamp.now(tz="UTC") if pd.isna(latest) else latest
