"""cumulative_funnel, stage_skips and cohort_conversion on hand-computed pipelines."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import (
    cohort_conversion,
    cumulative_funnel,
    stage_skips,
    transitions_from_records,
    validate_transitions,
)
from funnel_metrics.funnel import _pipeline, _validated

NAN = float("nan")

# New(1) -> Qualified(2) -> Proposal(3) -> Negotiation(4) -> Won(5); days since Monday 2024-01-01.
PIPELINE = [
    # L1 won, straight through
    (1, "New", 1, 0, 1, "won"),
    (1, "Qualified", 2, 1, 3, "won"),
    (1, "Proposal", 3, 3, 6, "won"),
    (1, "Negotiation", 4, 6, 8, "won"),
    (1, "Won", 5, 8, None, "won"),
    # L2 lost in Proposal, skipped Qualified
    (2, "New", 1, 0, 2, "lost"),
    (2, "Proposal", 3, 2, 5, "lost"),
    # L3 won, jumped from New to Negotiation (2 stages skipped)
    (3, "New", 1, 1, 2, "won"),
    (3, "Negotiation", 4, 2, 4, "won"),
    (3, "Won", 5, 4, None, "won"),
    # L4 lost: back from Qualified to New and again to Qualified
    (4, "New", 1, 3, 4, "lost"),
    (4, "Qualified", 2, 4, 6, "lost"),
    (4, "New", 1, 6, 7, "lost"),
    (4, "Qualified", 2, 7, 9, "lost"),
    # L5 open in Qualified
    (5, "New", 1, 10, 12, "open"),
    (5, "Qualified", 2, 12, None, "open"),
    # L6 open, created directly in Proposal (Saturday 2024-02-10)
    (6, "Proposal", 3, 40, None, "open"),
    # L7 lost in Negotiation, skipped Qualified (Monday 2024-02-05)
    (7, "New", 1, 35, 36, "lost"),
    (7, "Proposal", 3, 36, 37, "lost"),
    (7, "Negotiation", 4, 37, 39, "lost"),
    # L8 lost: makes the New -> Proposal jump twice (Tuesday 2024-02-20)
    (8, "New", 1, 50, 51, "lost"),
    (8, "Proposal", 3, 51, 52, "lost"),
    (8, "New", 1, 52, 53, "lost"),
    (8, "Proposal", 3, 53, 55, "lost"),
]
STAGES = ["New", "Qualified", "Proposal", "Negotiation", "Won"]


# --------------------------------------------------------------------------------------------------------
# cumulative_funnel
# --------------------------------------------------------------------------------------------------------


def test_cumulative_funnel_counts_leads_that_got_at_least_that_far(make_transitions):
    # New: all 8. Qualified: all 8 too -- L2, L3, L6, L7, L8 skipped it or started past it.
    # Proposal: L1 L2 L3(Negotiation) L6 L7 L8. Negotiation: L1 L3 L7. Won: L1 L3.
    result = cumulative_funnel(make_transitions(PIPELINE))
    expected = pd.DataFrame(
        {
            "stage": pd.array(STAGES, dtype="string"),
            "stage_sequence": np.arange(1, 6, dtype="int64"),
            "reached": np.array([8, 8, 6, 3, 2], dtype="int64"),
            "share_of_first": [1.0, 1.0, 6 / 8, 3 / 8, 2 / 8],
        }
    )
    pd.testing.assert_frame_equal(result, expected)


@pytest.mark.parametrize(
    ("stays", "reached"),
    [
        pytest.param(
            # stages sharing a sequence are not later than each other: L2 in Beta did not reach Alpha, but
            # L1 reached Beta through Gamma, a later stage
            [
                (1, "Alpha", 1, 0, 1, "open"),
                (1, "Gamma", 2, 1, None, "open"),
                (2, "Beta", 1, 0, None, "open"),
            ],
            [("Alpha", 1), ("Beta", 2), ("Gamma", 1)],
            id="same-sequence",
        ),
        pytest.param(
            # a lead that went back still reached the later stage it visited
            [(1, "New", 1, 0, 1, "lost"), (1, "Proposal", 3, 1, 2, "lost"), (1, "New", 1, 2, 3, "lost")],
            [("New", 1), ("Proposal", 1)],
            id="went-back",
        ),
        pytest.param(
            # counted once however many stays
            [(1, "New", 1, 0, 1, "open"), (1, "New", 1, 1, None, "open"), (2, "Won", 9, 0, None, "won")],
            [("New", 2), ("Won", 1)],
            id="re-entries-and-direct-win",
        ),
    ],
)
def test_cumulative_funnel_edge_cases(make_transitions, stays, reached):
    result = cumulative_funnel(make_transitions(stays))
    assert list(zip(result["stage"], result["reached"], strict=True)) == reached
    assert result["share_of_first"].iloc[0] == 1.0


def test_cumulative_funnel_of_an_empty_table():
    result = cumulative_funnel(transitions_from_records([]))
    assert list(result.columns) == ["stage", "stage_sequence", "reached", "share_of_first"]
    assert result.empty


# --------------------------------------------------------------------------------------------------------
# stage_skips
# --------------------------------------------------------------------------------------------------------

PIPELINE_SKIPS = [
    # from, from seq, to, to seq, skipped, moves, leads
    ("New", 1, "Proposal", 3, 1, 4, 3),  # L2, L7, L8 twice
    ("New", 1, "Negotiation", 4, 2, 1, 1),  # L3
]


def skips_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=["from_stage", "from_sequence", "to_stage", "to_sequence", "skipped", "moves", "leads"],
    )
    return frame.astype(
        {
            "from_stage": "string",
            "to_stage": "string",
            **dict.fromkeys(("from_sequence", "to_sequence", "skipped", "moves", "leads"), "int64"),
        }
    )


def test_stage_skips_counts_moves_and_leads(make_transitions):
    pd.testing.assert_frame_equal(stage_skips(make_transitions(PIPELINE)), skips_frame(PIPELINE_SKIPS))


def test_stage_skips_do_not_depend_on_row_order(make_transitions):
    shuffled = make_transitions(PIPELINE).sample(frac=1.0, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(stage_skips(shuffled), skips_frame(PIPELINE_SKIPS))


@pytest.mark.parametrize(
    ("stays", "expected"),
    [
        pytest.param(
            # the stage jumped over exists only in another lead: it still counts (pipeline of the table)
            [(1, "A", 1, 0, 1, "open"), (1, "C", 3, 1, None, "open"), (2, "B", 2, 0, None, "open")],
            [("A", 1, "C", 3, 1, 1, 1)],
            id="stage-of-another-lead",
        ),
        pytest.param(
            # gaps in the sequence numbers are not stages: 10 -> 30 with nothing at 20 skips nothing
            [(1, "A", 10, 0, 1, "open"), (1, "C", 30, 1, None, "open")],
            [],
            id="sequence-gap",
        ),
        pytest.param(
            # backward jumps are not skips; two stages sharing a sequence between are both skipped
            [
                (1, "D", 4, 0, 1, "open"),
                (1, "A", 1, 1, 2, "open"),
                (1, "D", 4, 2, None, "open"),
                (2, "B", 2, 0, None, "open"),
                (3, "C", 2, 0, None, "open"),
            ],
            [("A", 1, "D", 4, 2, 1, 1)],
            id="backward-and-shared-sequence",
        ),
        pytest.param(
            # stays entered at the same instant are taken in pipeline order: A -> C then C -> D
            [(1, "C", 3, 0, 1, "open"), (1, "A", 1, 0, 0, "open"), (1, "D", 4, 1, None, "open")],
            [("A", 1, "C", 3, 1, 1, 1)],
            id="same-instant",
        ),
    ],
)
def test_stage_skips_edge_cases(make_transitions, stays, expected):
    frame = make_transitions(stays + [(99, "B", 2, 0, None, "open")])  # B (2) always exists
    pd.testing.assert_frame_equal(stage_skips(frame), skips_frame(expected))


def test_stage_skips_of_an_empty_table():
    pd.testing.assert_frame_equal(stage_skips(transitions_from_records([])), skips_frame([]))


# --------------------------------------------------------------------------------------------------------
# cohort_conversion
# --------------------------------------------------------------------------------------------------------


def cohort_frame(rows: list[tuple]) -> pd.DataFrame:
    columns = ["cohort", "leads", "won", "lost", "open", *(f"reached:{s}" for s in STAGES)]
    frame = pd.DataFrame(rows, columns=columns)
    frame["cohort"] = pd.to_datetime(frame["cohort"], utc=True).astype("datetime64[ns, UTC]")
    return frame.astype(dict.fromkeys(("leads", "won", "lost", "open"), "int64"))


@pytest.mark.parametrize(
    ("freq", "rows"),
    [
        pytest.param(
            "MS",
            [
                # January: L1..L5 (won L1 L3, lost L2 L4, open L5); February: L6 L7 L8
                ("2024-01-01", 5, 2, 2, 1, 1.0, 1.0, 3 / 5, 2 / 5, 2 / 5),
                ("2024-02-01", 3, 0, 2, 1, 1.0, 1.0, 1.0, 1 / 3, 0.0),
            ],
            id="months",
        ),
        pytest.param(
            "W-MON",
            [
                ("2024-01-01", 4, 2, 2, 0, 1.0, 1.0, 3 / 4, 2 / 4, 2 / 4),  # L1-L4, days 0-3
                ("2024-01-08", 1, 0, 0, 1, 1.0, 1.0, 0.0, 0.0, 0.0),  # L5, day 10
                ("2024-02-05", 2, 0, 1, 1, 1.0, 1.0, 1.0, 1 / 2, 0.0),  # L7 day 35 (Monday), L6 day 40
                ("2024-02-19", 1, 0, 1, 0, 1.0, 1.0, 1.0, 0.0, 0.0),  # L8 day 50 (Tuesday)
            ],
            id="weeks-from-monday",
        ),
        pytest.param(
            "QS",
            [("2024-01-01", 8, 2, 4, 2, 1.0, 1.0, 6 / 8, 3 / 8, 2 / 8)],
            id="one-quarter-is-the-cumulative-funnel",
        ),
    ],
)
def test_cohorts(make_transitions, freq, rows):
    result = cohort_conversion(make_transitions(PIPELINE), freq=freq)
    pd.testing.assert_frame_equal(result, cohort_frame(rows))


def test_fixed_frequencies_floor_the_first_entry(make_transitions):
    stays = [
        (1, "New", 1, 0.75, None, "open"),
        (2, "New", 1, 1.2, None, "open"),
        (3, "New", 1, 1.9, 2, "lost"),
    ]
    result = cohort_conversion(make_transitions(stays), freq="D")
    assert result["cohort"].tolist() == [
        pd.Timestamp("2024-01-01", tz="UTC"),
        pd.Timestamp("2024-01-02", tz="UTC"),
    ]
    assert result["leads"].tolist() == [1, 2]
    assert result["lost"].tolist() == [0, 1]


def test_stage_names_shared_by_two_sequences_get_the_sequence_in_the_column(make_transitions):
    stays = [
        (1, "Review", 1, 0, 1, "open"),
        (1, "Review", 3, 1, None, "open"),
        (2, "Call", 2, 0, None, "open"),
    ]
    result = cohort_conversion(make_transitions(stays))
    assert list(result.columns[5:]) == ["reached:Review#1", "reached:Call", "reached:Review#3"]
    assert result.iloc[0, 5:].tolist() == [1.0, 1.0, 0.5]


def test_a_bad_frequency_is_refused(make_transitions):
    with pytest.raises(ValueError, match="freq: cannot read 'monthly'"):
        cohort_conversion(make_transitions(PIPELINE), freq="monthly")


def test_cohorts_of_an_empty_table():
    result = cohort_conversion(transitions_from_records([]))
    assert list(result.columns) == ["cohort", "leads", "won", "lost", "open"]
    assert result.empty


# --------------------------------------------------------------------------------------------------------
# the metrics' validation shortcut
# --------------------------------------------------------------------------------------------------------


def blank_user(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[frame.index[0], "user"] = "  "
    return frame


def missing_stage(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[frame.index[1], "stage"] = pd.NA
    return frame


def unknown_outcome(frame: pd.DataFrame) -> pd.DataFrame:
    frame["outcome"] = frame["outcome"].replace("lost", "gone")
    return frame


def backwards_stay(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[frame.index[0], "left_at"] = frame.loc[frame.index[0], "entered_at"] - pd.Timedelta(hours=1)
    return frame


def mixed_outcome(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[frame.index[0], "outcome"] = "open"  # L1 is won on its other rows
    return frame


def missing_entry(frame: pd.DataFrame) -> pd.DataFrame:
    frame.loc[frame.index[2], "entered_at"] = pd.NaT
    return frame


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(blank_user, id="blank-text"),
        pytest.param(missing_stage, id="missing-stage"),
        pytest.param(unknown_outcome, id="bad-outcome"),
        pytest.param(backwards_stay, id="left-before-entered"),
        pytest.param(mixed_outcome, id="outcome-differs-within-a-lead"),
        pytest.param(missing_entry, id="missing-entered-at"),
        pytest.param(lambda f: f.astype({"lead_id": "float64"}), id="float-ids"),
        pytest.param(lambda f: f.astype({"team": object}), id="object-text"),
        pytest.param(lambda f: f[list(f.columns[::-1])], id="column-order"),
        pytest.param(lambda f: f.assign(left_at=f["left_at"].dt.tz_convert("Europe/Paris")), id="other-zone"),
        pytest.param(lambda f: f.set_axis(f.index * 3 + 1), id="other-index"),
    ],
)
def test_the_validation_shortcut_gives_what_validate_transitions_gives(make_transitions, change):
    changed = change(validate_transitions(make_transitions(PIPELINE)))
    try:
        expected = validate_transitions(changed)
    except ValueError as error:
        with pytest.raises(type(error), match=re.escape(str(error))):
            _validated(changed)
    else:
        pd.testing.assert_frame_equal(_validated(changed), expected)


def test_an_already_valid_table_is_used_as_it_is(make_transitions):
    table = validate_transitions(make_transitions(PIPELINE))
    table["expected_revenue"] = 1.0  # extra columns do not matter
    assert _validated(table) is table
    raw = make_transitions(PIPELINE)  # object text columns: normalised, a new frame
    assert _validated(raw) is not raw


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stage_coding_follows_sequence_then_name(make_transitions, seed):
    rng = np.random.default_rng(seed)
    names = ["New", "new", "Négociation", "Ärger", "Zebra", "Qualified", "Review", "Review"]
    sequences = [1, 1, 5, 3, 2, 2, 2, 7]  # a name on two sequences, names sharing a sequence, case, accents
    picks = rng.integers(0, len(names), 300)
    stays = [(i // 3, names[p], sequences[p], i % 3, None, "open") for i, p in enumerate(picks)]
    table = validate_transitions(make_transitions(stays))
    # the plain way: a two-key groupby sorted by sequence, then name
    grouped = table.groupby(["stage_sequence", "stage"], sort=True, observed=True)
    keys = grouped.size().index
    expected_stages = pd.DataFrame(
        {
            "stage": pd.array(keys.get_level_values("stage"), dtype="string"),
            "stage_sequence": np.asarray(keys.get_level_values("stage_sequence"), dtype="int64"),
        }
    )
    expected_codes = grouped.ngroup().to_numpy(dtype="int64")
    stages, codes = _pipeline(table)
    pd.testing.assert_frame_equal(stages, expected_stages)
    np.testing.assert_array_equal(codes, expected_codes)
