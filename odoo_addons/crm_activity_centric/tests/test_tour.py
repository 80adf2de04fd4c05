from datetime import timedelta

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


MY_DAY_TOUR = "crm_activity_centric_my_day_tour"  # static/src/tours/crm_activity_centric_my_day_tour.js


@tagged("post_install", "-at_install")
class TestMyDayTour(HttpCase):
    """A salesperson's My Day in the browser: only rows he can act on, each row's buttons work, and the
    next step of a late call is not proposed in the past."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = "sales_team.group_sale_salesman"
        cls.rep = new_test_user(cls.env, login="day_rep", name="Dana Day", groups=groups, tz="UTC")
        cls.colleague = new_test_user(cls.env, login="day_colleague", name="Colin Day", groups=groups)
        cls.manager = new_test_user(
            cls.env, login="day_manager", name="Mia Day", groups="sales_team.group_sale_manager"
        )
        cls.env["ir.config_parameter"].set_param("sales_team.membership_multi", True)
        Team = cls.env["crm.team"]
        cls.enforce = Team.create({"name": "Day Enforce", "followup_policy": "enforce"})
        warn = Team.create({"name": "Day Warn", "followup_policy": "warn"})
        off = Team.create({"name": "Day Off"})
        for team in (cls.enforce, warn, off):
            cls.env["crm.team.member"].create(
                [{"crm_team_id": team.id, "user_id": user.id} for user in (cls.rep, cls.colleague)]
            )
        stage = cls.env["crm.stage"].create({"name": "Day Qualified", "sequence": 1})
        cls.today = fields.Date.context_today(cls.rep)

        def lead(name, team):
            return cls.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "opportunity",
                    "team_id": team.id,
                    "user_id": cls.rep.id,
                    "stage_id": stage.id,
                }
            )

        def activity(record, xmlid, summary, deadline):
            return cls.env["mail.activity"].create(
                {
                    "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                    "res_id": record.id,
                    "activity_type_id": cls.env.ref(xmlid).id,
                    "summary": summary,
                    "date_deadline": deadline,
                    "user_id": cls.rep.id,
                }
            )

        cls.chairs = lead("Day: 40 chairs", cls.enforce)
        cls.call = activity(cls.chairs, "mail.mail_activity_data_call", "Call the buyer", cls.today)
        activity(cls.chairs, "mail.mail_activity_data_email", "Send the brochure", cls.today)
        cls.desks = lead("Day: desks", cls.enforce)
        cls.late_call = activity(
            cls.desks, "mail.mail_activity_data_call", "Late call", cls.today - timedelta(days=30)
        )
        cls.lamps = lead("Day: lamps", warn)
        given = lead("Day: given away", cls.enforce)
        cls.given_call = activity(given, "mail.mail_activity_data_call", "Call about the gift", cls.today)
        off_lead = lead("Day: off team", off)
        cls.off_call = activity(off_lead, "mail.mail_activity_data_call", "Call in the off team", cls.today)
        (given | off_lead).with_user(cls.manager).write({"user_id": cls.colleague.id})

    def test_my_day_tour(self):
        self.assertEqual(self.given_call.user_id, self.colleague, "handed over in the enforce team")
        self.assertEqual(self.off_call.user_id, self.rep, "Odoo's behaviour in the Off team")
        self.start_tour(
            "/odoo/action-crm_activity_centric.crm_followup_agenda_action", MY_DAY_TOUR, login="day_rep"
        )

        self.env.invalidate_all()
        self.assertFalse(self.call.active, "Done completed the call")
        self.assertFalse(self.late_call.active, "Done & Next completed the late call")
        next_step = self.desks.activity_ids
        self.assertEqual(next_step.summary, "Send the desk quote")
        self.assertEqual(
            next_step.date_deadline,
            self.today + timedelta(days=5),
            "To-Do's 5 days from today, not from the call's deadline 30 days ago",
        )
