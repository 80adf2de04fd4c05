from unittest.mock import patch

from odoo.tests import tagged, users

from .common import StageHistoryCase, report_lines


@tagged("post_install", "-at_install", "is_query_count")
class TestStageHistoryPerformance(StageHistoryCase):
    """Recording history must not add queries per lead: one write on N leads is one batch."""

    def _queries_for(self, leads, vals):
        """(all queries, queries on the history table) of one write on ``leads``, flushed."""
        self.env.flush_all()
        self.env.invalidate_all()
        cr = self.env.cr
        ours = []
        execute = cr.execute

        def spy(query, params=None, log_exceptions=True):
            if "crm_lead_stage_history" in str(query):
                ours.append(query)
            return execute(query, params, log_exceptions)

        before = cr.sql_log_count
        with patch.object(cr, "execute", spy):
            leads.write(vals)
            self.env.flush_all()
        return cr.sql_log_count - before, len(ours)

    def test_stage_write_query_count_does_not_grow_with_the_batch(self):
        small, large = self._leads(5), self._leads(60)
        (total_small, ours_small), (total_large, ours_large) = (
            self._queries_for(leads, {"stage_id": self.s2.id}) for leads in (small, large)
        )
        self.assertEqual(total_small, total_large, "queries for 5 leads vs 60 leads")
        self.assertEqual((ours_small, ours_large), (1, 1), "one statement closes and opens the stays")
        # archiving: crm's own lead-scoring bookkeeping varies, the history part does not
        counts = [self._queries_for(leads, {"active": False})[1] for leads in (small, large)]
        self.assertEqual(counts, [1, 1], "one statement closes the stays")
        self.assertEqual(len(self.History.search([("lead_id", "in", large.ids)])), 120)

    def test_a_write_that_moves_nothing_costs_no_history_query(self):
        leads = self._leads(20)
        _total, ours = self._queries_for(leads, {"stage_id": self.s1.id, "priority": "2"})
        self.assertEqual(ours, 0)
        _total, ours = self._queries_for(leads, {"active": True})
        self.assertEqual(ours, 0)

    @users("sh_manager")
    def test_stage_write_query_count(self):
        # warm: the user's groups and access rules, the skip table
        self._leads(2).with_env(self.env).write({"stage_id": self.s2.id})
        leads = self._leads(50).with_env(self.env)
        self.env.flush_all()
        self.env.invalidate_all()
        # pinned: crm's own write and flush (11), plus the one statement that closes and opens the stays
        with self.assertQueryCount(sh_manager=12):
            leads.write({"stage_id": self.s3.id})
        self.assertEqual(
            len(
                self.History.search(
                    [("lead_id", "in", leads.ids), ("is_current", "=", True), ("stage_id", "=", self.s3.id)]
                )
            ),
            50,
        )

    def _query_count(self, func):
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_funnel_report_and_stuck_filter_read_the_targets_once(self):
        """The targets are read once per report or search: more stages, targets and leads, same queries."""
        Target, Lead = self.env["crm.stage.target"], self.env["crm.lead"]
        Target.create({"stage_id": self.s1.id, "target_days_in_stage": 1, "target_conversion_rate": 50})
        first = self._leads(3)

        def report():
            action = (
                self.env["crm.stage.funnel.report"]
                .create({"group_by": "user", "team_ids": [(6, 0, self.team.ids)]})
                .action_show()
            )
            report_lines(self.env, action)

        def stuck():
            Lead.search([("is_stage_stuck", "=", True)])

        report()  # warm the caches
        few = [self._query_count(report), self._query_count(stuck)]
        more = self._leads(20, user=self.salesman_2)
        for stage in (self.s2, self.s3, self.s4):
            (first | more).write({"stage_id": stage.id})
            Target.create({"stage_id": stage.id, "target_days_in_stage": 2})
            Target.create({"stage_id": stage.id, "team_id": self.team.id, "target_days_in_stage": 3})
            Target.create({"stage_id": stage.id, "user_id": self.salesman_2.id, "target_conversion_rate": 70})
        many = [self._query_count(report), self._query_count(stuck)]
        self.assertEqual(many, few, "queries of the report and of the stuck filter, few vs many stages")


@tagged("post_install", "-at_install", "is_query_count")
class TestReportQueryCounts(StageHistoryCase):
    """The funnel report and the calibration read the stays in one query, whatever the number of leads:
    a year of a large pipeline is hundreds of thousands of stays, read as bare ids with their leads'
    outcome, never record by record and never as a list of lead ids written into the SQL. That read is a
    COPY, which Odoo's counter does not see: the pins count the rest of the read the report's list makes
    (``web_search_read`` of its columns, which computes the lines: the stages, the targets, the lines'
    query, the names of the stages, teams and salespersons shown; a salesperson's name is his partner's),
    which must not grow with the leads either. Opening the report (its form's Show or Measure) computes
    nothing: it writes the form only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.stage.target"].create(
            {"stage_id": cls.s1.id, "target_days_in_stage": 1, "target_conversion_rate": 50}
        )
        cls._journeys(3)

    @classmethod
    def _journeys(cls, count):
        """``count`` leads of each salesperson that went through the pipeline: one won, one lost in
        Proposal, the others still open in Qualified."""
        for user in (cls.salesman, cls.salesman_2):
            leads = cls._leads(count, user=user)
            leads.write({"stage_id": cls.s2.id})
            leads[:2].write({"stage_id": cls.s3.id})
            leads[:1].write({"stage_id": cls.won.id})
            leads[1:2].action_set_lost()
        cls.env.flush_all()

    def _pinned(self, action, counts):
        """The list's read of the report ``action`` opens, within the pinned query counts, with 3 and then
        23 leads per salesperson: its records, as ``web_search_read`` gives them."""
        Line = self.env[action["res_model"]].with_context(**action["context"])
        spec = {
            name: {"fields": {"display_name": {}}} if field.type == "many2one" else {}
            for name, field in Line._fields.items()
            if field.store and name != "id"
        }

        def call():
            return Line.web_search_read([], spec)["records"]

        call()  # caches (stage skip table, ir.rule domains, translations) are warm in production; the
        # pins allow for the current user's record, which the test framework may have cached or not
        for added in (0, 20):
            if added:
                self._journeys(added)
            # a new request: nothing of the lines computed before
            self.env.invalidate_all()
            self.env.cr.cache.clear()
            with self.assertQueryCount(**counts):
                records = call()
        return records

    def _funnel(self, group_by):
        return self.env["crm.stage.funnel.report"].create({"group_by": group_by}).action_show()

    def _entered_inquiry(self, records):
        return sum(record["entered"] for record in records if record["stage_id"]["id"] == self.s1.id)

    @users("sh_manager")
    def test_funnel_report_per_stage(self):
        records = self._pinned(self._funnel("stage"), {"sh_manager": 5})
        self.assertEqual(self._entered_inquiry(records), 46, "23 leads of each salesperson")

    @users("sh_manager")
    def test_funnel_report_per_team(self):
        records = self._pinned(self._funnel("team"), {"sh_manager": 6})
        inquiry = [record for record in records if record["stage_id"]["id"] == self.s1.id]
        self.assertEqual([record["team_id"]["id"] for record in inquiry], self.team.ids)
        self.assertEqual(self._entered_inquiry(records), 46)

    @users("sh_manager")
    def test_funnel_report_per_salesperson(self):
        records = self._pinned(self._funnel("user"), {"sh_manager": 7})
        self.assertEqual(
            {
                record["user_id"]["id"]: record["entered"]
                for record in records
                if record["stage_id"]["id"] == self.s1.id
            },
            {self.salesman.id: 23, self.salesman_2.id: 23},
        )

    @users("sh_salesman")
    def test_funnel_report_of_a_salesperson(self):
        records = self._pinned(self._funnel("stage"), {"sh_salesman": 5})
        self.assertEqual(self._entered_inquiry(records), 23, "his own 23 leads, not his colleague's")

    @users("sh_manager")
    def test_calibration(self):
        action = self.env["crm.stage.calibration"].create({}).action_measure()
        records = self._pinned(action, {"sh_manager": 4})
        inquiry = [record for record in records if record["stage_id"]["id"] == self.s1.id]
        self.assertEqual([record["sample_size"] for record in inquiry], [46])
