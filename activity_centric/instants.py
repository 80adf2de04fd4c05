"""Instants as the plain packages exchange them: UTC Series, UTC nanosecond counts, naive-or-aware datetimes.

- :func:`as_utc_series`: any datetimes (tz-aware, or naive = UTC) as a ``datetime64[ns, UTC]`` Series;
- :func:`utc_timestamp`: one datetime as a UTC ``Timestamp``, and whether it was tz-aware;
- :func:`utc_datetime`: a UTC nanosecond count back as a ``datetime`` (naive UTC or aware UTC), rounded to
  the microsecond in a chosen direction.

Used by :mod:`activity_centric.chains`, :mod:`activity_centric.workcalendar` and ``sla_rules``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

UTC_NS = "datetime64[ns, UTC]"
"""The dtype of UTC instants in Series and frames."""
NAT = np.iinfo(np.int64).min
"""``NaT`` as an int64 nanosecond count (numpy's and pandas' marker)."""
DAY_NS = 86_400 * 10**9
"""A day of 24 hours, in nanoseconds."""
_MICROSECOND_NS = 1_000


def as_utc_series(values: Any, name: str) -> pd.Series:
    """``values`` as a ``datetime64[ns, UTC]`` Series (naive = UTC; NaT kept; the index of ``values``).

    ``name`` is how the values are called in the error message.

    Raises:
        ValueError: the values are not datetimes.
    """
    try:
        stamps = pd.to_datetime(values)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold datetimes ({exc})") from exc
    if not isinstance(stamps, pd.Series):
        stamps = pd.Series(stamps, index=getattr(values, "index", None))
    if not pd.api.types.is_datetime64_any_dtype(stamps.dtype):
        raise ValueError(f"{name} must hold datetimes, got dtype {stamps.dtype}")
    stamps = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    return stamps.astype(UTC_NS)


def utc_timestamp(value: Any, name: str) -> tuple[pd.Timestamp, bool]:
    """``value`` (a datetime, naive = UTC) as a UTC Timestamp, and whether it was time-zone aware.

    Raises:
        ValueError: ``value`` is missing or not a point in time; the message names it with ``name``.
    """
    if value is None:
        raise ValueError(f"{name} is missing: give a date and time.")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot read {value!r} as a date and time ({exc}).") from None
    if pd.isna(stamp):
        raise ValueError(f"{name} is missing: give a date and time.")
    aware = stamp.tzinfo is not None
    return (stamp.tz_convert("UTC") if aware else stamp.tz_localize("UTC")), aware


def utc_datetime(value_ns: int, aware: bool, rounding: str) -> dt.datetime:
    """A UTC nanosecond count as a ``datetime`` (aware UTC or naive UTC), rounded to the microsecond.

    ``rounding`` is ``"floor"`` (e.g. for cutoffs: the last microsecond that is still breached) or
    ``"ceil"`` (deadlines: the first microsecond that is breached), so that comparisons stay exact at the
    microsecond resolution of ``datetime``.
    """
    micros = value_ns // _MICROSECOND_NS if rounding == "floor" else -(-value_ns // _MICROSECOND_NS)
    stamp = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=int(micros))
    return stamp.replace(tzinfo=dt.timezone.utc) if aware else stamp
