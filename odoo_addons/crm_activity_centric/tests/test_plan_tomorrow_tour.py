from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPlanTomorrowTour(HttpCase):
    """Plan Tomorrow in the browser (static/src/tours/crm_activity_plan_tomorrow_tour.js): one salesperson
    with four calls due tomorrow against a capacity of two, another whose day is empty."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.busy, cls.free = (
            new_test_user(cls.env, login=login, name=name, groups="sales_team.group_sale_salesman", tz="UTC")
            for login, name in (("pt_busy", "Bea Busy"), ("pt_free", "Fred Free"))
        )
        team = cls.env["crm.team"].create({"name": "Plan Tomorrow Team"})
        cls.env["crm.team.member"].create(
            [
                {"crm_team_id": team.id, "user_id": user.id, "activity_daily_capacity": 2}
                for user in (cls.busy, cls.free)
            ]
        )
        leads = cls.env["crm.lead"].create(
            [
                {
                    "name": f"Plan Tomorrow {index}",
                    "type": "opportunity",
                    "team_id": team.id,
                    "user_id": cls.busy.id,
                }
                for index in range(4)
            ]
        )
        tomorrow = fields.Date.context_today(cls.busy) + timedelta(days=1)
        cls.env["mail.activity"].create(
            [
                {
                    "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                    "res_id": lead.id,
                    "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                    "date_deadline": tomorrow,
                    "user_id": cls.busy.id,
                }
                for lead in leads
            ]
        )

    def _plan(self, user, tour):
        self.start_tour(
            "/odoo/action-crm_activity_centric.crm_activity_plan_tomorrow_action", tour, login=user.login
        )
        return self.env["crm.activity.plan.tomorrow"].search([("create_uid", "=", user.id)])

    def test_a_day_over_capacity(self):
        wizard = self._plan(self.busy, "crm_activity_plan_tomorrow_over_tour")
        self.assertEqual((wizard.load_ids.count_before, wizard.over_count), (4, 1))
        self.assertTrue(wizard.move_ids)

    def test_a_day_that_fits(self):
        wizard = self._plan(self.free, "crm_activity_plan_tomorrow_fits_tour")
        self.assertEqual((wizard.load_ids.count_before, wizard.over_count, len(wizard.move_ids)), (0, 0, 0))
