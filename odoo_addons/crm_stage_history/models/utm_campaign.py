from odoo import fields, models


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    cost = fields.Monetary(
        currency_field="cost_currency_id",
        groups="sales_team.group_sale_manager",
        help="What the campaign cost in all: the funnel report divides it by the leads it brought.",
    )
    cost_currency_id = fields.Many2one("res.currency", default=lambda self: self.env.company.currency_id)
