from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import HandoffCase


class StageMappingCase(HandoffCase):
    """Marketing's pipeline has its own stage "HO MQ", entered at Marketing Qualified; Inside Sales' has
    "HO IS Qualified", entered at Sales Qualified."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Stage = cls.env["crm.stage"]
        cls.mq_stage = Stage.create(
            {"name": "HO MQ", "sequence": 305, "team_ids": [(6, 0, cls.marketing.ids)]}
        )
        cls.other_stage = Stage.create(
            {"name": "HO Nurture", "sequence": 306, "team_ids": [(6, 0, cls.marketing.ids)]}
        )
        cls.is_qualified = Stage.create(
            {"name": "HO IS Qualified", "sequence": 310, "team_ids": [(6, 0, cls.inside_sales.ids)]}
        )
        cls.mql.stage_ids = cls.mq_stage
        cls.sql_phase.stage_ids = cls.is_qualified

    def _current_stay(self, lead):
        return self.History.sudo().search([("lead_id", "=", lead.id), ("is_current", "=", True)])


@tagged("post_install", "-at_install")
class TestPhaseByStage(StageMappingCase):
    def test_a_rep_moving_the_stage_in_a_manual_team_moves_the_phase(self):
        lead = self._lead()
        lead.with_user(self.marketer).write({"stage_id": self.mq_stage.id})
        self.assertEqual(lead.lifecycle_phase_id, self.mql)
        self.assertEqual(self._stays(lead), [(self.inquiry, "create", False), (self.mql, "stage", True)])
        stay = self._current_stay(lead)
        self.assertEqual((stay.changed_by_id, stay.previous_phase_id), (self.marketer, self.inquiry))
        # a stage mapped to no phase moves nothing; back in the mapped stage, the lead is there already
        lead.with_user(self.marketer).write({"stage_id": self.other_stage.id})
        lead.with_user(self.marketer).write({"stage_id": self.mq_stage.id})
        self.assertEqual(len(self._stays(lead)), 2)
        # now the marketer can hand it over to Inside Sales, as from any Marketing Qualified lead
        self.assertTrue(self._send(lead, self.to_inside, self.marketer))

    def test_the_survey_reaching_the_mapped_stage_moves_the_phase(self):
        survey = self.env["survey.survey"].create({"title": "HO IS Qualification", "access_mode": "token"})
        question = self.env["survey.question"].create(
            {
                "survey_id": survey.id,
                "title": "Budget confirmed?",
                "question_type": "simple_choice",
                "suggested_answer_ids": [(0, 0, {"value": "Yes"}), (0, 0, {"value": "No"})],
            }
        )
        yes, no = question.suggested_answer_ids
        self.inside_sales.write({"stage_setting": "survey", "qualification_survey_id": survey.id})
        self.env["crm.stage"].create(
            {"name": "HO IS New", "sequence": 298, "team_ids": [(6, 0, self.inside_sales.ids)]}
        )
        self.env["crm.stage.criterion"].create(
            {
                "stage_id": self.is_qualified.id,
                "survey_id": survey.id,
                "question_id": question.id,
                "answer_ids": [(6, 0, yes.ids)],
            }
        )
        lead = self._lead(team=self.inside_sales, user=self.inside)
        self._correct(lead, self.sal)

        def answer(choice):
            done = survey.sudo()._create_answer(user=self.inside, check_attempts=False, lead_id=lead.id)
            done._save_lines(question, choice.id)
            done._mark_done()
            lead.invalidate_recordset()

        answer(no)
        self.assertNotEqual(lead.stage_id, self.is_qualified)
        self.assertEqual(lead.lifecycle_phase_id, self.sal, "the answers did not reach the stage")
        answer(yes)
        self.assertEqual(lead.stage_id, self.is_qualified)
        self.assertEqual(lead.lifecycle_phase_id, self.sql_phase)
        self.assertEqual(self._stays(lead)[-1], (self.sql_phase, "stage", True))

    def test_a_stage_mapped_to_an_earlier_phase_does_not_move_the_lead_back(self):
        lead = self._lead()
        self._correct(lead, self.sql_phase)
        lead.with_user(self.marketer).write({"stage_id": self.mq_stage.id})
        self.assertEqual(lead.lifecycle_phase_id, self.sql_phase)
        self.assertEqual(self._stays(lead)[-1], (self.sql_phase, "correction", True))

    def test_a_recycled_lead_reenters_and_a_disqualified_one_does_not(self):
        recycled = self._lead("Recycled")
        self._correct(recycled, self.recycled)
        recycled.with_user(self.marketer).write({"stage_id": self.mq_stage.id})
        self.assertEqual(self._stays(recycled)[-1], (self.mql, "stage", True))
        disqualified = self._lead("Disqualified")
        disqualified_phase = self.env.ref("crm_lead_handoff.crm_lifecycle_phase_disqualified")
        self._correct(disqualified, disqualified_phase)
        disqualified.with_user(self.marketer).write({"stage_id": self.mq_stage.id})
        self.assertEqual(disqualified.lifecycle_phase_id, disqualified_phase)

    def test_won_and_lost_leads_are_not_moved_by_a_stage(self):
        lost = self._lead("Lost")
        lost.action_set_lost()
        lost.write({"stage_id": self.mq_stage.id})
        self.assertEqual(lost.lifecycle_phase_id, self.lost)
        self.assertEqual(self._stays(lost)[-1][:2], (self.lost, "lost"))
        # a won stage mapped to a progress phase: winning comes first
        self.opportunity.stage_ids = self.won_stage
        won = self._lead("Won")
        won.write({"stage_id": self.won_stage.id})
        self.assertEqual(won.lifecycle_phase_id, self.won)
        self.assertEqual([phase for phase, _origin, _current in self._stays(won)], [self.inquiry, self.won])

    def test_a_lead_created_in_a_mapped_stage_starts_in_its_phase(self):
        lead = self._lead(stage_id=self.mq_stage.id)
        self.assertEqual(self._stays(lead), [(self.mql, "create", True)])

    def test_a_company_without_routes_records_nothing(self):
        lead = (
            self.env["crm.lead"]
            .with_company(self.company_off)
            .create({"name": "HO off", "type": "lead", "company_id": self.company_off.id, "team_id": False})
        )
        lead.write({"stage_id": self.mq_stage.id})
        self.assertFalse(lead.lifecycle_phase_id)
        self.assertFalse(self.History.sudo().search_count([("lead_id", "=", lead.id)]))

    def test_the_rep_still_cannot_write_the_phase_or_the_mapping(self):
        lead = self._lead()
        with self.assertRaises(AccessError):
            lead.with_user(self.marketer).write({"lifecycle_phase_id": self.mql.id})
        with self.assertRaises(AccessError):
            self.sal.with_user(self.marketer).write({"stage_ids": [(4, self.mq_stage.id)]})
        self.assertEqual(lead.lifecycle_phase_id, self.inquiry)

    def test_a_stage_enters_one_progress_phase_only(self):
        with self.assertRaises(ValidationError):
            self.sal.stage_ids = self.mq_stage
        with self.assertRaises(ValidationError):
            self.recycled.stage_ids = self.other_stage
        # archived phases keep their stages: the conflict would come back when they are restored
        self.mql.active = False
        with self.assertRaises(ValidationError):
            self.sal.stage_ids = self.mq_stage
        self.mql.active = True
        self.mql.stage_ids = self.mq_stage | self.other_stage
        lead = self._lead()
        lead.with_user(self.marketer).write({"stage_id": self.other_stage.id})
        self.assertEqual(lead.lifecycle_phase_id, self.mql, "the mapping changed: its cache too")


@tagged("post_install", "-at_install", "is_query_count")
class TestPhaseByStageQueries(StageMappingCase):
    def _stage_write(self, size, stage, prefix):
        """The queries of writing ``stage`` on ``size`` new Marketing leads (after the same write on other
        leads, filling the caches)."""
        Lead = self.env["crm.lead"]

        def leads():
            created = Lead.create(
                [{"name": f"{prefix}{i}", "type": "lead", "team_id": self.marketing.id} for i in range(size)]
            )
            self.env.flush_all()
            return created

        leads().write({"stage_id": stage.id})
        self.env.flush_all()
        batch = leads()
        start = self.env.cr.sql_log_count
        batch.write({"stage_id": stage.id})
        self.env.flush_all()
        return self.env.cr.sql_log_count - start, batch

    def test_a_stage_write_moves_10_or_100_leads_for_the_same_few_queries(self):
        extra = []
        for size in (10, 100):
            unmapped, _batch = self._stage_write(size, self.other_stage, "U")
            mapped, batch = self._stage_write(size, self.mq_stage, "M")
            self.assertEqual(set(batch.mapped("lifecycle_phase_id")), {self.mql})
            extra.append(mapped - unmapped)
        self.assertEqual(extra, [3, 3], "the leads' phase, the end of their stays, the new stays")
