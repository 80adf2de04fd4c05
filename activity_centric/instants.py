"""Instants as the plain packages exchange them: UTC Series, UTC nanosecond counts, naive-or-aware datetimes.

- :func:`as_utc_series`: any datetimes (tz-aware, or naive = UTC) as a ``datetime64[ns, UTC]`` Series;
- :func:`utc_timestamp`: one datetime as a UTC ``Timestamp``, and whether it was tz-aware;
- :func:`utc_datetime`: a UTC nanosecond count back as a ``datetime`` (naive UTC or aware UTC), rounded to
  the microsecond in a chosen direction;
- :func:`parse_instant` and :func:`parse_day`: what a person types as a date and time, or a day, on a command
  line: ISO 8601 only, anything else (``01/02/2026``: 1 February or 2 January?) refused with a message that
  says the format;
- :func:`csv_line`: where a row of a CSV file is, as the message of a bad value names it (the file's line
  number, the header being line 1).

Used by :mod:`activity_centric.chains`, :mod:`activity_centric.workcalendar`, ``sla_rules`` and the commands
``sla_rules`` and ``funnel-metrics``.
"""

from __future__ import annotations

import datetime as dt
import re
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


# An ISO 8601 date (2026-11-23, or 20261123), optionally followed by a time (T or a space, then hh:mm,
# hh:mm:ss or with a fraction) and an offset (Z, +01:00, +0100, +01).
_ISO_INSTANT = re.compile(
    r"(?:\d{4}-\d{2}-\d{2}|\d{8})"
    r"(?:[T ]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}", re.ASCII)


def _refused(name: str, text: Any, what: str, example: str) -> ValueError:
    return ValueError(f"{name}: cannot read {text!r} as {what}: use ISO 8601, year first, e.g. {example}")


def parse_instant(text: str, name: str) -> pd.Timestamp:
    """A date and time typed by a person, in ISO 8601 (``2026-11-23``, ``2026-11-23T09:00``,
    ``2026-11-23T10:00+01:00``), as a UTC Timestamp: naive = UTC, an offset is converted.

    Any other format is refused, even one a parser could guess: ``01/02/2026`` is 1 February in most of the
    world and 2 January in the United States, and a command must not pick one silently.

    Raises:
        ValueError: ``text`` is not an ISO 8601 date and time; the message names ``name`` and the format.
    """
    cleaned = str(text).strip()
    stamp = pd.NaT
    if _ISO_INSTANT.fullmatch(cleaned):
        try:
            stamp = pd.Timestamp(cleaned)
        except (TypeError, ValueError):
            stamp = pd.NaT
    if pd.isna(stamp):
        raise _refused(name, text, "a date and time", "2026-11-23T09:00 or 2026-11-23")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def parse_day(text: str, name: str) -> dt.date:
    """A day typed by a person, in ISO 8601 (``2026-11-23``), as a ``date``; any other format is refused
    (see :func:`parse_instant`).

    Raises:
        ValueError: ``text`` is not an ISO 8601 day; the message names ``name`` and the format.
    """
    cleaned = str(text).strip()
    if _ISO_DAY.fullmatch(cleaned):
        try:
            return dt.date.fromisoformat(cleaned)
        except ValueError:
            pass
    raise _refused(name, text, "a day", "2026-11-23")


def csv_line(position: int) -> str:
    """Where the row at ``position`` (0 = the first row under the header) of a CSV file is, as messages name
    it: ``"line 3"`` for ``position`` 1 -- the file's line number, the header being line 1."""
    return f"line {int(position) + 2}"
