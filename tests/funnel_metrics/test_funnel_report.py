"""The HTML report: every section, inline images only, and tables that show the metric functions' numbers."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from funnel_metrics import report
from funnel_metrics.calibration import calibration
from funnel_metrics.cli import DATA_DIR, DEMO_FILES
from funnel_metrics.conversion import stage_conversion
from funnel_metrics.cost import cost_per_lead
from funnel_metrics.dwell import time_in_stage
from funnel_metrics.effectiveness import rep_effectiveness
from funnel_metrics.forecast import forecast
from funnel_metrics.funnel import cohort_conversion, cumulative_funnel, stage_skips
from funnel_metrics.report import (
    SECTIONS,
    build_report,
    fmt_bool,
    fmt_count,
    fmt_date,
    fmt_days,
    fmt_id,
    fmt_money,
    fmt_month,
    fmt_number,
    fmt_share,
    fmt_text,
    load_costs,
    load_stated,
    load_targets,
)
from funnel_metrics.targets import match_targets, stuck_leads
from funnel_metrics.transitions import TransitionsError, load_transitions

AS_OF = pd.Timestamp("2024-12-20T00:00:00Z")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Tables(HTMLParser):
    """Collects every ``<table id=...>`` of a page as a list of rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = dict(attrs)["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables


def body(tables: dict[str, list[list[str]]], table_id: str) -> list[list[str]]:
    """The rows of a table without its header row."""
    return tables[table_id][1:]


def expected_rows(frame: pd.DataFrame, columns) -> list[list[str]]:
    return [[formatter(row[name]) for name, formatter in columns] for _, row in frame.iterrows()]


def section_html(page: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}">(.*?)</section>', page, re.DOTALL)
    assert match, f"no section {section_id}"
    return match.group(1)


# ------------------------------------------------------------------------------------------------------
# the demo data with every input
# ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> dict:
    table = load_transitions(DATA_DIR / DEMO_FILES["transitions"])
    targets = load_targets(DATA_DIR / DEMO_FILES["targets"])
    costs = load_costs(DATA_DIR / DEMO_FILES["costs"])
    stated = load_stated(DATA_DIR / DEMO_FILES["stated"])
    page = build_report(
        table, targets=targets, costs=costs, stated=stated, as_of=AS_OF, title="Demo <funnel>"
    )
    return {
        "table": table,
        "targets": targets,
        "costs": costs,
        "stated": stated,
        "page": page,
        "tables": tables_of(page),
    }


def test_every_section_is_there_in_order(demo):
    page = demo["page"]
    positions = [page.index(f'<section id="{section_id}">') for section_id, _ in SECTIONS]
    assert positions == sorted(positions)
    for section_id, heading in SECTIONS:
        assert f'<a href="#{section_id}">{heading}</a>' in page
        assert section_html(page, section_id).startswith(f"<h2>{heading}</h2>")
        assert '<p class="caption">' in section_html(page, section_id)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<title>Demo &lt;funnel&gt;</title>" in page


def test_plots_are_inline_png_and_nothing_is_fetched(demo):
    page = demo["page"]
    plotted = ["funnel", "conversion", "time-in-stage", "stuck", "cohorts", "effectiveness", "calibration"]
    plotted += ["cost", "forecast", "early-warning"]
    for section_id in plotted:
        images = re.findall(
            r'<img alt="[^"]+" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', section_html(page, section_id)
        )
        assert len(images) == 1, section_id
        assert base64.b64decode(images[0]).startswith(PNG_MAGIC)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script" not in page and "<link" not in page
    assert "<style>" in page


def test_funnel_table(demo):
    expected = expected_rows(
        cumulative_funnel(demo["table"]),
        [("stage", fmt_text), ("reached", fmt_count), ("share_of_first", fmt_share)],
    )
    assert body(demo["tables"], "t-funnel") == expected
    assert expected[0] == ["New", "5,000", "100.0 %"]


def test_conversion_table_against_stage_targets(demo):
    conversion = stage_conversion(demo["table"])
    target = match_targets(conversion[["stage"]], demo["targets"], "target_conversion_rate")
    rows = body(demo["tables"], "t-conversion")
    expected = expected_rows(
        conversion,
        [
            ("stage", fmt_text),
            ("entered", fmt_count),
            ("advanced", fmt_count),
            ("lost", fmt_count),
            ("open", fmt_count),
            ("conversion_rate", fmt_share),
        ],
    )
    assert [row[:6] for row in rows] == expected
    assert [row[6] for row in rows] == [fmt_share(t) for t in target]
    # the stage-wide targets of targets.csv (New 60 %, Qualified 55 %...), not the narrowed ones
    assert [row[6] for row in rows] == ["60.0 %", "55.0 %", "60.0 %", "70.0 %", "–"]
    off = [
        fmt_bool(rate < goal) if not pd.isna(goal) else "–"
        for rate, goal in zip(conversion["conversion_rate"], target, strict=True)
    ]
    assert [row[7] for row in rows] == off


def test_time_in_stage_table(demo):
    dwell = time_in_stage(demo["table"], as_of=AS_OF)
    assert dwell.loc[dwell["stage"] == "Won", "median_days"].tolist() == [0.0]  # a won stay ends at once
    dwell.loc[dwell["stage"] == "Won", ["median_days", "p90_days"]] = float("nan")  # the page: no time
    target = match_targets(dwell[["stage"]], demo["targets"], "target_days_in_stage")
    expected = expected_rows(
        dwell.assign(target_days=target.to_numpy()),
        [
            ("stage", fmt_text),
            ("n", fmt_count),
            ("open", fmt_count),
            ("median_days", fmt_days),
            ("p90_days", fmt_days),
            ("target_days", fmt_days),
        ],
    )
    assert body(demo["tables"], "t-time-in-stage") == expected
    assert body(demo["tables"], "t-time-in-stage")[-1][:5] == ["Won", "599", "0", "–", "–"]


def test_stuck_table_lists_the_most_overdue_first(demo):
    stuck = stuck_leads(demo["table"], demo["targets"], as_of=AS_OF)
    assert len(stuck) > 10
    rows = body(demo["tables"], "t-stuck")
    expected = expected_rows(
        stuck,
        [
            ("lead_id", fmt_id),
            ("stage", fmt_text),
            ("user", fmt_text),
            ("team", fmt_text),
            ("entered_at", fmt_date),
            ("days_in_stage", fmt_days),
            ("target_days", fmt_days),
            ("overdue_days", fmt_days),
        ],
    )
    assert rows == expected[:50] + ([[f"… and {len(stuck) - 50:,} more"]] if len(stuck) > 50 else [])
    assert f"{len(stuck):,} stuck lead(s)" in section_html(demo["page"], "stuck")
    # Qualified in Americas has its own target (12 days), frank's Proposal has no days target of its own
    qualified = stuck[stuck["stage"] == "Qualified"]
    assert set(qualified.loc[qualified["team"] == "Americas", "target_days"]) <= {12.0}
    assert set(qualified.loc[qualified["team"] == "Europe", "target_days"]) <= {10.0}


def test_long_tables_are_cut_with_a_count():
    frame = pd.DataFrame({"n": range(7)})
    page = report.html_table(frame, [("n", "N", fmt_count)], "t-x", max_rows=5)
    rows = tables_of(page)["t-x"]
    assert rows == [["N"], ["0"], ["1"], ["2"], ["3"], ["4"], ["… and 2 more"]]


def test_skips_table(demo):
    skips = stage_skips(demo["table"])
    assert not skips.empty
    expected = expected_rows(
        skips,
        [
            ("from_stage", fmt_text),
            ("to_stage", fmt_text),
            ("skipped", fmt_count),
            ("moves", fmt_count),
            ("leads", fmt_count),
        ],
    )
    assert body(demo["tables"], "t-skips") == expected


def test_cohorts_table(demo):
    cohorts = cohort_conversion(demo["table"], freq="MS")
    reached = [c for c in cohorts.columns if c.startswith("reached:")][1:]
    columns = [("cohort", fmt_month), ("leads", fmt_count), ("won", fmt_count), ("lost", fmt_count)]
    columns += [("open", fmt_count)] + [(c, fmt_share) for c in reached]
    assert body(demo["tables"], "t-cohorts") == expected_rows(cohorts, columns)
    assert demo["tables"]["t-cohorts"][0][5:] == [f"Reached {c.removeprefix('reached:')}" for c in reached]
    assert len(cohorts) == 12


def test_effectiveness_table_with_intervals(demo):
    result = rep_effectiveness(demo["table"], target_stage="Won", min_sample=report.MIN_SAMPLE)
    expected = expected_rows(
        result,
        [
            ("user", fmt_text),
            ("started", fmt_count),
            ("reached", fmt_count),
            ("lost_before", fmt_count),
            ("open", fmt_count),
            ("rate", fmt_share),
            ("ci_low", fmt_share),
            ("ci_high", fmt_share),
        ],
    )
    assert body(demo["tables"], "t-effectiveness") == expected
    assert demo["tables"]["t-effectiveness"][0][2] == "Reached Won"
    # the demo's strong group (carol, dave) is ahead of the weak one (erin, frank), beyond the intervals
    order = [row[0] for row in expected]
    assert set(order[:2]) == {"carol", "dave"} and set(order[-2:]) == {"erin", "frank"}


def test_calibration_table_and_brier_score(demo):
    result = calibration(demo["table"], demo["stated"])
    expected = expected_rows(
        result,
        [
            ("stage", fmt_text),
            ("stated", fmt_share),
            ("observed", fmt_share),
            ("ci_low", fmt_share),
            ("ci_high", fmt_share),
            ("n", fmt_count),
            ("recommended", fmt_share),
        ],
    )
    assert body(demo["tables"], "t-calibration") == expected
    text = section_html(demo["page"], "calibration")
    assert f"Brier score of the stated probabilities: {fmt_number(result.attrs['brier'])}" in text
    assert f"over {fmt_count(result.attrs['brier_stays'])} stays" in text


def test_cost_tables(demo):
    detail = cost_per_lead(demo["table"], demo["costs"], by="source")
    money = [
        ("leads", fmt_count),
        ("cost", fmt_money),
        ("cost_per_lead", fmt_money),
        ("qualified", fmt_count),
        ("cost_per_qualified", fmt_money),
    ]
    assert body(demo["tables"], "t-cost") == expected_rows(
        detail, [("source", fmt_text), ("period", fmt_month), *money]
    )
    totals = detail.groupby("source", sort=False)[["leads", "cost", "qualified"]].sum().reset_index()
    totals["cost_per_lead"] = totals["cost"] / totals["leads"]
    totals["cost_per_qualified"] = totals["cost"] / totals["qualified"]
    assert body(demo["tables"], "t-cost-total") == expected_rows(totals, [("source", fmt_text), *money])


def test_cost_by_campaign_with_a_note(make_transitions):
    table = make_transitions(
        [
            (1, "New", 1, 0, 1, "open"),
            (1, "Qualified", 2, 1, None, "open"),
            (2, "New", 1, 40, None, "open"),
            (3, "New", 1, 50, None, "open"),
        ]
    )
    table["campaign"] = table["lead_id"].map({1: "Fair <2024>", 2: "Fair <2024>", 3: None})
    costs = pd.DataFrame({"campaign": ["Fair <2024>"], "period": ["2024-01-01"], "cost": [90.0]})
    note = "Costs from the campaigns: one total per campaign, put on one month."
    page = build_report(table, costs=costs, cost_by="campaign", cost_note=note)
    cost = section_html(page, "cost")
    assert f'<p class="note">{note}</p>' in cost and "by campaign" in cost
    totals = body(tables_of(page), "t-cost-total")
    assert [row[:4] for row in totals] == [
        ["Fair <2024>", "2", fmt_money(90.0), fmt_money(45.0)],
        ["–", "1", fmt_money(0.0), fmt_money(0.0)],
    ]
    assert note not in build_report(table, costs=costs, cost_by="campaign")


def test_forecast_table(demo):
    result = forecast(demo["table"], as_of=AS_OF, freq="MS", horizon=6)
    labels = ["overdue"] + [fmt_month(p) for p in result["period"].iloc[1:-1]] + ["later"]
    expected = expected_rows(
        result.assign(label=labels),
        [
            ("label", fmt_text),
            ("open_leads", fmt_count),
            ("expected_wins", fmt_number),
            ("expected_revenue", fmt_money),
        ],
    )
    assert body(demo["tables"], "t-forecast") == expected
    assert [row[0] for row in expected] == [
        "overdue",
        *(f"2024-{m}" for m in ("12",)),
        *(f"2025-0{m}" for m in range(1, 6)),
        "later",
    ]
    assert int(result["open_leads"].iloc[0]) > 0  # the demo has leads past their expected close


def test_overview_counts(demo):
    rows = dict(tuple(row) for row in body(demo["tables"], "t-overview"))
    outcome = demo["table"].groupby("lead_id")["outcome"].first()
    assert rows["Leads"] == "5,000"
    assert rows["Stays (rows)"] == fmt_count(len(demo["table"]))
    assert rows["Won"] == fmt_count((outcome == "won").sum())
    assert rows["Snapshot (as of)"] == "2024-12-20 00:00 UTC"


# ------------------------------------------------------------------------------------------------------
# missing inputs, small and odd tables
# ------------------------------------------------------------------------------------------------------


def test_missing_inputs_say_which_file_would_fill_the_section(demo):
    page = build_report(demo["table"])
    for section_id, _ in SECTIONS:
        assert f'<section id="{section_id}">' in page
    assert "--targets targets.csv" in section_html(page, "stuck")
    assert "--targets targets.csv" in section_html(page, "conversion")
    assert "--costs costs.csv" in section_html(page, "cost")
    assert "--stated stated.csv" in section_html(page, "calibration")
    assert "<img" not in section_html(page, "stuck") and "<img" not in section_html(page, "cost")
    tables = tables_of(page)
    assert {row[6] for row in body(tables, "t-conversion")} == {"–"}  # no target column values
    # the calibration still shows what is observed, without a stated column
    observed = calibration(demo["table"], {})
    assert [row[2] for row in body(tables, "t-calibration")] == [fmt_share(v) for v in observed["observed"]]
    assert {row[1] for row in body(tables, "t-calibration")} == {"–"}


def test_small_pipeline_and_escaping(make_transitions):
    table = make_transitions(
        [
            (1, "New", 1, 0, 1, "won"),
            (1, "<b>Qualified</b>", 2, 1, 3, "won"),
            (1, "Won", 9, 3, 3, "won"),
            (2, "New", 1, 0, 2, "lost"),
            (3, "New", 1, 1, None, "open"),
            (4, "New", 1, 2, 4, "open"),
            (4, "<b>Qualified</b>", 2, 4, None, "open"),
        ]
    )
    page = build_report(table, stated={"New": 0.2, "<b>Qualified</b>": 0.5, "Won": 1.0})
    assert "&lt;b&gt;Qualified&lt;/b&gt;" in page and "<b>Qualified</b>" not in page
    for section_id, _ in SECTIONS:
        assert f'<section id="{section_id}">' in page
    assert "No salesperson has 20 decided leads yet" in section_html(page, "effectiveness")
    rows = body(tables_of(page), "t-funnel")
    assert rows == [["New", "4", "100.0 %"], ["<b>Qualified</b>", "2", "50.0 %"], ["Won", "1", "25.0 %"]]


def test_single_stage_and_all_open(make_transitions):
    table = make_transitions([(1, "New", 1, 0, None, "open"), (2, "New", 1, 1, None, "open")])
    page = build_report(table, as_of="2024-02-01")
    assert "single stage" in section_html(page, "effectiveness")
    assert "No move jumped over a stage." in section_html(page, "skips")
    dwell = body(tables_of(page), "t-time-in-stage")
    assert dwell == [["New", "2", "2", "–", "–", "–"]]  # every stay open: no median yet


HANDED_OVER = [
    (1, "New", 1, 0, 1, "lost"),  # Europe (alice) hands it over ...
    (1, "Qualified", 2, 1, 3, "lost"),  # ... Asia (bob) loses it
    (2, "New", 1, 0, 2, "open"),
    (2, "Qualified", 2, 2, None, "open"),  # Europe (alice) all the way
    (3, "New", 1, 0, 4, "lost"),  # Asia (bob)
]


def handed_over(make_transitions) -> pd.DataFrame:
    table = make_transitions(HANDED_OVER)
    table["team"] = ["Europe", "Asia", "Europe", "Europe", "Asia"]
    table["user"] = ["alice", "bob", "alice", "alice", "bob"]
    return table


def test_a_selection_counts_its_own_stays_in_the_stage_and_salesperson_sections(make_transitions):
    table = handed_over(make_transitions)
    europe = table["team"] == "Europe"
    tables = tables_of(build_report(table, as_of="2024-01-11", selected=europe))
    # lead 1 moved on from New in Europe: an advance there; its loss in Qualified is Asia's
    assert [row[:6] for row in body(tables, "t-conversion")] == [
        ["New", "2", "2", "0", "0", "100.0 %"],
        ["Qualified", "1", "0", "0", "1", "–"],
    ]
    dwell = time_in_stage(table[europe], as_of="2024-01-11")
    columns = [("stage", fmt_text), ("n", fmt_count), ("open", fmt_count), ("median_days", fmt_days)]
    assert [row[:4] for row in body(tables, "t-time-in-stage")] == expected_rows(dwell, columns)
    # reaching Qualified, the last stage: alice took both Europe leads there; bob started lead 3 in Asia
    assert [row[:5] for row in body(tables, "t-effectiveness")] == [["alice", "2", "2", "0", "0"]]
    # the sections on leads cover the selected leads over their whole history
    assert body(tables, "t-funnel")[0] == ["New", "3", "100.0 %"]
    assert ["Stays of the selection", "3"] in body(tables, "t-overview")
    everything = tables_of(build_report(table, as_of="2024-01-11"))
    assert body(everything, "t-conversion")[0][:6] == ["New", "3", "2", "1", "0", "66.7 %"]
    assert "Stays of the selection" not in str(body(everything, "t-overview"))


def test_empty_or_invalid_table_is_refused(make_transitions):
    with pytest.raises(TransitionsError, match="empty"):
        build_report(make_transitions([]))
    with pytest.raises(TransitionsError, match="missing column"):
        build_report(pd.DataFrame({"lead_id": [1]}))
    with pytest.raises(ValueError, match="as_of: cannot read 'soon'"):
        build_report(make_transitions([(1, "New", 1, 0, None, "open")]), as_of="soon")


# ------------------------------------------------------------------------------------------------------
# side tables from CSV
# ------------------------------------------------------------------------------------------------------


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("loader", "text", "message"),
    [
        (load_targets, "team,target_days_in_stage\nEurope,3\n", "missing column(s): stage"),
        (load_targets, "stage,team\nNew,Europe\n", "neither target_conversion_rate nor target_days_in_stage"),
        (load_targets, "stage,target_conversion_rate\nNew,60\n", "Odoo stores it in percent: divide by 100"),
        (load_targets, "stage,target_days_in_stage\nNew,soon\n", "must be a number, cannot read 'soon'"),
        (
            load_costs,
            "source,period,cost\nweb,2024-01,lots\n",
            "cost must be a number, cannot read 'lots' (line 2)",
        ),
        (load_costs, "source,period,cost\nweb,someday,3\n", "cannot read the period 'someday' (line 2)"),
        (load_costs, "source,cost\nweb,3\n", "missing column(s): period"),
        (load_stated, "stage,probability\nNew,10\n", "fraction between 0 and 1 (percentages? divide by 100)"),
        (load_stated, "stage,probability\nNew,x\n", "cannot read 'x' (line 2)"),
        (load_stated, "stage,probability\nNew,0.1\nNew,0.2\n", "listed twice: New"),
        (load_stated, "", "is empty: it needs a header row"),
    ],
)
def test_side_table_errors_name_the_file_and_the_problem(tmp_path, loader, text, message):
    path = _csv(tmp_path, "side.csv", text)
    with pytest.raises(ValueError) as info:
        loader(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_side_tables_load():
    stated = load_stated(DATA_DIR / DEMO_FILES["stated"])
    assert stated == {"New": 0.1, "Qualified": 0.3, "Proposal": 0.5, "Negotiation": 0.8, "Won": 1.0}
    costs = load_costs(DATA_DIR / DEMO_FILES["costs"])
    assert costs["cost"].dtype == "float64" and set(costs["source"]) == {
        "web",
        "referral",
        "event",
        "outbound",
    }
    targets = load_targets(DATA_DIR / DEMO_FILES["targets"])
    assert list(targets["stage"])[:4] == ["New", "Qualified", "Proposal", "Negotiation"]


# ------------------------------------------------------------------------------------------------------
# stuck leads: pipeline order, names; amounts in a currency
# ------------------------------------------------------------------------------------------------------

STUCK = [
    # lead, stage, sequence, entered day, left day, outcome: three stuck in Proposal, one in New, two in
    # Qualified (targets: 5 days everywhere), so that "most stuck first" would not be the pipeline's order
    (1, "New", 1, 0, None, "open"),
    (2, "New", 1, 0, 1, "open"),
    (2, "Qualified", 2, 1, None, "open"),
    (3, "New", 1, 0, 1, "open"),
    (3, "Qualified", 2, 1, None, "open"),
    (4, "New", 1, 0, 1, "open"),
    (4, "Proposal", 3, 1, None, "open"),
    (5, "New", 1, 0, 1, "open"),
    (5, "Proposal", 3, 1, None, "open"),
    (6, "New", 1, 0, 1, "open"),
    (6, "Proposal", 3, 1, None, "open"),
    (7, "New", 1, 0, 1, "won"),
    (7, "Won", 4, 1, 1, "won"),
]


def _stuck_chart_stages(monkeypatch, page_builder) -> list[str]:
    """The stages of the stuck-leads chart, top to bottom, as drawn."""
    drawn = []
    figure = report._figure

    def keep(*args, **kwargs):
        fig = figure(*args, **kwargs)
        drawn.append(fig)
        return fig

    monkeypatch.setattr(report, "_figure", keep)
    page_builder()
    for fig in drawn:
        ax = fig.axes[0]
        if ax.get_xlabel() == "stuck leads":
            labels = [tick.get_text() for tick in ax.get_yticklabels()]
            ticks = sorted(zip(ax.get_yticks(), labels, strict=True), reverse=True)
            return [text for _, text in ticks]
    raise AssertionError("no stuck-leads chart")


def test_stuck_leads_in_pipeline_order_with_their_names(make_transitions, monkeypatch):
    table = make_transitions(STUCK)
    table["lead_name"] = table["lead_id"].map(lambda lead: f"Deal {lead}")
    table["user"] = table["lead_id"].map(lambda lead: "alice" if lead % 2 else "bob")
    targets = pd.DataFrame({"stage": ["New", "Qualified", "Proposal"], "target_days_in_stage": [5.0] * 3})

    def build():
        return build_report(table, targets=targets, as_of="2024-01-21")

    assert _stuck_chart_stages(monkeypatch, build) == ["New", "Qualified", "Proposal"]
    rows = tables_of(build())["t-stuck"]
    assert rows[0][:4] == ["Lead", "Name", "Stage", "Salesperson"]
    assert sorted(row[:4] for row in rows[1:]) == [
        ["1", "Deal 1", "New", "alice"],
        ["2", "Deal 2", "Qualified", "bob"],
        ["3", "Deal 3", "Qualified", "alice"],
        ["4", "Deal 4", "Proposal", "bob"],
        ["5", "Deal 5", "Proposal", "alice"],
        ["6", "Deal 6", "Proposal", "bob"],
    ]
    # a table without names (a CSV of the contract columns only): the ids, no empty column
    plain = tables_of(build_report(table.drop(columns="lead_name"), targets=targets, as_of="2024-01-21"))
    assert plain["t-stuck"][0][:3] == ["Lead", "Stage", "Salesperson"]


def test_the_won_stage_has_no_median_time(make_transitions):
    dwell = body(tables_of(build_report(make_transitions(STUCK), as_of="2024-01-21")), "t-time-in-stage")
    assert dwell[-1] == ["Won", "1", "0", "–", "–", "–"]


def test_amounts_carry_the_currency(demo):
    page = build_report(demo["table"], costs=demo["costs"], as_of=AS_OF, currency="EUR")
    tables = tables_of(page)
    assert tables["t-cost-total"][0] == [
        "Source", "Leads", "Cost (EUR)", "Per lead (EUR)", "Qualified", "Per qualified (EUR)"
    ]  # fmt: skip
    assert tables["t-forecast"][0] == [
        "Month",
        "Open leads closing",
        "Expected wins",
        "Expected revenue (EUR)",
    ]
    assert tables_of(demo["page"])["t-forecast"][0][-1] == "Expected revenue"  # no currency given: none shown


# ------------------------------------------------------------------------------------------------------
# which activities win deals
# ------------------------------------------------------------------------------------------------------


def test_activity_wins_section_shows_the_functions_numbers_and_the_stated_points(demo):
    from funnel_metrics import (
        activity_sequences,
        deals_from_transitions,
        load_activities,
        saturation,
        touch_gaps,
        win_rate_by_count,
    )

    activities = load_activities(DATA_DIR / DEMO_FILES["activities"])
    page = build_report(demo["table"], activities=activities, as_of=AS_OF)
    tables, deals = tables_of(page), deals_from_transitions(demo["table"])
    by_count = win_rate_by_count(activities, deals, report.MAX_ACTIVITY_COUNT)
    assert body(tables, "t-activity-wins") == expected_rows(
        by_count,
        [
            ("activity_type", fmt_text),
            ("bucket", fmt_text),
            ("deals", fmt_count),
            ("won", fmt_count),
            ("win_rate", fmt_share),
            ("ci_low", fmt_share),
            ("ci_high", fmt_share),
        ],
    )
    sequences = activity_sequences(activities, deals)
    assert [row[0] for row in body(tables, "t-activity-sequences")] == sequences["sequence"].tolist()
    gaps = touch_gaps(activities, deals)
    assert [row[3] for row in body(tables, "t-activity-gaps")] == [fmt_days(v) for v in gaps["median_days"]]
    # the demo's activities are drawn with meetings helping up to 2 and 5+ calls going with losing
    points = saturation(by_count).set_index("activity_type")
    assert points.loc["Meeting", "useful_count"] == 2 and points.loc["Call", "lowering_from"] == 5
    section = section_html(page, "activity-wins")
    assert "Meeting: more go with a higher win rate up to 2" in section
    assert "Call: from 5 on, more go with a lower win rate" in section
    assert "Email: the data states no effect of the count" in section
    assert section.count("<img") == 1


def test_activity_wins_section_without_activities_says_which_option_to_pass(demo):
    section = section_html(build_report(demo["table"]), "activity-wins")
    assert "--activities activities.csv" in section and "<img" not in section and "<table" not in section


# ------------------------------------------------------------------------------------------------------
# early warning
# ------------------------------------------------------------------------------------------------------


def test_early_warning_section_shows_the_injected_drop_with_its_evidence():
    from funnel_metrics import early_warnings, simulate_funnel

    drop = {"product": "Pro", "stage": "Qualified", "advance": 0.2, "start": "2024-08-05"}
    table, _ = simulate_funnel(
        7800, start="2024-01-01", end="2024-09-30", advance=(0.6, 0.6, 0.6, 0.7), seed=7, conversion_drop=drop
    )
    as_of = pd.Timestamp("2024-09-02T00:00:00Z")
    page = build_report(table, as_of=as_of)
    section = section_html(page, "early-warning")
    assert "--targets targets.csv" in section  # no targets: the section says how to compare with them
    expected = early_warnings(table, as_of)
    flagged = expected[expected["warning"]]
    rows = body(tables_of(page), "t-early-warning")
    assert len(rows) == len(flagged) > 0
    pro = [row for row in rows if row[:4] == ["product", "Pro", "Qualified", "conversion below baseline"]]
    assert len(pro) == 1
    truth = flagged[(flagged["segment"] == "Pro") & (flagged["test"] == "conversion_vs_baseline")].iloc[0]
    assert pro[0][4:7] == [
        fmt_count(truth["recent_n"]),
        fmt_share(truth["recent_rate"]),
        fmt_share(truth["baseline_rate"]),
    ]


def test_early_warning_section_on_a_stable_pipeline(demo):
    section = section_html(demo["page"], "early-warning")
    assert "No warning this week" in section and "t-early-warning" not in section
    assert "--targets" not in section  # the demo's targets are given


# ------------------------------------------------------------------------------------------------------
# calibration by month-end snapshots
# ------------------------------------------------------------------------------------------------------


def test_month_end_section_shows_the_bands_of_the_snapshots(demo):
    from funnel_metrics.probability_bands import load_snapshots, probability_bands

    snapshots = load_snapshots(DATA_DIR / DEMO_FILES["snapshots"])
    page = build_report(demo["table"], snapshots=snapshots, as_of=AS_OF)
    expected = probability_bands(snapshots)
    rows = body(tables_of(page), "t-probability-bands")
    assert [row[0] for row in rows] == list(expected["band"])
    assert [row[2] for row in rows] == [fmt_share(value) for value in expected["observed"]]
    assert [row[5] for row in rows] == [fmt_count(value) for value in expected["n"]]
    assert [row[7] for row in rows] == [fmt_count(value) for value in expected["open"]]
    section = section_html(page, "probability-bands")
    assert "<img" in section
    assert f"Brier score of the stated probabilities: {fmt_number(expected.attrs['brier'])}" in section
    # the demo's stated probabilities are optimistic above 20 %, as a CRM's often are
    top = expected[expected["low"] >= 0.5]
    assert (top["ci_high"] < top["mean_stated"]).any()


def test_month_end_section_without_snapshots_says_which_option_to_pass(demo):
    section = section_html(demo["page"], "probability-bands")
    assert "--snapshots snapshots.csv" in section and "<img" not in section
