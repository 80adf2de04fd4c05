import math

from markupsafe import Markup
from odoo import api, fields, models

GROUP_BY = [("stage", "Stage"), ("team", "Sales Team"), ("user", "Salesperson")]


def _number(value):
    """NaN (no estimate) becomes an empty field."""
    return False if value is None or (isinstance(value, float) and math.isnan(value)) else value


class CrmStageFunnelReport(models.TransientModel):
    """The funnel's parameters; its lines are computed when the list or the graph reads them."""

    _name = "crm.stage.funnel.report"
    _inherit = ["crm.stage.history.scope", "crm.pipeline.readonly.report.form"]
    _description = "Stage Funnel Report"
    _report_line_model = "crm.stage.funnel.report.line"
    _report_param_fields = ("date_from", "date_to", "team_ids", "user_ids", "group_by")

    user_ids = fields.Many2many(
        "res.users",
        string="Salespersons",
        help="Leads that one of these salespersons held in at least one stage, with their whole history.",
    )
    group_by = fields.Selection(
        GROUP_BY,
        string="Per",
        required=True,
        default="stage",
        help="Per sales team or salesperson, a lead counts in a stage for the team or salesperson it had "
        "when it first entered that stage: a lead handed over between stages counts for each in their "
        "own stages.",
    )

    def _scope_users(self):
        return self.user_ids

    def _report_values(self):
        """The funnel of the leads in scope, against the stage targets, as report lines.

        With teams or salespersons chosen, the funnel is what they are credited with in the unfiltered
        report: a lead's passage through a stage counts when its first stay there is of the chosen teams
        and salespersons, judged on its whole history; time in stage is that of their own stays. The
        numbers and the most specific target of each line are funnel_metrics' (``selection_funnel`` per
        stage, ``breakdown`` per team or salesperson); the targets are read once.
        """
        import funnel_metrics  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        self.ensure_one()
        table = self._transitions()
        if table.empty:
            return []
        selected = self._selected_stays(table)
        now = fields.Datetime.now()
        keyed = self._keyed_by_ids(table)
        targets = self.env["crm.stage.target"]._targets_table()
        if self.group_by == "stage":
            funnel = funnel_metrics.selection_funnel(keyed, selected, as_of=now, targets=targets)
        else:
            funnel = funnel_metrics.breakdown(keyed, self.group_by, targets, as_of=now, selected=selected)
        stages = self.env["crm.stage"].browse(sorted({int(stage) for stage in funnel["stage"]}))
        won = set(stages.filtered("is_won").ids)
        sequence = {stage.id: stage.sequence for stage in stages}
        lines = []
        for row in funnel.to_dict("records"):
            # the team or salesperson id as text, NA for none
            group = row[self.group_by] if self.group_by != "stage" else None
            group_id = int(group) if isinstance(group, str) else False
            stage_id = int(row["stage"])
            rate = _number(row["conversion_rate"])
            target_rate = _number(row["target_conversion_rate"])
            median = _number(row["median_days"])
            p90 = _number(row["p90_days"])
            lines.append(
                {
                    "stage_id": stage_id,
                    "stage_sequence": sequence[stage_id],
                    "team_id": group_id if self.group_by == "team" else False,
                    "user_id": group_id if self.group_by == "user" else False,
                    "entered": int(row["entered"]),
                    "advanced": int(row["advanced"]),
                    "lost": int(row["lost"]),
                    "open": int(row["open"]),
                    "conversion_rate": rate * 100 if rate is not False else False,
                    "has_conversion": rate is not False,
                    "target_conversion_rate": target_rate * 100 if target_rate is not False else False,
                    "median_days": median,
                    # the won stage is an end point: its stays end as they start
                    "has_median": median is not False and stage_id not in won,
                    "p90_days": p90,
                    "has_p90": p90 is not False and stage_id not in won,
                    "target_days_in_stage": _number(row["target_days_in_stage"]),
                    "conversion_below_target": bool(row["conversion_below_target"]),
                    "days_over_target": bool(row["days_over_target"]),
                    "below_target": bool(row["below_target"]),
                }
            )
        return lines

    def action_show(self):
        """Open the funnel's list and graph: its lines are computed as they read them (no write)."""
        group_by = {"team": ["team_id"], "user": ["user_id"]}.get(self.group_by, [])
        return self._report_action(
            self.env._("Funnel"),
            view_mode="list,graph",
            context={"group_by": group_by, "funnel_per": self.group_by},
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._("No stage history matches this period, team and salesperson: widen the filters."),
        )


class CrmStageFunnelReportLine(models.Model):
    """A line of the funnel, computed on read from the parameters in the context (``funnel_report``)."""

    _name = "crm.stage.funnel.report.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Stage Funnel Report Line"
    _auto = False
    _order = "team_id, user_id, stage_sequence, stage_id"
    _report_model = "crm.stage.funnel.report"
    _report_context_key = "funnel_report"

    stage_id = fields.Many2one("crm.stage", required=True)
    # the stage's sequence when the report was computed (a column of the lines, not a related field: a
    # stage's new sequence would otherwise search the lines, which computes a report)
    stage_sequence = fields.Integer()
    team_id = fields.Many2one("crm.team", string="Sales Team")
    user_id = fields.Many2one("res.users", string="Salesperson")
    entered = fields.Integer(help="Leads that entered the stage.")
    advanced = fields.Integer(string="Moved Forward", help="Leads that reached a later stage.")
    lost = fields.Integer(help="Leads lost while in the stage.")
    open = fields.Integer(string="Still in Stage", help="Open leads that are still in the stage.")
    conversion_rate = fields.Float(
        string="Conversion (%)",
        aggregator=None,
        help="Moved forward / (moved forward + lost). Leads still in the stage are not failures.",
    )
    target_conversion_rate = fields.Float(string="Target Conversion (%)", aggregator=None)
    median_days = fields.Float(
        aggregator=None,
        help="Median days in the stage, leads still in it counted as censored stays "
        "(Kaplan-Meier). Empty while fewer than half have left.",
    )
    p90_days = fields.Float(aggregator=None)
    target_days_in_stage = fields.Float(string="Target Days", aggregator=None)
    conversion_below_target = fields.Boolean(help="The conversion rate is below its target.")
    days_over_target = fields.Boolean(help="The median days in the stage exceed their target.")
    below_target = fields.Boolean(string="Off Target", help="Conversion below target or days over target.")
    # a float field cannot be empty: these tell "no estimate" from 0
    has_conversion = fields.Boolean()
    has_median = fields.Boolean()
    has_p90 = fields.Boolean()

    # A lead enters, and moves forward from, several stages: summed over stages, these count nothing (a
    # lead is lost in one stage and still open in one: those sums are leads). Within a stage they add up
    # over teams and salespersons: the graph per stage sums them, a team's or salesperson's row does not.
    _STAGE_ONLY_SUMS = ("entered:sum", "advanced:sum")

    @api.model
    @api.readonly
    def formatted_read_group(
        self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None
    ):
        groups = super().formatted_read_group(domain, groupby, aggregates, having, offset, limit, order)
        if not any(spec.split(":")[0] == "stage_id" for spec in groupby):
            for group in groups:
                for spec in self._STAGE_ONLY_SUMS:
                    if spec in group:
                        group[spec] = None
        return groups
