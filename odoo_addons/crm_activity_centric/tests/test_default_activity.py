from freezegun import freeze_time
from odoo.tests import tagged

from .common import NOW, FollowupCase


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestDefaultActivity(FollowupCase):
    """Leads that arrive by themselves never start without a next step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_enforce.write(
            {"followup_default_activity_type_id": cls.call.id, "followup_default_delay": 1}
        )

    def test_api_and_import_get_the_default_activity(self):
        lead = self.env["crm.lead"].create(
            {"name": "From the API", "team_id": self.team_enforce.id, "user_id": self.salesman.id}
        )
        self.assertEqual(lead.activity_ids.activity_type_id, self.call)
        self.assertEqual(str(lead.activity_ids.date_deadline), "2026-03-05")
        self.assertEqual(lead.activity_ids.user_id, self.salesman)
        self.assertEqual(lead.followup_state, "scheduled")
        imported = (
            self.env["crm.lead"]
            .with_context(import_file=True)
            .create({"name": "Imported", "team_id": self.team_enforce.id, "user_id": False})
        )
        self.assertEqual(imported.activity_ids.user_id, self.sales_manager, "no salesperson: the team leader")

    def test_mail_gateway(self):
        self.team_enforce.alias_name = "ac-enforce"
        lead = self.env["crm.lead"].message_new(
            {"subject": "Need 40 chairs", "from": "buyer@example.com", "body": "Hello"},
            {"team_id": self.team_enforce.id},
        )
        self.assertEqual(lead.activity_ids.activity_type_id, self.call)

    def test_website_visitor_creates_as_public_user(self):
        public = self.env.ref("base.public_user")
        lead = (
            self.env["crm.lead"]
            .with_user(public)
            .sudo()
            .create({"name": "Website form", "team_id": self.team_enforce.id})
        )
        self.assertEqual(lead.followup_state, "scheduled")
        self.assertNotEqual(lead.activity_ids.user_id, public, "never assigned to the website visitor")

    def test_form_creation_is_planned_by_the_rep(self):
        result = self.env["crm.lead"].web_save(
            {"name": "Typed in", "team_id": self.team_enforce.id}, {"followup_state": {}}
        )
        lead = self.env["crm.lead"].browse(result[0]["id"])
        self.assertFalse(lead.activity_ids)
        self.assertEqual(lead.followup_state, "missing")

    def test_not_without_configuration_or_when_exempt(self):
        off = self.env["crm.lead"].create({"name": "Off", "team_id": self.team_off.id})
        self.assertFalse(off.activity_ids)
        self.team_off.followup_default_activity_type_id = self.call
        self.assertFalse(
            self.env["crm.lead"].create({"name": "Off", "team_id": self.team_off.id}).activity_ids
        )
        parked = self.env["crm.lead"].create(
            {"name": "Parked", "team_id": self.team_enforce.id, "stage_id": self.stage_parked.id}
        )
        self.assertFalse(parked.activity_ids)
