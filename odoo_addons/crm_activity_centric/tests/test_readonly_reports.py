import json
from datetime import timedelta

from freezegun import freeze_time
from odoo import fields
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import SQL
from odoo.tools.json import json_default

# the WARNING odoo.http logs when a call routed read-only (to the read replica in production) writes
RETRY = "retrying with a read/write cursor"
SIGNAL_COLUMNS = ("user_id", "activities", "done", "quick_done", "open", "open_leads", "missing")
SIGNAL_SHARES = ("quick_done_share", "far_placeholder_share", "rescheduled_share", "missing_share")
CHAIN_COLUMNS = ("name", "user_id", "started", "within", "late", "missed", "pending", "share_within")


@tagged("post_install", "-at_install")
class TestReadonlyReports(Json2Case):
    """Follow-up Signals, Event Chains and My Day are read-only: a client that makes only read-only calls
    (what Odoo serves from a read replica: web_search_read, formatted_read_group, search_read) gets every
    number of them, the same as the model gives, as a salesperson and as a sales manager. Here the calls go
    over HTTP to read-only test cursors (``SET TRANSACTION READ ONLY``): a write on the way would fail
    there, and odoo.http would log that it retried the call on the primary."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rep = new_test_user(
            cls.env, login="ro_rep", name="Rita Rep", groups="sales_team.group_sale_salesman", tz="UTC"
        )
        cls.manager = new_test_user(
            cls.env, login="ro_manager", name="Max Manager", groups="sales_team.group_sale_manager", tz="UTC"
        )
        cls.team = cls.env["crm.team"].create({"name": "Read-only Warn", "followup_policy": "warn"})
        cls.env["crm.team.member"].create(
            [{"crm_team_id": cls.team.id, "user_id": user.id} for user in (cls.rep, cls.manager)]
        )
        cls.stage = cls.env["crm.stage"].create({"name": "Read-only open", "sequence": 700})
        cls.call = cls.env.ref("mail.mail_activity_data_call")
        # three hours ago: every first call's 15 minutes are over, whatever the time of the run
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.today = cls.now.date()
        start = cls.now - timedelta(hours=3)
        called, called_late, never_called, no_step = (
            cls._lead(cls.rep, name)
            for name in ("RO called", "RO called late", "RO never called", "RO no step")
        )
        managers = cls._lead(cls.manager, "RO manager's")
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET create_date = %s WHERE id IN %s",
                start,
                tuple((called | called_late | never_called | no_step | managers).ids),
            )
        )
        # called after 10 minutes, done 10 seconds after it was planned, without feedback: quick done
        quick = cls._activity(called, cls.rep, cls.today)
        cls._created_at(quick, start + timedelta(minutes=10, seconds=-10))
        with freeze_time(start + timedelta(minutes=10)):
            quick.with_user(cls.rep).action_feedback()
        # called after 20 minutes, with feedback
        late = cls._activity(called_late, cls.rep, cls.today)
        cls._created_at(late, start)
        with freeze_time(start + timedelta(minutes=20)):
            late.with_user(cls.rep).action_feedback(feedback="She wants a demo")
        cls._created_at(cls._activity(never_called, cls.rep, cls.today), start)
        cls._created_at(cls._activity(managers, cls.manager, cls.today - timedelta(days=1)), start)
        cls.env.invalidate_all()
        cls.period = {
            "date_from": fields.Date.to_string(cls.today - timedelta(days=14)),
            "date_to": fields.Date.to_string(cls.today),
            "team_ids": cls.team.ids,
        }

    @classmethod
    def _lead(cls, user, name):
        return cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": user.id,
                "stage_id": cls.stage.id,
            }
        )

    @classmethod
    def _activity(cls, lead, user, deadline):
        return cls.env["mail.activity"].create(
            {
                "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                "res_id": lead.id,
                "activity_type_id": cls.call.id,
                "user_id": user.id,
                "date_deadline": deadline,
            }
        )

    @classmethod
    def _created_at(cls, activity, when):
        cls.env.flush_all()
        cls.env.cr.execute(SQL("UPDATE mail_activity SET create_date = %s WHERE id = %s", when, activity.id))

    def _call_kw(self, user, model, method, context, **kwargs):
        """``model.method(**kwargs)`` as the web client calls it, as ``user``; a refusal raises
        JsonRpcException."""
        self.authenticate(user.login, user.login)
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": [], "kwargs": {**kwargs, "context": context}},
        )

    def _model(self, user, model, method, context, *args, **kwargs):
        """``model.method(*args, **kwargs)`` called in the test, as ``user``, as the web client gets it."""
        result = getattr(self.env[model].with_user(user).with_context(**context), method)(*args, **kwargs)
        return json.loads(json.dumps(result, default=json_default))

    def _read(self, user, model, context, domain, columns):
        """The rows of ``model`` as its list reads them over HTTP, read-only, checked against the model."""
        spec = {name: {} for name in columns}
        with self.assertNoLogs("odoo.http", "WARNING"):
            result = self._call_kw(user, model, "web_search_read", context, domain=domain, specification=spec)
        direct = self._model(user, model, "web_search_read", context, domain, spec)
        rows = [{name: record[name] for name in columns} for record in result["records"]]
        self.assertEqual(rows, [{name: record[name] for name in columns} for record in direct["records"]])
        return rows

    def _groups(self, user, model, context, domain, groupby, aggregates):
        """The groups of ``model`` as its graph or grouped list reads them over HTTP, read-only, checked
        against the model."""
        groups = {"domain": domain, "groupby": groupby, "aggregates": aggregates}
        with self.assertNoLogs("odoo.http", "WARNING"):
            result = self._call_kw(user, model, "formatted_read_group", context, **groups)
        self.assertEqual(result, self._model(user, model, "formatted_read_group", context, **groups))
        return result

    def _refused(self, user, model, context):
        """Reading ``model`` over HTTP is refused to ``user``, without a write on the way."""
        with self.assertLogs("odoo.http", "WARNING") as logs, self.assertRaises(JsonRpcException) as refusal:
            self._call_kw(user, model, "web_search_read", context, domain=[], specification={"id": {}})
        self.assertEqual(str(refusal.exception), "odoo.exceptions.AccessError")
        self.assertFalse([line for line in logs.output if RETRY in line], logs.output)

    def test_follow_up_signals(self):
        thresholds = {"quick_seconds": 60, "far_days": 180, "reschedule_min": 3}
        context = {"crm_activity_signal_report": {**self.period, **thresholds}}
        model = "crm.activity.signal.report.line"
        rows = self._read(self.manager, model, context, [], SIGNAL_COLUMNS + SIGNAL_SHARES)
        self.assertEqual(
            [tuple(row[name] for name in SIGNAL_COLUMNS) for row in rows],
            [
                # by name: Max, then Rita; two of Rita's leads lost their step when the call was done
                (self.manager.id, 1, 0, 0, 1, 1, 0),
                (self.rep.id, 3, 2, 1, 1, 4, 3),
            ],
        )
        self.assertAlmostEqual(rows[1]["quick_done_share"], 50.0)
        self.assertAlmostEqual(rows[1]["missing_share"], 75.0)
        # a stricter "quick": other parameters, other numbers, in the same way
        context = {"crm_activity_signal_report": {**self.period, **thresholds, "quick_seconds": 5}}
        rows = self._read(self.manager, model, context, [("user_id", "=", self.rep.id)], ("quick_done",))
        self.assertEqual(rows, [{"quick_done": 0}])
        # the salespeople's signals are for managers only
        self._refused(self.rep, model, context)
        # what the Show button opens reads the same
        form = (
            self.env["crm.activity.signal.report"]
            .with_user(self.manager)
            .create({**self.period, "team_ids": [(6, 0, self.team.ids)], "quick_seconds": 5})
        )
        self.assertEqual(form.action_show()["context"], context)

    def test_event_chains(self):
        chain = self.env.ref("crm_activity_centric.crm_activity_chain_first_call")
        model = "crm.activity.chain.report.line"
        context = {"crm_activity_chain_report": {**self.period, "chain_id": chain.id, "group_by": "user"}}
        rows = self._read(self.manager, model, context, [], CHAIN_COLUMNS)
        self.assertEqual(
            [tuple(row[name] for name in CHAIN_COLUMNS[:-1]) for row in rows],
            [("Max Manager", self.manager.id, 1, 0, 0, 1, 0), ("Rita Rep", self.rep.id, 4, 1, 1, 2, 0)],
        )
        self.assertAlmostEqual(rows[1]["share_within"], 25.0)
        # the graph: the chains within the threshold per salesperson
        graph = self._groups(self.manager, model, context, [], ["name"], ["within:sum", "started:sum"])
        self.assertEqual([(g["name"], g["within:sum"]) for g in graph], [("Max Manager", 0), ("Rita Rep", 1)])
        # a salesperson: the chains of his own leads only
        rows = self._read(self.rep, model, context, [], CHAIN_COLUMNS)
        self.assertEqual([(row["user_id"], row["started"]) for row in rows], [(self.rep.id, 4)])
        # over the external API (JSON-2, an API key and no web session), per team
        context["crm_activity_chain_report"]["group_by"] = "team"
        self.logout()
        with self.assertNoLogs("odoo.http", "WARNING"):
            status, body = self.json2(
                self.manager, model, "search_read", domain=[], fields=["name", "started"], context=context
            )
        self.assertEqual(status, 200, body)
        self.assertEqual([(row["name"], row["started"]) for row in body], [("Read-only Warn", 5)])
        # what the Show button opens reads the same
        form = (
            self.env["crm.activity.chain.report"]
            .with_user(self.manager)
            .create(
                {**self.period, "team_ids": [(6, 0, self.team.ids)], "chain_id": chain.id, "group_by": "team"}
            )
        )
        self.assertEqual(form.action_show()["context"], context)

    def test_my_day(self):
        model = "crm.followup.agenda"
        # the My Day filter, as the action opens it
        my_day = [
            ("user_id", "=", self.rep.id),
            "|",
            ("kind", "=", "missing"),
            ("date_deadline", "<=", fields.Date.to_string(self.today)),
        ]
        columns = ("kind", "todo", "lead_id", "date_deadline")
        rows = self._read(self.rep, model, {}, my_day, columns)
        self.assertEqual(
            sorted((row["kind"], row["todo"]) for row in rows),
            [("activity", "Call")] + [("missing", "Plan a next step")] * 3,
        )
        # a manager, grouped by salesperson
        my_day[0] = ("user_id", "=", self.manager.id)
        self.assertEqual(len(self._read(self.manager, model, {}, my_day, columns)), 1)
        domain = [("team_id", "=", self.team.id)]
        grouped = self._groups(self.manager, model, {}, domain, ["user_id"], ["__count"])
        self.assertEqual(
            sorted((group["user_id"][0], group["__count"]) for group in grouped),
            sorted([(self.manager.id, 1), (self.rep.id, 4)]),
        )

    def test_activities_that_win(self):
        """Activities That Win over HTTP, read-only: its lines and graph as a salesperson and as a manager,
        the per-salesperson lines for the manager only."""
        self.env["crm.lead"].search([("team_id", "=", self.team.id)]).filtered(
            lambda lead: lead.name == "RO called"
        ).action_set_won()
        self.env.invalidate_all()
        params = {**self.period, "max_count": 2, "min_deals": 1}
        context = {"crm_activity_win_report": params}
        model = "crm.activity.win.report.line"
        columns = ("activity_type_id", "bucket", "deals", "won", "win_rate")
        rows = self._read(self.manager, model, context, [], columns)
        # the call done on "RO called" before it was won
        self.assertEqual(
            [(row["bucket"], row["deals"], row["won"]) for row in rows],
            [("0", 0, 0), ("1", 1, 1), ("2+", 0, 0)],
        )
        self.assertEqual(rows, self._read(self.rep, model, context, [], columns))
        graph = self._groups(self.manager, model, context, [], ["bucket"], ["win_rate:max"])
        self.assertEqual(
            [(g["bucket"], g["win_rate:max"]) for g in graph], [("0", 0.0), ("1", 100.0), ("2+", 0.0)]
        )
        per_rep = self._read(
            self.manager, "crm.activity.win.rep.line", context, [], ("user_id", "share_reaching")
        )
        self.assertEqual([(row["user_id"], row["share_reaching"]) for row in per_rep], [(self.rep.id, 100.0)])
        self._refused(self.rep, "crm.activity.win.rep.line", context)
