from odoo import models


class IrActionsServer(models.Model):
    _inherit = "ir.actions.server"

    def _run_action_object_write(self, eval_context=None):
        # Odoo runs "Update Record" actions as superuser once it has checked that the user may write the
        # records. A lead field that an addon guards (crm.lead._pd_user_write_fields: the stage lock of survey
        # teams, the decision phase's guard, the follow-up policy) set that way is still the change of the
        # user who runs the action: the guard judges it as theirs, as it does a code action or the form.
        field = self.update_field_id
        if (
            self.env.su
            and field.model == "crm.lead"
            and field.name in self.env["crm.lead"]._pd_user_write_fields()
        ):
            return super(IrActionsServer, self.sudo(False))._run_action_object_write(
                eval_context=eval_context
            )
        return super()._run_action_object_write(eval_context=eval_context)
