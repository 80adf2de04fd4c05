import math

from markupsafe import Markup
from odoo import fields, models

VERDICTS = [
    ("better", "The phase improves the forecast"),
    ("worse", "The phase makes the forecast worse"),
    ("no_difference", "No measurable gain: forecast from the stage alone"),
    ("no_data", "Not enough decided leads to tell"),
]


def _number(value):
    """NaN (no estimate) becomes an empty field."""
    return False if value is None or (isinstance(value, float) and math.isnan(value)) else value


def _percent(value):
    """A fraction from funnel_metrics as a percentage field value (empty when not estimated)."""
    value = _number(value)
    return value * 100 if value is not False else False


class CrmDecisionPhaseReport(models.TransientModel):
    """The parameters of "Decision Phase and Win Rate"; its lines are computed when the list reads them."""

    _name = "crm.decision.phase.report"
    _inherit = ["crm.stage.history.scope", "crm.pipeline.readonly.report.form"]
    _description = "Decision Phase and Win Rate"
    _report_line_model = "crm.decision.phase.report.line"
    _report_param_fields = ("date_from", "date_to", "team_ids", "holdout_months")

    # extended here, so that the report's relation table belongs to this addon and goes with it
    team_ids = fields.Many2many()

    holdout_months = fields.Integer(
        string="Held-out Months",
        default=6,
        help="The last this many months are forecast from the months before each, and scored: does "
        "knowing the customer's decision phase forecast better than the stage alone?",
    )

    def _phase_changes(self, lead_ids):
        """The decision phase changes of these leads, read with the user's rights, as a funnel_metrics
        phase changes table: the phase as its id (text), with its sequence."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        changes = self.env["crm.decision.phase.change"].search_fetch(
            [("lead_id", "in", lead_ids)], ["lead_id", "date", "phase_id"], order="id"
        )
        # sudo: the name of a phase of a change the user may read (phases of other companies included)
        phases = changes.phase_id.sudo().with_context(active_test=False)
        sequence = {phase.id: phase.sequence for phase in phases}
        return pd.DataFrame(
            {
                "lead_id": pd.Series([change.lead_id.id for change in changes], dtype="int64"),
                "changed_at": pd.Series([change.date for change in changes], dtype="datetime64[ns]"),
                "phase": pd.Series(
                    [str(change.phase_id.id) if change.phase_id else None for change in changes],
                    dtype="string",
                ),
                "phase_sequence": pd.Series(
                    [sequence.get(change.phase_id.id, -1) for change in changes], dtype="int64"
                ),
            }
        )

    def _report_values(self):
        """Win rate per stage and decision phase of the leads in scope, and whether the phase improves
        the forecast, as report lines: funnel_metrics' ``phase_observations`` (every month end up to now,
        UTC), ``phase_win_rates`` and ``phase_forecast_gain``. Stages and phases are keyed by id."""
        from funnel_metrics import (  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for
            phase_forecast_gain,
            phase_observations,
            phase_win_rates,
        )

        self.ensure_one()
        table = self._transitions()
        if table.empty:
            return []
        keyed = self._keyed_by_ids(table)
        changes = self._phase_changes(sorted(set(table["lead_id"].tolist())))
        observations = phase_observations(keyed, changes, as_of=fields.Datetime.now())
        rates = phase_win_rates(observations)
        gain = phase_forecast_gain(observations, holdout_months=max(1, self.holdout_months))
        overall = gain.attrs
        stages = self.env["crm.stage"].browse(sorted({int(stage) for stage in rates["stage"]}))
        sequence = {stage.id: stage.sequence for stage in stages}
        lines = []
        for row in rates.to_dict("records"):
            stage_id = int(row["stage"])
            lines.append(
                {
                    "stage_id": stage_id,
                    "stage_sequence": sequence[stage_id],
                    "phase_id": int(row["phase"]) if row["phase_sequence"] >= 0 else False,
                    "phase_sequence": int(row["phase_sequence"]),
                    "decided": int(row["n"]),
                    "won": int(row["won"]),
                    "win_rate": _percent(row["rate"]),
                    "ci_low": _percent(row["ci_low"]),
                    "ci_high": _percent(row["ci_high"]),
                    "open_leads": int(row["open"]),
                    "stage_rate": _percent(row["stage_rate"]),
                    "brier_stage": _number(overall["brier_stage"]),
                    "brier_phase": _number(overall["brier_phase"]),
                    "brier_gain": _number(overall["gain"]),
                    "gain_low": _number(overall["ci_low"]),
                    "gain_high": _number(overall["ci_high"]),
                    "verdict": overall["verdict"],
                }
            )
        return lines

    def action_show(self):
        """Open the win rates by stage and decision phase: computed as the list reads them (no write)."""
        return self._report_action(
            self.env._("Decision Phase and Win Rate"),
            view_mode="list,pivot",
            context={"group_by": ["stage_id"]},
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._(
                "No lead of this period and these teams was open at a month end: widen the filters."
            ),
        )


class CrmDecisionPhaseReportLine(models.Model):
    """A stage and decision phase's win rate, computed on read from the parameters in the context
    (``decision_phase_report``)."""

    _name = "crm.decision.phase.report.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Decision Phase and Win Rate: Line"
    _auto = False
    _order = "stage_sequence, stage_id, phase_sequence, phase_id"
    _report_model = "crm.decision.phase.report"
    _report_context_key = "decision_phase_report"

    stage_id = fields.Many2one("crm.stage", required=True)
    stage_sequence = fields.Integer()
    phase_id = fields.Many2one(
        "crm.decision.phase", string="Decision Phase", help="Empty: the customer had no phase yet."
    )
    phase_sequence = fields.Integer()
    decided = fields.Integer(
        string="Decided Leads",
        help="Leads open in this stage and phase at a month end and since won or lost (each once).",
    )
    won = fields.Integer()
    win_rate = fields.Float(string="Win Rate (%)", aggregator=None)
    ci_low = fields.Float(string="From (%)", aggregator=None, help="Lower end of the 95% interval.")
    ci_high = fields.Float(string="To (%)", aggregator=None, help="Upper end of the 95% interval.")
    open_leads = fields.Integer(string="Still Open", help="Leads seen here that are still open: in no rate.")
    stage_rate = fields.Float(
        string="Stage's Win Rate (%)", aggregator=None, help="The stage's win rate, whatever the phase."
    )
    brier_stage = fields.Float(
        string="Brier, Stage Alone",
        digits=(16, 4),
        aggregator="avg",
        help="One number for the whole report: the Brier score (0 is perfect) on the held-out months of a "
        "forecast from the stage alone, fitted on the months before each.",
    )
    brier_phase = fields.Float(
        string="Brier, Stage and Phase",
        digits=(16, 4),
        aggregator="avg",
        help="One number for the whole report: the same with the stage and the decision phase.",
    )
    brier_gain = fields.Float(
        string="Gain",
        digits=(16, 4),
        aggregator="avg",
        help="Brier of the stage alone minus Brier of the stage and phase: above 0 the phase helps.",
    )
    gain_low = fields.Float(string="Gain From", digits=(16, 4), aggregator="avg")
    gain_high = fields.Float(string="Gain To", digits=(16, 4), aggregator="avg")
    verdict = fields.Selection(
        VERDICTS,
        help="Whether adding the decision phase improves the forecast on the held-out months: claimed only "
        "when the 95% interval of the gain excludes 0.",
    )
