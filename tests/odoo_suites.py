#!/usr/bin/env python3
"""`make odoo-suites`: Odoo's own test suites, with and without our addons, in one run.

Two databases from one template (the dependencies of our addons): a baseline with Odoo alone,
and one with every addon of ``odoo_addons/`` installed (features off, as after an install). The
same suites run in both (``ODOO_SUITES``, default ``crm``). The run fails if a test fails only
with our addons; tests that fail in the baseline too are reported as the environment's, not ours.

Environment: ODOO_BIN / ODOO_PYTHON as for `make test`; ODOO_SUITES=crm,sales_team,...
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_tiers  # noqa: E402 - the test runner knows how to find Odoo and PostgreSQL

FAILURE_RE = re.compile(r" (?:ERROR|FAIL): (.+)$")


def run_suites(odoo_bin: str, db: str, suites: list[str], log: Path) -> tuple[int, set[str]]:
    tags = ",".join(f"/{suite}" for suite in suites)
    with log.open("w") as out:
        subprocess.run(
            run_tiers.odoo_cmd(odoo_bin, db, "--test-enable", f"--test-tags={tags}", "--log-level=info"),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    tests, _failed, _problems = run_tiers.scan_log(log)
    failures = {
        m.group(1).strip()
        for line in log.read_text(errors="replace").splitlines()
        if (m := FAILURE_RE.search(line)) and " odoo.tests.result:" not in line
    }
    return tests, failures


def main() -> int:
    odoo_bin, version, _python, data_dir = run_tiers.prepare_odoo()
    run_tiers.LOG_DIR.mkdir(exist_ok=True)
    suites = [s for s in os.environ.get("ODOO_SUITES", "crm").split(",") if s]
    addons = run_tiers.our_addons()
    deps = sorted(set(run_tiers.external_depends(addons)) | set(suites))
    stamp = os.getpid()
    template, baseline, ours = (f"pd_suites_{name}_{stamp}" for name in ("tpl", "odoo", "ours"))
    print(
        f"{version}; suites {', '.join(suites)}; our addons {', '.join(a.name for a in addons)}", flush=True
    )
    try:
        run_tiers.install_modules(odoo_bin, template, deps)
        subprocess.run(["createdb", "-T", template, baseline], check=True)
        subprocess.run(["createdb", "-T", template, ours], check=True)
        run_tiers.install_modules(odoo_bin, ours, [addon.name for addon in addons])
        results = {}
        for label, db in (("Odoo alone", baseline), ("with our addons", ours)):
            log = run_tiers.LOG_DIR / f"suites-{'baseline' if db == baseline else 'ours'}.log"
            results[label] = run_suites(odoo_bin, db, suites, log)
            tests, failures = results[label]
            print(f"{label:16} {tests} tests, {len(failures)} failing  ({log})", flush=True)
    finally:
        for db in (template, baseline, ours):
            run_tiers.drop_db(db, data_dir)
    (_, base_failures), (ours_tests, our_failures) = results["Odoo alone"], results["with our addons"]
    ours_only = sorted(our_failures - base_failures)
    for name in sorted(base_failures & our_failures):
        print(f"  environment (fails without our addons too): {name}")
    for name in ours_only:
        print(f"  FAILS ONLY WITH OUR ADDONS: {name}")
    if ours_tests == 0:
        print("no test ran")
        return 1
    print(
        f"suites: {ours_tests - len(our_failures)} passed, {len(ours_only)} failed because of our addons, "
        f"{len(base_failures & our_failures)} failing in Odoo alone too"
    )
    return 1 if ours_only else 0


if __name__ == "__main__":
    sys.exit(main())
