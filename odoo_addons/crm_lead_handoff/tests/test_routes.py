from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import HandoffCase


@tagged("post_install", "-at_install")
class TestRoutes(HandoffCase):
    def _route(self, **vals):
        return self.env["crm.handoff.route"].create(
            {
                "name": "Checked route",
                "to_team_id": self.inside_sales.id,
                "from_phase_id": self.mql.id,
                "accept_phase_id": self.sal.id,
                **vals,
            }
        )

    def test_what_a_route_needs_to_be_saved(self):
        for vals in (
            {"to_team_id": False},  # a team route without its team
            {"to_kind": "partner", "to_team_id": False, "to_partner_id": self.env.company.partner_id.id},
            {"domain": "[('no_such_field', '=', 1)]"},
            {"auto_accept_hours": -1},
        ):
            with self.subTest(vals=vals), self.assertRaises(ValidationError):
                self._route(**vals)
        self.company.resource_calendar_id = False
        with self.assertRaises(ValidationError):
            self._route(auto_accept_hours=8)
        self.assertTrue(
            self._route(auto_accept_hours=8, calendar_id=self.env.ref("resource.resource_calendar_std").id)
        )

    def test_senders_and_receivers(self):
        route = self._route(
            from_team_ids=[(6, 0, self.marketing.ids)], sender_user_ids=[(6, 0, self.field.ids)]
        )
        self.assertEqual(
            [route._may_send(user) for user in (self.marketer, self.field, self.manager, self.inside)],
            [True, True, True, False],
        )
        self.assertEqual(route._receivers(), self.inside | self.inside_2 | self.manager)
        route.receiver_user_ids = self.inside_2
        self.assertEqual(route._receivers(), self.inside_2)
