"""Lifecycle checks of the Pipeline Discipline addons (tier 2 of ``run_tiers.py``).

1. Install on a database with existing data: on a copy of the tier's template database (crm and the
   other dependencies, none of our addons), a running business's CRM data are made with Odoo's own API
   (teams, salespeople, leads moved through stages over two months, won and lost ones, activities, chatter
   messages from salespeople and customers, a UTM campaign); then ``crm_pipeline_discipline`` (and with it
   the five addons) is installed. Checked: the stage history backfilled from the tracked stage changes, the
   follow-up state of every lead, the SLA "last action" clock from the salesperson's chatter, no decision
   phase invented, every feature off (nobody blocked), and the leads' own data untouched.
2. Uninstall and reinstall on that database: a little data of our own goes in, the addons are uninstalled
   one at a time in reverse dependency order and, after each, nothing may be left behind (xml ids,
   scheduled actions, server actions, views, menus, models, fields, tables, columns) and the remaining CRM
   views still validate and render; then everything is reinstalled and the data are checked again.
3. Upgrade from the released version (``RELEASED_TAG``, commit ``RELEASED_COMMIT``, fetched from
   ``origin`` by a clone without it): its addons and plain packages are taken with ``git archive``,
   installed on another copy of the template with data in, then updated with the current code. Checked:
   a clean log, the data intact, and the upgraded schema of our modules equal to a fresh install's
   (fields, columns, indexes, constraints, SQL views): a field changed without a migration script shows
   up here. A checkout that cannot have the history (no git; a shallow clone whose origin is gone) skips
   it and says why.

``run()`` is the entry point for ``run_tiers.py`` (any Python). The steps that need Odoo's registry
run this same file with Odoo's Python: ``python lifecycle.py inside DB ADDONS_PATH STEP [ARGS...]``; they
print one JSON object on the last line of their output.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS_DIR = ROOT / "odoo_addons"
BUNDLE = "crm_pipeline_discipline"
# reverse dependency order: each module is uninstalled after every module that depends on it
UNINSTALL_ORDER = (
    BUNDLE,
    "crm_lead_handoff",
    "crm_sla_rules",
    "crm_stage_survey",
    "crm_activity_centric",
    "crm_stage_history",
    "crm_pipeline_base",
)
# modules that came after the released version: the upgrade installs them as new dependencies
ADDED_SINCE_RELEASE = ("crm_pipeline_base", "crm_lead_handoff")
LEAD_PREFIX = "Lifecycle lead"
EXISTING_PREFIX = "Existing lead:"
# the released version the upgrade starts from, and what of it the old addons need
RELEASED_TAG = "19.0.1.0.0"
RELEASED_COMMIT = "98b16d88bca4842b6e1440c8a990c53b02a78061"  # what the tag points at
RELEASED_PATHS = ("odoo_addons", "activity_centric", "funnel_metrics", "sla_rules")
# business data compared before and after the upgrade (with every table of our models)
DATA_TABLES = ("crm_lead", "crm_team", "crm_stage", "mail_activity", "mail_message")
# rows of a data table that are business data: a module's data files post a "created" note on the
# configuration records they add (a server action, Odoo 19), which is not the business's data
DATA_ROWS = {"mail_message": "model IN ('crm.lead', 'crm.team', 'crm.stage', 'res.partner')"}
# columns that any update of a module may rewrite on the records of its data files
VOLATILE_COLUMNS = ("write_date", "write_uid")
# the CRM data of a business that runs before our addons are installed, as days after a start 60 days
# ago: (name, type, team, salesperson, customer, events, open activity). Teams, salespeople and
# customers are indexes; events are (day, kind[, stage]) with kind one of stage (a tracked stage change),
# won, lost, rep_note / rep_mail (chatter by the salesperson), customer_mail, done (the lead's planned
# activity marked done); the open activity is overdue, due (in the future) or none.
EXISTING_LEADS = (
    ("new lead from the website", "lead", 0, 0, 0, (), "overdue"),
    (
        "qualified, the customer wrote last",
        "opportunity",
        0,
        0,
        1,
        ((10, "stage", "Qualified"), (12, "rep_note"), (20, "customer_mail")),
        "due",
    ),
    (
        "proposal sent, call done",
        "opportunity",
        0,
        1,
        2,
        ((5, "stage", "Qualified"), (15, "stage", "Proposition"), (25, "done")),
        None,
    ),
    (
        "skipped to proposal, then won",
        "opportunity",
        1,
        1,
        0,
        ((8, "stage", "Proposition"), (30, "won")),
        None,
    ),
    ("lost after qualification", "opportunity", 1, 0, 1, ((6, "stage", "Qualified"), (40, "lost")), None),
    (
        "back and forth",
        "opportunity",
        1,
        1,
        2,
        ((3, "stage", "Qualified"), (9, "stage", "New"), (20, "stage", "Qualified"), (45, "rep_mail")),
        "overdue",
    ),
    ("unassigned, the customer wrote", "opportunity", 1, None, 0, ((35, "customer_mail"),), None),
    ("on hold", "opportunity", 0, 0, None, ((30, "stage", "On hold"),), None),
    (
        "quick win, a call left open",
        "opportunity",
        0,
        1,
        1,
        ((2, "stage", "Qualified"), (4, "stage", "Proposition"), (50, "won")),
        "overdue",
    ),
    ("no team", "opportunity", None, 0, None, ((12, "rep_note"),), "due"),
)
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


def _ours_sql() -> str:
    return "(" + ",".join(f"'{module}'" for module in UNINSTALL_ORDER) + ")"


def _rows_json(db: str, table: str, ids: list[int]) -> dict[int, dict]:
    """The rows of ``table`` with these ids, as {id: {column: value}}."""
    if not ids:
        return {}
    rows = _psql(db, f"SELECT id, row_to_json(t) FROM {table} t WHERE id IN ({','.join(map(str, ids))})")
    return {int(row_id): json.loads(data) for row_id, data in rows}


def _changed_columns(before: dict[int, dict], after: dict[int, dict], columns: set[str]) -> list[str]:
    """``record id.column`` of every value in ``columns`` that differs between the two reads."""
    changed = [f"{row_id} missing" for row_id in before if row_id not in after]
    for row_id, row in before.items():
        changed += [
            f"{row_id}.{column}: {row[column]} -> {after[row_id][column]}"
            for column in sorted(columns)
            if row_id in after and column in row and row[column] != after[row_id].get(column)
        ]
    return changed


def _own_tables(db: str) -> list[str]:
    """The tables of the models our modules create (not their SQL views) and of their many2many fields."""
    ours = _ours_sql()
    rows = _psql(
        db,
        "SELECT replace(m.model, '.', '_') FROM ir_model m JOIN ir_model_data d "
        f"ON d.model = 'ir.model' AND d.res_id = m.id AND d.module IN {ours} "
        "WHERE NOT m.transient AND NOT EXISTS (SELECT 1 FROM ir_model_data o WHERE o.model = 'ir.model' "
        "AND o.res_id = m.id "
        f"AND o.module NOT IN {ours}) "
        "UNION SELECT f.relation_table FROM ir_model_fields f JOIN ir_model_data d "
        f"ON d.model = 'ir.model.fields' AND d.res_id = f.id AND d.module IN {ours} "
        "WHERE f.ttype = 'many2many' AND f.store AND f.relation_table IS NOT NULL",
    )
    names = {row[0] for row in rows}
    tables = _psql(
        db,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE'",
    )
    return sorted(names & {row[0] for row in tables})


def _data_columns(db: str) -> dict[str, list[str]]:
    """The columns of our tables and of the CRM's main ones, without those an update may rewrite."""
    return {
        table: [
            row[0]
            for row in _psql(
                db,
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                f"AND table_name = '{table}' ORDER BY column_name",
            )
            if row[0] not in VOLATILE_COLUMNS
        ]
        for table in (*DATA_TABLES, *_own_tables(db))
    }


def _data_digest(db: str, tables: dict[str, list[str]]) -> dict[str, str]:
    """Per table of ``tables`` (table -> columns): row count and a digest of every row's columns."""
    digest = {}
    for table, columns in tables.items():
        selected = ", ".join(f'"{column}"' for column in columns)
        rows = DATA_ROWS.get(table, "TRUE")
        [[count, md5]] = _psql(
            db,
            f"SELECT count(*), coalesce(md5(string_agg(r, ',' ORDER BY r)), '') "
            f"FROM (SELECT md5(row({selected})::text) AS r FROM {table} WHERE {rows}) s",
        )
        digest[table] = f"{count} rows {md5}"
    return digest


def _fingerprint(db: str) -> dict[str, set]:
    """The schema of our modules: their fields as the registry declares them, and in PostgreSQL the
    columns (type, NOT NULL, default), indexes, constraints and SQL views of their tables and fields."""
    ours = _ours_sql()
    field_rows = _psql(
        db,
        "SELECT d.module, f.model, f.name, f.ttype, f.required, f.store, f.readonly, f.index, "
        "coalesce(f.relation, ''), coalesce(f.relation_table, ''), coalesce(f.column1, ''), "
        "coalesce(f.column2, ''), coalesce(f.on_delete, ''), coalesce(f.related, ''), "
        "coalesce(f.translate, ''), f.company_dependent, coalesce(f.depends, ''), "
        "coalesce((SELECT string_agg(s.value, ',' ORDER BY s.sequence, s.value) "
        "          FROM ir_model_fields_selection s WHERE s.field_id = f.id), '') "
        "FROM ir_model_fields f JOIN ir_model_data d ON d.model = 'ir.model.fields' AND d.res_id = f.id "
        f"WHERE d.module IN {ours}",
    )
    fields = {tuple(row) for row in field_rows}
    own_tables = {
        row[0]
        for row in _psql(
            db,
            "SELECT replace(m.model, '.', '_') FROM ir_model m JOIN ir_model_data d "
            f"ON d.model = 'ir.model' AND d.res_id = m.id AND d.module IN {ours} "
            "WHERE NOT m.transient AND NOT EXISTS (SELECT 1 FROM ir_model_data o WHERE o.model = 'ir.model' "
            "AND o.res_id = m.id "
            f"AND o.module NOT IN {ours})",
        )
    }
    own_tables |= {row[9] for row in field_rows if row[3] == "many2many" and row[9]}
    # the columns our modules add to the tables of other models
    own_columns = {
        (row[1].replace(".", "_"), row[2])
        for row in field_rows
        if row[5] == "t" and row[3] not in ("one2many", "many2many")
    }
    extended = {table for table, _column in own_columns} - own_tables
    in_list = "(" + ",".join(f"'{table}'" for table in sorted(own_tables | extended)) + ")"
    columns = {
        (table, column, data_type, nullable, default)
        for table, column, data_type, nullable, default in _psql(
            db,
            "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') "
            f"FROM information_schema.columns WHERE table_schema = 'public' AND table_name IN {in_list}",
        )
        if table in own_tables or (table, column) in own_columns
    }

    def touches_ours(table: str, definition: str) -> bool:
        if table in own_tables:
            return True
        inside = definition[definition.find("(") :]
        return any((table, word) in own_columns for word in re.findall(r"\w+", inside))

    indexes = {
        (table, name, definition)
        for table, name, definition in _psql(
            db, f"SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename IN {in_list}"
        )
        if touches_ours(table, definition)
    }
    constraints = {
        (table, name, kind, definition)
        for table, name, kind, definition in _psql(
            db,
            "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            f"JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname IN {in_list}",
        )
        if touches_ours(table, definition)
    }
    views = {
        (name, " ".join(definition.split()))
        for name, definition in _psql(
            db,
            "SELECT replace(m.model, '.', '_'), regexp_replace(coalesce(v.definition, ''), '\\s+', ' ', 'g') "
            "FROM ir_model m "
            f"JOIN ir_model_data d ON d.model = 'ir.model' AND d.res_id = m.id AND d.module IN {ours} "
            "JOIN pg_views v ON v.viewname = replace(m.model, '.', '_') AND v.schemaname = 'public'",
        )
    }
    return {
        "fields": fields,
        "columns": columns,
        "indexes": indexes,
        "constraints": constraints,
        "sql views": views,
    }


def _git(*args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
    )


def _released_commit() -> tuple[str, str]:
    """Make the released commit available in this clone: ``(error, unavailable)``, both "" when it is.

    The tag names the release where it was fetched; CI clones may come without tags (a clone of the
    branch only) or without history (``--depth 1``), so the commit is what counts: looked up here, else
    fetched from the clone's ``origin``. ``error``: something is wrong with the project's history (the
    tag moved, or a full clone lacks the commit). ``unavailable``: this checkout cannot have the
    history (not a git checkout, or a shallow clone whose origin does not answer): the check is skipped
    and says why, it does not pass."""
    try:
        inside = _git("rev-parse", "--is-inside-work-tree")
    except FileNotFoundError:
        return "", "git is not installed: the released code is taken from the project's git history"
    if inside.returncode or inside.stdout.strip() != "true":
        return "", f"{ROOT} is not a git checkout: the released code is taken from the project's git history"
    tagged = _git("rev-parse", "--verify", "--quiet", f"refs/tags/{RELEASED_TAG}^{{commit}}").stdout.strip()
    if tagged and tagged != RELEASED_COMMIT:
        return f"git tag {RELEASED_TAG} points at {tagged}, the release is {RELEASED_COMMIT}: a moved tag", ""
    if not _git("cat-file", "-e", f"{RELEASED_COMMIT}^{{commit}}").returncode:
        return "", ""
    shallow = _git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
    fetch = ["fetch", "--quiet", "--no-tags", *(["--depth=1"] if shallow else []), "origin", RELEASED_COMMIT]
    try:
        fetched = _git(*fetch, timeout=300)
    except subprocess.TimeoutExpired:
        fetched = subprocess.CompletedProcess(fetch, 1, "", "no answer within 300 s")
    if not fetched.returncode and not _git("cat-file", "-e", f"{RELEASED_COMMIT}^{{commit}}").returncode:
        return "", ""
    detail = (
        f"commit {RELEASED_COMMIT[:12]} of {RELEASED_TAG} is not in this clone, and fetching it from origin "
        f"failed: {fetched.stderr.strip()[:300]}"
    )
    if shallow:
        return "", f"{detail} (a shallow clone: fetch the history, e.g. actions/checkout with fetch-depth: 0)"
    return detail, ""


def _released_code(into: Path) -> str:
    """Extract the released addons and plain packages (``_released_commit()`` made the commit available)
    into ``into``; an error message, or ""."""
    archive = into / "released.tar"
    with archive.open("wb") as out:
        proc = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", RELEASED_COMMIT, *RELEASED_PATHS],
            stdout=out,
            stderr=subprocess.PIPE,
            check=False,
        )
    if proc.returncode:
        return f"git archive {RELEASED_COMMIT[:12]} failed: {proc.stderr.decode(errors='replace')[:300]}"
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    archive.unlink()
    return ""


class Lifecycle:
    def __init__(self, odoo_bin: str, python: str, db: str, log_dir: Path, label: str = ""):
        self.odoo_bin, self.python, self.db, self.log_dir = odoo_bin, python, db, log_dir
        self.label = label  # log file names of this database
        self.addons = ADDONS_DIR
        self.pythonpath: Path | None = None  # put first on the Python path of Odoo (the released packages)
        self.passed = self.failed = self.skipped = 0
        self.failures: list[str] = []

    def skip(self, name: str, why: str) -> None:
        """A check this checkout cannot run (said, and counted as skipped: it did not pass)."""
        self.skipped += 1
        print(f"lifecycle: SKIP {name}: {why}", flush=True)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(f"{name}: {detail}")
        print(f"lifecycle: {'ok  ' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}", flush=True)
        return ok

    def _run(self, cmd: list[str], log: Path) -> tuple[int, list[str], str]:
        env = dict(os.environ)
        if self.pythonpath:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(self.pythonpath), env.get("PYTHONPATH"))))
        with log.open("w") as out:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, text=True, check=False, env=env)
        text = log.read_text(errors="replace").strip().splitlines()
        return proc.returncode, _problems(log), text[-1] if text else ""

    def odoo(self, name: str, *args: str) -> tuple[int, list[str]]:
        log = self.log_dir / f"lifecycle{self.label}-{name}.log"
        code, problems, _ = self._run(
            [
                self.odoo_bin,
                f"--database={self.db}",
                f"--addons-path={self.addons}",
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
        module = f"-{args[0]}" if step == "uninstall" else ""
        log = self.log_dir / f"lifecycle{self.label}-{step}{module}.log"
        code, problems, last = self._run(
            [self.python, __file__, "inside", self.db, str(self.addons), step, *args], log
        )
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

    def step(self, name: str, step: str, *args: str) -> dict | None:
        """Run an inside step; its result, or None (and a failed check) if it did not run through."""
        code, problems, result = self.inside(step, *args)
        if not self.clean_run(name, code, problems) or result.get("error"):
            if result.get("error"):
                self.check(f"{name}: runs to the end", False, result["error"])
            return None
        return result

    def views_ok(self, name: str, result: dict) -> None:
        self.check(
            f"{name}: {result.get('views', 0)} remaining views validate and render",
            not result.get("view_errors") and not result.get("error"),
            "; ".join(result.get("view_errors", [])[:3]) or result.get("error", ""),
        )

    def problems(self, name: str, found: list[str]) -> bool:
        return self.check(
            name, not found, "; ".join(found[:5]) + (f" (+{len(found) - 5})" if len(found) > 5 else "")
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


def _existing_history(db: str, lead_ids: list[int]) -> list[list[str]]:
    return _psql(
        db,
        "SELECT lead_id, stage_id, coalesce(previous_stage_id, 0), date_in, coalesce(date_out::text, ''), "
        "is_current, origin, coalesce(user_id, 0), coalesce(team_id, 0) FROM crm_lead_stage_history "
        f"WHERE lead_id IN ({','.join(map(str, lead_ids))}) ORDER BY lead_id, date_in, id",
    )


def _lead_states(db: str, lead_ids: list[int]) -> list[list[str]]:
    return _psql(
        db,
        "SELECT id, followup_state, sla_last_action_date, coalesce(decision_phase_id, 0) FROM crm_lead "
        f"WHERE id IN ({','.join(map(str, lead_ids))}) ORDER BY id",
    )


def _install_and_reinstall(life: Lifecycle, log_dir: Path) -> dict[str, set] | None:
    """Steps 1 and 2 on ``life.db``; the schema fingerprint of the fresh install, for step 3."""
    db = life.db
    before = _schema(db)
    existing = life.step("existing data: a running business's CRM data made before the install", "existing")
    if existing is None:
        return None
    lead_ids = sorted(int(lead_id) for lead_id in existing["leads"])
    lead_columns = {column for table, column in before if table == "crm_lead" and column}
    leads_before = _rows_json(db, "crm_lead", lead_ids)
    activity_ids = [
        int(row[0]) for row in _psql(db, "SELECT id FROM mail_activity WHERE res_model = 'crm.lead'")
    ]
    activities_before = _rows_json(db, "mail_activity", activity_ids)
    messages_before = _psql(db, "SELECT count(*), max(id) FROM mail_message WHERE model = 'crm.lead'")
    if not life.clean_run(
        f"install {BUNDLE} on the existing data", *life.odoo("install", f"--init={BUNDLE}")
    ):
        return None
    fresh = _fingerprint(db)
    expected = log_dir / "lifecycle-existing.json"
    expected.write_text(json.dumps(existing))
    result = life.step("after the install on existing data", "installed", str(expected))
    if result is not None:
        for name, found in result["checks"]:
            life.problems(f"after the install on existing data: {name}", found)
    life.problems(
        f"after the install on existing data: the {len(lead_ids)} leads' own data unchanged "
        f"({len(lead_columns)} columns each)",
        _changed_columns(leads_before, _rows_json(db, "crm_lead", lead_ids), lead_columns),
    )
    life.problems(
        f"after the install on existing data: the {len(activity_ids)} activities and the chatter unchanged",
        _changed_columns(
            activities_before,
            _rows_json(db, "mail_activity", activity_ids),
            {c for t, c in before if t == "mail_activity" and c},
        )
        + (
            []
            if messages_before
            == _psql(db, "SELECT count(*), max(id) FROM mail_message WHERE model = 'crm.lead'")
            else ["messages were added or removed"]
        ),
    )
    history = _existing_history(db, lead_ids)
    states = _lead_states(db, lead_ids)

    result = life.step("put data in", "data")
    if result is None or not life.check(
        "put data in: leads moved through stages, activities, an SLA rule run, a customer email, a "
        "criterion, two handoffs (one rejected, one accepted) with their phase stays",
        result.get("leads", 0) > 0
        and result.get("sla_events", 0) > 0
        and result.get("customer_events", 0) > 0
        and result.get("handoffs") == 2
        and result.get("phase_stays", 0) >= 4,
        json.dumps(result)[:300],
    ):
        return fresh
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
    result = life.step("after reinstall", "verify")
    if result is None:
        return fresh
    life.check(
        f"after reinstall: the {leads} leads are still there, in their stages",
        result.get("leads") == leads and result.get("installed") == len(UNINSTALL_ORDER),
        json.dumps(result)[:300],
    )
    life.problems(
        f"after reinstall: the {len(lead_ids)} existing leads' own data unchanged",
        _changed_columns(leads_before, _rows_json(db, "crm_lead", lead_ids), lead_columns),
    )
    rebuilt = _existing_history(db, lead_ids)
    life.check(
        f"after reinstall: the existing leads' {len(history)} stays rebuilt as at the first install",
        rebuilt == history,
        f"first {history[:2]} now {rebuilt[:2]}",
    )
    again = _lead_states(db, lead_ids)
    life.check(
        "after reinstall: their follow-up state, SLA clock and decision phase as at the first install",
        again == states,
        str([(a, b) for a, b in zip(states, again, strict=False) if a != b][:3]),
    )
    life.views_ok("after reinstall", result)
    return fresh


def _upgrade(life: Lifecycle, fresh: dict[str, set], released: Path) -> None:
    """Step 3 on ``life.db``: install the released code, put data in, update to the current code."""
    life.addons, life.pythonpath = released / "odoo_addons", released
    if not life.clean_run(
        f"upgrade: install the released {BUNDLE} {RELEASED_TAG}", *life.odoo("install", f"--init={BUNDLE}")
    ):
        return
    result = life.step("upgrade: put data in with the released code", "data")
    if result is None:
        return
    life.check(
        "upgrade: the data went in through the released addons and plain packages",
        all(str(path).startswith(str(released)) for path in result.get("code", {}).values())
        and len(result.get("code", {})) == 2
        and result.get("sla_events", 0) > 0,
        json.dumps(result)[:300],
    )
    # columns an update adds hold new data: the data intact are those of the released schema, but for the
    # follow-up state, which crm_activity_centric 19.0.1.4.0 recomputes (an Off team flags nothing)
    released = _data_columns(life.db)
    released["crm_lead"] = [column for column in released["crm_lead"] if column != "followup_state"]
    before = _data_digest(life.db, released)
    life.addons, life.pythonpath = ADDONS_DIR, None
    if not life.clean_run(
        "upgrade: update the modules to the current code (a new dependency is installed)",
        *life.odoo("update", f"--update={','.join(UNINSTALL_ORDER)}"),
    ):
        return
    versions = {module: _manifest_version(module) for module in UNINSTALL_ORDER}
    states = {
        name: (state, version)
        for name, state, version in _psql(
            life.db, f"SELECT name, state, latest_version FROM ir_module_module WHERE name IN {_ours_sql()}"
        )
    }
    life.check(
        "upgrade: every module installed at its current version",
        all(states.get(module) == ("installed", version) for module, version in versions.items()),
        str(states),
    )
    after = _data_digest(life.db, released)
    changed = sorted(table for table in before if before[table] != after.get(table))
    rows = sum(int(digest.split()[0]) for digest in before.values())
    life.check(
        f"upgrade: the data intact ({len(before)} tables, {rows} rows)",
        not changed,
        ", ".join(f"{table}: {before[table]} -> {after.get(table)}" for table in changed[:5]),
    )
    [[flagged_off]] = _psql(
        life.db,
        "SELECT count(*) FROM crm_lead l LEFT JOIN crm_team t ON t.id = l.team_id "
        "WHERE l.followup_state = 'missing' AND COALESCE(t.followup_policy, 'off') = 'off'",
    )
    life.check(
        "upgrade: no lead of an Off team (or without a team) is flagged as missing a follow-up",
        flagged_off == "0",
        f"{flagged_off} flagged",
    )
    upgraded = _fingerprint(life.db)
    for kind, fresh_items in fresh.items():
        missing = sorted(map(str, fresh_items - upgraded[kind]))
        extra = sorted(map(str, upgraded[kind] - fresh_items))
        life.check(
            f"upgrade: the {kind} of our modules as a fresh install's ({len(fresh_items)})",
            not missing and not extra,
            f"only fresh: {'; '.join(missing[:3])} | only upgraded: {'; '.join(extra[:3])}",
        )


def _manifest_version(module: str) -> str:
    return ast.literal_eval((ADDONS_DIR / module / "__manifest__.py").read_text())["version"]


def run(
    odoo_bin: str, python: str, template: str, data_dir: Path, log_dir: Path
) -> tuple[int, int, int, list[str]]:
    """Run the checks on copies of ``template`` (a database with our addons' dependencies and none of
    ours); print one line per check; return (passed, failed, skipped, the failed checks). ``python`` runs
    Odoo; ``data_dir`` is Odoo's, for the copies' filestores."""
    started = time.monotonic()
    databases = [f"{template}_lifecycle", f"{template}_upgrade"]
    for db in databases:
        subprocess.run(["dropdb", "--if-exists", db], check=False, capture_output=True)
        subprocess.run(["createdb", "-T", template, db], check=True)
    life = Lifecycle(odoo_bin, python, databases[0], log_dir)
    upgrade = Lifecycle(odoo_bin, python, databases[1], log_dir, label="-upgrade")
    try:
        fresh = _install_and_reinstall(life, log_dir)
        error, unavailable = _released_commit()
        with tempfile.TemporaryDirectory(prefix="pd-released-") as released:
            if not error and not unavailable:
                error = _released_code(Path(released))
            if unavailable:
                upgrade.skip(f"upgrade from the released version {RELEASED_TAG}", unavailable)
            elif upgrade.check(f"upgrade: the released version {RELEASED_TAG} is at hand", not error, error):
                if fresh is None:
                    upgrade.check("upgrade: a fresh install to compare with", False, "the install failed")
                else:
                    _upgrade(upgrade, fresh, Path(released))
    finally:
        if os.environ.get("KEEP_DB") != "1":
            for db in databases:
                subprocess.run(["dropdb", "--if-exists", db], check=False, capture_output=True)
                shutil.rmtree(data_dir / "filestore" / db, ignore_errors=True)
        passed, failed = life.passed + upgrade.passed, life.failed + upgrade.failed
        skipped = life.skipped + upgrade.skipped
        print(
            f"lifecycle: {passed} checks passed, {failed} failed, {skipped} skipped, "
            f"{time.monotonic() - started:.0f}s"
        )
    return passed, failed, skipped, life.failures + upgrade.failures


# --------------------------------------------------------------------------- inside Odoo


def _inside(db: str, addons: str, step: str, *args: str) -> dict:
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415 - only Odoo's Python runs this part
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        [f"--database={db}", f"--addons-path={addons}", "--log-level=warn", "--no-http"],
        setup_logging=True,
    )

    def environment(cr):
        # mails are queued, never sent: there is no mail server
        return api.Environment(cr, SUPERUSER_ID, {"mail_notify_force_send": False})

    if step == "existing":
        with Registry.new(db).cursor() as cr:
            return _put_existing(environment(cr))
    if step == "installed":
        with Registry.new(db).cursor() as cr:
            result = {"checks": _check_existing(environment(cr), json.loads(Path(args[0]).read_text()))}
            cr.rollback()  # the attempts made as salespeople are undone
            return result
    if step == "data":
        with Registry.new(db).cursor() as cr:
            return _put_data(environment(cr))
    if step == "uninstall":
        with Registry.new(db).cursor() as cr:
            environment(cr)["ir.module.module"].search([("name", "=", args[0])]).button_immediate_uninstall()
    with Registry.new(db).cursor() as cr:
        env = environment(cr)
        result = _check_views(env)
        if step == "uninstall":
            result["leftovers"] = _leftovers(env, json.loads(args[1]))
        if step == "verify":
            leads = env["crm.lead"].with_context(active_test=False).search([("name", "like", LEAD_PREFIX)])
            result["leads"] = len(leads.filtered("stage_id"))
            result["installed"] = env["ir.module.module"].search_count(
                [("name", "in", UNINSTALL_ORDER), ("state", "=", "installed")]
            )
        return result


def _put_existing(env) -> dict:
    """Make EXISTING_LEADS with crm alone, as its users would have over two months; return what our
    addons must derive from them: per lead its stays and the start of its "last action" clock."""
    from odoo import fields  # noqa: PLC0415

    now = fields.Datetime.now().replace(microsecond=0)
    start = now - timedelta(days=60)
    today = fields.Date.context_today(env["crm.lead"])
    salesman = env.ref("sales_team.group_sale_salesman")
    reps = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": f"Existing salesperson {index}",
                    "login": f"existing.rep{index}@example.com",
                    "email": f"existing.rep{index}@example.com",
                    "group_ids": [(6, 0, salesman.ids)],
                }
                for index in range(2)
            ]
        )
    )
    teams = env["crm.team"].create(
        [
            {"name": "Existing direct sales", "member_ids": [(6, 0, reps.ids)]},
            {"name": "Existing partner sales", "member_ids": [(6, 0, reps.ids)]},
        ]
    )
    company = env["res.partner"].create({"name": "Existing Customer Ltd", "is_company": True})
    customers = company | env["res.partner"].create(
        [
            {"name": "Ann Existing", "email": "ann@customer.example.com", "parent_id": company.id},
            {"name": "Bob Existing", "email": "bob@other.example.com"},
        ]
    )
    stages = {stage.name: stage for stage in env["crm.stage"].search([])}
    stages["On hold"] = env["crm.stage"].create(
        {"name": "On hold", "sequence": 50, "fold": True, "team_ids": [(6, 0, teams[:1].ids)]}
    )
    won_stage = env["crm.stage"].search([("is_won", "=", True)], order="sequence, id", limit=1)
    campaign = env["utm.campaign"].create({"name": "Existing spring campaign"})
    source = env["utm.source"].create({"name": "Existing trade fair"})
    Lead = env["crm.lead"]
    leads = Lead.create(
        [
            {
                "name": f"{EXISTING_PREFIX} {name}",
                "type": kind,
                "team_id": teams[team].id if team is not None else False,
                "user_id": reps[rep].id if rep is not None else False,
                "partner_id": customers[customer].id if customer is not None else False,
                "stage_id": stages["New"].id,
                "expected_revenue": 1000 * (index + 1),
                "campaign_id": campaign.id if index % 3 == 0 else False,
                "source_id": source.id if index % 2 else False,
            }
            for index, (name, kind, team, rep, customer, _events, _activity) in enumerate(EXISTING_LEADS)
        ]
    )
    env.flush_all()
    env.cr.precommit.run()  # crm's tracking: the creation messages

    def moment(index, day):
        return start + timedelta(days=day, hours=index)

    def redate(lead, after_id, date):
        env.cr.execute(
            "UPDATE mail_message SET date = %s WHERE model = 'crm.lead' AND res_id = %s AND id > %s",
            (date, lead.id, after_id),
        )

    for index, lead in enumerate(leads):
        redate(lead, 0, moment(index, 0))
    planned = {}
    for index, (lead, spec) in enumerate(zip(leads, EXISTING_LEADS, strict=True)):
        events, activity = spec[5], spec[6]
        as_rep = lead.with_user(lead.user_id) if lead.user_id else lead
        if any(event[1] == "done" for event in events):
            planned[lead] = as_rep.activity_schedule(
                "mail.mail_activity_data_call", date_deadline=moment(index, 1).date(), user_id=lead.user_id.id
            )
        if activity:
            deadline = today + timedelta(days=-3 if activity == "overdue" else 5)
            as_rep.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=deadline,
                summary="Call back",
                user_id=lead.user_id.id or env.uid,
            )
    expected = {}
    days = sorted({event[0] for spec in EXISTING_LEADS for event in spec[5]})
    for day in days:
        marker = env["mail.message"].search([], order="id desc", limit=1).id
        touched = []
        for index, (lead, spec) in enumerate(zip(leads, EXISTING_LEADS, strict=True)):
            as_rep = lead.with_user(lead.user_id) if lead.user_id else lead
            for event in spec[5]:
                if event[0] != day:
                    continue
                kind = event[1]
                touched.append((lead, moment(index, day)))
                if kind == "stage":
                    as_rep.write({"stage_id": stages[event[2]].id})
                elif kind == "won":
                    as_rep.action_set_won()
                elif kind == "lost":
                    as_rep.action_set_lost(lost_reason_id=env.ref("crm.lost_reason_1").id)
                elif kind == "done":
                    planned[lead].with_user(lead.user_id).action_feedback(feedback="Called, proposal agreed")
                elif kind in ("rep_note", "rep_mail"):
                    as_rep.message_post(
                        body=f"Salesperson's {kind} on day {day}",
                        message_type="comment",
                        subtype_xmlid="mail.mt_note" if kind == "rep_note" else "mail.mt_comment",
                    )
                elif kind == "customer_mail":
                    lead.message_post(
                        body=f"The customer writes on day {day}",
                        message_type="email",
                        author_id=lead.partner_id.id,
                        subtype_xmlid="mail.mt_comment",
                    )
        env.flush_all()
        env.cr.precommit.run()
        for lead, date in touched:
            redate(lead, marker, date)
    # the leads' own dates follow their story
    for index, (lead, spec) in enumerate(zip(leads, EXISTING_LEADS, strict=True)):
        created = moment(index, 0)
        events = spec[5]
        changes = [(moment(index, e[0]), e) for e in events if e[1] in ("stage", "won")]
        closing = [moment(index, e[0]) for e in events if e[1] in ("won", "lost")]
        last_change = changes[-1][0] if changes else created
        env.cr.execute(
            """UPDATE crm_lead SET create_date = %s, write_date = %s, date_last_stage_update = %s,
                      date_open = CASE WHEN user_id IS NOT NULL THEN %s END,
                      date_closed = %s WHERE id = %s""",
            (
                created,
                max([last_change, *closing, created]),
                last_change,
                created,
                closing[-1] if closing else None,
                lead.id,
            ),
        )
        stays = []
        stage, previous, date_in = stages["New"].id, None, created
        for date, event in changes:
            new = won_stage.id if event[1] == "won" else stages[event[2]].id
            stays.append([stage, previous, date_in, date])
            stage, previous, date_in = new, stage, date
        ends = date_in if any(e[1] == "won" for e in events) else (closing[-1] if closing else None)
        stays.append([stage, previous, date_in, ends])
        actions = [created, last_change] + [
            moment(index, e[0]) for e in events if e[1] in ("rep_note", "rep_mail", "done")
        ]
        expected[lead.id] = {
            "name": lead.name,
            "stays": [[s, p, str(d_in), str(d_out) if d_out else None] for s, p, d_in, d_out in stays],
            "last_action": str(max(actions)),
            "owner_since": str(created),
        }
    env.invalidate_all()
    return {"leads": expected, "teams": teams.ids, "reps": reps.ids}


def _check_existing(env, expected: dict) -> list[tuple[str, list[str]]]:
    """What the install made of the existing data: a list of (check name, problems found)."""
    from activity_centric import LeadFacts, followup_state  # noqa: PLC0415 - the current package

    Lead = env["crm.lead"].with_context(active_test=False)
    leads = Lead.browse([int(lead_id) for lead_id in expected["leads"]])
    tracked = dict(
        env["mail.tracking.value"]._read_group(
            [
                ("field_id", "=", env["ir.model.fields"]._get("crm.lead", "stage_id").id),
                ("mail_message_id.model", "=", "crm.lead"),
                ("mail_message_id.res_id", "in", leads.ids),
            ],
            ["mail_message_id.res_id"],
            ["__count"],
        )
    )
    history, followup, clock, owner, phase = [], [], [], [], []
    states = {}
    stay_count = 0
    for lead in leads:
        want = expected["leads"][str(lead.id)]
        stays = env["crm.lead.stage.history"].search([("lead_id", "=", lead.id)], order="date_in, id")
        stay_count += len(stays)
        got = [
            [
                s.stage_id.id,
                s.previous_stage_id.id or None,
                str(s.date_in),
                str(s.date_out) if s.date_out else None,
            ]
            for s in stays
        ]
        if got != want["stays"]:
            history.append(f"{lead.name}: stays {got}, expected {want['stays']}")
        if len(stays) != tracked.get(lead.id, 0) + 1:
            history.append(f"{lead.name}: {len(stays)} stays for {tracked.get(lead.id, 0)} tracked changes")
        wrong = stays.filtered(
            lambda s, lead=lead: (
                s.is_current != (not s.date_out)
                or s.origin != "backfill"
                or s.user_id != lead.user_id
                or s.team_id != lead.team_id
                or s.lead_type != lead.type
            )
        )
        if wrong:
            history.append(f"{lead.name}: current/origin/salesperson/team/type wrong on {len(wrong)} stays")
        facts = LeadFacts(
            active=lead.active,
            won=lead.stage_id.is_won,
            folded=lead.stage_id.fold,
            has_reason=bool(lead.no_followup_reason_id),
            open_activities=env["mail.activity"].search_count(
                [("res_model", "=", "crm.lead"), ("res_id", "=", lead.id)]
            ),
        )
        states[lead.followup_state] = states.get(lead.followup_state, 0) + 1
        expected_state = followup_state(facts, lead.team_id.followup_policy or "off")
        if lead.followup_state != expected_state:
            followup.append(f"{lead.name}: {lead.followup_state}, activity_centric says {expected_state}")
        if str(lead.sla_last_action_date) != want["last_action"]:
            clock.append(f"{lead.name}: {lead.sla_last_action_date}, expected {want['last_action']}")
        if [str(lead.sla_owner_since), str(lead.sla_team_since)] != [want["owner_since"]] * 2:
            owner.append(
                f"{lead.name}: owner since {lead.sla_owner_since}, in team since {lead.sla_team_since}, "
                f"expected {want['owner_since']}"
            )
        if lead.decision_phase_id or stays.decision_phase_id:
            phase.append(f"{lead.name}: phase {lead.decision_phase_id.name} without any customer event")
    if env["crm.lead.customer.event"].search_count([("lead_id", "in", leads.ids)]):
        phase.append("customer events were invented at install")
    summary = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    checks = [
        (f"{stay_count} stays backfilled, one per tracked stage change, with their dates", history),
        (f"the follow-up state of every lead as activity_centric decides ({summary})", followup),
        ("the SLA 'last action' clock from the salesperson's own chatter, not the customer's", clock),
        ("the SLA owner clocks from creation: no salesperson or team changed hands since", owner),
        ("no decision phase invented: none without a customer event", phase),
    ]
    # every feature is off: nothing changes for the existing teams or their salespeople
    teams = env["crm.team"].search([])
    switched = teams.filtered(lambda t: t.followup_policy != "off" or t.stage_setting != "manual")
    checks.append(
        (
            f"every feature off on the {len(teams)} teams, no SLA rule",
            [f"{t.name}: {t.followup_policy}, {t.stage_setting}" for t in switched]
            + (["SLA rules exist"] if env["crm.sla.rule"].search_count([]) else []),
        )
    )
    # no handoff route: no lifecycle phase is recorded; the first route rebuilds them from what exists
    History = env["crm.lead.phase.history"]
    unasked = [f"{lead.name}: {lead.lifecycle_phase_id.name}" for lead in leads if lead.lifecycle_phase_id]
    if History.search_count([("lead_id", "in", leads.ids)]):
        unasked.append("phase stays were recorded")
    checks.append(("no handoff route: no lifecycle phase recorded", unasked))
    team = env["crm.team"].browse(expected["teams"][0])
    env["crm.handoff.route"].create(
        {
            "name": "Existing route",
            "from_team_ids": [(6, 0, team.ids)],
            "to_kind": "team",
            "to_team_id": expected["teams"][1],
            "from_phase_id": env.ref("crm_lead_handoff.crm_lifecycle_phase_mql").id,
            "accept_phase_id": env.ref("crm_lead_handoff.crm_lifecycle_phase_sal").id,
        }
    )
    leads.invalidate_recordset()
    wrong_phase = []
    for lead in leads:
        want = {"won": "won", "lost": "lost"}.get(
            lead.won_status, "opportunity" if lead.type == "opportunity" else "inquiry"
        )
        current = History.search([("lead_id", "=", lead.id), ("is_current", "=", True)])
        if lead.lifecycle_phase_id.code != want or (want in ("won", "lost")) == bool(current):
            wrong_phase.append(f"{lead.name}: {lead.lifecycle_phase_id.code}, expected {want}")
    checks.append(("the first handoff route rebuilds every existing lead's phase", wrong_phase))
    refused = []
    attempts = 0
    for lead in leads.filtered(lambda lead: lead.user_id and lead.active and not lead.stage_id.is_won):
        as_rep = lead.with_user(lead.user_id)
        later = env["crm.stage"].search(
            [("sequence", ">", lead.stage_id.sequence), ("is_won", "=", False), ("fold", "=", False)], limit=1
        )
        tries = [("complete its activity", lambda a=as_rep: a.activity_ids.action_feedback(feedback="Done"))]
        if later:
            tries.append(("move it on", lambda a=as_rep, s=later: a.write({"stage_id": s.id})))
        tries += [
            ("win it", lambda a=as_rep: a.action_set_won()),
            ("copy it", lambda a=as_rep: a.copy()),
        ]
        for name, attempt in tries:
            attempts += 1
            try:
                with env.cr.savepoint():
                    attempt()
                    env.flush_all()
            except Exception as exc:  # noqa: BLE001 - every refusal is reported
                refused.append(f"{lead.user_id.name} could not {name} on {lead.name}: {exc}")
    checks.append((f"no salesperson blocked ({attempts} usual actions on their own leads)", refused))
    # the customer's next email moves an existing lead's decision phase (triggers work on old leads)
    lead = leads.filtered(lambda lead: lead.active and lead.partner_id and not lead.stage_id.is_won)[:1]
    lead.message_post(
        body="Could you tell us more?",
        message_type="email",
        author_id=lead.partner_id.id,
        subtype_xmlid="mail.mt_comment",
    )
    phase_after = env.ref("crm_stage_survey.crm_decision_phase_trigger_email").phase_id
    checks.append(
        (
            "the customer's next email sets the decision phase of an existing lead",
            []
            if lead.decision_phase_id == phase_after and lead.customer_event_count == 1
            else [f"{lead.name}: phase {lead.decision_phase_id.name}, {lead.customer_event_count} events"],
        )
    )
    return checks


def _put_data(env) -> dict:
    from odoo.modules.module import get_module_path  # noqa: PLC0415

    import activity_centric  # noqa: PLC0415 - which package the addons run with

    team = env["crm.team"].create({"name": "Lifecycle team", "followup_policy": "warn"})
    stages = env["crm.stage"].search([("is_won", "=", False)], order="sequence, id")
    won = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    customer = env["res.partner"].create(
        {"name": "Lifecycle customer", "email": "buyer@lifecycle.example.com"}
    )
    leads = env["crm.lead"].create(
        [
            {
                "name": f"{LEAD_PREFIX} {index}",
                "type": "opportunity",
                "team_id": team.id,
                "stage_id": stages[0].id,
                "partner_id": customer.id,
            }
            for index in range(4)
        ]
    )
    leads[:2].write({"stage_id": stages[1].id})
    leads[0].write({"stage_id": won.id})
    leads[2].activity_schedule("mail.mail_activity_data_todo", summary="Call back")
    # a lead parked with one of the no-follow-up reasons the module seeds (deleted with it)
    leads[3].no_followup_reason_id = env.ref("crm_activity_centric.crm_followup_reason_nurture")
    # the customer writes: a customer event, and the decision phase moves
    leads[1].message_post(
        body="Send us your prices",
        message_type="email",
        author_id=customer.id,
        subtype_xmlid="mail.mt_comment",
    )
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
    rule = env["crm.sla.rule"].create(
        {
            "name": "Lifecycle rule",
            "team_ids": [(6, 0, team.ids)],
            "clock": "create",
            "threshold": 2,
            "unit": "days",
            "action": "archive",
        }
    )
    # three days later the rule archives the open leads nobody touched (the run commits per batch)
    rule._sla_run(env.cr.now() + timedelta(days=3))
    env.flush_all()
    handoffs = _put_handoffs(env) if "crm.handoff.route" in env else {}
    return {
        **handoffs,
        "leads": len(leads),
        "stays": env["crm.lead.stage.history"].search_count([("lead_id", "in", leads.ids)]),
        "sla_events": env["crm.sla.event"].search_count([("rule_id", "=", rule.id)]),
        "customer_events": env["crm.lead.customer.event"].search_count([("lead_id", "in", leads.ids)]),
        "code": {
            "activity_centric": str(Path(activity_centric.__file__).resolve()),
            "crm_stage_history": str(Path(get_module_path("crm_stage_history")).resolve()),
        },
    }


def _put_handoffs(env) -> dict:
    """crm_lead_handoff's data (its code only, not the released version's): a route from one team to
    another (switching the lifecycle phases on), a lead handed over on it and rejected with a seeded reason
    (recycled), another handed over and accepted, an SLA rule on the 'handed over' clock."""
    sender, receiver = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": f"Lifecycle {role}",
                    "login": f"lifecycle.{role}@example.com",
                    "group_ids": [(6, 0, env.ref("sales_team.group_sale_salesman").ids)],
                }
                for role in ("marketer", "receiver")
            ]
        )
    )
    marketing, inside = env["crm.team"].create(
        [
            {"name": "Lifecycle marketing", "member_ids": [(6, 0, sender.ids)]},
            {"name": "Lifecycle inside sales", "member_ids": [(6, 0, receiver.ids)]},
        ]
    )
    route = env["crm.handoff.route"].create(
        {
            "name": "Lifecycle route",
            "from_team_ids": [(6, 0, marketing.ids)],
            "to_kind": "team",
            "to_team_id": inside.id,
            "from_phase_id": env.ref("crm_lead_handoff.crm_lifecycle_phase_inquiry").id,
            "accept_phase_id": env.ref("crm_lead_handoff.crm_lifecycle_phase_sal").id,
        }
    )
    leads = env["crm.lead"].create(
        [
            {"name": f"Lifecycle inquiry {index}", "type": "lead", "team_id": marketing.id}
            for index in range(2)
        ]
    )
    sent = env["crm.lead.handoff"].with_user(sender)._handoff_send(leads, route, note="Ready for a call")
    sent[0].with_user(receiver).action_reject(
        reason_id=env.ref("crm_lead_handoff.crm_handoff_reject_reason_not_ready_yet").id, note="Next year"
    )
    sent[1].with_user(receiver).action_accept()
    env["crm.sla.rule"].create(
        {
            "name": "Lifecycle handoff deadline",
            "team_ids": [(6, 0, inside.ids)],
            "clock": "handed_over",
            "threshold": 8,
            "unit": "business_hours",
            "action": "return_to_sender",
        }
    )
    env.flush_all()
    return {
        "handoffs": env["crm.lead.handoff"].search_count([("route_id", "=", route.id)]),
        "phase_stays": env["crm.lead.phase.history"].search_count([("lead_id", "in", leads.ids)]),
    }


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
    if len(sys.argv) >= 5 and sys.argv[1] == "inside":
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
        sys.exit(
            "usage: called by run_tiers.py, or: python lifecycle.py inside DB ADDONS_PATH STEP [ARGS...]"
        )
