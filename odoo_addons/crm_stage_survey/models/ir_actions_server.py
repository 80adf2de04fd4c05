from odoo import models

# lead fields whose writes the stage lock (crm.lead._survey_enforce) and the decision phase's guard
# (crm.lead._decision_phase_guard) judge
LOCKED_FIELDS = ("stage_id", "team_id", "decision_phase_id")


class IrActionsServer(models.Model):
    _inherit = "ir.actions.server"

    def _run_action_object_write(self, eval_context=None):
        # Odoo runs "Update Record" actions as superuser once it has checked that the user may write the
        # records. A stage, team or decision phase set that way is still the move of the user who runs the
        # action: the stage lock of survey teams and the phase's guard judge it as theirs, as they do a code
        # action or the form.
        field = self.update_field_id
        if self.env.su and field.model == "crm.lead" and field.name in LOCKED_FIELDS:
            return super(IrActionsServer, self.sudo(False))._run_action_object_write(
                eval_context=eval_context
            )
        return super()._run_action_object_write(eval_context=eval_context)
