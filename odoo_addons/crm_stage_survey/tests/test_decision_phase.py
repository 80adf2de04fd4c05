import base64
import uuid

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user, tagged


class DecisionPhaseFixtures:
    """Salespeople, a customer company with two contacts, a stranger, a second company, a lead of the first
    salesperson with an attachment, and the seeded phases, tag and triggers."""

    @classmethod
    def _setup_decision_fixtures(cls):
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        cls.company = cls.env.company
        cls.rep = new_test_user(
            cls.env,
            login="dp_rep",
            name="Rita Rep",
            groups="sales_team.group_sale_salesman",
            email="rita@ours.example.com",
        )
        cls.rep_2 = new_test_user(
            cls.env,
            login="dp_rep_2",
            name="Ralf Rep",
            groups="sales_team.group_sale_salesman",
            email="ralf@ours.example.com",
        )
        Partner = cls.env["res.partner"]
        cls.customer_company = Partner.create(
            {"name": "Acme Corp", "is_company": True, "email": "info@acme.example.com"}
        )
        cls.jane = Partner.create(
            {"name": "Jane Buyer", "email": "jane@acme.example.com", "parent_id": cls.customer_company.id}
        )
        cls.joe = Partner.create(
            {"name": "Joe Engineer", "email": "joe@acme.example.com", "parent_id": cls.customer_company.id}
        )
        cls.stranger = Partner.create({"name": "Sam Stranger", "email": "sam@elsewhere.example.com"})
        cls.lead = cls.env["crm.lead"].create(
            {"name": "Acme rollout", "type": "opportunity", "partner_id": cls.jane.id, "user_id": cls.rep.id}
        )
        cls.attachment = cls._attach(cls.lead, "Price list 2026.txt", b"PRICE LIST 2026: 10 EUR a seat")
        cls.need = cls.env.ref("crm_stage_survey.crm_decision_phase_need")
        cls.exploring = cls.env.ref("crm_stage_survey.crm_decision_phase_exploring")
        cls.comparing = cls.env.ref("crm_stage_survey.crm_decision_phase_comparing")
        cls.business_case = cls.env.ref("crm_stage_survey.crm_decision_phase_business_case")
        cls.deciding = cls.env.ref("crm_stage_survey.crm_decision_phase_deciding")
        cls.pricing = cls.env.ref("crm_stage_survey.crm_document_tag_pricing")
        cls.Event = cls.env["crm.lead.customer.event"]

    @classmethod
    def _attach(cls, record, name, data):
        return cls.env["ir.attachment"].create(
            {
                "name": name,
                "datas": base64.b64encode(data),
                "mimetype": "text/plain",
                "res_model": record._name,
                "res_id": record.id,
            }
        )

    def _events(self, lead):
        # sudo: the test looks at every event, whatever the user
        return self.Event.sudo().search([("lead_id", "=", lead.id)])


@tagged("post_install", "-at_install")
class TestDecisionPhase(DecisionPhaseFixtures, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_decision_fixtures()

    def _commit_messages(self, lead):
        """The lead's chatter once the transaction is committed (tracking is posted at commit)."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        lead.invalidate_recordset(["message_ids"])
        return lead.message_ids

    def test_seeded_price_list_opened_moves_to_comparing_vendors(self):
        # Odoo tracks no change of a record in the transaction that created it: commit the setup first
        before = self._commit_messages(self.lead)
        event = self.Event._log(
            self.lead,
            "document_opened",
            partner=self.jane,
            description="Price list 2026.txt",
            payload={"attachment": self.attachment.id},
            tags=self.pricing,
        )
        self.assertEqual(self.lead.decision_phase_id, self.comparing)
        self.assertEqual(event.phase_id, self.comparing)
        self.assertEqual(event.partner_id, self.jane)
        self.assertEqual(event.company_id, self.lead.company_id)
        messages = self._commit_messages(self.lead) - before
        tracking = messages.sudo().tracking_value_ids
        self.assertEqual(tracking.field_id.name, "decision_phase_id")
        self.assertEqual((tracking.old_value_char, tracking.new_value_char), ("", "Comparing vendors"))
        note = messages - tracking.mail_message_id
        self.assertEqual(len(note), 1)
        self.assertIn("Jane Buyer opened the document “Price list 2026.txt”", note.body)
        self.assertIn("Price list opened", note.body, "the note names the trigger")
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))

    def test_untagged_document_does_not_move_the_phase(self):
        event = self.Event._log(self.lead, "document_opened", partner=self.jane, description="Brochure.pdf")
        self.assertFalse(self.lead.decision_phase_id)
        self.assertFalse(event.phase_id)
        self.assertEqual(self._events(self.lead), event, "the event is logged all the same")

    def test_forward_only(self):
        self.Event._log(
            self.lead, "document_opened", partner=self.jane, description="Prices", tags=self.pricing
        )
        self.assertEqual(self.lead.decision_phase_id, self.comparing)
        # an email means "exploring solutions", an earlier phase: the lead stays where it is
        event = self.Event._log(self.lead, "email_received", partner=self.jane, description="A question")
        self.assertEqual(self.lead.decision_phase_id, self.comparing)
        self.assertFalse(event.phase_id)
        # a completed survey means "building the business case", a later one
        event = self.Event._log(self.lead, "survey_completed", partner=self.jane, description="Needs")
        self.assertEqual(self.lead.decision_phase_id, self.business_case)
        self.assertEqual(event.phase_id, self.business_case)
        # nobody moves it back by hand (see TestDecisionPhaseByHand)
        with self.assertRaises(UserError):
            self.lead.with_user(self.rep).decision_phase_id = self.need
        self.assertEqual(self.lead.decision_phase_id, self.business_case)

    def test_pattern_matching_ignores_case_and_latest_phase_wins(self):
        self.env["crm.decision.phase.trigger"].create(
            {
                "name": "Contract",
                "event_type": "email_received",
                "pattern": "contract",
                "phase_id": self.deciding.id,
            }
        )
        self.Event._log(self.lead, "email_received", partner=self.jane, description="Hello")
        self.assertEqual(
            self.lead.decision_phase_id, self.exploring, "no pattern in the subject: seeded trigger"
        )
        self.Event._log(self.lead, "email_received", partner=self.jane, description="Our CONTRACT, signed")
        self.assertEqual(
            self.lead.decision_phase_id, self.deciding, "both triggers match: the latest phase wins"
        )

    def test_tag_matching(self):
        case_study = self.env["crm.document.tag"].create({"name": "case study"})
        self.env["crm.decision.phase.trigger"].create(
            {
                "name": "Case study opened",
                "event_type": "document_opened",
                "document_tag_id": case_study.id,
                "phase_id": self.exploring.id,
            }
        )
        self.Event._log(self.lead, "document_opened", description="Story", tags=self.env["crm.document.tag"])
        self.assertFalse(self.lead.decision_phase_id)
        self.Event._log(self.lead, "document_opened", description="Story", tags=case_study)
        self.assertEqual(self.lead.decision_phase_id, self.exploring)
        self.Event._log(self.lead, "document_opened", description="Both", tags=case_study | self.pricing)
        self.assertEqual(self.lead.decision_phase_id, self.comparing)

    def test_inactive_trigger_or_phase_does_not_apply(self):
        self.env.ref("crm_stage_survey.crm_decision_phase_trigger_email").active = False
        self.Event._log(self.lead, "email_received", partner=self.jane, description="Hi")
        self.assertFalse(self.lead.decision_phase_id)
        self.comparing.active = False
        self.Event._log(
            self.lead, "document_opened", partner=self.jane, description="Prices", tags=self.pricing
        )
        self.assertFalse(self.lead.decision_phase_id)

    def test_multi_company(self):
        company_b = self.env["res.company"].create({"name": "Decision B"})
        self.env.user.company_ids = [(4, company_b.id)]
        self.env["crm.decision.phase.trigger"].with_company(company_b).create(
            {
                "name": "B: any email",
                "event_type": "email_received",
                "phase_id": self.deciding.id,
                "company_id": company_b.id,
            }
        )
        self.Event._log(self.lead, "email_received", partner=self.jane, description="Hi")
        self.assertEqual(
            self.lead.decision_phase_id, self.exploring, "the trigger of company B does not apply to A"
        )
        lead_b = (
            self.env["crm.lead"]
            .with_company(company_b)
            .create({"name": "B lead", "partner_id": self.jane.id, "company_id": company_b.id})
        )
        event = self.Event._log(lead_b, "email_received", partner=self.jane, description="Hi")
        self.assertEqual(lead_b.decision_phase_id, self.deciding)
        self.assertEqual(event.company_id, company_b)
        # a rep of company A only does not see B's events
        self.assertFalse(self.Event.with_user(self.rep).search([("id", "=", event.id)]))

    def test_lead_views_for_a_salesperson(self):
        Lead = self.env["crm.lead"].with_user(self.rep)
        views = Lead.get_views([(False, "form"), (False, "kanban"), (False, "list"), (False, "search")])
        for view_type in ("form", "kanban", "list", "search"):
            self.assertIn("decision_phase_id", views["views"][view_type]["arch"], view_type)
        self.assertIn("action_share_document", views["views"]["form"]["arch"])
        # the phase is shown, not edited: the customer's actions set it; correcting it is for managers
        form = Form(self.lead.with_user(self.rep))
        with self.assertRaisesRegex(AssertionError, "readonly"):
            form.decision_phase_id = self.deciding
        self.assertNotIn("action_decision_phase_correct", views["views"]["form"]["arch"])

    def test_trigger_tag_only_for_document_openings(self):
        with self.assertRaises(ValidationError):
            self.env["crm.decision.phase.trigger"].create(
                {
                    "name": "Wrong",
                    "event_type": "email_received",
                    "document_tag_id": self.pricing.id,
                    "phase_id": self.deciding.id,
                }
            )

    def test_events_are_read_only_for_users(self):
        event = self.Event._log(self.lead, "email_received", partner=self.jane, description="Hi")
        as_rep = event.with_user(self.rep)
        self.assertEqual(as_rep.description, "Hi")
        with self.assertRaises(AccessError):
            as_rep.write({"description": "Changed"})
        with self.assertRaises(AccessError):
            self.Event.with_user(self.rep).create(
                {"lead_id": self.lead.id, "event_type": "email_received", "description": "Forged"}
            )

    def test_salesperson_sees_events_of_own_and_unassigned_leads_only(self):
        own = self.Event._log(self.lead, "email_received", partner=self.jane, description="Own")
        unassigned = self.env["crm.lead"].create(
            {"name": "Nobody's", "partner_id": self.jane.id, "user_id": False}
        )
        open_event = self.Event._log(unassigned, "email_received", partner=self.jane, description="Open")
        other = self.env["crm.lead"].create(
            {"name": "Ralf's", "partner_id": self.jane.id, "user_id": self.rep_2.id}
        )
        other_event = self.Event._log(other, "email_received", partner=self.jane, description="Other")
        seen = self.Event.with_user(self.rep).search([("id", "in", (own | open_event | other_event).ids)])
        self.assertEqual(seen, own | open_event)
        with self.assertRaises(AccessError):
            other_event.with_user(self.rep).read(["description"])
        manager = new_test_user(self.env, login="dp_manager", groups="sales_team.group_sale_manager")
        self.assertEqual(
            self.Event.with_user(manager).search([("id", "in", (own | open_event | other_event).ids)]),
            own | open_event | other_event,
        )
        self.assertEqual(self.lead.with_user(self.rep).customer_event_count, 1)


@tagged("post_install", "-at_install")
class TestInboundEmail(DecisionPhaseFixtures, TransactionCase):
    """Emails coming through the mail gateway on the lead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_decision_fixtures()

    def _receive(self, email_from, subject):
        raw = (
            f"From: {email_from}\r\n"
            "To: sales@ours.example.com\r\n"
            f"Subject: {subject}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.com>\r\n"
            "Date: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "\r\n"
            "Hello, a question about your offer.\r\n"
        )
        # sudo: the mail gateway runs as the superuser
        self.env["mail.thread"].sudo().message_process("crm.lead", raw, thread_id=self.lead.id)

    def test_email_from_the_customer_logs_an_event(self):
        self._receive('"Jane Buyer" <jane@acme.example.com>', "Question on seats")
        event = self._events(self.lead)
        self.assertEqual(len(event), 1)
        self.assertEqual(event.event_type, "email_received")
        self.assertEqual(event.partner_id, self.jane)
        self.assertEqual(event.description, "Question on seats")
        self.assertEqual(set(event.payload), {"message"})
        self.assertEqual(self.lead.decision_phase_id, self.exploring)

    def test_email_from_a_colleague_of_the_customer_logs_an_event(self):
        self._receive("joe@acme.example.com", "Technical question")
        self.assertEqual(self._events(self.lead).partner_id, self.joe)

    def test_email_from_someone_else_logs_nothing(self):
        self._receive("sam@elsewhere.example.com", "Spam")
        self.assertFalse(self._events(self.lead))
        self.assertFalse(self.lead.decision_phase_id)

    def test_notes_and_outgoing_messages_log_nothing(self):
        lead = self.lead.with_user(self.rep)
        lead.message_post(body="Called Jane", message_type="comment", subtype_xmlid="mail.mt_note")
        lead.message_post(body="Hi Jane", message_type="comment", partner_ids=self.jane.ids)
        self.assertFalse(self._events(self.lead))


@tagged("post_install", "-at_install")
class TestDecisionPhaseByHand(DecisionPhaseFixtures, TransactionCase):
    """The decision phase replaces the salesperson's opinion: nobody sets it by hand on any path; a sales
    manager corrects it, with a reason; every change records what made it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_decision_fixtures()
        cls.manager = new_test_user(
            cls.env, login="dp_manager", name="Mia Manager", groups="sales_team.group_sale_manager"
        )
        cls.event = cls.Event._log(
            cls.lead, "document_opened", partner=cls.jane, description="Prices", tags=cls.pricing
        )

    def assertByHandRefused(self, operation):
        with self.assertRaises(UserError) as refusal:
            operation()
        self.assertIn("not by hand", str(refusal.exception))
        self.assertIn("Correct Decision Phase", str(refusal.exception))
        self.assertEqual(self.lead.decision_phase_id, self.comparing, "the phase did not move")

    def test_nobody_sets_it_by_hand(self):
        for user in (self.rep, self.manager, self.env.user):
            lead = self.lead.with_user(user)
            with self.subTest(user=user.login):
                self.assertByHandRefused(
                    lambda lead=lead: lead.write({"decision_phase_id": self.deciding.id})
                )
                self.assertByHandRefused(lambda lead=lead: lead.write({"decision_phase_id": self.need.id}))
                self.assertByHandRefused(lambda lead=lead: lead.write({"decision_phase_id": False}))
                # forged: the addon's marker lives on the cursor, not in the context
                forged = lead.with_context(**{"crm_stage_survey.decision_phase": True})
                self.assertByHandRefused(
                    lambda forged=forged: forged.write({"decision_phase_id": self.need.id})
                )
        # repeating the phase it has is no change (an import of the whole row, a save)
        self.lead.with_user(self.rep).write({"decision_phase_id": self.comparing.id, "name": "Acme 2026"})
        self.assertEqual(self.lead.name, "Acme 2026")

    def test_new_leads_and_copies(self):
        Lead = self.env["crm.lead"].with_user(self.rep)
        with self.assertRaises(UserError):
            Lead.create({"name": "Pre-phased", "decision_phase_id": self.deciding.id})
        copy = self.lead.with_user(self.rep).copy()
        self.assertFalse(copy.decision_phase_id, "a copy has none of the customer's actions behind it")
        self.assertEqual(self.lead.decision_phase_id, self.comparing)

    def test_import_reports_the_refusal(self):
        self.env["ir.model.data"].create(
            {"module": "__import__", "name": "dp_lead", "model": "crm.lead", "res_id": self.lead.id}
        )
        result = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .with_context(import_file=True)
            .load(
                ["id", "decision_phase_id/id"],
                [["__import__.dp_lead", "crm_stage_survey.crm_decision_phase_need"]],
            )
        )
        self.assertFalse(result["ids"])
        self.assertIn("not by hand", result["messages"][0]["message"])
        self.assertEqual(self.lead.decision_phase_id, self.comparing)

    def test_update_record_server_action(self):
        # sudo: only administrators create server actions; the salesperson only runs it
        action = (
            self.env["ir.actions.server"]
            .sudo()
            .create(
                {
                    "name": "Set deciding",
                    "model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "state": "object_write",
                    "update_path": "decision_phase_id",
                    "value": str(self.deciding.id),
                }
            )
        )
        run = action.with_user(self.rep).with_context(
            active_model="crm.lead", active_ids=self.lead.ids, active_id=self.lead.id
        )
        self.assertByHandRefused(run.run)

    def test_a_manager_corrects_it_with_a_reason(self):
        self.assertEqual(self.lead.decision_phase_id, self.comparing)
        with self.assertRaises(UserError):
            self.lead.with_user(self.rep).action_decision_phase_correct()
        with self.assertRaises(AccessError):
            self.env["crm.decision.phase.correction"].with_user(self.rep).create(
                {"lead_id": self.lead.id, "phase_id": self.need.id, "reason": "x"}
            )
        action = self.lead.with_user(self.manager).action_decision_phase_correct()
        Wizard = (
            self.env["crm.decision.phase.correction"]
            .with_user(self.manager)
            .with_context(**action["context"])
        )
        with self.assertRaisesRegex(UserError, "reason"):
            Wizard.create({"phase_id": self.need.id, "reason": "  "}).action_apply()
        Wizard.create({"phase_id": self.need.id, "reason": "They restarted their search"}).action_apply()
        self.assertEqual(self.lead.decision_phase_id, self.need, "a correction may go back")
        note = self.lead.message_ids.filtered(lambda m: "They restarted their search" in (m.body or ""))
        self.assertIn("Mia Manager", note.body)
        self.assertIn("Comparing vendors", note.body)
        # another company's phase is refused
        company_b = self.env["res.company"].create({"name": "DP B"})
        phase_b = self.env["crm.decision.phase"].create({"name": "B phase", "company_id": company_b.id})
        with self.assertRaises(UserError):
            Wizard.create({"phase_id": phase_b.id, "reason": "Wrong company"}).action_apply()
        self.assertEqual(self.lead.decision_phase_id, self.need)

    def test_each_change_records_its_origin(self):
        """The customer's event, the manager with the reason, the merge — and a merge keeps them all."""
        self.lead.with_user(self.manager).action_decision_phase_correct()
        self.env["crm.decision.phase.correction"].with_user(self.manager).create(
            {"lead_id": self.lead.id, "phase_id": False, "reason": "Opened by mistake, says the buyer"}
        ).action_apply()
        self.assertFalse(self.lead.decision_phase_id, "a correction may clear it")
        other = self.env["crm.lead"].create(
            {
                "name": "Acme duplicate",
                "type": "opportunity",
                "partner_id": self.jane.id,
                "user_id": self.rep.id,
            }
        )
        survey_event = self.Event._log(other, "survey_completed", partner=self.joe, description="Needs")
        # a later sales stage makes self.lead the lead that survives the merge
        self.lead.stage_id = self.env["crm.stage"].create({"name": "DP Later", "sequence": 900})
        merged = (self.lead | other).with_user(self.rep).merge_opportunity()
        self.assertEqual(merged, self.lead)
        changes = self.env["crm.decision.phase.change"].search([("lead_id", "=", merged.id)], order="id")
        none = self.env["crm.decision.phase"]
        self.assertEqual(
            [(c.origin, c.old_phase_id, c.phase_id, c.event_id) for c in changes],
            [
                ("customer", none, self.comparing, self.event),
                ("correction", self.comparing, none, self.env["crm.lead.customer.event"]),
                ("customer", none, self.business_case, survey_event),
                ("merge", none, self.business_case, self.env["crm.lead.customer.event"]),
            ],
        )
        self.assertEqual(changes[0].partner_id, self.jane)
        self.assertFalse(changes[0].user_id, "the customer moved it, not a user")
        self.assertEqual(changes[1].user_id, self.manager)
        self.assertEqual(changes[1].reason, "Opened by mistake, says the buyer")
        self.assertEqual(changes[3].user_id, self.rep, "who merged")

    def test_salespeople_read_the_changes_of_their_leads(self):
        other = self.env["crm.lead"].create(
            {
                "name": "Colleague's",
                "type": "opportunity",
                "partner_id": self.joe.id,
                "user_id": self.rep_2.id,
            }
        )
        self.Event._log(other, "email_received", partner=self.joe, description="Hello")
        Change = self.env["crm.decision.phase.change"].with_user(self.rep)
        self.assertEqual(Change.search([]).lead_id, self.lead)
        self.assertEqual(self.lead.with_user(self.rep).decision_phase_change_count, 1)
        with self.assertRaises(AccessError):
            Change.search([]).write({"reason": "rewritten"})
