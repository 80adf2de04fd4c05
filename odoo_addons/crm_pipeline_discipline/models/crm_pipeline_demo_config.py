from odoo import api, models
from odoo.fields import Command

from .crm_pipeline_demo_waterfall import MARKETER

# The demo's story (stages, reps, teams, products, sources, campaigns...) is funnel_metrics.demo_plan's
# DEMO_STORY; here are the details of the records that tell it, by the story's keys.
MANAGER = ("pd_manager", "Morgan Reyes")
# login -> name, activities and minutes per day (the rep's capacity in the team)
REPS = {
    "pd_rep_1": ("Alice Martin", 14, 360),
    "pd_rep_2": ("Bruno Keller", 10, 300),
    "pd_rep_3": ("Chloé Dubois", 25, 420),
    "pd_rep_4": ("Daniel Okafor", 20, 360),
    "pd_rep_5": ("Emma Lindqvist", 8, 240),
    "pd_rep_6": ("Farid Haddad", 6, 180),
}
# team key -> name, follow-up policy, stage setting
TEAMS = {
    "field": ("Field Sales", "enforce", "survey"),
    "inside": ("Inside Sales", "warn", "manual"),
    "partner": ("Partner Sales", "off", "manual"),
}
# the story's stages, then its won stage: xml id, sequence, stated probability (%)
STAGES = (
    ("crm.stage_lead1", 1, 10.0),
    ("crm.stage_lead2", 2, 30.0),
    ("crm.stage_lead3", 3, 60.0),
    ("crm.stage_lead4", 70, 100.0),
)
MEDIUMS = {"Website": "Website", "Referral": "Direct", "Trade fair": "Event", "Outbound": "Phone"}
CAMPAIGN_COSTS = {
    "Spring webinar series": 4_800.0,
    "Trade fair Hanover": 18_500.0,
    "Partner co-marketing": 7_200.0,
    "LinkedIn ads": 9_600.0,
}
# simulate_funnel's lost reasons -> crm.lost.reason names
LOST_REASON_NAMES = {
    "price": "Too expensive",
    "timing": "Bad timing",
    "competitor": "Chose a competitor",
    "no budget": "No budget",
}
# per open stage: the usual next activity and the alternative, as (type xml id, summary)
ACTIVITY_PLAN = (
    (("mail.mail_activity_data_call", "Discovery call"), ("mail.mail_activity_data_email", "Intro email")),
    (("mail.mail_activity_data_meeting", "Demo meeting"), ("mail.mail_activity_data_call", "Follow-up call")),
    (
        ("crm_activity_centric.mail_activity_type_send_quotation", "Send the quotation"),
        ("mail.mail_activity_data_call", "Negotiation call"),
    ),
)
# the timeline answers, one per story.timelines, the first story.timelines_in_time passing the gate
TIMELINES = ("Within 3 months", "3 to 6 months", "6 to 12 months", "No timeline yet")
# the customer events' phases -> their xml ids
PHASES = {
    "exploring": "crm_stage_survey.crm_decision_phase_exploring",
    "comparing": "crm_stage_survey.crm_decision_phase_comparing",
    "business_case": "crm_stage_survey.crm_decision_phase_business_case",
}


class CrmPipelineDemo(models.AbstractModel):
    """The configuration records of the demo pipeline (a few dozen: the ORM)."""

    _inherit = "crm.pipeline.demo"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    @api.model
    def _demo_logins(self):
        """The logins of the demo's users, the manager first."""
        return [MANAGER[0], *REPS, MARKETER[0]]

    @api.model
    def _create_configuration(self, story):
        """The teams, users, survey and its gates, tags, campaigns, sources, lost reasons, targets and SLA
        rules of ``story`` (a :class:`funnel_metrics.demo_plan.DemoStory`) in the current company, and
        the records the per-lead rows refer to.

        :return: dict of records: ``company``, ``stages`` (the story's, then the won stage), ``manager``,
            ``reps`` (in the story's order), ``rep_teams`` (each rep's team), ``survey``, ``gates`` (see
            :meth:`_create_survey`), ``teams`` (key -> team), ``tags`` (one per product), ``campaigns``,
            ``sources``, ``mediums`` (one per source), ``lost_reasons`` (in simulate_funnel's order),
            ``sla_rules``, ``activity_plan`` (per stage: (activity type, summary) per kind),
            ``phases`` (the story's phase keys -> decision phase, empty when deleted),
            ``followup_reason``
        """
        company = self.env.company
        stages = self._demo_stages(story)
        manager, reps = self._create_users(company, story)
        survey, gates = self._create_survey(stages, story)
        teams = self._create_teams(company, manager, reps, survey, story)
        tags = self._named("crm.tag", story.products, lambda name, index: {"name": name, "color": index + 1})
        campaigns = self.env["utm.campaign"].create(
            [
                {"title": title, "user_id": manager.id, "cost": CAMPAIGN_COSTS[title]}
                for title in story.campaigns
            ]
        )
        sources = self._named("utm.source", story.sources)
        mediums = self._named("utm.medium", [MEDIUMS[source] for source in story.sources])
        from funnel_metrics.simulate import LOST_REASONS  # noqa: PLC0415 - numpy and pandas are heavy

        lost_reasons = self._named("crm.lost.reason", [LOST_REASON_NAMES[code] for code in LOST_REASONS])
        self._create_targets(stages, teams, company)
        sla_rules = self._create_sla_rules(stages, teams, company)
        Activity = self.env["mail.activity.type"]
        plan = [
            [
                (self.env.ref(xmlid, raise_if_not_found=False) or Activity, summary)
                for xmlid, summary in options
            ]
            for options in ACTIVITY_PLAN
        ]
        phases = {
            step.phase: self.env.ref(PHASES[step.phase], raise_if_not_found=False)
            or self.env["crm.decision.phase"]
            for step in story.customer_events
        }
        reasons = self.env["crm.followup.reason"].search(
            ["|", ("company_id", "=", False), ("company_id", "=", company.id)], limit=1
        )
        if not reasons:
            reasons = self.env["crm.followup.reason"].create({"name": self.env._("Waiting for inbound")})
        return {
            "company": company,
            "stages": stages,
            "manager": manager,
            "reps": reps,
            "rep_teams": [teams[rep.team] for rep in story.reps],
            "survey": survey,
            "gates": gates,
            "teams": teams,
            "tags": tags,
            "campaigns": campaigns,
            "sources": sources,
            "mediums": mediums,
            "lost_reasons": lost_reasons,
            "sla_rules": sla_rules,
            "activity_plan": plan,
            "phases": phases,
            "followup_reason": reasons[:1],
        }

    @api.model
    def _demo_stages(self, story):
        """crm's New, Qualified, Proposition and Won stages (created when missing), with stated
        probabilities where none is set. Returns the four stages in that order."""
        Stage = self.env["crm.stage"]
        stages = Stage
        names = [*(stage.name for stage in story.stages), story.won_stage]
        for name, (xmlid, sequence, probability) in zip(names, STAGES, strict=True):
            stage = self.env.ref(xmlid, raise_if_not_found=False) or Stage.search(
                [("name", "=", name)], limit=1
            )
            if not stage:
                stage = Stage.create({"name": name, "sequence": sequence, "is_won": name == story.won_stage})
            if not stage.probability:
                stage.probability = probability
            stages |= stage
        return stages

    @api.model
    def _named(self, model, names, values=None):
        """The records of ``model`` with these names, in that order (created when missing)."""
        Model = self.env[model]
        records = Model
        for index, name in enumerate(names):
            record = Model.search([("name", "=", name)], limit=1)
            if not record:
                record = Model.create(values(name, index) if values else {"name": name})
            records |= record
        return records

    @api.model
    def _create_users(self, company, story):
        tz = company.partner_id.tz or "UTC"
        salesman = self.env.ref("sales_team.group_sale_salesman")
        # the manager configures the survey gates, which name the survey's questions and answers
        manager_groups = self.env.ref("sales_team.group_sale_manager") + self.env.ref(
            "survey.group_survey_user"
        )
        Users = self.env["res.users"].with_context(no_reset_password=True, mail_create_nolog=True)
        values = [
            {
                "login": login,
                "password": login,
                "name": name,
                "email": f"{login}@example.com",
                "tz": tz,
                "company_id": company.id,
                "company_ids": [Command.link(company.id)],
                "group_ids": [Command.set(groups.ids)],
            }
            for (login, name), groups in [
                (MANAGER, manager_groups),
                *(((rep.login, REPS[rep.login][0]), salesman) for rep in story.reps),
            ]
        ]
        users = Users.create(values)
        return users[0], users[1:]

    @api.model
    def _create_survey(self, stages, story):
        """The qualification survey of the story's survey team and its gates: Qualified needs the need
        confirmed and a budget of at least ``story.budget_gate``; Proposition also needs the decision maker
        and one of the first ``story.timelines_in_time`` timelines (under 6 months)."""
        yes_no = [Command.create({"value": self.env._("Yes")}), Command.create({"value": self.env._("No")})]
        survey = (
            self.env["survey.survey"]
            .with_context(mail_create_nolog=True)
            .create(
                {
                    "title": self.env._("Qualification: B2B deal"),
                    "access_mode": "token",
                    # one page: the rep reviews every answer the stages depend on at once
                    "questions_layout": "one_page",
                    "question_and_page_ids": [
                        Command.create(
                            {
                                "title": self.env._("Budget (EUR)"),
                                "question_type": "numerical_box",
                                "sequence": 1,
                            }
                        ),
                        Command.create(
                            {
                                "title": self.env._("Need confirmed?"),
                                "question_type": "simple_choice",
                                "sequence": 2,
                                "suggested_answer_ids": yes_no,
                            }
                        ),
                        Command.create(
                            {
                                "title": self.env._("Decision maker identified?"),
                                "question_type": "simple_choice",
                                "sequence": 3,
                                "suggested_answer_ids": yes_no,
                            }
                        ),
                        Command.create(
                            {
                                "title": self.env._("Timeline"),
                                "question_type": "simple_choice",
                                "sequence": 4,
                                "suggested_answer_ids": [
                                    Command.create({"value": timeline}) for timeline in TIMELINES
                                ],
                            }
                        ),
                    ],
                }
            )
        )
        budget, need, decider, timeline = survey.question_ids.sorted("sequence")
        yes = {question: question.suggested_answer_ids.sorted("sequence")[0] for question in (need, decider)}
        timelines = timeline.suggested_answer_ids.sorted("sequence")
        qualified, proposition = stages[1], stages[2]
        self.env["crm.stage.criterion"].create(
            [
                {"survey_id": survey.id, "stage_id": qualified.id, "question_id": need.id,
                 "answer_ids": [Command.set(yes[need].ids)]},
                {"survey_id": survey.id, "stage_id": qualified.id, "question_id": budget.id,
                 "has_minimum": True, "minimum": story.budget_gate},
                {"survey_id": survey.id, "stage_id": proposition.id, "question_id": decider.id,
                 "answer_ids": [Command.set(yes[decider].ids)]},
                {"survey_id": survey.id, "stage_id": proposition.id, "question_id": timeline.id,
                 "answer_ids": [Command.set(timelines[: story.timelines_in_time].ids)]},
            ]
        )  # fmt: skip
        gates = {
            "budget": budget,
            "need": need,
            "decider": decider,
            "timeline": timeline,
            # per question: the answer ids [yes, no] / the timelines in order
            "need_answers": need.suggested_answer_ids.sorted("sequence").ids,
            "decider_answers": decider.suggested_answer_ids.sorted("sequence").ids,
            "timeline_answers": timelines.ids,
        }
        return survey, gates

    @api.model
    def _create_teams(self, company, manager, reps, survey, story):
        Team = self.env["crm.team"].with_context(mail_create_nolog=True)
        teams = {}
        for key, (name, policy, setting) in TEAMS.items():
            members = [(user, rep) for user, rep in zip(reps, story.reps, strict=True) if rep.team == key]
            teams[key] = Team.create(
                {
                    "name": name,
                    "company_id": company.id,
                    "user_id": manager.id,
                    "followup_policy": policy,
                    "stage_setting": setting,
                    "qualification_survey_id": survey.id if setting == "survey" else False,
                    "crm_team_member_ids": [
                        Command.create(
                            {
                                "user_id": user.id,
                                "activity_daily_capacity": REPS[rep.login][1],
                                "activity_daily_minutes": REPS[rep.login][2],
                            }
                        )
                        for user, rep in members
                    ],
                }
            )
        return teams

    @api.model
    def _create_targets(self, stages, teams, company):
        """Stage targets for every team where none exists yet, and a tighter one for Field Sales."""
        Target = self.env["crm.stage.target"]
        wanted = [
            (stages[0], False, 60.0, 10.0),
            (stages[1], False, 55.0, 21.0),
            (stages[2], False, 60.0, 30.0),
            (stages[1], teams["field"].id, 60.0, 14.0),
        ]
        values = []
        for stage, team_id, rate, days in wanted:
            if not Target.search_count(
                [
                    ("stage_id", "=", stage.id),
                    ("team_id", "=", team_id),
                    ("user_id", "=", False),
                    ("product_tag_id", "=", False),
                    ("company_id", "in", [company.id, False]),
                ]
            ):
                values.append(
                    {
                        "stage_id": stage.id,
                        "team_id": team_id,
                        "company_id": company.id,
                        "target_conversion_rate": rate,
                        "target_days_in_stage": days,
                    }
                )
        Target.create(values)

    @api.model
    def _create_sla_rules(self, stages, teams, company):
        """Three active sample rules on the demo teams (they are not run here)."""
        nurture = self.env.ref("crm_sla_rules.crm_tag_sla_nurture", raise_if_not_found=False)
        return self.env["crm.sla.rule"].create(
            [
                {
                    "name": self.env._("New opportunity untouched 4 business days: reassign"),
                    "sequence": 10,
                    "team_ids": [Command.set([teams["field"].id, teams["inside"].id])],
                    "company_ids": [Command.set(company.ids)],
                    "lead_type": "opportunity",
                    "stage_ids": [Command.set(stages[0].ids)],
                    "clock": "last_action",
                    "threshold": 4,
                    "unit": "business_days",
                    "warning_before": 1,
                    "action": "reassign",
                    "reassign_mode": "round_robin",
                },
                {
                    "name": self.env._("Qualified lead stale 10 business days: back to marketing"),
                    "sequence": 20,
                    "team_ids": [Command.set([teams["inside"].id])],
                    "company_ids": [Command.set(company.ids)],
                    "lead_type": "opportunity",
                    "stage_ids": [Command.set(stages[1].ids)],
                    "clock": "stage_entry",
                    "threshold": 10,
                    "unit": "business_days",
                    "warning_before": 2,
                    "action": "return_to_marketing",
                    "tag_ids": [Command.set(nurture.ids if nurture else [])],
                },
                {
                    "name": self.env._("Partner deal not moved in 60 days: pull back"),
                    "sequence": 30,
                    "team_ids": [Command.set([teams["partner"].id])],
                    "company_ids": [Command.set(company.ids)],
                    "lead_type": "both",
                    "clock": "stage_entry",
                    "threshold": 60,
                    "unit": "days",
                    "warning_before": 7,
                    "warning_mode": "message",
                    "action": "pull_back",
                    "target_team_id": teams["inside"].id,
                },
            ]
        )
