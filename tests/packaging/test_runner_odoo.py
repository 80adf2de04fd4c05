"""How the test runner finds the Python that runs Odoo and makes it import Odoo and our packages.

The Odoo tier runs scripts of ours in that Python (the lifecycle's steps, the addons' dependency
probe): they need ``import odoo`` to work there as it does for the ``odoo`` command, whether Odoo is
an installed package (the official image) or a source checkout's ``odoo-bin``.
"""

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import run_tiers  # noqa: E402


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def source_checkout(tmp_path):
    """A folder shaped like Odoo's source: odoo-bin beside the odoo package."""
    root = tmp_path / "odoo-src"
    (root / "odoo").mkdir(parents=True)
    (root / "odoo" / "release.py").write_text("version = '19.0'\n")
    executable(root / "odoo-bin", "#!/usr/bin/env python3\nimport odoo.release\n")
    return root


def test_the_python_comes_from_the_commands_first_line(tmp_path, monkeypatch):
    monkeypatch.delenv("ODOO_PYTHON", raising=False)
    direct = executable(tmp_path / "a" / "odoo", "#!/opt/odoo/venv/bin/python3\nimport odoo.cli\n")
    assert run_tiers.odoo_python(str(direct)) == "/opt/odoo/venv/bin/python3"
    via_env = executable(tmp_path / "b" / "odoo", "#!/usr/bin/env python3\nimport odoo.cli\n")
    assert os.path.basename(run_tiers.odoo_python(str(via_env))).startswith("python3")
    monkeypatch.setenv("ODOO_PYTHON", "/somewhere/python")
    assert run_tiers.odoo_python(str(direct)) == "/somewhere/python"


def test_a_command_without_a_first_line_asks_for_odoo_python(tmp_path, monkeypatch):
    monkeypatch.delenv("ODOO_PYTHON", raising=False)
    binary = tmp_path / "odoo"
    binary.write_bytes(b"\x7fELF\x02\x01")
    with pytest.raises(SystemExit, match="ODOO_PYTHON"):
        run_tiers.odoo_python(str(binary))


def test_a_source_checkouts_folder_goes_on_the_python_path(source_checkout, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/already/there")
    env = run_tiers.odoo_env(str(source_checkout / "odoo-bin"))
    assert env["PYTHONPATH"].split(os.pathsep) == [str(source_checkout), "/already/there"]
    # a Python started elsewhere now imports this checkout's odoo, as odoo-bin itself does
    probe = subprocess.run(
        [sys.executable, "-c", "import odoo.release; print(odoo.release.__file__)"],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == str(source_checkout / "odoo" / "release.py")
    # idempotent: asked again with that environment, the folder is not added twice
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])
    assert run_tiers.odoo_env(str(source_checkout / "odoo-bin"))["PYTHONPATH"] == env["PYTHONPATH"]


def test_a_link_to_odoo_bin_finds_the_checkout(source_checkout, tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    link = tmp_path / "bin" / "odoo"
    link.parent.mkdir()
    link.symlink_to(source_checkout / "odoo-bin")
    assert run_tiers.odoo_source_path(str(link)) == str(source_checkout)


def test_an_installed_odoo_command_leaves_the_python_path_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    command = executable(tmp_path / "bin" / "odoo", "#!/usr/bin/python3\nimport odoo.cli\n")
    assert run_tiers.odoo_source_path(str(command)) is None
    assert "PYTHONPATH" not in run_tiers.odoo_env(str(command))


def test_a_python_that_cannot_import_odoo_is_refused_with_the_way_out(tmp_path, monkeypatch):
    """pip and our packages succeed, `import odoo` fails: the runner stops before any test, saying why."""
    monkeypatch.delenv("PYTHONPATH", raising=False)
    fake = executable(
        tmp_path / "python",
        textwrap.dedent(
            """\
            #!/bin/sh
            case "$*" in
              *"odoo.release"*) echo "ModuleNotFoundError: No module named 'odoo'" >&2; exit 1;;
            esac
            exit 0
            """
        ),
    )
    command = executable(tmp_path / "bin" / "odoo", f"#!{fake}\nimport odoo.cli\n")
    with pytest.raises(SystemExit) as stop:
        run_tiers.install_plain_packages(str(fake), str(command))
    message = str(stop.value)
    assert "does not import Odoo" in message
    assert "No module named 'odoo'" in message
    assert "ODOO_PYTHON" in message


@pytest.fixture
def odoo_venv(tmp_path):
    """A hand-made install: a virtualenv's python and a source checkout's odoo-bin that it runs."""
    python = executable(tmp_path / "opt" / "venv" / "bin" / "python3", "#!/bin/sh\nexit 0\n")
    odoo_bin = executable(tmp_path / "opt" / "odoo" / "odoo-bin", f"#!{python}\nimport odoo.cli\n")
    (odoo_bin.parent / "odoo").mkdir()
    (odoo_bin.parent / "odoo" / "release.py").write_text("version = '19.0'\n")
    return python, odoo_bin


def test_a_shell_wrapper_that_names_the_python_is_followed(odoo_venv, tmp_path, monkeypatch):
    """`odoo` on PATH is `#!/bin/sh` + `exec <python> <odoo-bin> "$@"`: Odoo's Python is the one it runs,
    not /bin/sh, and the checkout it runs goes on the Python path."""
    monkeypatch.delenv("ODOO_PYTHON", raising=False)
    python, odoo_bin = odoo_venv
    wrapper = executable(
        tmp_path / "bin" / "odoo",
        f'#!/bin/sh\n# started by systemd\nexport ODOO_RC=/etc/odoo.conf\nexec {python} {odoo_bin} "$@"\n',
    )
    assert run_tiers.odoo_python(str(wrapper)) == str(python)
    assert run_tiers.odoo_source_path(str(wrapper)) == str(odoo_bin.parent)


def test_a_shell_wrapper_that_runs_odoo_bin_takes_its_python(odoo_venv, tmp_path, monkeypatch):
    monkeypatch.delenv("ODOO_PYTHON", raising=False)
    python, odoo_bin = odoo_venv
    wrapper = executable(tmp_path / "bin" / "odoo", f'#!/bin/bash\nODOO={odoo_bin}\nexec "$ODOO" "$@"\n')
    assert run_tiers.odoo_python(str(wrapper)) == str(python)
    assert run_tiers.odoo_source_path(str(wrapper)) == str(odoo_bin.parent)


def test_a_shell_wrapper_naming_no_python_asks_for_odoo_python(tmp_path, monkeypatch):
    monkeypatch.delenv("ODOO_PYTHON", raising=False)
    wrapper = executable(tmp_path / "bin" / "odoo", '#!/bin/sh\ncd /srv/odoo && exec ./odoo-bin "$@"\n')
    with pytest.raises(SystemExit) as stop:
        run_tiers.odoo_python(str(wrapper))
    assert "shell script" in str(stop.value)
    assert "ODOO_PYTHON" in str(stop.value)


def test_a_shell_taken_for_odoos_python_is_refused_before_pip(tmp_path, monkeypatch):
    """Given /bin/sh as Odoo's Python (ODOO_PYTHON set wrongly), the runner says it does not import Odoo
    and how to fix it, instead of pip's "cannot open pip" and "Could not install … into /bin/sh"."""
    monkeypatch.delenv("PYTHONPATH", raising=False)
    command = executable(tmp_path / "bin" / "odoo", '#!/bin/sh\nexec odoo-bin "$@"\n')
    with pytest.raises(SystemExit) as stop:
        run_tiers.install_plain_packages("/bin/sh", str(command))
    message = str(stop.value)
    assert "/bin/sh" in message and "does not import Odoo" in message
    assert "ODOO_PYTHON" in message
    assert "Could not install" not in message
