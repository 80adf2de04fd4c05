from datetime import datetime

from odoo.tests import tagged

from .common import SlaRpcCase


@tagged("post_install", "-at_install")
class TestSimulateOverRpc(SlaRpcCase):
    """`sla_rules simulate --url` reads a live Odoo over JSON-2 and lists what the addon's own preview
    lists for the same rule."""

    def test_simulate_matches_the_preview(self):
        from funnel_metrics.extract import connect
        from sla_rules.config import parse_config
        from sla_rules.simulate import evaluate
        from sla_rules.snapshot import read_odoo

        config = parse_config(
            {
                "rules": [
                    {
                        "name": "RPC stale deals",
                        "clock": "stage_entry",
                        "threshold": 10,
                        "unit": "days",
                        "warning_before": 5,
                        "teams": ["RPC Team"],
                        "action": "reassign",
                        "reassign": "round_robin",
                    }
                ]
            }
        )
        # the client library's own HTTP session: no test cookie, so let every request through
        with self.allow_requests(all_requests=True):
            connection = connect(
                self.base_url(), self.env.cr.dbname, "sla_rpc_manager", self.json2_key(self.manager)
            )
            snapshot = read_odoo(connection, config)
        now = datetime.now()
        frame = evaluate(
            snapshot.rules, snapshot.leads, now, snapshot.calendars, snapshot.teams, snapshot.names
        )
        offline = {(int(row.lead_id), row.status, row.description) for row in frame.itertuples()}

        action = self.rule.with_user(self.manager).action_preview()
        lines = self.env["crm.sla.preview.line"].with_user(self.manager).with_context(**action["context"])
        in_odoo = {(line.lead_id.id, line.status, line.description) for line in lines.search([])}
        breached = {lead_id for lead_id, status, _ in in_odoo if status == "breach"}
        self.assertEqual(breached, set(self.leads[:2].ids), "30 and 12 days in stage: over 10 days")
        warned = {lead_id for lead_id, status, _ in in_odoo if status == "warn"}
        self.assertEqual(warned, set(self.leads[3].ids), "6 days: warned; 9 days but 2 in the team: not yet")
        self.assertEqual(
            {(lead_id, status) for lead_id, status, _ in offline},
            {(lead_id, status) for lead_id, status, _ in in_odoo},
        )
        # the same round robin, named the same way
        self.assertEqual(
            {(lead_id, d) for lead_id, s, d in offline if s == "breach"},
            {(lead_id, d) for lead_id, s, d in in_odoo if s == "breach"},
        )
