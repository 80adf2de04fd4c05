from odoo import fields, models


class CrmSlaPreview(models.TransientModel):
    """The parameters of an SLA preview (which rules): what they would do now, through the scheduled run's
    own selection and action plan. Its lines (``crm.sla.preview.line``) are computed when they are read,
    so a preview writes nothing (no preview record, no event, no lock) and a read replica can serve it."""

    _name = "crm.sla.preview"
    _inherit = ["crm.pipeline.readonly.report.form"]
    _description = "SLA Rules Preview"
    _report_line_model = "crm.sla.preview.line"
    _report_param_fields = ("rule_ids",)

    rule_ids = fields.Many2many(
        "crm.sla.rule",
        string="Rules",
        context={"active_test": False},
        default=lambda self: self.env["crm.sla.rule"].search([("active", "=", True)]),
    )

    def _report_values(self):
        self.env["crm.sla.rule"]._sla_check_manager()
        # the rules themselves, not their copies in this new (unsaved) form
        return self.rule_ids._origin._sla_preview_values(fields.Datetime.now())


class CrmSlaPreviewLine(models.Model):
    """A lead an SLA rule would warn about or act on now, and what would happen; or, past the listed
    ones, how many more there are."""

    _name = "crm.sla.preview.line"
    _inherit = ["crm.pipeline.readonly.report"]
    _description = "SLA Rules Preview Line"
    _auto = False
    _order = "rule_id, status, deadline, id"
    _report_model = "crm.sla.preview"
    _report_context_key = "sla_preview"

    rule_id = fields.Many2one("crm.sla.rule", readonly=True)
    lead_id = fields.Many2one("crm.lead", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    clock_start = fields.Datetime(readonly=True)
    deadline = fields.Datetime(string="Breach Time", readonly=True)
    status = fields.Selection([("breach", "Would act"), ("warn", "Would warn")], readonly=True)
    description = fields.Char(string="What Would Happen", readonly=True)
    error = fields.Char(string="Cannot Act", readonly=True)
