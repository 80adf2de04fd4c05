from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged

CAPABILITIES = {"followup_policy": "enforce", "stage_setting": "survey", "survey_won_gate": False}


@tagged("post_install", "-at_install")
class TestCapabilitiesOverRpc(Json2Case):
    """Who switches a team's capabilities: a sales manager (no administrator) from CRM › Configuration ›
    Capabilities per Team, and over the API; a salesperson neither."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="pd_caps_manager", groups="sales_team.group_sale_manager")
        cls.salesperson = new_test_user(
            cls.env, login="pd_caps_salesperson", groups="sales_team.group_sale_salesman"
        )
        cls.survey = cls.env["survey.survey"].create(
            {"title": "PD Caps Qualification", "access_mode": "token"}
        )
        cls.team = cls.env["crm.team"].create(
            {"name": "PD Caps Team", "user_id": cls.manager.id, "qualification_survey_id": cls.survey.id}
        )

    def _capabilities(self):
        self.env.invalidate_all()
        return {field: self.team[field] for field in CAPABILITIES}

    def test_salesperson_cannot_switch(self):
        before = self._capabilities()
        for field, value in CAPABILITIES.items():
            with self.assertLogs("odoo.http", "WARNING") as logs:
                status, body = self.json2(
                    self.salesperson, "crm.team", "write", ids=self.team.ids, vals={field: value}
                )
            self.assertEqual((status, body.get("name")), (403, "odoo.exceptions.AccessError"), field)
            self.assertIn("not allowed to modify 'Sales Team'", logs.output[0])
        self.assertEqual(self._capabilities(), before, "nothing changed")

    def test_sales_manager_switches(self):
        self.assertFalse(self.manager.has_group("base.group_system"), "not an administrator")
        status, _body = self.json2(self.manager, "crm.team", "write", ids=self.team.ids, vals=CAPABILITIES)
        self.assertEqual(status, 200)
        self.assertEqual(self._capabilities(), CAPABILITIES)

    def test_the_menu_is_the_sales_managers(self):
        menu = self.env.ref("crm_pipeline_discipline.crm_team_menu_pipeline_capabilities")
        self.assertEqual(menu.parent_id, self.env.ref("crm.crm_menu_config"))
        for user, shown in ((self.manager, True), (self.salesperson, False)):
            visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            self.assertEqual(menu.id in visible, shown, user.login)
        # the settings section is for administrators only: the reason for the menu
        settings = self.env.ref("crm.crm_config_settings_menu")
        self.assertNotIn(settings.id, self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids())

    def test_handoff_routes_are_the_sales_managers(self):
        """A sales manager defines a handoff route (switching the lifecycle phases on) over the API and
        finds it under CRM › Configuration; a salesperson can do neither."""
        other = self.env["crm.team"].create({"name": "PD Caps Receiving Team"})
        route = {
            "name": "PD Caps route",
            "from_team_ids": [[6, 0, self.team.ids]],
            "to_kind": "team",
            "to_team_id": other.id,
            "from_phase_id": self.env.ref("crm_lead_handoff.crm_lifecycle_phase_mql").id,
            "accept_phase_id": self.env.ref("crm_lead_handoff.crm_lifecycle_phase_sal").id,
        }
        Route = self.env["crm.handoff.route"]
        with self.assertLogs("odoo.http", "WARNING"):
            status, body = self.json2(self.salesperson, "crm.handoff.route", "create", vals_list=[route])
        self.assertEqual((status, body.get("name")), (403, "odoo.exceptions.AccessError"))
        self.assertFalse(Route.search([("name", "=", "PD Caps route")]))
        status, body = self.json2(self.manager, "crm.handoff.route", "create", vals_list=[route])
        self.assertEqual(status, 200, body)
        self.assertEqual(Route.browse(body).to_team_id, other)
        menu = self.env.ref("crm_lead_handoff.crm_handoff_route_menu")
        for user, shown in ((self.manager, True), (self.salesperson, False)):
            visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            self.assertEqual(menu.id in visible, shown, user.login)
