"""A report's period of days, in a time zone: the one rule for where "March" starts and ends, and which
leads a report over a period looks at (:func:`cohort_rows`).

A manager in Sydney asking for March means his March: from midnight on 1 March to midnight on 1 April,
Sydney time. The Odoo reports (``crm.pipeline.report.scope``) count days in the user's time zone; the
command line takes ``--tz`` to count them the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd


def period_bounds(
    date_from: date | None, date_to: date | None, tz: str = "UTC"
) -> tuple[datetime | None, datetime | None]:
    """The instants a period of whole days starts and ends, as naive UTC datetimes (as Odoo stores them).

    Inputs: the first and last day of the period (both included; either may be None for an open end) and
    the IANA time zone the days are counted in (``"Australia/Sydney"``; default UTC).

    Output: ``(start, end)``: midnight at the start of ``date_from`` and midnight at the end of ``date_to``
    (end excluded) in ``tz``, converted to UTC without time zone; None for an open end. Across a daylight
    saving change the period is an hour shorter or longer, as the local days are.

    Raises:
        ValueError: an unknown time zone.
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Brussels)") from exc

    def utc(day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    start = utc(date_from) if date_from else None
    end = utc(date_to + timedelta(days=1)) if date_to else None
    return start, end


def cohort_rows(
    lead_id: Any,
    entered_at: Any,
    start: datetime | None = None,
    end: datetime | None = None,
    of_scope: Any = None,
) -> np.ndarray:
    """Which stays a report looks at: the whole history of the leads that entered the pipeline in its period
    and passed through its teams or salespersons -- the one rule of the Odoo reports and the extractor.

    Inputs, one value per stay (any order): ``lead_id`` (ints), ``entered_at`` (``datetime64`` or
    timestamps; naive = UTC), and optionally ``of_scope`` (bools: the stay is of the chosen teams and
    salespersons); the period's bounds as :func:`period_bounds` gives them (naive UTC, either may be None).

    Output: a bool array, True for every stay of a lead whose first stay (its earliest ``entered_at``, over
    the stays given: give each lead's whole history) began at or after ``start`` and before ``end``, and,
    with ``of_scope``, that has at least one stay of scope. A lead's other stays are kept whatever their team:
    they tell whether it moved on or was lost.
    """
    leads = np.asarray(lead_id)
    if not len(leads):
        return np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(leads)
    keep = np.ones(len(uniques), dtype=bool)
    if start is not None or end is not None:
        # nanoseconds since the epoch, UTC
        entered = pd.DatetimeIndex(pd.to_datetime(entered_at, utc=True)).as_unit("ns").asi8
        first = np.full(len(uniques), np.iinfo(np.int64).max)
        np.minimum.at(first, codes, entered)
        if start is not None:
            keep &= first >= pd.Timestamp(start, tz="UTC").value
        if end is not None:
            keep &= first < pd.Timestamp(end, tz="UTC").value
    if of_scope is not None:
        keep &= np.bincount(codes, weights=np.asarray(of_scope, dtype=bool), minlength=len(uniques)) > 0
    return keep[codes]
