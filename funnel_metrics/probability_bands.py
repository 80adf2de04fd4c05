"""Calibration the way a sales manager checks it: month-end snapshots of the open opportunities' stated
probabilities, grouped in probability bands, against how often those opportunities were won.

"Look at the monthly pipeline data over the last year to find out if 50 percent deals close anywhere near 50
percent of the time": every month end, every open opportunity is recorded with the probability it stood at
(whatever set it: the stage, a salesperson, or Odoo's predictive scoring). Once those opportunities have
been decided, each band of stated probability (0-10 %, ..., 90-100 %) has an observed win rate.

The snapshots table (:data:`SNAPSHOT_COLUMNS`), one row per open opportunity per month end:

- ``lead_id`` (int), ``snapshot_date`` (the month's last day, a date), ``stage`` (name), ``stage_sequence``;
- ``probability``: the stated probability as it stood at the month end, a fraction in [0, 1] (NaN: none);
- ``outcome`` of the lead *now*: ``won``, ``lost`` or ``open`` (still undecided);
- ``team``, ``user`` (names, may be empty), ``is_automated`` (the probability was Odoo's predictive
  scoring's), ``expected_revenue``.

Leads still open have no outcome yet: their snapshots are left out of the rates and counted apart
(``open``). That leaves a bias, stated rather than hidden: among the snapshots of a given month end, those
decided by now are the leads that decided *quickly*; the slow ones (often the stalled deals that end up
lost, sometimes the big slow wins) are missing, most of all for recent month ends, where almost everything
is still open. Imputing their outcomes would need a model of the very probabilities being checked, so the
honest choice is to leave them out, show how many there are, and let the reader restrict the snapshot months
to those old enough to be mostly decided (the period filter of the Odoo report, ``--snapshots`` of a
chosen period on the command line).

A lead appears in several month ends, and those snapshots share one outcome: they are not independent
evidence. The observed rate weighs every snapshot alike (each month's pipeline counts, as the mission asks),
but the interval does not take them as independent trials: it is the Wilson interval on Kish's effective
sample size of that weighted mean, ``n ** 2 / sum(m_i ** 2)`` (``m_i`` the snapshots of lead i in the band;
the number of leads when each has one), so that a deal that sat in the 90 % band for six months is not taken
as six confirmations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from funnel_metrics.calibration import _stated_by_stage, recommend
from funnel_metrics.stats import wilson_interval
from funnel_metrics.transitions import read_table

SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "snapshot_date",
    "stage",
    "stage_sequence",
    "probability",
    "outcome",
    "team",
    "user",
    "is_automated",
    "expected_revenue",
)
"""The columns of a snapshots table, in order (see the module's docstring)."""

_REQUIRED = ("lead_id", "snapshot_date", "stage", "probability", "outcome")

BAND_COLUMNS: tuple[str, ...] = (
    "band",
    "low",
    "high",
    "snapshots",
    "n",
    "won",
    "leads",
    "observed",
    "ci_low",
    "ci_high",
    "mean_stated",
    "open",
)

STAGE_RATE_COLUMNS: tuple[str, ...] = (
    "stage",
    "stage_sequence",
    "n",
    "won",
    "leads",
    "observed",
    "ci_low",
    "ci_high",
    "mean_stated",
    "stated",
    "recommended",
    "open",
)


class SnapshotsError(ValueError):
    """A snapshots table that cannot be read: the message names the column or value and what to do."""


def validate_snapshots(snapshots: pd.DataFrame) -> pd.DataFrame:
    """A checked copy of a snapshots table with its columns typed (optional columns added empty).

    :raises SnapshotsError: a required column is missing, an outcome is not won/lost/open, a probability is
        outside [0, 1] (Odoo's percents must be divided by 100), a date cannot be read.
    """
    if not isinstance(snapshots, pd.DataFrame):
        raise SnapshotsError(f"snapshots must be a DataFrame, got {type(snapshots).__name__}")
    missing = [name for name in _REQUIRED if name not in snapshots.columns]
    if missing:
        raise SnapshotsError(
            f"the snapshots table lacks the column(s) {', '.join(missing)}: it needs "
            f"{', '.join(_REQUIRED)} (see funnel_metrics.probability_bands)"
        )
    table = snapshots.copy()
    table["lead_id"] = pd.to_numeric(table["lead_id"], errors="raise").astype("int64")
    try:
        table["snapshot_date"] = pd.to_datetime(table["snapshot_date"]).dt.normalize()
    except (ValueError, TypeError) as exc:
        raise SnapshotsError(f"snapshot_date must be days (YYYY-MM-DD): {exc}") from exc
    table["stage"] = table["stage"].astype("string")
    if "stage_sequence" not in table.columns:
        table["stage_sequence"] = 0
    table["stage_sequence"] = pd.to_numeric(table["stage_sequence"]).fillna(0).astype("int64")
    table["probability"] = pd.to_numeric(table["probability"], errors="coerce").astype("float64")
    outside = (table["probability"] < 0) | (table["probability"] > 1)
    if outside.any():
        example = table.loc[outside, "probability"].iloc[0]
        raise SnapshotsError(
            f"probability must be a fraction between 0 and 1, got {example:g}"
            + (" (Odoo stores percents: divide by 100)" if 1 < example <= 100 else "")
        )
    table["outcome"] = table["outcome"].astype("string").str.strip().str.lower()
    bad = ~table["outcome"].isin(["won", "lost", "open"])
    if bad.any():
        raise SnapshotsError(f"outcome must be won, lost or open, got {table.loc[bad, 'outcome'].iloc[0]!r}")
    for name in ("team", "user"):
        table[name] = (table[name] if name in table.columns else pd.Series(pd.NA, index=table.index)).astype(
            "string"
        )
    given = table["is_automated"] if "is_automated" in table.columns else False
    automated = pd.Series(given, index=table.index)
    if automated.dtype != bool:  # a CSV's text ("True", "false", "1"), or empty cells
        automated = automated.astype("string").str.strip().str.lower().isin(("true", "1")).astype(bool)
    table["is_automated"] = automated
    revenue = table["expected_revenue"] if "expected_revenue" in table.columns else 0.0
    table["expected_revenue"] = pd.to_numeric(pd.Series(revenue, index=table.index)).fillna(0.0)
    return table[list(SNAPSHOT_COLUMNS)]


def load_snapshots(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a snapshots table from CSV (compressed by its name) or Parquet, checked
    (:func:`validate_snapshots`).

    Raises:
        SnapshotsError: an empty CSV file, an invalid table. TransitionsError: an unknown suffix, Parquet
            without ``pyarrow``. FileNotFoundError: no such file.
    """
    return validate_snapshots(read_table(path, "a snapshots CSV", SnapshotsError))


def month_end_snapshots(
    transitions: pd.DataFrame, probability: Mapping[str, float] | pd.Series, as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The month-end snapshots a pipeline's stays give: for every month end up to ``as_of``, every stay
    open at that instant (the first instant of the next month, UTC: entered at or before it, left after it
    or not yet), with its stage's probability.

    This is the rule the Odoo addon's fill-back applies to its stage history (stays in a won stage end as
    they start, so they never appear; lost leads' last stays end when they were lost).

    :param transitions: a transitions table (``lead_id``, ``stage``, ``stage_sequence``, ``entered_at``,
        ``left_at``, ``outcome``, ``team``, ``user``; checked by :func:`funnel_metrics.validate_transitions`)
    :param probability: stage name -> probability stated for the stage (fraction); other stages get NaN
    :param as_of: the latest instant to snapshot at (default: the latest timestamp of the table); only
        month ends whose instant is at or before it are taken
    :return: a snapshots table (:data:`SNAPSHOT_COLUMNS`), by snapshot date then lead
    """
    from funnel_metrics.dwell import _latest_timestamp  # noqa: PLC0415
    from funnel_metrics.transitions import validate_transitions  # noqa: PLC0415

    table = validate_transitions(transitions)
    if table.empty:
        return validate_snapshots(pd.DataFrame({name: [] for name in SNAPSHOT_COLUMNS}))
    latest = _latest_timestamp(table) if as_of is None else pd.Timestamp(as_of)
    entered = table["entered_at"].to_numpy(dtype="datetime64[ns]")
    left = table["left_at"].to_numpy(dtype="datetime64[ns]")
    # month k's snapshot instant is the start of month k + 1; months counted from year 0
    month_of = entered.astype("datetime64[M]")
    first = month_of + np.where(entered == month_of.astype("datetime64[ns]"), 0, 1).astype("timedelta64[M]")
    end = np.where(np.isnat(left), np.datetime64(latest.to_datetime64(), "ns"), left)
    last_open = end.astype("datetime64[M]")  # the month start at or before the end...
    # ...which must be strictly before a real exit, at or before ``as_of`` for a stay still open
    before_exit = np.where(
        ~np.isnat(left) & (last_open.astype("datetime64[ns]") == left),
        last_open - np.timedelta64(1, "M"),
        last_open,
    )
    cap = np.datetime64(latest.to_datetime64(), "ns").astype("datetime64[M]")
    last = np.minimum(before_exit, cap)
    count = np.maximum((last - first).astype("int64") + 1, 0)
    rows = np.repeat(np.arange(len(table)), count)
    offsets = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    instants = np.repeat(first, count) + offsets.astype("timedelta64[M]")  # the first instants >= entry
    stays = table.iloc[rows]
    stated = _stated_by_stage(probability, stays["stage"].astype(str))
    result = pd.DataFrame(
        {
            "lead_id": stays["lead_id"].to_numpy(dtype="int64"),
            "snapshot_date": (instants.astype("datetime64[D]") - np.timedelta64(1, "D")).astype(
                "datetime64[ns]"
            ),
            "stage": stays["stage"].to_numpy(),
            "stage_sequence": stays["stage_sequence"].to_numpy(),
            "probability": stated,
            "outcome": stays["outcome"].to_numpy(),
            "team": stays["team"].to_numpy(),
            "user": stays["user"].to_numpy(),
            "is_automated": False,
            "expected_revenue": 0.0,
        }
    )
    result = result.sort_values(["snapshot_date", "lead_id"], kind="stable", ignore_index=True)
    return validate_snapshots(result)


# probabilities and band edges are compared to this many decimals: a stated 30 % (0.3, or 30 / 100 in
# floating point) falls in the band that starts at 30 %
_DIGITS = 9


def _edges(bands: int | Sequence[float]) -> np.ndarray:
    if isinstance(bands, int | np.integer):
        if int(bands) < 1:
            raise ValueError(f"bands must be at least 1, got {bands}")
        # rounded: 0.3 is the edge of 30-40 %, not 0.30000000000000004 above it
        return np.round(np.linspace(0.0, 1.0, int(bands) + 1), _DIGITS)
    edges = np.asarray(list(bands), dtype="float64")
    if len(edges) < 2 or edges[0] != 0.0 or edges[-1] != 1.0 or (np.diff(edges) <= 0).any():
        raise ValueError(
            "bands must be a number of equal bands or increasing edges from 0 to 1 "
            f"(e.g. 0, 0.25, 0.5, 0.75, 1), got {list(edges)}"
        )
    return np.round(edges, _DIGITS)


def _label(low: float, high: float) -> str:
    return f"{low * 100:g}-{high * 100:g} %"


def _grouped(decided: pd.DataFrame, key: np.ndarray, size: int, confidence: float) -> dict[str, np.ndarray]:
    """Per group code 0..size-1 of the decided snapshots: counts, rate, clustered interval, mean stated."""
    won = (decided["outcome"] == "won").to_numpy()
    n = np.bincount(key, minlength=size)
    wins = np.bincount(key, weights=won, minlength=size)
    probability = decided["probability"].to_numpy()
    has = ~np.isnan(probability)
    stated_n = np.bincount(key[has], minlength=size)
    stated_sum = np.bincount(key[has], weights=probability[has], minlength=size)
    # the snapshots of each lead in each group: a lead's snapshots share one outcome
    per_lead = pd.DataFrame({"key": key, "lead": decided["lead_id"].to_numpy()}).value_counts().reset_index()
    lead_key = per_lead["key"].to_numpy(dtype="int64")
    leads = np.bincount(lead_key, minlength=size)
    squares = np.bincount(lead_key, weights=per_lead["count"].to_numpy(dtype="float64") ** 2, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = np.where(n > 0, wins / np.maximum(n, 1), np.nan)
        mean_stated = np.where(stated_n > 0, stated_sum / np.maximum(stated_n, 1), np.nan)
        # Kish's effective sample size of a mean over leads weighted by their snapshots, n^2 / sum(m_i^2):
        # the number of leads when each has one snapshot, fewer when a few leads hold many snapshots
        effective = np.where(n > 0, n.astype("float64") ** 2 / np.maximum(squares, 1.0), 0.0)
    low, high = wilson_interval(np.nan_to_num(observed) * effective, effective, confidence)
    return {
        "n": n.astype("int64"),
        "won": wins.astype("int64"),
        "leads": leads.astype("int64"),
        "observed": observed,
        "ci_low": low,
        "ci_high": high,
        "mean_stated": mean_stated,
    }


def _brier(decided: pd.DataFrame) -> float:
    if decided.empty:
        return float("nan")
    outcome = (decided["outcome"] == "won").to_numpy(dtype="float64")
    return float(np.mean((decided["probability"].to_numpy() - outcome) ** 2))


def probability_bands(
    snapshots: pd.DataFrame, bands: int | Sequence[float] = 10, confidence: float = 0.95
) -> pd.DataFrame:
    """Per band of stated probability, how often the month-end snapshots' opportunities were won.

    Inputs:

    - ``snapshots``: a snapshots table (:data:`SNAPSHOT_COLUMNS`, checked by :func:`validate_snapshots`);
      snapshots without a probability are left out (counted in ``attrs["unstated"]``);
    - ``bands``: a number of equal bands (default 10: 0-10 %, ..., 90-100 %) or their edges, fractions
      increasing from 0 to 1; a band holds ``low <= p < high``, the last one ``p = 1`` too;
    - ``confidence``: level of the intervals (default 0.95).

    Output: one row per band in order, columns :data:`BAND_COLUMNS`:

    - ``band`` (label, ``"50-60 %"``), ``low``, ``high`` (fractions);
    - ``snapshots``: every snapshot in the band; ``open``: those of leads still open, left out;
    - ``n``: snapshots of decided leads (won or lost now); ``won``: of them, the won ones;
      ``leads``: distinct decided leads among them;
    - ``observed`` = ``won / n`` (NaN when ``n`` is 0), every month end weighing alike;
    - ``ci_low``, ``ci_high``: Wilson interval of ``observed`` on Kish's effective sample size
      ``n ** 2 / sum(m_i ** 2)``, ``m_i`` the snapshots of decided lead i in the band (the snapshots of one
      lead share its outcome: they are not independent trials);
    - ``mean_stated``: the mean stated probability of the band's decided snapshots, the point to compare
      ``observed`` with.

    ``attrs``: ``brier`` (mean over decided snapshots of ``(probability - won) ** 2``: 0 is perfect, 0.25 is
    always saying 50 % on an even split; NaN without decided snapshots), ``brier_snapshots``,
    ``open_snapshots`` (left out: their leads are undecided), ``unstated`` (no probability),
    ``confidence``.

    Raises:
        SnapshotsError: the table is invalid.
        ValueError: bad ``bands`` or ``confidence``.
    """
    edges = _edges(bands)
    table = validate_snapshots(snapshots)
    stated = table[table["probability"].notna()]
    size = len(edges) - 1
    at = np.round(stated["probability"].to_numpy(), _DIGITS)
    key = np.clip(np.searchsorted(edges, at, side="right") - 1, 0, size - 1)
    is_open = (stated["outcome"] == "open").to_numpy()
    decided = stated[~is_open]
    groups = _grouped(decided, key[~is_open], size, confidence)
    result = pd.DataFrame(
        {
            "band": [_label(low, high) for low, high in zip(edges[:-1], edges[1:], strict=True)],
            "low": edges[:-1],
            "high": edges[1:],
            "snapshots": np.bincount(key, minlength=size).astype("int64"),
            **groups,
            "open": np.bincount(key[is_open], minlength=size).astype("int64"),
        }
    )[list(BAND_COLUMNS)]
    result.attrs.update(
        brier=_brier(decided),
        brier_snapshots=len(decided),
        open_snapshots=int(is_open.sum()),
        unstated=len(table) - len(stated),
        confidence=float(confidence),
    )
    return result


def snapshot_stage_rates(
    snapshots: pd.DataFrame,
    stated: Mapping[str, float] | pd.Series | None = None,
    min_sample: int = 30,
    prior_weight: float = 20,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per stage, how often the opportunities snapshotted in it at a month end were won: the measure a
    stage's probability is set from (the "Apply to Stages" of the Odoo report).

    Inputs: a snapshots table; ``stated``: stage name -> the stage's probability now (fraction; default:
    none, the recommendation then leans on the snapshots' mean stated probability); ``min_sample``,
    ``prior_weight``: as :func:`funnel_metrics.calibration` (:func:`funnel_metrics.calibration.recommend`),
    counted in distinct decided leads; ``confidence``: level of the intervals.

    Output: one row per stage of the table, by ``stage_sequence`` then name, columns
    :data:`STAGE_RATE_COLUMNS`: ``n``, ``won``, ``leads``, ``observed``, ``ci_low``, ``ci_high``,
    ``mean_stated`` as :func:`probability_bands` has them per band (snapshots without a probability count
    here: the stage is known); ``stated`` (NaN when not given), ``recommended`` (shrunk toward ``stated``,
    or the mean stated probability, below ``min_sample`` leads) and ``open`` (snapshots left out). Note that
    this rate is the chance of winning *from a month end in the stage*, weighted toward leads that sit in
    it long; :func:`funnel_metrics.calibration` measures it from the *entry* into the stage.

    Raises:
        SnapshotsError: the table is invalid. ValueError: bad ``stated`` values or ``confidence``.
    """
    if int(min_sample) < 0 or float(prior_weight) < 0:
        raise ValueError("min_sample and prior_weight must be >= 0")
    table = validate_snapshots(snapshots)
    stages = (
        table[["stage", "stage_sequence"]]
        .drop_duplicates("stage")
        .sort_values(["stage_sequence", "stage"], kind="stable", ignore_index=True)
    )
    size = len(stages)
    code = pd.Index(stages["stage"]).get_indexer(table["stage"])
    is_open = (table["outcome"] == "open").to_numpy()
    decided = table[~is_open]
    groups = _grouped(decided, code[~is_open], size, confidence)
    given = _stated_by_stage(stated or {}, stages["stage"].astype(str))
    target = np.where(np.isnan(given), groups["mean_stated"], given)
    result = stages.assign(
        **groups,
        stated=given,
        recommended=recommend(groups["observed"], groups["leads"], target, min_sample, prior_weight),
        open=np.bincount(code[is_open], minlength=size).astype("int64"),
    )
    return result[list(STAGE_RATE_COLUMNS)]
