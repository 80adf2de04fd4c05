from odoo import api, fields, models


class CrmLeadHandoffSend(models.TransientModel):
    """Hand a lead over on a route, with a note for the receiving side."""

    _name = "crm.lead.handoff.send"
    _description = "Hand a Lead Over"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    route_ids = fields.Many2many("crm.handoff.route", compute="_compute_route_ids", string="Available Routes")
    route_id = fields.Many2one("crm.handoff.route", required=True, domain="[('id', 'in', route_ids)]")
    note = fields.Text(help="For the receiving side: what they should know about the lead.")

    @api.depends("lead_id")
    def _compute_route_ids(self):
        for wizard in self:
            wizard.route_ids = wizard.lead_id._handoff_routes(self.env.user) if wizard.lead_id else False

    def action_send(self):
        self.ensure_one()
        self.env["crm.lead.handoff"]._handoff_send(self.lead_id, self.route_id, self.note)
        return {"type": "ir.actions.act_window_close"}
