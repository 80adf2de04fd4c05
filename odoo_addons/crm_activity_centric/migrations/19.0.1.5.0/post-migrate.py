from odoo.tools import SQL


def migrate(cr, version):
    """The follow-up signals and event chains now compute their lines when they are read (reports computed
    on read, crm_pipeline_base): the tables of their stored transient lines are dropped (nothing of them
    was kept)."""
    for table in ("crm_activity_signal_report_line", "crm_activity_chain_report_line"):
        cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(table)))
