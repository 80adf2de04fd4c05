import json
from datetime import timedelta

from freezegun import freeze_time
from lxml import etree
from odoo import fields
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

# the reports import pandas lazily; under freezegun's patched datetime that import crashes the interpreter
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

from .common import FUNNEL_NUMBERS, report_lines

CALIBRATION_NUMBERS = ("stated", "observed", "ci_low", "ci_high", "sample_size", "recommended", "brier_score")
COST_NUMBERS = ("cost", "leads", "qualified", "won", "cost_per_lead", "cost_per_qualified", "cost_per_won")


@tagged("post_install", "-at_install")
class TestReportsAreReadOnly(Json2Case):
    """Every report of the addon is a read: served over HTTP as the web client and the external API ask
    for it, on the read-only cursor Odoo gives a read-only method (in tests, a transaction set READ ONLY:
    a read replica in production). A write there fails and Odoo retries the request on the primary,
    logging "retrying with a read/write cursor": none may be logged, and the numbers are those of the
    same read made in Python."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.salesman = new_test_user(
            cls.env, login="sh_ro_salesman", name="Rita Readonly", groups="sales_team.group_sale_salesman"
        )
        cls.manager = new_test_user(
            cls.env, login="sh_ro_manager", name="Manny Readonly", groups="sales_team.group_sale_manager"
        )
        cls.team = cls.env["crm.team"].create({"name": "Read-only Team"})
        Stage = cls.env["crm.stage"]
        cls.stages = Stage.create(
            [
                {"name": name, "sequence": seq, "probability": prob, "team_ids": [(6, 0, cls.team.ids)]}
                for name, seq, prob in (("RO Inquiry", 700, 20), ("RO Qualified", 710, 50))
            ]
        )
        won = Stage.create(
            {"name": "RO Won", "sequence": 790, "is_won": True, "team_ids": [(6, 0, cls.team.ids)]}
        )
        cls.campaign = cls.env["utm.campaign"].create({"title": "Read-only fair", "cost": 900})
        # a hundred days ago: 8 leads, half the salesman's; 5 qualified after 1 to 3 days, 3 lost in
        # Inquiry; of the qualified, 2 won and 1 lost after 2 days, 2 still open (censored far later than
        # any stay ended: the medians do not move while the test runs)
        start = fields.Datetime.now() - timedelta(days=100)
        with freeze_time(start):
            leads = cls.env["crm.lead"].create(
                [
                    {
                        "name": f"RO {i}",
                        "type": "opportunity",
                        "team_id": cls.team.id,
                        "stage_id": cls.stages[0].id,
                        "user_id": (cls.salesman if i % 2 else cls.manager).id,
                        "campaign_id": cls.campaign.id,
                    }
                    for i in range(8)
                ]
            )
        for i, lead in enumerate(leads[:5]):
            with freeze_time(start + timedelta(days=1 + i % 3)):
                lead.stage_id = cls.stages[1]
        with freeze_time(start + timedelta(days=2)):
            leads[5:].action_set_lost()
        with freeze_time(start + timedelta(days=5)):
            leads[:2].stage_id = won
            leads[2].action_set_lost()
        cls.env["crm.stage.target"].create({"stage_id": cls.stages[0].id, "target_conversion_rate": 70})

    def call_kw(self, user, model, method, args=(), kwargs=None):
        """``model.method(*args, **kwargs)`` as the web client calls it (``/web/dataset/call_kw``, in
        ``user``'s session)."""
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
    def numbers(records, names):
        """Records (dicts or records) keyed by their stage, team, salesperson or campaign, as numbers."""

        def key(record, name):
            value = record[name]
            if isinstance(value, dict):  # web_search_read: {"id": ..., "display_name": ...}
                return value["id"]
            return value.id if hasattr(value, "id") else (value[0] if value else False)

        groups = [name for name in ("stage_id", "team_id", "user_id", "campaign_id") if name in records[0]]
        return {
            tuple(key(record, name) for name in groups): tuple(
                round(record[name], 6) if isinstance(record[name], float) else record[name] for name in names
            )
            for record in records
        }

    def test_funnel_lines_are_read_on_a_read_only_cursor(self):
        """The funnel's list (web_search_read) and its groups (formatted_read_group, the graph per stage
        and the list per salesperson) through the web client's route, as a salesman and as a manager."""
        spec = self.list_spec("crm.stage.funnel.report.line")
        for user in (self.salesman, self.manager):
            for group_by in ("stage", "user"):
                with self.subTest(user=user.login, per=group_by):
                    form = self.env["crm.stage.funnel.report"].with_user(user)
                    action = form.create({"team_ids": self.team.ids, "group_by": group_by}).action_show()
                    expected = report_lines(self.env(user=user), action)
                    self.assertTrue(expected)
                    model, context = action["res_model"], action["context"]
                    records = self.read_only(
                        self.call_kw, user, model, "web_search_read", [[], spec], {"context": context}
                    )["records"]
                    self.assertEqual(
                        self.numbers(records, FUNNEL_NUMBERS), self.numbers(expected, FUNNEL_NUMBERS)
                    )
                    groupby = ["stage_id"] if group_by == "stage" else ["user_id"]
                    aggregates = ["entered:sum", "lost:sum", "open:sum"]
                    groups = self.read_only(
                        self.call_kw,
                        user,
                        model,
                        "formatted_read_group",
                        [[], groupby, aggregates],
                        {"context": context},
                    )
                    Line = self.env[model].with_user(user).with_context(**context)
                    expected_groups = Line.formatted_read_group([], groupby, aggregates)
                    self.assertEqual(groups, json.loads(json.dumps(expected_groups)))

    def test_calibration_lines_are_read_on_a_read_only_cursor(self):
        """The calibration's list over JSON-2 as a manager (a salesman is refused)."""
        action = self.env["crm.stage.calibration"].with_user(self.manager).create({}).action_measure()
        expected = report_lines(self.env(user=self.manager), action)
        self.assertTrue(expected.filtered("has_observed"))
        spec = self.list_spec("crm.stage.calibration.line")
        model, context = action["res_model"], action["context"]
        status, body = self.read_only(
            self.json2, self.manager, model, "web_search_read", domain=[], specification=spec, context=context
        )
        self.assertEqual(status, 200, body)
        self.assertEqual(
            self.numbers(body["records"], CALIBRATION_NUMBERS), self.numbers(expected, CALIBRATION_NUMBERS)
        )
        with mute_logger("odoo.http"):
            status, body = self.json2(
                self.salesman, model, "web_search_read", domain=[], specification=spec, context=context
            )
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))

    def test_cost_per_lead_is_read_on_a_read_only_cursor(self):
        """Cost per Lead (a SQL view) over JSON-2 as a manager: the campaign's 900 over its 8 leads (a
        salesman is refused)."""
        spec = self.list_spec("crm.campaign.cost.report")
        status, body = self.read_only(
            self.json2,
            self.manager,
            "crm.campaign.cost.report",
            "web_search_read",
            domain=[],
            specification=spec,
        )
        self.assertEqual(status, 200, body)
        self.env.flush_all()
        expected = self.env["crm.campaign.cost.report"].with_user(self.manager).search([])
        self.assertEqual(self.numbers(body["records"], COST_NUMBERS), self.numbers(expected, COST_NUMBERS))
        ours = next(row for row in body["records"] if row["campaign_id"]["id"] == self.campaign.id)
        self.assertEqual(
            (ours["leads"], ours["qualified"], ours["won"], ours["cost_per_lead"]), (8, 5, 2, 112.5)
        )
        with mute_logger("odoo.http"):
            status, body = self.json2(
                self.salesman, "crm.campaign.cost.report", "web_search_read", domain=[], specification=spec
            )
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))

    def test_stage_history_is_read_on_a_read_only_cursor(self):
        """The stage history's list and the export's pages (funnel_rows) over JSON-2, as a salesman (his
        leads' stays) and as a manager (all of them)."""
        spec = self.list_spec("crm.lead.stage.history")
        domain = [("team_id", "=", self.team.id)]
        History = self.env["crm.lead.stage.history"]
        for user, stays in ((self.salesman, 4 + 2 + 1), (self.manager, 8 + 5 + 2)):
            with self.subTest(user=user.login):
                status, body = self.read_only(
                    self.json2,
                    user,
                    "crm.lead.stage.history",
                    "web_search_read",
                    domain=domain,
                    specification=spec,
                    order="id",
                )
                self.assertEqual(status, 200, body)
                expected = History.with_user(user).search(domain, order="id")
                self.assertEqual(len(expected), stays)
                self.assertEqual(
                    [(row["id"], row["stage_id"]["id"], row["date_in"]) for row in body["records"]],
                    [
                        (stay.id, stay.stage_id.id, fields.Datetime.to_string(stay.date_in))
                        for stay in expected
                    ],
                )
                status, body = self.read_only(
                    self.json2, user, "crm.lead.stage.history", "funnel_rows", team_ids=self.team.ids
                )
                self.assertEqual(status, 200, body)
                self.assertEqual(body, History.with_user(user).funnel_rows(team_ids=self.team.ids))
                self.assertEqual(len(body["stays"]["lead_id"]), stays)

    def test_early_warning_lines_are_read_on_a_read_only_cursor(self):
        """The early warnings' list (web_search_read) and its groups through the web client's route, as a
        salesman and as a manager: no write, the numbers of the same read in Python. As of 90 days ago, the
        scenario's decisions are recent, against the Inquiry target."""
        spec = self.list_spec("crm.early.warning.report.line")
        names = ("segment_kind", "test", "recent_n", "recent_events", "baseline_n", "p_value", "warning")
        for user in (self.salesman, self.manager):
            with self.subTest(user=user.login):
                form = self.env["crm.early.warning.report"].with_user(user)
                as_of = fields.Datetime.now() - timedelta(days=90)
                action = form.create({"as_of": as_of}).action_show()
                expected = report_lines(self.env(user=user), action)
                self.assertTrue(expected)
                model, context = action["res_model"], action["context"]
                records = self.read_only(
                    self.call_kw, user, model, "web_search_read", [[], spec], {"context": context}
                )["records"]

                def rows(lines):
                    return sorted(
                        (
                            line["stage_id"]["id"]
                            if isinstance(line["stage_id"], dict)
                            else line["stage_id"].id,
                        )
                        + tuple(round(line[n], 6) if isinstance(line[n], float) else line[n] for n in names)
                        for line in lines
                    )

                self.assertEqual(rows(records), rows(expected))
                groups = self.read_only(
                    self.call_kw,
                    user,
                    model,
                    "formatted_read_group",
                    [[], ["stage_id"], ["recent_n:sum"]],
                    {"context": context},
                )
                Line = self.env[model].with_user(user).with_context(**context)
                self.assertEqual(
                    groups,
                    json.loads(json.dumps(Line.formatted_read_group([], ["stage_id"], ["recent_n:sum"]))),
                )

    def test_probability_by_month_end_is_read_on_a_read_only_cursor(self):
        """Probability Calibration by Month-End over JSON-2, its bands as a salesman (his opportunities) and
        as a manager, its stages as a manager (a salesman is refused)."""
        self.env["crm.lead.probability.snapshot"]._backfill_snapshots()
        numbers = ("sample_size", "won_count", "lead_count", "observed", "ci_low", "ci_high", "open_count")
        for user, model, lines in (
            (self.salesman, "crm.probability.snapshot.report", "crm.probability.snapshot.band"),
            (self.manager, "crm.probability.snapshot.report", "crm.probability.snapshot.band"),
            (self.manager, "crm.probability.snapshot.stage.report", "crm.probability.snapshot.stage"),
        ):
            with self.subTest(user=user.login, lines=lines):
                action = (
                    self.env[model].with_user(user).create({"team_ids": self.team.ids})._report_action("")
                )
                expected = report_lines(self.env(user=user), action)
                self.assertTrue(expected)
                names = numbers if "band" in lines else CALIBRATION_NUMBERS
                status, body = self.read_only(
                    self.json2,
                    user,
                    lines,
                    "web_search_read",
                    domain=[],
                    specification=self.list_spec(lines),
                    context=action["context"],
                )
                self.assertEqual(status, 200, body)
                self.assertEqual(
                    [tuple(round(row[name], 6) for name in names) for row in body["records"]],
                    [tuple(round(line[name], 6) for name in names) for line in expected],
                )
        with mute_logger("odoo.http"):
            status, body = self.json2(
                self.salesman,
                "crm.probability.snapshot.stage",
                "web_search_read",
                domain=[],
                specification={"stage_id": {}},
            )
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))
