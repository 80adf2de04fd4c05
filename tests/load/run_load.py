#!/usr/bin/env python3
"""`make load`: the product under load, as a company runs it: Odoo with 4 HTTP workers and 2 cron workers,
N simulated users at once over JSON-2, the SLA rules and the weekly follow-up review running every minute.

The data is the screens benchmark's 200,000-lead demo database and its copy with our addons uninstalled
(``make bench`` section ``screens`` builds both, and this reuses them while they are current; see
tests/benchmarks/run.py). Each run works on a fresh copy (``createdb -T``) that is dropped at the end: the
kept databases stay untouched.

1. Ours: a copy of the database with our addons. Each user process (its own API key; the demo's manager
   and six reps, so several processes share a login: each works on its own share of that login's leads)
   makes the calls of a working day with think time (see loadstats.CALLS): open the pipeline, My Day, a
   lead form, Done & Schedule Next, a stage change in a manual team, Qualify in the survey team, the
   funnel report, share a document and open its link anonymously.
2. The comparison, on the calls Odoo has without our addons (pipeline, lead form, Done & Schedule Next,
   stage change): the same users making only those calls, first with our addons (their jobs running),
   then on a copy of the native database. Same calls, same load: the ratio is our addons' cost.
3. Per call p50 / p95 / max, count, calls/s, refusals (the product's messages), serialization failures
   or deadlocks that reached a user, other errors; the p95 ratio ours / native of the same calls against
   the issue's goal (<= 1.2x), and for information that of the working day's mix against native.
   Printed, and written to tests/load/results/last.json.
4. Checks on each copy after its run (the exit code is 1 when one fails): every write a user was answered
   OK for is in the database; with our addons, every lead of an Enforce team has a next step (the
   product's own rule) and no SLA episode was acted on twice; no unexpected error reached a user and the
   server logged no ERROR.

Options: --users (default 20), --duration (seconds of load per side, default 180), --think (mean seconds
between a user's calls, default 2), --max-calls (per user, default 1000), --seed, --db (a database with
the demo pipeline and our addons to use instead of the 200,000-lead one; its native comparator is
<db>_native, built from it the first time), --leads (the size of the screens database, default
BENCH_SCREEN_LEADS or 200000), --no-native, --port (default a free one), --output.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "benchmarks"))

import loadstats as ls  # noqa: E402
import run as bench  # noqa: E402 - tests/benchmarks/run.py: the screens databases and their builder
import run_tiers  # noqa: E402
import users  # noqa: E402

ODOO_SIDE = HERE / "load_odoo.py"
SCREENS_WORKER = HERE.parent / "benchmarks" / "bench_screens.py"
RESULTS = HERE / "results" / "last.json"
READONLY_RETRY = "retrying with a read/write cursor"
CRON_DONE_LOG = re.compile(r"Job '(?P<job>[^']+)' \(\d+\) [a-z ]+ \(#loop .*duration (?P<s>[\d.]+)s\)")
CONCURRENCY_LOG = re.compile(r"SerializationFailure|DeadlockDetected|LockNotAvailable|tries left, try again")


def odoo_side(python: str, *args: str) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, (str(run_tiers.ROOT), os.environ.get("PYTHONPATH")))),
    }
    proc = subprocess.run(
        [python, str(ODOO_SIDE), *args], capture_output=True, text=True, check=False, env=env
    )
    if proc.returncode:
        sys.exit(f"load_odoo.py {args[0]} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def copy_db(source: str, copy: str, data_dir: Path) -> None:
    run_tiers.drop_db(copy, data_dir)
    proc = run_tiers.run(["createdb", "-T", source, copy], capture_output=True)
    if proc.returncode:
        sys.exit(f"could not copy {source} to {copy}: {proc.stderr}")
    if (data_dir / "filestore" / source).is_dir():
        shutil.copytree(data_dir / "filestore" / source, data_dir / "filestore" / copy)


def native_of(odoo_bin: str, python: str, db: str, data_dir: Path) -> str:
    """The native comparator of a given database: <db>_native, built once as the screens benchmark builds
    its own (a copy with our addons uninstalled)."""
    native = f"{db}_native"
    stamp = f"native of {db}"
    if bench.stamp_of(native) != stamp:
        print(f"building {native}: a copy of {db} with our addons uninstalled", flush=True)
        copy_db(db, native, data_dir)
        gone = bench.worker(python, "uninstall", native, "--stamp", stamp, script=SCREENS_WORKER)
        if gone["left_installed"]:
            sys.exit(f"{native}: {gone['left_installed']} of our addons still installed after the uninstall")
    return native


def start_server(odoo_bin: str, db: str, port: int, log: Path) -> subprocess.Popen:
    command = run_tiers.server_cmd(
        odoo_bin,
        db,
        port,
        "--workers=4",
        "--max-cron-threads=2",
        "--limit-time-real=600",
        "--limit-time-cpu=600",
        "--limit-time-real-cron=600",
        "--limit-request=100000",
        "--log-level=warn",
        "--log-handler=odoo.service.model:INFO",  # Odoo's retries after a serialization failure
        "--log-handler=odoo.addons.base.models.ir_cron:INFO",  # each job's run and duration
        f"--logfile={log}",
    )
    env = run_tiers.odoo_env(odoo_bin)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(run_tiers.ROOT), env.get("PYTHONPATH"))))
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    log.touch()
    bench.wait_for(f"http://127.0.0.1:{port}/web/health", server, log)
    return server


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def scan_server_log(log: Path) -> dict:
    """ERROR and WARNING lines of the server's log, Odoo's retries after a serialization failure, and the
    read-only calls that wrote (retried on a read/write cursor: with a replica, a call that misses it)."""
    errors, warnings, retries, readonly = [], [], 0, 0
    jobs: dict[str, dict] = {}
    for line in log.read_text(errors="replace").splitlines():
        done = CRON_DONE_LOG.search(line)
        if done:
            job = jobs.setdefault(done["job"], {"runs": 0, "seconds": 0.0, "max_s": 0.0})
            seconds = float(done["s"])
            job["runs"] += 1
            job["seconds"] = round(job["seconds"] + seconds, 2)
            job["max_s"] = max(job["max_s"], seconds)
            continue
        level = run_tiers.LOG_LEVEL_RE.match(line)
        if level and level.group(1) in ("ERROR", "CRITICAL"):
            errors.append(line[:300])
        elif level:
            warnings.append(line[:300])
        retries += bool(CONCURRENCY_LOG.search(line))
        readonly += READONLY_RETRY in line
    return {
        "errors": len(errors),
        "first_errors": errors[:5],
        "warnings": len(warnings),
        "first_warnings": warnings[:5],
        "concurrency_retries": retries,
        "readonly_retries": readonly,
        "cron_jobs": jobs,
    }


def run_side(name: str, source: str, args, odoo: tuple, port: int, native_mix: bool = False) -> dict:
    """One run on a fresh copy of ``source``: prepare, serve, load, check, drop. ``native_mix``: the users
    make only the calls Odoo has without our addons (with our addons and their jobs still running)."""
    odoo_bin, python, data_dir = odoo
    copy = f"{source}_load"
    load_before = os.getloadavg()[0]
    print(f"\n[{name}] copying {source} to {copy} (machine load average {load_before:.2f})", flush=True)
    copy_db(source, copy, data_dir)
    try:
        url = f"http://127.0.0.1:{port}"
        prepared = odoo_side(python, "prepare", copy, "--processes", str(args.users), "--url", url)
        logins = sorted({fixture["login"] for fixture in prepared["fixtures"]})
        crons = ", ".join(prepared["crons"]) or "none of ours"
        print(
            f"[{name}] {args.users} user processes over {len(logins)} logins ({', '.join(logins)}); "
            f"crons every minute: {crons}",
            flush=True,
        )
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "odoo.log"
            server = start_server(odoo_bin, copy, port, log)
            try:
                jobs = [
                    (
                        {**fixture, "native": fixture["native"] or native_mix},
                        args.duration,
                        args.max_calls,
                        args.think,
                        args.seed * 1000 + number,
                    )
                    for number, fixture in enumerate(prepared["fixtures"])
                ]
                print(f"[{name}] {args.duration}s of load", flush=True)
                started = time.monotonic()
                with multiprocessing.get_context("fork").Pool(len(jobs)) as pool:
                    outcome = pool.map_async(users.run_user, jobs)
                    done = outcome.get(timeout=args.duration + users.TIMEOUT_S + 60)
                seconds = time.monotonic() - started
                load_after = os.getloadavg()[0]
            finally:
                stop_server(server)
            server_log = scan_server_log(log)
            writes = Path(folder) / "writes.jsonl"
            writes.write_text("".join(json.dumps(w) + "\n" for user in done for w in user["writes"]))
            checked = odoo_side(python, "check", copy, "--since", prepared["since"], "--writes", str(writes))
    finally:
        run_tiers.drop_db(copy, data_dir)
    samples = [sample for user in done for sample in user["samples"]]
    return {
        "database": source,
        "users": args.users,
        "logins": logins,
        "seconds": round(seconds, 1),
        "calls": ls.summarize(samples, seconds),
        "checks": checked,
        "server_log": server_log,
        "followup_before": prepared["followup_before"],
        # the 1-minute load average before the copy and at the end of the load: other work on the machine
        # shows as a high figure before (the figures of such a run compare nothing)
        "load_average": {"before": load_before, "end": load_after},
    }


def print_side(name: str, side: dict) -> None:
    load = side["load_average"]
    print(
        f"\n{name}: {side['database']}, {side['users']} users, {side['seconds']:.0f}s; machine load average "
        f"{load['before']:.2f} before, {load['end']:.2f} at the end"
    )
    print(
        f"  {'call':<34}{'count':>7}{'calls/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
        f"{'refused':>9}{'conc.':>7}{'errors':>8}"
    )
    for call, row in side["calls"].items():
        print(
            f"  {call:<34}{row['count']:>7}{row['per_s']:>9.2f}{row['p50_ms']:>9.0f}{row['p95_ms']:>9.0f}"
            f"{row['max_ms']:>9.0f}{row[ls.REFUSAL]:>9}{row[ls.CONCURRENCY]:>7}{row[ls.ERROR]:>8}"
        )
    for call, row in side["calls"].items():
        for kind in (ls.REFUSAL, ls.CONCURRENCY, ls.ERROR):
            for message in row[f"{kind}_messages"]:
                print(f"    {kind} in {call}: {message[:240]}")
    checks = side["checks"]
    print(f"  writes answered OK: {checks['writes']}; lost: {checks['lost']}")
    if "followup" in checks:
        followup, sla = checks["followup"], checks["sla"]
        print(
            f"  follow-up invariant: {followup['missing']} of {followup['enforce_leads']} Enforce leads "
            f"without a next step (before the run: {side['followup_before']['missing']}); stale stored "
            f"state: {followup['stale_state']}"
        )
        print(
            f"  SLA: {sla['duplicate_episodes']} duplicate episodes, {sla['acted_twice']} acted on twice; "
            f"events during the run {sla['events_during_run']}; crons last ran {checks['crons_last_run']}"
        )
    log = side["server_log"]
    print(
        f"  server log: {log['errors']} ERROR lines, {log['warnings']} WARNING lines, "
        f"{log['concurrency_retries']} concurrency retries by Odoo, "
        f"{log['readonly_retries']} read-only calls retried on a read/write cursor"
    )
    if log["cron_jobs"]:
        busy = ", ".join(
            f"{job} {row['runs']}x {row['seconds']:.1f}s (max {row['max_s']:.1f}s)"
            for job, row in sorted(log["cron_jobs"].items())
        )
        print(f"  cron jobs run: {busy}")
    for line in log["first_errors"] + log["first_warnings"]:
        print(f"    {line}")


def failures(side: dict) -> list[str]:
    failed = list(side["checks"]["failed"])
    for call, row in side["calls"].items():
        if row[ls.ERROR]:
            failed.append(f"{call}: {row[ls.ERROR]} unexpected errors")
        if row[ls.CONCURRENCY]:
            failed.append(f"{call}: {row[ls.CONCURRENCY]} serialization failures or deadlocks reached a user")
    if side["server_log"]["errors"]:
        failed.append(f"server log: {side['server_log']['errors']} ERROR lines")
    return failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=int, default=180)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--max-calls", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--db", help="a database with our addons and the demo pipeline (skips the 200k build)"
    )
    parser.add_argument("--leads", type=int, help="size of the screens database (default BENCH_SCREEN_LEADS)")
    parser.add_argument("--no-native", action="store_true")
    parser.add_argument("--port", type=int)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration < 1:
        parser.error("--users and --duration must be positive")
    odoo_bin, version, python, data_dir = run_tiers.prepare_odoo()
    print(version, flush=True)
    if args.db:
        db = args.db
        native = None if args.no_native else native_of(odoo_bin, python, db, data_dir)
    else:
        if args.leads:
            os.environ["BENCH_SCREEN_LEADS"] = str(args.leads)
        db, native, _leads = bench.screen_databases(odoo_bin, python, data_dir)
        native = None if args.no_native else native
    port = args.port or run_tiers.free_port()
    result = {"odoo": version, "options": {k: str(v) for k, v in vars(args).items()}}
    odoo = (odoo_bin, python, data_dir)
    sides = [("ours", "with our addons, the working day's mix", db, False)]
    if native:
        sides += [
            ("ours_native_mix", "with our addons, the native calls only", db, True),
            ("native", "native (our addons uninstalled)", native, False),
        ]
    failed = []
    for key, title, source, native_mix in sides:
        result[key] = run_side(key, source, args, odoo, port, native_mix)
        print_side(title, result[key])
        failed += [f"{key}: {failure}" for failure in failures(result[key])]
    if native:
        result["ratios"] = ls.ratios(result["ours_native_mix"]["calls"], result["native"]["calls"])
        result["ratios_full_mix"] = ls.ratios(result["ours"]["calls"], result["native"]["calls"])
        print(
            f"\np95 ours / native, the same calls on both (goal <= {ls.GOAL_RATIO}x); last column: ours "
            "in the working day's mix (with the calls native Odoo has not) / native"
        )
        for call, row in result["ratios"].items():
            verdict = "met" if row["met"] else "NOT met"
            full = result["ratios_full_mix"].get(call, {}).get("ratio", float("nan"))
            print(
                f"  {call:<34}{row['ours_p95_ms']:>9.0f} ms{row['native_p95_ms']:>9.0f} ms"
                f"{row['ratio']:>7.2f}x  {verdict:<9}{full:>7.2f}x"
            )
    result["failed"] = failed
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str))
    print(f"\nwritten to {args.output}")
    if failed:
        print("FAILED checks:\n  " + "\n  ".join(failed))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
