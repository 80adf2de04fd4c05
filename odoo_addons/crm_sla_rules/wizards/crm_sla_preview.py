from odoo import api, fields, models


class CrmSlaPreview(models.TransientModel):
    """What SLA rules would do now: the scheduled run's own selection and action plan, without writing."""

    _name = "crm.sla.preview"
    _description = "SLA Rules Preview"

    preview_date = fields.Datetime(string="As Of", required=True, readonly=True)
    rule_ids = fields.Many2many("crm.sla.rule", string="Rules", readonly=True)
    summary = fields.Text(readonly=True)
    line_ids = fields.One2many("crm.sla.preview.line", "preview_id", readonly=True)

    @api.depends("preview_date")
    def _compute_display_name(self):
        for preview in self:
            preview.display_name = self.env._(
                "SLA Preview, %(date)s", date=fields.Datetime.to_string(preview.preview_date)
            )

    @api.model
    def _sla_open(self, rules=None):
        """Create the preview of ``rules`` (default: every active rule) and return its window action."""
        self.env["crm.sla.rule"]._sla_check_manager()
        rules = rules or self.env["crm.sla.rule"].search([("active", "=", True)])
        now = fields.Datetime.now()
        lines, totals = rules._sla_preview_values(now)
        summary = "\n".join(
            self.env._(
                "%(rule)s: %(warn)s to warn, %(act)s to act on%(more)s",
                rule=rule.name,
                warn=totals[rule.id][0],
                act=totals[rule.id][1],
                more=self.env._(" (the first %(limit)s of each are listed)", limit=200)
                if max(totals[rule.id]) > 200
                else "",
            )
            for rule in rules
        ) or self.env._("No active SLA rule.")
        preview = self.create(
            {
                "preview_date": now,
                "rule_ids": rules.ids,
                "summary": summary,
                "line_ids": [fields.Command.create(line) for line in lines],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("SLA Preview"),
            "res_model": self._name,
            "res_id": preview.id,
            "view_mode": "form",
            "target": "current",
        }


class CrmSlaPreviewLine(models.TransientModel):
    _name = "crm.sla.preview.line"
    _description = "SLA Rules Preview Line"
    _order = "rule_id, status, deadline, id"

    preview_id = fields.Many2one("crm.sla.preview", required=True, ondelete="cascade", index=True)
    rule_id = fields.Many2one("crm.sla.rule", readonly=True)
    lead_id = fields.Many2one("crm.lead", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    clock_start = fields.Datetime(readonly=True)
    deadline = fields.Datetime(string="Breach Time", readonly=True)
    status = fields.Selection([("breach", "Would act"), ("warn", "Would warn")], readonly=True)
    description = fields.Char(string="What Would Happen", readonly=True)
    error = fields.Char(string="Cannot Act", readonly=True)
