#!/usr/bin/env python3
"""Generate each addon's ``README.rst`` and ``static/description/index.html`` from its fragments.

The OCA layout: an addon documents itself in ``readme/`` fragments (``DESCRIPTION.md``,
``CONFIGURE.md``, ``USAGE.md``, ``CONTRIBUTORS.md``, …) and a generated ``README.rst`` puts them
together under the manifest's name, with badges, a table of contents and the credits — the layout
of OCA's ``oca-gen-addon-readme``, which is not published on PyPI. The Markdown fragments are
converted by pandoc (the ``pypandoc-binary`` wheel) with the same Markdown dialect OCA uses, and
the result is rendered once more by docutils into the ``index.html`` that Odoo's Apps page shows,
which also proves the reStructuredText valid.

Usage: ``python tests/gen_addon_readme.py`` (``make readme``) rewrites the files that changed;
``--check`` only lists them and exits 1 if any is out of date. An addon without
``readme/DESCRIPTION.md`` is skipped with a note.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDONS_DIR = ROOT / "odoo_addons"

# GitHub-flavoured Markdown without raw HTML and without generated heading anchors, as OCA does
MARKDOWN = "gfm-raw_html-gfm_auto_identifiers"

# (fragment, section title) in the order of the README; DESCRIPTION opens it without a title
SECTIONS = (
    ("CONTEXT", "Use Cases / Context"),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("DEVELOP", "Development"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
)
CREDITS = (("CONTRIBUTORS", "Contributors"), ("CREDITS", "Other credits"))

MATURITY_BADGES = {
    "alpha": ("Alpha", "red"),
    "beta": ("Beta", "yellow"),
    "production/stable": ("Production%2FStable", "green"),
    "mature": ("Mature", "brightgreen"),
}
LICENSE_URLS = {
    "LGPL-3": "https://www.gnu.org/licenses/lgpl-3.0-standalone.html",
    "AGPL-3": "https://www.gnu.org/licenses/agpl-3.0-standalone.html",
    "GPL-3": "https://www.gnu.org/licenses/gpl-3.0-standalone.html",
}

# docutils settings for index.html: no file inclusion nor raw HTML, stop at the first warning
DOCUTILS_SETTINGS = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "halt_level": 2,
    "report_level": 2,
    "smart_quotes": True,
    "syntax_highlight": "short",
}

IMAGE_RE = re.compile(r"^(?P<head>\s*\.\. (?:\|[^|]+\| )?(?:image|figure)::\s+)(?:\.\./)+")


def read_manifest(addon_dir: Path) -> dict:
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text(encoding="utf-8"))


def fragment_path(addon_dir: Path, name: str) -> Path:
    return addon_dir / "readme" / f"{name}.md"


def markdown_to_rst(text: str, shift: int = 0) -> str:
    """reStructuredText of a Markdown fragment; ``shift`` lowers its headings by that many levels."""
    import pypandoc

    args = [f"--shift-heading-level-by={shift}"] if shift else []
    rst = pypandoc.convert_text(text, "rst", format=MARKDOWN, extra_args=args, sandbox=True)
    # images are written relative to readme/ (so the fragment previews on GitHub); the README
    # sits one level up, in the addon's folder
    lines = [IMAGE_RE.sub(r"\g<head>", line) for line in rst.splitlines()]
    return "\n".join(lines).strip() + "\n"


def fragment(addon_dir: Path, name: str, shift: int = 0) -> str | None:
    path = fragment_path(addon_dir, name)
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    return markdown_to_rst(text, shift) if text.strip() else None


def heading(title: str, underline: str, overline: bool = False) -> str:
    rule = underline * len(title)
    return f"{rule}\n{title}\n{rule}\n" if overline else f"{title}\n{rule}\n"


def badges(manifest: dict) -> list[tuple[str, str, str]]:
    """(image, target, alt) of the README's badges: maturity, license, source repository."""
    result = []
    status = manifest.get("development_status", "Beta").lower()
    if status in MATURITY_BADGES:
        label, colour = MATURITY_BADGES[status]
        result.append(
            (
                f"https://img.shields.io/badge/maturity-{label}-{colour}.png",
                "https://odoo-community.org/page/development-status",
                label.replace("%2F", "/"),
            )
        )
    licence = manifest.get("license", "")
    if licence in LICENSE_URLS:
        shield = licence.replace("-", "--")
        result.append(
            (
                f"https://img.shields.io/badge/license-{shield}-blue.png",
                LICENSE_URLS[licence],
                f"License: {licence}",
            )
        )
    website = manifest.get("website", "")
    github = re.match(r"https://github\.com/([^/]+)/([^/]+)/?$", website)
    if github:
        org, repo = (part.replace("-", "--") for part in github.groups())
        result.append(
            (
                f"https://img.shields.io/badge/github-{org}%2F{repo}-lightgray.png?logo=github",
                website,
                "/".join(github.groups()),
            )
        )
    return result


def render_readme(addon_dir: Path) -> str:
    """The README.rst of an addon, from its manifest and its ``readme/`` fragments."""
    manifest = read_manifest(addon_dir)
    name = manifest["name"]
    parts = [
        heading(name, "=", overline=True),
        "..\n"
        "   !! This file is generated by tests/gen_addon_readme.py (make readme) from the\n"
        "   !! manifest and the readme/ fragments: edit those, not this file.\n",
    ]
    shields = badges(manifest)
    if shields:
        parts.append(
            "\n".join(
                f".. |badge{n}| image:: {image}\n    :target: {target}\n    :alt: {alt}"
                for n, (image, target, alt) in enumerate(shields, 1)
            )
            + "\n"
        )
        parts.append(" ".join(f"|badge{n}|" for n in range(1, len(shields) + 1)) + "\n")
    if manifest.get("summary"):
        parts.append(markdown_to_rst(f"*{manifest['summary']}*"))
    parts.append(fragment(addon_dir, "DESCRIPTION") or "")
    parts.append("**Table of contents**\n\n.. contents::\n   :local:\n")
    for key, title in SECTIONS:
        body = fragment(addon_dir, key)
        if body:
            parts.append(heading(title, "=") + "\n" + body)
    website = manifest.get("website", "")
    if website.startswith("https://github.com/"):
        parts.append(
            heading("Bug Tracker", "=")
            + f"\nBugs are tracked on `GitHub Issues <{website.rstrip('/')}/issues>`_. In case of\n"
            "trouble, please check there if your issue has already been reported.\n"
        )
    credit_parts = [heading("Credits", "=")]
    authors = [author.strip() for author in manifest.get("author", "").split(",") if author.strip()]
    if authors:
        credit_parts.append(heading("Authors", "-") + "\n" + "".join(f"* {a}\n" for a in authors))
    for key, title in CREDITS:
        body = fragment(addon_dir, key, shift=1)
        if body:
            credit_parts.append(heading(title, "-") + "\n" + body)
    if website:
        project = website.removeprefix("https://github.com/").rstrip("/")
        credit_parts.append(
            heading("Maintainers", "-") + f"\nThis module is part of the `{project} <{website}>`_ project.\n"
        )
    parts.extend(credit_parts)
    return "\n".join(part for part in parts if part)


def render_index(addon_name: str, readme: str) -> str:
    """Odoo's Apps page of the addon: the README as HTML, images served from the addon's static files.

    Raises docutils' SystemMessage on any reStructuredText warning."""
    from docutils.core import publish_string

    html = publish_string(
        readme, writer="html4css1", settings_overrides={**DOCUTILS_SETTINGS, "output_encoding": "unicode"}
    )
    # no docutils version in the page, so that it changes only when the README does
    html = re.sub(r'(<meta name="generator" content="Docutils)[^"]*"', r'\1"', html)
    return html.replace('src="static/', f'src="/{addon_name}/static/')


def addon_dirs() -> list[Path]:
    return sorted(path.parent for path in ADDONS_DIR.glob("*/__manifest__.py"))


def generated_files(addon_dir: Path) -> dict[Path, str]:
    """{path: content} of the files generated for an addon; empty without a DESCRIPTION fragment."""
    if not fragment_path(addon_dir, "DESCRIPTION").is_file():
        return {}
    readme = render_readme(addon_dir)
    return {
        addon_dir / "README.rst": readme,
        addon_dir / "static" / "description" / "index.html": render_index(addon_dir.name, readme),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="list out-of-date files and exit 1, write nothing"
    )
    parser.add_argument("addons", nargs="*", help="addon names (default: every addon of odoo_addons/)")
    args = parser.parse_args(argv)
    dirs = [ADDONS_DIR / name for name in args.addons] if args.addons else addon_dirs()
    stale = []
    for addon_dir in dirs:
        files = generated_files(addon_dir)
        if not files:
            print(f"{addon_dir.name}: no readme/DESCRIPTION.md, README not generated")
        for path, content in files.items():
            if path.is_file() and path.read_text(encoding="utf-8") == content:
                continue
            stale.append(path)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
            print(f"{'out of date' if args.check else 'written'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
