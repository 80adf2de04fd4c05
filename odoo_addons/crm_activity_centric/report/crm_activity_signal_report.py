import math

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools import SQL

MANAGER_GROUP = "sales_team.group_sale_manager"


def _percent(value):
    """A share in [0, 1] as a percentage; no denominator (NaN) gives 0, hidden in the view."""
    return 0.0 if value is None or math.isnan(value) else value * 100


class CrmActivitySignalReport(models.TransientModel):
    """Follow-up signals per salesperson, for managers: patterns that suggest the follow-up rules are being
    worked around. Something to talk about with the salesperson, not a ranking.

    The parameters of the report; its lines are computed when they are read (nothing is stored)."""

    _name = "crm.activity.signal.report"
    _inherit = ["crm.activity.report.scope", "crm.pipeline.readonly.report.form"]
    _description = "Follow-up Signals Report"
    _report_line_model = "crm.activity.signal.report.line"
    _report_param_fields = ("date_from", "date_to", "team_ids", "quick_seconds", "far_days", "reschedule_min")

    quick_seconds = fields.Integer(
        string="Quick Done (seconds)",
        required=True,
        default=60,
        help="An activity marked done at most this many seconds after it was created, with no feedback, "
        "counts as quick done.",
    )
    far_days = fields.Integer(
        string="Far Placeholder (days)",
        required=True,
        default=180,
        help="An open activity due more than this many days after it was created counts as a far "
        "placeholder.",
    )
    reschedule_min = fields.Integer(
        string="Rescheduled (times)",
        required=True,
        default=3,
        help="An activity whose due date was moved at least this many times counts as rescheduled.",
    )

    @api.constrains("quick_seconds", "far_days", "reschedule_min")
    def _check_options(self):
        for report in self:
            if report.quick_seconds <= 0 or report.far_days <= 0 or report.reschedule_min <= 0:
                raise ValidationError(
                    self.env._(
                        "The quick-done seconds, far-placeholder days and reschedule count must be greater "
                        "than zero."
                    )
                )

    def _check_manager(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only sales managers can see the follow-up signals of salespeople; "
                    "ask your sales manager."
                )
            )

    def _activity_rows(self):
        """Activities on the leads in scope (teams, with the user's rights) created in the period."""
        self.env["mail.activity"].flush_model(
            [
                "res_model",
                "res_id",
                "user_id",
                "date_deadline",
                "active",
                "feedback",
                "followup_done_at",
                "followup_reschedule_count",
            ]
        )
        date_from, date_to = self._period_bounds()
        conditions = [
            SQL("a.res_model = 'crm.lead'"),
            SQL("a.res_id IN %s", self._lead_query(active_test=False)),
            SQL("a.user_id IS NOT NULL"),
        ]
        if date_from:
            conditions.append(SQL("a.create_date >= %s", date_from))
        if date_to:
            conditions.append(SQL("a.create_date < %s", date_to))
        # Done activities are archived; those done before the module was installed have no
        # followup_done_at, their archiving time is when they were done.
        return self.env.execute_query(
            SQL(
                """
                SELECT a.user_id, a.create_date, a.date_deadline,
                       CASE WHEN a.active THEN NULL ELSE COALESCE(a.followup_done_at, a.write_date) END,
                       COALESCE(btrim(a.feedback), '') <> '',
                       COALESCE(a.followup_reschedule_count, 0)
                  FROM mail_activity a
                 WHERE %s
                """,
                SQL(" AND ").join(conditions),
            )
        )

    def _lead_rows(self):
        """Salesperson and follow-up state of the open leads of the teams in scope (no period)."""
        self.env["crm.lead"].flush_model(["user_id", "followup_state"])
        return self.env.execute_query(
            SQL(
                """
                SELECT l.user_id, l.followup_state
                  FROM crm_lead l
                 WHERE l.id IN %s AND l.user_id IS NOT NULL AND l.followup_state IS NOT NULL
                """,
                self._lead_query(active_test=True),
            )
        )

    def _report_values(self):
        """The signals of the activities and leads in scope, one line per salesperson by name (no write)."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        from activity_centric import gaming_signals  # noqa: PLC0415

        self.ensure_one()
        self._check_manager()
        # parameters from an action's context are not checked by a save of this form
        self._validate_fields(self._report_param_fields)
        activities = pd.DataFrame(
            self._activity_rows(),
            columns=["user", "created_at", "deadline", "done_at", "has_feedback", "reschedule_count"],
        )
        leads = pd.DataFrame(self._lead_rows(), columns=["user", "followup_state"])
        if activities.empty and leads.empty:
            return []
        signals = gaming_signals(
            activities,
            leads,
            quick_seconds=self.quick_seconds,
            far_days=self.far_days,
            reschedule_min=self.reschedule_min,
        )
        users = self.env["res.users"].browse([int(user_id) for user_id in signals.index])
        # by name, never by a count
        by_name = {
            user.id: rank for rank, user in enumerate(users.sorted(lambda u: (u.name or "").casefold()))
        }
        lines = []
        for user_id, row in signals.iterrows():
            lines.append(
                {
                    "sequence": by_name[int(user_id)],
                    "user_id": int(user_id),
                    "activities": int(row["done"] + row["open"]),
                    "done": int(row["done"]),
                    "quick_done": int(row["quick_done"]),
                    "quick_done_share": _percent(row["quick_done_share"]),
                    "open": int(row["open"]),
                    "far_placeholders": int(row["far_placeholders"]),
                    "far_placeholder_share": _percent(row["far_placeholder_share"]),
                    "rescheduled": int(row["rescheduled"]),
                    "rescheduled_share": _percent(row["rescheduled_share"]),
                    "open_leads": int(row["open_leads"]),
                    "missing": int(row["missing"]),
                    "missing_share": _percent(row["missing_share"]),
                }
            )
        return sorted(lines, key=lambda vals: vals["sequence"])

    def action_show(self):
        """The lines for these parameters, read when the list opens (nothing is computed here)."""
        self.ensure_one()
        self._check_manager()
        return self._report_action(
            self.env._("Follow-up Signals"),
            views=[(False, "list")],
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._("No activities or open leads match this period and these teams: widen the filters."),
        )


class CrmActivitySignalReportLine(models.Model):
    """A salesperson's follow-up signals, computed when read from the parameters in the context."""

    _name = "crm.activity.signal.report.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Follow-up Signals Report Line"
    _auto = False
    _order = "sequence, id"
    _report_model = "crm.activity.signal.report"
    _report_context_key = "crm_activity_signal_report"

    sequence = fields.Integer()
    user_id = fields.Many2one("res.users", string="Salesperson", required=True)
    activities = fields.Integer(
        help="Activities assigned to the salesperson on leads, created in the period."
    )
    done = fields.Integer(help="Of those, activities marked done.")
    quick_done = fields.Integer(
        help="Done activities marked done within the report's quick-done seconds (default 60) of their "
        "creation, with no feedback: often created only to be closed at once."
    )
    quick_done_share = fields.Float(string="Quick Done (%)", aggregator=None, help="Quick done / done.")
    open = fields.Integer(help="Of those, activities still open.")
    far_placeholders = fields.Integer(
        help="Open activities due more than the report's far-placeholder days (default 180) after their "
        "creation: a next step in name only."
    )
    far_placeholder_share = fields.Float(
        string="Far Placeholders (%)", aggregator=None, help="Far placeholders / open activities."
    )
    rescheduled = fields.Integer(
        help="Activities (open or done) whose due date was moved at least the report's reschedule count "
        "(default 3) times."
    )
    rescheduled_share = fields.Float(
        string="Rescheduled (%)", aggregator=None, help="Rescheduled / activities."
    )
    open_leads = fields.Integer(
        help="The salesperson's open leads in the teams today (not won, lost, archived, folded or exempted "
        "with a no-follow-up reason)."
    )
    missing = fields.Integer(
        string="Missing Follow-up", help="Open leads with no next activity and no reason."
    )
    missing_share = fields.Float(
        string="Missing Follow-up (%)", aggregator=None, help="Missing / open leads."
    )
