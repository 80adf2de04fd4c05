from odoo import fields, models, tools
from odoo.tools import SQL


class CrmCampaignCostReport(models.Model):
    """What each lead of a campaign cost: the campaign's cost over the leads it brought."""

    _name = "crm.campaign.cost.report"
    _description = "Cost per Lead"
    _auto = False
    _order = "cost_per_lead desc, campaign_id"

    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    cost = fields.Monetary(readonly=True, aggregator="sum")
    leads = fields.Integer(readonly=True, aggregator="sum", help="Leads and opportunities of the campaign.")
    qualified = fields.Integer(
        readonly=True,
        aggregator="sum",
        help="Of those, the leads that reached a later stage than they entered in.",
    )
    won = fields.Integer(readonly=True, aggregator="sum")
    cost_per_lead = fields.Monetary(readonly=True, aggregator=None)
    cost_per_qualified = fields.Monetary(readonly=True, aggregator=None)
    cost_per_won = fields.Monetary(readonly=True, aggregator=None)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE VIEW %(table)s AS (
                WITH lead_journey AS (
                    SELECT l.id, l.campaign_id, l.won_status,
                           EXISTS (
                               SELECT 1
                                 FROM crm_lead_stage_history h
                                 JOIN crm_stage s ON s.id = h.stage_id
                                WHERE h.lead_id = l.id
                                  AND (s.sequence, s.id) > (
                                      SELECT s0.sequence, s0.id
                                        FROM crm_lead_stage_history h0
                                        JOIN crm_stage s0 ON s0.id = h0.stage_id
                                       WHERE h0.lead_id = l.id
                                    ORDER BY h0.date_in, h0.id
                                       LIMIT 1)
                           ) AS qualified
                      FROM crm_lead l
                     WHERE l.campaign_id IS NOT NULL
                ), per_campaign AS (
                    SELECT campaign_id, count(*) AS leads, count(*) FILTER (WHERE qualified) AS qualified,
                           count(*) FILTER (WHERE won_status = 'won') AS won
                      FROM lead_journey
                  GROUP BY campaign_id
                )
                SELECT c.id, c.id AS campaign_id, c.cost_currency_id AS currency_id,
                       COALESCE(c.cost, 0) AS cost,
                       COALESCE(p.leads, 0) AS leads, COALESCE(p.qualified, 0) AS qualified,
                       COALESCE(p.won, 0) AS won,
                       c.cost / NULLIF(p.leads, 0) AS cost_per_lead,
                       c.cost / NULLIF(p.qualified, 0) AS cost_per_qualified,
                       c.cost / NULLIF(p.won, 0) AS cost_per_won
                  FROM utm_campaign c
             LEFT JOIN per_campaign p ON p.campaign_id = c.id
                 WHERE c.active AND (COALESCE(c.cost, 0) > 0 OR p.leads > 0)
            )""",
                table=SQL.identifier(self._table),
            )
        )
