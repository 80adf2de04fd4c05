import datetime
from contextlib import suppress

import numpy as np
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..tools import array_literal, cursor_mark, cursor_marker
from .common import Json2Case


class Refused(Exception):
    """The write inside the marker fails."""


class TestArrayLiteral(TransactionCase):
    def test_values_come_back_as_they_went(self):
        """What the bulk inserts hand to PostgreSQL as one array literal reads back value for value."""
        cr = self.env.cr
        texts = ['a "quoted" word', "back\\slash", "NULL", None, "x,y", "{braces}", ""]
        cr.execute("SELECT %s::text[]", [array_literal(texts)])
        self.assertEqual(cr.fetchone()[0], texts)
        numbers = [1, None, 2.5, np.float64(0.1), np.int64(7)]
        cr.execute("SELECT %s::float8[]", [array_literal(numbers)])
        self.assertEqual(cr.fetchone()[0], [1.0, None, 2.5, 0.1, 7.0])
        moments = [datetime.datetime(2026, 3, 29, 1, 30, 0, 250), None, datetime.datetime(2026, 1, 1)]
        cr.execute(
            "SELECT %s::timestamp[], %s::date[], %s::bool[]",
            [
                array_literal(moments),
                array_literal([datetime.date(2026, 12, 6)]),
                array_literal([True, False, None]),
            ],
        )
        self.assertEqual(cr.fetchone(), (moments, [datetime.date(2026, 12, 6)], [True, False, None]))


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
