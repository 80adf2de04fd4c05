"""A self-contained HTML report of a pipeline's funnel metrics.

:func:`build_report` turns a transitions table (and optionally stage targets, acquisition costs and the stated
stage probabilities) into one HTML page: inline CSS, plots as base64 PNG images drawn with matplotlib's Agg
renderer, no external asset, so the file can be mailed or archived as it is. Every section has a short
plain-language caption, a plot where one helps, and its numbers as an HTML table, computed by the metric
functions of this package. A section whose input is missing says which file would fill it.

The side tables, as :func:`load_targets`, :func:`load_costs` and :func:`load_stated` read them from CSV:

- targets: ``stage``, optional ``team``/``user``/``product``, ``target_conversion_rate`` (fraction 0-1),
  ``target_days_in_stage`` (days) -- see :mod:`funnel_metrics.targets`;
- costs: ``source`` (or the ``by`` column), ``period`` (``2024-03`` or a date), ``cost`` -- see
  :func:`funnel_metrics.cost.cost_per_lead`;
- stated: ``stage``, ``probability`` (fraction 0-1) -- see :func:`funnel_metrics.calibration.calibration`;
- activities: ``lead_id``, ``activity_type``, ``done_at``, ``user``, one row per completed activity, as
  :func:`funnel_metrics.activity_wins.load_activities` reads them.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from activity_centric.instants import csv_line
from funnel_metrics.activity_wins import (
    activity_sequences,
    deals_from_transitions,
    saturation,
    touch_gaps,
    validate_activities,
    validate_deals,
    win_rate_by_count,
)
from funnel_metrics.calibration import calibration
from funnel_metrics.conversion import stage_conversion
from funnel_metrics.cost import cost_per_lead
from funnel_metrics.decision_phase import (
    GAIN_VERDICTS,
    NO_PHASE,
    phase_forecast_gain,
    phase_observations,
    phase_win_rates,
)
from funnel_metrics.dwell import _latest_timestamp, kaplan_meier, stay_days, time_in_stage
from funnel_metrics.early_warning import early_warnings
from funnel_metrics.effectiveness import rep_effectiveness
from funnel_metrics.forecast import forecast
from funnel_metrics.funnel import _selection, cohort_conversion, cumulative_funnel, stage_skips
from funnel_metrics.targets import match_targets, selection_funnel, stuck_leads
from funnel_metrics.transitions import TransitionsError, validate_transitions

TimestampLike = str | dt.datetime | np.datetime64 | pd.Timestamp

DEFAULT_TITLE = "Pipeline funnel report"

SECTIONS: tuple[tuple[str, str], ...] = (
    ("overview", "Overview"),
    ("funnel", "Funnel"),
    ("conversion", "Conversion by stage"),
    ("time-in-stage", "Time in stage"),
    ("stuck", "Stuck leads"),
    ("skips", "Skipped stages"),
    ("cohorts", "Cohorts"),
    ("effectiveness", "Salesperson effectiveness"),
    ("calibration", "Calibration of stage probabilities"),
    ("cost", "Cost per lead"),
    ("forecast", "Forecast"),
    ("decision-phase", "Decision phase and win rate"),
    ("early-warning", "Early warning"),
    ("activity-wins", "Which activities win deals"),
    ("probability-bands", "Calibration by month-end snapshots"),
    ("waterfall", "Demand waterfall"),
)
"""``(id, heading)`` of the report's sections, in page order; each is a ``<section id=...>``."""

MIN_SAMPLE = 20
"""Decided leads a salesperson needs before the report shows a rate (see ``rep_effectiveness``)."""

_BLUE, _GREEN, _RED, _GREY, _ORANGE = "#2f6db5", "#3b9a57", "#c8423b", "#8a8f98", "#d9822b"
_DASH = "–"  # an empty estimate in a table


# ------------------------------------------------------------------------------------------------------
# formatting (tests format the metric outputs with these to compare with the page)
# ------------------------------------------------------------------------------------------------------


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def fmt_count(value: Any) -> str:
    """An integer count with thousands separators: ``1,234``."""
    return _DASH if _missing(value) else f"{int(value):,}"


def fmt_id(value: Any) -> str:
    """A record id, as Odoo shows it: ``4120``."""
    return _DASH if _missing(value) else str(int(value))


def fmt_share(value: Any) -> str:
    """A fraction as a percentage with one decimal: ``0.4567`` -> ``45.7 %``."""
    return _DASH if _missing(value) else f"{float(value) * 100:.1f} %"


def fmt_days(value: Any) -> str:
    """Days with one decimal."""
    return _DASH if _missing(value) else f"{float(value):,.1f}"


def fmt_number(value: Any) -> str:
    """A decimal number (expected wins, scores) with two decimals."""
    return _DASH if _missing(value) else f"{float(value):,.2f}"


def fmt_money(value: Any) -> str:
    """An amount with two decimals and thousands separators."""
    return _DASH if _missing(value) else f"{float(value):,.2f}"


def fmt_text(value: Any) -> str:
    """Text; an empty value as a dash."""
    return _DASH if _missing(value) or str(value) == "" else str(value)


def fmt_date(value: Any) -> str:
    """A timestamp's UTC day, ``2024-03-01``."""
    return _DASH if _missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def fmt_month(value: Any) -> str:
    """A period start as ``2024-03``."""
    return _DASH if _missing(value) else pd.Timestamp(value).strftime("%Y-%m")


def fmt_bool(value: Any) -> str:
    return _DASH if _missing(value) else ("yes" if bool(value) else "no")


Column = tuple[str, str, Callable[[Any], str]]  # (frame column, heading, formatter)


def html_table(
    frame: pd.DataFrame, columns: Sequence[Column], table_id: str, max_rows: int | None = None
) -> str:
    """``frame`` as an HTML table of the given columns; numbers right-aligned.

    With ``max_rows``, only the first rows are shown and a last line says how many were left out.
    """
    numeric = {fmt_count, fmt_id, fmt_share, fmt_days, fmt_number, fmt_money, fmt_bool}
    head = "".join(f"<th>{html.escape(title)}</th>" for _, title, _ in columns)
    shown = frame if max_rows is None else frame.head(max_rows)
    lines = []
    for _, row in shown.iterrows():
        cells = []
        for name, _, formatter in columns:
            css = ' class="num"' if formatter in numeric else ""
            cells.append(f"<td{css}>{html.escape(formatter(row[name]))}</td>")
        lines.append(f"<tr>{''.join(cells)}</tr>")
    if max_rows is not None and len(frame) > max_rows:
        lines.append(
            f'<tr class="more"><td colspan="{len(columns)}">… and {len(frame) - max_rows:,} more</td></tr>'
        )
    body = "".join(lines)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ------------------------------------------------------------------------------------------------------
# plots
# ------------------------------------------------------------------------------------------------------


def _figure(width: float = 7.5, height: float = 3.6) -> Any:
    """A matplotlib Figure on the Agg canvas (no pyplot: no global state, no display needed)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="both", color="#e4e6ea", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=9)


def _image(fig: Any, alt: str) -> str:
    """The figure as an inline ``<img>`` (base64 PNG)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _percent_axis(axis: Any) -> None:
    from matplotlib.ticker import PercentFormatter

    axis.set_major_formatter(PercentFormatter(1.0, decimals=0))


# ------------------------------------------------------------------------------------------------------
# sections
# ------------------------------------------------------------------------------------------------------


@dataclass
class _Section:
    id: str
    title: str
    caption: str
    parts: list[str] = field(default_factory=list)

    def note(self, text: str, css: str = "note") -> None:
        self.parts.append(f'<p class="{css}">{html.escape(text)}</p>')

    def html(self) -> str:
        return (
            f'<section id="{self.id}"><h2>{html.escape(self.title)}</h2>'
            f'<p class="caption">{html.escape(self.caption)}</p>{"".join(self.parts)}</section>'
        )


@dataclass
class _Inputs:
    table: pd.DataFrame
    as_of: pd.Timestamp
    targets: pd.DataFrame | None
    costs: pd.DataFrame | None
    stated: Mapping[str, float] | None
    cost_by: str
    won_stage: str | None
    cost_note: str | None = None
    selected: np.ndarray | None = None
    currency: str | None = None
    phase_changes: pd.DataFrame | None = None
    phase_note: str | None = None
    activities: pd.DataFrame | None = None
    deals: pd.DataFrame | None = None
    snapshots: pd.DataFrame | None = None
    waterfall: dict[str, Any] = field(default_factory=dict)

    def money(self, heading: str) -> str:
        """A heading of amounts, with the currency when known: ``Cost (EUR)``."""
        return f"{heading} ({self.currency})" if self.currency else heading

    @property
    def stays(self) -> pd.DataFrame:
        """The selected stays (every stay without a selection)."""
        return self.table if self.selected is None else self.table[self.selected]


_TARGETS_HINT = (
    "No stage targets given: pass --targets targets.csv (columns stage, optional team, user, product, "
    "target_conversion_rate as a fraction, target_days_in_stage in days) to compare with targets."
)


def _stage_targets(frame: pd.DataFrame, targets: pd.DataFrame | None) -> tuple[pd.Series, pd.Series]:
    """Stage-wide targets (those not narrowed to a team, salesperson or product) for each row's stage."""
    if targets is None:
        nan = pd.Series(np.nan, index=frame.index)
        return nan, nan
    keys = frame[["stage"]]
    return (
        match_targets(keys, targets, "target_conversion_rate"),
        match_targets(keys, targets, "target_days_in_stage"),
    )


def _overview(data: _Inputs) -> _Section:
    table = data.table
    section = _Section(
        "overview",
        "Overview",
        "What this report covers: the leads in the table, how they ended so far, and the snapshot time at "
        "which open stays are measured.",
    )
    outcome = table.groupby("lead_id")["outcome"].first()
    rows = [
        ("Leads", fmt_count(len(outcome))),
        ("Stays (rows)", fmt_count(len(table))),
        ("Won", fmt_count((outcome == "won").sum())),
        ("Lost", fmt_count((outcome == "lost").sum())),
        ("Still open", fmt_count((outcome == "open").sum())),
        ("Stages", fmt_count(table[["stage", "stage_sequence"]].drop_duplicates().shape[0])),
        ("Salespeople", fmt_count(table["user"].nunique())),
        ("Teams", fmt_count(table["team"].nunique())),
        ("First entry", fmt_date(table["entered_at"].min())),
        ("Last entry", fmt_date(table["entered_at"].max())),
        ("Snapshot (as of)", data.as_of.strftime("%Y-%m-%d %H:%M UTC")),
    ]
    if data.selected is not None:
        rows.insert(2, ("Stays of the selection", fmt_count(data.selected.sum())))
    frame = pd.DataFrame(rows, columns=["measure", "value"])
    section.parts.append(
        html_table(frame, [("measure", "Measure", fmt_text), ("value", "Value", fmt_text)], "t-overview")
    )
    if data.selected is not None:
        section.note(
            "A selection (e.g. --team): conversion, time in stage, stuck leads and salesperson effectiveness "
            "count the selection's own stays, a lead's passage through a stage when its first stay there is "
            "selected, judged on the lead's whole history. The other sections cover these leads over their "
            "whole history."
        )
    return section


def _funnel(data: _Inputs) -> _Section:
    result = cumulative_funnel(data.table)
    section = _Section(
        "funnel",
        "Funnel",
        "How many leads got at least as far as each stage. A lead that jumped over a stage still counts as "
        "having got that far; open leads count for the stages they have reached.",
    )
    fig = _figure(7.5, 0.45 * len(result) + 1.2)
    ax = fig.add_subplot()
    labels = result["stage"].astype(str).tolist()
    y = np.arange(len(result))[::-1]
    ax.barh(y, result["reached"], color=_BLUE)
    ax.set_yticks(y, labels)
    for yi, reached, share in zip(y, result["reached"], result["share_of_first"], strict=True):
        ax.text(reached, yi, f"  {reached:,} ({fmt_share(share)})", va="center", fontsize=8)
    ax.set_xlabel("leads that reached the stage or a later one")
    ax.set_xlim(0, max(1, int(result["reached"].max())) * 1.25)
    _style(ax)
    ax.grid(axis="y", visible=False)
    section.parts.append(_image(fig, "funnel: leads reaching each stage"))
    section.parts.append(
        html_table(
            result,
            [
                ("stage", "Stage", fmt_text),
                ("reached", "Reached", fmt_count),
                ("share_of_first", "Of all", fmt_share),
            ],
            "t-funnel",
        )
    )
    return section


def _conversion(data: _Inputs) -> _Section:
    if data.selected is None:
        result = stage_conversion(data.table)
    else:
        result = selection_funnel(data.table, data.selected, as_of=data.as_of)
    target_rate, _ = _stage_targets(result, data.targets)
    result["target"] = target_rate.to_numpy()
    below = (result["conversion_rate"] < result["target"]).to_numpy(dtype=bool)  # NaN compares False
    result["off_target"] = pd.array(np.where(result["target"].notna(), below, None), dtype="boolean")
    plotted = result[result["stage"] != data.won_stage] if data.won_stage else result
    section = _Section(
        "conversion",
        "Conversion by stage",
        "Of the leads that entered a stage, the share that moved on to a later stage: moved forward / "
        "(moved forward + lost). Leads still in the stage are not failures and are left out of the rate.",
    )
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(plotted))
    rate = plotted["conversion_rate"].to_numpy(dtype="float64")
    off = plotted["off_target"].fillna(False).to_numpy(dtype=bool)
    ax.bar(x, np.nan_to_num(rate), color=[_RED if o else _BLUE for o in off], width=0.6)
    has_target = ~np.isnan(plotted["target"].to_numpy(dtype="float64"))
    if has_target.any():
        ax.scatter(
            x[has_target],
            plotted["target"].to_numpy()[has_target],
            marker="_",
            s=900,
            color="black",
            linewidths=2,
            zorder=3,
        )
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [
            Patch(color=_BLUE, label="conversion"),
            Patch(color=_RED, label="below target"),
            Line2D([], [], color="black", linewidth=2, label="target"),
        ]
        ax.legend(handles=handles, fontsize=8, frameon=False, loc="upper left", ncol=3)
    ax.set_xticks(x, plotted["stage"].astype(str).tolist(), rotation=20, ha="right")
    ax.set_ylim(0, 1.12)
    ax.set_yticks(np.linspace(0, 1, 6))
    _percent_axis(ax.yaxis)
    ax.set_ylabel("conversion")
    _style(ax)
    section.parts.append(_image(fig, "conversion rate per stage against its target"))
    section.parts.append(
        html_table(
            result,
            [
                ("stage", "Stage", fmt_text),
                ("entered", "Entered", fmt_count),
                ("advanced", "Moved forward", fmt_count),
                ("lost", "Lost", fmt_count),
                ("open", "Still in stage", fmt_count),
                ("conversion_rate", "Conversion", fmt_share),
                ("target", "Target", fmt_share),
                ("off_target", "Off target", fmt_bool),
            ],
            "t-conversion",
        )
    )
    if data.targets is None:
        section.note(_TARGETS_HINT)
    return section


def _time_in_stage(data: _Inputs) -> _Section:
    stays = data.stays
    result = time_in_stage(stays, as_of=data.as_of)
    if data.won_stage is not None:  # a won stay ends as it starts: no time to measure
        result.loc[result["stage"] == data.won_stage, ["median_days", "p90_days"]] = np.nan
    _, target_days = _stage_targets(result, data.targets)
    result["target_days"] = target_days.to_numpy()
    section = _Section(
        "time-in-stage",
        "Time in stage",
        "How long leads stay in each stage. The curves show the share of stays still in the stage after so "
        "many days; stays still open count as unfinished (Kaplan-Meier), so a stage where many leads sit "
        "does not look fast. A median stays empty while fewer than half of the stays have ended.",
    )
    days = stay_days(stays, data.as_of).to_numpy()
    closed = stays["left_at"].notna().to_numpy(dtype=bool)
    fig = _figure(7.5, 3.8)
    ax = fig.add_subplot()
    key = stays["stage"].astype(str) + "#" + stays["stage_sequence"].astype(str)
    finite_max = 0.0
    colours = ["#2f6db5", "#d9822b", "#3b9a57", "#c8423b", "#7b5ea7", "#8c6d46", "#d16ba5", "#5f9ea0"]
    drawn = 0
    for _, row in result.iterrows():
        mask = (key == f"{row['stage']}#{row['stage_sequence']}").to_numpy()
        if not mask.any() or days[mask].max() <= 0:  # a won stage: stays end as they start
            continue
        curve = kaplan_meier(days[mask], closed[mask])
        times = np.concatenate([[0.0], curve["time"].to_numpy()])
        survival = np.concatenate([[1.0], curve["survival"].to_numpy()])
        ax.step(times, survival, where="post", color=colours[drawn % len(colours)], label=str(row["stage"]))
        finite_max = max(finite_max, float(np.quantile(days[mask], 0.95)))
        drawn += 1
    if drawn:
        ax.legend(fontsize=8, frameon=False)
    ax.set_xlim(0, max(finite_max, 1.0))
    ax.set_ylim(0, 1.02)
    _percent_axis(ax.yaxis)
    ax.set_xlabel("days in stage")
    ax.set_ylabel("still in the stage")
    _style(ax)
    section.parts.append(_image(fig, "time in stage: share of stays still in the stage after x days"))
    section.parts.append(
        html_table(
            result,
            [
                ("stage", "Stage", fmt_text),
                ("n", "Stays", fmt_count),
                ("open", "Still open", fmt_count),
                ("median_days", "Median days", fmt_days),
                ("p90_days", "90th percentile days", fmt_days),
                ("target_days", "Target days", fmt_days),
            ],
            "t-time-in-stage",
        )
    )
    if data.targets is None:
        section.note(_TARGETS_HINT)
    return section


def _stuck(data: _Inputs) -> _Section:
    section = _Section(
        "stuck",
        "Stuck leads",
        "Open leads that have been in their current stage longer than the stage's days-in-stage target "
        "(the most specific target applies: salesperson, then team, then product, then the stage's own).",
    )
    if data.targets is None:
        section.note(_TARGETS_HINT.replace("to compare with targets", "to list the leads past their target"))
        return section
    result = stuck_leads(data.stays, data.targets, as_of=data.as_of)
    if result.empty:
        section.note("No open lead is past its days-in-stage target.")
        return section
    order = data.table.groupby("stage", sort=False)["stage_sequence"].min()
    per_stage = result.groupby("stage", sort=False).size()
    per_stage = per_stage.iloc[np.argsort(order.reindex(per_stage.index).to_numpy(), kind="stable")]
    fig = _figure(7.5, 0.4 * len(per_stage) + 1.2)
    ax = fig.add_subplot()
    y = np.arange(len(per_stage))[::-1]
    ax.barh(y, per_stage.to_numpy(), color=_ORANGE)
    ax.set_yticks(y, per_stage.index.astype(str).tolist())
    ax.set_xlabel("stuck leads")
    _style(ax)
    ax.grid(axis="y", visible=False)
    section.parts.append(_image(fig, "stuck leads per stage, in pipeline order"))
    section.note(f"{len(result):,} stuck lead(s), most overdue first.", "summary")
    named: list[Column] = []
    if "lead_name" in data.table.columns:
        names = data.table.groupby("lead_id", sort=False)["lead_name"].last()
        result["lead_name"] = result["lead_id"].map(names).to_numpy()
        named.append(("lead_name", "Name", fmt_text))
    section.parts.append(
        html_table(
            result,
            [
                ("lead_id", "Lead", fmt_id),
                *named,
                ("stage", "Stage", fmt_text),
                ("user", "Salesperson", fmt_text),
                ("team", "Team", fmt_text),
                ("entered_at", "Entered", fmt_date),
                ("days_in_stage", "Days in stage", fmt_days),
                ("target_days", "Target days", fmt_days),
                ("overdue_days", "Days overdue", fmt_days),
            ],
            "t-stuck",
            max_rows=50,
        )
    )
    return section


def _skips(data: _Inputs) -> _Section:
    result = stage_skips(data.table)
    section = _Section(
        "skips",
        "Skipped stages",
        "Moves that jumped over stages of the pipeline. Many skips of the same stage suggest it is not a "
        "real step of the sales process, or that it is not recorded when it happens.",
    )
    if result.empty:
        section.note("No move jumped over a stage.")
        return section
    section.parts.append(
        html_table(
            result,
            [
                ("from_stage", "From", fmt_text),
                ("to_stage", "To", fmt_text),
                ("skipped", "Stages skipped", fmt_count),
                ("moves", "Moves", fmt_count),
                ("leads", "Leads", fmt_count),
            ],
            "t-skips",
        )
    )
    return section


def _cohorts(data: _Inputs) -> _Section:
    result = cohort_conversion(data.table, freq="MS")
    section = _Section(
        "cohorts",
        "Cohorts",
        "Leads grouped by the month they entered the pipeline, and the share of each month's leads that "
        "reached each stage. Recent months have had less time: many of their leads are still open.",
    )
    reached = [c for c in result.columns if c.startswith("reached:")]
    fig = _figure()
    ax = fig.add_subplot()
    colours = ["#2f6db5", "#d9822b", "#3b9a57", "#c8423b", "#7b5ea7", "#8c6d46", "#d16ba5", "#5f9ea0"]
    months = result["cohort"].dt.tz_convert(None)
    for i, column in enumerate(reached[1:]):  # the first stage is 100 % by construction
        ax.plot(
            months,
            result[column],
            marker="o",
            markersize=3,
            color=colours[i % len(colours)],
            label=column.removeprefix("reached:"),
        )
    if len(reached) > 1:
        ax.legend(fontsize=8, frameon=False, ncol=2)
    ax.set_ylim(0, 1.02)
    _percent_axis(ax.yaxis)
    ax.set_ylabel("share of the month's leads")
    _style(ax)
    ax.tick_params(axis="x", labelrotation=30)
    section.parts.append(_image(fig, "cohorts: share of each month's leads reaching each stage"))
    columns: list[Column] = [
        ("cohort", "Month", fmt_month),
        ("leads", "Leads", fmt_count),
        ("won", "Won", fmt_count),
        ("lost", "Lost", fmt_count),
        ("open", "Open", fmt_count),
    ]
    columns += [(c, f"Reached {c.removeprefix('reached:')}", fmt_share) for c in reached[1:]]
    section.parts.append(html_table(result, columns, "t-cohorts"))
    return section


def _won_stage(table: pd.DataFrame) -> str | None:
    """The won stage: the latest stage (by sequence) that holds won leads only; None if no lead is won."""
    per_stage = table.groupby(["stage_sequence", "stage"], sort=True)["outcome"].agg(
        lambda s: bool((s == "won").all())
    )
    won = per_stage[per_stage]
    return None if won.empty else str(won.index[-1][1])


def _effectiveness(data: _Inputs) -> _Section:
    stages = (
        data.table[["stage_sequence", "stage"]].drop_duplicates().sort_values(["stage_sequence", "stage"])
    )
    target = data.won_stage or str(stages["stage"].iloc[-1])
    section = _Section(
        "effectiveness",
        "Salesperson effectiveness",
        f"Per salesperson, the share of the leads they had in the first stage that reached {target}, with a "
        f"95 % interval (Wilson). Leads still open are left out; a rate is shown from {MIN_SAMPLE} decided "
        "leads on, so that a few lucky deals do not top the list. Overlapping intervals mean the data cannot "
        "tell the two apart.",
    )
    if len(stages) < 2:
        section.note("The pipeline has a single stage: there is nothing to reach.")
        return section
    result = rep_effectiveness(data.table, target_stage=target, min_sample=MIN_SAMPLE, selected=data.selected)
    known = result[result["enough_data"]]
    if not known.empty:
        fig = _figure(7.5, 0.38 * len(known) + 1.3)
        ax = fig.add_subplot()
        y = np.arange(len(known))[::-1]
        rate = known["rate"].to_numpy(dtype="float64")
        low = rate - known["ci_low"].to_numpy(dtype="float64")
        high = known["ci_high"].to_numpy(dtype="float64") - rate
        ax.errorbar(rate, y, xerr=[low, high], fmt="o", color=_BLUE, ecolor=_GREY, capsize=3)
        ax.set_yticks(y, known["user"].astype(str).tolist())
        top = float(np.nanmax(known["ci_high"].to_numpy(dtype="float64")))
        ax.set_xlim(0, min(1.0, max(top * 1.15, 0.05)))
        _percent_axis(ax.xaxis)
        ax.set_xlabel(f"share of leads reaching {target}")
        _style(ax)
        section.parts.append(_image(fig, "salesperson effectiveness with 95 % intervals"))
    else:
        section.note(f"No salesperson has {MIN_SAMPLE} decided leads yet: rates would be guesses.")
    section.parts.append(
        html_table(
            result,
            [
                ("user", "Salesperson", fmt_text),
                ("started", "Leads", fmt_count),
                ("reached", f"Reached {target}", fmt_count),
                ("lost_before", "Lost before", fmt_count),
                ("open", "Open", fmt_count),
                ("rate", "Rate", fmt_share),
                ("ci_low", "95 % low", fmt_share),
                ("ci_high", "95 % high", fmt_share),
            ],
            "t-effectiveness",
        )
    )
    return section


def _calibration(data: _Inputs) -> _Section:
    section = _Section(
        "calibration",
        "Calibration of stage probabilities",
        "For each stage, the chance that a lead entering it is eventually won, as observed, against the "
        "probability the CRM states for the stage. The observed chance is built stage by stage from leads "
        "that have decided, so leads still open do not drag it down. Points on the diagonal are well "
        "calibrated; the bars are 95 % intervals.",
    )
    result = calibration(data.table, data.stated or {})
    brier = result.attrs.get("brier", math.nan)
    stated = result["stated"].to_numpy(dtype="float64")
    has_stated = ~np.isnan(stated)
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    observed = result["observed"].to_numpy(dtype="float64")
    low = np.clip(observed - result["ci_low"].to_numpy(dtype="float64"), 0, None)
    high = np.clip(result["ci_high"].to_numpy(dtype="float64") - observed, 0, None)
    if has_stated.any():
        ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1, label="perfect calibration")
        shown = has_stated & ~np.isnan(observed)
        if shown.any():
            ax.errorbar(
                stated[shown],
                observed[shown],
                yerr=[low[shown], high[shown]],
                fmt="o",
                color=_BLUE,
                ecolor=_GREY,
                capsize=3,
                label="stage",
            )
        for x, y_, name in zip(
            stated[has_stated], observed[has_stated], result["stage"][has_stated], strict=True
        ):
            if not np.isnan(y_):
                ax.annotate(str(name), (x, y_), textcoords="offset points", xytext=(5, 4), fontsize=8)
        ax.set_xlim(-0.02, 1.02)
        ax.set_xlabel("stated probability")
        _percent_axis(ax.xaxis)
        ax.legend(fontsize=8, frameon=False, loc="upper left")
    else:
        x = np.arange(len(result))
        known = ~np.isnan(observed)
        if known.any():
            ax.errorbar(
                x[known],
                observed[known],
                yerr=[low[known], high[known]],
                fmt="o",
                color=_BLUE,
                ecolor=_GREY,
                capsize=3,
            )
        ax.set_xticks(x, result["stage"].astype(str).tolist(), rotation=20, ha="right")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("observed chance of winning")
    _percent_axis(ax.yaxis)
    _style(ax)
    section.parts.append(_image(fig, "calibration: stated against observed probability of winning"))
    if has_stated.any():
        section.note(
            f"Brier score of the stated probabilities: {fmt_number(brier)} over "
            f"{fmt_count(result.attrs.get('brier_stays', 0))} stays of decided leads (0 is perfect; "
            "0.25 is what stating 50 % everywhere scores on an even split; lower is better).",
            "summary",
        )
    else:
        section.note(
            "No stated probabilities given: pass --stated stated.csv (columns stage, probability as a "
            "fraction, e.g. Odoo's stage probability / 100) to compare them with what is observed and get a "
            "Brier score."
        )
    section.parts.append(
        html_table(
            result,
            [
                ("stage", "Stage", fmt_text),
                ("stated", "Stated", fmt_share),
                ("observed", "Observed", fmt_share),
                ("ci_low", "95 % low", fmt_share),
                ("ci_high", "95 % high", fmt_share),
                ("n", "Decided leads", fmt_count),
                ("recommended", "Recommended", fmt_share),
            ],
            "t-calibration",
        )
    )
    return section


def _cost(data: _Inputs) -> _Section:
    by = data.cost_by
    section = _Section(
        "cost",
        "Cost per lead",
        f"Acquisition cost per lead and per qualified lead (a lead that reached the second stage or later), "
        f"by {by}. A lead counts once, in the month it entered the pipeline.",
    )
    if data.costs is None:
        section.note(
            f"No costs given: pass --costs costs.csv (columns {by}, period such as 2024-03, cost) to see "
            f"what a lead costs per {by}."
        )
        return section
    if data.cost_note:
        section.note(data.cost_note)
    result = cost_per_lead(data.table, data.costs, by=by)
    totals = result.groupby(by, dropna=False, sort=False)[["leads", "cost", "qualified"]].sum().reset_index()
    with np.errstate(invalid="ignore", divide="ignore"):
        totals["cost_per_lead"] = np.where(totals["leads"] > 0, totals["cost"] / totals["leads"], np.nan)
        totals["cost_per_qualified"] = np.where(
            totals["qualified"] > 0, totals["cost"] / totals["qualified"], np.nan
        )
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(totals))
    ax.bar(x - 0.2, totals["cost_per_lead"].fillna(0), width=0.4, color=_BLUE, label="per lead")
    ax.bar(
        x + 0.2, totals["cost_per_qualified"].fillna(0), width=0.4, color=_GREEN, label="per qualified lead"
    )
    ax.set_xticks(x, [fmt_text(v) for v in totals[by]])
    ax.set_ylabel(data.money("cost"))
    ax.legend(fontsize=8, frameon=False)
    _style(ax)
    section.parts.append(_image(fig, f"cost per lead and per qualified lead by {by}"))
    money: list[Column] = [
        ("leads", "Leads", fmt_count),
        ("cost", data.money("Cost"), fmt_money),
        ("cost_per_lead", data.money("Per lead"), fmt_money),
        ("qualified", "Qualified", fmt_count),
        ("cost_per_qualified", data.money("Per qualified"), fmt_money),
    ]
    section.parts.append(html_table(totals, [(by, by.capitalize(), fmt_text), *money], "t-cost-total"))
    section.parts.append(
        "<details><summary>Per month</summary>"
        + html_table(
            result, [(by, by.capitalize(), fmt_text), ("period", "Month", fmt_month), *money], "t-cost"
        )
        + "</details>"
    )
    return section


def _forecast(data: _Inputs) -> _Section:
    result = forecast(data.table, as_of=data.as_of, freq="MS", horizon=6)
    has_revenue = "expected_revenue" in result.columns
    section = _Section(
        "forecast",
        "Forecast",
        "When the open leads are expected to close, and how many wins to expect: each open lead counts for "
        "its stage's observed chance of winning, in the month it should close given the median time of the "
        "stages ahead of it. The first bar gathers the overdue leads, which should have closed before the "
        "snapshot; the last bar everything later or not yet predictable.",
    )
    from matplotlib.ticker import FuncFormatter

    fig = _figure()
    ax = fig.add_subplot()
    labels = _forecast_labels(result)
    x = np.arange(len(result))
    colours = [
        _RED if overdue else _GREY if later else _GREEN
        for overdue, later in zip(result["overdue"], result["later"], strict=True)
    ]
    ax.bar(x, result["expected_wins"], color=colours)
    ax.set_xticks(x, labels)
    ax.set_ylabel("expected wins")
    _style(ax)
    if has_revenue:
        twin = ax.twinx()
        twin.plot(x, result["expected_revenue"], color=_ORANGE, marker="o", label="expected revenue")
        twin.set_ylabel(data.money("expected revenue"))
        twin.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        twin.spines[["top"]].set_visible(False)
        twin.tick_params(labelsize=9)
        twin.legend(fontsize=8, frameon=False, loc="upper right")
    section.parts.append(_image(fig, "forecast: expected wins per month"))
    frame = result.assign(label=labels)
    columns: list[Column] = [
        ("label", "Month", fmt_text),
        ("open_leads", "Open leads closing", fmt_count),
        ("expected_wins", "Expected wins", fmt_number),
    ]
    if has_revenue:
        columns.append(("expected_revenue", data.money("Expected revenue"), fmt_money))
    section.parts.append(html_table(frame, columns, "t-forecast"))
    without = int(result.attrs.get("leads_without_probability", 0))
    if without:
        section.note(f"{without:,} open lead(s) sit in stages with no estimate yet and add no expected win.")
    return section


def _forecast_labels(result: pd.DataFrame) -> list[str]:
    """The rows of a :func:`~funnel_metrics.forecast.forecast` as the report names them: ``overdue``, the
    months (``2024-03``), ``later``."""
    return [
        "overdue" if overdue else "later" if later else fmt_month(period)
        for period, overdue, later in zip(result["period"], result["overdue"], result["later"], strict=True)
    ]


PHASE_HINT = (
    "No decision phase history given: pass --phase-changes phases.csv (columns lead_id, changed_at as ISO "
    "8601, phase, optional phase_sequence) to see the win rate by stage and decision phase and whether the "
    "phase improves the forecast."
)


def fmt_score(value: Any) -> str:
    """A Brier score or a difference of two, with four decimals."""
    return _DASH if _missing(value) else f"{float(value):.4f}"


def _decision_phase(data: _Inputs) -> _Section:
    section = _Section(
        "decision-phase",
        "Decision phase and win rate",
        "At every month end, each open lead's stage and its customer's decision phase then, against how the "
        "lead ended: the win rate per stage and phase (a lead once per stage and phase; leads still open are "
        "in no rate), and whether knowing the phase forecasts better than the stage alone on the last "
        "months, fitted on the months before each. The bars are 95 % intervals; the line is the stage's "
        "rate.",
    )
    if data.phase_changes is None:
        section.note(data.phase_note or PHASE_HINT)
        return section
    observations = phase_observations(data.table, data.phase_changes, as_of=data.as_of)
    rates = phase_win_rates(observations)
    gain = phase_forecast_gain(observations)
    section.note(GAIN_VERDICTS[gain.attrs["verdict"]], "summary")
    if gain.attrs["n"]:
        section.note(
            f"Brier score on {fmt_count(gain.attrs['n'])} held-out observations of "
            f"{fmt_count(gain.attrs['leads'])} leads (lower is better): stage alone "
            f"{fmt_score(gain.attrs['brier_stage'])}, stage and phase "
            f"{fmt_score(gain.attrs['brier_phase'])}; "
            f"gain {fmt_score(gain.attrs['gain'])} (95 % interval {fmt_score(gain.attrs['ci_low'])} to "
            f"{fmt_score(gain.attrs['ci_high'])}; above 0 the phase helps).",
            "summary",
        )
    if rates.empty:
        section.note("No lead was open at a month end: nothing to compare yet.")
        return section
    phases = rates.drop_duplicates("phase").sort_values("phase_sequence", kind="stable")["phase"].tolist()
    stages = rates.drop_duplicates("stage")["stage"].tolist()
    fig = _figure(7.5, 4.0)
    ax = fig.add_subplot()
    width = 0.8 / max(len(phases), 1)
    palette = [_BLUE, _GREEN, _ORANGE, _RED, "#7b5ea7", "#2a9d8f", "#b5842f"]
    colours = [_GREY if phase == NO_PHASE else palette[j % len(palette)] for j, phase in enumerate(phases)]
    position = {stage: i for i, stage in enumerate(stages)}
    for j, phase in enumerate(phases):
        rows = rates[(rates["phase"] == phase) & (rates["n"] > 0)]
        x = rows["stage"].map(position).to_numpy(dtype="float64") - 0.4 + width * (j + 0.5)
        rate = rows["rate"].to_numpy(dtype="float64")
        ax.bar(x, rate, width=width, color=colours[j], label=str(phase))
        ax.errorbar(
            x,
            rate,
            yerr=[
                rate - rows["ci_low"].to_numpy(dtype="float64"),
                rows["ci_high"].to_numpy(dtype="float64") - rate,
            ],
            fmt="none",
            ecolor="#1f2328",
            capsize=2,
            linewidth=0.8,
        )
    per_stage = rates.drop_duplicates("stage")
    ax.hlines(
        per_stage["stage_rate"], np.arange(len(stages)) - 0.45, np.arange(len(stages)) + 0.45, color="#1f2328"
    )
    ax.set_xticks(np.arange(len(stages)), stages, rotation=15, ha="right")
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("win rate")
    _percent_axis(ax.yaxis)
    ax.legend(
        fontsize=8,
        frameon=False,
        title="decision phase",
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
    )
    _style(ax)
    section.parts.append(_image(fig, "win rate by stage and decision phase"))
    section.parts.append(
        html_table(
            rates,
            [
                ("stage", "Stage", fmt_text),
                ("phase", "Decision phase", fmt_text),
                ("n", "Decided leads", fmt_count),
                ("won", "Won", fmt_count),
                ("rate", "Win rate", fmt_share),
                ("ci_low", "95 % low", fmt_share),
                ("ci_high", "95 % high", fmt_share),
                ("stage_rate", "Stage's rate", fmt_share),
                ("open", "Still open", fmt_count),
            ],
            "t-decision-phase",
        )
    )
    section.parts.append(
        "<details><summary>Per held-out month</summary>"
        + html_table(
            gain,
            [
                ("month", "Month", fmt_text),
                ("n", "Observations", fmt_count),
                ("brier_stage", "Brier, stage", fmt_score),
                ("brier_phase", "Brier, stage and phase", fmt_score),
                ("gain", "Gain", fmt_score),
                ("ci_low", "95 % low", fmt_score),
                ("ci_high", "95 % high", fmt_score),
            ],
            "t-decision-phase-months",
        )
        + "</details>"
    )
    return section


_WARNING_TESTS = {
    "conversion_vs_baseline": "conversion below baseline",
    "conversion_vs_target": "conversion below target",
    "days_vs_baseline": "slower than baseline",
    "days_vs_target": "median days over target",
}


def _fmt_p(value: Any) -> str:
    """A p-value with two significant digits (``0.0031``, ``2.4e-06``)."""
    return _DASH if _missing(value) else f"{float(value):.2g}"


def _early_warning(data: _Inputs) -> _Section:
    result = early_warnings(data.table, data.as_of, data.targets)
    q, tests = result.attrs["q"], result.attrs["tests"]
    section = _Section(
        "early-warning",
        "Early warning",
        "Per sales team, salesperson, product and source, and per stage: the conversion and time in stage of "
        "the last 4 weeks against the segment's own 26 weeks before, and against its target. A warning is a "
        "drop the data makes significant: the week's tests are adjusted together (Benjamini-Hochberg), so at "
        f"most {q:.0%} of the warnings are expected to be false alarms. Segments with fewer than "
        f"{result.attrs['min_n']} decided leads or stays in a window are not tested.",
    )
    conversion = result[(result["test"] == "conversion_vs_baseline") & result["p_value"].notna()]
    shown = conversion.sort_values("p_value", kind="stable").head(12)
    if not shown.empty:
        fig = _figure(7.5, 0.38 * len(shown) + 1.4)
        ax = fig.add_subplot()
        y = np.arange(len(shown))[::-1]
        recent = shown["recent_rate"].to_numpy(dtype="float64")
        flagged = shown["warning"].to_numpy(dtype=bool)
        ax.scatter(shown["baseline_rate"], y, color=_GREY, label="baseline (26 weeks before)", zorder=3)
        ax.errorbar(
            recent,
            y,
            xerr=[recent - shown["ci_low"].to_numpy(dtype="float64"), shown["ci_high"].to_numpy() - recent],
            fmt="none",
            ecolor=_GREY,
            capsize=3,
        )
        ax.scatter(recent, y, color=[_RED if f else _BLUE for f in flagged], label="last 4 weeks", zorder=4)
        labels = [
            f"{kind} {segment} / {stage}"
            for kind, segment, stage in shown[["segment_kind", "segment", "stage"]].itertuples(index=False)
        ]
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 1)
        _percent_axis(ax.xaxis)
        ax.set_xlabel("conversion (red: warning; bars: 95 % interval of the last 4 weeks)")
        ax.legend(fontsize=8, frameon=False, loc="lower right")
        _style(ax)
        section.parts.append(
            _image(fig, "conversion of the last 4 weeks against the baseline, closest calls")
        )
    warnings = result[result["warning"]]
    if warnings.empty:
        section.note(f"No warning this week: none of the {tests:,} tests shows a significant drop.")
    else:
        section.note(f"{len(warnings):,} warning(s) out of {tests:,} tests.", css="note")
        section.parts.append(
            html_table(
                warnings.assign(what=warnings["test"].map(_WARNING_TESTS)),
                [
                    ("segment_kind", "Segment", fmt_text),
                    ("segment", "Value", fmt_text),
                    ("stage", "Stage", fmt_text),
                    ("what", "Warning", fmt_text),
                    ("recent_n", "Recent n", fmt_count),
                    ("recent_rate", "Recent rate", fmt_share),
                    ("baseline_rate", "Baseline rate", fmt_share),
                    ("target_rate", "Target rate", fmt_share),
                    ("recent_days", "Recent days", fmt_days),
                    ("baseline_days", "Baseline days", fmt_days),
                    ("target_days", "Target days", fmt_days),
                    ("ci_low", "95 % low", fmt_number),
                    ("ci_high", "95 % high", fmt_number),
                    ("p_value", "p", _fmt_p),
                    ("adjusted_p", "Adjusted p", _fmt_p),
                ],
                "t-early-warning",
                max_rows=50,
            )
        )
    if data.targets is None:
        section.note(_TARGETS_HINT)
    return section


_ACTIVITIES_HINT = (
    "No activities given: pass --activities activities.csv (columns lead_id, activity_type, done_at, user: "
    "one row per completed activity; with --url they are read from Odoo) to see which activities win deals."
)
MAX_ACTIVITY_COUNT = 5
"""The last bucket of the activity counts in the report: ``5+``."""


def _activity_wins(data: _Inputs) -> _Section:
    section = _Section(
        "activity-wins",
        "Which activities win deals",
        "Per type of completed activity, the win rate of the decided deals by how many of that type they had "
        f"before the decision (0, 1, ... {MAX_ACTIVITY_COUNT}+), with 95 % intervals (Wilson). Open deals "
        "are left out, never counted as lost. The points where more stops raising, or starts lowering, the "
        "win rate are stated only where the intervals (adjusted for the many buckets looked at) do not "
        "overlap. What won deals had is not proof of what won them.",
    )
    if data.activities is None:
        section.note(_ACTIVITIES_HINT)
        return section
    deals = deals_from_transitions(data.table) if data.deals is None else data.deals
    by_count = win_rate_by_count(data.activities, deals, MAX_ACTIVITY_COUNT)
    if by_count.empty:
        section.note("No completed activity on a decided deal: nothing to compare.")
        return section
    points = saturation(by_count)
    fig = _figure(7.5, 3.8)
    ax = fig.add_subplot()
    types = points["activity_type"].astype(str).tolist()
    for offset, name in zip(np.linspace(-0.15, 0.15, len(types)), types, strict=True):
        rows = by_count[(by_count["activity_type"] == name) & (by_count["deals"] > 0)]
        rate = rows["win_rate"].to_numpy(dtype="float64")
        ax.errorbar(
            rows["count"].to_numpy() + offset,
            rate,
            yerr=[
                rate - rows["ci_low"].to_numpy(dtype="float64"),
                rows["ci_high"].to_numpy(dtype="float64") - rate,
            ],
            fmt="o-",
            capsize=3,
            label=name,
        )
    labels = by_count["bucket"].iloc[: MAX_ACTIVITY_COUNT + 1].astype(str).tolist()
    ax.set_xticks(range(MAX_ACTIVITY_COUNT + 1), labels)
    ax.set_xlabel("completed activities of the type before the decision")
    ax.set_ylabel("win rate")
    ax.set_ylim(bottom=0)
    _percent_axis(ax.yaxis)
    ax.legend(fontsize=8, frameon=False)
    _style(ax)
    section.parts.append(_image(fig, "win rate by number of activities of each type, with 95 % intervals"))
    for row in points.itertuples(index=False):
        said = []
        if not pd.isna(row.useful_count):
            said.append(f"more go with a higher win rate up to {row.useful_count}; beyond, no clear gain")
        if not pd.isna(row.lowering_from):
            said.append(f"from {row.lowering_from} on, more go with a lower win rate")
        section.note(
            f"{row.activity_type}: "
            + ("; ".join(said) if said else "the data states no effect of the count"),
            "summary",
        )
    section.parts.append(
        html_table(
            by_count,
            [
                ("activity_type", "Activity type", fmt_text),
                ("bucket", "Activities", fmt_text),
                ("deals", "Deals", fmt_count),
                ("won", "Won", fmt_count),
                ("win_rate", "Win rate", fmt_share),
                ("ci_low", "95 % low", fmt_share),
                ("ci_high", "95 % high", fmt_share),
            ],
            "t-activity-wins",
        )
    )
    section.parts.append(
        html_table(
            activity_sequences(data.activities, deals),
            [
                ("sequence", "First activities, in order", fmt_text),
                ("deals", "Deals", fmt_count),
                ("won_share", "Share of won deals", fmt_share),
                ("lost_share", "Share of lost deals", fmt_share),
                ("win_rate", "Win rate", fmt_share),
                ("ci_low", "95 % low", fmt_share),
                ("ci_high", "95 % high", fmt_share),
            ],
            "t-activity-sequences",
        )
    )
    section.parts.append(
        html_table(
            touch_gaps(data.activities, deals),
            [
                ("outcome", "Deals", fmt_text),
                ("deals", "With 2+ activities", fmt_count),
                ("gaps", "Gaps", fmt_count),
                ("median_days", "Median days between touches", fmt_days),
                ("p90_days", "90th percentile (days)", fmt_days),
            ],
            "t-activity-gaps",
        )
    )
    return section


_SNAPSHOTS_HINT = (
    "No month-end snapshots given: pass --snapshots snapshots.csv (columns lead_id, snapshot_date, stage, "
    "probability as a fraction, outcome won/lost/open; Odoo's CRM › Reporting › Month-End Snapshots, or "
    "--url reads them) to see how often each band of stated probability was won."
)


def _probability_bands(data: _Inputs) -> _Section:
    from funnel_metrics.probability_bands import probability_bands

    section = _Section(
        "probability-bands",
        "Calibration by month-end snapshots",
        "Every month end, each open opportunity with the probability it stood at (set by its stage, a "
        "salesperson or predictive scoring). Per band of stated probability: how often those opportunities "
        "were won since. Points on the diagonal are well calibrated; the bars are 95 % intervals, in which "
        "the several month ends of one opportunity count as one outcome.",
    )
    if data.snapshots is None:
        section.note(_SNAPSHOTS_HINT)
        return section
    result = probability_bands(data.snapshots)
    shown = result[result["n"] > 0]
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color=_GREY, linestyle="--", linewidth=1, label="perfect calibration")
    if not shown.empty:
        observed = shown["observed"].to_numpy(dtype="float64")
        ax.errorbar(
            shown["mean_stated"].to_numpy(dtype="float64"),
            observed,
            yerr=[
                np.clip(observed - shown["ci_low"].to_numpy(dtype="float64"), 0, None),
                np.clip(shown["ci_high"].to_numpy(dtype="float64") - observed, 0, None),
            ],
            fmt="o",
            color=_BLUE,
            ecolor=_GREY,
            capsize=3,
            label="band of stated probability",
        )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("stated probability at the month end")
    ax.set_ylabel("share won")
    _percent_axis(ax.xaxis)
    _percent_axis(ax.yaxis)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    _style(ax)
    section.parts.append(_image(fig, "month-end snapshots: stated probability against share won"))
    attrs = result.attrs
    section.note(
        f"Brier score of the stated probabilities: {fmt_number(attrs['brier'])} over "
        f"{fmt_count(attrs['brier_snapshots'])} snapshots of decided opportunities (0 is perfect; 0.25 is "
        f"what stating 50 % everywhere scores on an even split). {fmt_count(attrs['open_snapshots'])} "
        "snapshots of opportunities still open are left out: they have no outcome yet, and the decided ones "
        "lean toward the deals that decided quickly -- prefer month ends old enough to be mostly decided.",
        "summary",
    )
    section.parts.append(
        html_table(
            result,
            [
                ("band", "Stated", fmt_text),
                ("mean_stated", "Mean stated", fmt_share),
                ("observed", "Won", fmt_share),
                ("ci_low", "95 % low", fmt_share),
                ("ci_high", "95 % high", fmt_share),
                ("n", "Decided snapshots", fmt_count),
                ("leads", "Decided opportunities", fmt_count),
                ("open", "Still open", fmt_count),
            ],
            "t-probability-bands",
        )
    )
    return section


_BUILDERS: dict[str, Callable[[_Inputs], _Section]] = {
    "overview": _overview,
    "funnel": _funnel,
    "conversion": _conversion,
    "time-in-stage": _time_in_stage,
    "stuck": _stuck,
    "skips": _skips,
    "cohorts": _cohorts,
    "effectiveness": _effectiveness,
    "calibration": _calibration,
    "cost": _cost,
    "forecast": _forecast,
    "activity-wins": _activity_wins,
    "probability-bands": _probability_bands,
    "decision-phase": _decision_phase,
    "early-warning": _early_warning,
}


# ------------------------------------------------------------------------------------------------------
# the page
# ------------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;margin:0;
background:#f6f7f9;line-height:1.45}
header{background:#1f3b5c;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:24px}
header p{margin:0;opacity:.85;font-size:14px}
nav{background:#fff;border-bottom:1px solid #dde1e6;padding:8px 32px;font-size:13px;position:sticky;top:0}
nav a{color:#2f6db5;text-decoration:none;margin-right:14px;white-space:nowrap}
main{max-width:1000px;margin:0 auto;padding:12px 24px 48px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:18px 0;padding:16px 22px}
h2{font-size:19px;margin:0 0 6px}
p.caption{color:#4a5260;margin:0 0 12px;font-size:14px}
p.note{background:#fff8e6;border-left:3px solid #d9822b;padding:8px 12px;font-size:13px}
p.summary{font-size:13px;color:#1f2328}
img{max-width:100%;height:auto;display:block;margin:8px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0;min-width:50%}
th,td{border-bottom:1px solid #e4e6ea;padding:4px 10px;text-align:left}
th{background:#f0f2f5;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.more td{color:#6a7280;font-style:italic}
details summary{cursor:pointer;color:#2f6db5;font-size:13px;margin-top:8px}
footer{color:#6a7280;font-size:12px;text-align:center;padding:16px}
"""


def build_report(
    transitions: pd.DataFrame,
    targets: pd.DataFrame | None = None,
    costs: pd.DataFrame | None = None,
    stated: Mapping[str, float] | None = None,
    as_of: TimestampLike | None = None,
    title: str = DEFAULT_TITLE,
    *,
    cost_by: str = "source",
    cost_note: str | None = None,
    progress: bool = False,
    selected: pd.Series | np.ndarray | None = None,
    currency: str | None = None,
    phase_changes: pd.DataFrame | None = None,
    phase_note: str | None = None,
    activities: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
    snapshots: pd.DataFrame | None = None,
    waterfall: Mapping[str, Any] | None = None,
) -> str:
    """Build the HTML report of a transitions table.

    :param transitions: a transitions table (validated first); must hold at least one stay
    :param targets: stage targets (see :mod:`funnel_metrics.targets`), or None: the conversion and time
        sections then show no target and the stuck-leads section says to pass ``--targets``
    :param costs: acquisition costs (``cost_by``, ``period``, ``cost``; see
        :func:`~funnel_metrics.cost.cost_per_lead`), or None
    :param stated: stage name -> stated probability of winning (fraction), or None
    :param as_of: snapshot time of the open stays (naive = UTC); default the latest timestamp in the table
    :param title: the page title
    :param cost_by: the column costs are given by (``source`` by default; ``campaign``, ``team``...)
    :param cost_note: a sentence shown above the cost tables, on where the costs come from (e.g. that the
        campaigns' costs of Odoo have no real month), or None
    :param progress: a tqdm progress bar over the sections (on stderr)
    :param selected: one bool per row of ``transitions`` (NA = not selected): the stays of a selection, e.g.
        of some teams (:func:`funnel_metrics.extract.team_stays`), the table holding the whole history of
        its leads. The sections on stages and salespersons (conversion, time in stage, stuck leads,
        effectiveness) then count what the selection is credited with, as the addon's Funnel report filtered
        on those teams (a lead's passage through a stage counts when its first stay there is selected); the
        sections on leads (overview, funnel, skips, cohorts, calibration, cost, forecast) cover the table's
        leads over their whole history. None: every stay.
    :param currency: the currency of the amounts (costs, expected revenues), e.g. ``EUR``, shown with their
        headings; None: amounts without a currency
    :param phase_changes: the customers' decision phase changes (``lead_id``, ``changed_at``, ``phase``,
        see :mod:`funnel_metrics.decision_phase`), or None: the decision phase section then says which
        option to pass (or ``phase_note``, e.g. why Odoo gave none)
    :param phase_note: a sentence shown in the decision phase section when there are no phase changes
    :param activities: the completed activities of the table's leads (see
        :mod:`funnel_metrics.activity_wins`), or None: the section on which activities win deals then says
        to pass ``--activities``
    :param deals: the decided deals of the table's leads as the CRM decides them (e.g.
        :func:`funnel_metrics.extract.extract_deals`), or None: derived from the table
        (:func:`~funnel_metrics.activity_wins.deals_from_transitions`)
    :param snapshots: month-end probability snapshots (see :mod:`funnel_metrics.probability_bands`), or
        None: the section on them then says to pass ``--snapshots``
    :param waterfall: the demand waterfall's inputs (see :func:`_waterfall`): ``phase_stays`` (a phase stays
        table), optional ``handoffs``, ``targets`` (phase targets), ``note`` (shown when there are no phase
        stays, e.g. why Odoo gave none); None or no ``phase_stays``: the section says which option to pass
    :return: the page, a complete HTML document (UTF-8 text) with the sections of :data:`SECTIONS`
    :raises TransitionsError: the table is invalid or empty.
    :raises ValueError: bad ``as_of``, invalid targets, costs or stated probabilities, or ``selected`` not
        one bool per row.
    """
    from tqdm.auto import tqdm

    table = validate_transitions(transitions)
    if table.empty:
        raise TransitionsError("the transitions table is empty: there is nothing to report on")
    snapshot = _latest_timestamp(table) if as_of is None else _as_timestamp(as_of)
    mask = _selection(selected, len(table))
    data = _Inputs(
        table, snapshot, targets, costs, stated, cost_by, _won_stage(table), cost_note, mask, currency
    )
    data.phase_changes, data.phase_note = phase_changes, phase_note
    data.activities = None if activities is None else validate_activities(activities)
    data.deals = None if deals is None else validate_deals(deals)
    data.snapshots = snapshots
    data.waterfall = {**(waterfall or {}), "as_of": as_of}
    sections = []
    for section_id, _ in tqdm(SECTIONS, desc="report", unit=" sections", disable=not progress):
        sections.append(_BUILDERS[section_id](data))
    nav = "".join(f'<a href="#{s.id}">{html.escape(s.title)}</a>' for s in sections)
    leads = table["lead_id"].nunique()
    subtitle = (
        f"{leads:,} leads, {len(table):,} stays, entered {fmt_date(table['entered_at'].min())} to "
        f"{fmt_date(table['entered_at'].max())}; snapshot {snapshot.strftime('%Y-%m-%d %H:%M')} UTC"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<nav>{nav}</nav><main>{''.join(s.html() for s in sections)}</main>"
        "<footer>Made with funnel_metrics (Pipeline Discipline).</footer></body></html>\n"
    )


def _as_timestamp(value: TimestampLike) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"as_of: cannot read {value!r} as a timestamp (use ISO 8601, e.g. 2024-03-01)"
        ) from exc
    if stamp is pd.NaT:
        raise ValueError(f"as_of: cannot read {value!r} as a timestamp (use ISO 8601, e.g. 2024-03-01)")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


# ------------------------------------------------------------------------------------------------------
# side tables from CSV
# ------------------------------------------------------------------------------------------------------


def _read_csv(path: str | os.PathLike[str], what: str, required: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise ValueError(f"{what} file {os.fspath(path)!r} is empty: it needs a header row") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} file {os.fspath(path)!r} is missing column(s): {', '.join(missing)} "
            f"(it has: {', '.join(frame.columns)})"
        )
    return frame


def load_targets(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a targets CSV (``stage``, optional ``team``/``user``/``product``, ``target_conversion_rate`` as a
    fraction, ``target_days_in_stage`` in days) and check it.

    :raises ValueError: a missing ``stage`` column, neither measure, or a bad value (the message says which).
    :raises FileNotFoundError: no such file.
    """
    frame = _read_csv(path, "targets", ["stage"])
    if not {"target_conversion_rate", "target_days_in_stage"} & set(frame.columns):
        raise ValueError(
            f"targets file {os.fspath(path)!r} has neither target_conversion_rate nor target_days_in_stage"
        )
    for measure in ("target_conversion_rate", "target_days_in_stage"):
        try:
            match_targets(pd.DataFrame({"stage": pd.Series(dtype="string")}), frame, measure)
        except ValueError as exc:
            raise ValueError(f"targets file {os.fspath(path)!r}: {exc}") from None
    return frame


def load_costs(path: str | os.PathLike[str], by: str = "source") -> pd.DataFrame:
    """Read a costs CSV (``<by>``, ``period``, ``cost``); the values are checked by ``cost_per_lead``.

    :raises ValueError: a missing column or a cost that is not a number.
    :raises FileNotFoundError: no such file.
    """
    frame = _read_csv(path, "costs", [by, "period", "cost"])
    amount = pd.to_numeric(frame["cost"], errors="coerce")
    bad = amount.isna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"costs file {os.fspath(path)!r}: cost must be a number, cannot read {frame['cost'].iloc[row]!r} "
            f"({csv_line(row)})"
        )
    periods = pd.to_datetime(frame["period"], errors="coerce", format="mixed")
    if periods.isna().any():
        row = int(np.flatnonzero(periods.isna().to_numpy())[0])
        raise ValueError(
            f"costs file {os.fspath(path)!r}: cannot read the period {frame['period'].iloc[row]!r} "
            f"({csv_line(row)}); use 2024-03 or 2024-03-01"
        )
    frame["cost"] = amount.astype("float64")
    return frame


def load_stated(path: str | os.PathLike[str]) -> dict[str, float]:
    """Read stated stage probabilities (``stage``, ``probability`` as a fraction in [0, 1]).

    :return: stage name -> probability
    :raises ValueError: a missing column, a value that is not a number or is outside [0, 1] (percentages
        are refused with a hint to divide by 100), a stage listed twice.
    :raises FileNotFoundError: no such file.
    """
    frame = _read_csv(path, "stated", ["stage", "probability"])
    name = os.fspath(path)
    values = pd.to_numeric(frame["probability"], errors="coerce")
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise ValueError(
            f"stated file {name!r}: probability must be a number, cannot read "
            f"{frame['probability'].iloc[row]!r} ({csv_line(row)})"
        )
    if ((values < 0) | (values > 1)).any():
        top = float(values.max())
        hint = " (percentages? divide by 100)" if top <= 100 else ""
        raise ValueError(f"stated file {name!r}: probability must be a fraction between 0 and 1{hint}")
    duplicated = frame["stage"][frame["stage"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"stated file {name!r}: stage(s) listed twice: {', '.join(map(str, duplicated))}")
    return dict(zip(frame["stage"].astype(str), values.astype(float), strict=True))


# ------------------------------------------------------------------------------------------------------
# the demand waterfall (lifecycle phases and handoffs between groups)
# ------------------------------------------------------------------------------------------------------

WATERFALL_HINT = (
    "No lifecycle phases given: pass --phases phase_stays.csv (one row per stay of a lead in a lifecycle "
    "phase: lead_id, phase, phase_sequence, phase_kind, entered_at, left_at, team, user, source, medium, "
    "campaign, country, origin) and --handoffs handoffs.csv, or --url a database with the crm_lead_handoff "
    "module, to see the demand waterfall."
)


def load_phase_targets(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read phase targets (``phase``, optional ``team``/``user``, ``target_conversion_rate`` as a fraction,
    ``target_days_in_phase`` in days), the shape of the stage targets, and check them.

    :raises ValueError: a missing ``phase`` column, neither measure, or a bad value (the message says which).
    :raises FileNotFoundError: no such file.
    """
    frame = _read_csv(path, "phase targets", ["phase"])
    if not {"target_conversion_rate", "target_days_in_phase"} & set(frame.columns):
        raise ValueError(
            f"phase targets file {os.fspath(path)!r} has neither target_conversion_rate nor "
            "target_days_in_phase"
        )
    as_stage = frame.rename(columns={"phase": "stage", "target_days_in_phase": "target_days_in_stage"})
    for measure in ("target_conversion_rate", "target_days_in_stage"):
        try:
            match_targets(pd.DataFrame({"stage": pd.Series(dtype="string")}), as_stage, measure)
        except ValueError as exc:
            raise ValueError(f"phase targets file {os.fspath(path)!r}: {exc}") from None
    return frame


def _waterfall(data: _Inputs) -> _Section:
    """The waterfall of ``data.waterfall["phase_stays"]`` (with its ``handoffs``, ``targets``): leads
    entering each phase and conversion, the handoffs' acceptance, rejection reasons, and the cost per
    sales-accepted lead when costs are given by a column the phase stays have."""
    from funnel_metrics.phase_stays import DEFAULT_PHASES
    from funnel_metrics.waterfall import WATERFALL_BY, rejection_reasons, sales_accepted_cost, waterfall

    section = _Section(
        "waterfall",
        "Demand waterfall",
        "How leads mature phase by phase, from inquiry to won deal, and how each group receives the leads "
        "handed over to it. Conversion = moved on / (moved on + recycled + disqualified + lost): leads still "
        "in a phase are not failures. A lead recycled and coming back counts once per phase. Times are "
        "medians with the stays still open counted as at least as long as they have lasted.",
    )
    inputs = data.waterfall
    stays = inputs.get("phase_stays")
    if stays is None:
        section.note(inputs.get("note") or WATERFALL_HINT)
        return section
    handoffs = inputs.get("handoffs")
    result = waterfall(stays, handoffs, as_of=inputs.get("as_of"), targets=inputs.get("targets"))
    if result.empty:
        section.note("The phase stays are empty: no lead has a lifecycle phase yet.")
        return section
    steps = result[result["phase_kind"] == "progress"]
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(steps))
    ax.bar(x, steps["entered"], color=_BLUE, width=0.6, label="leads entering")
    ax.set_xticks(x, steps["phase"].astype(str).tolist(), rotation=15, ha="right")
    ax.set_ylabel("leads entering the phase")
    _style(ax)
    rate = ax.twinx()
    rate.plot(x, steps["conversion_rate"].to_numpy(dtype="float64"), "o-", color=_ORANGE, label="conversion")
    rate.set_ylim(0, 1.05)
    _percent_axis(rate.yaxis)
    rate.set_ylabel("conversion to the next phase")
    rate.spines[["top"]].set_visible(False)
    bars, line = ax.get_legend_handles_labels(), rate.get_legend_handles_labels()
    rate.legend(bars[0] + line[0], bars[1] + line[1], fontsize=8, frameon=False, loc="upper right")
    section.parts.append(_image(fig, "demand waterfall: leads entering each phase and conversion"))
    section.parts.append(
        html_table(
            result,
            [
                ("phase", "Phase", fmt_text),
                ("entered", "Entered", fmt_count),
                ("advanced", "Moved on", fmt_count),
                ("recycled", "Recycled", fmt_count),
                ("disqualified", "Disqualified", fmt_count),
                ("lost", "Lost", fmt_count),
                ("open", "Still in phase", fmt_count),
                ("conversion_rate", "Conversion", fmt_share),
                ("ci_low", "95 % low", fmt_share),
                ("ci_high", "95 % high", fmt_share),
                ("median_days", "Median days", fmt_days),
                ("p90_days", "90th pct days", fmt_days),
                *(
                    [
                        ("target_conversion_rate", "Target", fmt_share),
                        ("target_days", "Target days", fmt_days),
                    ]
                    if "target_days" in result.columns
                    else []
                ),
            ],
            "t-waterfall",
        )
    )
    if handoffs is None:
        section.note(
            "No handoffs given: pass --handoffs handoffs.csv to see how each group accepts its leads."
        )
    else:
        handed = result[result["handed_over"] > 0]
        section.parts.append(
            html_table(
                handed,
                [
                    ("phase", "Handed over from", fmt_text),
                    ("handed_over", "Handoffs", fmt_count),
                    ("accepted", "Accepted", fmt_count),
                    ("auto_accepted", "Of which automatically", fmt_count),
                    ("rejected", "Rejected", fmt_count),
                    ("returned", "Returned at the deadline", fmt_count),
                    ("awaiting", "Awaiting", fmt_count),
                    ("acceptance_rate", "Acceptance", fmt_share),
                    ("median_hours_to_decision", "Median hours to decide", fmt_number),
                ],
                "t-handoffs",
            )
        )
        reasons = rejection_reasons(handoffs)
        section.parts.append(
            html_table(
                reasons,
                [
                    ("phase", "Handed over from", fmt_text),
                    ("reason", "Rejection reason", fmt_text),
                    ("rejected", "Rejected", fmt_count),
                    ("share", "Share", fmt_share),
                ],
                "t-rejections",
            )
        )
    accepted_phase = DEFAULT_PHASES[2][1]
    if data.costs is not None and data.cost_by in WATERFALL_BY and accepted_phase in set(result["phase"]):
        by = data.cost_by
        totals = sales_accepted_cost(stays, data.costs, phase=accepted_phase, by=by, period=None)
        section.parts.append(
            html_table(
                totals,
                [
                    (by, by.capitalize(), fmt_text),
                    ("entered", "Inquiries", fmt_count),
                    ("sales_accepted", "Sales accepted", fmt_count),
                    ("cost", data.money("Cost"), fmt_money),
                    ("cost_per_sales_accepted", data.money("Per sales-accepted lead"), fmt_money),
                ],
                "t-sales-accepted-cost",
            )
        )
    return section


_BUILDERS["waterfall"] = _waterfall
