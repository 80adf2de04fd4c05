from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import MONDAY_9, HandoffCase


@tagged("post_install", "-at_install")
class TestHandoffFlow(HandoffCase):
    def test_hand_over_then_accept(self):
        lead = self._qualified()
        self.assertTrue(lead.with_user(self.marketer).handoff_can_send)
        wizard = Form(
            self.env["crm.lead.handoff.send"].with_user(self.marketer).with_context(default_lead_id=lead.id)
        )
        wizard.route_id = self.to_inside
        wizard.note = "Asked for a demo"
        wizard.save().action_send()
        handoff = lead.handoff_id
        self.assertEqual(handoff.state, "awaiting")
        self.assertEqual((lead.team_id, lead.user_id), (self.inside_sales, self.env["res.users"]))
        self.assertEqual(lead.handoff_sent_date, handoff.date_sent)
        self.assertEqual(lead.lifecycle_phase_id, self.mql, "still Marketing Qualified until accepted")
        self.assertEqual(handoff.receiver_ids, self.inside | self.inside_2 | self.manager)
        # in the inside-sales rep's queue
        queue = (
            self.env["crm.lead.handoff"]
            .with_user(self.inside)
            .search([("state", "=", "awaiting"), ("receiver_ids", "in", self.inside.id)])
        )
        self.assertEqual(queue, handoff)
        self.assertTrue(lead.with_user(self.inside).handoff_can_decide)
        self.assertFalse(lead.with_user(self.marketer).handoff_can_decide, "the sender does not decide")
        lead.with_user(self.inside).action_handoff_accept()
        self.assertEqual(handoff.state, "accepted")
        self.assertEqual((handoff.decided_by_id, handoff.new_user_id), (self.inside, self.inside))
        self.assertEqual(lead.user_id, self.inside)
        self.assertEqual(lead.lifecycle_phase_id, self.sal)
        self.assertFalse(lead.handoff_id)
        self.assertFalse(lead.handoff_sent_date)
        self.assertEqual(self._stays(lead)[-1], (self.sal, "accept", True))
        self.assertEqual(lead.phase_history_ids[0].handoff_id, handoff)
        # and on to the field
        self._send(lead, self.to_field, self.inside)
        lead.handoff_id.with_user(self.field).action_accept()
        self.assertEqual((lead.lifecycle_phase_id, lead.user_id), (self.sql_phase, self.field))

    def test_accept_for_a_colleague_of_the_receiving_side_only(self):
        lead = self._qualified()
        handoff = self._send(lead, self.to_inside, self.marketer)
        with self.assertRaises(UserError):
            handoff.with_user(self.inside).action_accept(user_id=self.field.id)
        handoff.with_user(self.inside).action_accept(user_id=self.inside_2.id)
        self.assertEqual(lead.user_id, self.inside_2)

    def test_reject_needs_a_reason_and_recycles_the_lead_back_to_its_sender(self):
        lead = self._qualified()
        handoff = self._send(lead, self.to_inside, self.marketer)
        with self.assertRaises(UserError):
            handoff.with_user(self.inside).action_reject()
        wizard = Form(
            self.env["crm.lead.handoff.reject"]
            .with_user(self.inside)
            .with_context(default_handoff_id=handoff.id)
        )
        wizard.reason_id = self.wrong_size
        wizard.note = "3 employees"
        wizard.save().action_reject()
        self.assertEqual(
            (handoff.state, handoff.reason_id, handoff.decision_note),
            ("rejected", self.wrong_size, "3 employees"),
        )
        self.assertEqual((lead.team_id, lead.user_id), (self.marketing, self.marketer))
        self.assertEqual(self._stays(lead)[-1], (self.recycled, "reject", True))
        self.assertIn("Wrong company size", lead.message_ids[0].body)
        # the sender sees the outcome and the reason in My Handoffs
        mine = (
            self.env["crm.lead.handoff"]
            .with_user(self.marketer)
            .search([("sender_id", "=", self.marketer.id)])
        )
        self.assertEqual(mine.mapped("reason_id"), self.wrong_size)

    def test_only_the_receiving_side_decides(self):
        lead = self._qualified()
        handoff = self._send(lead, self.to_inside, self.marketer)
        for user in (self.marketer, self.field):
            with self.assertRaises(AccessError):
                handoff.with_user(user).action_accept()
            with self.assertRaises(AccessError):
                handoff.with_user(user).action_reject(self.wrong_size.id)
        # a manager who sends cannot accept his own handoff either
        own = self._qualified("Manager's")
        sent = self._send(own, self.to_inside, self.manager)
        with self.assertRaises(AccessError):
            sent.with_user(self.manager).action_accept()
        handoff.with_user(self.inside).action_accept()
        with self.assertRaises(UserError):
            handoff.with_user(self.inside_2).action_accept()
        self.assertEqual(handoff.new_user_id, self.inside)

    def test_what_a_route_asks_before_a_handoff(self):
        # not in the route's phase
        inquiry = self._lead()
        with self.assertRaises(UserError):
            self._send(inquiry, self.to_inside, self.marketer)
        # not meeting the quality criteria (an e-mail)
        no_mail = self._qualified(email_from=False)
        with self.assertRaises(UserError):
            self._send(no_mail, self.to_inside, self.marketer)
        # not a sender of the route (a field rep)
        lead = self._qualified()
        with self.assertRaises(AccessError):
            self._send(lead, self.to_inside, self.field)
        # not in a team the route hands over from
        elsewhere = self._qualified(team=self.field_sales, user=self.field)
        with self.assertRaises(UserError):
            self._send(elsewhere, self.to_inside, self.manager)
        # already awaiting
        self._send(lead, self.to_inside, self.marketer)
        with self.assertRaises(UserError):
            self._send(lead, self.to_inside, self.manager)
        self.assertFalse(inquiry.handoff_ids | no_mail.handoff_ids | elsewhere.handoff_ids)

    def test_a_channel_manager_sends_on_a_partner_route(self):
        partner = self.env["res.partner"].create({"name": "Reseller Ltd", "is_company": True})
        route = self.env["crm.handoff.route"].create(
            {
                "name": "Channel to partner",
                "sender_user_ids": [(6, 0, self.inside.ids)],
                "to_kind": "partner",
                "to_partner_id": partner.id,
                "receiver_user_ids": [(6, 0, self.field.ids)],
                "from_phase_id": self.mql.id,
                "accept_phase_id": self.sal.id,
            }
        )
        lead = self._qualified(team=self.inside_sales, user=self.inside)
        handoff = self._send(lead, route, self.inside)
        self.assertEqual((handoff.to_partner_id, handoff.receiver_ids), (partner, self.field))
        self.assertEqual(lead.team_id, self.inside_sales, "a partner route leaves the lead in its team")
        self.assertFalse(lead.user_id, "unassigned until the partner's side accepts it")
        self.assertTrue(lead.with_user(self.field).read(["name"]), "the receivers see it")
        with self.assertRaises(AccessError):
            handoff.with_user(self.inside_2).action_accept()
        handoff.with_user(self.field).action_reject(self.wrong_size.id)
        self.assertEqual(lead.lifecycle_phase_id, self.recycled)
        self.assertEqual(lead.user_id, self.inside, "back to the channel manager")

    def test_the_qualification_gate(self):
        survey = self.env["survey.survey"].create({"title": "HO Qualification", "access_mode": "token"})
        question = self.env["survey.question"].create(
            {
                "survey_id": survey.id,
                "title": "Budget confirmed?",
                "question_type": "simple_choice",
                "suggested_answer_ids": [(0, 0, {"value": "Yes"}), (0, 0, {"value": "No"})],
            }
        )
        yes = question.suggested_answer_ids[0]
        self.marketing.write({"stage_setting": "survey", "qualification_survey_id": survey.id})
        gate = self.env["crm.stage"].create(
            {"name": "HO Qualified", "sequence": 301, "team_ids": [(6, 0, self.marketing.ids)]}
        )
        self.env["crm.stage"].create(
            {"name": "HO Start", "sequence": 299, "team_ids": [(6, 0, self.marketing.ids)]}
        )
        self.env["crm.stage.criterion"].create(
            {
                "stage_id": gate.id,
                "survey_id": survey.id,
                "question_id": question.id,
                "answer_ids": [(6, 0, yes.ids)],
            }
        )
        self.to_inside.gate_stage_id = gate
        lead = self._qualified()
        with self.assertRaises(UserError):
            self._send(lead, self.to_inside, self.marketer)
        answer = survey.sudo()._create_answer(user=self.marketer, check_attempts=False, lead_id=lead.id)
        answer._save_lines(question, yes.id)
        answer._mark_done()
        lead.invalidate_recordset()
        self.assertTrue(self._send(lead, self.to_inside, self.marketer))

    def test_won_before_a_decision_cancels_the_handoff(self):
        lead = self._qualified()
        handoff = self._send(lead, self.to_inside, self.marketer)
        lead.write({"stage_id": self.won_stage.id})
        self.assertEqual(handoff.state, "cancelled")
        self.assertFalse(lead.handoff_id)
        self.assertEqual(lead.lifecycle_phase_id, self.won)

    def test_sent_elsewhere_before_a_decision_cancels_the_handoff(self):
        lead = self._qualified()
        handoff = self._send(lead, self.to_inside, self.marketer)
        lead.with_user(self.manager).write({"team_id": self.field_sales.id})
        self.assertEqual(handoff.state, "cancelled")
        self.assertEqual(lead.lifecycle_phase_id, self.mql, "nobody judged it")
        kept = self._qualified("Kept")
        awaiting = self._send(kept, self.to_inside, self.marketer)
        kept.write({"user_id": self.inside.id, "team_id": self.inside_sales.id})
        self.assertEqual(awaiting.state, "awaiting", "still in the receiving team")

    def test_accepted_by_default_after_business_hours(self):
        calendar = self.env["resource.calendar"].create({"name": "HO 8-12 and 13-17 UTC", "tz": "UTC"})
        self.to_inside.write({"auto_accept_hours": 8, "calendar_id": calendar.id})
        with freeze_time(MONDAY_9):
            lead = self._qualified()
            handoff = self._send(lead, self.to_inside, self.marketer)
        Handoff = self.env["crm.lead.handoff"]
        with (
            patch.object(type(self.env["ir.cron"]), "_commit_progress", return_value=3600.0),
        ):
            with freeze_time(MONDAY_9 + timedelta(hours=20)):  # Tuesday 05:00: 7 working hours later
                Handoff._cron_auto_accept()
            self.assertEqual(handoff.state, "awaiting")
            with freeze_time(datetime(2026, 3, 3, 9, 30)):  # Tuesday 09:30: 8.5 working hours later
                Handoff._cron_auto_accept()
                Handoff._cron_auto_accept()  # a rerun accepts nothing twice
        self.assertEqual((handoff.state, handoff.auto_accepted), ("accepted", True))
        self.assertFalse(handoff.decided_by_id)
        self.assertEqual(self._stays(lead)[-1], (self.sal, "auto_accept", True))
        self.assertEqual(lead.team_id, self.inside_sales)
