from lxml import html
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

# the gate engine lives in the plain package
import funnel_metrics.gates  # noqa: F401 # pylint: disable=unused-import

from .common import build_gated_pipeline


@tagged("post_install", "-at_install")
class TestStageGates(TransactionCase):
    """A team whose stages follow a qualification survey (see ``common.build_gated_pipeline``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        build_gated_pipeline(cls, "G")
        cls.manager = new_test_user(
            cls.env, login="gate_manager", name="Max Manager", groups="sales_team.group_sale_manager"
        )
        cls.stage_qualified.probability = 30
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Gated deal", "type": "opportunity", "team_id": cls.team.id, "user_id": cls.rep.id}
        )

    def _answer(self, lead, budget=None, need=None, seats=None):
        """Submit the qualification survey for ``lead`` as the survey controller does."""
        answer = self.survey.sudo()._create_answer(user=self.rep, check_attempts=False, lead_id=lead.id)
        if budget is not None:
            answer._save_lines(self.q_budget, budget.id)
        if need is not None:
            answer._save_lines(self.q_need, need)
        if seats is not None:
            answer._save_lines(self.q_seats, seats)
        answer._mark_done()
        self.env.invalidate_all()
        return answer

    def test_new_leads_start_at_the_first_gate(self):
        self.assertEqual(self.lead.stage_id, self.stage_new)
        self.assertEqual(self.lead.survey_next_stage_id, self.stage_qualified)
        self.assertIn("Budget confirmed? Yes", self.lead.survey_missing_criteria)

    def test_answers_move_the_stage(self):
        self._answer(self.lead, budget=self.yes, need="40 desks", seats=4)
        self.assertEqual(self.lead.stage_id, self.stage_qualified)
        self.assertEqual(self.lead.probability, 30, "the probability follows the stage")
        stay = self.lead.stage_history_ids.sorted("id")[-1]
        self.assertEqual(stay.origin, "survey")
        self.assertEqual(self.lead.survey_missing_criteria, "Seats ≥ 10")
        # gates are cumulative: enough seats but no budget any more goes back to New
        self._answer(self.lead, budget=self.no, need="40 desks", seats=40)
        self.assertEqual(self.lead.stage_id, self.stage_new)
        self._answer(self.lead, budget=self.yes, need="40 desks", seats=40)
        self.assertEqual(self.lead.stage_id, self.stage_proposal)

    def _qualification_notes(self, lead):
        """The lead's qualification notes, latest first: ``(first paragraph, answers listed, rest)``."""
        notes = lead.message_ids.filtered(lambda m: "The qualification survey" in (m.body or ""))
        result = []
        for note in notes:
            body = html.fromstring(str(note.body))
            paragraphs = [p.text_content() for p in body.iter("p")]
            result.append((paragraphs[0], [li.text_content() for li in body.iter("li")], paragraphs[1:]))
        return result

    def test_note_lists_the_answers_that_decided(self):
        self._answer(self.lead, budget=self.yes, need="40 desks", seats=4)
        self.assertEqual(
            self._qualification_notes(self.lead),
            [
                (
                    "The qualification survey moved the lead to G Qualified. The answers that decided it:",
                    # the questions of the stages reached, and of the next one (which the seats kept it from)
                    ["Budget confirmed? Yes", "What do they need? 40 desks", "Seats: 4"],
                    ["Still needed for G Proposal: Seats ≥ 10"],
                )
            ],
        )
        # answers that keep the stage are noted as well: the chatter keeps every qualification's answers
        self._answer(self.lead, budget=self.yes, need="60 desks")
        self.assertEqual(self.lead.stage_id, self.stage_qualified)
        self.assertEqual(
            self._qualification_notes(self.lead)[0],
            (
                "The qualification survey keeps the lead in G Qualified. The answers that decided it:",
                ["Budget confirmed? Yes", "What do they need? 60 desks", "Seats: not answered"],
                ["Still needed for G Proposal: Seats ≥ 10"],
            ),
        )
        # the last gate passed: every criterion's question, nothing left to need
        self._answer(self.lead, budget=self.yes, need="60 desks", seats=12.5)
        self.assertEqual(self.lead.stage_id, self.stage_proposal)
        self.assertEqual(
            self._qualification_notes(self.lead)[0],
            (
                "The qualification survey moved the lead to G Proposal. The answers that decided it:",
                ["Budget confirmed? Yes", "What do they need? 60 desks", "Seats: 12.5"],
                [],
            ),
        )

    def test_survey_without_lead_is_odoos_own(self):
        """Answers to the same survey that no lead asked for (a survey officer's test, a shared link): Odoo's
        own flow, no lead moved, no note anywhere."""
        messages = self.env["mail.message"].search_count([("model", "=", "crm.lead")])
        answer = self.survey.sudo()._create_answer(user=self.rep, check_attempts=False)
        answer._save_lines(self.q_budget, self.yes.id)
        answer._save_lines(self.q_need, "40 desks")
        answer._mark_done()
        self.env.invalidate_all()
        self.assertEqual(answer.state, "done")
        self.assertFalse(answer.lead_id)
        self.assertEqual(self.lead.stage_id, self.stage_new)
        self.assertEqual(self.env["mail.message"].search_count([("model", "=", "crm.lead")]), messages)
        self.assertEqual(answer._qualification_page_values(), {})

    def test_direct_stage_writes_are_refused(self):
        as_rep = self.lead.with_user(self.rep)
        with self.assertRaisesRegex(UserError, "Qualify"):
            as_rep.write({"stage_id": self.stage_qualified.id})
        with self.assertRaisesRegex(UserError, "Qualify"):
            self.lead.with_user(self.manager).write({"stage_id": self.stage_proposal.id})
        # a new lead is not refused (it has no answers yet): it starts where its (no) answers put it
        forced = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .create({"name": "Forced", "team_id": self.team.id, "stage_id": self.stage_proposal.id})
        )
        self.assertEqual(forced.stage_id, self.stage_new)
        # writing the stage the answers justify is fine (imports, merges, crm's own flows)
        as_rep.write({"stage_id": self.stage_new.id, "name": "Renamed"})
        self.assertEqual(self.lead.name, "Renamed")

    def test_manager_override_needs_a_reason(self):
        with self.assertRaises(UserError):
            self.lead.with_user(self.rep).action_survey_override()
        action = self.lead.with_user(self.manager).action_survey_override()
        wizard = self.env["crm.stage.override"].with_user(self.manager).with_context(**action["context"])
        with self.assertRaisesRegex(UserError, "reason"):
            wizard.create({"stage_id": self.stage_proposal.id}).action_apply()
        wizard.create({"stage_id": self.stage_proposal.id, "reason": "CFO said yes"}).action_apply()
        self.assertEqual(self.lead.stage_id, self.stage_proposal)
        self.assertEqual(self.lead.stage_history_ids.sorted("id")[-1].origin, "override")
        self.assertTrue(self.lead.message_ids.filtered(lambda m: "CFO said yes" in (m.body or "")))
        with self.assertRaises(AccessError):
            self.env["crm.stage.override"].with_user(self.rep).create(
                {"lead_id": self.lead.id, "stage_id": self.stage_new.id, "reason": "x"}
            )

    def test_won_needs_the_last_gate_lost_never_blocked(self):
        with self.assertRaisesRegex(UserError, "G Proposal"):
            self.lead.with_user(self.rep).action_set_won()
        self._answer(self.lead, budget=self.yes, need="desks", seats=12)
        self.lead.with_user(self.rep).action_set_won()
        self.assertEqual(self.lead.stage_id, self.stage_won)
        other = self.env["crm.lead"].create(
            {"name": "Lost one", "type": "opportunity", "team_id": self.team.id}
        )
        other.with_user(self.manager).action_set_lost()
        self.assertFalse(other.active)

    def test_qualify_opens_the_survey_prefilled(self):
        first = self._answer(self.lead, budget=self.yes, need="desks", seats=4)
        action = self.lead.with_user(self.rep).action_qualify()
        self.assertEqual(action["type"], "ir.actions.act_url")
        answer = (
            self.env["survey.user_input"]
            .sudo()
            .search([("lead_id", "=", self.lead.id), ("state", "!=", "done")])
        )
        self.assertEqual(len(answer), 1)
        self.assertIn(answer.access_token, action["url"])
        self.assertEqual(
            sorted(answer.user_input_line_ids.mapped("question_id").ids),
            sorted(first.user_input_line_ids.mapped("question_id").ids),
        )

    def test_qualify_lets_the_rep_change_the_prefilled_answers(self):
        """Odoo's survey refuses to overwrite an answer unless the survey lets people go back; the rep
        reviewing a lead's prefilled qualification answers must be able to change them all the same."""
        self.survey.users_can_go_back = False
        self._answer(self.lead, budget=self.yes, need="desks", seats=4)
        self.lead.with_user(self.rep).action_qualify()
        answer = (
            self.env["survey.user_input"]
            .sudo()
            .search([("lead_id", "=", self.lead.id), ("state", "!=", "done")])
        )
        # what the survey controller calls when the rep submits the page
        answer._save_lines(self.q_seats, "12", overwrite_existing=self.survey.users_can_go_back)
        seats = answer.user_input_line_ids.filtered(lambda line: line.question_id == self.q_seats)
        self.assertEqual(seats.mapped("value_numerical_box"), [12.0])
        # other surveys keep Odoo's rule
        other = self.env["survey.survey"].create({"title": "Feedback", "users_can_go_back": False})
        question = self.env["survey.question"].create(
            {"survey_id": other.id, "title": "Score", "question_type": "numerical_box"}
        )
        feedback = other._create_answer(user=self.rep, check_attempts=False, lead_id=self.lead.id)
        feedback._save_lines(question, "3", overwrite_existing=False)
        with self.assertRaisesRegex(UserError, "cannot be overwritten"):
            feedback._save_lines(question, "4", overwrite_existing=False)

    def test_bad_configurations(self):
        with self.assertRaisesRegex(ValidationError, "choose its qualification survey"):
            self.env["crm.team"].create({"name": "No survey", "stage_setting": "survey"})
        other = self.env["survey.survey"].create({"title": "Other"})
        foreign = self.env["survey.question"].create(
            {"survey_id": other.id, "title": "Elsewhere", "question_type": "char_box"}
        )
        Criterion = self.env["crm.stage.criterion"]
        with self.assertRaisesRegex(ValidationError, "another survey"):
            Criterion.create(
                {"stage_id": self.stage_new.id, "survey_id": self.survey.id, "question_id": foreign.id}
            )
        with self.assertRaisesRegex(ValidationError, "not answers of"):
            Criterion.create(
                {
                    "stage_id": self.stage_new.id,
                    "survey_id": self.survey.id,
                    "question_id": self.q_budget.id,
                    "answer_ids": [
                        (
                            6,
                            0,
                            (
                                self.yes
                                | self.env["survey.question.answer"].create(
                                    {"question_id": foreign.id, "value": "Alien"}
                                )
                            ).ids,
                        )
                    ],
                }
            )
        with self.assertRaisesRegex(ValidationError, "reversed"):
            Criterion.create(
                {
                    "stage_id": self.stage_new.id,
                    "survey_id": self.survey.id,
                    "question_id": self.q_seats.id,
                    "has_minimum": True,
                    "minimum": 10,
                    "has_maximum": True,
                    "maximum": 5,
                }
            )
        with self.assertRaisesRegex(ValidationError, "must be numbers"):
            Criterion.create(
                {
                    "stage_id": self.stage_new.id,
                    "survey_id": self.survey.id,
                    "question_id": self.q_seats.id,
                    "has_minimum": True,
                    "minimum": float("inf"),
                }
            )
        # criteria saved together: every problem is listed, each naming its question
        with self.assertRaises(ValidationError) as caught:
            Criterion.create(
                [
                    {"stage_id": self.stage_new.id, "survey_id": self.survey.id, "question_id": question.id}
                    for question in (self.q_budget, self.q_seats)
                ]
            )
        self.assertEqual(
            str(caught.exception).splitlines(),
            [
                f"Choose the accepted answers of “{self.q_budget.title}”.",
                f"Give a lower or an upper bound for “{self.q_seats.title}”.",
            ],
        )

    def test_manual_teams_unchanged(self):
        manual = self.env["crm.team"].create({"name": "Manual"})
        lead = self.env["crm.lead"].create({"name": "Free", "type": "opportunity", "team_id": manual.id})
        lead.with_user(self.manager).write({"stage_id": self.stage_proposal.id})
        self.assertEqual(lead.stage_id, self.stage_proposal)

    def test_probability_can_stay_predictive(self):
        self.team.survey_probability = "predictive"
        self.lead.probability = 12
        self._answer(self.lead, budget=self.yes, need="desks", seats=4)
        self.assertEqual(self.lead.stage_id, self.stage_qualified)
        self.assertEqual(self.lead.probability, 12, "the stage's probability is not imposed")

    def test_customer_survey_logs_an_event_and_history_keeps_the_phase(self):
        customer = self.env["res.partner"].create({"name": "Buyer", "email": "buyer@example.com"})
        self.lead.partner_id = customer
        feedback = self.env["survey.survey"].create({"title": "Your needs", "access_mode": "public"})
        question = self.env["survey.question"].create(
            {"survey_id": feedback.id, "title": "What for?", "question_type": "char_box"}
        )
        answer = feedback.sudo()._create_answer(partner=customer, check_attempts=False)
        answer._save_lines(question, "Open space")
        answer._mark_done()
        self.env.invalidate_all()
        event = self.lead.customer_event_ids
        self.assertEqual(event.event_type, "survey_completed")
        self.assertEqual(event.partner_id, customer)
        phase = self.lead.decision_phase_id
        self.assertEqual(phase, self.env.ref("crm_stage_survey.crm_decision_phase_business_case"))
        # the stay the next qualification opens records where the customer stood
        self._answer(self.lead, budget=self.yes, need="desks", seats=4)
        self.assertEqual(self.lead.stage_history_ids.sorted("id")[-1].decision_phase_id, phase)

    def test_lead_generated_by_the_survey_gets_the_phase_quietly(self):
        """A lead that survey_crm creates from the answers: the event and phase are recorded, without a note
        on top of its creation message."""
        feedback = self.env["survey.survey"].create({"title": "Get a quote", "access_mode": "public"})
        question = self.env["survey.question"].create(
            {"survey_id": feedback.id, "title": "What for?", "question_type": "char_box"}
        )
        lead = self.env["crm.lead"].create(
            {"name": "From the survey", "team_id": self.team.id, "origin_survey_id": feedback.id}
        )
        answer = feedback.sudo()._create_answer(user=self.rep, check_attempts=False, lead_id=lead.id)
        answer._save_lines(question, "Open space")
        notes_before = len(lead.message_ids)
        answer._mark_done()
        self.env.invalidate_all()
        self.assertEqual(lead.customer_event_ids.event_type, "survey_completed")
        self.assertEqual(
            lead.decision_phase_id, self.env.ref("crm_stage_survey.crm_decision_phase_business_case")
        )
        self.assertEqual(len(lead.message_ids), notes_before)
