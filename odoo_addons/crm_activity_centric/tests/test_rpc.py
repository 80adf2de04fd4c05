from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestEnforceJson2(Json2Case):
    """A salesperson calling the external API (JSON-2) meets the same follow-up rules as in the UI."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesman = new_test_user(
            cls.env, login="ac_rpc_salesman", groups="sales_team.group_sale_salesman"
        )
        team = cls.env["crm.team"].create({"name": "RPC enforce", "followup_policy": "enforce"})
        stage = cls.env["crm.stage"].create({"name": "RPC open", "sequence": 600})
        cls.lead = cls.env["crm.lead"].create(
            {"name": "RPC lead", "team_id": team.id, "stage_id": stage.id, "user_id": cls.salesman.id}
        )
        cls.other = cls.env["crm.lead"].create({"name": "RPC other", "user_id": cls.salesman.id})
        cls.activity = cls.env["mail.activity"].create(
            {
                "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                "res_id": cls.lead.id,
                "activity_type_id": cls.env.ref("mail.mail_activity_data_call").id,
                "user_id": cls.salesman.id,
            }
        )

    @mute_logger("odoo.http")
    def test_last_activity_cannot_be_removed_over_the_api(self):
        ids = self.activity.ids
        attempts = [
            ("action_done", {"ids": ids}),
            ("action_feedback", {"ids": ids, "feedback": "done"}),
            ("action_cancel", {"ids": ids}),
            ("unlink", {"ids": ids}),
            ("action_archive", {"ids": ids}),
            ("write", {"ids": ids, "vals": {"active": False}}),
            ("write", {"ids": ids, "vals": {"res_id": self.other.id}}),
            ("write", {"ids": ids, "vals": {"followup_reschedule_count": 0}}),
        ]
        for method, payload in attempts:
            status, body = self.json2(self.salesman, "mail.activity", method, **payload)
            self.assertEqual(status, 422, f"{method} {payload}: {body}")
            self.assertEqual(body["name"], "odoo.exceptions.UserError")
        status, body = self.json2(
            self.salesman, "crm.lead", "write", ids=self.lead.ids, vals={"followup_state": "exempt"}
        )
        self.assertEqual((status, body["name"]), (422, "odoo.exceptions.UserError"))
        status, body = self.json2(self.salesman, "mail.activity", "_followup_guard", ids=self.activity.ids)
        self.assertEqual(status, 403, "private helpers are no entry point")
        self.activity.invalidate_recordset()
        self.lead.invalidate_recordset()
        self.assertTrue(self.activity.active)
        self.assertEqual(self.activity.res_id, self.lead.id)
        self.assertEqual(self.lead.followup_state, "scheduled")

    def test_done_and_schedule_next_over_the_api(self):
        status, action = self.json2(
            self.salesman,
            "mail.activity",
            "action_feedback_schedule_next",
            ids=self.activity.ids,
            feedback="Called",
        )
        self.assertEqual(status, 200)
        self.activity.invalidate_recordset()
        self.assertTrue(self.activity.active, "still open until the next activity exists")
        status, _created = self.json2(
            self.salesman,
            "mail.activity",
            "create",
            vals_list=[
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": self.lead.id,
                    "activity_type_id": self.env.ref("mail.mail_activity_data_todo").id,
                    "summary": "Send the quote",
                }
            ],
            context=action["context"],
        )
        self.assertEqual(status, 200)
        self.activity.invalidate_recordset()
        self.assertFalse(self.activity.active)
        self.assertEqual(self.lead.activity_ids.summary, "Send the quote")
