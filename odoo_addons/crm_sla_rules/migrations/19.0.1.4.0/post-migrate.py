from odoo.tools import SQL


def migrate(cr, version):
    """The SLA preview now computes its lines when they are read (reports computed on read,
    crm_pipeline_base): the table of its stored transient lines is dropped (nothing of it was kept)."""
    for table in ("crm_sla_preview_line",):
        cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(table)))
