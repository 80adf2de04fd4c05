"""Which activities win deals: win rates by the number of completed activities of each type.

Two inputs:

- the **activities**: one row per *completed* activity (:data:`ACTIVITY_COLUMNS`): ``lead_id``,
  ``activity_type`` (its name: ``Call``, ``Meeting``...), ``done_at`` (when it was marked done, UTC) and
  ``user`` (who did it, NA allowed); :func:`validate_activities` checks and normalises it,
  :func:`load_activities` / :func:`save_activities` read and write it as CSV or Parquet;
- the **deals**: one row per *decided* lead (:data:`DEAL_COLUMNS`): ``lead_id``, ``outcome`` (``won`` or
  ``lost``), ``decided_at`` (UTC) and ``user`` (its salesperson); :func:`deals_from_transitions` derives it
  from a transitions table. Open leads are not deals: they are left out, never counted as lost.

An activity counts for a deal when it was done on the deal's lead at or before the decision; those done
after it (a thank-you call after the signature) say nothing about what won it.

The analyses:

- :func:`win_rate_by_count` -- per activity type, the win rate of the deals that had 0, 1, 2, ... ``k+`` of
  it before the decision, with Wilson intervals and the number of deals;
- :func:`saturation` -- per type, the count up to which more of it raises the win rate, and the count from
  which more of it lowers it, each stated only where the intervals support it (the rule is in its
  docstring);
- :func:`activity_sequences` -- the most frequent ordered sequences (the types of the first activities) in
  won and in lost deals, as shares of each;
- :func:`touch_gaps` -- the time between consecutive touches of a deal, won against lost;
- :func:`rep_activity_shares` -- per salesperson, the *share* of his deals that reached the useful count of
  each type, and his win rate with its interval: shares, never counts of activities (counts are what reps
  learn to inflate).

Nothing here proves that an activity *causes* a win (a deal going well gets more meetings); the tables say
what won deals had, for a manager to question.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

from funnel_metrics.funnel import _validated
from funnel_metrics.stats import normal_quantile, wilson_interval
from funnel_metrics.transitions import TransitionsError, file_format, read_table

ACTIVITY_COLUMNS: tuple[str, ...] = ("lead_id", "activity_type", "done_at", "user")
"""Columns of the activities table, one row per completed activity."""

DEAL_COLUMNS: tuple[str, ...] = ("lead_id", "outcome", "decided_at", "user")
"""Columns of the deals table, one row per decided (won or lost) lead."""

WIN_RATE_COLUMNS: tuple[str, ...] = (
    "activity_type",
    "count",
    "bucket",
    "deals",
    "won",
    "win_rate",
    "ci_low",
    "ci_high",
)
SATURATION_COLUMNS: tuple[str, ...] = (
    "activity_type",
    "peak_count",
    "peak_rate",
    "peak_low",
    "peak_high",
    "useful_count",
    "lowering_from",
)
SEQUENCE_COLUMNS: tuple[str, ...] = (
    "sequence",
    "deals",
    "won",
    "lost",
    "won_share",
    "lost_share",
    "win_rate",
    "ci_low",
    "ci_high",
)
GAP_COLUMNS: tuple[str, ...] = ("outcome", "deals", "gaps", "median_days", "p90_days")
REP_COLUMNS: tuple[str, ...] = (
    "user",
    "activity_type",
    "useful_count",
    "deals",
    "share_reaching",
    "win_rate",
    "ci_low",
    "ci_high",
)

NO_ACTIVITY = "(none)"
"""The sequence of a deal with no activity before its decision."""
SEQUENCE_SEPARATOR = " › "
_NANOS_PER_DAY = 86_400 * 1_000_000_000


class ActivitiesError(TransitionsError):
    """The activities or deals table (or the file holding it) is not usable; the message says what."""


# ------------------------------------------------------------------------------------------------------
# the two tables
# ------------------------------------------------------------------------------------------------------


def _utc(values: pd.Series, name: str, what: str) -> pd.Series:
    try:
        stamps = pd.to_datetime(values, utc=True, format="ISO8601")
    except (TypeError, ValueError) as exc:
        raise ActivitiesError(f"{what}: column {name} holds a value that is not an ISO 8601 time") from exc
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise ActivitiesError(f"{what}: column {name} is empty at row {row}: every row needs a time")
    return stamps.astype("datetime64[ns, UTC]")


def _ids(values: pd.Series, what: str) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() | (numbers != np.floor(numbers))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ActivitiesError(f"{what}: lead_id at row {row} is not a whole number: {values.iloc[row]!r}")
    return numbers.astype("int64")


def _text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _columns(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ActivitiesError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ActivitiesError(
            f"{what} table is missing column(s): {', '.join(missing)} (expected: {', '.join(columns)})"
        )
    return df.loc[:, list(columns)].reset_index(drop=True)


def validate_activities(df: pd.DataFrame) -> pd.DataFrame:
    """Check an activities table and return a normalised copy, index 0..n-1, columns
    :data:`ACTIVITY_COLUMNS` only: ``lead_id`` int64, ``activity_type`` and ``user`` as pandas ``string``
    (``user`` may be NA), ``done_at`` ``datetime64[ns, UTC]`` (ISO 8601 text, naive = UTC).

    Raises:
        ActivitiesError: a missing column, a lead id that is not a whole number, an empty activity type or
            time, a time that is not ISO 8601 (the message names the row).
    """
    out = _columns(df, ACTIVITY_COLUMNS, "activities")
    out["lead_id"] = _ids(out["lead_id"], "activities")
    out["activity_type"] = _text(out["activity_type"])
    if out["activity_type"].isna().any():
        row = int(np.flatnonzero(out["activity_type"].isna().to_numpy())[0])
        raise ActivitiesError(f"activities: activity_type is empty at row {row}: name the type of activity")
    out["done_at"] = _utc(out["done_at"], "done_at", "activities")
    out["user"] = _text(out["user"])
    return out


def _normal_text(values: pd.Series, required: bool) -> bool:
    """True when a text column is already as :func:`_text` leaves it (each distinct value looked at once)."""
    if values.dtype != pd.StringDtype():
        return False
    distinct = values.unique()
    missing = pd.isna(distinct)
    if required and missing.any():
        return False
    return all(value == value.strip() and value for value in distinct[~missing])


def _activities(df: pd.DataFrame) -> pd.DataFrame:
    """The activities table as :func:`validate_activities` returns it: a table already in that form (its
    output, :func:`load_activities`', :func:`funnel_metrics.simulate_activities`') is recognised by cheap
    checks and used as it is, not copied (nothing here modifies it); anything else is validated."""
    if (
        isinstance(df, pd.DataFrame)
        and [str(c) for c in df.columns] == list(ACTIVITY_COLUMNS)
        and isinstance(df.index, pd.RangeIndex)
        and df.index.start == 0
        and df.index.step == 1
        and df["lead_id"].dtype == np.dtype("int64")
        and str(df["done_at"].dtype) == "datetime64[ns, UTC]"
        and not df["done_at"].isna().any()
        and _normal_text(df["activity_type"], required=True)
        and _normal_text(df["user"], required=False)
    ):
        return df
    return validate_activities(df)


def validate_deals(df: pd.DataFrame) -> pd.DataFrame:
    """Check a deals table and return a normalised copy, index 0..n-1, columns :data:`DEAL_COLUMNS` only:
    ``lead_id`` int64 (unique), ``outcome`` ``won``/``lost`` (string), ``decided_at``
    ``datetime64[ns, UTC]``, ``user`` string (NA allowed).

    Raises:
        ActivitiesError: a missing column, a bad lead id or time, an outcome other than won or lost (open
            leads are not deals: leave them out), a lead listed twice.
    """
    out = _columns(df, DEAL_COLUMNS, "deals")
    out["lead_id"] = _ids(out["lead_id"], "deals")
    out["outcome"] = _text(out["outcome"])
    bad = ~out["outcome"].isin(["won", "lost"]).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ActivitiesError(
            f"deals: outcome at row {row} is {out['outcome'].iloc[row]!r}: a deal is won or lost "
            "(leave open leads out: they are not lost)"
        )
    out["decided_at"] = _utc(out["decided_at"], "decided_at", "deals")
    out["user"] = _text(out["user"])
    twice = out["lead_id"].duplicated()
    if twice.any():
        raise ActivitiesError(f"deals: lead {int(out['lead_id'][twice].iloc[0])} is listed twice")
    return out


def deals_from_transitions(transitions: pd.DataFrame) -> pd.DataFrame:
    """The decided deals of a transitions table.

    Input: a transitions table (validated first). Output: one row per lead whose outcome is ``won`` or
    ``lost`` (open leads are left out), sorted by lead, columns :data:`DEAL_COLUMNS`: ``decided_at`` is the
    latest end of the lead's stays -- a stay's end, or its start when it has none (a won lead sits in the won
    stage from the moment it is won) --, ``user`` the salesperson of its latest stay.

    Raises:
        TransitionsError: the table is invalid.
    """
    table = _validated(transitions)
    decided = table[table["outcome"].isin(["won", "lost"]).to_numpy(dtype=bool)]
    end = decided["left_at"].fillna(decided["entered_at"])
    last = (
        decided.assign(_end=end)
        .sort_values(["lead_id", "entered_at"], kind="stable")
        .groupby("lead_id", sort=True)
        .agg(outcome=("outcome", "last"), decided_at=("_end", "max"), user=("user", "last"))
        .reset_index()
    )
    return validate_deals(last)


# ------------------------------------------------------------------------------------------------------
# counts before the decision
# ------------------------------------------------------------------------------------------------------


class _Counted:
    """Activities done on decided deals before their decision: per deal and type, how many."""

    def __init__(self, activities: pd.DataFrame, deals: pd.DataFrame) -> None:
        acts = _activities(activities)
        self.deals = validate_deals(deals)
        position = pd.Index(self.deals["lead_id"]).get_indexer(acts["lead_id"])
        known = position >= 0
        done = acts["done_at"].to_numpy(dtype="datetime64[ns]").view("int64")
        limit = self.deals["decided_at"].to_numpy(dtype="datetime64[ns]").view("int64")
        before = known.copy()
        before[known] = done[known] <= limit[position[known]]
        codes, types = pd.factorize(acts["activity_type"][before], sort=True)
        self.types = [str(name) for name in types]
        self.deal = position[before]
        self.code = codes.astype("int64")
        self.done = done[before]
        n_types = len(self.types)
        flat = np.bincount(self.deal * n_types + self.code, minlength=len(self.deals) * n_types)
        self.counts = flat.reshape(len(self.deals), n_types)  # deals x types
        self.won = (self.deals["outcome"] == "won").to_numpy(dtype=bool)

    def ordered(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(deal, type code, done) of the counted activities, by deal then time (then type); activities
        already in that order (sorted by lead and time, as the extractor and the simulator give them) are
        not sorted again."""
        deal, done, code = self.deal, self.done, self.code
        step, later, next_code = np.diff(deal), np.diff(done), np.diff(code)
        if ((step > 0) | ((step == 0) & ((later > 0) | ((later == 0) & (next_code >= 0))))).all():
            return deal, code, done
        order = np.lexsort((code, done, deal))
        return deal[order], code[order], done[order]


def _check_count(max_count: int) -> int:
    if int(max_count) < 1:
        raise ValueError(f"max_count must be at least 1, got {max_count!r}")
    return int(max_count)


def win_rate_by_count(
    activities: pd.DataFrame, deals: pd.DataFrame, max_count: int = 5, confidence: float = 0.95
) -> pd.DataFrame:
    """Per activity type, the win rate of the deals by how many activities of that type they had.

    Inputs: ``activities`` and ``deals`` (see the module; validated first); ``max_count``: the last bucket,
    ``k+``, holds the deals with ``max_count`` or more; ``confidence``: level of the Wilson intervals.

    Only the activities done on a deal's lead at or before its decision count. Every deal is in exactly one
    bucket of every type (a deal with no call is in bucket 0 of ``Call``).

    Output: one row per type (sorted by name) and count 0..``max_count``, index 0..n-1, columns
    :data:`WIN_RATE_COLUMNS`: ``activity_type`` (string), ``count`` (int64; the last bucket means "that many
    or more"), ``bucket`` (its label: ``"0"``, ``"1"``, ..., ``"5+"``), ``deals`` and ``won`` (int64 deals),
    ``win_rate`` (float64 fraction, NaN without deals), ``ci_low``/``ci_high`` (Wilson interval, NaN without
    deals). No type seen: an empty frame.

    Raises:
        ActivitiesError: an invalid table. ValueError: ``max_count`` below 1, a bad ``confidence``.
    """
    k = _check_count(max_count)
    counted = _Counted(activities, deals)
    n_types = len(counted.types)
    bucket = np.minimum(counted.counts, k)  # deals x types
    key = (np.arange(n_types)[None, :] * (k + 1) + bucket).ravel()
    deals_in = np.bincount(key, minlength=n_types * (k + 1))
    won_in = np.bincount(key, weights=np.repeat(counted.won, n_types), minlength=n_types * (k + 1))
    won_in = won_in.astype("int64")
    low, high = wilson_interval(won_in, deals_in, confidence)
    rate = np.full(len(deals_in), np.nan)
    np.divide(won_in, deals_in, out=rate, where=deals_in > 0)
    count = np.tile(np.arange(k + 1), n_types)
    labels = [str(c) for c in range(k)] + [f"{k}+"]
    return pd.DataFrame(
        {
            "activity_type": pd.Series(np.repeat(counted.types, k + 1), dtype="string"),
            "count": count.astype("int64"),
            "bucket": pd.Series(np.tile(labels, n_types), dtype="string"),
            "deals": deals_in.astype("int64"),
            "won": won_in,
            "win_rate": rate,
            "ci_low": low,
            "ci_high": high,
        },
        columns=list(WIN_RATE_COLUMNS),
    )


def saturation(by_count: pd.DataFrame, min_deals: int = 30, confidence: float = 0.95) -> pd.DataFrame:
    """Per activity type, where more of it stops raising, or starts lowering, the win rate.

    Input: the output of :func:`win_rate_by_count`; ``min_deals``: a bucket with fewer deals is not looked
    at (its interval is too wide to say anything); ``confidence``: the family-wise level of the statements.

    The intervals of the rule are the buckets' Wilson intervals at the level ``1 - (1 - confidence) / m``,
    ``m`` the number of buckets looked at over every type (Bonferroni): looking at many buckets and types
    must not turn chance into statements. The rule, per type, over the buckets with at least ``min_deals``
    deals:

    - the *peak* is the bucket with the highest win rate (the lowest count among equals);
    - ``useful_count`` = 1 + the highest count below the peak whose interval lies entirely below the
      peak's (its ``ci_high`` < the peak's ``ci_low``): up to that many activities of the type, more go
      with a higher win rate; beyond it, more do not go with a win rate the data can tell from the peak's.
      NA when no bucket below the peak is clearly below it: a rise is not stated;
    - ``lowering_from`` = the lowest count above the peak whose interval lies entirely below the peak's:
      from that many on, more go with a lower win rate. NA when none: a fall is not stated.

    Two intervals that do not overlap is a stricter test than a test of the difference at that level, on
    purpose: a pipeline where activities change nothing then states nothing, but for a chance well under
    ``1 - confidence``.

    Output: one row per type (in the input's order), index 0..n-1, columns :data:`SATURATION_COLUMNS`:
    ``activity_type``; ``peak_count`` (Int64, NA when no bucket has ``min_deals`` deals), ``peak_rate``,
    ``peak_low``, ``peak_high`` (float64: the peak's rate and its adjusted interval); ``useful_count``,
    ``lowering_from`` (Int64, NA when not stated).

    Raises:
        ValueError: a column of :data:`WIN_RATE_COLUMNS` missing, ``min_deals`` negative, a bad
            ``confidence``.
    """
    missing = [c for c in WIN_RATE_COLUMNS if c not in by_count.columns]
    if missing:
        raise ValueError(f"saturation needs the output of win_rate_by_count (missing: {', '.join(missing)})")
    if int(min_deals) < 0:
        raise ValueError(f"min_deals must be >= 0, got {min_deals!r}")
    frame = by_count.reset_index(drop=True)
    types = pd.unique(frame["activity_type"])
    code = pd.Index(types).get_indexer(frame["activity_type"])
    eligible = (frame["deals"].to_numpy() >= max(int(min_deals), 1)) & frame["win_rate"].notna().to_numpy()
    rate = np.where(eligible, frame["win_rate"].to_numpy(dtype="float64"), -np.inf)
    normal_quantile(confidence)  # refuse a bad level even when nothing is eligible
    family = 1.0 - (1.0 - float(confidence)) / max(int(eligible.sum()), 1)
    ci_low, ci_high = wilson_interval(frame["won"].to_numpy(), frame["deals"].to_numpy(), family)
    count = frame["count"].to_numpy(dtype="int64")
    # the peak of each type: the highest rate, then the lowest count
    order = np.lexsort((count, -rate, code))
    first = np.r_[True, code[order][1:] != code[order][:-1]]
    peak_row = np.full(len(types), -1)
    peak_row[code[order][first]] = order[first]
    has_peak = np.zeros(len(types), dtype=bool)
    has_peak[peak_row >= 0] = eligible[peak_row[peak_row >= 0]]
    safe = np.where(peak_row >= 0, peak_row, 0)
    peak_count = count[safe]
    peak_low = ci_low[safe]
    clearly_below = eligible & has_peak[code] & (ci_high < peak_low[code])
    below = clearly_below & (count < peak_count[code])
    above = clearly_below & (count > peak_count[code])
    useful = np.full(len(types), -1)
    np.maximum.at(useful, code[below], count[below] + 1)
    lowering = np.full(len(types), np.iinfo(np.int64).max)
    np.minimum.at(lowering, code[above], count[above])

    def optional(values: np.ndarray, missing_value: int) -> pd.Series:
        return pd.Series(pd.array(np.where(values == missing_value, 0, values), dtype="Int64")).mask(
            values == missing_value
        )

    return pd.DataFrame(
        {
            "activity_type": pd.Series(types, dtype="string"),
            "peak_count": optional(np.where(has_peak, peak_count, -1), -1),
            "peak_rate": np.where(has_peak, frame["win_rate"].to_numpy(dtype="float64")[safe], np.nan),
            "peak_low": np.where(has_peak, peak_low, np.nan),
            "peak_high": np.where(has_peak, ci_high[safe], np.nan),
            "useful_count": optional(useful, -1),
            "lowering_from": optional(lowering, np.iinfo(np.int64).max),
        },
        columns=list(SATURATION_COLUMNS),
    )


def activity_sequences(
    activities: pd.DataFrame,
    deals: pd.DataFrame,
    length: int = 3,
    top: int = 10,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The most frequent ordered sequences of activity types in won and in lost deals.

    A deal's *sequence* is the types of its first ``length`` activities before the decision, in the order
    they were done (equal times: by type name), joined by ``" › "``; a deal with fewer has a shorter one, a
    deal with none ``"(none)"``.

    Output: the ``top`` sequences by number of deals (then by name), index 0..n-1, columns
    :data:`SEQUENCE_COLUMNS`: ``sequence`` (string); ``deals``, ``won``, ``lost`` (int64 deals with it);
    ``won_share`` / ``lost_share`` (float64: its share of all won / all lost deals, NaN when there are none);
    ``win_rate`` (``won / deals``) and its Wilson interval ``ci_low``, ``ci_high``.

    Raises:
        ActivitiesError: an invalid table. ValueError: ``length`` or ``top`` below 1, a bad ``confidence``.
    """
    if int(length) < 1 or int(top) < 1:
        raise ValueError(f"length and top must be at least 1, got {length!r} and {top!r}")
    counted = _Counted(activities, deals)
    n_deals, base = len(counted.deals), len(counted.types) + 1
    deal, code, _done = counted.ordered()
    starts = np.r_[0, np.flatnonzero(deal[1:] != deal[:-1]) + 1] if len(deal) else np.empty(0, "int64")
    rank = np.arange(len(deal)) - np.repeat(starts, np.diff(np.r_[starts, len(deal)]))
    kept = rank < int(length)
    key = np.zeros(n_deals, dtype="int64")  # digits in base (types + 1), the first activity first
    np.add.at(key, deal[kept], (code[kept] + 1) * base ** (int(length) - 1 - rank[kept]))
    uniques, which = np.unique(key, return_inverse=True)
    deals_in = np.bincount(which)
    won_in = np.bincount(which, weights=counted.won).astype("int64")
    names = []
    for value in uniques.tolist():
        digits = [(value // base**p) % base for p in range(int(length) - 1, -1, -1)]
        names.append(SEQUENCE_SEPARATOR.join(counted.types[d - 1] for d in digits if d) or NO_ACTIVITY)
    frame = pd.DataFrame({"sequence": pd.Series(names, dtype="string"), "deals": deals_in, "won": won_in})
    frame = frame.sort_values(["deals", "sequence"], ascending=[False, True], kind="stable").head(int(top))
    frame = frame.reset_index(drop=True)
    frame["lost"] = frame["deals"] - frame["won"]
    total_won, total_lost = int(counted.won.sum()), int((~counted.won).sum())
    frame["won_share"] = frame["won"] / total_won if total_won else np.nan
    frame["lost_share"] = frame["lost"] / total_lost if total_lost else np.nan
    frame["win_rate"] = frame["won"] / frame["deals"]
    frame["ci_low"], frame["ci_high"] = wilson_interval(frame["won"], frame["deals"], confidence)
    return frame.astype({"deals": "int64", "won": "int64", "lost": "int64"})[list(SEQUENCE_COLUMNS)]


def touch_gaps(activities: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    """The time between consecutive touches of a deal (any type), won against lost.

    A *gap* is the time from one activity of a deal to its next one, both before the decision (a deal with
    n activities has n - 1 gaps).

    Output: two rows, ``won`` then ``lost``, columns :data:`GAP_COLUMNS`: ``outcome``; ``deals`` (int64
    deals with at least two activities); ``gaps`` (int64); ``median_days``, ``p90_days`` (float64 days, the
    median and 90th percentile of the gaps; NaN without gaps).

    Raises:
        ActivitiesError: an invalid table.
    """
    counted = _Counted(activities, deals)
    deal, _code, done = counted.ordered()
    same = deal[1:] == deal[:-1]
    gap_days = (done[1:] - done[:-1])[same] / _NANOS_PER_DAY
    gap_won = counted.won[deal[1:][same]]
    several = counted.counts.sum(axis=1) >= 2
    rows = []
    for outcome, mask, of_deal in (("won", gap_won, counted.won), ("lost", ~gap_won, ~counted.won)):
        values = gap_days[mask]
        median, p90 = np.quantile(values, [0.5, 0.9]) if len(values) else (np.nan, np.nan)
        rows.append(
            {
                "outcome": outcome,
                "deals": int((several & of_deal).sum()),
                "gaps": len(values),
                "median_days": float(median),
                "p90_days": float(p90),
            }
        )
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS)).astype({"deals": "int64", "gaps": "int64"})


def rep_activity_shares(
    activities: pd.DataFrame,
    deals: pd.DataFrame,
    useful: Mapping[str, int] | pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per salesperson and activity type: the share of his deals that reached the useful count of the type,
    and his win rate -- shares, never counts of activities.

    Inputs: ``activities``, ``deals`` (a deal is its ``user``'s; NA = no salesperson, a group of its own);
    ``useful``: type -> useful count, or the output of :func:`saturation` (its ``useful_count``); a type
    without one (not stated, or not given) uses 1: "had at least one".

    Output: one row per salesperson (by name, NA last) and type (by name), index 0..n-1, columns
    :data:`REP_COLUMNS`: ``user``, ``activity_type`` (string); ``useful_count`` (int64); ``deals`` (int64
    decided deals of the salesperson: the sample size); ``share_reaching`` (float64: share of them with at
    least ``useful_count`` activities of the type before the decision); ``win_rate`` (float64, the
    salesperson's, the same on each of his rows) and its Wilson interval ``ci_low``, ``ci_high``.

    Raises:
        ActivitiesError: an invalid table. ValueError: a useful count below 1, a bad ``confidence``.
    """
    counted = _Counted(activities, deals)
    if isinstance(useful, pd.DataFrame):
        given = useful.dropna(subset=["useful_count"])
        useful = dict(zip(given["activity_type"].astype(str), given["useful_count"].astype(int), strict=True))
    wanted = np.array([int((useful or {}).get(name, 1)) for name in counted.types], dtype="int64")
    if (wanted < 1).any():
        raise ValueError("useful counts must be at least 1")
    user_code, user_names = pd.factorize(counted.deals["user"], sort=True, use_na_sentinel=False)
    n_users, n_types = len(user_names), len(counted.types)
    reached = counted.counts >= wanted[None, :]  # deals x types
    deals_of = np.bincount(user_code, minlength=n_users)
    won_of = np.bincount(user_code, weights=counted.won, minlength=n_users).astype("int64")
    reach = np.zeros((n_users, n_types))
    np.add.at(reach, user_code, reached.astype("float64"))
    low, high = wilson_interval(won_of, deals_of, confidence)
    frame = pd.DataFrame(
        {
            "user": pd.Series(np.repeat(np.asarray(user_names, dtype=object), n_types), dtype="string"),
            "activity_type": pd.Series(np.tile(counted.types, n_users), dtype="string"),
            "useful_count": np.tile(wanted, n_users),
            "deals": np.repeat(deals_of, n_types).astype("int64"),
            "share_reaching": (reach / np.maximum(deals_of, 1)[:, None]).ravel(),
            "win_rate": np.repeat(won_of / np.maximum(deals_of, 1), n_types),
            "ci_low": np.repeat(low, n_types),
            "ci_high": np.repeat(high, n_types),
        },
        columns=list(REP_COLUMNS),
    )
    return frame


# ------------------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------------------


def load_activities(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an activities table from CSV (a header row; ``.csv.gz``... too) or Parquet and validate it
    (see :func:`validate_activities`).

    Raises:
        ActivitiesError: an empty CSV file, an invalid table. TransitionsError: an unknown suffix, Parquet
            without ``pyarrow``. FileNotFoundError: no such file.
    """
    what = f"an activities CSV ({','.join(ACTIVITY_COLUMNS)})"
    return validate_activities(read_table(path, what, ActivitiesError))


def save_activities(activities: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write an activities table (validated first) to CSV (times as ISO 8601 UTC to the second, ``Z``) or
    Parquet, by the suffix of ``path``; :func:`load_activities` reads it back.

    Raises:
        ActivitiesError: an invalid table. TransitionsError: an unknown suffix, Parquet without
            ``pyarrow``.
    """
    table = validate_activities(activities)
    if file_format(path) == "parquet":
        table.to_parquet(path, engine="pyarrow", index=False)
        return
    text = table.astype({"done_at": "string"})
    text["done_at"] = table["done_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    text.to_csv(path, index=False)
