from lxml import etree
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

# every configuration screen the settings section must reach, by the model it opens
CONFIGURATION_MODELS = {
    "crm.team",  # capabilities per team
    "crm.followup.reason",
    "crm.activity.chain",
    "crm.team.member",  # activity capacities
    "crm.stage.criterion",
    "survey.survey",
    "crm.decision.phase",
    "crm.decision.phase.trigger",
    "crm.document.tag",
    "crm.sla.rule",
    "crm.sla.event",
    "crm.stage.target",
    "crm.stage.calibration",
    "utm.campaign",
    "crm.campaign.cost.report",
    "crm.stage.funnel.report",
    "crm.handoff.route",
    "crm.handoff.reject.reason",
    "crm.lifecycle.phase",
    "crm.lifecycle.phase.target",
    "crm.waterfall.report.form",
}


@tagged("post_install", "-at_install")
class TestPipelineSettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            login="pd_settings_admin",
            groups="base.group_system,sales_team.group_sale_manager,survey.group_survey_user",
        )
        cls.manager = new_test_user(
            cls.env, login="pd_settings_manager", groups="sales_team.group_sale_manager"
        )
        cls.salesperson = new_test_user(
            cls.env, login="pd_settings_salesperson", groups="sales_team.group_sale_salesman"
        )
        # the counts cover every active team and rule: start from none but ours
        cls.env["crm.team"].search([]).write({"active": False})
        cls.env["crm.sla.rule"].search([]).write({"active": False})
        cls.survey = cls.env["survey.survey"].create({"title": "PD Qualification", "access_mode": "token"})
        Team = cls.env["crm.team"]
        cls.enforce_team = Team.create({"name": "PD Enforce", "followup_policy": "enforce"})
        cls.warn_team = Team.create({"name": "PD Warn", "followup_policy": "warn"})
        cls.off_team = Team.create({"name": "PD Off", "followup_policy": "off"})
        cls.survey_team = Team.create(
            {"name": "PD Survey", "stage_setting": "survey", "qualification_survey_id": cls.survey.id}
        )
        cls.manual_team = Team.create({"name": "PD Manual"})
        Rule = cls.env["crm.sla.rule"]
        base = {"clock": "create", "threshold": 2, "unit": "days", "action": "archive", "lead_type": "both"}
        cls.rule_enforce = Rule.create(
            {**base, "name": "PD Enforce only", "team_ids": [(6, 0, cls.enforce_team.ids)]}
        )
        cls.rule_all = Rule.create({**base, "name": "PD Every team"})
        cls.rule_warn = Rule.create({**base, "name": "PD Warn only", "team_ids": [(6, 0, cls.warn_team.ids)]})
        cls.rule_inactive = Rule.create(
            {**base, "name": "PD Inactive", "active": False, "team_ids": [(6, 0, cls.enforce_team.ids)]}
        )

    def _settings(self):
        """The settings form as an administrator opens it."""
        return Form(self.env["res.config.settings"].with_user(self.admin))

    def test_summaries_follow_the_teams(self):
        settings = self._settings()
        self.assertEqual(settings.pipeline_followup_summary, "2 of 5 teams (1 enforce, 1 warn)")
        self.assertEqual(settings.pipeline_survey_summary, "1 team")
        self.assertEqual(settings.pipeline_sla_summary, "3 active")

        self.enforce_team.with_user(self.manager).followup_policy = "off"
        self.manual_team.with_user(self.manager).write(
            {"stage_setting": "survey", "qualification_survey_id": self.survey.id}
        )
        self.rule_warn.active = False
        settings = self._settings()
        self.assertEqual(settings.pipeline_followup_summary, "1 of 5 teams (0 enforce, 1 warn)")
        self.assertEqual(settings.pipeline_survey_summary, "2 teams")
        self.assertEqual(settings.pipeline_sla_summary, "2 active")

        (self.warn_team | self.survey_team | self.manual_team).write(
            {"followup_policy": "off", "stage_setting": "manual"}
        )
        self.env["crm.sla.rule"].search([]).write({"active": False})
        settings = self._settings()
        self.assertEqual(settings.pipeline_followup_summary, "Off in every team (5)")
        self.assertEqual(settings.pipeline_survey_summary, "None: every team moves its leads by hand")
        self.assertEqual(settings.pipeline_sla_summary, "None active")

    def test_handoff_summary_counts_active_routes(self):
        self.env["crm.handoff.route"].search([]).write({"active": False})
        self.assertEqual(self._settings().pipeline_handoff_summary, "None: no handoffs, no lifecycle phases")
        Route = self.env["crm.handoff.route"]
        base = {
            "to_kind": "team",
            "to_team_id": self.warn_team.id,
            "from_team_ids": [(6, 0, self.off_team.ids)],
            "from_phase_id": self.env.ref("crm_lead_handoff.crm_lifecycle_phase_mql").id,
            "accept_phase_id": self.env.ref("crm_lead_handoff.crm_lifecycle_phase_sal").id,
        }
        first = Route.create({**base, "name": "PD Marketing to Inside"})
        self.assertEqual(
            self._settings().pipeline_handoff_summary, "1 active route: lifecycle phases recorded"
        )
        Route.create({**base, "name": "PD Inside to Field", "to_team_id": self.enforce_team.id})
        self.assertEqual(
            self._settings().pipeline_handoff_summary, "2 active routes: lifecycle phases recorded"
        )
        first.active = False
        self.assertEqual(
            self._settings().pipeline_handoff_summary, "1 active route: lifecycle phases recorded"
        )

    def test_history_summary_counts_stays(self):
        History = self.env["crm.lead.stage.history"]
        stays, leads = History.search_count([]), len(History.search([]).lead_id)
        self.assertEqual(
            self._settings().pipeline_history_summary, f"Recording: {stays} stays of {leads} leads"
        )
        stages = self.env["crm.stage"].search([("is_won", "=", False)], limit=2)
        lead = self.env["crm.lead"].create(
            {"name": "PD lead", "type": "opportunity", "team_id": self.off_team.id, "stage_id": stages[0].id}
        )
        lead.stage_id = stages[1]
        self.assertEqual(
            self._settings().pipeline_history_summary, f"Recording: {stays + 2} stays of {leads + 1} leads"
        )

    def test_sla_rule_count_per_team(self):
        teams = self.enforce_team | self.warn_team | self.off_team
        counts = {team.name: team.sla_rule_count for team in teams.with_user(self.salesperson)}
        self.assertEqual(counts, {"PD Enforce": 2, "PD Warn": 2, "PD Off": 1})
        action = self.enforce_team.with_user(self.salesperson).action_view_sla_rules()
        self.assertEqual(action["res_model"], "crm.sla.rule")
        shown = self.env["crm.sla.rule"].with_context(active_test=False).search(action["domain"])
        self.assertEqual(shown, self.rule_enforce | self.rule_all)

    def test_capabilities_action_opens_the_bundle_list(self):
        action = self.env["ir.actions.actions"]._for_xml_id(
            "crm_pipeline_discipline.crm_team_action_pipeline_capabilities"
        )
        view = self.env.ref("crm_pipeline_discipline.crm_team_view_list_pipeline_capabilities")
        self.assertEqual(action["res_model"], "crm.team")
        self.assertEqual(action["views"], [(view.id, "list")])
        for user, editable in ((self.manager, True), (self.salesperson, False)):
            arch = etree.fromstring(
                self.env["crm.team"].with_user(user).get_views(action["views"])["views"]["list"]["arch"]
            )
            self.assertEqual(arch.get("editable"), "bottom")
            self.assertEqual(arch.get("edit") != "False", editable, user.login)
            shown = {field.get("name") for field in arch.iter("field")}
            self.assertLessEqual(
                {
                    "followup_policy",
                    "stage_setting",
                    "qualification_survey_id",
                    "survey_won_gate",
                    "sla_rule_count",
                },
                shown,
            )

    def test_manager_switches_salesperson_cannot(self):
        self.off_team.with_user(self.manager).write({"followup_policy": "enforce"})
        self.assertEqual(self.off_team.followup_policy, "enforce")
        with self.assertRaises(AccessError):
            self.warn_team.with_user(self.salesperson).write({"followup_policy": "off"})
        self.assertEqual(self.warn_team.followup_policy, "warn")

    def test_survey_team_needs_a_survey(self):
        with self.assertRaisesRegex(
            ValidationError, "“PD Manual” sets its stages by survey: choose its qualification"
        ):
            self.manual_team.with_user(self.manager).write({"stage_setting": "survey"})

    def test_every_button_opens_a_screen(self):
        arch = etree.fromstring(self.env.ref("crm_pipeline_discipline.res_config_settings_view_form").arch)
        buttons = arch.xpath("//button[@type='action']")
        self.assertEqual(
            len(buttons), len({button.get("name") for button in buttons}), "a screen is linked twice"
        )
        models = set()
        for button in buttons:
            action = self.env["ir.actions.act_window"].browse(int(button.get("name"))).exists()
            self.assertTrue(action, f"the button “{button.get('string')}” opens a deleted action")
            values = action.with_user(self.admin)._get_action_dict()
            Model = self.env[values["res_model"]].with_user(self.admin)
            self.assertTrue(Model.has_access("read"), values["res_model"])
            self.assertTrue(Model.get_views(values["views"])["views"], button.get("string"))
            models.add(values["res_model"])
        self.assertEqual(models, CONFIGURATION_MODELS)

    def test_settings_form_shows_the_block_first(self):
        arch = etree.fromstring(
            self.env["res.config.settings"]
            .with_user(self.admin)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        crm_blocks = arch.xpath("//app[@name='crm']/block")
        self.assertEqual(crm_blocks[0].get("name"), "crm_pipeline_discipline_setting_container")
        self.assertEqual(crm_blocks[0].get("title"), "Pipeline Discipline")
