import json

from lxml import etree
from odoo.addons.crm_stage_history.tests.common import report_lines
from odoo.tests import tagged

from .test_decision_phase_report import NUMBERS, DecisionPhaseReportCase


@tagged("post_install", "-at_install")
class TestDecisionPhaseReportIsReadOnly(DecisionPhaseReportCase):
    """The report is a read: its list over JSON-2 and through the web client is served on a read-only
    cursor (no "retrying with a read/write cursor" warning), as a manager and as a salesperson."""

    def test_lines_are_read_on_a_read_only_cursor(self):
        arch = etree.fromstring(
            self.env["crm.decision.phase.report.line"].get_views([(False, "list")])["views"]["list"]["arch"]
        )
        Line = self.env["crm.decision.phase.report.line"]
        spec = {
            node.get("name"): {"fields": {"display_name": {}}}
            if Line._fields[node.get("name")].type == "many2one"
            else {}
            for node in arch.iter("field")
        }
        for user in (self.manager, self.rep):
            with self.subTest(user=user.login):
                action = self.env["crm.decision.phase.report"].with_user(user).create({}).action_show()
                expected = report_lines(self.env(user=user), action)
                self.assertTrue(expected)
                with self.assertNoLogs("odoo.http", "WARNING"):
                    status, body = self.json2(
                        user,
                        action["res_model"],
                        "web_search_read",
                        domain=[],
                        specification=spec,
                        context=action["context"],
                    )
                self.assertEqual(status, 200, body)
                got = {
                    ((row["stage_id"] or {}).get("id"), (row["phase_id"] or {}).get("id", False)): tuple(
                        round(row[name], 6) for name in NUMBERS
                    )
                    for row in body["records"]
                }
                self.assertEqual(got, self._odoo_numbers(expected))
                # the list grouped by stage, as the web client reads it (its session, call_kw)
                self.authenticate(user.login, user.login)
                aggregates = ["decided:sum", "won:sum", "brier_stage:avg", "brier_gain:avg"]
                with self.assertNoLogs("odoo.http", "WARNING"):
                    groups = self.make_jsonrpc_request(
                        f"/web/dataset/call_kw/{action['res_model']}/formatted_read_group",
                        {
                            "model": action["res_model"],
                            "method": "formatted_read_group",
                            "args": [[], ["stage_id"], aggregates],
                            "kwargs": {"context": action["context"]},
                        },
                    )
                Line = self.env[action["res_model"]].with_user(user).with_context(**action["context"])
                self.assertEqual(
                    groups, json.loads(json.dumps(Line.formatted_read_group([], ["stage_id"], aggregates)))
                )
                self.assertEqual(
                    sum(group["decided:sum"] for group in groups), sum(expected.mapped("decided"))
                )
                self.logout()  # the next user's API key must not come with this session
