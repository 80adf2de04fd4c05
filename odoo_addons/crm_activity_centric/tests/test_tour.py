from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

TOUR = "crm_activity_centric_enforce_tour"  # static/src/tours/crm_activity_centric_tour.js


@tagged("post_install", "-at_install")
class TestEnforceTour(HttpCase):
    """A salesperson of an ``enforce`` team completes the last activity of an open opportunity in the
    browser: plain "Done" is refused, "Done & Schedule Next" plans the next step and completes the call."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rep = new_test_user(
            cls.env,
            login="tour_rep",
            name="Tess Tour",
            email="tess.tour@example.com",
            groups="sales_team.group_sale_salesman",
            tz="UTC",
        )
        cls.team = cls.env["crm.team"].create({"name": "Tour Enforce Team", "followup_policy": "enforce"})
        cls.env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.rep.id})
        # an open stage of our own, so that the lead's stage is neither folded nor won whatever the database
        cls.stage = cls.env["crm.stage"].create({"name": "Tour Qualified", "sequence": 1})
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Tour: 40 office chairs",
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": cls.rep.id,
                "stage_id": cls.stage.id,
            }
        )
        cls.call = cls.env["mail.activity"].create(
            {
                "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                "res_id": cls.lead.id,
                "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                "summary": "Call the buyer",
                "date_deadline": fields.Date.context_today(cls.rep),
                "user_id": cls.rep.id,
            }
        )

    def test_enforce_tour(self):
        self.assertEqual(self.lead.followup_state, "scheduled")
        self.assertEqual(self.lead.followup_policy, "enforce")
        # The tour first clicks "Done" on the last activity on purpose: the server refuses it with a
        # UserError, which the browser shows in a dialog and which odoo.http logs as a WARNING (a log
        # line the test tier would count as a failure). Capture odoo.http instead of muting it: the
        # refusal must be logged exactly once, and nothing else may go wrong on the server.
        with self.assertLogs("odoo.http", level="WARNING") as http_logs:
            self.start_tour(f"/odoo/crm/{self.lead.id}", TOUR, login="tour_rep")
        self.assertEqual(len(http_logs.records), 1, http_logs.output)
        self.assertIn("would be left without a next step", http_logs.records[0].getMessage())

        self.env.invalidate_all()
        call = self.call.with_context(active_test=False)
        self.assertTrue(call.exists(), "a done activity is archived, not deleted")
        self.assertFalse(call.active, "the call is done")
        self.assertEqual(call.feedback, "Buyer wants a quote by Friday")
        self.assertTrue(call.followup_done_at)
        open_activities = self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "=", self.lead.id)]
        )
        self.assertEqual(len(open_activities), 1, "exactly the activity scheduled in the dialog is open")
        self.assertEqual(open_activities.summary, "Send the quote")
        self.assertEqual(open_activities.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertEqual(open_activities.user_id, self.rep)
        self.assertEqual(self.lead.followup_state, "scheduled")
        done_message = self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "=", self.lead.id),
                ("mail_activity_type_id", "=", self.env.ref("mail.mail_activity_data_call").id),
            ]
        )
        self.assertEqual(len(done_message), 1, "one 'done' message for the call, none for the refused try")
        self.assertIn("Buyer wants a quote by Friday", str(done_message.body))
