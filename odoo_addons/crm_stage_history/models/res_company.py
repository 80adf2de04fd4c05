from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    crm_early_warning_mail = fields.Boolean(
        string="Weekly Early Warnings",
        help="Every week, mail the sales managers of the company the teams and salespersons whose conversion "
        "or time in stage dropped significantly (the Early Warnings report).",
    )
