from datetime import datetime
from unittest.mock import patch

from odoo.exceptions import MissingError
from odoo.tests import tagged

from .common import SlaCase


@tagged("post_install", "-at_install")
class TestMissingRecords(SlaCase):
    """The buttons of rules and events, called over RPC with ids that do not exist (or no longer do):
    one line saying so, and nothing done."""

    def assertMissing(self, call, what):
        with self.assertRaises(MissingError) as caught:
            call()
        self.assertRegex(str(caught.exception), rf"^The {what} with id [0-9, ]+ does not exist [^\n]*$")

    def test_rule_buttons(self):
        deleted = self._rule(name="Deleted")
        deleted_id = deleted.id
        deleted.unlink()
        kept = self._rule(name="Kept")
        Rule = self.env["crm.sla.rule"].with_user(self.manager)
        Cron = type(self.env["ir.cron"])
        for ids in ([0], [deleted_id], [kept.id, deleted_id]):
            rules = Rule.browse(ids)
            with self.subTest(ids=ids), patch.object(Cron, "_trigger") as trigger:
                self.assertMissing(rules.action_preview, "SLA rule")
                self.assertMissing(rules.action_run_now, "SLA rule")
                trigger.assert_not_called()
                if len(ids) == 1:
                    self.assertMissing(rules.action_view_events, "SLA rule")
        self.assertFalse(self.env["crm.sla.preview"].search([]), "no preview made")

    def test_event_retry(self):
        rule = self._rule(action="reassign", reassign_mode="team_leader")
        self.team.user_id = False
        lead = self._lead()
        self._run(datetime(2026, 3, 5, 9, 0), rules=rule)
        failed = self._events(rule, lead)
        self.assertEqual(failed.state, "failed")
        Event = self.env["crm.sla.event"].with_user(self.manager)
        for ids in ([0], [failed.id, failed.id + 1000]):
            with self.subTest(ids=ids):
                self.assertMissing(Event.browse(ids).action_retry, "SLA event")
        self.assertEqual(failed.state, "failed", "nothing retried")
