from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import HandoffMixin

ACCESS, USER = 403, 422  # the HTTP status of an AccessError, of a UserError


@tagged("post_install", "-at_install")
class TestRpcRefusals(HandoffMixin, Json2Case):
    """What the screens do not offer is refused over JSON-2 as well, with a message saying what to do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_handoffs()

    def assertRefused(self, call, status, text):
        got, body = call
        self.assertEqual(got, status, body)
        self.assertIn(text, body["message"])

    @mute_logger("odoo.http")  # the refusals are logged as warnings by the server
    def test_salespeople_cannot_write_the_phase_or_the_handoff(self):
        lead = self._qualified()
        self.assertRefused(
            self.json2(
                self.marketer, "crm.lead", "write", ids=lead.ids, vals={"lifecycle_phase_id": self.sal.id}
            ),
            ACCESS,
            "ask a sales manager to correct the phase",
        )
        self.assertRefused(
            self.json2(self.manager, "crm.lead", "write", ids=lead.ids, vals={"handoff_sent_date": False}),
            ACCESS,
            "Correct Phase",
        )
        status, body = self.json2(
            self.marketer,
            "crm.lead.phase.history",
            "create",
            vals_list=[{"lead_id": lead.id, "phase_id": self.won.id, "date_in": "2026-03-02 09:00:00"}],
        )
        self.assertEqual(status, ACCESS, body)
        handoff = self._send(lead, self.to_inside, self.marketer)
        status, body = self.json2(
            self.manager, "crm.lead.handoff", "write", ids=handoff.ids, vals={"state": "accepted"}
        )
        self.assertEqual(status, ACCESS, body)
        self.assertEqual(handoff.state, "awaiting")
        lead.invalidate_recordset()
        self.assertEqual(lead.lifecycle_phase_id, self.mql)

    @mute_logger("odoo.http")  # the refusals are logged as warnings by the server
    def test_only_the_receiving_side_accepts_or_rejects(self):
        lead = self._qualified()
        handoff = self._send(lead, self.to_inside, self.marketer)
        self.assertRefused(
            self.json2(self.marketer, "crm.lead.handoff", "action_accept", ids=handoff.ids),
            ACCESS,
            "not the",
        )
        self.assertRefused(
            self.json2(
                self.field, "crm.lead.handoff", "action_reject", ids=handoff.ids, reason_id=self.wrong_size.id
            ),
            ACCESS,
            "Only the receiving side",
        )
        self.assertRefused(
            self.json2(self.inside, "crm.lead.handoff", "action_reject", ids=handoff.ids),
            USER,
            "choose a rejection reason",
        )
        status, body = self.json2(
            self.inside,
            "crm.lead.handoff",
            "action_reject",
            ids=handoff.ids,
            reason_id=self.wrong_size.id,
            note="Too small",
        )
        self.assertEqual(status, 200, body)
        handoff.invalidate_recordset()
        self.assertEqual((handoff.state, handoff.reason_id), ("rejected", self.wrong_size))

    @mute_logger("odoo.http")  # the refusals are logged as warnings by the server
    def test_a_handoff_out_of_phase_is_refused(self):
        lead = self._lead()
        status, body = self.json2(
            self.marketer,
            "crm.lead.handoff.send",
            "create",
            vals_list=[{"lead_id": lead.id, "route_id": self.to_inside.id}],
        )
        self.assertEqual(status, 200, body)
        self.assertRefused(
            self.json2(self.marketer, "crm.lead.handoff.send", "action_send", ids=body),
            USER,
            "hands over leads in Marketing Qualified",
        )
        status, body = self.json2(
            self.marketer,
            "crm.lead.phase.correction",
            "create",
            vals_list=[{"lead_id": lead.id, "phase_id": self.sal.id, "reason": "I say so"}],
        )
        self.assertEqual(status, ACCESS, body)
        self.assertEqual(lead.lifecycle_phase_id, self.inquiry)
