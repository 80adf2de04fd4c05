"""The Docker demo: Odoo published on this machine only unless asked, no default admin password.

The compose file is read as YAML (no image is pulled); ``docker/start.sh`` runs with a stand-in ``odoo``
on the PATH that records its calls.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def _interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR:-default}`` and ``${VAR:?message}`` (the message raised as ValueError)."""

    def one(match: re.Match[str]) -> str:
        name, how, word = match.group(1), match.group(2), match.group(3)
        value = env.get(name, "")
        if how == ":?" and not value:
            raise ValueError(word)
        return value or (word if how == ":-" else "")

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, text)


def odoo_service(env: dict[str, str]) -> dict:
    return yaml.safe_load(_interpolate((DOCKER / "compose.yml").read_text(encoding="utf-8"), env))[
        "services"
    ]["odoo"]


def test_odoo_is_published_on_this_machine_only_unless_asked():
    assert odoo_service({"ODOO_ADMIN_PASSWORD": "x"})["ports"] == ["127.0.0.1:8069:8069"]
    asked = odoo_service({"ODOO_ADMIN_PASSWORD": "x", "ODOO_BIND": "0.0.0.0", "ODOO_PORT": "8070"})
    assert asked["ports"] == ["0.0.0.0:8070:8069"]


def test_the_admin_password_is_a_required_variable():
    with pytest.raises(ValueError, match="set ODOO_ADMIN_PASSWORD"):
        odoo_service({})
    assert odoo_service({"ODOO_ADMIN_PASSWORD": "s3cret"})["environment"]["ODOO_ADMIN_PASSWORD"] == "s3cret"
    assert "admin" not in odoo_service({"ODOO_ADMIN_PASSWORD": "x"})["environment"].values()


@pytest.fixture
def fake_odoo(tmp_path: Path) -> Path:
    """A stand-in ``odoo`` on the PATH: appends its arguments and its stdin to ``calls.log``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "odoo"
    script.write_text(
        '#!/bin/bash\n{ echo "ARGS $*"; if [[ "$1" == shell ]]; then cat; fi; } >> "$CALLS"\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def start(fake_odoo: Path, tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, str]:
    calls = tmp_path / "calls.log"
    environment = {"PATH": f"{fake_odoo}:/usr/bin:/bin", "CALLS": str(calls), "HOME": str(tmp_path), **env}
    done = subprocess.run(
        ["bash", str(DOCKER / "start.sh")], env=environment, capture_output=True, text=True, check=False
    )
    return done, calls.read_text(encoding="utf-8") if calls.exists() else ""


def test_start_refuses_to_run_without_an_admin_password(fake_odoo, tmp_path):
    done, calls = start(fake_odoo, tmp_path)
    assert done.returncode == 2
    assert done.stderr == "pipeline-start: set ODOO_ADMIN_PASSWORD (the password of the Odoo user admin)\n"
    assert calls == ""  # nothing installed, nothing served


def test_start_sets_the_admin_password_from_the_variable_and_serves_without_database_manager(
    fake_odoo, tmp_path
):
    done, calls = start(fake_odoo, tmp_path, ODOO_ADMIN_PASSWORD="correct horse")
    assert done.returncode == 0, done.stderr
    args = [line[5:] for line in calls.splitlines() if line.startswith("ARGS ")]
    assert len(args) == 4  # install, set the password, generate the demo, serve
    assert "-i crm_pipeline_discipline" in args[0]
    assert args[1].startswith("shell ")
    assert 'env.ref("base.user_admin").password = os.environ["ODOO_ADMIN_PASSWORD"]' in calls
    assert "pipeline_demo" in args[2]
    assert args[3].endswith("--no-database-list") and "--db-filter=^pipeline$" in args[3]
    assert "correct horse" not in calls  # never on a command line
    assert os.path.basename(DOCKER / "start.sh") in (DOCKER / "Dockerfile").read_text(encoding="utf-8")
