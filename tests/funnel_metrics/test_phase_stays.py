"""The phase stays and handoffs tables: normalised, refused with the column (and row or line) named, and
written and read back as they were."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import (
    DEFAULT_PHASES,
    HANDOFF_COLUMNS,
    PHASE_KINDS,
    PHASE_STAY_COLUMNS,
    PhaseStaysError,
    TransitionsError,
    load_handoffs,
    load_phase_stays,
    save_handoffs,
    save_phase_stays,
    simulate_waterfall,
    validate_handoffs,
    validate_phase_stays,
)


def raw_stays() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": ["1", "1", "2"],
            "phase": ["Inquiry", " Marketing Qualified", "Inquiry"],
            "phase_sequence": [10, 20.0, "10"],
            "phase_kind": ["progress", "progress", "progress"],
            "entered_at": ["2024-01-01T08:00:00Z", "2024-01-02T08:00:00+02:00", "2024-01-03"],
            "left_at": ["2024-01-02T06:00:00Z", "", None],
            "team": ["Marketing", "Marketing", " "],
            "user": [None, None, None],
            "source": ["web", "web", "event"],
            "medium": ["paid", "paid", None],
            "campaign": ["spring", "spring", "spring"],
            "country": ["BE", "BE", "FR"],
            "origin": ["create", "", "create"],
            "note": ["kept", "as", "is"],
        }
    )


def raw_handoffs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "handoff_id": [1, 2, 3],
            "lead_id": [1, 2, 3],
            "route": ["M to IS"] * 3,
            "from_team": ["Marketing"] * 3,
            "to": ["Inside Sales"] * 3,
            "phase": ["Marketing Qualified"] * 3,
            "sent_at": ["2024-01-02T06:00:00Z", "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z"],
            "decided_at": ["2024-01-02T08:00:00Z", "2024-01-03T10:00:00Z", ""],
            "state": ["accepted", "rejected", "awaiting"],
            "auto_accepted": ["True", "", "0"],
            "reason": [None, "wrong_persona", None],
            "team": ["Marketing"] * 3,
            "source": ["web"] * 3,
            "medium": [None] * 3,
            "campaign": ["spring"] * 3,
            "country": ["BE"] * 3,
        }
    )


def test_default_phases_are_the_waterfall_in_order():
    assert [code for code, *_ in DEFAULT_PHASES] == [
        "inquiry", "mql", "sal", "sql", "opportunity", "won", "lost", "recycled", "disqualified",
    ]  # fmt: skip
    assert [sequence for _, _, sequence, _ in DEFAULT_PHASES] == list(range(10, 100, 10))
    assert {kind for *_, kind in DEFAULT_PHASES} == set(PHASE_KINDS)


def test_phase_stays_are_normalised():
    table = validate_phase_stays(raw_stays())
    assert table.columns.tolist() == [*PHASE_STAY_COLUMNS, "note"]
    assert table["lead_id"].tolist() == [1, 1, 2] and table["phase_sequence"].tolist() == [10, 20, 10]
    assert table["phase"].tolist() == ["Inquiry", " Marketing Qualified", "Inquiry"]
    assert table["entered_at"].iloc[1] == pd.Timestamp("2024-01-02T06:00:00Z")  # +02:00 converted to UTC
    assert table["left_at"].isna().tolist() == [False, True, True]  # empty = still open
    assert table["team"].isna().tolist() == [False, False, True] and table["origin"].isna().iloc[1]
    assert str(table["entered_at"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("lead_id", "seven", "lead_id must be an integer: cannot read 'seven' (row 1)"),
        ("phase", "", "phase missing on 1 row(s), first at row 1, lead_id 1"),
        ("phase_sequence", 1.5, "phase_sequence must be an integer"),
        (
            "phase_kind",
            "stale",
            "phase_kind 'stale' is not one of progress, won, lost, recycled, disqualified",
        ),
        ("entered_at", "yesterday", "entered_at: cannot parse 'yesterday'"),
        ("left_at", "2023-12-01", "left_at is before entered_at for lead_id 1"),
    ],
)
def test_bad_phase_stays_are_refused_naming_the_column(column, value, message):
    frame = raw_stays()
    frame[column] = frame[column].astype(object)
    frame.loc[1, column] = value
    with pytest.raises(PhaseStaysError) as caught:
        validate_phase_stays(frame)
    assert message in str(caught.value) and str(caught.value).startswith("phase stays")
    assert isinstance(caught.value, TransitionsError)  # the command line reports both alike


def test_a_phase_has_one_place_and_one_kind():
    frame = raw_stays()
    frame.loc[2, "phase_sequence"] = 15
    with pytest.raises(PhaseStaysError, match="phase 'Inquiry' has more than one phase_sequence"):
        validate_phase_stays(frame)
    frame = raw_stays()
    frame.loc[2, "phase_kind"] = "won"
    with pytest.raises(PhaseStaysError, match="phase 'Inquiry' has more than one phase_kind"):
        validate_phase_stays(frame)
    with pytest.raises(PhaseStaysError, match="missing column.*: origin"):
        validate_phase_stays(raw_stays().drop(columns="origin"))


def test_handoffs_are_normalised():
    table = validate_handoffs(raw_handoffs())
    assert table.columns.tolist() == list(HANDOFF_COLUMNS)
    assert table["auto_accepted"].tolist() == [True, False, False]
    assert table["decided_at"].isna().tolist() == [False, False, True]
    assert table["reason"].isna().tolist() == [True, False, True]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"state": ["accepted", "refused", "awaiting"]}, "state 'refused' is not one of awaiting, accepted"),
        ({"decided_at": ["", "2024-01-03T10:00:00Z", ""]}, "handoff 1 is decided (accepted) but has no "),
        ({"decided_at": ["2024-01-02T08:00:00Z", "2024-01-03T10:00:00Z", "2024-01-05"]}, "handoff 3 awaits"),
        ({"auto_accepted": ["True", "yes", "0"]}, "handoff 2 is auto_accepted but its state is rejected"),
        (
            {"auto_accepted": ["True", "maybe", "0"]},
            "auto_accepted must be true or false, cannot read 'maybe'",
        ),
        ({"sent_at": ["2024-01-02T06:00:00Z", "2024-01-04T00:00:00Z", "2024-01-04"]}, "decided_at is before"),
        ({"handoff_id": [1, None, 3]}, "handoff_id missing"),
    ],
)
def test_bad_handoffs_are_refused_naming_the_column(changes, message):
    frame = raw_handoffs().assign(**changes)
    with pytest.raises(PhaseStaysError) as caught:
        validate_handoffs(frame)
    assert message in str(caught.value)


def test_csv_files_name_the_line_of_a_bad_value(tmp_path):
    path = tmp_path / "stays.csv"
    frame = raw_stays()
    frame.loc[2, "phase_kind"] = "stale"
    frame.to_csv(path, index=False)
    with pytest.raises(PhaseStaysError, match="line 4"):
        load_phase_stays(path)
    empty = tmp_path / "handoffs.csv"
    empty.write_text("")
    with pytest.raises(PhaseStaysError, match="is empty: a handoffs CSV needs at least its header row"):
        load_handoffs(empty)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_tables_are_written_and_read_back_as_they_were(tmp_path, suffix):
    stays, handoffs, _ = simulate_waterfall(1000, seed=2)
    save_phase_stays(stays, tmp_path / f"stays{suffix}")
    save_handoffs(handoffs, tmp_path / f"handoffs{suffix}")
    pd.testing.assert_frame_equal(load_phase_stays(tmp_path / f"stays{suffix}"), stays)
    pd.testing.assert_frame_equal(load_handoffs(tmp_path / f"handoffs{suffix}"), handoffs)
    assert len(handoffs) and handoffs["auto_accepted"].any() and handoffs["decided_at"].isna().any()


def test_simulated_tables_are_already_normal_and_consistent():
    stays, handoffs, truth = simulate_waterfall(2000, seed=4)
    pd.testing.assert_frame_equal(validate_phase_stays(stays), stays)
    pd.testing.assert_frame_equal(validate_handoffs(handoffs), handoffs)
    assert stays["entered_at"].max() <= truth["snapshot"]
    same_lead = stays["lead_id"].to_numpy()[1:] == stays["lead_id"].to_numpy()[:-1]
    left, entered = stays["left_at"].to_numpy()[:-1], stays["entered_at"].to_numpy()[1:]
    assert (left[same_lead] == entered[same_lead]).all()  # a stay ends when the next one begins
    accepted = handoffs[handoffs["state"] == "accepted"]
    sal = stays[stays["phase"] == "Sales Accepted"].drop_duplicates("lead_id").set_index("lead_id")
    from_mql = accepted[accepted["phase"] == "Marketing Qualified"].drop_duplicates("lead_id")
    # a lead accepted from Marketing Qualified enters Sales Accepted when the handoff is decided
    assert (sal.loc[from_mql["lead_id"], "entered_at"].to_numpy() == from_mql["decided_at"].to_numpy()).all()
    assert np.isin(handoffs.loc[handoffs["state"] == "rejected", "reason"], list(truth["reason_share"])).all()
