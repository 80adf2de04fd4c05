import logging
from datetime import datetime
from unittest.mock import patch

import psycopg2.errors
from odoo.addons.crm_pipeline_base.tests.common import CommittingCase, Killed
from odoo.addons.crm_pipeline_base.tools import concurrency
from odoo.tests import new_test_user, tagged

MONDAY = datetime(2026, 3, 2, 9, 0)
LATE = datetime(2026, 3, 5, 9, 0)
RULE_LOGGER = "odoo.addons.crm_sla_rules.models.crm_sla_rule"
# not "INFO": Odoo names its level 25 "INFO" too, and the name then means 25


@tagged("post_install", "-at_install")
class TestFaults(CommittingCase):
    """The SLA run under faults, with real commits on real separate connections, as in production: the
    data is committed by a setup connection, each run gets its own connection, and everything is deleted
    afterwards (this test's own transaction stays empty). A round robin rule makes any lead handled twice
    or skipped visible: the rotation would not come out as one lead per member in turn."""

    def setUp(self):
        super().setUp()
        setup = self.connection_env()
        Users = setup["res.users"].with_context(no_reset_password=True)
        self.leader = new_test_user(
            Users.env, login="sla_fault_leader", name="Fault Leader", groups="sales_team.group_sale_manager"
        )
        self.members = [
            new_test_user(
                Users.env,
                login=f"sla_fault_{index}",
                name=f"Fault Rep {index}",
                groups="sales_team.group_sale_salesman",
            )
            for index in range(3)
        ]
        team = setup["crm.team"].create({"name": "SLA Faults", "user_id": self.leader.id})
        # membership_multi may be off: members of no other team, nothing is archived
        setup["crm.team.member"].create(
            [{"crm_team_id": team.id, "user_id": user.id} for user in self.members]
        )
        self.rule = setup["crm.sla.rule"].create(
            {
                "name": "Faults: round robin after 2 days",
                "team_ids": [(6, 0, team.ids)],
                "lead_type": "opportunity",
                "clock": "create",
                "threshold": 2,
                "unit": "days",
                "action": "reassign",
                "reassign_mode": "round_robin",
            }
        )
        self.leads = setup["crm.lead"].create(
            [
                {
                    "name": f"Fault lead {index}",
                    "type": "opportunity",
                    "team_id": team.id,
                    "user_id": self.leader.id,
                }
                for index in range(5)
            ]
        )
        setup.flush_all()
        setup.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id IN %s", (MONDAY, tuple(self.leads.ids))
        )
        setup.cr.commit()
        self.team = team
        self.addCleanup(self._delete)

    def _delete(self):
        env = self.connection_env()
        env.cr.execute("DELETE FROM crm_sla_event WHERE rule_id = %s", self.rule.ids)
        env["crm.lead"].with_context(active_test=False).browse(self.leads.ids).unlink()
        env["crm.sla.rule"].browse(self.rule.ids).unlink()
        env["crm.team"].browse(self.team.ids).unlink()
        users = env["res.users"].browse([self.leader.id] + [user.id for user in self.members])
        partners = users.partner_id
        users.unlink()
        partners.unlink()
        env.cr.commit()

    def _run(self, batch_size=2):
        """One scheduled run of the rule on a connection of its own, committing batch by batch."""
        env = self.connection_env()
        rule = env["crm.sla.rule"].browse(self.rule.id)
        result = rule._sla_run(LATE, batch_size=batch_size)
        env.cr.commit()
        return result

    def _check_each_lead_handled_once(self, order=(0, 1, 2, 3, 4)):
        """Every lead reassigned once, in rotation order (the leads at the positions ``order``, one member
        after the other), with one event and one chatter note."""
        env = self.connection_env()
        leads = env["crm.lead"].browse(self.leads.ids)
        self.assertEqual(
            [leads[position].user_id for position in order],
            [env["res.users"].browse(self.members[turn % 3].id) for turn in range(5)],
        )
        events = env["crm.sla.event"].search([("rule_id", "=", self.rule.id)])
        self.assertEqual(sorted(events.lead_id.ids), sorted(self.leads.ids))
        self.assertEqual(len(events), 5, "one event per lead")
        self.assertEqual(set(events.mapped("state")), {"acted"})
        for lead in leads:
            notes = lead.message_ids.filtered(lambda message: "Faults: round robin" in (message.body or ""))
            self.assertEqual(len(notes), 1, f"{lead.name}: one chatter note")
        return leads

    def test_killed_mid_run_then_rerun(self):
        """The worker dies after the first batch was committed and the second one was done but not yet
        committed: that batch is lost whole (reassignments, events, rotation); the rerun does exactly it
        and the last one, and the rotation carries on from the committed batch."""
        Cron = type(self.env["ir.cron"])
        commit_progress = Cron._commit_progress
        calls = []

        def dying_commit_progress(cron, processed=0, **kwargs):
            calls.append(processed)
            if len(calls) == 2:
                raise Killed()
            return commit_progress(cron, processed, **kwargs)

        env = self.connection_env()
        with patch.object(Cron, "_commit_progress", dying_commit_progress), self.assertRaises(Killed):
            env["crm.sla.rule"].browse(self.rule.id)._sla_run(LATE, batch_size=2)
        env.cr.rollback()  # what PostgreSQL does with the open transaction of a dead connection
        env.cr.close()

        check = self.connection_env()
        events = check["crm.sla.event"].search([("rule_id", "=", self.rule.id)])
        self.assertEqual(sorted(events.lead_id.ids), self.leads.ids[:2], "the first batch stays done")
        self.assertEqual(
            check["crm.lead"].browse(self.leads.ids[2:]).user_id, self.leader, "the rest is untouched"
        )

        self.assertTrue(self._run())
        self._check_each_lead_handled_once()
        self.assertTrue(self._run(), "a third run finds nothing left to do")
        self._check_each_lead_handled_once()

    def test_serialization_failure_is_retried(self):
        """A salesperson saves one of the leads while the run's batch is reassigning it: the run's write
        fails with a real serialization failure (repeatable read), the batch is rolled back and done again
        on fresh data; the salesperson's change is kept and no lead is handled twice."""
        Rule = type(self.env["crm.sla.rule"])
        apply_plans = Rule._sla_apply_plans
        edited = self.leads[2]
        tries = []

        def apply_plans_meanwhile(rule, plans):
            tries.append([plan.lead_id for plan in plans])
            if edited.id in tries[-1] and len(tries) == 2:
                other = self.connection_env()
                salesperson = other(user=self.leader)
                salesperson["crm.lead"].browse(edited.id).write({"priority": "3"})
                other.cr.commit()
            return apply_plans(rule, plans)

        with (
            patch.object(Rule, "_sla_apply_plans", apply_plans_meanwhile),
            self.assertLogs("odoo.sql_db", "ERROR") as sql_logs,
            self.assertLogs(RULE_LOGGER, logging.INFO) as logs,
        ):
            self.assertTrue(self._run())
        self.assertIn("could not serialize access", sql_logs.output[0])
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("SerializationFailure, batch of 2 leads rolled back; try again", logs.output[0])
        self.assertEqual(sorted(tries[1]), sorted(tries[2]), "the second batch is done again")
        leads = self._check_each_lead_handled_once()
        self.assertEqual(leads.browse(edited.id).priority, "3", "the salesperson's change is kept")

    def test_batch_left_to_next_run_after_the_last_try(self):
        """A batch that keeps meeting concurrency errors is tried a bounded number of times, then left,
        unclaimed, to the next run, which handles it once; the other batches are done meanwhile."""
        Rule = type(self.env["crm.sla.rule"])
        claim = Rule._sla_claim
        blocked = self.leads[2]

        def claim_conflicting(rule, kind, calendar, company_ids, now, lead_ids):
            if blocked.id in lead_ids:
                raise psycopg2.errors.LockNotAvailable("could not obtain lock on row in relation crm_lead")
            return claim(rule, kind, calendar, company_ids, now, lead_ids)

        with (
            patch.object(Rule, "_sla_claim", claim_conflicting),
            patch.object(concurrency, "sleep") as sleep,
            self.assertLogs(RULE_LOGGER, logging.INFO) as logs,
        ):
            self.assertTrue(self._run())
        self.assertEqual(sleep.call_count, 4, "five tries, with a wait between two")
        self.assertIn("WARNING", logs.output[-1])
        self.assertIn("LockNotAvailable on a batch of 2 leads after 5 tries", logs.output[-1])
        env = self.connection_env()
        events = env["crm.sla.event"].search([("rule_id", "=", self.rule.id)])
        self.assertEqual(sorted(events.lead_id.ids), sorted(self.leads.ids[:2] + self.leads.ids[4:]))
        self.assertEqual(env["crm.lead"].browse(self.leads.ids[2:4]).user_id, self.leader)

        self.assertTrue(self._run())
        # the left batch comes after the last one in the rotation
        self._check_each_lead_handled_once(order=(0, 1, 4, 2, 3))
