from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import StageHistoryCase


@tagged("post_install", "-at_install")
class TestCampaignCost(StageHistoryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls.env["utm.campaign"].create({"title": "Spring fair", "cost": 1000})
        cls.free = cls.env["utm.campaign"].create({"title": "Word of mouth"})
        leads = cls._leads(4)
        leads.campaign_id = cls.campaign
        leads[:2].write({"stage_id": cls.s2.id})  # qualified: moved past the stage they entered in
        leads[0].action_set_won()
        word = cls._lead("Referral", campaign_id=cls.free.id)
        word.stage_id = cls.s3

    def _report(self, user=None):
        self.env.flush_all()
        Report = self.env["crm.campaign.cost.report"].with_user(user or self.sales_manager)
        return {row.campaign_id: row for row in Report.search([])}

    def test_cost_per_lead_qualified_and_won(self):
        rows = self._report()
        self.assertRecordValues(
            rows[self.campaign],
            [
                {
                    "cost": 1000,
                    "leads": 4,
                    "qualified": 2,
                    "won": 1,
                    "cost_per_lead": 250,
                    "cost_per_qualified": 500,
                    "cost_per_won": 1000,
                }
            ],
        )
        self.assertRecordValues(
            rows[self.free], [{"cost": 0, "leads": 1, "qualified": 1, "cost_per_lead": 0}]
        )

    @mute_logger("odoo.addons.base.models.ir_model")
    def test_costs_are_for_sales_managers(self):
        with self.assertRaises(AccessError):
            self._report(self.salesman)
        campaign = self.campaign.with_user(self.salesman)
        with self.assertRaises(AccessError):
            campaign.write({"cost": 1})
        with self.assertRaises(AccessError):
            campaign.read(["cost"])
        self.campaign.with_user(self.sales_manager).write({"cost": 1200})
        self.assertEqual(self._report()[self.campaign].cost_per_lead, 300)
