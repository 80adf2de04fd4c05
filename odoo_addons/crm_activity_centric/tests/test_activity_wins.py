from datetime import datetime, timedelta

import pandas as pd
from freezegun import freeze_time
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

T0 = datetime(2025, 5, 5, 9, 0, 0)
PERIOD = {"date_from": "2025-05-01", "date_to": "2025-05-31"}
LINE = "crm.activity.win.report.line"
REP_LINE = "crm.activity.win.rep.line"


@tagged("post_install", "-at_install")
class TestActivitiesThatWin(Json2Case):
    """Activities That Win: the win rate of decided opportunities by the number of completed activities of
    each type before the decision; the same numbers as funnel_metrics on what JSON-2 reads; per salesperson
    for managers only; each user sees the opportunities he may read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="aw_manager",
            name="Wanda Manager",
            groups="sales_team.group_sale_manager",
            tz="UTC",
        )
        cls.alice, cls.bob = (
            new_test_user(
                cls.env, login=f"aw_{name.lower()}", name=f"{name} Wins",
                groups="sales_team.group_sale_salesman", tz="UTC",
            )
            for name in ("Alice", "Bob")
        )  # fmt: skip
        cls.team = cls.env["crm.team"].create({"name": "Wins Team"})
        cls.stage = cls.env["crm.stage"].create({"name": "Wins Open", "sequence": 800})
        cls.won_stage = cls.env["crm.stage"].create({"name": "Wins Won", "sequence": 890, "is_won": True})
        cls.call = cls.env.ref("mail.mail_activity_data_call")
        cls.meeting = cls.env.ref("mail.mail_activity_data_meeting")
        # (salesperson, meetings, calls, outcome, meetings done after the decision)
        plan = [
            (cls.alice, 2, 1, "won", 0),
            (cls.alice, 1, 0, "lost", 0),
            (cls.bob, 0, 0, "lost", 0),
            (cls.bob, 2, 0, "won", 0),
            (cls.alice, 0, 1, "open", 0),  # open: not a deal, not lost
            (cls.alice, 0, 0, "won", 1),  # its meeting came after the signature: it does not count
        ]
        cls.leads = cls.env["crm.lead"]
        for i, (user, meetings, calls, outcome, after) in enumerate(plan):
            lead = cls._decided(f"Wins {i}", user, meetings, calls, outcome, after, day=i)
            cls.leads |= lead
        # another company's opportunity, with a meeting and won: not for this company's users
        cls.company_2 = cls.env["res.company"].create({"name": "Wins Company 2"})
        cls.manager_2 = new_test_user(
            cls.env, login="aw_manager_2", name="Walter Manager", groups="sales_team.group_sale_manager",
            company_id=cls.company_2.id, company_ids=[(6, 0, cls.company_2.ids)], tz="UTC",
        )  # fmt: skip
        cls.other = cls._decided(
            "Wins elsewhere", cls.manager_2, 1, 0, "won", 0, day=2, company=cls.company_2
        )

    @classmethod
    def _decided(cls, name, user, meetings, calls, outcome, after, day, company=None):
        Lead = cls.env["crm.lead"].with_company(company) if company else cls.env["crm.lead"]
        with freeze_time(T0 + timedelta(days=day)):
            lead = Lead.create(
                {
                    "name": name,
                    "type": "opportunity",
                    "team_id": False if company else cls.team.id,
                    "user_id": user.id,
                    "stage_id": cls.stage.id,
                    "company_id": (company or cls.env.company).id,
                }
            )
        for n, activity_type in enumerate([cls.meeting] * meetings + [cls.call] * calls):
            cls._done(lead, activity_type, T0 + timedelta(days=day, hours=1 + n))
        if outcome != "open":
            with freeze_time(T0 + timedelta(days=day, hours=12)):
                lead.action_set_won() if outcome == "won" else lead.action_set_lost()
        for n in range(after):
            cls._done(lead, cls.meeting, T0 + timedelta(days=day, hours=13 + n))
        return lead

    @classmethod
    def _done(cls, lead, activity_type, when):
        with freeze_time(when):
            cls.env["mail.activity"].create(
                {
                    "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                    "res_id": lead.id,
                    "activity_type_id": activity_type.id,
                    "user_id": lead.user_id.id,
                }
            ).action_feedback()

    def _lines(self, user, model=LINE, **params):
        form = (
            self.env["crm.activity.win.report"]
            .with_user(user)
            .create({**PERIOD, "max_count": 2, "min_deals": 1, **params})
        )
        action = form.action_show() if model == LINE else form.action_show_salespeople()
        self.assertEqual(action["res_model"], model)
        self.env.invalidate_all()
        self.env.cr.cache.clear()
        return self.env[model].with_user(user).with_context(**action["context"]).search([])

    @staticmethod
    def _rows(lines):
        return [(line.activity_type_id.name, line.bucket, line.deals, line.won) for line in lines]

    def test_win_rate_by_count_before_the_decision_open_deals_left_out(self):
        lines = self._lines(self.manager, team_ids=[(6, 0, self.team.ids)])
        self.assertEqual(
            self._rows(lines),
            [
                # five decided opportunities; the open one is in no line
                ("Call", "0", 4, 2),
                ("Call", "1", 1, 1),
                ("Call", "2+", 0, 0),
                # the meeting done after a signature does not count: that deal had 0
                ("Meeting", "0", 2, 1),
                ("Meeting", "1", 1, 0),
                ("Meeting", "2+", 2, 2),
            ],
        )
        two_meetings = lines.filtered(lambda line: line.activity_type_id == self.meeting and line.count == 2)
        self.assertAlmostEqual(two_meetings.win_rate, 100.0)
        self.assertAlmostEqual(two_meetings.ci_high, 100.0)
        self.assertTrue(0 < two_meetings.ci_low < 100)
        # five opportunities cannot tell counts apart: nothing is stated
        self.assertEqual(set(lines.mapped("verdict")), {"No clear effect of the count"})
        self.assertFalse(any(lines.mapped("useful_count")) or any(lines.mapped("lowering_from")))

    def test_same_numbers_as_the_command_over_json2(self):
        """The report's lines equal funnel_metrics' on the activities and deals funnel_metrics.extract reads
        over JSON-2 (the manager's API key) for the team's leads."""
        from funnel_metrics import saturation, win_rate_by_count  # noqa: PLC0415
        from funnel_metrics.extract import connect, extract_activities, extract_deals  # noqa: PLC0415

        lines = self._lines(self.manager, team_ids=[(6, 0, self.team.ids)])
        odoo = {
            (line.activity_type_id.name, line.bucket): (
                line.deals, line.won, round(line.win_rate, 6), round(line.ci_low, 6), round(line.ci_high, 6),
                line.useful_count, line.lowering_from,
            )
            for line in lines
        }  # fmt: skip
        lead_ids = self.leads.ids
        with self.allow_requests(all_requests=True):
            connection = connect(
                self.base_url(), self.env.cr.dbname, self.manager.login, self.json2_key(self.manager)
            )
            activities = extract_activities(connection, lead_ids, page_size=2)
            deals = extract_deals(connection, lead_ids, page_size=2)
        self.assertEqual(len(deals), 5)
        by_count = win_rate_by_count(activities, deals, max_count=2)
        points = saturation(by_count, min_deals=1).set_index("activity_type")

        def number(value):
            return 0.0 if value != value else round(float(value) * 100, 6)

        def count(value):
            return 0 if pd.isna(value) else int(value)

        command = {
            (row.activity_type, row.bucket): (
                int(row.deals), int(row.won), number(row.win_rate), number(row.ci_low), number(row.ci_high),
                count(points.loc[row.activity_type, "useful_count"]),
                count(points.loc[row.activity_type, "lowering_from"]),
            )
            for row in by_count.itertuples(index=False)
        }  # fmt: skip
        self.assertEqual(odoo, command)

    def test_a_salesperson_sees_his_own_opportunities_another_company_its_own(self):
        lines = self._lines(self.alice, team_ids=[(6, 0, self.team.ids)])
        meetings = [row for row in self._rows(lines) if row[0] == "Meeting"]
        # Alice's decided opportunities: two meetings (won), one (lost), the late meeting's (won)
        self.assertEqual(meetings, [("Meeting", "0", 1, 1), ("Meeting", "1", 1, 0), ("Meeting", "2+", 1, 1)])
        # no team filter: each manager his company's opportunities only
        mine = {row[:3] for row in self._rows(self._lines(self.manager)) if row[0] == "Meeting"}
        self.assertIn(("Meeting", "1", 1), mine)
        theirs = self._rows(self._lines(self.manager_2))
        self.assertEqual(
            [row for row in theirs if row[0] == "Meeting"][:2],
            [("Meeting", "0", 0, 0), ("Meeting", "1", 1, 1)],
        )

    def test_per_salesperson_shares_for_managers_only(self):
        lines = self._lines(self.manager, REP_LINE, team_ids=[(6, 0, self.team.ids)])
        by_user = {(line.user_id.name, line.activity_type_id.name): line for line in lines}
        self.assertEqual(sorted({name for name, _type in by_user}), ["Alice Wins", "Bob Wins"])
        alice_meetings = by_user[("Alice Wins", "Meeting")]
        # no useful count stated: "at least one"; Alice: 2 of her 3 decided opportunities had a meeting
        self.assertEqual((alice_meetings.useful_count, alice_meetings.deals), (1, 3))
        self.assertAlmostEqual(alice_meetings.share_reaching, 200 / 3)
        self.assertAlmostEqual(alice_meetings.win_rate, 200 / 3)
        self.assertNotIn("count", lines._fields)
        # a salesperson is refused on the server: the button, the lines, and over JSON-2
        form = self.env["crm.activity.win.report"].with_user(self.alice).create(dict(PERIOD))
        with self.assertRaises(AccessError):
            form.action_show_salespeople()
        context = form.action_show()["context"]
        with self.assertRaises(AccessError):
            self.env[REP_LINE].with_user(self.alice).with_context(**context).search([])
        with mute_logger("odoo.http"):  # the refusal is logged as a warning
            status, body = self.json2(
                self.alice, REP_LINE, "search_read", domain=[], fields=["deals"], context=context
            )
        self.assertEqual(status, 403, body)
        self.assertIn("Only sales managers", body["message"])
        # the manager over JSON-2: the same lines
        status, body = self.json2(
            self.manager, REP_LINE, "search_read", domain=[], fields=["share_reaching"],
            context={"crm_activity_win_report": {**PERIOD, "team_ids": self.team.ids, "min_deals": 1,
                                                 "max_count": 2}},
        )  # fmt: skip
        self.assertEqual(status, 200, body)
        self.assertEqual(len(body), len(lines))
