from datetime import datetime, timedelta

from freezegun import freeze_time
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

from .common import report_lines

START = datetime(2025, 9, 3, 10, 0)
BAND_NUMBERS = (
    "snapshot_count",
    "sample_size",
    "won_count",
    "lead_count",
    "observed",
    "ci_low",
    "ci_high",
    "mean_stated",
    "open_count",
    "brier_score",
)


@tagged("post_install", "-at_install")
class TestSnapshotsSameNumbers(Json2Case):
    """Probability Calibration by Month-End in Odoo and ``funnel_metrics.probability_bands`` on the snapshots
    the command reads over JSON-2 (``extract_snapshots``): the same numbers, for a manager and for a
    salesman (his own opportunities)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = new_test_user(cls.env, login="sh_snap_manager", groups="sales_team.group_sale_manager")
        cls.alice = new_test_user(cls.env, login="sh_snap_alice", groups="sales_team.group_sale_salesman")
        cls.bob = new_test_user(cls.env, login="sh_snap_bob", groups="sales_team.group_sale_salesman")
        cls.team = cls.env["crm.team"].create({"name": "Snapshot Numbers Team"})
        Stage = cls.env["crm.stage"]
        cls.stages = Stage.create(
            [
                {"name": f"Snap {name}", "sequence": seq, "team_ids": [(6, 0, cls.team.ids)]}
                for name, seq in (("Inquiry", 800), ("Proposal", 810), ("Commit", 820))
            ]
        )
        won = Stage.create({"name": "Snap Won", "sequence": 890, "is_won": True})
        # 24 opportunities over four months, stated 15 % to 90 %: some won, some lost, some still open
        for i in range(24):
            with freeze_time(START + timedelta(days=i)):
                lead = cls.env["crm.lead"].create(
                    {
                        "name": f"Snap {i}",
                        "type": "opportunity",
                        "team_id": cls.team.id,
                        "user_id": (cls.alice if i % 3 else cls.bob).id,
                        "stage_id": cls.stages[0].id,
                        "probability": 15 + i % 4,
                    }
                )
            with freeze_time(START + timedelta(days=35 + i % 20)):
                lead.write({"stage_id": cls.stages[1 + i % 2].id, "probability": 55 + 35 * (i % 2)})
            with freeze_time(START + timedelta(days=80 + i)):
                if i % 4 == 0:
                    lead.action_set_lost()
                elif i % 4 in (1, 2):
                    lead.stage_id = won
        with freeze_time(START + timedelta(days=140)):
            cls.env["crm.lead.probability.snapshot"]._backfill_snapshots()

    def _odoo_numbers(self, user, bands=10):
        form = (
            self.env["crm.probability.snapshot.report"]
            .with_user(user)
            .create({"team_ids": [(6, 0, self.team.ids)], "band_count": bands})
        )
        lines = report_lines(form.env, form.action_show())
        return {line.band: tuple(round(line[name], 6) for name in BAND_NUMBERS) for line in lines}

    def _command_numbers(self, user, bands=10):
        from funnel_metrics.extract import connect, extract_snapshots  # noqa: PLC0415
        from funnel_metrics.probability_bands import probability_bands  # noqa: PLC0415

        with self.allow_requests(all_requests=True):
            connection = connect(self.base_url(), self.env.cr.dbname, user.login, self.json2_key(user))
            table = extract_snapshots(connection, teams=self.team.ids, page_size=7)
        result = probability_bands(table, bands=bands)
        numbers = {}
        for row in result.itertuples(index=False):
            values = {
                "snapshot_count": row.snapshots,
                "sample_size": row.n,
                "won_count": row.won,
                "lead_count": row.leads,
                "observed": row.observed * 100 if row.n else 0.0,
                "ci_low": row.ci_low * 100 if row.n else 0.0,
                "ci_high": row.ci_high * 100 if row.n else 0.0,
                "mean_stated": row.mean_stated * 100 if row.n else 0.0,
                "open_count": row.open,
                "brier_score": result.attrs["brier"],
            }
            numbers[row.band] = tuple(round(float(values[name]), 6) for name in BAND_NUMBERS)
        return table, numbers

    def test_odoo_and_the_command_give_the_same_bands(self):
        for user, leads in ((self.manager, 24), (self.alice, 16)):
            for bands in (10, 4):
                with self.subTest(user=user.login, bands=bands):
                    table, command = self._command_numbers(user, bands)
                    self.assertEqual(table["lead_id"].nunique(), leads)
                    self.assertEqual(command, self._odoo_numbers(user, bands))
                    self.assertGreater(sum(numbers[1] for numbers in command.values()), 0)
                    self.assertGreater(sum(numbers[-2] for numbers in command.values()), 0)

    def test_a_salesman_cannot_fill_back_over_rpc(self):
        with mute_logger("odoo.http"):
            status, body = self.json2(self.alice, "crm.lead.probability.snapshot", "action_backfill", ids=[])
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))
        with freeze_time(START + timedelta(days=140)):
            status, body = self.json2(
                self.manager, "crm.lead.probability.snapshot", "action_backfill", ids=[]
            )
        self.assertEqual(status, 200, body)
        self.assertEqual(body["params"]["message"], "0 snapshots rebuilt from the stage history.")
