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

    def test_qualified_compares_with_the_stage_the_lead_entered_in(self):
        """Qualified: a later stage, in pipeline order, than the first one; moving back does not count."""
        campaign = self.env["utm.campaign"].create({"title": "Roadshow", "cost": 600})
        back = self._lead("Back to Qualified", stage=self.s3, campaign_id=campaign.id)
        back.stage_id = self.s2  # entered in Proposal, now earlier: not qualified
        around = self._lead("Down then up", stage=self.s2, campaign_id=campaign.id)
        around.stage_id = self.s1
        around.stage_id = self.s3  # entered in Qualified, reached Proposal: qualified
        self._lead("Never moved", stage=self.s4, campaign_id=campaign.id)
        self.assertRecordValues(
            self._report()[campaign], [{"leads": 3, "qualified": 1, "cost_per_qualified": 600}]
        )


@tagged("post_install", "-at_install", "is_query_count")
class TestCampaignCostQueries(StageHistoryCase):
    """The Cost per Lead list costs the same queries whatever the number of campaigns and leads."""

    def _campaigns(self, count, leads):
        campaigns = self.env["utm.campaign"].create(
            [{"title": f"Campaign {i}", "cost": 100 * (i + 1)} for i in range(count)]
        )
        for campaign in campaigns:
            batch = self._leads(leads)
            batch.campaign_id = campaign
            batch[: leads // 2].stage_id = self.s2
        return campaigns

    def _open_the_list(self):
        """What the list asks: its rows with the campaigns' names (it sums its columns over those rows)."""
        self.env.flush_all()
        self.env.invalidate_all()
        Report = self.env["crm.campaign.cost.report"].with_user(self.sales_manager)
        result = Report.web_search_read(
            [],
            {
                "campaign_id": {"fields": {"display_name": {}}},
                "currency_id": {"fields": {}},
                **dict.fromkeys(
                    ("cost", "leads", "qualified", "won", "cost_per_lead", "cost_per_qualified"), {}
                ),
            },
            limit=80,
        )
        rows = result["records"]
        return len(rows), sum(row["leads"] for row in rows), sum(row["qualified"] for row in rows)

    def test_cost_per_lead_list_query_count(self):
        self._campaigns(1, 4)
        self._open_the_list()  # warm the caches
        # pinned: the rows (1), the campaigns' names (1)
        with self.assertQueryCount(2):
            self.assertEqual(self._open_the_list(), (1, 4, 2))
        self._campaigns(6, 10)
        with self.assertQueryCount(2):
            self.assertEqual(self._open_the_list(), (7, 64, 32))
