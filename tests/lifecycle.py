"""Uninstall / reinstall check of the Pipeline Discipline addons (tier 2 of ``run_tiers.py``).

On a copy of the tier's template database: install ``crm_pipeline_discipline`` (and with it the four
addons), put a little data in, uninstall the addons one at a time in reverse dependency order and,
after each, check that the module left nothing behind (xml ids, scheduled actions, server actions,
views, menus, models, fields, tables, columns) and that the remaining CRM views still validate and
render; then reinstall everything and check that the CRM data are still there.

``run()`` is the entry point for ``run_tiers.py`` (any Python). The steps that need Odoo's registry
run this same file with Odoo's Python: ``python lifecycle.py inside DB STEP [MODULE OWNED_JSON]``; they print
one JSON object on the last line of their output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS_DIR = ROOT / "odoo_addons"
BUNDLE = "crm_pipeline_discipline"
# reverse dependency order: each module is uninstalled after every module that depends on it
UNINSTALL_ORDER = (BUNDLE, "crm_sla_rules", "crm_stage_survey", "crm_activity_centric", "crm_stage_history")
LEAD_PREFIX = "Lifecycle lead"
# Odoo log line: "2026-01-01 10:00:00,000 1234 LEVEL db logger: message"
LOG_LEVEL_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ")
# technical records a module must not leave behind once uninstalled
LEFTOVER_MODELS = (
    "ir.cron",
    "ir.actions.server",
    "ir.actions.act_window",
    "ir.ui.view",
    "ir.ui.menu",
    "ir.model",
    "ir.model.fields",
    "ir.model.access",
    "ir.rule",
    "mail.template",
)
# the views that must still validate and render once our modules are gone (with every view of crm)
VIEW_MODELS = (
    "crm.lead",
    "crm.team",
    "crm.stage",
    "crm.team.member",
    "res.config.settings",
    "res.users",
    "mail.activity",
    "mail.activity.type",
    "utm.campaign",
    "survey.survey",
    "survey.user_input",
)
RENDERED_VIEWS = (
    ("crm.lead", ("form", "list", "kanban", "search")),
    ("crm.team", ("form", "list", "kanban")),
    ("crm.stage", ("form", "list")),
    ("res.config.settings", ("form",)),
)


# --------------------------------------------------------------------------- outside Odoo


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _psql(db: str, query: str) -> list[list[str]]:
    out = subprocess.run(
        ["psql", "-d", db, "-AtF", "\t", "-c", query], check=True, capture_output=True, text=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def _schema(db: str) -> set[tuple[str, str]]:
    """Every (table, column) of the public schema, plus (table, "") for each table or SQL view."""
    rows = _psql(
        db,
        "SELECT table_name, '' FROM information_schema.tables WHERE table_schema = 'public' "
        "UNION ALL SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'public'",
    )
    return {(table, column) for table, column in rows}


def _owned(db: str, module: str) -> dict:
    """What ``module`` alone owns, read before it is uninstalled: record ids per technical table, and
    the tables and columns of its models and stored fields."""
    quoted = module.replace("'", "''")
    # records that an installed module other than ``module`` also declares (a model both extend) stay
    others = (
        "SELECT 1 FROM ir_model_data o JOIN ir_module_module m ON m.name = o.module "
        f"WHERE o.model = d.model AND o.res_id = d.res_id AND o.module != '{quoted}' "
        "AND m.state = 'installed'"
    )
    records = {}
    for model in LEFTOVER_MODELS:
        rows = _psql(
            db,
            f"SELECT res_id FROM ir_model_data d WHERE module = '{quoted}' AND model = '{model}' "
            f"AND NOT EXISTS ({others})",
        )
        records[model] = sorted(int(row[0]) for row in rows)
    if records["ir.cron"]:
        # a scheduled action is a server action underneath: both must go
        ids = ",".join(map(str, records["ir.cron"]))
        rows = _psql(db, f"SELECT ir_actions_server_id FROM ir_cron WHERE id IN ({ids})")
        records["ir.actions.server"] = sorted({*records["ir.actions.server"], *(int(row[0]) for row in rows)})
    tables = {
        row[0]
        for row in _psql(
            db,
            "SELECT replace(m.model, '.', '_') FROM ir_model_data d JOIN ir_model m ON m.id = d.res_id "
            f"WHERE d.module = '{quoted}' AND d.model = 'ir.model' AND NOT EXISTS ({others})",
        )
    }
    columns = set()
    for model, name, ttype, relation_table in _psql(
        db,
        "SELECT f.model, f.name, f.ttype, coalesce(f.relation_table, '') FROM ir_model_data d "
        "JOIN ir_model_fields f ON f.id = d.res_id "
        f"WHERE d.module = '{quoted}' AND d.model = 'ir.model.fields' AND f.store AND NOT EXISTS ({others})",
    ):
        if ttype == "many2many" and relation_table:
            tables.add(relation_table)
        elif ttype not in ("one2many", "many2many"):
            columns.add((model.replace(".", "_"), name))
    return {"records": records, "tables": sorted(tables), "columns": sorted(columns)}


def _problems(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if LOG_LEVEL_RE.match(line)]


class Lifecycle:
    def __init__(self, odoo_bin: str, python: str, db: str, log_dir: Path):
        self.odoo_bin, self.python, self.db, self.log_dir = odoo_bin, python, db, log_dir
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"lifecycle: {'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}", flush=True)
        return ok

    def _run(self, cmd: list[str], log: Path) -> tuple[int, list[str], str]:
        with log.open("w") as out:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, check=False)
        text = log.read_text(errors="replace").strip().splitlines()
        return proc.returncode, _problems(log), text[-1] if text else ""

    def odoo(self, name: str, *args: str) -> tuple[int, list[str]]:
        log = self.log_dir / f"lifecycle-{name}.log"
        code, problems, _ = self._run(
            [
                self.odoo_bin,
                f"--database={self.db}",
                f"--addons-path={ADDONS_DIR}",
                "--http-interface=127.0.0.1",
                f"--http-port={_free_port()}",
                "--max-cron-threads=0",
                "--stop-after-init",
                "--log-level=warn",
                *args,
            ],
            log,
        )
        return code, problems

    def inside(self, step: str, *args: str) -> tuple[int, list[str], dict]:
        log = self.log_dir / f"lifecycle-{step}{'-' + args[0] if args else ''}.log"
        code, problems, last = self._run([self.python, __file__, "inside", self.db, step, *args], log)
        try:
            result = json.loads(last)
        except ValueError:
            result = {"error": last or f"no output, see {log}"}
        return code, problems, result

    def clean_run(self, name: str, code: int, problems: list[str]) -> bool:
        return self.check(
            f"{name}: exits cleanly, no warning or error in the log",
            code == 0 and not problems,
            f"exit {code}; " + " | ".join(problems[:3]),
        )

    def views_ok(self, name: str, result: dict) -> None:
        self.check(
            f"{name}: {result.get('views', 0)} remaining views validate and render",
            not result.get("view_errors") and not result.get("error"),
            "; ".join(result.get("view_errors", [])[:3]) or result.get("error", ""),
        )

    def uninstall(self, module: str) -> None:
        owned = _owned(self.db, module)
        code, problems, result = self.inside("uninstall", module, json.dumps(owned["records"]))
        self.clean_run(f"uninstall {module}", code, problems)
        if result.get("error"):
            self.check(f"uninstall {module}: runs to the end", False, result["error"])
            return
        state = _psql(self.db, f"SELECT state FROM ir_module_module WHERE name = '{module}'")
        self.check(f"uninstall {module}: module uninstalled", state == [["uninstalled"]], str(state))
        left = _psql(self.db, f"SELECT model, name FROM ir_model_data WHERE module = '{module}' LIMIT 5")
        self.check(f"uninstall {module}: no xml id left", not left, str(left))
        leftovers = result.get("leftovers", [])
        self.check(
            f"uninstall {module}: no cron, action, view, menu, model, field, access rule or template left "
            f"({sum(len(ids) for ids in owned['records'].values())} records were its own)",
            not leftovers,
            ", ".join(leftovers[:10]),
        )
        schema = _schema(self.db)
        tables = [table for table in owned["tables"] if (table, "") in schema]
        columns = [f"{table}.{column}" for table, column in owned["columns"] if (table, column) in schema]
        counts = f"{len(owned['tables'])} tables, {len(owned['columns'])} columns"
        self.check(
            f"uninstall {module}: no table or column of it left ({counts} were its own)",
            not tables and not columns,
            ", ".join(tables + columns),
        )
        self.views_ok(f"uninstall {module}", result)


def run(odoo_bin: str, python: str, template: str, data_dir: Path, log_dir: Path) -> tuple[int, int]:
    """Run the check on a copy of ``template`` (a database with our addons' dependencies and none of
    ours); print one line per check; return (passed, failed). ``python`` runs Odoo; ``data_dir`` is
    Odoo's, for the copy's filestore."""
    started = time.monotonic()
    db = f"{template}_lifecycle"
    subprocess.run(["dropdb", "--if-exists", db], check=False, capture_output=True)
    subprocess.run(["createdb", "-T", template, db], check=True)
    life = Lifecycle(odoo_bin, python, db, log_dir)
    try:
        before = _schema(db)
        if not life.clean_run(f"install {BUNDLE}", *life.odoo("install", f"--init={BUNDLE}")):
            return life.passed, life.failed
        code, problems, result = life.inside("data")
        if not life.clean_run("put data in", code, problems) or not life.check(
            "put data in: leads moved through stages, an activity, an SLA rule, a stage criterion",
            result.get("leads", 0) > 0 and not result.get("error"),
            result.get("error", ""),
        ):
            return life.passed, life.failed
        leads = result["leads"]
        for module in UNINSTALL_ORDER:
            life.uninstall(module)
        extra = sorted(f"{table}.{column}" if column else table for table, column in _schema(db) - before)
        life.check(
            "all uninstalled: the tables and columns are those from before the install",
            not extra,
            ", ".join(extra[:15]),
        )
        life.clean_run(f"reinstall {BUNDLE}", *life.odoo("reinstall", f"--init={BUNDLE}"))
        code, problems, result = life.inside("verify")
        life.clean_run("after reinstall", code, problems)
        life.check(
            f"after reinstall: the {leads} leads are still there, in their stages",
            result.get("leads") == leads and result.get("installed") == len(UNINSTALL_ORDER),
            json.dumps(result)[:300],
        )
        life.views_ok("after reinstall", result)
    finally:
        if os.environ.get("KEEP_DB") != "1":
            subprocess.run(["dropdb", "--if-exists", db], check=False, capture_output=True)
            shutil.rmtree(data_dir / "filestore" / db, ignore_errors=True)
        print(
            f"lifecycle: {life.passed} checks passed, {life.failed} failed, {time.monotonic() - started:.0f}s"
        )
    return life.passed, life.failed


# --------------------------------------------------------------------------- inside Odoo


def _inside(db: str, step: str, module: str | None = None, owned: str = "{}") -> dict:
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415 - only Odoo's Python runs this part
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        [f"--database={db}", f"--addons-path={ADDONS_DIR}", "--log-level=warn", "--no-http"],
        setup_logging=True,
    )

    def environment(cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    if step == "data":
        with Registry.new(db).cursor() as cr:
            return _put_data(environment(cr))
    if step == "uninstall":
        with Registry.new(db).cursor() as cr:
            environment(cr)["ir.module.module"].search([("name", "=", module)]).button_immediate_uninstall()
    with Registry.new(db).cursor() as cr:
        env = environment(cr)
        result = _check_views(env)
        if step == "uninstall":
            result["leftovers"] = _leftovers(env, json.loads(owned))
        if step == "verify":
            leads = env["crm.lead"].with_context(active_test=False).search([("name", "like", LEAD_PREFIX)])
            result["leads"] = len(leads.filtered("stage_id"))
            result["installed"] = env["ir.module.module"].search_count(
                [("name", "in", UNINSTALL_ORDER), ("state", "=", "installed")]
            )
        return result


def _put_data(env) -> dict:
    team = env["crm.team"].create({"name": "Lifecycle team", "followup_policy": "warn"})
    stages = env["crm.stage"].search([("is_won", "=", False)], order="sequence, id")
    won = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    leads = env["crm.lead"].create(
        [
            {
                "name": f"{LEAD_PREFIX} {index}",
                "type": "opportunity",
                "team_id": team.id,
                "stage_id": stages[0].id,
            }
            for index in range(3)
        ]
    )
    leads[:2].write({"stage_id": stages[1].id})
    leads[0].write({"stage_id": won.id})
    leads[2].activity_schedule("mail.mail_activity_data_todo", summary="Call back")
    survey = env["survey.survey"].create({"title": "Lifecycle qualification", "access_mode": "token"})
    question = env["survey.question"].create(
        {
            "survey_id": survey.id,
            "title": "Budget approved?",
            "question_type": "simple_choice",
            "suggested_answer_ids": [(0, 0, {"value": "Yes"}), (0, 0, {"value": "No"})],
        }
    )
    env["crm.stage.criterion"].create(
        {
            "stage_id": stages[1].id,
            "survey_id": survey.id,
            "question_id": question.id,
            "answer_ids": [(6, 0, question.suggested_answer_ids[:1].ids)],
        }
    )
    env["crm.team"].create(
        {"name": "Lifecycle survey team", "stage_setting": "survey", "qualification_survey_id": survey.id}
    )
    env["crm.sla.rule"].create(
        {
            "name": "Lifecycle rule",
            "team_ids": [(6, 0, team.ids)],
            "clock": "create",
            "threshold": 2,
            "unit": "days",
            "action": "archive",
        }
    )
    env.flush_all()
    stays = env["crm.lead.stage.history"].search_count([("lead_id", "in", leads.ids)])
    return {"leads": len(leads), "stays": stays}


def _leftovers(env, owned: dict[str, list[int]]) -> list[str]:
    """The records the uninstalled module owned that still exist. A model or field record is a leftover
    only if the registry no longer has that model or field (an extended model keeps its record)."""
    leftovers = []
    for model, ids in owned.items():
        for record in env[model].with_context(active_test=False).browse(ids).exists():
            if model == "ir.model" and record.model in env:
                continue
            if (
                model == "ir.model.fields"
                and record.model in env
                and record.name in env[record.model]._fields
            ):
                continue
            leftovers.append(f"{model} {record.display_name}")
    return leftovers


def _check_views(env) -> dict:
    errors = []
    crm_views = env["ir.model.data"].search([("module", "=", "crm"), ("model", "=", "ir.ui.view")])
    views = env["ir.ui.view"].search(
        ["|", ("model", "in", VIEW_MODELS), ("id", "in", crm_views.mapped("res_id"))]
    )
    for view in views:
        try:
            view._check_xml()
        except Exception as exc:  # noqa: BLE001 - every broken view is reported, not only the first
            errors.append(f"{view.xml_id or view.name}: {' '.join(str(exc).split())[:300]}")
    for model, view_types in RENDERED_VIEWS:
        try:
            env[model].get_views([(False, view_type) for view_type in view_types])
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{model} {view_types}: {' '.join(str(exc).split())[:300]}")
    return {"views": len(views), "view_errors": errors}


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "inside":
        # tests/ holds test folders named like the plain packages: never import from it
        here = Path(__file__).resolve().parent
        sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
        os.chdir("/")
        try:
            output = _inside(*sys.argv[2:])
        except Exception as exc:  # noqa: BLE001 - reported to the outer run as one failed check
            traceback.print_exc()
            output = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(output), flush=True)
    else:
        sys.exit("usage: called by run_tiers.py, or: python lifecycle.py inside DB STEP [MODULE OWNED_JSON]")
