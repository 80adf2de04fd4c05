from odoo.tools import SQL


def uninstall_hook(env):
    """The leads' columns pointing to the phases and handoffs go with the module: clear them first, or the
    phases, which the leads' column restricts, could not be deleted."""
    env.cr.execute(SQL("UPDATE crm_lead SET lifecycle_phase_id = NULL WHERE lifecycle_phase_id IS NOT NULL"))
