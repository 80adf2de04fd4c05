from odoo.tools import SQL


def migrate(cr, version):
    """The funnel and the calibration now compute their lines when they are read (reports computed on read,
    crm_pipeline_base): the tables of their stored transient lines are dropped (nothing of them was
    kept)."""
    for table in ("crm_stage_funnel_report_line", "crm_stage_calibration_line"):
        cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(table)))
