from odoo.tools import SQL


def uninstall_hook(env):
    """The phases and rejection reasons go with the module, and so does everything pointing to them: the
    phase stays, the handoffs and the routes (their tables are dropped anyway) and the leads' columns. Cleared
    first, or the phases and reasons, which they restrict, could not be deleted."""
    env.cr.execute(SQL("DELETE FROM crm_lead_phase_history"))
    env.cr.execute(
        SQL(
            """UPDATE crm_lead SET lifecycle_phase_id = NULL, handoff_id = NULL
                WHERE lifecycle_phase_id IS NOT NULL OR handoff_id IS NOT NULL"""
        )
    )
    env.cr.execute(SQL("DELETE FROM crm_lead_handoff"))
    env.cr.execute(SQL("DELETE FROM crm_handoff_route"))
