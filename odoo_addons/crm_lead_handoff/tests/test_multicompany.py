from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import HandoffCase


@tagged("post_install", "-at_install")
class TestMultiCompany(HandoffCase):
    def test_another_company_sees_neither_the_handoffs_nor_the_stays(self):
        lead = self._qualified()
        handoff = self._send(lead, self.to_inside, self.marketer)
        Handoff = self.env["crm.lead.handoff"].with_user(self.user_b)
        History = self.env["crm.lead.phase.history"].with_user(self.user_b)
        Route = self.env["crm.handoff.route"].with_user(self.user_b)
        self.assertFalse(Handoff.search([("id", "=", handoff.id)]))
        self.assertFalse(History.search([("lead_id", "=", lead.id)]))
        self.assertEqual(Route.search([]), self.route_b)

    def test_a_route_hands_over_its_own_company_leads_only(self):
        lead = self._qualified()
        with self.assertRaises(UserError):
            self._send(lead, self.route_b, self.manager)
        self.assertEqual(lead.with_user(self.marketer)._handoff_routes(self.marketer), self.to_inside)

    def test_the_companies_with_routes_record_phases(self):
        self.assertEqual(
            self.env["crm.handoff.route"]._handoff_company_ids(),
            frozenset((self.company | self.company_b).ids),
        )
        lead_b = self._lead(team=self.team_b, user=self.user_b, company_id=self.company_b.id)
        self.assertEqual(lead_b.lifecycle_phase_id, self.inquiry)
        self.assertEqual(lead_b.phase_history_ids.company_id, self.company_b)
        self.to_inside.active = self.to_field.active = False
        self.assertEqual(self.env["crm.handoff.route"]._handoff_company_ids(), frozenset(self.company_b.ids))
        self.assertFalse(self._lead().lifecycle_phase_id, "no active route left: the company records nothing")
