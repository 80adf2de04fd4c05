import threading
from datetime import date, datetime

from freezegun import freeze_time
from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..models.crm_lead_probability_snapshot import LOCK_SQL
from .common import StageHistoryCase, report_lines

# month ends of the stays below: March 31 (instant April 1), April 30, May 31
MARCH_2 = datetime(2026, 3, 2, 9, 0)
APRIL_11 = datetime(2026, 4, 11, 9, 0)
MAY_11 = datetime(2026, 5, 11, 9, 0)
JUNE_10 = datetime(2026, 6, 10, 9, 0)


@tagged("post_install", "-at_install")
class TestProbabilitySnapshot(StageHistoryCase):
    """Six opportunities enter Inquiry (20 %) on March 2 and Qualified (50 %) on April 11; on May 11 two are
    won, two lost, two stay open. Month ends: March 31 in Inquiry, April 30 in Qualified (all six), May 31
    in Qualified (the two open ones)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Snapshot = cls.env["crm.lead.probability.snapshot"]
        with freeze_time(MARCH_2):
            cls.leads = cls.env["crm.lead"].create(
                [
                    {
                        "name": f"Snapshot {i}",
                        "type": "opportunity",
                        "team_id": cls.team.id,
                        "stage_id": cls.s1.id,
                        "user_id": (cls.salesman_2 if i == 4 else cls.salesman).id,
                        "probability": 20,
                    }
                    for i in range(6)
                ]
            )
        # created on March 2 (the database's clock is not frozen)
        cls.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s WHERE id = ANY(%s)", (MARCH_2, cls.leads.ids)
        )
        with freeze_time(APRIL_11):
            cls.leads.write({"stage_id": cls.s2.id, "probability": 50})
        with freeze_time(MAY_11):
            cls.leads[:2].action_set_won()
            cls.leads[2:4].action_set_lost()

    def _rows(self, leads=None):
        snapshots = self.Snapshot.search([("lead_id", "in", (leads or self.leads).ids)])
        return sorted((s.lead_id.id, s.snapshot_date, s.stage_id, s.probability, s.origin) for s in snapshots)

    def test_backfill_gives_every_month_end_of_the_stage_history(self):
        with freeze_time(JUNE_10):
            self.Snapshot._backfill_snapshots()
        expected = []
        for i, lead in enumerate(self.leads):
            expected.append((lead.id, date(2026, 3, 31), self.s1, 20.0, "backfill"))
            expected.append((lead.id, date(2026, 4, 30), self.s2, 50.0, "backfill"))
            if i >= 4:  # still open
                expected.append((lead.id, date(2026, 5, 31), self.s2, 50.0, "backfill"))
        self.assertEqual(self._rows(), sorted(expected))
        with freeze_time(JUNE_10):
            self.assertEqual(self.Snapshot._backfill_snapshots(), 0, "a rerun adds nothing")

    def test_backfill_is_the_rule_of_funnel_metrics(self):
        """The SQL fill-back and ``funnel_metrics.month_end_snapshots`` give the same month ends on the
        same stays."""
        from funnel_metrics import month_end_snapshots  # noqa: PLC0415

        with freeze_time(JUNE_10):
            self.Snapshot._backfill_snapshots()
            table = self.History._transitions(teams=self.team)
        stated = {self.s1.name: 0.2, self.s2.name: 0.5}
        plain = month_end_snapshots(table, stated, as_of=JUNE_10)
        plain = plain[plain["lead_id"].isin(self.leads.ids)]
        self.assertEqual(
            sorted(
                zip(
                    plain["lead_id"],
                    plain["snapshot_date"].dt.date,
                    plain["stage"],
                    plain["probability"] * 100,
                    strict=True,
                )
            ),
            sorted((lead, day, stage.name, prob) for lead, day, stage, prob, _origin in self._rows()),
        )

    def test_month_end_cron_stores_the_live_open_opportunities(self):
        """At the start of June: the two open opportunities as they stand, dated May 31; predictive
        scoring's probability is told apart from one set by hand; a rerun changes nothing."""
        manual, automated = self.leads[4:6]
        manual.probability = 65
        automated.probability = automated.automated_probability
        later = self._lead("Created in June")  # the database's clock: December
        with freeze_time(datetime(2026, 6, 1, 0, 5)):
            self.assertGreaterEqual(self.Snapshot._cron_month_end_snapshot(), 2)
            rows = self.Snapshot.search([("lead_id", "in", (self.leads | later).ids)])
            self.assertEqual(rows.lead_id, manual | automated, "won, lost and June's leads are not in May")
            self.assertEqual(set(rows.mapped("snapshot_date")), {date(2026, 5, 31)})
            self.assertEqual(set(rows.mapped("origin")), {"monthly"})
            by_lead = {row.lead_id: row for row in rows}
            self.assertEqual((by_lead[manual].probability, by_lead[manual].is_automated), (65.0, False))
            self.assertTrue(by_lead[automated].is_automated)
            self.assertEqual(self.Snapshot._cron_month_end_snapshot(), 0, "a rerun adds nothing")

    def test_month_end_cron_comes_back_while_another_writer_holds_the_lock(self):
        cron = self.env.ref("crm_stage_history.ir_cron_probability_snapshot")
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute(LOCK_SQL.code, LOCK_SQL.params)
            with freeze_time(datetime(2026, 6, 1, 0, 5)):
                self.assertEqual(self.Snapshot._cron_month_end_snapshot(), 0)
                self.assertIsNone(self.Snapshot._backfill_snapshots())
                with self.assertRaises(UserError):
                    self.Snapshot.with_user(self.sales_manager).action_backfill()
        finally:
            other.rollback()
            other.close()
        self.assertFalse(self.Snapshot.search([("lead_id", "in", self.leads.ids)]), "nothing written")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertEqual(triggers.mapped("call_at"), [datetime(2026, 6, 1, 0, 15)], "it comes back in 10 min")
        with freeze_time(datetime(2026, 6, 1, 0, 15)):
            self.assertGreaterEqual(self.Snapshot._cron_month_end_snapshot(), 2)

    def test_a_month_end_already_filled_back_is_kept(self):
        with freeze_time(datetime(2026, 6, 1, 0, 5)):
            self.Snapshot._backfill_snapshots()
            self.Snapshot._cron_month_end_snapshot()
        may = self.Snapshot.search([("lead_id", "in", self.leads.ids), ("snapshot_date", "=", "2026-05-31")])
        self.assertEqual(set(may.mapped("origin")), {"backfill"})

    def test_fill_back_and_month_end_take_the_same_queries_whatever_the_leads(self):
        for count in (0, 40):
            with self.subTest(more_leads=count):
                with freeze_time(MARCH_2):
                    self._leads(count)
                self.env.cr.execute("DELETE FROM crm_lead_probability_snapshot")
                self.env.flush_all()
                with freeze_time(datetime(2026, 6, 1, 0, 5)), self.assertQueryCount(4):
                    self.assertGreaterEqual(self.Snapshot._backfill_snapshots(), 6 * 2 + count * 2)
                    self.Snapshot._cron_month_end_snapshot()

    def test_nobody_writes_snapshots_but_the_cron_and_the_fill_back(self):
        with freeze_time(JUNE_10):
            self.Snapshot._backfill_snapshots()
        snapshot = self.Snapshot.search([("lead_id", "=", self.leads[0].id)], limit=1)
        for user in (self.salesman, self.sales_manager):
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    snapshot.with_user(user).write({"probability": 99})
                with self.assertRaises(AccessError):
                    snapshot.with_user(user).unlink()
                with self.assertRaises(AccessError):
                    self.Snapshot.with_user(user).create(
                        {"lead_id": self.leads[0].id, "snapshot_date": "2026-01-31", "origin": "monthly"}
                    )
        with self.assertRaises(AccessError):
            self.Snapshot.with_user(self.salesman).action_backfill()

    def test_salesman_sees_his_own_snapshots_another_company_none(self):
        with freeze_time(JUNE_10):
            self.Snapshot._backfill_snapshots()
        own = self.Snapshot.with_user(self.salesman).search([("lead_id", "in", self.leads.ids)])
        self.assertEqual(own.lead_id, self.leads - self.leads[4])
        other_company = self.env["res.company"].create({"name": "Snapshot Elsewhere"})
        stranger = new_test_user(
            self.env,
            login="sh_snap_stranger",
            groups="sales_team.group_sale_manager",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        self.assertFalse(self.Snapshot.with_user(stranger).search([("lead_id", "in", self.leads.ids)]))
        form = self.env["crm.probability.snapshot.report"].with_user(stranger).create({})
        self.assertFalse(report_lines(form.env, form.action_show()))

    def _bands(self, user, **vals):
        form = self.env["crm.probability.snapshot.report"].with_user(user).create(vals)
        return {line.band: line for line in report_lines(form.env, form.action_show())}

    def test_bands_count_decided_snapshots_and_set_open_ones_apart(self):
        with freeze_time(JUNE_10):
            self.Snapshot._backfill_snapshots()
            bands = self._bands(self.sales_manager, team_ids=[(6, 0, self.team.ids)], band_count=10)
        low, half = bands["20-30 %"], bands["50-60 %"]
        # March 31 at 20 %: 4 decided leads (2 won), 2 open; April 30 and May 31 at 50 % likewise
        self.assertRecordValues(
            low, [{"snapshot_count": 6, "sample_size": 4, "won_count": 2, "lead_count": 4, "open_count": 2}]
        )
        self.assertRecordValues(
            half, [{"snapshot_count": 8, "sample_size": 4, "won_count": 2, "lead_count": 4, "open_count": 4}]
        )
        self.assertAlmostEqual(low.observed, 50.0)
        self.assertAlmostEqual(low.mean_stated, 20.0)
        self.assertLess(low.ci_low, 50.0)
        self.assertGreater(low.ci_high, 50.0)
        # Brier over the 8 decided snapshots: 2 won and 2 lost at 0.2, at 0.5
        expected = (2 * 0.8**2 + 2 * 0.2**2 + 4 * 0.5**2) / 8
        self.assertAlmostEqual(low.brier_score, expected, places=6)
        self.assertEqual(bands["90-100 %"].sample_size, 0)
        with freeze_time(JUNE_10):
            april = self._bands(self.sales_manager, date_from="2026-04-01", date_to="2026-04-30")
        self.assertEqual(april["20-30 %"].snapshot_count, 0, "the period is of month ends")
        with freeze_time(JUNE_10):
            mine = self._bands(self.salesman, team_ids=[(6, 0, self.team.ids)])
        self.assertEqual(mine["20-30 %"].snapshot_count, 5, "a salesman counts his own opportunities")

    def test_apply_to_stages_from_the_per_stage_view(self):
        with freeze_time(JUNE_10):
            self.Snapshot._backfill_snapshots()
            form = (
                self.env["crm.probability.snapshot.report"]
                .with_user(self.sales_manager)
                .create({"team_ids": [(6, 0, self.team.ids)], "min_sample": 1})
            )
            action = form.action_show_stages()
            lines = report_lines(form.env, action)
        self.assertEqual(lines.stage_id, self.s1 | self.s2)
        line = lines.filtered(lambda line: line.stage_id == self.s2)
        self.assertAlmostEqual(line.observed, 50.0)
        self.assertEqual(line.sample_size, 4)
        line.action_apply()
        self.assertAlmostEqual(self.s2.probability, 50.0)
        self.assertEqual(self.s2.calibration_sample_size, 4)
        with self.assertRaises(AccessError):
            self.env["crm.probability.snapshot.stage.report"].with_user(self.salesman).create({})


@tagged("post_install", "-at_install")
class TestProbabilitySnapshotWorkers(StageHistoryCase):
    """Two workers storing the same month end at once, on real connections with real commits: each
    snapshot once."""

    def test_two_workers_store_each_snapshot_once(self):
        """The cron's statements run on two real connections (this test's transaction is never committed):
        the second worker, while the first one is storing, leaves it to it; run again after the first one
        committed, it adds nothing."""
        dbname = self.env.cr.dbname
        setup = api.Environment(sql_db.db_connect(dbname).cursor(), SUPERUSER_ID, {})
        lead = None
        try:
            stage = setup["crm.stage"].create({"name": "Concurrent Snapshot", "sequence": 900})
            lead = setup["crm.lead"].create(
                {"name": "Contended month end", "type": "opportunity", "stage_id": stage.id}
            )
            setup.cr.execute(
                "UPDATE crm_lead SET create_date = %s WHERE id = %s", (datetime(2026, 5, 3), lead.id)
            )
            setup.cr.commit()
            Snapshot = setup["crm.lead.probability.snapshot"]
            insert = Snapshot._insert_sql(
                Snapshot._month_end_select(datetime(2026, 6, 1), datetime(2026, 6, 1))
            )

            def run(cr):
                """A worker's transaction: the writer lock, then the insert if it got the lock."""
                cr.execute(LOCK_SQL)
                if not cr.fetchone()[0]:
                    return None
                cr.execute(insert)
                return cr.rowcount

            first = sql_db.db_connect(dbname).cursor()
            stored = {"first": run(first)}

            def second_run():
                with sql_db.db_connect(dbname).cursor() as second:  # commits and closes
                    stored["second"] = run(second)

            thread = threading.Thread(target=second_run)
            thread.start()
            thread.join(timeout=30)
            self.assertIsNone(stored["second"], "the second worker leaves the month end to the first")
            first.commit()
            first.close()
            with sql_db.db_connect(dbname).cursor() as again:
                stored["again"] = run(again)
            self.assertGreaterEqual(stored["first"], 1)
            self.assertEqual(stored["again"], 0, "run again, it stores nothing twice")
            setup.cr.rollback()  # a fresh snapshot
            setup.cr.execute(
                "SELECT count(*) FROM crm_lead_probability_snapshot WHERE lead_id = %s", lead.ids
            )
            self.assertEqual(setup.cr.fetchone()[0], 1)
        finally:
            setup.cr.rollback()
            setup.cr.execute(
                """DELETE FROM crm_lead_probability_snapshot
                    WHERE snapshot_date = '2026-05-31' AND create_date = %s""",
                (datetime(2026, 6, 1),),
            )
            if lead:
                lead.unlink()
                setup["crm.stage"].search([("name", "=", "Concurrent Snapshot")]).unlink()
            setup.cr.commit()
            setup.cr.close()
