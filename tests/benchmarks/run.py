#!/usr/bin/env python3
"""`make bench`: the addons' cost on a real Odoo 19, measured in one run.

1. write({'stage_id'}) on 1,000 opportunities in a database with crm only and in one with
   crm_stage_history, before commit and with the commit's chatter tracking: the ratio is the
   module's overhead on the write path.
2. The backfill of a generated database of 100,000 leads with 3 tracked stage changes each,
   against an INSERT ... SELECT of the same tracking rows (the floor any rebuild must pay).

3. Marking an activity done, one call per activity, in a database with crm only and in one with
   crm_activity_centric and the team in `enforce`: queries and time per completion.
4. The follow-up state of 100,000 existing leads, filled as the install does and recomputed by the ORM.

Environment: BENCH_LEADS (default 1000), BENCH_BACKFILL_LEADS (default 100000),
BENCH_COMPLETIONS (default 300), BENCH_FOLLOWUP_LEADS (default 100000).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import run_tiers  # noqa: E402 - the runner next door knows how to find Odoo and PostgreSQL

WORKER = HERE / "bench_stage_history.py"
FOLLOWUP_WORKER = HERE / "bench_activity_centric.py"


def worker(python: str, *args: str, script: Path = WORKER) -> dict:
    proc = subprocess.run([python, str(script), *args], capture_output=True, text=True, check=False)
    if proc.returncode:
        sys.exit(f"benchmark failed: {' '.join(args)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(native: dict, ours: dict, column: str, rows: tuple[tuple[str, str], ...]) -> None:
    """One line per measure: crm alone, with the module, and their ratio."""
    print(f"  {'':28}{'crm only':>12}{column:>12}{'ratio':>8}")
    for key, label in rows:
        ratio = ours[key] / native[key] if native[key] else float("nan")
        print(f"  {label:28}{native[key]:>12.3f}{ours[key]:>12.3f}{ratio:>7.2f}x")


def main() -> int:
    odoo_bin, version, python, data_dir = run_tiers.prepare_odoo()
    leads = os.environ.get("BENCH_LEADS", "1000")
    backfill_leads = os.environ.get("BENCH_BACKFILL_LEADS", "100000")
    base, with_module = "pd_bench_crm", "pd_bench_history"
    print(f"{version}; creating {base} (crm) and {with_module} (crm + crm_stage_history)", flush=True)
    for db, modules in ((base, ["crm"]), (with_module, ["crm", "crm_stage_history"])):
        run_tiers.drop_db(db, data_dir)
        run_tiers.install_modules(odoo_bin, db, modules)
    try:
        native = worker(python, "write", base, "--leads", leads)
        ours = worker(python, "write", with_module, "--leads", leads)
        print(f"\nwrite({{'stage_id'}}) on {leads} opportunities, median of 5 runs:")
        compare(
            native,
            ours,
            "+ history",
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
        for db in (base, with_module):
            run_tiers.drop_db(db, data_dir)
    bench_followup(odoo_bin, python, data_dir)
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
