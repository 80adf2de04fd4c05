"""The demand waterfall of the demo pipeline: each lead's lifecycle phases and the handoffs between the
teams that passed it along (plain numpy, no Odoo needed), for the demo generator of
``crm_pipeline_discipline``.

The story (:class:`WaterfallStory`): a Marketing team turns inquiries into marketing qualified leads and
hands them over to Inside Sales (route 0, from ``mql``, accepted into ``sal``); Inside Sales qualifies them
(``sql``) and hands Field Sales its deals (route 1, from ``sql``, accepted into ``opportunity``); Inside and
Partner Sales convert their own. The teams' own steps (``mql``, ``sql``) are entered at pipeline stages
(origin ``stage``: Marketing's qualified stage, the Qualified stage), as their own people's; a manager's
correction sends a recycled lead back to ``inquiry`` and disqualifies leads. Some handoffs are rejected with a
reason: the lead goes back to Marketing as ``recycled`` and most are qualified again and handed over a second
time.

Two kinds of leads:

- the demo's sales leads (those of :class:`funnel_metrics.demo_plan.DemoFunnel`, indexes ``0 .. n - 1``):
  their phases before ``opportunity`` fall inside their first stage stay (created in New, worked there
  until the first stage change: their stage history is the funnel's, the qualifying stage moves of their
  ``mql`` and ``sql`` steps are not replayed in it), ``opportunity`` starts when they leave it, ``won`` /
  ``lost`` when the funnel closes them; leads lost or still open in New stop in ``sal`` or ``sql`` (or
  ``opportunity`` for the open opportunities);
- Marketing's own leads (indexes ``n .. n + m - 1``, :class:`MarketingLeads`), not handed over yet or not
  accepted: open in ``inquiry`` or ``mql``, ``disqualified``, ``recycled`` after a rejection, or handed over
  to Inside Sales in the last hours and awaiting its decision.

Dates are UTC seconds since the epoch; phases are indexes into :data:`PHASES`; teams keys of
:data:`TEAM_KEYS`; users indexes into the story's reps, :data:`MARKETER` for the marketer, -1 for nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from funnel_metrics.phase_stays import DEFAULT_PHASES

if TYPE_CHECKING:
    from funnel_metrics.demo_plan import DemoFunnel, DemoStory

PHASES: tuple[str, ...] = tuple(code for code, _name, _sequence, _kind in DEFAULT_PHASES)
"""The seeded lifecycle phases' codes, in their order (:data:`funnel_metrics.phase_stays.DEFAULT_PHASES`)."""
INQUIRY, MQL, SAL, SQL, OPPORTUNITY, WON, LOST, RECYCLED, DISQUALIFIED = range(len(PHASES))
TEAM_KEYS: tuple[str, ...] = ("marketing", "field", "inside", "partner")
"""The teams of the demo, Marketing first (the demo story's keys)."""
MARKETER = -2
"""The user index of the marketer."""
ROUTES: tuple[tuple[str, str, int, int], ...] = (
    ("marketing", "inside", MQL, SAL),
    ("inside", "field", SQL, OPPORTUNITY),
)
"""The handoff routes: from team, to team, the phase handed over from, the phase an acceptance enters."""
HANDOFF_STATES: tuple[str, ...] = ("awaiting", "accepted", "rejected")
"""The states of the demo's handoffs (indexes of :attr:`HandoffPlan.state`)."""
AWAITING, ACCEPTED, REJECTED = range(len(HANDOFF_STATES))


@dataclass(frozen=True)
class WaterfallStory:
    """The waterfall's parameters.

    - ``reject_share``: share of the sales leads whose first handoff to Inside Sales was rejected (they were
      recycled, qualified again and handed over a second time);
    - ``reasons``: rejection reason codes (``crm_lead_handoff``'s seed) and their shares;
    - ``marketing_share``: Marketing's own leads, as a share of the sales leads;
    - ``marketing_mix``: the shares of Marketing's leads open in ``inquiry``, open in ``mql``,
      ``disqualified``, ``recycled`` after a rejection, and awaiting Inside Sales' decision;
    - ``min_awaiting``: at least that many handoffs await a decision at ``now``;
    - ``awaiting_hours``: how long ago they were sent (first, last).

    Marketing's leads arrive over the same months as the sales leads (none in the last hours), so that the
    pipeline's recent weeks look like its earlier ones.
    """

    reject_share: float = 0.15
    reasons: tuple[tuple[str, float], ...] = (
        ("wrong_company_size", 0.22),
        ("wrong_persona", 0.18),
        ("wrong_region", 0.1),
        ("existing_customer", 0.08),
        ("competitor", 0.05),
        ("no_reachable_contact", 0.15),
        ("not_ready_yet", 0.22),
    )
    marketing_share: float = 0.12
    marketing_mix: tuple[float, float, float, float, float] = (0.3, 0.25, 0.15, 0.2, 0.1)
    min_awaiting: int = 4
    awaiting_hours: tuple[float, float] = (0.5, 5.0)


@dataclass(frozen=True)
class MarketingLeads:
    """Marketing's own leads, by creation: ``created``, ``campaign``, ``source``, ``product`` (indexes into
    the story's lists), ``awaiting`` (handed over to Inside Sales, awaiting its decision: in Inside
    Sales' queue, nobody's yet), ``partner_name``, ``contact_name``, ``email``, ``name``."""

    created: np.ndarray
    campaign: np.ndarray
    source: np.ndarray
    product: np.ndarray
    awaiting: np.ndarray
    partner_name: np.ndarray
    contact_name: np.ndarray
    email: np.ndarray
    name: np.ndarray


@dataclass(frozen=True)
class PhaseStayPlan:
    """One row per stay of a lead in a phase, by lead then time: ``lead``, ``phase``, ``entered``,
    ``left`` (-1 while current), ``team`` (index into :data:`TEAM_KEYS`), ``user``, ``origin`` (as
    ``crm.lead.phase.history`` records it), ``handoff`` (the handoff that started it, -1 for none)."""

    lead: np.ndarray
    phase: np.ndarray
    entered: np.ndarray
    left: np.ndarray
    team: np.ndarray
    user: np.ndarray
    origin: np.ndarray
    handoff: np.ndarray


@dataclass(frozen=True)
class HandoffPlan:
    """One row per handoff: ``lead``, ``route`` (index into :data:`ROUTES`), ``sent``, ``decided`` (-1
    while awaiting), ``state`` (index into :data:`HANDOFF_STATES`), ``reason`` (index into the story's
    reasons, -1 unless rejected), ``sender`` and ``receiver`` (users: who sent it, who decided on it and,
    when they accepted it, owns the lead since; -1 while awaiting)."""

    lead: np.ndarray
    route: np.ndarray
    sent: np.ndarray
    decided: np.ndarray
    state: np.ndarray
    reason: np.ndarray
    sender: np.ndarray
    receiver: np.ndarray


@dataclass(frozen=True)
class WaterfallPlan:
    """Everything :func:`plan_waterfall` decided; ``qualified_at``: per Marketing lead, when it entered
    Marketing's qualified stage, where it still is (open in ``mql``, not handed over), -1 for the others
    (still in the first stage)."""

    marketing: MarketingLeads
    stays: PhaseStayPlan
    handoffs: HandoffPlan
    qualified_at: np.ndarray


# a team qualifies its leads (Marketing to mql, Inside Sales to sql) by moving them to the stage entered at
# that phase; a manager sends the recycled ones back to inquiry and disqualifies others with a correction,
# the one way into a phase that is neither a stage's, a handoff's nor the CRM's own
AT_STAGE = "stage"
BY_HAND = "correction"
# the steps of a lead's path, in order: (phase, origin); a lead takes those its masks allow
_STEPS = (
    (INQUIRY, "create"),
    (MQL, AT_STAGE),
    (RECYCLED, "reject"),
    (INQUIRY, BY_HAND),
    (MQL, AT_STAGE),
    (SAL, "accept"),
    (SQL, AT_STAGE),
    (OPPORTUNITY, "accept"),
    (WON, "won"),
)


def plan_waterfall(
    funnel: DemoFunnel,
    is_lead: np.ndarray,
    rng: np.random.Generator,
    story: DemoStory,
    waterfall: WaterfallStory | None = None,
) -> WaterfallPlan:
    """The phases and handoffs of the sales leads of ``funnel`` (``is_lead``: those still leads, not
    opportunities) and of Marketing's own leads, drawn from ``rng`` in a fixed order.

    The user of a phase stay in Inside Sales is the lead's rep when the lead is Inside Sales', else an
    Inside Sales rep drawn for it; in Field and Partner Sales the lead's rep; in Marketing the marketer.
    An Inside Sales lead's ``opportunity`` starts by conversion (origin ``conversion``), a Field Sales one by
    the acceptance of route 1, a Partner Sales one by conversion too.
    """
    waterfall = waterfall or WaterfallStory()
    n, now = funnel.n, funnel.now
    team_index = {key: index for index, key in enumerate(TEAM_KEYS)}
    lead_team = np.array([team_index[key] for key in funnel.team], dtype="int64")
    inside_reps = np.array([i for i, rep in enumerate(story.reps) if rep.team == "inside"], dtype="int64")

    # -- the sales leads: where their first stay ends, how far they got before it ended
    first_rows = np.flatnonzero(funnel.first)
    first_running = funnel.running[first_rows]
    end = np.where(first_running, now, funnel.left[first_rows])
    left_new = ~first_running & (funnel.last_stage != 0) | (funnel.outcome == 0)
    lost_in_new = (funnel.outcome == 1) & (funnel.last_stage == 0)
    reach_draw = rng.random(n)
    reach = np.where(
        left_new,
        OPPORTUNITY,
        np.where(
            lost_in_new | is_lead,
            np.where(reach_draw < 0.5, SAL, SQL),
            np.where(reach_draw < 0.4, SQL, OPPORTUNITY),
        ),
    )
    rejected_first = rng.random(n) < waterfall.reject_share
    fractions = np.sort(rng.random((n, 7)), axis=1)
    span = np.maximum(end - funnel.created, 7)
    inside_user = np.where(
        lead_team == team_index["inside"], funnel.user, inside_reps[rng.integers(0, len(inside_reps), n)]
    )
    closing = np.where(funnel.outcome == 0, funnel.last_entered, funnel.last_left)
    # per step of _STEPS: taken or not, when, in which team, whose
    taken = np.stack(
        [
            np.ones(n, bool),
            np.ones(n, bool),
            rejected_first,
            rejected_first,
            rejected_first,
            reach >= SAL,
            reach >= SQL,
            reach >= OPPORTUNITY,
            funnel.outcome != 2,
        ],
        axis=1,
    )
    times = np.empty((n, len(_STEPS)), dtype="int64")
    times[:, 0] = funnel.created
    times[:, 1:7] = funnel.created[:, None] + np.floor(fractions[:, :6] * span[:, None]).astype("int64")
    # a lead that left New became an opportunity then; one still open in New at the draw's place
    times[:, 7] = np.where(left_new, end, funnel.created + np.floor(fractions[:, 6] * span).astype("int64"))
    times[:, 8] = np.where(lost_in_new, end, closing)
    times = np.maximum.accumulate(times, axis=1)
    marketing, inside = team_index["marketing"], team_index["inside"]
    teams = np.stack([np.full(n, marketing)] * 5 + [np.full(n, inside)] * 2 + [lead_team, lead_team], axis=1)
    users = np.stack([np.full(n, MARKETER)] * 5 + [inside_user] * 2 + [funnel.user, funnel.user], axis=1)
    phases = np.tile(np.array([step[0] for step in _STEPS]), (n, 1))
    phases[:, 8] = np.where(funnel.outcome == 0, WON, LOST)
    origins = np.tile(np.array([step[1] for step in _STEPS], dtype=object), (n, 1))
    origins[:, 8] = np.where(funnel.outcome == 0, "won", "lost")
    field = lead_team == team_index["field"]
    origins[:, 7] = np.where(field, "accept", "conversion")

    # the handoffs of the sales leads: the rejected first one, the accepted one, Field's
    reason_shares = np.array([share for _code, share in waterfall.reasons])
    h_reject = np.flatnonzero(rejected_first)
    mql_again = np.where(rejected_first, times[:, 4], times[:, 1])
    h_field = np.flatnonzero(field & (reach >= OPPORTUNITY))
    handoffs = {
        "lead": [h_reject, np.arange(n), h_field],
        "route": [np.zeros(len(h_reject), "int64"), np.zeros(n, "int64"), np.ones(len(h_field), "int64")],
        "sent": [
            _between(times[h_reject, 1], times[h_reject, 2], rng),
            _between(mql_again, times[:, 5], rng),
            _between(times[h_field, 6], times[h_field, 7], rng),
        ],
        "decided": [times[h_reject, 2], times[:, 5], times[h_field, 7]],
        "state": [
            np.full(len(h_reject), REJECTED),
            np.full(n, ACCEPTED),
            np.full(len(h_field), ACCEPTED),
        ],
        "reason": [
            rng.choice(len(reason_shares), len(h_reject), p=reason_shares / reason_shares.sum()),
            np.full(n, -1),
            np.full(len(h_field), -1),
        ],
        "sender": [np.full(len(h_reject), MARKETER), np.full(n, MARKETER), inside_user[h_field]],
        "receiver": [inside_user[h_reject], inside_user, funnel.user[h_field]],
    }
    number = np.cumsum([0, len(h_reject), n])
    step_handoff = np.full((n, len(_STEPS)), -1, dtype="int64")
    step_handoff[h_reject, 2] = number[0] + np.arange(len(h_reject))
    step_handoff[:, 5] = number[1] + np.arange(n)
    step_handoff[h_field, 7] = number[2] + np.arange(len(h_field))
    sales_stays = _flatten(np.arange(n), taken, phases, times, teams, users, origins, step_handoff)

    # -- Marketing's own leads
    start = int(funnel.created.min()) if n else now - 30 * 86400
    mkt = _plan_marketing_leads(n, start, now, rng, story, waterfall)
    m = len(mkt.created)
    kind = rng.choice(5, m, p=np.array(waterfall.marketing_mix) / sum(waterfall.marketing_mix))
    kind[mkt.awaiting] = 4
    kind[~mkt.awaiting & (kind == 4)] = 1
    m_frac = np.sort(rng.random((m, 3)), axis=1)
    m_span = np.maximum(now - mkt.created, 60)
    m_times = mkt.created[:, None] + np.floor(m_frac * m_span[:, None]).astype("int64")
    m_times = np.concatenate([mkt.created[:, None], m_times], axis=1)
    # steps: inquiry, mql, then recycled (rejected) or disqualified; the awaiting ones were sent lately
    low, high = waterfall.awaiting_hours
    sent_ago = np.round(rng.uniform(low, high, m) * 3600).astype("int64")
    m_taken = np.stack([np.ones(m, bool), kind != 0, (kind == 2) | (kind == 3)], axis=1)
    m_phases = np.stack(
        [np.full(m, INQUIRY), np.full(m, MQL), np.where(kind == 2, DISQUALIFIED, RECYCLED)], axis=1
    )
    m_times = m_times[:, :3]
    m_times[:, 1] = np.where(kind == 4, np.minimum(m_times[:, 1], now - sent_ago), m_times[:, 1])
    m_times = np.maximum.accumulate(m_times, axis=1)
    m_origins = np.stack(
        [
            np.full(m, "create", dtype=object),
            np.full(m, AT_STAGE, dtype=object),
            np.where(kind == 2, BY_HAND, "reject").astype(object),
        ],
        axis=1,
    )
    m_handoff_steps = np.full((m, 3), -1, dtype="int64")
    m_rejected = np.flatnonzero(kind == 3)
    m_awaiting = np.flatnonzero(kind == 4)
    first_m = number[2] + len(h_field)
    m_handoff_steps[m_rejected, 2] = first_m + np.arange(len(m_rejected))
    handoffs["lead"] += [n + m_rejected, n + m_awaiting]
    handoffs["route"] += [np.zeros(len(m_rejected), "int64"), np.zeros(len(m_awaiting), "int64")]
    handoffs["sent"] += [
        _between(m_times[m_rejected, 1], m_times[m_rejected, 2], rng),
        now - sent_ago[m_awaiting],
    ]
    handoffs["decided"] += [m_times[m_rejected, 2], np.full(len(m_awaiting), -1)]
    handoffs["state"] += [np.full(len(m_rejected), REJECTED), np.full(len(m_awaiting), AWAITING)]
    handoffs["reason"] += [
        rng.choice(len(reason_shares), len(m_rejected), p=reason_shares / reason_shares.sum()),
        np.full(len(m_awaiting), -1),
    ]
    handoffs["sender"] += [np.full(len(m_rejected), MARKETER), np.full(len(m_awaiting), MARKETER)]
    handoffs["receiver"] += [
        inside_reps[rng.integers(0, len(inside_reps), len(m_rejected))],
        np.full(len(m_awaiting), -1),
    ]
    m_stays = _flatten(
        n + np.arange(m),
        m_taken,
        m_phases,
        m_times,
        np.full((m, 3), marketing),
        np.full((m, 3), MARKETER),
        m_origins,
        m_handoff_steps,
    )
    stays = PhaseStayPlan(
        **{name: np.concatenate([sales_stays[name], m_stays[name]]) for name in sales_stays}
    )
    plan = HandoffPlan(**{name: np.concatenate(parts).astype("int64") for name, parts in handoffs.items()})
    qualified_at = np.where(kind == 1, m_times[:, 1], -1)
    return WaterfallPlan(marketing=mkt, stays=stays, handoffs=plan, qualified_at=qualified_at)


def _between(start: np.ndarray, stop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A time in the first fifth of ``[start, stop]`` (a handoff is sent soon after the phase began)."""
    return start + np.floor(rng.random(len(start)) * (stop - start) / 5).astype("int64")


def _flatten(lead, taken, phases, times, teams, users, origins, handoff):
    """The stays of the taken steps, lead by lead: each ends when the lead's next one starts; the last
    one is open unless it is terminal (won, lost, disqualified end as they start)."""
    rows, cols = np.nonzero(taken)
    entered = times[rows, cols]
    same = np.r_[rows[1:] == rows[:-1], False]
    left = np.where(same, np.r_[entered[1:], 0], -1)
    phase = phases[rows, cols]
    terminal = np.isin(phase, (WON, LOST, DISQUALIFIED))
    left = np.where(~same & terminal, entered, left)
    return {
        "lead": lead[rows],
        "phase": phase,
        "entered": entered,
        "left": left,
        "team": teams[rows, cols],
        "user": users[rows, cols],
        "origin": origins[rows, cols],
        "handoff": handoff[rows, cols],
    }


def _plan_marketing_leads(n, start, now, rng, story, waterfall) -> MarketingLeads:
    """Marketing's own leads: how many, when created (between ``start`` and six hours before ``now``), from
    which campaign and source, who they are."""
    m = max(round(n * waterfall.marketing_share), waterfall.min_awaiting + 5)
    latest = now - 3600 * 6
    created = np.sort(rng.integers(min(start, latest - 1), latest, m))
    awaiting = np.zeros(m, bool)
    # the newest leads are the ones awaiting, at least min_awaiting of them
    awaiting_count = max(waterfall.min_awaiting, round(m * waterfall.marketing_mix[4]))
    awaiting[-awaiting_count:] = True
    words = story.company_words
    company = np.array(words[0], dtype=object)[rng.integers(0, len(words[0]), m)]
    for pool in words[1:]:
        company = company + " " + np.array(pool, dtype=object)[rng.integers(0, len(pool), m)]
    first_name = np.array(story.first_names, dtype=object)[rng.integers(0, len(story.first_names), m)]
    last_name = np.array(story.last_names, dtype=object)[rng.integers(0, len(story.last_names), m)]
    product = rng.integers(0, len(story.products), m)
    email = np.array(
        [
            f"{first.lower()}.{last.lower()}@{name.lower().replace(' ', '')}.example.com"
            for first, last, name in zip(first_name, last_name, company, strict=True)
        ],
        dtype=object,
    )
    return MarketingLeads(
        created=created,
        campaign=rng.integers(0, len(story.campaigns), m),
        source=rng.integers(0, len(story.sources), m),
        product=product,
        awaiting=awaiting,
        partner_name=company,
        contact_name=first_name + " " + last_name,
        email=email,
        name=company + ": " + np.array(story.products, dtype=object)[product],
    )
