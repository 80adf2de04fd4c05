from datetime import UTC, datetime, timedelta

from odoo.tests import TransactionCase, tagged

T0 = datetime(2026, 3, 2, 9, 0)


def epoch(moment):
    return int(moment.replace(tzinfo=UTC).timestamp())


@tagged("post_install", "-at_install")
class TestBulkInsertEvents(TransactionCase):
    """``_bulk_insert_events``: customer events written in bulk, each phase move in the lead's log."""

    def test_events_and_the_phase_changes_they_made(self):
        exploring = self.env.ref("crm_stage_survey.crm_decision_phase_exploring")
        comparing = self.env.ref("crm_stage_survey.crm_decision_phase_comparing")
        lead, other = self.env["crm.lead"].create([{"name": "Bulk one"}, {"name": "Bulk two"}])
        later = T0 + timedelta(days=3)
        count = self.env["crm.lead.customer.event"]._bulk_insert_events(
            {
                "lead_id": [lead.id, other.id, lead.id, lead.id],
                "event_type": ["email_received", "email_received", "document_opened", "email_received"],
                "description": ["Question", "Question", "Price list", "Thanks"],
                "phase_id": [exploring.id, exploring.id, comparing.id, None],
                "date": [epoch(T0), epoch(T0), epoch(later), epoch(later + timedelta(hours=1))],
            }
        )
        self.assertEqual(count, 4)
        self.env.invalidate_all()
        events = self.env["crm.lead.customer.event"].search([("lead_id", "=", lead.id)])
        self.assertEqual(len(events), 3)
        self.assertEqual(events.create_uid, self.env.ref("base.user_root"), "the customer acted")
        self.assertEqual(events.company_id, lead.company_id)
        changes = lead.decision_phase_change_ids.sorted("date")
        self.assertEqual(changes.mapped("phase_id"), exploring | comparing)
        self.assertEqual(changes.mapped("old_phase_id"), exploring, "the second starts where the first ended")
        self.assertFalse(changes[0].old_phase_id)
        self.assertEqual(set(changes.mapped("origin")), {"customer"})
        self.assertEqual(changes.event_id, events.filtered("phase_id"))
        self.assertEqual(changes.mapped("date"), [T0, later])
        self.assertEqual(len(other.decision_phase_change_ids), 1)

    def test_nothing_to_insert(self):
        self.assertEqual(
            self.env["crm.lead.customer.event"]._bulk_insert_events(
                {"lead_id": [], "event_type": [], "description": [], "phase_id": [], "date": []}
            ),
            0,
        )
