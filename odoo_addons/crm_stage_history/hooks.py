def post_init_hook(env):
    """Rebuild the stage history of the leads that exist when the module is installed, and their month-end
    probability snapshots."""
    env["crm.lead.stage.history"]._backfill()
    # the past month ends of the opportunities, from that history (data only)
    env["crm.lead.probability.snapshot"]._backfill_snapshots()
