from datetime import datetime, timedelta

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import MONDAY_10, SlaCase


@tagged("post_install", "-at_install")
class TestLastActionClock(SlaCase):
    """The 'last action' clock: stage change, completed activity or message from the salesperson."""

    def setUp(self):
        super().setUp()
        self.lead = self._lead()
        self.assertEqual(self.lead.sla_last_action_date, MONDAY_10)

    def test_new_lead_starts_the_clock(self):
        lead = self.env["crm.lead"].create({"name": "Fresh", "type": "opportunity", "team_id": self.team.id})
        self.assertTrue(lead.sla_last_action_date)
        self.assertLess(datetime.now() - lead.sla_last_action_date, timedelta(minutes=5))

    def test_stage_change_restarts_it(self):
        self.lead.stage_id = self.stage_qualified
        self.assertGreater(self.lead.sla_last_action_date, MONDAY_10)

    def test_stage_change_never_moves_it_back(self):
        """A clock already later than the stage change (a message dated ahead) stays where it is; the other
        leads of the same write restart."""
        later = (datetime.now() + timedelta(days=1)).replace(microsecond=0)
        ahead = self._lead(start=later, name="Ahead")
        (self.lead | ahead).write({"stage_id": self.stage_qualified.id})
        self.assertEqual(ahead.sla_last_action_date, later)
        self.assertGreater(self.lead.sla_last_action_date, MONDAY_10)
        self.assertLess(self.lead.sla_last_action_date, later)

    def test_completed_activity_restarts_it(self):
        activity = self.lead.activity_schedule("mail.mail_activity_data_call", user_id=self.rep_a.id)
        self.assertEqual(self.lead.sla_last_action_date, MONDAY_10, "scheduling is not an action")
        activity.with_user(self.rep_a).action_feedback(feedback="Called")
        self.assertGreater(self.lead.sla_last_action_date, MONDAY_10)

    def test_salesperson_message_restarts_it(self):
        self.lead.with_user(self.manager).message_post(body="Manager note", message_type="comment")
        self.assertEqual(self.lead.sla_last_action_date, MONDAY_10, "only the lead's salesperson counts")
        self.lead.message_post(
            body="Customer mail",
            message_type="email",
            author_id=self.env["res.partner"].create({"name": "Customer"}).id,
        )
        self.assertEqual(self.lead.sla_last_action_date, MONDAY_10, "the customer's mail is not an action")
        self.lead.with_user(self.rep_a).message_post(body="Sent the brochure", message_type="comment")
        self.assertGreater(self.lead.sla_last_action_date, MONDAY_10)

    def test_not_writable_by_hand(self):
        with self.assertRaises(UserError):
            self.lead.with_user(self.rep_a).write({"sla_last_action_date": datetime(2030, 1, 1)})
        lead = (
            self.env["crm.lead"]
            .with_user(self.rep_a)
            .create({"name": "Forged", "sla_last_action_date": datetime(2030, 1, 1)})
        )
        self.assertLess(lead.sla_last_action_date, datetime(2030, 1, 1))

    def test_install_fill_from_history(self):
        """Leads without a value (install) get the latest of their stage change, creation, completed
        activities and salesperson's messages."""
        self.lead.with_user(self.rep_a).message_post(body="Called them", message_type="comment")
        message = self.lead.message_ids[:1]
        message_date = datetime(2026, 3, 10, 15, 0)
        self.env.cr.execute("UPDATE mail_message SET date = %s WHERE id = %s", (message_date, message.id))
        other = self._lead(name="Untouched")
        self.env.cr.execute(
            "UPDATE crm_lead SET sla_last_action_date = NULL WHERE id IN %s",
            (tuple((self.lead | other).ids),),
        )
        self.env["crm.lead"]._sla_fill_last_action()
        self.env.invalidate_all()
        self.assertEqual(self.lead.sla_last_action_date, message_date)
        self.assertEqual(other.sla_last_action_date, MONDAY_10)
