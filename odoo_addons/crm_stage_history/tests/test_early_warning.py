from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

# the report imports pandas lazily; under freezegun's patched datetime that import crashes the interpreter
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import
from funnel_metrics.early_warning import WARNING_COLUMNS

from .common import report_lines
from .early_warning_scenario import build_scenario

# the numbers of a line: every column of funnel_metrics.early_warnings after the segment, stage and test
EW_NUMBERS = WARNING_COLUMNS[WARNING_COLUMNS.index("recent_n") :]


@tagged("post_install", "-at_install")
class TestEarlyWarnings(Json2Case):
    """The Early Warnings report and the managers' weekly mail, on early_warning_scenario.py's scenario."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build_scenario(cls)

    def lines(self, user, **vals):
        report = self.env["crm.early.warning.report"].with_user(user).create({"as_of": self.as_of, **vals})
        return report_lines(report.env, report.action_show())

    @staticmethod
    def key(line):
        segment = line.product or (line.team_id or line.user_id or line.source_id).name
        return (line.segment_kind, segment, line.stage_id.name, line.test)

    def test_manager_sees_the_drop_with_its_evidence(self):
        lines = self.lines(self.manager)
        warnings = {self.key(line): line for line in lines.filtered("warning")}
        self.assertEqual(
            set(warnings),
            {
                ("user", "Alice Warn", "EW Inquiry", "conversion_vs_baseline"),
                ("user", "Alice Warn", "EW Inquiry", "conversion_vs_target"),
                ("team", "Warning Team", "EW Inquiry", "conversion_vs_baseline"),
                ("team", "Warning Team", "EW Inquiry", "conversion_vs_target"),
                ("product", "EW Pro", "EW Inquiry", "conversion_vs_baseline"),
                ("product", "EW Pro", "EW Inquiry", "conversion_vs_target"),
                ("source", "EW Fair", "EW Inquiry", "conversion_vs_baseline"),
                ("source", "EW Fair", "EW Inquiry", "conversion_vs_target"),
            },
        )
        # Bob's leads, tagged EW Pro and EW Basic together, form a segment of their own
        self.assertIn(
            ("product", "EW Basic, EW Pro", "EW Inquiry", "conversion_vs_baseline"), map(self.key, lines)
        )
        alice = warnings["user", "Alice Warn", "EW Inquiry", "conversion_vs_baseline"]
        self.assertEqual(
            (alice.recent_n, alice.recent_events, alice.baseline_n, alice.baseline_events), (24, 6, 40, 30)
        )
        self.assertEqual((alice.recent_rate, alice.baseline_rate), (25.0, 75.0))
        self.assertTrue(alice.ci_low < 25 < alice.ci_high < 75)
        self.assertLess(alice.adjusted_p, 0.10)
        target = warnings["team", "Warning Team", "EW Inquiry", "conversion_vs_target"]
        self.assertEqual((target.recent_n, target.recent_events, target.target_rate), (28, 9, 70.0))
        # Bob's 4 recent decisions are too few to test: shown, not tested, no warning
        bob = lines.filtered(lambda line: line.user_id == self.bob and line.test == "conversion_vs_baseline")
        self.assertEqual((bob.recent_n, bob.tested, bob.warning), (4, False, False))
        # a year later nothing is recent: no warning
        later = self.lines(self.manager, as_of=self.as_of + timedelta(days=365))
        self.assertFalse(later.filtered("warning"))

    def test_a_salesperson_sees_only_his_leads(self):
        """Bob (own documents only) gets the numbers of his own leads: none of Alice's."""
        lines = self.lines(self.bob)
        self.assertFalse(lines.filtered(lambda line: line.user_id == self.alice))
        team = lines.filtered(lambda line: line.team_id and line.test == "conversion_vs_baseline")
        self.assertEqual((team.recent_n, team.baseline_n), (4, 8))
        self.assertFalse(lines.filtered("warning"))

    def test_another_company_sees_nothing(self):
        other = self.env["res.company"].create({"name": "Other Warning Co"})
        outsider = new_test_user(
            self.env,
            login="ew_outsider",
            groups="sales_team.group_sale_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        self.assertFalse(self.lines(outsider))

    def test_bad_parameters_are_refused(self):
        Report = self.env["crm.early.warning.report"].with_user(self.manager)
        with self.assertRaises(ValidationError):
            Report.create({"fdr": 1.5})
        with self.assertRaises(ValidationError):
            Report.create({"window_weeks": 0})

    def test_same_numbers_as_the_command_over_json2(self):
        """The report's lines equal funnel_metrics.early_warnings on the table funnel-metrics' extractor
        reads over JSON-2 as the manager, with the targets it reads: what ``funnel-metrics report --url``
        shows, per sales team, salesperson, tags and source."""
        from funnel_metrics.extract import connect, extract_stage_targets, extract_transitions  # noqa: PLC0415

        # the SDK's own HTTP client carries no test cookie: let its requests through
        with self.allow_requests(all_requests=True):
            connection = connect(
                self.base_url(), self.env.cr.dbname, self.manager.login, self.json2_key(self.manager)
            )
            table = extract_transitions(connection, page_size=7)
            targets = extract_stage_targets(connection, page_size=2)
        result = funnel_metrics.early_warnings(table, self.as_of, targets)

        def number(value, scale=1.0):
            return 0.0 if value != value else round(float(value) * scale, 6)

        command = {
            (row["segment_kind"], row["segment"], row["stage"], row["test"]): (
                int(row["recent_n"]),
                int(row["recent_events"]),
                int(row["baseline_n"]),
                int(row["baseline_events"]),
                number(row["recent_rate"], 100),
                number(row["baseline_rate"], 100),
                number(row["target_rate"], 100),
                number(row["recent_days"]),
                number(row["baseline_days"]),
                number(row["target_days"]),
                number(row["estimate"], 100),
                number(row["ci_low"], 100),
                number(row["ci_high"], 100),
                number(row["p_value"]),
                number(row["adjusted_p"]),
                bool(row["warning"]),
            )
            for _index, row in result.iterrows()
        }
        odoo = {
            self.key(line): tuple(
                round(line[name], 6) if isinstance(line[name], float) else line[name] for name in EW_NUMBERS
            )
            for line in self.lines(self.manager)
        }
        self.assertTrue(any(values[-1] for values in odoo.values()))
        self.assertEqual(odoo, command)

    # ------------------------------------------------------------------
    # the weekly mail
    # ------------------------------------------------------------------

    def run_cron(self):
        """Run the weekly cron at the scenario's date; ``_commit_progress`` commits, which a test must not."""
        Mail = self.env["crm.early.warning.mail"]
        with (
            patch.object(type(self.env["ir.cron"]), "_commit_progress", return_value=3600),
            freeze_time(self.as_of),
        ):
            Mail._cron_send_early_warnings()

    def mails(self):
        return self.env["mail.mail"].search([("subject", "like", "early warning")])

    def test_weekly_mail_is_off_by_default(self):
        self.assertFalse(self.env.company.crm_early_warning_mail)
        self.run_cron()
        self.assertFalse(self.mails())
        self.assertFalse(self.env["crm.early.warning.mail"].search([]))

    def test_weekly_mail_to_the_managers_once_a_week(self):
        self.env.company.crm_early_warning_mail = True
        self.run_cron()
        mails = self.mails()
        managers = self.env["res.users"].search(
            [
                ("share", "=", False),
                ("all_group_ids", "in", self.env.ref("sales_team.group_sale_manager").ids),
                ("company_ids", "in", self.env.company.ids),
            ]
        )
        self.assertIn(self.manager, managers)
        self.assertEqual(mails.recipient_ids, managers.partner_id)
        self.assertFalse(mails.recipient_ids & (self.alice | self.bob).partner_id)
        mine = mails.filtered(lambda mail: mail.recipient_ids == self.manager.partner_id)
        self.assertIn("8 early warning(s)", mine.subject)
        body = str(mine.body_html)
        for text in (
            "Alice Warn",
            "Warning Team",
            "EW Pro",
            "EW Fair",
            "EW Inquiry",
            "Conversion below baseline",
        ):
            self.assertIn(text, body)
        self.assertIn("/odoo/action-crm_stage_history.crm_early_warning_report_action", body)
        marker = self.env["crm.early.warning.mail"].search([("company_id", "=", self.env.company.id)])
        self.assertEqual((marker.warning_count, marker.recipient_count), (8, len(managers)))
        # a rerun the same week (another worker, a manual run) sends nothing more
        self.run_cron()
        self.assertEqual(self.mails(), mails)
        self.assertFalse(
            self.env["crm.early.warning.mail"]._early_warning_send(self.env.company, marker.week)
        )

    def test_a_salesperson_cannot_read_the_markers_nor_send(self):
        with mute_logger("odoo.http"):
            status, body = self.json2(self.alice, "crm.early.warning.mail", "search_read", domain=[])
        self.assertEqual((status, body["name"]), (403, "odoo.exceptions.AccessError"))
        with mute_logger("odoo.http"):
            status, _body = self.json2(self.manager, "crm.early.warning.mail", "_cron_send_early_warnings")
        self.assertIn(status, (403, 404))
