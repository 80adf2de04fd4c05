import time

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL

MIN_LEADS, MAX_LEADS = 100, 200_000
MIN_MONTHS, MAX_MONTHS = 1, 36
PAGE = 25_000  # rows per INSERT: a few MB of query text at most
MANAGER = ("pd_manager", "Morgan Reyes")
# login, name, team key, skill (multiplier on the advance probabilities), activities and minutes per day
REPS = (
    ("pd_rep_1", "Alice Martin", "field", 1.25, 14, 360),
    ("pd_rep_2", "Bruno Keller", "field", 0.8, 10, 300),
    ("pd_rep_3", "Chloé Dubois", "inside", 1.1, 25, 420),
    ("pd_rep_4", "Daniel Okafor", "inside", 0.9, 20, 360),
    ("pd_rep_5", "Emma Lindqvist", "partner", 1.0, 8, 240),
    ("pd_rep_6", "Farid Haddad", "partner", 0.7, 6, 180),
)
# key, name, follow-up policy, stage setting
TEAMS = (
    ("field", "Field Sales", "enforce", "survey"),
    ("inside", "Inside Sales", "warn", "manual"),
    ("partner", "Partner Sales", "off", "manual"),
)
# xml id, name, sequence, stated probability (%), advance probability, median days in the stage
STAGES = (
    ("crm.stage_lead1", "New", 1, 10.0, 0.6, 7.0),
    ("crm.stage_lead2", "Qualified", 2, 30.0, 0.55, 14.0),
    ("crm.stage_lead3", "Proposition", 3, 60.0, 0.6, 21.0),
)
WON_STAGE = ("crm.stage_lead4", "Won", 70)
SKIP_PROBABILITY = 0.05
STUCK_SHARE, STUCK_FACTOR = 0.06, 8.0
PRODUCTS = ("Starter", "Business", "Enterprise")  # a crm.tag each
SOURCES = (("Website", "Website"), ("Referral", "Direct"), ("Trade fair", "Event"), ("Outbound", "Phone"))
CAMPAIGNS = (  # title, cost
    ("Spring webinar series", 4_800.0),
    ("Trade fair Hanover", 18_500.0),
    ("Partner co-marketing", 7_200.0),
    ("LinkedIn ads", 9_600.0),
)
# simulate_funnel's lost reasons -> crm.lost.reason names
LOST_REASONS = {
    "price": "Too expensive",
    "timing": "Bad timing",
    "competitor": "Chose a competitor",
    "no budget": "No budget",
}
# share of the open leads of each team without any activity: (no reason at all, a no-follow-up reason)
FOLLOWUP_GAPS = {"field": (0.0, 0.05), "inside": (0.1, 0.03), "partner": (0.35, 0.05)}
# due date of the open activities, days from now: (share, first day, last day)
DUE_BUCKETS = ((0.12, -25, -6), (0.18, -5, -1), (0.12, 0, 0), (0.53, 1, 14), (0.05, 60, 150))
# per stage: the usual next activity and the alternative (3 in 10), as (type xml id, summary)
ACTIVITY_PLAN = (
    (("mail.mail_activity_data_call", "Discovery call"), ("mail.mail_activity_data_email", "Intro email")),
    (("mail.mail_activity_data_meeting", "Demo meeting"), ("mail.mail_activity_data_call", "Follow-up call")),
    (
        ("crm_activity_centric.mail_activity_type_send_quotation", "Send the quotation"),
        ("mail.mail_activity_data_call", "Negotiation call"),
    ),
)
BUDGET_GATE = 10_000.0
TIMELINES = ("Within 3 months", "3 to 6 months", "6 to 12 months", "No timeline yet")
NEVER_QUALIFIED = 0.35  # share of the Field Sales leads in New without any answers yet
# customer events of Field Sales leads, in the order of the buying process: event type, description,
# decision phase (xml id, under crm_stage_survey), stage index the lead must have entered, share, days after
CUSTOMER_EVENTS = (
    ("email_received", "Question about integrations", "crm_decision_phase_exploring", 0, 0.6, 1),
    ("document_opened", "Price list 2025", "crm_decision_phase_comparing", 1, 0.7, 2),
    ("survey_completed", "Requirements questionnaire", "crm_decision_phase_business_case", 2, 0.5, 1),
)
COMPANY_WORDS = (
    (
        "Blue", "Bright", "North", "Silver", "Green", "Swift", "Prime", "Stone", "Clear", "Urban",
        "Alpine", "Coastal",
    ),
    (
        "Harbor", "Ridge", "Field", "Bridge", "River", "Summit", "Forge", "Grove", "Valley", "Point",
        "Crest", "Works",
    ),
    (
        "Logistics", "Foods", "Clinics", "Robotics", "Textiles", "Energy", "Studios", "Labs", "Retail",
        "Motors",
    ),
)  # fmt: skip
FIRST_NAMES = (
    "Anna", "Ben", "Carla", "David", "Elena", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kara", "Liam",
    "Maya", "Noah", "Olga", "Paul",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Costa", "Evans", "Fischer", "Garcia", "Horvat", "Jensen", "Lopez", "Meyer", "Novak",
    "Olsen", "Rossi", "Weber",
)  # fmt: skip


class CrmPipelineDemo(models.AbstractModel):
    """A demo pipeline that tells the story of the four addons: teams with their policies, reps with
    capacities, a qualification survey with gates, months of stage history, activities, customer events,
    campaigns with costs, stage targets and SLA rules. Deterministic from a seed; per-lead volumes are
    written with set-based INSERTs, every column (stored computed ones included) given at insert."""

    _name = "crm.pipeline.demo"
    _description = "Demo Pipeline Generator"

    @api.model
    def _generate(self, leads=2000, seed=42, months=6, now=None):
        """Generate the demo pipeline in the current company.

        :param int leads: number of leads, 100 to 200,000
        :param int seed: the same seed and ``now`` give the same data
        :param int months: months of history before ``now``, 1 to 36
        :param datetime now: naive UTC; everything is dated relative to it (default: now)
        :return: dict ``teams`` (key -> id), ``manager``, ``reps`` (ids in login order), ``survey``,
            ``sla_rules``, ``campaigns`` (ids), ``leads``, ``stays``, ``activities``, ``customer_events``
            (counts) and ``seconds``
        :raise UserError: not an administrator, sizes out of range, a demo pipeline already there
        """
        started = time.monotonic()
        self._check_request(leads, months)
        now = (now or fields.Datetime.now()).replace(microsecond=0)
        import numpy as np  # noqa: PLC0415 - numpy and pandas are heavy: load them when asked for

        config = self._create_configuration()
        pipeline = self._simulate(leads, int(seed), months, now)
        rng = np.random.default_rng([int(seed), 1])  # everything but the funnel itself
        followup = self._plan_followup(pipeline, rng)
        answers = self._plan_answers(pipeline, rng)
        events = self._plan_customer_events(pipeline, config, rng, now)
        lead_ids = self._insert_leads(pipeline, config, followup, events, rng, now)
        stays = self._insert_stays(pipeline, config, lead_ids)
        self._insert_answers(pipeline, config, answers, lead_ids)
        activities = self._insert_activities(pipeline, config, followup, lead_ids, now)
        event_count = self._insert_customer_events(events, lead_ids)
        self.env.invalidate_all()
        return {
            "teams": {key: team.id for key, team in config["teams"].items()},
            "manager": config["manager"].id,
            "reps": config["reps"].ids,
            "survey": config["survey"].id,
            "sla_rules": config["sla_rules"].ids,
            "campaigns": config["campaigns"].ids,
            "leads": len(lead_ids),
            "stays": stays,
            "activities": activities,
            "customer_events": event_count,
            "seconds": round(time.monotonic() - started, 3),
        }

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------

    @api.model
    def _generated(self):
        """Whether this database already holds a generated demo pipeline (its users exist)."""
        logins = [MANAGER[0], *(rep[0] for rep in REPS)]
        users = self.env["res.users"].with_context(active_test=False)
        return bool(users.search_count([("login", "in", logins)]))

    @api.model
    def _check_request(self, leads, months):
        if not self.env.is_system():
            raise UserError(self.env._("Only an administrator can generate the demo pipeline."))
        if not isinstance(leads, int) or not MIN_LEADS <= leads <= MAX_LEADS:
            raise UserError(
                self.env._(
                    "The demo pipeline holds %(low)s to %(high)s leads, not %(leads)s: choose a size in "
                    "that range.",
                    low=MIN_LEADS,
                    high=MAX_LEADS,
                    leads=leads,
                )
            )
        if not isinstance(months, int) or not MIN_MONTHS <= months <= MAX_MONTHS:
            raise UserError(
                self.env._(
                    "The demo history covers %(low)s to %(high)s months, not %(months)s: choose a number of "
                    "months in that range.",
                    low=MIN_MONTHS,
                    high=MAX_MONTHS,
                    months=months,
                )
            )
        if self._generated():
            logins = [MANAGER[0], *(rep[0] for rep in REPS)]
            raise UserError(
                self.env._(
                    "This database already holds a generated demo pipeline (its users %(logins)s exist). "
                    "Generate it into a fresh database instead: create one, install crm_pipeline_discipline "
                    "and run “odoo pipeline_demo -d <new database>” (or “make demo” with DEMO_RESET=1).",
                    logins=", ".join(logins[:2]) + "…",
                )
            )

    # ------------------------------------------------------------------
    # Configuration records (a few dozen: the ORM)
    # ------------------------------------------------------------------

    @api.model
    def _create_configuration(self):
        company = self.env.company
        stages = self._demo_stages()
        manager, reps = self._create_users(company)
        survey, gates = self._create_survey(stages)
        teams = self._create_teams(company, manager, reps, survey)
        tags = self._named("crm.tag", PRODUCTS, lambda name, index: {"name": name, "color": index + 1})
        campaigns = self.env["utm.campaign"].create(
            [{"title": title, "user_id": manager.id, "cost": cost} for title, cost in CAMPAIGNS]
        )
        sources = self._named("utm.source", [source for source, _medium in SOURCES])
        mediums = self._named("utm.medium", [medium for _source, medium in SOURCES])
        lost_reasons = self._named("crm.lost.reason", list(LOST_REASONS.values()))
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
        phases = [
            self.env.ref(f"crm_stage_survey.{event[2]}", raise_if_not_found=False)
            for event in CUSTOMER_EVENTS
        ]
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
            "rep_teams": [teams[rep[2]] for rep in REPS],
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
            "lead_model_id": self.env["ir.model"]._get_id("crm.lead"),
        }

    @api.model
    def _demo_stages(self):
        """crm's New, Qualified, Proposition and Won stages (created when missing), with stated
        probabilities where none is set. Returns the four stages in that order."""
        Stage = self.env["crm.stage"]
        stages = Stage
        for xmlid, name, sequence, probability, *_rates in (*STAGES, (*WON_STAGE, 100.0)):
            stage = self.env.ref(xmlid, raise_if_not_found=False) or Stage.search(
                [("name", "=", name)], limit=1
            )
            if not stage:
                stage = Stage.create({"name": name, "sequence": sequence, "is_won": name == WON_STAGE[1]})
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
    def _create_users(self, company):
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
                *(((rep[0], rep[1]), salesman) for rep in REPS),
            ]
        ]
        users = Users.create(values)
        return users[0], users[1:]

    @api.model
    def _create_survey(self, stages):
        """The qualification survey of Field Sales and its gates: Qualified needs the need confirmed and a
        budget of at least 10,000; Proposition also needs the decision maker and a timeline under 6 months."""
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
                 "has_minimum": True, "minimum": BUDGET_GATE},
                {"survey_id": survey.id, "stage_id": proposition.id, "question_id": decider.id,
                 "answer_ids": [Command.set(yes[decider].ids)]},
                {"survey_id": survey.id, "stage_id": proposition.id, "question_id": timeline.id,
                 "answer_ids": [Command.set(timelines[:2].ids)]},
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
    def _create_teams(self, company, manager, reps, survey):
        Team = self.env["crm.team"].with_context(mail_create_nolog=True)
        teams = {}
        for key, name, policy, setting in TEAMS:
            members = [(user, rep) for user, rep in zip(reps, REPS, strict=True) if rep[2] == key]
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
                                "activity_daily_capacity": rep[4],
                                "activity_daily_minutes": rep[5],
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

    # ------------------------------------------------------------------
    # The funnel
    # ------------------------------------------------------------------

    @api.model
    def _simulate(self, leads, seed, months, now):
        """The stays of the leads as numpy arrays (dates in epoch seconds), and per lead attributes."""
        import numpy as np  # noqa: PLC0415
        import pandas as pd  # noqa: PLC0415

        from funnel_metrics import simulate_funnel  # noqa: PLC0415

        end = pd.Timestamp(now, tz="UTC")
        frame, _truth = simulate_funnel(
            leads,
            stages=[stage[1] for stage in STAGES],
            advance=[stage[4] for stage in STAGES],
            median_days=[stage[5] for stage in STAGES],
            start=end - pd.Timedelta(days=round(months * 30.44)),
            end=end,
            snapshot=end,
            users=[rep[0] for rep in REPS],
            products=PRODUCTS,
            sources=[source for source, _medium in SOURCES],
            campaigns=[title for title, _cost in CAMPAIGNS],
            won_stage=WON_STAGE[1],
            skip_probability=SKIP_PROBABILITY,
            seed=seed,
            user_skill=[rep[3] for rep in REPS],
            stuck_share=STUCK_SHARE,
            stuck_factor=STUCK_FACTOR,
        )

        def seconds(column):
            values = frame[column].dt.tz_convert(None).to_numpy(dtype="datetime64[s]")
            return values.astype("int64"), np.isnat(values)

        def codes(column, names):
            return pd.Categorical(frame[column].astype(object), categories=list(names)).codes.astype("int64")

        lead = frame["lead_id"].to_numpy(dtype="int64") - 1  # 0-based, arrival order
        entered, _never = seconds("entered_at")
        left, running = seconds("left_at")
        stage = frame["stage_sequence"].to_numpy(dtype="int64") - 1  # 0..2, 3 = won
        last = np.r_[lead[1:] != lead[:-1], True]
        first = np.r_[True, lead[1:] != lead[:-1]]
        outcome = codes("outcome", ("won", "lost", "open"))[last]
        user = codes("user", [rep[0] for rep in REPS])[last]
        last_rows = np.flatnonzero(last)
        won = outcome == 0
        return {
            "n": leads,
            # per stay
            "lead": lead,
            "stage": stage,
            "entered": entered,
            "left": np.where(running, 0, left),
            "running": running,
            "first": first,
            "last": last,
            # per lead (rows of the last stays are in lead order)
            "created": entered[first],
            "last_stage": stage[last],
            "last_entered": entered[last],
            "last_left": left[last],
            "outcome": outcome,  # 0 won, 1 lost, 2 open
            "user": user,
            "team": np.array([rep[2] for rep in REPS])[user],
            "product": codes("product", PRODUCTS)[last],
            "source": codes("source", [source for source, _medium in SOURCES])[last],
            "campaign": codes("campaign", [title for title, _cost in CAMPAIGNS])[last],
            "revenue": frame["expected_revenue"].to_numpy(dtype="float64")[last],
            "lost_reason": codes("lost_reason", LOST_REASONS)[last],  # -1: not lost
            # highest open stage each lead reached (0..2): the answers and events follow it
            "reached": np.minimum(np.maximum.reduceat(stage, np.flatnonzero(first)), len(STAGES) - 1),
            # when each lead entered its last open (not won) stage: when its latest answers were given
            "qualified_at": np.where(won, entered[last_rows - won], entered[last_rows]),
        }

    # ------------------------------------------------------------------
    # What happens to each lead (numpy, drawn in a fixed order from the seed)
    # ------------------------------------------------------------------

    @api.model
    def _plan_followup(self, pipeline, rng):
        """Which open leads have a next activity (due when, of which kind) or a no-follow-up reason: in
        Field Sales all of them, in Inside Sales about one in ten has neither, in Partner Sales more."""
        import numpy as np  # noqa: PLC0415

        missing = np.array([FOLLOWUP_GAPS[key][0] for key in pipeline["team"]])
        excused = missing + np.array([FOLLOWUP_GAPS[key][1] for key in pipeline["team"]])
        draw = rng.random(pipeline["n"])
        is_open = pipeline["outcome"] == 2
        planned = np.flatnonzero(is_open & (draw >= excused))
        count = len(planned)
        shares = np.array([bucket[0] for bucket in DUE_BUCKETS])
        bucket = rng.choice(len(DUE_BUCKETS), count, p=shares / shares.sum())
        first_day = np.array([bucket_[1] for bucket_ in DUE_BUCKETS])[bucket]
        last_day = np.array([bucket_[2] for bucket_ in DUE_BUCKETS])[bucket]
        return {
            "with_reason": is_open & (draw >= missing) & (draw < excused),
            "planned": planned,
            "due": first_day + np.floor(rng.random(count) * (last_day - first_day + 1)).astype("int64"),
            "option": (rng.random(count) >= 0.7).astype("int64"),
        }

    @api.model
    def _plan_answers(self, pipeline, rng):
        """Qualification answers of the Field Sales leads that reach exactly the lead's stage: New leads
        fail the Qualified gate (or were never qualified), Qualified ones fail the Proposition gate, won
        leads pass the last gate, lost leads stay where they were lost. Answers as indexes: need and
        decision maker 0 = yes, 1 = no; timeline into TIMELINES."""
        import numpy as np  # noqa: PLC0415

        target = np.minimum(pipeline["last_stage"], len(STAGES) - 1)
        never = (target == 0) & (rng.random(pipeline["n"]) < NEVER_QUALIFIED)
        index = np.flatnonzero((pipeline["team"] == "field") & ~never)
        n, target = len(index), target[index]
        # Qualified gate: need confirmed and a budget of at least BUDGET_GATE
        no_need = (target == 0) & (rng.random(n) < 0.5)
        high = np.maximum(BUDGET_GATE, np.round(pipeline["revenue"][index] * rng.uniform(1.0, 1.6, n), -3))
        low = rng.integers(2, 10, n) * 1000.0
        budget = np.where(no_need, np.where(rng.random(n) < 0.5, low, high), np.where(target == 0, low, high))
        # Proposition gate: decision maker identified and a timeline among the first two
        no_decider = (target == 1) & (rng.random(n) < 0.5)
        decider = np.where(target == 2, 0, np.where(no_decider, 1, rng.integers(0, 2, n)))
        late = rng.integers(2, 4, n)
        timeline = np.where(
            target == 2,
            rng.integers(0, 2, n),
            np.where((target == 1) & ~no_decider, late, rng.integers(0, 4, n)),
        )
        return {
            "index": index,
            "budget": budget,
            "need": no_need.astype("int64"),
            "decider": decider,
            "timeline": timeline,
            "at": pipeline["qualified_at"][index] + 3600,  # an hour into the stay
        }

    @api.model
    def _plan_customer_events(self, pipeline, config, rng, now):
        """What the customers of some Field Sales leads did: an email (exploring), the price list opened
        once qualified (comparing vendors), the requirements questionnaire completed once in Proposition
        (building the business case); never after the lead was closed. Each event moves the lead's
        decision phase forward, as crm_stage_survey's phase triggers do; ``phase`` is the last one."""
        import numpy as np  # noqa: PLC0415

        n, lead, stage = pipeline["n"], pipeline["lead"], pipeline["stage"]
        outcome, stamp = pipeline["outcome"], int(now.timestamp())
        closed = np.where(
            outcome == 0, pipeline["last_entered"], np.where(outcome == 1, pipeline["last_left"], stamp)
        )
        limit = np.minimum(closed, stamp)
        previous = np.full(n, np.iinfo("int64").min // 2)
        phase = np.zeros(n, dtype="int64")
        parts = {"lead": [], "type": [], "description": [], "phase": [], "date": []}
        for (event_type, description, _xmlid, reached, share, days), record in zip(
            CUSTOMER_EVENTS, config["phases"], strict=True
        ):
            entry = np.full(n, np.iinfo("int64").max // 2)
            entered_it = stage >= reached
            np.minimum.at(entry, lead[entered_it], pipeline["entered"][entered_it])
            date = np.maximum(entry + days * 86400, previous + 3600)  # after the previous event
            chosen = (pipeline["team"] == "field") & (pipeline["reached"] >= reached) & (date <= limit)
            chosen &= rng.random(n) < share
            if not record:  # the phase was deleted: no trigger would fire
                continue
            index = np.flatnonzero(chosen)
            previous = np.where(chosen, date, previous)
            phase[index] = record.id
            parts["lead"].append(index)
            parts["type"] += [event_type] * len(index)
            parts["description"] += [description] * len(index)
            parts["phase"].append(np.full(len(index), record.id))
            parts["date"].append(date[index])
        return {
            "lead": np.concatenate(parts["lead"] or [np.empty(0, "int64")]),
            "type": parts["type"],
            "description": parts["description"],
            "phase_id": np.concatenate(parts["phase"] or [np.empty(0, "int64")]),
            "date": np.concatenate(parts["date"] or [np.empty(0, "int64")]),
            "phase": phase,
        }

    # ------------------------------------------------------------------
    # Per-lead volumes (set-based SQL)
    # ------------------------------------------------------------------

    @api.model
    def _reserve_ids(self, table, count):
        self.env.cr.execute(
            SQL("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", table, count)
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _insert_pages(self, query, arrays, **constants):
        """Run ``query`` (an SQL template with a placeholder per array, unnested, and per constant) on
        successive pages of the parallel ``arrays`` (dict name -> list); returns the rows inserted."""
        total = len(next(iter(arrays.values())))
        inserted = 0
        for start in range(0, total, PAGE):
            page = {name: values[start : start + PAGE] for name, values in arrays.items()}
            self.env.cr.execute(SQL(query, **page, **constants))
            inserted += self.env.cr.rowcount
        return inserted

    @api.model
    def _followup_states(self, pipeline, config, followup):
        """The stored follow-up state of each lead, decided by activity_centric as the addon does."""
        import numpy as np  # noqa: PLC0415

        from activity_centric import LeadFacts, followup_state  # noqa: PLC0415

        n = pipeline["n"]
        has_activity = np.zeros(n, dtype=bool)
        has_activity[followup["planned"]] = True
        folded = np.array(config["stages"].mapped("fold"))[pipeline["last_stage"]]
        facts = np.stack(
            [
                pipeline["outcome"] != 1,
                pipeline["outcome"] == 0,
                folded,
                followup["with_reason"],
                has_activity,
            ]
        ).T
        combos, inverse = np.unique(facts, axis=0, return_inverse=True)
        states = [
            followup_state(
                LeadFacts(
                    active=active, won=won, folded=fold, has_reason=reason, open_activities=int(planned)
                )
            )
            for active, won, fold, reason, planned in combos.tolist()
        ]
        return np.array(states, dtype=object)[inverse.ravel()]

    @api.model
    def _insert_leads(self, pipeline, config, followup, events, rng, now):
        """The leads, as crm leaves them: won ones in the won stage at 100 %, lost ones archived at 0 %
        with a lost reason. Stored computed columns are given here rather than filled afterwards (an
        UPDATE of 100,000 leads rewrites every row): the follow-up state decided by activity_centric,
        the last action at the last stage change (no messages or completed activities yet)."""
        import numpy as np  # noqa: PLC0415

        n = pipeline["n"]
        ids = self._reserve_ids("crm_lead", n)
        stages = config["stages"]
        user_ids, team_ids = np.array(config["reps"].ids), np.array([team.id for team in config["rep_teams"]])
        stage_probability = np.array(stages.mapped("probability"))
        outcome, last_stage, user = pipeline["outcome"], pipeline["last_stage"], pipeline["user"]
        won, lost, is_open = outcome == 0, outcome == 1, outcome == 2
        probability = np.where(won, 100.0, np.where(lost, 0.0, stage_probability[last_stage]))
        closed_at = np.where(won, pipeline["last_entered"], np.where(lost, pipeline["last_left"], 0))
        # new leads of the inside and partner teams are often still unqualified leads, not opportunities
        as_lead = is_open & (last_stage == 0) & (pipeline["team"] != "field") & (rng.random(n) < 0.3)
        # names: a company, a contact at it, the product of the deal
        company = np.array(COMPANY_WORDS[0], dtype=object)[rng.integers(0, len(COMPANY_WORDS[0]), n)]
        for words in COMPANY_WORDS[1:]:
            company = company + " " + np.array(words, dtype=object)[rng.integers(0, len(words), n)]
        first_name = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
        last_name = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
        email = np.array(
            [
                f"{first.lower()}.{last.lower()}@{name.lower().replace(' ', '')}.example.com"
                for first, last, name in zip(first_name, last_name, company, strict=True)
            ],
            dtype=object,
        )
        deadline = np.where(is_open, rng.integers(7, 91, n), -1)
        priority = rng.choice(np.array(["0", "1", "2", "3"]), n, p=[0.45, 0.3, 0.17, 0.08])
        source = pipeline["source"]
        arrays = {
            "id": ids,
            "name": (company + ": " + np.array(PRODUCTS, dtype=object)[pipeline["product"]]).tolist(),
            "type": np.where(as_lead, "lead", "opportunity").tolist(),
            "active": (~lost).tolist(),
            "user_id": user_ids[user].tolist(),
            "team_id": team_ids[user].tolist(),
            "stage_id": np.array(stages.ids)[last_stage].tolist(),
            "revenue": pipeline["revenue"].tolist(),
            "probability": probability.tolist(),
            "won_status": np.where(won, "won", np.where(lost, "lost", "pending")).tolist(),
            "lost_reason": np.where(
                lost, np.array(config["lost_reasons"].ids)[pipeline["lost_reason"]], 0
            ).tolist(),
            "created": pipeline["created"].tolist(),
            "stage_date": pipeline["last_entered"].tolist(),
            "closed": closed_at.tolist(),
            "deadline": deadline.tolist(),
            "partner_name": company.tolist(),
            "contact_name": (first_name + " " + last_name).tolist(),
            "email": email.tolist(),
            "priority": priority.tolist(),
            "campaign": np.array(config["campaigns"].ids)[pipeline["campaign"]].tolist(),
            "source": np.array(config["sources"].ids)[source].tolist(),
            "medium": np.array(config["mediums"].ids)[source].tolist(),
            "followup_state": self._followup_states(pipeline, config, followup).tolist(),
            "reason": np.where(followup["with_reason"], config["followup_reason"].id, 0).tolist(),
            "phase": events["phase"].tolist(),
        }
        self.env["crm.lead"].flush_model()
        self._insert_pages(
            """
            INSERT INTO crm_lead (
                id, name, type, active, user_id, team_id, company_id, stage_id, expected_revenue,
                prorated_revenue, recurring_revenue, recurring_revenue_monthly,
                recurring_revenue_monthly_prorated, recurring_revenue_prorated, probability,
                automated_probability, won_status, lost_reason_id, date_open, day_open, date_closed,
                day_close, date_last_stage_update, date_conversion, date_deadline, partner_name,
                contact_name, email_from, email_normalized, email_state, priority, color, campaign_id,
                source_id, medium_id, followup_state, no_followup_reason_id, decision_phase_id,
                sla_last_action_date, sla_owner_since, sla_team_since, create_uid, create_date, write_uid,
                write_date)
            SELECT v.id, v.name, v.type, v.active, v.user_id, v.team_id, %(company)s, v.stage_id, v.revenue,
                   round(v.revenue * v.probability::numeric / 100, 2), 0, 0, 0, 0, v.probability,
                   v.probability, v.won_status, NULLIF(v.lost_reason, 0), d.created, 0, d.closed,
                   EXTRACT(EPOCH FROM (d.closed - d.created)) / 86400.0, d.stage_date,
                   CASE WHEN v.type = 'opportunity' THEN d.created END,
                   CASE WHEN v.deadline >= 0 THEN %(today)s::date + v.deadline END,
                   v.partner_name, v.contact_name, v.email, v.email, 'correct', v.priority, 0,
                   v.campaign, v.source, v.medium, v.followup_state, NULLIF(v.reason, 0),
                   NULLIF(v.phase, 0), d.stage_date, d.created, d.created, v.user_id, d.created, v.user_id,
                   GREATEST(d.stage_date, d.closed)
              FROM unnest(
                    %(id)s::int[], %(name)s::varchar[], %(type)s::varchar[], %(active)s::bool[],
                    %(user_id)s::int[], %(team_id)s::int[], %(stage_id)s::int[], %(revenue)s::numeric[],
                    %(probability)s::float8[], %(won_status)s::varchar[], %(lost_reason)s::int[],
                    %(created)s::bigint[], %(stage_date)s::bigint[], %(closed)s::bigint[],
                    %(deadline)s::int[], %(partner_name)s::varchar[], %(contact_name)s::varchar[],
                    %(email)s::varchar[], %(priority)s::varchar[], %(campaign)s::int[], %(source)s::int[],
                    %(medium)s::int[], %(followup_state)s::varchar[], %(reason)s::int[], %(phase)s::int[]
                   ) AS v(id, name, type, active, user_id, team_id, stage_id, revenue, probability,
                          won_status, lost_reason, created, stage_date, closed, deadline, partner_name,
                          contact_name, email, priority, campaign, source, medium, followup_state, reason,
                          phase)
        CROSS JOIN LATERAL (
                   SELECT to_timestamp(v.created) AT TIME ZONE 'UTC' AS created,
                          to_timestamp(v.stage_date) AT TIME ZONE 'UTC' AS stage_date,
                          CASE WHEN v.closed > 0 THEN to_timestamp(v.closed) AT TIME ZONE 'UTC' END AS closed
                   ) d
            """,
            arrays,
            company=config["company"].id,
            today=now.date(),
        )
        self._insert_pages(
            "INSERT INTO crm_tag_rel (lead_id, tag_id) SELECT * FROM unnest(%(lead)s::int[], %(tag)s::int[])",
            {"lead": ids, "tag": np.array(config["tags"].ids)[pipeline["product"]].tolist()},
        )
        return np.array(ids, dtype="int64")

    @api.model
    def _insert_stays(self, pipeline, config, lead_ids):
        """One stage history row per stay, as crm_stage_history records them: the skipped stages by its
        own skip table, the first stay created, the later ones moved by hand or, in Field Sales, by the
        survey (winning is always by hand); the stay of a lost lead ends when it was lost, a stay in the
        won stage ends as it starts."""
        import numpy as np  # noqa: PLC0415

        stage_ids = np.array(config["stages"].ids)
        lead, stage, first = pipeline["lead"], pipeline["stage"], pipeline["first"]
        won_stay = stage == len(STAGES)
        field = (pipeline["team"] == "field")[lead]
        return self._insert_pages(
            """
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, previous_stage_id, date_in, date_out, is_current, duration_hours,
                user_id, team_id, company_id, changed_by_id, origin, skipped_stage_count, lead_type,
                expected_revenue, probability, create_uid, create_date, write_uid, write_date)
            SELECT l.id, ns.id, ps.id, s.date_in, s.date_out, s.date_out IS NULL,
                   EXTRACT(EPOCH FROM (s.date_out - s.date_in)) / 3600.0, l.user_id, l.team_id,
                   l.company_id, l.user_id, s.origin, COALESCE(k.n, 0), l.type, l.expected_revenue,
                   ns.probability, l.user_id, s.date_in, l.user_id, COALESCE(s.date_out, s.date_in)
              FROM (SELECT v.lead_id, v.stage_id, NULLIF(v.prev_id, 0) AS prev_id, v.origin,
                           to_timestamp(v.date_in) AT TIME ZONE 'UTC' AS date_in,
                           CASE WHEN v.date_out > 0 THEN to_timestamp(v.date_out) AT TIME ZONE 'UTC' END
                               AS date_out
                      FROM unnest(%(lead)s::int[], %(stage)s::int[], %(prev)s::int[], %(date_in)s::bigint[],
                                  %(date_out)s::bigint[], %(origin)s::varchar[])
                           AS v(lead_id, stage_id, prev_id, date_in, date_out, origin)
                   ) s
              JOIN crm_lead l ON l.id = s.lead_id
              JOIN crm_stage ns ON ns.id = s.stage_id
         LEFT JOIN crm_stage ps ON ps.id = s.prev_id
                   %(skip_join)s
            """,
            {
                "lead": lead_ids[lead].tolist(),
                "stage": stage_ids[stage].tolist(),
                "prev": np.where(first, 0, np.r_[0, stage_ids[stage[:-1]]]).tolist(),
                "date_in": pipeline["entered"].tolist(),
                "date_out": np.where(won_stay, pipeline["entered"], pipeline["left"]).tolist(),  # 0: current
                "origin": np.where(first, "create", np.where(field & ~won_stay, "survey", "manual")).tolist(),
            },
            skip_join=self.env["crm.lead.stage.history"]._skip_join(),
        )

    @api.model
    def _insert_answers(self, pipeline, config, answers, lead_ids):
        """The completed qualification of the Field Sales leads planned by :meth:`_plan_answers`."""
        import numpy as np  # noqa: PLC0415

        n, gates = len(answers["index"]), config["gates"]
        if not n:
            return 0
        input_ids = self._reserve_ids("survey_user_input", n)
        self._insert_pages(
            """
            INSERT INTO survey_user_input (
                id, survey_id, lead_id, state, access_token, test_entry, survey_first_submitted,
                is_session_answer, scoring_percentage, scoring_total, scoring_success, start_datetime,
                end_datetime, create_uid, create_date, write_uid, write_date)
            SELECT v.id, %(survey)s, v.lead_id, 'done', gen_random_uuid()::varchar, false, true, false,
                   0, 0, false, e.at - interval '10 minutes', e.at, l.user_id, e.at - interval '10 minutes',
                   l.user_id, e.at
              FROM unnest(%(id)s::int[], %(lead)s::int[], %(at)s::bigint[]) AS v(id, lead_id, at)
              JOIN crm_lead l ON l.id = v.lead_id
        CROSS JOIN LATERAL (SELECT to_timestamp(v.at) AT TIME ZONE 'UTC' AS at) e
            """,
            {"id": input_ids, "lead": lead_ids[answers["index"]].tolist(), "at": answers["at"].tolist()},
            survey=config["survey"].id,
        )
        questions = [gates["budget"], gates["need"], gates["decider"], gates["timeline"]]
        chosen = np.stack(
            [
                np.zeros(n, dtype="int64"),  # the budget is a number
                np.array(gates["need_answers"])[answers["need"]],
                np.array(gates["decider_answers"])[answers["decider"]],
                np.array(gates["timeline_answers"])[answers["timeline"]],
            ]
        )
        return self._insert_pages(
            """
            INSERT INTO survey_user_input_line (
                user_input_id, survey_id, question_id, question_sequence, skipped, answer_type,
                value_numerical_box, suggested_answer_id, answer_score, answer_is_correct, create_uid,
                create_date, write_uid, write_date)
            SELECT i.id, i.survey_id, v.question_id, v.sequence, false,
                   CASE WHEN v.answer_id = 0 THEN 'numerical_box' ELSE 'suggestion' END,
                   CASE WHEN v.answer_id = 0 THEN v.number END, NULLIF(v.answer_id, 0), 0, false,
                   i.create_uid, i.end_datetime, i.create_uid, i.end_datetime
              FROM unnest(%(input)s::int[], %(question)s::int[], %(sequence)s::int[], %(number)s::float8[],
                          %(answer)s::int[]) AS v(input_id, question_id, sequence, number, answer_id)
              JOIN survey_user_input i ON i.id = v.input_id
            """,
            {
                "input": np.tile(input_ids, len(questions)).tolist(),
                "question": np.repeat([question.id for question in questions], n).tolist(),
                "sequence": np.repeat([question.sequence for question in questions], n).tolist(),
                "number": np.tile(answers["budget"], len(questions)).tolist(),
                "answer": chosen.ravel().tolist(),
            },
        )

    @api.model
    def _insert_activities(self, pipeline, config, followup, lead_ids, now):
        """The next activity of the open leads planned by :meth:`_plan_followup`, for their salesperson,
        of the kind their stage calls for."""
        import numpy as np  # noqa: PLC0415

        planned = followup["planned"]
        if not len(planned):
            return 0
        plan = config["activity_plan"]
        type_ids = np.array([[activity_type.id for activity_type, _summary in options] for options in plan])
        summaries = np.array([[summary for _type, summary in options] for options in plan], dtype=object)
        stage, option = pipeline["last_stage"][planned], followup["option"]
        return self._insert_pages(
            """
            INSERT INTO mail_activity (
                res_model_id, res_model, res_id, res_name, activity_type_id, summary, user_id,
                date_deadline, automated, active, user_tz, followup_reschedule_count, create_uid,
                create_date, write_uid, write_date)
            SELECT %(model_id)s, 'crm.lead', l.id, l.name, NULLIF(v.type_id, 0), v.summary, l.user_id,
                   %(today)s::date + v.due, false, true, %(tz)s, 0, l.user_id, c.at, l.user_id, c.at
              FROM unnest(%(lead)s::int[], %(type_id)s::int[], %(summary)s::varchar[], %(due)s::int[])
                   AS v(lead_id, type_id, summary, due)
              JOIN crm_lead l ON l.id = v.lead_id
        CROSS JOIN LATERAL (
                   -- planned at the last stage change, or a week before it is due
                   SELECT LEAST(%(now)s::timestamp, GREATEST(l.date_last_stage_update,
                                (%(today)s::date + v.due - 7)::timestamp)) AS at
                   ) c
            """,
            {
                "lead": lead_ids[planned].tolist(),
                "type_id": type_ids[stage, option].tolist(),
                "summary": summaries[stage, option].tolist(),
                "due": followup["due"].tolist(),
            },
            model_id=config["lead_model_id"],
            today=now.date(),
            now=now,
            tz=config["company"].partner_id.tz or "UTC",
        )

    @api.model
    def _insert_customer_events(self, events, lead_ids):
        """The customer events planned by :meth:`_plan_customer_events` (the leads carry their phase), and
        the decision phase change each of them made (crm_stage_survey's log of what moved a phase)."""
        if not len(events["lead"]):
            return 0
        inserted = self._insert_pages(
            """
            INSERT INTO crm_lead_customer_event (
                lead_id, event_type, description, payload, phase_id, company_id, date, create_uid,
                create_date, write_uid, write_date)
            SELECT l.id, v.event_type, v.description, '{}'::jsonb, v.phase_id, l.company_id, d.at,
                   %(uid)s, d.at, %(uid)s, d.at
              FROM unnest(%(lead)s::int[], %(type)s::varchar[], %(description)s::varchar[],
                          %(phase)s::int[], %(date)s::bigint[])
                   AS v(lead_id, event_type, description, phase_id, at)
              JOIN crm_lead l ON l.id = v.lead_id
        CROSS JOIN LATERAL (SELECT to_timestamp(v.at) AT TIME ZONE 'UTC' AS at) d
            """,
            {
                "lead": lead_ids[events["lead"]].tolist(),
                "type": events["type"],
                "description": events["description"],
                "phase": events["phase_id"].tolist(),
                "date": events["date"].tolist(),
            },
            uid=self.env.ref("base.user_root").id,  # the customer acted: logged by OdooBot
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO crm_decision_phase_change (
                    lead_id, date, old_phase_id, phase_id, origin, event_id, company_id, create_uid,
                    create_date, write_uid, write_date)
                SELECT e.lead_id, e.date, LAG(e.phase_id) OVER (PARTITION BY e.lead_id ORDER BY e.date, e.id),
                       e.phase_id, 'customer', e.id, e.company_id, e.create_uid, e.date, e.create_uid, e.date
                  FROM crm_lead_customer_event e
                 WHERE e.lead_id = ANY(%(leads)s) AND e.phase_id IS NOT NULL
                """,
                leads=sorted(set(lead_ids[events["lead"]].tolist())),
            )
        )
        return inserted
