from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class CrmDecisionPhaseCorrection(models.TransientModel):
    """A sales manager corrects the customer's decision phase of a lead (forward, back or cleared), saying
    why: the one way to set it by hand, logged on the lead and in its phase changes."""

    _name = "crm.decision.phase.correction"
    _description = "Correct a Customer Decision Phase"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="lead_id.company_id")
    current_phase_id = fields.Many2one(related="lead_id.decision_phase_id", string="Current Phase")
    phase_id = fields.Many2one(
        "crm.decision.phase",
        string="Corrected Phase",
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        help="Leave empty to clear the phase.",
    )
    reason = fields.Text(help="What the customer's actions did not show; logged on the lead.")

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can correct the customer's decision phase."))
        self.lead_id.check_access("write")
        if not (self.reason or "").strip():
            raise UserError(
                self.env._("Say why you correct the customer's decision phase: the reason is logged.")
            )
        if self.phase_id == self.lead_id.decision_phase_id:
            raise UserError(self.env._("The lead is in this decision phase already."))
        if self.phase_id.company_id and self.phase_id.company_id != self.lead_id.company_id:
            raise UserError(self.env._("This decision phase belongs to another company."))
        self.lead_id._decision_phase_correct(self.phase_id, self.reason.strip())
        return {"type": "ir.actions.act_window_close"}
