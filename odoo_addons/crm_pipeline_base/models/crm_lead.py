from odoo import models


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def _pd_user_write_fields(self):
        """The lead fields whose writes an addon judges by the rights of the user who makes them (a guard
        that refuses some changes to some users). An "Update Record" server action that sets one of them
        runs with the user's rights, not as superuser (``ir.actions.server._run_action_object_write``).
        Addons extend it: ``return super()._pd_user_write_fields() | {...}``."""
        return frozenset()
