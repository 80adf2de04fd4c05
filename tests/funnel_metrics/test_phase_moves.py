"""funnel_metrics.phase_moves: the phase a lead's change puts it in; the phases rebuilt for old leads."""

import pandas as pd
import pytest

from funnel_metrics.phase_moves import LeadState, as_phases, phase_after, rebuilt_phase_stays

PHASES = as_phases(
    [
        ("inquiry", 10, "progress"),
        ("mql", 20, "progress"),
        ("sal", 30, "progress"),
        ("sql", 40, "progress"),
        ("opportunity", 50, "progress"),
        ("won", 60, "won"),
        ("lost", 70, "lost"),
        ("recycled", 80, "recycled"),
        ("disqualified", 90, "disqualified"),
    ]
)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        # new leads enter the waterfall
        (LeadState(None, "lead", "pending", True), ("inquiry", "create")),
        (LeadState(None, "opportunity", "pending", True), ("opportunity", "create")),
        # conversion: from an earlier progress phase or recycled, never back from a later one
        (LeadState("mql", "opportunity", "pending", True), ("opportunity", "conversion")),
        (LeadState("recycled", "opportunity", "pending", True), ("opportunity", "conversion")),
        (LeadState("opportunity", "opportunity", "pending", True), (None, None)),
        (LeadState("disqualified", "opportunity", "pending", True), (None, None)),
        (LeadState("mql", "lead", "pending", True), (None, None)),
        # won and lost, once
        (LeadState("sql", "opportunity", "won", True), ("won", "won")),
        (LeadState("won", "opportunity", "won", True), (None, None)),
        (LeadState("mql", "lead", "lost", False), ("lost", "lost")),
        (LeadState("lost", "lead", "lost", False), (None, None)),
        # archived without being lost: stays
        (LeadState("mql", "lead", "pending", False), (None, None)),
        # restored: back to the last progress phase, else where its type enters
        (LeadState("lost", "opportunity", "pending", True, "sal"), ("sal", "restore")),
        (LeadState("won", "opportunity", "pending", True, None), ("opportunity", "restore")),
        (LeadState("lost", "lead", "pending", True, None), ("inquiry", "restore")),
        # put in a stage mapped to a later progress phase: enters it; never backwards, never sideways
        (LeadState("inquiry", "lead", "pending", True, None, "mql"), ("mql", "stage")),
        (LeadState("sal", "lead", "pending", True, None, "sql"), ("sql", "stage")),
        (LeadState("sql", "lead", "pending", True, None, "mql"), (None, None)),
        (LeadState("mql", "lead", "pending", True, None, "mql"), (None, None)),
        # a recycled lead re-enters; a disqualified one stays out
        (LeadState("recycled", "lead", "pending", True, None, "mql"), ("mql", "stage")),
        (LeadState("disqualified", "lead", "pending", True, None, "mql"), (None, None)),
        # won, lost and archived leads: the stage does not move them
        (LeadState("won", "opportunity", "won", True, "sql", "sql"), (None, None)),
        (LeadState("lost", "lead", "lost", False, "mql", "sql"), (None, None)),
        (LeadState("sql", "opportunity", "won", True, None, "sql"), ("won", "won")),
        (LeadState("mql", "lead", "pending", False, None, "sql"), (None, None)),
        # a stage mapped to a phase that is not a progress one is no way into it
        (LeadState("mql", "lead", "pending", True, None, "disqualified"), (None, None)),
        (LeadState("mql", "lead", "pending", True, None, "won"), (None, None)),
        # a new lead created in a mapped stage starts there, unless its entry is later
        (LeadState(None, "lead", "pending", True, None, "mql"), ("mql", "create")),
        (LeadState(None, "opportunity", "pending", True, None, "sql"), ("opportunity", "create")),
        # converted while put in a stage: the later phase wins, the conversion on a tie
        (LeadState("mql", "opportunity", "pending", True, None, "sql"), ("opportunity", "conversion")),
        (
            LeadState("mql", "opportunity", "pending", True, None, "opportunity"),
            ("opportunity", "conversion"),
        ),
        (LeadState("recycled", "opportunity", "pending", True, None, "sal"), ("opportunity", "conversion")),
    ],
)
def test_phase_after(state, expected):
    assert phase_after(state, PHASES) == expected


def test_phase_after_without_the_phases_it_would_enter():
    progress_only = {code: phase for code, phase in PHASES.items() if phase.kind == "progress"}
    assert phase_after(LeadState("sql", "opportunity", "won", True), progress_only) == (None, None)
    no_opportunity = {code: phase for code, phase in PHASES.items() if code != "opportunity"}
    assert phase_after(LeadState(None, "opportunity", "pending", True), no_opportunity) == (
        "inquiry",
        "create",
    )
    assert phase_after(LeadState("mql", "opportunity", "pending", True), no_opportunity) == (None, None)
    # a stage mapped to an archived phase (missing here) moves nothing
    no_sql = {code: phase for code, phase in PHASES.items() if code != "sql"}
    assert phase_after(LeadState("sal", "lead", "pending", True, None, "sql"), no_sql) == (None, None)


def test_a_stage_mapped_after_the_opportunity_phase_wins_over_the_conversion():
    phases = {**PHASES, "negotiation": as_phases([("negotiation", 55, "progress")])["negotiation"]}
    state = LeadState("mql", "opportunity", "pending", True, None, "negotiation")
    assert phase_after(state, phases) == ("negotiation", "stage")


def _t(text):
    return pd.Timestamp(text)


def test_rebuilt_phase_stays():
    leads = pd.DataFrame(
        [
            # a lead still open
            (1, _t("2026-01-01 09:00"), "lead", None, "pending", None),
            # a lead converted later, then won
            (2, _t("2026-01-02 09:00"), "opportunity", _t("2026-01-05 09:00"), "won", _t("2026-02-01 09:00")),
            # an opportunity from the start (no conversion date), lost
            (3, _t("2026-01-03 09:00"), "opportunity", None, "lost", _t("2026-01-20 09:00")),
            # a conversion dated before its creation (an import): it started as an opportunity
            (4, _t("2026-01-04 09:00"), "opportunity", _t("2026-01-01 09:00"), "pending", None),
            # closed before its conversion date: the closing is moved to the conversion
            (
                5,
                _t("2026-01-05 09:00"),
                "opportunity",
                _t("2026-01-10 09:00"),
                "lost",
                _t("2026-01-08 09:00"),
            ),
        ],
        columns=["lead_id", "created_at", "lead_type", "converted_at", "won_status", "closed_at"],
    )
    stays = rebuilt_phase_stays(leads, PHASES)
    rows = [
        (
            row.lead_id,
            row.phase,
            row.previous_phase,
            row.entered_at,
            None if pd.isna(row.left_at) else row.left_at,
            row.origin,
        )
        for row in stays.itertuples()
    ]
    assert rows == [
        (1, "inquiry", None, _t("2026-01-01 09:00"), None, "create"),
        (2, "inquiry", None, _t("2026-01-02 09:00"), _t("2026-01-05 09:00"), "create"),
        (2, "opportunity", "inquiry", _t("2026-01-05 09:00"), _t("2026-02-01 09:00"), "conversion"),
        (2, "won", "opportunity", _t("2026-02-01 09:00"), _t("2026-02-01 09:00"), "won"),
        (3, "opportunity", None, _t("2026-01-03 09:00"), _t("2026-01-20 09:00"), "create"),
        (3, "lost", "opportunity", _t("2026-01-20 09:00"), _t("2026-01-20 09:00"), "lost"),
        (4, "opportunity", None, _t("2026-01-04 09:00"), None, "create"),
        (5, "inquiry", None, _t("2026-01-05 09:00"), _t("2026-01-10 09:00"), "create"),
        (5, "opportunity", "inquiry", _t("2026-01-10 09:00"), _t("2026-01-10 09:00"), "conversion"),
        (5, "lost", "opportunity", _t("2026-01-10 09:00"), _t("2026-01-10 09:00"), "lost"),
    ]
    assert rebuilt_phase_stays(leads.iloc[:0], PHASES).empty
