"""Shared helpers of the activity_centric modules (internal): weekday masks and date lists for the work
calendar, column checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

import numpy as np
import pandas as pd

WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)
"""Default working days, as ``datetime.date.weekday()`` numbers (Monday = 0 ... Sunday = 6)."""


def weekmask(workdays: Collection[int]) -> list[int]:
    """The numpy busday weekmask (seven 0/1 flags, Monday first) of ``workdays``.

    Raises:
        ValueError: a weekday outside 0..6, or no working day at all.
    """
    days = set()
    for day in workdays:
        if isinstance(day, bool) or not isinstance(day, (int, np.integer)) or not 0 <= day <= 6:
            raise ValueError(f"workdays must be weekday numbers 0 (Monday) .. 6 (Sunday), got {day!r}")
        days.add(int(day))
    if not days:
        raise ValueError("workdays is empty: at least one weekday (0 = Monday .. 6 = Sunday) must be worked")
    return [1 if day in days else 0 for day in range(7)]


def holiday_array(holidays: Iterable[dt.date | str | np.datetime64 | pd.Timestamp]) -> np.ndarray:
    """Holidays as a sorted, de-duplicated ``datetime64[D]`` array (calendar dates, no time zone).

    Raises:
        ValueError: a value that is not a date.
    """
    values = list(holidays)
    if not values:
        return np.array([], dtype="datetime64[D]")
    try:
        stamps = pd.to_datetime(pd.Series(values, dtype=object))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"holidays must be dates, got {values!r} ({exc})") from exc
    if stamps.isna().any():
        raise ValueError(f"holidays must be dates, got a missing value in {values!r}")
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None)
    return np.unique(stamps.to_numpy().astype("datetime64[D]"))


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Raise a ValueError naming the first column of ``columns`` that ``frame`` lacks.

    ``name`` is how the table is called in the message (usually the argument name).
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} is missing column(s): {', '.join(map(str, missing))} "
            f"(it has: {', '.join(map(str, frame.columns)) or 'no columns'})"
        )
