"""The ``funnel-metrics`` command: report and export from the demo data, files and (stubbed) Odoo; errors."""

from __future__ import annotations

import socket
import sys
from datetime import date
from pathlib import Path

import odoolib
import pandas as pd
import pytest
from test_funnel_extract import FakeConnection, FakeOdoo, campaign_server
from test_funnel_report import body, handed_over, section_html, tables_of

from funnel_metrics import cli
from funnel_metrics.cli import DATA_DIR, DEMO_FILES, main
from funnel_metrics.cost import cost_per_lead
from funnel_metrics.extract import ExtractError, extract_transitions, select_period
from funnel_metrics.report import SECTIONS, fmt_count, fmt_money, fmt_text
from funnel_metrics.transitions import TRANSITION_COLUMNS, load_transitions, save_transitions

KEY = "s3cret-api-key-value"


@pytest.fixture(scope="module")
def demo_table() -> pd.DataFrame:
    return load_transitions(DATA_DIR / DEMO_FILES["transitions"])


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# ------------------------------------------------------------------------------------------------------
# report and export
# ------------------------------------------------------------------------------------------------------


def test_demo_report_has_every_section(tmp_path, capsys):
    output = tmp_path / "report.html"
    code, out, err = run(capsys, "report", "--demo", "--no-progress", "-o", str(output))

    assert (code, err) == (0, "")
    assert out == f"wrote {output}: report on 5,000 leads (10,635 stays) from the demo data\n"
    page = output.read_text(encoding="utf-8")
    for section_id, _ in SECTIONS:
        assert f'<section id="{section_id}">' in page
    assert page.count('src="data:image/png;base64,') == len(SECTIONS) - 2  # all but overview and skips
    assert "demo data" in page
    # the bundled targets, costs and stated probabilities are used: no section asks for a file
    assert "No stage targets given" not in page and "No costs given" not in page
    assert "No stated probabilities given" not in page and "Brier score" in page
    assert "No activities given" not in page


def test_demo_report_with_progress_bars(tmp_path, capsys):
    code, _, err = run(capsys, "report", "--demo", "--progress", "-o", str(tmp_path / "r.html"))
    assert code == 0
    assert "report" in err and f"{len(SECTIONS)}/{len(SECTIONS)}" in err


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_export_roundtrip(tmp_path, capsys, demo_table, suffix):
    output = tmp_path / f"transitions{suffix}"
    code, out, err = run(capsys, "export", "--demo", "-o", str(output))

    assert (code, err) == (0, "")
    assert out == f"wrote {output}: 10,635 stays of 5,000 leads from the demo data\n"
    back = load_transitions(output)
    pd.testing.assert_frame_equal(back[list(TRANSITION_COLUMNS)], demo_table[list(TRANSITION_COLUMNS)])


def test_selection_on_a_file_is_the_extractors(tmp_path, capsys, demo_table):
    source = tmp_path / "all.csv"
    save_transitions(demo_table, source)
    output = tmp_path / "march.csv"
    code, out, _ = run(
        capsys, "export", "--input", str(source), "--from", "2024-03-01", "--to", "2024-03-31", "--team",
        "Americas", "-o", str(output),
    )  # fmt: skip
    assert code == 0
    expected = select_period(demo_table, "2024-03-01", "2024-03-31", ["Americas"])
    pd.testing.assert_frame_equal(
        load_transitions(output)[list(TRANSITION_COLUMNS)], expected[list(TRANSITION_COLUMNS)]
    )
    assert set(load_transitions(output)["team"]) == {"Americas"}
    assert f"{expected['lead_id'].nunique():,} leads from {source}" in out


def test_report_on_a_team_counts_its_stays_in_the_leads_whole_history(tmp_path, capsys, make_transitions):
    source = tmp_path / "handed.csv"
    save_transitions(handed_over(make_transitions), source)
    output = tmp_path / "europe.html"
    code, out, err = run(capsys, "report", "--input", str(source), "--team", "Europe", "-o", str(output))
    assert (code, err) == (0, "")
    assert "report on 2 leads (4 stays)" in out  # lead 3 never was in Europe
    tables = tables_of(output.read_text(encoding="utf-8"))
    assert [row[:5] for row in body(tables, "t-conversion")] == [
        ["New", "2", "2", "0", "0"],  # lead 1 left New while in Europe; Asia lost it later
        ["Qualified", "1", "0", "0", "1"],
    ]


def test_report_from_a_file_with_side_tables(tmp_path, capsys, demo_table):
    source = tmp_path / "t.parquet"
    save_transitions(demo_table, source)
    stated = tmp_path / "stated.csv"
    stated.write_text("stage,probability\nNew,0.2\nQualified,0.4\n", encoding="utf-8")
    output = tmp_path / "r.html"
    code, _, err = run(
        capsys, "report", "--input", str(source), "--stated", str(stated), "--as-of", "2024-12-01",
        "--title", "Q4 <review>", "-o", str(output),
    )  # fmt: skip
    assert (code, err) == (0, "")
    page = output.read_text(encoding="utf-8")
    assert "<title>Q4 &lt;review&gt;</title>" in page
    assert "snapshot 2024-12-01 00:00 UTC" in page
    assert "No stage targets given" in page and "No costs given" in page  # not the demo's files
    assert "Brier score" in page


def test_url_source_passes_options_to_the_extractor(tmp_path, capsys, monkeypatch, demo_table):
    """Odoo stubbed: the key comes from --api-key-file, the filters and paging reach the extractor."""
    calls = {}

    def fake_connect(url, database, login, api_key, protocol="json2", retries=3):
        calls["connect"] = (url, database, login, api_key, protocol, retries)
        return "connection"

    def fake_extract(
        connection,
        date_from=None,
        date_to=None,
        teams=None,
        page_size=2000,
        progress=False,
        retries=3,
        tz="UTC",
    ):
        calls["extract"] = (connection, date_from, date_to, teams, page_size, progress, retries, tz)
        return select_period(demo_table, date_from, date_to, tz=tz)

    monkeypatch.setattr(cli, "connect", fake_connect)
    monkeypatch.setattr(cli, "extract_transitions", fake_extract)
    monkeypatch.setenv(cli.ENV_API_KEY, "not-this-one")
    key_file = tmp_path / "key"
    key_file.write_text(f"  {KEY}\n", encoding="utf-8")
    output = tmp_path / "t.csv"
    code, out, err = run(
        capsys, "export", "--url", "https://odoo.example.com", "--db", "prod", "--login", "me",
        "--api-key-file", str(key_file), "--protocol", "xmlrpc", "--from", "2024-02-01", "--team", "Europe",
        "7", "--page-size", "500", "--retries", "5", "--no-progress", "--tz", "Europe/Brussels",
        "-o", str(output),
    )  # fmt: skip

    assert (code, err) == (0, "")
    assert calls["connect"] == ("https://odoo.example.com", "prod", "me", KEY, "xmlrpc", 5)
    assert calls["extract"] == (
        "connection", date(2024, 2, 1), None, ["Europe", "7"], 500, False, 5, "Europe/Brussels"
    )  # fmt: skip
    assert "from database 'prod'" in out and KEY not in out


def test_api_key_from_the_environment(tmp_path, capsys, monkeypatch, demo_table):
    seen = []
    monkeypatch.setattr(cli, "connect", lambda url, db, login, key, **kw: seen.append(key) or "c")
    monkeypatch.setattr(cli, "extract_transitions", lambda *a, **kw: demo_table)
    monkeypatch.setenv(cli.ENV_API_KEY, KEY)
    code, _, _ = run(
        capsys, "export", "--url", "http://localhost:8069", "--db", "d", "-o", str(tmp_path / "t.csv")
    )
    assert code == 0 and seen == [KEY]


@pytest.fixture
def odoo(monkeypatch) -> FakeOdoo:
    """The stand-in Odoo server (with campaign costs) behind the real ``connect``."""
    server = campaign_server()
    monkeypatch.setattr(odoolib, "get_connection", lambda **kwargs: FakeConnection(server))
    monkeypatch.setenv(cli.ENV_API_KEY, KEY)
    return server


def odoo_report(capsys, tmp_path, *extra: str) -> tuple[int, str, str, str]:
    output = tmp_path / "r.html"
    code, out, err = run(
        capsys, "report", "--url", "http://odoo.test:8069", "--db", "pipeline", "--no-progress",
        *extra, "-o", str(output),
    )  # fmt: skip
    return code, out, err, output.read_text(encoding="utf-8") if output.exists() else ""


def test_url_report_takes_the_campaign_costs(tmp_path, capsys, odoo):
    code, out, err, page = odoo_report(capsys, tmp_path)

    assert (code, err) == (0, "")
    assert out.endswith("report on 6 leads (11 stays) from database 'pipeline'\n")
    cost = section_html(page, "cost")
    assert "by campaign" in cost and "No costs given" not in cost
    assert "totals per campaign are exact while the split per month is not meaningful" in cost
    connection = FakeConnection(campaign_server())
    expected = cost_per_lead(
        extract_transitions(connection),
        cli.extract_campaign_costs(connection, extract_transitions(connection)),
        by="campaign",
    )
    totals = expected.groupby("campaign", dropna=False, sort=False)[["leads", "cost"]].sum()
    assert [row[:3] for row in body(tables_of(page), "t-cost-total")] == [
        [fmt_text(name), fmt_count(leads), fmt_money(total)] for name, (leads, total) in totals.iterrows()
    ]
    rows = {row[0]: row[1:3] for row in body(tables_of(page), "t-cost-total")}
    assert rows["Spring fair"] == ["3", fmt_money(1300.0)]
    assert rows["Trade show"] == ["2", fmt_money(300.0)]
    assert rows["Radio ad"] == ["0", fmt_money(500.0)]
    assert rows[fmt_text(None)] == ["1", fmt_money(0.0)]  # lead 6 came without a campaign


def test_url_report_without_access_to_the_campaign_costs(tmp_path, capsys, odoo):
    odoo.restricted.add(("utm.campaign", "cost"))
    code, out, err, page = odoo_report(capsys, tmp_path)

    assert code == 0 and out.startswith("wrote ")
    assert err == (
        "funnel-metrics: note: campaign costs not read: only sales managers may read them; pass --costs CSV\n"
    )
    assert "No costs given: pass --costs costs.csv" in section_html(page, "cost")


def test_url_report_with_an_older_addon_without_campaign_costs(tmp_path, capsys, odoo):
    odoo.fields["utm.campaign"].discard("cost")
    code, _, err, page = odoo_report(capsys, tmp_path)

    assert code == 0 and err.startswith("funnel-metrics: note: campaign costs not read: database 'pipeline'")
    assert err.count("\n") == 1 and "No costs given" in page


def test_url_report_when_no_campaign_has_a_cost(tmp_path, capsys, odoo):
    for row in odoo.tables["utm.campaign"]:
        row["cost"] = 0.0
    code, _, err, page = odoo_report(capsys, tmp_path)
    assert code == 0
    assert err == (
        "funnel-metrics: note: no campaign has a cost in database 'pipeline': pass --costs CSV for the "
        "cost per lead\n"
    )
    assert "No costs given" in page


def test_url_report_costs_file_wins_over_the_campaigns(tmp_path, capsys, odoo):
    costs = tmp_path / "costs.csv"
    costs.write_text("source,period,cost\nWebsite,2024-03,600\n", encoding="utf-8")
    code, _, err, page = odoo_report(capsys, tmp_path, "--costs", str(costs))

    assert (code, err) == (0, "")
    # the campaigns' names only (for the table), not their costs
    assert [call["fields"] for call in odoo.calls_to("utm.campaign")] == [["display_name"]]
    cost = section_html(page, "cost")
    assert "by source" in cost and "Website" in cost and "split per month" not in cost


def test_demo_data_can_be_regenerated(tmp_path, demo_table):
    cli.write_demo_data(tmp_path)
    for name in ("targets", "costs", "stated", "activities"):
        assert (tmp_path / DEMO_FILES[name]).read_bytes() == (DATA_DIR / DEMO_FILES[name]).read_bytes(), name
    regenerated = load_transitions(tmp_path / DEMO_FILES["transitions"])
    pd.testing.assert_frame_equal(regenerated, demo_table)
    assert demo_table["lead_id"].nunique() == 5000
    assert set(demo_table["outcome"]) == {"won", "lost", "open"}


# ------------------------------------------------------------------------------------------------------
# errors: one line on stderr, exit status 2, no traceback, never the key
# ------------------------------------------------------------------------------------------------------


def assert_user_error(code: int, out: str, err: str, message: str) -> None:
    assert code == 2
    assert out == ""
    assert err.startswith("funnel-metrics: error: ") and err.endswith("\n") and err.count("\n") == 1, err
    assert message in err, err
    assert "Traceback" not in err


@pytest.mark.parametrize("protocol", ["json2", "xmlrpc"])
def test_closed_localhost_port(tmp_path, capsys, monkeypatch, closed_port, protocol):
    monkeypatch.setenv(cli.ENV_API_KEY, KEY)
    code, out, err = run(
        capsys, "report", "--url", f"http://127.0.0.1:{closed_port}", "--db", "pipeline", "--login", "admin",
        "--protocol", protocol, "-o", str(tmp_path / "r.html"),
    )  # fmt: skip
    assert_user_error(code, out, err, f"cannot reach the Odoo server at http://127.0.0.1:{closed_port} (")
    assert "check the URL and port, and that Odoo is running" in err
    assert KEY not in err
    assert not (tmp_path / "r.html").exists()


def test_missing_input_file(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    code, out, err = run(capsys, "report", "--input", str(missing), "-o", str(tmp_path / "r.html"))
    assert_user_error(code, out, err, f"input file not found: {missing}")


def test_bad_csv_column(tmp_path, capsys, demo_table):
    bad = tmp_path / "bad.csv"
    save_transitions(demo_table.head(20), bad)
    frame = pd.read_csv(bad, dtype=str).drop(columns=["outcome"])
    frame.to_csv(bad, index=False)
    code, out, err = run(capsys, "export", "--input", str(bad), "-o", str(tmp_path / "t.csv"))
    assert_user_error(code, out, err, "transitions table is missing column(s): outcome")


def test_bad_csv_value(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    header = ",".join(TRANSITION_COLUMNS)
    bad.write_text(f"{header}\n1,New,1,yesterday,,alice,Europe,,web,open,\n", encoding="utf-8")
    code, out, err = run(capsys, "report", "--input", str(bad), "-o", str(tmp_path / "r.html"))
    assert_user_error(code, out, err, "entered_at: cannot parse 'yesterday' as an ISO 8601 timestamp")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["export", "--demo", "-o", "{tmp}/t.txt"], "cannot tell the file format of"),
        (
            ["report", "--demo", "-o", "{tmp}/no/such/folder/r.html"],
            "the folder {tmp}/no/such/folder does not exist",
        ),
        (
            ["report", "--demo", "--from", "2030-01-01", "--to", "2030-01-31", "-o", "{tmp}/r.html"],
            "no stage history between 2030-01-01 and 2030-01-31 in the demo data",
        ),
        (
            ["report", "--demo", "--from", "2024-02-30", "-o", "{tmp}/r.html"],
            "--from: cannot read '2024-02-30' as a day: use ISO 8601, year first, e.g. 2026-11-23",
        ),
        (
            ["report", "--demo", "--from", "2024-05-01", "--to", "2024-04-01", "-o", "{tmp}/r.html"],
            "the period ends (2024-04-01) before it starts (2024-05-01)",
        ),
        (["report", "--demo", "--team", "Asia", "-o", "{tmp}/r.html"], "unknown sales team(s): Asia"),
        (
            ["report", "--demo", "--as-of", "yesterday", "-o", "{tmp}/r.html"],
            "--as-of: cannot read 'yesterday'",
        ),
        (["report", "--demo", "--targets", "{tmp}/none.csv", "-o", "{tmp}/r.html"], "targets file not found"),
        (["report", "--url", "http://localhost:8069", "-o", "{tmp}/r.html"], "--url needs --db"),
        (
            ["report", "--url", "http://localhost:8069", "--db", "d", "-o", "{tmp}/r.html"],
            "no API key: set FUNNEL_METRICS_API_KEY or pass --api-key-file FILE",
        ),
        (
            [
                "report",
                "--url",
                "ftp://localhost",
                "--db",
                "d",
                "--api-key-file",
                "{tmp}/key",
                "-o",
                "{tmp}/r.html",
            ],
            "must start with http:// or https://",
        ),
        (
            [
                "report",
                "--url",
                "http://x",
                "--db",
                "d",
                "--api-key-file",
                "{tmp}/nokey",
                "-o",
                "{tmp}/r.html",
            ],
            "cannot read the API key file {tmp}/nokey",
        ),
    ],
)
def test_user_errors(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.delenv(cli.ENV_API_KEY, raising=False)
    (tmp_path / "key").write_text(KEY, encoding="utf-8")
    tmp = str(tmp_path)
    code, out, err = run(capsys, *(a.replace("{tmp}", tmp) for a in argv))
    assert_user_error(code, out, err, message.replace("{tmp}", tmp))


def test_bad_side_tables(tmp_path, capsys):
    targets = tmp_path / "targets.csv"
    targets.write_text("stage,target_conversion_rate\nNew,60\n", encoding="utf-8")
    code, out, err = run(
        capsys, "report", "--demo", "--targets", str(targets), "-o", str(tmp_path / "r.html")
    )
    assert_user_error(code, out, err, "divide by 100")
    costs = tmp_path / "costs.csv"
    costs.write_text("campaign,period,cost\nspring,2024-01,10\n", encoding="utf-8")
    code, out, err = run(capsys, "report", "--demo", "--costs", str(costs), "-o", str(tmp_path / "r.html"))
    assert_user_error(code, out, err, "missing column(s): source")


def test_extract_errors_are_user_errors(tmp_path, capsys, monkeypatch):
    def refused(*args, **kwargs):
        raise ExtractError("the Odoo server at http://x refused the login for database 'd'")

    monkeypatch.setattr(cli, "connect", refused)
    monkeypatch.setenv(cli.ENV_API_KEY, KEY)
    code, out, err = run(capsys, "export", "--url", "http://x", "--db", "d", "-o", str(tmp_path / "t.csv"))
    assert_user_error(code, out, err, "refused the login for database 'd'")


def test_usage_errors_exit_2_and_help_exits_0(capsys):
    code, _, err = run(capsys, "report", "-o", "r.html")
    assert code == 2 and "one of the arguments --demo --input --url is required" in err
    code, _, err = run(capsys, "report", "--demo", "--input", "x.csv", "-o", "r.html")
    assert code == 2 and "not allowed with argument" in err
    code, _, _ = run(capsys, "frobnicate")
    assert code == 2
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "report" in out and "export" in out


def test_console_script_is_declared():
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert 'funnel-metrics = "funnel_metrics.cli:main"' in text


# ------------------------------------------------------------------------------------------------------
# Parquet checked first; Odoo's stage targets and currency
# ------------------------------------------------------------------------------------------------------


def test_parquet_without_pyarrow_is_refused_before_reading_odoo(tmp_path, capsys, odoo, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # makes `import pyarrow` fail, installed or not
    output = tmp_path / "t.parquet"
    code, out, err = run(
        capsys, "export", "--url", "http://odoo.test:8069", "--db", "pipeline", "-o", str(output)
    )
    assert_user_error(
        code,
        out,
        err,
        "reading or writing Parquet needs the pyarrow package, which is not installed: pip install pyarrow "
        "(or use a .csv file)",
    )
    assert odoo.calls == []  # not even the login
    assert not output.exists()


def test_url_report_takes_the_stage_targets_and_the_currency_of_odoo(tmp_path, capsys, odoo):
    code, _, err, page = odoo_report(capsys, tmp_path)

    assert (code, err) == (0, "")
    assert "No stage targets given" not in page
    tables = tables_of(page)
    conversion = {row[0]: row for row in body(tables, "t-conversion")}
    assert conversion["Qualified"][6] == "50.0 %"  # crm.stage.target: 50 %, for everyone
    assert conversion["New"][6] == "–"  # New's only target is for Europe's Software leads, and no rate
    dwell = {row[0]: row for row in body(tables, "t-time-in-stage")}
    assert dwell["Qualified"][5] == "10.0"
    assert tables["t-forecast"][0][-1] == "Expected revenue (EUR)"  # the company's currency
    assert tables["t-cost-total"][0][2] == "Cost (EUR)"


def test_url_report_targets_and_currency_given_win_over_odoos(tmp_path, capsys, odoo):
    targets = tmp_path / "targets.csv"
    targets.write_text("stage,target_conversion_rate\nQualified,0.8\n", encoding="utf-8")
    code, _, err, page = odoo_report(capsys, tmp_path, "--targets", str(targets), "--currency", "CHF")

    assert (code, err) == (0, "")
    assert odoo.calls_to("crm.stage.target") == [] and odoo.calls_to("res.company") == []
    tables = tables_of(page)
    assert {row[0]: row[6] for row in body(tables, "t-conversion")}["Qualified"] == "80.0 %"
    assert tables["t-forecast"][0][-1] == "Expected revenue (CHF)"


def test_url_report_when_odoo_has_no_stage_target(tmp_path, capsys, odoo):
    odoo.tables["crm.stage.target"] = []
    code, _, err, page = odoo_report(capsys, tmp_path)
    assert code == 0
    assert err == (
        "funnel-metrics: note: no stage target in database 'pipeline' (CRM › Configuration › Stage Targets): "
        "pass --targets CSV to compare with targets\n"
    )
    assert "No stage targets given" in section_html(page, "conversion")


def test_currency_of_a_file_or_the_demo(tmp_path, capsys):
    output = tmp_path / "r.html"
    code, _, _ = run(capsys, "report", "--demo", "--currency", "USD", "-o", str(output))
    assert code == 0
    tables = tables_of(output.read_text(encoding="utf-8"))
    assert tables["t-cost-total"][0][2:4] == ["Cost (USD)", "Per lead (USD)"]


# ------------------------------------------------------------------------------------------------------
# which activities win deals: --activities, --activities-output, from Odoo
# ------------------------------------------------------------------------------------------------------


def test_report_takes_an_activities_file_and_export_writes_the_demos(tmp_path, capsys, demo_table):
    from funnel_metrics import load_activities

    activities = tmp_path / "activities.parquet"
    code, out, err = run(
        capsys, "export", "--demo", "--no-progress", "-o", str(tmp_path / "t.csv"),
        "--activities-output", str(activities),
    )  # fmt: skip
    assert (code, err) == (0, "")
    written = load_activities(activities)
    assert f"wrote {activities}: {len(written):,} completed activities from the demo data" in out
    assert set(written["lead_id"]) <= set(demo_table["lead_id"])

    save_transitions(demo_table, tmp_path / "t.parquet")
    output = tmp_path / "r.html"
    code, _out, err = run(
        capsys, "report", "--input", str(tmp_path / "t.parquet"), "--activities", str(activities),
        "--no-progress", "-o", str(output),
    )  # fmt: skip
    assert (code, err) == (0, "")
    section = section_html(output.read_text(encoding="utf-8"), "activity-wins")
    assert (
        "No activities given" not in section and "Meeting: more go with a higher win rate up to 2" in section
    )

    code, _out, err = run(capsys, "report", "--input", str(tmp_path / "t.parquet"), "-o", str(output))
    assert code == 0 and "--activities activities.csv" in section_html(
        output.read_text(encoding="utf-8"), "activity-wins"
    )


def test_activities_errors_are_user_errors(tmp_path, capsys):
    bad = tmp_path / "a.csv"
    bad.write_text("lead_id,activity_type,done_at\n1,Call,2024-01-01\n", encoding="utf-8")
    code, out, err = run(capsys, "report", "--demo", "--activities", str(bad), "-o", str(tmp_path / "r.html"))
    assert_user_error(code, out, err, "missing column(s): user")
    code, out, err = run(
        capsys,
        "export",
        "--input",
        str(bad),
        "--activities-output",
        str(tmp_path / "x.csv"),
        "-o",
        str(tmp_path / "t.csv"),
    )
    assert_user_error(code, out, err, "--activities-output needs --url or --demo")


def test_url_report_reads_the_activities_and_deals_of_the_extracted_leads(
    tmp_path, capsys, monkeypatch, demo_table
):
    from funnel_metrics import deals_from_transitions, load_activities, load_handoffs, load_phase_stays

    table = demo_table[demo_table["lead_id"] <= 800]
    seen = {}
    monkeypatch.setenv(cli.ENV_API_KEY, KEY)
    monkeypatch.setattr(cli, "connect", lambda *a, **k: "c")
    monkeypatch.setattr(cli, "extract_transitions", lambda *a, **k: table)
    monkeypatch.setattr(cli, "extract_stage_targets", lambda *a, **k: pd.DataFrame())
    monkeypatch.setattr(cli, "extract_currency", lambda *a, **k: None)
    monkeypatch.setattr(cli, "extract_campaign_costs", lambda *a, **k: None)
    monkeypatch.setattr(cli, "extract_phase_changes", lambda *a, **k: None)
    monkeypatch.setattr(cli, "extract_snapshots", lambda *a, **k: pd.DataFrame())
    monkeypatch.setattr(
        cli, "extract_phase_stays", lambda *a, **k: load_phase_stays(DATA_DIR / "phase_stays.csv.gz")
    )
    monkeypatch.setattr(cli, "extract_handoffs", lambda *a, **k: load_handoffs(DATA_DIR / "handoffs.csv.gz"))
    activities = load_activities(DATA_DIR / DEMO_FILES["activities"])

    def fake_activities(connection, leads, page_size, progress, retries):
        seen["activities"] = (connection, sorted(leads), page_size, retries)
        return activities[activities["lead_id"].isin(leads)]

    def fake_deals(connection, leads, page_size, retries):
        seen["deals"] = sorted(leads)
        return deals_from_transitions(table).iloc[:0]  # Odoo decides: here no deal at all

    monkeypatch.setattr(cli, "extract_activities", fake_activities)
    monkeypatch.setattr(cli, "extract_deals", fake_deals)
    output = tmp_path / "r.html"
    code, _out, err = run(
        capsys, "report", "--url", "http://odoo.test", "--db", "x", "--page-size", "77", "--no-progress",
        "-o", str(output),
    )  # fmt: skip
    assert code == 0, err
    leads = sorted(pd.unique(table["lead_id"]).tolist())
    assert seen["activities"] == ("c", leads, 77, 3) and seen["deals"] == leads
    # the deals are Odoo's, not re-derived from the stage history
    assert "No completed activity on a decided deal" in section_html(
        output.read_text(encoding="utf-8"), "activity-wins"
    )


# ------------------------------------------------------------------------------------------------------
# month-end probability snapshots
# ------------------------------------------------------------------------------------------------------


def test_demo_snapshots_are_the_month_ends_of_the_demo_transitions(tmp_path):
    """The bundled snapshots are regenerated from the bundled transitions, which do not change."""
    from funnel_metrics.probability_bands import load_snapshots, month_end_snapshots

    cli.write_demo_data(tmp_path)
    for name in ("transitions", "snapshots"):
        assert (tmp_path / DEMO_FILES[name]).read_bytes() == (DATA_DIR / DEMO_FILES[name]).read_bytes()
    snapshots = load_snapshots(DATA_DIR / DEMO_FILES["snapshots"])
    stays = month_end_snapshots(load_transitions(DATA_DIR / DEMO_FILES["transitions"]), {})
    key = ["snapshot_date", "lead_id", "stage", "outcome"]
    assert snapshots[key].astype(str).values.tolist() == stays[key].astype(str).values.tolist()
    assert 0.2 < snapshots["is_automated"].mean() < 0.6


def test_report_takes_a_snapshots_file(tmp_path, capsys):
    snapshots = tmp_path / "s.csv"
    snapshots.write_text(
        "lead_id,snapshot_date,stage,probability,outcome\n1,2024-01-31,New,0.9,won\n2,2024-01-31,New,0.9,lost\n",
        encoding="utf-8",
    )
    output = tmp_path / "r.html"
    code, _, err = run(capsys, "report", "--demo", "--snapshots", str(snapshots), "-o", str(output))
    assert (code, err) == (0, "")
    rows = body(tables_of(output.read_text(encoding="utf-8")), "t-probability-bands")
    assert rows[-1][:3] == ["90-100 %", "90.0 %", "50.0 %"]
    snapshots.write_text("lead_id,snapshot_date,stage,probability,outcome\n1,2024-01-31,New,90,won\n")
    code, _, err = run(capsys, "report", "--demo", "--snapshots", str(snapshots), "-o", str(output))
    assert code == 2 and "divide by 100" in err


def test_url_report_reads_the_month_end_snapshots(tmp_path, capsys, odoo):
    odoo.tables["crm.lead.probability.snapshot"] = [
        {"id": 1, "lead_id": 1, "snapshot_date": "2024-01-31", "stage_id": 1, "team_id": False,
         "user_id": False, "probability": 80.0, "is_automated": True, "expected_revenue": 0.0},
    ]  # fmt: skip
    code, _, err, page = odoo_report(capsys, tmp_path)
    assert (code, err) == (0, "")
    rows = body(tables_of(page), "t-probability-bands")
    assert [(row[5], row[7]) for row in rows if row[0] == "80-90 %"] == [("0", "1")], "lead 1 is open"


def test_url_report_with_an_older_addon_without_snapshots(tmp_path, capsys, odoo):
    del odoo.tables["crm.lead.probability.snapshot"]
    code, _, err, page = odoo_report(capsys, tmp_path)
    assert code == 0
    assert "keeps no month-end snapshots (crm_stage_history before 19.0.1.5.0): update the addon" in err
    assert "--snapshots snapshots.csv" in section_html(page, "probability-bands")
