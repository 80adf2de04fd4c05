#!/usr/bin/env python3
"""`make demo`: a local database "pipeline" with crm_pipeline_discipline and a generated demo pipeline.

Environment: DEMO_LEADS (default 2000), DEMO_SEED (default 42), DEMO_RESET=1 to replace an existing
"pipeline" database (refused otherwise).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_tiers  # noqa: E402 - the test runner next door finds Odoo and PostgreSQL

DB = "pipeline"
EXISTS = ["psql", "-d", "postgres", "-Atc", f"SELECT 1 FROM pg_database WHERE datname = '{DB}'"]


def main() -> int:
    leads, seed = os.environ.get("DEMO_LEADS", "2000"), os.environ.get("DEMO_SEED", "42")
    odoo_bin, version, _python, data_dir = run_tiers.prepare_odoo()
    if run_tiers.run(EXISTS, capture_output=True).stdout.strip() and os.environ.get("DEMO_RESET") != "1":
        print(f"The database {DB!r} exists already: set DEMO_RESET=1 to replace it.", file=sys.stderr)
        return 2
    run_tiers.drop_db(DB, data_dir)
    print(f"{version}: installing crm_pipeline_discipline in {DB!r}", flush=True)
    run_tiers.install_modules(odoo_bin, DB, ["crm_pipeline_discipline"])
    print(f"generating {leads} leads (seed {seed})", flush=True)
    addons = f"--addons-path={run_tiers.ADDONS_DIR}"  # first: Odoo finds the command in the addons
    generate = [
        *(odoo_bin, addons, "pipeline_demo", f"--database={DB}"),
        *(f"--leads={leads}", f"--seed={seed}", "--log-level=warn"),
    ]
    if subprocess.run(generate, check=False).returncode:
        return 2
    print(
        f"\nStart Odoo on it:\n  {odoo_bin} --addons-path={run_tiers.ADDONS_DIR} -d {DB} --db-filter=^{DB}$\n"
        "then open http://localhost:8069 and log in as pd_manager / pd_manager (or pd_rep_1 ... pd_rep_6, "
        "password = login; the administrator is admin / admin)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
