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
        lead = self.handoff_id.lead_id
        self.handoff_id.action_reject(self.reason_id.id, self.note)
        if lead.has_access("read"):
            return {"type": "ir.actions.act_window_close"}
        # the lead is its sender's again and crm's rules may hide it from the receiver now: back to the queue
        # rather than onto a lead the receiver can no longer open
        return self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lead_handoff.crm_lead_handoff_action_to_accept"
        )
