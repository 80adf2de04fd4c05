from odoo import fields, models


class CrmStage(models.Model):
    _inherit = "crm.stage"

    criterion_ids = fields.One2many(
        "crm.stage.criterion",
        "stage_id",
        string="Entry Criteria",
        help="In teams whose stages are set by a qualification survey: the answers a lead needs to enter "
        "this stage (and every earlier stage's). They are the exit criteria of the stage before.",
    )
