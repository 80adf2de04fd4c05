"""Odoo rows to a transitions table: one mapping for every way the rows arrive.

The Odoo addon reads its own database with SQL, the extractor reads a remote one over RPC; both hand
:func:`transitions_from_ids` the same thing -- the stays and their leads as columns of bare ids, and one
name map per model for the names the table shows -- so that both give the same numbers for the same data.
:func:`transitions_from_odoo` takes ``search_read`` rows as Odoo returns them by default (many2one values
as ``[id, name]``) and maps them the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from funnel_metrics.transitions import TRANSITION_COLUMNS, validate_transitions

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
    series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype="int64")
    return pd.to_numeric(series.where(series.astype(bool) & series.notna(), 0)).to_numpy(dtype="int64")


def _named(ids: np.ndarray, names: Mapping[int, str] | None) -> pd.Series:
    """The names of ``ids`` (NA for 0, an unknown id, or without a name map)."""
    if names is None or not len(ids):
        return pd.Series(pd.NA, index=range(len(ids)), dtype="string")
    codes, uniques = pd.factorize(ids)
    labels = np.array([names.get(int(i)) for i in uniques], dtype=object)
    return pd.Series(labels[codes], dtype="string").mask(ids == 0)


def _products(tag_ids: pd.Series, names: Mapping[int, str] | None) -> pd.Series:
    """Per lead, its tags' names sorted and joined with ", " (NA without tags or without a name map); each
    distinct set of tags is named once."""
    if names is None or tag_ids.empty:
        return pd.Series(pd.NA, index=tag_ids.index, dtype="string")
    keys = tag_ids.map(lambda ids: tuple(sorted(ids)) if isinstance(ids, (list, tuple)) else ())
    codes, uniques = pd.factorize(keys)
    labels = [", ".join(sorted(names[i] for i in key if i in names)) or None for key in uniques]
    return pd.Series(np.array(labels, dtype=object)[codes], index=tag_ids.index, dtype="string")


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
    lead_id = _ids(stay_frame["lead_id"]) if count else np.zeros(0, dtype="int64")
    stage_id = _ids(stay_frame["stage_id"]) if count else np.zeros(0, dtype="int64")
    user_id = _ids(stay_frame["user_id"]) if count else np.zeros(0, dtype="int64")
    team_id = _ids(stay_frame["team_id"]) if count else np.zeros(0, dtype="int64")

    table = pd.DataFrame({"lead_id": lead_id})
    stage_codes, stage_uniques = pd.factorize(stage_id)
    known = [stages.get(int(i)) for i in stage_uniques]
    stage_names = np.array([stage[0] if stage else None for stage in known], dtype=object)
    sequences = np.array([stage[1] if stage else 0 for stage in known], dtype="int64")
    table["stage"] = stage_names[stage_codes] if count else pd.Series([], dtype=object)
    table["stage_sequence"] = sequences[stage_codes] if count else pd.Series([], dtype="int64")
    table["entered_at"] = _instants(stay_frame["date_in"]) if count else pd.Series([], dtype=object)
    table["left_at"] = _instants(stay_frame["date_out"]) if count else pd.Series([], dtype=object)
    table["user"] = _named(user_id, names.get("user_id"))
    table["team"] = _named(team_id, names.get("team_id"))

    lead_frame = lead_frame.drop_duplicates("id") if "id" in lead_frame else lead_frame
    position = (
        pd.Index(_ids(lead_frame["id"])).get_indexer(lead_id) if len(lead_frame) else np.full(count, -1)
    )
    found = position >= 0

    def per_stay(column: pd.Series | np.ndarray, fill: Any) -> np.ndarray:
        values = np.asarray(column, dtype=object)
        return np.where(found, values.take(np.where(found, position, 0)) if len(values) else fill, fill)

    def lead_column(field: str, fill: Any = None) -> np.ndarray:
        if field not in lead_frame or not len(lead_frame):
            return np.full(count, fill, dtype=object)
        return per_stay(lead_frame[field], fill)

    won_status = lead_column("won_status")
    active = lead_column("active", True).astype(bool)
    table["outcome"] = np.select(
        [won_status == "won", (won_status == "lost") | ~active], ["won", "lost"], default="open"
    )
    products = _products(lead_frame["tag_ids"], names.get("tag_ids")) if "tag_ids" in lead_frame else None
    table["product"] = per_stay(products.to_numpy(dtype=object), None) if products is not None else pd.NA
    for field in ("source_id", "lost_reason_id"):
        table[NAMED_FIELDS[field]] = _named(_ids(lead_column(field, 0)), names.get(field)).to_numpy(object)
    table["stage_id"] = stage_id
    table["user_id"] = user_id
    table["team_id"] = team_id
    table["campaign"] = _named(_ids(lead_column("campaign_id", 0)), names.get("campaign_id")).to_numpy(object)
    table["expected_revenue"] = pd.to_numeric(
        pd.Series(lead_column("expected_revenue", np.nan)), errors="coerce"
    ).astype("float64")
    table["lead_name"] = pd.Series(lead_column("name"), dtype="string").to_numpy()
    return validate_transitions(table[[*TRANSITION_COLUMNS, *EXTRA_COLUMNS]])


def _instants(values: Any) -> pd.Series:
    """Odoo datetimes (naive UTC datetimes, strings or datetime64; ``False`` / ``None`` when empty) as a
    column :func:`validate_transitions` reads as UTC timestamps."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.reset_index(drop=True)
    return series.where(series.map(lambda v: v is not False and v is not None), None).reset_index(drop=True)


def _many2one(values: pd.Series) -> tuple[np.ndarray, dict[int, str]]:
    """Odoo many2one values (``[id, name]``, a bare id, or ``False``) as ids and their id to name map."""
    ids, names = [], {}
    for value in values:
        if isinstance(value, (list, tuple)):
            ids.append(int(value[0]) if value else 0)
            if len(value) > 1:
                names[int(value[0])] = value[1]
        else:
            ids.append(int(value) if value else 0)
    return np.array(ids, dtype="int64"), names


def transitions_from_odoo(
    stays: Iterable[Mapping[str, Any]],
    leads: Iterable[Mapping[str, Any]],
    stages: Iterable[Mapping[str, Any]],
    tag_names: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Build a validated transitions table from ``search_read`` rows, as :func:`transitions_from_ids` does.

    :param stays: ``crm.lead.stage.history`` rows with :data:`STAY_FIELDS` (many2one values as
        ``[id, name]``, datetimes as naive UTC strings or datetimes, ``False`` when empty).
    :param leads: ``crm.lead`` rows with ``id`` and :data:`LEAD_FIELDS`, for every lead the stays refer to.
    :param stages: ``crm.stage`` rows with ``id`` and :data:`STAGE_FIELDS`.
    :param tag_names: ``crm.tag`` id to name; without it the ``product`` column is empty.
    :return: the table of :func:`transitions_from_ids`; the names of salespersons, teams, sources, lost
        reasons and campaigns are those the rows carry.
    """
    stay_frame = pd.DataFrame(list(stays), columns=list(STAY_FIELDS))
    lead_frame = pd.DataFrame(list(leads), columns=["id", *LEAD_FIELDS])
    names: dict[str, Mapping[int, str]] = {"tag_ids": tag_names or {}}
    stay_columns: dict[str, Any] = {"date_in": stay_frame["date_in"], "date_out": stay_frame["date_out"]}
    for field in ("lead_id", "stage_id", "user_id", "team_id"):
        stay_columns[field], names[field] = _many2one(stay_frame[field])
    lead_columns: dict[str, Any] = {
        field: lead_frame[field]
        for field in ("id", "name", "won_status", "active", "tag_ids", "expected_revenue")
    }
    for field in ("lost_reason_id", "source_id", "campaign_id"):
        lead_columns[field], names[field] = _many2one(lead_frame[field])
    stage_map = {int(row["id"]): (row["name"], int(row["sequence"])) for row in stages}
    return transitions_from_ids(
        pd.DataFrame(stay_columns, index=stay_frame.index), pd.DataFrame(lead_columns), stage_map, names
    )
