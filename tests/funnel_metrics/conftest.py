"""Shared builders for the funnel_metrics tests: transitions tables written as compact stay tuples."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
import pytest

from funnel_metrics import TRANSITION_COLUMNS

T0 = pd.Timestamp("2024-01-01T00:00:00Z")
UTC_NS = "datetime64[ns, UTC]"

# (lead_id, stage, stage_sequence, entered_day, left_day or None while open, outcome); days count from T0.
Stay = tuple[int, str, int, float, float | None, str]


def day(offset: float) -> pd.Timestamp:
    """T0 plus ``offset`` days."""
    return T0 + pd.Timedelta(days=offset)


def build_transitions(stays: Iterable[Stay]) -> pd.DataFrame:
    """A raw (not yet validated) transitions frame, as a caller would hand it over."""
    rows = [
        {
            "lead_id": lead,
            "stage": stage,
            "stage_sequence": sequence,
            "entered_at": day(entered),
            "left_at": pd.NaT if left is None else day(left),
            "user": "alice",
            "team": "Europe",
            "product": None,
            "source": "web",
            "outcome": outcome,
            "lost_reason": "too expensive" if outcome == "lost" else None,
        }
        for lead, stage, sequence, entered, left, outcome in stays
    ]
    frame = pd.DataFrame(rows, columns=list(TRANSITION_COLUMNS))
    for column in ("entered_at", "left_at"):  # an all-NaT column would otherwise come out naive
        frame[column] = pd.to_datetime(frame[column], utc=True).astype(UTC_NS)
    return frame.astype({"lead_id": "int64", "stage_sequence": "int64"})


@pytest.fixture
def make_transitions() -> Callable[[Iterable[Stay]], pd.DataFrame]:
    """Builder: list of stay tuples -> raw transitions DataFrame (see :func:`build_transitions`)."""
    return build_transitions


@pytest.fixture(name="day")
def day_fixture() -> Callable[[float], pd.Timestamp]:
    """``day(offset)``: the UTC timestamp ``offset`` days after 2024-01-01T00:00Z."""
    return day
