"""stage_conversion on hand-computed scenarios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import stage_conversion, transitions_from_records

NAN = float("nan")

# New(1) -> Qualified(2) -> Proposition(3) -> Negotiation(4) -> Won(5); days since 2024-01-01.
PIPELINE = [
    # L1 won, straight through
    (1, "New", 1, 0, 1, "won"),
    (1, "Qualified", 2, 1, 3, "won"),
    (1, "Proposition", 3, 3, 6, "won"),
    (1, "Negotiation", 4, 6, 8, "won"),
    (1, "Won", 5, 8, None, "won"),
    # L2 lost: back from Qualified to New, re-enters both, lost in Proposition
    (2, "New", 1, 0, 2, "lost"),
    (2, "Qualified", 2, 2, 4, "lost"),
    (2, "New", 1, 4, 5, "lost"),
    (2, "Qualified", 2, 5, 7, "lost"),
    (2, "Proposition", 3, 7, 9, "lost"),
    # L3 won, skips Qualified and Negotiation
    (3, "New", 1, 1, 2, "won"),
    (3, "Proposition", 3, 2, 5, "won"),
    (3, "Won", 5, 5, None, "won"),
    # L4 lost in Qualified
    (4, "New", 1, 1, 3, "lost"),
    (4, "Qualified", 2, 3, 10, "lost"),
    # L5 open: reached Proposition, moved back to Qualified and sits there
    (5, "New", 1, 2, 3, "open"),
    (5, "Qualified", 2, 3, 4, "open"),
    (5, "Proposition", 3, 4, 6, "open"),
    (5, "Qualified", 2, 6, None, "open"),
    # L6 open, still in New
    (6, "New", 1, 5, None, "open"),
    # L7 lost: reached Negotiation, moved back to Proposition, lost there
    (7, "New", 1, 0, 1, "lost"),
    (7, "Qualified", 2, 1, 2, "lost"),
    (7, "Proposition", 3, 2, 3, "lost"),
    (7, "Negotiation", 4, 3, 5, "lost"),
    (7, "Proposition", 3, 5, 8, "lost"),
]

# stage, sequence, entered, advanced, lost, open, conversion_rate -- worked out by hand:
# - New: all 7 entered; all but L6 reached a later stage; L6 is open there.
# - Qualified: L1 L2 L4 L5 L7 (L3 skipped it; L2 and L5 entered twice, counted once). L4 never got further
#   and is lost there. L5 reached Proposition after its first entry, so it advanced, though it sits in
#   Qualified now.
# - Proposition: L1 L2 L3 L5 L7. L1, L3 (to Won) and L7 (to Negotiation) advanced; L2 is lost there; L7 is
#   lost in Proposition too but had advanced from it; L5's last stay is in Qualified: neither lost nor open.
# - Negotiation: L1 advanced (to Won); L7 fell back and ended elsewhere: neither advanced nor lost here.
# - Won: the last stage, nothing to advance to -> rate undefined.
PIPELINE_EXPECTED = [
    ("New", 1, 7, 6, 0, 1, 1.0),
    ("Qualified", 2, 5, 4, 1, 0, 0.8),
    ("Proposition", 3, 5, 3, 1, 0, 0.75),
    ("Negotiation", 4, 2, 1, 0, 0, 1.0),
    ("Won", 5, 2, 0, 0, 0, NAN),
]


def expected_frame(rows: list[tuple]) -> pd.DataFrame:
    columns = ["stage", "stage_sequence", "entered", "advanced", "lost", "open", "conversion_rate"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(
        {
            "stage": "string",
            "stage_sequence": "int64",
            "entered": "int64",
            "advanced": "int64",
            "lost": "int64",
            "open": "int64",
            "conversion_rate": "float64",
        }
    )


def test_pipeline_scenario_every_count_and_rate(make_transitions):
    result = stage_conversion(make_transitions(PIPELINE))
    pd.testing.assert_frame_equal(result, expected_frame(PIPELINE_EXPECTED))


def test_result_does_not_depend_on_row_order_or_index(make_transitions):
    shuffled = make_transitions(PIPELINE).sample(frac=1.0, random_state=np.random.default_rng(3))
    shuffled.index = shuffled.index * 10 + 5
    pd.testing.assert_frame_equal(stage_conversion(shuffled), expected_frame(PIPELINE_EXPECTED))


def test_counts_are_leads_not_stays(make_transitions):
    frame = make_transitions(PIPELINE)
    stays_in_qualified = int((frame["stage"] == "Qualified").sum())
    assert stays_in_qualified == 7  # L2 and L5 entered twice ...
    assert stage_conversion(frame).loc[1, "entered"] == 5  # ... and count once


@pytest.mark.parametrize(
    ("stays", "expected"),
    [
        pytest.param(
            # Qualified listed first, both entered at the same instant: the later stage is the last stay, and
            # a stay beginning at the same instant counts as "at or after" the first entry.
            [(1, "Qualified", 2, 0, 2, "lost"), (1, "New", 1, 0, 0, "lost")],
            [("New", 1, 1, 1, 0, 0, 1.0), ("Qualified", 2, 1, 0, 1, 0, 0.0)],
            id="same-instant-entries",
        ),
        pytest.param(
            # A later stage visited BEFORE the first entry into Qualified is not an advance from Qualified.
            [(1, "Proposition", 3, 0, 1, "lost"), (1, "Qualified", 2, 1, 3, "lost")],
            [("Qualified", 2, 1, 0, 1, 0, 0.0), ("Proposition", 3, 1, 0, 0, 0, NAN)],
            id="later-stage-before-entry",
        ),
        pytest.param(
            # Same name, different sequence: two stages, in sequence order.
            [(1, "New", 1, 0, 1, "lost"), (1, "Review", 4, 2, 4, "lost"), (1, "Review", 2, 1, 2, "lost")],
            [("New", 1, 1, 1, 0, 0, 1.0), ("Review", 2, 1, 1, 0, 0, 1.0), ("Review", 4, 1, 0, 1, 0, 0.0)],
            id="same-name-two-sequences",
        ),
        pytest.param(
            # Same sequence, different names: ordered by name, neither counts as later than the other.
            [(1, "Beta", 1, 0, 1, "open"), (1, "Alpha", 1, 1, None, "open"), (2, "Beta", 1, 0, None, "open")],
            [("Alpha", 1, 1, 0, 0, 1, NAN), ("Beta", 1, 2, 0, 0, 1, NAN)],
            id="same-sequence-two-names",
        ),
        pytest.param(
            # Only open leads: no failures, so no rate; advancing open leads make the rate 1.
            [
                (1, "New", 1, 0, 1, "open"),
                (1, "Qualified", 2, 1, None, "open"),
                (2, "New", 1, 0, None, "open"),
            ],
            [("New", 1, 2, 1, 0, 1, 1.0), ("Qualified", 2, 1, 0, 0, 1, NAN)],
            id="open-not-failures",
        ),
        pytest.param(
            # Won straight from New, the won stage being a later stage.
            [(1, "New", 1, 0, 1, "won"), (1, "Won", 9, 1, None, "won"), (2, "New", 1, 0, 3, "lost")],
            [("New", 1, 2, 1, 1, 0, 0.5), ("Won", 9, 1, 0, 0, 0, NAN)],
            id="won-from-first-stage",
        ),
    ],
)
def test_edge_cases(make_transitions, stays, expected):
    pd.testing.assert_frame_equal(stage_conversion(make_transitions(stays)), expected_frame(expected))


def test_empty_transitions_give_an_empty_typed_frame():
    result = stage_conversion(transitions_from_records([]))
    pd.testing.assert_frame_equal(result, expected_frame([]))
    assert result.index.equals(pd.RangeIndex(0))


def reference_conversion(stays: list[tuple]) -> list[tuple]:
    """The definitions of stage_conversion, applied lead by lead with plain Python (slow, obviously right)."""
    by_lead: dict[int, list[tuple]] = {}
    for stay in stays:
        by_lead.setdefault(stay[0], []).append(stay)
    rows = []
    for stage, sequence in sorted({(s[1], s[2]) for s in stays}, key=lambda key: (key[1], key[0])):
        entered = advanced = lost = still_open = 0
        for lead_stays in by_lead.values():
            here = [s for s in lead_stays if (s[1], s[2]) == (stage, sequence)]
            if not here:
                continue
            entered += 1
            first_entry = min(s[3] for s in here)
            moved_on = any(s[2] > sequence and s[3] >= first_entry for s in lead_stays)
            advanced += moved_on
            last = max(lead_stays, key=lambda s: (s[3], s[2], s[1]))
            ends_here = (last[1], last[2]) == (stage, sequence) and not moved_on
            lost += ends_here and last[5] == "lost"
            still_open += ends_here and last[5] == "open"
        rate = advanced / (advanced + lost) if advanced + lost else NAN
        rows.append((stage, sequence, entered, advanced, lost, still_open, rate))
    return rows


def random_stays(seed: int, n_leads: int) -> list[tuple]:
    """Random pipelines with re-entries, backward moves, skips, same-day moves and ambiguous stage names."""
    rng = np.random.default_rng(seed)
    stages = [("New", 1), ("Qualified", 2), ("Review", 2), ("Proposition", 3), ("Review", 4), ("Won", 9)]
    stays = []
    for lead in range(n_leads):
        outcome = str(rng.choice(["won", "lost", "open"]))
        for _ in range(int(rng.integers(1, 7))):
            stage, sequence = stages[int(rng.integers(len(stages)))]
            entered = int(rng.integers(0, 12))  # few distinct days: many same-instant entries
            stays.append((lead, stage, sequence, entered, entered + int(rng.integers(0, 3)), outcome))
    return stays


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_pipelines_match_the_definitions_applied_lead_by_lead(make_transitions, seed):
    stays = random_stays(seed, 300)
    pd.testing.assert_frame_equal(
        stage_conversion(make_transitions(stays)), expected_frame(reference_conversion(stays))
    )
