from contextlib import suppress

from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..tools import cursor_mark, cursor_marker
from .common import Json2Case


class Refused(Exception):
    """The write inside the marker fails."""


class TestCursorMarker(TransactionCase):
    def test_marker_lasts_for_the_block_and_restores_the_outer_value(self):
        cr = self.env.cr
        self.assertIsNone(cursor_mark(cr, "test.marker"))
        with cursor_marker(cr, "test.marker", {1}):
            self.assertEqual(cursor_mark(cr, "test.marker"), {1})
            # not assertRaises: its savepoint's rollback would clear the cursor's cache
            with suppress(Refused), cursor_marker(cr, "test.marker", {1, 2}):
                self.assertEqual(cursor_mark(cr, "test.marker"), {1, 2})
                raise Refused()
            self.assertEqual(cursor_mark(cr, "test.marker"), {1}, "an error leaves the outer mark")
        self.assertEqual(cursor_mark(cr, "test.marker", "none"), "none")


@tagged("post_install", "-at_install")
class TestJson2Case(Json2Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="pb_rpc_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.lead = cls.env["crm.lead"].create({"name": "Base RPC lead", "user_id": cls.salesman.id})

    @mute_logger("odoo.http")
    def test_calls_as_the_user(self):
        status, body = self.json2(self.salesman, "crm.lead", "read", ids=self.lead.ids, fields=["name"])
        self.assertEqual((status, body), (200, [{"id": self.lead.id, "name": "Base RPC lead"}]))
        status, body = self.json2(self.salesman, "crm.team", "unlink", ids=self.lead.team_id.ids or [1])
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))
