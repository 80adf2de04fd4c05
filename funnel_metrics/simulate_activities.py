"""Completed activities drawn onto a simulated pipeline, with a known effect of each type on winning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from funnel_metrics.activity_wins import deals_from_transitions, validate_activities
from funnel_metrics.funnel import _validated
from funnel_metrics.simulate import _labels

DEFAULT_EFFECTS: dict[str, tuple[float, ...]] = {
    # win odds rise with meetings up to 2, then flat
    "Meeting": (1.0, 2.0, 4.0, 4.0, 4.0, 4.0),
    # calls do not matter up to 4; 5 or more go with lower odds (a deal chased, not won)
    "Call": (1.0, 1.0, 1.0, 1.0, 1.0, 0.3),
    # e-mails do not matter
    "Email": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
}
"""Per type, the relative odds of winning of a deal with 0, 1, ... activities of it (the last: that many or
more), as :func:`simulate_activities` uses them by default."""
DEFAULT_MEANS: dict[str, float] = {"Meeting": 1.5, "Call": 2.5, "Email": 2.0}
"""Per type, the mean number of activities of an open or lost deal (Poisson)."""


def _poisson_table(mean: float, last: int) -> np.ndarray:
    """P(count = c) for c = 0..top (a Poisson of that mean), with top well past the mean and ``last``."""
    top = int(last + mean + 12 * np.sqrt(mean) + 20)
    pmf = np.empty(top + 1)
    pmf[0] = np.exp(-mean)
    pmf[1:] = np.exp(-mean) * np.cumprod(mean / np.arange(1, top + 1))
    return pmf / pmf.sum()


def draw_activity_counts(
    won: np.ndarray, odds: Sequence[float], mean: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """How many activities of one type each deal has, given whether it was won: the model of
    :func:`simulate_activities` (Poisson of mean ``mean`` for a deal not won, tilted by the relative odds
    ``odds`` by count -- the last for that many or more -- for a won one).

    Output: ``(counts, win_odds_factor)``: int64 counts, one per deal, and per count bucket
    ``odds / Z`` (float64), the factor by which the bucket multiplies the odds of winning
    (``w / (1 - w)``) of the deals it is drawn for.
    """
    odds = np.asarray(odds, dtype="float64")
    last = len(odds) - 1
    prior = _poisson_table(float(mean), last)
    tilted = prior * odds[np.minimum(np.arange(len(prior)), last)]
    z = tilted.sum()
    tilted /= z
    draw = rng.random(len(won))
    counts = np.where(
        won,
        np.searchsorted(np.cumsum(tilted), draw * tilted.sum(), side="right"),
        np.searchsorted(np.cumsum(prior), draw * prior.sum(), side="right"),
    ).astype("int64")
    return counts, odds / z


def simulate_activities(
    transitions: pd.DataFrame,
    effects: Mapping[str, Sequence[float]] | None = None,
    means: Mapping[str, float] | None = None,
    after_share: float = 0.1,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Completed activities for the leads of a transitions table, whose effect on winning is known.

    The model, per activity type t (independently across types):

    - a lost deal, and an open lead, has a Poisson number of activities of t of mean ``means[t]``: the
      prior ``pi_t(c)``;
    - a won deal has ``c`` of them with probability ``pi_t(c) m_t(c) / Z_t``, where ``m_t = effects[t]``
      (relative odds by count, the last value for that many or more) and ``Z_t = sum_c pi_t(c) m_t(c)``.

    By Bayes, the odds of winning of a deal with ``c`` activities of t (grouped as ``win_rate_by_count``
    groups them with ``max_count = len(effects[t]) - 1``) are then exactly ``w / (1 - w) * m_t(c) / Z_t``,
    where ``w`` is the share of the table's decided leads that were won: the truth.

    Times: a deal's activities are done uniformly between its lead's first stage entry and its decision (an
    open lead's: up to the table's latest timestamp); besides, a share ``after_share`` of the decided deals
    gets one more activity of a random type *after* the decision, which must not count.
    Who: the lead's salesperson (its latest stay's ``user``).

    Output: ``(activities, truth)``: a validated activities table sorted by lead and time; ``truth``:
    ``win_share`` (w), ``win_rate`` (type -> list of the true win rate per count bucket), ``useful_count``
    (type -> the lowest count at which ``m_t`` reaches its maximum if it rises before it, else None),
    ``lowering_from`` (type -> the lowest count after the maximum where ``m_t`` is below it, else None),
    ``max_count`` (type -> ``len(effects[t]) - 1``).

    Raises:
        ValueError: an empty or negative effect list, a negative mean, ``after_share`` outside [0, 1].
    """
    effects = dict(DEFAULT_EFFECTS if effects is None else effects)
    means = dict(DEFAULT_MEANS if means is None else means)
    if not 0.0 <= float(after_share) <= 1.0:
        raise ValueError(f"after_share must be in [0, 1], got {after_share!r}")
    for name, odds in effects.items():
        if len(odds) < 2 or min(odds) <= 0:
            raise ValueError(f"effects[{name!r}] needs at least two positive relative odds, got {list(odds)}")
        if float(means.get(name, -1)) < 0:
            raise ValueError(f"means[{name!r}] must be a number >= 0, got {means.get(name)!r}")
    table = _validated(transitions)
    rng = np.random.default_rng(seed)
    first = table.groupby("lead_id", sort=True)["entered_at"].min()
    snapshot = table["left_at"].max()
    snapshot = (
        max(snapshot, table["entered_at"].max()) if not pd.isna(snapshot) else table["entered_at"].max()
    )
    leads = first.index.to_numpy(dtype="int64")
    deals = deals_from_transitions(table)
    position = pd.Index(deals["lead_id"]).get_indexer(leads)
    decided = position >= 0
    won = np.zeros(len(leads), dtype=bool)
    won[decided] = (deals["outcome"] == "won").to_numpy(dtype=bool)[position[decided]]
    start_ns = first.to_numpy(dtype="datetime64[ns]").view("int64")
    end_ns = np.full(len(leads), pd.Timestamp(snapshot).value, dtype="int64")
    end_ns[decided] = deals["decided_at"].to_numpy(dtype="datetime64[ns]").view("int64")[position[decided]]
    last_user = table.sort_values(["lead_id", "entered_at"], kind="stable").groupby("lead_id")["user"].last()
    user_names = last_user.astype(object).where(last_user.notna(), None).tolist()

    w = float(won[decided].mean()) if decided.any() else float("nan")
    truth: dict[str, Any] = {
        "win_share": w,
        "win_rate": {},
        "useful_count": {},
        "lowering_from": {},
        "max_count": {},
    }
    type_names = sorted(effects)
    lead_parts, type_parts, count_parts = [], [], []
    for code, name in enumerate(type_names):
        odds = np.asarray(effects[name], dtype="float64")
        last = len(odds) - 1
        counts, factor = draw_activity_counts(won, odds, float(means[name]), rng)
        lead_parts.append(np.repeat(np.arange(len(leads)), counts))
        type_parts.append(np.full(int(counts.sum()), code))
        bucket_odds = w / (1.0 - w) * factor
        truth["win_rate"][name] = (bucket_odds / (1.0 + bucket_odds)).tolist()
        peak = int(np.argmax(odds))
        truth["useful_count"][name] = peak if peak > 0 and odds[:peak].min() < odds[peak] else None
        lower = np.flatnonzero(odds[peak:] < odds[peak])
        truth["lowering_from"][name] = int(peak + lower[0]) if len(lower) else None
        truth["max_count"][name] = last
        count_parts.append(counts)
    lead_index = np.concatenate(lead_parts)
    type_code = np.concatenate(type_parts)
    span = (end_ns - start_ns)[lead_index]
    done = start_ns[lead_index] + (rng.random(len(lead_index)) * span).astype("int64")
    late = np.flatnonzero(decided & (rng.random(len(leads)) < float(after_share)))
    lead_index = np.r_[lead_index, late]
    type_code = np.r_[type_code, rng.integers(0, len(type_names), len(late))]
    done = np.r_[done, end_ns[late] + (1.0 + rng.random(len(late)) * 10.0 * 86_400e9).astype("int64")]
    order = np.lexsort((done, lead_index))
    lead_index, type_code, done = lead_index[order], type_code[order], done[order]
    user_codes, user_pool = pd.factorize(pd.Series(user_names, dtype=object), use_na_sentinel=True)
    frame = pd.DataFrame(
        {
            "lead_id": leads[lead_index],
            "activity_type": _labels(type_names, type_code),
            "done_at": pd.Series(done.view("datetime64[ns]")).dt.tz_localize("UTC"),
            "user": _labels([str(u) for u in user_pool], user_codes[lead_index]),
        }
    )
    return validate_activities(frame), truth
