"""The transitions table: one row per stay of a lead in a stage.

This module defines the table every funnel metric starts from, checks and normalises it
(:func:`validate_transitions`), builds it from plain records (:func:`transitions_from_records`, the hand-over
format of the Odoo addon) and reads/writes it as CSV or Parquet (:func:`load_transitions`,
:func:`save_transitions`).

Columns (see :data:`TRANSITION_COLUMNS`):

============== ============================ ===========================================================
column         dtype after validation       meaning
============== ============================ ===========================================================
lead_id        int64                        the lead
stage          string                       stage name
stage_sequence int64                        stage order in the pipeline (higher = later)
entered_at     datetime64[ns, UTC]          start of the stay
left_at        datetime64[ns, UTC]          end of the stay, NaT while the lead is still in the stage
user           string (NA allowed)          salesperson during the stay
team           string (NA allowed)          sales team during the stay
product        string (NA allowed)          product / category of the lead
source         string (NA allowed)          lead source
outcome        string                       final outcome of the lead: ``won``, ``lost`` or ``open``
lost_reason    string (NA allowed)          lost reason of a lost lead
============== ============================ ===========================================================
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from activity_centric.instants import csv_line

TRANSITION_COLUMNS: tuple[str, ...] = (
    "lead_id",
    "stage",
    "stage_sequence",
    "entered_at",
    "left_at",
    "user",
    "team",
    "product",
    "source",
    "outcome",
    "lost_reason",
)
"""Columns of the transitions table, in their normalised order."""

OUTCOMES: tuple[str, ...] = ("won", "lost", "open")
"""Allowed values of the ``outcome`` column."""

_TEXT_COLUMNS: tuple[str, ...] = ("user", "team", "product", "source", "lost_reason")
_TIMESTAMP_DTYPE = "datetime64[ns, UTC]"
_CSV_SUFFIXES: tuple[str, ...] = (".csv", ".csv.gz", ".csv.bz2", ".csv.xz", ".csv.zip")
_PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".pq")
_MAX_LISTED = 10


class TransitionsError(ValueError):
    """The transitions table (or the file holding it) is not usable; the message says what and where."""


# ------------------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------------------


def validate_transitions(df: pd.DataFrame) -> pd.DataFrame:
    """Check a transitions table and return a normalised copy.

    Input: a DataFrame with at least the columns of :data:`TRANSITION_COLUMNS` (extra columns are allowed).

    Output: a new DataFrame (the input is not modified), same index, with

    - columns in :data:`TRANSITION_COLUMNS` order, extra columns kept after them unchanged;
    - ``lead_id`` and ``stage_sequence`` as int64 (integral floats and numeric strings are accepted);
    - ``entered_at`` / ``left_at`` as ``datetime64[ns, UTC]``: ISO 8601 strings, ``datetime`` objects or
      pandas timestamps are accepted, tz-aware values are converted to UTC, naive ones are taken as UTC;
      ``None``/NaN/NaT/empty strings in ``left_at`` become NaT (stay still open);
    - ``stage``, ``outcome`` and the text columns (``user``, ``team``, ``product``, ``source``,
      ``lost_reason``) as pandas ``string`` dtype; ``None``/NaN and empty or blank strings become ``<NA>``.

    An empty frame with the right columns is valid and comes back empty with the types above.

    Raises:
        TransitionsError: with a message naming the problem: a missing column; a missing or non-integer
            ``lead_id``/``stage_sequence`` (row index); a missing ``stage``; an unparseable timestamp (column,
            first bad row index and value); a missing ``entered_at``; an ``outcome`` outside
            ``won``/``lost``/``open`` (the value); ``left_at`` before ``entered_at`` (the lead ids); a lead
            whose rows disagree on its outcome (the lead ids).
    """
    return _validate(df, _index_row)


def _validate(df: pd.DataFrame, where: _Where) -> pd.DataFrame:
    """:func:`validate_transitions`, naming a bad row with ``where`` (its index label, or a file's line)."""
    if not isinstance(df, pd.DataFrame):
        raise TransitionsError(f"transitions must be a pandas DataFrame, got {type(df).__name__}")
    duplicated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
    if duplicated:
        raise TransitionsError(f"transitions table has duplicate column(s): {', '.join(duplicated)}")
    missing = [c for c in TRANSITION_COLUMNS if c not in df.columns]
    if missing:
        raise TransitionsError(
            f"transitions table is missing column(s): {', '.join(missing)} "
            f"(expected columns: {', '.join(TRANSITION_COLUMNS)})"
        )
    extra = [c for c in df.columns if c not in TRANSITION_COLUMNS]
    out = df.loc[:, [*TRANSITION_COLUMNS, *extra]].copy()

    out["lead_id"] = _integer_column(out["lead_id"], "lead_id", None, where)
    lead_ids = out["lead_id"]
    out["stage"] = _text_column(out["stage"])
    _refuse_missing(out["stage"], "stage", lead_ids, where)
    out["stage_sequence"] = _integer_column(out["stage_sequence"], "stage_sequence", lead_ids, where)
    out["entered_at"] = _timestamp_column(out["entered_at"], "entered_at", where)
    _refuse_missing(out["entered_at"], "entered_at", lead_ids, where)
    out["left_at"] = _timestamp_column(out["left_at"], "left_at", where)
    for column in _TEXT_COLUMNS:
        out[column] = _text_column(out[column])
    out["outcome"] = _text_column(out["outcome"])
    _check_outcome(out["outcome"], lead_ids, where)
    _check_order(out)
    _check_outcome_per_lead(out)
    return out


def _first_position(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy(dtype=bool))[0])


def _blank(s: pd.Series) -> pd.Series:
    """True where a value is missing: None, NaN, NaT, pd.NA or an empty / whitespace-only string."""
    if not (pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype)):
        return pd.Series(np.array(s.isna(), dtype=bool), index=s.index)
    # Text columns repeat a few values many times: look at each distinct value once.
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    blank_value = np.fromiter(
        (isinstance(value, str) and not value.strip() for value in uniques), dtype=bool, count=len(uniques)
    )
    return pd.Series(np.append(blank_value, True)[codes], index=s.index)  # code -1 (NA) -> the last, True


def _index_row(s: pd.Series, position: int) -> str:
    """A row of a DataFrame by its index label, as the user would write it (``row 3``, ``row 'a'``)."""
    label = s.index[position]
    return f"row {label.item() if isinstance(label, np.generic) else label!r}"


def _file_line(_s: pd.Series, position: int) -> str:
    """A row of a CSV file by its line (:func:`activity_centric.instants.csv_line`: header = line 1)."""
    return csv_line(position)


_Where = Callable[[pd.Series, int], str]


def _row_hint(position: int, s: pd.Series, lead_ids: pd.Series | None, where: _Where) -> str:
    if lead_ids is None:
        return where(s, position)
    return f"{where(s, position)}, lead_id {lead_ids.iloc[position]}"


def _refuse_missing(s: pd.Series, name: str, lead_ids: pd.Series | None, where: _Where) -> None:
    missing = _blank(s)
    if missing.any():
        position = _first_position(missing)
        raise TransitionsError(
            f"{name} missing on {int(missing.sum())} row(s), first at "
            f"{_row_hint(position, s, lead_ids, where)}; every stay needs a {name}"
        )


def _integer_column(s: pd.Series, name: str, lead_ids: pd.Series | None, where: _Where) -> pd.Series:
    _refuse_missing(s, name, lead_ids, where)
    if pd.api.types.is_bool_dtype(s.dtype):
        raise TransitionsError(f"{name} must hold integers, got booleans")
    numbers = pd.to_numeric(s, errors="coerce")
    values = numbers.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise TransitionsError(
            f"{name} must be an integer: cannot read {s.iloc[position]!r} "
            f"({_row_hint(position, s, lead_ids, where)})"
        )
    if pd.api.types.is_integer_dtype(numbers.dtype):
        return numbers.astype("int64")
    return pd.Series(np.round(values).astype("int64"), index=s.index, name=s.name)


def _text_column(s: pd.Series) -> pd.Series:
    """``s`` as pandas ``string`` dtype, blanks as ``<NA>``; each distinct value is converted once."""
    if s.dtype == pd.StringDtype() and s.isna().all():  # a column nobody filled: nothing to convert
        return s
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = pd.Series(np.asarray(uniques, dtype=object), dtype=object).astype("string")
    keep = np.append(~_blank(labels).to_numpy(), False)  # code -1 (NA) -> the last, False
    codes = np.where(keep[codes], codes, -1)
    return pd.Series(labels.array.take(codes, allow_fill=True), index=s.index, name=s.name)


def _timestamp_column(s: pd.Series, name: str, where: _Where) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        parsed = s.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        parsed = s.dt.tz_localize("UTC")
    else:
        blank = _blank(s)
        values = s.astype(object).mask(blank)
        try:
            parsed = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
        except (TypeError, ValueError, OverflowError) as exc:  # e.g. objects pandas refuses outright
            raise TransitionsError(f"{name}: cannot read the column as timestamps ({exc})") from exc
        bad = parsed.isna() & ~blank
        if bad.any():
            position = _first_position(bad)
            raise TransitionsError(
                f"{name}: cannot parse {s.iloc[position]!r} as an ISO 8601 timestamp "
                f"({where(s, position)}; {int(bad.sum())} bad value(s) in the column)"
            )
    try:
        return parsed.astype(_TIMESTAMP_DTYPE)
    except (ValueError, OverflowError) as exc:  # out of the datetime64[ns] range (years 1677-2262)
        raise TransitionsError(f"{name}: timestamp out of the supported range ({exc})") from exc


def _listing(values: Iterable[Any]) -> str:
    items = list(values)
    shown = ", ".join(str(v) for v in items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        shown += f" and {len(items) - _MAX_LISTED} more"
    return shown


def _check_outcome(outcome: pd.Series, lead_ids: pd.Series, where: _Where) -> None:
    _refuse_missing(outcome, "outcome", lead_ids, where)
    bad = ~outcome.isin(OUTCOMES).to_numpy(dtype=bool)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        wrong = pd.unique(outcome[bad].to_numpy(dtype=object))
        raise TransitionsError(
            f"outcome {outcome.iloc[position]!r} is not one of {', '.join(OUTCOMES)} "
            f"({_row_hint(position, outcome, lead_ids, where)}; "
            f"bad value(s): {_listing(repr(v) for v in wrong)})"
        )


def _check_order(out: pd.DataFrame) -> None:
    backwards = (out["left_at"] < out["entered_at"]).fillna(False).to_numpy(dtype=bool)
    if backwards.any():
        leads = np.unique(out["lead_id"].to_numpy()[backwards])
        raise TransitionsError(f"left_at is before entered_at for lead_id {_listing(leads)}")


def _check_outcome_per_lead(out: pd.DataFrame) -> None:
    codes, _outcomes = pd.factorize(out["outcome"])
    lead, ids = pd.factorize(out["lead_id"], sort=True)
    low = np.full(len(ids), len(OUTCOMES), dtype="int64")
    high = np.full(len(ids), -1, dtype="int64")
    np.minimum.at(low, lead, codes)
    np.maximum.at(high, lead, codes)
    mixed = np.asarray(ids)[low != high]
    if len(mixed):
        raise TransitionsError(
            f"lead_id {_listing(mixed)}: rows disagree on the outcome; outcome is the lead's final outcome "
            "and must be the same on every row of a lead"
        )


# ------------------------------------------------------------------------------------------------------
# construction, files
# ------------------------------------------------------------------------------------------------------


def transitions_from_records(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build and validate a transitions table from plain records.

    Input: an iterable of mappings, each with the keys of :data:`TRANSITION_COLUMNS` (extra keys become
    extra columns). This is how the Odoo addon hands over its history rows: ``datetime`` values, naive
    (taken as UTC), ``left_at`` ``None`` while the stay is open, ``None`` for empty text.

    Output: the validated table (see :func:`validate_transitions`), index 0..n-1. An empty iterable gives an
    empty table with the normalised dtypes.

    Raises:
        TransitionsError: a record is not a mapping, or the resulting table is invalid.
    """
    rows = list(records)
    not_mappings = [i for i, row in enumerate(rows) if not isinstance(row, Mapping)]
    if not_mappings:
        raise TransitionsError(
            f"record {not_mappings[0]} is a {type(rows[not_mappings[0]]).__name__}, expected a mapping "
            "(dict) with the transitions columns as keys"
        )
    if rows:
        frame = pd.DataFrame.from_records([dict(row) for row in rows])
    else:
        frame = pd.DataFrame({column: pd.Series(dtype=object) for column in TRANSITION_COLUMNS})
    return validate_transitions(frame)


def file_format(path: str | os.PathLike[str]) -> str:
    """The format of a transitions file, ``"csv"`` or ``"parquet"`` (by the suffix of ``path``), once it is
    known that this installation can read and write it: commands call it before a long extraction, so that
    ``-o table.parquet`` without ``pyarrow`` is refused before anything is read.

    Raises:
        TransitionsError: an unknown suffix (the message lists the known ones), or Parquet without
            ``pyarrow`` installed (the message says to ``pip install pyarrow`` or use a .csv file).
    """
    name = Path(path).name.lower()
    if name.endswith(_CSV_SUFFIXES):
        return "csv"
    if not name.endswith(_PARQUET_SUFFIXES):
        raise TransitionsError(
            f"cannot tell the file format of {os.fspath(path)!r}: use a name ending in "
            f"{', '.join(_CSV_SUFFIXES + _PARQUET_SUFFIXES)}"
        )
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise TransitionsError(
            "reading or writing Parquet needs the pyarrow package, which is not installed: "
            "pip install pyarrow (or use a .csv file)"
        ) from exc
    return "parquet"


def load_transitions(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a transitions table from a CSV or Parquet file and validate it.

    Input: a path ending in ``.csv`` (a header row naming the columns; compressed ``.csv.gz``, ``.csv.bz2``,
    ``.csv.xz``, ``.csv.zip`` also work) or ``.parquet``/``.pq`` (needs ``pyarrow``). In CSV, timestamps are
    ISO 8601 (``Z``/offset or naive = UTC) and an empty field is a missing value (``left_at`` empty = stay
    still open); all other text is taken literally (``NA`` stays the text ``"NA"``).

    Output: the validated table (see :func:`validate_transitions`), index 0..n-1. Extra columns of a CSV file
    come back as text.

    Raises:
        TransitionsError: unknown suffix, Parquet without ``pyarrow`` installed (says to ``pip install
            pyarrow``), an empty CSV file without header, or an invalid table.
        FileNotFoundError: the file does not exist.
    """
    frame = read_table(path, "a transitions CSV", TransitionsError)
    if file_format(path) == "parquet":
        return validate_transitions(frame)
    return _validate(frame, _file_line)


def read_table(path: str | os.PathLike[str], what: str, error: type[Exception]) -> pd.DataFrame:
    """A CSV or Parquet file as a raw frame, by its suffix (see :func:`file_format`), for a table's loader
    to validate: every CSV cell as text, an empty field a missing value, all other text literal (``NA``
    stays ``"NA"``).

    :param what: the file in the empty file's message, e.g. ``"an activities CSV"``
    :param error: the loader's error class, raised for an empty CSV file
    Raises:
        TransitionsError: unknown suffix, Parquet without ``pyarrow`` installed.
        error: an empty CSV file (no header row).
        FileNotFoundError: the file does not exist.
    """
    if file_format(path) == "parquet":
        return pd.read_parquet(path, engine="pyarrow")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as exc:
        raise error(f"{os.fspath(path)!r} is empty: {what} needs at least its header row") from exc


def save_transitions(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Validate a transitions table and write it to CSV or Parquet (chosen by the suffix of ``path``).

    CSV: a header row, no index; timestamps as ISO 8601 UTC with a ``Z`` suffix (fractional seconds written
    only to the precision the column needs, down to nanoseconds); an empty field for NA values and for
    ``left_at`` of open stays. Parquet (needs ``pyarrow``): the normalised dtypes are stored as they are.

    :func:`load_transitions` reads either back to a frame equal to ``validate_transitions(df)`` with a
    0..n-1 index (lossless for the transitions columns; extra columns of a CSV come back as text).

    Raises:
        TransitionsError: unknown suffix, Parquet without ``pyarrow``, or an invalid table.
    """
    kind = file_format(path)
    table = validate_transitions(df).reset_index(drop=True)
    if kind == "parquet":
        table.to_parquet(path, engine="pyarrow", index=False)
        return
    text = table.copy()
    for column in ("entered_at", "left_at"):
        text[column] = _iso_utc_strings(table[column])
    _write_csv(text, path)


#: rows of a CSV joined at a time (memory stays flat whatever the table)
_CSV_CHUNK = 65536
#: what makes a CSV field need quotes (Python's csv module, QUOTE_MINIMAL, as pandas writes)
_NEEDS_QUOTES = r'[",\r\n]'


def _write_csv(text: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write ``text`` as pandas' ``to_csv(index=False, na_rep="", lineterminator="\\n")`` does, byte for
    byte (a field quoted only where it holds a quote, a comma or a line break, quotes doubled, NA empty):
    each line joined by Arrow, twenty times faster on a large export, when every column is integers,
    floats or text and the file is not compressed; else by pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def quoted(values: pa.Array) -> pa.Array:
        needs = pc.match_substring_regex(values, _NEEDS_QUOTES)
        if not pc.any(needs).as_py():
            return values
        wrapped = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
        return pc.if_else(needs, wrapped, values)

    fields = []
    if Path(path).suffix.lower() != ".csv":  # compressed (.csv.gz...): pandas' writer compresses
        text.to_csv(path, index=False, na_rep="", lineterminator="\n")
        return
    for _name, series in text.items():
        if pd.api.types.is_integer_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            fields.append(pc.cast(pa.array(series, from_pandas=True), pa.string()))
            continue
        if series.dtype == np.float64:  # as pandas writes them: numpy's shortest text, NaN empty
            values = series.to_numpy()
            fields.append(pa.array(values.astype(str), mask=np.isnan(values), type=pa.string()))
            continue
        if not pd.api.types.is_string_dtype(series.dtype):
            break
        try:
            fields.append(quoted(pa.array(series, type=pa.string(), from_pandas=True)))
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # objects that are not all text
            break
    else:
        if fields:
            header = ",".join(quoted(pa.array([str(name) for name in text.columns])).to_pylist())
            with open(path, "wb") as handle:
                handle.write((header + "\n").encode())
                for start in range(0, len(text), _CSV_CHUNK):
                    chunk = [field.slice(start, _CSV_CHUNK) for field in fields]
                    lines = pc.binary_join_element_wise(
                        *chunk, ",", null_handling="replace", null_replacement=""
                    )
                    # each line and its end: the array's bytes are the file's, written as they are
                    lines = pc.binary_join_element_wise(lines, "", "\n")
                    if isinstance(lines, pa.ChunkedArray):
                        lines = lines.combine_chunks()
                    first = int(np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset])
                    size = pc.sum(pc.binary_length(lines)).as_py() or 0
                    handle.write(memoryview(lines.buffers()[2])[first : first + size])
            return
    text.to_csv(path, index=False, na_rep="", lineterminator="\n")


def _iso_utc_strings(timestamps: pd.Series) -> pd.Series:
    """Format tz-aware timestamps as ISO 8601 UTC strings (``2024-05-01T08:30:00Z``); NaT -> ``""``.

    The fractional part has one precision for the whole column: none, milliseconds, microseconds or
    nanoseconds, the smallest that represents every value exactly.
    """
    values = timestamps.astype(_TIMESTAMP_DTYPE).dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(values)
    nanos = values.view("int64")[~missing] % 1_000_000_000
    if not nanos.any():
        unit = "s"
    elif not (nanos % 1_000_000).any():
        unit = "ms"
    elif not (nanos % 1_000).any():
        unit = "us"
    else:
        unit = "ns"
    text = np.datetime_as_string(values.astype(f"datetime64[{unit}]"), unit=unit, timezone="UTC")
    return pd.Series(text, index=timestamps.index, dtype=object).where(~missing, "")
