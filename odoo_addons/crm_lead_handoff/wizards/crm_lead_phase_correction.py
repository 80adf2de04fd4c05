from markupsafe import Markup
from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class CrmLeadPhaseCorrection(models.TransientModel):
    """A sales manager corrects a lead's lifecycle phase, saying why: the one way to set it by hand, logged
    on the lead and in its phase stays (origin "correction")."""

    _name = "crm.lead.phase.correction"
    _description = "Correct a Lifecycle Phase"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    current_phase_id = fields.Many2one(related="lead_id.lifecycle_phase_id", string="Current Phase")
    phase_id = fields.Many2one("crm.lifecycle.phase", string="Corrected Phase", required=True)
    reason = fields.Text(help="Why the recorded phase is wrong; logged on the lead.")

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can correct a lead's lifecycle phase."))
        lead = self.lead_id
        lead.check_access("write")
        if not (self.reason or "").strip():
            raise UserError(self.env._("Say why you correct the lifecycle phase: the reason is logged."))
        if not lead._lifecycle_leads():
            raise UserError(
                self.env._(
                    "The company of “%(lead)s” records no lifecycle phases: create a handoff route for it "
                    "first.",
                    lead=lead.name,
                )
            )
        if self.phase_id == lead.lifecycle_phase_id:
            raise UserError(self.env._("The lead is in this phase already."))
        note = Markup("<p>%s</p><p>%s</p>") % (
            self.env._(
                "Lifecycle phase corrected by %(manager)s: %(old)s → %(new)s",
                manager=self.env.user.name,
                old=lead.lifecycle_phase_id.name or self.env._("none"),
                new=self.phase_id.name,
            ),
            self.reason.strip(),
        )
        self.env["crm.lead.phase.history"]._record_moves({lead.id: (self.phase_id.id, "correction", None)})
        lead._message_log(body=note)
        return {"type": "ir.actions.act_window_close"}
