import math
from datetime import date

from markupsafe import Markup
from odoo import api, fields, models

PERIODS = [("none", "Whole Period"), ("week", "Week"), ("month", "Month"), ("quarter", "Quarter")]
# the form's "per" choice: the stays table's column and the lines' field
GROUP_BY = [
    ("none", "Phase"),
    ("team", "Sales Team"),
    ("user", "Salesperson"),
    ("source", "Source"),
    ("medium", "Medium"),
    ("campaign", "Campaign"),
    ("country", "Country"),
]
GROUP_FIELDS = {
    "team": "team_id",
    "user": "user_id",
    "source": "source_id",
    "medium": "medium_id",
    "campaign": "campaign_id",
    "country": "country_id",
}
# the handoffs table's columns a rejection can be grouped by (a handoff has no salesperson of its own)
HANDOFF_GROUPS = ("team", "source", "medium", "campaign", "country")
PHASE_KINDS = [
    ("progress", "Progress"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("recycled", "Recycled"),
    ("disqualified", "Disqualified"),
]


def _number(value, scale=1.0):
    """NaN or NA (no estimate) becomes an empty field; a fraction becomes a percentage with ``scale`` 100."""
    try:
        number = float(value)
    except TypeError:  # None, pandas' NA
        return False
    return False if math.isnan(number) else number * scale


def _group_values(row, by):
    """The lines' group fields of a row of funnel_metrics' tables (ids as text, NA for none)."""
    values = dict.fromkeys(GROUP_FIELDS.values(), False)
    if by:
        values[GROUP_FIELDS[by]] = int(row[by]) if isinstance(row[by], str) else False
    return values


def _period_value(row, period):
    """The line's period: the first day of the row's period (an ISO date), False without periods."""
    return date.fromisoformat(row["period"]) if period else False


class CrmWaterfallReportParams(models.AbstractModel):
    """What the Demand Waterfall and its two companion reports look at: the leads that entered the waterfall
    in a period (days in the user's time zone) and passed through some sales teams, per period and group."""

    _name = "crm.waterfall.report.params"
    _inherit = ["crm.pipeline.report.scope", "crm.pipeline.readonly.report.form"]
    _description = "Demand Waterfall Parameters"
    _report_param_fields = ("date_from", "date_to", "team_ids", "period", "group_by")

    date_from = fields.Date(
        string="Entered Waterfall From", help="Leads whose first lifecycle phase began on or after this day."
    )
    date_to = fields.Date(
        string="Entered Waterfall To", help="Leads whose first lifecycle phase began on or before this day."
    )
    team_ids = fields.Many2many(
        help="Leads that spent at least one phase in one of these teams, with their whole history: their "
        "phases in other teams still tell whether they moved on.",
    )
    period = fields.Selection(
        PERIODS,
        string="Per Period",
        required=True,
        default="none",
        help="A lead counts in the period it first entered each phase (its handoffs in the period they were "
        "sent), in your time zone.",
    )
    group_by = fields.Selection(
        GROUP_BY,
        string="Per",
        required=True,
        default="none",
        help="A lead counts for the team or salesperson it had in each phase (a lead handed over counts for "
        "each in their own phases), and for its source, medium, campaign and country.",
    )

    def _by(self):
        """The waterfall's ``by`` column, None for none."""
        return None if self.group_by == "none" else self.group_by

    def _period(self):
        return None if self.period == "none" else self.period

    def _tables(self, groups):
        """``(stays, handoffs)`` of the leads in scope, read with the user's rights and keyed by ids
        (``crm.lead.phase.history._phase_stays``, ``_handoffs``), with the group columns ``groups``."""
        self.ensure_one()
        start, end = self._period_bounds()
        History = self.env["crm.lead.phase.history"]
        stays, leads = History._phase_stays(start, end, self.team_ids, groups)
        return stays, History._handoffs(leads, stays["lead_id"].unique(), groups)


class CrmWaterfallReportForm(models.TransientModel):
    """The Demand Waterfall's parameters; its lines (and those of the rejection reasons and of the cost per
    sales-accepted lead) are computed when the list or the graph reads them."""

    _name = "crm.waterfall.report.form"
    _inherit = "crm.waterfall.report.params"
    _description = "Demand Waterfall Report"
    _report_line_model = "crm.waterfall.report"

    def _report_values(self):
        """The waterfall of the leads in scope, against the phase targets, as report lines: each line one
        row of ``funnel_metrics.waterfall`` (as of now, in the user's time zone)."""
        import funnel_metrics  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for
        from funnel_metrics.waterfall import WATERFALL_COUNTS  # noqa: PLC0415

        self.ensure_one()
        by, period = self._by(), self._period()
        stays, handoffs = self._tables((by,) if by else ())
        if stays.empty:
            return []
        targets = self.env["crm.lifecycle.phase.target"]._targets_table()
        result = funnel_metrics.waterfall(
            stays,
            handoffs,
            by=by,
            period=period,
            tz=self._tz(),
            as_of=fields.Datetime.now(),
            targets=targets,
        )
        lines = []
        for row in result.to_dict("records"):
            rate = _number(row["conversion_rate"], 100)
            acceptance = _number(row["acceptance_rate"], 100)
            median, p90 = _number(row["median_days"]), _number(row["p90_days"])
            hours = _number(row["median_hours_to_decision"])
            lines.append(
                {
                    **_group_values(row, by),
                    "period_start": _period_value(row, period),
                    "phase_id": int(row["phase"]),
                    "phase_sequence": int(row["phase_sequence"]),
                    "phase_kind": row["phase_kind"],
                    **{name: int(row[name]) for name in WATERFALL_COUNTS},
                    "conversion_rate": rate,
                    "ci_low": _number(row["ci_low"], 100),
                    "ci_high": _number(row["ci_high"], 100),
                    "has_conversion": rate is not False,
                    "median_days": median,
                    "has_median": median is not False,
                    "p90_days": p90,
                    "has_p90": p90 is not False,
                    "acceptance_rate": acceptance,
                    "has_acceptance": acceptance is not False,
                    "median_hours_to_decision": hours,
                    "has_decision_hours": hours is not False,
                    "target_conversion_rate": _number(row["target_conversion_rate"], 100),
                    "target_days": _number(row["target_days"]),
                }
            )
        return lines

    def _open(self, line_model, name, **action):
        """The window action of ``line_model``'s lines for this form's parameters (no write)."""
        self.ensure_one()
        lines = self.env[line_model]
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": line_model,
            "view_mode": "list",
            "target": "current",
            **action,
            "context": {**action.get("context", {}), lines._report_context_key: self._report_params()},
        }

    def _group_by(self, groups=tuple(GROUP_FIELDS)):
        """The list's default grouping: per group (one of ``groups``, the lines' group columns), then per
        period."""
        group_by = [GROUP_FIELDS[self.group_by]] if self.group_by in groups else []
        return group_by + ([f"period_start:{self.period}"] if self._period() else [])

    def _empty_help(self):
        return Markup('<p class="o_view_nocontent_empty_folder">%s</p>') % self.env._(
            "No lifecycle phase matches this period and these teams: widen the filters, or define a handoff "
            "route (CRM > Configuration > Handoff Routes) to start recording phases."
        )

    def action_show(self):
        """Open the waterfall's list and graph: its lines are computed as they read them (no write)."""
        return self._open(
            "crm.waterfall.report",
            self.env._("Demand Waterfall"),
            view_mode="list,graph",
            context={"group_by": self._group_by(), "waterfall_per": self.group_by},
            help=self._empty_help(),
        )

    def action_show_rejections(self):
        """Open the rejection reasons of the handoffs of the same leads (no write)."""
        return self._open(
            "crm.handoff.rejection.report",
            self.env._("Handoff Rejection Reasons"),
            view_mode="list,graph",
            # a handoff is a team's: no line per salesperson
            context={"group_by": self._group_by(HANDOFF_GROUPS), "waterfall_per": self.group_by},
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._("No handoff of these leads was rejected."),
        )

    def action_show_costs(self):
        """Open the cost per sales-accepted lead per campaign of the same leads (no write)."""
        return self._open(
            "crm.sales.accepted.cost.report",
            self.env._("Cost per Sales-Accepted Lead"),
            context={"waterfall_per": "campaign"},
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._(
                "No lead of this period and these teams reached Sales Accepted yet: widen the filters."
            ),
        )


class CrmWaterfallReport(models.Model):
    """A line of the Demand Waterfall, computed on read from the parameters in the context
    (``waterfall_report``): one phase, per group and period."""

    _name = "crm.waterfall.report"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Demand Waterfall"
    _auto = False
    _order = (
        "team_id, user_id, source_id, medium_id, campaign_id, country_id, period_start, phase_sequence, "
        "phase_id"
    )
    _report_model = "crm.waterfall.report.form"
    _report_context_key = "waterfall_report"

    phase_id = fields.Many2one("crm.lifecycle.phase", required=True)
    # the phase's sequence and kind when the report was computed (columns, not related fields: a phase's new
    # sequence would otherwise search the lines, which computes a report)
    phase_sequence = fields.Integer()
    phase_kind = fields.Selection(PHASE_KINDS, string="Kind")
    period_start = fields.Date(
        string="Period", help="The first day of the period the leads entered the phase."
    )
    team_id = fields.Many2one("crm.team", string="Sales Team")
    user_id = fields.Many2one("res.users", string="Salesperson")
    source_id = fields.Many2one("utm.source")
    medium_id = fields.Many2one("utm.medium")
    campaign_id = fields.Many2one("utm.campaign")
    country_id = fields.Many2one("res.country")
    entered = fields.Integer(help="Leads that entered the phase.")
    advanced = fields.Integer(string="Moved On", help="Leads that reached a later phase (or won).")
    recycled = fields.Integer(help="Leads that did not move on and were recycled (a rejected handoff too).")
    disqualified = fields.Integer(help="Leads that did not move on and were disqualified.")
    lost = fields.Integer(help="Leads that did not move on and were lost.")
    open = fields.Integer(
        string="Still in Phase", help="Leads that did not move on and are still in the phase."
    )
    conversion_rate = fields.Float(
        string="Conversion (%)",
        aggregator=None,
        help="Moved on / (moved on + recycled + disqualified + lost). Leads still in the phase are not "
        "failures.",
    )
    ci_low = fields.Float(string="Conversion Low (%)", aggregator=None, help="95% Wilson interval.")
    ci_high = fields.Float(string="Conversion High (%)", aggregator=None, help="95% Wilson interval.")
    median_days = fields.Float(
        aggregator=None,
        help="Median days in the phase, leads still in it counted as censored stays (Kaplan-Meier). Empty "
        "while fewer than half have left.",
    )
    p90_days = fields.Float(aggregator=None)
    stays = fields.Integer(help="Stays in the phase (a recycled lead may come back to it).")
    open_stays = fields.Integer(help="Stays still open.")
    handed_over = fields.Integer(help="Handoffs of leads in this phase.")
    accepted = fields.Integer(help="Handoffs accepted, by the receiving side or by default.")
    auto_accepted = fields.Integer(string="Accepted by Default", help="Accepted when nobody acted in time.")
    rejected = fields.Integer(help="Handoffs rejected with a reason.")
    returned = fields.Integer(help="Handoffs returned to the sender at the acceptance deadline.")
    awaiting = fields.Integer(help="Handoffs still awaiting a decision.")
    acceptance_rate = fields.Float(
        string="Acceptance (%)",
        aggregator=None,
        help="Accepted / (accepted + rejected + returned): how far both sides share a definition of a good "
        "lead. Handoffs awaiting a decision do not count.",
    )
    median_hours_to_decision = fields.Float(string="Median Hours to Decide", aggregator=None)
    target_conversion_rate = fields.Float(string="Target Conversion (%)", aggregator=None)
    target_days = fields.Float(aggregator=None)
    # a float field cannot be empty: these tell "no estimate" from 0
    has_conversion = fields.Boolean()
    has_median = fields.Boolean()
    has_p90 = fields.Boolean()
    has_acceptance = fields.Boolean()
    has_decision_hours = fields.Boolean()

    # A lead enters, and moves on from, several phases: summed over phases, these count nothing; within a
    # phase they add up over groups and periods. The graph per phase sums them; a group's row does not.
    _PHASE_ONLY_SUMS = ("entered:sum", "advanced:sum")

    @api.model
    @api.readonly
    def formatted_read_group(
        self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None
    ):
        groups = super().formatted_read_group(domain, groupby, aggregates, having, offset, limit, order)
        if not any(spec.split(":")[0] == "phase_id" for spec in groupby):
            for group in groups:
                for spec in self._PHASE_ONLY_SUMS:
                    if spec in group:
                        group[spec] = None
        return groups
