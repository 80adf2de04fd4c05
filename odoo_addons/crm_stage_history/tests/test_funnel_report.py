from datetime import date, datetime, timedelta

from freezegun import freeze_time
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import FUNNEL_NUMBERS, T0, StageHistoryCase, report_lines


@tagged("post_install", "-at_install")
class TestFunnelReport(StageHistoryCase):
    """A funnel small enough to compute by hand, read through the report as a user would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def at(days, func):
            with freeze_time(T0 + timedelta(days=days)):
                func()

        with freeze_time(T0):
            cls.a, cls.b, cls.c = (cls._lead(name) for name in "ABC")
            cls.d, cls.e = (cls._lead(name, user=cls.salesman_2) for name in "DE")
        # A: Inquiry 1d, Qualified 2d, Proposal 3d, won.  B: Inquiry 2d, Qualified 2d, lost.
        # C: still in Inquiry.  D: Inquiry 4d, jumps to Proposal, still there.  E: lost after 3d in Inquiry.
        at(1, lambda: cls.a.write({"stage_id": cls.s2.id}))
        at(2, lambda: cls.b.write({"stage_id": cls.s2.id}))
        at(3, lambda: cls.a.write({"stage_id": cls.s3.id}))
        at(3, cls.e.action_set_lost)
        at(4, lambda: cls.d.write({"stage_id": cls.s3.id}))
        at(4, cls.b.action_set_lost)
        at(6, cls.a.action_set_won)
        Target = cls.env["crm.stage.target"]
        Target.create({"stage_id": cls.s1.id, "target_conversion_rate": 80})
        Target.create({"stage_id": cls.s2.id, "target_days_in_stage": 1})

    def _action(self, user=None, **vals):
        Report = self.env["crm.stage.funnel.report"].with_user(user or self.sales_manager)
        return Report.create({"team_ids": [(6, 0, self.team.ids)], **vals}).action_show()

    def _lines(self, action, user=None):
        """The lines the funnel's list reads ten days after T0 (computed as they are read)."""
        with freeze_time(T0 + timedelta(days=10)):
            return report_lines(self.env(user=user or self.sales_manager), action)

    def _report(self, user=None, **vals):
        lines = self._lines(self._action(user, **vals), user)
        # keyed by the line's salesperson or team ("" per stage) and stage
        return {(line.user_id.name or line.team_id.name or "", line.stage_id.name): line for line in lines}

    def test_funnel_numbers_match_the_hand_computed_scenario(self):
        lines = self._report()
        self.assertEqual(
            sorted(stage for _user, stage in lines), ["Inquiry", "Proposal", "Qualified", "Signed"]
        )
        self.assertRecordValues(
            lines[("", "Inquiry")],
            [
                {
                    # advanced A, B, D; lost E; C still there. Stays 1, 2, 3, 4 days and C open for 10 days:
                    # Kaplan-Meier survival 0.8, 0.6, 0.4 after 1, 2, 3 days -> median 3; never down to 0.1
                    "entered": 5,
                    "advanced": 3,
                    "lost": 1,
                    "open": 1,
                    "conversion_rate": 75.0,
                    "median_days": 3.0,
                    "has_p90": False,
                    "target_conversion_rate": 80.0,
                    "target_days_in_stage": 0.0,
                    # below its conversion target only: only that measure is flagged
                    "conversion_below_target": True,
                    "days_over_target": False,
                    "below_target": True,
                }
            ],
        )
        self.assertRecordValues(
            lines[("", "Qualified")],
            [
                {
                    "entered": 2,
                    "advanced": 1,
                    "lost": 1,
                    "open": 0,
                    "conversion_rate": 50.0,
                    "median_days": 2.0,
                    "p90_days": 2.0,
                    "has_p90": True,
                    "target_conversion_rate": 0.0,
                    "target_days_in_stage": 1.0,
                    "conversion_below_target": False,
                    "days_over_target": True,
                    "below_target": True,
                }
            ],
        )
        self.assertRecordValues(
            lines[("", "Proposal")],
            [
                {
                    # A left after 3 days, D is still there after 6: survival 0.5 at 3 days
                    "entered": 2,
                    "advanced": 1,
                    "lost": 0,
                    "open": 1,
                    "conversion_rate": 100.0,
                    "median_days": 3.0,
                    "below_target": False,
                }
            ],
        )
        self.assertRecordValues(
            lines[("", "Signed")],
            [{"entered": 1, "advanced": 0, "lost": 0, "open": 0, "has_conversion": False}],
        )

    def test_sums_over_stages_only_where_they_count_leads(self):
        """Per salesperson, a group row (and the total under the list) sums the leads lost and still open,
        not the entries and moves forward over stages (a lead enters several stages); the graph per stage
        sums them over salespersons."""
        action = self._action(group_by="user")
        Line = self.env[action["res_model"]].with_user(self.sales_manager).with_context(**action["context"])
        aggregates = ["entered:sum", "advanced:sum", "lost:sum", "open:sum"]
        with freeze_time(T0 + timedelta(days=10)):
            per_user = {
                group["user_id"][0]: group for group in Line.formatted_read_group([], ["user_id"], aggregates)
            }
        sally = per_user[self.salesman.id]
        # Sally: A (won), B (lost in Qualified), C (open in Inquiry)
        self.assertEqual((sally["entered:sum"], sally["advanced:sum"]), (None, None))
        self.assertEqual((sally["lost:sum"], sally["open:sum"]), (1, 1))
        with freeze_time(T0 + timedelta(days=10)):
            per_stage = {
                group["stage_id"][1]: group
                for group in Line.formatted_read_group([], ["stage_id"], aggregates)
            }
        self.assertEqual((per_stage["Inquiry"]["entered:sum"], per_stage["Inquiry"]["advanced:sum"]), (5, 3))

    def test_funnel_per_salesperson(self):
        lines = self._report(group_by="user")
        self.assertRecordValues(
            lines[(self.salesman.name, "Inquiry")],
            [{"entered": 3, "advanced": 2, "lost": 0, "open": 1, "conversion_rate": 100.0}],
        )
        self.assertRecordValues(
            lines[(self.salesman_2.name, "Inquiry")],
            [{"entered": 2, "advanced": 1, "lost": 1, "open": 0, "conversion_rate": 50.0}],
        )

    def _hand_over(self):
        """Two leads of Other Team start in Inquiry with Sally. "Handed" passes to Sam and Handover Team
        while in Inquiry, moves to Qualified (day 2) and is lost there (day 4); "Kept" stays Sally's and
        Other Team's, moves to Qualified (day 3) and is still there. Returns Handover Team."""
        team_b = self.env["crm.team"].create({"name": "Handover Team"})
        with freeze_time(T0):
            handed, kept = (self._lead(name, team_id=self.other_team.id) for name in ("Handed", "Kept"))
        with freeze_time(T0 + timedelta(days=1)):
            handed.write({"user_id": self.salesman_2.id, "team_id": team_b.id})
        with freeze_time(T0 + timedelta(days=2)):
            handed.stage_id = self.s2
        with freeze_time(T0 + timedelta(days=3)):
            kept.stage_id = self.s2
        with freeze_time(T0 + timedelta(days=4)):
            handed.action_set_lost()
        return team_b

    @staticmethod
    def _numbers(lines):
        return {key: {name: line[name] for name in FUNNEL_NUMBERS} for key, line in lines.items()}

    def test_handed_over_lead_counts_for_each_owner_in_his_stage(self):
        """A lead Sally moves out of Inquiry and Sam later loses in Qualified is an advance for Sally
        and a loss for Sam, per salesperson as per team (it changes teams with its salesperson)."""
        self.env["crm.stage.target"].create(
            {"stage_id": self.s1.id, "user_id": self.salesman.id, "target_conversion_rate": 90}
        )
        team_b = self._hand_over()
        teams = [(6, 0, (self.other_team | team_b).ids)]
        per_user = self._report(group_by="user", team_ids=teams)
        sally, sam = self.salesman.name, self.salesman_2.name
        self.assertEqual(set(per_user), {(sally, "Inquiry"), (sally, "Qualified"), (sam, "Qualified")})
        # Inquiry: stays of 2 and 3 days; both leads moved on while Sally held them
        self.assertRecordValues(
            per_user[(sally, "Inquiry")],
            [
                {
                    "entered": 2,
                    "advanced": 2,
                    "lost": 0,
                    "open": 0,
                    "conversion_rate": 100.0,
                    "median_days": 2.0,
                    "target_conversion_rate": 90.0,
                    "below_target": False,
                }
            ],
        )
        self.assertRecordValues(
            per_user[(sam, "Qualified")],
            [{"entered": 1, "advanced": 0, "lost": 1, "open": 0, "conversion_rate": 0.0, "median_days": 2.0}],
        )
        self.assertRecordValues(
            per_user[(sally, "Qualified")],
            [{"entered": 1, "advanced": 0, "lost": 0, "open": 1, "has_conversion": False}],
        )
        per_team = self._report(group_by="team", team_ids=teams)
        self.assertRecordValues(
            per_team[(self.other_team.name, "Inquiry")],
            [{"entered": 2, "advanced": 2, "lost": 0, "open": 0, "conversion_rate": 100.0}],
        )
        self.assertRecordValues(
            per_team[(team_b.name, "Qualified")],
            [{"entered": 1, "advanced": 0, "lost": 1, "open": 0, "conversion_rate": 0.0}],
        )
        self.assertEqual(
            set(per_team),
            {
                (self.other_team.name, "Inquiry"),
                (self.other_team.name, "Qualified"),
                (team_b.name, "Qualified"),
            },
        )

    def test_salesman_report_covers_only_the_leads_he_can_see(self):
        lines = self._report(user=self.salesman)
        self.assertEqual(lines[("", "Inquiry")].entered, 3)

    def test_period_selects_the_leads_created_in_it(self):
        """A period without leads opens an empty list that says to widen the filters; a period that
        ends before it starts is refused on the form."""
        action = self._action(date_from=date(2026, 4, 1))
        self.assertFalse(self._lines(action))
        self.assertIn("widen the filters", action["help"])
        lines = self._report(date_from=date(2026, 3, 1), date_to=date(2026, 3, 2))
        self.assertEqual(lines[("", "Inquiry")].entered, 5)
        with self.assertRaisesRegex(ValidationError, "ends before it starts"):
            self._report(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1))

    def test_period_is_counted_in_the_days_of_the_user(self):
        """A manager in Sydney asking for March gets his March: a lead that entered the pipeline on 31 March
        at 20:00 UTC entered it on 1 April at 07:00 in Sydney. The report names the time zone."""
        with freeze_time(datetime(2026, 3, 31, 20, 0)):
            self._lead("Late", team_id=self.other_team.id)
        march = {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
        april = {"date_from": date(2026, 4, 1), "date_to": date(2026, 4, 30)}
        teams = [(6, 0, self.other_team.ids)]
        self.sales_manager.tz = "Australia/Sydney"
        Report = self.env["crm.stage.funnel.report"].with_user(self.sales_manager)
        self.assertEqual(Report.create(march).period_tz, "Australia/Sydney")
        self.assertFalse(self._report(team_ids=teams, **march))
        self.assertEqual(self._report(team_ids=teams, **april)[("", "Inquiry")].entered, 1)
        self.sales_manager.tz = "Europe/London"  # UTC+1 from 29 March: still 31 March, 21:00
        self.assertEqual(self._report(team_ids=teams, **march)[("", "Inquiry")].entered, 1)
        self.assertFalse(self._report(team_ids=teams, **april))

    def test_salesperson_filter_shows_his_lines_of_the_unfiltered_report(self):
        """Filtered on Sally, the lead she moved out of Inquiry before Sam lost it is an advance, and
        Sam's loss is not in her numbers: she sees the lines she has in the unfiltered report."""
        team_b = self._hand_over()
        teams = [(6, 0, (self.other_team | team_b).ids)]
        sally = [(6, 0, self.salesman.ids)]
        per_stage = self._report(team_ids=teams, user_ids=sally)
        self.assertEqual(set(per_stage), {("", "Inquiry"), ("", "Qualified")})
        self.assertRecordValues(
            per_stage[("", "Inquiry")],
            [
                {
                    "entered": 2,
                    "advanced": 2,
                    "lost": 0,
                    "open": 0,
                    "conversion_rate": 100.0,
                    "median_days": 2.0,
                }
            ],
        )
        self.assertRecordValues(
            per_stage[("", "Qualified")],
            [{"entered": 1, "advanced": 0, "lost": 0, "open": 1, "has_conversion": False}],
        )
        unfiltered = self._numbers(self._report(group_by="user", team_ids=teams))
        for user in (self.salesman, self.salesman_2):
            with self.subTest(salesperson=user.name):
                filtered = self._report(group_by="user", team_ids=teams, user_ids=[(6, 0, user.ids)])
                own = {key: values for key, values in unfiltered.items() if key[0] == user.name}
                self.assertEqual(self._numbers(filtered), own)

    def test_team_filter_shows_its_lines_of_the_unfiltered_report(self):
        """Filtered on Other Team, the lead it handed over in Inquiry is an advance there and the loss in
        Handover Team is not counted; filtered on Handover Team, only that loss shows."""
        team_b = self._hand_over()
        per_stage = self._report(team_ids=[(6, 0, self.other_team.ids)])
        self.assertEqual(set(per_stage), {("", "Inquiry"), ("", "Qualified")})
        self.assertRecordValues(
            per_stage[("", "Inquiry")],
            [
                {
                    "entered": 2,
                    "advanced": 2,
                    "lost": 0,
                    "open": 0,
                    "conversion_rate": 100.0,
                    "median_days": 2.0,
                }
            ],
        )
        self.assertRecordValues(
            per_stage[("", "Qualified")],
            [{"entered": 1, "advanced": 0, "lost": 0, "open": 1, "has_conversion": False}],
        )
        per_stage_b = self._report(team_ids=[(6, 0, team_b.ids)])
        self.assertEqual(set(per_stage_b), {("", "Qualified")})
        self.assertRecordValues(
            per_stage_b[("", "Qualified")],
            [{"entered": 1, "advanced": 0, "lost": 1, "open": 0, "conversion_rate": 0.0, "median_days": 2.0}],
        )
        both = self.other_team | team_b
        unfiltered = self._numbers(self._report(group_by="team", team_ids=[(6, 0, both.ids)]))
        for team in both:
            with self.subTest(team=team.name):
                filtered = self._report(group_by="team", team_ids=[(6, 0, team.ids)])
                own = {key: values for key, values in unfiltered.items() if key[0] == team.name}
                self.assertEqual(self._numbers(filtered), own)
        # per salesperson within Handover Team: Sam's loss, and nothing of Sally's
        self.assertEqual(
            set(self._report(group_by="user", team_ids=[(6, 0, team_b.ids)])),
            {(self.salesman_2.name, "Qualified")},
        )
