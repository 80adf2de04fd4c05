#!/usr/bin/env python3
"""Regenerate the README screenshots (``make screenshots``).

The Odoo pictures come from the bundle's browser tours (``TestPipelineTours`` in
``odoo_addons/crm_pipeline_discipline/tests/test_tours.py``): they run on a demo pipeline made by the
generator in a scratch database, with ``PD_SCREENSHOTS`` naming a directory, and each
``screenshot("<addon>/<name>")`` step of the tours (``static/src/tours/*.js``) saves
``<addon>/<name>.png`` there. Every PNG is then copied to ``odoo_addons/<addon>/static/description/``.
The ``funnel-metrics report --demo`` page is rendered with headless Chromium to
``crm_stage_history/static/description/funnel_metrics_report.png``.

Stops with a non-zero exit when a tour fails, logs a warning or an error, or a screenshot is missing.
Environment: those of ``tests/run_tiers.py`` (``ODOO_BIN``, ``ODOO_PYTHON``), and ``KEEP_DB=1`` to keep
the scratch database.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import run_tiers  # tests/run_tiers.py: finds Odoo 19, installs the plain packages, starts PostgreSQL

ROOT = run_tiers.ROOT
ADDONS_DIR = run_tiers.ADDONS_DIR
TOURS_DIR = ADDONS_DIR / "crm_pipeline_discipline" / "static" / "src" / "tours"
TEST_TAGS = "/crm_pipeline_discipline:TestPipelineTours"
SHOT_RE = re.compile(r"""screenshot\(\s*["']([a-z_]+/[a-z_]+)["']""")
REPORT_PNG = ADDONS_DIR / "crm_stage_history" / "static" / "description" / "funnel_metrics_report.png"
REPORT_SECTION = "cohorts"  # the report's section the picture shows
REPORT_SIZE = "1200,900"


def expected_shots() -> list[str]:
    """``<addon>/<name>`` of every screenshot step of the tours."""
    names = {name for path in TOURS_DIR.glob("*.js") for name in SHOT_RE.findall(path.read_text())}
    if not names:
        raise SystemExit(f"no screenshot step found in {TOURS_DIR}")
    return sorted(names)


def chromium() -> str:
    found = next((shutil.which(name) for name in run_tiers.BROWSERS if shutil.which(name)), None)
    if not found:
        raise SystemExit("no Chromium found: install the `chromium` package")
    return found


def run_tours(odoo_bin: str, data_dir: Path, shots_dir: Path) -> None:
    db = f"pd_screenshots_{os.getpid()}"
    log = run_tiers.LOG_DIR / "odoo-screenshots.log"
    run_tiers.drop_db(db, data_dir)
    run_tiers.say(f"screenshots: installing crm_pipeline_discipline in {db}")
    try:
        run_tiers.install_modules(odoo_bin, db, ["crm_pipeline_discipline"])
        run_tiers.say(f"screenshots: running the tours ({TEST_TAGS}), log in {log}")
        with log.open("w") as out:
            proc = run_tiers.run(
                run_tiers.odoo_cmd(
                    odoo_bin, db, "--test-enable", f"--test-tags={TEST_TAGS}", "--log-level=info"
                ),
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PD_SCREENSHOTS": str(shots_dir)},
            )
    finally:
        if os.environ.get("KEEP_DB") != "1":
            run_tiers.drop_db(db, data_dir)
    tests, failed, problems = run_tiers.scan_log(log)
    for line in problems[:30]:
        run_tiers.say(f"    {line}")
    if proc.returncode or failed or problems or not tests:
        raise SystemExit(
            f"the tours failed ({tests} tests, {failed} failed, {len(problems)} warning/error lines, "
            f"exit {proc.returncode}): see {log}"
        )
    run_tiers.say(f"screenshots: {tests} tours passed")


def render_report(python: str, browser: str, work: Path) -> Path:
    """``funnel-metrics report --demo``, run by the Python that has the plain packages, as a picture of
    its title, its table of contents and one section (headless Chromium draws a page scrolled to an
    anchor blank: the other sections are hidden instead)."""
    html = work / "report.html"
    cli = "import sys; from funnel_metrics.cli import main; sys.exit(main(sys.argv[1:]))"
    subprocess.run([python, "-c", cli, "report", "--demo", "-o", str(html)], check=True, capture_output=True)
    page = work / "report_section.html"
    style = f"<style>section:not(#{REPORT_SECTION}) {{display: none}}</style>"
    page.write_text(html.read_text().replace("</head>", f"{style}</head>", 1))
    png = work / "funnel_metrics_report.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={REPORT_SIZE}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
    )
    if not png.exists():
        raise SystemExit(f"Chromium wrote no picture of {page}")
    return png


def main() -> int:
    expected = expected_shots()
    browser = chromium()
    odoo_bin, version, python, data_dir = run_tiers.prepare_odoo()
    run_tiers.say(f"screenshots: {version} at {odoo_bin}")
    run_tiers.LOG_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pd_screenshots_") as tmp:
        work = Path(tmp)
        shots_dir = work / "odoo"
        run_tours(odoo_bin, data_dir, shots_dir)
        missing = [name for name in expected if not (shots_dir / f"{name}.png").exists()]
        if missing:
            raise SystemExit(f"the tours saved no picture for: {', '.join(missing)}")
        written = []
        for name in expected:
            addon, shot = name.split("/")
            target = ADDONS_DIR / addon / "static" / "description" / f"{shot}.png"
            shutil.copyfile(shots_dir / f"{name}.png", target)
            written.append(target)
        shutil.copyfile(render_report(python, browser, work), REPORT_PNG)
        written.append(REPORT_PNG)
    for path in written:
        run_tiers.say(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
