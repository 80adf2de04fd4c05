"""The funnel as a whole: how far leads get (cumulative funnel), stages jumped over, cohorts by entry period.

Also home of the lead-by-stage facts every metric module builds on (:class:`_Facts`, internal): for each lead
and stage whether the lead was there, when it first and last entered, whether it moved on to a later stage,
its last stay and its final outcome. They are computed with dense (lead x stage) arrays and unbuffered
``ufunc.at`` reductions: no loop over rows, and no sort of the table (only :func:`stage_skips` needs a lead's
stays in time order, and only sorts when the table is not already in that order).
"""

from __future__ import annotations

import datetime as dt
from functools import cached_property

import numpy as np
import pandas as pd

from activity_centric.instants import utc_timestamp
from funnel_metrics.transitions import OUTCOMES, TRANSITION_COLUMNS, validate_transitions

CUMULATIVE_COLUMNS: tuple[str, ...] = ("stage", "stage_sequence", "reached", "share_of_first")
SKIP_COLUMNS: tuple[str, ...] = (
    "from_stage",
    "from_sequence",
    "to_stage",
    "to_sequence",
    "skipped",
    "moves",
    "leads",
)
COHORT_COLUMNS: tuple[str, ...] = ("cohort", "leads", "won", "lost", "open")

WON, LOST, OPEN = 0, 1, 2
"""Outcome codes of :attr:`_Facts.outcome`."""

_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min
_NANOS_PER_DAY = 86_400 * 1_000_000_000
_UTC_NS = "datetime64[ns, UTC]"
# Survival is a product of floats: a curve that reaches exactly 0.5 may come out as 0.5000000000000001,
# so quantiles (see _grouped_dwell) compare with this slack.
_SURVIVAL_TOLERANCE = 1e-9


# ------------------------------------------------------------------------------------------------------
# validation without re-normalising a table that is already normal
# ------------------------------------------------------------------------------------------------------

_TEXT_COLUMNS: tuple[str, ...] = ("stage", "user", "team", "product", "source", "outcome", "lost_reason")
_REQUIRED_TEXT: tuple[str, ...] = ("stage", "outcome")


def _validated(transitions: pd.DataFrame) -> pd.DataFrame:
    """The transitions table as :func:`funnel_metrics.validate_transitions` returns it.

    A table already in that form (the output of ``validate_transitions``, ``load_transitions`` or
    ``simulate_funnel``, passed on as it is) is recognised by cheap checks and used as it is -- not copied:
    the metrics never modify their input. Anything else, including every table with a problem, goes through
    ``validate_transitions``, which normalises it or raises the error naming the problem. This saves the
    re-normalisation of the text columns, most of the validation's cost on a large table.
    """
    if _already_valid(transitions):
        return transitions
    return validate_transitions(transitions)


def _already_valid(df: object) -> bool:
    """True when ``validate_transitions(df)`` would return a frame equal to ``df`` (same values, dtypes, order
    of columns and index) without raising; False when unsure."""
    if not isinstance(df, pd.DataFrame) or df.columns.has_duplicates:
        return False
    if [str(c) for c in df.columns[: len(TRANSITION_COLUMNS)]] != list(TRANSITION_COLUMNS):
        return False
    dtypes = df.dtypes
    if any(dtypes[c] != np.dtype("int64") for c in ("lead_id", "stage_sequence")):
        return False
    if any(str(dtypes[c]) != _UTC_NS for c in ("entered_at", "left_at")):
        return False
    text = pd.StringDtype()  # what validate_transitions gives text columns: pandas' default string storage
    if any(not isinstance(dtypes[c], pd.StringDtype) or dtypes[c] != text for c in _TEXT_COLUMNS):
        return False
    for column in _TEXT_COLUMNS:
        values = df[column].unique()
        has_na = bool(pd.isna(values).any())
        if has_na and column in _REQUIRED_TEXT:
            return False
        present = [v for v in values if not pd.isna(v)]
        if any(not v.strip() for v in present):  # a blank would become NA
            return False
        if column == "outcome" and not set(present) <= set(OUTCOMES):
            return False
    entered = df["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    left = df["left_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    nat = np.iinfo(np.int64).min
    if (entered == nat).any() or ((left != nat) & (left < entered)).any():
        return False
    outcome = df["outcome"]
    code = (outcome == "won").to_numpy(dtype=bool) + 2 * (outcome == "lost").to_numpy(dtype=bool)
    lead, ids = _id_codes(df["lead_id"].to_numpy(dtype="int64"))
    low = np.full(len(ids), 3, dtype="int64")
    high = np.full(len(ids), -1, dtype="int64")
    np.minimum.at(low, lead, code)
    np.maximum.at(high, lead, code)
    return bool((low == high).all())


def _id_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, distinct)``: each id's position (int64) among the distinct ids, sorted ascending.

    Ids spanning a range not much larger than their count (database ids usually do) are coded by a lookup
    table, in linear time; others by sorting.
    """
    if len(ids) == 0:
        return np.empty(0, dtype="int64"), np.empty(0, dtype="int64")
    low, high = int(ids.min()), int(ids.max())
    if high - low <= 4 * len(ids) + 1024:
        present = np.zeros(high - low + 1, dtype=bool)
        present[ids - low] = True
        rank = np.cumsum(present, dtype="int64") - 1
        return rank[ids - low], np.flatnonzero(present).astype("int64") + low
    distinct, codes = np.unique(ids, return_inverse=True)
    return codes.reshape(-1).astype("int64"), distinct.astype("int64")


def _pipeline(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Stages of a validated table in pipeline order, and each row's stage code.

    Returns ``(stages, codes)``: ``stages`` has columns ``stage`` (string) and ``stage_sequence`` (int64), one
    row per distinct (stage, stage_sequence) pair sorted by sequence then name, index 0..n-1; ``codes`` is an
    int64 array giving, for each row, the position of its stage in ``stages``. Built from two hash codings
    instead of a two-key groupby (several times faster on a million rows).
    """
    name_codes, names = pd.factorize(table["stage"])
    sequence_codes, sequences = _id_codes(table["stage_sequence"].to_numpy(dtype="int64"))
    width = max(len(names), 1)
    pair = sequence_codes * width + np.asarray(name_codes, dtype="int64")
    found = np.flatnonzero(np.bincount(pair, minlength=len(sequences) * width))
    labels = [str(name) for name in names]
    keys = [(int(sequences[f // width]), labels[f % width]) for f in found]  # one per stage: a handful
    order = sorted(range(len(found)), key=keys.__getitem__)
    position = np.full(len(sequences) * width, -1, dtype="int64")
    position[found[order]] = np.arange(len(found), dtype="int64")
    stages = pd.DataFrame(
        {
            "stage": pd.array([keys[i][1] for i in order], dtype="string"),
            "stage_sequence": np.array([keys[i][0] for i in order], dtype="int64"),
        }
    )
    return stages, position[pair]


# ------------------------------------------------------------------------------------------------------
# lead-by-stage facts (internal, shared by the metric modules)
# ------------------------------------------------------------------------------------------------------


class _Facts:
    """Lead-by-stage facts of a *validated* transitions table.

    Row-level arrays follow the table's rows; lead-level arrays are indexed by lead position
    (``0..n_leads-1``, by ascending lead_id); dense arrays have shape ``(n_leads, n_stages)``, the
    stages being those of :func:`_pipeline` (pipeline order).
    """

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table
        self.stages, self.codes = _pipeline(table)
        self.n_rows = len(table)
        self.n_stages = len(self.stages)
        self.stage_seq = self.stages["stage_sequence"].to_numpy(dtype="int64")
        self.lead, self.lead_ids = _id_codes(table["lead_id"].to_numpy(dtype="int64"))
        self.n_leads = len(self.lead_ids)
        self.entered = table["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
        outcome = table["outcome"]
        row_outcome = np.full(self.n_rows, OPEN, dtype="int8")
        row_outcome[(outcome == "won").to_numpy(dtype=bool)] = WON
        row_outcome[(outcome == "lost").to_numpy(dtype=bool)] = LOST
        # outcome is the same on every row of a lead (validated): any row tells it
        self.outcome = np.empty(self.n_leads, dtype="int8")
        self.outcome[self.lead] = row_outcome

    # -- row level ---------------------------------------------------------------------------------------

    @cached_property
    def cell(self) -> np.ndarray:
        """Flat index of each row's (lead, stage) cell in the dense arrays."""
        return self.lead * self.n_stages + self.codes

    @cached_property
    def order(self) -> np.ndarray:
        """Row positions sorted by lead, then entered_at, then pipeline order (a lead's stays in time order).

        Tables already in that order (by ascending lead_id, then time, as the simulator writes them) are
        detected in linear time and not sorted again.
        """
        lead, entered, codes = self.lead, self.entered, self.codes
        if self.n_rows < 2:
            return np.arange(self.n_rows)
        step_lead = np.diff(lead)
        same = step_lead == 0
        step_time = np.diff(entered)
        in_order = (step_lead >= 0).all() and not (
            same & ((step_time < 0) | ((step_time == 0) & (np.diff(codes) < 0)))
        ).any()
        if in_order:  # rows grouped by ascending lead_id, each lead's stays in time order
            return np.arange(self.n_rows)
        return np.lexsort((codes, entered, lead))

    # -- dense (lead x stage) ----------------------------------------------------------------------------

    def _dense_reduce(self, ufunc: np.ufunc, values: np.ndarray, fill: int, rows: np.ndarray | None = None):
        flat = np.full(self.n_leads * self.n_stages, fill, dtype="int64")
        if rows is None:
            ufunc.at(flat, self.cell, values)
        else:
            ufunc.at(flat, self.cell[rows], values)
        return flat.reshape(self.n_leads, self.n_stages)

    @cached_property
    def has(self) -> np.ndarray:
        """True where the lead has at least one stay in the stage."""
        flat = np.zeros(self.n_leads * self.n_stages, dtype=bool)
        flat[self.cell] = True
        return flat.reshape(self.n_leads, self.n_stages)

    @cached_property
    def first_entry(self) -> np.ndarray:
        """entered_at (int64 ns) of the lead's first stay in the stage; INT64_MAX where none."""
        return self._dense_reduce(np.minimum, self.entered, _INT64_MAX)

    @cached_property
    def last_entry(self) -> np.ndarray:
        """entered_at (int64 ns) of the lead's last stay in the stage; INT64_MIN where none."""
        return self._dense_reduce(np.maximum, self.entered, _INT64_MIN)

    @cached_property
    def first_row(self) -> np.ndarray:
        """Row position of the lead's first stay in the stage (earliest entered_at, then first row); -1."""
        first = self.first_entry.reshape(-1)[self.cell] == self.entered
        rows = np.flatnonzero(first)
        dense = self._dense_reduce(np.minimum, rows, self.n_rows, rows=rows)
        dense[dense == self.n_rows] = -1
        return dense

    @cached_property
    def stage_rank(self) -> np.ndarray:
        """Dense rank of each stage's sequence (stages sharing a sequence share a rank)."""
        return np.unique(self.stage_seq, return_inverse=True)[1].reshape(-1).astype("int64")

    @cached_property
    def reached(self) -> np.ndarray:
        """True where the lead has a stay in the stage or in a stage of higher sequence."""
        max_rank = np.full(self.n_leads, -1, dtype="int64")
        np.maximum.at(max_rank, self.lead, self.stage_rank[self.codes])
        return self.has | (max_rank[:, None] > self.stage_rank[None, :])

    @cached_property
    def advanced(self) -> np.ndarray:
        """True where the lead has a stay in a stage of higher sequence that began at or after its first entry
        into the stage (the ``advanced`` of :func:`funnel_metrics.stage_conversion`)."""
        if self.n_stages == 0:
            return self.has.copy()
        last = self.last_entry
        # suffix maximum over the stages in pipeline order, plus an empty column past the last stage
        suffix = np.maximum.accumulate(last[:, ::-1], axis=1)[:, ::-1]
        suffix = np.concatenate([suffix, np.full((self.n_leads, 1), _INT64_MIN, dtype="int64")], axis=1)
        later = np.searchsorted(self.stage_seq, self.stage_seq, side="right")  # first stage of higher seq
        return self.has & (suffix[:, later] >= self.first_entry)

    # -- lead level --------------------------------------------------------------------------------------

    def _extreme_stay(self, latest: bool) -> tuple[np.ndarray, np.ndarray]:
        """Stage code and row of each lead's last (``latest``) or first stay.

        Last stay: latest entered_at, ties broken by the later stage in pipeline order (as
        :func:`funnel_metrics.stage_conversion` does); first stay: earliest entered_at, then earlier stage.
        Among identical (entered_at, stage) rows the first row is taken.
        """
        reduce = np.maximum if latest else np.minimum
        time = np.full(self.n_leads, _INT64_MIN if latest else _INT64_MAX, dtype="int64")
        reduce.at(time, self.lead, self.entered)
        tied = np.flatnonzero(time[self.lead] == self.entered)
        code = np.full(self.n_leads, -1 if latest else self.n_stages, dtype="int64")
        reduce.at(code, self.lead[tied], self.codes[tied])
        chosen = tied[code[self.lead[tied]] == self.codes[tied]]
        row = np.full(self.n_leads, self.n_rows, dtype="int64")
        np.minimum.at(row, self.lead[chosen], chosen)
        return code, row

    @cached_property
    def last_stay(self) -> tuple[np.ndarray, np.ndarray]:
        """(stage code, row) of each lead's last stay."""
        return self._extreme_stay(latest=True)

    @cached_property
    def first_stay(self) -> tuple[np.ndarray, np.ndarray]:
        """(stage code, row) of each lead's first stay."""
        return self._extreme_stay(latest=False)

    @cached_property
    def ends_here(self) -> np.ndarray:
        """True where the stage holds the lead's last stay and the lead did not advance from it."""
        code, _ = self.last_stay
        flat = np.zeros(self.n_leads * self.n_stages, dtype=bool)
        flat[np.arange(self.n_leads) * self.n_stages + code] = True
        return flat.reshape(self.n_leads, self.n_stages) & ~self.advanced

    # -- helpers -----------------------------------------------------------------------------------------

    def stage_code(self, name: str, argument: str) -> int:
        """Code of the stage called ``name`` (the first in pipeline order if several stages share it)."""
        matches = np.flatnonzero((self.stages["stage"] == name).to_numpy(dtype=bool))
        if len(matches) == 0:
            known = ", ".join(repr(s) for s in self.stages["stage"].tolist())
            raise ValueError(f"{argument}: no stage {name!r} in the transitions table (stages: {known})")
        return int(matches[0])

    def counts(self, group: np.ndarray | None = None, n_groups: int = 1) -> dict[str, np.ndarray]:
        """Per (group, stage) counts of leads, shape ``(n_groups, n_stages)``.

        ``group``: dense (lead x stage) group codes in ``0..n_groups-1`` (only read where the lead has a
        stay), or None for a single group. Keys: ``entered``, ``advanced``, ``lost``, ``open``, ``won_here``
        (won leads whose last stay is in the stage and that did not advance from it).
        """
        if group is None:  # one group: column sums
            masks = self._masks()
            return {name: mask.sum(axis=0, dtype="int64")[None, :] for name, mask in masks.items()}
        size = n_groups * self.n_stages
        stage = np.broadcast_to(np.arange(self.n_stages), (self.n_leads, self.n_stages))
        key = group * self.n_stages + stage
        return {
            name: np.bincount(key[mask], minlength=size).reshape(n_groups, self.n_stages).astype("int64")
            for name, mask in self._masks().items()
        }

    def _masks(self) -> dict[str, np.ndarray]:
        outcome = self.outcome[:, None]
        return {
            "entered": self.has,
            "advanced": self.advanced,
            "lost": self.ends_here & (outcome == LOST),
            "open": self.ends_here & (outcome == OPEN),
            "won_here": self.ends_here & (outcome == WON),
        }


def _factorize_groups(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Sorted group codes of a column, NA as a last group of its own: ``(codes, labels)``."""
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    labels = pd.Series(uniques, dtype=values.dtype if len(uniques) else "string")
    codes = np.asarray(codes, dtype="int64")
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels = pd.concat([labels, pd.Series([pd.NA], dtype=labels.dtype)], ignore_index=True)
    return codes, labels


def _selection(selected: object, n_rows: int) -> np.ndarray | None:
    """``selected`` (one bool per row of a table of ``n_rows`` rows, in row order; NA counts as not
    selected) as a bool array; None stays None (every row selected)."""
    if selected is None:
        return None
    values = selected if isinstance(selected, pd.Series) else pd.Series(np.asarray(selected).reshape(-1))
    if len(values) == n_rows == 0:
        return np.zeros(0, dtype=bool)
    if np.ndim(selected) != 1 or len(values) != n_rows or not pd.api.types.is_bool_dtype(values.dtype):
        raise ValueError(
            f"selected must hold one True/False per row of the transitions table ({n_rows} rows), got "
            f"{len(values)} value(s) of type {values.dtype}"
        )
    return values.fillna(False).to_numpy(dtype=bool)


def _stay_days(table: pd.DataFrame, snapshot: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray]:
    """``(days, closed)`` of each stay, as :func:`funnel_metrics.time_in_stage` measures them."""
    closed = table["left_at"].notna().to_numpy(dtype=bool)
    entered = table["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    ended = table["left_at"].to_numpy(dtype="datetime64[ns]").view("int64").copy()
    if not closed.all():
        ended[~closed] = snapshot.value
    return np.maximum(ended - entered, 0) / _NANOS_PER_DAY, closed


def _grouped_dwell(
    days: np.ndarray, closed: np.ndarray, key: np.ndarray, n_keys: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kaplan-Meier ``(median_days, p90_days, stays)`` per key (0..n_keys-1) of censored stays.

    The estimator of :func:`funnel_metrics.time_in_stage` (which calls it with the stage codes as keys) and
    of :func:`funnel_metrics.kaplan_meier` (events before censorings at a tied time; a quantile is the
    smallest time with S(t) <= 1 - p, with 1e-9 of slack), computed without building the curves as a frame:
    one sort, then segment sums. The survival product is taken as the exponential of a sum of logarithms (a
    factor of 0 is carried separately), which agrees with the running product to about 1e-12, well inside
    the 1e-9 slack.
    """
    stays = np.bincount(key, minlength=n_keys).astype("int64")
    median = np.full(n_keys, np.nan)
    p90 = np.full(n_keys, np.nan)
    size = len(days)
    if size == 0:
        return median, p90, stays
    # sorted by (key, days): a float sort, then a stable (linear-time for small integers) sort of the keys
    order = np.argsort(days)
    small = key[order].astype("uint16") if n_keys <= np.iinfo(np.uint16).max else key[order]
    order = order[np.argsort(small, kind="stable")]
    group, time, event = key[order], days[order], closed[order].astype("int64")

    new_group = np.r_[True, group[1:] != group[:-1]]
    block_start = np.flatnonzero(new_group | np.r_[True, time[1:] != time[:-1]])
    group_end = np.r_[np.flatnonzero(new_group)[1:], size]
    group_of_block = np.cumsum(new_group)[block_start] - 1
    at_risk = group_end[group_of_block] - block_start  # every stay from this time on is at risk
    factor = 1.0 - np.add.reduceat(event, block_start) / at_risk
    # segment-wise running product: cumulative sum of logs restarted at each group, zeros counted apart
    dead = factor <= 0.0
    logs = np.log(np.where(dead, 1.0, factor))
    running = np.cumsum(logs)
    first_block = np.r_[True, group_of_block[1:] != group_of_block[:-1]]
    offset = (running - logs)[first_block][np.cumsum(first_block) - 1]
    zeros = np.cumsum(dead)
    zeros_before = (zeros - dead)[first_block][np.cumsum(first_block) - 1]
    survival = np.where(zeros - zeros_before > 0, 0.0, np.exp(running - offset))

    block_group = group[block_start]
    block_time = time[block_start]
    for out, probability in ((median, 0.5), (p90, 0.9)):
        reached = np.flatnonzero(survival <= 1.0 - probability + _SURVIVAL_TOLERANCE)
        if len(reached) == 0:
            continue
        # blocks are in time order within a group: the first that reaches the level is the quantile
        firsts = reached[np.r_[True, block_group[reached][1:] != block_group[reached][:-1]]]
        out[block_group[firsts]] = block_time[firsts]
    return median, p90, stays


# ------------------------------------------------------------------------------------------------------
# periods
# ------------------------------------------------------------------------------------------------------


def _offset(freq: str | pd.DateOffset) -> pd.DateOffset:
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"freq: cannot read {freq!r} as a pandas frequency (e.g. 'MS' month start, 'W-MON' weeks "
            f"starting Monday, 'QS' quarter start, 'D' day)"
        ) from exc


def _period_starts(values: np.ndarray, freq: str | pd.DateOffset) -> np.ndarray:
    """Start (int64 ns, UTC) of the period of ``freq`` holding each UTC instant of ``values`` (int64 ns).

    Calendar frequencies (``MS``, ``W-MON``, ``QS``, ``YS``, ``B``...): the latest date of the frequency's
    grid at or before the instant, at midnight UTC. Fixed frequencies (``D``, ``h``, ``7D``...): the instant
    floored to a multiple of the frequency counted from 1970-01-01T00:00Z.
    """
    offset = _offset(freq)
    values = np.asarray(values, dtype="int64")
    if len(values) == 0:
        return values.copy()
    stamps = pd.DatetimeIndex(values.view("datetime64[ns]"))
    if isinstance(offset, pd.offsets.Tick):
        return np.asarray(stamps.floor(offset).asi8, dtype="int64")
    first = offset.rollback(pd.Timestamp(values.min()).normalize())
    grid = pd.date_range(first, pd.Timestamp(values.max()), freq=offset).asi8
    return grid[np.searchsorted(grid, values, side="right") - 1]


def _period_grid(start: int, periods: int, freq: str | pd.DateOffset) -> np.ndarray:
    """``periods`` consecutive period starts (int64 ns) from the period start ``start``."""
    offset = _offset(freq)
    stamp = pd.Timestamp(start)
    if isinstance(offset, pd.offsets.Tick):
        return start + np.arange(periods, dtype="int64") * offset.nanos
    return np.asarray(pd.date_range(stamp, periods=periods, freq=offset).asi8, dtype="int64")


def _utc_series(values: np.ndarray, name: str) -> pd.Series:
    """int64 ns -> a ``datetime64[ns, UTC]`` Series."""
    stamps = np.asarray(values, dtype="int64").view("datetime64[ns]")
    return pd.Series(stamps, name=name).dt.tz_localize("UTC")


def _as_utc(value: str | dt.datetime | np.datetime64 | pd.Timestamp, argument: str) -> pd.Timestamp:
    return utc_timestamp(value, argument)[0].as_unit("ns")


# ------------------------------------------------------------------------------------------------------
# public metrics
# ------------------------------------------------------------------------------------------------------


def cumulative_funnel(transitions: pd.DataFrame) -> pd.DataFrame:
    """How many leads got at least as far as each stage.

    Input: a transitions table (see :mod:`funnel_metrics.transitions`; validated first).

    Output: one row per stage in pipeline order (by sequence, then name; the keys of
    :func:`funnel_metrics.stage_conversion`), index 0..n-1, columns

    - ``stage`` (string), ``stage_sequence`` (int64);
    - ``reached`` (int64, leads): distinct leads with a stay in this stage or in a stage of higher sequence
      (a lead that skipped the stage, or was created past it, still got that far). Stages sharing a sequence
      are not "later" than each other. Non-increasing along the pipeline, except across stages that share a
      sequence;
    - ``share_of_first`` (float64, fraction): ``reached / reached`` of the first stage; NaN if that is 0.

    Counts are over every lead of the table, open ones included: an open lead has reached the stages it
    has reached. An empty table gives an empty frame with these columns.
    """
    facts = _Facts(_validated(transitions))
    result = facts.stages.copy()
    reached = facts.reached.sum(axis=0).astype("int64")
    result["reached"] = reached
    first = float(reached[0]) if len(reached) else 0.0
    result["share_of_first"] = reached / first if first > 0 else np.full(len(reached), np.nan)
    return result


def stage_skips(transitions: pd.DataFrame) -> pd.DataFrame:
    """Moves that jumped over stages of the pipeline.

    Input: a transitions table (validated first). A *move* is a pair of consecutive stays of a lead, in time
    order (by ``entered_at``; stays entered at the same instant in pipeline order). A move skips the stages
    whose sequence lies strictly between the two stays' sequences, among the stages present in the table
    (the ``skipped_stage_count`` of the Odoo history, "stages jumped over, by sequence"). Backward moves and
    moves to the next stage skip nothing and are left out.

    Output: one row per (from stage, to stage) with at least one skipping move, ordered by the from stage
    then the to stage in pipeline order, index 0..n-1, columns

    - ``from_stage`` (string), ``from_sequence`` (int64), ``to_stage`` (string), ``to_sequence`` (int64)
      (the sequences tell apart stages that share a name);
    - ``skipped`` (int64): stages jumped over by this move;
    - ``moves`` (int64): number of such moves (a lead making the move twice counts twice);
    - ``leads`` (int64): distinct leads that made it.
    """
    facts = _Facts(_validated(transitions))
    n = facts.n_stages
    if n == 0:
        return _empty_skips()
    order = facts.order
    lead = facts.lead[order]
    code = facts.codes[order]
    consecutive = np.flatnonzero(lead[1:] == lead[:-1])
    source, target = code[consecutive], code[consecutive + 1]
    seq = facts.stage_seq
    skipped = np.searchsorted(seq, seq[target], side="left") - np.searchsorted(seq, seq[source], side="right")
    skipping = skipped > 0
    pair = (source * n + target)[skipping]
    moves = np.bincount(pair, minlength=n * n)
    distinct = np.unique(lead[consecutive + 1][skipping] * (n * n) + pair) % (n * n)
    leads = np.bincount(distinct, minlength=n * n)
    found = np.flatnonzero(moves)
    src, dst = found // n, found % n
    names = facts.stages["stage"].reset_index(drop=True)
    between = np.searchsorted(seq, seq[dst], side="left") - np.searchsorted(seq, seq[src], side="right")
    return pd.DataFrame(
        {
            "from_stage": names.take(src).reset_index(drop=True),
            "from_sequence": seq[src].astype("int64"),
            "to_stage": names.take(dst).reset_index(drop=True),
            "to_sequence": seq[dst].astype("int64"),
            "skipped": between.astype("int64"),
            "moves": moves[found].astype("int64"),
            "leads": leads[found].astype("int64"),
        }
    )


def _empty_skips() -> pd.DataFrame:
    frame = pd.DataFrame({column: pd.Series(dtype="int64") for column in SKIP_COLUMNS})
    return frame.astype({"from_stage": "string", "to_stage": "string"})


def cohort_conversion(transitions: pd.DataFrame, freq: str = "MS") -> pd.DataFrame:
    """Leads grouped by the period they entered the pipeline, and how far each cohort got.

    Inputs:

    - ``transitions``: a transitions table (validated first);
    - ``freq``: a pandas frequency for the cohort periods (default ``"MS"``, calendar months). A lead belongs
      to the period of its first ``entered_at``. Calendar frequencies (``MS``, ``W-MON``, ``QS``, ``YS``)
      start periods at midnight UTC on their anchor date; fixed ones (``D``, ``7D``, ``h``) count from
      1970-01-01T00:00Z.

    Output: one row per period holding at least one lead's first entry, in time order, index 0..n-1, columns

    - ``cohort`` (``datetime64[ns, UTC]``): start of the period;
    - ``leads``, ``won``, ``lost``, ``open`` (int64): the cohort's leads and their final outcome so far;
    - ``reached:<stage>`` (float64, fraction), one per stage in pipeline order: the share of the cohort's
      leads that reached the stage or a later one (as in :func:`cumulative_funnel`). When two stages share a
      name the column is ``reached:<stage>#<stage_sequence>``.

    Recent cohorts have had less time: their shares of late stages are lower partly because many of their
    leads are still open (see ``open``); compare cohorts of the same age.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: ``freq`` is not a pandas frequency.
    """
    _offset(freq)
    facts = _Facts(_validated(transitions))
    _, first_row = facts.first_stay
    starts = _period_starts(facts.entered[first_row], freq) if facts.n_leads else np.empty(0, "int64")
    periods, cohort = np.unique(starts, return_inverse=True)
    cohort = cohort.reshape(-1)
    n_cohorts = len(periods)
    leads = np.bincount(cohort, minlength=n_cohorts).astype("int64")
    result = pd.DataFrame({"cohort": _utc_series(periods, "cohort"), "leads": leads})
    for name, code in (("won", WON), ("lost", LOST), ("open", OPEN)):
        result[name] = np.bincount(cohort[facts.outcome == code], minlength=n_cohorts).astype("int64")
    names = facts.stages["stage"].tolist()
    duplicated = set(facts.stages.loc[facts.stages["stage"].duplicated(keep=False), "stage"].tolist())
    reached = facts.reached
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, (name, seq) in enumerate(zip(names, facts.stage_seq, strict=True)):
            column = f"reached:{name}#{seq}" if name in duplicated else f"reached:{name}"
            counts = np.bincount(cohort[reached[:, k]], minlength=n_cohorts)
            result[column] = counts / leads
    return result
