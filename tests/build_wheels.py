#!/usr/bin/env python3
"""Build the project's wheels into ``dist/`` (``make wheels``).

- ``pipeline_discipline-<version>-py3-none-any.whl``: the plain packages (the root ``pyproject.toml``,
  setuptools);
- ``odoo_addon_<addon>-<version>-py3-none-any.whl`` for each addon of ``odoo_addons/``: the Odoo
  ecosystem's packaging, by whool from the addon's ``pyproject.toml`` and manifest — ``depends``
  become ``odoo-addon-<name>`` requirements (Odoo's own addons become ``odoo==19.0.*``), the
  manifest's ``external_dependencies`` Python requirements, the version is the manifest's.

The build tools come from the project's virtualenv ``.venv`` (its ``dev`` extra; created if missing)
and run without build isolation, so no network is needed. whool packages the files under git
control: a file not yet added to git is left out, and this script says which.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run_tiers  # noqa: E402 - knows how to make the project's virtualenv

ROOT = run_tiers.ROOT
DIST = ROOT / "dist"


def build_wheel(python: Path | str, source: Path, outdir: Path) -> Path:
    """Build the wheel of the project at ``source`` into ``outdir`` with ``python``'s build tools."""
    outdir.mkdir(parents=True, exist_ok=True)
    before = set(outdir.glob("*.whl"))
    proc = subprocess.run(
        [str(python), "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir), str(source)],
        check=False,
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise RuntimeError(f"building the wheel of {source} failed:\n{proc.stdout}\n{proc.stderr}")
    built = sorted(set(outdir.glob("*.whl")) - before) or _named_in_output(proc.stdout, outdir)
    if len(built) != 1:
        raise RuntimeError(f"expected one wheel from {source}, found {[p.name for p in built]}")
    return built[0]


def _named_in_output(stdout: str, outdir: Path) -> list[Path]:
    """The wheel ``build`` reports (a rebuild over an existing file of the same name)."""
    names = [line.rsplit(" ", 1)[-1] for line in stdout.splitlines() if line.startswith("Successfully built")]
    return [outdir / name for name in names]


def wheel_metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(archive.read(name).decode("utf-8"))


def git_files(directory: Path) -> tuple[list[str], list[str]] | None:
    """(tracked, untracked) files under ``directory``; None outside a git work tree."""
    lists = []
    for extra in ([], ["--others", "--exclude-standard"]):
        proc = subprocess.run(
            ["git", "ls-files", *extra, "--", "."], cwd=directory, check=False, capture_output=True, text=True
        )
        if proc.returncode:
            return None
        lists.append(proc.stdout.split())
    tracked, untracked = lists
    return tracked, [f for f in untracked if f != "pyproject.toml"]  # whool drops it from the wheel anyway


def main() -> int:
    python = run_tiers.ensure_venv()
    DIST.mkdir(exist_ok=True)
    for old in [*DIST.glob("pipeline_discipline-*.whl"), *DIST.glob("odoo_addon_*.whl")]:
        old.unlink()
    built, failed = 0, []
    for source in [ROOT, *run_tiers.our_addons()]:
        files = git_files(source) if source != ROOT else None
        if files and not files[0]:
            failed.append(source.name)
            print(
                f"{source.name}: none of its files is in git yet, and whool packages git's files: git add it"
            )
            continue
        if files and files[1]:
            print(f"note: {source.name}: not in git, so not in the wheel: {', '.join(files[1])}")
        try:
            wheel = build_wheel(python, source, DIST)
        except RuntimeError as error:
            failed.append(source.name)
            print(error)
            continue
        built += 1
        print(wheel.relative_to(ROOT))
        for requirement in wheel_metadata(wheel).get_all("Requires-Dist") or []:
            print(f"    Requires-Dist: {requirement}")
    print(
        f"{built} wheels in {DIST.relative_to(ROOT)}/"
        + (f"; not built: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
