from datetime import timedelta

from freezegun import freeze_time
from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

# the report imports pandas lazily; under freezegun's patched datetime that import crashes the interpreter
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import


@tagged("post_install", "-at_install")
class TestProbabilitySnapshotTour(HttpCase):
    """Probability Calibration by Month-End in the browser
    (static/src/tours/crm_stage_history_probability_snapshot_tour.js): six opportunities stated at 20 % in
    Snapshot Inquiry for 40 days, then 50 % in Snapshot Qualified; 30 days later two are won, two lost, two
    still open. Half of them are the salesman's (one won, one lost, one open)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = new_test_user(
            cls.env, login="sh_snap_tour_manager", groups="sales_team.group_sale_manager"
        )
        cls.salesman = new_test_user(
            cls.env, login="sh_snap_tour_salesman", groups="sales_team.group_sale_salesman"
        )
        team = cls.env["crm.team"].create({"name": "Snapshot Tour Team"})
        inquiry, qualified = (
            cls.env["crm.stage"].create(
                {"name": name, "sequence": seq, "probability": prob, "team_ids": [(6, 0, team.ids)]}
            )
            for name, seq, prob in (("Snapshot Inquiry", 300, 20), ("Snapshot Qualified", 310, 50))
        )
        start = fields.Datetime.now() - timedelta(days=120)
        with freeze_time(start):
            leads = cls.env["crm.lead"].create(
                [
                    {
                        "name": f"Snapshot tour {i}",
                        "type": "opportunity",
                        "team_id": team.id,
                        "stage_id": inquiry.id,
                        "probability": 20,
                        "user_id": (cls.salesman if i % 2 else cls.manager).id,
                    }
                    for i in range(6)
                ]
            )
        with freeze_time(start + timedelta(days=40)):
            leads.write({"stage_id": qualified.id, "probability": 50})
        with freeze_time(start + timedelta(days=70)):
            leads[:2].action_set_won()
            leads[2:4].action_set_lost()
        cls.env["crm.lead.probability.snapshot"]._backfill_snapshots()

    def test_manager(self):
        self.start_tour(
            "/odoo/action-crm_stage_history.crm_probability_snapshot_report_action",
            "crm_stage_history_probability_snapshot_manager_tour",
            login=self.manager.login,
        )
        self.start_tour(
            "/odoo/action-crm_stage_history.crm_probability_snapshot_report_action",
            "crm_stage_history_probability_snapshot_apply_tour",
            login=self.manager.login,
        )
        inquiry = self.env["crm.stage"].search([("name", "=", "Snapshot Inquiry")])
        self.assertTrue(inquiry.calibration_date, "the manager applied the measure to the stage")

    def test_salesman(self):
        self.start_tour(
            "/odoo/action-crm_stage_history.crm_probability_snapshot_report_action",
            "crm_stage_history_probability_snapshot_rep_tour",
            login=self.salesman.login,
        )
