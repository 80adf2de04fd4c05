"""Calibration of stated stage probabilities against the observed chance of winning, under censoring.

A pipeline snapshot is right-censored: many leads are still open, and the open ones are disproportionately
the slow ones -- including slow wins. The plain share "won / (won + lost)" of the leads that entered a stage
counts only the leads that finished, so it over-represents quick losses and under-states the chance of
winning. Here each stage's chance is built from stage-to-stage conversions instead, each of which only looks
at leads that have *decided* at that stage (moved on or were lost there); a lead still sitting in a stage
is left out of that stage's conversion but counts as a success at every stage it already passed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from funnel_metrics.funnel import LOST, WON, _Facts, _validated
from funnel_metrics.stats import normal_quantile

CALIBRATION_COLUMNS: tuple[str, ...] = (
    "stage",
    "stage_sequence",
    "stated",
    "observed",
    "n",
    "ci_low",
    "ci_high",
    "recommended",
)


def _won_stages(facts: _Facts) -> np.ndarray:
    """Per stage: True for a won stage, i.e. where some won lead ends and every lead in it is won."""
    code, _ = facts.last_stay
    won_last = np.bincount(code[facts.outcome == WON], minlength=facts.n_stages)
    not_won = np.bincount(
        np.nonzero(facts.has & (facts.outcome != WON)[:, None])[1], minlength=facts.n_stages
    )
    return (won_last > 0) & (not_won == 0)


def _chain(facts: _Facts, z: float) -> dict[str, np.ndarray]:
    """Per stage: won flag, decided leads ``n``, ``observed`` P(won | entered) and its log-scale interval."""
    won = _won_stages(facts)
    counts = facts.counts()
    # moving on, or being won while in the stage without a later stay, is success at the stage
    success = (counts["advanced"] + counts["won_here"])[0].astype("float64")
    decided = success + counts["lost"][0]
    conversion = np.full(facts.n_stages, np.nan)
    np.divide(success, decided, out=conversion, where=decided > 0)
    # variance terms of log(conversion) by the delta method, (1 - c) / (n c), with c shrunk by half a lead
    # toward 1/2 so that stages converting 0 % or 100 % do not claim a zero-width interval
    adjusted = (success + 0.5) / (decided + 1.0)
    term = (1.0 - adjusted) / (np.maximum(decided, 1.0) * adjusted)

    chain = np.flatnonzero(~won)[::-1]  # non-won stages, last first
    observed = np.full(facts.n_stages, np.nan)
    smoothed = np.full(facts.n_stages, np.nan)
    variance = np.full(facts.n_stages, np.nan)
    observed[chain] = np.cumprod(conversion[chain])
    smoothed[chain] = np.cumprod(adjusted[chain])
    variance[chain] = np.cumsum(term[chain])
    spread = np.exp(z * np.sqrt(variance))
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(observed > 0, observed / spread, 0.0)
        high = np.minimum(np.where(observed > 0, observed, smoothed) * spread, 1.0)
    low[np.isnan(observed)] = np.nan
    high[np.isnan(observed)] = np.nan
    observed[won], low[won], high[won] = 1.0, 1.0, 1.0
    n = np.where(won, counts["entered"][0], decided).astype("int64")
    return {"won": won, "observed": observed, "n": n, "ci_low": low, "ci_high": high}


def _stated_by_stage(stated: Mapping[str, float] | pd.Series, stages: pd.Series) -> np.ndarray:
    """The stated probability of each stage (NaN where not given); checks the values."""
    if isinstance(stated, pd.Series):
        stated = stated.to_dict()
    if not isinstance(stated, Mapping):
        raise ValueError(f"stated must be a mapping stage name -> probability, got {type(stated).__name__}")
    values = {}
    for name, value in stated.items():
        try:
            number = float(value) if value is not None else np.nan
        except (TypeError, ValueError) as exc:
            raise ValueError(f"stated probability of {name!r} is not a number: {value!r}") from exc
        if not np.isnan(number) and not 0.0 <= number <= 1.0:
            raise ValueError(
                f"stated probability of {name!r} must be a fraction between 0 and 1, got {number:g}"
                + (" (Odoo stores probabilities in percent: divide by 100)" if 1.0 < number <= 100.0 else "")
            )
        values[str(name)] = number
    return np.array([values.get(name, np.nan) for name in stages.tolist()], dtype="float64")


def recommend(
    observed: np.ndarray, n: np.ndarray, stated: np.ndarray, min_sample: int = 30, prior_weight: float = 20
) -> np.ndarray:
    """The probability to state, element-wise: ``observed`` when ``n >= min_sample``; otherwise shrunk
    toward the stated value, ``(n * observed + prior_weight * stated) / (n + prior_weight)``; ``observed``
    where nothing is stated, ``stated`` where nothing is observed (NaN: neither); clipped to [0, 1].

    Inputs are fractions (``observed``, ``stated``, NaN when unknown) and sample sizes ``n`` of the same
    shape; the result is a float64 array of it.
    """
    observed = np.asarray(observed, dtype="float64")
    stated = np.asarray(stated, dtype="float64")
    n = np.asarray(n, dtype="float64")
    weight = float(prior_weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        shrunk = (n * observed + weight * stated) / (n + weight)
    recommended = np.where(n >= int(min_sample), observed, shrunk)
    recommended = np.where(np.isnan(stated), observed, recommended)
    recommended = np.where(np.isnan(observed), stated, recommended)
    return np.clip(recommended, 0.0, 1.0)


def calibration(
    transitions: pd.DataFrame,
    stated: Mapping[str, float] | pd.Series,
    min_sample: int = 30,
    prior_weight: float = 20,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Stated stage probabilities against the observed probability of winning, with a recommendation.

    Inputs:

    - ``transitions``: a transitions table (validated first);
    - ``stated``: mapping stage name -> stated probability of winning, a fraction in [0, 1] (Odoo's
      ``crm.stage.probability`` / 100); stages not in it have no stated value, names not in the table are
      ignored;
    - ``min_sample``: decided leads at a stage from which ``observed`` is recommended as it is;
    - ``prior_weight``: weight, in leads, of the stated value when the sample is smaller;
    - ``confidence``: level of the interval (default 0.95).

    Won stages are recognised in the data: stages where won leads end and that hold no lead that is not
    won. For each other stage k, the *conversion* is ``c_k = s_k / (s_k + l_k)`` over the leads that decided
    there: ``s_k`` moved on to a later stage (as in :func:`funnel_metrics.stage_conversion`) or were won
    while in it, ``l_k`` were lost in it; open leads still in it are left out.

    Output: one row per stage in pipeline order (won stages included), index 0..n-1, columns

    - ``stage`` (string), ``stage_sequence`` (int64), ``stated`` (float64, NaN when not given);
    - ``observed`` (float64): estimated probability that a lead which entered the stage is eventually won,
      the product of the conversions of this stage and of every later non-won stage. This is unbiased under
      censoring (open leads are never failures, and slow wins are not under-counted) on the assumption that
      a lead's chances depend on the stage it is in, not on its past (how it got there, how long it took).
      Won stages: 1. NaN when a stage of the chain has no decided lead yet;
    - ``n`` (int64): decided leads at the stage (``s_k + l_k``); for a won stage the leads that entered it;
    - ``ci_low``, ``ci_high`` (float64): ``confidence`` interval of ``observed`` by the delta method on
      ``log(observed)``: variance ``sum((1 - c_j) / (n_j c_j))`` over the factors, each ``c_j`` taken as
      ``(s_j + 0.5) / (n_j + 1)`` in the variance so that 0 % and 100 % stages keep a width; when
      ``observed`` is 0 the interval is [0, the upper end around that smoothed product]; clipped to [0, 1];
      1 for won stages;
    - ``recommended`` (float64): ``observed`` when ``n >= min_sample``; otherwise shrunk toward the stated
      value, ``(n * observed + prior_weight * stated) / (n + prior_weight)``; ``observed`` when there is no
      stated value, ``stated`` when there is no observed one; clipped to [0, 1]; 1 for won stages.

    ``result.attrs["brier"]``: the Brier score of the stated probabilities, the mean over the stays of
    *resolved* leads (outcome won = 1, lost = 0; open leads have no outcome yet) in stages with a stated
    value of ``(stated - outcome) ** 2``; NaN when there is no such stay. ``result.attrs["brier_stays"]``:
    how many stays it averages. Resolved leads are themselves a censored sample (quick outcomes first), so
    read it as a comparison between stated sets on the same data rather than an absolute grade.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: a stated value outside [0, 1] or not a number, ``min_sample`` or ``prior_weight``
            negative, or a bad ``confidence``.
    """
    z = normal_quantile(confidence)
    if int(min_sample) < 0 or float(prior_weight) < 0:
        raise ValueError("min_sample and prior_weight must be >= 0")
    facts = _Facts(_validated(transitions))
    stated_value = _stated_by_stage(stated, facts.stages["stage"])
    chain = _chain(facts, z)
    observed, n, won = chain["observed"], chain["n"], chain["won"]

    recommended = np.where(won, 1.0, recommend(observed, n, stated_value, min_sample, prior_weight))

    result = facts.stages.copy()
    result["stated"] = stated_value
    result["observed"] = observed
    result["n"] = n
    result["ci_low"] = chain["ci_low"]
    result["ci_high"] = chain["ci_high"]
    result["recommended"] = recommended

    stay_stated = stated_value[facts.codes] if facts.n_stages else np.empty(0)
    stay_outcome = facts.outcome[facts.lead]
    scored = ~np.isnan(stay_stated) & ((stay_outcome == WON) | (stay_outcome == LOST))
    errors = (stay_stated[scored] - (stay_outcome[scored] == WON)) ** 2
    result.attrs["brier"] = float(errors.mean()) if len(errors) else float("nan")
    result.attrs["brier_stays"] = int(scored.sum())
    return result
