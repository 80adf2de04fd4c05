import math

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare


def _percent(value):
    """A fraction from funnel_metrics as a percentage field value (empty when not estimated)."""
    return False if value is None or (isinstance(value, float) and math.isnan(value)) else value * 100


def _number(value):
    """A score from funnel_metrics as a float field value (0 when not estimated)."""
    return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


class CrmStageCalibration(models.TransientModel):
    """The calibration's parameters; its lines are measured when the list reads them."""

    _name = "crm.stage.calibration"
    _inherit = ["crm.stage.history.scope", "crm.pipeline.readonly.report.form"]
    _description = "Calibrate Stage Probabilities"
    _report_line_model = "crm.stage.calibration.line"
    _report_param_fields = ("date_from", "date_to", "team_ids", "min_sample")

    min_sample = fields.Integer(
        string="Minimum Sample",
        default=30,
        help="Below this many decided leads in a stage, the recommendation leans on the stated probability.",
    )

    def _report_values(self):
        """Measure, per stage, how often leads that entered it were eventually won.

        The leads of the period that passed through the chosen teams are measured over their whole
        history: a lead's chance of being won from a stage depends on the whole path it takes from there,
        stays in other teams included. One line per stage, the stage's id as the line's: Apply acts on
        the stages the user selected.
        """
        from funnel_metrics.calibration import calibration  # noqa: PLC0415 - pandas: load when asked for

        self.ensure_one()
        table = self._transitions()
        if table.empty:
            return []
        # funnel_metrics names a stage by (name, sequence): its Odoo id, from each distinct stage once
        stage_keys = table[["stage", "stage_sequence", "stage_id"]].drop_duplicates()
        stage_by_key = {
            (stage, sequence): stage_id
            for stage, sequence, stage_id in stage_keys.itertuples(index=False, name=None)
        }
        Stage = self.env["crm.stage"]
        stages = Stage.browse(sorted(set(stage_by_key.values())))
        stated = {stage.name: stage.probability / 100 for stage in stages if stage.probability}
        result = calibration(table, stated, min_sample=self.min_sample)
        brier = _number(result.attrs.get("brier"))
        Line = self.env[self._report_line_model]
        return [
            Line._stage_line_values(stage, row, int(row.n), brier)
            for row in result.itertuples(index=False)
            if not (stage := Stage.browse(int(stage_by_key[(row.stage, row.stage_sequence)]))).is_won
        ]

    def action_measure(self):
        """Open the stages' measured probabilities: the list measures them as it reads them (no write)."""
        return self._report_action(
            self.env._("Calibrate Probabilities"),
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._("No stage history in this period and these teams: widen the filters."),
        )


class CrmStageCalibrationLine(models.Model):
    """A stage's measured probability, computed on read from the parameters in the context
    (``stage_calibration``); its id is the stage's."""

    _name = "crm.stage.calibration.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Calibrate Stage Probabilities: Stage"
    _auto = False
    _order = "stage_sequence, id"
    _report_model = "crm.stage.calibration"
    _report_context_key = "stage_calibration"

    stage_id = fields.Many2one("crm.stage", required=True)
    stage_sequence = fields.Integer()
    stated = fields.Float(string="Stated (%)", aggregator=None)
    observed = fields.Float(string="Measured (%)", aggregator=None)
    has_observed = fields.Boolean()
    ci_low = fields.Float(string="From (%)", aggregator=None, help="Lower end of the 95% interval.")
    ci_high = fields.Float(string="To (%)", aggregator=None, help="Upper end of the 95% interval.")
    sample_size = fields.Integer(string="Decided Leads", aggregator=None)
    recommended = fields.Float(string="Recommended (%)", aggregator=None)
    brier_score = fields.Float(
        digits=(16, 4),
        aggregator="avg",
        help="One number for the whole measure, not per stage: the mean squared gap between the stated "
        "probability and the outcome of every decided lead (0 is perfect; 0.25 is what always saying 50% "
        "scores).",
    )

    @api.model
    def _stage_line_values(self, stage, row, sample_size, brier):
        """A line's values: ``stage``'s measure in ``row`` (``observed``, ``ci_low``, ``ci_high``,
        ``recommended``: fractions from funnel_metrics) over ``sample_size`` leads, the Brier score of
        the whole measure; the line's id is the stage's."""
        observed = _percent(row.observed)
        return {
            "id": stage.id,
            "stage_id": stage.id,
            "stage_sequence": stage.sequence,
            "stated": stage.probability,
            "observed": observed,
            "has_observed": observed is not False,
            "ci_low": _percent(row.ci_low),
            "ci_high": _percent(row.ci_high),
            "sample_size": sample_size,
            "recommended": _percent(row.recommended),
            "brier_score": brier,
        }

    def action_apply(self):
        """Give the selected stages their recommended probability."""
        return self._apply(update_open_leads=False)

    def action_apply_with_open_leads(self):
        """Give the selected stages their recommended probability, and the open opportunities in them
        whose probability was not set by hand."""
        return self._apply(update_open_leads=True)

    def _apply(self, update_open_leads):
        """Apply to the selected stages a decided lead measures; the others are named and left as they
        were (no measure, nothing to apply); refused when no selected stage is measured."""
        if not self:
            raise UserError(self.env._("Select at least one stage to apply its recommended probability."))
        unmeasured = self.filtered(lambda line: not line.has_observed)
        skipped = ", ".join(unmeasured.stage_id.mapped("display_name"))
        measured = self - unmeasured
        if not measured:
            raise UserError(
                self.env._("No decided lead measures %(stages)s: nothing to apply there.", stages=skipped)
            )
        now = fields.Datetime.now()
        for line in measured:
            line.stage_id.write(
                {
                    "probability": line.recommended,
                    "calibrated_probability": line.observed,
                    "calibration_date": now,
                    "calibration_sample_size": line.sample_size,
                }
            )
        updated = 0
        if update_open_leads:
            leads = self.env["crm.lead"].search(
                [
                    ("stage_id", "in", measured.stage_id.ids),
                    ("type", "=", "opportunity"),
                    ("won_status", "=", "pending"),
                ]
            )
            automatic = leads.filtered(
                lambda lead: float_compare(lead.probability, lead.automated_probability, 2) == 0
            )
            for line in measured:
                in_stage = automatic.filtered(lambda lead, stage=line.stage_id: lead.stage_id == stage)
                in_stage.write({"probability": line.recommended})
                updated += len(in_stage)
        message = self.env._(
            "%(stages)s stages and %(leads)s open opportunities updated.", stages=len(measured), leads=updated
        )
        if unmeasured:
            message = self.env._(
                "%(updated)s Left as they were, no decided lead measures them: %(stages)s.",
                updated=message,
                stages=skipped,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Probabilities calibrated"),
                "message": message,
                "type": "warning" if unmeasured else "success",
                # the list again: the stages' new probabilities as stated
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }
