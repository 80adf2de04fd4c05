import random
from datetime import datetime, timedelta

from odoo.tests import tagged
from odoo.tools import SQL

from .common import SlaCase

NOW = datetime(2026, 3, 9, 9, 0)
CLOCK_FIELDS = (
    "create_date",
    "date_last_stage_update",
    "date_open",
    "sla_last_action_date",
    "sla_owner_since",
    "sla_team_since",
)


@tagged("post_install", "-at_install")
class TestScopeAgreement(SlaCase):
    """The one SQL query of a rule selects exactly the leads that ``sla_rules``' ``in_scope``, ``clock_start``
    and ``status`` say, on leads of mixed teams, stages, types, companies, owners and states."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "SLA Scope Co"})
        cls.other_company.resource_calendar_id = cls.calendar
        cls.stage_won = cls.env["crm.stage"].create({"name": "SLA Won", "sequence": 103, "is_won": True})
        pick = random.Random(19).choice
        teams = (cls.team, cls.marketing, cls.env["crm.team"])
        users = (cls.rep_a, cls.rep_b, cls.env["res.users"])
        companies = (cls.company, cls.other_company, cls.env["res.company"])
        starts = (
            None,
            NOW - timedelta(days=5),
            NOW - timedelta(days=3, hours=1),
            NOW - timedelta(hours=48),  # exactly the 48-hour threshold: breached
            NOW - timedelta(hours=36),
            NOW - timedelta(hours=25),
            NOW - timedelta(hours=2),
        )
        leads = cls.env["crm.lead"]
        for index in range(90):
            lead = cls._lead(
                name=f"SLA scope {index}",
                user=pick(users),
                type=pick(("lead", "opportunity")),
                team_id=pick(teams).id,
                stage_id=pick((cls.stage_new, cls.stage_qualified)).id,
            )
            state = pick(("open", "open", "open", "won", "archived", "lost"))
            if state == "won":
                lead.stage_id = cls.stage_won
            elif state == "archived":
                lead.action_archive()
            elif state == "lost":
                lead.action_set_lost(lost_reason_id=cls.lost_reason.id)
            leads |= lead
        # the clocks and companies last, in SQL: the writes above move the clocks
        leads.flush_recordset()
        for lead in leads:
            values = {
                column: pick(starts[1:] if column == "create_date" else starts) for column in CLOCK_FIELDS
            }
            values["company_id"] = pick(companies).id or None
            cls.env.cr.execute(
                SQL(
                    "UPDATE crm_lead SET %s WHERE id = %s",
                    SQL(", ").join(
                        SQL("%s = %s", SQL.identifier(name), value) for name, value in values.items()
                    ),
                    lead.id,
                )
            )
        leads.invalidate_recordset()
        cls.leads = leads.with_context(active_test=False)

    def _selected(self, rule, kind):
        ids = set()
        for calendar, company_ids in rule._sla_calendar_groups():
            query = rule._sla_query(kind, calendar, company_ids, NOW, lead_ids=self.leads.ids)
            self.env.cr.execute(query.select())
            ids.update(row[0] for row in self.env.cr.fetchall())
        return ids

    def _plain(self, rule, wanted):
        from sla_rules.rules import clock_start, in_scope, status

        values = rule._sla_rule_values()
        return {
            lead.id
            for lead in rule._sla_snapshots(self.leads)
            if in_scope(values, lead) and status(values, clock_start(values, lead), NOW, None) == wanted
        }

    def test_sql_selects_what_in_scope_and_status_say(self):
        leads = self.leads
        self.assertEqual(set(leads.mapped("won_status")), {"pending", "won", "lost"})
        self.assertIn(False, leads.mapped("active"))
        self.assertEqual(len(leads.company_id), 2)
        self.assertIn(False, leads.mapped(lambda lead: bool(lead.user_id)))
        rules = [
            self._rule(
                name="Team opportunities by age",
                clock="create",
                threshold=48,
                unit="hours",
                warning_before=24,
            ),
            self._rule(
                name="Qualified anywhere since assignment",
                team_ids=[(5, 0, 0)],
                lead_type="both",
                stage_ids=[(6, 0, self.stage_qualified.ids)],
                clock="assignment",
                threshold=2,
                unit="days",
                warning_before=1,
            ),
            self._rule(
                name="Other company's leads in their stage",
                team_ids=[(6, 0, (self.team | self.marketing).ids)],
                lead_type="lead",
                company_ids=[(6, 0, self.other_company.ids)],
                clock="stage_entry",
                threshold=3,
                unit="days",
                warning_before=2,
            ),
            self._rule(
                name="Idle in the main company",
                team_ids=[(5, 0, 0)],
                lead_type="both",
                company_ids=[(6, 0, self.company.ids)],
                clock="last_action",
                threshold=30,
                unit="hours",
            ),
        ]
        for rule in rules:
            for kind, wanted in (("act", "breach"), ("warn", "warn")):
                if kind == "warn" and not rule.warning_before:
                    continue
                with self.subTest(rule=rule.name, kind=kind):
                    expected = self._plain(rule, wanted)
                    self.assertTrue(expected, "the leads give each rule something to select")
                    self.assertEqual(self._selected(rule, kind), expected)
