"""plan_waterfall: the demo's lifecycle phases and handoffs are reproducible, leave the rest of the demo plan
as it was, and every stay and handoff is consistent with the lead's funnel and with the routes."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields, replace

import numpy as np
import pytest

from funnel_metrics.demo_plan import DEMO_STORY, plan_demo
from funnel_metrics.demo_waterfall import (
    ACCEPTED,
    AWAITING,
    DISQUALIFIED,
    INQUIRY,
    LOST,
    MARKETER,
    MQL,
    OPPORTUNITY,
    PHASES,
    RECYCLED,
    REJECTED,
    ROUTES,
    SAL,
    SQL,
    TEAM_KEYS,
    WON,
    WaterfallStory,
)

NOW = dt.datetime(2025, 6, 2, 9, 0)
NOW_S = int(dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.timezone.utc).timestamp())


@pytest.fixture(scope="module")
def plan():
    return plan_demo(3000, seed=7, months=12, now=NOW)


def _arrays(value):
    return {column.name: getattr(value, column.name) for column in fields(value)}


def test_same_seed_same_waterfall_and_the_rest_of_the_plan_unchanged():
    one, again = (plan_demo(300, seed=3, months=3, now=NOW) for _ in range(2))
    for part in ("marketing", "stays", "handoffs"):
        for name, values in _arrays(getattr(one.waterfall, part)).items():
            np.testing.assert_array_equal(_arrays(getattr(again.waterfall, part))[name], values)
    # another waterfall story draws from its own stream: the funnel and everything else stay as they were
    story = replace(DEMO_STORY, waterfall=WaterfallStory(reject_share=0.5, marketing_share=0.3))
    other = plan_demo(300, seed=3, months=3, now=NOW, story=story)
    for part in ("funnel", "stays", "followup", "answers", "events", "details", "done_activities"):
        for name, values in _arrays(getattr(one, part)).items():
            np.testing.assert_array_equal(_arrays(getattr(other, part))[name], values, err_msg=name)
    assert len(other.waterfall.marketing.created) > len(one.waterfall.marketing.created)
    assert (other.waterfall.handoffs.state == REJECTED).sum() > (
        one.waterfall.handoffs.state == REJECTED
    ).sum()


def test_every_lead_enters_as_an_inquiry_and_its_stays_follow_each_other(plan):
    stays, n = plan.waterfall.stays, plan.funnel.n
    m = len(plan.waterfall.marketing.created)
    np.testing.assert_array_equal(np.unique(stays.lead), np.arange(n + m))
    assert (np.diff(stays.lead) >= 0).all()
    first = np.r_[True, stays.lead[1:] != stays.lead[:-1]]
    last = np.r_[stays.lead[1:] != stays.lead[:-1], True]
    assert (stays.phase[first] == INQUIRY).all() and set(stays.origin[first]) == {"create"}
    created = np.r_[plan.funnel.created, plan.waterfall.marketing.created]
    np.testing.assert_array_equal(stays.entered[first], created)
    # each stay ends when the next begins; the last is open unless the phase is terminal (ends as it starts)
    np.testing.assert_array_equal(stays.left[~last], stays.entered[1:][~last[:-1]])
    terminal = np.isin(stays.phase, (WON, LOST, DISQUALIFIED))
    np.testing.assert_array_equal(stays.left[last & terminal], stays.entered[last & terminal])
    assert (stays.left[last & ~terminal] == -1).all()
    assert (stays.left[~last] >= stays.entered[~last]).all()
    assert stays.entered.max() <= NOW_S
    assert set(stays.origin) <= {
        "create",
        "stage",
        "correction",
        "accept",
        "reject",
        "conversion",
        "won",
        "lost",
    }


def test_teams_qualify_at_stages_and_a_manager_corrects_the_rest(plan):
    """The teams' own steps (mql, sql) are entered at stages, by the team's people; a manager's corrections
    only send recycled leads back to inquiry and disqualify."""
    stays = plan.waterfall.stays
    np.testing.assert_array_equal(np.isin(stays.phase, (MQL, SQL)), stays.origin == "stage")
    corrected = stays.origin == "correction"
    assert set(stays.phase[corrected]) == {INQUIRY, DISQUALIFIED}
    previous = np.r_[-1, stays.phase[:-1]]
    assert set(previous[corrected & (stays.phase == INQUIRY)]) == {RECYCLED}
    assert set(stays.team[stays.phase == MQL]) == {TEAM_KEYS.index("marketing")}
    assert set(stays.team[stays.phase == SQL]) == {TEAM_KEYS.index("inside")}
    # Marketing's leads open in mql are in Marketing's qualified stage since they entered mql
    n, qualified_at = plan.funnel.n, plan.waterfall.qualified_at
    last = np.r_[stays.lead[1:] != stays.lead[:-1], True]
    open_mql = last & (stays.lead >= n) & (stays.phase == MQL)
    awaiting = plan.waterfall.marketing.awaiting
    in_stage = np.flatnonzero(qualified_at >= 0)
    expected = sorted(set((stays.lead[open_mql] - n).tolist()) - set(np.flatnonzero(awaiting).tolist()))
    assert in_stage.tolist() == expected and len(expected) > 10
    np.testing.assert_array_equal(
        qualified_at[in_stage], stays.entered[open_mql][~awaiting[stays.lead[open_mql] - n]]
    )


def test_sales_leads_phases_follow_their_funnel(plan):
    funnel, stays = plan.funnel, plan.waterfall.stays
    sales = stays.lead < funnel.n
    last = np.r_[stays.lead[1:] != stays.lead[:-1], True] & sales
    outcome = funnel.outcome[stays.lead[last]]
    np.testing.assert_array_equal(stays.phase[last][outcome == 0], WON)
    np.testing.assert_array_equal(stays.phase[last][outcome == 1], LOST)
    assert not np.isin(stays.phase[last][outcome == 2], (WON, LOST, RECYCLED, DISQUALIFIED)).any()
    # won and lost when the funnel closed the lead
    won = last & (stays.phase == WON)
    np.testing.assert_array_equal(stays.entered[won], funnel.last_entered[stays.lead[won]])
    # a lead that left New (its first stage) became an opportunity then, in its own team, as its rep's
    left_new = ~funnel.running[funnel.first] & (funnel.last_stage != 0)
    opportunity = sales & (stays.phase == OPPORTUNITY)
    leads = stays.lead[opportunity]
    moved = left_new[leads]
    np.testing.assert_array_equal(stays.entered[opportunity][moved], funnel.left[funnel.first][leads[moved]])
    team_of = np.array([TEAM_KEYS.index(key) for key in funnel.team])
    np.testing.assert_array_equal(stays.team[opportunity], team_of[leads])
    np.testing.assert_array_equal(stays.user[opportunity], funnel.user[leads])
    # Field Sales' leads got there through Inside Sales' handoff, the others by conversion
    field = funnel.team[leads] == "field"
    assert set(stays.origin[opportunity][field]) == {"accept"}
    assert set(stays.origin[opportunity][~field]) == {"conversion"}
    # every sales lead was accepted by Inside Sales into sal, as an Inside Sales rep's
    sal = sales & (stays.phase == SAL)
    assert len(np.unique(stays.lead[sal])) == funnel.n
    inside = [index for index, rep in enumerate(DEMO_STORY.reps) if rep.team == "inside"]
    assert set(stays.user[sal]) <= set(inside) and set(stays.team[sal]) == {TEAM_KEYS.index("inside")}


def test_handoffs_start_the_stays_their_decisions_made(plan):
    stays, handoffs = plan.waterfall.stays, plan.waterfall.handoffs
    story = DEMO_STORY.waterfall
    decided = handoffs.state != AWAITING
    assert (handoffs.decided[decided] >= handoffs.sent[decided]).all()
    assert (handoffs.decided[~decided] == -1).all()
    started = stays.handoff >= 0
    assert len(np.unique(stays.handoff[started])) == started.sum(), "a handoff starts one stay at most"
    which = stays.handoff[started]
    np.testing.assert_array_equal(stays.entered[started], handoffs.decided[which])
    np.testing.assert_array_equal(stays.lead[started], handoffs.lead[which])
    accepted = handoffs.state[which] == ACCEPTED
    accept_phase = np.array([route[3] for route in ROUTES])
    np.testing.assert_array_equal(
        stays.phase[started][accepted], accept_phase[handoffs.route[which][accepted]]
    )
    np.testing.assert_array_equal(stays.phase[started][~accepted], RECYCLED)
    # every decided handoff started its stay; rejected ones have a reason, the others none
    assert set(np.flatnonzero(decided)) == set(which.tolist())
    rejected = handoffs.state == REJECTED
    assert (handoffs.reason[rejected] >= 0).all() and (handoffs.reason[~rejected] == -1).all()
    assert set(handoffs.reason[rejected]) == set(range(len(story.reasons))), "every reason is used"
    # sent while the lead was in the route's phase
    from_phase = np.array([route[2] for route in ROUTES])[handoffs.route]
    for index in np.flatnonzero(decided)[:500]:
        mine = (stays.lead == handoffs.lead[index]) & (stays.entered <= handoffs.sent[index])
        assert stays.phase[np.flatnonzero(mine)[-1]] == from_phase[index]
    # decided by Inside Sales' reps, or Field Sales' for route 1; nobody yet while awaiting
    reps = {
        key: {i for i, rep in enumerate(DEMO_STORY.reps) if rep.team == key} for key in ("inside", "field")
    }
    assert set(handoffs.receiver[decided & (handoffs.route == 0)]) <= reps["inside"]
    assert set(handoffs.receiver[decided & (handoffs.route == 1)]) <= reps["field"]
    assert (handoffs.receiver[~decided] == -1).all()
    share = rejected[handoffs.lead < plan.funnel.n].sum() / plan.funnel.n
    assert abs(share - story.reject_share) < 0.03


def test_marketing_leads_open_recycled_disqualified_or_awaiting(plan):
    n, stays, handoffs = plan.funnel.n, plan.waterfall.stays, plan.waterfall.handoffs
    marketing = plan.waterfall.marketing
    story = DEMO_STORY.waterfall
    assert len(marketing.created) == round(n * story.marketing_share)
    mine = stays.lead >= n
    assert set(stays.team[mine]) == {TEAM_KEYS.index("marketing")} and set(stays.user[mine]) == {MARKETER}
    last = np.r_[stays.lead[1:] != stays.lead[:-1], True] & mine
    assert set(stays.phase[last]) == {INQUIRY, MQL, RECYCLED, DISQUALIFIED}
    awaiting = np.flatnonzero(handoffs.state == AWAITING)
    assert len(awaiting) >= story.min_awaiting
    np.testing.assert_array_equal(np.sort(handoffs.lead[awaiting] - n), np.flatnonzero(marketing.awaiting))
    assert set(handoffs.route[awaiting]) == {0}
    ago = (NOW_S - handoffs.sent[awaiting]) / 3600
    assert (ago >= story.awaiting_hours[0]).all() and (ago <= story.awaiting_hours[1]).all()
    # awaiting in mql, qualified before it was sent
    for index in awaiting:
        lead_last = np.flatnonzero(last & (stays.lead == handoffs.lead[index]))[0]
        assert stays.phase[lead_last] == MQL and stays.entered[lead_last] <= handoffs.sent[index]


def _tables(plan):
    """The plan's phase stays and handoffs as funnel_metrics' tables (the lead's source as its group)."""
    import pandas as pd

    from funnel_metrics.phase_stays import DEFAULT_PHASES

    stays, handoffs = plan.waterfall.stays, plan.waterfall.handoffs
    sequence = {code: seq for code, _name, seq, _kind in DEFAULT_PHASES}
    kind = {code: kind for code, _name, _seq, kind in DEFAULT_PHASES}
    codes = np.array(PHASES)[stays.phase]
    source = np.r_[plan.funnel.source, plan.waterfall.marketing.source]
    at = lambda seconds: pd.to_datetime(seconds, unit="s", utc=True)  # noqa: E731
    stay_table = pd.DataFrame(
        {
            "lead_id": stays.lead,
            "phase": codes,
            "phase_sequence": [sequence[code] for code in codes],
            "phase_kind": [kind[code] for code in codes],
            "entered_at": at(stays.entered),
            "left_at": at(np.where(stays.left >= 0, stays.left, 0)).where(stays.left >= 0),
            "team": np.array(TEAM_KEYS)[stays.team],
            "user": stays.user.astype(str),
            "source": np.array(DEMO_STORY.sources)[source[stays.lead]],
            "medium": "",
            "campaign": "",
            "country": "",
            "origin": stays.origin,
        }
    )
    decided = handoffs.decided >= 0
    handoff_table = pd.DataFrame(
        {
            "handoff_id": np.arange(len(handoffs.lead)),
            "lead_id": handoffs.lead,
            "route": handoffs.route.astype(str),
            "from_team": [ROUTES[route][0] for route in handoffs.route],
            "to": [ROUTES[route][1] for route in handoffs.route],
            "phase": [PHASES[ROUTES[route][2]] for route in handoffs.route],
            "sent_at": at(handoffs.sent),
            "decided_at": at(np.where(decided, handoffs.decided, 0)).where(decided),
            "state": np.array(["awaiting", "accepted", "rejected"])[handoffs.state],
            "auto_accepted": False,
            "reason": np.where(
                handoffs.reason >= 0,
                np.array([code for code, _share in DEMO_STORY.waterfall.reasons])[handoffs.reason],
                "",
            ),
            "team": [ROUTES[route][1] for route in handoffs.route],
            "source": np.array(DEMO_STORY.sources)[source[handoffs.lead]],
            "medium": "",
            "campaign": "",
            "country": "",
        }
    )
    return stay_table, handoff_table


def test_the_waterfall_of_the_demo_shows_its_story(plan):
    """funnel_metrics.waterfall on the plan: Marketing's handoffs accepted at about 1 - reject_share, every
    sales lead accepted, rejected leads recycled and back (they still advanced from mql), the awaiting ones
    neither failures nor decisions."""
    from funnel_metrics import waterfall

    stays, handoffs = _tables(plan)
    rows = waterfall(stays, handoffs, as_of=NOW).set_index("phase")
    story = DEMO_STORY.waterfall
    n, m = plan.funnel.n, len(plan.waterfall.marketing.created)
    mql, state = rows.loc["mql"], plan.waterfall.handoffs.state
    route0 = plan.waterfall.handoffs.route == 0
    assert mql["handed_over"] == route0.sum()
    assert (mql["accepted"], mql["rejected"], mql["awaiting"]) == (
        (state[route0] == ACCEPTED).sum(),
        (state[route0] == REJECTED).sum(),
        (state[route0] == AWAITING).sum(),
    )
    assert mql["accepted"] == n, "every sales lead was accepted once"
    assert abs(mql["acceptance_rate"] - n / (n + mql["rejected"])) < 1e-9
    assert 1 - mql["acceptance_rate"] < story.reject_share + story.marketing_share * story.marketing_mix[3]
    assert rows.loc["inquiry", "entered"] == n + m and rows.loc["sal", "entered"] == n
    # a sales lead rejected once came back and moved on: only Marketing's own are recycled for good
    marketing_rejected = (state == REJECTED) & (plan.waterfall.handoffs.lead >= n)
    assert mql["recycled"] == marketing_rejected.sum() > 0
    assert rows.loc["sql", "handed_over"] == (plan.waterfall.handoffs.route == 1).sum()
    assert rows.loc["won", "entered"] == (plan.funnel.outcome == 0).sum()
    assert rows.loc["opportunity", "open"] > 0 and rows.loc["mql", "open"] > 0, "many leads still open"
