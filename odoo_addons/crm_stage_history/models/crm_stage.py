from odoo import api, fields, models

# what the skip table of crm.lead.stage.history is built from
_PIPELINE_FIELDS = {"sequence", "is_won", "team_ids"}


class CrmStage(models.Model):
    _inherit = "crm.stage"

    probability = fields.Float(
        string="Stated Probability (%)",
        help="The chance of winning the management assumes for a deal in this stage. 'Calibrate "
        "probabilities' compares it with what history shows and can replace it with the measured value.",
    )
    calibrated_probability = fields.Float(
        string="Measured Probability (%)",
        readonly=True,
        help="Share of the leads entering this stage that are eventually won, estimated from the stage "
        "history with leads still open counted as unfinished, as of the last calibration.",
    )
    calibration_date = fields.Datetime(readonly=True)
    calibration_sample_size = fields.Integer(
        string="Calibration Sample", readonly=True, help="Leads decided (moved on or lost) in this stage."
    )

    _check_probability = models.Constraint(
        "CHECK(probability >= 0 AND probability <= 100)",
        "A stage probability must be between 0% and 100%.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        stages = super().create(vals_list)
        self.env.registry.clear_cache()  # the skip table of the stage history
        return stages

    def write(self, vals):
        if _PIPELINE_FIELDS & set(vals):
            self.env.registry.clear_cache()  # the skip table of the stage history
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # the skip table of the stage history
        return super().unlink()
