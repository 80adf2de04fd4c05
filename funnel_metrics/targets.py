"""Stage targets: the most specific target of each stay, stuck leads, per-group breakdown against targets.

A *targets table* is a DataFrame, one row per target, mirroring the Odoo addon's ``crm.stage.target``:

======================== =========================================================================
column                   meaning
======================== =========================================================================
stage                    stage name (required)
team, user, product      optional scope; NA (or a missing column) = applies to every team / user /
                         product
target_conversion_rate   fraction in [0, 1] of the leads entering the stage that should reach a later
                         stage (lost leads count against it, open ones do not); NA or 0 = no target
target_days_in_stage     days; a lead staying longer is stuck; NA or 0 = no target
======================== =========================================================================

Matching: a target applies to a row when its stage equals the row's stage and every scope column it sets
equals the row's value (a row with no value for a dimension only gets targets that leave it empty). Of the
targets that apply, the most specific wins: one for the salesperson beats one for a team, which beats one for
a product, which beats a stage-only one. The order is lexicographic on (sets user, sets team, sets product),
as in the addon's ``ORDER BY``: user + team beats user alone, which beats team + product; an exact tie goes to
the earlier row of the targets table. Each measure is looked up on its own: a target without
``target_days_in_stage`` does not hide a less specific one that has it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import numpy as np
import pandas as pd

from funnel_metrics.conversion import CONVERSION_COLUMNS
from funnel_metrics.dwell import _latest_timestamp
from funnel_metrics.funnel import (
    _as_utc,
    _factorize_groups,
    _Facts,
    _grouped_dwell,
    _selection,
    _stay_days,
    _validated,
)
from funnel_metrics.transitions import _text_column

TARGET_MEASURES: tuple[str, ...] = ("target_conversion_rate", "target_days_in_stage")
TARGET_DIMENSIONS: tuple[str, ...] = ("user", "team", "product")
"""Scope columns of a targets table, most specific first."""
BREAKDOWN_BY: tuple[str, ...] = ("user", "team", "product")
SELECTION_COLUMNS: tuple[str, ...] = (*CONVERSION_COLUMNS, "median_days", "p90_days")
"""Columns of :func:`selection_funnel`."""
STUCK_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "stage",
    "user",
    "team",
    "product",
    "entered_at",
    "days_in_stage",
    "target_days",
    "overdue_days",
)

TimestampLike = str | dt.datetime | np.datetime64 | pd.Timestamp


def _clean_targets(targets: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The targets with the measure set (> 0): columns stage, user, team, product (string), measure."""
    if not isinstance(targets, pd.DataFrame):
        raise ValueError(f"targets must be a pandas DataFrame, got {type(targets).__name__}")
    if "stage" not in targets.columns:
        raise ValueError(
            "targets table is missing the column 'stage' (columns: stage, optional team/user/product, "
            f"{', '.join(TARGET_MEASURES)})"
        )
    clean = pd.DataFrame(index=pd.RangeIndex(len(targets)))
    for column in ("stage", *TARGET_DIMENSIONS):
        values = targets[column] if column in targets.columns else pd.Series(pd.NA, index=targets.index)
        clean[column] = _text_column(values.astype(object).reset_index(drop=True))
    if measure not in targets.columns:
        clean[measure] = np.nan
        return clean.iloc[0:0]
    values = pd.to_numeric(targets[measure].reset_index(drop=True), errors="coerce")
    bad = values.isna() & targets[measure].reset_index(drop=True).notna()
    if bad.any():
        value = targets[measure].iloc[int(np.flatnonzero(bad.to_numpy())[0])]
        raise ValueError(f"targets: {measure} must be a number, cannot read {value!r}")
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    if (numbers < 0).any() or np.isinf(numbers).any():
        raise ValueError(f"targets: {measure} must be a finite number >= 0 (0 or empty = no target)")
    if measure == "target_conversion_rate" and (numbers > 1).any():
        raise ValueError(
            "targets: target_conversion_rate is a fraction between 0 and 1 (found "
            f"{np.nanmax(numbers):g}); Odoo stores it in percent: divide by 100"
        )
    clean[measure] = numbers
    return clean[numbers > 0]


def match_targets(frame: pd.DataFrame, targets: pd.DataFrame, measure: str) -> pd.Series:
    """The most specific target of each row of ``frame`` for one measure.

    Inputs:

    - ``frame``: a DataFrame with a ``stage`` column and any of ``user``, ``team``, ``product`` (a missing
      column counts as NA: the dimension is not fixed, so only targets leaving it empty apply). A
      ``product`` value may be a list, tuple or set of products (a lead carrying several tags): a product
      target applies when its product is one of them;
    - ``targets``: a targets table (see the module docstring);
    - ``measure``: ``"target_conversion_rate"`` (fraction) or ``"target_days_in_stage"`` (days).

    Output: a float64 Series aligned to ``frame`` (same index), named ``measure``: the value of the most
    specific target that applies and has the measure set, NaN where none does. Of two targets equally
    specific that both apply (a lead with two tags, each with a target), the earlier row of ``targets``
    wins.

    Raises:
        ValueError: unknown measure, ``frame`` without ``stage``, or an invalid targets table (no ``stage``
            column, a non-numeric or negative measure, a conversion rate above 1).
    """
    if measure not in TARGET_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(TARGET_MEASURES)}, got {measure!r}")
    if "stage" not in frame.columns:
        raise ValueError("match_targets: frame needs a 'stage' column")
    table = _clean_targets(targets, measure)
    out = np.full(len(frame), np.nan)
    if table.empty or len(frame) == 0:
        return pd.Series(out, index=frame.index, name=measure)
    table = table.assign(_order=table.index.to_numpy())
    keys = _match_keys(frame)
    is_set = table[list(TARGET_DIMENSIONS)].notna().to_numpy(dtype=bool)
    # scopes from the most specific: (user, team, product) set-flags in descending lexicographic order
    for scope in itertools.product((True, False), repeat=len(TARGET_DIMENSIONS)):
        rows = (is_set == np.array(scope)).all(axis=1)
        if not rows.any():
            continue
        todo = keys[np.isnan(out[keys["_row"].to_numpy()])]
        if todo.empty:
            break
        on = ["stage", *(d for d, fixed in zip(TARGET_DIMENSIONS, scope, strict=True) if fixed)]
        found = todo[["_row", *on]].merge(table.loc[rows, [*on, measure, "_order"]], on=on, sort=False)
        best = found.sort_values(["_row", "_order"], kind="stable").drop_duplicates("_row")
        out[best["_row"].to_numpy()] = best[measure].to_numpy(dtype="float64")
    return pd.Series(out, index=frame.index, name=measure)


def _match_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """The match keys of each row of ``frame``: ``_row`` (position), ``stage`` and the dimensions as text;
    a row whose product is a collection gives one key per product (none: one key without product)."""
    keys = pd.DataFrame({"_row": np.arange(len(frame))})
    for column in ("stage", *TARGET_DIMENSIONS):
        values = frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index)
        values = values.astype(object).reset_index(drop=True)
        if column == "product" and values.map(lambda v: isinstance(v, (list, tuple, set, frozenset))).any():
            values = values.map(
                lambda v: list(v) or pd.NA if isinstance(v, (list, tuple, set, frozenset)) else v
            )
            keys = keys.assign(product=values).explode("product", ignore_index=True)
            keys["product"] = _text_column(keys["product"].astype(object))
        else:
            keys[column] = _text_column(values)
    return keys


def stuck_leads(
    transitions: pd.DataFrame, targets: pd.DataFrame, as_of: TimestampLike | None = None
) -> pd.DataFrame:
    """Open leads that have stayed in their current stage longer than its days-in-stage target.

    Inputs:

    - ``transitions``: a transitions table (validated first);
    - ``targets``: a targets table (see the module docstring; only ``target_days_in_stage`` is used), matched
      on the stay's stage, salesperson, team and product;
    - ``as_of``: the snapshot time (naive = UTC); default the latest timestamp in the table.

    A stay is considered when it is open (``left_at`` empty) and its lead's outcome is ``open`` (the open
    stay of a won lead in the won stage is not stuck). Its age is ``as_of - entered_at`` in days (0 if it
    entered after ``as_of``); it is stuck when the age *exceeds* the target.

    Output: one row per stuck stay, most overdue first (ties by lead_id), index 0..n-1, columns
    ``lead_id`` (int64), ``stage``, ``user``, ``team``, ``product`` (string), ``entered_at`` (UTC),
    ``days_in_stage``, ``target_days``, ``overdue_days`` (float64 days; overdue = age - target).
    ``result.attrs["as_of"]`` holds the snapshot time used.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: ``as_of`` is not a timestamp, or the targets table is invalid.
    """
    table = _validated(transitions)
    snapshot = _as_utc(as_of, "as_of") if as_of is not None else _latest_timestamp(table)
    candidates = (table["left_at"].isna() & (table["outcome"] == "open")).to_numpy(dtype=bool)
    stays = table.loc[candidates, ["lead_id", "stage", "user", "team", "product", "entered_at"]]
    target = match_targets(stays, targets, "target_days_in_stage").to_numpy()
    days = _stay_days(table, snapshot)[0][candidates]
    with np.errstate(invalid="ignore"):
        stuck = days > target
    result = stays.loc[stuck].reset_index(drop=True)
    result["days_in_stage"] = days[stuck]
    result["target_days"] = target[stuck]
    result["overdue_days"] = days[stuck] - target[stuck]
    result = result.sort_values(["overdue_days", "lead_id"], ascending=[False, True], kind="stable")
    result = result.reset_index(drop=True).loc[:, list(STUCK_COLUMNS)]
    result.attrs["as_of"] = snapshot
    return result


def _attributed(
    table: pd.DataFrame,
    row_group: np.ndarray,
    n_groups: int,
    snapshot: pd.Timestamp | None,
    selected: np.ndarray | None,
) -> dict[str, Any]:
    """The funnel per (group, stage) of the passages and stays a group is credited with.

    ``row_group``: each row's group code in ``0..n_groups-1``; ``selected``: the rows taken into account
    (None: all). A lead's passage through a stage goes to the group of its first stay there when that stay
    is selected, and to nobody otherwise; a stay's duration goes to its own group when it is selected.
    Returns columns over the (group, stage) cells with a credited passage or stay, group-major then pipeline
    order: ``group`` (code), ``stage`` (string Series), ``stage_sequence``, ``entered``, ``advanced``,
    ``lost``, ``open`` (int64), ``conversion_rate``, ``median_days``, ``p90_days`` (float64).
    """
    facts = _Facts(table)
    n_stages = facts.n_stages
    if selected is not None:  # stays left out form one more group, dropped below
        row_group = np.where(selected, row_group, n_groups)
    width = n_groups + 1
    first_row = facts.first_row
    cell_group = row_group[np.maximum(first_row, 0)] if facts.n_rows else first_row
    counts = {name: count[:n_groups].reshape(-1) for name, count in facts.counts(cell_group, width).items()}
    days, closed = _stay_days(table, snapshot)
    median, p90, stays = _grouped_dwell(days, closed, row_group * n_stages + facts.codes, width * n_stages)
    size = n_groups * n_stages
    keep = np.flatnonzero((counts["entered"] > 0) | (stays[:size] > 0))
    advanced, lost = counts["advanced"][keep], counts["lost"][keep]
    decided = (advanced + lost).astype("float64")
    rate = np.full(len(keep), np.nan)
    np.divide(advanced, decided, out=rate, where=decided > 0)
    stage = keep % max(n_stages, 1)
    return {
        "group": keep // max(n_stages, 1),
        "stage": facts.stages["stage"].take(stage).reset_index(drop=True),
        "stage_sequence": facts.stage_seq[stage].astype("int64"),
        "entered": counts["entered"][keep].astype("int64"),
        "advanced": advanced.astype("int64"),
        "lost": lost.astype("int64"),
        "open": counts["open"][keep].astype("int64"),
        "conversion_rate": rate,
        "median_days": median[keep],
        "p90_days": p90[keep],
    }


def _funnel_frame(cells: dict[str, Any], first: dict[str, pd.Series]) -> pd.DataFrame:
    """The frame of :func:`_attributed`'s cells: the ``first`` columns, then :data:`SELECTION_COLUMNS`."""
    return pd.DataFrame({**first, **{column: cells[column] for column in SELECTION_COLUMNS}})


def breakdown(
    transitions: pd.DataFrame,
    by: str,
    targets: pd.DataFrame | None = None,
    as_of: TimestampLike | None = None,
    *,
    selected: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Stage conversion and time in stage per salesperson, team or product, optionally against targets.

    Inputs:

    - ``transitions``: a transitions table (validated first);
    - ``by``: ``"user"``, ``"team"`` or ``"product"``;
    - ``targets``: optional targets table (see the module docstring);
    - ``as_of``: snapshot time of the open stays (naive = UTC); default the latest timestamp in the table;
    - ``selected``: optional, one bool per row of ``transitions`` (in row order; NA = not selected): the
      stays of a selection, e.g. those of some teams or salespersons (see below). Default: every stay.

    Attribution: a lead's passage through a stage (entered / advanced / lost / open, exactly as in
    :func:`funnel_metrics.stage_conversion`, judged on the lead's whole history) belongs to the group of its
    first stay in that stage; so a lead handed over from one salesperson to another between stages counts
    for the first in the early stage and for the second in the later one, and its advance is not lost. Each
    stay's duration belongs to the stay's own group (Kaplan-Meier with open stays censored at ``as_of``, as
    in :func:`funnel_metrics.time_in_stage`). Stays without a value form their own group (NA).

    With ``selected``, only the passages whose first stay in the stage is selected are counted, and only the
    durations of selected stays: filtered on a salesperson (``selected = table["user"] == "alice"``), Alice
    keeps exactly her rows of the unselected breakdown. Keep the whole history of the leads in the table --
    the stays that are not selected still tell whether a lead advanced or was lost.

    Output: one row per (group, stage) with at least one counted passage or stay, by group (sorted, NA last)
    then pipeline order, index 0..n-1, columns

    - ``<by>`` (string, NA allowed), ``stage`` (string), ``stage_sequence`` (int64);
    - ``entered``, ``advanced``, ``lost``, ``open`` (int64 leads) and ``conversion_rate`` (float64,
      ``advanced / (advanced + lost)``, NaN if 0);
    - ``median_days``, ``p90_days`` (float64 days, NaN when too censored to tell);
    - with ``targets``: ``target_conversion_rate`` (fraction), ``target_days_in_stage`` (days), NaN where no
      target applies, matched on the stage and the group (the other dimensions are not fixed, so only
      targets that leave them empty apply); ``conversion_below_target`` (bool): the conversion rate is below
      its target; ``days_over_target`` (bool): the median days exceed theirs; ``below_target`` (bool): either
      (the addon's "Off Target"). No target, or no estimate, is never off target.

    ``result.attrs["as_of"]`` holds the snapshot time used.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: unknown ``by``, bad ``as_of``, invalid targets, or ``selected`` not one bool per row.
    """
    if by not in BREAKDOWN_BY:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWN_BY)}, got {by!r}")
    table = _validated(transitions)
    mask = _selection(selected, len(table))
    snapshot = _as_utc(as_of, "as_of") if as_of is not None else _latest_timestamp(table)
    row_group, labels = _factorize_groups(table[by])
    cells = _attributed(table, row_group, len(labels), snapshot, mask)
    result = _funnel_frame(cells, {by: labels.astype("string").take(cells["group"]).reset_index(drop=True)})
    if targets is not None:
        _against_targets(result, targets, [by, "stage"])
    result.attrs["as_of"] = snapshot
    return result


def _against_targets(result: pd.DataFrame, targets: pd.DataFrame, scope: list[str]) -> None:
    """Add to a funnel frame (columns ``conversion_rate``, ``median_days`` and ``scope``) the columns
    ``target_conversion_rate``, ``target_days_in_stage`` (NaN where no target applies),
    ``conversion_below_target`` (the conversion rate is below its target), ``days_over_target`` (the median
    days exceed theirs) and ``below_target`` (either)."""
    keys = result[scope]
    target_rate = match_targets(keys, targets, "target_conversion_rate").to_numpy()
    target_days = match_targets(keys, targets, "target_days_in_stage").to_numpy()
    result["target_conversion_rate"] = target_rate
    result["target_days_in_stage"] = target_days
    with np.errstate(invalid="ignore"):  # NaN (no target, no estimate) compares False
        conversion = result["conversion_rate"].to_numpy() < target_rate
        days = result["median_days"].to_numpy() > target_days
    result["conversion_below_target"] = conversion
    result["days_over_target"] = days
    result["below_target"] = conversion | days


def selection_funnel(
    transitions: pd.DataFrame,
    selected: pd.Series | np.ndarray | None,
    as_of: TimestampLike | None = None,
    targets: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Stage conversion and time in stage of a selection of stays, e.g. of some teams or salespersons.

    Inputs:

    - ``transitions``: a transitions table (validated first) holding the whole history of its leads;
    - ``selected``: one bool per row of ``transitions`` (in row order; NA = not selected): the stays of the
      selection, e.g. ``table["team"].isin(["Europe"])`` or ``table["user"] == "alice"``; None: every stay;
    - ``as_of``: snapshot time of the open stays (naive = UTC); default the latest timestamp in the table;
    - ``targets``: optional targets table (see the module docstring), matched on the stage alone (only
      targets that leave salesperson, team and product empty apply).

    The funnel the selection is credited with, attributed as in :func:`breakdown`: a lead's passage through a
    stage (entered / advanced / lost / open, judged on the lead's whole history) counts when its first stay
    in that stage is selected; time in stage (Kaplan-Meier, open stays censored at ``as_of``) is measured on
    the selected stays. So a lead Alice moves out of New and Bob later loses in Qualified is, for a selection
    of Alice's stays, an advance in New and nothing in Qualified. Every count is the sum of the
    :func:`breakdown` rows of the selected groups (a selection of groups: the selected stays are exactly
    theirs); with every stay selected it is :func:`funnel_metrics.stage_conversion` and
    :func:`funnel_metrics.time_in_stage` side by side.

    Output: one row per stage with at least one counted passage or selected stay, in pipeline order, index
    0..n-1, columns (:data:`SELECTION_COLUMNS`) ``stage`` (string), ``stage_sequence``, ``entered``,
    ``advanced``, ``lost``, ``open`` (int64 leads), ``conversion_rate`` (float64, ``advanced / (advanced +
    lost)``, NaN if 0), ``median_days``, ``p90_days`` (float64 days, NaN when too censored to tell); with
    ``targets``, then ``target_conversion_rate``, ``target_days_in_stage``, ``conversion_below_target``,
    ``days_over_target`` and ``below_target`` as in :func:`breakdown`. ``result.attrs["as_of"]`` holds the
    snapshot time used.

    Raises:
        TransitionsError: the table is invalid.
        ValueError: bad ``as_of``, invalid targets, or ``selected`` not one bool per row.
    """
    table = _validated(transitions)
    mask = _selection(selected, len(table))
    snapshot = _as_utc(as_of, "as_of") if as_of is not None else _latest_timestamp(table)
    cells = _attributed(table, np.zeros(len(table), dtype="int64"), 1, snapshot, mask)
    result = _funnel_frame(cells, {})
    if targets is not None:
        _against_targets(result, targets, ["stage"])
    result.attrs["as_of"] = snapshot
    return result
