import pandas as pd
from freezegun import freeze_time
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.addons.crm_stage_history.tests.common import report_lines
from odoo.tests import tagged

from funnel_metrics.waterfall import WATERFALL_COUNTS

from .waterfall_scenario import AS_OF, WaterfallScenario

# the rates, days and hours a line shows: (column of funnel_metrics.waterfall, scale of the line's field)
RATES = (
    ("conversion_rate", 100),
    ("ci_low", 100),
    ("ci_high", 100),
    ("median_days", 1),
    ("p90_days", 1),
    ("acceptance_rate", 100),
    ("median_hours_to_decision", 1),
    ("target_conversion_rate", 100),
    ("target_days", 1),
)
GROUP_FIELDS = {
    "team": "team_id",
    "user": "user_id",
    "source": "source_id",
    "campaign": "campaign_id",
    "country": "country_id",
}


def _number(value):
    """Odoo keeps "no estimate" (NaN) as an empty field, read as 0.0."""
    return 0.0 if value is None or value is pd.NA or value != value else round(float(value), 6)


def _label(value):
    """A group's label in a funnel_metrics table; "" for none (NA), as Odoo's empty field reads."""
    return "" if value is None or value is pd.NA else value


@tagged("post_install", "-at_install")
class TestWaterfallSameNumbersInOdooAndCommand(WaterfallScenario, Json2Case):
    """The Demand Waterfall in Odoo and funnel_metrics over JSON-2 (``extract_phase_stays``,
    ``extract_handoffs``, then ``waterfall``, ``rejection_reasons``, ``sales_accepted_cost``: what the
    ``funnel-metrics`` command does) read the same database: they must give the same numbers, per phase,
    group and period, in the manager's time zone (Auckland: some of the scenario's days are the next day
    there)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_waterfall()
        cls.manager.tz = "Pacific/Auckland"
        Target = cls.env["crm.lifecycle.phase.target"]
        mql, inquiry = cls.phases["mql"], cls.phases["inquiry"]
        Target.create({"phase_id": mql.id, "target_conversion_rate": 50, "target_days_in_phase": 2})
        Target.create({"phase_id": mql.id, "team_id": cls.marketing.id, "target_conversion_rate": 70})
        Target.create({"phase_id": inquiry.id, "user_id": cls.marketer.id, "target_days_in_phase": 1})

    def _connection(self):
        """The command's connection to this database, as the sales manager (JSON-2, his API key)."""
        from funnel_metrics.extract import connect  # noqa: PLC0415

        return connect(self.base_url(), self.env.cr.dbname, self.manager.login, self.json2_key(self.manager))

    def _command_tables(self, **scope):
        """The extractor's phase stays and handoffs, as the manager reads them."""
        from funnel_metrics.extract import extract_handoffs, extract_phase_stays  # noqa: PLC0415

        # the SDK's own HTTP client carries no test cookie: let its requests through
        with self.allow_requests(all_requests=True):
            connection = self._connection()
            stays = extract_phase_stays(connection, page_size=4, tz=self.manager.tz, **scope)
            handoffs = extract_handoffs(connection, stays["lead_id"].unique(), page_size=4)
        return stays, handoffs

    def _targets(self):
        """The phase targets by name, as a file of ``funnel-metrics report --phase-targets`` gives them."""
        targets = self.env["crm.lifecycle.phase.target"].search([], order="id")
        return pd.DataFrame(
            {
                "phase": [t.phase_id.name for t in targets],
                "team": [t.team_id.name or None for t in targets],
                "user": [t.user_id.name or None for t in targets],
                "target_conversion_rate": [t.target_conversion_rate / 100 for t in targets],
                "target_days_in_phase": [t.target_days_in_phase for t in targets],
            }
        )

    def _odoo_lines(self, action, **vals):
        form = self.env["crm.waterfall.report.form"].with_user(self.manager).create(vals)
        with freeze_time(AS_OF):
            return report_lines(form.env, getattr(form, action)())

    @staticmethod
    def _group(line, by):
        return line[GROUP_FIELDS[by]].display_name or "" if by else ""

    def _odoo_waterfall(self, by, period, **vals):
        lines = self._odoo_lines("action_show", group_by=by or "none", period=period or "none", **vals)
        return {
            (self._group(line, by), line.period_start.isoformat() if period else "", line.phase_id.name): (
                *(line[name] for name in WATERFALL_COUNTS),
                *(round(line[name], 6) for name, _scale in RATES),
            )
            for line in lines
        }

    @staticmethod
    def _command_waterfall(frame, by, period):
        return {
            (_label(row[by]) if by else "", row["period"] if period else "", row["phase"]): (
                *(int(row[name]) for name in WATERFALL_COUNTS),
                *(_number(row[name] * scale) for name, scale in RATES),
            )
            for row in frame.to_dict("records")
        }

    def test_waterfall_per_group_and_period_matches(self):
        from funnel_metrics import waterfall  # noqa: PLC0415

        stays, handoffs = self._command_tables()
        self.assertEqual(
            len(stays), self.env["crm.lead.phase.history"].with_user(self.manager).search_count([])
        )
        targets = self._targets()
        for by in (None, *GROUP_FIELDS):
            for period in (None, "week", "month"):
                with self.subTest(by=by, period=period):
                    expected = waterfall(
                        stays,
                        handoffs,
                        by=by,
                        period=period,
                        tz=self.manager.tz,
                        as_of=AS_OF,
                        targets=targets,
                    )
                    self.assertEqual(
                        self._odoo_waterfall(by, period), self._command_waterfall(expected, by, period)
                    )

    def test_period_and_teams_match(self):
        """The days of the period are the manager's (Auckland): of the leads created on 2 March UTC, those
        created after 11:00 UTC entered the waterfall on 3 March there."""
        from funnel_metrics import waterfall  # noqa: PLC0415

        stays, handoffs = self._command_tables(
            date_from="2026-03-02", date_to="2026-03-02", teams=self.marketing.ids
        )
        self.assertEqual(stays["lead_id"].nunique(), 2)
        expected = waterfall(
            stays, handoffs, by="team", tz=self.manager.tz, as_of=AS_OF, targets=self._targets()
        )
        odoo = self._odoo_waterfall(
            "team", None, date_from="2026-03-02", date_to="2026-03-02", team_ids=[(6, 0, self.marketing.ids)]
        )
        self.assertEqual(odoo, self._command_waterfall(expected, "team", None))

    def test_rejection_reasons_and_costs_match(self):
        from funnel_metrics import rejection_reasons, sales_accepted_cost  # noqa: PLC0415
        from funnel_metrics.extract import extract_campaign_costs  # noqa: PLC0415

        stays, handoffs = self._command_tables()
        for by in (None, "team", "campaign"):
            with self.subTest(rejections_by=by):
                lines = self._odoo_lines("action_show_rejections", group_by=by or "none", period="week")
                odoo = sorted(
                    (
                        self._group(line, by),
                        line.period_start.isoformat(),
                        line.phase_id.name,
                        line.reason_id.name,
                        line.rejected,
                        round(line.share, 6),
                    )
                    for line in lines
                )
                frame = rejection_reasons(handoffs, by=by, period="week", tz=self.manager.tz)
                command = sorted(
                    (
                        _label(row[by]) if by else "",
                        row["period"],
                        row["phase"],
                        _label(row["reason"]),
                        int(row["rejected"]),
                        _number(row["share"] * 100),
                    )
                    for row in frame.to_dict("records")
                )
                self.assertEqual(odoo, command)
        with self.allow_requests(all_requests=True):
            costs = extract_campaign_costs(self._connection(), stays)
        accepted = self.phases["sal"].name
        for period in (None, "month"):
            with self.subTest(costs_per=period):
                lines = self._odoo_lines("action_show_costs", period=period or "none")
                odoo = sorted(
                    (
                        line.campaign_id.display_name or "",
                        line.period_start.isoformat() if period else "",
                        line.entered,
                        line.sales_accepted,
                        round(line.cost, 6),
                        round(line.cost_per_sales_accepted, 6),
                    )
                    for line in lines
                )
                frame = sales_accepted_cost(stays, costs, phase=accepted, period=period, tz=self.manager.tz)
                command = sorted(
                    (
                        _label(row["campaign"]),
                        row["period"] if period else "",
                        int(row["entered"]),
                        int(row["sales_accepted"]),
                        _number(row["cost"]),
                        _number(row["cost_per_sales_accepted"]),
                    )
                    for row in frame.to_dict("records")
                )
                self.assertEqual(odoo, command)
