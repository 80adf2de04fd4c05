"""A report's period of days, in a time zone: the one rule for where "March" starts and ends.

A manager in Sydney asking for March means his March: from midnight on 1 March to midnight on 1 April,
Sydney time. The Odoo reports (``crm.pipeline.report.scope``) count days in the user's time zone; the
command line takes ``--tz`` to count them the same way.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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
