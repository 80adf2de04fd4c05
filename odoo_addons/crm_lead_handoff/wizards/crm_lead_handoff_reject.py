from odoo import fields, models


class CrmLeadHandoffReject(models.TransientModel):
    """The receiving side rejects a handoff, saying why: the lead goes back to its sender, recycled."""

    _name = "crm.lead.handoff.reject"
    _description = "Reject a Handoff"

    handoff_id = fields.Many2one("crm.lead.handoff", required=True, ondelete="cascade")
    lead_id = fields.Many2one(related="handoff_id.lead_id")
    reason_id = fields.Many2one(
        "crm.handoff.reject.reason",
    )
    note = fields.Text(help="For the sender: what the lead lacks.")

    def action_reject(self):
        self.ensure_one()
        self.handoff_id.action_reject(self.reason_id.id, self.note)
        return {"type": "ir.actions.act_window_close"}
