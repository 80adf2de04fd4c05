"""The plan of the demo pipeline: which leads, stage stays, qualification answers, next activities and
customer events the demo generator of ``crm_pipeline_discipline`` writes (plain numpy, no Odoo needed).

The story (:class:`DemoStory`, :data:`DEMO_STORY`): three sales teams of two reps each, one rep converting
clearly better than another; Field Sales qualifies its leads with a survey whose answers gate the stages,
follows up every open lead and sees its customers act (emails, price lists opened, questionnaires); Inside
Sales misses a few follow-ups, Partner Sales many. The funnel itself (arrivals, stays, outcomes, revenue) is
:func:`funnel_metrics.simulate_funnel`'s; everything else is drawn from a second random stream of the same
seed, in a fixed order, so the same seed and ``now`` give the same plan.

- :func:`plan_demo` -- the whole plan (:class:`DemoPlan`), the functions below called in their order;
- :func:`simulate_demo_funnel` -- the funnel as numpy arrays per stay and per lead (:class:`DemoFunnel`);
- :func:`plan_stays` -- each stay's previous stage, end and origin, as a stage history records them;
- :func:`plan_followup` -- which open leads get a next activity (due when, usual or alternative kind) or a
  no-follow-up reason;
- :func:`plan_answers` -- the survey team's qualification answers, reaching exactly each lead's stage;
- :func:`plan_customer_events` -- the survey team's customer events and the decision phase they leave;
- :func:`plan_done_activities` -- the completed activities of the won and lost leads, with a known effect of
  each kind on winning (see :func:`funnel_metrics.simulate_activities`);
- :func:`plan_lead_details` -- names, contacts, type, deadline and priority of each lead.

Dates are UTC seconds since the epoch (int64); leads are 0-based indexes in arrival order; stages are indexes
into ``story.stages``, ``len(story.stages)`` standing for the won stage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnel_metrics.demo_waterfall import WaterfallPlan, WaterfallStory, plan_waterfall
from funnel_metrics.simulate import LOST_REASONS, simulate_funnel
from funnel_metrics.simulate_activities import draw_activity_counts

OUTCOME_NAMES: tuple[str, ...] = ("won", "lost", "open")
"""The values of :attr:`DemoFunnel.outcome`: 0 won, 1 lost, 2 open."""


@dataclass(frozen=True)
class DemoStage:
    """An open stage of the demo pipeline: its name, the chance to advance out of it, the median stay."""

    name: str
    advance: float
    median_days: float


@dataclass(frozen=True)
class DemoRep:
    """A salesperson: login, team key, and skill (a multiplier on the advance probabilities)."""

    login: str
    team: str
    skill: float


@dataclass(frozen=True)
class DemoTeam:
    """A sales team and how its open leads are followed up: the share of them without any activity nor
    reason (``missing``), and the share without an activity but with a no-follow-up reason (``excused``)."""

    key: str
    missing: float
    excused: float


@dataclass(frozen=True)
class CustomerEventStep:
    """A customer event of the survey team's leads, in the order of the buying process: its type and
    description, the decision phase it moves the lead to (a key the caller maps to its records), the stage
    index the lead must have entered, the share of those leads it happens to, and the days after that
    entry."""

    event_type: str
    description: str
    phase: str
    stage: int
    share: float
    days: int


@dataclass(frozen=True)
class DemoStory:
    """The parameters of the demo plan; the defaults tell the story of :data:`DEMO_STORY`.

    - ``stages``, ``won_stage``, ``skip_probability``, ``stuck_share``, ``stuck_factor``, ``products``,
      ``sources``, ``campaigns``: the funnel, as :func:`funnel_metrics.simulate_funnel` takes them;
    - ``reps`` and ``teams``: who sells, in which team, how well; how each team follows up;
    - ``survey_team``: the team whose stages are set by the qualification survey (answers, customer events,
      stays moved by the survey);
    - ``due_buckets``: due dates of the next activities, days from now, as (share, first day, last day);
    - ``alternative_share``: share of the next activities of the stage's alternative kind, not the usual one;
    - ``budget_gate``: the least budget the Qualified gate accepts; ``timelines``: how many timeline answers
      there are, the first ``timelines_in_time`` of them passing the Proposition gate;
    - ``never_qualified``: share of the survey team's leads in the first stage without any answers;
    - ``customer_events``: :class:`CustomerEventStep` values, in order;
    - ``unqualified_share``: share of the other teams' open leads in the first stage that are still leads,
      not opportunities;
    - ``deadline_days``: the expected closing of open leads, days from now (first, last);
    - ``done_activities``: per kind of completed activity of the won and lost leads (its key: ``meeting``,
      ``call``, ``email``), the relative odds of winning by count (the last for that many or more) and the
      mean count of a lost lead, as :func:`funnel_metrics.simulate_activities` takes them: meetings help up
      to two, five calls or more go with losing, e-mails do not matter;
    - ``priorities``: the priority values and their shares;
    - ``company_words``, ``first_names``, ``last_names``: what the names are made of;
    - ``waterfall``: Marketing, the handoffs and the lifecycle phases (:mod:`funnel_metrics.demo_waterfall`).
    """

    stages: tuple[DemoStage, ...] = (
        DemoStage("New", 0.6, 7.0),
        DemoStage("Qualified", 0.55, 14.0),
        DemoStage("Proposition", 0.6, 21.0),
    )
    won_stage: str = "Won"
    skip_probability: float = 0.05
    stuck_share: float = 0.06
    stuck_factor: float = 8.0
    reps: tuple[DemoRep, ...] = (
        DemoRep("pd_rep_1", "field", 1.25),
        DemoRep("pd_rep_2", "field", 0.8),
        DemoRep("pd_rep_3", "inside", 1.1),
        DemoRep("pd_rep_4", "inside", 0.9),
        DemoRep("pd_rep_5", "partner", 1.0),
        DemoRep("pd_rep_6", "partner", 0.7),
    )
    teams: tuple[DemoTeam, ...] = (
        DemoTeam("field", 0.0, 0.05),
        DemoTeam("inside", 0.1, 0.03),
        DemoTeam("partner", 0.35, 0.05),
    )
    survey_team: str = "field"
    products: tuple[str, ...] = ("Starter", "Business", "Enterprise")
    sources: tuple[str, ...] = ("Website", "Referral", "Trade fair", "Outbound")
    campaigns: tuple[str, ...] = (
        "Spring webinar series",
        "Trade fair Hanover",
        "Partner co-marketing",
        "LinkedIn ads",
    )
    due_buckets: tuple[tuple[float, int, int], ...] = (
        (0.12, -25, -6),
        (0.18, -5, -1),
        (0.12, 0, 0),
        (0.53, 1, 14),
        (0.05, 60, 150),
    )
    alternative_share: float = 0.3
    budget_gate: float = 10_000.0
    timelines: int = 4
    timelines_in_time: int = 2
    never_qualified: float = 0.35
    customer_events: tuple[CustomerEventStep, ...] = (
        CustomerEventStep("email_received", "Question about integrations", "exploring", 0, 0.6, 1),
        CustomerEventStep("document_opened", "Price list 2025", "comparing", 1, 0.7, 2),
        CustomerEventStep("survey_completed", "Requirements questionnaire", "business_case", 2, 0.5, 1),
    )
    unqualified_share: float = 0.3
    deadline_days: tuple[int, int] = (7, 90)
    priorities: tuple[tuple[str, float], ...] = (("0", 0.45), ("1", 0.3), ("2", 0.17), ("3", 0.08))
    done_activities: tuple[tuple[str, tuple[float, ...], float], ...] = (
        ("meeting", (1.0, 2.0, 4.0, 4.0, 4.0, 4.0), 1.5),
        ("call", (1.0, 1.0, 1.0, 1.0, 1.0, 0.3), 2.5),
        ("email", (1.0, 1.0, 1.0, 1.0, 1.0, 1.0), 2.0),
    )
    company_words: tuple[tuple[str, ...], ...] = (
        (
            "Blue", "Bright", "North", "Silver", "Green", "Swift", "Prime", "Stone", "Clear", "Urban",
            "Alpine", "Coastal",
        ),
        (
            "Harbor", "Ridge", "Field", "Bridge", "River", "Summit", "Forge", "Grove", "Valley", "Point",
            "Crest", "Works",
        ),
        (
            "Logistics", "Foods", "Clinics", "Robotics", "Textiles", "Energy", "Studios", "Labs", "Retail",
            "Motors",
        ),
    )  # fmt: skip
    first_names: tuple[str, ...] = (
        "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kara", "Liam",
        "Maya", "Noah", "Olga", "Paul",
    )  # fmt: skip
    last_names: tuple[str, ...] = (
        "Adams", "Baker", "Costa", "Evans", "Fischer", "Garcia", "Horvat", "Jensen", "Lopez", "Meyer",
        "Novak", "Olsen", "Rossi", "Weber",
    )  # fmt: skip
    waterfall: WaterfallStory = WaterfallStory()


DEMO_STORY = DemoStory()
"""The story the demo generator of ``crm_pipeline_discipline`` tells."""


@dataclass(frozen=True)
class DemoFunnel:
    """The simulated funnel as numpy arrays: per stay (rows by lead, then time) and per lead.

    Per stay: ``lead``, ``stage``, ``entered``, ``left`` (0 while running), ``running``, ``first`` and
    ``last`` (the lead's first / last stay). Per lead (arrival order): ``created``, ``last_stage``,
    ``last_entered``, ``last_left``, ``outcome`` (index into :data:`OUTCOME_NAMES`), ``user`` (index into
    ``story.reps``), ``team`` (the rep's team key), ``product``, ``source``, ``campaign`` (indexes into the
    story's lists), ``revenue``, ``lost_reason`` (index into :data:`funnel_metrics.simulate.LOST_REASONS`,
    -1 when not lost), ``reached`` (highest open stage entered, 0 to len(stages) - 1), ``qualified_at``
    (when the lead entered its last open stage).
    """

    n: int
    now: int
    lead: np.ndarray
    stage: np.ndarray
    entered: np.ndarray
    left: np.ndarray
    running: np.ndarray
    first: np.ndarray
    last: np.ndarray
    created: np.ndarray
    last_stage: np.ndarray
    last_entered: np.ndarray
    last_left: np.ndarray
    outcome: np.ndarray
    user: np.ndarray
    team: np.ndarray
    product: np.ndarray
    source: np.ndarray
    campaign: np.ndarray
    revenue: np.ndarray
    lost_reason: np.ndarray
    reached: np.ndarray
    qualified_at: np.ndarray


@dataclass(frozen=True)
class DemoStays:
    """Per stay of :class:`DemoFunnel`: the stage before it (-1 for the lead's first stay), when it ended
    (-1 while current; a stay in the won stage ends as it starts) and what started it: ``"create"`` for the
    first stay, then ``"manual"`` (by hand) or, in the survey team, ``"survey"`` (its gates); winning is
    always by hand."""

    previous: np.ndarray
    ended: np.ndarray
    origin: np.ndarray


@dataclass(frozen=True)
class FollowupPlan:
    """The follow-up of the open leads: ``with_reason`` (per lead: a no-follow-up reason, no activity);
    per planned activity: ``lead``, ``due`` (days from now), ``kind`` (0 the stage's usual kind of activity,
    1 its alternative)."""

    with_reason: np.ndarray
    lead: np.ndarray
    due: np.ndarray
    kind: np.ndarray


@dataclass(frozen=True)
class AnswerPlan:
    """One completed qualification per answered lead: ``lead``, ``budget``, ``need`` and ``decider`` (0 yes,
    1 no), ``timeline`` (index into the timelines), ``at`` (when it was submitted)."""

    lead: np.ndarray
    budget: np.ndarray
    need: np.ndarray
    decider: np.ndarray
    timeline: np.ndarray
    at: np.ndarray


@dataclass(frozen=True)
class EventPlan:
    """The customer events, by step then lead: ``lead``, ``step`` (index into ``story.customer_events``),
    ``date``; and per lead the ``phase`` its last event left it in (a step index, -1 without events)."""

    lead: np.ndarray
    step: np.ndarray
    date: np.ndarray
    phase: np.ndarray


@dataclass(frozen=True)
class DoneActivityPlan:
    """The completed activities of the won and lost leads, by kind then lead: ``lead``, ``kind`` (index into
    ``story.done_activities``), ``date`` (when it was marked done: between the lead's creation and its last
    stage change, so before its decision; UTC seconds)."""

    lead: np.ndarray
    kind: np.ndarray
    date: np.ndarray


@dataclass(frozen=True)
class LeadDetails:
    """Per lead: ``partner_name``, ``contact_name``, ``email``, ``name`` (company and product), ``is_lead``
    (still a lead, not an opportunity), ``deadline`` (days from now, -1 for closed leads), ``priority``."""

    partner_name: np.ndarray
    contact_name: np.ndarray
    email: np.ndarray
    name: np.ndarray
    is_lead: np.ndarray
    deadline: np.ndarray
    priority: np.ndarray


@dataclass(frozen=True)
class DemoPlan:
    """Everything :func:`plan_demo` decided."""

    story: DemoStory
    funnel: DemoFunnel
    stays: DemoStays
    followup: FollowupPlan
    answers: AnswerPlan
    events: EventPlan
    details: LeadDetails = field(repr=False)
    done_activities: DoneActivityPlan = field(repr=False)
    waterfall: WaterfallPlan = field(repr=False)


def simulate_demo_funnel(
    n_leads: int, seed: int, months: int, now: dt.datetime, story: DemoStory = DEMO_STORY
) -> DemoFunnel:
    """The story's funnel over the ``months`` (of 30.44 days) before ``now`` (naive = UTC), cut at ``now``:
    :func:`funnel_metrics.simulate_funnel` with the story's stages, reps' skills, stuck leads and skips, as
    numpy arrays (see :class:`DemoFunnel`).

    Raises:
        ValueError: as :func:`funnel_metrics.simulate_funnel`.
    """
    end = pd.Timestamp(now)
    end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
    logins = [rep.login for rep in story.reps]
    frame, _truth = simulate_funnel(
        n_leads,
        stages=[stage.name for stage in story.stages],
        advance=[stage.advance for stage in story.stages],
        median_days=[stage.median_days for stage in story.stages],
        start=end - pd.Timedelta(days=round(months * 30.44)),
        end=end,
        snapshot=end,
        users=logins,
        products=story.products,
        sources=story.sources,
        campaigns=story.campaigns,
        won_stage=story.won_stage,
        skip_probability=story.skip_probability,
        seed=seed,
        user_skill=[rep.skill for rep in story.reps],
        stuck_share=story.stuck_share,
        stuck_factor=story.stuck_factor,
    )

    def seconds(column: str) -> tuple[np.ndarray, np.ndarray]:
        values = frame[column].dt.tz_convert(None).to_numpy(dtype="datetime64[s]")
        return values.astype("int64"), np.isnat(values)

    def codes(column: str, names: Collection[str]) -> np.ndarray:
        return pd.Categorical(frame[column].astype(object), categories=list(names)).codes.astype("int64")

    k_stages = len(story.stages)
    lead = frame["lead_id"].to_numpy(dtype="int64") - 1  # 0-based, arrival order
    entered, _never = seconds("entered_at")
    left, running = seconds("left_at")
    stage = frame["stage_sequence"].to_numpy(dtype="int64") - 1  # k_stages: won
    boundary = lead[1:] != lead[:-1]
    last = np.r_[boundary, True][: len(lead)]
    first = np.r_[True, boundary][: len(lead)]
    outcome = codes("outcome", OUTCOME_NAMES)[last]
    user = codes("user", logins)[last]
    last_rows = np.flatnonzero(last)
    won = outcome == 0
    # highest open stage each lead entered (no lead at all: reduceat wants indexes)
    reached = (
        np.minimum(np.maximum.reduceat(stage, np.flatnonzero(first)), k_stages - 1) if len(stage) else stage
    )
    return DemoFunnel(
        n=int(n_leads),
        now=int(end.timestamp()),
        lead=lead,
        stage=stage,
        entered=entered,
        left=np.where(running, 0, left),
        running=running,
        first=first,
        last=last,
        created=entered[first],
        last_stage=stage[last],
        last_entered=entered[last],
        last_left=left[last],
        outcome=outcome,
        user=user,
        team=np.array([rep.team for rep in story.reps])[user],
        product=codes("product", story.products)[last],
        source=codes("source", story.sources)[last],
        campaign=codes("campaign", story.campaigns)[last],
        revenue=frame["expected_revenue"].to_numpy(dtype="float64")[last],
        lost_reason=codes("lost_reason", LOST_REASONS)[last],
        reached=reached,
        qualified_at=np.where(won, entered[last_rows - won], entered[last_rows]),
    )


def plan_stays(funnel: DemoFunnel, story: DemoStory = DEMO_STORY) -> DemoStays:
    """Each stay's previous stage, end and origin (see :class:`DemoStays`); no random draw."""
    stage, first = funnel.stage, funnel.first
    won_stay = stage == len(story.stages)
    by_survey = (funnel.team == story.survey_team)[funnel.lead] & ~won_stay
    return DemoStays(
        previous=np.where(first, -1, np.r_[-1, stage[:-1]]),
        ended=np.where(won_stay, funnel.entered, np.where(funnel.running, -1, funnel.left)),
        origin=np.where(first, "create", np.where(by_survey, "survey", "manual")),
    )


def plan_followup(
    funnel: DemoFunnel, rng: np.random.Generator, story: DemoStory = DEMO_STORY
) -> FollowupPlan:
    """Which open leads have a next activity (due when, of which kind) or a no-follow-up reason, by their
    team's shares (see :class:`DemoTeam`): in the story, all of Field Sales', about nine in ten of Inside
    Sales', fewer in Partner Sales."""
    teams = {team.key: team for team in story.teams}
    missing = np.array([teams[key].missing for key in funnel.team])
    excused = missing + np.array([teams[key].excused for key in funnel.team])
    draw = rng.random(funnel.n)
    is_open = funnel.outcome == 2
    planned = np.flatnonzero(is_open & (draw >= excused))
    count = len(planned)
    shares = np.array([bucket[0] for bucket in story.due_buckets])
    bucket = rng.choice(len(story.due_buckets), count, p=shares / shares.sum())
    first_day = np.array([bucket_[1] for bucket_ in story.due_buckets])[bucket]
    last_day = np.array([bucket_[2] for bucket_ in story.due_buckets])[bucket]
    due = first_day + np.floor(rng.random(count) * (last_day - first_day + 1)).astype("int64")
    return FollowupPlan(
        with_reason=is_open & (draw >= missing) & (draw < excused),
        lead=planned,
        due=due,
        kind=(rng.random(count) >= 1.0 - story.alternative_share).astype("int64"),
    )


def plan_answers(funnel: DemoFunnel, rng: np.random.Generator, story: DemoStory = DEMO_STORY) -> AnswerPlan:
    """Qualification answers of the survey team's leads that reach exactly the lead's stage: leads in the
    first stage fail the second stage's gate (need confirmed, budget of at least ``story.budget_gate``) or
    were never qualified, leads in the second fail the third's (decision maker identified, a timeline among
    the first ``story.timelines_in_time``), won leads pass the last gate, lost leads stay where they were
    lost. Submitted an hour into the lead's last open stay."""
    target = np.minimum(funnel.last_stage, len(story.stages) - 1)
    never = (target == 0) & (rng.random(funnel.n) < story.never_qualified)
    index = np.flatnonzero((funnel.team == story.survey_team) & ~never)
    n, target = len(index), target[index]
    no_need = (target == 0) & (rng.random(n) < 0.5)
    gate = story.budget_gate
    high = np.maximum(gate, np.round(funnel.revenue[index] * rng.uniform(1.0, 1.6, n), -3))
    low = rng.integers(2, int(gate // 1000), n) * 1000.0
    budget = np.where(no_need, np.where(rng.random(n) < 0.5, low, high), np.where(target == 0, low, high))
    no_decider = (target == 1) & (rng.random(n) < 0.5)
    decider = np.where(target == 2, 0, np.where(no_decider, 1, rng.integers(0, 2, n)))
    late = rng.integers(story.timelines_in_time, story.timelines, n)
    timeline = np.where(
        target == 2,
        rng.integers(0, story.timelines_in_time, n),
        np.where((target == 1) & ~no_decider, late, rng.integers(0, story.timelines, n)),
    )
    return AnswerPlan(
        lead=index,
        budget=budget,
        need=no_need.astype("int64"),
        decider=decider,
        timeline=timeline,
        at=funnel.qualified_at[index] + 3600,
    )


def plan_customer_events(
    funnel: DemoFunnel,
    rng: np.random.Generator,
    story: DemoStory = DEMO_STORY,
    missing_phases: Collection[str] = (),
) -> EventPlan:
    """What the customers of some of the survey team's leads did, step by step (``story.customer_events``):
    each step happens to its share of the leads that entered its stage, its days after that entry and an
    hour at least after the lead's previous event, never after the lead was closed nor after now. Each
    event moves the lead's decision phase forward; a step whose phase is in ``missing_phases`` (deleted from
    the database: no trigger would fire) is drawn but left out."""
    n, lead, stage = funnel.n, funnel.lead, funnel.stage
    outcome, stamp = funnel.outcome, funnel.now
    closed = np.where(outcome == 0, funnel.last_entered, np.where(outcome == 1, funnel.last_left, stamp))
    limit = np.minimum(closed, stamp)
    previous = np.full(n, np.iinfo("int64").min // 2)
    phase = np.full(n, -1, dtype="int64")
    parts: dict[str, list[np.ndarray]] = {"lead": [], "step": [], "date": []}
    in_team = funnel.team == story.survey_team
    for number, step in enumerate(story.customer_events):
        entry = np.full(n, np.iinfo("int64").max // 2)
        entered_it = stage >= step.stage
        np.minimum.at(entry, lead[entered_it], funnel.entered[entered_it])
        date = np.maximum(entry + step.days * 86400, previous + 3600)
        chosen = in_team & (funnel.reached >= step.stage) & (date <= limit)
        chosen &= rng.random(n) < step.share
        if step.phase in missing_phases:
            continue
        index = np.flatnonzero(chosen)
        previous = np.where(chosen, date, previous)
        phase[index] = number
        parts["lead"].append(index)
        parts["step"].append(np.full(len(index), number, dtype="int64"))
        parts["date"].append(date[index])
    empty = [np.empty(0, dtype="int64")]
    return EventPlan(
        lead=np.concatenate(parts["lead"] or empty),
        step=np.concatenate(parts["step"] or empty),
        date=np.concatenate(parts["date"] or empty),
        phase=phase,
    )


def plan_lead_details(
    funnel: DemoFunnel, rng: np.random.Generator, story: DemoStory = DEMO_STORY
) -> LeadDetails:
    """Who each lead is (a company, a contact at it, the product of the deal in its name), whether it is
    still a lead rather than an opportunity (some open leads of the other teams in the first stage), its
    expected closing and its priority."""
    n, is_open = funnel.n, funnel.outcome == 2
    is_lead = (
        is_open
        & (funnel.last_stage == 0)
        & (funnel.team != story.survey_team)
        & (rng.random(n) < story.unqualified_share)
    )
    words = story.company_words
    company = np.array(words[0], dtype=object)[rng.integers(0, len(words[0]), n)]
    for pool in words[1:]:
        company = company + " " + np.array(pool, dtype=object)[rng.integers(0, len(pool), n)]
    first_name = np.array(story.first_names, dtype=object)[rng.integers(0, len(story.first_names), n)]
    last_name = np.array(story.last_names, dtype=object)[rng.integers(0, len(story.last_names), n)]
    email = np.array(
        [
            f"{first.lower()}.{last.lower()}@{name.lower().replace(' ', '')}.example.com"
            for first, last, name in zip(first_name, last_name, company, strict=True)
        ],
        dtype=object,
    )
    low, high = story.deadline_days
    deadline = np.where(is_open, rng.integers(low, high + 1, n), -1)
    values = np.array([value for value, _share in story.priorities])
    priority = rng.choice(values, n, p=[share for _value, share in story.priorities])
    return LeadDetails(
        partner_name=company,
        contact_name=first_name + " " + last_name,
        email=email,
        name=company + ": " + np.array(story.products, dtype=object)[funnel.product],
        is_lead=is_lead,
        deadline=deadline,
        priority=priority,
    )


def plan_done_activities(
    funnel: DemoFunnel, rng: np.random.Generator, story: DemoStory = DEMO_STORY
) -> DoneActivityPlan:
    """The completed activities of the won and lost leads (see :class:`DoneActivityPlan`): per kind of
    ``story.done_activities``, how many each lead had, drawn by :func:`draw_activity_counts` given whether
    it was won, each done at a uniform time between its creation and its last stage change (the decision of
    a won lead, the entry into the stage a lost one was lost in: the demo's last action of a lead stays its
    last stage change). Open leads get none here (their next activities are :func:`plan_followup`'s)."""
    decided = np.flatnonzero(funnel.outcome != 2)
    won = funnel.outcome[decided] == 0
    leads, kinds = [], []
    for kind, (_key, odds, mean) in enumerate(story.done_activities):
        counts, _factor = draw_activity_counts(won, odds, mean, rng)
        leads.append(np.repeat(decided, counts))
        kinds.append(np.full(int(counts.sum()), kind, dtype="int64"))
    lead = np.concatenate(leads) if leads else np.empty(0, dtype="int64")
    start, end = funnel.created[lead], funnel.last_entered[lead]
    date = start + np.floor(rng.random(len(lead)) * (end - start)).astype("int64")
    return DoneActivityPlan(
        lead=lead, kind=np.concatenate(kinds) if kinds else np.empty(0, dtype="int64"), date=date
    )


def plan_demo(
    n_leads: int,
    seed: int,
    months: int,
    now: dt.datetime,
    story: DemoStory = DEMO_STORY,
    missing_phases: Collection[str] = (),
) -> DemoPlan:
    """The whole demo plan: the funnel from ``seed``, then, from a second stream of the same seed and in
    this order, the follow-up, the answers, the customer events and the leads' details; from a third, the
    completed activities; from a fourth, the waterfall (Marketing's leads, the lifecycle phases and the
    handoffs). The same arguments give the same plan.

    :param n_leads: number of leads
    :param seed: random seed
    :param months: months of history before ``now``
    :param now: the instant everything is dated relative to (naive = UTC)
    :param story: the story's parameters
    :param missing_phases: the customer event steps' phases the caller has no record of (their events are
        left out)

    Raises:
        ValueError: as :func:`funnel_metrics.simulate_funnel`.
    """
    funnel = simulate_demo_funnel(n_leads, int(seed), months, now, story)
    rng = np.random.default_rng([int(seed), 1])
    followup = plan_followup(funnel, rng, story)
    answers = plan_answers(funnel, rng, story)
    events = plan_customer_events(funnel, rng, story, missing_phases)
    details = plan_lead_details(funnel, rng, story)
    return DemoPlan(
        story=story,
        funnel=funnel,
        stays=plan_stays(funnel, story),
        followup=followup,
        answers=answers,
        events=events,
        details=details,
        done_activities=plan_done_activities(funnel, np.random.default_rng([int(seed), 2]), story),
        waterfall=plan_waterfall(
            funnel, details.is_lead, np.random.default_rng([int(seed), 3]), story, story.waterfall
        ),
    )
