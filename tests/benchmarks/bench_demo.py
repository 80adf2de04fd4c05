"""Benchmarks of the demo pipeline generator (crm_pipeline_discipline), run inside the Python that runs Odoo
(see run.py).

    python bench_demo.py generate DB [--leads 100000] [--seed 42]
    python bench_demo.py funnel DB

`generate` runs ``crm.pipeline.demo._generate`` as superuser in a database where the bundle is installed
and commits: seconds (generation, commit), queries, rows written and rows per second. `funnel` reads the
lines of the funnel report per stage (``crm.stage.funnel.report.line``, computed as they are read: the stage
history read into funnel_metrics) and the plain ``_read_group`` of the stays by stage, on whatever the
database holds. Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

ADDONS = os.environ.get("BENCH_ADDONS") or str(Path(__file__).resolve().parents[2] / "odoo_addons")


def environment(db: str):
    config.parse_config(
        ["--database", db, "--log-level", "warn", "--addons-path", ADDONS], setup_logging=True
    )
    return Registry(db).cursor()


def generate(db: str, leads: int, seed: int) -> dict:
    with environment(db) as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        queries, started = cr.sql_log_count, time.perf_counter()
        summary = env["crm.pipeline.demo"]._generate(leads=leads, seed=seed)
        generated = time.perf_counter()
        queries = cr.sql_log_count - queries
        cr.commit()
        committed = time.perf_counter()
    rows = sum(summary[key] for key in ("leads", "stays", "activities", "customer_events"))
    seconds = generated - started
    return {
        "leads": summary["leads"],
        "stays": summary["stays"],
        "activities": summary["activities"],
        "customer_events": summary["customer_events"],
        "seconds": round(seconds, 2),
        "commit_s": round(committed - generated, 2),
        "queries": queries,
        "leads_per_s": round(summary["leads"] / seconds),
        "rows_per_s": round(rows / seconds),
    }


def funnel(db: str) -> dict:
    with environment(db) as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        queries, started = cr.sql_log_count, time.perf_counter()
        action = env["crm.stage.funnel.report"].create({"group_by": "stage"}).action_show()
        report = env[action["res_model"]].with_context(**action["context"]).search([])
        report.fetch(["stage_id", "entered", "conversion_rate", "median_days"])
        env.flush_all()
        report_s, report_queries = time.perf_counter() - started, cr.sql_log_count - queries
        lines = [
            {
                "stage": line.stage_id.name,
                "entered": line.entered,
                "conversion": round(line.conversion_rate, 1),
                "median_days": round(line.median_days, 1),
            }
            for line in report
        ]
        queries, started = cr.sql_log_count, time.perf_counter()
        groups = env["crm.lead.stage.history"]._read_group(
            [], ["stage_id"], ["__count", "duration_hours:avg"]
        )
        group_s, group_queries = time.perf_counter() - started, cr.sql_log_count - queries
        stays = sum(count for _stage, count, _hours in groups)
        cr.rollback()
    return {
        "stays": stays,
        "report_s": round(report_s, 2),
        "report_queries": report_queries,
        "lines": lines,
        "read_group_s": round(group_s, 3),
        "read_group_queries": group_queries,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["generate", "funnel"])
    parser.add_argument("db")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    result = generate(args.db, args.leads, args.seed) if args.what == "generate" else funnel(args.db)
    print(json.dumps(result))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
