from unittest.mock import patch

from odoo.tests import tagged, users

from .common import FollowupCase


@tagged("post_install", "-at_install", "is_query_count")
class TestFollowupPerformance(FollowupCase):
    """The policy costs a fixed number of queries per operation, whatever the number of activities."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.leads = cls.env["crm.lead"].create(
            [
                {"name": f"Perf {i}", "team_id": cls.team_enforce.id, "user_id": cls.salesman.id}
                for i in range(20)
            ]
        )
        model_id = cls.env["ir.model"]._get_id("crm.lead")
        cls.activities = cls.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": lead.id,
                    "activity_type_id": cls.call.id,
                    "user_id": cls.salesman.id,
                }
                for lead in cls.leads
                for _ in range(2)
            ]
        )

    def _first_of_each(self, count):
        return self.env["mail.activity"].browse(self.activities.ids[: 2 * count : 2])

    @users("ac_salesman")
    def test_complete_one(self):
        activity = self._first_of_each(1)
        self.env.invalidate_all()
        with self.assertQueryCount(ac_salesman=31):
            activity.action_feedback(feedback="done")
        self.assertFalse(activity.active)

    @users("ac_salesman")
    def test_complete_twenty_in_one_call(self):
        activities = self._first_of_each(20)
        self.env.invalidate_all()
        with self.assertQueryCount(ac_salesman=126):
            activities.action_feedback(feedback="done")
        self.assertEqual(set(self.leads.mapped("followup_state")), {"scheduled"})

    @users("ac_salesman")
    def test_schedule_twenty_in_one_call(self):
        model_id = self.env["ir.model"]._get_id("crm.lead")
        self.env.invalidate_all()
        with self.assertQueryCount(ac_salesman=22):
            self.env["mail.activity"].create(
                [
                    {"res_model_id": model_id, "res_id": lead.id, "activity_type_id": self.todo.id}
                    for lead in self.leads
                ]
            )

    def _queries(self, operation):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        operation()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_entering_an_enforce_team_costs_a_fixed_number_of_queries(self):
        """Moving leads into an enforce team checks each one's next step: on top of what crm's own team change
        costs, the same few queries for one lead or twenty."""
        extra = {}
        for count in (1, 20):
            leads = self.leads[:count]
            leads.team_id = self.team_warn
            # what crm's own team change costs: the same write without the check
            with patch.object(type(self.env["crm.lead"]), "_followup_entry_snapshot", lambda *a: None):
                native = self._queries(lambda leads=leads: leads.write({"team_id": self.team_enforce.id}))
            leads.team_id = self.team_warn
            ours = self._queries(lambda leads=leads: leads.write({"team_id": self.team_enforce.id}))
            extra[count] = ours - native
            self.assertEqual(set(leads.mapped("followup_state")), {"scheduled"})
        self.assertEqual(extra[1], extra[20], f"the check's queries grow with the leads: {extra}")
        self.assertLessEqual(extra[20], 5, extra)
