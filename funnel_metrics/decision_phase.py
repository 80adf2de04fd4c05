"""The customer's decision phase as a forecast input: win rate by stage x phase, and whether the phase
improves the forecast over the stage alone on held-out months.

The customer's decision phase (where the customer stands in their own buying process: exploring,
comparing vendors, deciding...) is recorded apart from our sales stage, as a history of changes. This
module asks whether it tells more about the chance of winning than the stage does -- and reports the
answer, whichever it is.

Inputs:

- the transitions table (:mod:`funnel_metrics.transitions`): where each lead stood, and its final outcome;
- the phase changes table, one row per change of a lead's decision phase (:data:`PHASE_CHANGE_COLUMNS`):
  ``lead_id`` (int), ``changed_at`` (instant, UTC), ``phase`` (the phase after the change; empty: the
  phase was cleared), optional ``phase_sequence`` (int, the phase's order in the buying process).

The observation grid is the **month ends** (the first instant of each month, UTC) from the first stay up
to the snapshot: at each, every lead then *open* -- in a stay that is not in a won stage, neither won nor
lost yet -- is one observation, with the stage of that stay and its phase at that instant (the last change
at or before it; :data:`NO_PHASE` before any). Its outcome is the lead's final one; leads still open at the
snapshot stay in the observations but out of every rate and score.

- :func:`phase_observations` builds the observations;
- :func:`phase_win_rates` -- per stage x phase, decided leads, won, win rate with a Wilson interval;
- :func:`phase_forecast_gain` -- the Brier score of a forecast from the stage alone and from the stage and
  phase, both fitted on earlier months and scored on each held-out month, their difference with its
  interval, and a verdict (:data:`GAIN_VERDICTS`) that claims a gain only where the interval excludes 0;
- :func:`simulate_phase_changes` -- phase histories of known information for a transitions table (tests,
  the bundled demo).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from funnel_metrics.calibration import _won_stages
from funnel_metrics.dwell import _latest_timestamp
from funnel_metrics.funnel import LOST, OPEN, WON, _Facts, _validated
from funnel_metrics.stats import normal_quantile, wilson_interval
from funnel_metrics.transitions import read_table

PHASE_CHANGE_COLUMNS: tuple[str, ...] = ("lead_id", "changed_at", "phase")
"""Required columns of the phase changes table (``phase_sequence`` is optional)."""

NO_PHASE = "none"
"""The phase of a lead before any change (or after the phase was cleared)."""

OBSERVATION_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "observed_at",
    "month",
    "stage",
    "stage_sequence",
    "phase",
    "phase_sequence",
    "outcome",
)
"""Columns of :func:`phase_observations`."""

WIN_RATE_COLUMNS: tuple[str, ...] = (
    "stage",
    "stage_sequence",
    "phase",
    "phase_sequence",
    "n",
    "won",
    "rate",
    "ci_low",
    "ci_high",
    "open",
    "stage_n",
    "stage_rate",
)
"""Columns of :func:`phase_win_rates`."""

GAIN_COLUMNS: tuple[str, ...] = (
    "month",
    "n",
    "brier_stage",
    "brier_phase",
    "gain",
    "ci_low",
    "ci_high",
)
"""Columns of :func:`phase_forecast_gain` (one row per held-out month)."""

GAIN_VERDICTS: dict[str, str] = {
    "better": "Adding the decision phase improves the forecast: the stage-and-phase forecast scores a lower "
    "(better) Brier score than the stage alone on the held-out months, and the interval of the difference "
    "excludes 0.",
    "worse": "Adding the decision phase makes the forecast worse: the stage-and-phase forecast scores a "
    "higher Brier score than the stage alone on the held-out months, and the interval of the difference "
    "excludes 0.",
    "no_difference": "The decision phase does not measurably improve the forecast: on the held-out months "
    "the difference between the two Brier scores is within its interval of 0. Forecast from the stage alone.",
    "no_data": "Not enough decided leads to compare the two forecasts: it needs leads open at an earlier "
    "month end (to fit) and at a later one (to score) that have since been won or lost.",
}
"""The verdicts of :func:`phase_forecast_gain` (``attrs["verdict"]``) and what they mean, in words."""

_INT64_MAX = np.iinfo("int64").max


class PhaseChangesError(ValueError):
    """The phase changes table is not usable; the message says what to fix."""


def validate_phase_changes(phase_changes: pd.DataFrame) -> pd.DataFrame:
    """The phase changes table, checked and normalised.

    Input: a DataFrame with :data:`PHASE_CHANGE_COLUMNS` (more columns are dropped, except
    ``phase_sequence``). ``changed_at``: ISO 8601 text or datetimes (naive = UTC).

    Output: a new DataFrame with ``lead_id`` (int64), ``changed_at`` (datetime64[ns, UTC]), ``phase``
    (string; :data:`NO_PHASE` where empty), ``phase_sequence`` (int64: the given one, else the phases'
    alphabetical rank; :data:`NO_PHASE` is -1), sorted by ``lead_id``, ``changed_at`` (stable).

    Raises:
        PhaseChangesError: a missing column, a lead id that is not an integer, an unreadable instant.
    """
    if not isinstance(phase_changes, pd.DataFrame):
        raise PhaseChangesError(f"phase changes must be a DataFrame, got {type(phase_changes).__name__}")
    missing = [name for name in PHASE_CHANGE_COLUMNS if name not in phase_changes.columns]
    if missing:
        raise PhaseChangesError(
            f"phase changes are missing column(s): {', '.join(missing)} "
            f"(it has: {', '.join(map(str, phase_changes.columns))}); expected lead_id, changed_at, phase"
        )
    lead = pd.to_numeric(phase_changes["lead_id"], errors="coerce")
    if lead.isna().any() or (lead != lead.round()).any():
        row = int(np.flatnonzero((lead.isna() | (lead != lead.round())).to_numpy())[0])
        raise PhaseChangesError(
            f"phase changes: lead_id must be an integer, cannot read {phase_changes['lead_id'].iloc[row]!r} "
            f"(row {row + 1})"
        )
    raw_at = phase_changes["changed_at"]
    changed_at = pd.to_datetime(raw_at, errors="coerce", utc=True, format="ISO8601")
    if changed_at.isna().any():
        row = int(np.flatnonzero(changed_at.isna().to_numpy())[0])
        raise PhaseChangesError(
            f"phase changes: cannot read the instant {raw_at.iloc[row]!r} (row {row + 1}); use ISO 8601, "
            "e.g. 2024-03-01T10:00:00Z"
        )
    phase = phase_changes["phase"].astype("string").str.strip()
    phase = phase.mask(phase.isna() | (phase == ""), NO_PHASE)
    if "phase_sequence" in phase_changes.columns:
        sequence = pd.to_numeric(phase_changes["phase_sequence"], errors="coerce").fillna(0).astype("int64")
    else:
        names = sorted(set(phase.tolist()) - {NO_PHASE})
        sequence = phase.map({name: rank for rank, name in enumerate(names)}).fillna(-1).astype("int64")
    sequence = sequence.where(phase != NO_PHASE, -1)
    frame = pd.DataFrame(
        {
            "lead_id": lead.astype("int64").to_numpy(),
            "changed_at": changed_at.astype("datetime64[ns, UTC]").to_numpy(),
            "phase": phase.astype("string").to_numpy(),
            "phase_sequence": sequence.to_numpy(dtype="int64"),
        }
    )
    frame["changed_at"] = pd.to_datetime(frame["changed_at"], utc=True).astype("datetime64[ns, UTC]")
    frame["phase"] = frame["phase"].astype("string")
    return frame.sort_values(["lead_id", "changed_at"], kind="stable", ignore_index=True)


def load_phase_changes(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a phase changes table (``lead_id``, ``changed_at``, ``phase``, optional ``phase_sequence``) from
    CSV or Parquet and check it (:func:`validate_phase_changes`).

    Raises:
        PhaseChangesError: an empty file, a missing column or a bad value (the message names the file).
        TransitionsError: an unknown suffix, Parquet without ``pyarrow``. FileNotFoundError: no such file.
    """
    name = os.fspath(path)
    frame = read_table(path, "a phase changes CSV", PhaseChangesError)
    frame.columns = [str(column).strip() for column in frame.columns]
    try:
        return validate_phase_changes(frame)
    except PhaseChangesError as exc:
        raise PhaseChangesError(f"phase changes file {name!r}: {exc}") from None


def month_ends(first: pd.Timestamp, last: pd.Timestamp) -> pd.DatetimeIndex:
    """The observation grid: the first instant (00:00 UTC) of every month after ``first`` up to ``last``
    included -- the end of each month from ``first``'s on."""
    start = first.tz_convert("UTC").tz_localize(None).to_period("M").to_timestamp() + pd.offsets.MonthBegin(1)
    grid = pd.date_range(start, last.tz_convert("UTC").tz_localize(None), freq="MS", tz="UTC")
    return grid.as_unit("ns")


def phase_observations(
    transitions: pd.DataFrame,
    phase_changes: pd.DataFrame,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """The leads open at each month end, with their stage, decision phase and final outcome.

    Inputs:

    - ``transitions``: a transitions table (validated first);
    - ``phase_changes``: a phase changes table (:func:`validate_phase_changes`); changes of leads not in
      ``transitions`` are ignored;
    - ``as_of``: the snapshot (naive = UTC); default the latest timestamp of ``transitions``. Month ends
      after it are not observed.

    Output: one row per (month end, lead open at it), columns :data:`OBSERVATION_COLUMNS`, sorted by
    ``observed_at``, ``lead_id``:

    - ``observed_at`` (datetime64[ns, UTC]): the month end, the first instant of the next month;
      ``month`` (string ``YYYY-MM``): the month that ends there;
    - ``stage``, ``stage_sequence``: the stage of the lead's stay running at that instant (entered at or
      before it, left after it); stays in won stages (recognised as :func:`funnel_metrics.calibration`
      does) are not observed: the lead was already won;
    - ``phase`` (string), ``phase_sequence`` (int64): the phase of the lead's last change at or before
      the instant, :data:`NO_PHASE` (-1) before any;
    - ``outcome``: the lead's final outcome, ``won``, ``lost`` or ``open`` (still open at the snapshot).

    Raises:
        TransitionsError: the transitions table is invalid.
        PhaseChangesError: the phase changes table is invalid.
    """
    table = _validated(transitions)
    changes = validate_phase_changes(phase_changes)
    facts = _Facts(table)
    snapshot = _latest_timestamp(table) if as_of is None else pd.Timestamp(as_of)
    if snapshot is not None and snapshot.tzinfo is None:
        snapshot = snapshot.tz_localize("UTC")
    if table.empty or snapshot is None:
        return _empty_observations()
    grid = month_ends(table["entered_at"].min(), snapshot)
    ticks = grid.asi8  # UTC nanoseconds
    entered = facts.entered
    left = table["left_at"].to_numpy(dtype="datetime64[ns]").view("int64").copy()
    left[table["left_at"].isna().to_numpy()] = _INT64_MAX
    first = np.searchsorted(ticks, entered, side="left")  # ticks[first] >= entered
    end = np.searchsorted(ticks, left, side="left")  # ticks[end - 1] < left
    count = np.clip(end - first, 0, None)
    count[_won_stages(facts)[facts.codes]] = 0
    rows = np.repeat(np.arange(len(table)), count)
    starts = np.cumsum(count) - count
    tick = first[rows] + (np.arange(len(rows)) - np.repeat(starts, count))

    outcome_text = np.array(["open", "won", "lost"], dtype=object)
    code_of = np.empty(3, dtype="int64")
    code_of[[OPEN, WON, LOST]] = [0, 1, 2]
    observed = pd.DataFrame(
        {
            "lead_id": table["lead_id"].to_numpy(dtype="int64")[rows],
            "observed_at": grid[tick],
            "stage": table["stage"].array[rows],
            "stage_sequence": table["stage_sequence"].to_numpy(dtype="int64")[rows],
            "outcome": pd.array(outcome_text[code_of[facts.outcome[facts.lead[rows]]]], dtype="string"),
        }
    )
    observed = observed.sort_values(["observed_at", "lead_id"], kind="stable", ignore_index=True)
    changes = changes[changes["lead_id"].isin(np.unique(observed["lead_id"].to_numpy()))]
    observed = pd.merge_asof(
        observed,
        changes.rename(columns={"changed_at": "observed_at"}).sort_values("observed_at", kind="stable"),
        on="observed_at",
        by="lead_id",
        direction="backward",
        allow_exact_matches=True,
    )
    observed["phase"] = observed["phase"].astype("string").fillna(NO_PHASE)
    observed["phase_sequence"] = observed["phase_sequence"].fillna(-1).astype("int64")
    month = (observed["observed_at"] - pd.Timedelta(days=1)).dt.strftime("%Y-%m")
    observed["month"] = month.astype("string")
    observed = observed.sort_values(["observed_at", "lead_id"], kind="stable", ignore_index=True)
    return observed[list(OBSERVATION_COLUMNS)]


def _empty_observations() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": pd.Series(dtype="int64"),
            "observed_at": pd.Series(dtype="datetime64[ns, UTC]"),
            "month": pd.Series(dtype="string"),
            "stage": pd.Series(dtype="string"),
            "stage_sequence": pd.Series(dtype="int64"),
            "phase": pd.Series(dtype="string"),
            "phase_sequence": pd.Series(dtype="int64"),
            "outcome": pd.Series(dtype="string"),
        }
    )


def _check_observations(observations: pd.DataFrame) -> None:
    missing = [name for name in OBSERVATION_COLUMNS if name not in observations.columns]
    if missing:
        raise ValueError(
            f"observations are missing column(s): {', '.join(missing)}: build them with phase_observations()"
        )


def phase_win_rates(observations: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Win rate by stage x decision phase, with Wilson intervals.

    Input: ``observations`` of :func:`phase_observations`; ``confidence``: level of the intervals.

    A lead counts once in a cell (stage, phase) however many month ends it was seen there, and may count
    in several cells (it moved on, or its phase changed). Output: one row per cell seen, in pipeline then
    phase order (:data:`NO_PHASE` first), columns :data:`WIN_RATE_COLUMNS`:

    - ``n`` (int64): decided leads seen in the cell (won or lost since); ``won`` (int64): those won;
    - ``rate`` (float64): ``won / n``, NaN when ``n`` is 0; ``ci_low``, ``ci_high``: its Wilson interval
      (:func:`funnel_metrics.wilson_interval`), NaN when ``n`` is 0;
    - ``open`` (int64): leads seen in the cell and still open at the snapshot (in no rate);
    - ``stage_n``, ``stage_rate``: the same count and win rate for the stage whatever the phase (a lead
      once per stage), to read each cell against.

    Raises:
        ValueError: a missing column, or a bad ``confidence``.
    """
    normal_quantile(confidence)
    _check_observations(observations)
    keys = ["stage_sequence", "stage", "phase_sequence", "phase"]
    cells = observations.drop_duplicates(["lead_id", *keys])
    decided = cells["outcome"] != "open"
    frame = cells[keys].assign(
        n=decided.to_numpy(dtype="int64"),
        won=(cells["outcome"] == "won").to_numpy(dtype="int64"),
        open=(~decided).to_numpy(dtype="int64"),
    )
    result = frame.groupby(keys, sort=True, observed=True)[["n", "won", "open"]].sum().reset_index()
    stages = observations.drop_duplicates(["lead_id", "stage_sequence", "stage"])
    stage_decided = stages["outcome"] != "open"
    per_stage = (
        stages[["stage_sequence", "stage"]]
        .assign(
            stage_n=stage_decided.to_numpy(dtype="int64"),
            stage_won=(stages["outcome"] == "won").to_numpy(dtype="int64"),
        )
        .groupby(["stage_sequence", "stage"], sort=True, observed=True)[["stage_n", "stage_won"]]
        .sum()
        .reset_index()
    )
    result = result.merge(per_stage, on=["stage_sequence", "stage"], how="left")
    n = result["n"].to_numpy(dtype="float64")
    won = result["won"].to_numpy(dtype="float64")
    low, high = wilson_interval(won, n, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        result["rate"] = np.where(n > 0, won / n, np.nan)
        stage_n = result["stage_n"].to_numpy(dtype="float64")
        result["stage_rate"] = np.where(stage_n > 0, result["stage_won"] / stage_n, np.nan)
    result["ci_low"], result["ci_high"] = low, high
    for column in ("n", "won", "open", "stage_n"):
        result[column] = result[column].astype("int64")
    result["stage"] = result["stage"].astype("string")
    result["phase"] = result["phase"].astype("string")
    return result[list(WIN_RATE_COLUMNS)]


def phase_forecast_gain(
    observations: pd.DataFrame,
    holdout_months: int = 6,
    prior_weight: float = 20.0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Whether adding the decision phase improves the Brier score over the stage alone, on held-out months.

    Inputs:

    - ``observations`` of :func:`phase_observations` (only decided leads are fitted and scored);
    - ``holdout_months``: the last this many months (of those with decided observations) are scored, each
      after at least one earlier month to fit on;
    - ``prior_weight``: weight, in observations, of the stage's rate in a stage x phase cell: sparse cells
      stay near the stage's rate instead of over-fitting;
    - ``confidence``: level of the intervals.

    Two forecasts of an observation (a lead open at a month end; 1 if it was won, 0 if lost) are fitted
    for each held-out month on the observations of the **earlier** months, without the lead's own (a lead
    seen at several month ends must not forecast itself):

    - stage alone: ``p_s`` = won / decided observations of its stage (the rate of every earlier observation
      when the stage has none);
    - stage and phase: ``p_sf = (won_sf + prior_weight * p_s) / (n_sf + prior_weight)`` over the
      observations of its stage and phase.

    Output: one row per held-out month scored, columns :data:`GAIN_COLUMNS`: ``n`` observations scored,
    ``brier_stage`` and ``brier_phase`` (mean squared error of each forecast; lower is better), ``gain`` =
    ``brier_stage - brier_phase`` (> 0: the phase helps) and its ``confidence`` interval (``ci_low``,
    ``ci_high``; a paired normal interval: within a month each lead is one observation).

    ``result.attrs``: the same over every held-out month -- ``n``, ``leads``, ``brier_stage``,
    ``brier_phase``, ``gain``, ``ci_low``, ``ci_high`` (the interval of the pooled difference by the delta
    method with the observations clustered by lead, since a lead is scored at several month ends), and
    ``verdict``, a key of :data:`GAIN_VERDICTS`: ``better`` when ``ci_low > 0``, ``worse`` when
    ``ci_high < 0``, ``no_difference`` otherwise, ``no_data`` when nothing was scored; ``prior_weight``.

    Raises:
        ValueError: a missing column, ``holdout_months`` < 1, ``prior_weight`` < 0, a bad ``confidence``.
    """
    z = normal_quantile(confidence)
    _check_observations(observations)
    if int(holdout_months) < 1:
        raise ValueError(f"holdout_months must be at least 1, got {holdout_months}")
    if float(prior_weight) < 0:
        raise ValueError(f"prior_weight must be >= 0, got {prior_weight}")
    weight = float(prior_weight)
    decided = observations[observations["outcome"] != "open"]
    month_code, months = pd.factorize(decided["month"], sort=True)
    stage_code, _ = pd.factorize(decided["stage_sequence"].astype("string") + "\x00" + decided["stage"])
    phase_code, _ = pd.factorize(decided["phase"])
    n_months, n_stages, n_phases = (
        len(months),
        int(stage_code.max(initial=-1)) + 1,
        int(phase_code.max(initial=-1)) + 1,
    )
    y = (decided["outcome"] == "won").to_numpy(dtype="float64")
    cell = (month_code * n_stages + stage_code) * n_phases + phase_code
    size = n_months * n_stages * n_phases
    shape = (n_months, n_stages, n_phases)
    n_cell = np.bincount(cell, minlength=size).reshape(shape).astype("float64")
    w_cell = np.bincount(cell, weights=y, minlength=size).reshape(shape)
    # counts of the months before each month: cumulative sums shifted by one month
    before_n = np.cumsum(n_cell, axis=0) - n_cell
    before_w = np.cumsum(w_cell, axis=0) - w_cell

    first_scored = max(1, n_months - int(holdout_months))
    scored = month_code >= first_scored
    m, s, f, outcome = month_code[scored], stage_code[scored], phase_code[scored], y[scored]
    lead = decided["lead_id"].to_numpy(dtype="int64")
    # the lead's own earlier observations (one per month: all in earlier months), left out of its fit
    own = decided[["lead_id"]].assign(_s=stage_code, _f=phase_code)
    own_cell = own.groupby(["lead_id", "_s", "_f"], sort=False).cumcount().to_numpy(dtype="float64")[scored]
    own_stage = own.groupby(["lead_id", "_s"], sort=False).cumcount().to_numpy(dtype="float64")[scored]
    own_all = own.groupby("lead_id", sort=False).cumcount().to_numpy(dtype="float64")[scored]

    n_sf = before_n[m, s, f] - own_cell
    w_sf = before_w[m, s, f] - own_cell * outcome
    n_s = before_n.sum(axis=2)[m, s] - own_stage
    w_s = before_w.sum(axis=2)[m, s] - own_stage * outcome
    n_all = before_n.sum(axis=(1, 2))[m] - own_all
    w_all = before_w.sum(axis=(1, 2))[m] - own_all * outcome
    fitted = n_all > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        p_stage = np.where(n_s > 0, w_s / n_s, w_all / n_all)
        p_phase = np.where(n_sf + weight > 0, (w_sf + weight * p_stage) / (n_sf + weight), p_stage)
    m, outcome, lead = m[fitted], outcome[fitted], lead[scored][fitted]
    error_stage = (p_stage[fitted] - outcome) ** 2
    error_phase = (p_phase[fitted] - outcome) ** 2
    difference = error_stage - error_phase

    per_month = pd.DataFrame({"m": m, "stage": error_stage, "phase": error_phase, "d": difference})
    grouped = per_month.groupby("m", sort=True)
    rows = grouped.agg(
        n=("d", "size"),
        brier_stage=("stage", "mean"),
        brier_phase=("phase", "mean"),
        gain=("d", "mean"),
        sd=("d", "std"),
    ).reset_index()
    half = z * rows["sd"].fillna(0.0).to_numpy() / np.sqrt(rows["n"].to_numpy(dtype="float64"))
    result = pd.DataFrame(
        {
            "month": pd.array(np.asarray(months)[rows["m"].to_numpy(dtype="int64")], dtype="string"),
            "n": rows["n"].to_numpy(dtype="int64"),
            "brier_stage": rows["brier_stage"].to_numpy(dtype="float64"),
            "brier_phase": rows["brier_phase"].to_numpy(dtype="float64"),
            "gain": rows["gain"].to_numpy(dtype="float64"),
            "ci_low": rows["gain"].to_numpy(dtype="float64") - half,
            "ci_high": rows["gain"].to_numpy(dtype="float64") + half,
        },
        columns=list(GAIN_COLUMNS),
    )
    result.attrs.update(_pooled(lead, error_stage, error_phase, difference, z))
    result.attrs["prior_weight"] = weight
    return result


def _pooled(
    lead: np.ndarray, error_stage: np.ndarray, error_phase: np.ndarray, difference: np.ndarray, z: float
) -> dict[str, Any]:
    """The scores over every held-out observation, the difference's interval clustered by lead."""
    total = len(difference)
    if not total:
        nan = float("nan")
        return {
            "n": 0,
            "leads": 0,
            "brier_stage": nan,
            "brier_phase": nan,
            "gain": nan,
            "ci_low": nan,
            "ci_high": nan,
            "verdict": "no_data",
        }
    codes, leads = pd.factorize(lead)
    per_lead_d = np.bincount(codes, weights=difference)
    per_lead_n = np.bincount(codes).astype("float64")
    gain = float(difference.mean())
    clusters = len(leads)
    residual = per_lead_d - gain * per_lead_n
    variance = clusters / max(clusters - 1, 1) * float((residual**2).sum()) / float(total) ** 2
    half = z * np.sqrt(variance)
    low, high = gain - half, gain + half
    verdict = "better" if low > 0 else "worse" if high < 0 else "no_difference"
    return {
        "n": int(total),
        "leads": int(clusters),
        "brier_stage": float(error_stage.mean()),
        "brier_phase": float(error_phase.mean()),
        "gain": gain,
        "ci_low": float(low),
        "ci_high": float(high),
        "verdict": verdict,
    }


def simulate_phase_changes(
    transitions: pd.DataFrame,
    likelihood: Mapping[str, tuple[float, float]],
    delay_days: float = 0.0,
    seed: int = 0,
    phase_sequence: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Phase histories of known information for a transitions table (for tests and the demo).

    Inputs:

    - ``transitions``: a transitions table (validated first);
    - ``likelihood``: phase name -> ``(P(phase | won), P(phase | lost))``: each lead gets at most one
      phase, drawn given its final outcome (open leads: the mean of the two), none with the remaining
      probability; each column must sum to at most 1. Equal pairs make the phase carry no information;
      otherwise, by Bayes, a lead in phase ``f`` among the decided leads of a stage with ``w`` won and ``l``
      lost wins with probability ``w P(f|won) / (w P(f|won) + l P(f|lost))``;
    - ``delay_days``: the change comes at the lead's first stage entry plus a uniform delay in
      ``[0, delay_days]`` days (0: at entry, so the lead is in its phase at every month end); changes after
      the lead's last stay ended or after the snapshot are dropped;
    - ``seed``: random seed; ``phase_sequence``: phase -> order (default: the order of ``likelihood``).

    Output: a phase changes table (:func:`validate_phase_changes`), one row per lead given a phase.

    Raises:
        ValueError: a probability outside [0, 1], or a column of ``likelihood`` summing over 1.
    """
    table = _validated(transitions)
    names = list(likelihood)
    given_won = np.array([float(likelihood[name][0]) for name in names])
    given_lost = np.array([float(likelihood[name][1]) for name in names])
    for probabilities in (given_won, given_lost):
        if ((probabilities < 0) | (probabilities > 1)).any() or probabilities.sum() > 1 + 1e-12:
            raise ValueError("likelihood: probabilities must be in [0, 1] and sum to at most 1 per outcome")
    rng = np.random.default_rng(seed)
    snapshot = _latest_timestamp(table)
    # a lead still open is in the pipeline up to the snapshot
    leads = (
        table.assign(_left=table["left_at"].fillna(snapshot))
        .groupby("lead_id", sort=True)
        .agg(first=("entered_at", "min"), last=("_left", "max"), outcome=("outcome", "first"))
    )
    outcome = leads["outcome"].to_numpy(dtype=object)
    cumulative = np.where(
        (outcome == "won")[:, None],
        np.cumsum(given_won)[None, :],
        np.where(
            (outcome == "lost")[:, None],
            np.cumsum(given_lost)[None, :],
            np.cumsum((given_won + given_lost) / 2)[None, :],
        ),
    )
    draw = rng.random(len(leads))
    chosen = (draw[:, None] >= cumulative).sum(axis=1)  # == len(names): no phase
    delay = pd.to_timedelta(rng.random(len(leads)) * float(delay_days) * 86400.0, unit="s")
    changed_at = leads["first"] + delay
    keep = (chosen < len(names)) & (changed_at <= leads["last"]).to_numpy()
    sequence = phase_sequence or {name: rank for rank, name in enumerate(names)}
    phases = np.array(names, dtype=object)[chosen[keep]]
    return validate_phase_changes(
        pd.DataFrame(
            {
                "lead_id": leads.index.to_numpy(dtype="int64")[keep],
                "changed_at": changed_at.to_numpy()[keep],
                "phase": phases,
                "phase_sequence": [int(sequence[name]) for name in phases],
            }
        )
    )
