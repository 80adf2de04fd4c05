import math

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare


def _percent(value):
    """A fraction from funnel_metrics as a percentage field value (empty when not estimated)."""
    return False if value is None or (isinstance(value, float) and math.isnan(value)) else value * 100


class CrmStageCalibration(models.TransientModel):
    _name = "crm.stage.calibration"
    _inherit = "crm.stage.history.scope"
    _description = "Calibrate Stage Probabilities"

    min_sample = fields.Integer(
        string="Minimum Sample",
        default=30,
        help="Below this many decided leads in a stage, the recommendation leans on the stated probability.",
    )
    update_open_leads = fields.Boolean(
        string="Update Open Opportunities",
        help="Also give the new probability to the open opportunities of these stages whose probability "
        "was not set by hand.",
    )
    state = fields.Selection([("choose", "Choose"), ("review", "Review")], default="choose", required=True)
    brier_score = fields.Float(
        digits=(16, 4),
        readonly=True,
        help="Mean squared gap between the stated probability and the outcome of the decided leads (0 is "
        "perfect; 0.25 is what always saying 50% scores).",
    )
    line_ids = fields.One2many("crm.stage.calibration.line", "calibration_id", string="Stages")

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Calibrate Probabilities"),
        }

    def action_measure(self):
        """Measure, per stage, how often leads that entered it were eventually won.

        The leads of the period that passed through the chosen teams are measured over their whole
        history: a lead's chance of being won from a stage depends on the whole path it takes from there,
        stays in other teams included.
        """
        from funnel_metrics.calibration import calibration  # noqa: PLC0415 - pandas: load when asked for

        self.ensure_one()
        table = self._transitions()
        if table.empty:
            raise UserError(self.env._("No stage history in this period and these teams: widen the filters."))
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
        lines = []
        for row in result.itertuples(index=False):
            stage = Stage.browse(int(stage_by_key[(row.stage, row.stage_sequence)]))
            if stage.is_won:
                continue
            observed = _percent(row.observed)
            lines.append(
                {
                    "stage_id": stage.id,
                    "stated": stage.probability,
                    "observed": observed,
                    "has_observed": observed is not False,
                    "ci_low": _percent(row.ci_low),
                    "ci_high": _percent(row.ci_high),
                    "sample_size": int(row.n),
                    "recommended": _percent(row.recommended),
                    "apply": observed is not False,
                }
            )
        brier = result.attrs.get("brier")
        self.line_ids.unlink()
        self.write(
            {
                "line_ids": [fields.Command.create(vals) for vals in lines],
                "brier_score": brier if brier is not None and not math.isnan(brier) else 0.0,
                "state": "review",
            }
        )
        return self._reopen()

    def action_apply(self):
        """Give the chosen stages their recommended probability (and the open opportunities, if asked)."""
        self.ensure_one()
        chosen = self.line_ids.filtered("apply")
        if not chosen:
            raise UserError(self.env._("Tick at least one stage to apply its recommended probability."))
        now = fields.Datetime.now()
        for line in chosen:
            line.stage_id.write(
                {
                    "probability": line.recommended,
                    "calibrated_probability": line.observed,
                    "calibration_date": now,
                    "calibration_sample_size": line.sample_size,
                }
            )
        updated = 0
        if self.update_open_leads:
            leads = self.env["crm.lead"].search(
                [
                    ("stage_id", "in", chosen.stage_id.ids),
                    ("type", "=", "opportunity"),
                    ("won_status", "=", "pending"),
                ]
            )
            automatic = leads.filtered(
                lambda lead: float_compare(lead.probability, lead.automated_probability, 2) == 0
            )
            for line in chosen:
                in_stage = automatic.filtered(lambda lead, stage=line.stage_id: lead.stage_id == stage)
                in_stage.write({"probability": line.recommended})
                updated += len(in_stage)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Probabilities calibrated"),
                "message": self.env._(
                    "%(stages)s stages and %(leads)s open opportunities updated.",
                    stages=len(chosen),
                    leads=updated,
                ),
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }


class CrmStageCalibrationLine(models.TransientModel):
    _name = "crm.stage.calibration.line"
    _description = "Calibrate Stage Probabilities: Stage"
    _order = "stage_sequence, id"

    calibration_id = fields.Many2one("crm.stage.calibration", required=True, ondelete="cascade", index=True)
    stage_id = fields.Many2one("crm.stage", required=True, ondelete="cascade")
    stage_sequence = fields.Integer(related="stage_id.sequence")
    stated = fields.Float(string="Stated (%)")
    observed = fields.Float(string="Measured (%)")
    has_observed = fields.Boolean()
    ci_low = fields.Float(string="From (%)", help="Lower end of the 95% interval.")
    ci_high = fields.Float(string="To (%)", help="Upper end of the 95% interval.")
    sample_size = fields.Integer(string="Decided Leads")
    recommended = fields.Float(string="Recommended (%)")
    apply = fields.Boolean()
