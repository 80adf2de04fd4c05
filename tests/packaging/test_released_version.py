"""The upgrade check of ``tests/lifecycle.py`` finds the released version in every kind of clone.

CI and users clone the project in different ways: with or without tags, with the whole history or only
the last commit (``--depth 1``), sometimes with an ``origin`` that is gone. The released commit must be
found or fetched wherever the history can be had; otherwise the check says why and is skipped, and a
real fault of the history (a moved tag, a commit missing from a full clone) fails.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

import lifecycle  # noqa: E402

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True, env=GIT_ENV
    ).stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, str]:
    """A repository with a released commit (tagged), and two commits after it."""
    repo = tmp_path / "upstream"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for version in ("released", "next", "current"):
        for path in lifecycle.RELEASED_PATHS:
            (repo / path).mkdir(exist_ok=True)
            (repo / path / "VERSION").write_text(version)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", version)
        if version == "released":
            released = git(repo, "rev-parse", "HEAD")
            git(repo, "tag", lifecycle.RELEASED_TAG)
    return repo, released


def clone(upstream: Path, into: Path, *options: str) -> Path:
    # file:// so that --depth is honoured for a local repository
    subprocess.run(["git", "clone", "-q", *options, f"file://{upstream}", str(into)], check=True, env=GIT_ENV)
    return into


def resolve(monkeypatch: pytest.MonkeyPatch, root: Path, commit: str) -> tuple[str, str]:
    monkeypatch.setattr(lifecycle, "ROOT", root)
    monkeypatch.setattr(lifecycle, "RELEASED_COMMIT", commit)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    return lifecycle._released_commit()


def released_versions(tmp_path: Path) -> set[str]:
    into = tmp_path / "extracted"
    into.mkdir()
    assert lifecycle._released_code(into) == ""
    return {(into / path / "VERSION").read_text() for path in lifecycle.RELEASED_PATHS}


@pytest.mark.parametrize(
    ("how", "options"),
    [
        ("a full clone with tags", ()),
        ("a clone of the branch without tags", ("--no-tags", "--single-branch")),
        ("a shallow clone (--depth 1) whose origin answers", ("--depth", "1")),
    ],
)
def test_the_released_code_is_extracted(monkeypatch, tmp_path, upstream, how, options):
    repo, released = upstream
    work = clone(repo, tmp_path / "work", *options)
    assert resolve(monkeypatch, work, released) == ("", ""), how
    assert released_versions(tmp_path) == {"released"}, how


def test_a_shallow_clone_whose_origin_is_gone_skips_and_says_why(monkeypatch, tmp_path, upstream):
    repo, released = upstream
    work = clone(repo, tmp_path / "work", "--depth", "1")
    git(work, "remote", "set-url", "origin", str(tmp_path / "gone"))
    error, unavailable = resolve(monkeypatch, work, released)
    assert error == ""
    assert "shallow clone" in unavailable and released[:12] in unavailable


def test_a_full_clone_without_the_commit_fails(monkeypatch, tmp_path, upstream):
    repo, _released = upstream
    git(repo, "tag", "-d", lifecycle.RELEASED_TAG)
    error, unavailable = resolve(monkeypatch, repo, "0" * 40)
    assert unavailable == ""
    assert "is not in this clone" in error


def test_a_moved_tag_fails(monkeypatch, tmp_path, upstream):
    repo, released = upstream
    git(repo, "tag", "-f", lifecycle.RELEASED_TAG, "HEAD")
    error, unavailable = resolve(monkeypatch, repo, released)
    assert unavailable == ""
    assert "a moved tag" in error


def test_outside_a_git_checkout_it_skips(monkeypatch, tmp_path):
    error, unavailable = resolve(monkeypatch, tmp_path, "0" * 40)
    assert error == ""
    assert "not a git checkout" in unavailable


def test_the_recorded_commit_is_the_release():
    """In this project's own history (where it has one): the recorded commit carries the released
    version in every addon's manifest."""
    has_commit = subprocess.run(
        ["git", "-C", str(lifecycle.ROOT), "cat-file", "-e", f"{lifecycle.RELEASED_COMMIT}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if has_commit.returncode:
        pytest.skip("this checkout does not hold the released commit (shallow clone or no git)")
    for addon in set(lifecycle.UNINSTALL_ORDER) - set(lifecycle.ADDED_SINCE_RELEASE):
        manifest = git(
            lifecycle.ROOT, "show", f"{lifecycle.RELEASED_COMMIT}:odoo_addons/{addon}/__manifest__.py"
        )
        assert ast.literal_eval(manifest)["version"] == lifecycle.RELEASED_TAG, addon
