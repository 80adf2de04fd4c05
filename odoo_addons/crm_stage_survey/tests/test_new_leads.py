from odoo.tests import Form, TransactionCase, new_test_user, tagged

from .common import build_gated_pipeline


@tagged("post_install", "-at_install")
class TestNewLeadsOfSurveyTeams(TransactionCase):
    """A new lead has no answers yet: in a survey team it is created — whoever creates it and however — in
    the stage that no answers reach, never refused for its stage, with one stay there.

    Three survey teams share the pipeline New → Qualified → Proposal: ``cls.team`` (criteria on Qualified
    and Proposal: no answers reach New), ``cls.late_team`` (criteria on Proposal only: Qualified) and
    ``cls.bare_team`` (a survey without criteria yet: every open stage is reached, Proposal)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        build_gated_pipeline(cls, "NL")
        env = cls.env
        cls.manager = new_test_user(env, login="nl_manager", groups="sales_team.group_sale_manager")
        Survey, Question = env["survey.survey"], env["survey.question"]
        late_survey, bare_survey = Survey.create([{"title": "NL Late"}, {"title": "NL Bare"}])
        seats = Question.create(
            {"survey_id": late_survey.id, "title": "Seats", "question_type": "numerical_box"}
        )
        Question.create({"survey_id": bare_survey.id, "title": "Notes", "question_type": "char_box"})
        cls.late_team, cls.bare_team = env["crm.team"].create(
            [
                {"name": "NL Late", "stage_setting": "survey", "qualification_survey_id": late_survey.id},
                {"name": "NL Bare", "stage_setting": "survey", "qualification_survey_id": bare_survey.id},
            ]
        )
        stages = cls.stage_new | cls.stage_qualified | cls.stage_proposal | cls.stage_won
        stages.team_ids |= cls.late_team | cls.bare_team
        env["crm.stage.criterion"].create(
            {
                "stage_id": cls.stage_proposal.id,
                "survey_id": late_survey.id,
                "question_id": seats.id,
                "has_minimum": True,
                "minimum": 10,
            }
        )
        env["crm.team.member"].create(
            [{"crm_team_id": team.id, "user_id": cls.rep.id} for team in (cls.late_team, cls.bare_team)]
        )
        cls.entry = {
            cls.team: cls.stage_new,
            cls.late_team: cls.stage_qualified,
            cls.bare_team: cls.stage_proposal,
        }

    def assertStartsIn(self, lead, stage, origin="create"):
        self.assertEqual(len(lead), 1, "the lead was created")
        self.assertEqual(lead.stage_id, stage)
        self.assertEqual(lead.stage_history_ids.stage_id, stage, "its only stay is there, no detour")
        self.assertEqual(lead.stage_history_ids.origin, origin)

    def test_create_by_every_user(self):
        """crm gives a new lead its team's first stage: that is nobody's choice and is never refused."""
        users = {"salesperson": self.rep, "manager": self.manager, "administrator": self.env.user}
        for team, stage in self.entry.items():
            for role, user in users.items():
                with self.subTest(team=team.name, user=role):
                    lead = (
                        self.env["crm.lead"]
                        .with_user(user)
                        .create({"name": f"Inquiry {role}", "type": "opportunity", "team_id": team.id})
                    )
                    self.assertStartsIn(lead, stage)

    def test_a_stage_asked_for_is_not_kept(self):
        """A stage in the values, in a kanban column's default or in the team's default does not put a lead
        without answers further (or back): it starts where its answers are."""
        Lead = self.env["crm.lead"].with_user(self.rep)
        for team, stage in self.entry.items():
            with self.subTest(team=team.name):
                self.assertStartsIn(
                    Lead.create({"name": "Asked", "team_id": team.id, "stage_id": self.stage_new.id}), stage
                )
                quick = Lead.with_context(default_team_id=team.id, default_stage_id=self.stage_proposal.id)
                self.assertStartsIn(quick.create({"name": "Quick", "type": "opportunity"}), stage)
                # winning needs the last gate (the teams' default): a won stage is no start, unless no
                # answers pass every gate (a survey without criteria)
                won = Lead.create({"name": "Won at once", "team_id": team.id, "stage_id": self.stage_won.id})
                self.assertEqual(won.stage_id, self.stage_won if team == self.bare_team else stage)

    def test_won_at_creation_where_winning_needs_no_gate(self):
        self.team.survey_won_gate = False
        lead = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .create({"name": "Signed already", "team_id": self.team.id, "stage_id": self.stage_won.id})
        )
        self.assertEqual(lead.stage_id, self.stage_won)

    def test_form_and_kanban_quick_create(self):
        """The form and the kanban's quick create (``web_save`` with the column's stage) as the rep."""
        Lead = self.env["crm.lead"].with_user(self.rep)
        for team, stage in self.entry.items():
            with self.subTest(team=team.name):
                with Form(Lead.with_context(default_team_id=team.id, default_type="opportunity")) as form:
                    form.name = "Typed in"
                self.assertStartsIn(form.record, stage)
                saved = Lead.with_context(default_stage_id=self.stage_new.id).web_save(
                    {"name": "Quick in New", "team_id": team.id, "stage_id": self.stage_new.id},
                    specification={"stage_id": {}},
                )
                self.assertStartsIn(Lead.browse(saved[0]["id"]), stage)

    def test_import_mail_gateway_and_website_never_lose_a_lead(self):
        """Leads that arrive by themselves: an import row with any stage, a mail through the team's alias
        (superuser, no stage given), a batch of an integration."""
        Lead = self.env["crm.lead"].with_user(self.rep).with_context(import_file=True)
        self.env["ir.model.data"].create(
            [
                {
                    "module": "__import__",
                    "name": "nl_proposal",
                    "model": "crm.stage",
                    "res_id": self.stage_proposal.id,
                },
                {"module": "__import__", "name": "nl_team", "model": "crm.team", "res_id": self.team.id},
            ]
        )
        result = Lead.load(
            ["name", "team_id/id", "stage_id/id"],
            [
                ["Imported 1", "__import__.nl_team", "__import__.nl_proposal"],
                ["Imported 2", "__import__.nl_team", ""],
            ],
        )
        self.assertEqual(len(result["ids"]), 2, result["messages"])
        for lead in self.env["crm.lead"].browse(result["ids"]):
            self.assertStartsIn(lead, self.stage_new, origin="import")
        for team, stage in self.entry.items():
            with self.subTest(team=team.name):
                # sudo: the mail gateway creates leads as the superuser, with the alias's defaults
                mailed = (
                    self.env["crm.lead"]
                    .sudo()
                    .message_new(
                        {"subject": f"Quote please {team.name}", "from": "buyer@example.com", "body": "Hi"},
                        custom_values={"team_id": team.id, "type": "opportunity"},
                    )
                )
                self.assertStartsIn(mailed, stage)
        batch = (
            self.env["crm.lead"]
            .with_user(self.manager)
            .create([{"name": f"Batch {team.name}", "team_id": team.id} for team in self.entry])
        )
        self.assertEqual([lead.stage_id for lead in batch], list(self.entry.values()))

    def test_team_from_the_salesperson(self):
        """No team in the values: crm takes the salesperson's team; the lead is then put where it belongs."""
        self.env["crm.team.member"].search([("user_id", "=", self.rep.id)]).filtered(
            lambda member: member.crm_team_id != self.late_team
        ).unlink()
        lead = self.env["crm.lead"].with_user(self.rep).create({"name": "Mine", "user_id": self.rep.id})
        self.assertEqual(lead.team_id, self.late_team)
        self.assertEqual(lead.stage_id, self.stage_qualified)

    def test_superuser_data_fix_keeps_its_stage(self):
        lead = (
            self.env["crm.lead"]
            .sudo()
            .create({"name": "Data fix", "team_id": self.team.id, "stage_id": self.stage_proposal.id})
        )
        self.assertEqual(lead.stage_id, self.stage_proposal)
