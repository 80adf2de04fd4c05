from datetime import datetime, timedelta

from freezegun import freeze_time
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.addons.crm_stage_history.tests.common import report_lines
from odoo.tests import new_test_user, tagged

# the report imports pandas lazily; under freezegun's patched datetime that import crashes the interpreter
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

T0 = datetime(2025, 1, 6, 9, 0)
AS_OF = datetime(2025, 10, 15, 12, 0)
# the numbers of a line a user reads
NUMBERS = ("decided", "won", "win_rate", "ci_low", "ci_high", "open_leads", "stage_rate")
SCORES = ("brier_stage", "brier_phase", "brier_gain", "gain_low", "gain_high")


class DecisionPhaseReportCase(Json2Case):
    """A team's 30 opportunities over 2025, half of each of two salespersons: created in January, half
    moved on to Proposal in February; a third of the customers start comparing vendors in January (most of
    them are won), a third explore solutions in February; decided from March to August, one in seven
    still open. Another company's manager has leads of his own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = new_test_user(
            cls.env, login="dpr_manager", name="Mona Phase", groups="sales_team.group_sale_manager"
        )
        cls.rep, cls.rep_2 = (
            new_test_user(cls.env, login=login, name=name, groups="sales_team.group_sale_salesman")
            for login, name in (("dpr_rep", "Rick Phase"), ("dpr_rep_2", "Rosa Phase"))
        )
        cls.team = cls.env["crm.team"].create({"name": "Phase Team"})
        Stage = cls.env["crm.stage"]
        cls.inquiry, cls.proposal = Stage.create(
            [
                {"name": name, "sequence": seq, "team_ids": [(6, 0, cls.team.ids)]}
                for name, seq in (("Phase Inquiry", 800), ("Phase Proposal", 810))
            ]
        )
        cls.won_stage = Stage.create(
            {"name": "Phase Won", "sequence": 890, "is_won": True, "team_ids": [(6, 0, cls.team.ids)]}
        )
        cls.comparing = cls.env.ref("crm_stage_survey.crm_decision_phase_comparing")
        cls.exploring = cls.env.ref("crm_stage_survey.crm_decision_phase_exploring")
        Lead = cls.env["crm.lead"]
        cls.leads = Lead.browse()
        for i in range(30):
            with freeze_time(T0 + timedelta(hours=i)):
                cls.leads |= Lead.create(
                    {
                        "name": f"Phase {i}",
                        "type": "opportunity",
                        "team_id": cls.team.id,
                        "user_id": (cls.rep if i % 2 else cls.rep_2).id,
                        "stage_id": cls.inquiry.id,
                    }
                )
        for i, lead in enumerate(cls.leads):
            if i % 3 == 0:
                with freeze_time(T0 + timedelta(days=14, hours=i)):
                    lead._decision_phase_set(cls.comparing, "correction", reason="test")
            elif i % 3 == 1:
                with freeze_time(T0 + timedelta(days=35, hours=i)):
                    lead._decision_phase_set(cls.exploring, "correction", reason="test")
            if i % 2 == 0:
                with freeze_time(T0 + timedelta(days=40 + i % 4)):
                    lead.stage_id = cls.proposal
            if i % 7 == 6:
                continue  # still open
            with freeze_time(T0 + timedelta(days=60 + 30 * (i % 6))):
                if i % 3 == 0 and i % 9 != 0 or i % 5 == 0:
                    lead.action_set_won()
                else:
                    lead.action_set_lost()
        # another company, its manager and lead
        cls.company_2 = cls.env["res.company"].create({"name": "Phase Company 2"})
        cls.manager_2 = new_test_user(
            cls.env,
            login="dpr_manager_2",
            groups="sales_team.group_sale_manager",
            company_id=cls.company_2.id,
            company_ids=[(6, 0, cls.company_2.ids)],
        )
        team_2 = cls.env["crm.team"].create({"name": "Phase Team 2", "company_id": cls.company_2.id})
        with freeze_time(T0):
            other = Lead.create(
                {
                    "name": "Phase elsewhere",
                    "type": "opportunity",
                    "team_id": team_2.id,
                    "company_id": cls.company_2.id,
                    "user_id": cls.manager_2.id,
                    "stage_id": cls.inquiry.id,
                }
            )
        with freeze_time(T0 + timedelta(days=20)):
            other._decision_phase_set(cls.comparing, "correction", reason="test")
        with freeze_time(T0 + timedelta(days=70)):
            other.action_set_won()

    def _lines(self, user, **vals):
        """The report's lines as ``user`` reads them at AS_OF, keyed by (stage, phase) ids."""
        form = self.env["crm.decision.phase.report"].with_user(user).create(vals)
        with freeze_time(AS_OF):
            lines = report_lines(form.env, form.action_show())
        return lines

    @staticmethod
    def _odoo_numbers(lines):
        return {
            (line.stage_id.id, line.phase_id.id): tuple(round(line[name], 6) for name in NUMBERS)
            for line in lines
        }

    def _plain_numbers(self, transitions, changes, holdout_months=6):
        """The plain functions' numbers on tables keyed by names, as report lines keyed by ids."""
        from funnel_metrics import phase_forecast_gain, phase_observations, phase_win_rates  # noqa: PLC0415

        observations = phase_observations(transitions, changes, as_of=AS_OF.isoformat())
        rates = phase_win_rates(observations)
        gain = phase_forecast_gain(observations, holdout_months=holdout_months)
        stage_ids = {stage.name: stage.id for stage in self.inquiry | self.proposal | self.won_stage}
        phase_ids = {phase.name: phase.id for phase in self.comparing | self.exploring}

        def number(value, scale=1):  # Odoo keeps "no estimate" (NaN) as an empty field, read as 0.0
            return 0.0 if value != value else round(float(value) * scale, 6)

        lines = {
            (stage_ids[row["stage"]], phase_ids.get(row["phase"], False)): (
                int(row["n"]),
                int(row["won"]),
                number(row["rate"], 100),
                number(row["ci_low"], 100),
                number(row["ci_high"], 100),
                int(row["open"]),
                number(row["stage_rate"], 100),
            )
            for _index, row in rates.iterrows()
        }
        scores = tuple(
            number(gain.attrs[name]) for name in ("brier_stage", "brier_phase", "gain", "ci_low", "ci_high")
        )
        return lines, scores, gain.attrs["verdict"]


@tagged("post_install", "-at_install")
class TestDecisionPhaseReportSameNumbers(DecisionPhaseReportCase):
    """The report in Odoo and funnel_metrics over JSON-2 (the funnel-metrics command's extractors) read
    the same database: they must give the same numbers."""

    def _extracted(self, user):
        from funnel_metrics.extract import connect, extract_phase_changes, extract_transitions  # noqa: PLC0415

        # the SDK's own HTTP client carries no test cookie: let its requests through
        with self.allow_requests(all_requests=True):
            connection = connect(self.base_url(), self.env.cr.dbname, user.login, self.json2_key(user))
            transitions = extract_transitions(connection, teams=self.team.ids, page_size=7)
            changes = extract_phase_changes(connection, transitions, page_size=4)
        return transitions, changes

    def test_report_and_command_give_the_same_numbers(self):
        lines = self._lines(self.manager, team_ids=[(6, 0, self.team.ids)])
        expected, scores, verdict = self._plain_numbers(*self._extracted(self.manager))
        self.assertEqual(self._odoo_numbers(lines), expected)
        self.assertEqual({tuple(round(line[name], 6) for name in SCORES) for line in lines}, {scores})
        self.assertEqual(set(lines.mapped("verdict")), {verdict})
        # something to read: the three phases (none, exploring, comparing) in both stages, decided leads
        self.assertEqual(len(lines), 6)
        comparing = lines.filtered(lambda line: line.phase_id == self.comparing)
        self.assertGreater(min(comparing.mapped("win_rate")), max((lines - comparing).mapped("win_rate")))

    def test_a_salesperson_sees_the_numbers_of_his_own_leads(self):
        """Computed with his rights: the plain functions on his own leads' history, read over JSON-2 as
        him, and on the manager's read cut to his leads."""
        lines = self._lines(self.rep, team_ids=[(6, 0, self.team.ids)])
        transitions, changes = self._extracted(self.rep)
        his = self.leads.filtered(lambda lead: lead.user_id == self.rep)
        self.assertEqual(set(transitions["lead_id"]), set(his.ids))
        expected, _scores, _verdict = self._plain_numbers(transitions, changes)
        self.assertEqual(self._odoo_numbers(lines), expected)
        # the manager's read cut to his leads gives the same
        all_transitions, all_changes = self._extracted(self.manager)
        mine, _scores, _verdict = self._plain_numbers(
            all_transitions[all_transitions["lead_id"].isin(his.ids)],
            all_changes[all_changes["lead_id"].isin(his.ids)],
        )
        self.assertEqual(mine, expected)

    def test_another_company_is_not_seen(self):
        mine = self._lines(self.manager_2)
        self.assertEqual(len(mine), 1)
        self.assertEqual((mine.phase_id, mine.decided, mine.won), (self.comparing, 1, 1))


@tagged("post_install", "-at_install")
class TestDecisionPhaseReportTour(DecisionPhaseReportCase):
    """The report in the browser (static/src/tours/crm_decision_phase_report_tour.js)."""

    def test_manager_and_salesperson_read_the_report(self):
        for user in (self.manager, self.rep):
            with self.subTest(user=user.login):
                self.start_tour(
                    "/odoo/action-crm_stage_survey.crm_decision_phase_report_action",
                    "crm_decision_phase_report_tour",
                    login=user.login,
                )
