"""The demand waterfall: how leads mature phase by phase (Inquiry -> Marketing Qualified -> Sales Accepted ->
Sales Qualified -> Opportunity -> Won/Lost, with recycling), and how the handoffs between groups are
received.

Inputs are the phase stays and handoffs tables of :mod:`funnel_metrics.phase_stays`:

- :func:`waterfall` -- per phase (and group, period): leads entering, advancing, recycled, disqualified,
  lost, still open; conversion counted as in the funnel (open leads are not failures) with a Wilson
  interval; median and 90th percentile time in the phase (Kaplan-Meier, open stays censored); the handoffs
  made from the phase, their acceptance rate and time to decision; phase targets;
- :func:`rejection_reasons` -- why handoffs were rejected, per phase (and group, period);
- :func:`sales_accepted_cost` -- sales-accepted leads per campaign (or source...) and period, and the cost
  per sales-accepted lead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from funnel_metrics.cost import _cost_amounts, _cost_instants
from funnel_metrics.funnel import _as_utc, _grouped_dwell, _id_codes, _stay_days
from funnel_metrics.phase_stays import (
    DECIDED_STATES,
    HANDOFF_STATES,
    PHASE_KINDS,
    codes_among,
    handoffs_table,
    phase_stays_table,
    phase_table,
)
from funnel_metrics.stats import normal_quantile, wilson_interval
from funnel_metrics.targets import match_targets

WATERFALL_BY: tuple[str, ...] = ("team", "user", "source", "medium", "campaign", "country")
"""The columns :func:`waterfall` can group by."""
WATERFALL_PERIODS: tuple[str, ...] = ("week", "month", "quarter")
"""The periods of :func:`waterfall`: ISO weeks (from Monday), calendar months, calendar quarters."""
_OUTCOMES = ("entered", "advanced", "recycled", "disqualified", "lost", "open")
_STAYS = ("stays", "open_stays")
_HANDOFFS = ("handed_over", "accepted", "auto_accepted", "rejected", "returned", "awaiting")
WATERFALL_COLUMNS: tuple[str, ...] = (
    "phase",
    "phase_sequence",
    "phase_kind",
    *_OUTCOMES,
    "conversion_rate",
    "ci_low",
    "ci_high",
    "median_days",
    "p90_days",
    *_STAYS,
    *_HANDOFFS,
    "acceptance_rate",
    "median_hours_to_decision",
)
"""Columns of :func:`waterfall` after the ``by`` and ``period`` columns (and before the target columns)."""
WATERFALL_COUNTS: tuple[str, ...] = (*_OUTCOMES, *_STAYS, *_HANDOFFS)
"""The columns of :data:`WATERFALL_COLUMNS` that count leads, stays or handoffs (integers); the others are
the phase's name, order and kind, and rates, days and hours (NaN where not estimated)."""
REJECTION_COLUMNS: tuple[str, ...] = ("phase", "reason", "rejected", "share")
"""Columns of :func:`rejection_reasons` after the ``by`` and ``period`` columns."""
SALES_ACCEPTED_COLUMNS: tuple[str, ...] = (
    "period",
    "entered",
    "sales_accepted",
    "cost",
    "cost_per_sales_accepted",
)
"""Columns of :func:`sales_accepted_cost` after the ``by`` column."""

TimestampLike = str | dt.datetime | np.datetime64 | pd.Timestamp

_NAT = np.iinfo(np.int64).min
_MAX = np.iinfo(np.int64).max
_DAY_NS = 86_400 * 1_000_000_000
_KIND = {kind: code for code, kind in enumerate(PHASE_KINDS)}
_ADVANCING = (_KIND["progress"], _KIND["won"])


# ------------------------------------------------------------------------------------------------------
# arguments
# ------------------------------------------------------------------------------------------------------


def _dimensions(by: str | Sequence[str] | None) -> list[str]:
    dims = [] if by is None else [by] if isinstance(by, str) else list(by)
    bad = [d for d in dims if d not in WATERFALL_BY]
    if bad or len(set(dims)) != len(dims):
        raise ValueError(
            f"by: group by none, one or several distinct columns of {', '.join(WATERFALL_BY)}; got {by!r}"
        )
    return dims


def _check_period(period: str | None) -> None:
    if period is not None and period not in WATERFALL_PERIODS:
        raise ValueError(f"period must be None or one of {', '.join(WATERFALL_PERIODS)}, got {period!r}")


def _zone(tz: str) -> ZoneInfo | None:
    """The IANA zone of ``tz`` (None for UTC: no conversion)."""
    if tz in ("UTC", "Etc/UTC"):
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name such as Europe/Brussels)") from exc


def _local_days(instants: np.ndarray, zone: ZoneInfo | None) -> np.ndarray:
    """UTC instants (int64 ns) as local day numbers (days since 1970-01-01 in ``zone``)."""
    if zone is not None and len(instants):
        stamps = pd.DatetimeIndex(instants.view("datetime64[ns]"), tz="UTC").tz_convert(zone)
        instants = stamps.tz_localize(None).asi8
    return np.floor_divide(instants, _DAY_NS)


def _period_start_days(days: np.ndarray, period: str) -> np.ndarray:
    """The first day (day number) of the week (Monday), month or quarter of each day number."""
    if period == "week":
        return days - (days + 3) % 7  # 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays
    if not len(days):
        return days
    first = int(days.min())
    span = np.arange(first, int(days.max()) + 1)  # every day once: a few hundred dates, not a million
    months = span.astype("datetime64[D]").astype("datetime64[M]").astype("int64")
    if period == "quarter":
        months = months - months % 3
    return months.astype("datetime64[M]").astype("datetime64[D]").astype("int64")[days - first]


def _labels_of(codes: np.ndarray, labels: pd.Series) -> pd.Series:
    return labels.take(codes).reset_index(drop=True)


class _Groups:
    """Shared group codes of rows of several tables, by the ``by`` columns and the period.

    ``add(values, days)`` registers one table's values (a list of Series, one per dimension) and its local
    day numbers (or None without period); after :meth:`close`, ``code(i)`` gives the rows' combined group
    code (group-major, then period, in label order, NA last)."""

    def __init__(self, dims: list[str], period: str | None) -> None:
        self.dims, self.period = dims, period
        self._values: list[list[pd.Series]] = []
        self._days: list[np.ndarray | None] = []
        self._lengths: list[int] = []
        self._codes: list[np.ndarray] = []
        self.labels: list[pd.Series] = []
        self.period_labels = pd.Series([], dtype="string")

    def add(self, values: list[pd.Series], days: np.ndarray | None, length: int) -> int:
        self._lengths.append(length)
        self._values.append(values)
        self._days.append(days)
        return len(self._values) - 1

    def close(self) -> None:
        n_tables = len(self._values)
        lengths = self._lengths
        codes = [np.zeros(n, dtype="int64") for n in lengths]
        for position in range(len(self.dims)):
            column = pd.concat([v[position].astype("string") for v in self._values], ignore_index=True)
            found, uniques = pd.factorize(column, sort=True, use_na_sentinel=True)
            labels = pd.Series(uniques, dtype="string")
            found = np.asarray(found, dtype="int64")
            if (found < 0).any():
                found = np.where(found < 0, len(labels), found)
                labels = pd.concat([labels, pd.Series([pd.NA], dtype="string")], ignore_index=True)
            self.labels.append(labels)
            width = max(len(labels), 1)
            bounds = np.cumsum([0, *lengths])
            for t in range(n_tables):
                codes[t] = codes[t] * width + found[bounds[t] : bounds[t + 1]]
        if self.period is not None:
            starts = [_period_start_days(d, self.period) for d in self._days]
            found, distinct = (
                _id_codes(np.concatenate(starts)) if sum(lengths) else (np.empty(0, "int64"),) * 2
            )
            self.period_labels = pd.Series(
                np.datetime_as_string(distinct.astype("datetime64[D]")), dtype="string"
            )
            width = max(len(distinct), 1)
            bounds = np.cumsum([0, *lengths])
            for t in range(n_tables):
                codes[t] = codes[t] * width + found[bounds[t] : bounds[t + 1]]
        self._codes = codes

    def code(self, table: int) -> np.ndarray:
        return self._codes[table]

    def columns(self, group: np.ndarray) -> dict[str, pd.Series]:
        """The ``by`` and ``period`` columns of combined group codes."""
        out: dict[str, pd.Series] = {}
        rest = group.copy()
        if self.period is not None:
            width = max(len(self.period_labels), 1)
            period = rest % width
            rest //= width
        for dim, labels in reversed(list(zip(self.dims, self.labels, strict=True))):
            width = max(len(labels), 1)
            out[dim] = _labels_of(rest % width, labels)
            rest //= width
        out = {dim: out[dim] for dim in self.dims}
        if self.period is not None:
            out["period"] = _labels_of(period, self.period_labels)
        return out


def _keys(*key_sets: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """The distinct keys of several key arrays (sorted) and each array's positions among them."""
    everything = np.concatenate(key_sets) if key_sets else np.empty(0, "int64")
    codes, distinct = _id_codes(everything)
    bounds = np.cumsum([0, *(len(k) for k in key_sets)])
    return distinct, [codes[bounds[i] : bounds[i + 1]] for i in range(len(key_sets))]


def _snapshot(
    as_of: TimestampLike | None, stays: pd.DataFrame, handoffs: pd.DataFrame | None
) -> pd.Timestamp | None:
    if as_of is not None:
        return _as_utc(as_of, "as_of")
    columns = [stays["entered_at"], stays["left_at"]]
    if handoffs is not None:
        columns += [handoffs["sent_at"], handoffs["decided_at"]]
    found = [latest for latest in (column.max() for column in columns) if not pd.isna(latest)]
    return max(found) if found else None


# ------------------------------------------------------------------------------------------------------
# per (lead, phase): the facts the waterfall counts
# ------------------------------------------------------------------------------------------------------


class _Passages:
    """The stays in time order and, per (lead, phase) the lead went through, its first and last stay there,
    whether it advanced, and what its next stay after the last one was."""

    def __init__(self, table: pd.DataFrame, phases: pd.DataFrame) -> None:
        codes = phases.attrs["codes"]
        n_phases = len(phases)
        lead, self.lead_ids = _id_codes(table["lead_id"].to_numpy(dtype="int64"))
        entered = table["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
        left = table["left_at"].to_numpy(dtype="datetime64[ns]").view("int64")
        ending = np.where(left == _NAT, _MAX, left)  # a stay that ended at its start comes before one open
        self.order = _time_order(lead, entered, ending, codes)
        lead, code, entered, left = (a[self.order] for a in (lead, codes, entered, left))
        n_rows = len(lead)
        kind = codes_among(phases["phase_kind"], PHASE_KINDS)
        cell = lead * n_phases + code
        size = len(self.lead_ids) * n_phases
        position = np.arange(n_rows, dtype="int64")
        first = np.full(size, _MAX, dtype="int64")
        last = np.full(size, -1, dtype="int64")
        np.minimum.at(first, cell, position)
        np.maximum.at(last, cell, position)
        has = last >= 0
        self.cells = np.flatnonzero(has)  # (lead, phase) passages, lead-major then phase order
        self.first_row = first[self.cells]
        self.last_row = last[self.cells]
        self.phase = self.cells % max(n_phases, 1)
        first_entry = entered[self.first_row]

        # advanced: entered a later progress/won phase (higher sequence) at or after the first entry here
        latest = np.full(size, _NAT, dtype="int64")
        advancing = np.isin(kind, _ADVANCING)
        latest[self.cells] = np.where(advancing[self.phase], entered[self.last_row], _NAT)
        matrix = latest.reshape(len(self.lead_ids), n_phases)
        later = np.maximum.accumulate(matrix[:, ::-1], axis=1)[:, ::-1] if n_phases else matrix
        sequence = phases["phase_sequence"].to_numpy(dtype="int64")
        after = np.searchsorted(sequence, sequence, side="right")  # first phase of a higher sequence
        later = np.concatenate([later, np.full((len(self.lead_ids), 1), _NAT)], axis=1)
        reached = later[self.cells // max(n_phases, 1), after[self.phase]]
        self.advanced = (kind[self.phase] == _KIND["progress"]) & (reached != _NAT) & (reached >= first_entry)

        same_lead = np.r_[lead[1:] == lead[:-1], False]
        next_kind = np.where(same_lead, kind[np.r_[code[1:], 0]] if n_rows else code, -1)
        following = next_kind[self.last_row]
        self.open = ~self.advanced & (left[self.last_row] == _NAT)
        settled = ~self.advanced & ~self.open
        self.outcome = {
            name: settled & (following == _KIND[name]) for name in ("recycled", "disqualified", "lost")
        }
        self.entered_sorted = entered


def _time_order(lead: np.ndarray, entered: np.ndarray, ending: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Row order by (lead, entered_at, end, phase order); the identity when the table is in that order."""
    n = len(lead)
    if n < 2:
        return np.arange(n, dtype="int64")
    steps = (
        (lead[1:], lead[:-1]),
        (entered[1:], entered[:-1]),
        (ending[1:], ending[:-1]),
        (code[1:], code[:-1]),
    )
    in_order = np.ones(n - 1, dtype=bool)
    tied = np.ones(n - 1, dtype=bool)
    for later, earlier in steps:
        in_order &= ~tied | (later >= earlier)
        tied &= later == earlier
    if in_order.all():
        return np.arange(n, dtype="int64")
    return np.lexsort((code, ending, entered, lead))


# ------------------------------------------------------------------------------------------------------
# waterfall
# ------------------------------------------------------------------------------------------------------


def waterfall(
    stays: pd.DataFrame,
    handoffs: pd.DataFrame | None = None,
    *,
    by: str | Sequence[str] | None = None,
    period: str | None = None,
    tz: str = "UTC",
    as_of: TimestampLike | None = None,
    targets: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The demand waterfall: per lifecycle phase, how many leads entered it, moved on, were recycled,
    disqualified or lost, or are still in it; how long they stay; how the handoffs made from it were received.

    Inputs:

    - ``stays``: a phase stays table (:mod:`funnel_metrics.phase_stays`; validated first);
    - ``handoffs``: optional handoffs table (validated first); a handoff from a phase absent from ``stays``
      is left out (counted in ``attrs["handoffs_without_phase"]``);
    - ``by``: None, or one or a list of ``team``, ``user``, ``source``, ``medium``, ``campaign``,
      ``country``. A lead's passage through a phase is counted under the values of its first stay there (a
      lead changing team is counted where it was); a stay's duration under the stay's own values; a
      handoff under its own values (for ``user``, which handoffs do not carry: the lead's first stay in the
      phase handed over from). Missing values form their own group (NA), last;
    - ``period``: None, ``week`` (from Monday), ``month`` or ``quarter``: a passage belongs to the period in
      which the lead first entered the phase, a stay to the period it began in, a handoff to the period it
      was sent in, counted in ``tz`` (IANA name; default UTC). The ``period`` column holds the period's first
      day as an ISO date string;
    - ``as_of``: snapshot of the open stays and awaiting handoffs (naive = UTC); default the latest timestamp
      in the tables;
    - ``targets``: optional, a table with ``phase``, optional ``team`` / ``user``, and
      ``target_conversion_rate`` (fraction) and/or ``target_days_in_phase`` (days), matched most specific
      first as stage targets are (:func:`funnel_metrics.match_targets`);
    - ``confidence``: of the conversion rate's Wilson interval.

    A lead *advanced* from a phase when it entered a ``progress`` or ``won`` phase of a higher sequence at or
    after its first entry in this phase. One that did not is *open* when its last stay in the phase is still
    open, else *recycled*, *disqualified* or *lost* when its next stay is in a phase of that kind (otherwise
    it counts in none of these: e.g. back to an earlier phase). ``conversion_rate`` = advanced / (advanced +
    recycled + disqualified + lost): open leads are not failures. Outcome phases (kind other than
    ``progress``) have ``advanced`` 0 and NaN rates.

    Output: one row per ([by...], [period], phase) with a passage, a stay or a handoff, ordered by group
    (labels sorted, NA last), period, then phase order (sequence, name), index 0..n-1; the ``by`` columns,
    ``period``, then :data:`WATERFALL_COLUMNS`:

    - ``entered``, ``advanced``, ``recycled``, ``disqualified``, ``lost``, ``open`` (int64, distinct leads);
    - ``conversion_rate``, ``ci_low``, ``ci_high`` (float64 fractions; NaN when nothing is decided);
    - ``median_days``, ``p90_days`` (float64): Kaplan-Meier quantiles of the stays, open ones censored at
      ``as_of`` (NaN when the curve does not fall that low); ``stays``, ``open_stays`` (int64);
    - handoffs made from the phase: ``handed_over``, ``accepted`` (auto-accepted included),
      ``auto_accepted``, ``rejected``, ``returned``, ``awaiting`` (int64); ``acceptance_rate`` = accepted /
      (accepted + rejected + returned) (NaN when none is decided); ``median_hours_to_decision``
      (Kaplan-Meier, awaiting and cancelled handoffs censored);
    - with ``targets``: ``target_conversion_rate`` and ``target_days`` (float64, NaN without a target).

    ``attrs["as_of"]`` holds the snapshot used.

    Raises:
        PhaseStaysError: a table is invalid (the message names the column and row).
        ValueError: a bad ``by``, ``period``, ``tz``, ``as_of``, ``confidence`` or targets table.
    """
    dims = _dimensions(by)
    _check_period(period)
    zone = _zone(tz)
    normal_quantile(confidence)
    table = phase_stays_table(stays)
    hand = handoffs_table(handoffs) if handoffs is not None else None
    snapshot = _snapshot(as_of, table, hand)
    phases = phase_table(table)
    n_phases = len(phases)
    passages = _Passages(table, phases)
    order = passages.order

    days_local = _local_days(passages.entered_sorted, zone) if period is not None else None
    groups = _Groups(dims, period)
    stay_values = [table[d].take(order).reset_index(drop=True) for d in dims]
    first = passages.first_row
    cell_table = groups.add(
        [v.take(first).reset_index(drop=True) for v in stay_values],
        None if days_local is None else days_local[first],
        len(first),
    )
    stay_table = groups.add(stay_values, days_local, len(order))
    hand_rows, hand_phase, hand_table = None, None, None
    if hand is not None:
        hand_rows, hand_phase, values = _handoff_rows(hand, phases, passages, stay_values, dims)
        sent = hand["sent_at"].to_numpy(dtype="datetime64[ns]").view("int64")[hand_rows]
        hand_table = groups.add(values, _local_days(sent, zone) if period is not None else None, len(sent))
    groups.close()

    width = max(n_phases, 1)
    key_sets = [
        groups.code(cell_table) * width + passages.phase,
        groups.code(stay_table) * width + phases.attrs["codes"][order],
    ]
    if hand_table is not None:
        key_sets.append(groups.code(hand_table) * width + hand_phase)
    keys, positions = _keys(*key_sets)
    n_keys = len(keys)

    def count(where: np.ndarray | None, table_index: int = 0) -> np.ndarray:
        at = positions[table_index] if where is None else positions[table_index][where]
        return np.bincount(at, minlength=n_keys).astype("int64")

    phase = keys % width
    terminal = (
        phases["phase_kind"].to_numpy(dtype=object)[phase] != "progress" if n_phases else np.zeros(0, bool)
    )
    result: dict[str, Any] = groups.columns(keys // width)
    result["phase"] = _labels_of(phase, phases["phase"])
    result["phase_sequence"] = phases["phase_sequence"].to_numpy(dtype="int64")[phase]
    result["phase_kind"] = _labels_of(phase, phases["phase_kind"])
    result["entered"] = count(None)
    advanced = count(passages.advanced)
    result["advanced"] = advanced
    failed = np.zeros(n_keys, dtype="int64")
    for name, mask in passages.outcome.items():
        result[name] = count(mask)
        failed += result[name]
    result["open"] = count(passages.open)
    decided = advanced + failed
    rate = np.full(n_keys, np.nan)
    np.divide(advanced, decided, out=rate, where=(decided > 0) & ~terminal)
    low, high = wilson_interval(advanced, decided, confidence)
    result["conversion_rate"] = rate
    result["ci_low"] = np.where(terminal, np.nan, low)
    result["ci_high"] = np.where(terminal, np.nan, high)

    days, closed = _stay_days(table, snapshot)
    median, p90, stays_count = _grouped_dwell(days[order], closed[order], positions[1], n_keys)
    result["median_days"] = median
    result["p90_days"] = p90
    result["stays"] = stays_count
    result["open_stays"] = count(~closed[order], 1)
    result.update(
        _handoff_counts(hand, hand_rows, positions[2] if hand is not None else None, n_keys, snapshot)
    )
    frame = pd.DataFrame(result)
    if targets is not None:
        _phase_targets(frame, targets, dims)
    frame.attrs["as_of"] = snapshot
    frame.attrs["handoffs_without_phase"] = 0 if hand is None else len(hand) - len(hand_rows)
    return frame


def _handoff_rows(
    hand: pd.DataFrame,
    phases: pd.DataFrame,
    passages: _Passages,
    stay_values: list[pd.Series],
    dims: list[str],
) -> tuple[np.ndarray, np.ndarray, list[pd.Series]]:
    """The handoffs from a phase of the stays (their rows), their phase codes and their ``by`` values."""
    phase = codes_among(hand["phase"], tuple(phases["phase"].tolist()))
    rows = np.flatnonzero(phase >= 0)
    phase = phase[rows].astype("int64")
    values = []
    if any(dim not in hand.columns for dim in dims):
        # the lead's first stay in the phase handed over from (NA when the lead has none there)
        lead = hand["lead_id"].to_numpy(dtype="int64")[rows]
        lead_code, known = _lookup(passages.lead_ids, lead)
        at, found = _lookup(passages.cells, lead_code * max(len(phases), 1) + phase)
        stay_row = passages.first_row[at[known & found]]
        found = known & found
    for position, dim in enumerate(dims):
        if dim in hand.columns:
            values.append(hand[dim].take(rows).reset_index(drop=True))
            continue
        taken = pd.Series(pd.NA, index=range(len(rows)), dtype="string")
        taken[found] = stay_values[position].take(stay_row).to_numpy()
        values.append(taken)
    return rows, phase, values


def _lookup(distinct: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``values`` in the sorted array ``distinct``, and whether each was found there."""
    at = np.searchsorted(distinct, values)
    found = at < len(distinct)
    found[found] = distinct[at[found]] == values[found]
    return np.where(found, at, 0), found


def _handoff_counts(
    hand: pd.DataFrame | None,
    rows: np.ndarray | None,
    at: np.ndarray | None,
    n_keys: int,
    snapshot: pd.Timestamp | None,
) -> dict[str, np.ndarray]:
    zeros = np.zeros(n_keys, dtype="int64")
    if hand is None:
        return {
            "handed_over": zeros,
            "accepted": zeros,
            "auto_accepted": zeros,
            "rejected": zeros,
            "returned": zeros,
            "awaiting": zeros,
            "acceptance_rate": np.full(n_keys, np.nan),
            "median_hours_to_decision": np.full(n_keys, np.nan),
        }
    state = codes_among(hand["state"], HANDOFF_STATES)[rows]
    out = {"handed_over": np.bincount(at, minlength=n_keys).astype("int64")}
    for name in ("accepted", "rejected", "returned", "awaiting"):
        out[name] = np.bincount(at[state == HANDOFF_STATES.index(name)], minlength=n_keys).astype("int64")
    auto = hand["auto_accepted"].to_numpy(dtype=bool)[rows]
    out["auto_accepted"] = np.bincount(at[auto], minlength=n_keys).astype("int64")
    out = {
        name: out[name]
        for name in ("handed_over", "accepted", "auto_accepted", "rejected", "returned", "awaiting")
    }
    decided = out["accepted"] + out["rejected"] + out["returned"]
    rate = np.full(n_keys, np.nan)
    np.divide(out["accepted"], decided, out=rate, where=decided > 0)
    out["acceptance_rate"] = rate
    # time to a decision: awaiting handoffs censored at the snapshot, cancelled ones when they were cancelled
    sent = hand["sent_at"].to_numpy(dtype="datetime64[ns]").view("int64")[rows]
    ended = hand["decided_at"].to_numpy(dtype="datetime64[ns]").view("int64")[rows].copy()
    if snapshot is not None:
        ended[ended == _NAT] = snapshot.value
    ended = np.where(ended == _NAT, sent, ended)
    event = np.isin(state, [HANDOFF_STATES.index(name) for name in DECIDED_STATES])
    median, _p90, _n = _grouped_dwell(np.maximum(ended - sent, 0) / _DAY_NS, event, at, n_keys)
    out["median_hours_to_decision"] = median * 24.0
    return out


def _phase_targets(frame: pd.DataFrame, targets: pd.DataFrame, dims: list[str]) -> None:
    """Add ``target_conversion_rate`` and ``target_days`` to a waterfall frame (matched on phase, team and
    user)."""
    if not isinstance(targets, pd.DataFrame):
        raise ValueError(f"targets must be a pandas DataFrame, got {type(targets).__name__}")
    if "phase" not in targets.columns:
        raise ValueError(
            "phase targets need a 'phase' column (columns: phase, optional team/user, "
            "target_conversion_rate, target_days_in_phase)"
        )
    as_stage = targets.drop(columns=[c for c in ("stage", "product") if c in targets.columns]).rename(
        columns={"phase": "stage", "target_days_in_phase": "target_days_in_stage"}
    )
    keys = pd.DataFrame({"stage": frame["phase"]})
    for dim in ("team", "user"):
        if dim in dims:
            keys[dim] = frame[dim]
    frame["target_conversion_rate"] = match_targets(keys, as_stage, "target_conversion_rate").to_numpy()
    frame["target_days"] = match_targets(keys, as_stage, "target_days_in_stage").to_numpy()


# ------------------------------------------------------------------------------------------------------
# rejection reasons, cost per sales-accepted lead
# ------------------------------------------------------------------------------------------------------


def rejection_reasons(
    handoffs: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    period: str | None = None,
    tz: str = "UTC",
) -> pd.DataFrame:
    """Why handoffs were rejected: per ([by...], [period], phase handed over from, reason), the rejections.

    Inputs: a handoffs table (validated first); ``by`` one or a list of ``team``, ``source``, ``medium``,
    ``campaign``, ``country`` (the handoff's columns); ``period`` (``week``/``month``/``quarter``, by
    ``sent_at`` in ``tz``) as in :func:`waterfall`. Only ``rejected`` handoffs count (one returned by the
    acceptance deadline was not rejected: nobody looked at it).

    Output: one row per ([by...], [period], phase, reason) with a rejection, ordered by group, period,
    phase name, then most rejections first (ties by reason), index 0..n-1: the ``by`` columns, ``period``,
    then ``phase``, ``reason`` (string; NA: rejected without a reason), ``rejected`` (int64), ``share``
    (float64: of the rejections of the same group, period and phase).

    Raises:
        PhaseStaysError: the table is invalid. ValueError: a bad ``by``, ``period`` or ``tz``.
    """
    dims = _dimensions(by)
    if "user" in dims:
        raise ValueError(
            "rejection_reasons: handoffs have no 'user' column; group by team, source, medium, "
            "campaign or country"
        )
    _check_period(period)
    zone = _zone(tz)
    hand = handoffs_table(handoffs)
    rejected = hand.loc[(hand["state"] == "rejected").to_numpy(dtype=bool)]
    groups = _Groups(dims, period)
    sent = rejected["sent_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    index = groups.add(
        [rejected[d].reset_index(drop=True) for d in dims],
        _local_days(sent, zone) if period else None,
        len(sent),
    )
    groups.close()
    frame = pd.DataFrame(groups.columns(groups.code(index)))
    frame["phase"] = rejected["phase"].to_numpy()
    frame["phase"] = frame["phase"].astype("string")
    frame["reason"] = rejected["reason"].astype("string").to_numpy()
    frame["reason"] = frame["reason"].astype("string")
    frame["_group"] = groups.code(index)
    keys = ["_group", "phase", "reason"]
    counted = frame.groupby(keys, dropna=False, sort=False).size().rename("rejected").reset_index()
    labels = pd.DataFrame(groups.columns(counted["_group"].to_numpy(dtype="int64")))
    counted = pd.concat([labels, counted], axis=1)
    total = counted.groupby(["_group", "phase"], dropna=False, sort=False)["rejected"].transform("sum")
    counted["rejected"] = counted["rejected"].astype("int64")
    counted["share"] = counted["rejected"] / total
    counted = counted.sort_values(
        ["_group", "phase", "rejected", "reason"],
        ascending=[True, True, False, True],
        kind="stable",
        na_position="last",
    )
    columns = [*dims, *(["period"] if period else []), *REJECTION_COLUMNS]
    return counted.loc[:, columns].reset_index(drop=True)


def sales_accepted_cost(
    stays: pd.DataFrame,
    costs: pd.DataFrame,
    *,
    phase: str = "Sales Accepted",
    by: str = "campaign",
    period: str = "month",
    tz: str = "UTC",
) -> pd.DataFrame:
    """Sales-accepted leads per campaign (or source, medium, team...) and period, and what each one cost.

    Inputs:

    - ``stays``: a phase stays table (validated first);
    - ``costs``: the costs table of :func:`funnel_metrics.cost_per_lead`: columns ``<by>``, ``period``
      (dates or ISO strings such as ``2024-03`` / ``2024-03-01``; the day is taken as written, in ``tz``, and
      placed in its period) and ``cost`` (rows of the same key are added up);
    - ``phase``: the phase that counts as sales-accepted (default ``Sales Accepted``);
    - ``by``: one of ``team``, ``user``, ``source``, ``medium``, ``campaign`` (default), ``country``;
    - ``period``: ``week``, ``month`` (default) or ``quarter``, in ``tz``; None: the whole table, one row
      per ``by`` value and no ``period`` column (a campaign's total cost over its leads).

    A lead is counted under the value of its stay: ``entered`` in the period it first entered the first
    phase of the waterfall (the lowest sequence), ``sales_accepted`` in the period it first entered
    ``phase``.

    Output: one row per (``by`` value, period) with a lead or a cost, sorted by value (NA last) then period,
    index 0..n-1: ``<by>`` (string), ``period`` (ISO date of the period's first day), ``entered``,
    ``sales_accepted`` (int64), ``cost`` (float64; 0 without a cost row), ``cost_per_sales_accepted``
    (float64; NaN when no lead was sales-accepted).

    Raises:
        PhaseStaysError: the table is invalid. ValueError: an unknown ``phase``, a bad ``by``, ``period``,
            ``tz`` or costs table.
    """
    if not isinstance(by, str) or by not in WATERFALL_BY:
        raise ValueError(f"by must be one of {', '.join(WATERFALL_BY)}, got {by!r}")
    _check_period(period)
    zone = _zone(tz)
    amount = _cost_amounts(costs, by)
    table = phase_stays_table(stays)
    phases = phase_table(table)
    known = phases["phase"].tolist()
    if phase not in known:
        raise ValueError(
            f"phase: no phase {phase!r} in the phase stays (phases: {', '.join(map(repr, known))})"
        )
    passages = _Passages(table, phases)
    values = table[by].take(passages.order).reset_index(drop=True)
    first_phase, accepted = 0, known.index(phase)
    days = _local_days(passages.entered_sorted, zone)
    picked = {}
    for name, code in (("entered", first_phase), ("sales_accepted", accepted)):
        rows = passages.first_row[passages.phase == code]
        picked[name] = (values.take(rows).reset_index(drop=True), days[rows])
    cost_days = np.floor_divide(_cost_instants(costs), _DAY_NS)  # the day as written: no time zone shift
    groups = _Groups([by], period)
    tables = [groups.add([v], d, len(d)) for v, d in picked.values()]
    cost_table = groups.add([costs[by].astype("string").reset_index(drop=True)], cost_days, len(cost_days))
    groups.close()
    keys, positions = _keys(*(groups.code(t) for t in (*tables, cost_table)))
    n_keys = len(keys)
    result = groups.columns(keys)
    entered = np.bincount(positions[0], minlength=n_keys).astype("int64")
    sales_accepted = np.bincount(positions[1], minlength=n_keys).astype("int64")
    cost = np.bincount(positions[2], weights=amount, minlength=n_keys).astype("float64")
    per = np.full(n_keys, np.nan)
    np.divide(cost, sales_accepted, out=per, where=sales_accepted > 0)
    return pd.DataFrame(
        {
            by: result[by],
            **({"period": result["period"]} if period is not None else {}),
            "entered": entered,
            "sales_accepted": sales_accepted,
            "cost": cost,
            "cost_per_sales_accepted": per,
        }
    )
