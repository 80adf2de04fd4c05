from odoo.tools import SQL


def uninstall_hook(env):
    """The no-follow-up reasons go with the module, and so does the leads' column pointing to them: clear
    it first, or the reasons, which the leads' column restricts, could not be deleted."""
    env.cr.execute(
        SQL("UPDATE crm_lead SET no_followup_reason_id = NULL WHERE no_followup_reason_id IS NOT NULL")
    )
