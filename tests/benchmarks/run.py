#!/usr/bin/env python3
"""`make bench`: the addons' cost on a real Odoo 19, measured in one run.

Sections (BENCH_SECTIONS): `history` 1-2, `followup` 3-4, `sla` 5, `demo` 6, `screens` 7.

1. write({'stage_id'}) on 1,000 opportunities in a database with crm only, in one with
   crm_stage_history and in one with the whole bundle (crm_pipeline_discipline), each holding the same
   200,000 earlier stays (of 50,000 other leads) so that tables and indexes have a real size, before
   commit and with the commit's chatter tracking: the ratios are the modules' overhead on the write path.
2. The backfill of a generated database of 100,000 leads with 3 tracked stage changes each,
   against an INSERT ... SELECT of the same tracking rows (the floor any rebuild must pay).

3. Marking an activity done, one call per activity, in a database with crm only and in one with
   crm_activity_centric and the team in `enforce`: queries and time per completion.
4. The follow-up state of 100,000 existing leads, filled as the install does and recomputed by the ORM.

5. The SLA rules' cron (crm_sla_rules) on a generated database of 100,000 open leads with 10 active rules
   and about 1 % of the leads past a breach cutoff: the first run with real commits (time, queries, events
   by state, where the time goes), the rerun right after (must do nothing), the selection phase alone on
   10,000 and on 100,000 leads (same number of queries: one per rule and kind), and two runs at once
   (nothing done twice).

6. The demo pipeline generator (crm_pipeline_discipline) writing 10,000 and 100,000 leads with their stays,
   activities, answers and customer events (time, queries, rows per second), then the funnel report per
   stage and the plain read_group of the stays by stage on the 100,000-lead database.

7. The screens of issue 21 (`screens`) on a generated database of 200,000 leads with the bundle installed,
   against a copy where our addons are uninstalled (the native comparator: crm's data stays), as the demo's
   sales manager or a rep, warm (one untimed call, then the median of a few): the funnel report per stage,
   team and salesperson over the last 12 months, Calibrate Probabilities, Cost per Lead, the lead form's
   web_read, a stage write on 1,000 leads, and `funnel-metrics export` over JSON-2 against an Odoo server
   on the database (rows per second, the client's peak memory); seconds and queries of each, printed as a
   table against the issue's goals. The two databases (BENCH_SCREEN_DB, default pd_bench_screens, and
   <that>_native) are kept between runs: they are reused while they were built for the same number of
   leads from the same code (the addons and plain packages of this tree), and rebuilt otherwise (a few
   minutes); BENCH_SCREEN_REBUILD=1, or dropping the database, forces a rebuild.

8. The Demand Waterfall (crm_lead_handoff, `handoff`) on BENCH_HANDOFF_LEADS (default 200,000) leads with
   five lifecycle phase stays each (1,000,000) and a handoff each, written in SQL: the report's read as a
   sales manager (seconds against the 2 s goal, queries), the tables' read and the waterfall alone; and the
   phase writes (``_record_moves``) on batches of 10, 100 and 1,000 leads: seconds and queries, whose count
   must not grow with the batch.

Environment: BENCH_SECTIONS (default history,followup,sla,demo,screens,handoff: the sections to run, e.g.
BENCH_SECTIONS=screens), BENCH_LEADS (default 1000), BENCH_HISTORY (stays written first, default 200000),
BENCH_BACKFILL_LEADS (default 100000),
BENCH_COMPLETIONS (default 300), BENCH_FOLLOWUP_LEADS (default 100000), BENCH_SLA_LEADS (default 100000),
BENCH_DEMO_LEADS (default 10000,100000: the last size also gets the funnel report), BENCH_HANDOFF_LEADS
(default 200000), BENCH_SCREEN_LEADS (default 200000), BENCH_SCREEN_DB, BENCH_SCREEN_REBUILD,
BENCH_SCREEN_REPEAT (default 3), BENCH_HTTP_PORT (the export's server; default a free port),
BENCH_CLIENT_PYTHON (the export's client; default the project's .venv).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import run_tiers  # noqa: E402 - the runner next door knows how to find Odoo and PostgreSQL

WORKER = HERE / "bench_stage_history.py"
FOLLOWUP_WORKER = HERE / "bench_activity_centric.py"
SLA_WORKER = HERE / "bench_sla_rules.py"
DEMO_WORKER = HERE / "bench_demo.py"
HANDOFF_WORKER = HERE / "bench_lead_handoff.py"
SLA_GOAL_S = 10.0


def worker(python: str, *args: str, script: Path = WORKER) -> dict:
    proc = subprocess.run([python, str(script), *args], capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"benchmark failed: {' '.join(args)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(native: dict, ours: dict, column: str, rows: tuple[tuple[str, str], ...]) -> None:
    """One line per measure: crm alone, with the module, and their ratio."""
    compare_many(native, {column: ours}, rows)


def compare_many(native: dict, others: dict[str, dict], rows: tuple[tuple[str, str], ...]) -> None:
    """One line per measure: crm alone, then each other database and its ratio to crm alone."""
    head = "".join(f"{column:>12}{'ratio':>8}" for column in others)
    print(f"  {'':28}{'crm only':>12}{head}")
    for key, label in rows:
        cells = ""
        for ours in others.values():
            ratio = ours[key] / native[key] if native[key] else float("nan")
            cells += f"{ours[key]:>12.3f}{ratio:>7.2f}x"
        print(f"  {label:28}{native[key]:>12.3f}{cells}")


SECTIONS = ("history", "followup", "sla", "demo", "screens", "handoff")


def main() -> int:
    sections = [name.strip() for name in os.environ.get("BENCH_SECTIONS", ",".join(SECTIONS)).split(",")]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        sys.exit(f"BENCH_SECTIONS: unknown section(s) {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
    odoo_bin, version, python, data_dir = run_tiers.prepare_odoo()
    print(version, flush=True)
    runners = {
        "history": bench_history,
        "followup": bench_followup,
        "sla": bench_sla,
        "demo": bench_demo,
        "screens": bench_screens,
        "handoff": bench_handoff,
    }
    for name in SECTIONS:
        if name in sections:
            runners[name](odoo_bin, python, data_dir)
    return 0


def bench_history(odoo_bin: str, python: str, data_dir: Path) -> None:
    leads = os.environ.get("BENCH_LEADS", "1000")
    history = os.environ.get("BENCH_HISTORY", "200000")
    backfill_leads = os.environ.get("BENCH_BACKFILL_LEADS", "100000")
    base, with_module, bundle = "pd_bench_crm", "pd_bench_history", "pd_bench_bundle"
    print(
        f"\ncreating {base} (crm), {with_module} (crm + crm_stage_history) and {bundle} "
        "(crm_pipeline_discipline)",
        flush=True,
    )
    databases = (
        (base, ["crm"]),
        (with_module, ["crm", "crm_stage_history"]),
        (bundle, ["crm_pipeline_discipline"]),
    )
    for db, modules in databases:
        run_tiers.drop_db(db, data_dir)
        run_tiers.install_modules(odoo_bin, db, modules)
    try:
        native, ours, whole = (
            worker(python, "write", db, "--leads", leads, "--history", history)
            for db in (base, with_module, bundle)
        )
        print(f"\nwrite({{'stage_id'}}) on {leads} opportunities, {history} earlier stays, median of 5 runs:")
        compare_many(
            native,
            {"+ history": ours, "+ bundle": whole},
            (
                ("write_s", "write + flush (s)"),
                ("write_and_tracking_s", "incl. commit tracking (s)"),
                ("write_queries", "queries before commit"),
            ),
        )
        fill = worker(python, "backfill", with_module, "--leads", backfill_leads)
        print(
            f"\nbackfill of {fill['leads']} leads with {fill['tracked_changes']} tracked stage changes "
            f"(generated in {fill['generate_s']:.1f}s):"
        )
        print(f"  backfill      {fill['backfill_s']:8.2f}s  {fill['backfill_rows']} stays")
        print(f"  INSERT floor  {fill['floor_s']:8.2f}s  {fill['floor_rows']} rows")
        print(f"  ratio         {fill['backfill_s'] / fill['floor_s']:8.2f}x")
    finally:
        for db in (base, with_module, bundle):
            run_tiers.drop_db(db, data_dir)


def bench_followup(odoo_bin: str, python: str, data_dir: Path) -> None:
    completions = os.environ.get("BENCH_COMPLETIONS", "300")
    followup_leads = os.environ.get("BENCH_FOLLOWUP_LEADS", "100000")
    base, with_module = "pd_bench_crm", "pd_bench_followup"
    print(f"\ncreating {base} (crm) and {with_module} (crm + crm_activity_centric)", flush=True)
    for db, modules in ((base, ["crm"]), (with_module, ["crm", "crm_activity_centric"])):
        run_tiers.drop_db(db, data_dir)
        run_tiers.install_modules(odoo_bin, db, modules)
    try:
        native = worker(python, "complete", base, "--leads", completions, script=FOLLOWUP_WORKER)
        ours = worker(python, "complete", with_module, "--leads", completions, script=FOLLOWUP_WORKER)
        print(f"\nmark an activity done (action_feedback), {completions} calls, before commit:")
        compare(
            native,
            ours,
            "+ enforce",
            (
                ("queries_median", "queries per call (median)"),
                ("ms_median", "ms per call (median)"),
                ("total_s", "total (s)"),
            ),
        )
        print(f"  extra queries per call: {ours['queries_median'] - native['queries_median']:+.0f}")
        # the install fills the state of the leads that exist when it runs: generate them first
        run_tiers.drop_db(with_module, data_dir)
        run_tiers.install_modules(odoo_bin, with_module, ["crm"])
        made = worker(python, "generate", with_module, "--leads", followup_leads, script=FOLLOWUP_WORKER)
        started = time.perf_counter()
        run_tiers.install_modules(odoo_bin, with_module, ["crm_activity_centric"])
        install_s = time.perf_counter() - started
        state = worker(python, "recompute", with_module, script=FOLLOWUP_WORKER)
        print(f"\nfollow-up state of {made['leads']} existing leads ({state['states']}):")
        print(f"  install of crm_activity_centric   {install_s:8.2f}s (whole module)")
        print(f"  set-based fill, as at install     {state['install_fill_s']:8.2f}s")
        print(f"  ORM recompute of the same field   {state['orm_recompute_s']:8.2f}s")
        print(f"  same states both ways             {state['fill_matches_orm']}")
    finally:
        for db in (base, with_module):
            run_tiers.drop_db(db, data_dir)


def bench_sla(odoo_bin: str, python: str, data_dir: Path) -> None:
    leads = os.environ.get("BENCH_SLA_LEADS", "100000")
    db, race_db = "pd_bench_sla", "pd_bench_sla_race"
    print(f"\ncreating {db} (crm + crm_stage_history + crm_sla_rules) and {leads} leads", flush=True)
    for name in (db, race_db):
        run_tiers.drop_db(name, data_dir)
    run_tiers.install_modules(odoo_bin, db, ["crm", "crm_stage_history", "crm_sla_rules"])
    try:
        made = worker(python, "generate", db, "--leads", leads, script=SLA_WORKER)
        # the same generated state for the race
        proc = run_tiers.run(["createdb", "-T", db, race_db], capture_output=True)
        if proc.returncode:
            sys.exit(f"could not copy {db} to {race_db}: {proc.stderr}")
        ran = worker(python, "run", db, script=SLA_WORKER)
        raced = worker(python, "race", race_db, script=SLA_WORKER)
    finally:
        for name in (db, race_db):
            run_tiers.drop_db(name, data_dir)
    first, rerun = ran["first"], ran["rerun"]
    events = first["events"]
    expected = made["expected"]
    verdict = "within" if first["seconds"] <= SLA_GOAL_S else "over"
    counts = list(made["selection"].items())
    sizes = " vs ".join(f"{int(count):,}" for count, _ in counts)
    selected = " vs ".join(str(value["queries"]) for _, value in counts)
    print(
        f"\nSLA rules on {made['leads']:,} leads: first run {first['seconds']:.1f}s ({first['queries']} "
        f"queries, {events.get('acted', 0)} acted, {events.get('warned', 0)} warned, "
        f"{events.get('failed', 0)} failed); rerun {rerun['seconds']:.2f}s; selection {sizes} leads: "
        f"{selected} queries"
    )
    print(
        f"  {made['rules']} rules, {expected['breach']} leads past a breach cutoff, {expected['warn']} in a "
        f"warning window; goal {SLA_GOAL_S:g}s for the first run: {verdict}"
    )
    print(
        f"  first run   {first['seconds']:8.2f}s  {first['queries']} queries on the cron's cursor, "
        f"{first['all_queries']} on all cursors"
    )
    phases = first["phases"]
    print(
        "              "
        + ", ".join(
            f"{label} {phases[key]['s']:.1f}s/{phases[key]['queries']}q"
            for key, label in (
                ("select", "select"),
                ("claim", "claim"),
                ("act", "act"),
                ("warn", "warn"),
                ("commit", "commits"),
            )
            if key in phases
        )
    )
    if "after_commit" in phases:
        after = phases["after_commit"]
        print(
            f"              of the commits: {after['calls']} e-mail sends after commit "
            f"{after['s']:.1f}s/{after['queries']}q (e-mails: {first['mails']})"
        )
    print(
        f"  rerun       {rerun['seconds']:8.2f}s  {rerun['queries']} queries; {rerun['new_events']} new "
        f"events, {rerun['new_messages']} new messages"
    )
    selection = " vs ".join(
        f"{int(count):,} leads {value['queries']} queries {value['seconds']:.2f}s"
        for count, value in made["selection"].items()
    )
    print(f"  selection   {selection}")
    runs = raced["runs"]
    aborted = sorted({statement for run in runs for statement in run["aborted_statements"]})
    print(
        f"  two runs at once: {raced['seconds']:.1f}s, events {raced['events']}, "
        f"{raced['duplicate_episodes']} duplicate episodes, at most {raced['max_action_notes_per_lead']} "
        f"action note and {raced['max_sla_activities_per_lead']} SLA activity per lead"
    )
    for number, run in enumerate(runs, start=1):
        print(
            f"    run {number}: {run['seconds']:.1f}s, claimed {run['claimed']}, finished: {run['done']}, "
            f"{len(run['errors'])} attempt(s) aborted by the other run"
        )
    if aborted:
        print(f"    aborted statements: {'; '.join(aborted)}")
    ok = first["consistent"] and raced["consistent"]
    print(f"  every lead acted on / warned as generated, nothing twice: {ok}")


def bench_demo(odoo_bin: str, python: str, data_dir: Path) -> None:
    sizes = [int(size) for size in os.environ.get("BENCH_DEMO_LEADS", "10000,100000").split(",")]
    template, db = "pd_bench_demo_tpl", "pd_bench_demo"
    print(f"\ncreating {template} (crm_pipeline_discipline) for the demo generator", flush=True)
    for name in (template, db):
        run_tiers.drop_db(name, data_dir)
    run_tiers.install_modules(odoo_bin, template, ["crm_pipeline_discipline"])
    try:
        print("\ndemo pipeline generator (one run per size, in a fresh copy of the installed database):")
        for size in sizes:
            run_tiers.drop_db(db, data_dir)
            proc = run_tiers.run(["createdb", "-T", template, db], capture_output=True)
            if proc.returncode:
                sys.exit(f"could not copy {template} to {db}: {proc.stderr}")
            made = worker(python, "generate", db, "--leads", str(size), script=DEMO_WORKER)
            print(
                f"  {made['leads']:>7,} leads: {made['seconds']:6.1f}s + commit {made['commit_s']:.1f}s, "
                f"{made['queries']} queries; {made['stays']:,} stays, {made['activities']:,} activities, "
                f"{made['customer_events']:,} customer events; {made['leads_per_s']:,} leads/s, "
                f"{made['rows_per_s']:,} rows/s"
            )
        shown = worker(python, "funnel", db, script=DEMO_WORKER)
    finally:
        for name in (template, db):
            run_tiers.drop_db(name, data_dir)
    print(
        f"  funnel report per stage on {shown['stays']:,} stays: {shown['report_s']:.2f}s, "
        f"{shown['report_queries']} queries; read_group of the stays by stage {shown['read_group_s']:.3f}s, "
        f"{shown['read_group_queries']} queries"
    )
    for line in shown["lines"]:
        print(
            f"    {line['stage']:<12} entered {line['entered']:>7,}  conversion {line['conversion']:5.1f} %  "
            f"median {line['median_days']:5.1f} days"
        )


# --------------------------------------------------------------------------- 7. screens (issue 21)

SCREENS_WORKER = HERE / "bench_screens.py"
STAMP_KEY = "pd_bench.screens"  # the system parameter holding what a screens database was built from
# the code a screens database is built from: a change in any of it rebuilds the database
SCREEN_CODE = ("odoo_addons", "funnel_metrics", "activity_centric", "sla_rules")


def code_version() -> str:
    """A digest of the addons and plain packages of this tree (file names and contents), tests left out."""
    digest = hashlib.sha1(usedforsecurity=False)
    for folder in SCREEN_CODE:
        for path in sorted((run_tiers.ROOT / folder).rglob("*")):
            name = path.relative_to(run_tiers.ROOT)
            if path.is_file() and not {"__pycache__", "tests"} & set(name.parts):
                digest.update(str(name).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def stamp_of(db: str) -> str:
    """What a screens database was built from (empty if it does not exist or was not finished)."""
    query = f"SELECT value FROM ir_config_parameter WHERE key = '{STAMP_KEY}'"
    proc = run_tiers.run(["psql", "-d", db, "-Atc", query], capture_output=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def screen_databases(odoo_bin: str, python: str, data_dir: Path) -> tuple[str, str, int]:
    """The kept database with the bundle and the generated leads, and its copy without our addons."""
    leads = int(os.environ.get("BENCH_SCREEN_LEADS", "200000"))
    db = os.environ.get("BENCH_SCREEN_DB", "pd_bench_screens")
    native = f"{db}_native"
    stamp = f"{leads} leads, code {code_version()}"
    rebuild = os.environ.get("BENCH_SCREEN_REBUILD") == "1"
    if rebuild or stamp_of(db) != stamp:
        print(f"\nbuilding {db}: crm_pipeline_discipline and {leads:,} generated leads", flush=True)
        for name in (db, native):
            run_tiers.drop_db(name, data_dir)
        run_tiers.install_modules(odoo_bin, db, ["crm_pipeline_discipline"])
        made = worker(python, "generate", db, "--leads", str(leads), "--stamp", stamp, script=SCREENS_WORKER)
        print(f"  {made['leads']:,} leads, {made['stays']:,} stays in {made['seconds']}s", flush=True)
    else:
        print(f"\nreusing {db} ({stamp})", flush=True)
    if stamp_of(native) != f"{stamp}, native":
        print(f"building {native}: a copy of {db} with our addons uninstalled", flush=True)
        run_tiers.drop_db(native, data_dir)
        proc = run_tiers.run(["createdb", "-T", db, native], capture_output=True)
        if proc.returncode:
            sys.exit(f"could not copy {db} to {native}: {proc.stderr}")
        if (data_dir / "filestore" / db).is_dir():
            shutil.copytree(data_dir / "filestore" / db, data_dir / "filestore" / native)
        gone = worker(python, "uninstall", native, "--stamp", f"{stamp}, native", script=SCREENS_WORKER)
        if gone["left_installed"]:
            sys.exit(f"{native}: {gone['left_installed']} of our addons still installed after the uninstall")
    else:
        print(f"reusing {native}", flush=True)
    return db, native, leads


def bench_export(odoo_bin: str, python: str, db: str) -> dict:
    """`funnel-metrics export` over JSON-2, as the demo's manager, against an Odoo server on ``db``."""
    port = int(os.environ.get("BENCH_HTTP_PORT") or run_tiers.free_port())
    client = os.environ.get("BENCH_CLIENT_PYTHON") or str(run_tiers.VENV / "bin" / "python")
    key = worker(python, "apikey", db, script=SCREENS_WORKER)["key"]
    url = f"http://127.0.0.1:{port}"
    command = run_tiers.server_cmd(
        odoo_bin, db, port, "--max-cron-threads=0", "--workers=0", "--log-level=warn"
    )
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "odoo.log"
        with log.open("w") as handle:
            server = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
        try:
            wait_for(f"{url}/web/health", server, log)
            output = str(Path(folder) / "transitions.csv")
            env = {**os.environ, "FUNNEL_METRICS_API_KEY": key}
            proc = subprocess.run(
                [client, str(SCREENS_WORKER), "client", url, db, output],
                capture_output=True,
                text=True,
                check=False,
                env=env,
            )
            if proc.returncode:
                sys.exit(f"funnel-metrics export failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
            return json.loads(proc.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(timeout=60)


def wait_for(url: str, server: subprocess.Popen, log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the Odoo server stopped:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(1)
    sys.exit(f"the Odoo server did not answer {url} within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def _call(result: dict | None) -> str:
    if not result:
        return "—"
    seconds = result["s"]
    shown = f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.2f} s"
    return f"{shown}, {result['queries']} q"


def _mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def bench_screens(odoo_bin: str, python: str, data_dir: Path) -> None:
    db, native, leads = screen_databases(odoo_bin, python, data_dir)
    repeat = os.environ.get("BENCH_SCREEN_REPEAT", "3")
    ours = worker(python, "measure", db, "--repeat", repeat, script=SCREENS_WORKER)
    theirs = worker(python, "measure", native, "--repeat", repeat, script=SCREENS_WORKER)
    export = bench_export(odoo_bin, python, db)
    rows = []
    for key, label in (("stage", "per stage"), ("team", "per team"), ("user", "per salesperson")):
        result = ours[f"funnel_{key}_manager"]
        rows.append((f"Funnel report {label}, manager", None, result, "≤ 2 s", result["s"] <= 2.0))
    result = ours["funnel_stage_rep"]
    rows.append(("Funnel report per stage, rep", None, result, "≤ 1 s", result["s"] <= 1.0))
    result = ours["calibration_manager"]
    rows.append(("Calibrate Probabilities, manager", None, result, "≤ 2 s", result["s"] <= 2.0))
    result = ours["cost_per_lead_manager"]
    rows.append(("Cost per Lead, manager", None, result, "≤ 0.5 s", result["s"] <= 0.5))
    for key in ("rep", "manager"):
        mine, base = ours[f"form_{key}"], theirs[f"form_{key}"]
        ok = mine["s"] <= 1.3 * base["s"] and mine["queries"] <= base["queries"] + 5
        label = f"lead form web_read, {key} ({mine['s'] / base['s']:.2f}x)"
        rows.append((label, base, mine, "≤ 1.3x, ≤ +5 q", ok))
    mine, base = ours["stage_write_manager"], theirs["stage_write_manager"]
    label = f"stage write on {mine['leads']:,} leads + flush ({mine['s'] / base['s']:.2f}x)"
    rows.append((label, base, mine, "≤ 1.3x", mine["s"] <= 1.3 * base["s"]))
    print(
        f"\nscreens on {ours['leads']:,} leads ({ours['stays']:,} stays), last 12 months, all teams; "
        f"median of {repeat} warm calls (1 when a call takes over 10 s), queries of the median call:"
    )
    print(f"  {'screen / call':<52}{'native':>20}{'ours':>20}  {'goal':<16}")
    for label, base, mine, goal, ok in rows:
        print(f"  {label:<52}{_call(base):>20}{_call(mine):>20}  {goal:<16}{_mark(ok)}")
    rate = export["rows_per_s"]
    print(
        f"  {'funnel-metrics export, JSON-2, manager':<52}{'—':>20}{f'{rate:,} rows/s':>20}  "
        f"{'≥ 40,000 rows/s':<16}{_mark(rate >= 40_000)}"
    )
    print(
        f"    {export['rows']:,} stays in {export['s']:.1f}s; client peak RSS {export['peak_rss_mb']} MB "
        f"({export['start_rss_mb']} MB before the export; goal: flat memory)"
    )


# --------------------------------------------------------------------------- 8. handoffs (issue 19)


def bench_handoff(odoo_bin: str, python: str, data_dir: Path) -> None:
    leads = os.environ.get("BENCH_HANDOFF_LEADS", "200000")
    db = "pd_bench_handoff"
    print(f"\ncreating {db} (crm_lead_handoff) and {int(leads):,} leads with their phases", flush=True)
    run_tiers.drop_db(db, data_dir)
    run_tiers.install_modules(odoo_bin, db, ["crm_lead_handoff"])
    try:
        made = worker(python, "generate", db, "--leads", leads, script=HANDOFF_WORKER)
        shown = worker(python, "waterfall", db, script=HANDOFF_WORKER)
        written = worker(python, "writes", db, "--repeat", "5", script=HANDOFF_WORKER)
    finally:
        run_tiers.drop_db(db, data_dir)
    goal = shown["goal_s"]
    print(
        f"\nDemand Waterfall on {shown['stays']:,} phase stays of {made['leads']:,} leads and "
        f"{shown['handoffs']:,} handoffs (generated in {made['seconds']}s), sales manager, "
        "median of warm reads:"
    )
    for key, label in (("phase", "per phase"), ("team_month", "per team and month")):
        result = shown[f"report_{key}"]
        verdict = "pass" if result["s"] <= goal else "FAIL"
        print(
            f"  report {label:<20} {result['s']:6.2f}s (CPU {result['cpu_s']:.2f}s)  {result['queries']:>3} "
            f"queries  {shown[f'lines_{key}']:>4} lines  goal {goal:g}s: {verdict}"
        )
    read = shown["read_tables"]
    print(
        f"  of which: the tables' read {read['s']:.2f}s (CPU {read['cpu_s']:.2f}s), "
        f"funnel_metrics.waterfall {shown['waterfall_s']:.2f}s"
    )
    print("  (CPU: Odoo's and its PostgreSQL backend's, the time on a machine doing nothing else)")
    sizes = sorted(written, key=int)
    print("\nphase writes (_record_moves), median of 5, rolled back:")
    for size in sizes:
        result = written[size]
        print(f"  {int(size):>5} leads  {result['s'] * 1000:8.1f} ms  {result['queries']} queries")
    first, last = written[sizes[0]], written[sizes[-1]]
    print(
        f"  ratio {sizes[-1]} / {sizes[0]} leads: queries {last['queries'] / first['queries']:.2f}x, "
        f"time {last['s'] / first['s']:.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
