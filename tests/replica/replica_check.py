#!/usr/bin/env python3
"""`make replica`: every report and export of the product served by a PostgreSQL hot standby.

1. A demo database (REPLICA_DB, default pd_replica_demo, with REPLICA_LEADS generated leads, default 3000;
   kept between runs while it was built for the same size from the same code, as `make bench` keeps its
   databases) and API keys for the demo's sales manager and a rep.
2. A streaming hot standby of the local PostgreSQL on loopback (tests/replica/standby.py: base backup,
   replication slot, its own port and socket; removed at the end).
3. Two Odoo servers on the database: one with ``--db_replica_host`` on the standby, one on the primary alone.
4. Each report the user opens, as the manager and as the rep where he may (Cost per Lead as the
   administrator): the report's form is filled and its button pressed on the primary (that is a form's save,
   like any Odoo wizard's), then the lines the list shows are read over JSON-2 from both servers. The
   reports: the funnel per stage / team / salesperson, Calibrate Probabilities' measure, Cost per Lead, the
   stage history, the activity signals and chains, the SLA preview and dashboard, My Day; then
   ``funnel-metrics export --url`` and ``sla_rules simulate --url`` against both servers.
5. Checks: the same numbers from both servers; the primary's table statistics show no read at all while the
   replica server answered every report (each report's own tables were scanned on the standby); Odoo logged
   no "retrying with a read/write cursor" (a write inside a read-only call). Times per report on the replica
   and on the primary are printed. Exit status 1 when a check fails.

Environment: REPLICA_DB, REPLICA_LEADS, REPLICA_REBUILD=1 (rebuild the database).
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "benchmarks"))

import run  # noqa: E402 - tests/benchmarks/run.py: the bench's database builder and server helpers
import run_tiers  # noqa: E402 - finds Odoo and PostgreSQL
from standby import Standby  # noqa: E402

MANAGER, REP, ADMIN = "pd_manager", "pd_rep_1", "admin"
WORKER = HERE / "replica_worker.py"
# wait past PostgreSQL's idle flush of a backend's statistics (PGSTAT_IDLE_INTERVAL, 10 s)
STATS_SETTLE_S = 11.5
RETRY_WARNING = "retrying with a read/write cursor"
# the funnel's days in stage count the open stays up to the read, the waterfall's hours to a decision the
# handoffs still awaiting one: a tolerance of an hour between two reads (each field in its own unit)
TIME_FIELDS = {"median_days": 1 / 24, "p90_days": 1 / 24, "median_hours_to_decision": 1.0}
TOLERATED: list[str] = []  # the differences within that tolerance, printed
# the data the reports compute from: none of it may be read on the primary while they are opened (the forms'
# own rows, users, teams and settings may: a form's save is a write)
DATA_TABLES = (
    "crm_lead",
    "crm_lead_stage_history",
    "mail_activity",
    "crm_sla_event",
    "crm_lead_probability_snapshot",
    "crm_decision_phase_change",
    "crm_lead_phase_history",
    "crm_lead_handoff",
)
# rules on the demo's teams for `sla_rules simulate`
SIMULATE_RULES = """\
calendars:
  office:
    tz: UTC
    hours: {mon: [[8, 17]], tue: [[8, 17]], wed: [[8, 17]], thu: [[8, 17]], fri: [[8, 17]]}
default_calendar: office
rules:
  - {name: Reassign untouched opportunities, clock: assignment, threshold: 4, unit: business_days,
     warning_before: 1, lead_type: opportunity, teams: [Inside Sales], action: reassign,
     reassign: round_robin}
  - {name: Give up on idle deals, clock: last_action, threshold: 60, unit: days, action: mark_lost,
     lost_reason: Too expensive}
  - {name: Pull back idle partner deals, clock: last_action, threshold: 30, unit: days,
     teams: [Partner Sales], action: pull_back}
"""


class Rpc:
    """JSON-2 calls as one user against one server."""

    def __init__(self, url: str, db: str, key: str):
        self.url, self.db, self.key = url, db, key

    def __call__(self, model: str, method: str, **kwargs):
        body = json.dumps(kwargs).encode()
        request = urllib.request.Request(
            f"{self.url}/json/2/{model}/{method}",
            data=body,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"bearer {self.key}",
                "X-Odoo-Database": self.db,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{model}.{method}: HTTP {exc.code}: {exc.read()[:2000]!r}") from None


def _stored_spec(rpc: Rpc, model: str) -> dict:
    """A web_search_read specification of every stored field of ``model`` (relations as bare ids)."""
    fields = rpc(model, "fields_get", attributes=["type", "store"])
    return {name: {} for name, field in sorted(fields.items()) if field.get("store")}


def _lines(rpc: Rpc, action: dict) -> dict:
    """What the list of a report's action shows: its records with every stored field, and their count."""
    model, context = action["res_model"], action.get("context") or {}
    read = rpc(
        model,
        "web_search_read",
        domain=action.get("domain") or [],
        specification=_stored_spec(rpc, model),
        limit=2000,
        context=context,
    )
    return {"length": read["length"], "records": read["records"]}


def _form_action(rpc: Rpc, model: str, values: dict, button: str) -> dict:
    """Fill a report's form and press its button (on the primary: a form's save is a write)."""
    ids = rpc(model, "create", vals_list=[values])
    return rpc(model, button, ids=ids)


def reports(primary: Rpc, login: str) -> dict:
    """The report actions the user opens, as (name -> callable reading the report on a server)."""
    year_ago = (datetime.date.today() - datetime.timedelta(days=365)).isoformat()
    manager = login == MANAGER
    opened = {}
    if login == ADMIN:  # Cost per Lead is the sales administrators' (it shows the campaigns' spend)
        return {"cost per lead": lambda rpc: _lines(rpc, {"res_model": "crm.campaign.cost.report"})}
    for per in ("stage", "team", "user"):
        action = _form_action(
            primary, "crm.stage.funnel.report", {"date_from": year_ago, "group_by": per}, "action_show"
        )
        opened[f"funnel per {per}"] = lambda rpc, action=action: _lines(rpc, action)
    if manager:
        action = _form_action(primary, "crm.stage.calibration", {"date_from": year_ago}, "action_measure")
        opened["calibration measure"] = lambda rpc, action=action: _lines(rpc, action)
        rules = primary("crm.sla.rule", "search", domain=[("active", "=", True)])
        action = primary("crm.sla.rule", "action_preview", ids=rules)
        opened["SLA preview"] = lambda rpc, action=action: _lines(rpc, action)
        opened["SLA dashboard"] = lambda rpc: rpc(
            "crm.sla.event",
            "formatted_read_group",
            domain=[],
            groupby=["rule_id", "state"],
            aggregates=["__count"],
        )
        action = _form_action(primary, "crm.activity.signal.report", {"date_from": year_ago}, "action_show")
        opened["activity signals"] = lambda rpc, action=action: _lines(rpc, action)
        chains = primary("crm.activity.chain", "search", domain=[], limit=1)
        if chains:
            action = _form_action(
                primary,
                "crm.activity.chain.report",
                {"chain_id": chains[0], "date_from": year_ago},
                "action_show",
            )
            opened["activity chain"] = lambda rpc, action=action: _lines(rpc, action)
    # issue 20's analyses with their default parameters; the per-salesperson and per-stage views: managers'
    analyses = [
        ("activities that win", "crm.activity.win.report", "action_show"),
        ("early warnings", "crm.early.warning.report", "action_show"),
        ("probability by month-end", "crm.probability.snapshot.report", "action_show"),
        ("decision phase and win rate", "crm.decision.phase.report", "action_show"),
    ]
    # issue 19's Demand Waterfall and its rejection reasons; the cost per sales-accepted lead: managers'
    analyses += [
        ("demand waterfall", "crm.waterfall.report.form", "action_show"),
        ("handoff rejection reasons", "crm.waterfall.report.form", "action_show_rejections"),
    ]
    if manager:
        analyses += [
            ("cost per sales-accepted lead", "crm.waterfall.report.form", "action_show_costs"),
            ("activities that win per salesperson", "crm.activity.win.report", "action_show_salespeople"),
            ("probability by month-end per stage", "crm.probability.snapshot.report", "action_show_stages"),
        ]
    for name, model, button in analyses:
        action = _form_action(primary, model, {}, button)
        opened[name] = lambda rpc, action=action: _lines(rpc, action)
    opened["stage history"] = lambda rpc: rpc(
        "crm.lead.stage.history",
        "web_search_read",
        domain=[],
        specification={"lead_id": {}, "stage_id": {}, "date_in": {}, "date_out": {}, "user_id": {}},
        order="id",
        limit=200,
    )
    opened["My Day"] = lambda rpc: _lines(rpc, {"res_model": "crm.followup.agenda"})
    return opened


def scans(db: str, standby: Standby | None = None) -> dict[str, int]:
    """Sequential and index scans per table of ``db`` so far, on the primary or on the standby."""
    sql = "SELECT relname || ' ' || (seq_scan + coalesce(idx_scan, 0)) FROM pg_stat_user_tables"
    if standby is None:
        out = run_tiers.run(["psql", "-d", db, "-Atc", sql], capture_output=True).stdout
    else:
        out = standby.query(db, sql)
    return {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.strip()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        table: after[table] - before.get(table, 0) for table in after if after[table] != before.get(table, 0)
    }


def start_server(odoo_bin: str, db: str, port: int, log: Path, *extra: str) -> subprocess.Popen:
    command = run_tiers.server_cmd(
        odoo_bin, db, port, "--max-cron-threads=0", "--workers=0", "--log-level=info", *extra
    )
    with log.open("w") as handle:
        return subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env=run_tiers.odoo_env(odoo_bin)
        )


def demo_database(odoo_bin: str, python: str, data_dir: Path) -> str:
    db = os.environ.get("REPLICA_DB", "pd_replica_demo")
    leads = int(os.environ.get("REPLICA_LEADS", "3000"))
    stamp = f"{leads} leads, code {run.code_version()}"
    if os.environ.get("REPLICA_REBUILD") == "1" or run.stamp_of(db) != stamp:
        print(f"building {db}: crm_pipeline_discipline and {leads:,} generated leads", flush=True)
        run_tiers.drop_db(db, data_dir)
        run_tiers.install_modules(odoo_bin, db, ["crm_pipeline_discipline"])
        run.worker(python, "generate", db, "--leads", str(leads), "--stamp", stamp, script=run.SCREENS_WORKER)
    else:
        print(f"reusing {db} ({stamp})", flush=True)
    return db


def cli(name: str, *args: str, key_env: str, key: str, output: Path | None = None) -> str:
    """A command line of the plain packages, from the project's virtualenv; its output (file or stdout)."""
    command = [str(run_tiers.VENV / "bin" / name), *args, "--no-progress"]
    proc = subprocess.run(
        command, capture_output=True, text=True, check=False, env={**os.environ, key_env: key}
    )
    if proc.returncode:
        raise RuntimeError(f"{name} {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return output.read_text() if output else proc.stdout


def main() -> int:
    odoo_bin, version, python, data_dir = run_tiers.prepare_odoo()
    run_tiers.ensure_venv()
    print(version, flush=True)
    db = demo_database(odoo_bin, python, data_dir)
    keys = run.worker(python, "keys", db, MANAGER, REP, ADMIN, script=WORKER)
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as folder, Standby(run_tiers.free_port()) as standby:
        folder = Path(folder)
        print(f"standby on port {standby.port} (socket {standby.host}), in recovery", flush=True)
        replica_port, primary_port = run_tiers.free_port(), run_tiers.free_port()
        replica_log, primary_log = folder / "replica.log", folder / "primary.log"
        servers = [
            start_server(
                odoo_bin,
                db,
                replica_port,
                replica_log,
                f"--db_replica_host={standby.host}",
                f"--db_replica_port={standby.port}",
            ),
            start_server(odoo_bin, db, primary_port, primary_log),
        ]
        try:
            replica_url, primary_url = f"http://127.0.0.1:{replica_port}", f"http://127.0.0.1:{primary_port}"
            run.wait_for(f"{replica_url}/web/health", servers[0], replica_log)
            run.wait_for(f"{primary_url}/web/health", servers[1], primary_log)
            failures += check_reports(db, keys, standby, replica_url, primary_url)
            failures += check_clis(db, keys[MANAGER], standby, replica_url, primary_url, folder)
            retried = [line for line in replica_log.read_text().splitlines() if RETRY_WARNING in line]
            if retried:
                failures.append(f"Odoo retried {len(retried)} read-only call(s) on the primary: {retried[0]}")
        finally:
            for server in servers:
                server.terminate()
            for server in servers:
                server.wait(timeout=60)
    print()
    if failures:
        print("FAILED:")
        for failure in failures:
            print(f"  - {failure}")
        return 1
    print("replica: every report and export was served by the standby, with the primary's numbers")
    return 0


def check_reports(db: str, keys: dict, standby: Standby, replica_url: str, primary_url: str) -> list[str]:
    failures = []
    for login in (MANAGER, REP, ADMIN):  # the replica server loads its registry (from the primary) first
        Rpc(replica_url, db, keys[login])("res.users", "search_count", domain=[])
    time.sleep(STATS_SETTLE_S)
    primary_before, replica_before = scans(db), scans(db, standby)
    opened = {}
    for login in (MANAGER, REP, ADMIN):
        primary = Rpc(primary_url, db, keys[login])
        replica = Rpc(replica_url, db, keys[login])
        for name, read in reports(primary, login).items():
            opened[(login, name)] = (read, primary, replica)
    standby.wait_caught_up()
    timings, results = {}, {}
    for key, (read, _primary, replica) in opened.items():
        started = time.perf_counter()
        results[key] = read(replica)
        timings[key] = [time.perf_counter() - started]
    time.sleep(STATS_SETTLE_S)
    primary_read, replica_read = delta(primary_before, scans(db)), delta(replica_before, scans(db, standby))
    for key, (read, primary, _replica) in opened.items():
        started = time.perf_counter()
        theirs = read(primary)
        timings[key].append(time.perf_counter() - started)
        difference = _difference(results[key], theirs)
        if difference:
            failures.append(
                f"{key[1]} as {key[0]}: the replica's numbers differ from the primary's: {difference}"
            )
    print(f"\n  {'report':38}{'user':12}{'rows':>7}{'replica':>10}{'primary':>10}")
    for (login, name), (on_replica, on_primary) in timings.items():
        result = results[(login, name)]
        rows = (
            result.get("length", len(result.get("records", []))) if isinstance(result, dict) else len(result)
        )
        print(f"  {name:38}{login:12}{rows:>7}{on_replica:>9.2f}s{on_primary:>9.2f}s")
    print(f"\n  primary: {sum(primary_read.values())} scans, reports opened: {_tables(primary_read)}")
    print(f"  standby: {sum(replica_read.values())} scans on {len(replica_read)} tables")
    if TOLERATED:
        print(
            f"  days in stage moved on between the two reads ({len(TOLERATED)}): {'; '.join(TOLERATED[:5])}"
        )
    on_primary = sorted(set(primary_read) & set(DATA_TABLES))
    if on_primary:
        failures.append(f"the reports read their data on the primary: {', '.join(on_primary)}")
    for table in DATA_TABLES:
        if not replica_read.get(table):
            failures.append(f"no read of {table} on the standby: the replica did not serve the reports")
    return failures


def _difference(ours, theirs, path: str = "") -> str:
    """Where two JSON results differ ("" when they agree). Days in a stage of the leads still in it count up
    to the moment of the read, and so do the hours to a decision of the handoffs still awaiting one: two
    reads a few seconds apart may differ by that much (TIME_FIELDS)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if ours.keys() != theirs.keys():
            return f"{path}: keys {sorted(ours)} != {sorted(theirs)}"
        return next((d for key in ours if (d := _difference(ours[key], theirs[key], f"{path}.{key}"))), "")
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{path}: {len(ours)} items != {len(theirs)}"
        return next(
            (
                d
                for i, pair in enumerate(zip(ours, theirs, strict=True))
                if (d := _difference(*pair, f"{path}[{i}]"))
            ),
            "",
        )
    if isinstance(ours, float) and isinstance(theirs, float) and path.rsplit(".", 1)[-1] in TIME_FIELDS:
        tolerance = TIME_FIELDS[path.rsplit(".", 1)[-1]]
        if ours != theirs and abs(ours - theirs) <= tolerance:
            TOLERATED.append(f"{path}: {ours} / {theirs}")
        return "" if abs(ours - theirs) <= tolerance else f"{path}: {ours} != {theirs}"
    return "" if ours == theirs else f"{path}: {ours!r} != {theirs!r}"


def _tables(read: dict[str, int]) -> str:
    return ", ".join(f"{table} {count}" for table, count in sorted(read.items())) or "none"


def check_clis(
    db: str, key: str, standby: Standby, replica_url: str, primary_url: str, folder: Path
) -> list[str]:
    """`funnel-metrics export --url` and `sla_rules simulate --url`, against each server."""
    failures = []
    rules = folder / "rules.yaml"
    rules.write_text(SIMULATE_RULES)
    at = datetime.datetime.now(datetime.UTC).replace(microsecond=0, tzinfo=None).isoformat()
    outputs = {}
    time.sleep(STATS_SETTLE_S)
    primary_before, replica_before = scans(db), scans(db, standby)
    for side, url in (("replica", replica_url), ("primary", primary_url)):
        if side == "primary":
            time.sleep(STATS_SETTLE_S)
            primary_read, replica_read = (
                delta(primary_before, scans(db)),
                delta(replica_before, scans(db, standby)),
            )
        export = folder / f"{side}.csv"
        started = time.perf_counter()
        exported = cli(
            "funnel-metrics",
            "export",
            "--url",
            url,
            "--db",
            db,
            "-o",
            str(export),
            key_env="FUNNEL_METRICS_API_KEY",
            key=key,
            output=export,
        )
        export_s = time.perf_counter() - started
        started = time.perf_counter()
        simulated = cli(
            "sla_rules",
            "simulate",
            "--url",
            url,
            "--db",
            db,
            "--rules",
            str(rules),
            "--at",
            at,
            "--format",
            "csv",
            key_env="SLA_RULES_API_KEY",
            key=key,
        )
        simulate_s = time.perf_counter() - started
        outputs[side] = (exported, simulated)
        print(
            f"  {side}: funnel-metrics export {len(exported.splitlines()) - 1:,} rows in {export_s:.2f}s, "
            f"sla_rules simulate {len(simulated.splitlines()) - 1:,} lines in {simulate_s:.2f}s"
        )
    if outputs["replica"][0] != outputs["primary"][0]:
        failures.append("funnel-metrics export: the replica's CSV differs from the primary's")
    if outputs["replica"][1] != outputs["primary"][1]:
        failures.append("sla_rules simulate: the replica's lines differ from the primary's")
    # Odoo 19 does not mark res.users.context_get and fields_get read-only: each command line's call of them
    # goes to the primary (the user's settings and the fields' description, no data of the product)
    print(
        f"  primary: {sum(primary_read.values())} scans while the command lines read: {_tables(primary_read)}"
    )
    on_primary = sorted(set(primary_read) & set(DATA_TABLES))
    if on_primary:
        failures.append(f"the command lines read their data on the primary: {', '.join(on_primary)}")
    if not replica_read.get("crm_lead_stage_history") or not replica_read.get("crm_lead"):
        failures.append("the command lines' reads did not reach the standby")
    return failures


if __name__ == "__main__":
    sys.exit(main())
