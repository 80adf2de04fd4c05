"""Cost per lead and per qualified lead, by source (or campaign, team...) and period."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from funnel_metrics.funnel import _Facts, _offset, _period_starts, _utc_series, _validated
from funnel_metrics.transitions import TransitionsError

COST_COLUMNS: tuple[str, ...] = (
    "period",
    "leads",
    "cost",
    "cost_per_lead",
    "qualified",
    "cost_per_qualified",
)
"""Columns of :func:`cost_per_lead` after the ``by`` column."""


def _cost_instants(costs: pd.DataFrame) -> np.ndarray:
    """The ``period`` column of a costs table as UTC instants (int64 ns); naive values are taken as UTC."""
    period = costs["period"]
    if isinstance(period.dtype, pd.PeriodDtype):
        parsed = period.dt.start_time.dt.tz_localize("UTC")
    elif isinstance(period.dtype, pd.DatetimeTZDtype):
        parsed = period.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(period.dtype):
        parsed = period.dt.tz_localize("UTC")
    else:
        values = period.astype(object)
        try:
            parsed = pd.to_datetime(values, utc=True, format="ISO8601")
        except (TypeError, ValueError):
            try:
                parsed = pd.to_datetime(values, utc=True, format="mixed")
            except (TypeError, ValueError) as exc:
                raise ValueError(f"costs: cannot read the 'period' column as dates ({exc})") from exc
    if parsed.isna().any():
        position = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise ValueError(f"costs: period missing or unreadable at row {costs.index[position]!r}")
    return parsed.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]").view("int64")


def _cost_amounts(costs: pd.DataFrame, by: str) -> np.ndarray:
    """The ``cost`` column of a costs table (columns ``<by>``, ``period``, ``cost``) as float64, after
    checking the table has its columns and every cost is a number."""
    if not isinstance(costs, pd.DataFrame):
        raise ValueError(f"costs must be a pandas DataFrame, got {type(costs).__name__}")
    missing = [c for c in (by, "period", "cost") if c not in costs.columns]
    if missing:
        raise ValueError(
            f"costs table is missing column(s): {', '.join(missing)} (expected: {by}, period, cost)"
        )
    amount = pd.to_numeric(costs["cost"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if not np.isfinite(amount).all():
        position = int(np.flatnonzero(~np.isfinite(amount))[0])
        raise ValueError(f"costs: cost must be a number, cannot read {costs['cost'].iloc[position]!r}")
    return amount


def cost_per_lead(
    transitions: pd.DataFrame,
    costs: pd.DataFrame,
    by: str = "source",
    qualified_stage: str | None = None,
    freq: str = "MS",
) -> pd.DataFrame:
    """Acquisition cost per lead and per qualified lead, per ``by`` value and period.

    Inputs:

    - ``transitions``: a transitions table (validated first). It must have the ``by`` column: ``source``
      (default), ``user``, ``team``, ``product``, or an extra column such as ``campaign``;
    - ``costs``: a DataFrame with columns ``<by>``, ``period`` (dates, timestamps, ISO strings such as
      ``"2024-03"`` or ``"2024-03-01"``, or pandas Periods; naive = UTC; each is normalised to the start of
      its period of ``freq``) and ``cost`` (a number, any currency; rows of the same key are added up);
    - ``qualified_stage``: a lead is *qualified* once it reached this stage or a later one (see
      :func:`funnel_metrics.cumulative_funnel`); default the second stage of the pipeline;
    - ``freq``: pandas frequency of the periods (default ``"MS"``, calendar months; see
      :func:`funnel_metrics.cohort_conversion`).

    A lead is counted once, in the period of its first ``entered_at`` and under the ``by`` value of its first
    stay.

    Output: one row per (``by`` value, period) found in the leads or in the costs, sorted by value (NA last)
    then period, index 0..n-1, columns

    - ``<by>`` (string; NA = leads or costs without a value, matched to each other), ``period``
      (``datetime64[ns, UTC]``, period start);
    - ``leads`` (int64), ``cost`` (float64; 0 where leads came with no cost row), ``cost_per_lead``
      (float64; NaN where there is cost but no lead);
    - ``qualified`` (int64), ``cost_per_qualified`` (float64; NaN where no lead qualified).

    Raises:
        TransitionsError: the table is invalid or has no ``by`` column.
        ValueError: costs without the needed columns or with unreadable periods or costs, an unknown
            ``qualified_stage``, a table with a single stage and no ``qualified_stage``, or a bad ``freq``.
    """
    _offset(freq)
    amount = _cost_amounts(costs, by)
    table = _validated(transitions)
    if by not in table.columns:
        raise TransitionsError(
            f"cost_per_lead by {by!r} needs a {by!r} column in the transitions table; it has: "
            f"{', '.join(map(str, table.columns))}"
        )
    facts = _Facts(table)
    if facts.n_stages == 0:
        qualified = np.zeros(0, dtype=bool)
    else:
        if qualified_stage is not None:
            stage = facts.stage_code(qualified_stage, "qualified_stage")
        elif facts.n_stages >= 2:
            stage = 1
        else:
            raise ValueError("cost_per_lead: the pipeline has a single stage: name the qualified_stage")
        qualified = facts.reached[:, stage]
    _, first_row = facts.first_stay
    lead_key = table[by].take(first_row).astype("string").reset_index(drop=True)
    cost_key = costs[by].astype("string").reset_index(drop=True)
    instants = np.concatenate([facts.entered[first_row], _cost_instants(costs)])
    starts = _period_starts(instants, freq)

    codes, labels = pd.factorize(pd.concat([lead_key, cost_key], ignore_index=True), sort=True)
    codes = np.where(codes < 0, len(labels), codes).astype("int64")
    labels = pd.concat(
        [pd.Series(labels, dtype="string"), pd.Series([pd.NA], dtype="string")], ignore_index=True
    )
    periods, period_code = np.unique(starts, return_inverse=True)
    keys, row = np.unique(codes * max(len(periods), 1) + period_code.reshape(-1), return_inverse=True)
    row = row.reshape(-1)
    n_rows, n_leads = len(keys), facts.n_leads
    leads = np.bincount(row[:n_leads], minlength=n_rows).astype("int64")
    qualified_count = np.bincount(row[:n_leads][qualified], minlength=n_rows).astype("int64")
    cost = np.bincount(row[n_leads:], weights=amount, minlength=n_rows).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        per_lead = np.where(leads > 0, cost / leads, np.nan)
        per_qualified = np.where(qualified_count > 0, cost / qualified_count, np.nan)
    return pd.DataFrame(
        {
            by: labels.take(keys // max(len(periods), 1)).reset_index(drop=True),
            "period": _utc_series(periods[keys % max(len(periods), 1)], "period"),
            "leads": leads,
            "cost": cost,
            "cost_per_lead": per_lead,
            "qualified": qualified_count,
            "cost_per_qualified": per_qualified,
        }
    )


def _month_start(instant: pd.Timestamp) -> pd.Timestamp:
    """The first instant of the month (UTC) of an aware instant."""
    utc = instant.tz_convert("UTC")
    return pd.Timestamp(year=utc.year, month=utc.month, day=1, tz="UTC")


def campaign_costs(totals: Mapping[str, float], table: pd.DataFrame) -> pd.DataFrame:
    """Campaigns' total costs as a costs table for the rows of ``table`` (a transitions or phase stays table
    with ``entered_at`` and ``campaign``): the rule of :func:`funnel_metrics.extract.extract_campaign_costs`
    and of Odoo's Cost per Sales-Accepted Lead. A campaign has one total cost and no period: it is put on the
    month (start, UTC) of the first row of its leads in ``table``, or of the table's first row when it has
    none there.

    :param totals: campaign (as ``table`` keys it) -> its total cost
    :param table: the rows the costs are for; not empty
    :return: ``campaign`` (string), ``period`` (``datetime64[ns, UTC]``, month start), ``cost`` (float64),
        one row per campaign, sorted by campaign
    :raises ValueError: an empty ``table``.
    """
    entered = pd.to_datetime(table["entered_at"], utc=True)
    if entered.isna().all():
        raise ValueError("the table is empty: campaign costs need the months of its leads")
    first: dict[str, pd.Timestamp] = {}
    if "campaign" in table.columns:
        first = entered.groupby(table["campaign"].astype("string").to_numpy()).min().to_dict()
    fallback = entered.min()
    labels = sorted(totals)
    return pd.DataFrame(
        {
            "campaign": pd.Series(labels, dtype="string"),
            "period": pd.Series(
                [_month_start(first.get(label, fallback)) for label in labels], dtype="datetime64[ns, UTC]"
            ),
            "cost": pd.Series([float(totals[label]) for label in labels], dtype="float64"),
        },
        columns=["campaign", "period", "cost"],
    )
