from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """Month-end probability snapshots are new: fill the past month ends in from the stage history, as a
    fresh install does (data only)."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["crm.lead.probability.snapshot"]._backfill_snapshots()
