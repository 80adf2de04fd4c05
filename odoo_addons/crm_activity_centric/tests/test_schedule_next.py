from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged, users

from .common import FollowupCase


@tagged("post_install", "-at_install")
class TestDoneScheduleNext(FollowupCase):
    """Done & Schedule Next is atomic where the team requires a next step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls._lead(team=cls.team_enforce, name="Atomic")
        cls.activity = cls._activity(cls.lead, summary="First call")

    def _dialog(self, action):
        self.assertEqual(action["res_model"], "mail.activity")
        return Form(self.env["mail.activity"].with_context(**action["context"]))

    @users("ac_salesman")
    def test_done_only_when_the_next_one_is_saved(self):
        activity = self.activity.with_user(self.env.user)
        action = activity.action_feedback_schedule_next(feedback="They want a quote")
        self.assertTrue(activity.active, "not done yet: the next activity is not saved")
        form = self._dialog(action)
        form.activity_type_id = self.todo
        form.summary = "Send the quote"
        next_activity = form.save()
        self.assertFalse(activity.active, "done as soon as the next one exists")
        self.assertEqual(self.lead.activity_ids, next_activity)
        self.assertEqual(self.lead.followup_state, "scheduled")
        done_message = self.lead.message_ids.filtered(lambda m: m.mail_activity_type_id == self.call)
        self.assertIn("They want a quote", done_message.body, "the feedback lands in the chatter")

    @users("ac_salesman")
    def test_closing_the_dialog_leaves_the_activity_open(self):
        activity = self.activity.with_user(self.env.user)
        action = activity.action_feedback_schedule_next(feedback="ignored")
        self.assertEqual(action["type"], "ir.actions.act_window")
        # the rep closes the dialog: nothing else is called
        self.assertTrue(activity.active)
        self.assertEqual(self.lead.activity_ids, activity)

    def test_native_behaviour_when_not_the_last(self):
        self._activity(self.lead, activity_type=self.todo)
        action = self.activity.action_feedback_schedule_next()
        self.assertFalse(self.activity.active, "marked done first, as Odoo does")
        self.assertNotIn("followup_done_activity_id", action["context"])

    def test_native_behaviour_in_off_teams(self):
        lead = self._lead(team=self.team_off)
        activity = self._activity(lead)
        action = activity.action_feedback_schedule_next()
        self.assertFalse(activity.active)
        self.assertNotIn("followup_done_activity_id", action["context"])

    def test_next_activity_must_be_on_the_same_lead(self):
        action = self.activity.action_feedback_schedule_next()
        other = self._lead(team=self.team_off, name="Other")
        with self.assertRaisesRegex(UserError, "same record"):
            self.env["mail.activity"].with_context(**action["context"]).create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": other.id,
                    "activity_type_id": self.todo.id,
                    "user_id": self.salesman.id,
                }
            )
        self.assertTrue(self.activity.active)

    def test_forged_context_cannot_complete_someone_elses_activity(self):
        foreign_lead = self._lead(team=self.team_off, user=self.salesman_2, name="Not mine")
        foreign = self._activity(foreign_lead, user=self.salesman_2)
        with self.assertRaises(UserError):
            self.env["mail.activity"].with_user(self.salesman).with_context(
                followup_done_activity_id=foreign.id
            ).create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": self.lead.id,
                    "activity_type_id": self.todo.id,
                    "user_id": self.salesman.id,
                }
            )
        self.assertTrue(foreign.active)


@tagged("post_install", "-at_install")
class TestNextStepDate(FollowupCase):
    """Done & Schedule Next after a late activity: Warn and Enforce teams never propose a date already past;
    Off teams keep Odoo's date (the type's delay counted from the completed activity's deadline)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.follow_up = cls.env["mail.activity.type"].create(
            {
                "name": "Follow up",
                "res_model": "crm.lead",
                "delay_count": 5,
                "delay_unit": "days",
                "delay_from": "previous_activity",
            }
        )
        cls.today = fields.Date.context_today(cls.env["mail.activity"])
        cls.late = cls.today - timedelta(days=30)

    def _proposed(self, team, *, last=True):
        lead = self._lead(team=team)
        activity = self._activity(lead, deadline=self.late)
        if not last:
            self._activity(lead, activity_type=self.todo, deadline=self.today + timedelta(days=2))
        action = activity.action_feedback_schedule_next()
        form = Form(self.env["mail.activity"].with_context(**action["context"]))
        form.activity_type_id = self.follow_up
        return form

    def test_enforce_proposes_today_plus_the_delay(self):
        form = self._proposed(self.team_enforce)
        self.assertEqual(form.date_deadline, self.today + timedelta(days=5))
        next_activity = form.save()
        self.assertEqual(next_activity.date_deadline, self.today + timedelta(days=5))

    def test_warn_proposes_today_plus_the_delay(self):
        self.assertEqual(
            self._proposed(self.team_warn, last=False).date_deadline, self.today + timedelta(days=5)
        )

    def test_off_keeps_odoos_date(self):
        self.assertEqual(self._proposed(self.team_off).date_deadline, self.late + timedelta(days=5))

    def test_a_date_not_past_is_odoos(self):
        lead = self._lead(team=self.team_enforce)
        activity = self._activity(lead, deadline=self.today - timedelta(days=2))
        action = activity.action_feedback_schedule_next()
        form = Form(self.env["mail.activity"].with_context(**action["context"]))
        form.activity_type_id = self.follow_up
        self.assertEqual(form.date_deadline, self.today + timedelta(days=3), "from the previous deadline")

    def test_a_triggered_next_activity(self):
        self.call.sudo().write({"chaining_type": "trigger", "triggered_next_type_id": self.follow_up.id})
        lead = self._lead(team=self.team_warn)
        activity = self._activity(lead, deadline=self.late)
        activity.action_feedback()
        self.assertEqual(lead.activity_ids.date_deadline, self.today + timedelta(days=5))

    @users("ac_salesman")
    def test_mark_done_in_the_dialog_would_leave_no_next_step(self):
        """What the dialog's "Mark Done" did: save the next activity (which completes the first one), then
        complete it too, which the enforce team refuses. The dialog no longer offers it; over RPC the
        refusal stands."""
        lead = self._lead(team=self.team_enforce)
        first = self._activity(lead).with_user(self.env.user)
        action = first.action_feedback_schedule_next()
        form = Form(self.env["mail.activity"].with_context(**action["context"]))
        form.activity_type_id = self.todo
        next_activity = form.save()
        self.assertFalse(first.active)
        with self.assertRaises(UserError):
            next_activity.with_context(**action["context"], mail_activity_quick_update=True).action_done()
        self.assertTrue(next_activity.active)
        arch = self.env["mail.activity"].with_context(**action["context"]).get_views([(False, "form")])
        self.assertIn("context.get('followup_done_activity_id')", arch["views"]["form"]["arch"])
