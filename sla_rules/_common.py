"""Shared helpers of the sla_rules modules (internal): the error type and instant conversions."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from activity_centric.chains import _as_utc_series

UTC_NS = "datetime64[ns, UTC]"
NAT = np.iinfo(np.int64).min
"""``NaT`` as an int64 nanosecond count (numpy's and pandas' marker)."""
DAY_NS = 86_400 * 10**9
MICROSECOND_NS = 1_000


class RuleError(ValueError):
    """A rule, a calendar or an input cannot be used; the message says what is wrong and what to do.

    :ivar problems: the individual problems, one sentence each (the message joins them)
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite real number (not a bool)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(value)
    )


def scalar_utc(value: Any, name: str) -> tuple[pd.Timestamp, bool]:
    """``value`` (a datetime, naive = UTC) as a UTC Timestamp, and whether it was time-zone aware.

    Raises:
        RuleError: ``value`` is missing or not a point in time.
    """
    if value is None:
        raise RuleError(f"{name} is missing: give a date and time.")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise RuleError(f"{name}: cannot read {value!r} as a date and time ({exc}).") from None
    if pd.isna(stamp):
        raise RuleError(f"{name} is missing: give a date and time.")
    aware = stamp.tzinfo is not None
    return (stamp.tz_convert("UTC") if aware else stamp.tz_localize("UTC")), aware


def to_datetime(value_ns: int, aware: bool, rounding: str) -> dt.datetime:
    """A UTC nanosecond count as a ``datetime`` (aware UTC or naive UTC), rounded to the microsecond.

    ``rounding`` is ``"floor"`` for cutoffs (the last microsecond that is still breached) and ``"ceil"``
    for deadlines (the first microsecond that is breached), so that the breach test stays exact at the
    microsecond resolution of ``datetime``.
    """
    micros = value_ns // MICROSECOND_NS if rounding == "floor" else -(-value_ns // MICROSECOND_NS)
    stamp = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(micros))
    return stamp.replace(tzinfo=dt.timezone.utc) if aware else stamp


def utc_series(values: Any, name: str) -> pd.Series:
    """``values`` as a ``datetime64[ns, UTC]`` Series (naive = UTC, NaT kept).

    Raises:
        RuleError: the values are not datetimes.
    """
    if not isinstance(values, pd.Series):
        values = pd.Series(values)
    try:
        with warnings.catch_warnings():  # pandas' note on texts it parses one by one
            warnings.filterwarnings("ignore", "Could not infer format", UserWarning)
            return _as_utc_series(values, name)
    except ValueError as exc:
        raise RuleError(str(exc)) from None


def label(value: Any, names: Any = None, kind: str | None = None) -> str:
    """The display name of an id: ``names[(kind, value)]``, else ``names[value]`` when known, else the id as
    text."""
    if names is not None:
        for key in ((kind, value), value) if kind else (value,):
            try:
                found = names.get(key)
            except TypeError:  # an unhashable id
                found = None
            if found is not None:
                return str(found)
    return str(value)
