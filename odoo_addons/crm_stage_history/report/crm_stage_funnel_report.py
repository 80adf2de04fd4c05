import math

from odoo import fields, models
from odoo.exceptions import UserError

GROUP_BY = [("stage", "Stage"), ("team", "Sales Team"), ("user", "Salesperson")]


def _number(value):
    """NaN (no estimate) becomes an empty field."""
    return False if value is None or (isinstance(value, float) and math.isnan(value)) else value


class CrmStageFunnelReport(models.TransientModel):
    _name = "crm.stage.funnel.report"
    _inherit = "crm.stage.history.scope"
    _description = "Stage Funnel Report"

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
    line_ids = fields.One2many("crm.stage.funnel.report.line", "report_id", string="Lines")

    def _scope_users(self):
        return self.user_ids

    def _compute_lines(self):
        """Replace the lines with the funnel of the leads in scope.

        With teams or salespersons chosen, the funnel is what they are credited with in the unfiltered
        report: a lead's passage through a stage counts when its first stay there is of the chosen teams
        and salespersons, judged on its whole history; time in stage is that of their own stays.
        """
        import funnel_metrics  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        self.ensure_one()
        self.line_ids.unlink()
        table = self._transitions()
        if table.empty:
            return
        selected = self._selected_stays(table)
        now = fields.Datetime.now()
        if self.group_by == "stage":
            if selected is None:
                dwell = funnel_metrics.time_in_stage(table, as_of=now)
                funnel = funnel_metrics.stage_conversion(table).merge(
                    dwell[["stage", "stage_sequence", "median_days", "p90_days"]],
                    on=["stage", "stage_sequence"],
                    how="left",
                )
            else:
                funnel = funnel_metrics.selection_funnel(table, selected, as_of=now)
            group_ids = [0] * len(funnel)
        else:
            # group on the Odoo ids, not on the names (two salespersons may share a name)
            ids = table[f"{self.group_by}_id"]
            keyed = table.assign(**{self.group_by: ids.astype("string").where(ids > 0)})
            funnel = funnel_metrics.breakdown(keyed, self.group_by, as_of=now, selected=selected)
            group_ids = funnel[self.group_by].fillna("0").astype("int64").tolist()
        stage_ids = dict(
            zip(zip(table["stage"], table["stage_sequence"], strict=True), table["stage_id"], strict=True)
        )
        Target = self.env["crm.stage.target"]
        Stage, Team, User = self.env["crm.stage"], self.env["crm.team"], self.env["res.users"]
        lines = []
        for group_id, row in zip(group_ids, funnel.itertuples(index=False), strict=True):
            team = Team.browse(group_id) if self.group_by == "team" and group_id else None
            user = User.browse(group_id) if self.group_by == "user" and group_id else None
            stage = Stage.browse(int(stage_ids[(row.stage, row.stage_sequence)]))
            rate = _number(row.conversion_rate)
            target_rate = Target._best_for("target_conversion_rate", stage, team, user).target_conversion_rate
            target_days = Target._best_for("target_days_in_stage", stage, team, user).target_days_in_stage
            median = _number(row.median_days)
            p90 = _number(row.p90_days)
            lines.append(
                {
                    "report_id": self.id,
                    "stage_id": stage.id,
                    "team_id": team.id if team else False,
                    "user_id": user.id if user else False,
                    "entered": int(row.entered),
                    "advanced": int(row.advanced),
                    "lost": int(row.lost),
                    "open": int(row.open),
                    "conversion_rate": rate * 100 if rate is not False else False,
                    "has_conversion": rate is not False,
                    "target_conversion_rate": target_rate,
                    "median_days": median,
                    # the won stage is an end point: its stays end as they start
                    "has_median": median is not False and not stage.is_won,
                    "p90_days": p90,
                    "has_p90": p90 is not False and not stage.is_won,
                    "target_days_in_stage": target_days,
                    "below_target": bool(
                        (target_rate and rate is not False and rate * 100 < target_rate)
                        or (target_days and median is not False and median > target_days)
                    ),
                }
            )
        self.env["crm.stage.funnel.report.line"].create(lines)

    def action_show(self):
        self.ensure_one()
        self._compute_lines()
        if not self.line_ids:
            raise UserError(
                self.env._("No stage history matches this period, team and salesperson: widen the filters.")
            )
        group_by = {"team": ["team_id"], "user": ["user_id"]}.get(self.group_by, [])
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Funnel"),
            "res_model": "crm.stage.funnel.report.line",
            "view_mode": "list,graph",
            "domain": [("report_id", "=", self.id)],
            "context": {"group_by": group_by, "funnel_per": self.group_by},
            "target": "current",
        }


class CrmStageFunnelReportLine(models.TransientModel):
    _name = "crm.stage.funnel.report.line"
    _description = "Stage Funnel Report Line"
    _order = "team_id, user_id, stage_sequence, stage_id"

    report_id = fields.Many2one("crm.stage.funnel.report", required=True, ondelete="cascade", index=True)
    stage_id = fields.Many2one("crm.stage", required=True, ondelete="cascade")
    stage_sequence = fields.Integer(related="stage_id.sequence", store=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", ondelete="cascade")
    user_id = fields.Many2one("res.users", string="Salesperson", ondelete="cascade")
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
    below_target = fields.Boolean(string="Off Target")
    # a float field cannot be empty: these tell "no estimate" from 0
    has_conversion = fields.Boolean()
    has_median = fields.Boolean()
    has_p90 = fields.Boolean()
