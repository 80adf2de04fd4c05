"""Odoo's command line, with every selected test run once the whole registry is loaded.

``make odoo-suites`` runs this file with Odoo's Python instead of the ``odoo`` script, with the same
arguments (``--test-enable --test-tags=...`` on a database where everything is installed already).

Odoo runs a module's ``at_install`` tests while it loads the registry module by module: on a database
that is already installed, the tests of ``sales_team`` then run before ``crm`` (and our addons) are
loaded, over a schema where crm's columns exist (``crm_team.alias_id`` NOT NULL), and fail in Odoo alone
too; and the tests of ``crm`` never see the modules that extend it. Here nothing runs during the
loading, and the post-install phase runs the selected ``at_install`` and ``post_install`` tests with
every installed module loaded: the statement is "Odoo's tests pass with our code loaded".
"""

import os
import sys
from pathlib import Path

# tests/ holds test folders named like the plain packages (activity_centric, ...): never import from it
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
os.chdir("/")

from odoo import cli  # noqa: E402 - after the path fix
from odoo.tests import loader  # noqa: E402
from odoo.tests.suite import OdooSuite  # noqa: E402

_make_suite = loader.make_suite


def make_suite(module_names, position="at_install"):
    if position == "at_install":
        return OdooSuite([])
    tests = [*_make_suite(module_names, "at_install"), *_make_suite(module_names, "post_install")]
    return OdooSuite(sorted(tests, key=lambda test: getattr(test, "test_sequence", 0)))


if __name__ == "__main__":
    loader.make_suite = make_suite
    cli.main()
