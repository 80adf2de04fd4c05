from odoo import api, models


class MailActivitySchedule(models.TransientModel):
    _inherit = "mail.activity.schedule"

    @api.onchange("activity_user_id", "date_deadline")
    def _onchange_followup_capacity(self):
        warning = self.env["res.users"]._activity_capacity_warning(self.activity_user_id, self.date_deadline)
        if warning:
            return {"warning": warning}
        return None
