from odoo.exceptions import UserError
from odoo.tests import tagged, users

from .common import FollowupCase


@tagged("post_install", "-at_install")
class TestEnforce(FollowupCase):
    """In an enforce team the last open activity of an open lead cannot disappear without a next step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls._lead(team=cls.team_enforce, name="Enforced")
        cls.activity = cls._activity(cls.lead)

    def _assert_refused(self, operation):
        with self.assertRaisesRegex(UserError, "Done & Schedule Next"):
            operation()
        self.assertTrue(self.activity.exists() and self.activity.active, "the activity stays open")
        self.assertEqual(self.lead.followup_state, "scheduled")

    @users("ac_salesman")
    def test_every_way_to_remove_the_last_activity_is_refused(self):
        activity = self.activity.with_user(self.env.user)
        self._assert_refused(activity.action_done)
        self._assert_refused(lambda: activity.action_feedback(feedback="done"))
        self._assert_refused(activity.action_cancel)
        self._assert_refused(activity.unlink)
        self._assert_refused(lambda: activity.write({"active": False}))
        self._assert_refused(activity.action_archive)
        self._assert_refused(activity.action_done_redirect_to_other)
        other = self.env["crm.lead"].create({"name": "Elsewhere", "team_id": self.team_off.id})
        self._assert_refused(lambda: activity.write({"res_id": other.id}))
        partner = self.env["res.partner"].create({"name": "Somebody"})
        self._assert_refused(
            lambda: activity.write(
                {"res_model_id": self.env["ir.model"]._get_id("res.partner"), "res_id": partner.id}
            )
        )

    @users("ac_salesman")
    def test_allowed_with_another_activity_planned(self):
        self._activity(self.lead.with_user(self.env.user), activity_type=self.todo)
        self.activity.with_user(self.env.user).action_feedback(feedback="Talked to the buyer")
        self.assertFalse(self.activity.active)
        self.assertEqual(self.lead.followup_state, "scheduled")

    @users("ac_salesman")
    def test_allowed_with_a_reason(self):
        lead = self.lead.with_user(self.env.user)
        lead.no_followup_reason_id = self.reason
        self.activity.with_user(self.env.user).action_done()
        self.assertEqual(lead.followup_state, "exempt")

    def test_allowed_once_the_lead_is_closed(self):
        self.lead.action_set_won()
        self.activity.action_done()
        self.assertFalse(self.activity.active)
        lead = self._lead(team=self.team_enforce)
        activity = self._activity(lead)
        lead.action_set_lost()
        activity.action_cancel()
        self.assertFalse(activity.exists())

    def test_trigger_chaining_keeps_working(self):
        self.call.write({"chaining_type": "trigger", "triggered_next_type_id": self.todo.id})
        self.activity.action_feedback(feedback="Called")
        self.assertEqual(self.lead.activity_ids.activity_type_id, self.todo, "the triggered activity follows")
        self.assertEqual(self.lead.followup_state, "scheduled")

    def test_batch_operation_names_the_leads(self):
        second = self._lead(team=self.team_enforce, name="Second enforced")
        activities = self.activity | self._activity(second)
        with self.assertRaisesRegex(UserError, "Enforced.*Second enforced"):
            activities.action_feedback()
        self.assertEqual(activities.mapped("active"), [True, True], "nothing is half done")

    def test_warn_and_off_never_block(self):
        # Warn flags the lead left without a next step; Off is Odoo as usual: nothing flagged
        for team, state in ((self.team_warn, "missing"), (self.team_off, "exempt")):
            lead = self._lead(team=team)
            activity = self._activity(lead)
            activity.action_feedback()
            self.assertFalse(activity.active)
            self.assertEqual(lead.followup_state, state, team.name)

    def test_archiving_the_user_is_housekeeping(self):
        self.salesman.action_archive()
        self.assertFalse(self.activity.exists(), "Odoo deletes an archived user's activities")
        self.assertEqual(self.lead.followup_state, "missing")

    def test_done_at_and_reschedules_are_recorded_not_writable(self):
        self.activity.date_deadline = "2026-05-01"
        self.activity.date_deadline = "2026-05-01"  # not a move
        self.activity.date_deadline = "2026-05-04"
        self.assertEqual(self.activity.followup_reschedule_count, 2)
        with self.assertRaises(UserError):
            self.activity.write({"followup_reschedule_count": 0})
        with self.assertRaises(UserError):
            self.activity.write({"followup_done_at": "2026-01-01 00:00:00"})
        self._activity(self.lead, activity_type=self.todo)
        self.activity.action_done()
        self.assertTrue(self.activity.followup_done_at)
