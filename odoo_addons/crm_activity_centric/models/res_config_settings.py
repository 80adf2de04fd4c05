from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .crm_followup_digest import (
    DEFAULT_OVERDUE_DAYS,
    DEFAULT_STALE_DAYS,
    OVERDUE_DAYS_PARAM,
    STALE_DAYS_PARAM,
)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_followup_digest_overdue_days = fields.Integer(
        string="Overdue After (days)",
        config_parameter=OVERDUE_DAYS_PARAM,
        default=DEFAULT_OVERDUE_DAYS,
        help="The weekly review lists activities whose due date passed more than this many days ago.",
    )
    crm_followup_digest_stale_days = fields.Integer(
        string="Stale After (days)",
        config_parameter=STALE_DAYS_PARAM,
        default=DEFAULT_STALE_DAYS,
        help="The weekly review lists open opportunities neither edited nor moved to another stage for this "
        "many days.",
    )

    @api.constrains("crm_followup_digest_overdue_days", "crm_followup_digest_stale_days")
    def _check_crm_followup_digest_days(self):
        for settings in self:
            if settings.crm_followup_digest_overdue_days < 0 or settings.crm_followup_digest_stale_days < 0:
                raise ValidationError(
                    self.env._("The weekly review's day counts cannot be negative: enter 0 or more days.")
                )

    def action_crm_followup_digest_send_now(self):
        """Send the weekly follow-up review to every recipient now (to try the settings out)."""
        # crm.followup.digest.action_send_now checks that the user is a sales administrator
        return self.env["crm.followup.digest"].action_send_now()
