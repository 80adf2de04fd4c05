"""The decision phase in the HTML report, the command line and the JSON-2 extractor: the section shows the
functions' numbers, says which option fills it, and a database without the phase history is a note."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from test_funnel_cli import odoo, odoo_report  # noqa: F401 - the stand-in Odoo fixture
from test_funnel_extract import FakeConnection, FakeOdoo, _json2_error
from test_funnel_report import body, expected_rows, section_html, tables_of

from funnel_metrics import (
    GAIN_VERDICTS,
    load_phase_changes,
    phase_forecast_gain,
    phase_observations,
    phase_win_rates,
)
from funnel_metrics.cli import DATA_DIR, DEMO_FILES, demo_phase_changes, main
from funnel_metrics.extract import extract_phase_changes
from funnel_metrics.report import PHASE_HINT, build_report, fmt_count, fmt_score, fmt_share, fmt_text
from funnel_metrics.transitions import load_transitions

AS_OF = pd.Timestamp("2024-12-20T00:00:00Z")


@pytest.fixture(scope="module")
def demo():
    table = load_transitions(DATA_DIR / DEMO_FILES["transitions"])
    changes = load_phase_changes(DATA_DIR / DEMO_FILES["phase_changes"])
    page = build_report(table, as_of=AS_OF, phase_changes=changes)
    return {"table": table, "changes": changes, "page": page}


def test_bundled_phase_changes_are_those_of_the_bundled_pipeline(demo):
    expected = demo_phase_changes(demo["table"])
    pd.testing.assert_frame_equal(demo["changes"], expected)
    assert set(demo["changes"]["lead_id"]) <= set(demo["table"]["lead_id"])


def test_phase_changes_read_from_parquet_as_from_csv(demo, tmp_path):
    path = tmp_path / "phases.parquet"
    demo["changes"].to_parquet(path, index=False)
    pd.testing.assert_frame_equal(load_phase_changes(path), demo["changes"])


def test_section_shows_the_win_rates_and_the_verdict_of_the_functions(demo):
    observations = phase_observations(demo["table"], demo["changes"], as_of=AS_OF)
    rates = phase_win_rates(observations)
    gain = phase_forecast_gain(observations)
    tables = tables_of(demo["page"])
    columns = [
        ("stage", fmt_text),
        ("phase", fmt_text),
        ("n", fmt_count),
        ("won", fmt_count),
        ("rate", fmt_share),
        ("ci_low", fmt_share),
        ("ci_high", fmt_share),
        ("stage_rate", fmt_share),
        ("open", fmt_count),
    ]
    assert body(tables, "t-decision-phase") == expected_rows(rates, columns)
    months = [("month", fmt_text), ("n", fmt_count)] + [
        (name, fmt_score) for name in ("brier_stage", "brier_phase", "gain", "ci_low", "ci_high")
    ]
    assert body(tables, "t-decision-phase-months") == expected_rows(gain, months)
    text = section_html(demo["page"], "decision-phase")
    # the demo's phases carry information by construction: the gain is found and said
    assert gain.attrs["verdict"] == "better"
    assert GAIN_VERDICTS["better"] in text.replace("&#x27;", "'")
    assert f"stage alone {fmt_score(gain.attrs['brier_stage'])}" in text
    assert re.search(r'<img alt="win rate by stage and decision phase" src="data:image/png;base64,', text)


def test_without_phase_changes_the_section_says_which_option_to_pass(demo):
    page = build_report(demo["table"], as_of=AS_OF)
    text = section_html(page, "decision-phase")
    assert "--phase-changes phases.csv" in text and "<img" not in text
    assert PHASE_HINT.split(":")[0] in text
    noted = build_report(demo["table"], as_of=AS_OF, phase_note="Decision phases not read: install it.")
    assert "Decision phases not read: install it." in section_html(noted, "decision-phase")


def test_command_reads_a_phase_changes_file(tmp_path, capsys):
    source = tmp_path / "phases.csv"
    source.write_text("lead_id,changed_at,phase\n1,2024-01-05T10:00:00Z,Deciding\n", encoding="utf-8")
    output = tmp_path / "r.html"
    code = main(["report", "--demo", "--no-progress", "--phase-changes", str(source), "-o", str(output)])
    assert code == 0, capsys.readouterr().err
    rows = body(tables_of(output.read_text(encoding="utf-8")), "t-decision-phase")
    assert {row[1] for row in rows} <= {"none", "Deciding"}


def test_command_demo_uses_the_bundled_phase_changes(tmp_path, capsys):
    output = tmp_path / "r.html"
    assert main(["report", "--demo", "--no-progress", "-o", str(output)]) == 0
    assert "Comparing vendors" in section_html(output.read_text(encoding="utf-8"), "decision-phase")


def test_command_refuses_a_bad_phase_changes_file(tmp_path, capsys):
    source = tmp_path / "phases.csv"
    source.write_text("lead,changed_at,phase\n1,2024-01-05,Deciding\n", encoding="utf-8")
    code = main(["report", "--demo", "--no-progress", "--phase-changes", str(source), "-o", "r.html"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"phase changes file {str(source)!r}" in err and "missing column(s): lead_id" in err


# --- the extractor --------------------------------------------------------------------------------------

TABLE = pd.DataFrame({"lead_id": [1, 2]})


def _server() -> FakeOdoo:
    return FakeOdoo(
        {
            "crm.decision.phase.change": [
                {"id": 1, "lead_id": 1, "date": "2024-01-02 10:00:00", "phase_id": 3},
                {"id": 2, "lead_id": 2, "date": "2024-01-03 11:30:00", "phase_id": 2},
                {"id": 3, "lead_id": 1, "date": "2024-01-04 09:00:00", "phase_id": False},
                {"id": 4, "lead_id": 7, "date": "2024-01-04 09:00:00", "phase_id": 2},  # not in the table
            ],
            "crm.decision.phase": [
                {"id": 2, "name": "Exploring", "sequence": 20},
                {"id": 3, "name": "Deciding", "sequence": 50, "active": False},
            ],
        }
    )


def test_extractor_reads_the_changes_of_the_tables_leads_in_pages():
    server = _server()
    changes = extract_phase_changes(FakeConnection(server), TABLE, page_size=2)
    assert [tuple(row) for row in changes.itertuples(index=False)] == [
        (1, pd.Timestamp("2024-01-02T10:00:00Z"), "Deciding", 50),  # an archived phase is named too
        (1, pd.Timestamp("2024-01-04T09:00:00Z"), pd.NA, -1),  # cleared
        (2, pd.Timestamp("2024-01-03T11:30:00Z"), "Exploring", 20),
    ]
    pages = server.calls_to("crm.decision.phase.change")
    assert [call["domain"] for call in pages] == [[("id", ">", 0)], [("id", ">", 2)], [("id", ">", 4)]]
    assert all(call["load"] != "_classic_read" for call in pages)  # bare ids: no display name computed
    assert changes["changed_at"].dtype == "datetime64[ns, UTC]"


def test_extractor_without_the_phase_history_is_a_note_not_a_crash():
    server = FakeOdoo({})
    notes: list[str] = []
    assert extract_phase_changes(FakeConnection(server), TABLE, note=notes.append) is None
    assert notes == [
        "decision phases not read: database 'pipeline' has no decision phase history (install the "
        "crm_stage_survey module); pass --phase-changes CSV"
    ]


def test_extractor_for_a_user_without_access_is_a_note():
    server = _server()
    original = FakeOdoo.hit

    def hit(self, model, method, **kwargs):
        original(self, model, method, **kwargs)
        if model == "crm.decision.phase.change":
            raise _json2_error(
                403, "odoo.exceptions.AccessError", "You are not allowed to access 'Decision Phase Change'"
            )

    server.hit = hit.__get__(server)
    notes: list[str] = []
    assert extract_phase_changes(FakeConnection(server), TABLE, note=notes.append) is None
    assert notes == [
        "decision phases not read: you may not read the decision phase history; pass --phase-changes CSV"
    ]


def test_url_report_without_the_phase_history_says_so_in_the_section(tmp_path, capsys, odoo):  # noqa: F811
    code, _out, err, page = odoo_report(capsys, tmp_path)
    assert (code, err) == (0, "")
    text = section_html(page, "decision-phase")
    assert "Decision phases not read: database &#x27;pipeline&#x27; has no decision phase history" in text
    assert "<img" not in text


def test_url_report_reads_the_phase_history_of_odoo(tmp_path, capsys, odoo):  # noqa: F811
    odoo.tables.update(
        {
            "crm.decision.phase.change": [
                {"id": 1, "lead_id": lead, "date": "2024-01-02 10:00:00", "phase_id": 3}
                for lead in range(1, 7)
            ],
            "crm.decision.phase": [{"id": 3, "name": "Deciding", "sequence": 50}],
        }
    )
    code, _out, err, page = odoo_report(capsys, tmp_path)
    assert (code, err) == (0, "")
    text = section_html(page, "decision-phase")
    assert "Decision phases not read" not in text and "--phase-changes" not in text
