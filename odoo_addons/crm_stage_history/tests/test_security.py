from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import StageHistoryCase, report_lines


@tagged("post_install", "-at_install")
class TestStageHistorySecurity(StageHistoryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own = cls._lead("Own")
        cls.others = cls._lead("Other's", user=cls.salesman_2)
        cls.unassigned = cls.env["crm.lead"].create(
            {
                "name": "Nobody's",
                "type": "opportunity",
                "team_id": cls.team.id,
                "stage_id": cls.s1.id,
                "user_id": False,
            }
        )
        cls.lost = cls._lead("Own lost")
        cls.lost.action_set_lost()

    def _visible(self, user):
        History = self.History.with_user(user)
        return History.search([("lead_id", "in", (self.own | self.others | self.unassigned | self.lost).ids)])

    def test_salesman_sees_the_history_of_the_leads_he_can_see(self):
        visible = self._visible(self.salesman)
        self.assertEqual(visible.lead_id, self.own | self.unassigned | self.lost)
        self.assertEqual(
            self._visible(self.sales_all).lead_id, self.own | self.others | self.unassigned | self.lost
        )

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_nobody_but_a_system_admin_edits_history(self):
        stay = self._stays(self.own)
        for user in (self.salesman, self.sales_manager):
            History = self.History.with_user(user)
            with self.assertRaises(AccessError):
                History.create({"lead_id": self.own.id, "stage_id": self.s3.id, "date_in": "2026-01-01"})
            with self.assertRaises(AccessError):
                stay.with_user(user).write({"stage_id": self.s3.id})
            with self.assertRaises(AccessError):
                stay.with_user(user).unlink()
        self.assertEqual(stay.stage_id, self.s1)
        admin = new_test_user(
            self.env, login="sh_admin", groups="base.group_system,sales_team.group_sale_manager"
        )
        stay.with_user(admin).write({"date_in": "2026-01-01 00:00:00"})
        self.assertEqual(str(stay.date_in), "2026-01-01 00:00:00")

    def test_salesman_moving_his_lead_records_history_without_write_access(self):
        self.own.with_user(self.salesman).write({"stage_id": self.s2.id})
        self.assertEqual(self._stays(self.own).mapped("stage_id"), self.s1 + self.s2)

    def test_salesman_cannot_forge_the_origin_of_a_stay(self):
        """A caller's context may say "manual" or "import"; "override", "survey" or "sla" are recorded only
        by the code that makes such moves (as superuser or with the cursor's trusted marker)."""
        self.own.with_user(self.salesman).with_context(stage_history_origin="override").write(
            {"stage_id": self.s2.id}
        )
        self.own.with_user(self.salesman).with_context(stage_history_origin="import").write(
            {"stage_id": self.s3.id}
        )
        self.own.with_context(stage_history_origin="sla").write({"stage_id": self.s4.id})
        self.assertEqual(self._stays(self.own).mapped("origin")[1:], ["manual", "import", "sla"])

    def test_history_is_isolated_per_company(self):
        company_b = self.env["res.company"].create({"name": "Company B"})
        team_b = self.env["crm.team"].create({"name": "Team B", "company_id": company_b.id})
        lead_b = self.env["crm.lead"].create(
            {
                "name": "B lead",
                "type": "opportunity",
                "team_id": team_b.id,
                "company_id": company_b.id,
                "stage_id": self.s1.id,
                "user_id": False,
            }
        )
        self.assertEqual(self._stays(lead_b).company_id, company_b)
        user_a = new_test_user(
            self.env,
            login="sh_user_a",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )
        user_ab = new_test_user(
            self.env,
            login="sh_user_ab",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=company_b.id,
            company_ids=[(6, 0, (self.company | company_b).ids)],
        )
        domain = [("lead_id", "=", lead_b.id)]
        self.assertFalse(self.History.with_user(user_a).search(domain))
        self.assertTrue(
            self.History.with_user(user_ab)
            .with_context(allowed_company_ids=[company_b.id, self.company.id])
            .search(domain)
        )

    @mute_logger("odoo.addons.base.models.ir_model")
    def test_targets_are_set_by_sales_managers(self):
        with self.assertRaises(AccessError):
            self.env["crm.stage.target"].with_user(self.salesman).create({"stage_id": self.s1.id})
        target = (
            self.env["crm.stage.target"]
            .with_user(self.sales_manager)
            .create({"stage_id": self.s1.id, "target_days_in_stage": 3})
        )
        self.assertEqual(target.with_user(self.salesman).target_days_in_stage, 3)

    def test_reports_count_only_the_leads_of_the_users_companies(self):
        """Another company's leads are in no report of this company's users, nor a lead moved there after
        its stays were recorded here (its stays stay readable, its lead does not)."""
        company_b = self.env["res.company"].create({"name": "Company B"})
        moved = self._lead("Moved to B")
        user_a = new_test_user(
            self.env,
            login="sh_report_a",
            groups="sales_team.group_sale_manager",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )

        def measured():
            """(leads that entered Inquiry in the funnel, decided leads the calibration measured there)"""
            report = self.env["crm.stage.funnel.report"].with_user(user_a).create({"group_by": "stage"})
            funnel = report_lines(report.env, report.action_show())
            entered = funnel.filtered(lambda line: line.stage_id == self.s1).entered
            calibration = self.env["crm.stage.calibration"].with_user(user_a).create({})
            measured = report_lines(calibration.env, calibration.action_measure())
            return entered, measured.filtered(lambda line: line.stage_id == self.s1).sample_size

        moved.action_set_lost()
        entered, decided = measured()
        moved.write({"company_id": company_b.id, "team_id": False, "user_id": False})
        self.assertTrue(self.History.with_user(user_a).search([("lead_id", "=", moved.id)]))
        self.assertEqual(measured(), (entered - 1, decided - 1))
