from odoo import fields, models
from odoo.exceptions import AccessError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_early_warning_mail = fields.Boolean(related="company_id.crm_early_warning_mail", readonly=False)

    def action_crm_stage_history_backfill(self):
        """Rebuild from the chatter the stage history of the leads that have none."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales administrators can rebuild the stage history."))
        count = self.env["crm.lead.stage.history"].sudo()._backfill()  # sudo: history rows are system-written
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Stage history rebuilt"),
                "message": self.env._("%(count)s stays rebuilt from the chatter.", count=count),
                "type": "success",
                "sticky": False,
            },
        }
