from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import HandoffCase


@tagged("post_install", "-at_install")
class TestPhaseRecording(HandoffCase):
    def test_a_new_lead_is_an_inquiry_and_a_new_opportunity_an_opportunity(self):
        lead = self._lead()
        self.assertEqual(lead.lifecycle_phase_id, self.inquiry)
        self.assertEqual(self._stays(lead), [(self.inquiry, "create", True)])
        stay = lead.phase_history_ids
        self.assertEqual(
            (stay.user_id, stay.team_id, stay.company_id), (self.marketer, self.marketing, self.company)
        )
        deal = self._lead(type="opportunity")
        self.assertEqual(self._stays(deal), [(self.opportunity, "create", True)])

    def test_conversion_won_lost_and_restore(self):
        lead = self._lead()
        lead.convert_opportunity(lead.partner_id)
        self.assertEqual(lead.lifecycle_phase_id, self.opportunity)
        lead.action_set_lost()
        lead.action_restore()
        lead.write({"stage_id": self.won_stage.id})
        self.assertEqual(
            self._stays(lead),
            [
                (self.inquiry, "create", False),
                (self.opportunity, "conversion", False),
                (self.lost, "lost", False),
                (self.opportunity, "restore", False),
                (self.won, "won", False),
            ],
            "a won or lost stay ends as it starts; the restore goes back to the last progress phase",
        )
        self.assertEqual(lead.lifecycle_phase_id, self.won)

    def test_a_qualified_lead_converted_past_its_phase_is_not_moved_back(self):
        lead = self._lead()
        self._correct(lead, self.sql_phase)
        lead.convert_opportunity(lead.partner_id)
        self.assertEqual(
            lead.lifecycle_phase_id, self.opportunity, "Sales Qualified comes before Opportunity"
        )
        recycled = self._lead()
        self._correct(recycled, self.recycled)
        recycled.convert_opportunity(recycled.partner_id)
        self.assertEqual(self._stays(recycled)[-1], (self.opportunity, "conversion", True))
        disqualified = self._lead()
        self._correct(disqualified, self.env.ref("crm_lead_handoff.crm_lifecycle_phase_disqualified"))
        disqualified.convert_opportunity(disqualified.partner_id)
        self.assertEqual(disqualified.lifecycle_phase_id.code, "disqualified", "a correction's outcome stays")

    def test_team_change_and_ordinary_edits_record_nothing(self):
        lead = self._lead()
        lead.write({"team_id": self.inside_sales.id, "user_id": self.inside.id, "expected_revenue": 500})
        self.assertEqual(self._stays(lead), [(self.inquiry, "create", True)])

    def test_merge_gives_the_stays_to_the_lead_that_survives(self):
        first = self._lead("First")
        second = self._lead("Second")
        self._correct(second, self.mql)
        merged = (first | second).merge_opportunity(auto_unlink=True)
        self.assertTrue(merged.exists())
        stays = self.History.sudo().search([("lead_id", "=", merged.id)])
        self.assertEqual(len(stays), 3, "the merged lead's two stays come along")
        self.assertEqual(stays.filtered("is_current").lead_id, merged)
        self.assertEqual(len(stays.filtered("is_current")), 1, "the merged lead's current stay ended")

    def test_import_records_the_inquiry(self):
        result = (
            self.env["crm.lead"]
            .with_context(import_file=True)
            .load(["name", "type", "email_from"], [["Imported", "lead", "a@example.com"]])
        )
        self.assertFalse(result["messages"])
        lead = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(self._stays(lead), [(self.inquiry, "create", True)])
        refused = (
            self.env["crm.lead"]
            .with_user(self.marketer)
            .with_context(import_file=True)
            .load(
                ["name", "lifecycle_phase_id/id"], [["Smuggled", "crm_lead_handoff.crm_lifecycle_phase_won"]]
            )
        )
        self.assertFalse(refused["ids"], "an import cannot set the phase")

    def test_nobody_writes_the_phase_by_hand(self):
        lead = self._lead()
        for user in (self.marketer, self.manager):
            with self.assertRaises(AccessError):
                lead.with_user(user).write({"lifecycle_phase_id": self.won.id})
            with self.assertRaises(AccessError):
                lead.with_user(user).write({"handoff_sent_date": "2026-03-02 09:00:00"})
        with self.assertRaises(AccessError):
            self._lead(lifecycle_phase_id=self.sal.id)
        self.assertEqual(lead.lifecycle_phase_id, self.inquiry)

    def test_manager_correction_is_logged_with_its_reason(self):
        lead = self._lead()
        wizard = Form(
            self.env["crm.lead.phase.correction"]
            .with_user(self.manager)
            .with_context(default_lead_id=lead.id)
        )
        wizard.phase_id = self.mql
        wizard.reason = "Met them at the fair: ready to talk"
        wizard.save().action_apply()
        self.assertEqual(lead.lifecycle_phase_id, self.mql)
        self.assertEqual(self._stays(lead)[-1], (self.mql, "correction", True))
        self.assertIn("Met them at the fair", lead.message_ids[0].body)
        with self.assertRaises(AccessError):
            lead.with_user(self.marketer).action_phase_correction()

    def test_a_company_without_routes_records_nothing(self):
        team = self.env["crm.team"].with_company(self.company_off).create({"name": "Off"})
        lead = self._lead(team=team, user=self.env["res.users"], company_id=self.company_off.id)
        self.assertFalse(lead.lifecycle_phase_id)
        self.assertFalse(self._stays(lead))
        lead.write({"type": "opportunity"})
        lead.action_set_won()
        self.assertFalse(self._stays(lead))
        self.assertFalse(lead.lifecycle_enabled)
        correction = (
            self.env["crm.lead.phase.correction"]
            .with_company(self.company_off)
            .create({"lead_id": lead.id, "phase_id": self.mql.id, "reason": "Qualified"})
        )
        with self.assertRaises(UserError):
            correction.action_apply()

    def test_first_route_rebuilds_the_company_phases(self):
        Lead = self.env["crm.lead"].with_company(self.company_off)
        team = self.env["crm.team"].with_company(self.company_off).create({"name": "Off"})
        vals = {"team_id": team.id, "company_id": self.company_off.id}
        open_lead = Lead.create({"name": "Open", "type": "lead", **vals})
        deal = Lead.create({"name": "Deal", "type": "opportunity", **vals})
        lost = Lead.create({"name": "Lost", "type": "lead", **vals})
        lost.action_set_lost()
        self.assertFalse(self._stays(open_lead))
        self.env["crm.handoff.route"].with_company(self.company_off).create(
            {
                "name": "Off company route",
                "company_id": self.company_off.id,
                "to_team_id": team.id,
                "from_phase_id": self.mql.id,
                "accept_phase_id": self.sal.id,
            }
        )
        self.assertEqual(self._stays(open_lead), [(self.inquiry, "backfill", True)])
        self.assertEqual(self._stays(deal), [(self.opportunity, "backfill", True)])
        self.assertEqual(
            self._stays(lost), [(self.inquiry, "backfill", False), (self.lost, "backfill", False)]
        )
        self.assertEqual(lost.with_context(active_test=False).lifecycle_phase_id, self.lost)
        # the rebuild leaves leads with stays alone
        self.assertEqual(self.History._backfill(company_ids=self.company_off.ids), 0)
