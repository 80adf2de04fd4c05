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
                WITH journey AS (
                    -- each stay, with the stage of the lead's first stay (by date_in, id)
                    SELECT h.lead_id, s.sequence, s.id AS stage_id,
                           first_value(s.sequence) OVER by_lead AS first_sequence,
                           first_value(s.id) OVER by_lead AS first_stage_id
                      FROM crm_lead_stage_history h
                      JOIN crm_stage s ON s.id = h.stage_id
                    WINDOW by_lead AS (PARTITION BY h.lead_id ORDER BY h.date_in, h.id)
                ), qualified_lead AS (
                    -- qualified: a stay in a later stage, by (sequence, id), than the first stay's
                    SELECT lead_id
                      FROM journey
                  GROUP BY lead_id
                    HAVING bool_or((sequence, stage_id) > (first_sequence, first_stage_id))
                ), per_campaign AS (
                    SELECT l.campaign_id, count(*) AS leads, count(q.lead_id) AS qualified,
                           count(*) FILTER (WHERE l.won_status = 'won') AS won
                      FROM crm_lead l
                 LEFT JOIN qualified_lead q ON q.lead_id = l.id
                     WHERE l.campaign_id IS NOT NULL
                  GROUP BY l.campaign_id
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
