"""Time spent in each stage, with stays still open treated as right-censored (Kaplan-Meier).

A stay that is still open at the snapshot time has lasted *at least* until then. Dropping such stays, or
counting them as ending at the snapshot, makes slow stages look fast: the median of closed stays alone is
biased low whenever many leads are still in the stage. The Kaplan-Meier estimator uses every stay: a closed
stay is an observed event at its duration, an open one says only that the event had not happened by then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from funnel_metrics.transitions import _stage_codes, validate_transitions

KM_COLUMNS: tuple[str, ...] = ("time", "at_risk", "events", "survival")
DWELL_COLUMNS: tuple[str, ...] = ("stage", "stage_sequence", "n", "open", "median_days", "p90_days")

# Survival is a cumulative product of floats: a curve that reaches exactly 0.5 may come out as
# 0.5000000000000001, so quantiles compare with this slack.
_SURVIVAL_TOLERANCE = 1e-9
_NANOS_PER_DAY = 86_400 * 1_000_000_000

TimestampLike = str | dt.datetime | np.datetime64 | pd.Timestamp


def kaplan_meier(
    durations: Sequence[float] | np.ndarray | pd.Series,
    observed: Sequence[bool] | np.ndarray | pd.Series,
) -> pd.DataFrame:
    """Kaplan-Meier estimate of the survival curve of right-censored durations.

    Inputs (same length, any unit; the output ``time`` is in the same unit):

    - ``durations``: non-negative, finite durations;
    - ``observed``: True where the duration ended with the event (e.g. the lead left the stage), False where
      it is censored (still running at the snapshot: the true duration is at least this long). 0/1 accepted.

    Output: one row per distinct duration, ascending, index 0..n-1, columns

    - ``time`` (float64): the duration;
    - ``at_risk`` (int64): observations with a duration >= ``time``;
    - ``events`` (int64): observed events at exactly ``time``;
    - ``survival`` (float64): the estimate of S(time) = P(duration > time), i.e. the product of
      ``1 - events / at_risk`` over all times <= ``time``.

    Ties follow the standard convention: events at a time are counted before censorings at that same time
    (a censored observation at ``t`` is still at risk at ``t``). Empty input gives an empty frame.

    Raises:
        ValueError: lengths differ, a duration is negative, NaN or infinite, or ``observed`` is not boolean.
    """
    times = _as_durations(durations)
    events = _as_observed(observed, len(times))
    table = _grouped_km(np.zeros(len(times), dtype="int64"), times, events)
    return table.loc[:, list(KM_COLUMNS)]


def time_in_stage(transitions: pd.DataFrame, as_of: TimestampLike | None = None) -> pd.DataFrame:
    """Per stage: how long stays last, in days, with open stays as censored observations.

    Inputs:

    - ``transitions``: a transitions table (see :mod:`funnel_metrics.transitions`; validated first);
    - ``as_of``: the snapshot time of the open stays (``datetime``, ``pandas.Timestamp``, ``numpy.datetime64``
      or ISO 8601 string; naive = UTC). Default: the latest timestamp in the table (maximum over
      ``entered_at`` and ``left_at``).

    The duration of a stay, in days (float), is ``(left_at or as_of) - entered_at``; a stay still open is
    censored at that duration. An open stay that entered after ``as_of`` gets duration 0. ``as_of`` does not
    change closed stays.

    Output: one row per stage in pipeline order (by sequence, then name; same keys as
    :func:`funnel_metrics.stage_conversion`), index 0..n-1, columns

    - ``stage`` (string), ``stage_sequence`` (int64);
    - ``n`` (int64): stays in the stage (not leads: a lead entering twice gives two stays);
    - ``open`` (int64): stays still open, i.e. censored;
    - ``median_days`` (float64): Kaplan-Meier median, the smallest duration t with S(t) <= 0.5;
    - ``p90_days`` (float64): the 90th percentile, the smallest duration t with S(t) <= 0.1
      (both comparisons allow 1e-9 of floating-point rounding in the product that gives S).

    ``median_days``/``p90_days`` are NaN when the Kaplan-Meier curve never falls that low, which happens when
    too many stays are still open (censored) for the data to say how long the slow half (or slowest tenth)
    will take: the honest answer is then "longer than the longest stay observed so far". With no open stays
    the median is the lower middle of the sorted durations (the n/2-th of n, for even n).

    The snapshot time used is stored in ``result.attrs["as_of"]`` (a UTC ``pandas.Timestamp``, or None for
    an empty table without ``as_of``). An empty table gives an empty frame with these columns and dtypes.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: ``as_of`` cannot be read as a timestamp.
    """
    table = validate_transitions(transitions)
    stages, codes = _stage_codes(table)
    snapshot = _as_utc_timestamp(as_of) if as_of is not None else _latest_timestamp(table)

    closed = table["left_at"].notna().to_numpy(dtype=bool)
    entered = table["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    ended = table["left_at"].to_numpy(dtype="datetime64[ns]").view("int64").copy()
    if not closed.all():
        ended[~closed] = snapshot.value
    days = np.maximum(ended - entered, 0) / _NANOS_PER_DAY

    n_stages = len(stages)
    result = stages.copy()
    result["n"] = np.bincount(codes, minlength=n_stages).astype("int64")
    result["open"] = np.bincount(codes[~closed], minlength=n_stages).astype("int64")
    curves = _grouped_km(codes, days, closed)
    result["median_days"] = _grouped_quantile(curves, n_stages, 0.5)
    result["p90_days"] = _grouped_quantile(curves, n_stages, 0.9)
    result.attrs["as_of"] = snapshot
    return result


# ------------------------------------------------------------------------------------------------------
# internals
# ------------------------------------------------------------------------------------------------------


def _as_durations(durations: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    try:
        times = np.asarray(durations, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"durations must be numbers: {exc}") from exc
    if times.ndim != 1:
        raise ValueError(f"durations must be one-dimensional, got shape {times.shape}")
    if not np.isfinite(times).all():
        raise ValueError("durations must be finite numbers (found NaN or infinity)")
    if (times < 0).any():
        raise ValueError(f"durations must be >= 0 (found {times.min()})")
    return times


def _as_observed(observed: Sequence[bool] | np.ndarray | pd.Series, length: int) -> np.ndarray:
    flags = np.asarray(observed)
    if flags.shape != (length,):
        raise ValueError(f"observed must have one flag per duration: {flags.shape} for {length} durations")
    if flags.dtype != bool:
        try:
            valid = bool(np.isin(flags, (0, 1)).all())
        except TypeError:
            valid = False
        if not valid:
            raise ValueError("observed must hold booleans (True = event observed, False = censored) or 0/1")
        flags = flags.astype(bool)
    return flags


def _grouped_km(codes: np.ndarray, times: np.ndarray, events: np.ndarray) -> pd.DataFrame:
    """Kaplan-Meier curves of several groups at once.

    ``codes`` (int), ``times`` (float) and ``events`` (bool) are parallel arrays. Returns columns ``group``,
    ``time``, ``at_risk``, ``events``, ``survival``: one row per distinct (group, time), sorted by group then
    time, index 0..n-1.
    """
    order = np.lexsort((times, codes))
    group = codes[order]
    time = times[order]
    event = events[order].astype("int64")
    size = len(time)
    if size == 0:
        return pd.DataFrame(
            {
                "group": np.empty(0, dtype="int64"),
                "time": np.empty(0, dtype="float64"),
                "at_risk": np.empty(0, dtype="int64"),
                "events": np.empty(0, dtype="int64"),
                "survival": np.empty(0, dtype="float64"),
            }
        )
    new_group = np.r_[True, group[1:] != group[:-1]]
    new_time = new_group | np.r_[True, time[1:] != time[:-1]]
    block_start = np.flatnonzero(new_time)
    group_start = np.flatnonzero(new_group)
    group_end = np.r_[group_start[1:], size]
    group_of_position = np.cumsum(new_group) - 1
    # Everything from the first observation at this time to the end of the group is still at risk at this
    # time: events and censorings at the time itself included (events first, censorings after).
    at_risk = group_end[group_of_position[block_start]] - block_start
    block_events = np.add.reduceat(event, block_start)
    block_group = group[block_start]
    factor = 1.0 - block_events / at_risk
    survival = pd.Series(factor).groupby(block_group, sort=False).cumprod().to_numpy()
    return pd.DataFrame(
        {
            "group": block_group.astype("int64"),
            "time": time[block_start],
            "at_risk": at_risk.astype("int64"),
            "events": block_events.astype("int64"),
            "survival": survival,
        }
    )


def _grouped_quantile(curves: pd.DataFrame, n_groups: int, probability: float) -> np.ndarray:
    """Smallest time with S(time) <= 1 - probability, per group; NaN where the curve stays above."""
    out = np.full(n_groups, np.nan)
    reached = curves[curves["survival"].to_numpy() <= 1.0 - probability + _SURVIVAL_TOLERANCE]
    first = reached.groupby("group", sort=False)["time"].min()
    out[first.index.to_numpy(dtype="int64")] = first.to_numpy(dtype="float64")
    return out


def _as_utc_timestamp(value: TimestampLike) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"as_of: cannot read {value!r} as a timestamp ({exc})") from exc
    if pd.isna(stamp):
        raise ValueError(f"as_of: {value!r} is not a point in time")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns")


def _latest_timestamp(table: pd.DataFrame) -> pd.Timestamp | None:
    latest = pd.concat([table["entered_at"], table["left_at"]], ignore_index=True).max()
    return None if pd.isna(latest) else latest
