from datetime import timedelta

import pandas as pd
from freezegun import freeze_time
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged

import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

from .common import T0, report_lines


@tagged("post_install", "-at_install")
class TestSameNumbersInOdooAndCommand(Json2Case):
    """The funnel report in Odoo and funnel_metrics over JSON-2 (the funnel-metrics command's
    extractor) read the same database: they must give the same numbers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="sh_same_manager", groups="sales_team.group_sale_manager,base.group_user"
        )
        cls.alice, cls.bob = (
            new_test_user(
                cls.env, login=f"sh_same_{name.lower()}", name=name, groups="sales_team.group_sale_salesman"
            )
            for name in ("Alice Same", "Bob Same")
        )
        cls.team = cls.env["crm.team"].create({"name": "Same Numbers Team"})
        cls.team_2 = cls.env["crm.team"].create({"name": "Same Numbers Team 2"})
        teams = cls.team | cls.team_2
        Stage = cls.env["crm.stage"]
        cls.stages = Stage.create(
            [
                {
                    "name": f"Same {name}",
                    "sequence": seq,
                    "team_ids": [(6, 0, teams.ids)],
                    "probability": prob,
                }
                for name, seq, prob in (("Inquiry", 600, 20), ("Qualified", 610, 40), ("Proposal", 620, 60))
            ]
        )
        cls.won = Stage.create(
            {"name": "Same Won", "sequence": 690, "is_won": True, "team_ids": [(6, 0, teams.ids)]}
        )
        Lead = cls.env["crm.lead"]
        owners = (cls.alice, cls.bob)
        # 12 leads with stays of different lengths: some move on, some are lost, some stay open; some are
        # handed over to the other salesperson and team before they leave Inquiry
        for i in range(12):
            with freeze_time(T0 + timedelta(hours=i)):
                lead = Lead.create(
                    {
                        "name": f"Same {i}",
                        "type": "opportunity",
                        "team_id": cls.team.id,
                        "user_id": owners[i % 2].id,
                        "stage_id": cls.stages[0].id,
                    }
                )
            if i % 4 == 3:
                with freeze_time(T0 + timedelta(days=1 + i % 3)):
                    lead.action_set_lost()
                continue
            if i % 5 in (1, 4):
                with freeze_time(T0 + timedelta(hours=12 + i)):
                    lead.write({"user_id": owners[(i + 1) % 2].id, "team_id": cls.team_2.id})
            with freeze_time(T0 + timedelta(days=1 + i % 5)):
                lead.stage_id = cls.stages[1 if i % 3 else 2]
            if i % 2:
                with freeze_time(T0 + timedelta(days=8 + i % 4)):
                    lead.action_set_won() if i % 3 else lead.action_set_lost()
        Target = cls.env["crm.stage.target"]
        Target.create({"stage_id": cls.stages[0].id, "target_conversion_rate": 70})
        Target.create({"stage_id": cls.stages[0].id, "user_id": cls.alice.id, "target_conversion_rate": 90})
        Target.create({"stage_id": cls.stages[1].id, "user_id": cls.bob.id, "target_days_in_stage": 2})
        Target.create({"stage_id": cls.stages[1].id, "team_id": cls.team_2.id, "target_days_in_stage": 5})

    def _connection(self):
        """The command's connection to this database, as the sales manager (JSON-2, his API key)."""
        from funnel_metrics.extract import connect  # noqa: PLC0415

        return connect(self.base_url(), self.env.cr.dbname, self.manager.login, self.json2_key(self.manager))

    def _command_table(self, teams=None):
        """The extractor's table, filtered on ``teams`` (default: both teams)."""
        from funnel_metrics.extract import extract_transitions  # noqa: PLC0415

        teams = teams or self.team | self.team_2
        # the SDK's own HTTP client carries no test cookie: let its requests through
        with self.allow_requests(all_requests=True):
            return extract_transitions(self._connection(), teams=teams.ids, page_size=5)

    def _targets(self):
        """The targets of the database as the command reads them (``funnel-metrics report --url``)."""
        from funnel_metrics.extract import extract_stage_targets  # noqa: PLC0415

        with self.allow_requests(all_requests=True):
            return extract_stage_targets(self._connection(), page_size=2)

    def test_command_reads_the_stage_targets_and_the_currency(self):
        """``funnel-metrics report --url`` takes the stage targets stored in Odoo, by name, conversion as a
        fraction, as a sales manager reads them (an archived target does not apply), and the currency of
        his company."""
        from funnel_metrics.extract import extract_currency  # noqa: PLC0415

        self.env["crm.stage.target"].create(
            {"stage_id": self.stages[2].id, "target_days_in_stage": 9, "active": False}
        )
        targets = self._targets()
        mine = targets[targets["stage"].isin(self.stages.mapped("name"))]
        self.assertEqual(
            [
                tuple(None if value is pd.NA else value for value in row)
                for row in mine.itertuples(index=False)
            ],
            [
                ("Same Inquiry", None, None, None, 0.7, 0.0),
                ("Same Inquiry", None, "Alice Same", None, 0.9, 0.0),
                ("Same Qualified", None, "Bob Same", None, 0.0, 2.0),
                ("Same Qualified", "Same Numbers Team 2", None, None, 0.0, 5.0),
            ],
        )
        with self.allow_requests(all_requests=True):
            currency = extract_currency(self._connection())
        self.assertEqual(currency, self.manager.company_id.currency_id.name)

    def _odoo_lines(self, as_of, **vals):
        """The lines of the funnel report with these values, keyed by group name ("" per stage) and stage."""
        vals.setdefault("team_ids", [(6, 0, (self.team | self.team_2).ids)])
        report = self.env["crm.stage.funnel.report"].with_user(self.manager).create(vals)
        with freeze_time(as_of):
            lines = report_lines(report.env, report.action_show())
        by = report.group_by
        return {
            ("" if by == "stage" else line[f"{by}_id"].name, line.stage_id.name): (
                line.entered,
                line.advanced,
                line.lost,
                line.open,
                round(line.conversion_rate, 6),
                round(line.median_days, 6),
                round(line.p90_days, 6),
                round(line.target_conversion_rate, 6),
                round(line.target_days_in_stage, 6),
                line.conversion_below_target,
                line.days_over_target,
                line.below_target,
            )
            for line in lines
        }

    @staticmethod
    def _pandas_lines(frame, by):
        """The rows of selection_funnel (``by`` "stage") or breakdown, with targets, as report lines."""

        def number(value):  # Odoo keeps "no estimate" (NaN) as an empty field, read as 0.0
            return 0.0 if value != value else round(float(value), 6)

        return {
            ("" if by == "stage" else row[by], row["stage"]): (
                int(row["entered"]),
                int(row["advanced"]),
                int(row["lost"]),
                int(row["open"]),
                number(row["conversion_rate"] * 100),
                number(row["median_days"]),
                number(row["p90_days"]),
                number(row["target_conversion_rate"] * 100),
                number(row["target_days_in_stage"]),
                bool(row["conversion_below_target"]),
                bool(row["days_over_target"]),
                bool(row["below_target"]),
            )
            for _index, row in frame.iterrows()
        }

    def test_funnel_and_calibration_match(self):
        from funnel_metrics.conversion import stage_conversion  # noqa: PLC0415
        from funnel_metrics.dwell import time_in_stage  # noqa: PLC0415

        as_of = T0 + timedelta(days=20)
        report = (
            self.env["crm.stage.funnel.report"]
            .with_user(self.manager)
            .create({"team_ids": [(6, 0, (self.team | self.team_2).ids)]})
        )
        with freeze_time(as_of):
            lines = report_lines(report.env, report.action_show())
        odoo_lines = {
            line.stage_id.name: (
                line.entered,
                line.advanced,
                line.lost,
                line.open,
                round(line.conversion_rate, 6),
                round(line.median_days, 6),
            )
            for line in lines
        }

        table = self._command_table()
        conversion = stage_conversion(table).set_index("stage")
        dwell = time_in_stage(table, as_of=as_of.isoformat() + "Z").set_index("stage")

        def number(value):  # Odoo keeps "no estimate" (NaN) as an empty field, read as 0.0
            return 0.0 if value != value else round(float(value), 6)

        command_lines = {
            stage: (
                int(row.entered),
                int(row.advanced),
                int(row.lost),
                int(row.open),
                number(row.conversion_rate * 100),
                number(dwell.loc[stage, "median_days"]),
            )
            for stage, row in conversion.iterrows()
        }
        self.assertEqual(
            len(table),
            self.env["crm.lead.stage.history"].search_count(
                [("team_id", "in", (self.team | self.team_2).ids)]
            ),
        )
        self.assertEqual(command_lines, odoo_lines)

        from funnel_metrics.calibration import calibration  # noqa: PLC0415

        wizard = (
            self.env["crm.stage.calibration"]
            .with_user(self.manager)
            .create({"team_ids": [(6, 0, (self.team | self.team_2).ids)]})
        )
        lines = report_lines(wizard.env, wizard.action_measure())
        measured = calibration(table, {stage.name: stage.probability / 100 for stage in self.stages})
        measured = measured.set_index("stage")
        for line in lines:
            self.assertAlmostEqual(
                line.observed, measured.loc[line.stage_id.name, "observed"] * 100, places=6
            )
            self.assertEqual(line.sample_size, measured.loc[line.stage_id.name, "n"])

    def test_funnel_per_stage_salesperson_and_team_match(self):
        """Per stage, per salesperson and per team, numbers and targets, with leads handed over between
        salespersons and teams: the report is funnel_metrics' on the command's table."""
        from funnel_metrics.targets import breakdown, selection_funnel  # noqa: PLC0415

        as_of = T0 + timedelta(days=20)
        table = self._command_table()
        handed_over = table.groupby("lead_id")[["user", "team"]].nunique()
        self.assertTrue(((handed_over["user"] > 1) & (handed_over["team"] > 1)).any())
        targets = self._targets()
        for by in ("stage", "user", "team"):
            with self.subTest(per=by):
                if by == "stage":
                    expected = selection_funnel(table, None, as_of=as_of.isoformat() + "Z", targets=targets)
                else:
                    expected = breakdown(table, by, targets=targets, as_of=as_of.isoformat() + "Z")
                self.assertEqual(self._pandas_lines(expected, by), self._odoo_lines(as_of, group_by=by))

    def test_filtered_funnel_and_calibration_match(self):
        """Filtered on a team or a salesperson whose leads change hands, the report shows what the filter
        is credited with (selection_funnel, breakdown with ``selected``) on the extractor's table of the
        same filter, and the calibration measures the same leads over their whole history."""
        from funnel_metrics.calibration import calibration  # noqa: PLC0415
        from funnel_metrics.extract import team_stays  # noqa: PLC0415
        from funnel_metrics.targets import breakdown, selection_funnel  # noqa: PLC0415

        as_of = T0 + timedelta(days=20)
        snapshot = as_of.isoformat() + "Z"
        targets = self._targets()
        whole = self._command_table()
        filters = {
            "team": ({"team_ids": [(6, 0, self.team.ids)]}, self.team),
            "team 2": ({"team_ids": [(6, 0, self.team_2.ids)]}, self.team_2),
            "salesperson": ({"user_ids": [(6, 0, self.alice.ids)]}, None),
        }
        for name, (vals, team) in filters.items():
            table = self._command_table(team) if team else whole
            selected = team_stays(table, team.ids) if team else table["user_id"].eq(self.alice.id)
            # some leads of the filter have stays out of it: a cut history would change their numbers
            out = (~selected).groupby(table["lead_id"]).any() & selected.groupby(table["lead_id"]).any()
            self.assertTrue(out.any())
            for by in ("stage", "user", "team"):
                with self.subTest(filter=name, per=by):
                    if by == "stage":
                        expected = selection_funnel(table, selected, as_of=snapshot, targets=targets)
                    else:
                        expected = breakdown(table, by, targets=targets, as_of=snapshot, selected=selected)
                    self.assertEqual(
                        self._pandas_lines(expected, by), self._odoo_lines(as_of, group_by=by, **vals)
                    )

        table = self._command_table(self.team_2)
        wizard = (
            self.env["crm.stage.calibration"]
            .with_user(self.manager)
            .create({"team_ids": [(6, 0, self.team_2.ids)]})
        )
        lines = report_lines(wizard.env, wizard.action_measure())
        measured = calibration(table, {stage.name: stage.probability / 100 for stage in self.stages})
        measured = measured.set_index("stage")
        self.assertEqual(lines.stage_id, self.stages)
        for line in lines:
            self.assertAlmostEqual(
                line.observed, measured.loc[line.stage_id.name, "observed"] * 100, places=6
            )
            self.assertEqual(line.sample_size, measured.loc[line.stage_id.name, "n"])
