"""Which lifecycle phase a lead is in after what happened to it (plain Python, no Odoo).

The demand waterfall (``crm_lead_handoff``) records, per lead, stays in lifecycle phases (Inquiry → Marketing
Qualified → Sales Accepted → Sales Qualified → Opportunity → Won / Lost, plus Recycled and Disqualified).
Handoffs move leads between the demand phases (accepted: the route's next phase; rejected: recycled); what
the CRM itself does to a lead moves it too, and that is decided here, once, for the live recording and for
the rebuild of the phases of existing leads:

- a new lead enters the first progress phase, a new opportunity the opportunity phase;
- a lead converted to an opportunity enters the opportunity phase, unless it is past it already;
- a won lead enters the won phase, a lost one (archived with probability 0) the lost phase;
- a won or lost lead reopened goes back to the last progress phase it was in;
- a lead whose pipeline stage is written to a stage mapped to a phase (``crm.lifecycle.phase``'s "Entered at
  Stages") enters that phase when it is a progress phase later than its own (never backwards, never out of
  won, lost or disqualified; a recycled lead re-enters).

Phases are given as :class:`Phase` values keyed by code; the kinds are ``progress``, ``won``, ``lost``,
``recycled``, ``disqualified``. The functions are pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

OPPORTUNITY = "opportunity"
"""The code of the phase a lead enters when it becomes an opportunity."""


@dataclass(frozen=True)
class Phase:
    """One lifecycle phase: ``code``, ``sequence`` (order of the waterfall), ``kind``."""

    code: str
    sequence: int
    kind: str


@dataclass(frozen=True)
class LeadState:
    """What :func:`phase_after` reads of one lead, after the change.

    - ``phase``: the code of its recorded phase (``None``: none recorded yet, a new lead);
    - ``lead_type``: ``lead`` or ``opportunity``; ``won_status``: ``won``, ``lost`` or ``pending``;
    - ``active``: not archived; ``last_progress``: the code of the last progress phase it stayed in;
    - ``stage_phase``: the code of the phase mapped to the stage it was just put in (``None``: its stage was
      not written, or is mapped to no phase).
    """

    phase: str | None
    lead_type: str
    won_status: str
    active: bool
    last_progress: str | None = None
    stage_phase: str | None = None


def _first_of_kind(phases: Mapping[str, Phase], kind: str) -> str | None:
    found = sorted((phase.sequence, code) for code, phase in phases.items() if phase.kind == kind)
    return found[0][1] if found else None


def _entry(phases: Mapping[str, Phase], lead_type: str) -> str | None:
    """The phase a lead enters when it appears: the opportunity phase for an opportunity, else the first
    progress phase."""
    if lead_type == "opportunity" and OPPORTUNITY in phases:
        return OPPORTUNITY
    return _first_of_kind(phases, "progress")


def _later(phases: Mapping[str, Phase], code: str | None, than: str | None) -> bool:
    """Whether ``code`` is a progress phase later in the waterfall than ``than`` (any, when ``None``)."""
    phase = phases.get(code) if code else None
    if phase is None or phase.kind != "progress":
        return False
    return than is None or phase.sequence > phases[than].sequence


def phase_after(lead: LeadState, phases: Mapping[str, Phase]) -> tuple[str | None, str | None]:
    """``(phase code, origin)``: where ``lead`` belongs after a change, and why (``create``, ``conversion``,
    ``stage``, ``won``, ``lost``, ``restore``); ``(None, None)`` when it stays where it is.

    Won and lost come first (the won or lost phase, unless in it already); an archived lead that is not lost
    stays; a lead without a phase enters the waterfall (:func:`_entry`, or its stage's phase when that is a
    later progress phase: created there, origin ``create``); a won or lost lead that is open again goes back
    to its last progress phase (else where a new lead of its type enters); an opportunity in a progress phase
    before the opportunity phase, or recycled, enters it (``conversion``); a lead put in a stage mapped to a
    progress phase later than its own progress phase, or recycled, enters it (``stage``); when both apply,
    the later phase wins (the conversion on a tie). Phases missing from ``phases`` (archived) are not
    entered.
    """
    current = phases.get(lead.phase) if lead.phase else None
    for status in ("won", "lost"):
        if lead.won_status == status:
            target = _first_of_kind(phases, status)
            if target and (current is None or current.kind != status):
                return target, status
            return None, None
    if not lead.active:
        return None, None
    if lead.phase is None:
        target = _entry(phases, lead.lead_type)
        if _later(phases, lead.stage_phase, target):
            target = lead.stage_phase
        return (target, "create") if target else (None, None)
    if current is not None and current.kind in ("won", "lost"):
        target = lead.last_progress if lead.last_progress in phases else _entry(phases, lead.lead_type)
        return (target, "restore") if target else (None, None)
    if current is None or current.kind not in ("progress", "recycled"):
        return None, None
    moves = []
    opportunity = phases.get(OPPORTUNITY)
    since = lead.phase if current.kind == "progress" else None
    if lead.lead_type == "opportunity" and opportunity is not None and _later(phases, OPPORTUNITY, since):
        moves.append((opportunity.sequence, 1, OPPORTUNITY, "conversion"))
    if _later(phases, lead.stage_phase, since):
        moves.append((phases[lead.stage_phase].sequence, 0, lead.stage_phase, "stage"))
    if not moves:
        return None, None
    _sequence, _tie, target, origin = max(moves)
    return target, origin


def rebuilt_phase_stays(leads: pd.DataFrame, phases: Mapping[str, Phase]) -> pd.DataFrame:
    """The phase stays of existing leads, rebuilt from what the CRM kept: their creation, their conversion to
    an opportunity and their closing, as :func:`phase_after` would have recorded them live.

    ``leads``: one row per lead with ``lead_id``, ``created_at``, ``lead_type``, ``converted_at`` (the
    conversion date, empty when unknown), ``won_status``, ``closed_at`` (when it was won or lost, empty
    while open). Datetimes naive UTC.

    Returns one row per stay, ordered by lead and entry: ``lead_id``, ``phase``, ``previous_phase``
    (``None`` for the first), ``entered_at``, ``left_at`` (``NaT`` for the current stay; a won or lost stay
    ends as it starts, the journey is over), ``origin`` (``create``, ``conversion``, ``won``, ``lost``).
    Stages are not replayed: phases entered at stages (``stage``) are recorded live only. An opportunity
    converted at (or before) its creation, or without a conversion date, starts in the
    opportunity phase.
    """
    columns = ["lead_id", "phase", "previous_phase", "entered_at", "left_at", "origin"]
    if leads.empty:
        return pd.DataFrame(columns=columns)
    first = _entry(phases, "lead")
    has_opportunity = OPPORTUNITY in phases
    created = pd.to_datetime(leads["created_at"])
    converted = pd.to_datetime(leads["converted_at"])
    closed = pd.to_datetime(leads["closed_at"])
    is_opportunity = leads["lead_type"].eq("opportunity").to_numpy()
    converted_later = is_opportunity & converted.notna().to_numpy() & (converted > created).to_numpy()
    starts_as_opportunity = is_opportunity & ~converted_later & has_opportunity
    parts: list[pd.DataFrame] = []
    start_phase = pd.Series(first, index=leads.index, dtype=object).where(~starts_as_opportunity, OPPORTUNITY)
    parts.append(
        pd.DataFrame(
            {
                "lead_id": leads["lead_id"].to_numpy(),
                "phase": start_phase.to_numpy(),
                "entered_at": created.to_numpy(),
                "origin": "create",
                "rank": 0,
            }
        )
    )
    if has_opportunity:
        mask = converted_later
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": leads["lead_id"].to_numpy()[mask],
                    "phase": OPPORTUNITY,
                    "entered_at": converted.to_numpy()[mask],
                    "origin": "conversion",
                    "rank": 1,
                }
            )
        )
    for status in ("won", "lost"):
        target = _first_of_kind(phases, status)
        mask = leads["won_status"].eq(status).to_numpy()
        if target is None or not mask.any():
            continue
        at = closed.where(closed.notna(), converted.where(converted.notna(), created))
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": leads["lead_id"].to_numpy()[mask],
                    "phase": target,
                    "entered_at": at.to_numpy()[mask],
                    "origin": status,
                    "rank": 2,
                }
            )
        )
    stays = pd.concat(parts, ignore_index=True)
    stays = stays[stays["phase"].notna()]
    stays = stays.sort_values(["lead_id", "rank"], kind="stable").reset_index(drop=True)
    # a later event dated before an earlier one (clock skew, imports) is moved to the earlier one's time
    stays["entered_at"] = stays.groupby("lead_id")["entered_at"].cummax()
    same_lead = stays["lead_id"].eq(stays["lead_id"].shift(-1))
    stays["left_at"] = stays["entered_at"].shift(-1).where(same_lead)
    terminal = stays["phase"].map(lambda code: phases[code].kind in ("won", "lost")).astype(bool)
    stays.loc[terminal, "left_at"] = stays.loc[terminal, "entered_at"]
    previous = stays["phase"].shift(1).where(stays["lead_id"].eq(stays["lead_id"].shift(1)))
    stays["previous_phase"] = previous.astype(object).where(previous.notna(), None)
    return stays[columns].reset_index(drop=True)


def as_phases(rows: Any) -> dict[str, Phase]:
    """``{code: Phase}`` from ``(code, sequence, kind)`` rows."""
    return {code: Phase(code, int(sequence), kind) for code, sequence, kind in rows}
