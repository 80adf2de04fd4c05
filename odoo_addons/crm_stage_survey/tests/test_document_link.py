from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import mute_logger

from .test_decision_phase import DecisionPhaseFixtures


@tagged("post_install", "-at_install")
class TestDocumentLink(DecisionPhaseFixtures, HttpCase):
    """Tracked links opened by an anonymous visitor through the HTTP route."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_decision_fixtures()
        cls.other_attachment = cls._attach(cls.lead, "Internal margins.txt", b"SECRET MARGINS")
        cls.link = cls._share(cls.attachment, cls.pricing)

    @classmethod
    def _share(cls, attachment, tags=None, user=None, lead=None, **vals):
        return (
            cls.env["crm.document.link"]
            .with_user(user or cls.rep)
            .create(
                {
                    "lead_id": (lead or cls.lead).id,
                    "partner_id": cls.jane.id,
                    "attachment_id": attachment.id,
                    "tag_ids": [(6, 0, (tags or cls.env["crm.document.tag"]).ids)],
                    **vals,
                }
            )
        )

    def _open(self, token):
        response = self.url_open(f"/crm/doc/{token}")
        self.env.invalidate_all()
        return response

    def test_valid_link_serves_the_document_and_logs_the_opening(self):
        self.assertTrue(self.link.url.endswith(f"/crm/doc/{self.link.token}"))
        response = self._open(self.link.token)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, b"PRICE LIST 2026: 10 EUR a seat")
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertEqual(response.headers["Referrer-Policy"], "no-referrer")
        self.assertEqual(self.link.open_count, 1)
        self.assertTrue(self.link.last_opened_at)
        event = self._events(self.lead)
        self.assertEqual(len(event), 1)
        self.assertEqual(
            (event.event_type, event.partner_id, event.description, event.link_id),
            ("document_opened", self.jane, "Price list 2026.txt", self.link),
        )
        self.assertEqual(event.payload, {"link": self.link.id, "attachment": self.attachment.id})
        self.assertEqual(self.lead.decision_phase_id, self.comparing, "seeded: a price list opened")
        # the visitor is anonymous: OdooBot signs the tracking and the note in the chatter
        moved = self.lead.message_ids.filtered(
            lambda message: (
                message.sudo().tracking_value_ids.field_id.name == "decision_phase_id"
                or "opened the document" in (message.body or "")
            )
        )
        self.assertEqual(len(moved), 2)
        self.assertEqual(moved.author_id, self.env.ref("base.partner_root"))
        self._open(self.link.token)
        self.assertEqual(self.link.open_count, 2)
        self.assertEqual(len(self._events(self.lead)), 2)
        self.assertEqual(self.lead.decision_phase_id, self.comparing)

    @mute_logger("odoo.http", "werkzeug")
    def test_invalid_links_get_the_same_404_and_log_nothing(self):
        expired = self._share(self.attachment, self.pricing)
        expired.sudo().expires_at = fields.Datetime.now() - timedelta(minutes=1)
        archived = self._share(self.attachment, self.pricing)
        archived.with_user(self.rep).action_archive()
        token = self.link.token
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        bodies = set()
        for bad in (expired.token, archived.token, tampered, token[:-1], token + "x", "x" * 43):
            response = self._open(bad)
            self.assertEqual(response.status_code, 404, bad)
            bodies.add(response.content)
        self.assertEqual(len(bodies), 1, "the same page, whatever the reason")
        self.assertEqual((expired.open_count, archived.open_count, self.link.open_count), (0, 0, 0))
        self.assertFalse(self._events(self.lead))
        self.assertFalse(self.lead.decision_phase_id)

    @mute_logger("odoo.http", "werkzeug")
    def test_a_link_never_serves_another_document(self):
        response = self.url_open(
            f"/crm/doc/{self.link.token}",
            params={"id": self.other_attachment.id, "field": "raw", "model": "ir.attachment"},
        )
        self.assertEqual(response.content, b"PRICE LIST 2026: 10 EUR a seat")
        self.assertNotIn(b"SECRET", response.content)
        # the document moved off the lead after it was shared: the link no longer serves it
        self.attachment.write({"res_id": self.env["crm.lead"].create({"name": "Elsewhere"}).id})
        self.assertEqual(self._open(self.link.token).status_code, 404)
        # only the GET method is routed
        self.assertEqual(self.url_open(f"/crm/doc/{self.link.token}", data={"a": "1"}).status_code, 405)

    def test_tokens(self):
        other = self._share(self.other_attachment, token="guessable")
        self.assertNotEqual(other.token, "guessable", "a token is always drawn by the server")
        self.assertGreaterEqual(len(other.token), 43)
        self.assertNotEqual(other.token, self.link.token)
        copy = self.link.copy()
        self.assertNotEqual(copy.token, self.link.token)
        self.assertEqual(copy.open_count, 0)
        with self.assertRaises(UserError):
            self.link.with_user(self.rep).write({"token": "guessable"})
        with self.assertRaises(UserError):
            self.link.with_user(self.rep).write({"open_count": 99})

    def test_default_expiry_follows_the_parameter(self):
        self.env["ir.config_parameter"].set_param("crm_stage_survey.document_link_days", "7")
        link = self._share(self.attachment)
        delta = link.expires_at - fields.Datetime.now()
        self.assertTrue(timedelta(days=6, hours=23) < delta <= timedelta(days=7), delta)
        self.env["ir.config_parameter"].set_param("crm_stage_survey.document_link_days", "nonsense")
        self.assertEqual(self.env["crm.document.link"]._validity_days(), 30)

    def test_attachment_must_be_attached_to_the_lead(self):
        other_lead = self.env["crm.lead"].create({"name": "Other", "user_id": self.rep.id})
        foreign = self._attach(other_lead, "Other price list.txt", b"OTHER")
        with self.assertRaisesRegex(ValidationError, "Only documents attached to the lead “Acme rollout”"):
            self._share(foreign)
        partner_file = self._attach(self.jane, "Contract.txt", b"CONTRACT")
        with self.assertRaisesRegex(ValidationError, "attach the file to the lead"):
            self._share(partner_file)
        with self.assertRaises(ValidationError):
            self.link.with_user(self.rep).write({"attachment_id": foreign.id})

    def test_salesperson_cannot_read_another_salespersons_links(self):
        self.assertEqual(
            self.env["crm.document.link"].with_user(self.rep_2).search([("id", "=", self.link.id)]),
            self.env["crm.document.link"],
        )
        with self.assertRaises(AccessError):
            self.link.with_user(self.rep_2).read(["url"])
        self._open(self.link.token)
        event = self._events(self.lead)
        with self.assertRaises(AccessError):
            event.with_user(self.rep_2).read(["description"])
        self.assertEqual(self.link.with_user(self.rep).read(["open_count"])[0]["open_count"], 1)

    def test_share_wizard_sends_the_link_to_the_contact(self):
        self.env["ir.config_parameter"].set_param("crm_stage_survey.document_link_days", "14")
        Wizard = (
            self.env["crm.document.link.share"].with_user(self.rep).with_context(default_lead_id=self.lead.id)
        )
        with Form(Wizard) as form:
            self.assertEqual(form.partner_id, self.jane, "the lead's customer by default")
            self.assertEqual(form.validity_days, 14)
            form.attachment_id = self.attachment
            form.tag_ids.add(self.pricing)
        wizard = form.record
        action = wizard.action_share()
        self.assertEqual(action["res_id"], wizard.id)
        link = wizard.link_id
        self.assertEqual(
            (link.partner_id, link.attachment_id, link.tag_ids), (self.jane, self.attachment, self.pricing)
        )
        self.assertEqual(link.create_uid, self.rep)
        self.assertTrue(
            timedelta(days=13, hours=23) < link.expires_at - fields.Datetime.now() <= timedelta(days=14)
        )
        self.assertEqual(wizard.url, link.url)
        message = self.lead.message_ids.filtered(lambda message: link.url in (message.body or ""))
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.jane)
        self.assertEqual(message.author_id, self.rep.partner_id)
        self.assertIn(
            self.jane,
            message.notification_ids.filtered(lambda n: n.notification_type == "email").res_partner_id,
        )
        # the contact opens it: the link of the wizard is a working one
        self.assertEqual(self._open(link.token).status_code, 200)
        self.assertEqual(self.lead.decision_phase_id, self.comparing)

    def test_share_wizard_refuses_a_document_of_another_lead(self):
        other_lead = self.env["crm.lead"].create({"name": "Other", "user_id": self.rep.id})
        foreign = self._attach(other_lead, "Other price list.txt", b"OTHER")
        wizard = (
            self.env["crm.document.link.share"]
            .with_user(self.rep)
            .create({"lead_id": self.lead.id, "attachment_id": foreign.id, "partner_id": self.jane.id})
        )
        with self.assertRaises(ValidationError):
            wizard.action_share()
        wizard.attachment_id = self.attachment
        wizard.validity_days = 0
        with self.assertRaises(UserError):
            wizard.action_share()

    def test_lead_smart_buttons(self):
        self._open(self.link.token)
        lead = self.lead.with_user(self.rep)
        self.assertEqual((lead.document_link_count, lead.customer_event_count), (1, 1))
        action = lead.action_view_customer_events()
        self.assertEqual(
            self.env["crm.lead.customer.event"].with_user(self.rep).search(action["domain"]),
            self._events(self.lead),
        )
        action = lead.action_view_document_links()
        self.assertEqual(
            self.env["crm.document.link"].with_user(self.rep).search(action["domain"]), self.link
        )
        action = lead.action_share_document()
        self.assertEqual(
            (action["res_model"], action["context"]),
            ("crm.document.link.share", {"default_lead_id": lead.id}),
        )

    def test_merged_leads_keep_the_customer_history(self):
        self._open(self.link.token)
        # a later sales stage makes it the lead that survives the merge
        stage = self.env["crm.stage"].create({"name": "DP Proposal", "sequence": 900})
        master = self.env["crm.lead"].create(
            {
                "name": "Acme (duplicate)",
                "type": "opportunity",
                "partner_id": self.jane.id,
                "user_id": self.rep.id,
                "stage_id": stage.id,
            }
        )
        master._decision_phase_set(self.exploring, "customer")
        merged = (master | self.lead).with_user(self.rep).merge_opportunity()
        self.assertEqual(merged, master)
        self.assertFalse(self.lead.exists())
        self.assertEqual(master.decision_phase_id, self.comparing, "the latest phase of the merged leads")
        self.assertEqual(self.link.lead_id, master)
        self.assertEqual(self.Event.sudo().search([("link_id", "=", self.link.id)]).lead_id, master)
        self.assertEqual(self._open(self.link.token).status_code, 200, "the shared link still works")
