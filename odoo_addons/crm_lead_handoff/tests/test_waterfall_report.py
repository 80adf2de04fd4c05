from datetime import date

from freezegun import freeze_time
from odoo.addons.crm_stage_history.tests.common import report_lines
from odoo.tests import TransactionCase, tagged

from .waterfall_scenario import AS_OF, T0, WaterfallScenario


@tagged("post_install", "-at_install")
class TestWaterfallReport(WaterfallScenario, TransactionCase):
    """The Demand Waterfall, its rejection reasons and its cost per sales-accepted lead, as users read them,
    on leads whose numbers are known by construction (``waterfall_scenario.LEADS``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_waterfall()

    def _lines(self, user, action="action_show", **vals):
        """The lines ``user`` reads; by default of the leads that entered the waterfall in March 2026 (the
        scenario's: none of the database's other leads)."""
        vals = {"date_from": "2026-03-01", "date_to": "2026-03-31", **vals}
        form = self.env["crm.waterfall.report.form"].with_user(user).create(vals)
        with freeze_time(AS_OF):
            return report_lines(form.env, getattr(form, action)())

    def _by_phase(self, user, **vals):
        return {line.phase_id.code: line for line in self._lines(user, **vals)}

    def test_waterfall_counts_conversion_time_and_acceptance(self):
        """Per phase: leads entering, moving on, recycled, disqualified, lost or still there; conversion
        without the leads still in the phase; the handoffs from it and how many were accepted."""
        lines = self._by_phase(self.manager)

        def counts(code):
            line = lines[code]
            return (line.entered, line.advanced, line.recycled, line.disqualified, line.lost, line.open)

        self.assertEqual(counts("inquiry"), (8, 6, 0, 1, 0, 1))
        self.assertEqual(counts("mql"), (6, 3, 2, 0, 0, 1))
        self.assertEqual(counts("sal"), (3, 1, 0, 1, 1, 0))
        self.assertAlmostEqual(lines["inquiry"].conversion_rate, 600 / 7)
        self.assertAlmostEqual(lines["mql"].conversion_rate, 60)
        self.assertTrue(lines["mql"].ci_low < 60 < lines["mql"].ci_high)
        # five of the nine Inquiry stays lasted a day, two are still open
        self.assertEqual((lines["inquiry"].stays, lines["inquiry"].open_stays), (9, 2))
        self.assertAlmostEqual(lines["inquiry"].median_days, 1.0)
        mql = lines["mql"]
        self.assertEqual(
            (mql.handed_over, mql.accepted, mql.auto_accepted, mql.rejected, mql.returned, mql.awaiting),
            (6, 3, 1, 2, 0, 1),
        )
        self.assertAlmostEqual(mql.acceptance_rate, 60)
        self.assertTrue(mql.has_acceptance)
        # outcomes are not converted from; nothing is handed over from Inquiry
        self.assertFalse(lines["disqualified"].has_conversion)
        self.assertFalse(lines["inquiry"].has_acceptance)

    def test_per_team_and_week(self):
        """A lead counts for the team it had in each phase: Marketing qualifies, Inside Sales accepts; all
        entered in the week of Monday 2 March."""
        lines = self._lines(self.manager, group_by="team", period="week")
        entered = {(line.team_id, line.period_start, line.phase_id.code): line.entered for line in lines}
        week = date(2026, 3, 2)
        self.assertEqual(entered[self.marketing, week, "mql"], 6)
        self.assertEqual(entered[self.inside, week, "sal"], 3)
        self.assertNotIn((self.marketing, week, "sal"), entered)

    def test_rejection_reasons(self):
        lines = self._lines(self.manager, action="action_show_rejections")
        self.assertEqual(
            sorted((line.phase_id.code, line.reason_id.code, line.rejected, line.share) for line in lines),
            [("mql", "not_ready_yet", 1, 50.0), ("mql", "wrong_region", 1, 50.0)],
        )

    def test_rejection_reasons_per_salesperson_open_per_phase(self):
        """A handoff is a team's: asked per salesperson, the rejection reasons open grouped per phase."""
        form = self.env["crm.waterfall.report.form"].with_user(self.manager).create({"group_by": "user"})
        action = form.action_show_rejections()
        Line = self.env[action["res_model"]].with_user(self.manager).with_context(**action["context"])
        groups = Line.formatted_read_group(
            [], action["context"]["group_by"] or ["phase_id"], ["rejected:sum"]
        )
        self.assertEqual(sum(group["rejected:sum"] for group in groups), 2)

    def test_cost_per_sales_accepted_lead(self):
        """Spring cost 800 and brought 4 leads, 1 accepted by sales; Expo cost 300 for 3 leads, 2 accepted."""
        lines = self._lines(self.manager, action="action_show_costs")
        self.assertEqual(
            {
                line.campaign_id: (line.entered, line.sales_accepted, line.cost, line.cost_per_sales_accepted)
                for line in lines
                if line.campaign_id in self.campaigns.values()
            },
            {
                self.campaigns["spring"]: (4, 1, 800.0, 800.0),
                self.campaigns["expo"]: (3, 2, 300.0, 150.0),
            },
        )

    def test_no_cost_line_before_a_lead_is_accepted(self):
        """The leads of a team none of whose leads reached Sales Accepted yet: a waterfall, no cost lines."""
        events = self.env["crm.team"].create({"name": "WF Events"})
        with freeze_time(T0):
            self.env["crm.lead"].create(
                {
                    "name": "WF Event lead",
                    "type": "lead",
                    "team_id": events.id,
                    "campaign_id": self.campaigns["expo"].id,
                }
            )
        teams = [(6, 0, events.ids)]
        self.assertEqual(
            [(line.phase_id.code, line.entered) for line in self._lines(self.manager, team_ids=teams)],
            [("inquiry", 1)],
        )
        self.assertFalse(self._lines(self.manager, action="action_show_costs", team_ids=teams))

    def test_a_salesperson_sees_the_leads_he_may_read(self):
        """Alice was given two leads (L0 and L6), Bob one; the marketer keeps those sales did not accept."""
        for user, leads in ((self.alice, 2), (self.bob, 1), (self.marketer, 5)):
            with self.subTest(user=user.login):
                lines = self._by_phase(user)
                self.assertEqual(lines["inquiry"].entered, leads)
        alice = self._by_phase(self.alice)
        self.assertEqual((alice["mql"].handed_over, alice["mql"].accepted), (2, 2))

    def test_a_company_sees_its_own_leads(self):
        """Carol, of company B, sees its one lead; the manager of the first company does not."""
        self.assertEqual(
            [(line.phase_id.code, line.entered) for line in self._lines(self.carol)], [("inquiry", 1)]
        )
        self.assertEqual(self._by_phase(self.manager)["inquiry"].entered, 8)

    def test_targets_most_specific_first(self):
        """A target for the salesperson beats one for the team, which beats the phase's own; a target that
        does not set a measure leaves the less specific one's."""
        Target = self.env["crm.lifecycle.phase.target"]
        mql, inquiry = self.phases["mql"], self.phases["inquiry"]
        Target.create({"phase_id": mql.id, "target_conversion_rate": 50})
        Target.create({"phase_id": mql.id, "team_id": self.marketing.id, "target_conversion_rate": 70})
        Target.create({"phase_id": mql.id, "user_id": self.marketer.id, "target_conversion_rate": 90})
        Target.create({"phase_id": inquiry.id, "target_days_in_phase": 3})
        Target.create({"phase_id": inquiry.id, "team_id": self.marketing.id, "target_conversion_rate": 80})
        # another company's target does not apply to this one's report
        Target.with_company(self.company_b).create(
            {"phase_id": mql.id, "company_id": self.company_b.id, "target_conversion_rate": 10}
        )
        per_phase = self._by_phase(self.manager)
        self.assertEqual(per_phase["mql"].target_conversion_rate, 50)
        self.assertEqual(per_phase["inquiry"].target_days, 3)
        per_team = {
            (line.team_id, line.phase_id.code): line for line in self._lines(self.manager, group_by="team")
        }
        self.assertEqual(per_team[self.marketing, "mql"].target_conversion_rate, 70)
        marketing_inquiry = per_team[self.marketing, "inquiry"]
        self.assertEqual((marketing_inquiry.target_conversion_rate, marketing_inquiry.target_days), (80, 3))
        per_user = {
            (line.user_id, line.phase_id.code): line for line in self._lines(self.manager, group_by="user")
        }
        self.assertEqual(per_user[self.marketer, "mql"].target_conversion_rate, 90)

    def test_nothing_recorded_shows_nothing(self):
        """Before any lead of the period entered a phase, the report is empty (and says how to start)."""
        lines = self._lines(self.manager, date_from="2027-01-01", date_to=False)
        self.assertFalse(lines)
