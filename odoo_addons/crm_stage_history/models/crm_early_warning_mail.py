import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import queue_digest_mail, retry_on_concurrency
from odoo.tools import SQL, format_date

_logger = logging.getLogger(__name__)

# warnings listed in a mail; the rest is counted ("and 12 more") and shown by the report
MAIL_LIMIT = 30
# a cron run stops (and is retriggered) when fewer seconds than this are left before its time limit
MIN_SECONDS_LEFT = 60
# a company left after its last try is served by a run this many minutes later, not next week
RETRY_LATER_MINUTES = 10


class CrmEarlyWarningMail(models.Model):
    """The weekly early-warning mail of a company to its sales managers, one row per company and week: the
    done-marker that makes the weekly run idempotent (a rerun, or a second worker, sends nothing twice)."""

    _name = "crm.early.warning.mail"
    _description = "Weekly Early Warning Mail"
    _order = "week desc, company_id"
    _rec_name = "week"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    week = fields.Date(required=True, readonly=True, help="Monday of the week the mail was sent for.")
    warning_count = fields.Integer(string="Warnings", readonly=True)
    recipient_count = fields.Integer(string="Recipients", readonly=True)

    _unique_week = models.UniqueIndex("(company_id, week)")

    # ------------------------------------------------------------------
    # Weekly run
    # ------------------------------------------------------------------

    @api.model
    def _early_warning_week(self):
        """Monday of the current week (the server's UTC date)."""
        today = fields.Date.today()
        return today - timedelta(days=today.weekday())

    @api.model
    def _cron_send_early_warnings(self):
        """Weekly run: each company that switched the mail on and was not served this week gets its
        warnings mailed to its sales managers, one company per transaction (mails and marker commit
        together). Companies that never switched it on are not even read."""
        week = self._early_warning_week()
        # sudo: the run serves every company that asked for the mail, whoever triggers it
        companies = self.env["res.company"].sudo().search([("crm_early_warning_mail", "=", True)], order="id")
        served = self.sudo().search([("week", "=", week), ("company_id", "in", companies.ids)]).company_id
        todo = companies - served
        for index, company in enumerate(todo):
            done, _result = retry_on_concurrency(
                self.env,
                lambda company=company: self._early_warning_send(company, week),
                logger=_logger,
                label="Weekly early warnings",
                batch=f"company {company.id}",
                left_to=f"a run in {RETRY_LATER_MINUTES} minutes",
            )
            if not done:
                # sudo: the cron is the administrators'; this only asks it to come back soon
                self.env.ref("crm_stage_history.ir_cron_early_warning_mail").sudo()._trigger(
                    fields.Datetime.now() + timedelta(minutes=RETRY_LATER_MINUTES)
                )
            time_left = self.env["ir.cron"]._commit_progress(1, remaining=len(todo) - index - 1)
            if time_left < MIN_SECONDS_LEFT:
                break

    @api.model
    def _early_warning_claim(self, company, week):
        """Set the company's marker of ``week`` in this transaction: True when this run serves it, False
        when another run did.

        A run serving the same week at the same time (a second worker, a manual run) holds the marker's
        row uncommitted: the insert waits for that run. If it rolls back, this run serves the week; if it
        commits, the insert fails with a serialization failure (the row was committed after this
        transaction's snapshot), which ``retry_on_concurrency`` in the cron turns into a retry on fresh
        data: that finds the row and sends nothing. The failure is expected: the query does not log it."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO crm_early_warning_mail
                          (company_id, week, warning_count, recipient_count,
                           create_uid, create_date, write_uid, write_date)
                   VALUES (%s, %s, 0, 0, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')
                   ON CONFLICT (company_id, week) DO NOTHING
                   RETURNING id""",
                company.id,
                week,
                self.env.uid,
                self.env.uid,
            ),
            log_exceptions=False,
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _early_warning_recipients(self, company):
        """Active internal sales managers (sales administrators) of ``company``."""
        # sudo: the run reads the managers of every company; each mail is then read with their rights
        return (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("share", "=", False),
                    ("all_group_ids", "in", self.env.ref("sales_team.group_sale_manager").ids),
                    ("company_ids", "in", company.ids),
                ],
                order="id",
            )
        )

    @api.model
    def _early_warning_send(self, company, week):
        """Claim ``company``'s week and mail its warnings to its sales managers. :returns: the mails."""
        if not self._early_warning_claim(company, week):
            return self.env["mail.mail"]
        recipients = self._early_warning_recipients(company)
        mails = self.env["mail.mail"]
        warnings = None
        if recipients:
            # computed once, with the first manager's rights in this company alone: a sales manager reads
            # every lead of his company, so all of them get the same numbers
            warnings = self._early_warning_rows(recipients[0], company)
            for user in recipients if warnings else ():
                mails |= self._early_warning_mail(user, company, week, warnings)
        # sudo: the marker is the run's bookkeeping, reserved to administrators
        marker = self.sudo().search([("company_id", "=", company.id), ("week", "=", week)])
        marker.write({"warning_count": len(warnings or ()), "recipient_count": len(mails)})
        return mails

    @api.model
    def _early_warning_rows(self, user, company):
        """The week's warnings of ``company`` as ``user`` reads them (his rights, this company alone)."""
        report = (
            self.env["crm.early.warning.report"]
            .with_user(user)
            .with_company(company)
            .with_context(allowed_company_ids=[company.id])
            .new({"as_of": fields.Datetime.now()})
        )
        result = report._warnings()
        if result is None:
            return []
        return result[result["warning"]].to_dict("records")

    @api.model
    def _early_warning_mail(self, user, company, week, warnings):
        """Queue the mail of the week's ``warnings`` to ``user``, in his language."""
        lang = user.lang or self.env.lang
        local = self.with_context(lang=lang)
        env = local.env
        tests = dict(env["crm.early.warning.report.line"]._fields["test"]._description_selection(env))
        stages = env["crm.stage"].browse({int(row["stage"]) for row in warnings})
        teams = env["crm.team"].browse(
            {int(row["segment"]) for row in warnings if row["segment_kind"] == "team"}
        )
        sources = env["utm.source"].browse(
            {int(row["segment"]) for row in warnings if row["segment_kind"] == "source"}
        )
        users = env["res.users"].browse(
            {int(row["segment"]) for row in warnings if row["segment_kind"] == "user"}
        )
        import pandas as pd  # noqa: PLC0415 - loaded by the report already

        frame = pd.DataFrame(warnings, columns=["segment_kind", "segment"])
        # sudo: names only, of the records the warnings were computed on with a manager's rights
        names = {
            "stage": {str(stage.id): stage.name for stage in stages.sudo()},
            "team": {str(team.id): team.name for team in teams.sudo()},
            "user": {str(person.id): person.name for person in users.sudo()},
            "source": {str(source.id): source.name for source in sources.sudo()},
            "product": env["crm.early.warning.report"].sudo()._tag_names(frame),
        }

        def percent(value):
            return "" if value != value else f"{value * 100:.0f} %"

        def days(value):
            return "" if value != value else f"{value:.1f}"

        rows = []
        for row in warnings[:MAIL_LIMIT]:
            conversion = row["test"].startswith("conversion")
            rows.append(
                {
                    "segment": names[row["segment_kind"]].get(row["segment"], ""),
                    "stage": names["stage"].get(row["stage"], ""),
                    "test": tests.get(row["test"], row["test"]),
                    "recent": percent(row["recent_rate"]) if conversion else days(row["recent_days"]),
                    "reference": percent(
                        row["baseline_rate"] if row["test"].endswith("baseline") else row["target_rate"]
                    )
                    if conversion
                    else days(
                        row["baseline_days"] if row["test"].endswith("baseline") else row["target_days"]
                    ),
                    "interval": f"{percent(row['ci_low'])} – {percent(row['ci_high'])}",
                    "count": int(row["recent_n"]),
                    "adjusted_p": f"{row['adjusted_p']:.2g}",
                }
            )
        base_url = self.get_base_url()
        values = {
            "user_name": user.name,
            "company_name": company.name,
            "week": format_date(env, week),
            "rows": rows,
            "more": len(warnings) - len(rows),
            "report_url": f"{base_url}/odoo/action-crm_stage_history.crm_early_warning_report_action",
        }
        body = env["ir.qweb"]._render("crm_stage_history.early_warning_mail", values)
        subject = env._(
            "%(count)s early warning(s) in your pipeline, week of %(week)s",
            count=len(warnings),
            week=values["week"],
        )
        return queue_digest_mail(self.env, user, company, subject, body)
