"""Odoo search_read rows to a transitions table: the mapping the addon and the extractor share."""

from datetime import datetime

import pandas as pd
import pytest

from funnel_metrics.odoo_rows import EXTRA_COLUMNS, transitions_from_ids, transitions_from_odoo
from funnel_metrics.transitions import TRANSITION_COLUMNS, TransitionsError

STAGES = [
    {"id": 1, "name": "New", "sequence": 1},
    {"id": 2, "name": "Qualified", "sequence": 2},
    {"id": 9, "name": "Won", "sequence": 70},
]
TAGS = {5: "Software", 6: "Hardware"}


def lead(lead_id, won_status="pending", active=True, **extra):
    return {
        "id": lead_id,
        "won_status": won_status,
        "active": active,
        "lost_reason_id": False,
        "source_id": False,
        "campaign_id": False,
        "tag_ids": [],
        "expected_revenue": 0.0,
        **extra,
    }


def stay(lead_id, stage_id, date_in, date_out=False, user=False, team=False):
    return {
        "lead_id": [lead_id, f"Lead {lead_id}"],
        "stage_id": [stage_id, "ignored"],
        "date_in": date_in,
        "date_out": date_out,
        "user_id": user,
        "team_id": team,
    }


def test_rows_become_a_validated_transitions_table():
    stays = [
        stay(1, 1, "2026-03-02 09:00:00", "2026-03-03 09:00:00", user=[7, "Sally"], team=[3, "Europe"]),
        stay(1, 9, "2026-03-03 09:00:00", "2026-03-03 09:00:00", user=[7, "Sally"], team=[3, "Europe"]),
        stay(2, 2, datetime(2026, 3, 4, 12, 30), False),
    ]
    leads = [
        lead(
            1,
            "won",
            tag_ids=[6, 5],
            source_id=[4, "Website"],
            campaign_id=[8, "Spring"],
            expected_revenue=900.0,
        ),
        lead(2, "pending"),
    ]
    table = transitions_from_odoo(stays, leads, STAGES, TAGS)
    assert list(table.columns) == [*TRANSITION_COLUMNS, *EXTRA_COLUMNS]
    first, won, open_stay = (table.iloc[i] for i in range(3))
    assert (first["stage"], first["stage_sequence"], first["user"], first["team"]) == (
        "New",
        1,
        "Sally",
        "Europe",
    )
    assert first["entered_at"] == pd.Timestamp("2026-03-02 09:00", tz="UTC")
    assert first["left_at"] == pd.Timestamp("2026-03-03 09:00", tz="UTC")
    assert (first["outcome"], first["product"], first["source"]) == ("won", "Hardware, Software", "Website")
    assert (first["campaign"], first["expected_revenue"], first["stage_id"], first["user_id"]) == (
        "Spring",
        900.0,
        1,
        7,
    )
    assert won["stage"] == "Won"
    assert pd.isna(open_stay["left_at"]) and open_stay["outcome"] == "open"
    assert (open_stay["user_id"], open_stay["team_id"]) == (0, 0)
    assert pd.isna(open_stay["user"]) and pd.isna(open_stay["product"])


@pytest.mark.parametrize(
    ("won_status", "active", "outcome"),
    [("won", True, "won"), ("lost", False, "lost"), ("pending", False, "lost"), ("pending", True, "open")],
)
def test_outcome_of_a_lead(won_status, active, outcome):
    rows = [stay(1, 1, "2026-03-02 09:00:00", "2026-03-03 09:00:00" if not active else False)]
    table = transitions_from_odoo(
        rows, [lead(1, won_status, active, lost_reason_id=[1, "Too expensive"])], STAGES
    )
    assert table["outcome"].iloc[0] == outcome
    assert table["lost_reason"].iloc[0] == "Too expensive"


def test_no_rows_give_an_empty_typed_table():
    table = transitions_from_odoo([], [], STAGES)
    assert table.empty
    assert list(table.columns) == [*TRANSITION_COLUMNS, *EXTRA_COLUMNS]
    assert str(table["entered_at"].dtype) == "datetime64[ns, UTC]"


def test_a_stay_in_an_unknown_stage_is_refused():
    with pytest.raises(TransitionsError, match="stage"):
        transitions_from_odoo([stay(1, 42, "2026-03-02 09:00:00")], [lead(1)], STAGES)


def test_bare_ids_and_name_maps_give_the_table_of_search_read_rows():
    """The addon's SQL read (bare ids, one name map per model) and the rows of search_read give one table."""
    rows = [
        stay(1, 1, "2026-03-02 09:00:00", "2026-03-03 09:00:00", user=[7, "Sally"], team=[3, "Europe"]),
        stay(1, 2, "2026-03-03 09:00:00", False, user=[8, "Bob"], team=[3, "Europe"]),
        stay(2, 1, "2026-03-04 12:30:00", False),
    ]
    leads = [lead(1, tag_ids=[6, 5], source_id=[4, "Website"], name="Big deal"), lead(2, "lost", False)]
    expected = transitions_from_odoo(rows, leads, STAGES, TAGS)
    table = transitions_from_ids(
        {
            "lead_id": [1, 1, 2],
            "stage_id": [1, 2, 1],
            "date_in": pd.to_datetime(["2026-03-02 09:00", "2026-03-03 09:00", "2026-03-04 12:30"]),
            "date_out": pd.to_datetime(["2026-03-03 09:00", None, None]),
            "user_id": [7, 8, None],
            "team_id": [3, 3, 0],
        },
        {
            "id": [1, 2],
            "name": ["Big deal", None],
            "won_status": ["pending", "lost"],
            "active": [True, False],
            "tag_ids": [[6, 5], []],
            "source_id": [4, False],
            "lost_reason_id": [0, 0],
            "campaign_id": [0, 0],
            "expected_revenue": [0.0, 0.0],
        },
        {stage["id"]: (stage["name"], stage["sequence"]) for stage in STAGES},
        {
            "user_id": {7: "Sally", 8: "Bob"},
            "team_id": {3: "Europe"},
            "tag_ids": TAGS,
            "source_id": {4: "Website"},
        },
    )
    pd.testing.assert_frame_equal(table, expected)
    assert list(table["outcome"]) == ["open", "open", "lost"]


def test_a_field_without_a_name_map_leaves_its_column_empty():
    """A caller keyed by ids (the addon's reports) reads no names; the ids and outcomes are all there."""
    table = transitions_from_ids(
        {
            "lead_id": [5],
            "stage_id": [2],
            "date_in": ["2026-03-02 09:00:00"],
            "date_out": [False],
            "user_id": [7],
            "team_id": [3],
        },
        {"id": [5], "won_status": ["won"], "active": [True]},
        {2: ("Qualified", 2)},
    )
    row = table.iloc[0]
    assert (row["stage"], row["user_id"], row["team_id"], row["outcome"]) == ("Qualified", 7, 3, "won")
    assert pd.isna(row["user"]) and pd.isna(row["team"]) and pd.isna(row["product"])
    assert pd.isna(row["campaign"]) and pd.isna(row["expected_revenue"]) and pd.isna(row["lead_name"])
