from odoo.tests import tagged

from .common import HandoffCase


@tagged("post_install", "-at_install", "is_query_count")
class TestPhaseWriteQueries(HandoffCase):
    def _queries(self, act, size=10, prefix="L"):
        """The number of queries ``act(leads)`` makes on ``size`` new leads of Marketing, its writes flushed;
        run once before on other leads, so that the caches a switch on or off cleared are filled again."""
        act(self._leads(size, prefix))
        self.env.flush_all()
        leads = self._leads(size, prefix)
        self.env.flush_all()
        start = self.env.cr.sql_log_count
        act(leads)
        self.env.flush_all()
        return self.env.cr.sql_log_count - start

    def _leads(self, size, prefix):
        return self.env["crm.lead"].create(
            [{"name": f"{prefix}{i}", "type": "lead", "team_id": self.marketing.id} for i in range(size)]
        )

    def _switch(self, on):
        """Switch the lifecycle phases on or off for the company (its routes active or not)."""
        self.env["crm.handoff.route"].with_context(active_test=False).search(
            [("company_id", "=", self.company.id)]
        ).active = on

    def test_a_phase_change_costs_the_same_on_10_and_on_100_leads(self):
        History = self.env["crm.lead.phase.history"]

        def move(leads):
            History._record_moves({lead.id: (self.mql.id, "correction", None) for lead in leads})

        counts = [self._queries(move, size, "P") for size in (10, 100)]
        self.assertEqual(counts, [3, 3], "the leads' phase, the end of their stays, the new stays")
        moved = self.env["crm.lead"].search([("name", "=like", "P%"), ("team_id", "=", self.marketing.id)])
        self.assertEqual(len(moved), 220)
        self.assertEqual(set(moved.mapped("lifecycle_phase_id")), {self.mql})
        self.assertEqual(History.search_count([("lead_id", "in", moved.ids), ("is_current", "=", True)]), 220)

    def test_a_conversion_costs_the_same_extra_on_10_and_on_100_leads(self):
        def convert(leads):
            leads.write({"type": "opportunity"})

        extra = []
        for size in (10, 100):
            self._switch(False)
            off = self._queries(convert, size, "C")
            self._switch(True)
            extra.append(self._queries(convert, size, "C") - off)
        self.assertEqual(
            extra, [4, 4], "one read of the leads, then their phase, their stays ended and opened"
        )

    def test_creating_leads_where_the_feature_is_off_costs_nothing_more(self):
        self._switch(False)
        self.assertEqual(self.env["crm.handoff.route"]._handoff_company_ids(), frozenset(self.company_b.ids))
        off = self._creation()
        self._switch(True)
        on = self._creation()
        self.assertEqual(on - off, 4, f"{off} queries off, {on} on: one read and three writes more")
        # without a route anywhere, the cached check costs no query either: the same count as off
        self._switch(False)
        self.env["crm.handoff.route"].with_company(self.company_b).search([]).active = False
        self.assertFalse(self.env["crm.handoff.route"]._handoff_company_ids())
        self.assertEqual(self._creation(), off)

    def _creation(self):
        """Queries of the creation of 10 leads (after one creation that fills the caches)."""
        self._leads(10, "W")
        self.env.flush_all()
        start = self.env.cr.sql_log_count
        self._leads(10, "L")
        self.env.flush_all()
        return self.env.cr.sql_log_count - start
