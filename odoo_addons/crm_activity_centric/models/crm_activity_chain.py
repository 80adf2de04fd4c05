from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

START_KINDS = [
    ("lead_created", "Lead Created"),
    ("stage_entered", "Stage Entered"),
    ("activity_done", "Activity Done"),
]
END_KINDS = [
    ("activity_done", "Activity Done"),
    ("stage_entered", "Stage Entered"),
    ("message_sent", "Message Sent by a Salesperson"),
]
THRESHOLD_UNITS = [
    ("minutes", "Minutes"),
    ("hours", "Hours"),
    ("days", "Days"),
    ("business_days", "Business Days"),
]


class CrmActivityChain(models.Model):
    """An event chain: a start event on a lead, the end event that should follow, and how soon.

    "First call within 15 minutes of lead creation", "quotation sent within 1 business day of
    qualification". Events are read from the chatter (stage tracking, "activity done" messages,
    salespeople's messages), so chains also measure history from before the module was installed.
    """

    _name = "crm.activity.chain"
    _description = "Event Chain"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to use it in every company.")
    description = fields.Text(translate=True, help="Why this chain matters, shown with its report.")
    start_kind = fields.Selection(
        START_KINDS,
        string="Starts When",
        required=True,
        default="lead_created",
        help="Lead Created: the lead's creation.\n"
        "Stage Entered: the lead enters the stage (a lead created in the stage enters it on creation).\n"
        "Activity Done: an activity of the type is marked done on the lead.",
    )
    start_stage_id = fields.Many2one("crm.stage", ondelete="restrict")
    start_activity_type_id = fields.Many2one(
        "mail.activity.type",
        ondelete="restrict",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
    )
    end_kind = fields.Selection(
        END_KINDS,
        string="Ends When",
        required=True,
        default="activity_done",
        help="Activity Done: an activity of the type is marked done on the lead.\n"
        "Stage Entered: the lead enters the stage.\n"
        "Message Sent by a Salesperson: an internal user posts a message or sends an email on the lead "
        "(internal notes do not count).",
    )
    end_stage_id = fields.Many2one("crm.stage", ondelete="restrict")
    end_activity_type_id = fields.Many2one(
        "mail.activity.type",
        ondelete="restrict",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
    )
    threshold = fields.Float(
        string="Within", required=True, default=1.0, help="How long the end event may take after the start."
    )
    threshold_unit = fields.Selection(
        THRESHOLD_UNITS,
        string="Unit",
        required=True,
        default="hours",
        help="Minutes, hours and days are elapsed time (a day is 24 hours). Business days follow the "
        "company's working schedule and public holidays: a chain started on Friday with 1 business day "
        "is due on Monday at the same time.",
    )

    @api.constrains(
        "threshold",
        "threshold_unit",
        "start_kind",
        "start_stage_id",
        "start_activity_type_id",
        "end_kind",
        "end_stage_id",
        "end_activity_type_id",
    )
    def _check_configuration(self):
        from activity_centric.chains import threshold_problems  # noqa: PLC0415 - pandas: load it when needed

        for chain in self:
            problems = threshold_problems(chain.threshold, chain.threshold_unit)
            if problems:
                raise ValidationError(chain._threshold_problem_message(problems[0]))
            for side, kind, stage, activity_type in (
                (self.env._("start"), chain.start_kind, chain.start_stage_id, chain.start_activity_type_id),
                (self.env._("end"), chain.end_kind, chain.end_stage_id, chain.end_activity_type_id),
            ):
                if kind == "stage_entered" and not stage:
                    raise ValidationError(
                        self.env._(
                            "Chain “%(chain)s”: choose the stage whose entry is the %(side)s event.",
                            chain=chain.name,
                            side=side,
                        )
                    )
                if kind == "activity_done" and not activity_type:
                    raise ValidationError(
                        self.env._(
                            "Chain “%(chain)s”: choose the activity type whose completion is the %(side)s "
                            "event.",
                            chain=chain.name,
                            side=side,
                        )
                    )
            if chain._event_spec("start") == chain._event_spec("end"):
                raise ValidationError(
                    self.env._(
                        "Chain “%(chain)s”: the end event is the same as the start event; choose another "
                        "one.",
                        chain=chain.name,
                    )
                )

    def _threshold_problem_message(self, problem):
        """The translated message of a problem code of ``activity_centric.threshold_problems``."""
        from activity_centric.chains import problem_text  # noqa: PLC0415

        if problem.code in ("not_positive", "not_a_number"):
            return self.env._("Chain “%(chain)s”: the threshold must be greater than zero.", chain=self.name)
        if problem.code == "fractional_business_days":
            return self.env._(
                "Chain “%(chain)s”: a threshold in business days must be a whole number of days "
                "(use hours for part of a day).",
                chain=self.name,
            )
        # unknown_unit: the unit is a selection, refused before this check
        return problem_text(problem)

    @api.onchange("start_kind")
    def _onchange_start_kind(self):
        if self.start_kind != "stage_entered":
            self.start_stage_id = False
        if self.start_kind != "activity_done":
            self.start_activity_type_id = False

    @api.onchange("end_kind")
    def _onchange_end_kind(self):
        if self.end_kind != "stage_entered":
            self.end_stage_id = False
        if self.end_kind != "activity_done":
            self.end_activity_type_id = False

    def action_open_report(self):
        """The Event Chains report, on this chain."""
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.actions"]._for_xml_id(
            "crm_activity_centric.crm_activity_chain_report_action"
        )
        action["context"] = {"default_chain_id": self.id}
        return action

    # ------------------------------------------------------------------
    # Facts for activity_centric.chains
    # ------------------------------------------------------------------

    def _event_spec(self, side):
        """``(kind, stage id, activity type id)`` of the start or end event, ids only where they matter."""
        self.ensure_one()
        kind = self[f"{side}_kind"]
        stage = self[f"{side}_stage_id"].id if kind == "stage_entered" else False
        activity_type = self[f"{side}_activity_type_id"].id if kind == "activity_done" else False
        return kind, stage, activity_type

    def _threshold(self):
        from activity_centric import Threshold  # noqa: PLC0415 - pandas is heavy: load it when needed

        self.ensure_one()
        value = int(self.threshold) if self.threshold_unit == "business_days" else self.threshold
        return Threshold(value, self.threshold_unit)

    def _work_calendar(self, starts, tz):
        """The work calendar of the business-day deadlines of chains started at ``starts`` (a Series of UTC
        datetimes): the working schedule of the chain's company (or the current one), with the leaves those
        deadlines reach; without a schedule, Monday to Friday in ``tz``. None for elapsed-time thresholds.

        :raise UserError: the schedule has no working time
        """
        from activity_centric import CalendarError, WorkCalendar, deadlines  # noqa: PLC0415 - pandas is heavy

        self.ensure_one()
        if self.threshold_unit != "business_days" or starts.empty:
            return None
        schedule = (self.company_id or self.env.company).resource_calendar_id
        if not schedule:
            return WorkCalendar.from_weekdays(range(5), tz=tz)
        first = starts.min().tz_convert("UTC").tz_localize(None).to_pydatetime()
        threshold = self._threshold()

        def compute(work):
            reached = deadlines(starts, threshold, calendar=work).max()
            return work, first, reached.tz_convert("UTC").tz_localize(None).to_pydatetime()

        try:
            return schedule._pd_work_time(first, first, compute)
        except CalendarError as error:
            raise UserError(schedule._pd_calendar_problem(error)) from None

    def _events(self, side, leads, date_from=None, date_to=None):
        """The start or end events of the chain on ``leads``: a list of ``(lead id, UTC datetime)``.

        :param leads: SQL selecting the lead ids in scope (read with the user's rights beforehand)
        :param date_from: keep events at or after this UTC datetime
        :param date_to: keep events before this UTC datetime
        """
        self.ensure_one()
        kind, stage_id, activity_type_id = self._event_spec(side)
        Message = self.env["mail.message"]
        Message.flush_model(["model", "res_id", "date", "message_type", "subtype_id", "author_id"])
        Message.flush_model(["mail_activity_type_id"])
        self.env["crm.lead"].flush_model(["create_date", "stage_id"])
        if kind == "lead_created":
            events = SQL(
                "SELECT l.id AS lead_id, l.create_date AS at FROM crm_lead l WHERE l.id IN %s", leads
            )
        elif kind == "stage_entered":
            entries = self._stage_entries(leads, stage_id)
            events = SQL(
                "SELECT * FROM unnest(%s::int[], %s::timestamp[]) AS e(lead_id, at)",
                [lead_id for lead_id, _at in entries],
                [at for _lead_id, at in entries],
            )
        elif kind == "activity_done":
            events = SQL(
                """
                SELECT m.res_id AS lead_id, m.date AS at
                  FROM mail_message m
                 WHERE m.model = 'crm.lead' AND m.res_id IN %s
                   AND m.mail_activity_type_id = %s AND m.subtype_id = %s
                """,
                leads,
                activity_type_id,
                self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_activities"),
            )
        else:  # message_sent
            self.env["res.users"].flush_model(["partner_id", "share"])
            events = SQL(
                """
                SELECT m.res_id AS lead_id, m.date AS at
                  FROM mail_message m
                 WHERE m.model = 'crm.lead' AND m.res_id IN %s
                   AND m.message_type IN ('comment', 'email') AND m.subtype_id = %s
                   AND EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = m.author_id AND NOT u.share)
                """,
                leads,
                self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment"),
            )
        conditions = [SQL("e.at IS NOT NULL")]
        if date_from:
            conditions.append(SQL("e.at >= %s", date_from))
        if date_to:
            conditions.append(SQL("e.at < %s", date_to))
        return self.env.execute_query(
            SQL("SELECT e.lead_id, e.at FROM (%s) e WHERE %s", events, SQL(" AND ").join(conditions))
        )

    @api.model
    def _stage_entries(self, leads, stage_id):
        """When ``leads`` (SQL selecting lead ids) entered the stage: ``[(lead id, UTC datetime)]``.

        The stays are rebuilt from the chatter's stage tracking by :func:`funnel_metrics.stays_from_changes`
        (a lead created in the stage enters it on creation), as the stage history's rebuild does.
        """
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        from funnel_metrics import stays_from_changes  # noqa: PLC0415

        self.env["mail.tracking.value"].flush_model(
            ["field_id", "mail_message_id", "old_value_integer", "new_value_integer"]
        )
        stage_field = self.env["ir.model.fields"]._get("crm.lead", "stage_id").id
        lead_rows = self.env.execute_query(
            SQL("SELECT l.id, l.create_date, l.stage_id FROM crm_lead l WHERE l.id IN %s", leads)
        )
        change_rows = self.env.execute_query(
            SQL(
                """SELECT m.res_id, m.date, old.id, new.id
                     FROM mail_tracking_value v
                     JOIN mail_message m ON m.id = v.mail_message_id
                     JOIN crm_stage new ON new.id = v.new_value_integer
                LEFT JOIN crm_stage old ON old.id = v.old_value_integer
                    WHERE v.field_id = %(field)s AND m.model = 'crm.lead' AND m.res_id IN %(leads)s
                 ORDER BY v.id""",
                field=stage_field,
                leads=leads,
            )
        )
        stays = stays_from_changes(
            pd.DataFrame(lead_rows, columns=["lead_id", "created_at", "stage"], dtype=object),
            pd.DataFrame(change_rows, columns=["lead_id", "at", "old_stage", "new_stage"], dtype=object),
        )
        entered = stays[stays["stage"] == stage_id]
        # datetime64[us] to a list gives Python datetimes
        instants = entered["entered_at"].to_numpy().astype("datetime64[us]").tolist()
        return list(zip(entered["lead_id"].tolist(), instants, strict=True))


class CrmActivityReportScope(models.AbstractModel):
    """What the activity reports look at: the pipeline report scope (days in the user's time zone, sales
    teams), by default the last 90 days, over the leads of the teams."""

    _name = "crm.activity.report.scope"
    _inherit = "crm.pipeline.report.scope"
    _description = "Activity Report Scope"

    date_from = fields.Date(default=lambda self: fields.Date.context_today(self) - timedelta(days=90))
    date_to = fields.Date(default=fields.Date.context_today)
    # extended here, so that the reports' relation tables belong to this addon and go with it
    team_ids = fields.Many2many(help="Leads of these teams (empty: every team).")

    def _lead_domain(self):
        return [("team_id", "in", self.team_ids.ids)] if self.team_ids else []

    def _lead_query(self, active_test=False):
        """SQL selecting the leads in scope the current user may read (record rules applied)."""
        self.ensure_one()
        Lead = self.env["crm.lead"].with_context(active_test=active_test)
        return Lead._search(self._lead_domain()).subselect()
