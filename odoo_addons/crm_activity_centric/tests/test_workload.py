from datetime import date, datetime, time

import pytz
from freezegun import freeze_time
from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .common import NOW, FollowupCase


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestWorkload(FollowupCase):
    """Capacity warnings, Plan tomorrow and the My Day agenda."""

    TOMORROW = date(2026, 3, 5)  # Thursday

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.team.member"].search([("user_id", "=", cls.salesman.id)]).write(
            {"activity_daily_capacity": 3}
        )
        cls.call.estimated_minutes = 15

    def _fill(self, day, count, priority="1", user=None):
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"P{priority}-{i}",
                    "team_id": self.team_warn.id,
                    "user_id": (user or self.salesman).id,
                    "priority": priority,
                }
                for i in range(count)
            ]
        )
        for lead in leads:
            self._activity(lead, user=user, deadline=day)
        return leads

    def test_warning_when_scheduling_onto_a_full_day(self):
        self._fill(self.TOMORROW, 3)
        lead = self._lead(team=self.team_warn)
        activity = self.env["mail.activity"].new(
            {
                "res_model": "crm.lead",
                "res_id": lead.id,
                "user_id": self.salesman.id,
                "date_deadline": self.TOMORROW,
                "activity_type_id": self.call.id,
            }
        )
        result = activity._onchange_followup_capacity()
        self.assertIn("already has 3 activities", result["warning"]["message"])
        activity.date_deadline = date(2026, 3, 6)
        self.assertIsNone(activity._onchange_followup_capacity(), "the next day has room")
        no_limit = activity.new({"user_id": self.salesman_2.id, "date_deadline": self.TOMORROW})
        self.assertIsNone(no_limit._onchange_followup_capacity())

    def test_minutes_capacity_on_the_schedule_dialog(self):
        self.env["crm.team.member"].search([("user_id", "=", self.salesman_2.id)]).write(
            {"activity_daily_minutes": 30}
        )
        self._fill(self.TOMORROW, 2, user=self.salesman_2)
        lead = self._lead(team=self.team_warn)
        wizard = (
            self.env["mail.activity.schedule"]
            .with_context(active_model="crm.lead", active_ids=lead.ids)
            .new({"activity_user_id": self.salesman_2.id, "date_deadline": self.TOMORROW})
        )
        self.assertIn("30 minutes", wizard._onchange_followup_capacity()["warning"]["message"])

    @users("ac_salesman")
    def test_plan_tomorrow_moves_the_lowest_priority(self):
        low = self._fill(self.TOMORROW, 2, priority="0")
        high = self._fill(self.TOMORROW, 3, priority="3")
        wizard = self.env["crm.activity.plan.tomorrow"].create({})
        self.assertEqual(wizard.date, self.TOMORROW)
        wizard.action_propose()
        load = wizard.load_ids
        self.assertEqual((load.count_before, load.count_after, load.capacity_count), (5, 3, 3))
        self.assertTrue(load.over)
        self.assertEqual(wizard.move_ids.lead_id, low, "the two low-priority activities move")
        self.assertEqual(set(wizard.move_ids.mapped("to_date")), {date(2026, 3, 6)})
        self.assertTrue(
            all(activity.date_deadline == self.TOMORROW for activity in low.activity_ids),
            "nothing moves before confirmation",
        )
        wizard.action_apply()
        self.assertEqual(set(low.activity_ids.mapped("date_deadline")), {date(2026, 3, 6)})
        self.assertEqual(set(high.activity_ids.mapped("date_deadline")), {self.TOMORROW})
        self.assertEqual(
            low.activity_ids.mapped("followup_reschedule_count"),
            [0, 0],
            "levelling is not counted as the rep pushing activities ahead",
        )

    @users("ac_salesman")
    def test_friday_moves_skip_the_weekend(self):
        friday = date(2026, 3, 6)
        low = self._fill(friday, 1, priority="0")
        self._fill(friday, 3, priority="2")
        wizard = self.env["crm.activity.plan.tomorrow"].create({"date": friday})
        wizard.action_propose()
        self.assertEqual(wizard.move_ids.lead_id, low)
        self.assertEqual(wizard.move_ids.to_date, date(2026, 3, 9))

    @users("ac_salesman")
    def test_moves_skip_public_holidays_not_half_day_closures(self):
        # the company's schedule: Friday 6 March is a public holiday, Monday 9 March closed in the morning
        # only (a working day, as event chains and SLA business days count it)
        calendar = self.env.company.resource_calendar_id.sudo()
        zone = pytz.timezone(calendar.tz or "UTC")

        def utc(day, hour):
            return zone.localize(datetime.combine(day, time(hour))).astimezone(pytz.utc).replace(tzinfo=None)

        self.env["resource.calendar.leaves"].sudo().create(
            [
                {
                    "name": "Public holiday",
                    "calendar_id": False,  # a public holiday of the current company
                    "date_from": utc(date(2026, 3, 6), 0),
                    "date_to": utc(date(2026, 3, 6), 23),
                },
                {
                    "name": "Morning off",
                    "calendar_id": calendar.id,
                    "date_from": utc(date(2026, 3, 9), 0),
                    "date_to": utc(date(2026, 3, 9), 12),
                },
            ]
        )
        low = self._fill(self.TOMORROW, 1, priority="0")
        self._fill(self.TOMORROW, 3, priority="2")
        wizard = self.env["crm.activity.plan.tomorrow"].create({})
        wizard.action_propose()
        self.assertEqual(wizard.move_ids.lead_id, low)
        self.assertEqual(wizard.move_ids.to_date, date(2026, 3, 9))

    @users("ac_salesman")
    def test_salesperson_plans_only_their_own_day(self):
        wizard = self.env["crm.activity.plan.tomorrow"].create({"user_ids": [(6, 0, self.salesman_2.ids)]})
        with self.assertRaises(AccessError):
            wizard.action_propose()

    def test_manager_plans_the_team(self):
        self._fill(self.TOMORROW, 4)
        wizard = (
            self.env["crm.activity.plan.tomorrow"]
            .with_user(self.sales_manager)
            .create({"user_ids": [(6, 0, (self.salesman | self.salesman_2).ids)]})
        )
        wizard.action_propose()
        self.assertEqual(len(wizard.load_ids), 2)
        self.assertEqual(len(wizard.move_ids), 1)

    @users("ac_salesman")
    def test_my_day(self):
        urgent = self._lead(team=self.team_warn, name="Urgent", priority="3", user=self.env.user)
        normal = self._lead(team=self.team_warn, name="Normal", priority="1", expected_revenue=5000)
        small = self._lead(team=self.team_warn, name="Small", priority="1", expected_revenue=100)
        later = self._lead(team=self.team_warn, name="Later")
        self._lead(team=self.team_warn, name="Nothing planned", priority="2")
        for lead in (urgent, normal, small):
            self._activity(lead, deadline=date(2026, 3, 3))
        self._activity(later, deadline=date(2026, 3, 20))
        self._lead(team=self.team_warn, user=self.salesman_2, name="Sam's")
        Agenda = self.env["crm.followup.agenda"]
        rows = Agenda.search(
            [
                ("user_id", "=", self.env.uid),
                "|",
                ("kind", "=", "missing"),
                ("date_deadline", "<=", date(2026, 3, 4)),
            ]
        )
        self.assertEqual(rows.mapped("lead_id.name"), ["Urgent", "Nothing planned", "Normal", "Small"])
        self.assertEqual(rows.mapped("kind"), ["activity", "missing", "activity", "activity"])
        self.assertNotIn("Sam's", Agenda.search([]).mapped("lead_id.name"), "other reps' leads stay private")
        manager_view = Agenda.with_user(self.sales_manager).search([])
        self.assertIn("Sam's", manager_view.mapped("lead_id.name"))

    def test_crm_app_still_opens_on_the_pipeline(self):
        menus = self.env["ir.ui.menu"].load_web_menus(False)
        crm = menus[self.env.ref("crm.crm_menu_root").id]
        self.assertEqual(crm["actionID"], self.env.ref("crm.action_your_pipeline").id)
