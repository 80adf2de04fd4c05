"""The transitions table: validation, normalisation, records, CSV/Parquet files."""

from __future__ import annotations

import ast
import datetime as dt
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import funnel_metrics
from funnel_metrics import (
    TRANSITION_COLUMNS,
    TransitionsError,
    load_transitions,
    save_transitions,
    transitions,
    transitions_from_records,
    validate_transitions,
)

EXPECTED_DTYPES = {
    "lead_id": "int64",
    "stage": "string",
    "stage_sequence": "int64",
    "entered_at": "datetime64[ns, UTC]",
    "left_at": "datetime64[ns, UTC]",
    "user": "string",
    "team": "string",
    "product": "string",
    "source": "string",
    "outcome": "string",
    "lost_reason": "string",
}


def raw_frame() -> pd.DataFrame:
    """Three valid stays, written the way a CSV or a hand-made frame would give them (all text)."""
    return pd.DataFrame(
        {
            "lead_id": ["7", "7", "42"],
            "stage": ["New", "Qualified", "New"],
            "stage_sequence": ["1", "2", "1"],
            "entered_at": ["2024-03-01T09:00:00Z", "2024-03-04T10:00:00Z", "2024-03-02T08:00:00+02:00"],
            "left_at": ["2024-03-04T10:00:00Z", "", "2024-03-03T00:00:00"],
            "user": ["alice", "alice", ""],
            "team": ["Europe", "Europe", "Americas"],
            "product": ["CRM", "CRM", None],
            "source": ["web", "web", "fair"],
            "outcome": ["open", "open", "lost"],
            "lost_reason": [None, None, "too expensive"],
        }
    )


def assert_dtypes(frame: pd.DataFrame) -> None:
    assert list(frame.columns[: len(TRANSITION_COLUMNS)]) == list(TRANSITION_COLUMNS)
    assert {c: str(frame[c].dtype) for c in TRANSITION_COLUMNS} == EXPECTED_DTYPES


# ------------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------------


def set_cell(column: str, row: int, value: object):
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame

    return mutate


def drop(*columns: str):
    return lambda frame: frame.drop(columns=list(columns))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(drop("outcome"), r"missing column\(s\): outcome", id="missing-column"),
        pytest.param(drop("stage", "left_at"), r"missing column\(s\): stage, left_at", id="missing-columns"),
        pytest.param(
            set_cell("entered_at", 1, "2024-13-45T00:00:00"),
            r"entered_at: cannot parse '2024-13-45T00:00:00' .*row 1\b",
            id="bad-entered-at",
        ),
        pytest.param(
            set_cell("left_at", 2, "yesterday"),
            r"left_at: cannot parse 'yesterday' .*row 2\b",
            id="bad-left-at",
        ),
        pytest.param(
            set_cell("outcome", 1, "Won"), r"outcome 'Won' is not one of won, lost, open", id="outcome"
        ),
        pytest.param(set_cell("outcome", 2, "pending"), r"outcome 'pending'.*lead_id 42", id="outcome-lead"),
        pytest.param(
            set_cell("outcome", 0, None), r"outcome missing .*row 0, lead_id 7", id="outcome-missing"
        ),
        pytest.param(
            set_cell("left_at", 2, "2024-03-01T00:00:00Z"),
            r"left_at is before entered_at for lead_id 42\b",
            id="left-before-entered",
        ),
        pytest.param(set_cell("lead_id", 1, None), r"lead_id missing .*row 1\b", id="lead-id-none"),
        pytest.param(set_cell("lead_id", 2, ""), r"lead_id missing .*row 2\b", id="lead-id-empty"),
        pytest.param(
            set_cell("lead_id", 0, "abc"), r"lead_id must be an integer: .*'abc'", id="lead-id-text"
        ),
        pytest.param(
            set_cell("lead_id", 0, 7.5), r"lead_id must be an integer: .*7\.5", id="lead-id-fraction"
        ),
        pytest.param(
            set_cell("stage_sequence", 1, None), r"stage_sequence missing .*lead_id 7", id="seq-none"
        ),
        pytest.param(set_cell("stage", 2, "  "), r"stage missing .*row 2, lead_id 42", id="stage-blank"),
        pytest.param(
            set_cell("entered_at", 0, None), r"entered_at missing .*row 0, lead_id 7", id="entered-none"
        ),
        pytest.param(
            set_cell("outcome", 1, "won"),
            r"lead_id 7: rows disagree on the outcome",
            id="outcome-inconsistent",
        ),
    ],
)
def test_invalid_table_is_refused_with_a_message_naming_the_problem(mutate, expected):
    frame = mutate(raw_frame())
    with pytest.raises(TransitionsError, match=expected):
        validate_transitions(frame)


def test_error_is_a_value_error_and_names_the_first_bad_row_by_index_label():
    assert issubclass(TransitionsError, ValueError)
    frame = raw_frame()
    frame.index = [10, 20, 30]
    frame.loc[20, "entered_at"] = "garbage"
    frame.loc[30, "entered_at"] = "more garbage"
    with pytest.raises(TransitionsError, match=r"'garbage' .*row 20; 2 bad value"):
        validate_transitions(frame)


def test_not_a_dataframe_is_refused():
    with pytest.raises(TransitionsError, match="must be a pandas DataFrame, got list"):
        validate_transitions([{"lead_id": 1}])


# ------------------------------------------------------------------------------------------------------
# normalisation
# ------------------------------------------------------------------------------------------------------


def test_validation_normalises_types_timestamps_and_missing_values():
    frame = raw_frame()
    before = frame.copy()
    out = validate_transitions(frame)

    pd.testing.assert_frame_equal(frame, before)  # the input is left alone
    assert_dtypes(out)
    assert out["lead_id"].tolist() == [7, 7, 42]
    assert out["stage_sequence"].tolist() == [1, 2, 1]
    assert out["entered_at"].tolist() == [
        pd.Timestamp("2024-03-01T09:00:00Z"),
        pd.Timestamp("2024-03-04T10:00:00Z"),
        pd.Timestamp("2024-03-02T06:00:00Z"),  # +02:00 converted to UTC
    ]
    assert out["left_at"].iloc[0] == pd.Timestamp("2024-03-04T10:00:00Z")
    assert pd.isna(out["left_at"].iloc[1])  # empty string = still open
    assert out["left_at"].iloc[2] == pd.Timestamp("2024-03-03T00:00:00Z")  # naive = UTC
    assert pd.isna(out["user"].iloc[2])  # empty string -> NA
    assert pd.isna(out["product"].iloc[2])
    assert out["lost_reason"].tolist()[2] == "too expensive"


def test_column_order_is_normalised_and_extra_columns_are_kept_after():
    frame = raw_frame()
    frame["expected_revenue"] = [1000.0, 1000.0, 250.5]
    shuffled = frame[["expected_revenue", *reversed(TRANSITION_COLUMNS)]]
    shuffled.index = [5, 3, 9]
    out = validate_transitions(shuffled)
    assert list(out.columns) == [*TRANSITION_COLUMNS, "expected_revenue"]
    assert out["expected_revenue"].tolist() == [1000.0, 1000.0, 250.5]
    assert out.index.tolist() == [5, 3, 9]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2024-03-01T09:30:00Z", id="iso-z"),
        pytest.param("2024-03-01T11:30:00+02:00", id="iso-offset"),
        pytest.param("2024-03-01T09:30:00", id="iso-naive"),
        pytest.param("2024-03-01 09:30:00", id="iso-space"),
        pytest.param(dt.datetime(2024, 3, 1, 9, 30), id="datetime-naive"),
        pytest.param(dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.timezone.utc), id="datetime-utc"),
        pytest.param(pd.Timestamp("2024-03-01T10:30:00", tz="Europe/Paris"), id="timestamp-paris"),
    ],
)
def test_timestamps_in_any_accepted_form_become_the_same_utc_instant(value):
    frame = raw_frame().iloc[[0]].copy()
    frame["entered_at"] = pd.Series([value], index=frame.index, dtype=object)
    frame["left_at"] = [None]
    out = validate_transitions(frame)
    assert str(out["entered_at"].dtype) == "datetime64[ns, UTC]"
    assert out["entered_at"].iloc[0] == pd.Timestamp("2024-03-01T09:30:00Z")
    assert pd.isna(out["left_at"].iloc[0])


@pytest.mark.parametrize(
    ("dtype", "values"),
    [
        pytest.param("datetime64[ns]", ["2024-03-01T09:30:00"], id="naive-dtype"),
        pytest.param("datetime64[us, UTC]", ["2024-03-01T09:30:00Z"], id="utc-us"),
        pytest.param("datetime64[ns, America/New_York]", ["2024-03-01T04:30:00-05:00"], id="new-york"),
    ],
)
def test_datetime_columns_are_converted_to_utc_nanoseconds(dtype, values):
    frame = raw_frame().iloc[[0]].copy()
    frame["entered_at"] = pd.to_datetime(pd.Series(values, index=frame.index), format="ISO8601").astype(dtype)
    frame["left_at"] = frame["entered_at"] + pd.Timedelta(hours=1)
    out = validate_transitions(frame)
    assert_dtypes(out)
    assert out["entered_at"].iloc[0] == pd.Timestamp("2024-03-01T09:30:00Z")
    assert out["left_at"].iloc[0] == pd.Timestamp("2024-03-01T10:30:00Z")


def test_empty_frame_with_the_right_columns_is_valid_and_typed():
    out = validate_transitions(pd.DataFrame(columns=list(TRANSITION_COLUMNS)))
    assert len(out) == 0
    assert_dtypes(out)


# ------------------------------------------------------------------------------------------------------
# records (the Odoo hand-over)
# ------------------------------------------------------------------------------------------------------


def odoo_record(
    lead_id: int, stage: str, sequence: int, entered: dt.datetime, left: dt.datetime | None
) -> dict:
    return {
        "lead_id": lead_id,
        "stage": stage,
        "stage_sequence": sequence,
        "entered_at": entered,
        "left_at": left,
        "user": "Mitchell Admin",
        "team": "Sales",
        "product": None,
        "source": None,
        "outcome": "open",
        "lost_reason": None,
    }


def test_records_with_naive_utc_datetimes_and_open_stays():
    records = (
        odoo_record(3, "New", 1, dt.datetime(2024, 5, 1, 8, 0), dt.datetime(2024, 5, 2, 17, 30, 15, 123456)),
        odoo_record(3, "Qualified", 2, dt.datetime(2024, 5, 2, 17, 30, 15, 123456), None),
    )
    out = transitions_from_records(record for record in records)  # any iterable, here a generator
    assert_dtypes(out)
    assert out.index.tolist() == [0, 1]
    assert out["entered_at"].tolist() == [
        pd.Timestamp("2024-05-01T08:00:00Z"),
        pd.Timestamp("2024-05-02T17:30:15.123456Z"),
    ]
    assert out["left_at"].iloc[0] == out["entered_at"].iloc[1]
    assert pd.isna(out["left_at"].iloc[1])
    assert out["source"].isna().all()


def test_records_where_every_stay_is_open_give_an_all_nat_left_at():
    out = transitions_from_records([odoo_record(1, "New", 1, dt.datetime(2024, 5, 1), None)])
    assert_dtypes(out)
    assert out["left_at"].isna().all()


def test_empty_records_give_an_empty_typed_table():
    out = transitions_from_records([])
    assert len(out) == 0
    assert_dtypes(out)


def test_records_without_a_key_name_the_missing_column():
    record = odoo_record(1, "New", 1, dt.datetime(2024, 5, 1), None)
    del record["source"]
    with pytest.raises(TransitionsError, match=r"missing column\(s\): source"):
        transitions_from_records([record])


def test_a_record_that_is_not_a_mapping_is_refused():
    with pytest.raises(TransitionsError, match="record 1 is a tuple"):
        transitions_from_records([odoo_record(1, "New", 1, dt.datetime(2024, 5, 1), None), (1, "New")])


# ------------------------------------------------------------------------------------------------------
# files
# ------------------------------------------------------------------------------------------------------


def tricky_frame() -> pd.DataFrame:
    """Stays exercising what a file format could lose: nanoseconds, open stays, NA and awkward text."""
    frame = pd.DataFrame(
        {
            "lead_id": [1, 1, 2, 3],
            "stage": ["New", "Qualified, warm", 'Say "hi"', "Négociation"],
            "stage_sequence": [1, 2, 3, 4],
            "entered_at": pd.to_datetime(
                [
                    "2024-01-01T00:00:00Z",
                    "2024-01-02T03:04:05.123456789Z",
                    "2023-12-31T23:59:59Z",
                    "1999-06-01T00:00:00Z",
                ],
                format="ISO8601",
            ),
            "left_at": pd.to_datetime(
                ["2024-01-02T03:04:05.123456789Z", None, "2024-01-01T00:00:00.5Z", None], format="ISO8601"
            ),
            "user": ["alice", None, "NA", "bob"],
            "team": ["Europe", "Europe", "line\nbreak", None],
            "product": [None, None, None, None],
            "source": ["web", "web", "null", "0"],
            "outcome": ["open", "open", "lost", "won"],
            "lost_reason": [None, None, "too expensive", None],
        }
    )
    return validate_transitions(frame)


@pytest.mark.parametrize("name", ["stays.csv", "stays.CSV", "stays.csv.gz"])
def test_csv_roundtrip_is_lossless(tmp_path: Path, name: str):
    frame = tricky_frame()
    path = tmp_path / name
    save_transitions(frame, path)
    pd.testing.assert_frame_equal(load_transitions(path), frame)


def test_csv_is_written_as_pandas_writes_it_byte_for_byte(tmp_path: Path, monkeypatch):
    """The fast writer (Arrow, not pandas) gives pandas' bytes: minimal quoting of commas, quotes and line
    breaks, empty NA, text that looks like a number or NA kept as text, floats as numpy writes them; a
    table with other columns (a flag) goes through pandas itself."""
    frame = tricky_frame()
    frame["lead_name"] = pd.Series(['Acme, "Inc"', "", None, 'say "hi"\r\nbye'], dtype="string")
    frame["seats"] = pd.array([3, None, -1, 0], dtype="Int64")
    frame["score"] = [0.1 + 0.2, 1000.0, None, 1e-7]
    text = frame.copy()
    for column in ("entered_at", "left_at"):
        text[column] = transitions._iso_utc_strings(frame[column])
    slow, fast = tmp_path / "slow.csv", tmp_path / "fast.csv"
    text.to_csv(slow, index=False, na_rep="", lineterminator="\n")
    pandas_writes = pd.DataFrame.to_csv
    written_by_pandas: list[bool] = []

    def spy(self, *args, **kwargs):
        written_by_pandas.append(True)
        return pandas_writes(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", spy)
    monkeypatch.setattr(transitions, "_CSV_CHUNK", 3)  # joined 3 rows at a time: two chunks here
    save_transitions(frame, fast)
    assert fast.read_bytes() == slow.read_bytes()
    assert b'"Acme, ""Inc"""' in fast.read_bytes()
    assert written_by_pandas == []
    frame["flag"] = text["flag"] = [True, False, True, False]
    save_transitions(frame, fast)
    assert written_by_pandas == [True]
    pandas_writes(text, slow, index=False, na_rep="", lineterminator="\n")
    assert fast.read_bytes() == slow.read_bytes()


def test_csv_roundtrip_from_a_string_path(tmp_path: Path):
    frame = tricky_frame()
    save_transitions(frame, str(tmp_path / "stays.csv"))
    pd.testing.assert_frame_equal(load_transitions(str(tmp_path / "stays.csv")), frame)


def test_csv_file_has_a_header_iso_utc_timestamps_and_empty_left_at_for_open_stays(tmp_path: Path, day):
    frame = pd.DataFrame(
        {
            "lead_id": [1, 1],
            "stage": ["New", "Won"],
            "stage_sequence": [1, 2],
            "entered_at": [day(0), day(1.5)],
            "left_at": [day(1.5), pd.NaT],
            "user": ["alice", "alice"],
            "team": [None, None],
            "product": [None, None],
            "source": ["web", "web"],
            "outcome": ["won", "won"],
            "lost_reason": [None, None],
        }
    )
    path = tmp_path / "stays.csv"
    save_transitions(frame, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        ",".join(TRANSITION_COLUMNS),
        "1,New,1,2024-01-01T00:00:00Z,2024-01-02T12:00:00Z,alice,,,web,won,",
        "1,Won,2,2024-01-02T12:00:00Z,,alice,,,web,won,",
    ]


def test_hand_written_csv_is_read(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text(
        "lead_id,stage,stage_sequence,entered_at,left_at,user,team,product,source,outcome,lost_reason,note\n"
        "5,New,1,2024-02-01 10:00:00,2024-02-03T10:00:00+01:00,bob,,,,lost,no budget,hello\n",
        encoding="utf-8",
    )
    out = load_transitions(path)
    assert_dtypes(out)
    assert out.loc[0, "entered_at"] == pd.Timestamp("2024-02-01T10:00:00Z")
    assert out.loc[0, "left_at"] == pd.Timestamp("2024-02-03T09:00:00Z")
    assert out.loc[0, "lost_reason"] == "no budget"
    assert out.loc[0, "note"] == "hello"
    assert pd.isna(out.loc[0, "team"])


def test_empty_table_roundtrips_through_csv(tmp_path: Path):
    path = tmp_path / "empty.csv"
    save_transitions(transitions_from_records([]), path)
    assert path.read_text(encoding="utf-8").strip() == ",".join(TRANSITION_COLUMNS)
    out = load_transitions(path)
    assert len(out) == 0
    assert_dtypes(out)


def test_csv_with_a_missing_column_names_it(tmp_path: Path):
    path = tmp_path / "stays.csv"
    tricky_frame().drop(columns=["stage_sequence"]).to_csv(path, index=False)
    with pytest.raises(TransitionsError, match=r"missing column\(s\): stage_sequence"):
        load_transitions(path)


def test_empty_csv_file_is_refused(tmp_path: Path):
    path = tmp_path / "stays.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(TransitionsError, match="needs at least its header row"):
        load_transitions(path)


@pytest.mark.parametrize("name", ["stays.xlsx", "stays", "stays.json"])
def test_unknown_suffix_is_refused(tmp_path: Path, name: str):
    with pytest.raises(TransitionsError, match=re.escape(name) + ".*csv.*parquet"):
        load_transitions(tmp_path / name)
    with pytest.raises(TransitionsError, match=re.escape(name)):
        save_transitions(tricky_frame(), tmp_path / name)


def test_parquet_roundtrip_is_lossless(tmp_path: Path):
    pytest.importorskip("pyarrow")
    frame = tricky_frame()
    frame["expected_revenue"] = np.array([1.5, 2.0, np.nan, 4.0])
    path = tmp_path / "stays.parquet"
    save_transitions(frame, path)
    pd.testing.assert_frame_equal(load_transitions(path), frame)


def test_parquet_without_pyarrow_says_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    frame = tricky_frame()
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail, installed or not
    path = tmp_path / "stays.parquet"
    with pytest.raises(TransitionsError, match="pip install pyarrow"):
        save_transitions(frame, path)
    assert not path.exists()
    path.write_bytes(b"PAR1")
    with pytest.raises(TransitionsError, match="pip install pyarrow"):
        load_transitions(path)


# ------------------------------------------------------------------------------------------------------
# package
# ------------------------------------------------------------------------------------------------------


def test_package_never_imports_odoo():
    package_dir = Path(funnel_metrics.__file__).parent
    sources = sorted(package_dir.glob("*.py"))
    assert {p.name for p in sources} >= {"__init__.py", "transitions.py", "conversion.py", "dwell.py"}
    for source in sources:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {name for name in imported if name.split(".")[0] == "odoo"}, source.name
    assert (package_dir / "py.typed").exists()
