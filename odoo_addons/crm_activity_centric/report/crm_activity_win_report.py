import math
from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

from .crm_activity_signal_report import MANAGER_GROUP


def _percent(value):
    """A share in [0, 1] as a percentage; no value (NaN) gives 0, hidden in the views."""
    return 0.0 if value is None or math.isnan(value) else value * 100


def _count(value):
    """An optional count (pandas NA: not stated) as an integer, 0 when not stated."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class CrmActivityWinReport(models.TransientModel):
    """Which activities win deals: per type of activity, the win rate of the decided opportunities by how
    many activities of that type were completed before the decision.

    The parameters of the report; its lines are computed when they are read (nothing is stored), by
    :func:`funnel_metrics.win_rate_by_count` and :func:`funnel_metrics.saturation`."""

    _name = "crm.activity.win.report"
    _inherit = ["crm.activity.report.scope", "crm.pipeline.readonly.report.form"]
    _description = "Activities That Win Report"
    _report_line_model = "crm.activity.win.report.line"
    _report_param_fields = ("date_from", "date_to", "team_ids", "max_count", "min_deals")

    date_from = fields.Date(
        default=lambda self: fields.Date.context_today(self) - timedelta(days=365),
        help="Opportunities won or lost on or after this day.",
    )
    date_to = fields.Date(help="Opportunities won or lost on or before this day.")
    max_count = fields.Integer(
        string="Count Up To",
        required=True,
        default=5,
        help="The last count shown: its line holds the opportunities with that many activities of the "
        "type or more (5: 0, 1, 2, 3, 4, 5+).",
    )
    min_deals = fields.Integer(
        string="Opportunities Needed",
        required=True,
        default=30,
        help="A count with fewer decided opportunities is shown, but the report draws no conclusion from "
        "it: its interval is too wide.",
    )

    @api.constrains("max_count", "min_deals")
    def _check_options(self):
        for report in self:
            if report.max_count < 1 or report.min_deals < 1:
                raise ValidationError(
                    self.env._("The count shown up to and the opportunities needed must be at least 1.")
                )

    def _deal_rows(self):
        """The decided opportunities in scope (the user's rights, the teams, decided in the period):
        ``[(lead id, "won" or "lost", decided at, salesperson id or 0)]``. Won and lost are Odoo's own
        ``won_status``; an open opportunity is not a deal; decided at ``date_closed`` (the last write
        when Odoo has none), as :func:`funnel_metrics.extract.extract_deals` reads them."""
        self.env["crm.lead"].flush_model(["won_status", "date_closed", "user_id"])
        date_from, date_to = self._period_bounds()
        conditions = [
            SQL("l.id IN %s", self._lead_query(active_test=False)),
            SQL("l.won_status IN ('won', 'lost')"),
        ]
        decided = SQL("COALESCE(l.date_closed, l.write_date)")
        if date_from:
            conditions.append(SQL("%s >= %s", decided, date_from))
        if date_to:
            conditions.append(SQL("%s < %s", decided, date_to))
        return self.env.execute_query(
            SQL(
                "SELECT l.id, l.won_status, %s, COALESCE(l.user_id, 0) FROM crm_lead l WHERE %s",
                decided,
                SQL(" AND ").join(conditions),
            )
        )

    def _activity_rows(self, lead_ids):
        """The completed activities of these leads: ``[(lead id, activity type id, done at)]``. A
        completed activity is the chatter message Odoo posts when it is marked done (a message on the lead
        with an activity type, as CRM › Reporting › Activities counts them; the archived activity Odoo also
        keeps is the same one, not counted twice)."""
        if not lead_ids:
            return []
        self.env["mail.message"].flush_model(["model", "res_id", "mail_activity_type_id", "date"])
        return self.env.execute_query(
            SQL(
                """
                SELECT m.res_id, m.mail_activity_type_id, m.date
                  FROM mail_message m
                 WHERE m.model = 'crm.lead' AND m.res_id = ANY(%s) AND m.mail_activity_type_id IS NOT NULL
                """,
                list(lead_ids),
            )
        )

    def _tables(self):
        """The activities and deals in scope as the plain package's tables (types and salespersons by id,
        as text), or ``(None, None)`` when no opportunity was decided."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        self.ensure_one()
        # parameters from an action's context are not checked by a save of this form
        self._validate_fields(self._report_param_fields)
        deals = pd.DataFrame(self._deal_rows(), columns=["lead_id", "outcome", "decided_at", "user"])
        if deals.empty:
            return None, None
        deals["user"] = deals["user"].astype(str)
        activities = pd.DataFrame(
            self._activity_rows(deals["lead_id"].tolist()), columns=["lead_id", "activity_type", "done_at"]
        )
        activities["activity_type"] = activities["activity_type"].astype(str)
        activities["user"] = None
        return activities, deals

    def _verdict(self, row):
        """What the report states about a type (a :func:`funnel_metrics.saturation` row), in words."""
        said = []
        if _count(row["useful_count"]):
            said.append(
                self.env._(
                    "More go with a higher win rate up to %(count)s; beyond, no clear gain",
                    count=_count(row["useful_count"]),
                )
            )
        if _count(row["lowering_from"]):
            said.append(
                self.env._(
                    "From %(count)s on, more go with a lower win rate", count=_count(row["lowering_from"])
                )
            )
        return "; ".join(said) or self.env._("No clear effect of the count")

    def _report_values(self):
        """One line per activity type (by name) and count, with its win rate and interval (no write)."""
        from funnel_metrics import saturation, win_rate_by_count  # noqa: PLC0415

        activities, deals = self._tables()
        if deals is None:
            return []
        by_count = win_rate_by_count(activities, deals, self.max_count)
        if by_count.empty:
            return []
        points = saturation(by_count, self.min_deals).set_index("activity_type")
        types = self.env["mail.activity.type"].browse(sorted({int(t) for t in points.index}))
        rank = {
            activity_type.id: i for i, activity_type in enumerate(types.sorted(lambda t: t.name.casefold()))
        }
        verdicts = {int(name): self._verdict(row) for name, row in points.iterrows()}
        lines = []
        for row in by_count.itertuples(index=False):
            type_id = int(row.activity_type)
            point = points.loc[row.activity_type]
            useful, lowering = _count(point["useful_count"]), _count(point["lowering_from"])
            lines.append(
                {
                    "sequence": rank[type_id] * (self.max_count + 1) + int(row.count),
                    "activity_type_id": type_id,
                    "count": int(row.count),
                    "bucket": str(row.bucket),
                    "deals": int(row.deals),
                    "won": int(row.won),
                    "win_rate": _percent(row.win_rate),
                    "ci_low": _percent(row.ci_low),
                    "ci_high": _percent(row.ci_high),
                    "useful_count": useful,
                    "lowering_from": lowering,
                    "is_useful_count": bool(useful) and int(row.count) == useful,
                    "is_lowering": bool(lowering) and int(row.count) >= lowering,
                    "verdict": verdicts[type_id],
                }
            )
        return sorted(lines, key=lambda vals: vals["sequence"])

    def _empty_help(self):
        return Markup('<p class="o_view_nocontent_empty_folder">%s</p>') % self.env._(
            "No opportunity you can see was won or lost in this period in these teams: widen the filters."
        )

    def action_show(self):
        """The lines for these parameters, read when the list opens (nothing is computed here)."""
        self.ensure_one()
        return self._report_action(
            self.env._("Activities That Win"),
            view_mode="list,graph",
            views=[(False, "list"), (False, "graph")],
            help=self._empty_help(),
        )

    def action_show_salespeople(self):
        """Per salesperson, for managers: the same parameters, opened on the salesperson lines."""
        self.ensure_one()
        Salespeople = self.env["crm.activity.win.rep.report"]
        Salespeople._check_manager()
        form = Salespeople.new(Salespeople._report_params_to_values(self._report_params()))
        return form._report_action(
            self.env._("Activities That Win per Salesperson"),
            views=[(False, "list")],
            help=self._empty_help(),
        )


class CrmActivityWinRepReport(models.TransientModel):
    """Which activities win deals, per salesperson, for sales managers only: the share of each
    salesperson's decided opportunities that reached the useful count of each activity type, and his win
    rate with its interval. Shares, never counts of activities: counts are what salespeople learn to
    inflate."""

    _name = "crm.activity.win.rep.report"
    _inherit = "crm.activity.win.report"
    _description = "Activities That Win per Salesperson Report"
    _report_line_model = "crm.activity.win.rep.line"

    @api.model
    def _check_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only sales managers can see which activities win deals per salesperson; the report "
                    "per activity type (CRM › Reporting › Activities That Win) is open to you."
                )
            )

    def _report_values(self):
        """One line per salesperson (by name, the unassigned last) and activity type (no write)."""
        from funnel_metrics import rep_activity_shares, saturation, win_rate_by_count  # noqa: PLC0415

        self._check_manager()
        activities, deals = self._tables()
        if deals is None:
            return []
        by_count = win_rate_by_count(activities, deals, self.max_count)
        if by_count.empty:
            return []
        shares = rep_activity_shares(activities, deals, saturation(by_count, self.min_deals))
        users = self.env["res.users"].browse(sorted({int(u) for u in shares["user"]} - {0}))
        types = self.env["mail.activity.type"].browse(sorted({int(t) for t in shares["activity_type"]}))
        user_rank = {user.id: i for i, user in enumerate(users.sorted(lambda u: (u.name or "").casefold()))}
        user_rank[0] = len(user_rank)
        type_rank = {t.id: i for i, t in enumerate(types.sorted(lambda t: t.name.casefold()))}
        lines = []
        for row in shares.itertuples(index=False):
            user_id, type_id = int(row.user), int(row.activity_type)
            lines.append(
                {
                    "sequence": user_rank[user_id] * len(type_rank) + type_rank[type_id],
                    "user_id": user_id or False,
                    "activity_type_id": type_id,
                    "useful_count": int(row.useful_count),
                    "deals": int(row.deals),
                    "share_reaching": _percent(row.share_reaching),
                    "win_rate": _percent(row.win_rate),
                    "ci_low": _percent(row.ci_low),
                    "ci_high": _percent(row.ci_high),
                }
            )
        return sorted(lines, key=lambda vals: vals["sequence"])

    def action_show(self):
        self.ensure_one()
        self._check_manager()
        return self.action_show_salespeople()


class CrmActivityWinReportLine(models.Model):
    """An activity type and count: the win rate of the opportunities decided with that many completed
    activities of the type, computed when read from the parameters in the context."""

    _name = "crm.activity.win.report.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Activities That Win Report Line"
    _auto = False
    _order = "sequence, id"
    _report_model = "crm.activity.win.report"
    _report_context_key = "crm_activity_win_report"

    sequence = fields.Integer()
    activity_type_id = fields.Many2one("mail.activity.type", required=True)
    count = fields.Integer(aggregator=None, help="Completed activities of the type before the decision.")
    bucket = fields.Char(
        string="Activities",
        help="Completed activities of the type before the decision; the last line, 5+, holds that many or "
        "more.",
    )
    deals = fields.Integer(string="Opportunities", help="Opportunities won or lost with that many.")
    won = fields.Integer(help="Of those, won.")
    win_rate = fields.Float(string="Win Rate (%)", aggregator="max", help="Won / opportunities.")
    ci_low = fields.Float(
        string="95% Low (%)", aggregator=None, help="Lower end of the 95% interval (Wilson)."
    )
    ci_high = fields.Float(
        string="95% High (%)", aggregator=None, help="Upper end of the 95% interval (Wilson)."
    )
    useful_count = fields.Integer(
        aggregator=None,
        help="Up to this many activities of the type, more go with a higher win rate; beyond it the data "
        "shows no clear gain. Empty: no rise the intervals support.",
    )
    lowering_from = fields.Integer(
        string="Lower From",
        aggregator=None,
        help="From this many activities of the type on, more go with a lower win rate (a deal chased rather "
        "than won). Empty: no fall the intervals support.",
    )
    is_useful_count = fields.Boolean(string="At the Useful Count")
    is_lowering = fields.Boolean(string="Lower Win Rate")
    verdict = fields.Char(
        string="What The Data Says",
        help="Stated only where the intervals do not overlap (adjusted for the many counts looked at).",
    )


class CrmActivityWinRepLine(models.Model):
    """A salesperson and activity type: shares of his decided opportunities, computed when read."""

    _name = "crm.activity.win.rep.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Activities That Win per Salesperson Line"
    _auto = False
    _order = "sequence, id"
    _report_model = "crm.activity.win.rep.report"
    _report_context_key = "crm_activity_win_report"

    sequence = fields.Integer()
    user_id = fields.Many2one("res.users", string="Salesperson")
    activity_type_id = fields.Many2one("mail.activity.type", required=True)
    useful_count = fields.Integer(
        aggregator=None,
        help="The useful count of the type (Activities That Win), or 1 where none is stated: at least one.",
    )
    deals = fields.Integer(string="Opportunities", aggregator=None, help="His opportunities won or lost.")
    share_reaching = fields.Float(
        string="Reaching It (%)",
        aggregator=None,
        help="Share of his opportunities with at least the useful count of the type before the decision.",
    )
    win_rate = fields.Float(string="Win Rate (%)", aggregator=None)
    ci_low = fields.Float(string="95% Low (%)", aggregator=None)
    ci_high = fields.Float(string="95% High (%)", aggregator=None)
