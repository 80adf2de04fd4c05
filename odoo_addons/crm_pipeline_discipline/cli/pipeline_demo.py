import argparse
import sys
import time
from contextlib import closing

import psycopg2
from odoo import SUPERUSER_ID, api
from odoo.cli import Command
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.sql_db import db_connect
from odoo.tools import config


class PipelineDemo(Command):
    """Generate the Pipeline Discipline demo pipeline in a database where crm_pipeline_discipline is
    installed: sales teams, reps, a qualification survey, months of stage history, activities, customer
    events, campaigns with costs, stage targets and SLA rules. The same seed gives the same pipeline."""

    name = "pipeline_demo"
    epilog = """
        Any other option is Odoo's own (-c, -d, --db_host, --db_user, ...). Example:

            odoo --addons-path=<paths> pipeline_demo -d pipeline --leads 2000 --seed 42 --months 6

        Exit codes: 0 done (or nothing to do with --if-empty), 2 refused (no such database, bad sizes,
        demo already generated, module not installed).
    """

    def run(self, cmdargs):
        parser = argparse.ArgumentParser(
            prog=self.prog,
            description=self.__doc__,
            epilog=self.epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
        )
        parser.add_argument("--leads", type=int, default=2000, help="number of leads, 100 to 200000")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument("--months", type=int, default=6, help="months of history, 1 to 36 (default 6)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing (exit 0) where a demo pipeline is already there, as on a container's restart",
        )
        options, odoo_args = parser.parse_known_args(cmdargs)
        config.parse_config([*odoo_args, "--no-http"], setup_logging=True)
        dbnames = config["db_name"]
        if len(dbnames) != 1:
            parser.error("give one database with -d")
        if self._missing(dbnames[0]):
            self._refuse(f"database “{dbnames[0]}” does not exist.")
        try:
            registry = Registry(dbnames[0])
        except psycopg2.OperationalError as error:
            self._refuse(f"cannot open database “{dbnames[0]}”: {str(error).strip().splitlines()[0]}")
        if "crm.pipeline.demo" not in registry:
            self._refuse(
                f"the module crm_pipeline_discipline is not installed in “{dbnames[0]}”: install it first "
                f"(odoo -d {dbnames[0]} -i crm_pipeline_discipline --stop-after-init)."
            )
        started = time.monotonic()
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                if options.if_empty and env["crm.pipeline.demo"]._generated():
                    sys.stdout.write(f"A demo pipeline is already in {dbnames[0]}: nothing to do.\n")
                    return
                summary = env["crm.pipeline.demo"]._generate(
                    leads=options.leads, seed=options.seed, months=options.months
                )
        except UserError as error:  # the cursor rolled back: nothing was written
            self._refuse(str(error))
        sys.stdout.write(
            f"Demo pipeline generated in {dbnames[0]}: {summary['leads']} leads, {summary['stays']} stage "
            f"stays, {summary['activities']} activities, {summary['customer_events']} customer events, "
            f"{len(summary['sla_rules'])} SLA rules, {len(summary['campaigns'])} campaigns, "
            f"{summary['marketing_leads']} leads of Marketing, {summary['handoffs']} handoffs, "
            f"{summary['phase_stays']} lifecycle phase stays; "
            f"{summary['seconds']:.1f} s to generate, {time.monotonic() - started:.1f} s with the commit. "
            "Log in as pd_manager, pd_marketer or pd_rep_1 ... pd_rep_6 (password = login).\n"
        )

    @staticmethod
    def _missing(dbname):
        """Whether the PostgreSQL server says it has no database ``dbname``; ``False`` when it cannot tell
        (no access to its list), then opening the database says what is wrong. Asked of the server's
        maintenance database, so that no failed connection is logged."""
        try:
            with closing(db_connect("postgres").cursor()) as cr:
                cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
                return not cr.fetchone()
        except psycopg2.Error:
            return False

    @staticmethod
    def _refuse(message):
        sys.stderr.write(f"pipeline_demo: {message}\n")
        sys.exit(2)
