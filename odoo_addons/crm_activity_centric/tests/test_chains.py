from datetime import datetime, timedelta

from freezegun import freeze_time
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import NOW, TODAY, FollowupCase

FRIDAY = datetime(2026, 2, 27, 15, 0)  # 16:00 in Brussels
MONDAY = datetime(2026, 3, 2, 9, 0)


@tagged("post_install", "-at_install")
class TestChains(FollowupCase):
    """Event chains: the two defined by the module, measured from the chatter, as each user sees them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for user in (cls.salesman, cls.salesman_2, cls.sales_manager):
            user.tz = "Europe/Brussels"
        cls.first_call = cls.env.ref("crm_activity_centric.crm_activity_chain_first_call")
        cls.quotation = cls.env.ref("crm_activity_centric.crm_activity_chain_quotation_after_qualification")
        cls.send_quotation = cls.env.ref("crm_activity_centric.mail_activity_type_send_quotation")
        cls.qualified = cls.env.ref("crm.stage_lead2")

    def _created_at(self, leads, when):
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE crm_lead SET create_date = %s WHERE id IN %s", when, tuple(leads.ids))
        )
        leads.invalidate_model(["create_date"])

    def _done(self, activity, when, user=None, feedback=False):
        with freeze_time(when):
            activity.with_user(user or activity.user_id).action_feedback(feedback=feedback)

    def _move(self, lead, stage, when):
        # a record's changes in the transaction that created it are not tracked: end that "transaction" first
        self.env.flush_all()
        self.env.cr.precommit.run()
        with freeze_time(when):
            lead.write({"stage_id": stage.id})
            self.env.flush_all()
            self.env.cr.precommit.run()  # the stage tracking is written at commit

    def _report(self, chain, user=None, group_by="user", date_from=TODAY - timedelta(days=14), date_to=TODAY):
        report = (
            self.env["crm.activity.chain.report"]
            .with_user(user or self.sales_manager)
            .create(
                {
                    "chain_id": chain.id,
                    "date_from": date_from,
                    "date_to": date_to,
                    "team_ids": [(6, 0, self.team_warn.ids)],
                    "group_by": group_by,
                }
            )
        )
        with freeze_time(NOW):
            action = report.action_show()
            self.assertEqual(action["res_model"], "crm.activity.chain.report.line")
            # what the report's list reads
            lines = self.env[action["res_model"]].with_user(user or self.sales_manager)
            return lines.with_context(**action["context"]).search([]), action

    def test_first_call_within_late_missed_pending(self):
        start = NOW - timedelta(hours=2)
        called, called_late, never_called = (
            self._lead(team=self.team_warn, name=name) for name in ("Called", "Called late", "Never")
        )
        recent = self._lead(team=self.team_warn, name="Recent")
        old = self._lead(team=self.team_warn, name="Before the period")
        self._created_at(called | called_late | never_called, start)
        self._created_at(recent, NOW - timedelta(minutes=5))
        self._created_at(old, NOW - timedelta(days=20))
        # an email done first is not a call; the call follows
        email = self._activity(called, activity_type=self.env.ref("mail.mail_activity_data_email"))
        self._done(email, start + timedelta(minutes=2))
        self._done(self._activity(called), start + timedelta(minutes=10))
        self._done(self._activity(called_late), start + timedelta(minutes=20))
        self._activity(never_called)  # planned, never done

        line, _action = self._report(self.first_call)
        self.assertEqual(len(line), 1)
        self.assertEqual(line.user_id, self.salesman)
        self.assertEqual(line.name, "Sally Salesman")
        self.assertEqual((line.started, line.within, line.late, line.missed, line.pending), (4, 1, 1, 1, 1))
        self.assertAlmostEqual(line.share_within, 100 / 3)
        self.assertAlmostEqual(line.median_minutes, 15.0)

        per_team, _action = self._report(self.first_call, group_by="team")
        self.assertEqual(
            (per_team.team_id, per_team.name, per_team.started), (self.team_warn, "Warn Team", 4)
        )

        # the lead created before the period is not counted; the day before it is
        line, _action = self._report(self.first_call, date_from=TODAY - timedelta(days=21))
        self.assertEqual((line.started, line.missed), (5, 2))
        # no chain in the period: an empty list that says why
        lines, action = self._report(
            self.first_call, date_from=TODAY + timedelta(days=1), date_to=TODAY + timedelta(days=2)
        )
        self.assertFalse(lines)
        self.assertIn("widen the filters", action["help"])

    def test_quotation_within_one_business_day_across_weekend(self):
        # Sally's lead is qualified on Friday 16:00 (Brussels) and quoted on Monday 15:00: within the next
        # business day, although three calendar days later
        friday_lead = self._lead(team=self.team_warn, name="Friday")
        self._created_at(friday_lead, FRIDAY - timedelta(days=1))
        self._move(friday_lead, self.qualified, FRIDAY)
        quote = self._activity(friday_lead, activity_type=self.send_quotation)
        self._done(quote, FRIDAY + timedelta(days=3, hours=-1))
        # a lead created directly as qualified enters the stage on creation; Monday 10:00, never quoted
        direct = self._lead(team=self.team_warn, stage=self.qualified, name="Direct")
        self._created_at(direct, MONDAY)
        # Sam's lead: qualified on Friday, quoted on Tuesday
        sams_lead = self._lead(team=self.team_warn, user=self.salesman_2, name="Sam's")
        self._created_at(sams_lead, FRIDAY - timedelta(days=1))
        self._move(sams_lead, self.qualified, FRIDAY)
        self._done(
            self._activity(sams_lead, user=self.salesman_2, activity_type=self.send_quotation),
            FRIDAY + timedelta(days=4),
        )

        lines, _action = self._report(self.quotation)
        self.assertEqual(lines.mapped("name"), ["Sally Salesman", "Sam Salesman"])
        sally, sam = lines
        self.assertEqual((sally.started, sally.within, sally.missed), (2, 1, 1))
        self.assertAlmostEqual(sally.share_within, 50.0)
        self.assertAlmostEqual(sally.median_minutes, (3 * 24 - 1) * 60)
        self.assertEqual((sam.started, sam.late), (1, 1))

        # a salesperson sees the chains of their own leads only
        line, _action = self._report(self.quotation, user=self.salesman)
        self.assertEqual(line.user_id, self.salesman)
        self.assertEqual((line.started, line.within), (2, 1))
        line, _action = self._report(self.quotation, user=self.salesman_2)
        self.assertEqual((line.user_id, line.late), (self.salesman_2, 1))

    def test_business_days_skip_public_holidays(self):
        calendar = self.env.company.resource_calendar_id
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Public holiday",
                "calendar_id": calendar.id,
                "date_from": datetime(2026, 3, 1, 23, 0),  # Monday 2 March in Brussels
                "date_to": datetime(2026, 3, 2, 22, 59, 59),
            }
        )
        lead = self._lead(team=self.team_warn)
        self._created_at(lead, FRIDAY - timedelta(days=1))
        self._move(lead, self.qualified, FRIDAY)
        self._done(
            self._activity(lead, activity_type=self.send_quotation), FRIDAY + timedelta(days=4, hours=-1)
        )
        line, _action = self._report(self.quotation)
        self.assertEqual((line.started, line.within), (1, 1))

    def test_half_day_closure_is_a_business_day(self):
        # Monday 2 March closed in the morning only: still a business day (as for SLA business days and Plan
        # Tomorrow), so the lead qualified on Friday 16:00 and quoted on Tuesday is late
        calendar = self.env.company.resource_calendar_id
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Monday morning off",
                "calendar_id": calendar.id,
                "date_from": datetime(2026, 3, 1, 23, 0),
                "date_to": datetime(2026, 3, 2, 11, 0),  # 12:00 in Brussels
            }
        )
        lead = self._lead(team=self.team_warn)
        self._created_at(lead, FRIDAY - timedelta(days=1))
        self._move(lead, self.qualified, FRIDAY)
        self._done(
            self._activity(lead, activity_type=self.send_quotation), FRIDAY + timedelta(days=4, hours=-1)
        )
        line, _action = self._report(self.quotation)
        self.assertEqual((line.started, line.late), (1, 1))

    def test_message_sent_chain(self):
        chain = self.env["crm.activity.chain"].create(
            {
                "name": "Reply within an hour",
                "start_kind": "lead_created",
                "end_kind": "message_sent",
                "threshold": 1,
                "threshold_unit": "hours",
            }
        )
        replied, noted = self._lead(team=self.team_warn), self._lead(team=self.team_warn)
        start = NOW - timedelta(hours=3)
        self._created_at(replied | noted, start)
        with freeze_time(start + timedelta(minutes=30)):
            replied.with_user(self.salesman).message_post(
                body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment"
            )
            noted.with_user(self.salesman).message_post(
                body="Internal", message_type="comment", subtype_xmlid="mail.mt_note"
            )
        line, _action = self._report(chain)
        self.assertEqual((line.started, line.within, line.missed), (2, 1, 1))

    def test_invalid_configuration_refused(self):
        Chain = self.env["crm.activity.chain"]
        base = {
            "name": "Chain",
            "start_kind": "lead_created",
            "end_kind": "activity_done",
            "end_activity_type_id": self.call.id,
            "threshold": 15,
            "threshold_unit": "minutes",
        }
        for vals, message in (
            ({"threshold": 0}, "greater than zero"),
            ({"threshold": -2}, "greater than zero"),
            ({"threshold": 1.5, "threshold_unit": "business_days"}, "whole number"),
            ({"end_activity_type_id": False}, "activity type"),
            ({"start_kind": "stage_entered"}, "stage"),
            ({"end_kind": "stage_entered", "end_stage_id": False}, "stage"),
            ({"start_kind": "activity_done", "start_activity_type_id": self.call.id}, "same as the start"),
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, message):
                Chain.create({**base, **vals})
        chain = Chain.create(base)
        self.assertEqual(chain._threshold().value, 15)
        with self.assertRaisesRegex(ValidationError, "greater than zero"):
            chain.threshold = 0
        # salespeople read chains, managers define them
        with self.assertRaises(AccessError):
            Chain.with_user(self.salesman).create(base)
