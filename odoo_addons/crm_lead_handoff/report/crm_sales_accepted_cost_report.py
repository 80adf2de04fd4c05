from odoo import fields, models

from .crm_waterfall_report import _number, _period_value


class CrmSalesAcceptedCostReportParams(models.AbstractModel):
    """The Demand Waterfall's parameters, for the cost per sales-accepted lead."""

    _name = "crm.sales.accepted.cost.report.params"
    _inherit = "crm.waterfall.report.params"
    _description = "Cost per Sales-Accepted Lead Parameters"
    _report_line_model = "crm.sales.accepted.cost.report"

    def _costs(self, stays):
        """The campaigns' costs (``utm.campaign.cost``: sales managers only; archived campaigns too) as a
        ``funnel_metrics`` costs table keyed by campaign id, placed in time by ``funnel_metrics.cost.
        campaign_costs``, the rule of the command line's costs."""
        from funnel_metrics.cost import campaign_costs  # noqa: PLC0415 - pandas is heavy: load it when asked

        Campaign = self.env["utm.campaign"].with_context(active_test=False)
        rows = Campaign.search_read([("cost", ">", 0)], ["cost"], load=None)
        return campaign_costs({str(row["id"]): row["cost"] for row in rows}, stays)

    def _report_values(self):
        """Per campaign (and period), the leads that entered the waterfall, those that became sales-accepted
        leads and what each cost (``funnel_metrics.sales_accepted_cost``): marketing measured on the leads
        sales accepted, not on revenue. The sales-accepted phase is the one of code ``sal``; no line while no
        lead of the period reached it."""
        import funnel_metrics  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        self.ensure_one()
        Phase = self.env["crm.lifecycle.phase"].with_context(active_test=False)
        accepted = str(Phase.search([("code", "=", "sal")], limit=1).id)
        stays, _handoffs = self._tables(("campaign",))
        if not (stays["phase"] == accepted).any():
            return []
        period = self._period()
        result = funnel_metrics.sales_accepted_cost(
            stays, self._costs(stays), phase=accepted, by="campaign", period=period, tz=self._tz()
        )
        campaigns = self.env["utm.campaign"].browse(
            int(key) for key in result["campaign"] if isinstance(key, str)
        )
        currency = {campaign.id: campaign.cost_currency_id.id for campaign in campaigns}
        lines = []
        for row in result.to_dict("records"):
            campaign_id = int(row["campaign"]) if isinstance(row["campaign"], str) else False
            lines.append(
                {
                    "campaign_id": campaign_id,
                    "currency_id": currency.get(campaign_id, self.env.company.currency_id.id),
                    "period_start": _period_value(row, period),
                    "entered": int(row["entered"]),
                    "sales_accepted": int(row["sales_accepted"]),
                    "cost": float(row["cost"]),
                    "cost_per_sales_accepted": _number(row["cost_per_sales_accepted"]),
                }
            )
        return lines


class CrmSalesAcceptedCostReport(models.Model):
    """A line of the cost per sales-accepted lead, computed on read from the parameters in the context."""

    _name = "crm.sales.accepted.cost.report"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Cost per Sales-Accepted Lead"
    _auto = False
    _order = "campaign_id, period_start"
    _report_model = "crm.sales.accepted.cost.report.params"
    _report_context_key = "waterfall_report"

    campaign_id = fields.Many2one("utm.campaign")
    currency_id = fields.Many2one("res.currency")
    period_start = fields.Date(string="Period", help="The first day of the period the leads entered.")
    entered = fields.Integer(string="Leads", help="Leads that entered the waterfall.")
    sales_accepted = fields.Integer(help="Leads that entered the Sales Accepted phase in the period.")
    cost = fields.Monetary(aggregator="sum")
    cost_per_sales_accepted = fields.Monetary(
        string="Cost per Sales-Accepted Lead", aggregator=None, help="Empty when no lead was accepted."
    )
