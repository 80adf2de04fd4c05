from odoo.tests import tagged

from .common import FollowupCase


@tagged("post_install", "-at_install")
class TestHandover(FollowupCase):
    """A change of salesperson: in teams with a follow-up policy the next step goes with the lead; in Off
    teams Odoo's behaviour stays. My Day shows only rows the user can act on."""

    def _my_rows(self, user, lead):
        return (
            self.env["crm.followup.agenda"]
            .with_user(user)
            .search([("lead_id", "=", lead.id), ("user_id", "=", user.id)])
        )

    def _handover_notes(self, lead):
        return lead.message_ids.filtered(lambda m: "handed over" in (m.body or ""))

    def test_a_manager_reassigns_in_an_enforce_team(self):
        lead = self._lead(team=self.team_enforce, name="Chairs")
        call = self._activity(lead, summary="Call the buyer")
        reminder = self._activity(lead, user=self.sales_manager, activity_type=self.todo)
        self.assertEqual(self._my_rows(self.salesman, lead).mapped("kind"), ["activity"])

        lead.with_user(self.sales_manager).write({"user_id": self.salesman_2.id})

        self.assertEqual(call.user_id, self.salesman_2, "the next step goes with the lead")
        self.assertEqual(reminder.user_id, self.sales_manager, "the manager's own reminder stays his")
        self.assertEqual(lead.followup_state, "scheduled")
        note = self._handover_notes(lead)
        self.assertEqual(len(note), 1)
        self.assertIn("from Sally Salesman to Sam Salesman", note.body)
        self.assertIn("Call: Call the buyer", note.body)
        self.assertFalse(self._my_rows(self.salesman, lead), "nothing left on Sally's day for this lead")
        self.assertEqual(
            self._my_rows(self.salesman_2, lead).activity_id, call, "Sam's day has the call, not the reminder"
        )

    def test_a_batch_in_a_warn_team(self):
        leads = self._lead(team=self.team_warn, name="A") | self._lead(team=self.team_warn, name="B")
        calls = self._activity(leads[0]) | self._activity(leads[1])
        leads.with_user(self.sales_manager).write({"user_id": self.salesman_2.id})
        self.assertEqual(calls.user_id, self.salesman_2)
        self.assertEqual(len(self._handover_notes(leads[0])), 1)
        self.assertEqual(len(self._handover_notes(leads[1])), 1)

    def test_off_team_keeps_odoos_behaviour(self):
        lead = self._lead(team=self.team_off, name="Off")
        call = self._activity(lead)
        lead.with_user(self.sales_manager).write({"user_id": self.salesman_2.id})
        self.assertEqual(call.user_id, self.salesman, "Odoo leaves the activity where it is")
        self.assertFalse(self._handover_notes(lead))
        self.assertFalse(
            self._my_rows(self.salesman, lead), "Sally may not open the lead: no row she cannot act on"
        )
        manager_rows = (
            self.env["crm.followup.agenda"].with_user(self.sales_manager).search([("lead_id", "=", lead.id)])
        )
        self.assertEqual(manager_rows.activity_id, call, "the manager, who may open the lead, still sees it")

    def test_a_salesperson_hands_his_lead_to_a_colleague(self):
        lead = self._lead(team=self.team_enforce, name="Given away")
        call = self._activity(lead)
        lead.with_user(self.salesman).write({"user_id": self.salesman_2.id})
        self.assertEqual(call.user_id, self.salesman_2)
        self.assertEqual(len(self._handover_notes(lead)), 1)

    def test_my_day_says_what_is_due(self):
        lead = self._lead(team=self.team_warn, name="Planned")
        self._activity(lead, activity_type=self.call)
        missing = self._lead(team=self.team_warn, name="Unplanned")
        rows = (
            self.env["crm.followup.agenda"]
            .with_user(self.salesman)
            .search([("lead_id", "in", (lead | missing).ids)])
        )
        self.assertEqual(
            {row.lead_id.name: row.todo for row in rows},
            {"Planned": self.call.name, "Unplanned": "Plan a next step"},
        )
