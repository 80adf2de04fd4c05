"""Bare ids and name maps to a transitions table: the mapping the addon and the extractor share."""

from datetime import datetime

import pandas as pd
import pytest

from funnel_metrics.odoo_rows import EXTRA_COLUMNS, transitions_from_ids
from funnel_metrics.transitions import TRANSITION_COLUMNS, TransitionsError

STAGES = {1: ("New", 1), 2: ("Qualified", 2), 9: ("Won", 70)}
TAGS = {5: "Software", 6: "Hardware"}


def stays(*rows):
    """Stay columns from ``(lead_id, stage_id, date_in, date_out, user_id, team_id)`` rows."""
    fields = ("lead_id", "stage_id", "date_in", "date_out", "user_id", "team_id")
    return {field: [row[i] for row in rows] for i, field in enumerate(fields)}


def leads(*rows):
    """Lead columns from dicts of the fields that differ from an open lead without anything."""
    default = {
        "name": None,
        "won_status": "pending",
        "active": True,
        "lost_reason_id": 0,
        "source_id": 0,
        "campaign_id": 0,
        "tag_ids": [],
        "expected_revenue": 0.0,
    }
    filled = [{**default, **row} for row in rows]
    return {field: [row[field] for row in filled] for field in ("id", *default)}


def test_ids_and_name_maps_become_a_validated_transitions_table():
    table = transitions_from_ids(
        stays(
            (1, 1, "2026-03-02 09:00:00", "2026-03-03 09:00:00", 7, 3),
            (1, 9, "2026-03-03 09:00:00", "2026-03-03 09:00:00", 7, 3),
            (2, 2, datetime(2026, 3, 4, 12, 30), False, False, False),
        ),
        leads(
            {
                "id": 1,
                "won_status": "won",
                "tag_ids": [6, 5],
                "source_id": 4,
                "campaign_id": 8,
                "expected_revenue": 900.0,
            },
            {"id": 2},
        ),
        STAGES,
        {
            "user_id": {7: "Sally"},
            "team_id": {3: "Europe"},
            "tag_ids": TAGS,
            "source_id": {4: "Website"},
            "campaign_id": {8: "Spring"},
        },
    )
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
    rows = stays((1, 1, "2026-03-02 09:00:00", "2026-03-03 09:00:00" if not active else False, 0, 0))
    table = transitions_from_ids(
        rows,
        leads({"id": 1, "won_status": won_status, "active": active, "lost_reason_id": 1}),
        STAGES,
        {"lost_reason_id": {1: "Too expensive"}},
    )
    assert table["outcome"].iloc[0] == outcome
    assert table["lost_reason"].iloc[0] == "Too expensive"


def test_no_rows_give_an_empty_typed_table():
    table = transitions_from_ids(stays(), leads(), STAGES)
    assert table.empty
    assert list(table.columns) == [*TRANSITION_COLUMNS, *EXTRA_COLUMNS]
    assert str(table["entered_at"].dtype) == "datetime64[ns, UTC]"


def test_a_stay_in_an_unknown_stage_is_refused():
    with pytest.raises(TransitionsError, match="stage"):
        transitions_from_ids(stays((1, 42, "2026-03-02 09:00:00", False, 0, 0)), leads({"id": 1}), STAGES)


def test_every_form_of_ids_and_instants_gives_one_table():
    """Empty ids as 0, ``False`` or ``None``, ids as ints or numpy arrays, instants as Odoo's strings,
    datetimes or ``datetime64`` (the addon's SQL read, the extractor's columns): one table."""
    names = {
        "user_id": {7: "Sally", 8: "Bob"},
        "team_id": {3: "Europe"},
        "tag_ids": TAGS,
        "source_id": {4: "Website"},
    }
    lead_rows = leads(
        {"id": 1, "name": "Big deal", "tag_ids": [6, 5], "source_id": 4},
        {"id": 2, "won_status": "lost", "active": False, "source_id": False},
    )
    expected = transitions_from_ids(
        stays(
            (1, 1, "2026-03-02 09:00:00", "2026-03-03 09:00:00", 7, 3),
            (1, 2, "2026-03-03 09:00:00", False, 8, 3),
            (2, 1, "2026-03-04 12:30:00", False, False, False),
        ),
        lead_rows,
        STAGES,
        names,
    )
    table = transitions_from_ids(
        {
            "lead_id": [1, 1, 2],
            "stage_id": [1, 2, 1],
            "date_in": pd.to_datetime(["2026-03-02 09:00", "2026-03-03 09:00", "2026-03-04 12:30"]),
            "date_out": pd.to_datetime(["2026-03-03 09:00", None, None]).as_unit("us"),
            "user_id": [7, 8, None],
            "team_id": [3, 3, 0],
        },
        {**lead_rows, "tag_ids": [(5, 6), ()], "source_id": [4, None]},
        STAGES,
        names,
    )
    pd.testing.assert_frame_equal(table, expected)
    assert list(table["outcome"]) == ["open", "open", "lost"]
    assert list(table["user"].fillna("-")) == ["Sally", "Bob", "-"]


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
