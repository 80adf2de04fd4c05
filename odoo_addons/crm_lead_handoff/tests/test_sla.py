from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time
from odoo.tests import tagged

from .common import MONDAY_9, HandoffCase

LATE = datetime(2026, 3, 4, 9, 0)  # two days after the handoffs of MONDAY_9


@tagged("post_install", "-at_install")
class TestHandedOverClock(HandoffCase):
    """The acceptance deadline is an SLA rule on the "handed over" clock of crm_sla_rules' engine."""

    def _handed_over(self, name="SLA handoff"):
        with freeze_time(MONDAY_9):
            lead = self._qualified(name)
            self._send(lead, self.to_inside, self.marketer)
        return lead

    def _rule(self, **vals):
        return self.env["crm.sla.rule"].create(
            {
                "name": "Accept within a day",
                "team_ids": [(6, 0, self.inside_sales.ids)],
                "lead_type": "both",
                "clock": "handed_over",
                "threshold": 1,
                "unit": "days",
                **vals,
            }
        )

    def _run(self, rule, when=LATE):
        with (
            freeze_time(when),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", return_value=3600.0),
        ):
            rule.sudo()._sla_run(datetime.now())
        self.env.invalidate_all()

    def test_return_to_sender_when_nobody_decides(self):
        lead = self._handed_over()
        decided = self._handed_over("Decided in time")
        decided.handoff_id.with_user(self.inside).action_accept()
        rule = self._rule(action="return_to_sender")
        self._run(rule)
        handoff = lead.handoff_ids
        self.assertEqual(handoff.state, "returned")
        self.assertEqual((lead.team_id, lead.user_id), (self.marketing, self.marketer))
        self.assertEqual(lead.lifecycle_phase_id, self.mql, "returned, not judged: still Marketing Qualified")
        event = self.env["crm.sla.event"].sudo().search([("rule_id", "=", rule.id)])
        self.assertEqual((event.lead_id, event.clock, event.state), (lead, "handed_over", "acted"))
        self.assertEqual(event.clock_start, MONDAY_9)
        self.assertEqual(decided.handoff_ids.state, "accepted", "a decided handoff stops the clock")
        # a rerun acts on nothing more; a new handoff is a new episode
        self._run(rule)
        self.assertEqual(self.env["crm.sla.event"].sudo().search_count([("rule_id", "=", rule.id)]), 1)

    def test_reassign_on_the_handed_over_clock(self):
        lead = self._handed_over()
        rule = self._rule(action="reassign", reassign_mode="user", reassign_user_id=self.inside_2.id)
        self._run(rule)
        self.assertEqual(lead.user_id, self.inside_2)
        self.assertEqual(lead.handoff_id.state, "awaiting", "the new owner still accepts or rejects it")
        lead.handoff_id.with_user(self.inside_2).action_accept()
        self.assertEqual(lead.lifecycle_phase_id, self.sal)

    def test_escalate_on_the_handed_over_clock(self):
        lead = self._handed_over()
        rule = self._rule(action="escalate")
        self._run(rule)
        activity = lead.activity_ids
        self.assertEqual(activity.user_id, self.manager, "the receiving team's leader")
        self.assertIn("Accept within a day", activity.summary)
        self.assertEqual(lead.handoff_id.state, "awaiting")
