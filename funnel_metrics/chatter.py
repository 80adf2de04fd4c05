"""Stage stays rebuilt from a chatter's stage changes (Odoo's ``mail.tracking.value`` on ``stage_id``).

A lead is in a first stage from its creation; each tracked change then opens a stay in the new stage and
ends the one before. The Odoo addons read the changes themselves and call :func:`stays_from_changes`:
``crm_stage_history`` rebuilds its history table from it, ``crm_activity_centric`` finds when leads entered
a stage. Stages, leads and users are whatever values the caller uses (Odoo ids, names).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

STAY_COLUMNS: tuple[str, ...] = ("lead_id", "stage", "previous_stage", "entered_at", "left_at", "change")
"""Columns of :func:`stays_from_changes`."""
LEAD_COLUMNS: tuple[str, ...] = ("lead_id", "created_at", "stage")
CHANGE_COLUMNS: tuple[str, ...] = ("lead_id", "at", "old_stage", "new_stage")


def _require(frame: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing the column(s) {', '.join(missing)} (needs {', '.join(columns)})")


def _instants(values: pd.Series, name: str) -> pd.Series:
    """Timestamps as naive UTC ``datetime64[ns]`` (aware ones converted, naive ones taken as UTC)."""
    try:
        stamps = pd.to_datetime(values.astype(object).where(values.notna(), None), utc=True, format="ISO8601")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot read the timestamps ({exc})") from exc
    return stamps.dt.tz_localize(None).astype("datetime64[ns]")


def stays_from_changes(
    leads: pd.DataFrame,
    changes: pd.DataFrame,
    won_stages: Collection[Any] = (),
) -> pd.DataFrame:
    """The stays of leads in stages, rebuilt from their tracked stage changes.

    Inputs:

    - ``leads``: one row per lead, columns ``lead_id``, ``created_at`` (timestamp), ``stage`` (its current
      stage, NA if none) and optionally ``ended_at``: when a lead that left the pipeline without being won
      (lost, archived) did so; NA for a lead still in the pipeline;
    - ``changes``: one row per tracked change, columns ``lead_id``, ``at`` (timestamp), ``old_stage``,
      ``new_stage`` (NA where the stage is unknown, e.g. deleted since). Changes of leads not in ``leads``
      and changes to an unknown stage are left out. Changes at the same instant keep their order in
      ``changes``: read them in the order they were written (by id);
    - ``won_stages``: the stages that end the journey (a stay in one ends as it starts).

    Timestamps are naive UTC or aware; the output is naive UTC.

    Stays of a lead, in time order:

    - from its creation, a stay in the stage before its first change (``old_stage`` of that change), or in
      its current stage when it has no change; none when that stage is unknown;
    - from each change, a stay in ``new_stage`` whose previous stage is ``old_stage``.

    A stay ends when the next one starts (never before it starts). The last one is still open (``left_at``
    NaT) unless its stage is a won stage (it ends as it starts) or the lead has an ``ended_at`` (it ends
    then, never before it starts).

    Output: one row per stay, by ``lead_id`` then time, index 0..n-1, columns ``lead_id``, ``stage``,
    ``previous_stage`` (NA for the stay since creation), ``entered_at``, ``left_at`` (``datetime64[ns]``,
    naive UTC) and ``change`` (Int64: the position in ``changes`` of the change that opened the stay, NA
    for the stay since creation), so that the caller can carry over who made it.

    Raises:
        ValueError: a frame is missing a column or a timestamp cannot be read.
    """
    _require(leads, LEAD_COLUMNS, "leads")
    _require(changes, CHANGE_COLUMNS, "changes")
    lead = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "created_at": _instants(leads["created_at"], "leads.created_at").to_numpy(),
            "stage": leads["stage"].astype(object).to_numpy(),
            "ended_at": _instants(leads["ended_at"], "leads.ended_at").to_numpy()
            if "ended_at" in leads.columns
            else np.full(len(leads), np.datetime64("NaT", "ns"), dtype="datetime64[ns]"),
        }
    ).drop_duplicates("lead_id")
    moves = pd.DataFrame(
        {
            "lead_id": changes["lead_id"].to_numpy(),
            "at": _instants(changes["at"], "changes.at").to_numpy(),
            "old_stage": changes["old_stage"].astype(object).to_numpy(),
            "new_stage": changes["new_stage"].astype(object).to_numpy(),
            "change": np.arange(len(changes), dtype="int64"),
        }
    )
    moves = moves[moves["new_stage"].notna() & moves["lead_id"].isin(lead["lead_id"])]
    moves = moves.sort_values(["lead_id", "at", "change"], kind="stable")

    first = moves.drop_duplicates("lead_id").set_index("lead_id")
    tracked = lead["lead_id"].isin(first.index)
    initial = pd.Series(
        first["old_stage"].reindex(lead["lead_id"]).to_numpy(), index=lead.index, dtype=object
    )
    initial = initial.where(tracked, lead["stage"])
    created = pd.DataFrame(
        {
            "lead_id": lead["lead_id"],
            "stage": initial,
            "previous_stage": None,
            "entered_at": lead["created_at"],
            "left_at": first["at"].reindex(lead["lead_id"]).to_numpy(dtype="datetime64[ns]"),
            "change": pd.NA,
            "_rank": 0,
        }
    )[initial.notna().to_numpy()]
    moved = pd.DataFrame(
        {
            "lead_id": moves["lead_id"],
            "stage": moves["new_stage"],
            "previous_stage": moves["old_stage"],
            "entered_at": moves["at"],
            "left_at": moves.groupby("lead_id")["at"].shift(-1),
            "change": moves["change"],
            "_rank": 1,
        }
    )
    stays = pd.concat([created, moved], ignore_index=True)
    stays = stays.sort_values(["lead_id", "_rank", "entered_at", "change"], kind="stable", ignore_index=True)

    entered = stays["entered_at"]
    left = stays["left_at"].where(stays["left_at"].isna() | (stays["left_at"] >= entered), entered)
    last = left.isna()
    won = stays["stage"].isin(list(won_stages)) & last
    ended = pd.Series(
        lead.set_index("lead_id")["ended_at"].reindex(stays["lead_id"]).to_numpy(dtype="datetime64[ns]"),
        index=stays.index,
    )
    ended = ended.where(ended.isna() | (ended >= entered), entered)
    left = left.where(~won, entered).where(~(last & ~won), ended)
    stays["left_at"] = left.astype("datetime64[ns]")
    stays["change"] = stays["change"].astype("Int64")
    for column in ("stage", "previous_stage"):
        stays[column] = stays[column].astype(object).where(stays[column].notna(), None)
    return stays.loc[:, list(STAY_COLUMNS)]
