import logging
from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import queue_digest_mail, retry_on_concurrency
from odoo.exceptions import AccessError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, format_date

_logger = logging.getLogger(__name__)

OVERDUE_DAYS_PARAM = "crm_activity_centric.digest_overdue_days"
STALE_DAYS_PARAM = "crm_activity_centric.digest_stale_days"
DEFAULT_OVERDUE_DAYS = 3
DEFAULT_STALE_DAYS = 30
# rows listed per section; the rest is counted ("and 12 more")
SECTION_LIMIT = 50
# a cron run stops (and is retriggered) when fewer seconds than this are left before its time limit
MIN_SECONDS_LEFT = 60
# advisory lock namespace of the recipients being served ("DIG" in ASCII)
LOCK_NAMESPACE = 0x444947
# a batch left after its last try is served by a run this many minutes later, not next week
RETRY_LATER_MINUTES = 10


class CrmFollowupDigest(models.AbstractModel):
    """Weekly review mail per salesperson and team leader of the teams with a follow-up policy.

    Three sections: open leads without a next step, activities overdue by more than ``overdue_days``
    days, opportunities not updated for ``stale_days`` days. Everything is read with the recipient's
    rights, so a digest never lists a record its reader cannot open.
    """

    _name = "crm.followup.digest"
    _description = "Weekly Follow-up Review"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def action_send_now(self):
        """Send the review to every recipient now, whether or not they got it this week."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._(
                    "Only sales administrators can send the weekly follow-up review on demand. "
                    "Ask one of them, or wait for the weekly run."
                )
            )
        # sudo: recipients come from the teams of every company and the done-marker is reserved to
        # administrators; each digest is then read with its recipient's own rights
        recipients = self.env["res.users"].sudo().search(self._followup_digest_recipient_domain(), order="id")
        sent, served, _failed = self._followup_digest_send(recipients)
        empty = len(served) - len(sent)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Weekly follow-up review sent"),
                "message": self.env._(
                    "%(count)s reviews sent; %(empty)s recipients had nothing to review.",
                    count=len(sent),
                    empty=empty,
                ),
                "type": "success",
                "sticky": False,
            },
        }

    @api.model
    def _cron_send_followup_digest(self, batch_size=50):
        """Weekly run: serve, batch by batch, the recipients not served since the start of the ISO week.

        Each batch commits its mails with its recipients' done-markers: a run killed in the middle loses
        the unfinished batch whole (mails and markers), and the next run serves exactly the users whose
        marker is not set. Users are taken in id order; a failing user is left to the next weekly run.
        """
        Users = self.env["res.users"].sudo()  # sudo: the done-marker field is reserved to administrators
        domain = self._followup_digest_recipient_domain() + [
            "|",
            ("followup_digest_sent_on", "=", False),
            ("followup_digest_sent_on", "<", self._followup_digest_week_start()),
        ]
        last_id = 0
        while True:
            batch = Users.search(domain + [("id", ">", last_id)], order="id", limit=batch_size)
            if not batch:
                break
            last_id = batch[-1].id
            if not self._followup_digest_batch(batch):
                # sudo: the cron is the administrators'; this only asks it to come back soon
                self.env.ref("crm_activity_centric.ir_cron_followup_digest").sudo()._trigger(
                    fields.Datetime.now() + timedelta(minutes=RETRY_LATER_MINUTES)
                )
            remaining = Users.search_count(domain + [("id", ">", last_id)])
            time_left = self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining)
            if not remaining or time_left < MIN_SECONDS_LEFT:
                break

    @api.model
    def _followup_digest_batch(self, users):
        """Claim and serve ``users`` in the current transaction (the caller commits); ``False`` when the
        batch is left for a later run.

        A concurrency error (serialization failure, lock not available, deadlock) rolls back the whole
        transaction and the batch is tried again on fresh data (``crm_pipeline_base``'s
        ``retry_on_concurrency``). The mails of a rolled
        back try go with it: a retried user gets one review. Left alone, ir.cron would log the job as
        failed and count a failure.
        """
        done, _result = retry_on_concurrency(
            self.env,
            lambda: self._followup_digest_send(self._followup_digest_claim(users)),
            logger=_logger,
            label="Weekly follow-up review",
            batch=f"{len(users)} users",
            left_to=f"a run in {RETRY_LATER_MINUTES} minutes",
        )
        return done

    @api.model
    def _followup_digest_claim(self, users):
        """The ``users`` this run serves now: not served this week, and not being served by another run.

        ir.cron already keeps one cron record from running twice at once: ``_acquire_one_job`` locks the
        cron's row (``FOR NO KEY UPDATE SKIP LOCKED``), and "Run manually" refuses while it runs. That
        lock does not cover a second record or server action calling this cron method, nor a manual
        call while the cron runs: this per-recipient advisory lock, held until the batch commits or
        rolls back, does: a user another run is serving is skipped. It is not ``SKIP LOCKED`` on the row:
        a user saving their preferences also locks their row, and must not make the run skip them for
        the week (the claim waits for that save instead).
        The row lock catches a run that read a user before another run (or "Send now") committed the
        user's marker: under repeatable read, locking a row changed since the snapshot fails with a
        serialization failure here, before any review is built, and ``_followup_digest_batch`` retries the
        batch on fresh data. The failure is expected, so the query does not log it as an error.
        """
        self.env["res.users"].flush_model(["followup_digest_sent_on"])
        self.env.cr.execute(
            SQL(
                """SELECT id FROM res_users
                    WHERE id IN %s
                      AND (followup_digest_sent_on IS NULL OR followup_digest_sent_on < %s)
                      AND pg_try_advisory_xact_lock(%s, id)
                    ORDER BY id
                    FOR NO KEY UPDATE""",
                tuple(users.ids),
                self._followup_digest_week_start(),
                LOCK_NAMESPACE,
            ),
            log_exceptions=False,
        )
        return users.browse([row[0] for row in self.env.cr.fetchall()])

    # ------------------------------------------------------------------
    # Recipients and scope
    # ------------------------------------------------------------------

    @api.model
    def _followup_digest_week_start(self):
        today = fields.Date.today()
        return today - timedelta(days=today.weekday())

    @api.model
    def _followup_digest_params(self):
        """``(overdue_days, stale_days)`` from the system parameters (non-negative integers)."""
        # sudo: system parameters are readable by administrators only; these two are not secret
        get_param = self.env["ir.config_parameter"].sudo().get_param
        values = []
        for key, default in (
            (OVERDUE_DAYS_PARAM, DEFAULT_OVERDUE_DAYS),
            (STALE_DAYS_PARAM, DEFAULT_STALE_DAYS),
        ):
            try:
                values.append(max(int(get_param(key, default)), 0))
            except (TypeError, ValueError):
                values.append(default)
        return tuple(values)

    @api.model
    def _followup_digest_teams(self):
        """Active sales teams whose follow-up policy is not ``off``, in every company."""
        # sudo: the weekly review serves every company's teams, whoever triggers it
        return self.env["crm.team"].sudo().search([("followup_policy", "!=", "off")])

    @api.model
    def _followup_digest_recipient_domain(self):
        """Active internal users who are members or leaders of a team with a follow-up policy."""
        teams = self._followup_digest_teams()
        return [
            ("share", "=", False),
            "|",
            ("id", "in", teams.user_id.ids),
            ("crm_team_member_ids", "any", [("crm_team_id", "in", teams.ids)]),
        ]

    @api.model
    def _followup_digest_lead_domain(self, user, teams):
        """Leads a recipient's digest covers: their own in the policy teams, and all leads of the
        policy teams they lead."""
        led = teams.filtered(lambda team: team.user_id == user)
        domain = [("team_id", "in", teams.ids)]
        if led:
            return domain + ["|", ("user_id", "=", user.id), ("team_id", "in", led.ids)]
        return domain + [("user_id", "=", user.id)]

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    @api.model
    def _followup_digest_send(self, users):
        """Send their digest to ``users`` and set their done-marker; a failing user is logged and skipped.

        :returns: ``(sent_ids, served_ids, failed_ids)``; served users got a mail or had nothing to review.
        """
        teams = self._followup_digest_teams()
        params = self._followup_digest_params()
        sent, served, failed = [], [], []
        for user in users:
            try:
                with self.env.cr.savepoint():
                    if self._followup_digest_send_one(user, teams, params):
                        sent.append(user.id)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                raise  # not this user's fault: the cron retries the whole batch (_followup_digest_batch)
            except Exception:
                _logger.warning(
                    "Weekly follow-up review for user %s (id %s) failed", user.login, user.id, exc_info=True
                )
                failed.append(user.id)
            else:
                served.append(user.id)
        if served:
            # sudo: the done-marker is reserved to administrators
            self.env["res.users"].browse(served).sudo().write(
                {"followup_digest_sent_on": fields.Date.today()}
            )
        return sent, served, failed

    @api.model
    def _followup_digest_send_one(self, user, teams, params):
        """Build and queue the digest of one user. :returns: the ``mail.mail``, or nothing when empty."""
        user = user.sudo(False)
        company = user.company_id
        lang = user.lang or self.env.lang
        # the recipient's rights, language, time zone and companies, main company first
        digest = self.with_user(user).with_context(
            lang=lang,
            tz=user.tz,
            allowed_company_ids=[company.id, *(user.company_ids - company).ids],
        )
        values = digest._followup_digest_values(user, teams, *params)
        if not values:
            return None
        local = self.with_context(lang=lang)
        body = local._followup_digest_render(values)
        subject = local.env._(
            "Your weekly follow-up review: %(missing)s without next step, %(overdue)s overdue, "
            "%(stale)s stale",
            missing=values["missing"]["count"],
            overdue=values["overdue"]["count"],
            stale=values["stale"]["count"],
        )
        return queue_digest_mail(self.env, user, company, subject, body)

    def _followup_digest_render(self, values):
        return self.env["ir.qweb"]._render("crm_activity_centric.followup_digest_mail", values)

    # ------------------------------------------------------------------
    # Content (read in the recipient's environment)
    # ------------------------------------------------------------------

    def _followup_digest_values(self, user, teams, overdue_days, stale_days):
        """The three sections of ``user``'s digest, or ``None`` when all are empty.

        Runs with the recipient as current user: searches apply their record rules.
        """
        today = fields.Date.context_today(self)
        base_url = self.get_base_url()
        Lead = self.env["crm.lead"]
        scope = self._followup_digest_lead_domain(user, teams)
        open_leads = scope + [("won_status", "!=", "won")]
        leader = bool(teams.filtered(lambda team: team.user_id == user))

        def lead_url(lead_id):
            return f"{base_url}/odoo/crm/{lead_id}"

        def lead_row(lead, last_update=False):
            row = {
                "url": lead_url(lead.id),
                "name": lead.name,
                "salesperson": lead.user_id.name or "",
                "team": lead.team_id.name or "",
                "stage": lead.stage_id.name or "",
            }
            if last_update:
                update = max(lead.write_date, lead.date_last_stage_update or lead.write_date)
                row["last_update"] = format_date(self.env, update.date())
                row["days"] = (today - update.date()).days
            return row

        missing_domain = scope + [("followup_state", "=", "missing")]
        missing_count = Lead.search_count(missing_domain)
        missing = Lead.search(missing_domain, order="user_id, create_date, id", limit=SECTION_LIMIT)

        overdue_cutoff = today - timedelta(days=overdue_days)
        activities = self.env["mail.activity"].search(
            [
                ("res_model", "=", "crm.lead"),
                ("res_id", "in", Lead._search(open_leads)),
                ("date_deadline", "<", overdue_cutoff),
            ],
            order="date_deadline, id",
        )
        listed = activities[:SECTION_LIMIT]
        leads = {lead.id: lead for lead in Lead.browse(listed.mapped("res_id"))}
        overdue_rows = []
        for activity in listed:
            lead = leads[activity.res_id]
            overdue_rows.append(
                {
                    "url": lead_url(lead.id),
                    "name": lead.name,
                    "salesperson": lead.user_id.name or "",
                    "activity": activity.summary or activity.activity_type_id.name or "",
                    "assignee": activity.user_id.name or "",
                    "deadline": format_date(self.env, activity.date_deadline),
                    "days": (today - activity.date_deadline).days,
                }
            )

        stale_cutoff = datetime.combine(today - timedelta(days=stale_days), time.min)
        stale_domain = open_leads + [
            ("type", "=", "opportunity"),
            ("write_date", "<", stale_cutoff),
            "|",
            ("date_last_stage_update", "=", False),
            ("date_last_stage_update", "<", stale_cutoff),
        ]
        stale_count = Lead.search_count(stale_domain)
        stale = Lead.search(stale_domain, order="write_date, id", limit=SECTION_LIMIT)

        if not (missing_count or activities or stale_count):
            return None
        return {
            "user_name": user.name,
            "company_name": user.company_id.name,
            "date": format_date(self.env, today),
            "show_salesperson": leader,
            "overdue_days": overdue_days,
            "stale_days": stale_days,
            "pipeline_url": f"{base_url}/odoo/crm",
            "missing": {
                "count": missing_count,
                "more": missing_count - len(missing),
                "rows": [lead_row(lead) for lead in missing],
            },
            "overdue": {
                "count": len(activities),
                "more": len(activities) - len(overdue_rows),
                "rows": overdue_rows,
            },
            "stale": {
                "count": stale_count,
                "more": stale_count - len(stale),
                "rows": [lead_row(lead, last_update=True) for lead in stale],
            },
        }
