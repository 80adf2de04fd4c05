"""Odoo rows (as ``search_read`` returns them) to a transitions table.

One mapping for every way the rows arrive — the Odoo addon reading its own database, or the
extractor reading a remote one over RPC — so that both give the same numbers for the same data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
#: extra columns the mapping adds after the contract columns
EXTRA_COLUMNS: tuple[str, ...] = (
    "stage_id",
    "user_id",
    "team_id",
    "campaign",
    "expected_revenue",
    "lead_name",
)


def _many2one(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split Odoo many2one values (``[id, name]``, a bare id, or ``False``) into ids and names."""
    ids = values.map(lambda v: v[0] if isinstance(v, (list, tuple)) else (v if v else 0)).astype("int64")
    names = values.map(lambda v: v[1] if isinstance(v, (list, tuple)) and len(v) > 1 else None)
    return ids, names


def _timestamps(values: pd.Series) -> pd.Series:
    """Odoo datetimes (naive UTC strings or datetimes; ``False`` when empty) to UTC timestamps."""
    cleaned = values.where(values.map(lambda v: v is not False and v is not None), None)
    return pd.to_datetime(cleaned, utc=True)


def transitions_from_odoo(
    stays: Iterable[Mapping[str, Any]],
    leads: Iterable[Mapping[str, Any]],
    stages: Iterable[Mapping[str, Any]],
    tag_names: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Build a validated transitions table from Odoo rows.

    :param stays: ``crm.lead.stage.history`` rows with :data:`STAY_FIELDS` (many2one values as
        ``[id, name]``, datetimes as naive UTC strings or datetimes, ``False`` when empty).
    :param leads: ``crm.lead`` rows with ``id`` and :data:`LEAD_FIELDS`, for every lead the stays
        refer to. The outcome is ``won`` when ``won_status`` is won, ``lost`` when it is lost or
        the lead is archived (it left the funnel without being won), ``open`` otherwise.
    :param stages: ``crm.stage`` rows with ``id`` and :data:`STAGE_FIELDS`.
    :param tag_names: ``crm.tag`` id to name; the ``product`` of a lead is its tags' names,
        sorted and joined with ", " (empty without tags or without this mapping).
    :return: the transitions table (contract columns, one row per stay), followed by
        :data:`EXTRA_COLUMNS`: the Odoo ids of stage, salesperson and team (0 when empty), the
        campaign name, the lead's expected revenue and its name (``lead_name``, as the report lists it).
    """
    stay_frame = pd.DataFrame(list(stays), columns=list(STAY_FIELDS))
    lead_frame = pd.DataFrame(list(leads), columns=["id", *LEAD_FIELDS])
    stage_frame = pd.DataFrame(list(stages), columns=["id", *STAGE_FIELDS])

    table = pd.DataFrame(index=stay_frame.index)
    table["lead_id"], _ = _many2one(stay_frame["lead_id"])
    stage_id, _ = _many2one(stay_frame["stage_id"])
    stage_info = stage_frame.set_index("id")
    table["stage"] = stage_id.map(stage_info["name"])
    table["stage_sequence"] = stage_id.map(stage_info["sequence"])
    table["entered_at"] = _timestamps(stay_frame["date_in"])
    table["left_at"] = _timestamps(stay_frame["date_out"])
    user_id, table["user"] = _many2one(stay_frame["user_id"])
    team_id, table["team"] = _many2one(stay_frame["team_id"])

    lead_info = lead_frame.set_index("id")
    won_status = table["lead_id"].map(lead_info["won_status"])
    active = table["lead_id"].map(lead_info["active"]).fillna(True).astype(bool)
    table["outcome"] = np.select(
        [won_status.eq("won"), won_status.eq("lost") | ~active], ["won", "lost"], default="open"
    )
    tags = tag_names or {}
    product = lead_info["tag_ids"].map(
        lambda ids: ", ".join(sorted(tags[i] for i in (ids or []) if i in tags)) or None
    )
    table["product"] = table["lead_id"].map(product)
    table["source"] = table["lead_id"].map(_many2one(lead_info["source_id"])[1])
    table["lost_reason"] = table["lead_id"].map(_many2one(lead_info["lost_reason_id"])[1])

    table["stage_id"] = stage_id
    table["user_id"] = user_id
    table["team_id"] = team_id
    table["campaign"] = table["lead_id"].map(_many2one(lead_info["campaign_id"])[1])
    table["expected_revenue"] = table["lead_id"].map(lead_info["expected_revenue"]).astype("float64")
    table["lead_name"] = table["lead_id"].map(lead_info["name"]).astype("string")
    return validate_transitions(table[[*TRANSITION_COLUMNS, *EXTRA_COLUMNS]])
