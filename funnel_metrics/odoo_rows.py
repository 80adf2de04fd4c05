"""Odoo rows to a transitions table: one mapping for every way the rows arrive.

The Odoo addon reads its own database with SQL, the extractor reads a remote one over RPC; both hand
:func:`transitions_from_ids` the same thing -- the stays and their leads as columns of bare ids, and one
name map per model for the names the table shows -- so that both give the same numbers for the same data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from funnel_metrics.transitions import validate_transitions

#: fields to read from ``crm.lead.stage.history``
STAY_FIELDS: tuple[str, ...] = ("lead_id", "stage_id", "date_in", "date_out", "user_id", "team_id")
#: fields to read from ``crm.lead`` (read it with ``active_test=False``: lost leads are archived)
LEAD_FIELDS: tuple[str, ...] = (
    "name",
    "won_status",
    "active",
    "lost_reason_id",
    "source_id",
    "campaign_id",
    "tag_ids",
    "expected_revenue",
)
#: fields to read from ``crm.stage``
STAGE_FIELDS: tuple[str, ...] = ("name", "sequence")
#: the many2one (and ``tag_ids``) fields whose names the table shows, and the column each name fills
NAMED_FIELDS: Mapping[str, str] = {
    "user_id": "user",
    "team_id": "team",
    "tag_ids": "product",
    "source_id": "source",
    "lost_reason_id": "lost_reason",
    "campaign_id": "campaign",
}
#: extra columns the mapping adds after the contract columns
EXTRA_COLUMNS: tuple[str, ...] = (
    "stage_id",
    "user_id",
    "team_id",
    "campaign",
    "expected_revenue",
    "lead_name",
)

Columns = Mapping[str, Sequence[Any]] | pd.DataFrame


def _ids(values: Any) -> np.ndarray:
    """Bare ids (ints; ``False`` / ``None`` / NaN for none) as an int64 array, 0 for none."""
    array = np.asarray(values)
    if array.dtype.kind in "iu":
        return array.astype("int64", copy=False)
    series = pd.Series(array, dtype=object)
    return pd.to_numeric(series.where(series.astype(bool) & series.notna(), 0)).to_numpy(dtype="int64")


def _labels(labels: Sequence[str | None], codes: np.ndarray) -> pd.Series:
    """``labels[code]`` per code (-1 and None: NA) as a ``string`` column; each label converted once."""
    text = pd.array(list(labels), dtype="string")
    return pd.Series(text.take(codes, allow_fill=True))


def _named(ids: np.ndarray, names: Mapping[int, str] | None) -> pd.Series:
    """The names of ``ids`` (NA for 0, an unknown id, or without a name map)."""
    if names is None or not len(ids):
        return pd.Series(pd.NA, index=range(len(ids)), dtype="string")
    codes, uniques = pd.factorize(ids)
    return _labels([names.get(int(i)) if i else None for i in uniques], codes)


def _products(tag_ids: pd.Series, names: Mapping[int, str] | None) -> tuple[list[str | None], np.ndarray]:
    """Per lead, its tags' names sorted and joined with ", " (None without tags): the distinct products
    and each lead's code among them; each distinct set of tags is named once."""
    keys = tag_ids.map(lambda ids: tuple(sorted(ids)) if isinstance(ids, (list, tuple)) else ())
    codes, uniques = pd.factorize(keys)
    names = names or {}
    return [", ".join(sorted(names[i] for i in key if i in names)) or None for key in uniques], codes


def transitions_from_ids(
    stays: Columns,
    leads: Columns,
    stages: Mapping[int, tuple[str, int]],
    names: Mapping[str, Mapping[int, str]] | None = None,
) -> pd.DataFrame:
    """Build a validated transitions table from columns of bare ids and one name map per model.

    :param stays: ``crm.lead.stage.history`` columns :data:`STAY_FIELDS` (a DataFrame or a mapping of
        equal-length sequences): ``lead_id``, ``stage_id``, ``user_id``, ``team_id`` as ids (0, ``False`` or
        ``None`` when empty), ``date_in`` / ``date_out`` as naive UTC datetimes, ISO strings or
        ``datetime64`` (``False`` / ``None`` / NaT while the stay is open).
    :param leads: ``crm.lead`` columns for every lead the stays refer to: ``id``, ``won_status`` and
        ``active`` (required: the outcome is ``won`` when ``won_status`` is won, ``lost`` when it is lost or
        the lead is archived -- it left the funnel without being won --, ``open`` otherwise), and, where the
        table should show them, ``name``, ``expected_revenue``, the ids ``source_id``, ``lost_reason_id``,
        ``campaign_id`` and ``tag_ids`` (a list of ids per lead).
    :param stages: ``crm.stage`` id to ``(name, sequence)``, for every stage the stays refer to.
    :param names: per field of :data:`NAMED_FIELDS`, its model's id to name map; a field without a map
        leaves its column empty (NA): a caller keyed by ids need not read names it does not show. The
        ``product`` of a lead is its tags' names, sorted and joined with ", ".
    :return: the transitions table (contract columns, one row per stay, in the order of ``stays``),
        followed by :data:`EXTRA_COLUMNS`: the Odoo ids of stage, salesperson and team (0 when empty), the
        campaign name, the lead's expected revenue (NaN when not given) and its name (``lead_name``).
    :raises TransitionsError: a stay in a stage ``stages`` does not name, or a table invalid otherwise.
    """
    names = names or {}
    stay_frame = stays if isinstance(stays, pd.DataFrame) else pd.DataFrame(dict(stays))
    lead_frame = leads if isinstance(leads, pd.DataFrame) else pd.DataFrame(dict(leads))
    count = len(stay_frame)
    lead_id, stage_id, user_id, team_id = (
        _ids(stay_frame[field]) if count else np.zeros(0, dtype="int64")
        for field in ("lead_id", "stage_id", "user_id", "team_id")
    )
    stage_codes, stage_uniques = pd.factorize(stage_id)
    known = [stages.get(int(i)) for i in stage_uniques]
    sequences = np.array([stage[1] if stage else 0 for stage in known], dtype="int64")

    # each stay's row among the leads (-1: a lead not given, taken as open)
    if len(lead_frame):
        lead_frame = lead_frame.drop_duplicates("id")
        position = pd.Index(_ids(lead_frame["id"])).get_indexer(lead_id)
    else:
        position = np.full(count, -1)
    found = position >= 0
    row = np.where(found, position, 0)

    def lead_column(field: str) -> np.ndarray | None:
        """The lead's value of ``field`` per stay (None where the lead is not given); None without it."""
        if field not in lead_frame or not len(lead_frame):
            return None
        values = np.asarray(lead_frame[field], dtype=object).take(row)
        values[~found] = None
        return values

    def lead_ids(field: str) -> np.ndarray:
        values = lead_column(field)
        return _ids(values) if values is not None else np.zeros(count, dtype="int64")

    outcome = _outcome_codes(lead_column("won_status"), lead_column("active"), count)
    if "tag_ids" in lead_frame and "tag_ids" in names and len(lead_frame):
        products, product_codes = _products(lead_frame["tag_ids"], names["tag_ids"])
        product = _labels(products, np.where(found, product_codes.take(row), -1))
    else:
        product = pd.Series(pd.NA, index=range(count), dtype="string")
    revenue = lead_column("expected_revenue")
    lead_name = lead_column("name")
    table = pd.DataFrame(
        {
            "lead_id": lead_id,
            "stage": _labels([stage[0] if stage else None for stage in known], stage_codes),
            "stage_sequence": sequences.take(stage_codes) if count else sequences,
            "entered_at": _instants(stay_frame["date_in"]) if count else pd.Series([], dtype=object),
            "left_at": _instants(stay_frame["date_out"]) if count else pd.Series([], dtype=object),
            "user": _named(user_id, names.get("user_id")),
            "team": _named(team_id, names.get("team_id")),
            "product": product,
            "source": _named(lead_ids("source_id"), names.get("source_id")),
            "outcome": _labels(["open", "won", "lost"], outcome),
            "lost_reason": _named(lead_ids("lost_reason_id"), names.get("lost_reason_id")),
            "stage_id": stage_id,
            "user_id": user_id,
            "team_id": team_id,
            "campaign": _named(lead_ids("campaign_id"), names.get("campaign_id")),
            "expected_revenue": (
                pd.to_numeric(pd.Series(revenue), errors="coerce").astype("float64")
                if revenue is not None
                else np.full(count, np.nan)
            ),
            "lead_name": (
                pd.Series(lead_name, dtype="string")
                if lead_name is not None
                else pd.Series(pd.NA, index=range(count), dtype="string")
            ),
        }
    )
    return validate_transitions(table)


def _outcome_codes(won_status: Any, active: Any, count: int) -> np.ndarray:
    """Per lead: 1 won (``won_status`` won), 2 lost (lost, or archived: Odoo archives lost leads), 0 open;
    a column that is None is not known (no status: open; no ``active``: only ``won_status`` lost is)."""
    status = np.asarray(won_status, dtype=object) if won_status is not None else None
    won = status == "won" if status is not None else np.zeros(count, dtype=bool)
    lost = status == "lost" if status is not None else np.zeros(count, dtype=bool)
    archived = ~pd.Series(active).fillna(True).astype(bool).to_numpy() if active is not None else lost
    return np.where(won, 1, np.where(lost | archived, 2, 0))


def lead_outcomes(won_status: Sequence[Any], active: Sequence[Any]) -> np.ndarray:
    """The outcome of Odoo leads from their ``won_status`` and ``active``, as the transitions table has it:
    ``won``, ``lost`` (lost, or archived) or ``open`` -- an array of strings, one per lead."""
    codes = _outcome_codes(list(won_status), list(active), len(won_status))
    return np.array(["open", "won", "lost"], dtype=object).take(codes)


def _instants(values: Any) -> pd.Series:
    """Odoo datetimes (naive UTC datetimes, strings or datetime64; ``False`` / ``None`` when empty) as a
    column :func:`validate_transitions` reads as UTC timestamps."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.reset_index(drop=True).astype("datetime64[ns]")
    return series.where(series.map(lambda v: v is not False and v is not None), None).reset_index(drop=True)
