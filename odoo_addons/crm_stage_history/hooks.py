def post_init_hook(env):
    """Rebuild the stage history of the leads that exist when the module is installed."""
    env["crm.lead.stage.history"]._backfill()
