"""rep_effectiveness: hand-counted leads per salesperson, and intervals that cover a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import rep_effectiveness, simulate_funnel, transitions_from_records, wilson_interval

NAN = float("nan")

STAYS = [
    # (lead, stage, sequence, entered, left, outcome), salesperson by (lead, stage) below
    (1, "New", 1, 0, 1, "won"),
    (1, "Qualified", 2, 1, 2, "won"),
    (1, "Proposal", 3, 2, 3, "won"),
    (1, "Won", 5, 3, None, "won"),  # alice: reached Proposal
    (2, "New", 1, 0, 1, "lost"),
    (2, "Qualified", 2, 1, 4, "lost"),  # alice: lost before Proposal
    (3, "New", 1, 2, None, "open"),  # alice: open, censored
    (4, "New", 1, 0, 2, "won"),
    (4, "Won", 5, 2, None, "won"),  # alice: won past Proposal, reached it
    (5, "New", 1, 0, 1, "lost"),
    (5, "Proposal", 3, 1, 5, "lost"),  # bob: reached Proposal, lost afterwards: still reached
    (6, "New", 1, 0, 3, "lost"),  # bob: lost before
    (7, "Qualified", 2, 0, 2, "lost"),  # bob: never in New, not started from New
    (8, "New", 1, 0, 1, "lost"),  # carol had it in New ...
    (8, "Qualified", 2, 1, 6, "lost"),  # ... dave lost it in Qualified
]
USERS = {1: "alice", 2: "alice", 3: "alice", 4: "alice", 5: "bob", 6: "bob", 7: "bob", 8: "carol"}


def stays_frame(make_transitions) -> pd.DataFrame:
    frame = make_transitions(STAYS)
    frame["user"] = frame["lead_id"].map(USERS).astype(object)
    frame.loc[(frame["lead_id"] == 8) & (frame["stage"] == "Qualified"), "user"] = "dave"
    return frame


def expected_frame(rows: list[tuple], confidence: float = 0.95) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user", "started", "reached", "lost_before", "open", "enough_data"])
    decided = frame["reached"] + frame["lost_before"]
    low, high = wilson_interval(frame["reached"], decided, confidence)
    enough = frame["enough_data"].to_numpy()
    frame["rate"] = np.where(enough, frame["reached"] / decided, NAN)
    frame["ci_low"] = np.where(enough, low, NAN)
    frame["ci_high"] = np.where(enough, high, NAN)
    columns = [
        "user",
        "started",
        "reached",
        "lost_before",
        "open",
        "rate",
        "ci_low",
        "ci_high",
        "enough_data",
    ]
    return frame.loc[:, columns].astype({"user": "string", "enough_data": bool})


@pytest.mark.parametrize(
    ("kwargs", "rows"),
    [
        pytest.param(
            {"target_stage": "Proposal", "min_sample": 1},
            [
                ("alice", 4, 2, 1, 1, True),  # 2 / 3
                ("bob", 2, 1, 1, 0, True),  # 1 / 2
                ("carol", 1, 0, 1, 0, True),  # 0 / 1
            ],
            id="from-the-first-stage",
        ),
        pytest.param(
            # bob (2 decided) and carol (1) are below the sample: no rate, listed after, by leads started
            {"target_stage": "Proposal", "min_sample": 3},
            [("alice", 4, 2, 1, 1, True), ("bob", 2, 1, 1, 0, False), ("carol", 1, 0, 1, 0, False)],
            id="min-sample",
        ),
        pytest.param(
            # from Qualified: L1 L2 (alice), L7 (bob), L8 (dave: his stay in Qualified); L4, L5 skipped it
            {"target_stage": "Proposal", "start_stage": "Qualified", "min_sample": 1},
            [("alice", 2, 1, 1, 0, True), ("bob", 1, 0, 1, 0, True), ("dave", 1, 0, 1, 0, True)],
            id="from-a-later-stage",
        ),
        pytest.param(
            {"target_stage": "Won", "min_sample": 1, "confidence": 0.8},
            [("alice", 4, 2, 1, 1, True), ("bob", 2, 0, 2, 0, True), ("carol", 1, 0, 1, 0, True)],
            id="to-won-at-80",
        ),
    ],
)
def test_counts_rates_and_intervals(make_transitions, kwargs, rows):
    result = rep_effectiveness(stays_frame(make_transitions), **kwargs)
    pd.testing.assert_frame_equal(result, expected_frame(rows, kwargs.get("confidence", 0.95)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"target_stage": "Demo"}, "target_stage: no stage 'Demo'", id="unknown-target"),
        pytest.param({"target_stage": "New", "start_stage": "Qualified"}, "must come after", id="backwards"),
        pytest.param(
            {"target_stage": "Won", "start_stage": "Nope"}, "start_stage: no stage 'Nope'", id="start"
        ),
        pytest.param({"target_stage": "Won", "confidence": 95}, "between 0 and 1", id="confidence"),
    ],
)
def test_bad_arguments_are_refused(make_transitions, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rep_effectiveness(stays_frame(make_transitions), **kwargs)


@pytest.mark.parametrize(
    ("start_stage", "rows"),
    [
        (None, [("alice", 4, 2, 1, 1, True), ("carol", 1, 0, 1, 0, True)]),
        ("Qualified", [("alice", 2, 1, 1, 0, True)]),  # dave had L8 in Qualified in Asia
    ],
)
def test_a_selection_counts_the_leads_it_had_in_the_start_stage(make_transitions, start_stage, rows):
    frame = stays_frame(make_transitions)
    asia = frame["user"].isin(["bob", "dave"])  # bob's leads, and L8 once carol handed it to dave
    frame["team"] = np.where(asia, "Asia", "Europe")
    result = rep_effectiveness(
        frame, "Proposal", start_stage=start_stage, min_sample=1, selected=frame["team"] == "Europe"
    )
    pd.testing.assert_frame_equal(result, expected_frame(rows))


def test_empty_table_gives_an_empty_frame():
    result = rep_effectiveness(transitions_from_records([]), "Won")
    assert result.empty and list(result.columns)[0] == "user"


def two_reps(n_leads: int) -> pd.DataFrame:
    """ann converts 60 % of her New leads, ben 40 %; snapshot while about 40 % of the leads are open."""
    common = {"start": "2024-01-01", "end": "2024-02-10", "median_days": (3, 7, 10, 14)}
    ann, _ = simulate_funnel(n_leads, advance=(0.6, 0.5, 0.6, 0.7), users=("ann",), seed=21, **common)
    ben, _ = simulate_funnel(n_leads, advance=(0.4, 0.5, 0.6, 0.7), users=("ben",), seed=22, **common)
    ben["lead_id"] += n_leads
    return pd.concat([ann, ben], ignore_index=True)


def test_intervals_cover_each_reps_true_conversion_and_tell_them_apart():
    frame = two_reps(6000)
    open_share = frame.groupby("lead_id")["outcome"].first().eq("open").mean()
    assert 0.3 < open_share < 0.5
    result = rep_effectiveness(frame, "Qualified").set_index("user")
    assert result.index.tolist() == ["ann", "ben"]
    for user, truth in (("ann", 0.6), ("ben", 0.4)):
        assert result.loc[user, "ci_low"] <= truth <= result.loc[user, "ci_high"], user
        assert result.loc[user, "rate"] == pytest.approx(truth, abs=0.02)
    assert result.loc["ben", "ci_high"] < result.loc["ann", "ci_low"]


def test_a_target_several_stages_ahead_is_biased_low_while_leads_are_open():
    """The documented limit: for 'won' from New the decided leads are mostly the quick losses."""
    frame = two_reps(6000)
    ann = rep_effectiveness(frame, "Won").set_index("user").loc["ann"]
    truth = 0.6 * 0.5 * 0.6 * 0.7
    assert ann["rate"] < 0.6 * truth
    assert ann["ci_high"] < truth
