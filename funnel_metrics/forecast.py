"""Waterfall forecast of the open pipeline: expected wins (and revenue) per period of expected close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from funnel_metrics.calibration import _chain, _won_stages
from funnel_metrics.dwell import _latest_timestamp
from funnel_metrics.funnel import (
    OPEN,
    _as_utc,
    _Facts,
    _grouped_dwell,
    _offset,
    _period_grid,
    _period_starts,
    _stay_days,
    _utc_series,
    _validated,
)
from funnel_metrics.stats import normal_quantile

FORECAST_COLUMNS: tuple[str, ...] = ("period", "overdue", "later", "open_leads", "expected_wins")
_NANOS_PER_DAY = 86_400 * 1_000_000_000
_NAT = np.iinfo(np.int64).min  # NaT as int64 nanoseconds

TimestampLike = str | dt.datetime | np.datetime64 | pd.Timestamp


def _probabilities(
    facts: _Facts, win_probability: Mapping[str, float] | None, needed: np.ndarray
) -> np.ndarray:
    """P(win) per stage code: the given mapping (checked) or the calibration's observed value."""
    if win_probability is None:
        return _chain(facts, normal_quantile(0.95))["observed"]
    names = facts.stages["stage"].tolist()
    given = {str(k): v for k, v in dict(win_probability).items()}
    missing = sorted({names[k] for k in np.flatnonzero(needed)} - set(given))
    if missing:
        raise ValueError(
            f"win_probability has no value for stage(s) holding open leads: {', '.join(missing)}"
        )
    out = np.array([float(given.get(name, np.nan)) for name in names], dtype="float64")
    if ((out < 0) | (out > 1)).any():
        raise ValueError("win_probability values must be fractions between 0 and 1")
    return out


def forecast(
    transitions: pd.DataFrame,
    as_of: TimestampLike | None = None,
    freq: str = "MS",
    horizon: int = 6,
    win_probability: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """When the open leads are expected to close, and how many wins (and how much revenue) to expect.

    Inputs:

    - ``transitions``: a transitions table (validated first); if it has an ``expected_revenue`` column
      (float, the lead's expected revenue; the value on the lead's current stay is used, NaN = 0) the
      forecast includes revenue;
    - ``as_of``: the snapshot time (naive = UTC); default the latest timestamp in the table;
    - ``freq``: pandas frequency of the periods (default ``"MS"``, calendar months; see
      :func:`funnel_metrics.cohort_conversion`);
    - ``horizon``: number of periods, from the one holding ``as_of`` (>= 1);
    - ``win_probability``: mapping stage name -> P(an open lead in that stage is won), a fraction; default
      the ``observed`` column of :func:`funnel_metrics.calibration` (censoring-aware). It must cover every
      stage holding an open lead.

    Every open lead (outcome ``open``) sits in the stage of its last stay, k, since ``entered_at``. Its
    expected close date is ``as_of + D_k - spent``, where ``D_k`` is the sum of the Kaplan-Meier median days
    (:func:`funnel_metrics.time_in_stage` at ``as_of``) of stage k and of every later non-won stage, and
    ``spent`` the days it has already been in k. A lead whose expected close date is before ``as_of`` is
    *overdue*: it is counted in the overdue row, not in a period (a period that has already ended, or the
    current one, would hide that it is late). Its expected wins are its P(win); its expected revenue
    P(win) x expected revenue.

    Output: ``horizon + 2`` rows, index 0..horizon+1, columns

    - ``period`` (``datetime64[ns, UTC]``): start of the period; NaT on the overdue row;
    - ``overdue`` (bool): True for the first row, which gathers the overdue leads; False otherwise;
    - ``later`` (bool): False for the overdue row and the ``horizon`` periods from the one holding
      ``as_of``; True for the last row, which gathers everything expected after them (its ``period`` is the
      start of the first period past the horizon) and the leads whose close date cannot be estimated (a
      median of the remaining stages is unknown because too many stays are still open);
    - ``open_leads`` (int64): open leads expected to close in the period;
    - ``expected_wins`` (float64): the sum of their P(win);
    - ``expected_revenue`` (float64): the sum of P(win) x expected revenue -- only when the table has an
      ``expected_revenue`` column.

    ``result.attrs``: ``as_of`` (the snapshot time), ``win_probability`` (the dict stage -> probability
    used), ``leads_without_probability`` (open leads whose stage has no estimate, e.g. no lead has decided
    there yet: counted in ``open_leads``, contributing nothing to wins or revenue).

    Raises:
        TransitionsError: the table is invalid.
        ValueError: bad ``as_of``, ``freq`` or ``horizon``, or ``win_probability`` missing a stage or out
            of [0, 1].
    """
    _offset(freq)
    if int(horizon) < 1:
        raise ValueError(f"horizon must be at least 1 period, got {horizon!r}")
    horizon = int(horizon)
    table = _validated(transitions)
    snapshot = _as_utc(as_of, "as_of") if as_of is not None else _latest_timestamp(table)
    if snapshot is None:  # an empty table and no as_of: the forecast starts now
        snapshot = pd.Timestamp.now(tz="UTC").as_unit("ns")
    facts = _Facts(table)
    stage, row = facts.last_stay
    open_leads = np.flatnonzero(facts.outcome == OPEN)
    stage, row = stage[open_leads], row[open_leads]
    needed = np.bincount(stage, minlength=facts.n_stages) > 0
    probability = _probabilities(facts, win_probability, needed)

    days, closed = _stay_days(table, snapshot)
    median, _, _ = _grouped_dwell(days, closed, facts.codes, facts.n_stages)
    won = _won_stages(facts)
    chain = np.flatnonzero(~won)[::-1]
    remaining_path = np.zeros(facts.n_stages)
    remaining_path[chain] = np.cumsum(median[chain])  # NaN once a median is unknown
    spent = days[row]
    remaining = remaining_path[stage] - spent

    start = int(_period_starts(np.array([snapshot.value]), freq)[0])
    grid = _period_grid(start, horizon + 1, freq)
    known = ~np.isnan(remaining)
    overdue = known & (remaining < 0)
    close = snapshot.value + np.round(np.where(known & ~overdue, remaining, 0.0) * _NANOS_PER_DAY)
    slot = np.searchsorted(grid, close.astype("int64"), side="right")  # 1..: row 0 is the overdue row
    slot = np.where(overdue, 0, np.where(known, np.minimum(slot, horizon + 1), horizon + 1))
    rows = horizon + 2

    lead_probability = probability[stage]
    has_probability = ~np.isnan(lead_probability)
    weight = np.where(has_probability, lead_probability, 0.0)
    result = pd.DataFrame(
        {
            "period": _utc_series(np.concatenate([[_NAT], grid]), "period"),
            "overdue": np.arange(rows) == 0,
            "later": np.arange(rows) == rows - 1,
            "open_leads": np.bincount(slot, minlength=rows).astype("int64"),
            "expected_wins": np.bincount(slot, weights=weight, minlength=rows).astype("float64"),
        }
    )
    if "expected_revenue" in table.columns:
        revenue = pd.to_numeric(table["expected_revenue"], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )[row]
        revenue = np.where(np.isnan(revenue), 0.0, revenue)
        expected = np.bincount(slot, weights=weight * revenue, minlength=rows)
        result["expected_revenue"] = expected.astype("float64")
    result.attrs["as_of"] = snapshot
    result.attrs["win_probability"] = {
        name: float(p) for name, p in zip(facts.stages["stage"].tolist(), probability, strict=True)
    }
    result.attrs["leads_without_probability"] = int((~has_probability).sum())
    return result
