"""Synthetic funnels whose true conversion and dwell are known, snapshotted while many leads are open."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from funnel_metrics.funnel import _as_utc, _validated

_NANOS_PER_DAY = 86_400 * 1_000_000_000
_NAT = np.iinfo(np.int64).min
LOST_REASONS: tuple[str, ...] = ("price", "timing", "competitor", "no budget")
"""The lost reasons :func:`simulate_funnel` gives lost leads, drawn uniformly."""

TimestampLike = str | dt.datetime | np.datetime64 | pd.Timestamp


def _labels(names: Sequence[str], codes: np.ndarray) -> pd.Series:
    """Codes (-1 = NA) into a Series of the names in pandas' default ``string`` dtype, as
    :func:`funnel_metrics.validate_transitions` leaves text columns."""
    dtype = pd.StringDtype()
    if dtype.storage == "pyarrow":  # build the Arrow array directly: no Python string per row
        import pyarrow as pa

        values = pa.array([str(name) for name in names], type=pa.large_string())
        taken = values.take(pa.array(codes, type=pa.int64(), mask=codes < 0))
        try:
            series = pd.Series(pd.arrays.ArrowStringArray(taken))
        except (TypeError, ValueError):  # an older pandas that wants another Arrow type: the slow way
            series = None
        if series is not None and series.dtype == dtype:
            return series
    categories = pd.Index([str(name) for name in names], dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories)).astype(dtype)


def _check_parameters(
    n_leads: int,
    stages: Sequence[str],
    advance: Sequence[float],
    median_days: Sequence[float],
    skip_probability: float,
    won_stage: str,
    pools: dict[str, Sequence[str]],
) -> tuple[np.ndarray, np.ndarray]:
    if int(n_leads) < 0:
        raise ValueError(f"n_leads must be >= 0, got {n_leads!r}")
    if not (len(stages) == len(advance) == len(median_days)) or len(stages) == 0:
        raise ValueError(
            "stages, advance and median_days need one value per stage (got "
            f"{len(stages)}, {len(advance)}, {len(median_days)})"
        )
    if len({*stages, won_stage}) != len(stages) + 1:
        raise ValueError(f"stage names (and won_stage) must be distinct, got {[*stages, won_stage]}")
    probabilities = np.asarray(advance, dtype="float64")
    medians = np.asarray(median_days, dtype="float64")
    if not ((probabilities >= 0) & (probabilities <= 1)).all():
        raise ValueError(f"advance probabilities must be in [0, 1], got {list(advance)}")
    if not (np.isfinite(medians) & (medians > 0)).all():
        raise ValueError(f"median_days must be positive numbers, got {list(median_days)}")
    if not 0.0 <= float(skip_probability) <= 1.0:
        raise ValueError(f"skip_probability must be in [0, 1], got {skip_probability!r}")
    for name, pool in pools.items():
        if len(pool) == 0:
            raise ValueError(f"{name} must name at least one value")
    return probabilities, medians


def _check_departures(
    users: Sequence[str], user_skill: Sequence[float] | None, stuck_share: float, stuck_factor: float
) -> np.ndarray | None:
    """The skill multipliers as an array (None when not given), after checking the optional departures."""
    if not 0.0 <= float(stuck_share) <= 1.0:
        raise ValueError(f"stuck_share must be in [0, 1], got {stuck_share!r}")
    if not (math.isfinite(float(stuck_factor)) and float(stuck_factor) >= 1.0):
        raise ValueError(f"stuck_factor must be a number >= 1, got {stuck_factor!r}")
    if user_skill is None:
        return None
    skill = np.asarray(user_skill, dtype="float64")
    if skill.shape != (len(users),):
        raise ValueError(f"user_skill needs one value per user ({len(users)}), got {len(skill)}")
    if not (np.isfinite(skill) & (skill > 0)).all():
        raise ValueError(f"user_skill values must be positive numbers, got {list(user_skill)}")
    return skill


def _truth(
    stages: Sequence[str],
    probabilities: np.ndarray,
    medians: np.ndarray,
    skip: float,
    won_stage: str,
) -> dict[str, Any]:
    """P(eventually won | entered stage k), by the recursion over the next (or the skipped-to) stage."""
    k_stages = len(stages)
    win = np.ones(k_stages + 1)  # index k_stages: the won stage
    for k in range(k_stages - 1, -1, -1):
        skip_here = skip if k + 2 <= k_stages - 1 else 0.0
        onward = win[k + 1] if k + 2 > k_stages - 1 else (1 - skip_here) * win[k + 1] + skip_here * win[k + 2]
        win[k] = probabilities[k] * onward
    return {
        "advance": dict(zip(stages, probabilities.tolist(), strict=True)),
        "win_probability": {**dict(zip(stages, win[:-1].tolist(), strict=True)), won_stage: 1.0},
        "median_days": dict(zip(stages, medians.tolist(), strict=True)),
        "skip_probability": float(skip),
        "won_stage": won_stage,
    }


def _check_drop(
    drop: Mapping[str, Any] | None, stages: Sequence[str], products: Sequence[str]
) -> dict[str, Any] | None:
    """The conversion drop with the product's and stage's codes and ``start`` as a UTC timestamp."""
    if drop is None:
        return None
    keys = {"product", "stage", "advance", "start"}
    if set(drop) != keys:
        raise ValueError(f"conversion_drop needs exactly the keys {sorted(keys)}, got {sorted(drop)}")
    if drop["product"] not in products or drop["stage"] not in stages:
        raise ValueError(
            f"conversion_drop: product {drop['product']!r} and stage {drop['stage']!r} must be among "
            f"products {list(products)} and stages {list(stages)}"
        )
    if not 0.0 <= float(drop["advance"]) <= 1.0:
        raise ValueError(f"conversion_drop: advance must be in [0, 1], got {drop['advance']!r}")
    return {
        "product": str(drop["product"]),
        "stage": str(drop["stage"]),
        "advance": float(drop["advance"]),
        "start": _as_utc(drop["start"], "conversion_drop start"),
        "product_code": list(products).index(drop["product"]),
        "stage_code": list(stages).index(drop["stage"]),
    }


def simulate_funnel(
    n_leads: int,
    stages: Sequence[str] = ("New", "Qualified", "Proposal", "Negotiation"),
    advance: Sequence[float] = (0.6, 0.5, 0.6, 0.7),
    median_days: Sequence[float] = (3, 7, 10, 14),
    start: TimestampLike = "2024-01-01",
    end: TimestampLike = "2024-03-01",
    snapshot: TimestampLike | None = None,
    users: Sequence[str] = ("alice", "bob", "carol", "dave", "erin", "frank"),
    teams: Sequence[str] = ("Europe", "Americas"),
    products: Sequence[str] = ("Basic", "Pro", "Enterprise"),
    sources: Sequence[str] = ("web", "referral", "event", "outbound"),
    campaigns: Sequence[str] = ("spring", "summer", "partner"),
    won_stage: str = "Won",
    skip_probability: float = 0.0,
    seed: int = 0,
    user_skill: Sequence[float] | None = None,
    stuck_share: float = 0.0,
    stuck_factor: float = 10.0,
    conversion_drop: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A synthetic pipeline with known truth, as a transitions table snapshotted at ``snapshot``.

    The model (every lead independent, everything memoryless):

    - ``n_leads`` leads arrive uniformly at random between ``start`` and ``end`` (naive = UTC), in
      ``stages[0]``; lead ids 1..n in arrival order;
    - a stay in stage k lasts an exponential time of median ``median_days[k]`` days;
    - at the end of the stay the lead advances with probability ``advance[k]``, otherwise it is lost there;
      advancing from the last stage wins it: it enters ``won_stage`` (sequence len(stages) + 1), a stay that
      ends as it starts;
    - when advancing, with probability ``skip_probability`` it jumps over the next stage (only to a stage
      that is not the last one, so the won stage is always entered from the last stage);
    - the table is cut at ``snapshot`` (default ``end``): stays entered after it are dropped, stays running
      at it are open (``left_at`` NaT) and their lead's outcome is ``open``.

    Two optional departures from the model, both off by default (the output is then the same as without them):

    - ``user_skill`` (one positive number per user): the advance probabilities of a lead are multiplied by
      its salesperson's skill (capped at 1), so some salespeople convert better than others;
    - ``stuck_share`` (in [0, 1]): that share of the leads, drawn at random, are stuck: each of their stays
      lasts ``stuck_factor`` times longer (same distribution, longer median);
    - ``conversion_drop`` (a mapping with keys ``product``, ``stage``, ``advance``, ``start``): from the
      instant ``start`` on, a stay of a lead of that product in that stage that ends advances with
      probability ``advance`` instead (a drop in one segment, for the early warnings to find).

    Each lead gets a salesperson from ``users`` (uniformly; the team is ``teams[i % len(teams)]`` for the
    i-th user), a product, a source and a campaign (uniformly from ``products``, ``sources``,
    ``campaigns``), an ``expected_revenue`` (lognormal, median 5 000 x 4^i for the i-th product);
    lost leads get a ``lost_reason`` (one of :data:`LOST_REASONS`). Stage k has ``stage_sequence`` k + 1.

    Output: ``(transitions, truth)``:

    - ``transitions``: a validated transitions table (see :mod:`funnel_metrics.transitions`) with the extra
      columns ``expected_revenue`` (float64) and ``campaign`` (string); rows ordered by lead, then time;
    - ``truth`` (dict): ``advance`` (stage -> advance probability), ``win_probability`` (stage -> probability
      that a lead entering it is eventually won: the product of ``advance`` from that stage on, adjusted for
      skips; the won stage 1), ``median_days`` (stage -> median stay in days), ``skip_probability``,
      ``won_stage``, ``snapshot`` (UTC timestamp); with ``user_skill``, ``advance_by_user`` (user -> stage ->
      advance probability); with ``stuck_share``, ``stuck_lead_ids`` (sorted int64 array of the stuck leads);
      with ``conversion_drop``, ``conversion_drop`` (its values, ``start`` as a UTC timestamp).

    Vectorised: one pass per stage step, so 200 000 leads take well under a second or two.

    Raises:
        ValueError: inconsistent or out-of-range parameters, ``end`` not after ``start``.
    """
    skill = _check_departures(users, user_skill, stuck_share, stuck_factor)
    probabilities, medians = _check_parameters(
        n_leads,
        stages,
        advance,
        median_days,
        skip_probability,
        won_stage,
        {"users": users, "teams": teams, "products": products, "sources": sources, "campaigns": campaigns},
    )
    begin, finish = _as_utc(start, "start"), _as_utc(end, "end")
    if finish <= begin:
        raise ValueError(f"end ({finish}) must be after start ({begin})")
    cut = _as_utc(snapshot, "snapshot") if snapshot is not None else finish
    rng = np.random.default_rng(seed)
    n = int(n_leads)
    k_stages = len(stages)
    skip = float(skip_probability)
    scale_ns = medians / math.log(2.0) * _NANOS_PER_DAY  # exponential scale with that median

    arrival = np.sort(begin.value + np.floor(rng.random(n) * (finish.value - begin.value)).astype("int64"))
    stage_now = np.zeros(n, dtype="int64")
    time_now = arrival.copy()
    outcome = np.full(n, 2, dtype="int8")  # 0 won, 1 lost, 2 not finished (never at the end of the loop)
    stays_so_far = np.zeros(n, dtype="int64")
    parts: list[tuple[np.ndarray, ...]] = []  # (lead, stage, entered, left, number of the stay)
    # the departures draw only when asked for: without them the random stream is the original one
    user = rng.integers(0, len(users), n) if skill is not None else None
    slowness = np.where(rng.random(n) < stuck_share, float(stuck_factor), 1.0) if stuck_share > 0 else None
    drop = _check_drop(conversion_drop, stages, products)
    product = rng.integers(0, len(products), n) if drop is not None else None
    active = np.arange(n)
    while len(active):
        stage = stage_now[active]
        entered = time_now[active]
        dwell = rng.exponential(1.0, len(active)) * scale_ns[stage]
        if slowness is not None:
            dwell = dwell * slowness[active]
        left = entered + dwell.astype("int64")
        number = stays_so_far[active]
        parts.append((active, stage, entered, left, number))
        stays_so_far[active] += 1
        chance = probabilities[stage]
        if skill is not None:
            chance = np.minimum(chance * skill[user[active]], 1.0)
        if drop is not None:
            hit = (product[active] == drop["product_code"]) & (stage == drop["stage_code"])
            chance = np.where(hit & (left >= drop["start"].value), drop["advance"], chance)
        moves_on = rng.random(len(active)) < chance
        won = moves_on & (stage == k_stages - 1)
        if won.any():
            winners = active[won]
            parts.append((winners, np.full(len(winners), k_stages), left[won], left[won], number[won] + 1))
            stays_so_far[winners] += 1
        outcome[active[won]] = 0
        outcome[active[~moves_on]] = 1
        going = moves_on & ~won
        following = stage[going] + 1
        if skip > 0:
            jumps = (rng.random(len(following)) < skip) & (following + 1 <= k_stages - 1)
            following = following + jumps
        active = active[going]
        stage_now[active] = following
        time_now[active] = left[going]

    if not parts:  # no lead at all
        parts.append(tuple(np.empty(0, dtype="int64") for _ in range(5)))
    lead, stage, entered, left, number = (np.concatenate(column) for column in zip(*parts, strict=True))
    kept = entered <= cut.value
    lead, stage, entered, left, number = lead[kept], stage[kept], entered[kept], left[kept], number[kept]
    running = left > cut.value
    outcome[lead[running]] = 2
    # kept stays are a prefix of each lead's stays: place them by lead, then by their number
    per_lead = np.bincount(lead, minlength=n)
    position = (np.cumsum(per_lead) - per_lead)[lead] + number
    order = np.empty(len(lead), dtype="int64")
    order[position] = np.arange(len(lead))
    lead, stage, entered, left = lead[order], stage[order], entered[order], left[order]
    left = np.where(left > cut.value, np.iinfo(np.int64).min, left)  # NaT while running

    if user is None:
        user = rng.integers(0, len(users), n)
    if product is None:
        product = rng.integers(0, len(products), n)
    source = rng.integers(0, len(sources), n)
    campaign = rng.integers(0, len(campaigns), n)
    revenue_scale = 5_000.0 * 4.0 ** np.arange(len(products))  # median revenue by product rank
    revenue = np.round(revenue_scale[product] * rng.lognormal(0.0, 0.5, n), 2)
    reason = np.where(outcome == 1, rng.integers(0, len(LOST_REASONS), n), -1)
    team_of_user = np.arange(len(users)) % len(teams)
    outcome_names = ("won", "lost", "open")

    frame = pd.DataFrame(
        {
            "lead_id": lead + 1,
            "stage": _labels([*stages, won_stage], stage),
            "stage_sequence": stage + 1,
            "entered_at": pd.Series(entered.view("datetime64[ns]")).dt.tz_localize("UTC"),
            "left_at": pd.Series(left.view("datetime64[ns]")).dt.tz_localize("UTC"),
            "user": _labels(users, user[lead]),
            "team": _labels(teams, team_of_user[user[lead]]),
            "product": _labels(products, product[lead]),
            "source": _labels(sources, source[lead]),
            "outcome": _labels(outcome_names, outcome[lead].astype("int64")),
            "lost_reason": _labels(LOST_REASONS, np.where(outcome[lead] == 1, reason[lead], -1)),
            "expected_revenue": revenue[lead],
            "campaign": _labels(campaigns, campaign[lead]),
        }
    )
    truth = _truth(stages, probabilities, medians, skip, won_stage)
    truth["snapshot"] = cut
    if skill is not None:
        truth["advance_by_user"] = {
            str(name): dict(zip(stages, np.minimum(probabilities * factor, 1.0).tolist(), strict=True))
            for name, factor in zip(users, skill.tolist(), strict=True)
        }
    if slowness is not None:
        truth["stuck_lead_ids"] = np.flatnonzero(slowness > 1.0) + 1
    if drop is not None:
        truth["conversion_drop"] = {key: drop[key] for key in ("product", "stage", "advance", "start")}
    return _validated(frame), truth  # already in the normal form: checked, not rebuilt


# ------------------------------------------------------------------------------------------------------
# the demand waterfall
# ------------------------------------------------------------------------------------------------------

WATERFALL_REASONS: Mapping[str, float] = {
    "wrong_company_size": 0.25,
    "wrong_persona": 0.2,
    "wrong_region": 0.1,
    "existing_customer": 0.05,
    "competitor": 0.05,
    "no_reachable_contact": 0.15,
    "not_ready_yet": 0.2,
}
"""The rejection reasons :func:`simulate_waterfall` draws by default, with their shares (the Odoo seed's
codes)."""

# outcomes of a stay in a progress phase, in the order of the probability vector
_ACCEPTED, _REJECTED, _RETURNED, _RECYCLE, _DISQUALIFY, _LOSE = range(6)


def _waterfall_probabilities(
    names: Sequence[str],
    advance: Sequence[float],
    recycle: Sequence[float],
    disqualify: Sequence[float],
    median_days: Sequence[float],
    handoffs: Mapping[str, Mapping[str, Any]],
) -> tuple[np.ndarray, np.ndarray]:
    """Per progress phase, the probabilities of the six outcomes of a stay, and the exponential scales."""
    sizes = {len(names), len(advance), len(recycle), len(disqualify), len(median_days)}
    if len(sizes) != 1 or not names:
        raise ValueError("advance, recycle, disqualify and median_days need one value per progress phase")
    unknown = sorted(set(handoffs) - set(names))
    if unknown:
        raise ValueError(f"handoffs from unknown phase(s) {unknown}; the progress phases are {list(names)}")
    probabilities = np.zeros((len(names), 6))
    for k, name in enumerate(names):
        share = np.array([advance[k], recycle[k], disqualify[k]], dtype="float64")
        if not (np.isfinite(share).all() and (share >= 0).all() and share.sum() <= 1 + 1e-12):
            raise ValueError(
                f"phase {name!r}: advance, recycle and disqualify must be >= 0 and add up to at most 1"
            )
        handoff = handoffs.get(name)
        if handoff is None:
            probabilities[k, _ACCEPTED] = share[0]
        else:
            acceptance, returned = float(handoff["acceptance"]), float(handoff.get("returned", 0.0))
            if not (0 <= acceptance <= 1 and 0 <= returned <= 1):
                raise ValueError(f"handoff from {name!r}: acceptance and returned must be in [0, 1]")
            probabilities[k, _ACCEPTED] = share[0] * acceptance
            probabilities[k, _REJECTED] = share[0] * (1 - acceptance) * (1 - returned)
            probabilities[k, _RETURNED] = share[0] * (1 - acceptance) * returned
        probabilities[k, _RECYCLE] = share[1]
        probabilities[k, _DISQUALIFY] = share[2]
        probabilities[k, _LOSE] = max(1.0 - share.sum(), 0.0)
    medians = np.asarray(median_days, dtype="float64")
    if not (np.isfinite(medians) & (medians > 0)).all():
        raise ValueError(f"median_days must be positive numbers, got {list(median_days)}")
    return probabilities, medians / math.log(2.0) * _NANOS_PER_DAY


def _utc(nanoseconds: np.ndarray) -> pd.Series:
    """int64 nanoseconds (NaT marker for none) as a UTC timestamp Series."""
    return pd.Series(nanoseconds.view("datetime64[ns]")).dt.tz_localize("UTC")


def simulate_waterfall(
    n_leads: int,
    advance: Sequence[float] = (0.7, 0.6, 0.7, 0.6, 0.45),
    recycle: Sequence[float] = (0.0, 0.05, 0.1, 0.1, 0.0),
    disqualify: Sequence[float] = (0.2, 0.1, 0.05, 0.0, 0.0),
    median_days: Sequence[float] = (2, 6, 4, 10, 20),
    handoffs: Mapping[str, Mapping[str, Any]] | None = None,
    reasons: Mapping[str, float] | None = None,
    re_entry: float = 0.3,
    recycled_median_days: float = 30.0,
    start: TimestampLike = "2024-01-01",
    end: TimestampLike = "2024-07-01",
    snapshot: TimestampLike | None = None,
    sources: Sequence[str] = ("web", "event", "referral"),
    mediums: Sequence[str] = ("organic", "paid", "email"),
    campaigns: Sequence[str] = ("spring", "summer", "webinar"),
    countries: Sequence[str] = ("Belgium", "France", "Germany"),
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """A synthetic demand waterfall with known truth: phase stays and handoffs, snapshotted mid-flight.

    The phases are the seeded ones (:data:`funnel_metrics.phase_stays.DEFAULT_PHASES`): five progress phases
    (Inquiry, Marketing Qualified, Sales Accepted, Sales Qualified, Opportunity), then Won, Lost, Recycled,
    Disqualified. The model (every lead independent, everything memoryless):

    - ``n_leads`` leads arrive uniformly between ``start`` and ``end`` (naive = UTC) in Inquiry; lead ids
      1..n in arrival order; each gets a source, medium, campaign and country (uniformly from the pools);
    - a stay in progress phase k lasts an exponential time of median ``median_days[k]`` days, whatever
      its outcome; at its end the lead moves on with probability ``advance[k]`` (from Opportunity: to Won),
      is recycled with probability ``recycle[k]``, disqualified with ``disqualify[k]``, else lost;
    - ``handoffs`` (default: from Marketing Qualified, marketing to inside sales, acceptance 0.7, 10 % of
      the others returned by the deadline, decisions in a median of 8 hours, 20 % of the acceptances
      automatic; from Sales Qualified, inside sales to the field, acceptance 0.85, median 24 hours): maps a
      phase to ``acceptance``, ``returned``, ``decision_hours``, ``auto`` and optional ``route``, ``to``.
      Moving on from such a phase goes through a handoff, accepted with probability ``acceptance``;
      otherwise it is rejected (a reason drawn from ``reasons``, default :data:`WATERFALL_REASONS`) or, with
      probability ``returned``, returned by the deadline; both recycle the lead. The handoff is sent a time
      ``min(D, stay)`` before the end of the stay, ``D`` exponential of median ``decision_hours``, and
      decided at the end of the stay;
    - Won, Lost and Disqualified are final (their stays stay open). A Recycled stay lasts an exponential time
      of median ``recycled_median_days``, after which the lead re-enters Inquiry with probability
      ``re_entry``; otherwise it stays recycled;
    - the tables are cut at ``snapshot`` (default ``end``): stays and handoffs begun after it are dropped,
      stays running at it are open, handoffs decided after it are awaiting.

    The team of a stay is the phase's group: ``Marketing`` (Inquiry, Marketing Qualified), ``Inside Sales``
    (Sales Accepted, Sales Qualified), ``Field Sales`` (Opportunity and after); its user is the lead's
    salesperson in that group (``user_<group>_<n>``, none in marketing).

    Output: ``(stays, handoffs, truth)``: validated tables (:mod:`funnel_metrics.phase_stays`), rows by lead
    then time (handoffs by id = time order per lead), and ``truth``: ``phases`` (the progress phases), per
    phase ``conversion`` (the probability that a stay ends by moving on), ``recycle``, ``disqualify``,
    ``lost`` (idem), ``median_days``; per handoff phase ``acceptance`` (accepted / decided),
    ``median_hours_to_decision`` (``1 / (1 / decision_hours + 1 / (24 median_days))``: the earlier of the
    decision delay and the stay), ``reason_share`` (reason -> share of the rejections); ``re_entry``,
    ``snapshot``.

    A lead recycled from a phase and coming back to it counts once in :func:`funnel_metrics.waterfall` (it
    advanced if any of its passages did), so with ``re_entry`` > 0 the waterfall's conversion of the phases
    recycled leads come back to is at least the per-stay ``conversion``; the other phases and the times,
    acceptance and reasons are per stay and per handoff, recovered as they are.

    Raises:
        ValueError: inconsistent or out-of-range parameters, ``end`` not after ``start``.
    """
    from funnel_metrics.phase_stays import DEFAULT_PHASES, handoffs_table, phase_stays_table

    progress = [row for row in DEFAULT_PHASES if row[3] == "progress"]
    names = [row[1] for row in progress]
    final = {row[3]: row for row in DEFAULT_PHASES if row[3] != "progress"}
    if handoffs is None:
        handoffs = {
            names[1]: {
                "acceptance": 0.7,
                "returned": 0.1,
                "decision_hours": 8.0,
                "auto": 0.2,
                "route": "Marketing to Inside Sales",
                "to": "Inside Sales",
            },
            names[3]: {
                "acceptance": 0.85,
                "returned": 0.0,
                "decision_hours": 24.0,
                "auto": 0.0,
                "route": "Inside Sales to Field",
                "to": "Field Sales",
            },
        }
    probabilities, scale_ns = _waterfall_probabilities(
        names, advance, recycle, disqualify, median_days, handoffs
    )
    mix = dict(WATERFALL_REASONS if reasons is None else reasons)
    weights = np.asarray(list(mix.values()), dtype="float64")
    if not mix or not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
        raise ValueError("reasons must map at least one reason to a non-negative share")
    weights = weights / weights.sum()
    if not 0.0 <= float(re_entry) <= 1.0:
        raise ValueError(f"re_entry must be in [0, 1], got {re_entry!r}")
    if not (math.isfinite(float(recycled_median_days)) and float(recycled_median_days) > 0):
        raise ValueError(f"recycled_median_days must be a positive number, got {recycled_median_days!r}")
    if int(n_leads) < 0:
        raise ValueError(f"n_leads must be >= 0, got {n_leads!r}")
    for name, pool in (
        ("sources", sources),
        ("mediums", mediums),
        ("campaigns", campaigns),
        ("countries", countries),
    ):
        if len(pool) == 0:
            raise ValueError(f"{name} must name at least one value")
    begin, finish = _as_utc(start, "start"), _as_utc(end, "end")
    if finish <= begin:
        raise ValueError(f"end ({finish}) must be after start ({begin})")
    cut = _as_utc(snapshot, "snapshot") if snapshot is not None else finish
    rng = np.random.default_rng(seed)
    n = int(n_leads)
    k_progress = len(names)
    handoff_of = np.array([names[k] in handoffs for k in range(k_progress)])
    spec = [handoffs.get(name, {}) for name in names]
    decision_ns = np.array([float(s.get("decision_hours", 1.0)) for s in spec]) / math.log(2.0) * 3.6e12
    auto = np.array([float(s.get("auto", 0.0)) for s in spec])
    cumulative = np.cumsum(probabilities, axis=1)
    # phase codes: 0..4 progress, then won, lost, recycled, disqualified (in DEFAULT_PHASES order)
    won, lost, recycled, disqualified = k_progress, k_progress + 1, k_progress + 2, k_progress + 3

    arrival = np.sort(begin.value + np.floor(rng.random(n) * (finish.value - begin.value)).astype("int64"))
    group_of = np.array([0, 0, 1, 1, 2])  # Marketing, Inside Sales, Field Sales by progress phase
    stays: list[tuple[np.ndarray, ...]] = []  # (lead, phase code, entered, left or NaT, group)
    sent: list[tuple[np.ndarray, ...]] = []  # (lead, phase, sent, decided, outcome, auto)
    active, phase_now, time_now = np.arange(n), np.zeros(n, dtype="int64"), arrival
    while len(active):
        phase = phase_now
        dwell = (rng.exponential(1.0, len(active)) * scale_ns[phase]).astype("int64")
        left = time_now + dwell
        stays.append((active, phase, time_now, left, group_of[phase]))
        draw = rng.random(len(active))
        outcome = (draw[:, None] >= cumulative[phase]).sum(axis=1).clip(max=_LOSE)
        delay = (rng.exponential(1.0, len(active)) * decision_ns[phase]).astype("int64")
        automatic = rng.random(len(active)) < auto[phase]
        handed = handoff_of[phase] & (outcome <= _RETURNED)
        sent.append(
            (
                active[handed],
                phase[handed],
                (left - np.minimum(delay, dwell))[handed],
                left[handed],
                outcome[handed],
                (automatic & (outcome == _ACCEPTED))[handed],
            )
        )
        onward = outcome == _ACCEPTED
        to_won = onward & (phase == k_progress - 1)
        ending = {
            won: to_won,
            recycled: (outcome >= _REJECTED) & (outcome <= _RECYCLE),
            disqualified: outcome == _DISQUALIFY,
            lost: outcome == _LOSE,
        }
        back = np.zeros(len(active), dtype=bool)
        back_at = np.zeros(len(active), dtype="int64")
        for code, where in ending.items():
            entered = left[where]
            closes = np.full(len(entered), _NAT)
            if code == recycled:
                stay = (
                    rng.exponential(1.0, len(entered)) * recycled_median_days / math.log(2.0) * _NANOS_PER_DAY
                ).astype("int64")
                again = rng.random(len(entered)) < re_entry
                closes = np.where(again, entered + stay, _NAT)
                back[where] = again
                back_at[where] = entered + stay
            # an outcome is the group's the lead was in; a recycled lead goes back to marketing
            group = np.zeros(len(entered), "int64") if code == recycled else group_of[phase[where]]
            stays.append((active[where], np.full(len(entered), code), entered, closes, group))
        going = onward & ~to_won
        phase_next = np.where(going, phase + 1, 0)
        time_next = np.where(going, left, back_at)
        keep = going | back
        active, phase_now, time_now = active[keep], phase_next[keep], time_next[keep]

    if not stays:  # no lead at all
        stays.append(tuple(np.empty(0, "int64") for _ in range(5)))
        sent.append(tuple(np.empty(0, "int64") for _ in range(6)))
    lead, code, entered, left, group = (np.concatenate(c) for c in zip(*stays, strict=True))
    kept = entered <= cut.value
    lead, code, entered, left, group = (a[kept] for a in (lead, code, entered, left, group))
    left = np.where((left == _NAT) | (left > cut.value), _NAT, left)
    order = np.lexsort((np.where(left == _NAT, np.iinfo(np.int64).max, left), entered, lead))
    lead, code, entered, left, group = (a[order] for a in (lead, code, entered, left, group))

    all_phases = [*progress, final["won"], final["lost"], final["recycled"], final["disqualified"]]
    codes_order = [*range(k_progress), won, lost, recycled, disqualified]
    phase_names = [all_phases[codes_order.index(c)][1] for c in range(len(all_phases))]
    phase_sequence = np.array([all_phases[codes_order.index(c)][2] for c in range(len(all_phases))])
    phase_kinds = [all_phases[codes_order.index(c)][3] for c in range(len(all_phases))]
    groups = ("Marketing", "Inside Sales", "Field Sales")
    source, medium = rng.integers(0, len(sources), n), rng.integers(0, len(mediums), n)
    campaign, country = rng.integers(0, len(campaigns), n), rng.integers(0, len(countries), n)
    rep = rng.integers(0, 3, (n, 3))
    users = [f"user_{g.split()[0].lower()}_{i + 1}" for g in groups for i in range(3)]
    user = np.where(group == 0, -1, group * 3 + rep[lead, group])
    first_stay = np.r_[True, lead[1:] != lead[:-1]] if len(lead) else np.zeros(0, bool)
    origins = ("create", "accept", "won", "lost", "reject")
    accepted_into = np.isin(code, np.flatnonzero(np.r_[False, handoff_of[:-1]]))  # entered on an acceptance
    origin = np.select(
        [first_stay, accepted_into, code == won, code == lost, code == recycled], [0, 1, 2, 3, 4], default=-1
    )
    frame = pd.DataFrame(
        {
            "lead_id": lead + 1,
            "phase": _labels(phase_names, code),
            "phase_sequence": phase_sequence[code].astype("int64"),
            "phase_kind": _labels(phase_kinds, code),
            "entered_at": _utc(entered),
            "left_at": _utc(left),
            "team": _labels(groups, group),
            "user": _labels(users, user),
            "source": _labels(sources, source[lead]),
            "medium": _labels(mediums, medium[lead]),
            "campaign": _labels(campaigns, campaign[lead]),
            "country": _labels(countries, country[lead]),
            "origin": _labels(origins, origin),
        }
    )
    h_lead, h_phase, h_sent, h_decided, h_outcome, h_auto = (
        np.concatenate(c) for c in zip(*sent, strict=True)
    )
    kept = h_sent <= cut.value
    h_lead, h_phase, h_sent, h_decided, h_outcome, h_auto = (
        a[kept] for a in (h_lead, h_phase, h_sent, h_decided, h_outcome, h_auto)
    )
    order = np.lexsort((h_sent, h_lead))
    h_lead, h_phase, h_sent, h_decided, h_outcome, h_auto = (
        a[order] for a in (h_lead, h_phase, h_sent, h_decided, h_outcome, h_auto)
    )
    awaiting = h_decided > cut.value
    state = np.where(awaiting, 0, np.select([h_outcome == _ACCEPTED, h_outcome == _REJECTED], [1, 2], 3))
    reason = np.where(state == 2, rng.choice(len(mix), size=len(state), p=weights), -1)
    route = [str(s.get("route", f"From {name}")) for s, name in zip(spec, names, strict=True)]
    to = [str(s.get("to", groups[min(group_of[k] + 1, 2)])) for k, s in enumerate(spec)]
    handoff_frame = pd.DataFrame(
        {
            "handoff_id": np.arange(1, len(h_lead) + 1, dtype="int64"),
            "lead_id": h_lead + 1,
            "route": _labels(route, h_phase),
            "from_team": _labels(groups, group_of[h_phase]),
            "to": _labels(to, h_phase),
            "phase": _labels(phase_names, h_phase),
            "sent_at": _utc(h_sent),
            "decided_at": _utc(np.where(awaiting, _NAT, h_decided)),
            "state": _labels(("awaiting", "accepted", "rejected", "returned"), state),
            "auto_accepted": h_auto & ~awaiting,
            "reason": _labels(list(mix), reason),
            "team": _labels(groups, group_of[h_phase]),
            "source": _labels(sources, source[h_lead]),
            "medium": _labels(mediums, medium[h_lead]),
            "campaign": _labels(campaigns, campaign[h_lead]),
            "country": _labels(countries, country[h_lead]),
        }
    )
    truth: dict[str, Any] = {
        "phases": names,
        "conversion": dict(zip(names, probabilities[:, _ACCEPTED].tolist(), strict=True)),
        "recycle": dict(
            zip(names, probabilities[:, _REJECTED:_DISQUALIFY].sum(axis=1).tolist(), strict=True)
        ),
        "disqualify": dict(zip(names, probabilities[:, _DISQUALIFY].tolist(), strict=True)),
        "lost": dict(zip(names, probabilities[:, _LOSE].tolist(), strict=True)),
        "median_days": dict(zip(names, [float(m) for m in median_days], strict=True)),
        "acceptance": {},
        "median_hours_to_decision": {},
        "reason_share": dict(zip(mix, weights.tolist(), strict=True)),
        "re_entry": float(re_entry),
        "snapshot": cut,
    }
    for k, name in enumerate(names):
        if handoff_of[k]:
            decided = probabilities[k, _ACCEPTED:_RECYCLE].sum()
            truth["acceptance"][name] = float(probabilities[k, _ACCEPTED] / decided) if decided else math.nan
            hours = float(spec[k].get("decision_hours", 1.0))
            truth["median_hours_to_decision"][name] = 1.0 / (
                1.0 / hours + 1.0 / (24.0 * float(median_days[k]))
            )
    return phase_stays_table(frame), handoffs_table(handoff_frame), truth
