from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestStageHistoryJson2(Json2Case):
    """What the UI forbids is refused over the external API (JSON-2) too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="sh_rpc_salesman", groups="sales_team.group_sale_salesman"
        )
        cls.stages = cls.env["crm.stage"].create(
            [{"name": "RPC Inquiry", "sequence": 500}, {"name": "RPC Qualified", "sequence": 510}]
        )
        cls.lead = cls.env["crm.lead"].create(
            {
                "name": "RPC lead",
                "type": "opportunity",
                "stage_id": cls.stages[0].id,
                "user_id": cls.salesman.id,
            }
        )

    @mute_logger("odoo.http")
    def test_salesman_cannot_create_write_or_delete_history(self):
        stay = self.env["crm.lead.stage.history"].search([("lead_id", "=", self.lead.id)])
        self.assertEqual(len(stay), 1)
        attempts = [
            (
                "create",
                {
                    "vals_list": [
                        {
                            "lead_id": self.lead.id,
                            "stage_id": self.stages[1].id,
                            "date_in": "2026-01-01 00:00:00",
                        }
                    ]
                },
            ),
            ("write", {"ids": stay.ids, "vals": {"stage_id": self.stages[1].id}}),
            ("unlink", {"ids": stay.ids}),
        ]
        for method, payload in attempts:
            status, body = self.json2(self.salesman, "crm.lead.stage.history", method, **payload)
            self.assertEqual(status, 403, f"{method}: {body}")
            self.assertEqual(body["name"], "odoo.exceptions.AccessError")
        stay.invalidate_recordset()
        self.assertEqual(stay.stage_id, self.stages[0])
        self.assertEqual(self.env["crm.lead.stage.history"].search_count([("lead_id", "=", self.lead.id)]), 1)

    def test_salesman_moving_a_lead_over_rpc_is_recorded(self):
        status, _body = self.json2(
            self.salesman, "crm.lead", "write", ids=self.lead.ids, vals={"stage_id": self.stages[1].id}
        )
        self.assertEqual(status, 200)
        status, stays = self.json2(
            self.salesman,
            "crm.lead.stage.history",
            "search_read",
            domain=[("lead_id", "=", self.lead.id)],
            fields=["stage_id", "is_current", "changed_by_id"],
            order="date_in, id",
        )
        self.assertEqual(status, 200)
        self.assertEqual(
            [(s["stage_id"][0], s["is_current"]) for s in stays],
            [(self.stages[0].id, False), (self.stages[1].id, True)],
        )
        self.assertEqual(stays[1]["changed_by_id"][0], self.salesman.id)
