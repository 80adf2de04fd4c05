"""decision phase: month-end observations by hand, and on simulated pipelines whose phase carries a known
amount of information (a lot, none) the win rates and the held-out forecast gain recover it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel_metrics import (
    GAIN_VERDICTS,
    NO_PHASE,
    PhaseChangesError,
    phase_forecast_gain,
    phase_observations,
    phase_win_rates,
    simulate_funnel,
    simulate_phase_changes,
    validate_phase_changes,
)


def day(offset: float) -> pd.Timestamp:
    """2024-01-01T00:00Z plus ``offset`` days (as the conftest's builder counts them)."""
    return pd.Timestamp("2024-01-01T00:00:00Z") + pd.Timedelta(days=offset)


# New(1) -> Qualified(2) -> Won(3); T0 = 2024-01-01; month ends at days 31 (Feb 1), 60 (Mar 1), 91 (Apr 1)
STAYS = [
    (1, "New", 1, 5, 40, "won"),  # New at Feb 1
    (1, "Qualified", 2, 40, 70, "won"),  # Qualified at Mar 1
    (1, "Won", 3, 70, None, "won"),  # won: not observed at Apr 1
    (2, "New", 1, 10, 65, "lost"),  # New at Feb 1 and Mar 1, lost before Apr 1
    (3, "New", 1, 20, None, "open"),  # open at every month end
    (4, "New", 1, 31, 31.5, "lost"),  # entered exactly at Feb 1: observed then
]
CHANGES = pd.DataFrame(
    {
        "lead_id": [1, 2, 2, 3, 99],
        "changed_at": [day(50), day(20), day(60), day(1), day(1)],
        "phase": ["Deciding", "Exploring", None, "Exploring", "Deciding"],
        "phase_sequence": [50, 20, 0, 20, 50],
    }
)


def _observations(make_transitions, as_of=None):
    return phase_observations(make_transitions(STAYS), CHANGES, as_of=as_of or day(95))


def test_observations_are_the_open_leads_at_each_month_end_with_their_last_phase(make_transitions):
    obs = _observations(make_transitions)
    got = [(row.month, row.lead_id, row.stage, row.phase, row.outcome) for row in obs.itertuples(index=False)]
    assert got == [
        ("2024-01", 1, "New", NO_PHASE, "won"),  # its change comes later (day 50)
        ("2024-01", 2, "New", "Exploring", "lost"),
        ("2024-01", 3, "New", "Exploring", "open"),
        ("2024-01", 4, "New", NO_PHASE, "lost"),
        ("2024-02", 1, "Qualified", "Deciding", "won"),
        ("2024-02", 2, "New", NO_PHASE, "lost"),  # cleared at exactly Mar 1: the change counts
        ("2024-02", 3, "New", "Exploring", "open"),
        ("2024-03", 3, "New", "Exploring", "open"),  # lead 1 won, lead 2 lost: not open any more
    ]
    assert str(obs["observed_at"].dtype) == "datetime64[ns, UTC]"
    assert obs["observed_at"].iloc[0] == pd.Timestamp("2024-02-01T00:00:00Z")


def test_month_ends_after_the_snapshot_are_not_observed(make_transitions):
    obs = _observations(make_transitions, as_of=day(59))
    assert sorted(set(obs["month"])) == ["2024-01"]


def test_win_rates_count_a_lead_once_per_cell_and_leave_open_leads_out(make_transitions):
    rates = phase_win_rates(_observations(make_transitions))
    cells = {(row.stage, row.phase): (row.n, row.won, row.open) for row in rates.itertuples(index=False)}
    assert cells == {
        ("New", NO_PHASE): (3, 1, 0),  # leads 1, 2 (after the clearing), 4
        ("New", "Exploring"): (1, 0, 1),  # lead 2 (twice seen: once counted); lead 3 open
        ("Qualified", "Deciding"): (1, 1, 0),
    }
    new_none = rates[(rates["stage"] == "New") & (rates["phase"] == NO_PHASE)].iloc[0]
    assert new_none["rate"] == pytest.approx(1 / 3)
    assert new_none["ci_low"] < 1 / 3 < new_none["ci_high"]
    assert (new_none["stage_n"], new_none["stage_rate"]) == (3, pytest.approx(1 / 3))
    # phases in their order, no phase first
    assert rates["phase"].tolist() == [NO_PHASE, "Exploring", "Deciding"]


def test_bad_phase_changes_are_refused_with_what_to_fix():
    with pytest.raises(PhaseChangesError, match="missing column"):
        validate_phase_changes(pd.DataFrame({"lead_id": [1], "phase": ["x"]}))
    with pytest.raises(PhaseChangesError, match="ISO 8601"):
        validate_phase_changes(pd.DataFrame({"lead_id": [1], "changed_at": ["03/01/2024"], "phase": ["x"]}))
    with pytest.raises(PhaseChangesError, match="integer"):
        validate_phase_changes(pd.DataFrame({"lead_id": ["a"], "changed_at": ["2024-01-01"], "phase": ["x"]}))


# --- simulated truth ----------------------------------------------------------------------------------

COMPARING = "Comparing vendors"


def _pipeline(likelihood, seed, delay_days=0.0):
    table, _truth = simulate_funnel(20000, start="2024-01-01", end="2025-01-01", seed=seed)
    changes = simulate_phase_changes(table, likelihood, delay_days=delay_days, seed=seed)
    return phase_observations(table, changes)


@pytest.mark.parametrize("seed", [1, 2])
def test_win_rate_of_an_informative_phase_holds_the_bayes_truth_at_every_stage(seed):
    # P(comparing | won) = 0.6, P(comparing | lost) = 0.2, given at entry: at a stage with w won and l lost
    # decided leads, a lead comparing vendors wins with probability 0.6 w / (0.6 w + 0.2 l)
    rates = phase_win_rates(_pipeline({COMPARING: (0.6, 0.2)}, seed))
    comparing = rates[rates["phase"] == COMPARING]
    won = comparing["stage_rate"] * comparing["stage_n"]
    lost = comparing["stage_n"] - won
    truth = 0.6 * won / (0.6 * won + 0.2 * lost)
    assert len(comparing) == 4
    assert ((comparing["ci_low"] <= truth) & (truth <= comparing["ci_high"])).all()
    # and it is well above the leads without the phase, whose truth is 0.4 w / (0.4 w + 0.8 l)
    none = rates[rates["phase"] == NO_PHASE].set_index("stage")["ci_high"]
    assert (comparing.set_index("stage")["ci_low"] > none).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_informative_phase_improves_the_held_out_brier_score(seed):
    gain = phase_forecast_gain(_pipeline({COMPARING: (0.6, 0.2)}, seed, delay_days=20))
    assert gain.attrs["verdict"] == "better"
    assert gain.attrs["brier_phase"] < gain.attrs["brier_stage"]
    assert gain.attrs["ci_low"] > 0
    assert gain.attrs["gain"] == pytest.approx(gain.attrs["brier_stage"] - gain.attrs["brier_phase"])
    # every month is held out after earlier ones, and the pooled score is their weighted mean
    assert len(gain) == 6 and (gain["n"] > 0).all()
    pooled = float((gain["brier_stage"] * gain["n"]).sum() / gain["n"].sum())
    assert pooled == pytest.approx(gain.attrs["brier_stage"])


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_phase_without_information_is_not_claimed_to_help(seed):
    gain = phase_forecast_gain(_pipeline({COMPARING: (0.4, 0.4), "Deciding": (0.2, 0.2)}, seed))
    assert gain.attrs["verdict"] != "better"
    assert gain.attrs["ci_low"] <= 0
    assert gain.attrs["verdict"] in GAIN_VERDICTS


def test_a_lead_never_forecasts_itself():
    # one stage, one phase per lead, leads seen at several month ends: with every lead alone in its own
    # phase, a fit that kept the lead's own earlier months would forecast its outcome perfectly
    rows = []
    for lead in range(1, 41):
        won = lead % 2 == 0
        rows.append((lead, "New", 1, 1 + lead / 100, 100, "won" if won else "lost"))
    table = pd.DataFrame(
        {
            "lead_id": [r[0] for r in rows],
            "stage": "New",
            "stage_sequence": 1,
            "entered_at": [day(r[3]) for r in rows],
            "left_at": [day(r[4]) for r in rows],
            "user": "alice",
            "team": "Europe",
            "product": None,
            "source": "web",
            "outcome": [r[5] for r in rows],
            "lost_reason": None,
        }
    )
    changes = pd.DataFrame(
        {"lead_id": range(1, 41), "changed_at": [day(1)] * 40, "phase": [f"p{i}" for i in range(1, 41)]}
    )
    gain = phase_forecast_gain(phase_observations(table, changes), prior_weight=0)
    # each lead's cell holds nothing but itself: the phase forecast falls back to the stage's rate
    assert gain.attrs["brier_phase"] == pytest.approx(gain.attrs["brier_stage"])
    assert gain.attrs["n"] > 0


def test_nothing_to_score_says_so():
    gain = phase_forecast_gain(
        phase_observations(*_tiny_open_pipeline()),
    )
    assert gain.empty and gain.attrs["verdict"] == "no_data" and np.isnan(gain.attrs["gain"])


def _tiny_open_pipeline():
    table = pd.DataFrame(
        {
            "lead_id": [1],
            "stage": ["New"],
            "stage_sequence": [1],
            "entered_at": [day(1)],
            "left_at": [pd.NaT],
            "user": "alice",
            "team": "Europe",
            "product": None,
            "source": "web",
            "outcome": ["open"],
            "lost_reason": None,
        }
    )
    table["left_at"] = pd.to_datetime(table["left_at"], utc=True)
    return table, pd.DataFrame({"lead_id": [], "changed_at": [], "phase": []})


def test_the_odoo_demo_pipeline_gives_the_report_something_to_show():
    # the plan of crm_pipeline_discipline's pipeline_demo with its defaults (2,000 leads, seed 42, 6 months):
    # its customer events leave decision phase changes on leads decided since, seen at several month ends
    import datetime as dt

    from funnel_metrics.demo_plan import DEMO_STORY, OUTCOME_NAMES, plan_demo

    now = dt.datetime(2026, 12, 6)
    plan = plan_demo(2000, 42, 6, now)
    funnel, events = plan.funnel, plan.events

    def instants(seconds):
        return pd.to_datetime(seconds, unit="s", utc=True).astype("datetime64[ns, UTC]")

    table = pd.DataFrame(
        {
            "lead_id": funnel.lead,
            "stage": [f"stage {s}" for s in funnel.stage],
            "stage_sequence": funnel.stage,
            "entered_at": instants(funnel.entered),
            "left_at": instants(np.where(funnel.running, np.nan, funnel.left)),
            "user": None,
            "team": None,
            "product": None,
            "source": None,
            "outcome": np.array(OUTCOME_NAMES)[funnel.outcome][funnel.lead],
            "lost_reason": None,
        }
    )
    changes = pd.DataFrame(
        {
            "lead_id": events.lead,
            "changed_at": instants(events.date),
            "phase": [DEMO_STORY.customer_events[step].phase for step in events.step],
        }
    )
    observations = phase_observations(table, changes, as_of=pd.Timestamp(now, tz="UTC"))
    decided = observations[(observations["outcome"] != "open") & (observations["phase"] != NO_PHASE)]
    assert decided["month"].nunique() >= 4
    rates = phase_win_rates(observations)
    phased = rates[(rates["phase"] != NO_PHASE) & (rates["n"] >= 20)]
    assert phased["stage"].nunique() >= 2
    assert phase_forecast_gain(observations).attrs["n"] > 100
