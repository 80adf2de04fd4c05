from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tests.test_cursor import TestCursor
from odoo.tools import mute_logger

from .common import SlaRpcCase


@tagged("post_install", "-at_install")
class TestReadonlyReports(SlaRpcCase):
    """The SLA preview, the SLA dashboard and what `sla_rules simulate --url` reads are read-only: over
    HTTP, every request of them is served on a read-only cursor (a read replica in production, with
    ``--db_replica_host``; in tests Odoo gives readonly routes a ``SET TRANSACTION READ ONLY`` cursor), none
    writes (a write there fails and is retried on the primary with a "retrying with a read/write cursor"
    warning), and each gives the numbers of the same call made in Python."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the dashboard's events, of another rule (the preview of the first one stays as it is): acted on
        # rep 0's lead, warned on rep 1's, failed on rep 0's other one, acted on a lead without salesperson
        cls.dashboard_rule = cls.env["crm.sla.rule"].create(
            {"name": "RPC escalations", "team_ids": [(6, 0, cls.team.ids)], "clock": "create", "unit": "days"}
        )
        unassigned = cls.env["crm.lead"].create(
            {"name": "RPC nobody's", "team_id": cls.team.id, "user_id": False}
        )
        start = datetime.now().replace(microsecond=0) - timedelta(days=40)
        cls.env["crm.sla.event"].sudo().create(
            [
                {
                    "rule_id": cls.dashboard_rule.id,
                    "lead_id": lead.id,
                    "clock": "create",
                    "clock_start": start,
                    "state": state,
                    "company_id": lead.company_id.id,
                    "team_id": lead.team_id.id,
                    "user_id": lead.user_id.id,
                }
                for lead, state in (
                    (cls.leads[0], "acted"),
                    (cls.leads[1], "warned"),
                    (cls.leads[3], "failed"),
                    (unassigned, "acted"),
                )
            ]
        )

    @contextmanager
    def served_read_only(self):
        """Every HTTP request made inside is served on a read-only cursor, and none is retried on a
        read/write one."""
        modes = []
        init = TestCursor.__init__

        def record(cursor, cr, lock, readonly):
            modes.append(readonly)
            init(cursor, cr, lock, readonly)

        with patch.object(TestCursor, "__init__", record), self.assertNoLogs("odoo.http", "WARNING"):
            yield
        self.assertTrue(modes, "no request was made")
        self.assertNotIn(False, modes, "a request was served on a read/write cursor (the primary)")

    def call_kw(self, model, method, args, **kwargs):
        """``model.method(*args, **kwargs)`` as the web client calls it (the session's user)."""
        route = "/web/dataset/call_button" if method.startswith("action_") else "/web/dataset/call_kw"
        return self.make_jsonrpc_request(
            f"{route}/{model}/{method}", {"model": model, "method": method, "args": args, "kwargs": kwargs}
        )

    def test_preview(self):
        """A sales manager's preview of a rule: the button and the lines, in the web client and over
        JSON-2; a salesperson may not read it."""
        self.authenticate("sla_rpc_manager", "sla_rpc_manager")
        self.json2_key(self.manager)
        spec = {"lead_id": {}, "status": {}, "description": {}}
        with self.served_read_only():
            opened = self.call_kw("crm.sla.rule", "action_preview", [self.rule.ids])
        context = opened["context"]

        action = self.rule.with_user(self.manager).action_preview()
        Line = self.env["crm.sla.preview.line"].with_user(self.manager).with_context(**action["context"])
        lines = Line.search([])
        expected = sorted((line.lead_id.id, line.status, line.description) for line in lines)
        self.assertEqual(
            {(lead_id, status) for lead_id, status, _ in expected},
            {(self.leads[0].id, "breach"), (self.leads[1].id, "breach"), (self.leads[3].id, "warn")},
        )
        counts = dict(Line._read_group([], ["status"], ["__count"]))
        self.assertEqual(counts, {"breach": 2, "warn": 1})

        with self.served_read_only():
            listed = self.call_kw(
                "crm.sla.preview.line", "web_search_read", [], domain=[], specification=spec, context=context
            )
            grouped = self.call_kw(
                "crm.sla.preview.line",
                "web_read_group",
                [],
                domain=[],
                groupby=["status"],
                aggregates=["__count"],
                context=context,
            )
            status, over_json2 = self.json2(
                self.manager,
                "crm.sla.preview.line",
                "search_read",
                domain=[],
                fields=list(spec),
                context=context,
            )
        self.logout()
        with mute_logger("odoo.http"):  # the refusal is logged
            refused, _body = self.json2(
                self.reps[0],
                "crm.sla.preview.line",
                "search_read",
                domain=[],
                fields=["status"],
                context=context,
            )
        self.assertEqual(context, action["context"])
        self.assertEqual(status, 200, over_json2)
        for rows in (listed["records"], over_json2):
            # search_read gives a many2one as [id, name], web_search_read as the id alone
            got = [
                (row["lead_id"][0] if isinstance(row["lead_id"], list) else row["lead_id"], row["status"])
                + (row["description"],)
                for row in rows
            ]
            self.assertEqual(sorted(got), expected)
        self.assertEqual({group["status"]: group["__count"] for group in grouped["groups"]}, counts)
        self.assertEqual(refused, 403, "a salesperson may not preview the rules")
        self.assertFalse(self.env["crm.sla.preview"].search([]), "no preview record")
        self.assertFalse(self.rule.event_ids, "no event")

    def test_empty_preview(self):
        """A rule with nothing to do now: no line, and the action says so."""
        self.rule.threshold, self.rule.warning_before = 60, 0
        action = self.rule.with_user(self.manager).action_preview()
        self.assertFalse(
            self.env["crm.sla.preview.line"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .search([])
        )
        self.assertIn("Nothing to warn about or act on now", action["help"])

    def test_dashboard(self):
        """The SLA dashboard's events grouped by rule and state (pivot, graph), and listed: a manager sees
        every event, a salesperson those of his leads and of leads without salesperson."""
        domain = [("rule_id", "=", self.dashboard_rule.id)]
        Event = self.env["crm.sla.event"]
        expected = {
            user: dict(Event.with_user(user)._read_group(domain, ["state"], ["__count"]))
            for user in (self.manager, self.reps[0])
        }
        self.assertEqual(expected[self.manager], {"acted": 2, "warned": 1, "failed": 1})
        self.assertEqual(expected[self.reps[0]], {"acted": 2, "failed": 1})
        for user in (self.manager, self.reps[0]):
            with self.subTest(user=user.login):
                self.authenticate(user.login, user.login)
                with self.served_read_only():
                    grouped = self.call_kw(
                        "crm.sla.event",
                        "formatted_read_group",
                        [],
                        domain=domain,
                        groupby=["rule_id", "state"],
                        aggregates=["__count"],
                    )
                    listed = self.call_kw(
                        "crm.sla.event",
                        "web_search_read",
                        [],
                        domain=domain,
                        specification={"lead_id": {}, "state": {}, "message": {}, "changes": {}},
                    )
                self.assertEqual({group["state"]: group["__count"] for group in grouped}, expected[user])
                self.assertEqual(listed["length"], sum(expected[user].values()))

    def test_simulate_reads(self):
        """The calls of `sla_rules simulate --url` after its login (`read_odoo`), as a sales manager and as
        a salesperson (who reads his own leads only)."""
        from funnel_metrics.extract import connect
        from sla_rules.config import parse_config
        from sla_rules.snapshot import read_odoo

        config = parse_config(
            {
                "rules": [
                    {
                        "name": "RPC stale deals",
                        "clock": "last_action",
                        "threshold": 10,
                        "unit": "days",
                        "teams": ["RPC Team"],
                        "action": "reassign",
                        "reassign": "round_robin",
                    }
                ]
            }
        )
        for user in (self.manager, self.reps[0]):
            with self.subTest(user=user.login), self.allow_requests(all_requests=True):
                # the client library's own HTTP session: no test cookie, so let every request through
                connection = connect(self.base_url(), self.env.cr.dbname, user.login, self.json2_key(user))
                with self.served_read_only():
                    snapshot = read_odoo(connection, config)
                leads = self.env["crm.lead"].with_user(user).search([("active", "=", True)])
                self.assertEqual(sorted(snapshot.leads["id"]), sorted(leads.ids))
                self.assertEqual(
                    [member.user_id for member in snapshot.teams["RPC Team"].members],
                    [member.user_id.name for member in self.team.crm_team_member_ids.sorted("id")],
                )
