"""A period of days in a time zone: where it starts and ends."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from funnel_metrics import period_bounds


@pytest.mark.parametrize(
    ("tz", "start", "end"),
    [
        pytest.param("UTC", datetime(2026, 3, 1), datetime(2026, 4, 1), id="utc"),
        # a manager in Sydney asking for March: his March, summer time (UTC+11) ending on 5 April
        pytest.param("Australia/Sydney", datetime(2026, 2, 28, 13), datetime(2026, 3, 31, 13), id="sydney"),
        # Brussels changes to summer time on 29 March: the period is an hour shorter
        pytest.param("Europe/Brussels", datetime(2026, 2, 28, 23), datetime(2026, 3, 31, 22), id="brussels"),
    ],
)
def test_march_in_a_time_zone(tz, start, end):
    assert period_bounds(date(2026, 3, 1), date(2026, 3, 31), tz) == (start, end)


def test_open_ends_and_default_utc():
    assert period_bounds(None, None) == (None, None)
    assert period_bounds(date(2026, 3, 1), None) == (datetime(2026, 3, 1), None)
    assert period_bounds(None, date(2026, 3, 1)) == (None, datetime(2026, 3, 2))


def test_unknown_time_zone_is_refused():
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Atlantis'"):
        period_bounds(date(2026, 3, 1), None, "Europe/Atlantis")
