import json

from lxml import etree
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.addons.crm_stage_history.tests.common import report_lines
from odoo.tests import tagged
from odoo.tools import mute_logger

from .waterfall_scenario import WaterfallScenario

WATERFALL_NUMBERS = (
    "entered",
    "advanced",
    "recycled",
    "disqualified",
    "lost",
    "open",
    "conversion_rate",
    "median_days",
    "handed_over",
    "accepted",
    "rejected",
    "acceptance_rate",
)


@tagged("post_install", "-at_install")
class TestWaterfallReportsAreReadOnly(WaterfallScenario, Json2Case):
    """The Demand Waterfall, its rejection reasons and its cost per sales-accepted lead are reads: served
    over HTTP as the web client and the external API ask for them, on the read-only cursor Odoo gives a
    read-only method (a read replica in production). A write there fails and Odoo retries the request on the
    primary, logging "retrying with a read/write cursor": none may be logged, and the numbers are those of
    the same read made in Python."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_waterfall()

    def call_kw(self, user, model, method, args=(), kwargs=None):
        """``model.method(*args, **kwargs)`` as the web client calls it, in ``user``'s session."""
        self.authenticate(user.login, user.login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}},
        )

    def read_only(self, call, *args, **kwargs):
        """``call(*args, **kwargs)`` (an HTTP request), asserting the server wrote nothing for it."""
        with self.assertNoLogs("odoo.http", "WARNING"):
            return call(*args, **kwargs)

    def list_spec(self, model):
        """What the web client's list of ``model`` reads: its columns, a many2one's display name."""
        arch = etree.fromstring(self.env[model].get_views([(False, "list")])["views"]["list"]["arch"])
        Model = self.env[model]
        return {
            node.get("name"): {"fields": {"display_name": {}}}
            if Model._fields[node.get("name")].type == "many2one"
            else {}
            for node in arch.iter("field")
        }

    @staticmethod
    def rows(records, keys, names):
        """Records (web_search_read dicts or records) as sorted tuples of their keys' ids and numbers."""

        def value(record, name):
            value = record[name]
            if isinstance(value, dict):  # web_search_read: {"id": ..., "display_name": ...}
                return value["id"]
            if hasattr(value, "_name"):
                return value.id
            return round(value, 6) if isinstance(value, float) else value

        return sorted(tuple(value(record, name) for name in (*keys, *names)) for record in records)

    def test_waterfall_lines_are_read_on_a_read_only_cursor(self):
        """The waterfall's list (web_search_read) and its groups (the graph per phase, the list per team)
        through the web client's route, as a salesperson and as a manager."""
        spec = self.list_spec("crm.waterfall.report")
        for user in (self.marketer, self.manager):
            for group_by in ("none", "team"):
                with self.subTest(user=user.login, per=group_by):
                    form = self.env["crm.waterfall.report.form"].with_user(user)
                    action = form.create({"group_by": group_by}).action_show()
                    expected = report_lines(self.env(user=user), action)
                    self.assertTrue(expected)
                    model, context = action["res_model"], action["context"]
                    records = self.read_only(
                        self.call_kw, user, model, "web_search_read", [[], spec], {"context": context}
                    )["records"]
                    keys = ("phase_id", "team_id")
                    self.assertEqual(
                        self.rows(records, keys, WATERFALL_NUMBERS),
                        self.rows(expected, keys, WATERFALL_NUMBERS),
                    )
                    groupby = ["phase_id"] if group_by == "none" else ["team_id"]
                    aggregates = ["entered:sum", "lost:sum", "handed_over:sum"]
                    groups = self.read_only(
                        self.call_kw,
                        user,
                        model,
                        "formatted_read_group",
                        [[], groupby, aggregates],
                        {"context": context},
                    )
                    Line = self.env[model].with_user(user).with_context(**context)
                    self.assertEqual(
                        groups, json.loads(json.dumps(Line.formatted_read_group([], groupby, aggregates)))
                    )

    def test_rejection_reasons_and_costs_over_json2(self):
        """The rejection reasons over JSON-2 as a salesperson and a manager; the cost per sales-accepted lead
        as a manager (a salesperson is refused: campaign costs are the managers')."""
        form = self.env["crm.waterfall.report.form"]
        for user, method, model in (
            (self.marketer, "action_show_rejections", "crm.handoff.rejection.report"),
            (self.manager, "action_show_rejections", "crm.handoff.rejection.report"),
            (self.manager, "action_show_costs", "crm.sales.accepted.cost.report"),
        ):
            with self.subTest(user=user.login, lines=model):
                action = getattr(form.with_user(user).create({}), method)()
                expected = report_lines(self.env(user=user), action)
                self.assertTrue(expected)
                spec = self.list_spec(model)
                status, body = self.read_only(
                    self.json2,
                    user,
                    model,
                    "web_search_read",
                    domain=[],
                    specification=spec,
                    context=action["context"],
                )
                self.assertEqual(status, 200, body)
                names = [name for name in spec if self.env[model]._fields[name].type != "many2one"]
                keys = [name for name in spec if self.env[model]._fields[name].type == "many2one"]
                self.assertEqual(self.rows(body["records"], keys, names), self.rows(expected, keys, names))
        action = form.with_user(self.manager).create({}).action_show_costs()
        with mute_logger("odoo.http"):
            status, body = self.json2(
                self.marketer,
                "crm.sales.accepted.cost.report",
                "web_search_read",
                domain=[],
                specification={"campaign_id": {}},
                context=action["context"],
            )
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))

    def test_phase_targets_are_set_by_managers_only(self):
        """Over JSON-2, a salesperson reads the phase targets but may not set one; a sales manager may."""
        vals = {"phase_id": self.phases["mql"].id, "target_conversion_rate": 55}
        with mute_logger("odoo.http"):
            status, body = self.json2(self.marketer, "crm.lifecycle.phase.target", "create", vals_list=[vals])
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))
        status, body = self.json2(self.manager, "crm.lifecycle.phase.target", "create", vals_list=[vals])
        self.assertEqual(status, 200, body)
        status, body = self.json2(
            self.marketer,
            "crm.lifecycle.phase.target",
            "search_read",
            domain=[],
            fields=["phase_id", "target_conversion_rate"],
        )
        self.assertEqual(
            (status, [(row["phase_id"][0], row["target_conversion_rate"]) for row in body]),
            (200, [(self.phases["mql"].id, 55.0)]),
        )
