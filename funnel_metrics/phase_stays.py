"""The demand waterfall's two tables: a lead's stays in lifecycle phases, and the handoffs between groups.

**Phase stays** (:data:`PHASE_STAY_COLUMNS`), one row per stay of a lead in a lifecycle phase (Inquiry,
Marketing Qualified, Sales Accepted...), as the Odoo addon ``crm_lead_handoff`` records them:

============== ======================= ==================================================================
column         dtype after validation  meaning
============== ======================= ==================================================================
lead_id        int64                   the lead
phase          string                  phase name
phase_sequence int64                   the phase's order in the waterfall (higher = later)
phase_kind     string                  one of :data:`PHASE_KINDS`: ``progress`` (a step of the waterfall)
                                       or an outcome: ``won``, ``lost``, ``recycled`` (returned to
                                       marketing), ``disqualified``
entered_at     datetime64[ns, UTC]     start of the stay
left_at        datetime64[ns, UTC]     end of the stay, NaT while the lead is still in the phase
team, user,    string (NA allowed)     the lead's team, salesperson, source, medium, campaign, country
source, medium,                        during the stay
campaign,
country
origin         string (NA allowed)     what opened the stay (``create``, ``handoff``, ``accept``...)
============== ======================= ==================================================================

**Handoffs** (:data:`HANDOFF_COLUMNS`), one row per handoff of a lead from one group to another:
``handoff_id``, ``lead_id`` (int64), ``route``, ``from_team``, ``to`` (the receiving team or partner),
``phase`` (the phase the lead was handed over from), ``sent_at``, ``decided_at`` (NaT while awaiting),
``state`` (one of :data:`HANDOFF_STATES`), ``auto_accepted`` (bool), ``reason`` (the rejection reason), and
the lead's ``team``, ``source``, ``medium``, ``campaign``, ``country`` for grouping. ``returned``: nobody
acted before the acceptance deadline and the lead went back to the sender; ``cancelled``: the lead was
closed or handed elsewhere before a decision.

Both read and write as CSV (header row, ISO 8601 UTC, an empty field for a missing value) or Parquet.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from funnel_metrics.transitions import (
    TransitionsError,
    _blank,
    _file_line,
    _index_row,
    _integer_column,
    _iso_utc_strings,
    _listing,
    _refuse_missing,
    _text_column,
    _timestamp_column,
    _Where,
    _write_csv,
    file_format,
    read_table,
)

PHASE_KINDS: tuple[str, ...] = ("progress", "won", "lost", "recycled", "disqualified")
"""Kinds of lifecycle phase: a step of the waterfall, or one of its outcomes."""

DEFAULT_PHASES: tuple[tuple[str, str, int, str], ...] = (
    ("inquiry", "Inquiry", 10, "progress"),
    ("mql", "Marketing Qualified", 20, "progress"),
    ("sal", "Sales Accepted", 30, "progress"),
    ("sql", "Sales Qualified", 40, "progress"),
    ("opportunity", "Opportunity", 50, "progress"),
    ("won", "Won", 60, "won"),
    ("lost", "Lost", 70, "lost"),
    ("recycled", "Recycled", 80, "recycled"),
    ("disqualified", "Disqualified", 90, "disqualified"),
)
"""The demand waterfall's phases as ``(code, name, sequence, kind)``: the Odoo addon's seed and the demo's."""

PHASE_STAY_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "phase",
    "phase_sequence",
    "phase_kind",
    "entered_at",
    "left_at",
    "team",
    "user",
    "source",
    "medium",
    "campaign",
    "country",
    "origin",
)
"""Columns of the phase stays table, in their normalised order."""

HANDOFF_STATES: tuple[str, ...] = ("awaiting", "accepted", "rejected", "returned", "cancelled")
"""States of a handoff. Decided: ``accepted`` (auto-accepted included), ``rejected``, ``returned``."""

HANDOFF_COLUMNS: tuple[str, ...] = (
    "handoff_id",
    "lead_id",
    "route",
    "from_team",
    "to",
    "phase",
    "sent_at",
    "decided_at",
    "state",
    "auto_accepted",
    "reason",
    "team",
    "source",
    "medium",
    "campaign",
    "country",
)
"""Columns of the handoffs table, in their normalised order."""

DECIDED_STATES: tuple[str, ...] = ("accepted", "rejected", "returned")
"""The states a handoff's acceptance rate counts: accepted / (accepted + rejected + returned)."""

_STAY_TEXT: tuple[str, ...] = ("team", "user", "source", "medium", "campaign", "country", "origin")
_HANDOFF_TEXT: tuple[str, ...] = (
    "route",
    "from_team",
    "to",
    "reason",
    "team",
    "source",
    "medium",
    "campaign",
    "country",
)
_TRUE_TEXT = frozenset({"true", "t", "yes", "y", "1"})
_FALSE_TEXT = frozenset({"false", "f", "no", "n", "0"})
_UTC_NS = "datetime64[ns, UTC]"


class PhaseStaysError(TransitionsError):
    """The phase stays or handoffs table (or the file holding it) is not usable; the message says what."""


def _as_phase_error(what: str, check: Callable[[], Any]) -> Any:
    """Run a check of :mod:`funnel_metrics.transitions` and raise its complaint as a :class:`PhaseStaysError`
    about ``what`` (``"phase stays"``, ``"handoffs"``)."""
    try:
        return check()
    except PhaseStaysError:
        raise
    except TransitionsError as exc:
        raise PhaseStaysError(f"{what}: {exc}") from None


def _columns(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise PhaseStaysError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise PhaseStaysError(f"{what} table has duplicate column(s): {', '.join(duplicated)}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PhaseStaysError(
            f"{what} table is missing column(s): {', '.join(missing)} "
            f"(expected columns: {', '.join(columns)})"
        )
    extra = [c for c in df.columns if c not in columns]
    return df.loc[:, [*columns, *extra]].copy()


def _check_choice(values: pd.Series, name: str, allowed: tuple[str, ...], what: str, where: _Where) -> None:
    _as_phase_error(what, lambda: _refuse_missing(values, name, None, where))
    bad = ~values.isin(allowed).to_numpy(dtype=bool)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        wrong = pd.unique(values[bad].to_numpy(dtype=object))
        raise PhaseStaysError(
            f"{what}: {name} {values.iloc[position]!r} is not one of {', '.join(allowed)} "
            f"({where(values, position)}; bad value(s): {_listing(repr(v) for v in wrong)})"
        )


def _check_order(start: pd.Series, end: pd.Series, names: tuple[str, str], ids: pd.Series, what: str) -> None:
    backwards = (end < start).fillna(False).to_numpy(dtype=bool)
    if backwards.any():
        wrong = np.unique(ids.to_numpy()[backwards])
        raise PhaseStaysError(f"{what}: {names[1]} is before {names[0]} for {ids.name} {_listing(wrong)}")


# ------------------------------------------------------------------------------------------------------
# phase stays
# ------------------------------------------------------------------------------------------------------


def validate_phase_stays(df: pd.DataFrame) -> pd.DataFrame:
    """Check a phase stays table and return a normalised copy (same index).

    Input: a DataFrame with at least :data:`PHASE_STAY_COLUMNS` (extra columns are kept after them).

    Output: ``lead_id``, ``phase_sequence`` int64; ``entered_at``, ``left_at`` ``datetime64[ns, UTC]`` (ISO
    8601 text, datetimes; naive = UTC; empty ``left_at`` = the stay is still open); ``phase``,
    ``phase_kind`` and the text columns as pandas ``string``, blanks as ``<NA>``.

    Raises:
        PhaseStaysError: naming the column and the row: a missing column, a missing or non-integer
            ``lead_id``/``phase_sequence``, a missing ``phase`` or ``entered_at``, an unreadable timestamp,
            a ``phase_kind`` outside :data:`PHASE_KINDS`, ``left_at`` before ``entered_at`` (lead ids), a
            phase given two sequences or two kinds (the phase).
    """
    return _validate_stays(df, _index_row)


def _validate_stays(df: pd.DataFrame, where: _Where) -> pd.DataFrame:
    what = "phase stays"
    out = _columns(df, PHASE_STAY_COLUMNS, what)
    out["lead_id"] = _as_phase_error(what, lambda: _integer_column(out["lead_id"], "lead_id", None, where))
    leads = out["lead_id"]
    out["phase"] = _text_column(out["phase"])
    _as_phase_error(what, lambda: _refuse_missing(out["phase"], "phase", leads, where))
    out["phase_sequence"] = _as_phase_error(
        what, lambda: _integer_column(out["phase_sequence"], "phase_sequence", leads, where)
    )
    out["phase_kind"] = _text_column(out["phase_kind"])
    _check_choice(out["phase_kind"], "phase_kind", PHASE_KINDS, what, where)
    for column in ("entered_at", "left_at"):
        out[column] = _as_phase_error(what, lambda c=column: _timestamp_column(out[c], c, where))
    _as_phase_error(what, lambda: _refuse_missing(out["entered_at"], "entered_at", leads, where))
    for column in _STAY_TEXT:
        out[column] = _text_column(out[column])
    _check_order(out["entered_at"], out["left_at"], ("entered_at", "left_at"), leads, what)
    phase_table(out)
    return out


def phase_table(stays: pd.DataFrame) -> pd.DataFrame:
    """The phases of a (normalised) phase stays table in waterfall order: columns ``phase`` (string),
    ``phase_sequence`` (int64), ``phase_kind`` (string), one row per phase, sorted by sequence then name,
    index 0..n-1; ``attrs["codes"]``: each stay's position in it (int64 array).

    Raises:
        PhaseStaysError: a phase name given two sequences or two kinds.
    """
    names, labels = pd.factorize(stays["phase"])
    kinds = codes_among(stays["phase_kind"], PHASE_KINDS)
    sequence = stays["phase_sequence"].to_numpy(dtype="int64")
    n = len(labels)
    key = (np.asarray(names, dtype="int64") * len(PHASE_KINDS) + kinds) if len(stays) else names
    pairs = np.unique(key) if len(stays) else np.empty(0, dtype="int64")
    if len(pairs) != n:
        twice = np.flatnonzero(np.bincount(pairs // len(PHASE_KINDS), minlength=n) > 1)
        raise PhaseStaysError(
            f"phase stays: phase {_listing(repr(str(labels[i])) for i in twice)} has more than one "
            "phase_kind; a phase is of one kind"
        )
    low = np.full(n, np.iinfo(np.int64).max)
    high = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(low, names, sequence)
    np.maximum.at(high, names, sequence)
    if (low != high).any():
        twice = np.flatnonzero(low != high)
        raise PhaseStaysError(
            f"phase stays: phase {_listing(repr(str(labels[i])) for i in twice)} has more than one "
            "phase_sequence; a phase has one place in the waterfall"
        )
    kind_of = np.zeros(n, dtype="int64")
    kind_of[pairs // len(PHASE_KINDS)] = pairs % len(PHASE_KINDS)
    order = sorted(range(n), key=lambda i: (int(low[i]), str(labels[i])))
    rank = np.empty(n, dtype="int64")
    rank[order] = np.arange(n)
    table = pd.DataFrame(
        {
            "phase": pd.array([str(labels[i]) for i in order], dtype="string"),
            "phase_sequence": np.asarray([low[i] for i in order], dtype="int64"),
            "phase_kind": pd.array([PHASE_KINDS[kind_of[i]] for i in order], dtype="string"),
        }
    )
    table.attrs["codes"] = rank[np.asarray(names, dtype="int64")] if len(stays) else np.empty(0, "int64")
    return table


def codes_among(values: pd.Series, choices: tuple[str, ...]) -> np.ndarray:
    """Each value's position in ``choices`` (int64; -1 for a value not among them, or NA), each distinct
    value looked up once."""
    codes, uniques = pd.factorize(values)
    lookup = np.array([choices.index(v) if v in choices else -1 for v in uniques] + [-1], dtype="int64")
    return lookup[codes]


def _normal_text(values: pd.Series, required: bool) -> bool:
    """True when a text column is already as validation leaves it (each distinct value looked at once)."""
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype != pd.StringDtype():
        return False
    distinct = values.unique()
    missing = pd.isna(distinct)
    if required and missing.any():
        return False
    return all(value.strip() for value in distinct[~missing])


def _normal_times(df: pd.DataFrame, start: str, end: str) -> bool:
    if str(df[start].dtype) != _UTC_NS or str(df[end].dtype) != _UTC_NS:
        return False
    entered = df[start].to_numpy(dtype="datetime64[ns]").view("int64")
    left = df[end].to_numpy(dtype="datetime64[ns]").view("int64")
    nat = np.iinfo(np.int64).min
    return not ((entered == nat).any() or ((left != nat) & (left < entered)).any())


def phase_stays_table(stays: pd.DataFrame) -> pd.DataFrame:
    """The phase stays as :func:`validate_phase_stays` returns them: a table already in that form (its output,
    :func:`load_phase_stays`', :func:`funnel_metrics.simulate_waterfall`') is recognised by cheap checks and
    used as it is, not copied (the metrics never modify it); anything else is validated."""
    if (
        isinstance(stays, pd.DataFrame)
        and not stays.columns.has_duplicates
        and [str(c) for c in stays.columns[: len(PHASE_STAY_COLUMNS)]] == list(PHASE_STAY_COLUMNS)
        and all(stays[c].dtype == np.dtype("int64") for c in ("lead_id", "phase_sequence"))
        and _normal_times(stays, "entered_at", "left_at")
        and _normal_text(stays["phase"], required=True)
        and _normal_text(stays["phase_kind"], required=True)
        and set(stays["phase_kind"].unique()) <= set(PHASE_KINDS)
        and all(_normal_text(stays[c], required=False) for c in _STAY_TEXT)
    ):
        return stays
    return validate_phase_stays(stays)


def load_phase_stays(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a phase stays table from CSV (``.csv``, ``.csv.gz``...) or Parquet and validate it; a bad value
    is named by the file's line.

    Raises:
        PhaseStaysError: an empty file or an invalid table. TransitionsError: an unknown suffix, Parquet
            without ``pyarrow``. FileNotFoundError: no such file.
    """
    frame = read_table(path, "a phase stays CSV", PhaseStaysError)
    if file_format(path) == "parquet":
        return validate_phase_stays(frame)
    return _validate_stays(frame, _file_line)


def save_phase_stays(stays: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Validate a phase stays table and write it to CSV (ISO 8601 UTC, ``Z``; empty fields for missing
    values) or Parquet, by the suffix of ``path``; :func:`load_phase_stays` reads it back.

    Raises:
        PhaseStaysError: an invalid table. TransitionsError: an unknown suffix, Parquet without ``pyarrow``.
    """
    kind = file_format(path)
    table = validate_phase_stays(stays).reset_index(drop=True)
    if kind == "parquet":
        table.to_parquet(path, engine="pyarrow", index=False)
        return
    text = table.copy()
    for column in ("entered_at", "left_at"):
        text[column] = _iso_utc_strings(table[column])
    _write_csv(text, path)


# ------------------------------------------------------------------------------------------------------
# handoffs
# ------------------------------------------------------------------------------------------------------


def _bool_column(values: pd.Series, name: str, where: _Where) -> pd.Series:
    """True/False, 1/0, yes/no (any case) or a bool dtype; empty = False."""
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return values.astype(bool)
    blank = _blank(values)
    text = values.astype(object).where(~blank, "false").map(lambda v: str(v).strip().lower())
    true, false = text.isin(_TRUE_TEXT), text.isin(_FALSE_TEXT)
    bad = ~(true | false).to_numpy(dtype=bool)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise PhaseStaysError(
            f"handoffs: {name} must be true or false, cannot read {values.iloc[position]!r} "
            f"({where(values, position)})"
        )
    return pd.Series(true.to_numpy(dtype=bool), index=values.index, name=values.name)


def validate_handoffs(df: pd.DataFrame) -> pd.DataFrame:
    """Check a handoffs table and return a normalised copy (same index).

    Input: a DataFrame with at least :data:`HANDOFF_COLUMNS` (extra columns are kept after them).

    Output: ``handoff_id``, ``lead_id`` int64; ``sent_at``, ``decided_at`` ``datetime64[ns, UTC]`` (empty
    ``decided_at`` = not decided); ``auto_accepted`` bool (true/false, 1/0, yes/no; empty = false); ``phase``,
    ``state`` and the text columns as pandas ``string``, blanks as ``<NA>``.

    Raises:
        PhaseStaysError: naming the column and the row: a missing column, a missing or non-integer id, a
            missing ``phase`` or ``sent_at``, an unreadable timestamp or flag, a ``state`` outside
            :data:`HANDOFF_STATES`, a decided handoff (accepted, rejected, returned) without ``decided_at``,
            an awaiting one with it, an auto-accepted one that is not accepted, ``decided_at`` before
            ``sent_at`` (handoff ids).
    """
    return _validate_handoffs(df, _index_row)


def _validate_handoffs(df: pd.DataFrame, where: _Where) -> pd.DataFrame:
    what = "handoffs"
    out = _columns(df, HANDOFF_COLUMNS, what)
    for column in ("handoff_id", "lead_id"):
        out[column] = _as_phase_error(what, lambda c=column: _integer_column(out[c], c, None, where))
    out["phase"] = _text_column(out["phase"])
    _as_phase_error(what, lambda: _refuse_missing(out["phase"], "phase", out["lead_id"], where))
    for column in ("sent_at", "decided_at"):
        out[column] = _as_phase_error(what, lambda c=column: _timestamp_column(out[c], c, where))
    _as_phase_error(what, lambda: _refuse_missing(out["sent_at"], "sent_at", out["lead_id"], where))
    out["state"] = _text_column(out["state"])
    _check_choice(out["state"], "state", HANDOFF_STATES, what, where)
    out["auto_accepted"] = _bool_column(out["auto_accepted"], "auto_accepted", where)
    for column in _HANDOFF_TEXT:
        out[column] = _text_column(out[column])
    _check_handoff_states(out, where)
    _check_order(out["sent_at"], out["decided_at"], ("sent_at", "decided_at"), out["handoff_id"], what)
    return out


def _check_handoff_states(out: pd.DataFrame, where: _Where) -> None:
    state = out["state"]
    decided = state.isin(DECIDED_STATES).to_numpy(dtype=bool)
    has_date = out["decided_at"].notna().to_numpy(dtype=bool)
    problems = (
        (decided & ~has_date, "is decided ({state}) but has no decided_at: give the time of the decision"),
        ((state == "awaiting").to_numpy(dtype=bool) & has_date, "awaits a decision but has a decided_at"),
        (
            out["auto_accepted"].to_numpy(dtype=bool) & (state != "accepted").to_numpy(dtype=bool),
            "is auto_accepted but its state is {state}: only an accepted handoff is auto-accepted",
        ),
    )
    for bad, text in problems:
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            raise PhaseStaysError(
                f"handoffs: handoff {out['handoff_id'].iloc[position]} "
                f"{text.format(state=state.iloc[position])} ({where(state, position)})"
            )


def handoffs_table(handoffs: pd.DataFrame) -> pd.DataFrame:
    """The handoffs as :func:`validate_handoffs` returns them; a table already in that form is used as it is
    (not copied), anything else is validated."""
    if (
        isinstance(handoffs, pd.DataFrame)
        and not handoffs.columns.has_duplicates
        and [str(c) for c in handoffs.columns[: len(HANDOFF_COLUMNS)]] == list(HANDOFF_COLUMNS)
        and all(handoffs[c].dtype == np.dtype("int64") for c in ("handoff_id", "lead_id"))
        and handoffs["auto_accepted"].dtype == np.dtype(bool)
        and _normal_times(handoffs, "sent_at", "decided_at")
        and _normal_text(handoffs["phase"], required=True)
        and _normal_text(handoffs["state"], required=True)
        and set(handoffs["state"].unique()) <= set(HANDOFF_STATES)
        and all(_normal_text(handoffs[c], required=False) for c in _HANDOFF_TEXT)
    ):
        decided = handoffs["state"].isin(DECIDED_STATES).to_numpy(dtype=bool)
        dated = handoffs["decided_at"].notna().to_numpy(dtype=bool)
        awaiting = (handoffs["state"] == "awaiting").to_numpy(dtype=bool)
        auto = handoffs["auto_accepted"].to_numpy(dtype=bool) & (handoffs["state"] != "accepted").to_numpy()
        if not ((decided & ~dated).any() or (awaiting & dated).any() or auto.any()):
            return handoffs
    return validate_handoffs(handoffs)


def load_handoffs(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a handoffs table from CSV or Parquet and validate it; a bad value is named by the file's line.

    Raises:
        PhaseStaysError: an empty file or an invalid table. TransitionsError: an unknown suffix, Parquet
            without ``pyarrow``. FileNotFoundError: no such file.
    """
    frame = read_table(path, "a handoffs CSV", PhaseStaysError)
    if file_format(path) == "parquet":
        return validate_handoffs(frame)
    return _validate_handoffs(frame, _file_line)


def save_handoffs(handoffs: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Validate a handoffs table and write it to CSV (ISO 8601 UTC, ``auto_accepted`` as ``true``/``false``)
    or Parquet, by the suffix of ``path``; :func:`load_handoffs` reads it back.

    Raises:
        PhaseStaysError: an invalid table. TransitionsError: an unknown suffix, Parquet without ``pyarrow``.
    """
    kind = file_format(path)
    table = validate_handoffs(handoffs).reset_index(drop=True)
    if kind == "parquet":
        table.to_parquet(path, engine="pyarrow", index=False)
        return
    text = table.copy()
    for column in ("sent_at", "decided_at"):
        text[column] = _iso_utc_strings(table[column])
    text["auto_accepted"] = pd.Series(np.where(table["auto_accepted"], "true", "false"), dtype="string")
    _write_csv(text, path)
