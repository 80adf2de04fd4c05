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

from funnel_metrics.funnel import _as_utc, _grouped_dwell, _pipeline, _stay_days, _validated

KM_COLUMNS: tuple[str, ...] = ("time", "at_risk", "events", "survival")
DWELL_COLUMNS: tuple[str, ...] = ("stage", "stage_sequence", "n", "open", "median_days", "p90_days")

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
    return _km_curve(times, events)


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
    table = _validated(transitions)
    stages, codes = _pipeline(table)
    snapshot = _as_utc(as_of, "as_of") if as_of is not None else _latest_timestamp(table)
    days, closed = _stay_days(table, snapshot)
    median, p90, stays = _grouped_dwell(days, closed, codes, len(stages))
    result = stages.copy()
    result["n"] = stays
    result["open"] = np.bincount(codes[~closed], minlength=len(stages)).astype("int64")
    result["median_days"] = median
    result["p90_days"] = p90
    result.attrs["as_of"] = snapshot
    return result


def stay_days(transitions: pd.DataFrame, as_of: TimestampLike | None = None) -> pd.Series:
    """How long each stay lasted, in days: the one measure of a stay's duration every metric uses.

    Inputs: a transitions table (validated first) and ``as_of``, the snapshot time of the open stays (naive
    = UTC; default the latest timestamp in the table, as in :func:`time_in_stage`).

    Output: a float64 Series aligned to the validated table (index 0..n-1), named ``days``:
    ``(left_at or as_of) - entered_at`` in days, 0 when that is negative (an open stay that entered after
    ``as_of``). A stay is closed where ``left_at`` is set; an open one has lasted at least this long.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: ``as_of`` cannot be read as a timestamp.
    """
    table = _validated(transitions)
    snapshot = _as_utc(as_of, "as_of") if as_of is not None else _latest_timestamp(table)
    days, _closed = _stay_days(table, snapshot)
    return pd.Series(days, index=table.index, name="days", dtype="float64")


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


def _km_curve(times: np.ndarray, events: np.ndarray) -> pd.DataFrame:
    """The Kaplan-Meier table of :func:`kaplan_meier` from checked ``times`` (float) and ``events`` (bool)."""
    order = np.argsort(times, kind="stable")
    time = times[order]
    event = events[order].astype("int64")
    size = len(time)
    if size == 0:
        return pd.DataFrame(
            {
                "time": np.empty(0, dtype="float64"),
                "at_risk": np.empty(0, dtype="int64"),
                "events": np.empty(0, dtype="int64"),
                "survival": np.empty(0, dtype="float64"),
            }
        )
    block_start = np.flatnonzero(np.r_[True, time[1:] != time[:-1]])
    # Everything from the first observation at this time on is still at risk at this time: events and
    # censorings at the time itself included (events first, censorings after).
    at_risk = size - block_start
    block_events = np.add.reduceat(event, block_start)
    survival = np.cumprod(1.0 - block_events / at_risk)
    return pd.DataFrame(
        {
            "time": time[block_start],
            "at_risk": at_risk.astype("int64"),
            "events": block_events.astype("int64"),
            "survival": survival,
        }
    )


def _latest_timestamp(table: pd.DataFrame) -> pd.Timestamp | None:
    latest = pd.concat([table["entered_at"], table["left_at"]], ignore_index=True).max()
    return None if pd.isna(latest) else latest
