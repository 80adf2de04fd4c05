from odoo.tests import HttpCase, new_test_user, tagged

from .common import build_gated_pipeline


@tagged("post_install", "-at_install")
class TestQualificationPages(HttpCase):
    """The survey pages of a lead's qualification name the lead and, once submitted, say the stage reached
    and lead back to the lead — to a user who may read the lead. The pages open with the answer's token
    alone: a public visitor, another salesperson, or the rep once the lead is no longer theirs learn nothing
    about the lead; answers without a lead get Odoo's own pages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        build_gated_pipeline(cls, "Pages")
        cls.other_rep = new_test_user(
            cls.env, login="pages_other_rep", name="Other Rep", groups="sales_team.group_sale_salesman"
        )
        cls.customer = cls.env["res.partner"].create({"name": "Acme Desks", "is_company": True})
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "Pages: 40 standing desks",
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": cls.rep.id,
                "partner_id": cls.customer.id,
            }
        )

    def _page(self, answer, login=None):
        """The HTML of the answer's survey page as ``login`` sees it (None: a public visitor)."""
        self.authenticate(login, login)
        response = self.url_open(f"/survey/{self.survey.access_token}/{answer.access_token}")
        self.assertEqual(response.status_code, 200)
        return response.text

    def _submit(self, answer, seats=None):
        answer._save_lines(self.q_budget, self.yes.id)
        answer._save_lines(self.q_need, "40 standing desks")
        if seats is not None:
            answer._save_lines(self.q_seats, seats)
        answer._mark_done()

    def test_pages_name_the_lead_and_lead_back_to_it(self):
        action = self.lead.with_user(self.rep).action_qualify()
        answer = self.env["survey.user_input"].search([("lead_id", "=", self.lead.id)])
        self.assertIn(answer.access_token, action["url"])
        page = self._page(answer, self.rep.login)
        self.assertIn("Qualifying the lead", page)
        self.assertIn("Pages: 40 standing desks", page)
        self.assertIn("Acme Desks", page)
        self.assertNotIn("Stage reached", page, "nothing reached before the answers are submitted")

        self._submit(answer, seats=4)
        self.assertEqual(self.lead.stage_id, self.stage_qualified)
        page = self._page(answer, self.rep.login)
        self.assertIn("Pages: 40 standing desks", page)
        self.assertIn("Stage reached", page)
        self.assertIn("Pages Qualified", page)
        self.assertIn("Seats ≥ 10", page, "what the next stage still needs")
        self.assertIn(f'href="/odoo/crm/{self.lead.id}"', page)
        self.assertIn("Back to the lead", page)
        self.assertNotIn("Take Again", page, "a new qualification starts from the lead (Qualify)")

    def test_pages_tell_nothing_to_who_cannot_read_the_lead(self):
        answer = self.survey.sudo()._create_answer(user=self.rep, check_attempts=False, lead_id=self.lead.id)
        self._submit(answer)
        secrets = ("Pages: 40 standing desks", "Acme Desks", "Qualifying the lead", "Stage reached")
        # a public visitor with the link: the survey's own page, nothing about the lead
        page = self._page(answer)
        self.assertIn("Thank you", page)
        for secret in secrets:
            self.assertNotIn(secret, page)
        # another salesperson with the link: not their answers (Odoo's own refusal), nothing about the lead
        page = self._page(answer, self.other_rep.login)
        for secret in secrets:
            self.assertNotIn(secret, page)
        # the rep, once the lead is someone else's: their answers still, the lead no longer
        self.lead.write({"user_id": self.other_rep.id, "team_id": self.team.id})
        self.assertEqual(self.lead.team_id, self.team)
        page = self._page(answer, self.rep.login)
        self.assertIn("Thank you", page)
        self.assertIn("Take Again", page)
        for secret in secrets:
            self.assertNotIn(secret, page)

    def test_answers_without_a_lead_get_odoos_pages(self):
        answer = self.survey.sudo()._create_answer(user=self.rep, check_attempts=False)
        page = self._page(answer, self.rep.login)
        self.assertIn("Start Survey", page)
        self.assertNotIn("Qualifying the lead", page)
        self._submit(answer)
        page = self._page(answer, self.rep.login)
        self.assertIn("Thank you", page)
        self.assertIn("Take Again", page)
        self.assertNotIn("Stage reached", page)
        self.assertNotIn("Back to the lead", page)
        self.assertEqual(self.lead.stage_id, self.stage_new)
