from markupsafe import Markup
from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class CrmStageOverride(models.TransientModel):
    """A sales manager moves a lead of a survey team by hand, saying why (history origin "override")."""

    _name = "crm.stage.override"
    _description = "Override a Survey-Set Stage"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    team_id = fields.Many2one(related="lead_id.team_id")
    stage_id = fields.Many2one(
        "crm.stage",
        string="New Stage",
        required=True,
        domain="['|', ('team_ids', '=', False), ('team_ids', 'in', [team_id])]",
    )
    reason = fields.Text(help="Why the answers do not tell the whole story; logged on the lead.")

    def action_apply(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can override a stage set by the survey."))
        self.lead_id.check_access("write")
        if not (self.reason or "").strip():
            raise UserError(
                self.env._("Say why you override the stage the answers set: the reason is logged.")
            )
        note = Markup("<p>%s</p><p>%s</p>") % (
            self.env._(
                "Stage overridden by %(manager)s: %(old)s → %(new)s",
                manager=self.env.user.name,
                old=self.lead_id.stage_id.name,
                new=self.stage_id.name,
            ),
            self.reason,
        )
        self.lead_id._survey_write_stage(self.stage_id, "override", note)
        return {"type": "ir.actions.act_window_close"}
