import logging
from datetime import timedelta

import psycopg2.errors
import pytz
from markupsafe import Markup
from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import retry_on_concurrency
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, split_every
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil, safe_eval

_logger = logging.getLogger(__name__)

CLOCKS = [
    ("stage_entry", "Stage entry"),
    ("create", "Creation"),
    ("assignment", "Assignment"),
    ("last_action", "Last action"),
]
UNITS = [
    ("business_days", "Business days"),
    ("business_hours", "Business hours"),
    ("days", "Days"),
    ("hours", "Hours"),
]
BUSINESS_UNITS = ("business_days", "business_hours")
ACTIONS = [
    ("reassign", "Reassign"),
    ("return_to_marketing", "Return to marketing"),
    ("mark_lost", "Mark as lost"),
    ("pull_back", "Pull back from partner"),
    ("escalate", "Escalate"),
    ("archive", "Archive"),
]
# crm.lead values kept on the event before and after an action
AUDITED_FIELDS = ("user_id", "team_id", "type", "active", "lost_reason_id", "partner_assigned_id")
# fields the runs write: they do not change who configured the rule
RUN_FIELDS = {"rotation_state", "last_run"}
# advisory lock namespace of the rules' runs ("SLA" in ASCII)
LOCK_NAMESPACE = 0x534C41
# preview lines per rule and kind (warn / act); the totals are always exact
PREVIEW_LIMIT = 200


class CrmSlaRule(models.Model):
    _name = "crm.sla.rule"
    _description = "SLA Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    company_ids = fields.Many2many("res.company", string="Companies", help="Leave empty for every company.")
    team_ids = fields.Many2many("crm.team", string="Sales Teams", help="Leave empty for every team.")
    lead_type = fields.Selection(
        [("lead", "Leads"), ("opportunity", "Opportunities"), ("both", "Leads and opportunities")],
        string="Applies To",
        required=True,
        default="opportunity",
    )
    stage_ids = fields.Many2many("crm.stage", string="Stages", help="Leave empty for every open stage.")
    domain = fields.Char(string="Extra Conditions", default="[]", help="Only leads matching this domain.")
    clock = fields.Selection(
        CLOCKS,
        required=True,
        default="stage_entry",
        help="Stage entry: since the lead entered its stage. Creation: since it was created. Assignment: "
        "since its salesperson was set. Last action: since the latest stage change, completed activity or "
        "message from the salesperson. A new salesperson or sales team restarts the assignment and last "
        "action clocks, whoever made the change; a new sales team also restarts the stage entry clock.",
    )
    threshold = fields.Float(required=True, default=4.0)
    unit = fields.Selection(UNITS, required=True, default="business_days")
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Schedule",
        help="Business days and hours follow this schedule and its public holidays. Empty: the working "
        "schedule of the lead's company.",
    )
    warning_before = fields.Float(
        string="Warn Before",
        help="Warn the owner this long (same unit as the threshold) before the breach. 0: no warning.",
    )
    warning_mode = fields.Selection(
        [("activity", "Activity for the owner"), ("message", "Message to the owner")],
        default="activity",
        required=True,
    )
    warning_activity_type_id = fields.Many2one(
        "mail.activity.type",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
    )
    action = fields.Selection(ACTIONS, required=True, default="escalate")
    reassign_mode = fields.Selection(
        [
            ("round_robin", "Round robin in the team"),
            ("team_leader", "Team leader"),
            ("user", "A named user"),
        ],
        default="round_robin",
        required=True,
    )
    reassign_user_id = fields.Many2one("res.users", string="Reassign To", domain="[('share', '=', False)]")
    target_team_id = fields.Many2one(
        "crm.team",
        string="Give To Team",
        help="Team that gets the lead back (return to marketing, pull back).",
    )
    tag_ids = fields.Many2many("crm.tag", string="Add Tags")
    lost_reason_id = fields.Many2one("crm.lost.reason")
    escalate_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Escalation Activity Type",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
    )
    rotation_state = fields.Json(
        readonly=True, copy=False, help="Round robin: the last user given a lead, per team."
    )
    last_run = fields.Datetime(readonly=True, copy=False)
    configured_by_id = fields.Many2one(
        "res.users",
        readonly=True,
        copy=False,
        default=lambda self: self.env.user,
        help="Who last changed the rule's settings: the runs act on their behalf and record it.",
    )
    event_ids = fields.One2many("crm.sla.event", "rule_id")
    event_count = fields.Integer(compute="_compute_event_count")
    failed_count = fields.Integer(compute="_compute_event_count")

    # ------------------------------------------------------------------
    # Fields, validation
    # ------------------------------------------------------------------

    def _compute_event_count(self):
        counts = {
            (rule.id, state): count
            for rule, state, count in self.env["crm.sla.event"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id", "state"], ["__count"]
            )
        }
        for rule in self:
            rule.event_count = sum(c for (rid, _state), c in counts.items() if rid == rule.id)
            rule.failed_count = counts.get((rule.id, "failed"), 0)

    def write(self, vals):
        if set(vals) - RUN_FIELDS:
            vals = {**vals, "configured_by_id": self.env.uid}
        return super().write(vals)

    @api.constrains(
        "threshold",
        "unit",
        "warning_before",
        "calendar_id",
        "company_ids",
        "action",
        "reassign_mode",
        "reassign_user_id",
        "team_ids",
        "lost_reason_id",
        "domain",
    )
    def _check_rule(self):
        for rule in self:
            problems = rule._sla_problems()
            if problems:
                raise ValidationError(
                    self.env._(
                        "The SLA rule “%(name)s” cannot be saved:\n%(problems)s",
                        name=rule.name,
                        problems="\n".join(f"- {p}" for p in problems),
                    )
                )

    def _sla_problems(self):
        """Every reason why this rule cannot run, as sentences saying what to do."""
        self.ensure_one()
        problems = []
        if self.threshold <= 0:
            problems.append(self.env._("The threshold must be greater than zero."))
        if self.unit == "business_days" and self.threshold != int(self.threshold):
            problems.append(
                self.env._("Business days are counted in whole days: use a whole number of days.")
            )
        if self.warning_before < 0 or (self.warning_before and self.warning_before >= self.threshold):
            problems.append(
                self.env._(
                    "A warning must come before the breach: make “Warn Before” smaller than the threshold."
                )
            )
        if self.unit in BUSINESS_UNITS:
            calendars = self.calendar_id or self._sla_companies().resource_calendar_id
            if not calendars or (
                not self.calendar_id and not all(self._sla_companies().resource_calendar_id)
            ):
                problems.append(
                    self.env._(
                        "Business days and hours need a working schedule: choose one on the rule, or give "
                        "every company of the rule a working schedule."
                    )
                )
            for calendar in calendars:
                if calendar.two_weeks_calendar or calendar.flexible_hours:
                    problems.append(
                        self.env._(
                            "The working schedule “%(calendar)s” has two-week or flexible hours, which SLA "
                            "rules cannot count: choose a weekly schedule with fixed hours.",
                            calendar=calendar.display_name,
                        )
                    )
        if self.action == "reassign":
            if self.reassign_mode == "user" and not self.reassign_user_id:
                problems.append(
                    self.env._("Reassigning to a named user needs that user: fill in “Reassign To”.")
                )
            if self.reassign_mode == "round_robin":
                empty = self.team_ids.filtered(lambda team: not team.crm_team_member_ids)
                if empty:
                    problems.append(
                        self.env._(
                            "Round robin needs members in the team: %(teams)s has no member. Add members or "
                            "reassign to the team leader.",
                            teams=", ".join(empty.mapped("name")),
                        )
                    )
        if self.action == "mark_lost" and not self.lost_reason_id:
            problems.append(self.env._("Marking as lost needs a lost reason: choose one."))
        try:
            self._sla_extra_domain().validate(self.env["crm.lead"])
        except (ValueError, SyntaxError, NameError, TypeError) as exc:
            problems.append(
                self.env._(
                    "The extra conditions are not a valid domain on leads (%(error)s): fix them.", error=exc
                )
            )
        return problems

    def _sla_extra_domain(self):
        text = (self.domain or "").strip() or "[]"
        context = {
            "uid": self.env.uid,
            "datetime": safe_datetime,
            "relativedelta": dateutil.relativedelta.relativedelta,
            "context_today": lambda: fields.Date.context_today(self),
        }
        value = safe_eval(text, context)
        if not isinstance(value, (list, tuple)):
            raise ValueError(self.env._("a domain is a list of conditions"))
        return Domain(value)

    def _sla_companies(self):
        # sudo: the scope covers every company, whatever companies the current user may read
        return self.company_ids or self.env["res.company"].sudo().search([("active", "=", True)])

    # ------------------------------------------------------------------
    # Business time
    # ------------------------------------------------------------------

    def _sla_calendar_groups(self):
        """``[(calendar, company ids or None)]``: the working schedules that apply, with their companies
        (leads without company go with the current company)."""
        self.ensure_one()
        if self.unit not in BUSINESS_UNITS:
            return [(self.env["resource.calendar"], None)]
        if self.calendar_id:
            return [(self.calendar_id, None)]
        groups = {}
        for company in self._sla_companies():
            company_ids = groups.setdefault(company.resource_calendar_id, [])
            company_ids.append(company.id)
            if company == self.env.company:
                company_ids.append(False)
        if not any(False in ids for ids in groups.values()) and not self.company_ids:
            groups.setdefault(self.env.company.resource_calendar_id, []).append(False)
        return list(groups.items())

    def _sla_cutoff(self, calendar, now, amount):
        """Latest clock start that has used up ``amount`` (rule unit) at ``now`` (naive UTC):
        ``resource.calendar`` does the business-time arithmetic."""
        if self.unit == "hours":
            return now - timedelta(hours=amount)
        if self.unit == "days":
            return now - timedelta(days=amount)
        aware = pytz.utc.localize(now)
        if self.unit == "business_hours":
            cutoff = calendar.plan_hours(-amount, aware, compute_leaves=True)
            if not cutoff:
                raise UserError(self._sla_no_working_time(calendar))
            return cutoff.astimezone(pytz.utc).replace(tzinfo=None)
        from sla_rules.businesstime import business_days_cutoff

        days = int(amount)
        window = timedelta(days=2 * days + 14)
        while True:
            intervals = calendar._work_intervals_batch(aware - window, aware + timedelta(days=1))[False]
            dates = {start.date() for start, _stop, _meta in intervals}
            today = aware.astimezone(pytz.timezone(calendar.tz or "UTC")).date()
            if len([d for d in dates if d < today]) >= days:
                return business_days_cutoff(now, days, calendar.tz or "UTC", dates)
            if window > timedelta(days=3 * 366):
                raise UserError(self._sla_no_working_time(calendar))
            window *= 2

    def _sla_no_working_time(self, calendar):
        return self.env._(
            "The working schedule “%(calendar)s” of the SLA rule “%(rule)s” has no working time left to "
            "count (no attendance, or everything on leave): fix the schedule or choose another one.",
            calendar=calendar.display_name,
            rule=self.name,
        )

    def _sla_work_calendar(self, calendar, start, end):
        """The plain-package form of ``calendar`` (attendances and closures between ``start`` and ``end``),
        for the per-lead breach times; the cutoffs themselves come from ``resource.calendar``."""
        from sla_rules.businesstime import Attendance, WorkCalendar

        attendances = tuple(
            Attendance(int(line.dayofweek), line.hour_from, line.hour_to)
            for line in calendar.attendance_ids
            if not line.display_type and line.day_period != "lunch"
        )
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("time_type", "=", "leave"),
                    ("calendar_id", "in", [False, calendar.id]),
                    ("resource_id", "=", False),
                    ("date_from", "<=", end),
                    ("date_to", ">=", start),
                ]
            )
        )
        return WorkCalendar(
            tz=calendar.tz or "UTC",
            attendances=attendances,
            leaves=tuple((leave.date_from, leave.date_to) for leave in leaves),
        )

    def _sla_deadlines(self, calendar, starts, now):
        """``{lead_id: breach time}`` for ``starts`` (``{lead_id: clock start}``)."""
        if not starts:
            return {}
        import pandas as pd

        from sla_rules.businesstime import deadlines

        work_calendar = None
        if self.unit in BUSINESS_UNITS:
            span = timedelta(days=max(2 * self.threshold, 14) + 14)
            work_calendar = self._sla_work_calendar(calendar, min(starts.values()) - span, now + span)
        series = pd.Series(list(starts.values()), index=list(starts.keys()))
        result = deadlines(series, self.threshold, self.unit, work_calendar)
        return {
            lead_id: (
                value.tz_convert("UTC").tz_localize(None).to_pydatetime() if not pd.isna(value) else False
            )
            for lead_id, value in result.items()
        }

    # ------------------------------------------------------------------
    # Selection: one SQL query per rule, kind and working schedule
    # ------------------------------------------------------------------

    def _sla_clock_columns(self):
        """The ``crm.lead`` columns of the rule's clock: its own, then the changes of hands restarting it."""
        from sla_rules.rules import CLOCK_COLUMNS, CLOCK_RESTARTS

        return (CLOCK_COLUMNS[self.clock], *CLOCK_RESTARTS[self.clock])

    def _sla_clock_start(self, table):
        """The clock start of the leads of ``table`` in SQL, as ``sla_rules.rules.clock_start`` defines it:
        the latest of the clock's columns (GREATEST skips the empty ones)."""
        columns = [SQL.identifier(table, column) for column in self._sla_clock_columns()]
        return columns[0] if len(columns) == 1 else SQL("GREATEST(%s)", SQL(", ").join(columns))

    def _sla_query(self, kind, calendar, company_ids, now, lead_ids=None):
        """The leads this rule must warn (``kind='warn'``) or act on (``'act'``) now: scope, clock past the
        cutoff, and no event yet for the episode (rule, lead, clock start)."""
        self.ensure_one()
        column, *restarts = self._sla_clock_columns()
        act_cutoff = self._sla_cutoff(calendar, now, self.threshold)
        domain = Domain("won_status", "=", "pending") & Domain(column, "!=", False)
        if self.clock == "assignment":
            domain &= Domain("user_id", "!=", False)
        if self.company_ids:
            domain &= Domain("company_id", "in", self.company_ids.ids)
        if company_ids is not None:
            domain &= Domain("company_id", "in", company_ids)
        if self.team_ids:
            domain &= Domain("team_id", "in", self.team_ids.ids)
        if self.lead_type != "both":
            domain &= Domain("type", "=", self.lead_type)
        if self.stage_ids:
            domain &= Domain("stage_id", "in", self.stage_ids.ids)
        domain &= self._sla_extra_domain()
        if lead_ids is not None:
            domain &= Domain("id", "in", lead_ids)
        if kind == "act":
            cutoff = act_cutoff
            handled = ("acted", "failed")
        else:
            cutoff = self._sla_cutoff(calendar, now, self.threshold - self.warning_before)
            handled = ("warned", "acted", "failed", "retry")
        # the clock's own column is at or before the cutoff whenever its start is: the index on it helps
        domain &= Domain(column, "<=", cutoff)
        # the conditions below read the events and the restart columns in SQL
        self.env["crm.sla.event"].flush_model(["rule_id", "lead_id", "clock_start", "state"])
        self.env["crm.lead"].flush_model(restarts)
        # sudo: rules act on every lead of their scope, whoever the salesperson; active leads only
        query = self.env["crm.lead"].sudo().with_context(active_test=True)._search(domain)
        lead_id = SQL.identifier(query.table, "id")
        start = self._sla_clock_start(query.table)
        query.add_where(SQL("%s <= %s", start, cutoff))
        if kind == "warn":
            query.add_where(SQL("%s > %s", start, act_cutoff))
        query.add_where(
            SQL(
                """NOT EXISTS (SELECT 1 FROM crm_sla_event event
                                WHERE event.rule_id = %s AND event.lead_id = %s
                                  AND event.clock_start = %s AND event.state IN %s)""",
                self.id,
                lead_id,
                start,
                handled,
            )
        )
        query.order = SQL("%s, %s", start, lead_id)
        return query

    def _sla_select(self, kind, calendar, company_ids, now):
        query = self._sla_query(kind, calendar, company_ids, now)
        self.env.cr.execute(query.select())
        return [row[0] for row in self.env.cr.fetchall()]

    def _sla_claim(self, kind, calendar, company_ids, now, lead_ids):
        """Open (warn) or take over (act) the episodes of ``lead_ids`` that still qualify, in one statement:
        the unique (rule, lead, clock start) makes a concurrent run wait, then skip what this one took.
        Returns ``{lead_id: event_id}`` in the order of ``lead_ids`` (the selection's: oldest clock first,
        which the round robin follows), whatever order the statement returned its rows in."""
        rows = dict(
            self._sla_claim_rows(self.env.cr, self._sla_claim_sql(kind, calendar, company_ids, now, lead_ids))
        )
        self.env["crm.sla.event"].invalidate_model()
        return {lead_id: rows[lead_id] for lead_id in lead_ids if lead_id in rows}

    @staticmethod
    def _sla_claim_rows(cr, claim):
        """Run the claim statement on ``cr``. When a concurrent run took some of the same episodes after
        this transaction's snapshot, PostgreSQL refuses the statement (repeatable read): the batch is
        left to that run and nothing is claimed here."""
        try:
            with cr.savepoint(flush=False):
                cr.execute(claim, log_exceptions=False)
                return cr.fetchall()
        except psycopg2.errors.SerializationFailure:
            _logger.info("SLA rules: a concurrent run is handling the same leads; batch skipped")
            return []

    def _sla_claim_sql(self, kind, calendar, company_ids, now, lead_ids):
        """The claim statement (``INSERT ... ON CONFLICT ... RETURNING lead_id, id``)."""
        query = self._sla_query(kind, calendar, company_ids, now, lead_ids=lead_ids)
        query.order = None
        lead = query.table
        state = "warned" if kind == "warn" else "acted"
        select = query.select(
            SQL(
                "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s",
                self.id,
                SQL.identifier(lead, "id"),
                self.clock,
                self._sla_clock_start(lead),
                state,
                self.action,
                now if kind == "warn" else None,
                now if kind == "act" else None,
                SQL.identifier(lead, "company_id"),
                SQL.identifier(lead, "team_id"),
                SQL.identifier(lead, "user_id"),
                self.configured_by_id.id,
                self.env.uid,
                now,
                self.env.uid,
                now,
            )
        )
        on_conflict = (
            SQL("DO NOTHING")
            if kind == "warn"
            else SQL(
                """DO UPDATE SET state = EXCLUDED.state, acted_at = EXCLUDED.acted_at,
                                 user_id = EXCLUDED.user_id, team_id = EXCLUDED.team_id,
                                 configured_by_id = EXCLUDED.configured_by_id,
                                 write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                    WHERE crm_sla_event.state IN ('warned', 'retry')"""
            )
        )
        return SQL(
            """INSERT INTO crm_sla_event (rule_id, lead_id, clock, clock_start, state, action, warned_at,
                                              acted_at, company_id, team_id, user_id, configured_by_id,
                                              create_uid, create_date, write_uid, write_date)
                   %s
                   ON CONFLICT (rule_id, lead_id, clock_start) %s
                   RETURNING lead_id, id""",
            select,
            on_conflict,
        )

    # ------------------------------------------------------------------
    # Running
    # ------------------------------------------------------------------

    @api.model
    def _cron_run_sla_rules(self, batch_size=200):
        """Scheduled run: every active rule, act then warn, batch by batch with a commit per batch.
        Rules run as the cron's user with every company allowed (actions need it); each event records who
        configured the rule."""
        now = fields.Datetime.now()
        # sudo: the cron evaluates every company's rules
        companies = self.env["res.company"].sudo().search([("active", "=", True)])
        rules = self.sudo().with_context(allowed_company_ids=companies.ids).search([("active", "=", True)])
        for rule in rules:
            if not rule._sla_run(now, batch_size):
                # out of time: let the cron come back for the rest; done episodes are not redone
                self.env.ref("crm_sla_rules.ir_cron_sla_rules")._trigger()
                return

    def _sla_run(self, now, batch_size=200):
        """Run this rule; ``False`` when the cron's time ran out before the end."""
        self.ensure_one()
        if not self._sla_lock():
            _logger.info("SLA rule %s (id %s) is being run by another worker: skipped", self.name, self.id)
            return True
        try:
            groups = self._sla_calendar_groups()
            batches = [
                (kind, calendar, company_ids, batch)
                for kind in ("act", "warn")
                if kind == "act" or self.warning_before
                for calendar, company_ids in groups
                for batch in split_every(batch_size, self._sla_select(kind, calendar, company_ids, now), list)
            ]
        except (UserError, ValueError) as exc:
            _logger.error("SLA rule %s (id %s) cannot run: %s", self.name, self.id, exc)
            return True
        if not batches:
            self.last_run = now
            # committed now: a later batch that is retried rolls back its whole transaction
            self.env["ir.cron"]._commit_progress(0, remaining=0)
            return True
        remaining = sum(len(batch) for *_rest, batch in batches)
        for index, (kind, calendar, company_ids, batch) in enumerate(batches, start=1):
            if not self._sla_batch(kind, calendar, company_ids, now, batch, last=index == len(batches)):
                return True  # another worker took the rule between two batches
            remaining -= len(batch)
            time_left = self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining)
            if time_left <= 0:  # the job's time is up: the scheduler calls again for the rest
                return False
        return True

    def _sla_batch(self, kind, calendar, company_ids, now, lead_ids, last=False):
        """Claim and handle one batch in the current transaction (the caller commits it); ``False`` when
        another worker holds the rule.

        A concurrency error (serialization failure, lock not available, deadlock: another transaction
        changed the same leads, events or rule since this one started) is not the leads' fault: the whole
        transaction is rolled back and the batch is tried again on fresh data (``crm_pipeline_base``'s
        ``retry_on_concurrency``). The claims are rolled
        back with the batch, so a retried lead is handled once. After the last try the batch is left,
        unclaimed, to the next run. Left alone, ir.cron would log the job as failed and count a failure.
        """

        def work():
            if not self._sla_lock():  # also after a rollback, which released the lock
                return False
            claimed = self._sla_claim(kind, calendar, company_ids, now, lead_ids)
            if claimed and kind == "act":
                self._sla_act(claimed, calendar, now)
            elif claimed:
                self._sla_warn(claimed, calendar, now)
            if last:
                self.last_run = now
            return True

        done, held = retry_on_concurrency(
            self.env,
            work,
            logger=_logger,
            label=f"SLA rule {self.name} (id {self.id})",
            batch=f"{len(lead_ids)} leads",
            left_to="the next run",
        )
        return held if done else True

    def _sla_lock(self):
        """Hold this rule for the current transaction (released by the commit or rollback): two workers
        never run the same rule at once, and the rule's bookkeeping (last run, rotation) never conflicts.

        ir.cron already keeps the SLA cron from running twice at once (``_acquire_one_job`` locks its row
        with ``FOR NO KEY UPDATE SKIP LOCKED``; "Run now" only triggers that same cron). This lock covers
        what that one does not: a second cron record or server action running the rules meanwhile."""
        self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", LOCK_NAMESPACE, self.id))
        return self.env.cr.fetchone()[0]

    def _sla_leads(self, lead_ids):
        # sudo: the rule acts on leads of every salesperson; history records the stays as SLA moves.
        # Like crm's own lead assignment, no "you have been assigned" mail per lead (the new owner follows
        # the lead and the chatter note says why); notifications are queued, not sent inside the run.
        return (
            self.env["crm.lead"]
            .sudo()
            .with_context(
                stage_history_origin="sla", mail_auto_subscribe_no_notify=True, mail_notify_force_send=False
            )
            .browse(lead_ids)
        )

    def _sla_rule_values(self):
        from sla_rules.rules import Rule

        return Rule(
            id=self.id,
            name=self.name,
            clock=self.clock,
            threshold=self.threshold,
            unit=self.unit,
            action=self.action,
            warning_before=self.warning_before,
            team_ids=frozenset(self.team_ids.ids),
            lead_type=self.lead_type,
            stage_ids=frozenset(self.stage_ids.ids),
            company_ids=frozenset(self.company_ids.ids),
            reassign_mode=self.reassign_mode,
            user_id=self.reassign_user_id.id or None,
            target_team_id=self.target_team_id.id or None,
            tag_ids=frozenset(self.tag_ids.ids),
            lost_reason_id=self.lost_reason_id.id or None,
        )

    def _sla_snapshots(self, leads):
        from sla_rules.rules import LeadSnapshot

        has_partner = "partner_assigned_id" in leads._fields
        return [
            LeadSnapshot(
                id=lead.id,
                type=lead.type,
                team_id=lead.team_id.id or None,
                user_id=lead.user_id.id or None,
                stage_id=lead.stage_id.id or None,
                company_id=lead.company_id.id or None,
                create_date=lead.create_date,
                date_last_stage_update=lead.date_last_stage_update,
                date_open=lead.date_open,
                sla_last_action_date=lead.sla_last_action_date,
                sla_owner_since=lead.sla_owner_since,
                sla_team_since=lead.sla_team_since,
                partner_assigned_id=(lead.partner_assigned_id.id or None) if has_partner else None,
                has_partner_assigned=has_partner,
                active=lead.active,
                won=lead.won_status == "won",
                name=lead.name or "",
            )
            for lead in leads
        ]

    def _sla_teams(self, leads):
        """Plain team facts for the action plan: leader, members in rotation order, absences, capacity."""
        from sla_rules.rules import Member, TeamInfo

        teams = leads.team_id | self.target_team_id
        now = fields.Datetime.now()
        infos = {}
        for team in teams:
            members = team.crm_team_member_ids.filtered("active").sorted("id")
            infos[team.id] = TeamInfo(
                team_id=team.id,
                leader_id=team.user_id.id or None,
                members=tuple(
                    Member(
                        user_id=member.user_id.id,
                        absent=member.assignment_optout
                        or bool(
                            member.user_id.out_of_office_from
                            and member.user_id.out_of_office_from <= now
                            and (
                                not member.user_id.out_of_office_to or now <= member.user_id.out_of_office_to
                            )
                        ),
                        capacity_left=(
                            max(member.assignment_max - member.lead_month_count, 0)
                            if team.assignment_enabled and member.assignment_max
                            else None
                        ),
                    )
                    for member in members
                ),
            )
        return infos

    def _sla_plan(self, leads):
        """``(plans, rotation)`` from ``sla_rules.plan_actions`` on plain values (no write)."""
        from sla_rules.rules import plan_actions

        users = leads.user_id | leads.team_id.user_id | leads.team_id.crm_team_member_ids.user_id
        # keyed by kind: a user, a team and a tag may share an id
        names = {("user", user.id): user.name for user in users | self.reassign_user_id}
        names.update({("team", team.id): team.name for team in leads.team_id | self.target_team_id})
        names.update({("tag", tag.id): tag.name for tag in self.tag_ids})
        names.update({("lost_reason", reason.id): reason.name for reason in self.lost_reason_id})
        if "partner_assigned_id" in leads._fields:
            names.update({("partner", partner.id): partner.name for partner in leads.partner_assigned_id})
        return plan_actions(
            self._sla_rule_values(),
            self._sla_snapshots(leads),
            self._sla_teams(leads),
            rotation={int(team): user for team, user in (self.rotation_state or {}).items()},
            names=names,
        )

    def _sla_audit_values(self, leads):
        fields_ = [name for name in AUDITED_FIELDS if name in leads._fields]
        values = {}
        for lead in leads.with_context(active_test=False):
            row = {}
            for name in fields_:
                value = lead[name]
                row[name] = value.display_name if isinstance(value, models.BaseModel) else value
            values[lead.id] = row
        return values

    def _sla_act(self, claimed, calendar, now):
        """Carry out the rule's action on the claimed leads and complete their events."""
        leads = self._sla_leads(list(claimed))
        plans, rotation = self._sla_plan(leads)
        before = self._sla_audit_values(leads)
        errors = {plan.lead_id: plan.error for plan in plans if plan.error}
        errors.update(self._sla_apply([plan for plan in plans if not plan.error]))
        leads.invalidate_recordset()
        after = self._sla_audit_values(leads)
        events = self.env["crm.sla.event"].sudo().browse(claimed.values())
        starts = {event.lead_id.id: event.clock_start for event in events}
        deadlines = self._sla_deadlines(calendar, starts, now)
        descriptions = {plan.lead_id: plan.description for plan in plans}
        for event in events:
            lead_id = event.lead_id.id
            error = errors.get(lead_id)
            event.write(
                {
                    "state": "failed" if error else "acted",
                    "deadline": deadlines.get(lead_id),
                    "values_before": before.get(lead_id),
                    "values_after": after.get(lead_id),
                    "message": error or descriptions.get(lead_id),
                }
            )
        if rotation and self.action == "reassign":
            self.rotation_state = {str(team): user for team, user in rotation.items()}
        done = leads.filtered(lambda lead: lead.id not in errors)
        bodies = {
            lead.id: Markup("<p>%s</p>")
            % self.env._(
                "SLA rule “%(rule)s” (%(clock)s since %(start)s, over %(threshold)s %(unit)s): %(what)s",
                rule=self.name,
                clock=dict(self._fields["clock"]._description_selection(self.env))[self.clock],
                start=f"{fields.Datetime.to_string(starts[lead.id])} UTC",
                threshold=f"{self.threshold:g}",
                unit=dict(self._fields["unit"]._description_selection(self.env))[self.unit].lower(),
                what=descriptions.get(lead.id, ""),
            )
            for lead in done
        }
        if bodies:
            done._message_log_batch(bodies=bodies)

    def _sla_apply(self, plans):
        """Apply ``plans``; a plan that fails is rolled back alone. Returns ``{lead_id: error}``."""
        if not plans:
            return {}
        try:
            with self.env.cr.savepoint():
                self._sla_apply_plans(plans)
            return {}
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # not the leads' fault: the whole batch is retried on fresh data (_sla_batch)
        except Exception:  # noqa: BLE001 - isolate the failing lead below; nothing is lost
            self.env.invalidate_all()
        errors = {}
        for plan in plans:
            try:
                with self.env.cr.savepoint():
                    self._sla_apply_plans([plan])
                    # tracking runs at commit: run it now, a later rollback would drop it with its queue
                    self.env.cr.precommit.run()
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                raise
            except Exception as exc:  # pylint: disable=broad-except  # one lead must not stop the run
                self.env.invalidate_all()
                errors[plan.lead_id] = str(exc) or exc.__class__.__name__
                _logger.warning(
                    "SLA rule %s (id %s) failed on lead %s: %s", self.name, self.id, plan.lead_id, exc
                )
        return errors

    def _sla_apply_plans(self, plans):
        """Write the planned changes, one write per distinct set of values."""
        groups = {}
        for plan in plans:
            changes = dict(plan.changes)
            key = (
                tuple(
                    sorted(
                        (k, v if not isinstance(v, (list, tuple)) else tuple(v)) for k, v in changes.items()
                    )
                ),
                plan.notify_user_id,
            )
            groups.setdefault(key, []).append(plan.lead_id)
        for (items, notify_user_id), lead_ids in groups.items():
            leads = self._sla_leads(lead_ids)
            changes = dict(items)
            tags = changes.pop("tag_ids_add", ())
            vals = {name: value or False for name, value in changes.items() if name in leads._fields}
            if tags:
                vals["tag_ids"] = [Command.link(tag) for tag in tags]
            if vals.get("active") is False and "lost_reason_id" in vals:
                lost_reason = vals.pop("lost_reason_id")
                vals.pop("active")
                if vals:
                    leads.write(vals)
                leads.action_set_lost(lost_reason_id=lost_reason)
            elif vals:
                leads.write(vals)
            if self.action == "escalate" and notify_user_id:
                summary = self.env._("SLA breached: %(rule)s", rule=self.name)
                self._sla_schedule(
                    [(lead, notify_user_id, self.escalate_activity_type_id, summary, None) for lead in leads]
                )

    def _sla_schedule(self, activities):
        """Create the rule's activities (``[(lead, user_id, activity type, summary, deadline date)]``) in one
        call. They show in their owner's activities at once; no e-mail per activity (a run can create
        hundreds: whoever wants an e-mail chooses warnings by message)."""
        if not activities:
            return
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("crm.lead")
        # sudo: the rule schedules on leads of every salesperson, for their owner or team leader
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": lead.id,
                    "activity_type_id": (activity_type or todo).id,
                    "user_id": user_id,
                    "summary": summary,
                    "date_deadline": deadline or fields.Date.context_today(lead),
                    "automated": True,
                }
                for lead, user_id, activity_type, summary, deadline in activities
            ]
        )

    def _sla_warn(self, claimed, calendar, now):
        """Tell each owner (salesperson, else team leader) when the lead will breach."""
        leads = self._sla_leads(list(claimed))
        events = self.env["crm.sla.event"].sudo().browse(claimed.values())
        starts = {event.lead_id.id: event.clock_start for event in events}
        deadlines = self._sla_deadlines(calendar, starts, now)
        action_label = dict(self._fields["action"]._description_selection(self.env))[self.action]
        messages, activities = {}, []
        for lead in leads:
            owner = lead.user_id or lead.team_id.user_id
            deadline = deadlines.get(lead.id)
            local = fields.Datetime.context_timestamp(lead.with_context(tz=owner.tz or "UTC"), deadline)
            text = self.env._(
                "SLA rule “%(rule)s”: on %(deadline)s this lead breaches; then: %(action)s.",
                rule=self.name,
                deadline=local.strftime("%Y-%m-%d %H:%M"),
                action=action_label.lower(),
            )
            if not owner:
                messages[lead.id] = self.env._("Nobody to warn (no salesperson, no team leader). %s", text)
                continue
            if self.warning_mode == "activity":
                activities.append((lead, owner.id, self.warning_activity_type_id, text, local.date()))
            else:
                lead.message_post(body=text, partner_ids=owner.partner_id.ids, subtype_xmlid="mail.mt_note")
            messages[lead.id] = self.env._("Warned %(owner)s: %(text)s", owner=owner.name, text=text)
        self._sla_schedule(activities)
        for event in events:
            event.write(
                {"deadline": deadlines.get(event.lead_id.id), "message": messages.get(event.lead_id.id)}
            )

    # ------------------------------------------------------------------
    # Preview and buttons
    # ------------------------------------------------------------------

    def _sla_check_manager(self):
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can preview or run SLA rules."))

    def _sla_check_exists(self):
        """Refuse, in one line, ids of rules that do not exist (a button called over RPC, a rule deleted in
        another tab): nothing is done for any of them."""
        missing = self - self.exists()
        if missing:
            raise MissingError(
                self.env._(
                    "The SLA rule with id %(ids)s does not exist (it may have been deleted): reload the "
                    "rules.",
                    ids=", ".join(map(str, missing._ids)),
                )
            )

    def _sla_preview_values(self, now):
        """What every rule would warn about and act on at ``now``: the run's own selection and plan, no
        write. Returns line values for ``crm.sla.preview.line`` and the exact totals per rule."""
        from sla_rules.rules import clock_start

        lines, totals = [], {}
        for rule in self:
            warned = acted = 0
            for kind in ("act", "warn"):
                if kind == "warn" and not rule.warning_before:
                    continue
                for calendar, company_ids in rule._sla_calendar_groups():
                    lead_ids = rule._sla_select(kind, calendar, company_ids, now)
                    if kind == "act":
                        acted += len(lead_ids)
                    else:
                        warned += len(lead_ids)
                    shown = lead_ids[:PREVIEW_LIMIT]
                    leads = rule._sla_leads(shown)
                    values = rule._sla_rule_values()
                    starts = {lead.id: clock_start(values, lead) for lead in rule._sla_snapshots(leads)}
                    deadlines = rule._sla_deadlines(calendar, starts, now)
                    plans = {plan.lead_id: plan for plan in rule._sla_plan(leads)[0]} if kind == "act" else {}
                    mode = dict(rule._fields["warning_mode"]._description_selection(self.env))[
                        rule.warning_mode
                    ]
                    for lead in leads:
                        plan = plans.get(lead.id)
                        owner = lead.user_id or lead.team_id.user_id
                        warning = self.env._(
                            "Warn %(owner)s: %(mode)s",
                            owner=owner.name or self.env._("nobody"),
                            mode=mode.lower(),
                        )
                        lines.append(
                            {
                                "rule_id": rule.id,
                                "lead_id": lead.id,
                                "user_id": lead.user_id.id,
                                "team_id": lead.team_id.id,
                                "clock_start": starts[lead.id],
                                "deadline": deadlines.get(lead.id),
                                "status": "breach" if kind == "act" else "warn",
                                "description": plan.description if plan else warning,
                                "error": plan.error if plan else False,
                            }
                        )
            totals[rule.id] = (warned, acted)
        return lines, totals

    def action_preview(self):
        self._sla_check_manager()
        self._sla_check_exists()
        return self.env["crm.sla.preview"]._sla_open(self)

    def action_run_now(self):
        """Ask the scheduler to run every active rule as soon as possible (commits per batch, like the
        scheduled run, so it does not happen inside this request)."""
        self._sla_check_manager()
        self._sla_check_exists()
        # sudo: triggering a cron is reserved to administrators; managers may ask for this one
        self.env.ref("crm_sla_rules.ir_cron_sla_rules").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("The SLA rules will run in a moment; their events will appear below."),
                "type": "info",
                "sticky": False,
            },
        }

    def action_view_events(self):
        self.ensure_one()
        self._sla_check_exists()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_sla_rules.crm_sla_event_action")
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
