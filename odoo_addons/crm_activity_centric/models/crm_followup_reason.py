from odoo import fields, models


class CrmFollowupReason(models.Model):
    _name = "crm.followup.reason"
    _description = "No Follow-up Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True, help="When to use this reason, shown to salespeople.")
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to use it in every company.")
    lead_count = fields.Integer(compute="_compute_lead_count", string="Leads")

    def _compute_lead_count(self):
        counts = dict(
            self.env["crm.lead"]._read_group(
                [("no_followup_reason_id", "in", self.ids)], ["no_followup_reason_id"], ["__count"]
            )
        )
        for reason in self:
            reason.lead_count = counts.get(reason, 0)
