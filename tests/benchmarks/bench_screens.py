"""The screens of issue 21 on a generated 200,000-lead database, run inside the Python that runs Odoo (see
run.py's ``screens`` section), except ``client`` which runs in the project's virtualenv.

    python bench_screens.py generate DB --leads 200000 --stamp TEXT
    python bench_screens.py uninstall DB --stamp TEXT
    python bench_screens.py measure DB [--repeat 3]
    python bench_screens.py apikey DB
    python bench_screens.py client URL DB OUTPUT        (API key in FUNNEL_METRICS_API_KEY)

`generate` runs the demo generator (``crm.pipeline.demo._generate``) in a database where the bundle is
installed, commits, and stores ``--stamp`` (the size and code version the database was built from) in the
system parameter ``pd_bench.screens``. `uninstall` uninstalls our addons (crm's data stays: the native
comparator) and stores the stamp. `measure` times each screen's server call as the demo's sales manager
(``pd_manager``) or a demo rep (``pd_rep_1``) with ``env(user=...)`` (for the funnel and the calibration,
the read their list makes, which computes the report: the form that opens it writes nothing else than
itself and is not timed): one untimed warm-up call, then the
median of ``--repeat`` calls (one when the warm-up took more than 10 s), each with an empty record cache as
a new request has, and its query count (``cr.sql_log_count``); every call is rolled back. The calls that
need our addons are skipped where they are not installed. `apikey` gives the manager a new API key
(committed). `client` runs ``funnel-metrics export`` over JSON-2 against a running server: seconds, rows,
peak RSS.
Each prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

STAMP_KEY = "pd_bench.screens"
OUR_ADDONS = (
    "crm_pipeline_discipline",
    "crm_sla_rules",
    "crm_stage_survey",
    "crm_activity_centric",
    "crm_stage_history",
    "crm_pipeline_base",
)
MANAGER, REP = "pd_manager", "pd_rep_1"
# the demo's teams whose stages are set by hand (crm_pipeline_discipline's TEAMS): found by name, the same
# leads are written in both databases
MANUAL_TEAMS = ("Inside Sales", "Partner Sales")
WRITE_LEADS = 1000
SLOW_S = 10.0
ADDONS = str(Path(__file__).resolve().parents[2] / "odoo_addons")


def environment(db: str):
    from odoo.modules.registry import Registry  # noqa: PLC0415 - `client` runs without Odoo
    from odoo.tools import config  # noqa: PLC0415

    options = [
        "--database",
        db,
        "--log-level",
        "warn",
        "--addons-path",
        ADDONS,
        "--http-interface",
        "127.0.0.1",
    ]
    config.parse_config(options, setup_logging=True)
    return Registry(db).cursor()


def superuser(cr):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    return api.Environment(cr, SUPERUSER_ID, {})


def generate(db: str, leads: int, stamp: str) -> dict:
    with environment(db) as cr:
        env = superuser(cr)
        started = time.perf_counter()
        summary = env["crm.pipeline.demo"]._generate(leads=leads)
        env["ir.config_parameter"].set_param(STAMP_KEY, stamp)
        cr.commit()
        cr.execute("ANALYZE")
    return {
        "leads": summary["leads"],
        "stays": summary["stays"],
        "seconds": round(time.perf_counter() - started),
    }


def uninstall(db: str, stamp: str) -> dict:
    with environment(db) as cr:
        env = superuser(cr)
        started = time.perf_counter()
        modules = env["ir.module.module"].search([("name", "in", OUR_ADDONS), ("state", "=", "installed")])
        modules.button_immediate_uninstall()
    with environment(db) as cr:
        env = superuser(cr)
        env["ir.config_parameter"].set_param(STAMP_KEY, stamp)
        left = env["ir.module.module"].search_count(
            [("name", "in", OUR_ADDONS), ("state", "!=", "uninstalled")]
        )
        cr.commit()
    return {"seconds": round(time.perf_counter() - started), "left_installed": left}


class Timer:
    """Median seconds and queries of a call, warm: one untimed call first, each call rolled back."""

    def __init__(self, cr, repeat: int):
        self.cr, self.repeat = cr, repeat

    def __call__(self, env, call) -> dict:
        times, queries = [], []
        started = time.perf_counter()
        self._once(env, call)
        runs = 1 if time.perf_counter() - started > SLOW_S else self.repeat
        for _run in range(runs):
            seconds, count = self._once(env, call)
            times.append(seconds)
            queries.append(count)
        return {"s": statistics.median(times), "queries": int(statistics.median(queries)), "runs": runs}

    def _once(self, env, call):
        env.invalidate_all()
        before, started = self.cr.sql_log_count, time.perf_counter()
        call(env)
        env.flush_all()
        seconds, count = time.perf_counter() - started, self.cr.sql_log_count - before
        self.cr.rollback()
        env.invalidate_all()
        return seconds, count


def _field_spec(env, model: str, node) -> dict:
    """What the web client asks ``web_read`` for one field node of a view: a many2one's display name, an
    x2many's fields in its list/kanban sub-view (40 rows) or its display name (tags), else nothing."""
    field = env[model]._fields.get(node.get("name"))
    if field is None or field.type not in ("many2one", "one2many", "many2many"):
        return {}
    if field.type == "many2one":
        return {"fields": {"display_name": {}}}
    sub = next((child for child in node if child.tag in ("list", "kanban")), None)
    if sub is None:
        return {"fields": {"display_name": {}}}
    return {"fields": _view_spec(env, field.comodel_name, sub), "limit": 40}


def _view_spec(env, model: str, arch) -> dict:
    """The specification of a view's field nodes, sub-views' fields nested under their x2many field."""
    spec = {}

    def walk(node):
        for child in node:
            if child.tag == "field":
                spec[child.get("name")] = _field_spec(env, model, child)
            elif isinstance(child.tag, str):
                walk(child)

    walk(arch)
    return spec


def form_specification(env, model: str) -> dict:
    from lxml import etree  # noqa: PLC0415

    view = env[model].get_views([(False, "form")])["views"]["form"]
    return _view_spec(env, model, etree.fromstring(view["arch"]))


def measure(db: str, repeat: int) -> dict:
    from dateutil.relativedelta import relativedelta  # noqa: PLC0415
    from odoo import fields  # noqa: PLC0415

    results = {}
    with environment(db) as cr:
        env = superuser(cr)
        ours = "crm.stage.funnel.report" in env
        users = {user.login: user for user in env["res.users"].search([("login", "in", [MANAGER, REP])])}
        manager, rep = users[MANAGER], users[REP]
        timer = Timer(cr, repeat)
        as_manager, as_rep = env(user=manager), env(user=rep)
        cr.execute("SELECT count(*) FROM crm_lead")
        results["leads"] = cr.fetchone()[0]
        today = fields.Date.context_today(as_manager.user)
        period = {"date_from": today - relativedelta(months=12), "date_to": today}
        if ours:
            cr.execute("SELECT count(*) FROM crm_lead_stage_history")
            results["stays"] = cr.fetchone()[0]
            for group_by in ("stage", "team", "user"):
                action = report_action(
                    as_manager, "crm.stage.funnel.report", {**period, "group_by": group_by}
                )
                results[f"funnel_{group_by}_manager"] = timer(
                    as_manager, lambda e, a=action: report_list_screen(e, a)
                )
            action = report_action(as_rep, "crm.stage.funnel.report", {**period, "group_by": "stage"})
            results["funnel_stage_rep"] = timer(as_rep, lambda e: report_list_screen(e, action))
            action = report_action(as_manager, "crm.stage.calibration", period)
            results["calibration_manager"] = timer(as_manager, lambda e: report_list_screen(e, action))
            results["cost_per_lead_manager"] = timer(as_manager, cost_per_lead_screen)
        # a rep's open opportunity, the same record in both databases
        lead = env["crm.lead"].search(
            [("user_id", "=", rep.id), ("type", "=", "opportunity"), ("won_status", "=", "pending")],
            order="id",
            limit=1,
        )
        for key, user_env in (("rep", as_rep), ("manager", as_manager)):
            spec = form_specification(user_env, "crm.lead")  # the form as this user gets it
            results[f"form_{key}"] = timer(
                user_env, lambda e, s=spec: e["crm.lead"].browse(lead.id).web_read(s)
            )
            results[f"form_{key}"]["fields"] = len(spec)
        results["stage_write_manager"] = stage_write(env, as_manager, timer)
        cr.rollback()
    return results


def report_action(env, model: str, vals: dict) -> dict:
    """The action a report's form opens (Show, Measure: the form's parameters in its context, nothing
    computed); the form itself is not kept."""
    form = env[model].create(vals)
    action = form.action_show() if model == "crm.stage.funnel.report" else form.action_measure()
    env.cr.rollback()
    return action


def list_specification(env, model: str) -> dict:
    from lxml import etree  # noqa: PLC0415

    view = env[model].get_views([(False, "list")])["views"]["list"]
    return _view_spec(env, model, etree.fromstring(view["arch"]))


def report_list_screen(env, action):
    """What the list a report's action opens asks (its first view; the read computes the lines): its
    rows, or, grouped per team or salesperson (the funnel's ``group_by``), its groups unfolded with
    their rows and the sums the list shows."""
    Line = env[action["res_model"]].with_context(**action["context"])
    spec = list_specification(env, Line._name)
    group_by = action["context"].get("group_by")
    if group_by:
        Line.web_read_group(
            [],
            group_by,
            ["lost:sum", "open:sum"],
            auto_unfold=True,
            unfold_read_specification=spec,
        )
    else:
        Line.web_search_read([], spec, limit=80)


def cost_per_lead_screen(env):
    """What the Cost per Lead list asks: its rows (the list sums its columns over the rows it loaded)."""
    spec = {
        "campaign_id": {"fields": {"display_name": {}}},
        "currency_id": {"fields": {}},
        **dict.fromkeys(
            ("cost", "leads", "qualified", "won", "cost_per_lead", "cost_per_qualified", "cost_per_won"), {}
        ),
    }
    env["crm.campaign.cost.report"].web_search_read([], spec, limit=80)


def stage_write(env, as_manager, timer) -> dict:
    """One write of the stage on 1,000 open opportunities of a team whose stages are set by hand, then
    flush (before commit: the chatter's tracking runs at commit, see ODOO19.md)."""
    teams = env["crm.team"].search([("name", "in", MANUAL_TEAMS)])
    stages = env["crm.stage"].search([("is_won", "=", False)], order="sequence, id", limit=2)
    leads = env["crm.lead"].search(
        [
            ("team_id", "in", teams.ids),
            ("type", "=", "opportunity"),
            ("won_status", "=", "pending"),
            ("stage_id", "=", stages[0].id),
        ],
        order="id",
        limit=WRITE_LEADS,
    )
    result = timer(as_manager, lambda e: e["crm.lead"].browse(leads.ids).write({"stage_id": stages[1].id}))
    return {**result, "leads": len(leads)}


def apikey(db: str) -> dict:
    with environment(db) as cr:
        env = superuser(cr)
        manager = env["res.users"].search([("login", "=", MANAGER)])
        keys = env["res.users.apikeys"].search([("user_id", "=", manager.id), ("name", "=", "make bench")])
        keys.unlink()  # one key at a time in a kept database
        key = env(user=manager)["res.users.apikeys"].sudo()._generate(None, "make bench", None)
        cr.commit()
    return {"key": key, "login": MANAGER}


def client(url: str, db: str, output: str) -> dict:
    """``funnel-metrics export`` in this process: seconds, rows written, peak RSS (MB)."""
    import resource  # noqa: PLC0415

    from funnel_metrics.cli import main as funnel_metrics  # noqa: PLC0415

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    code = funnel_metrics(["export", "--url", url, "--db", db, "--no-progress", "-o", output])
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if code:
        raise SystemExit(f"funnel-metrics export exited {code}")
    with open(output, encoding="utf-8") as handle:
        rows = sum(1 for _line in handle) - 1
    os.unlink(output)
    return {
        "s": seconds,
        "rows": rows,
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(peak / 1024),
        "start_rss_mb": round(before / 1024),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["generate", "uninstall", "measure", "apikey", "client"])
    parser.add_argument("db", help="the database (for client: the server's URL, then the database)")
    parser.add_argument("more", nargs="*")
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--stamp", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.what == "generate":
        result = generate(args.db, args.leads, args.stamp)
    elif args.what == "uninstall":
        result = uninstall(args.db, args.stamp)
    elif args.what == "measure":
        result = measure(args.db, args.repeat)
    elif args.what == "apikey":
        result = apikey(args.db)
    else:
        result = client(args.db, *args.more)
    print(json.dumps(result))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
