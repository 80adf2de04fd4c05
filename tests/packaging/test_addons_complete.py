"""Every addon is complete by OCA standards, and packages as the Odoo ecosystem expects.

Per addon: the readme fragments, a real PNG icon, a README.rst (and index.html) generated from the
current fragments, a translation template that knows the addon's strings, an access rule for each
of its models, the manifest's files and keys, and XML ids taken only from addons it depends on.
Then the wheels: ``odoo-addon-<name>`` built by whool and the ``pipeline-discipline`` distribution.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import re
import struct
import subprocess
import sys
import zipfile
from functools import cache
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TESTS))

import build_wheels  # noqa: E402
import gen_addon_readme  # noqa: E402
import run_tiers  # noqa: E402

ROOT = TESTS.parent
ADDONS = sorted(path.parent for path in (ROOT / "odoo_addons").glob("*/__manifest__.py"))
FRAGMENTS = ("DESCRIPTION", "CONFIGURE", "USAGE", "CONTRIBUTORS")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODEL_BASES = {"Model", "TransientModel"}
TRANSLATE_CALLS = {"_", "_lt"}
# module-qualified XML ids in views and data: %(module.id)d, ref="module.id", groups="module.id,…"
XMLID_RES = (
    re.compile(r"%\((?P<ids>[\w.]+)\)d"),
    re.compile(r"\sref=\"(?P<ids>[\w.]+)\""),
    re.compile(r"\sgroups=\"(?P<ids>[\w.,!\s]+)\""),
)

addon_params = pytest.mark.parametrize("addon", ADDONS, ids=[path.name for path in ADDONS])


def manifest(addon: Path) -> dict:
    return ast.literal_eval((addon / "__manifest__.py").read_text(encoding="utf-8"))


def python_files(addon: Path) -> list[Path]:
    return sorted(p for p in addon.rglob("*.py") if "tests" not in p.relative_to(addon).parts)


def declared_models(addon: Path) -> dict[str, ast.ClassDef]:
    """{model name: class} of the Model and TransientModel classes that create a model."""
    found = {}
    for path in python_files(addon):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
            if not bases & MODEL_BASES:
                continue
            attrs = {
                target.id: stmt.value
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                for target in stmt.targets
                if isinstance(target, ast.Name)
            }
            name = attrs.get("_name")
            if not isinstance(name, ast.Constant):
                continue
            inherit = attrs.get("_inherit")
            inherited = ast.literal_eval(inherit) if inherit is not None else []
            if name.value not in ([inherited] if isinstance(inherited, str) else inherited):
                found[name.value] = node
    return found


def translatable_strings(addon: Path) -> set[str]:
    """Literal strings the addon's Python marks for translation: model descriptions, field labels
    and help, and the messages given to ``_()``, ``self.env._()`` and ``_lt()``."""
    strings = {constant.value for constant in _class_descriptions(addon)}
    for path in python_files(addon):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            value = getattr(func, "value", None)
            is_field = isinstance(value, ast.Name) and value.id == "fields"
            if name in TRANSLATE_CALLS and node.args and isinstance(node.args[0], ast.Constant):
                strings.add(node.args[0].value)
            elif is_field:
                for keyword in node.keywords:
                    if keyword.arg in ("string", "help") and isinstance(keyword.value, ast.Constant):
                        strings.add(keyword.value.value)
    return {s for s in strings if isinstance(s, str) and s.strip()}


def _class_descriptions(addon: Path):
    for cls in declared_models(addon).values():
        for stmt in cls.body:
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "_description" for t in stmt.targets)
                and isinstance(stmt.value, ast.Constant)
            ):
                yield stmt.value


def pot_msgids(pot: Path) -> set[str]:
    """The msgids of a gettext template (continuation lines joined, escapes decoded)."""
    msgids, current = set(), None
    for line in pot.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            current = [ast.literal_eval(line[6:])]
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
        else:
            if current is not None:
                msgids.add("".join(current))
            current = None
    if current is not None:
        msgids.add("".join(current))
    return msgids


@cache
def odoo_addons_dirs() -> tuple[Path, ...]:
    """The directories of Odoo's own addons, from the Odoo 19 the test runner finds; () without one."""
    found = run_tiers.find_odoo()
    if not found:
        return ()
    probe = subprocess.run(
        [run_tiers.odoo_python(found[0]), "-c", "import odoo; print(odoo.__path__[0])"],
        env=run_tiers.odoo_env(found[0]),
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode:
        return ()
    package = Path(probe.stdout.strip())
    return tuple(d for d in (package / "addons", package.parent / "addons") if d.is_dir())


def dependency_closure(addon: Path) -> set[str]:
    """The addon and every addon it depends on, directly or not."""
    search = [ROOT / "odoo_addons", *odoo_addons_dirs()]
    closure, todo = set(), [addon.name]
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        path = next((d / name for d in search if (d / name / "__manifest__.py").is_file()), None)
        if path is None:
            raise AssertionError(f"{addon.name} depends on {name}, which is not found in {search}")
        todo.extend(manifest(path).get("depends", ["base"] if name != "base" else []))
    return closure


# --------------------------------------------------------------------------- readme, icon


@addon_params
def test_readme_fragments_are_written(addon):
    for name in FRAGMENTS:
        path = addon / "readme" / f"{name}.md"
        assert path.is_file(), f"{addon.name}: readme/{name}.md is missing"
        assert path.read_text(encoding="utf-8").strip(), f"{addon.name}: readme/{name}.md is empty"


@addon_params
def test_icon_is_a_real_png(addon):
    data = (addon / "static" / "description" / "icon.png").read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{addon.name}: icon.png is not a PNG"
    assert data[12:16] == b"IHDR" and data.endswith(b"IEND\xaeB`\x82"), f"{addon.name}: icon.png is truncated"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 64 and height >= 64, (
        f"{addon.name}: icon.png is {width}x{height}, too small for the Apps menu"
    )


@addon_params
def test_generated_readme_is_up_to_date(addon):
    generated = gen_addon_readme.generated_files(addon)
    assert generated, f"{addon.name}: no readme/DESCRIPTION.md to generate README.rst from"
    for path, content in generated.items():
        assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `make readme`"
        assert path.read_text(encoding="utf-8") == content, (
            f"{path.relative_to(ROOT)} does not match the readme fragments and manifest: run `make readme`"
        )
    readme = generated[addon / "README.rst"]
    assert manifest(addon)["name"] in readme
    for title in ("Configuration", "Usage", "Contributors"):
        assert f"\n{title}\n" in readme, f"{addon.name}: README.rst has no {title} section"


# --------------------------------------------------------------------------- translations, security


@addon_params
def test_translation_template_holds_the_addon_strings(addon):
    pot = addon / "i18n" / f"{addon.name}.pot"
    assert pot.is_file(), f"{addon.name}: i18n/{addon.name}.pot is missing: run `make pot`"
    text = pot.read_text(encoding="utf-8")
    assert f"* {addon.name}\n" in text, f"{pot.name} is not the template of {addon.name}"
    assert f"#. module: {addon.name}\n" in text, f"{pot.name} has no string of {addon.name}"
    missing = sorted(translatable_strings(addon) - pot_msgids(pot))
    assert not missing, f"{pot.name} is out of date (run `make pot`); it lacks: {missing[:10]}"


@addon_params
def test_every_model_has_an_access_rule(addon):
    if not declared_models(addon) and not (addon / "security").exists():
        return  # an addon of abstract models and tools only
    with (addon / "security" / "ir.model.access.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    covered = {row["model_id:id"].rsplit(".", 1)[-1] for row in rows}
    missing = sorted(
        name for name in declared_models(addon) if f"model_{name.replace('.', '_')}" not in covered
    )
    assert not missing, f"{addon.name}: no line in security/ir.model.access.csv for {missing}"


# --------------------------------------------------------------------------- manifest


@addon_params
def test_manifest_files_exist(addon):
    data = manifest(addon)
    for key in ("data", "demo"):
        for name in data.get(key, []):
            assert (addon / name).is_file(), f"{addon.name}: {key} file {name} does not exist"
    for bundle, globs in data.get("assets", {}).items():
        for pattern in globs:
            path = pattern[1] if isinstance(pattern, tuple) else pattern
            module, _sep, rest = path.partition("/")
            if module == addon.name:
                assert list(addon.glob(rest)), f"{addon.name}: asset {path} of {bundle} matches no file"


@addon_params
def test_manifest_keys(addon):
    data = manifest(addon)
    assert data.get("license") == "LGPL-3"
    assert "Pipeline Discipline" in data.get("author", "")
    assert re.fullmatch(r"19\.0\.\d+\.\d+\.\d+", data.get("version", "")), data.get("version")
    assert data.get("website", "").startswith("https://")
    assert data.get("summary"), f"{addon.name}: the manifest has no summary"
    assert data.get("installable", True) is True
    assert "description" not in data, "OCA: the description is readme/DESCRIPTION.md, not a manifest key"


@addon_params
def test_xml_ids_come_from_dependencies(addon):
    if not odoo_addons_dirs():
        pytest.skip("no Odoo 19 found (odoo on PATH or ODOO_BIN): its addons' dependencies are unknown")
    closure = dependency_closure(addon)
    foreign = []
    for path in sorted(addon.rglob("*.xml")):
        text = path.read_text(encoding="utf-8")
        for regex in XMLID_RES:
            for match in regex.finditer(text):
                for xmlid in re.split(r"[\s,]+", match.group("ids")):
                    module = xmlid.lstrip("!").partition(".")[0] if "." in xmlid else addon.name
                    if module not in closure:
                        foreign.append(f"{path.relative_to(addon)}: {xmlid}")
    assert not foreign, f"{addon.name} uses XML ids of addons it does not depend on: {foreign}"


# --------------------------------------------------------------------------- wheels


def test_wheels_of_an_addon_and_of_the_plain_packages(tmp_path):
    if not importlib.util.find_spec("whool") or not importlib.util.find_spec("build"):
        pytest.skip("whool and build are not installed: `make venv` installs the dev extra that has them")
    addon = ROOT / "odoo_addons" / "crm_sla_rules"
    wheel = build_wheels.build_wheel(sys.executable, addon, tmp_path)
    assert wheel.name == f"odoo_addon_crm_sla_rules-{manifest(addon)['version']}-py3-none-any.whl"
    meta = build_wheels.wheel_metadata(wheel)
    assert meta["Name"] == "odoo-addon-crm_sla_rules"
    assert meta["Version"] == manifest(addon)["version"]
    assert meta["License"] == "LGPL-3"
    requires = set(meta.get_all("Requires-Dist"))
    # Odoo itself for crm and resource, the sibling addon as a distribution, the plain packages
    assert {"odoo==19.0.*", "odoo-addon-crm_stage_history==19.0.*"} <= requires
    assert any(r.startswith("pipeline-discipline>=19.0") for r in requires), requires
    assert any(r.startswith("pandas") for r in requires), requires
    assert "CRM SLA Rules\n=============" in meta.get_payload()  # the long description is the README
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    inside = f"odoo/addons/{addon.name}/"
    wanted = ["__manifest__.py", "README.rst", "static/description/icon.png", *manifest(addon)["data"]]
    absent = [name for name in wanted if inside + name not in names]
    assert not absent, f"not in the wheel (a file whool leaves out is not in git): {absent}"
    assert inside + "pyproject.toml" not in names

    plain = build_wheels.build_wheel(sys.executable, ROOT, tmp_path / "plain")
    assert plain.name == "pipeline_discipline-19.0.1.6.0-py3-none-any.whl"
    meta = build_wheels.wheel_metadata(plain)
    assert meta["Name"] == "pipeline-discipline"
    assert any(r.startswith("pandas") for r in meta.get_all("Requires-Dist"))
    with zipfile.ZipFile(plain) as archive:
        names = set(archive.namelist())
    for package in run_tiers.PLAIN_PACKAGES:
        assert f"{package}/__init__.py" in names
    assert not any(name.startswith(("odoo_addons/", "tests/")) for name in names)
