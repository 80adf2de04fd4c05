from odoo.tests import HttpCase, tagged

from .common import build_gated_pipeline

# static/src/tours/crm_stage_survey_stage_bar_tour.js
TOUR = "crm_stage_survey_stage_bar_tour"
MANUAL_TOUR = "crm_stage_survey_stage_bar_manual_tour"


@tagged("post_install", "-at_install")
class TestStageBarTour(HttpCase):
    """In a survey team the lead form says why the stage bar is read-only; in a manual team it says
    nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        build_gated_pipeline(cls, "Bar")
        cls.survey_lead, cls.manual_lead = cls.env["crm.lead"].create(
            [
                {"name": name, "type": "opportunity", "team_id": team.id, "user_id": cls.rep.id}
                for name, team in (("Bar: survey team", cls.team), ("Bar: manual team", cls.manual_team))
            ]
        )

    def test_stage_bar_tour(self):
        self.assertEqual(self.survey_lead.stage_setting, "survey")
        self.assertEqual(self.manual_lead.stage_setting, "manual")
        self.start_tour(f"/odoo/crm/{self.survey_lead.id}", TOUR, login=self.rep.login)
        self.start_tour(f"/odoo/crm/{self.manual_lead.id}", MANUAL_TOUR, login=self.rep.login)
