from odoo.tools import SQL


def uninstall_hook(env):
    """The decision phases go with the module, and so does the leads' column pointing to them: clear it
    first, or the phases, which the leads' column restricts, could not be deleted. The index the module adds
    to survey_crm's link from answers to leads goes too (Odoo keeps an index its field no longer asks for)."""
    env.cr.execute(SQL("UPDATE crm_lead SET decision_phase_id = NULL WHERE decision_phase_id IS NOT NULL"))
    env.cr.execute(SQL("DROP INDEX IF EXISTS survey_user_input__lead_id_index"))
