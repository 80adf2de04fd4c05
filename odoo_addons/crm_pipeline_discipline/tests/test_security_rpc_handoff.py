"""Ways around the handoff rules (crm_lead_handoff), tried over JSON-2 the way a salesperson could.

Company A has Marketing (``hs_marketer``) handing its inquiries over to Inside Sales (``hs_inside``), and
Field Sales (``hs_field``) beside them; ``hs_dual`` leads Marketing and is a member of Inside Sales, so that
the handoffs they send are ones they would otherwise be allowed to decide on. Company B has its own route
and a handoff awaiting ``hs_rep_b``. Each attempt must be refused with the right error and leave the leads,
their phase stays and the handoffs as they were (read again as superuser after every attempt), as in
``test_security_rpc``.
"""

import logging
from collections import Counter

from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .test_security_rpc import JSON2_NAME, JSON2_STATUS, NOISY_LOGGERS, PRIVATE, Attempt, Reply

_logger = logging.getLogger(__name__)

BY_HAND = "not by hand"  # the lead's phase and handoff fields are the flows'
NOT_SENDER = "not the sender"
RECEIVING_SIDE = "Only the receiving side"
REASON = "choose a rejection reason"


def _write_lead(user, field, value):
    return lambda t: t.json2(user, "crm.lead", "write", ids=t.lead_awaiting.ids, vals={field: value})


def _handoff_call(user, handoff, method, **payload):
    return lambda t: t.json2(user, "crm.lead.handoff", method, ids=getattr(t, handoff).ids, **payload)


ATTEMPTS = [
    # ---- the lifecycle phase is the flows': no salesperson writes it ------------------------------------
    Attempt(
        "write lifecycle_phase_id on a lead of one's team",
        "phase by hand",
        "json2",
        "inside",
        lambda t: t.json2(
            "inside", "crm.lead", "write", ids=t.lead_accepted.ids, vals={"lifecycle_phase_id": t.won.id}
        ),
        "AccessError",
        BY_HAND,
    ),
    Attempt(
        "write lifecycle_phase_id on one's own new lead",
        "phase by hand",
        "json2",
        "marketer",
        lambda t: t.json2(
            "marketer", "crm.lead", "write", ids=t.lead_inquiry.ids, vals={"lifecycle_phase_id": t.sal.id}
        ),
        "AccessError",
        BY_HAND,
    ),
    Attempt(
        "create a lead directly in a later phase",
        "phase by hand",
        "json2",
        "marketer",
        lambda t: t.json2(
            "marketer",
            "crm.lead",
            "create",
            vals_list=[{"name": "Forced phase", "team_id": t.marketing.id, "lifecycle_phase_id": t.sal.id}],
        ),
        "AccessError",
        BY_HAND,
    ),
    Attempt(
        "clear the awaiting handoff of a lead in one's queue",
        "phase by hand",
        "json2",
        "inside",
        _write_lead("inside", "handoff_id", False),
        "AccessError",
        BY_HAND,
    ),
    Attempt(
        "restart the handed-over clock (write handoff_sent_date)",
        "phase by hand",
        "json2",
        "inside",
        _write_lead("inside", "handoff_sent_date", "2030-01-01 09:00:00"),
        "AccessError",
        BY_HAND,
    ),
    Attempt(
        "add a phase stay",
        "phase by hand",
        "json2",
        "inside",
        lambda t: t.json2(
            "inside",
            "crm.lead.phase.history",
            "create",
            vals_list=[
                {"lead_id": t.lead_accepted.id, "phase_id": t.won.id, "date_in": "2026-01-05 09:00:00"}
            ],
        ),
        "AccessError",
    ),
    Attempt(
        "open the manager's phase correction as a salesperson",
        "phase by hand",
        "json2",
        "inside",
        lambda t: t.json2("inside", "crm.lead", "action_phase_correction", ids=t.lead_accepted.ids),
        "AccessError",
        "Only sales managers",
    ),
    # ---- only the receiving side decides, never the sender ----------------------------------------------
    Attempt(
        "accept one's own handoff (the sender is also on the receiving team)",
        "decision",
        "json2",
        "dual",
        _handoff_call("dual", "handoff_by_dual", "action_accept"),
        "AccessError",
        NOT_SENDER,
    ),
    Attempt(
        "reject one's own handoff with a reason",
        "decision",
        "json2",
        "dual",
        lambda t: t.json2(
            "dual", "crm.lead.handoff", "action_reject", ids=t.handoff_by_dual.ids, reason_id=t.reason.id
        ),
        "AccessError",
        NOT_SENDER,
    ),
    Attempt(
        "accept a handoff sent to another team",
        "decision",
        "json2",
        "field",
        _handoff_call("field", "handoff", "action_accept"),
        "AccessError",
        RECEIVING_SIDE,
    ),
    Attempt(
        "accept it from the lead's button, not being a receiver",
        "decision",
        "json2",
        "field",
        lambda t: t.json2("field", "crm.lead", "action_handoff_accept", ids=t.lead_awaiting.ids),
        "AccessError",
        RECEIVING_SIDE,
    ),
    Attempt(
        "accept a handoff for a user outside the receiving side",
        "decision",
        "json2",
        "inside",
        lambda t: t.json2(
            "inside", "crm.lead.handoff", "action_accept", ids=t.handoff.ids, user_id=t.field_rep.id
        ),
        "UserError",
        "is not on the receiving side",
    ),
    Attempt(
        "mark a handoff accepted by writing its state",
        "decision",
        "json2",
        "inside",
        lambda t: t.json2(
            "inside", "crm.lead.handoff", "write", ids=t.handoff.ids, vals={"state": "accepted"}
        ),
        "AccessError",
    ),
    Attempt(
        "accept through the private _accept",
        "decision",
        "json2",
        "inside",
        _handoff_call("inside", "handoff", "_accept"),
        "AccessError",
        PRIVATE,
    ),
    Attempt(
        "create an accepted handoff directly",
        "decision",
        "json2",
        "marketer",
        lambda t: t.json2(
            "marketer",
            "crm.lead.handoff",
            "create",
            vals_list=[
                {
                    "lead_id": t.lead_inquiry.id,
                    "route_id": t.route.id,
                    "state": "accepted",
                    "date_sent": "2026-01-05 09:00:00",
                }
            ],
        ),
        "AccessError",
    ),
    Attempt(
        "accept a handoff decided already",
        "decision",
        "json2",
        "inside",
        _handoff_call("inside", "handoff_accepted", "action_accept"),
        "UserError",
        "decided already",
    ),
    # ---- a rejection says why ---------------------------------------------------------------------------
    Attempt(
        "reject without a reason",
        "rejection",
        "json2",
        "inside",
        _handoff_call("inside", "handoff", "action_reject", note="Not for us"),
        "UserError",
        REASON,
    ),
    Attempt(
        "reject with a reason that does not exist",
        "rejection",
        "json2",
        "inside",
        _handoff_call("inside", "handoff", "action_reject", reason_id=999_999),
        "UserError",
        REASON,
    ),
    # ---- another company's handoffs ---------------------------------------------------------------------
    Attempt(
        "read company A's handoffs as company B's salesperson",
        "multi-company",
        "json2",
        "rep_b",
        lambda t: t.json2("rep_b", "crm.lead.handoff", "read", ids=t.handoff.ids, fields=["state", "note"]),
        "AccessError",
    ),
    Attempt(
        "read company A's phase stays as company B's salesperson",
        "multi-company",
        "json2",
        "rep_b",
        lambda t: t.json2(
            "rep_b", "crm.lead.phase.history", "read", ids=t.stays_awaiting.ids, fields=["origin"]
        ),
        "AccessError",
    ),
    Attempt(
        "accept company A's handoff as company B's salesperson",
        "multi-company",
        "json2",
        "rep_b",
        _handoff_call("rep_b", "handoff", "action_accept"),
        "AccessError",
    ),
    Attempt(
        "reject company A's handoff as company B's salesperson",
        "multi-company",
        "json2",
        "rep_b",
        lambda t: t.json2(
            "rep_b", "crm.lead.handoff", "action_reject", ids=t.handoff.ids, reason_id=t.reason.id
        ),
        "AccessError",
    ),
    Attempt(
        "accept company B's handoff as company A's receiver",
        "multi-company",
        "json2",
        "inside",
        _handoff_call("inside", "handoff_b", "action_accept"),
        "AccessError",
    ),
]


@tagged("post_install", "-at_install")
class TestHandoffSecurityOverRpc(Json2Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(su=True)
        env = cls.env
        salesman = "sales_team.group_sale_salesman"
        cls.company_a = env.company
        cls.marketer = new_test_user(env, login="hs_marketer", groups=salesman)
        cls.inside_rep = new_test_user(env, login="hs_inside", groups=salesman)
        cls.field_rep = new_test_user(env, login="hs_field", groups=salesman)
        cls.dual = new_test_user(env, login="hs_dual", groups=salesman)
        Team = env["crm.team"]
        # a user is a member of one team at a time: the dual one leads Marketing and is a member of Inside
        cls.marketing = Team.create(
            {"name": "HS Marketing", "user_id": cls.dual.id, "member_ids": [(6, 0, cls.marketer.ids)]}
        )
        cls.inside = Team.create(
            {"name": "HS Inside", "member_ids": [(6, 0, (cls.inside_rep | cls.dual).ids)]}
        )
        cls.field = Team.create({"name": "HS Field", "member_ids": [(6, 0, cls.field_rep.ids)]})
        cls.inquiry = env.ref("crm_lead_handoff.crm_lifecycle_phase_inquiry")
        cls.sal = env.ref("crm_lead_handoff.crm_lifecycle_phase_sal")
        cls.won = env.ref("crm_lead_handoff.crm_lifecycle_phase_won")
        cls.reason = env.ref("crm_lead_handoff.crm_handoff_reject_reason_wrong_persona")
        route = {
            "to_kind": "team",
            "from_phase_id": cls.inquiry.id,
            "accept_phase_id": cls.sal.id,
            "domain": "[('email_from', '!=', False)]",
        }
        cls.route = env["crm.handoff.route"].create(
            dict(
                route,
                name="HS Marketing to Inside",
                from_team_ids=[(6, 0, cls.marketing.ids)],
                to_team_id=cls.inside.id,
            )
        )
        Lead = env["crm.lead"]
        lead = {"type": "lead", "team_id": cls.marketing.id, "email_from": "buyer@example.com"}
        cls.lead_awaiting, cls.lead_dual, cls.lead_accepted, cls.lead_inquiry = Lead.create(
            [
                dict(lead, name="HS awaiting", user_id=cls.marketer.id),
                dict(lead, name="HS sent by the dual member", user_id=cls.dual.id),
                dict(lead, name="HS accepted", user_id=cls.marketer.id),
                dict(lead, name="HS inquiry", user_id=cls.marketer.id),
            ]
        )
        Handoff = env["crm.lead.handoff"]
        # as the sender sends them; read and checked as superuser
        cls.handoff, cls.handoff_accepted = (
            Handoff.with_user(cls.marketer)
            ._handoff_send(cls.lead_awaiting | cls.lead_accepted, cls.route, note="Asked for a demo")
            .with_env(env)
        )
        cls.handoff_accepted.with_user(cls.inside_rep).action_accept()
        cls.handoff_by_dual = (
            Handoff.with_user(cls.dual)._handoff_send(cls.lead_dual, cls.route).with_env(env)
        )

        cls.company_b = env["res.company"].create({"name": "HS Company B"})
        cls.rep_b = new_test_user(
            env,
            login="hs_rep_b",
            groups=salesman,
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        marketing_b, inside_b = Team.create(
            [
                {
                    "name": "HS B Marketing",
                    "company_id": cls.company_b.id,
                    "member_ids": [(6, 0, cls.rep_b.ids)],
                },
                {"name": "HS B Inside", "company_id": cls.company_b.id},
            ]
        )
        route_b = env["crm.handoff.route"].create(
            dict(
                route,
                name="HS B route",
                company_id=cls.company_b.id,
                from_team_ids=[(6, 0, marketing_b.ids)],
                to_team_id=inside_b.id,
            )
        )
        cls.lead_b = Lead.with_company(cls.company_b).create(
            dict(
                lead,
                name="HS B lead",
                team_id=marketing_b.id,
                user_id=cls.rep_b.id,
                company_id=cls.company_b.id,
            )
        )
        cls.handoff_b = (
            Handoff.with_user(cls.rep_b)
            .with_company(cls.company_b)
            ._handoff_send(cls.lead_b, route_b)
            .with_env(env)
        )
        cls.stays_awaiting = cls.lead_awaiting.phase_history_ids
        cls.rpc_users = {
            "marketer": cls.marketer,
            "inside": cls.inside_rep,
            "field": cls.field_rep,
            "dual": cls.dual,
            "rep_b": cls.rep_b,
        }
        env.flush_all()

    def json2(self, user, model, method, **payload):
        status, body = super().json2(self.rpc_users[user], model, method, **payload)
        return Reply(status=status, body=body)

    def fixture_state(self):
        """Everything an attempt could change, read as superuser; lists in id order."""
        self.env.invalidate_all()
        env = self.env
        Lead = env["crm.lead"].with_context(active_test=False)
        leads = Lead.search([("name", "like", "HS ")], order="id")
        return {
            "leads": leads.read(
                [
                    "team_id",
                    "user_id",
                    "lifecycle_phase_id",
                    "lifecycle_phase_date",
                    "handoff_id",
                    "handoff_sent_date",
                ]
            ),  # fmt: skip
            "lead count": Lead.search_count([]),
            "stays": env["crm.lead.phase.history"].search_read(
                [("lead_id", "in", leads.ids)],
                ["phase_id", "date_in", "date_out", "is_current", "origin", "handoff_id"],
                order="id",
            ),
            "handoffs": env["crm.lead.handoff"].search_read(
                [],
                ["state", "date_decided", "decided_by_id", "reason_id", "new_user_id", "lead_id"],
                order="id",
            ),
        }

    def assertRefused(self, attempt, reply):
        body = reply.body if isinstance(reply.body, dict) else {}
        kind = attempt.refusal
        self.assertEqual((reply.status, body.get("name")), (JSON2_STATUS[kind], JSON2_NAME[kind]), reply.body)
        self.assertIn(attempt.says, body["message"])

    def test_the_fixture_is_what_the_attempts_need(self):
        """The handoffs awaiting, decided, sent by a member of the receiving team; the phases recorded."""
        self.assertEqual(
            (self.handoff | self.handoff_by_dual | self.handoff_b).mapped("state"), ["awaiting"] * 3
        )
        self.assertEqual(self.handoff_accepted.state, "accepted")
        self.assertIn(self.dual, self.handoff_by_dual.receiver_ids, "the sender is also a receiver")
        self.assertNotIn(self.field_rep, self.handoff.receiver_ids)
        self.assertEqual(self.lead_awaiting.handoff_id, self.handoff)
        self.assertEqual((self.lead_awaiting.team_id, self.lead_awaiting.user_id.id), (self.inside, False))
        self.assertEqual(self.lead_accepted.lifecycle_phase_id, self.sal)
        self.assertEqual(self.lead_inquiry.lifecycle_phase_id, self.inquiry)
        self.assertTrue(self.stays_awaiting)
        # the receiving side itself decides: allowed (and undone with the test)
        status = self.json2("inside", "crm.lead.handoff", "action_accept", ids=self.handoff.ids).status
        self.assertEqual(status, 200)
        self.env.invalidate_all()
        self.assertEqual(
            (self.lead_awaiting.lifecycle_phase_id, self.lead_awaiting.user_id), (self.sal, self.inside_rep)
        )

    def test_handoff_bypass_attempts_are_refused(self):
        counted = Counter(attempt.category for attempt in ATTEMPTS)
        self.assertEqual(len({attempt.label for attempt in ATTEMPTS}), len(ATTEMPTS), "attempts are distinct")
        refused = Counter()
        for attempt in ATTEMPTS:
            with self.subTest(attempt=attempt.label, user=attempt.user):
                before = self.fixture_state()
                with mute_logger(*NOISY_LOGGERS):
                    reply = attempt.call(self)
                self.assertRefused(attempt, reply)
                self.assertEqual(self.fixture_state(), before, "the refused attempt changed nothing")
                refused[attempt.category] += 1
        _logger.info(
            "Handoff security over RPC: %d bypass attempts, %d refused (%s)",
            len(ATTEMPTS),
            sum(refused.values()),
            ", ".join(f"{category} {refused[category]}/{total}" for category, total in counted.items()),
        )
        self.assertEqual(refused, counted)
