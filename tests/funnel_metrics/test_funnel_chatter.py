"""Stays rebuilt from a chatter's stage changes."""

from __future__ import annotations

import pandas as pd
import pytest

from funnel_metrics import stays_from_changes

NA = None
NaT = pd.NaT


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(f"2026-03-{text}")


LEADS = pd.DataFrame(
    [
        # lead_id, created_at, current stage, ended_at (left the pipeline without being won)
        (1, "2026-03-01 09:00", 30, NA),  # moved 10 -> 20 -> 40 -> 30, still open
        (2, "2026-03-01 09:00", 90, NA),  # won: 20 -> 90
        (3, "2026-03-01 09:00", 10, "2026-03-05 00:00"),  # never moved, lost on the 5th
        (4, "2026-03-01 09:00", 20, NA),  # never moved, still open
        (5, "2026-03-03 00:00", 20, "2026-03-02 00:00"),  # closed "before" its creation: ends as it starts
        (6, "2026-03-01 09:00", 20, NA),  # created without a stage, then put in 20
    ],
    columns=["lead_id", "created_at", "stage", "ended_at"],
)
CHANGES = pd.DataFrame(
    [
        # lead_id, at, old_stage, new_stage
        (1, "2026-03-02 00:00", 20, 40),  # listed out of order: sorted by time
        (1, "2026-03-01 11:00", 10, 20),
        (1, "2026-03-04 00:00", 40, 30),
        (2, "2026-03-03 00:00", 20, 90),
        (1, "2026-03-03 00:00", 40, NA),  # to a deleted stage: left out
        (7, "2026-03-01 00:00", 10, 20),  # a lead not asked for
        (6, "2026-03-02 00:00", NA, 20),
    ],
    columns=["lead_id", "at", "old_stage", "new_stage"],
)


def test_stays_from_creation_then_one_per_change():
    stays = stays_from_changes(LEADS, CHANGES, won_stages={90})
    rows = [
        (r.lead_id, r.stage, r.previous_stage, r.entered_at, r.left_at, r.change)
        for r in stays.itertuples(index=False)
    ]
    assert rows == [
        (1, 10, NA, ts("01 09:00"), ts("01 11:00"), pd.NA),
        (1, 20, 10, ts("01 11:00"), ts("02"), 1),
        (1, 40, 20, ts("02"), ts("04"), 0),
        (1, 30, 40, ts("04"), NaT, 2),
        (2, 20, NA, ts("01 09:00"), ts("03"), pd.NA),
        (2, 90, 20, ts("03"), ts("03"), 3),  # a won stage ends as it starts
        (3, 10, NA, ts("01 09:00"), ts("05"), pd.NA),  # lost: ends when it left the pipeline
        (4, 20, NA, ts("01 09:00"), NaT, pd.NA),
        (5, 20, NA, ts("03"), ts("03"), pd.NA),  # never ends before it starts
        (6, 20, NA, ts("02"), NaT, 6),  # no stage before its first change: no stay since creation
    ]
    assert stays["entered_at"].dtype == "datetime64[ns]" and str(stays["change"].dtype) == "Int64"


def test_changes_at_the_same_instant_keep_their_order():
    leads = pd.DataFrame({"lead_id": [1], "created_at": ["2026-03-01"], "stage": [3]})
    changes = pd.DataFrame(
        {"lead_id": [1, 1], "at": ["2026-03-02", "2026-03-02"], "old_stage": [1, 2], "new_stage": [2, 3]}
    )
    stays = stays_from_changes(leads, changes)
    assert stays["stage"].tolist() == [1, 2, 3]
    assert stays["left_at"].tolist() == [ts("02"), ts("02"), NaT]


def test_aware_timestamps_are_read_as_utc():
    leads = pd.DataFrame({"lead_id": [1], "created_at": ["2026-03-01T10:00:00+01:00"], "stage": ["New"]})
    changes = pd.DataFrame(columns=["lead_id", "at", "old_stage", "new_stage"])
    stays = stays_from_changes(leads, changes)
    assert stays["entered_at"].tolist() == [ts("01 09:00")] and stays["stage"].tolist() == ["New"]


def test_no_leads_no_stays():
    stays = stays_from_changes(LEADS.iloc[0:0], CHANGES)
    assert stays.empty and list(stays.columns) == [
        "lead_id",
        "stage",
        "previous_stage",
        "entered_at",
        "left_at",
        "change",
    ]


@pytest.mark.parametrize(
    ("leads", "changes", "message"),
    [
        pytest.param(
            LEADS.drop(columns="created_at"), CHANGES, "leads is missing the column", id="lead-column"
        ),
        pytest.param(LEADS, CHANGES.drop(columns="at"), "changes is missing the column", id="change-column"),
        pytest.param(LEADS.assign(created_at="soon"), CHANGES, "created_at: cannot read", id="timestamp"),
    ],
)
def test_bad_input_is_refused(leads, changes, message):
    with pytest.raises(ValueError, match=message):
        stays_from_changes(leads, changes)
