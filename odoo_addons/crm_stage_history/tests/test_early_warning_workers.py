import logging
import threading
from datetime import date

from odoo.addons.crm_pipeline_base.tests.common import CommittingCase
from odoo.addons.crm_pipeline_base.tools import retry_on_concurrency
from odoo.tests import tagged

# a week no real run serves: the markers of these tests are deleted afterwards
WEEK = date(2001, 1, 1)


@tagged("post_install", "-at_install")
class TestEarlyWarningWorkers(CommittingCase):
    """The weekly mail's marker with two workers, on real separate connections with real commits: of two runs
    serving the same company's week at once, one sends; a run that dies leaves the week to the next one."""

    def setUp(self):
        super().setUp()
        self.company_id = self.env.company.id
        self.addCleanup(self._delete)

    def _delete(self):
        env = self.connection_env()
        env.cr.execute("DELETE FROM crm_early_warning_mail WHERE week = %s", [WEEK])
        env.cr.commit()

    def _claim(self, env):
        Mail = env["crm.early.warning.mail"]
        return Mail._early_warning_claim(env["res.company"].browse(self.company_id), WEEK)

    def _markers(self):
        env = self.connection_env()
        env.cr.execute("SELECT count(*) FROM crm_early_warning_mail WHERE week = %s", [WEEK])
        return env.cr.fetchone()[0]

    def test_two_runs_at_once_serve_the_week_once(self):
        first, second = self.connection_env(), self.connection_env()
        self.assertTrue(self._claim(first))
        outcome = {}

        def other_worker():
            # as the cron calls it: the insert waits for the first run, fails to serialize once that
            # commits, and the retry on fresh data finds the marker
            outcome["done"], outcome["claimed"] = retry_on_concurrency(
                second,
                lambda: self._claim(second),
                logger=logging.getLogger(__name__),
                label="test",
                batch="a company",
                left_to="the next run",
            )
            second.cr.commit()

        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(timeout=1)
        self.assertTrue(worker.is_alive(), "the second run did not wait for the first")
        first.cr.commit()
        worker.join(timeout=30)
        self.assertEqual(outcome, {"done": True, "claimed": False})
        self.assertEqual(self._markers(), 1)

    def test_a_run_that_dies_leaves_the_week_to_the_next(self):
        dying, next_run = self.connection_env(), self.connection_env()
        self.assertTrue(self._claim(dying))
        dying.cr.rollback()  # killed before its commit: its mails and marker go together
        self.assertTrue(self._claim(next_run))
        next_run.cr.commit()
        self.assertEqual(self._markers(), 1)
