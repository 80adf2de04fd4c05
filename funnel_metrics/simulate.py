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
