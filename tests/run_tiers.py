#!/usr/bin/env python3
"""Run the project's two test tiers and print one summary line.

Tier 1: pytest over ``tests/`` for the plain packages, in the project's virtualenv ``.venv``.
Tier 2: every addon of ``odoo_addons/`` installed with ``--test-enable`` in a fresh database of a
real Odoo 19 (the ``odoo`` command on PATH, or ``ODOO_BIN``). Without an Odoo 19 the tier is
reported as skipped and the run fails, unless ``ODOO_TIER=optional`` is set.

Environment:
    ODOO_BIN        the Odoo executable (default: ``odoo`` on PATH)
    ODOO_PYTHON     the Python interpreter that runs Odoo (default: read from ODOO_BIN's shebang)
    ODOO_TIER       ``optional`` lets a machine without Odoo pass on tier 1 alone
    ODOO_ADDONS     comma-separated subset of addons to test (default: all)
    KEEP_DB         ``1`` keeps the test databases for inspection
"""

from __future__ import annotations

import ast
import getpass
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import lifecycle  # tests/lifecycle.py: the uninstall / reinstall check of the bundle

ROOT = Path(__file__).resolve().parent.parent
ADDONS_DIR = ROOT / "odoo_addons"
VENV = ROOT / ".venv"
LOG_DIR = ROOT / ".test-logs"
PLAIN_PACKAGES = ("activity_centric", "funnel_metrics", "sla_rules")

RESULT_RE = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
# Odoo log line: "2026-01-01 10:00:00,000 1234 LEVEL db logger: message"
LOG_LEVEL_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (WARNING|ERROR|CRITICAL) ")


@dataclass
class TierResult:
    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    note: str = ""
    # what failed, a line each, repeated under the summary (a CI log's tail shows it)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and not self.note.startswith("SKIPPED")


def say(msg: str) -> None:
    print(msg, flush=True)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=False, text=True, **kwargs)


# --------------------------------------------------------------------------- tier 1


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".installed-from"
    wanted = (ROOT / "pyproject.toml").read_text()
    if not python.exists():
        say(f"tier 1: creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        say("tier 1: installing the plain packages with their dev extras")
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                f"{ROOT}[dev]",
            ],
            check=True,
        )
        stamp.write_text(wanted)
    return python


def tier_plain() -> TierResult:
    result = TierResult("plain packages (pytest)")
    python = ensure_venv()
    junit = LOG_DIR / "pytest.xml"
    proc = run([str(python), "-m", "pytest", "-q", f"--junitxml={junit}", str(ROOT / "tests")], cwd=ROOT)
    if not junit.exists():
        result.failed = 1
        result.note = f"pytest exited {proc.returncode} without a report"
        return result
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    total = int(suite.get("tests", 0))
    result.failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    result.skipped = int(suite.get("skipped", 0))
    result.passed = total - result.failed - result.skipped
    for case in suite.iter("testcase"):
        for outcome in ("failure", "error"):
            found = case.find(outcome)
            if found is not None:
                message = (found.get("message") or "").splitlines()
                detail = f": {message[0]}" if message else ""
                result.failures.append(f"{case.get('classname')}::{case.get('name')}: {outcome}{detail}")
    if proc.returncode not in (0, 1) and result.failed == 0:
        result.failed = 1
        result.note = f"pytest exited {proc.returncode}"
    if total == 0:
        result.failed = max(result.failed, 1)
        result.note = "pytest collected no test"
    return result


# --------------------------------------------------------------------------- tier 2


def find_odoo() -> tuple[str, str] | None:
    """Return (odoo executable, version line) of an Odoo 19, or None."""
    candidate = os.environ.get("ODOO_BIN") or shutil.which("odoo")
    if not candidate or not os.path.exists(candidate):
        return None
    try:
        out = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = out.strip().splitlines()[-1] if out.strip() else ""
    if not re.search(r"\b19\.0", version):
        say(f"tier 2: {candidate} is not Odoo 19 ({version or 'no version'})")
        return None
    return os.path.realpath(candidate), version


SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"}


def _shebang(path: str) -> list[str] | None:
    """The interpreter and its arguments from a file's ``#!`` line (``env`` resolved), or None."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline().decode(errors="replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = shlex.split(first[2:])
    if parts and os.path.basename(parts[0]) == "env" and len(parts) > 1:
        parts = [shutil.which(parts[1]) or parts[1], *parts[2:]]
    return parts or None


def _is_shell_script(path: str) -> bool:
    parts = _shebang(path)
    return bool(parts) and os.path.basename(parts[0]) in SHELLS


def wrapped_odoo(odoo_bin: str) -> tuple[str | None, str | None]:
    """What a shell-script ``odoo`` runs, read from the script: ``(python, program)``.

    Hand-made installs often put a wrapper such as ``exec /opt/odoo/venv/bin/python /opt/odoo/odoo-bin "$@"``
    on PATH. ``python`` is the first existing file the script names whose name starts with ``python``;
    ``program`` the first existing file it names that starts with a Python ``#!`` line (an ``odoo-bin``).
    Either may be None."""
    try:
        lines = Path(odoo_bin).read_text(errors="replace").splitlines()[1:]
    except OSError:
        return None, None
    python = program = None
    for line in lines:
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        for word in words:
            path = word.split("=", 1)[1] if "=" in word else word  # VAR=/path as well as /path
            if not path.startswith("/") or not os.path.isfile(path) or os.path.samefile(path, odoo_bin):
                continue
            if python is None and os.path.basename(path).startswith("python"):
                python = path
            interpreter = _shebang(path)
            if program is None and interpreter and os.path.basename(interpreter[0]).startswith("python"):
                program = path
    return python, program


def odoo_python(odoo_bin: str) -> str:
    """The interpreter that runs Odoo: ODOO_PYTHON, else the executable's shebang; for a shell-script
    wrapper, the Python it names (or the shebang of the ``odoo-bin`` it runs)."""
    if os.environ.get("ODOO_PYTHON"):
        return os.environ["ODOO_PYTHON"]
    parts = _shebang(odoo_bin)
    if not parts:
        raise SystemExit(f"Cannot tell which Python runs {odoo_bin}: set ODOO_PYTHON.")
    if not _is_shell_script(odoo_bin):
        return parts[0]
    python, program = wrapped_odoo(odoo_bin)
    if python:
        return python
    if program:
        return _shebang(program)[0]
    raise SystemExit(
        f"{odoo_bin} is a shell script (#!{' '.join(parts)}) that names no Python running Odoo, so the "
        "runner cannot tell which Python to install the plain packages into: set ODOO_PYTHON to it "
        "(e.g. ODOO_PYTHON=/opt/odoo/venv/bin/python make test)."
    )


def odoo_source_path(odoo_bin: str) -> str | None:
    """The folder holding the ``odoo`` package next to an ``odoo-bin`` of a source checkout (which
    imports it from its own folder, where another Python would not find it); None otherwise. A
    shell-script wrapper is followed to the ``odoo-bin`` it runs."""
    candidates = [odoo_bin, wrapped_odoo(odoo_bin)[1] if _is_shell_script(odoo_bin) else None]
    for candidate in filter(None, candidates):
        folder = os.path.dirname(os.path.realpath(candidate))
        if os.path.isfile(os.path.join(folder, "odoo", "release.py")):
            return folder
    return None


def odoo_env(odoo_bin: str) -> dict[str, str]:
    """The environment in which Odoo's Python imports ``odoo``, as the ``odoo`` command does."""
    env = dict(os.environ)
    source = odoo_source_path(odoo_bin)
    if source and source not in env.get("PYTHONPATH", "").split(os.pathsep):
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (source, env.get("PYTHONPATH"))))
    return env


def install_plain_packages(python: str, odoo_bin: str) -> None:
    """Install the plain packages (and pandas…) into the Python that runs Odoo, with what the browser
    tours need; check that this Python imports them and Odoo (whose scripts the lifecycle runs in it).
    A source checkout's folder is put on PYTHONPATH, for this run and the processes it starts."""
    os.environ.update(odoo_env(odoo_bin))
    # before pip: a shell or another program taken for Odoo's Python fails here with the way out
    probe = run([python, "-c", "import odoo.release"], capture_output=True)
    if probe.returncode:
        raise SystemExit(
            f"{python} (taken as the Python that runs {odoo_bin}) does not import Odoo:\n"
            f"{probe.stderr.strip()[-2000:]}\nSet ODOO_PYTHON to the Python that runs Odoo."
        )
    cmd = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{ROOT}[odoo-tests]"]
    proc = run(cmd, capture_output=True)
    if proc.returncode and "externally-managed-environment" in proc.stderr:
        # Debian's system Python (the official odoo:19 image) refuses pip without this flag.
        proc = run([*cmd, "--break-system-packages"], capture_output=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"Could not install the plain packages into {python}.")
    packages = [p.name for p in ROOT.iterdir() if p.name in PLAIN_PACKAGES and (p / "__init__.py").exists()]
    check = run(
        [python, "-c", f"import {', '.join([*packages, 'websocket', 'odoo.release'])}"], capture_output=True
    )
    if check.returncode:
        raise SystemExit(
            f"{python} runs {odoo_bin} but does not import Odoo or the plain packages:\n{check.stderr}"
            "Set ODOO_PYTHON to the Python that runs Odoo."
        )


def ensure_postgres() -> None:
    """Start a local cluster that is installed but down, and create a role for this user."""
    if (
        shutil.which("pg_isready")
        and run(["pg_isready", "-q"]).returncode != 0
        and shutil.which("pg_lsclusters")
    ):
        for line in run(["pg_lsclusters", "--no-header"], capture_output=True).stdout.splitlines():
            version, name, _port, status = line.split()[:4]
            if status == "down":
                say(f"tier 2: starting PostgreSQL cluster {version}/{name}")
                run(["pg_ctlcluster", version, name, "start"])
        for _ in range(30):
            if run(["pg_isready", "-q"]).returncode == 0:
                break
            time.sleep(1)
    probe = run(["psql", "-d", "postgres", "-Atc", "select 1"], capture_output=True)
    if probe.returncode and "does not exist" in probe.stderr and os.geteuid() == 0:
        user = getpass.getuser()
        say(f"tier 2: creating PostgreSQL role {user}")
        run(["su", "postgres", "-c", f"createuser --superuser {shlex.quote(user)}"])
        probe = run(["psql", "-d", "postgres", "-Atc", "select 1"], capture_output=True)
    if probe.returncode:
        raise SystemExit(f"PostgreSQL is not reachable: {probe.stderr.strip()}")


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def ensure_browser() -> str | None:
    """The headless browser of the addons' tours (Odoo's HttpCase looks for these names on PATH).

    Without one, Odoo skips every tour quietly: install Debian's ``chromium`` where we may (root with
    apt-get, as on CI and in a fresh container); elsewhere return None and let the caller say so."""
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    say("tier 2: installing Chromium (Debian package) for the browser tours")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], capture_output=True, env=env)
    run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        capture_output=True,
        env=env,
    )
    return next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)


def prepare_odoo() -> tuple[str, str, str, Path]:
    """For the make targets beyond the tests: ``(odoo executable, version, its Python, data dir)``,
    with the plain packages installed and PostgreSQL up; stops when there is no Odoo 19."""
    found = find_odoo()
    if not found:
        raise SystemExit("no Odoo 19 found: put `odoo` on PATH or set ODOO_BIN")
    odoo_bin, version = found
    python = odoo_python(odoo_bin)
    install_plain_packages(python, odoo_bin)
    ensure_postgres()
    return odoo_bin, version, python, odoo_data_dir(python)


def read_manifest(addon: Path) -> dict:
    return ast.literal_eval((addon / "__manifest__.py").read_text())


def our_addons() -> list[Path]:
    wanted = {a for a in os.environ.get("ODOO_ADDONS", "").split(",") if a}
    addons = sorted(p for p in ADDONS_DIR.iterdir() if (p / "__manifest__.py").exists())
    return [a for a in addons if not wanted or a.name in wanted]


def external_depends(addons: list[Path]) -> list[str]:
    ours = {p.name for p in ADDONS_DIR.iterdir()}
    deps = {d for a in addons for d in read_manifest(a).get("depends", []) if d not in ours}
    return sorted(deps)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_cmd(odoo_bin: str, db: str, *extra: str) -> list[str]:
    return [
        odoo_bin,
        f"--database={db}",
        f"--addons-path={ADDONS_DIR}",
        "--http-interface=127.0.0.1",
        f"--http-port={free_port()}",
        "--max-cron-threads=0",
        "--stop-after-init",
        *extra,
    ]


def server_cmd(odoo_bin: str, db: str, port: int, *options: str) -> list[str]:
    """An Odoo server on loopback serving only ``db`` (the benchmarks', load test's and replica check's)."""
    return [
        odoo_bin,
        f"--database={db}",
        f"--db-filter=^{db}$",
        f"--addons-path={ADDONS_DIR}",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        *options,
    ]


def install_modules(odoo_bin: str, db: str, modules: list[str]) -> None:
    """Install ``modules`` into ``db`` (created if missing), or stop with Odoo's output."""
    proc = run(odoo_cmd(odoo_bin, db, f"--init={','.join(modules)}", "--log-level=warn"), capture_output=True)
    if proc.returncode:
        raise SystemExit(
            f"could not install {', '.join(modules)} in {db}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )


def drop_db(db: str, data_dir: Path) -> None:
    run(["dropdb", "--if-exists", db], capture_output=True)
    shutil.rmtree(data_dir / "filestore" / db, ignore_errors=True)


def odoo_data_dir(python: str) -> Path:
    code = "from odoo.tools import config; config.parse_config([]); print(config['data_dir'])"
    proc = run([python, "-c", code], capture_output=True)
    line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    return Path(line or os.path.expanduser("~/.local/share/Odoo"))


def scan_log(log: Path) -> tuple[int, int, list[str]]:
    """Return (tests run, failures + errors, problem lines) from an Odoo log."""
    run_count = failed = 0
    problems: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        match = RESULT_RE.search(line)
        if match and "when loading database" in line:
            failed += int(match.group(1)) + int(match.group(2))
            run_count += int(match.group(3))
        if LOG_LEVEL_RE.match(line):
            problems.append(line)
    return run_count, failed, problems


def short_log_line(line: str) -> str:
    """An Odoo log line without its date and process: the level, the database, the logger, the message."""
    parts = line.split(" ", 3)
    return parts[3] if len(parts) == 4 and LOG_LEVEL_RE.match(line) else line


def tier_odoo() -> TierResult:
    result = TierResult("Odoo 19 (addon tests)")
    found = find_odoo()
    if not found:
        result.note = (
            "SKIPPED: no Odoo 19 found (put the `odoo` command on PATH or set ODOO_BIN; "
            "see README, 'Test it')"
        )
        say("ODOO TIER SKIPPED: no Odoo 19 found on PATH or in ODOO_BIN")
        return result
    odoo_bin, version = found
    python = odoo_python(odoo_bin)
    say(f"tier 2: {version} at {odoo_bin}, Python {python}")
    install_plain_packages(python, odoo_bin)
    ensure_postgres()
    if not ensure_browser():
        result.failed, result.note = 1, "no Chromium for the browser tours: install the `chromium` package"
        say("tier 2: no headless browser found (chromium, google-chrome); the tours cannot run")
        return result
    data_dir = odoo_data_dir(python)
    addons = our_addons()
    if not addons:
        result.failed, result.note = 1, "no addon found in odoo_addons/"
        return result

    stamp = f"{os.getpid()}"
    template = f"pd_test_tpl_{stamp}"
    deps = external_depends(addons)
    say(f"tier 2: template database {template} with {', '.join(deps)}")
    drop_db(template, data_dir)
    log = LOG_DIR / "odoo-template.log"
    with log.open("w") as out:
        proc = run(
            odoo_cmd(odoo_bin, template, f"--init={','.join(deps)}", "--log-level=warn"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _, _, problems = scan_log(log)
    if proc.returncode or problems:
        say("\n".join(problems[:20]))
        result.failed, result.note = 1, f"template database failed, see {log}"
        drop_db(template, data_dir)
        return result

    try:
        for addon in addons:
            db = f"pd_test_{addon.name}_{stamp}"
            drop_db(db, data_dir)
            subprocess.run(["createdb", "-T", template, db], check=True)
            log = LOG_DIR / f"odoo-{addon.name}.log"
            started = time.monotonic()
            with log.open("w") as out:
                proc = run(
                    odoo_cmd(
                        odoo_bin,
                        db,
                        f"--init={addon.name}",
                        "--test-enable",
                        f"--test-tags=/{addon.name}",
                        "--log-level=info",
                    ),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            tests, failed, problems = scan_log(log)
            elapsed = time.monotonic() - started
            has_tests = (addon / "tests" / "__init__.py").exists()
            bad = failed or problems or proc.returncode or (has_tests and tests == 0)
            say(
                f"tier 2: {addon.name}: {tests} tests, {failed} failed, {len(problems)} warning/error "
                f"log lines, {elapsed:.0f}s{' -> ' + str(log) if bad else ''}"
            )
            for line in problems[:30]:
                say(f"    {line}")
            result.failures += [f"{addon.name}: {short_log_line(line)}" for line in problems[:10]]
            if bad and not problems:
                result.failures.append(f"{addon.name}: exit {proc.returncode}, {tests} tests, see {log}")
            result.passed += tests - failed
            result.failed += failed
            if (problems or proc.returncode or (has_tests and tests == 0)) and not failed:
                result.failed += 1
            if os.environ.get("KEEP_DB") != "1":
                drop_db(db, data_dir)
        if {addon.name for addon in addons} >= set(lifecycle.UNINSTALL_ORDER):
            passed, failed, skipped, failures = lifecycle.run(odoo_bin, python, template, data_dir, LOG_DIR)
            result.failures += [f"lifecycle: {line}" for line in failures]
            result.passed += passed
            result.failed += failed
            result.skipped += skipped
    finally:
        drop_db(template, data_dir)
    return result


def main() -> int:
    LOG_DIR.mkdir(exist_ok=True)
    tiers = [tier_plain(), tier_odoo()]
    optional = os.environ.get("ODOO_TIER") == "optional"
    say("")
    say("== summary ==")
    for tier in tiers:
        say(
            f"{tier.name}: {tier.passed} passed, {tier.failed} failed, {tier.skipped} skipped"
            f"{' (' + tier.note + ')' if tier.note else ''}"
        )
    for tier in tiers:
        if tier.failures:
            say(f"what failed in {tier.name}:")
            for line in tier.failures[:20]:
                say(f"    {line[:400]}")
    ok = tiers[0].ok and (tiers[1].ok or (optional and tiers[1].note.startswith("SKIPPED")))
    passed = sum(t.passed for t in tiers)
    failed = sum(t.failed for t in tiers)
    skipped = sum(t.skipped for t in tiers)
    if not tiers[1].ok and tiers[1].note.startswith("SKIPPED"):
        say("the Odoo tier did not run" + (" (ODOO_TIER=optional)" if optional else ": counted as a failure"))
        if not optional:
            failed += 1
    say(f"total: {passed} passed, {failed} failed, {skipped} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
