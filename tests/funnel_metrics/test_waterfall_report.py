"""The demand waterfall in the HTML report and the command line: the section shows waterfall()'s numbers,
says which option fills it, and the tables go in and out of the command as they are."""

from __future__ import annotations

import odoolib
import pandas as pd
import pytest
from test_funnel_cli import KEY, odoo_report, run
from test_funnel_extract import FakeConnection, campaign_server
from test_funnel_report import body, expected_rows, section_html, tables_of
from test_waterfall_extract import _server as handoff_server

from funnel_metrics import (
    cli,
    load_handoffs,
    load_phase_stays,
    rejection_reasons,
    sales_accepted_cost,
    waterfall,
)
from funnel_metrics.cli import DATA_DIR, DEMO_FILES, demo_waterfall
from funnel_metrics.extract import extract_handoffs, extract_phase_stays
from funnel_metrics.report import (
    WATERFALL_HINT,
    build_report,
    fmt_count,
    fmt_days,
    fmt_money,
    fmt_number,
    fmt_share,
    fmt_text,
)
from funnel_metrics.transitions import load_transitions

WATERFALL_ROW = [
    ("phase", fmt_text),
    ("entered", fmt_count),
    ("advanced", fmt_count),
    ("recycled", fmt_count),
    ("disqualified", fmt_count),
    ("lost", fmt_count),
    ("open", fmt_count),
    ("conversion_rate", fmt_share),
    ("ci_low", fmt_share),
    ("ci_high", fmt_share),
    ("median_days", fmt_days),
    ("p90_days", fmt_days),
]
HANDOFF_ROW = [
    ("phase", fmt_text),
    ("handed_over", fmt_count),
    ("accepted", fmt_count),
    ("auto_accepted", fmt_count),
    ("rejected", fmt_count),
    ("returned", fmt_count),
    ("awaiting", fmt_count),
    ("acceptance_rate", fmt_share),
    ("median_hours_to_decision", fmt_number),
]


@pytest.fixture(scope="module")
def demo():
    table = load_transitions(DATA_DIR / DEMO_FILES["transitions"])
    stays = load_phase_stays(DATA_DIR / DEMO_FILES["phase_stays"])
    handoffs = load_handoffs(DATA_DIR / DEMO_FILES["handoffs"])
    costs = pd.read_csv(DATA_DIR / DEMO_FILES["costs"])
    page = build_report(table, costs=costs, waterfall={"phase_stays": stays, "handoffs": handoffs})
    return {"table": table, "stays": stays, "handoffs": handoffs, "costs": costs, "page": page}


def test_bundled_waterfall_is_the_demo_generators(demo):
    stays, handoffs = demo_waterfall()
    pd.testing.assert_frame_equal(demo["stays"], stays)
    pd.testing.assert_frame_equal(demo["handoffs"], handoffs)
    assert demo["stays"]["lead_id"].nunique() == 5000 and (demo["handoffs"]["state"] == "rejected").any()
    assert (demo["stays"]["phase"] == "Recycled").any() and demo["handoffs"]["auto_accepted"].any()


def test_section_shows_the_functions_numbers(demo):
    tables = tables_of(section_html(demo["page"], "waterfall"))
    expected = waterfall(demo["stays"], demo["handoffs"])
    assert body(tables, "t-waterfall") == expected_rows(expected, WATERFALL_ROW)
    assert body(tables, "t-handoffs") == expected_rows(expected[expected["handed_over"] > 0], HANDOFF_ROW)
    reasons = rejection_reasons(demo["handoffs"])
    assert body(tables, "t-rejections") == expected_rows(
        reasons, [("phase", fmt_text), ("reason", fmt_text), ("rejected", fmt_count), ("share", fmt_share)]
    )
    monthly = sales_accepted_cost(demo["stays"], demo["costs"], by="source")
    totals = monthly.groupby("source", sort=True)[["entered", "sales_accepted", "cost"]].sum()
    assert body(tables, "t-sales-accepted-cost") == [
        [name, fmt_count(entered), fmt_count(n), fmt_money(total), fmt_money(total / n)]
        for name, (entered, n, total) in totals.iterrows()
    ]  # the whole period's totals: the months add up
    assert "<img" in section_html(demo["page"], "waterfall")


def test_without_phase_stays_the_section_says_which_option_to_pass(demo):
    page = build_report(demo["table"])
    text = section_html(page, "waterfall")
    assert "--phases phase_stays.csv" in text and "<table" not in text
    assert WATERFALL_HINT.split(":")[0] in text
    only_stays = section_html(
        build_report(demo["table"], waterfall={"phase_stays": demo["stays"]}), "waterfall"
    )
    assert "pass --handoffs handoffs.csv" in only_stays and 't-waterfall"' in only_stays


def test_phase_targets_show_in_the_table(tmp_path, capsys, demo):
    targets = tmp_path / "phase_targets.csv"
    targets.write_text(
        "phase,team,target_conversion_rate,target_days_in_phase\nInquiry,,0.75,3\n", encoding="utf-8"
    )
    output = tmp_path / "r.html"
    code, _out, err = run(capsys, "report", "--demo", "--no-progress", "--phase-targets", str(targets),
                          "-o", str(output))  # fmt: skip
    assert (code, err) == (0, "")
    rows = body(tables_of(section_html(output.read_text(encoding="utf-8"), "waterfall")), "t-waterfall")
    assert rows[0][0] == "Inquiry" and rows[0][-2:] == [fmt_share(0.75), fmt_days(3.0)]
    assert rows[1][-2:] == ["–", "–"]


def test_report_takes_the_phases_and_handoffs_files(tmp_path, capsys, demo):
    stays = demo["stays"][demo["stays"]["lead_id"] <= 500]
    handoffs = demo["handoffs"][demo["handoffs"]["lead_id"] <= 500]
    stays.to_csv(tmp_path / "stays.csv", index=False)
    handoffs.to_parquet(tmp_path / "handoffs.parquet")
    output = tmp_path / "r.html"
    code, _out, err = run(capsys, "report", "--demo", "--no-progress", "--phases",
                          str(tmp_path / "stays.csv"), "--handoffs", str(tmp_path / "handoffs.parquet"),
                          "-o", str(output))  # fmt: skip
    assert (code, err) == (0, "")
    tables = tables_of(section_html(output.read_text(encoding="utf-8"), "waterfall"))
    assert body(tables, "t-waterfall") == expected_rows(waterfall(stays, handoffs), WATERFALL_ROW)


def test_bad_waterfall_files_are_refused_with_the_file_and_column(tmp_path, capsys, demo):
    bad = demo["stays"].head(5).assign(phase_kind="stale")
    bad.to_csv(tmp_path / "stays.csv", index=False)
    code, _out, err = run(capsys, "report", "--demo", "--phases", str(tmp_path / "stays.csv"),
                          "-o", str(tmp_path / "r.html"))  # fmt: skip
    assert code == 2
    assert f"phase stays file {tmp_path / 'stays.csv'}: phase stays: phase_kind 'stale' is not one of" in err
    assert "line 2" in err
    code, _out, err = run(capsys, "report", "--demo", "--handoffs", str(tmp_path / "stays.csv"),
                          "-o", str(tmp_path / "r.html"))  # fmt: skip
    assert code == 2 and "--handoffs needs --phases" in err


def test_export_writes_the_demo_waterfall(tmp_path, capsys, demo):
    stays_file, handoffs_file = tmp_path / "stays.parquet", tmp_path / "handoffs.csv.gz"
    code, out, err = run(capsys, "export", "--demo", "-o", str(tmp_path / "t.csv"), "--phases-output",
                         str(stays_file), "--handoffs-output", str(handoffs_file))  # fmt: skip
    assert (code, err) == (0, "")
    assert f"wrote {stays_file}: {len(demo['stays']):,} lifecycle phase stays from the demo data" in out
    pd.testing.assert_frame_equal(load_phase_stays(stays_file), demo["stays"])
    pd.testing.assert_frame_equal(load_handoffs(handoffs_file), demo["handoffs"])
    code, _out, err = run(capsys, "export", "--input", str(tmp_path / "t.csv"), "-o", str(tmp_path / "u.csv"),
                          "--phases-output", str(tmp_path / "p.csv"))  # fmt: skip
    assert code == 2 and "--phases-output and --handoffs-output need --url or --demo" in err


@pytest.fixture
def odoo_with_handoffs(monkeypatch):
    """The CLI's Odoo calls answered by the stand-in server of test_funnel_extract; the waterfall's by that
    of test_waterfall_extract (a crm_lead_handoff database), with the arguments the CLI passes."""
    server = campaign_server()
    monkeypatch.setattr(odoolib, "get_connection", lambda **kwargs: FakeConnection(server))
    monkeypatch.setenv(cli.ENV_API_KEY, KEY)
    calls = []
    handoff = FakeConnection(handoff_server())

    def stays(connection, *args, **kwargs):
        calls.append((args, kwargs["tz"]))
        return extract_phase_stays(handoff, *args, **kwargs)

    monkeypatch.setattr(cli, "extract_phase_stays", stays)
    monkeypatch.setattr(
        cli, "extract_handoffs", lambda connection, *a, **k: extract_handoffs(handoff, *a, **k)
    )
    return calls


def test_url_report_reads_the_waterfall_of_the_period(tmp_path, capsys, odoo_with_handoffs):
    output = tmp_path / "r.html"
    code, _out, err = run(capsys, "report", "--url", "http://odoo.test:8069", "--db", "pipeline",
                          "--no-progress", "--from", "2024-01-01", "--tz", "Europe/Brussels",
                          "-o", str(output))  # fmt: skip
    assert (code, err) == (0, "")
    ((args, tz),) = odoo_with_handoffs
    assert (str(args[0]), args[1], tz) == ("2024-01-01", None, "Europe/Brussels")
    connection = FakeConnection(handoff_server())
    stays = extract_phase_stays(connection, "2024-01-01", tz="Europe/Brussels")
    expected = waterfall(stays, extract_handoffs(connection, [1, 2]))
    tables = tables_of(section_html(output.read_text(encoding="utf-8"), "waterfall"))
    assert body(tables, "t-waterfall") == expected_rows(expected, WATERFALL_ROW)
    assert body(tables, "t-rejections") == [["Marketing Qualified", "Wrong persona", "1", "100.0 %"]]


def test_url_report_without_the_handoff_addon_says_so_in_the_section(tmp_path, capsys, monkeypatch):
    server = campaign_server()
    monkeypatch.setattr(odoolib, "get_connection", lambda **kwargs: FakeConnection(server))
    monkeypatch.setenv(cli.ENV_API_KEY, KEY)
    code, _out, err, page = odoo_report(capsys, tmp_path)
    assert (code, err) == (0, "")
    text = section_html(page, "waterfall")
    assert "has no lifecycle phases (crm.lead.phase.history): install the crm_lead_handoff module" in text
    assert "or pass --phases FILE." in text
