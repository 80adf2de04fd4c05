import threading
from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time
from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import tagged

from ..models.crm_sla_rule import LOCK_NAMESPACE
from .common import SlaCase

LATE = datetime(2026, 3, 5, 9, 0)
MONDAY = datetime(2026, 3, 2, 9, 0)


class Crash(Exception):
    """The worker dies (killed, out of memory...) in the middle of a batch."""


@tagged("post_install", "-at_install")
class TestRobustness(SlaCase):
    def test_one_failing_lead_does_not_stop_the_run(self):
        rule = self._rule(action="archive")
        good = self._lead(name="Good 1") | self._lead(name="Good 2")
        bad = self._lead(name="Bad")
        Lead = type(self.env["crm.lead"])
        original = Lead.write

        def write(records, vals):
            if bad in records and "active" in vals:
                raise ValueError("the database refused this lead")
            return original(records, vals)

        with (
            patch.object(Lead, "write", write),
            self.assertLogs("odoo.addons.crm_sla_rules.models.crm_sla_rule", "WARNING") as logs,
        ):
            self._run(LATE, rules=rule)
        self.assertIn("Bad", " ".join(logs.output) + bad.name)
        self.assertFalse(any(good.mapped("active")), "the other leads are acted on")
        self.assertTrue(bad.active)
        event = self._events(rule, bad)
        self.assertEqual(event.state, "failed")
        self.assertIn("refused", event.message)
        self.assertEqual(set(self._events(rule).mapped("state")), {"acted", "failed"})
        # a failed episode is not retried blindly on every run
        self._run(LATE, rules=rule)
        self.assertEqual(len(self._events(rule)), 3)

    def test_crash_mid_batch_then_rerun(self):
        """Committed batches stay done, the crashed batch is rolled back whole, the rerun finishes the job:
        no lead is acted on twice, none is forgotten."""
        rule = self._rule(action="escalate")
        leads = self.env["crm.lead"]
        for index in range(5):
            leads |= self._lead(name=f"L{index}")
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SAVEPOINT sla_committed")
        calls = []
        crashed = False

        def commit_progress(_cron, processed=0, **_kwargs):
            # what a commit keeps: a crash rolls back to here
            calls.append(processed)
            cr.execute("RELEASE SAVEPOINT sla_committed")
            cr.execute("SAVEPOINT sla_committed")
            return 3600.0

        Rule = type(self.env["crm.sla.rule"])
        original = Rule._sla_act

        def act(records, claimed, calendar, now):
            if len(calls) == 1:
                raise Crash()
            return original(records, claimed, calendar, now)

        with (
            freeze_time(LATE),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress),
            patch.object(Rule, "_sla_act", act),
        ):
            # not self.assertRaises: its savepoint would be released by the simulated commits
            try:
                rule.sudo()._sla_run(datetime.now(), batch_size=2)
            except Crash:
                crashed = True
        self.assertTrue(crashed)
        cr.execute("ROLLBACK TO SAVEPOINT sla_committed")
        self.env.invalidate_all()
        self.assertEqual(len(rule.event_ids), 2, "the first batch was committed, the second rolled back")
        self._run(LATE, rules=rule)
        self.assertEqual(len(rule.event_ids), 5)
        self.assertEqual(rule.event_ids.lead_id, leads)
        for lead in leads:
            escalations = lead.activity_ids.filtered(lambda a: a.user_id == self.manager)
            self.assertEqual(len(escalations), 1, lead.name)

    def test_a_rule_runs_in_one_worker_at_a_time(self):
        rule = self._rule(action="escalate")
        self._lead()
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NAMESPACE, rule.id))
            self._run(LATE, rules=rule)
            self.assertFalse(rule.event_ids, "another worker holds the rule: this run leaves it")
        finally:
            other.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, rule.id))
            other.close()
        self._run(LATE, rules=rule)
        self.assertEqual(len(rule.event_ids), 1)

    def test_concurrent_runs_act_once(self):
        """Two runs at once on committed data: the second waits on the first's episode, then skips it.
        Two real connections run the claim statement (this test's own transaction is never committed)."""
        dbname = self.env.cr.dbname
        setup = api.Environment(sql_db.db_connect(dbname).cursor(), SUPERUSER_ID, {})
        rule = lead = None
        try:
            rule = setup["crm.sla.rule"].create(
                {
                    "name": "Concurrent",
                    "clock": "create",
                    "threshold": 2,
                    "unit": "days",
                    "action": "archive",
                    "lead_type": "both",
                }
            )
            lead = setup["crm.lead"].create({"name": "Contended", "type": "opportunity"})
            setup.cr.execute("UPDATE crm_lead SET create_date = %s WHERE id = %s", (MONDAY, lead.id))
            setup.cr.commit()
            claim = rule._sla_claim_sql("act", setup["resource.calendar"], None, LATE, lead.ids)
            claim_rows = type(rule)._sla_claim_rows
            first = sql_db.db_connect(dbname).cursor()
            claimed = {"first": claim_rows(first, claim)}

            def second_run():
                with sql_db.db_connect(dbname).cursor() as second:  # commits and closes
                    claimed["second"] = claim_rows(second, claim)

            thread = threading.Thread(target=second_run)
            thread.start()
            thread.join(timeout=2)
            self.assertTrue(thread.is_alive(), "the second run waits for the first one's episode")
            first.commit()
            first.close()
            thread.join(timeout=30)
            self.assertEqual([row[0] for row in claimed["first"]], lead.ids)
            self.assertEqual(claimed["second"], [], "the second run does not take the episode again")
            setup.cr.rollback()  # a fresh snapshot
            setup.cr.execute("SELECT count(*) FROM crm_sla_event WHERE rule_id = %s", rule.ids)
            self.assertEqual(setup.cr.fetchone()[0], 1)
        finally:
            setup.cr.rollback()
            if rule:
                setup.cr.execute("DELETE FROM crm_sla_event WHERE rule_id = %s", rule.ids)
                rule.unlink()
            if lead:
                lead.unlink()
            setup.cr.commit()
            setup.cr.close()
