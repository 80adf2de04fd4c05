import logging
import threading
from datetime import timedelta
from unittest.mock import patch

import psycopg2.errors
from odoo import fields
from odoo.addons.crm_pipeline_base.tests.common import CommittingCase, Killed
from odoo.addons.crm_pipeline_base.tools import concurrency
from odoo.tests import new_test_user, tagged

from ..models import crm_followup_digest

DIGEST_LOGGER = "odoo.addons.crm_activity_centric.models.crm_followup_digest"
SUBJECT = "Your weekly follow-up review:%"


@tagged("post_install", "-at_install")
class TestDigestFaults(CommittingCase):
    """The weekly review under faults, with real commits on real separate connections, as in production:
    a setup connection commits a team with a follow-up policy, its leader and five salespeople, each with a
    lead without next step (so each gets a review); each run gets its own connection; everything is deleted
    afterwards (this test's own transaction stays empty). The runs only serve these six users: the database
    may hold other teams with a policy."""

    def setUp(self):
        super().setUp()
        setup = self.connection_env()
        Users = setup["res.users"].with_context(no_reset_password=True)
        self.users = new_test_user(
            Users.env,
            login="digest_fault_leader",
            name="Digest Leader",
            groups="sales_team.group_sale_manager",
        )
        for index in range(5):
            self.users |= new_test_user(
                Users.env,
                login=f"digest_fault_{index}",
                name=f"Digest Rep {index}",
                groups="sales_team.group_sale_salesman",
            )
        self.team = setup["crm.team"].create(
            {"name": "Digest Faults", "followup_policy": "warn", "user_id": self.users[0].id}
        )
        setup["crm.team.member"].create(
            [{"crm_team_id": self.team.id, "user_id": user.id} for user in self.users[1:]]
        )
        self.leads = setup["crm.lead"].create(
            [
                {
                    "name": f"Review of {user.name}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "user_id": user.id,
                }
                for user in self.users[1:]
            ]
        )
        setup.cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_trigger")
        self.last_trigger_id = setup.cr.fetchone()[0]
        setup.cr.commit()
        self.addCleanup(self._delete)

        Digest = type(self.env["crm.followup.digest"])
        recipient_domain = Digest._followup_digest_recipient_domain
        ids = self.users.ids

        def our_recipients(digest):
            return recipient_domain(digest) + [("id", "in", ids)]

        self.startPatcher(patch.object(Digest, "_followup_digest_recipient_domain", our_recipients))

    def _delete(self):
        env = self.connection_env()
        env["mail.mail"].search([("recipient_ids", "in", self.users.partner_id.ids)]).unlink()
        env.cr.execute("DELETE FROM ir_cron_trigger WHERE id > %s", [self.last_trigger_id])
        env["crm.lead"].with_context(active_test=False).browse(self.leads.ids).unlink()
        env["crm.team"].browse(self.team.ids).unlink()
        users = env["res.users"].browse(self.users.ids)
        partners = users.partner_id
        users.unlink()
        partners.unlink()
        env.cr.commit()

    def _run(self, batch_size=2):
        """One weekly run on a connection of its own, committing batch by batch."""
        env = self.connection_env()
        env["crm.followup.digest"]._cron_send_followup_digest(batch_size=batch_size)
        env.cr.commit()

    def _reviews(self):
        """``{user: number of reviews queued for them}`` and ``{user: done-marker}``, as committed."""
        env = self.connection_env()
        users = env["res.users"].browse(self.users.ids)
        mails = env["mail.mail"].search(
            [("recipient_ids", "in", users.partner_id.ids), ("subject", "=like", SUBJECT)]
        )
        counts = {
            user.login: len(mails.filtered(lambda mail, u=user: u.partner_id in mail.recipient_ids))
            for user in users
        }
        markers = {user.login: user.followup_digest_sent_on for user in users}
        return counts, markers

    def _check_each_user_served_once(self):
        counts, markers = self._reviews()
        self.assertEqual(counts, dict.fromkeys(self.users.mapped("login"), 1), "one review per user")
        self.assertEqual(set(markers.values()), {fields.Date.today()})

    def test_killed_mid_run_then_rerun(self):
        """The worker dies in the middle of the second batch, after one review of it was queued: that
        batch is lost whole (its queued review and its markers); the rerun serves exactly the users without
        a marker, and a third run nobody."""
        Digest = type(self.env["crm.followup.digest"])
        send_one = Digest._followup_digest_send_one
        served = []

        def dying_send_one(digest, user, teams, params):
            served.append(user.login)
            if len(served) == 4:
                raise Killed()
            return send_one(digest, user, teams, params)

        env = self.connection_env()
        with patch.object(Digest, "_followup_digest_send_one", dying_send_one), self.assertRaises(Killed):
            env["crm.followup.digest"]._cron_send_followup_digest(batch_size=2)
        env.cr.rollback()  # what PostgreSQL does with the open transaction of a dead connection
        env.cr.close()

        counts, markers = self._reviews()
        first, lost = self.users[:2].mapped("login"), self.users[2:].mapped("login")
        self.assertEqual([counts[login] for login in first], [1, 1], "the committed batch stays sent")
        self.assertEqual(
            [counts[login] for login in lost], [0, 0, 0, 0], "the review queued in the dead batch is gone"
        )
        self.assertFalse(any(markers[login] for login in lost))

        self._run()
        self._check_each_user_served_once()
        self._run()
        self._check_each_user_served_once()

    def test_two_workers_at_once(self):
        """Two runs at once (a second cron record, or a manual call while the cron runs): both serve users
        at the same moment, and each user gets one review."""
        Digest = type(self.env["crm.followup.digest"])
        send_one = Digest._followup_digest_send_one
        together = threading.Barrier(2, timeout=30)
        by_worker = {}
        errors = []

        def send_one_together(digest, user, teams, params):
            worker = threading.current_thread().name
            if worker not in by_worker:
                together.wait()  # both workers are in the middle of a batch, their recipients held
            by_worker.setdefault(worker, []).append(user.login)
            return send_one(digest, user, teams, params)

        def worker(env):
            try:
                env["crm.followup.digest"]._cron_send_followup_digest(batch_size=2)
                env.cr.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)

        # environments made here: making one in a thread would wait for the registry, held by the test run
        threads = [
            threading.Thread(target=worker, args=(self.connection_env(),), name=f"digest-worker-{index}")
            for index in range(2)
        ]
        with patch.object(Digest, "_followup_digest_send_one", send_one_together):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
        self.assertFalse(any(thread.is_alive() for thread in threads))
        self.assertFalse(errors)
        self.assertEqual(len(by_worker), 2, "both workers served users")
        logins = [login for served in by_worker.values() for login in served]
        self.assertCountEqual(logins, self.users.mapped("login"), "no user served by both")
        self._check_each_user_served_once()

    def test_serialization_failure_is_retried(self):
        """Another run serves the leader and commits between this run's reading of its batch and its
        claim: this run, reading an old snapshot, still sees the leader unserved, and its claim meets a real
        serialization failure (repeatable read) on the leader's row, before building any review. The
        batch is rolled back and done again on fresh data: the leader keeps one review, the others get
        theirs, no review is built twice, and the expected failure is not logged as an error."""
        Digest = type(self.env["crm.followup.digest"])
        claim = Digest._followup_digest_claim
        send_one = Digest._followup_digest_send_one
        leader = self.users[0]
        claims, built = [], []

        def claim_after_other_run(digest, users):
            claims.append(users.mapped("login"))
            if len(claims) == 1:
                other = self.connection_env()
                other["crm.followup.digest"]._followup_digest_batch(other["res.users"].browse(leader.id))
                other.cr.commit()
            return claim(digest, users)

        def record_send_one(digest, user, teams, params):
            built.append(user.login)
            return send_one(digest, user, teams, params)

        with (
            patch.object(Digest, "_followup_digest_claim", claim_after_other_run),
            patch.object(Digest, "_followup_digest_send_one", record_send_one),
            self.assertNoLogs("odoo.sql_db", logging.ERROR),
            self.assertLogs(DIGEST_LOGGER, logging.INFO) as logs,
        ):
            self._run(batch_size=3)
        self.assertEqual(len(logs.output), 1, logs.output)
        self.assertIn("SerializationFailure, batch of 3 users rolled back; try again", logs.output[0])
        self.assertEqual(claims[0], claims[2], "the batch is claimed again after the other run's one")
        self.assertEqual(built[0], leader.login, "the other run served the leader")
        self.assertCountEqual(built, self.users.mapped("login"), "no review built twice")
        self._check_each_user_served_once()

    def test_batch_left_for_a_later_run_after_the_last_try(self):
        """A batch that keeps meeting concurrency errors is tried a bounded number of times, then left for
        a run the cron is asked to make a few minutes later (not next week); the other batches are
        served meanwhile."""
        Digest = type(self.env["crm.followup.digest"])
        claim = Digest._followup_digest_claim
        blocked = self.users[2]

        def claim_conflicting(digest, users):
            if blocked in users:
                raise psycopg2.errors.LockNotAvailable("could not obtain lock on row in relation res_users")
            return claim(digest, users)

        before = fields.Datetime.now()
        with (
            patch.object(Digest, "_followup_digest_claim", claim_conflicting),
            patch.object(concurrency, "sleep") as sleep,
            self.assertLogs(DIGEST_LOGGER, logging.INFO) as logs,
        ):
            self._run()
        self.assertEqual(sleep.call_count, 4, "five tries, with a wait between two")
        self.assertIn("WARNING", logs.output[-1])
        self.assertIn("LockNotAvailable on a batch of 2 users after 5 tries", logs.output[-1])
        counts, _markers = self._reviews()
        left = self.users[2:4].mapped("login")
        self.assertEqual([counts[login] for login in left], [0, 0])
        self.assertEqual(sum(counts.values()), 4)
        env = self.connection_env()
        cron = env.ref("crm_activity_centric.ir_cron_followup_digest")
        trigger = env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id), ("id", ">", self.last_trigger_id)]
        )
        self.assertEqual(len(trigger), 1)
        self.assertGreaterEqual(
            trigger.call_at, before + timedelta(minutes=crm_followup_digest.RETRY_LATER_MINUTES)
        )

        self._run()
        self._check_each_user_served_once()
