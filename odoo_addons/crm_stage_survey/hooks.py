from odoo.tools import SQL


def uninstall_hook(env):
    """The decision phases go with the module, and so does the leads' column pointing to them: clear it
    first, or the phases, which the leads' column restricts, could not be deleted."""
    env.cr.execute(SQL("UPDATE crm_lead SET decision_phase_id = NULL WHERE decision_phase_id IS NOT NULL"))
