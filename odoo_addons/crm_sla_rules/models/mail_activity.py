from odoo import models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # a completed activity is an action on the lead: it restarts the "last action" SLA clock
        lead_ids = {activity.res_id for activity in self if activity.res_model == "crm.lead"}
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if lead_ids:
            self.env["crm.lead"].browse(lead_ids)._sla_touch()
        return result
