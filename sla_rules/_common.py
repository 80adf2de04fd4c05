"""Shared helpers of the sla_rules modules (internal): the error type and instant conversions."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from activity_centric.instants import UTC_NS, as_utc_series, utc_timestamp

__all__ = ["UTC_NS", "RuleError", "is_number", "label", "scalar_utc", "utc_series"]


class RuleError(ValueError):
    """A rule, a calendar or an input cannot be used; the message says what is wrong and what to do.

    :ivar problems: the individual problems, one sentence each (the message joins them)
    :ivar code: the problem code when a work calendar cannot answer
        (:class:`activity_centric.workcalendar.CalendarError`), else None; ``params``: its values
    """

    def __init__(
        self,
        message: str,
        problems: tuple[str, ...] = (),
        *,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = problems or (message,)
        self.code = code
        self.params: dict[str, Any] = params or {}


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
    try:
        return utc_timestamp(value, name)
    except ValueError as exc:
        raise RuleError(str(exc)) from None


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
            return as_utc_series(values, name)
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
