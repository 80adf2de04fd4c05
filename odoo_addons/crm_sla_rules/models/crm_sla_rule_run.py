"""Running the rules: the cron, one rule, one batch with its retry, the lock."""

from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import retry_on_concurrency
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from .crm_sla_rule import LOCK_NAMESPACE, _logger


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

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
