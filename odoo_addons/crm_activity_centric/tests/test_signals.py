from datetime import timedelta

from freezegun import freeze_time
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import NOW, TODAY, FollowupCase


@tagged("post_install", "-at_install")
class TestSignals(FollowupCase):
    """Follow-up signals per salesperson, as a manager sees them in the report."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for user in (cls.salesman, cls.salesman_2, cls.sales_manager):
            user.tz = "UTC"

    def _set_create_date(self, records, when):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET create_date = %s WHERE id IN %s",
                SQL.identifier(records._table),
                when,
                tuple(records.ids),
            )
        )
        records.invalidate_model(["create_date"])

    def _report(self, user=None, **vals):
        """The report's lines per salesperson, as ``user`` (the manager by default) opens them."""
        user = user or self.sales_manager
        report = (
            self.env["crm.activity.signal.report"]
            .with_user(user)
            .create(
                {
                    "date_from": TODAY - timedelta(days=7),
                    "date_to": TODAY,
                    "team_ids": [(6, 0, (self.team_warn | self.team_off).ids)],
                    **vals,
                }
            )
        )
        with freeze_time(NOW):
            action = report.action_show()
            self.assertEqual(action["res_model"], "crm.activity.signal.report.line")
            # what the report's list reads
            return self.env[action["res_model"]].with_user(user).with_context(**action["context"]).search([])

    def _line(self, lines, user):
        line = lines.filtered(lambda line: line.user_id == user)
        self.assertEqual(len(line), 1, f"one line for {user.name}")
        return line

    def test_quick_done_without_feedback(self):
        lead = self._lead(team=self.team_warn)
        quick, with_feedback, slow = (self._activity(lead) for _i in range(3))
        self._set_create_date(quick | with_feedback, NOW - timedelta(seconds=10))
        self._set_create_date(slow, NOW - timedelta(hours=2))
        with freeze_time(NOW):
            quick.with_user(self.salesman).action_feedback()
            with_feedback.with_user(self.salesman).action_feedback(feedback="Reached her: she wants a demo")
            slow.with_user(self.salesman).action_feedback()
        self.assertEqual(quick.followup_done_at, NOW)

        line = self._line(self._report(), self.salesman)
        self.assertEqual((line.activities, line.done, line.quick_done), (3, 3, 1))
        self.assertAlmostEqual(line.quick_done_share, 100 / 3)

        # a stricter definition of "quick" no longer flags it
        line = self._line(self._report(quick_seconds=5), self.salesman)
        self.assertEqual(line.quick_done, 0)

    def test_far_placeholders(self):
        lead = self._lead(team=self.team_off)
        far = self._activity(lead, deadline=TODAY + timedelta(days=200))
        near = self._activity(lead, deadline=TODAY + timedelta(days=100))
        self._set_create_date(far | near, NOW)

        line = self._line(self._report(), self.salesman)
        self.assertEqual((line.open, line.far_placeholders), (2, 1))
        self.assertAlmostEqual(line.far_placeholder_share, 50.0)

        line = self._line(self._report(far_days=90), self.salesman)
        self.assertEqual(line.far_placeholders, 2)

    def test_rescheduled_three_times(self):
        lead = self._lead(team=self.team_warn)
        pushed, moved_twice = self._activity(lead), self._activity(lead)
        self._set_create_date(pushed | moved_twice, NOW)
        for days in (1, 2, 3):
            pushed.with_user(self.salesman).write({"date_deadline": TODAY + timedelta(days=days)})
        for days in (1, 2):
            moved_twice.with_user(self.salesman).write({"date_deadline": TODAY + timedelta(days=days)})
        self.assertEqual(pushed.followup_reschedule_count, 3)

        line = self._line(self._report(), self.salesman)
        self.assertEqual((line.activities, line.rescheduled), (2, 1))
        self.assertAlmostEqual(line.rescheduled_share, 50.0)

    def test_missing_share(self):
        scheduled = self._lead(team=self.team_warn, name="Scheduled")
        self._set_create_date(self._activity(scheduled), NOW - timedelta(days=30))
        missing = self._lead(team=self.team_warn, name="Missing")
        exempt = self._lead(team=self.team_off, name="Exempt", no_followup_reason_id=self.reason.id)
        lost = self._lead(team=self.team_off, name="Lost")
        lost.action_set_lost()
        self.assertEqual(
            (scheduled | missing | exempt).mapped("followup_state"), ["scheduled", "missing", "exempt"]
        )

        line = self._line(self._report(), self.salesman)
        self.assertEqual((line.open_leads, line.missing), (2, 1))
        self.assertAlmostEqual(line.missing_share, 50.0)
        # no activity created in the period: no share of activities to show
        lines = self._report(date_from=TODAY + timedelta(days=1), date_to=TODAY + timedelta(days=2))
        line = self._line(lines, self.salesman)
        self.assertEqual((line.activities, line.open_leads, line.missing), (0, 2, 1))

    def test_lines_sorted_by_name(self):
        lead = self._lead(team=self.team_warn)
        activities = self.env["mail.activity"]
        # Sam has the most activities, Mona the fewest: the order stays by name
        for user, count in ((self.salesman, 2), (self.salesman_2, 3), (self.sales_manager, 1)):
            for _i in range(count):
                activities |= self._activity(lead, user=user)
        self._set_create_date(activities, NOW)

        lines = self._report()
        self.assertEqual(lines.mapped("user_id.name"), ["Mona Manager", "Sally Salesman", "Sam Salesman"])
        self.assertEqual(lines.mapped("activities"), [1, 2, 3])

    def test_salesperson_refused(self):
        lead = self._lead(team=self.team_warn)
        self._set_create_date(self._activity(lead), NOW)
        period = {"date_from": TODAY - timedelta(days=7), "date_to": TODAY}
        with self.assertRaises(AccessError):
            self.env["crm.activity.signal.report"].with_user(self.salesman).create(period)
        report = self.env["crm.activity.signal.report"].with_user(self.sales_manager).create(period)
        with self.assertRaises(AccessError):
            report.with_user(self.salesman).action_show()
        with self.assertRaises(AccessError):
            report.with_user(self.salesman)._report_values()
        # nor read the lines of the manager's report
        action = report.action_show()
        with self.assertRaises(AccessError):
            self.env[action["res_model"]].with_user(self.salesman).with_context(**action["context"]).search(
                []
            )
