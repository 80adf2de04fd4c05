from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from odoo.tests import tagged

from ..models import crm_sla_rule_preview as preview_module
from .common import MONDAY_10, SlaCase

MINUTE = timedelta(minutes=1)
# breach time of a clock started Monday 10:00 in Brussels, per unit (see test_business_time)
BREACH = {
    ("days", 2): datetime(2026, 3, 4, 9, 0),
    ("hours", 10): datetime(2026, 3, 2, 19, 0),
    ("business_days", 2): datetime(2026, 3, 4, 9, 0),
    ("business_hours", 10): datetime(2026, 3, 3, 11, 0),
}


@tagged("post_install", "-at_install")
class TestRun(SlaCase):
    def test_every_clock_and_unit(self):
        """Each clock × unit: nothing a minute before the breach, the action at the breach."""
        for clock in ("stage_entry", "create", "assignment", "last_action"):
            for (unit, amount), breach in BREACH.items():
                with self.subTest(clock=clock, unit=unit):
                    rule = self._rule(clock=clock, unit=unit, threshold=amount, action="escalate")
                    lead = self._lead(name=f"{clock} {unit}")
                    self._run(breach - MINUTE, rules=rule)
                    self.assertFalse(self._events(rule, lead))
                    self._run(breach, rules=rule)
                    event = self._events(rule, lead)
                    self.assertEqual(event.state, "acted")
                    self.assertEqual(event.clock_start, MONDAY_10)
                    self.assertEqual(event.deadline, breach)
                    rule.active = False

    def test_only_its_clock_counts(self):
        """A lead whose stage changed recently is not breached on stage entry, but is on creation."""
        lead = self._lead()
        self._set_clocks(lead, datetime(2026, 3, 4, 8, 0), columns=("date_last_stage_update",))
        by_stage = self._rule(name="Stage", clock="stage_entry")
        by_creation = self._rule(name="Creation", clock="create")
        self._run(datetime(2026, 3, 4, 10, 0))
        self.assertFalse(self._events(by_stage, lead))
        self.assertEqual(self._events(by_creation, lead).state, "acted")

    def test_assignment_clock_ignores_unassigned_leads(self):
        rule = self._rule(clock="assignment")
        lead = self._lead(user=self.env["res.users"])
        self._run(datetime(2026, 3, 9, 9, 0), rules=rule)
        self.assertFalse(self._events(rule, lead))

    def test_scope(self):
        rule = self._rule(stage_ids=[(6, 0, self.stage_qualified.ids)], domain="[('priority', '=', '3')]")
        in_scope = self._lead(name="In", priority="3")
        in_scope.stage_id = self.stage_qualified
        wrong_stage = self._lead(name="Stage", priority="3")
        wrong_priority = self._lead(name="Priority")
        wrong_priority.stage_id = self.stage_qualified
        lead_type = self._lead(name="A lead", type="lead", priority="3")
        lead_type.stage_id = self.stage_qualified
        other_team = self._lead(name="Marketing", team_id=self.marketing.id, priority="3")
        other_team.stage_id = self.stage_qualified
        leads = in_scope | wrong_stage | wrong_priority | lead_type | other_team
        self._set_clocks(leads, MONDAY_10)
        won = self.env["crm.stage"].create({"name": "SLA Won", "is_won": True, "sequence": 150})
        closed = self._lead(name="Won", priority="3", stage_id=won.id)
        self._run(datetime(2026, 3, 9, 9, 0), rules=rule)
        self.assertEqual(rule.event_ids.lead_id, in_scope)
        self.assertFalse(self._events(rule, closed))

    def test_warning_then_action_is_one_episode(self):
        rule = self._rule(threshold=2, warning_before=0.5, warning_mode="activity")
        lead = self._lead()
        self._run(datetime(2026, 3, 3, 20, 59), rules=rule)
        self.assertFalse(self._events(rule, lead), "before the warning window")
        self._run(datetime(2026, 3, 3, 21, 0), rules=rule)
        event = self._events(rule, lead)
        self.assertEqual(event.state, "warned")
        self.assertEqual(event.deadline, datetime(2026, 3, 4, 9, 0))
        warning = lead.activity_ids.filtered(lambda a: a.user_id == self.rep_a)
        self.assertEqual(len(warning), 1, "the salesperson gets an activity")
        self.assertIn("breaches", warning.summary)
        self._run(datetime(2026, 3, 3, 23, 0), rules=rule)
        self.assertEqual(len(lead.activity_ids), 1, "warned once")
        self._run(datetime(2026, 3, 4, 9, 0), rules=rule)
        event = self._events(rule, lead)
        self.assertEqual(len(event), 1)
        self.assertEqual(event.state, "acted")
        self.assertTrue(event.warned_at and event.acted_at)

    def test_warning_by_message(self):
        rule = self._rule(threshold=2, warning_before=1, warning_mode="message")
        lead = self._lead()
        self._run(datetime(2026, 3, 3, 9, 0), rules=rule)
        message = lead.message_ids.filtered(lambda m: "breaches" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn(self.rep_a.partner_id, message.notified_partner_ids | message.partner_ids)

    def test_rerun_and_new_episode(self):
        rule = self._rule(action="escalate")
        lead = self._lead()
        when = datetime(2026, 3, 5, 9, 0)
        self._run(when, rules=rule)
        self._run(when + timedelta(hours=1), rules=rule)
        self.assertEqual(len(self._events(rule, lead)), 1, "a rerun never acts twice")
        notes = lead.message_ids.filtered(lambda m: "SLA rule" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        # a new stage is a new clock start: a new episode
        self._set_clocks(lead, datetime(2026, 3, 5, 9, 0), columns=("create_date",))
        self._run(datetime(2026, 3, 7, 10, 0), rules=rule)
        self.assertEqual(len(self._events(rule, lead)), 2)

    def test_preview_is_the_run(self):
        """Preview lists exactly what the run then does, and writes nothing."""
        rule = self._rule(action="reassign", reassign_mode="round_robin", threshold=2, warning_before=1)
        breached = self._lead(name="Late 1") | self._lead(name="Late 2", user=self.rep_b)
        warned = self._lead(name="Soon", start=datetime(2026, 3, 3, 8, 0))
        fine = self._lead(name="Fine", start=datetime(2026, 3, 4, 8, 0))
        when = datetime(2026, 3, 4, 9, 0)
        with self._frozen(when):
            action = rule.with_user(self.manager).action_preview()
            Line = self.env["crm.sla.preview.line"].with_user(self.manager)
            lines = Line.with_context(**action["context"]).search([])
            lines.fetch(["lead_id", "status", "description"])
        self.assertFalse(rule.event_ids, "the preview writes no event")
        self.assertEqual((breached | warned | fine).mapped("user_id"), self.rep_a | self.rep_b)
        self.assertEqual(lines.filtered(lambda line: line.status == "breach").lead_id, breached)
        self.assertEqual(lines.filtered(lambda line: line.status == "warn").lead_id, warned)
        planned = {line.lead_id: line.description for line in lines if line.status == "breach"}
        self.assertEqual(
            lines.filtered(lambda line: line.status == "warn").description,
            "Warn Alice Rep: activity for the owner",
        )
        self._run(when, rules=rule)
        self.assertEqual(rule.event_ids.filtered(lambda e: e.state == "acted").lead_id, breached)
        self.assertEqual(rule.event_ids.filtered(lambda e: e.state == "warned").lead_id, warned)
        for lead in breached:
            self.assertEqual(self._events(rule, lead).message, planned[lead])

    def test_preview_lists_the_first_leads_and_counts_them_all(self):
        rule = self._rule()
        for index in range(3):
            self._lead(name=f"Late {index}")
        with self._frozen(datetime(2026, 3, 5, 9, 0)), patch.object(preview_module, "PREVIEW_LIMIT", 1):
            action = rule.with_user(self.manager).action_preview()
            Line = self.env["crm.sla.preview.line"].with_user(self.manager)
            lines = Line.with_context(**action["context"]).search([])
            lines.fetch(["lead_id", "status", "description"])
        self.assertEqual(len(lines.lead_id), 1)
        self.assertEqual(set(lines.mapped("status")), {"breach"})
        self.assertEqual(
            lines.filtered(lambda line: not line.lead_id).description,
            "Rule: 0 to warn, 3 to act on (the first 1 of each are listed)",
        )

    def _queries(self, function, *args):
        """``(result, SQL texts)`` of ``function(*args)``."""
        cursor_class = type(self.env.cr)
        original = cursor_class.execute
        queries = []

        def execute(cr, query, params=None, log_exceptions=True):
            queries.append(str(query))
            return original(cr, query, params, log_exceptions)

        with patch.object(cursor_class, "execute", execute):
            return function(*args), queries

    def test_selection_is_one_query_per_rule(self):
        """Selecting the leads to act on is one query on the leads, for 3 leads as for 30."""
        rule = self._rule(unit="business_hours", threshold=4).sudo()
        for size in (3, 30):
            leads = self.env["crm.lead"]
            for index in range(size):
                leads |= self._lead(name=f"L{index}")
            self.env.flush_all()
            self.env.invalidate_all()
            selected, queries = self._queries(
                rule._sla_select, "act", self.calendar, None, datetime(2026, 3, 9, 9, 0)
            )
            self.assertEqual(set(selected) & set(leads.ids), set(leads.ids))
            on_leads = [query for query in queries if 'FROM "crm_lead"' in query]
            self.assertEqual(len(on_leads), 1, on_leads)
            self.assertLess(len(queries), 25, "reading the rule and its schedule, whatever the leads")

    def test_cron_stops_when_time_runs_out_and_resumes(self):
        rule = self._rule()
        leads = self.env["crm.lead"]
        for index in range(5):
            leads |= self._lead(name=f"L{index}")
        cron = self.env.ref("crm_sla_rules.ir_cron_sla_rules")
        progress = self._run(datetime(2026, 3, 5, 9, 0), batch_size=2)
        self.assertEqual(len(rule.event_ids), 5)
        self.assertEqual(progress.call_count, 3)
        with (
            freeze_time(datetime(2026, 3, 12, 9, 0)),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", return_value=0.0),
            patch.object(type(cron), "_trigger") as trigger,
        ):
            self._set_clocks(leads, datetime(2026, 3, 9, 9, 0), columns=("create_date",))
            self.env["crm.sla.rule"]._cron_run_sla_rules(batch_size=2)
        self.env.invalidate_all()
        self.assertEqual(len(rule.event_ids), 7, "one batch, then it stops")
        trigger.assert_called_once()

    def test_companies_and_their_schedules(self):
        """A rule scoped to a company leaves the others alone; without a schedule of its own, each
        company's working schedule counts the business hours of its leads."""
        other = self.env["res.company"].create({"name": "SLA Night Shift"})
        night = self.env["resource.calendar"].create(
            {
                "name": "Night shift",
                "tz": "UTC",
                "company_id": other.id,
                "attendance_ids": [
                    (0, 0, {"name": f"{day}", "dayofweek": str(day), "hour_from": 0, "hour_to": 8})
                    for day in range(7)
                ],
            }
        )
        other.resource_calendar_id = night
        self.env.user.company_ids |= other
        here = self._lead(name="Here")
        there = self._lead(name="There", user=self.env["res.users"], company_id=other.id, team_id=False)
        scoped = self._rule(name="Scoped", company_ids=[(6, 0, self.company.ids)], team_ids=False)
        self._run(datetime(2026, 3, 9, 9, 0), rules=scoped)
        self.assertEqual(scoped.event_ids.lead_id, here)
        # 4 business hours from Monday 09:00 UTC: Brussels (10:00 local) breaches at 15:00 local (14:00
        # UTC, lunch excluded); the night shift at 04:00 UTC on Tuesday
        everywhere = self._rule(
            name="Everywhere", team_ids=False, unit="business_hours", threshold=4, calendar_id=False
        )
        self._run(datetime(2026, 3, 2, 14, 0), rules=everywhere)
        self.assertEqual(everywhere.event_ids.lead_id, here)
        self._run(datetime(2026, 3, 3, 4, 0), rules=everywhere)
        self.assertEqual(everywhere.event_ids.lead_id, here | there)
        self.assertEqual(self._events(everywhere, there).deadline, datetime(2026, 3, 3, 4, 0))
