from datetime import timedelta

from freezegun import freeze_time
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import T0, StageHistoryCase, report_lines


@tagged("post_install", "-at_install")
class TestCalibration(StageHistoryCase):
    """10 leads enter Inquiry: 6 move on to Qualified, 4 are lost there. Of the 6: 3 won, 1 lost,
    2 still open. Open leads are not failures: P(won | Qualified) = 3 / (3 + 1) = 0.75 and
    P(won | Inquiry) = 6 / 10 * 0.75 = 0.45 — where "won / closed" would say 3 / 8 = 0.375."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s1.probability, cls.s2.probability = 20, 50
        with freeze_time(T0):
            leads = cls._leads(10)
        with freeze_time(T0 + timedelta(days=2)):
            leads[:6].write({"stage_id": cls.s2.id})
            leads[6:].action_set_lost()
        with freeze_time(T0 + timedelta(days=5)):
            leads[:3].action_set_won()
            leads[3].action_set_lost()
        cls.open_leads = leads[4:6]
        cls.manual = leads[5]
        cls.manual.probability = 80  # set by hand: left alone

    def _measure(self, user=None, **vals):
        """Measure's action, and the lines its list reads (measured as they are read)."""
        wizard = (
            self.env["crm.stage.calibration"]
            .with_user(user or self.sales_manager)
            .create({"team_ids": [(6, 0, self.team.ids)], "min_sample": 5, **vals})
        )
        action = wizard.action_measure()
        return action, report_lines(wizard.env, action)

    def _calibrate(self, **vals):
        return self._measure(**vals)[1]

    def test_measured_probabilities_count_open_leads_as_unfinished(self):
        lines = self._calibrate()
        self.assertEqual(lines.stage_id, self.s1 | self.s2, "won stages are not calibrated")
        lines = {line.stage_id: line for line in lines}
        self.assertRecordValues(lines[self.s1], [{"stated": 20.0, "sample_size": 10, "has_observed": True}])
        self.assertAlmostEqual(lines[self.s1].observed, 45.0, places=6)
        self.assertAlmostEqual(lines[self.s1].recommended, 45.0, places=6, msg="10 decided leads >= 5")
        self.assertLess(lines[self.s1].ci_low, 45.0)
        self.assertGreater(lines[self.s1].ci_high, 45.0)
        self.assertAlmostEqual(lines[self.s2].observed, 75.0, places=6)
        self.assertEqual(lines[self.s2].sample_size, 4)
        # 4 decided leads < 5: the recommendation leans on the stated 50% (prior weight 20)
        self.assertAlmostEqual(lines[self.s2].recommended, (4 * 75.0 + 20 * 50.0) / 24, places=6)
        # one Brier score for all decided leads, the same on every line (the list shows it once, below)
        self.assertGreater(lines[self.s1].brier_score, 0)
        self.assertEqual(lines[self.s1].brier_score, lines[self.s2].brier_score)

    def test_apply_updates_stages_and_automatic_open_opportunities(self):
        lines = self._calibrate()
        recommended = {line.stage_id: line.recommended for line in lines}
        with freeze_time(T0 + timedelta(days=10)):
            action = lines.action_apply_with_open_leads()
        self.assertEqual(action["params"]["message"], "2 stages and 1 open opportunities updated.")
        self.assertAlmostEqual(self.s1.probability, recommended[self.s1], places=6)
        self.assertAlmostEqual(self.s2.calibrated_probability, 75.0, places=6)
        self.assertEqual(self.s2.calibration_sample_size, 4)
        self.assertEqual(self.s2.calibration_date, T0 + timedelta(days=10))
        automatic = self.open_leads - self.manual
        self.assertAlmostEqual(automatic.probability, recommended[self.s2], places=6)
        self.assertEqual(self.manual.probability, 80, "a probability set by hand is left alone")

    def test_team_filter_measures_its_leads_over_their_whole_path(self):
        """Two leads Other Team qualifies in Inquiry and hands over to History Team, which wins one and
        loses the other in Qualified: measured for Other Team, they still went through Qualified."""
        with freeze_time(T0):
            handed = self._lead("Handed 1", team_id=self.other_team.id) | self._lead(
                "Handed 2", team_id=self.other_team.id
            )
        with freeze_time(T0 + timedelta(days=1)):
            handed.write({"team_id": self.team.id, "user_id": self.salesman_2.id})
        with freeze_time(T0 + timedelta(days=2)):
            handed.write({"stage_id": self.s2.id})
        with freeze_time(T0 + timedelta(days=4)):
            handed[0].action_set_won()
            handed[1].action_set_lost()
        lines = {line.stage_id: line for line in self._calibrate(team_ids=[(6, 0, self.other_team.ids)])}
        self.assertEqual(set(lines), {self.s1, self.s2})
        self.assertRecordValues(lines[self.s2], [{"sample_size": 2, "observed": 50.0}])
        self.assertRecordValues(lines[self.s1], [{"sample_size": 2, "observed": 50.0}])

    def test_stages_left_out_of_the_selection_keep_their_probability(self):
        """Apply to Stages writes the selected stages only, and no open opportunity."""
        lines = self._calibrate()
        automatic = self.open_leads - self.manual
        before = automatic.probability
        recommended = lines.filtered(lambda line: line.stage_id == self.s2).recommended
        action = lines.filtered(lambda line: line.stage_id == self.s2).action_apply()
        self.assertEqual(action["params"]["message"], "1 stages and 0 open opportunities updated.")
        self.assertAlmostEqual(self.s2.probability, recommended, places=6)
        self.assertEqual(self.s1.probability, 20)
        self.assertFalse(self.s1.calibration_date)
        self.assertEqual(automatic.probability, before, "not asked for the opportunities")
        with self.assertRaisesRegex(UserError, "Select at least one stage"):
            lines.browse().action_apply()

    def test_a_stage_without_a_measure_is_left_as_it_was(self):
        """A stage no decided lead went through has nothing to apply: with measured stages in the
        selection it is named and left as it was; alone, it is refused and nothing is written."""
        fresh = self.env["crm.stage"].create(
            {"name": "Fresh", "sequence": 90, "team_ids": self.team.ids, "probability": 5}
        )
        with freeze_time(T0):
            self._lead("Still fresh", stage=fresh)
        lines = self._calibrate()
        fresh_line = lines.filtered(lambda line: line.stage_id == fresh)
        self.assertRecordValues(fresh_line, [{"has_observed": False, "sample_size": 0}])
        with self.assertRaisesRegex(UserError, "No decided lead measures Fresh"):
            fresh_line.action_apply()
        self.assertFalse((self.s1 | self.s2 | fresh).filtered("calibration_date"))

        action = lines.action_apply()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(
            action["params"]["message"],
            "2 stages and 0 open opportunities updated. Left as they were, no decided lead measures them: "
            "Fresh.",
        )
        self.assertEqual((self.s1 | self.s2).filtered("calibration_date"), self.s1 | self.s2)
        self.assertRecordValues(fresh, [{"probability": 5, "calibration_date": False}])

    def test_empty_period_says_so(self):
        """An empty list, whose help says to widen the filters."""
        action, lines = self._measure(date_from="2030-01-01")
        self.assertFalse(lines)
        self.assertIn("widen the filters", action["help"])

    @mute_logger("odoo.addons.base.models.ir_model")
    def test_calibration_is_for_sales_managers(self):
        with self.assertRaises(AccessError):
            self.env["crm.stage.calibration"].with_user(self.salesman).create({})
        with self.assertRaises(AccessError):
            self.env["crm.stage.calibration.line"].with_user(self.salesman).search([])
