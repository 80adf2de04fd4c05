from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """The follow-up state now follows the team's policy: leads of Off teams (or without a team) that had no
    next step were flagged ``missing``; they are ``exempt`` now (activity_centric.followup_state)."""
    api.Environment(cr, SUPERUSER_ID, {})["crm.lead"]._followup_fill_all()
