from odoo.tests import HttpCase, tagged

# the report imports pandas lazily; under freezegun's patched datetime that import crashes the interpreter
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

from .early_warning_scenario import build_scenario


@tagged("post_install", "-at_install")
class TestEarlyWarningTour(HttpCase):
    """The Early Warnings list in the browser (static/src/tours/crm_stage_history_early_warning_tour.js), as a
    sales manager and as a salesperson, on the scenario of early_warning_scenario.py."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build_scenario(cls)

    def test_manager(self):
        self.start_tour(
            "/odoo/action-crm_stage_history.crm_early_warning_report_action",
            "crm_stage_history_early_warning_manager_tour",
            login=self.manager.login,
        )

    def test_salesperson(self):
        self.start_tour(
            "/odoo/action-crm_stage_history.crm_early_warning_report_action",
            "crm_stage_history_early_warning_rep_tour",
            login=self.alice.login,
        )
