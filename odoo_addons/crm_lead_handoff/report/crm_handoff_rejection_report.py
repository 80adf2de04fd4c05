from odoo import fields, models

from .crm_waterfall_report import HANDOFF_GROUPS, _group_values, _number, _period_value


class CrmHandoffRejectionReportParams(models.AbstractModel):
    """The Demand Waterfall's parameters, for its rejection reasons."""

    _name = "crm.handoff.rejection.report.params"
    _inherit = "crm.waterfall.report.params"
    _description = "Handoff Rejection Reasons Parameters"
    _report_line_model = "crm.handoff.rejection.report"

    def _report_values(self):
        """Why the receiving side rejected the handoffs of the leads in scope: one line per phase handed
        over and reason (per sending team, source, medium, campaign or country, per period sent), with its
        share of the group's rejections (``funnel_metrics.rejection_reasons``). Per salesperson, per phase
        only: a handoff is a team's."""
        import funnel_metrics  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        self.ensure_one()
        by = self._by() if self._by() in HANDOFF_GROUPS else None
        _stays, handoffs = self._tables((by,) if by else ())
        if handoffs.empty:
            return []
        period = self._period()
        result = funnel_metrics.rejection_reasons(handoffs, by=by, period=period, tz=self._tz())
        return [
            {
                **_group_values(row, by),
                "period_start": _period_value(row, period),
                "phase_id": int(row["phase"]),
                "reason_id": int(row["reason"]) if isinstance(row["reason"], str) else False,
                "rejected": int(row["rejected"]),
                "share": _number(row["share"], 100),
            }
            for row in result.to_dict("records")
        ]


class CrmHandoffRejectionReport(models.Model):
    """A line of the handoff rejection reasons, computed on read from the parameters in the context."""

    _name = "crm.handoff.rejection.report"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Handoff Rejection Reasons"
    _auto = False
    _order = "team_id, source_id, medium_id, campaign_id, country_id, period_start, phase_id, rejected desc"
    _report_model = "crm.handoff.rejection.report.params"
    _report_context_key = "waterfall_report"

    phase_id = fields.Many2one("crm.lifecycle.phase", string="Phase Handed Over", required=True)
    reason_id = fields.Many2one("crm.handoff.reject.reason")
    period_start = fields.Date(string="Period", help="The first day of the period the handoffs were sent.")
    team_id = fields.Many2one("crm.team", string="Sending Team")
    source_id = fields.Many2one("utm.source")
    medium_id = fields.Many2one("utm.medium")
    campaign_id = fields.Many2one("utm.campaign")
    country_id = fields.Many2one("res.country")
    rejected = fields.Integer(help="Handoffs rejected for this reason.")
    share = fields.Float(string="Share (%)", aggregator=None, help="Of the group's rejected handoffs.")
