from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import NOW, TODAY, FollowupCase

SUBJECT = "Your weekly follow-up review: {} without next step, {} overdue, {} stale"
DIGEST_LOGGER = "odoo.addons.crm_activity_centric.models.crm_followup_digest"


@tagged("post_install", "-at_install")
class TestFollowupDigest(FollowupCase):
    """The weekly review mail: who gets it, what it lists, and that a weekly run serves each user once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Digest = cls.env["crm.followup.digest"]
        cls.ICP = cls.env["ir.config_parameter"]
        cls.ICP.set_param("crm_activity_centric.digest_overdue_days", 3)
        cls.ICP.set_param("crm_activity_centric.digest_stale_days", 30)

    def setUp(self):
        super().setUp()
        self.startPatcher(freeze_time(NOW))

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def _run_cron(self, time_left=float("inf"), **kwargs):
        """Run the weekly cron; ``_commit_progress`` commits, which a test must not do."""
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", return_value=time_left) as progress:
            self.Digest._cron_send_followup_digest(**kwargs)
        return progress

    def _mails(self, user):
        # not the other mails of the test (activity assignments, invitations)
        return self.env["mail.mail"].search(
            [
                ("recipient_ids", "in", user.partner_id.ids),
                ("subject", "=like", "Your weekly follow-up review:%"),
            ]
        )

    def _mail(self, user):
        mail = self._mails(user)
        self.assertEqual(len(mail), 1, f"{user.name} should get exactly one weekly review")
        return mail

    def _age(self, leads, days, stage_days=None):
        """Pretend ``leads`` were last edited ``days`` ago and last moved ``stage_days`` ago."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET write_date = %s, date_last_stage_update = %s WHERE id = ANY(%s)",
            [
                NOW - timedelta(days=days),
                NOW - timedelta(days=days if stage_days is None else stage_days),
                leads.ids,
            ],
        )
        leads.invalidate_recordset(["write_date", "date_last_stage_update"])

    # ------------------------------------------------------------------
    # recipients and scope
    # ------------------------------------------------------------------

    def test_salesperson_gets_own_leads_only(self):
        self._lead(name="Sally without next step", user=self.salesman, team=self.team_warn)
        self._lead(name="Sam without next step", user=self.salesman_2, team=self.team_warn)

        self._run_cron()

        sally = self._mail(self.salesman)
        self.assertEqual(sally.subject, SUBJECT.format(1, 0, 0))
        self.assertIn("Sally without next step", sally.body_html)
        self.assertNotIn("Sam without next step", sally.body_html)
        sam = self._mail(self.salesman_2)
        self.assertIn("Sam without next step", sam.body_html)
        self.assertNotIn("Sally without next step", sam.body_html)
        # the manager leads only the enforce team: nothing of the warn team is hers to review
        self.assertFalse(self._mails(self.sales_manager))

    def test_leader_digest_covers_team_members_leads(self):
        sally = self._lead(name="Sally enforce lead", user=self.salesman, team=self.team_enforce)
        self._lead(name="Sam enforce lead", user=self.salesman_2, team=self.team_enforce)
        self._lead(name="Sam warn lead", user=self.salesman_2, team=self.team_warn)

        self._run_cron()

        body = self._mail(self.sales_manager).body_html
        self.assertIn("Sally enforce lead", body)
        self.assertIn("Sam enforce lead", body)
        self.assertNotIn("Sam warn lead", body, "the manager does not lead the warn team")
        self.assertIn("Sally Salesman", body, "a leader's digest names the salesperson of each record")
        self.assertIn(f"/odoo/crm/{sally.id}", body, "each record links to its form")
        self.assertNotIn("Sam enforce lead", self._mail(self.salesman).body_html)

    def test_leader_digest_respects_leader_rights(self):
        """A leader who may only see their own leads does not get their members' leads listed."""
        self.team_warn.user_id = self.salesman_2  # salesman_2 only has "own documents" rights
        self._lead(name="Sally warn lead", user=self.salesman, team=self.team_warn)
        self._lead(name="Sam warn lead", user=self.salesman_2, team=self.team_warn)

        self._run_cron()

        body = self._mail(self.salesman_2).body_html
        self.assertIn("Sam warn lead", body)
        self.assertNotIn("Sally warn lead", body)

    def test_off_team_sends_nothing(self):
        self._lead(name="Sally off lead", user=self.salesman, team=self.team_off)
        self._lead(name="Sam off lead", user=self.salesman_2, team=self.team_off)
        off_only = new_test_user(
            self.env, login="ac_off_only", name="Otto Off", groups="sales_team.group_sale_salesman"
        )
        self.env["crm.team.member"].create({"crm_team_id": self.team_off.id, "user_id": off_only.id})
        self._lead(name="Otto off lead", user=off_only, team=self.team_off)
        self.team_off.user_id = off_only

        self._run_cron()

        for user in (self.salesman, self.salesman_2, self.sales_manager, off_only):
            self.assertFalse(self._mails(user), f"{user.name}: leads of an 'off' team are not reviewed")
        self.assertFalse(off_only.followup_digest_sent_on, "members of 'off' teams only are not recipients")

    def test_nothing_sent_when_empty(self):
        lead = self._lead(name="Planned lead", user=self.salesman, team=self.team_enforce)
        self._activity(lead, deadline=TODAY - timedelta(days=2), summary="Slightly late call")

        self._run_cron()

        for user in (self.salesman, self.salesman_2, self.sales_manager):
            self.assertFalse(self._mails(user))
            self.assertEqual(user.followup_digest_sent_on, TODAY, "an empty review still counts as served")

    # ------------------------------------------------------------------
    # sections
    # ------------------------------------------------------------------

    def test_sections(self):
        late = self._lead(name="Late lead", user=self.salesman)
        self._activity(late, deadline=TODAY - timedelta(days=4), summary="Four days late call")
        on_time = self._lead(name="Barely late lead", user=self.salesman)
        self._activity(on_time, deadline=TODAY - timedelta(days=3), summary="Three days late call")
        won = self._lead(name="Won lead", user=self.salesman, stage=self.stage_won)
        self._activity(won, deadline=TODAY - timedelta(days=10), summary="Call on a won deal")
        stale = self._lead(name="Stale opportunity", user=self.salesman)
        self._activity(stale, deadline=TODAY + timedelta(days=5))
        moved = self._lead(name="Recently moved opportunity", user=self.salesman)
        self._activity(moved, deadline=TODAY + timedelta(days=5))
        stale_lead = self._lead(name="Stale plain lead", user=self.salesman, type="lead")
        self._activity(stale_lead, deadline=TODAY + timedelta(days=5))
        stale_won = self._lead(name="Stale won opportunity", user=self.salesman, stage=self.stage_won)
        lost = self._lead(name="Lost opportunity", user=self.salesman)
        lost.action_set_lost()
        self._age(stale | stale_lead | stale_won | lost, days=31)
        self._age(moved, days=31, stage_days=2)

        self._run_cron()

        mail = self._mail(self.salesman)
        self.assertEqual(mail.subject, SUBJECT.format(0, 1, 1))
        body = mail.body_html
        self.assertIn("Four days late call", body)
        self.assertIn(f"/odoo/crm/{late.id}", body)
        for absent in (
            "Three days late call",
            "Call on a won deal",
            "Recently moved opportunity",
            "Stale plain lead",
            "Stale won opportunity",
            "Lost opportunity",
        ):
            self.assertNotIn(absent, body)
        self.assertIn("Stale opportunity", body)
        self.assertIn("31 days ago", body)

    def test_parameters(self):
        late = self._lead(name="Late lead", user=self.salesman)
        self._activity(late, deadline=TODAY - timedelta(days=4), summary="Four days late call")
        old = self._lead(name="Quiet opportunity", user=self.salesman)
        self._activity(old, deadline=TODAY + timedelta(days=1))
        self._age(old, days=10)
        self.ICP.set_param("crm_activity_centric.digest_overdue_days", 5)
        self.ICP.set_param("crm_activity_centric.digest_stale_days", 7)

        self._run_cron()

        mail = self._mail(self.salesman)
        self.assertEqual(mail.subject, SUBJECT.format(0, 0, 1))
        self.assertNotIn("Four days late call", mail.body_html)
        self.assertIn("Quiet opportunity", mail.body_html)
        self.assertIn("Not updated for 7 days", mail.body_html)

    def test_sections_are_capped(self):
        self.env["crm.lead"].create(
            [
                {
                    "name": f"Capped lead {index:02d}",
                    "type": "opportunity",
                    "team_id": self.team_warn.id,
                    "user_id": self.salesman.id,
                    "stage_id": self.stage_new.id,
                }
                for index in range(55)
            ]
        )

        self._run_cron()

        mail = self._mail(self.salesman)
        self.assertEqual(mail.subject, SUBJECT.format(55, 0, 0))
        self.assertEqual(mail.body_html.count("Capped lead"), 50)
        self.assertIn("and 5 more", mail.body_html)

    # ------------------------------------------------------------------
    # the weekly run
    # ------------------------------------------------------------------

    def test_rerun_same_week_sends_nothing_more(self):
        self._lead(name="Sally lead", user=self.salesman)

        self._run_cron()
        self.assertEqual(len(self._mails(self.salesman)), 1)
        self.assertEqual(self.salesman.followup_digest_sent_on, TODAY)

        with freeze_time(NOW + timedelta(days=2)):  # Friday, same ISO week
            self._run_cron()
        self.assertEqual(len(self._mails(self.salesman)), 1, "one review per user and week")

        with freeze_time(NOW + timedelta(days=5)):  # next Monday
            self._run_cron()
        self.assertEqual(len(self._mails(self.salesman)), 2)
        self.assertEqual(self.salesman.followup_digest_sent_on, TODAY + timedelta(days=5))

    def test_failing_recipient_does_not_stop_the_others(self):
        self._lead(name="Sally lead", user=self.salesman)
        self._lead(name="Sam lead", user=self.salesman_2)
        render = type(self.Digest)._followup_digest_render

        def failing_render(digest, values):
            if values["user_name"] == self.salesman.name:
                raise ValueError("boom")
            return render(digest, values)

        with (
            patch.object(type(self.Digest), "_followup_digest_render", failing_render),
            self.assertLogs(DIGEST_LOGGER, level="WARNING") as logs,
        ):
            self._run_cron(batch_size=1)

        self.assertIn("ac_salesman", logs.output[0])
        self.assertFalse(self._mails(self.salesman))
        self.assertFalse(self.salesman.followup_digest_sent_on, "the failed user is retried by the next run")
        self.assertTrue(self._mails(self.salesman_2))
        self.assertTrue(self._mails(self.sales_manager))

        self._run_cron()
        self.assertIn("Sally lead", self._mail(self.salesman).body_html)
        self.assertEqual(len(self._mails(self.salesman_2)), 1)

    def test_cron_stops_when_time_runs_low(self):
        self._lead(name="Sally lead", user=self.salesman)
        self._lead(name="Sam lead", user=self.salesman_2)

        progress = self._run_cron(time_left=1, batch_size=1)

        progress.assert_called_once_with(1, remaining=2)
        served = [
            user
            for user in (self.salesman, self.salesman_2, self.sales_manager)
            if user.followup_digest_sent_on
        ]
        self.assertEqual(len(served), 1)

        self._run_cron(batch_size=1)
        self.assertTrue(
            all((self.salesman | self.salesman_2 | self.sales_manager).mapped("followup_digest_sent_on"))
        )
        self.assertEqual(len(self._mails(self.salesman)), 1)

    # ------------------------------------------------------------------
    # send now
    # ------------------------------------------------------------------

    def test_send_now_refused_for_salesperson(self):
        self._lead(name="Sally lead", user=self.salesman)
        with self.assertRaises(AccessError):
            self.Digest.with_user(self.salesman).action_send_now()
        self.assertFalse(self._mails(self.salesman))

    def test_send_now_by_manager_ignores_marker(self):
        self._lead(name="Sally lead", user=self.salesman)
        self._lead(name="Sam lead", user=self.salesman_2)
        self._run_cron()

        action = self.Digest.with_user(self.sales_manager).action_send_now()

        self.assertEqual(action["tag"], "display_notification")
        self.assertIn("3 reviews sent", action["params"]["message"])
        self.assertEqual(len(self._mails(self.salesman)), 2)
        self.assertEqual(len(self._mails(self.salesman_2)), 2)
        self.assertEqual(len(self._mails(self.sales_manager)), 2)
        self.assertEqual(self.salesman.followup_digest_sent_on, TODAY)

    def test_send_now_from_settings(self):
        self._lead(name="Sally lead", user=self.salesman)
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.crm_followup_digest_overdue_days, 3)
        self.assertEqual(settings.crm_followup_digest_stale_days, 30)

        action = settings.action_crm_followup_digest_send_now()

        self.assertIn("2 reviews sent", action["params"]["message"])
        self.assertIn("Sally lead", self._mail(self.salesman).body_html)
        with self.assertRaises(AccessError):
            settings.with_user(self.salesman).action_crm_followup_digest_send_now()

    def test_settings_store_parameters(self):
        self.env["res.config.settings"].create(
            {"crm_followup_digest_overdue_days": 7, "crm_followup_digest_stale_days": 60}
        ).execute()
        self.assertEqual(self.Digest._followup_digest_params(), (7, 60))
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"crm_followup_digest_overdue_days": -1})
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("action_crm_followup_digest_send_now", arch)
