import xmlrpc.client

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged, users

from .common import StageHistoryCase


@tagged("post_install", "-at_install", "is_query_count")
class TestFunnelRows(StageHistoryCase):
    """``funnel_rows``, the page of stage history ``funnel-metrics export`` reads: the stays and leads the
    user may read, every lead once across the pages, values XML-RPC can carry, a fixed number of queries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tag = cls.env["crm.tag"].create({"name": "Rows Tag"})
        cls.mine = cls._lead("Mine", tag_ids=[(6, 0, cls.tag.ids)], expected_revenue=1200.0)
        cls.mine.write({"stage_id": cls.s2.id})
        cls.theirs = cls._lead("Theirs", user=cls.salesman_2)
        cls.lost = cls._lead("Lost")
        cls.lost.action_set_lost()
        cls.other_company = cls.env["res.company"].create({"name": "Rows Other Co"})
        cls.outsider = new_test_user(
            cls.env,
            login="sh_outsider",
            groups="sales_team.group_sale_manager",
            company_id=cls.other_company.id,
            company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.elsewhere = cls._lead(
            "Elsewhere", user=cls.outsider, company_id=cls.other_company.id, team_id=False
        )

    def _all_pages(self, limit, **kwargs):
        """Every page from the first, as the extractor asks for them; (pages, stays by lead, leads)."""
        History = self.env["crm.lead.stage.history"]
        pages, after = [], 0
        while True:
            page = History.funnel_rows(after_lead_id=after, limit=limit, **kwargs)
            pages.append(page)
            after = page["next_lead_id"]
            if not after:
                break
        stays = [lead for page in pages for lead in page["stays"]["lead_id"]]
        leads = [lead for page in pages for lead in page["leads"]["id"]]
        return pages, stays, leads

    def _ours(self, ids):
        return [i for i in ids if i in (self.mine | self.theirs | self.lost | self.elsewhere).ids]

    @users("sh_manager")
    def test_pages_cover_every_readable_lead_once_lost_ones_included(self):
        pages, stays, leads = self._all_pages(limit=2)
        self.assertGreater(len(pages), 2)
        self.assertEqual(self._ours(leads), sorted((self.mine | self.theirs | self.lost).ids))
        self.assertEqual(len(leads), len(set(leads)), "a lead in one page only")
        self.assertEqual(stays.count(self.mine.id), 2)
        page = next(p for p in pages if self.mine.id in p["leads"]["id"])
        row = page["leads"]["id"].index(self.mine.id)
        self.assertEqual(page["leads"]["tag_ids"][row], self.tag.ids)
        self.assertEqual(page["leads"]["expected_revenue"][row], 1200.0)
        self.assertEqual(page["leads"]["name"][row], "Mine")
        first = page["stays"]["lead_id"].index(self.mine.id)
        self.assertEqual(page["stays"]["stage_id"][first : first + 2], [self.s1.id, self.s2.id])
        self.assertIs(page["stays"]["date_out"][first + 1], False, "the open stay has no end")
        page = next(p for p in pages if self.lost.id in p["leads"]["id"])
        row = page["leads"]["id"].index(self.lost.id)
        self.assertEqual((page["leads"]["won_status"][row], page["leads"]["active"][row]), ("lost", False))
        # every value travels over XML-RPC (no None, ints within its limits)
        for page in pages:
            xmlrpc.client.dumps((page,), methodresponse=True, allow_none=False)

    @users("sh_salesman")
    def test_a_salesman_reads_the_stays_of_his_own_leads(self):
        _pages, stays, leads = self._all_pages(limit=50)
        self.assertEqual(self._ours(leads), sorted((self.mine | self.lost).ids))
        self.assertNotIn(self.theirs.id, stays)

    @users("sh_outsider")
    def test_another_company_reads_only_its_own(self):
        _pages, _stays, leads = self._all_pages(limit=50)
        self.assertEqual(self._ours(leads), self.elsewhere.ids)

    @users("sh_manager")
    def test_the_period_and_the_teams_leave_out_leads_never_in_them(self):
        History = self.env["crm.lead.stage.history"]
        began = self.mine.stage_history_ids.sorted("date_in")[0].date_in
        after = History.funnel_rows(start=began.strftime("%Y-%m-%d %H:%M:%S.%f"), limit=1000)
        self.assertIn(self.mine.id, after["leads"]["id"])
        end = History.funnel_rows(end=began.strftime("%Y-%m-%d %H:%M:%S"), limit=1000)
        self.assertNotIn(self.mine.id, end["leads"]["id"], "no stay before the end: never in the cohort")
        of_team = History.funnel_rows(team_ids=self.team.ids, limit=1000)
        self.assertIn(self.mine.id, of_team["leads"]["id"])
        other = History.funnel_rows(team_ids=self.other_team.ids, limit=1000)
        self.assertNotIn(self.mine.id, other["leads"]["id"], "no stay in the team: never in its report")

    @users("sh_manager")
    def test_bad_arguments_are_refused_with_a_message(self):
        History = self.env["crm.lead.stage.history"]
        with self.assertRaises(UserError):
            History.funnel_rows(limit=0)
        with self.assertRaises(UserError):
            History.funnel_rows(start="yesterday")
        with self.assertRaises(UserError):
            History.funnel_rows(after_lead_id="x")

    def test_read_only_and_refused_to_users_without_sales_rights(self):
        History = self.env["crm.lead.stage.history"]
        self.assertTrue(getattr(type(History).funnel_rows, "_readonly", False), "served by a read replica")
        portal = new_test_user(self.env, login="sh_rows_portal", groups="base.group_portal")
        with self.assertRaises(AccessError):
            History.with_user(portal).funnel_rows()

    @users("sh_manager")
    def test_a_page_costs_the_same_queries_whatever_its_size(self):
        History = self.env["crm.lead.stage.history"]
        for count in (3, 30):
            for _i in range(count):
                self._lead("More", tag_ids=[(6, 0, self.tag.ids)]).write({"stage_id": self.s3.id})
            History.funnel_rows(limit=1000)  # warm: access rules
            self.env.invalidate_all()
            with self.assertQueryCount(sh_manager=3):
                page = History.funnel_rows(limit=1000)
            self.assertGreaterEqual(len(page["leads"]["id"]), count)
