from odoo.tests import HttpCase, tagged

from .common import build_gated_pipeline

TOUR = "crm_stage_survey_qualify_tour"  # static/src/tours/crm_stage_survey_tour.js


@tagged("post_install", "-at_install")
class TestQualifyTour(HttpCase):
    """In the browser, a salesperson of a survey team qualifies a lead with the team's survey, which names
    the lead; the page that ends it says the stage reached and leads back to the lead, which moved and whose
    chatter lists the answers; dragging its card to another stage in the pipeline is refused and the card
    stays."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        build_gated_pipeline(cls, "Tour")
        cls.survey.questions_layout = "one_page"
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Tour: 40 standing desks",
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": cls.rep.id,
                "partner_id": cls.env["res.partner"].create({"name": "Ergo Office Ltd"}).id,
            }
        )

    def test_qualify_tour(self):
        self.assertEqual(self.lead.stage_id, self.stage_new)
        # The tour drags the card to another stage on purpose: the server refuses it with a UserError, which
        # the browser shows in a dialog and which odoo.http logs as a WARNING (a line the test tier counts as
        # a failure). Capture it: exactly that refusal is logged, and nothing else goes wrong on the server.
        with self.assertLogs("odoo.http", level="WARNING") as http_logs:
            self.start_tour(f"/odoo/crm/{self.lead.id}", TOUR, login=self.rep.login)
        self.assertEqual(len(http_logs.records), 1, http_logs.output)
        self.assertIn("Qualify", http_logs.records[0].getMessage())

        self.env.invalidate_all()
        self.assertEqual(self.lead.stage_id, self.stage_qualified)
        answers = self.env["survey.user_input"].search([("lead_id", "=", self.lead.id)])
        self.assertEqual(len(answers), 1, "Qualify started one answer, submitted in the browser")
        self.assertEqual(answers.state, "done")
        self.assertEqual(answers.partner_id, self.rep.partner_id)
        lines = {line.question_id: line for line in answers.user_input_line_ids}
        self.assertEqual(lines[self.q_budget].suggested_answer_id, self.yes)
        self.assertEqual(lines[self.q_need].value_char_box, "40 standing desks for the new office")
        self.assertEqual(lines[self.q_seats].value_numerical_box, 4)
        stays = self.lead.stage_history_ids.sorted("id")
        self.assertEqual(
            [stay.stage_id for stay in stays],
            [self.stage_new, self.stage_qualified],
            "the refused drag left no stay",
        )
        self.assertEqual(stays[-1].origin, "survey")
        self.assertEqual(stays[-1].changed_by_id, self.rep)
