"""Early warning: segments whose conversion or time in stage dropped significantly this week.

Every week, per segment (a sales team, a salesperson, a product, a source, a country: each value of the
``segments`` columns of the transitions table) and stage, the recent window (default the last 4 weeks) is
compared with the segment's own trailing baseline (default the 26 weeks before the window) and with its stage
target. Four one-sided tests per (segment, stage); a warning is raised only for a *drop*:

=========================== ===========================================================================
test                        what is compared, and how
=========================== ===========================================================================
``conversion_vs_baseline``  conversion of the passages *decided* in the recent window (advanced / (advanced +
                            lost), exactly as :func:`funnel_metrics.stage_conversion` counts them: open
                            leads are not failures) against those decided in the baseline window; pooled
                            two-proportion z-test, one-sided (recent lower)
``conversion_vs_target``    the same recent conversion against the stage's ``target_conversion_rate``
                            (:func:`funnel_metrics.match_targets`, most specific first); one-sided score
                            test of a binomial proportion, continuity-corrected
``days_vs_baseline``        how long the stays that entered the stage in the recent window last (open stays
                            censored at ``as_of``) against the stays that entered in the baseline window
                            (censored at the baseline's end: the pipeline as it was known then); one-sided
                            log-rank test (recent stays leave the stage at a lower rate)
``days_vs_target``          of the stays that entered in the window-long period ending ``target_days`` before
                            ``as_of`` (so each one's fate at the target is known), the share still in the
                            stage after ``target_days_in_stage`` days; one-sided sign test that the median
                            stay exceeds the target (share > 1/2), continuity-corrected
=========================== ===========================================================================

A passage (a lead's way through a stage) is decided when the lead advanced from the stage -- at the end of
its first stay there -- or was lost in it -- at the end of its last stay; it belongs to the segment of its
first stay in the stage (the attribution of :func:`funnel_metrics.breakdown`). A stay belongs to its own
segment. The table is first cut at ``as_of``: a stay or a decision after it is not known yet, so a past week
is judged on what was known that week.

Minimum sample sizes (``min_n``, default 20): a conversion test needs ``min_n`` decided passages in the recent
window (and, against the baseline, ``min_n`` in the baseline window); a days test needs ``min_n`` stays in the
recent window and in the baseline (against the baseline) or ``min_n`` stays whose fate at the target is known
(against the target). Smaller cells are reported with ``p_value`` NaN and are not tested.

False alarms: all the tests of the week (every segment x stage x test carried out) are adjusted together by
Benjamini-Hochberg (:func:`benjamini_hochberg`); a warning is a test whose adjusted p-value is <= ``q``
(default 0.10): in expectation at most that share of the week's warnings are false, and on a pipeline where
nothing changed the chance of any warning in a week is at most ``q``. The z-based p-values are normal
approximations, fair from the minimum sample size on.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from funnel_metrics.funnel import LOST, _as_utc, _factorize_groups, _Facts, _grouped_dwell, _validated
from funnel_metrics.stats import normal_quantile, wilson_interval
from funnel_metrics.targets import match_targets

TimestampLike = str | dt.datetime | np.datetime64 | pd.Timestamp

SEGMENTS: tuple[str, ...] = ("team", "user", "product", "source", "country")
"""The segment columns looked at by default, those of them the table has (``country`` is an extra column)."""
TESTS: tuple[str, ...] = (
    "conversion_vs_baseline",
    "conversion_vs_target",
    "days_vs_baseline",
    "days_vs_target",
)
WARNING_COLUMNS: tuple[str, ...] = (
    "segment_kind",
    "segment",
    "stage",
    "stage_sequence",
    "test",
    "recent_n",
    "recent_events",
    "baseline_n",
    "baseline_events",
    "recent_rate",
    "baseline_rate",
    "target_rate",
    "recent_days",
    "baseline_days",
    "target_days",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "adjusted_p",
    "warning",
)
"""Columns of :func:`early_warnings`."""

_FLOAT_COLUMNS = WARNING_COLUMNS[WARNING_COLUMNS.index("recent_rate") : WARNING_COLUMNS.index("adjusted_p")]
_NANOS_PER_DAY = 86_400 * 1_000_000_000
_NANOS_PER_WEEK = 7 * _NANOS_PER_DAY
_NAT = np.iinfo(np.int64).min
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF, element-wise (NaN stays NaN); one call per test, not per row."""
    z = np.asarray(z, dtype="float64")
    out = np.full(z.shape, np.nan)
    finite = ~np.isnan(z)
    out[finite] = 0.5 * _erfc(-z[finite] / math.sqrt(2.0)).astype("float64")
    return out


def benjamini_hochberg(
    pvalues: Sequence[float] | np.ndarray | pd.Series, q: float = 0.10
) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg step-up procedure: which of many tests to reject with the false discovery rate <= q.

    Inputs: ``pvalues``, p-values in [0, 1] (NaN = not tested: left out of the count of tests); ``q``, the
    false discovery rate, strictly between 0 and 1.

    Output: ``(adjusted, rejected)``, arrays in the order of ``pvalues``: ``adjusted`` (float64) the BH
    adjusted p-values (``min over j >= rank of p_(j) * m / j``, capped at 1; NaN where the p-value is NaN),
    ``rejected`` (bool) where ``adjusted <= q``. With independent (or positively dependent) tests the
    expected share of false rejections among the rejections is at most ``q``; when every null hypothesis is
    true, the chance of any rejection is at most ``q``.

    Raises:
        ValueError: ``q`` out of range, or a p-value outside [0, 1].
    """
    if not 0.0 < float(q) < 1.0:
        raise ValueError(
            f"q (the false discovery rate) must be strictly between 0 and 1, e.g. 0.10; got {q!r}"
        )
    p = np.asarray(pvalues, dtype="float64").reshape(-1)
    tested = ~np.isnan(p)
    if ((p[tested] < 0) | (p[tested] > 1)).any():
        raise ValueError("p-values must lie between 0 and 1 (NaN for a test not carried out)")
    adjusted = np.full(len(p), np.nan)
    values = p[tested]
    m = len(values)
    if m:
        order = np.argsort(values, kind="stable")
        scaled = values[order] * m / np.arange(1, m + 1)
        running = np.minimum.accumulate(scaled[::-1])[::-1]
        step = np.empty(m)
        step[order] = np.minimum(running, 1.0)
        adjusted[tested] = step
    with np.errstate(invalid="ignore"):
        rejected = adjusted <= float(q)
    return adjusted, rejected


def _cut(table: pd.DataFrame, instant: int) -> pd.DataFrame:
    """The table as it was known at ``instant`` (int64 ns): stays entered later dropped, stays that ended
    later open again, and the leads holding one of those open (their decision came later)."""
    entered = table["entered_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    left = table["left_at"].to_numpy(dtype="datetime64[ns]").view("int64")
    kept = entered <= instant
    later = kept & (left != _NAT) & (left > instant)
    if kept.all() and not later.any():
        return table
    out = table.loc[kept].reset_index(drop=True)
    reopened = later[kept]
    if reopened.any():
        out["left_at"] = out["left_at"].mask(reopened)
        leads = out["lead_id"].isin(out.loc[reopened, "lead_id"])
        out["outcome"] = out["outcome"].mask(leads, "open")
    return out


def _segment_codes(table: pd.DataFrame, segments: Sequence[str]) -> list[tuple[str, np.ndarray, pd.Series]]:
    """Per segment column: (column, row codes with NA rows as -1, labels)."""
    out = []
    for column in segments:
        codes, labels = _factorize_groups(table[column].astype("string"))
        na = labels.isna().to_numpy()
        if na.any():
            codes = np.where(na[codes], -1, codes)
            labels = labels[~na].reset_index(drop=True)
        out.append((column, codes, labels))
    return out


def _log_rank(
    key: np.ndarray,
    days: np.ndarray,
    event: np.ndarray,
    recent: np.ndarray,
    n_keys: int,
    by_days: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per key (0..n_keys-1): the recent stays' observed minus expected events and its variance
    (log-rank, hypergeometric variance with ties), and the recent stays' events. A censoring at a time
    with events stays at risk at that time. ``by_days``: the rows in ascending ``days`` order (shared by the
    segment kinds: sorted once)."""
    observed_minus = np.zeros(n_keys)
    variance = np.zeros(n_keys)
    if len(key) == 0:
        return observed_minus, variance, np.zeros(n_keys, dtype="int64")
    small = key[by_days].astype("uint32") if n_keys <= np.iinfo(np.uint32).max else key[by_days]
    order = by_days[np.argsort(small, kind="stable")]
    key, days, event, recent = key[order], days[order], event[order], recent[order]
    size = len(key)
    new_key = np.r_[True, key[1:] != key[:-1]]
    block_start = np.flatnonzero(new_key | np.r_[True, days[1:] != days[:-1]])
    key_end = np.r_[np.flatnonzero(new_key)[1:], size]
    key_of_block = np.cumsum(new_key)[block_start] - 1
    end = key_end[key_of_block]
    at_risk = (end - block_start).astype("float64")
    recent_total = np.r_[0, np.cumsum(recent)]
    recent_at_risk = (recent_total[end] - recent_total[block_start]).astype("float64")
    deaths = np.add.reduceat(event.astype("int64"), block_start).astype("float64")
    recent_deaths = np.add.reduceat((event & recent).astype("int64"), block_start).astype("float64")
    share = recent_at_risk / at_risk
    expected = deaths * share
    var = deaths * share * (1 - share) * (at_risk - deaths) / np.maximum(at_risk - 1, 1)
    block_key = key[block_start]
    observed_minus = np.bincount(block_key, recent_deaths - expected, minlength=n_keys)
    variance = np.bincount(block_key, var, minlength=n_keys)
    return observed_minus, variance, np.bincount(key[event & recent], minlength=n_keys).astype("int64")


def early_warnings(
    transitions: pd.DataFrame,
    as_of: TimestampLike,
    targets: pd.DataFrame | None = None,
    *,
    window_weeks: int = 4,
    baseline_weeks: int = 26,
    q: float = 0.10,
    segments: Sequence[str] | None = None,
    min_n: int = 20,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The week's early warnings: per segment and stage, significant drops of conversion and time in stage.

    Inputs:

    - ``transitions``: a transitions table (validated first) with the whole history of its leads;
    - ``as_of``: the instant of the week's check (naive = UTC); the table is cut there (see the module);
    - ``targets``: optional targets table (:mod:`funnel_metrics.targets`), matched on the stage and the
      segment (a team's, salesperson's or product's own target first, then the stage's);
    - ``window_weeks`` (default 4): the recent window, the weeks up to ``as_of``;
    - ``baseline_weeks`` (default 26): the baseline, the weeks just before the recent window;
    - ``q`` (default 0.10): the false discovery rate of the week's warnings (Benjamini-Hochberg over every
      test carried out);
    - ``segments``: the segment columns (default those of :data:`SEGMENTS` the table has);
    - ``min_n`` (default 20): the smallest sample a test is carried out on (see the module);
    - ``confidence`` (default 0.95): level of the intervals.

    Output: one row per (segment, stage, test) with something recent to compare (every test of the module's
    table whose recent sample is not empty and whose reference exists), ordered by segment kind (in
    ``segments`` order), segment, pipeline order, test; index 0..n-1; columns :data:`WARNING_COLUMNS`:

    - ``segment_kind`` (the column), ``segment`` (its value), ``stage`` (string), ``stage_sequence``,
      ``test``;
    - ``recent_n``, ``recent_events``, ``baseline_n``, ``baseline_events`` (int64): conversion tests: decided
      passages and those that advanced; ``days_vs_baseline``: stays and those that left the stage (baseline
      0 for target tests); ``days_vs_target``: stays whose fate at the target is known and those still in
      the stage after it;
    - ``recent_rate``, ``baseline_rate``, ``target_rate`` (fractions; conversion tests, NaN otherwise);
    - ``recent_days``, ``baseline_days`` (Kaplan-Meier median days of the compared stays, NaN when too
      censored), ``target_days`` (days tests);
    - ``estimate``, ``ci_low``, ``ci_high``: what the interval is about, at ``confidence``: conversion tests
      the recent rate (Wilson); ``days_vs_baseline`` the ratio of the recent to the baseline rate of leaving
      the stage (log-rank, Peto; < 1: slower); ``days_vs_target`` the share of stays longer than the target
      (Wilson; > 0.5: the median exceeds it);
    - ``p_value`` (one-sided, NaN below the minimum sample: not tested), ``adjusted_p`` (Benjamini-Hochberg
      over the week's tests), ``warning`` (bool: ``adjusted_p <= q``).

    ``attrs``: ``as_of``, ``window_start``, ``baseline_start`` (UTC), ``q``, ``min_n``, ``tests`` (tests
    carried out), ``warnings`` (count).

    Raises:
        TransitionsError: the table is invalid.
        ValueError: a bad ``as_of``, window, ``q``, ``min_n`` or targets table, or an unknown segment column.
    """
    if int(window_weeks) < 1 or int(baseline_weeks) < 1:
        raise ValueError(
            f"window_weeks and baseline_weeks must be whole numbers of weeks >= 1, got {window_weeks!r} and "
            f"{baseline_weeks!r}"
        )
    if int(min_n) < 1:
        raise ValueError(f"min_n must be >= 1 (the smallest sample a test is run on), got {min_n!r}")
    benjamini_hochberg([], q)  # checks q
    normal_quantile(confidence)  # checks the confidence
    table = _validated(transitions)
    if segments is None:
        segments = [column for column in SEGMENTS if column in table.columns]
    missing = [column for column in segments if column not in table.columns]
    if missing:
        raise ValueError(f"segments: the transitions table has no column {', '.join(map(repr, missing))}")
    now = _as_utc(as_of, "as_of")
    instant = now.value
    window_start = instant - int(window_weeks) * _NANOS_PER_WEEK
    baseline_start = window_start - int(baseline_weeks) * _NANOS_PER_WEEK
    table = _cut(table, instant)
    facts = _Facts(table)
    n_stages = facts.n_stages
    left = table["left_at"].to_numpy(dtype="datetime64[ns]").view("int64")

    # decided passages: (lead, stage) cells, decided when and how
    lost_cells = facts.ends_here & (facts.outcome[:, None] == LOST)
    first_row = facts.first_row
    _, last_row = facts.last_stay
    lead_loss = left[last_row] if facts.n_leads else np.empty(0, "int64")
    decided_at = np.full(first_row.shape, _NAT, dtype="int64")
    advanced = facts.advanced
    decided_at[advanced] = left[first_row[advanced]]
    lost_time = np.broadcast_to(lead_loss[:, None], first_row.shape)
    decided_at[lost_cells] = lost_time[lost_cells]
    known = decided_at != _NAT
    in_recent = known & (decided_at > window_start) & (decided_at <= instant)
    in_base = known & (decided_at > baseline_start) & (decided_at <= window_start)
    cell_lead, cell_stage = np.nonzero(in_recent | in_base)
    cell_row = first_row[cell_lead, cell_stage]
    cell_recent = in_recent[cell_lead, cell_stage]
    cell_advanced = advanced[cell_lead, cell_stage]
    # stages where something is ever decided (the won stage is not: no time test there)
    decisive = (advanced | lost_cells).any(axis=0) if facts.n_leads else np.zeros(n_stages, bool)

    entered = facts.entered
    stay_recent = (entered > window_start) & (entered <= instant)
    stay_base = (entered > baseline_start) & (entered <= window_start)
    stay_rows = np.flatnonzero((stay_recent | stay_base) & decisive[facts.codes])
    stay_end = np.where(stay_recent[stay_rows], instant, window_start)  # censoring instant of each group
    stay_left = left[stay_rows]
    stay_event = (stay_left != _NAT) & (stay_left <= stay_end)
    stay_days = (np.where(stay_event, stay_left, stay_end) - entered[stay_rows]) / _NANOS_PER_DAY
    stay_stage = facts.codes[stay_rows]
    stay_is_recent = stay_recent[stay_rows]
    stay_order = np.argsort(stay_days, kind="stable")

    parts = []
    for column, codes, labels in _segment_codes(table, segments):
        n_seg = len(labels)
        size = n_seg * n_stages
        # conversion per (segment, stage)
        seg = codes[cell_row]
        ok = seg >= 0
        key = seg[ok] * n_stages + cell_stage[ok]
        rec, adv = cell_recent[ok], cell_advanced[ok]
        counts = {
            "recent_n": np.bincount(key[rec], minlength=size),
            "recent_events": np.bincount(key[rec & adv], minlength=size),
            "baseline_n": np.bincount(key[~rec], minlength=size),
            "baseline_events": np.bincount(key[~rec & adv], minlength=size),
        }
        # days per (segment, stage)
        # stays without a segment value go to one more key, dropped
        sseg = codes[stay_rows]
        skey = np.where(sseg >= 0, sseg * n_stages + stay_stage, size)
        o_minus_e, variance, recent_left = _log_rank(
            skey, stay_days, stay_event, stay_is_recent, size + 1, stay_order
        )
        o_minus_e, variance, recent_left = o_minus_e[:size], variance[:size], recent_left[:size]
        sok = sseg >= 0
        srecent = stay_is_recent[sok]
        two = skey[sok] * 2 + srecent
        median, _, stays = _grouped_dwell(stay_days[sok], stay_event[sok], two, size * 2)
        days = {
            "recent_n": stays[1::2],
            "recent_events": recent_left,
            "baseline_n": stays[0::2],
            "baseline_events": np.bincount(skey[sok][~srecent & stay_event[sok]], minlength=size),
            "recent_days": median[1::2],
            "baseline_days": median[0::2],
            "o_minus_e": o_minus_e,
            "variance": variance,
        }
        cells = pd.DataFrame(
            {
                "segment_kind": column,
                "segment": labels.take(np.repeat(np.arange(n_seg), n_stages)).reset_index(drop=True),
                "stage_code": np.tile(np.arange(n_stages), n_seg),
            }
        )
        stage_names = facts.stages["stage"].take(cells["stage_code"]).reset_index(drop=True)
        target_keys = pd.DataFrame({"stage": stage_names})
        if column in ("user", "team", "product"):
            target_keys[column] = cells["segment"].astype(object)
        target_rate = target_days = np.full(size, np.nan)
        if targets is not None:
            target_rate = match_targets(target_keys, targets, "target_conversion_rate").to_numpy()
            target_days = match_targets(target_keys, targets, "target_days_in_stage").to_numpy()
            target_days = np.where(decisive[cells["stage_code"].to_numpy()], target_days, np.nan)
        # days against the target: the window-long cohort of stays entered target_days before as_of
        row_target = np.full(facts.n_rows, np.nan)
        has_segment = codes >= 0
        row_target[has_segment] = target_days[codes[has_segment] * n_stages + facts.codes[has_segment]]
        reach = np.nan_to_num(row_target * _NANOS_PER_DAY, nan=0.0).astype("int64")
        lasted = np.where(left == _NAT, instant, left) - entered
        cohort = ~np.isnan(row_target) & (entered <= instant - reach) & (entered > window_start - reach)
        over = cohort & (lasted > reach)
        row_key = np.where(has_segment, codes, 0) * n_stages + facts.codes
        target_counts = {
            "recent_n": np.bincount(row_key[cohort], minlength=size),
            "recent_events": np.bincount(row_key[over], minlength=size),
        }
        parts.extend(_tests(cells, counts, days, target_counts, target_rate, target_days, min_n, confidence))
    result = _assemble(parts, facts, q)
    result.attrs.update(
        {
            "as_of": now,
            "window_start": pd.Timestamp(window_start, tz="UTC"),
            "baseline_start": pd.Timestamp(baseline_start, tz="UTC"),
            "q": float(q),
            "min_n": int(min_n),
            "tests": int(result["p_value"].notna().sum()),
            "warnings": int(result["warning"].sum()),
        }
    )
    return result


def _tests(
    cells: pd.DataFrame,
    counts: dict[str, np.ndarray],
    days: dict[str, np.ndarray],
    target_counts: dict[str, np.ndarray],
    target_rate: np.ndarray,
    target_days: np.ndarray,
    min_n: int,
    confidence: float,
) -> list[pd.DataFrame]:
    """The four tests of one segment kind's (segment, stage) cells, as frames of the rows with something to
    compare (p-values NaN below the minimum samples)."""
    z = normal_quantile(confidence)
    nan = np.full(len(cells), np.nan)
    zero = np.zeros(len(cells), dtype="int64")
    rn, re = counts["recent_n"].astype("float64"), counts["recent_events"].astype("float64")
    bn, be = counts["baseline_n"].astype("float64"), counts["baseline_events"].astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        recent_rate, baseline_rate = re / rn, be / bn
        pooled = (re + be) / (rn + bn)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / rn + 1 / bn))
        z_base = (recent_rate - baseline_rate) / spread
        p0 = np.clip(target_rate, 1e-9, 1 - 1e-9)
        z_target = (re + 0.5 - rn * p0) / np.sqrt(rn * p0 * (1 - p0))
        ome, var = days["o_minus_e"], days["variance"]
        z_days = ome / np.sqrt(var)
        log_ratio = ome / var
        half = z / np.sqrt(var)
        tn, tx = target_counts["recent_n"].astype("float64"), target_counts["recent_events"].astype("float64")
        z_sign = (tx - 0.5 - tn / 2) / np.sqrt(tn / 4)
    low, high = wilson_interval(re, rn, confidence)
    share_low, share_high = wilson_interval(tx, tn, confidence)

    def p_of(statistic: np.ndarray, tested: np.ndarray) -> np.ndarray:
        # no spread (every sample the same): nothing can have dropped
        p = np.where(np.isnan(statistic), 1.0, _normal_cdf(np.nan_to_num(statistic, nan=0.0)))
        return np.where(tested, p, np.nan)

    conversion = {
        "recent_n": counts["recent_n"],
        "recent_events": counts["recent_events"],
        "recent_rate": recent_rate,
        "recent_days": nan,
        "baseline_days": nan,
        "target_days": nan,
        "estimate": recent_rate,
        "ci_low": low,
        "ci_high": high,
    }
    frames = [
        (
            "conversion_vs_baseline",
            (rn > 0) & (bn > 0),
            {
                **conversion,
                "baseline_n": counts["baseline_n"],
                "baseline_events": counts["baseline_events"],
                "baseline_rate": baseline_rate,
                "target_rate": nan,
                "p_value": p_of(z_base, (rn >= min_n) & (bn >= min_n)),
            },
        ),
        (
            "conversion_vs_target",
            (rn > 0) & ~np.isnan(target_rate),
            {
                **conversion,
                "baseline_n": zero,
                "baseline_events": zero,
                "baseline_rate": nan,
                "target_rate": target_rate,
                "p_value": p_of(z_target, rn >= min_n),
            },
        ),
        (
            "days_vs_baseline",
            (days["recent_n"] > 0) & (days["baseline_n"] > 0),
            {
                "recent_n": days["recent_n"],
                "recent_events": days["recent_events"],
                "baseline_n": days["baseline_n"],
                "baseline_events": days["baseline_events"],
                "recent_rate": nan,
                "baseline_rate": nan,
                "target_rate": nan,
                "recent_days": days["recent_days"],
                "baseline_days": days["baseline_days"],
                "target_days": nan,
                "estimate": np.exp(log_ratio),
                "ci_low": np.exp(log_ratio - half),
                "ci_high": np.exp(log_ratio + half),
                "p_value": p_of(z_days, (days["recent_n"] >= min_n) & (days["baseline_n"] >= min_n)),
            },
        ),
        (
            "days_vs_target",
            tn > 0,
            {
                "recent_n": target_counts["recent_n"],
                "recent_events": target_counts["recent_events"],
                "baseline_n": zero,
                "baseline_events": zero,
                "recent_rate": nan,
                "baseline_rate": nan,
                "target_rate": nan,
                "recent_days": nan,
                "baseline_days": nan,
                "target_days": target_days,
                "estimate": tx / np.where(tn > 0, tn, np.nan),
                "ci_low": share_low,
                "ci_high": share_high,
                "p_value": p_of(-z_sign, tn >= min_n),
            },
        ),
    ]
    out = []
    for rank, (test, present, columns) in enumerate(frames):
        rows = np.flatnonzero(present)
        frame = cells.iloc[rows].reset_index(drop=True)
        frame["test"] = test
        frame["_test"] = rank
        frame["_cell"] = rows
        for name, values in columns.items():
            frame[name] = np.asarray(values)[rows]
        out.append(frame)
    return out


def _assemble(parts: list[pd.DataFrame], facts: _Facts, q: float) -> pd.DataFrame:
    """One frame of every kind's tests in the documented order, adjusted together (Benjamini-Hochberg)."""
    if parts:
        frame = pd.concat(
            [part.assign(_kind=rank // 4) for rank, part in enumerate(parts)], ignore_index=True
        )
    else:
        frame = pd.DataFrame({"segment_kind": [], "segment": [], "stage_code": [], "test": []})
        frame = frame.assign(_kind=0, _cell=0, _test=0)
    frame = frame.sort_values(["_kind", "_cell", "_test"], kind="stable", ignore_index=True)
    codes = frame["stage_code"].to_numpy(dtype="int64")
    frame["stage"] = facts.stages["stage"].take(codes).reset_index(drop=True).astype("string")
    frame["stage_sequence"] = facts.stage_seq[codes].astype("int64")
    frame["segment_kind"] = frame["segment_kind"].astype("string")
    frame["segment"] = frame["segment"].astype("string")
    frame["test"] = frame["test"].astype("string")
    for column in ("recent_n", "recent_events", "baseline_n", "baseline_events"):
        frame[column] = frame.get(column, pd.Series(dtype="int64")).astype("int64")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame.get(column, pd.Series(dtype="float64")).astype("float64")
    adjusted, rejected = benjamini_hochberg(frame["p_value"].to_numpy(), q)
    frame["adjusted_p"] = adjusted
    frame["warning"] = rejected
    return frame.loc[:, list(WARNING_COLUMNS)]
