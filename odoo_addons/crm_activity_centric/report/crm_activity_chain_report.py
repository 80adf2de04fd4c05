import math

from markupsafe import Markup
from odoo import fields, models
from odoo.tools import SQL

GROUP_BY = [("user", "Salesperson"), ("team", "Sales Team")]


def _number(value):
    """NaN (no value) becomes None."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


class CrmActivityChainReport(models.TransientModel):
    """Share of an event chain's chains completed within its threshold, per salesperson or team.

    The parameters of the report; its lines are computed when they are read (nothing is stored)."""

    _name = "crm.activity.chain.report"
    _inherit = ["crm.activity.report.scope", "crm.pipeline.readonly.report.form"]
    _description = "Event Chain Report"
    _report_line_model = "crm.activity.chain.report.line"
    _report_param_fields = ("chain_id", "date_from", "date_to", "team_ids", "group_by")

    chain_id = fields.Many2one(
        "crm.activity.chain",
        string="Event Chain",
        required=True,
        ondelete="cascade",
        default=lambda self: self.env["crm.activity.chain"].search([], limit=1),
    )
    date_from = fields.Date(help="Chains whose start event is on or after this day.")
    date_to = fields.Date(help="Chains whose start event is on or before this day.")
    group_by = fields.Selection(GROUP_BY, string="Per", required=True, default="user")

    def _compliance(self):
        """Compliance of the chains started in the period on the leads the user may read, per salesperson
        or team (0: none): the :func:`activity_centric.chain_compliance` frame, or None without chains."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        from activity_centric import as_utc_series, chain_compliance  # noqa: PLC0415

        self.ensure_one()
        chain = self.chain_id
        date_from, date_to = self._period_bounds()
        starts = pd.DataFrame(
            chain._events("start", self._lead_query(), date_from, date_to), columns=["key", "at"]
        )
        if starts.empty:
            return None
        lead_ids = tuple(sorted(set(starts["key"].tolist())))
        ends = pd.DataFrame(chain._events("end", SQL("%s", lead_ids)), columns=["key", "at"])
        self.env["crm.lead"].flush_model(["user_id", "team_id"])
        owners = pd.DataFrame(
            self.env.execute_query(
                SQL(
                    "SELECT id, COALESCE(user_id, 0), COALESCE(team_id, 0) FROM crm_lead WHERE id IN %s",
                    lead_ids,
                )
            ),
            columns=["key", "user", "team"],
        )
        return chain_compliance(
            starts.merge(owners, on="key", how="left"),
            ends,
            chain._threshold(),
            by=[self.group_by],
            as_of=fields.Datetime.now(),
            calendar=chain._work_calendar(as_utc_series(starts["at"], "starts"), self._tz()),
        )

    def _report_values(self):
        """The compliance of the chains in scope, one line per salesperson or team by name (no write)."""
        self.ensure_one()
        # parameters from an action's context are not checked by a save of this form
        self._validate_fields(self._report_param_fields)
        if not self.chain_id:
            return []
        compliance = self._compliance()
        if compliance is None or compliance.empty:
            return []
        per_user = self.group_by == "user"
        Model = self.env["res.users"] if per_user else self.env["crm.team"]
        none_label = self.env._("No salesperson") if per_user else self.env._("No sales team")
        groups = []
        for group_id, row in compliance.iterrows():
            record = Model.browse(int(group_id)) if group_id else Model
            share = _number(row["share_within"])
            median = _number(row["median_minutes"])
            groups.append(
                (
                    record,
                    {
                        "name": record.display_name if record else none_label,
                        "user_id": record.id if per_user else False,
                        "team_id": False if per_user else record.id,
                        **{
                            column: int(row[column])
                            for column in ("started", "within", "late", "missed", "pending")
                        },
                        "share_within": share * 100 if share is not None else 0.0,
                        "has_share": share is not None,
                        "median_minutes": median if median is not None else 0.0,
                        "has_median": median is not None,
                    },
                )
            )
        # by name, the unassigned last, never by a score
        groups.sort(key=lambda item: (not item[0], item[1]["name"].casefold()))
        return [dict(vals, sequence=rank) for rank, (_record, vals) in enumerate(groups)]

    def action_show(self):
        """The lines for these parameters, read when the list opens (nothing is computed here)."""
        self.ensure_one()
        return self._report_action(
            self.chain_id.display_name,
            view_mode="list,graph",
            views=[(False, "list"), (False, "graph")],
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._(
                "No chain of “%(chain)s” started in this period on the leads you can see: widen the filters.",
                chain=self.chain_id.display_name,
            ),
        )


class CrmActivityChainReportLine(models.Model):
    """A salesperson's or team's chain compliance, computed when read from the parameters in the context."""

    _name = "crm.activity.chain.report.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Event Chain Report Line"
    _auto = False
    _order = "sequence, id"
    _report_model = "crm.activity.chain.report"
    _report_context_key = "crm_activity_chain_report"

    sequence = fields.Integer()
    name = fields.Char(string="Salesperson / Team", required=True)
    user_id = fields.Many2one("res.users", string="Salesperson")
    team_id = fields.Many2one("crm.team", string="Sales Team")
    started = fields.Integer(
        help="Chains whose start event falls in the period (one per lead: its first start)."
    )
    within = fields.Integer(help="Chains whose end event came at or before the deadline.")
    late = fields.Integer(help="Chains whose end event came after the deadline.")
    missed = fields.Integer(help="Chains with no end event although the deadline has passed.")
    pending = fields.Integer(help="Chains with no end event yet, still before their deadline.")
    share_within = fields.Float(
        string="Within Threshold (%)",
        aggregator=None,
        help="Within / (within + late + missed); pending chains are not decided yet.",
    )
    median_minutes = fields.Float(
        aggregator=None,
        help="Median time from start to end of the chains that ended.",
    )
    # a float field cannot be empty: these tell "no value" from 0
    has_share = fields.Boolean()
    has_median = fields.Boolean()
