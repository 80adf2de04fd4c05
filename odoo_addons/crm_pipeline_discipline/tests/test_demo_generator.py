import hashlib
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import odoo
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, freeze_time, new_test_user, tagged
from odoo.tools import config

NOW = datetime(2025, 6, 2, 9, 0)
PHASE_CODES = ("inquiry", "mql", "sal", "sql", "opportunity", "won", "lost", "recycled", "disqualified")
COUNTS = ("leads", "stays", "activities", "done_activities", "customer_events")


def fingerprint(env):
    """A digest of the generated rows that ignores database ids (sequences move on after a rollback):
    leads are numbered in id order, everything else refers to names and dates."""
    env.flush_all()
    queries = [
        """SELECT dense_rank() OVER (ORDER BY l.id), l.name, l.type, l.active, u.login, t.name->>'en_US',
                  s.name->>'en_US', l.expected_revenue, l.probability, l.won_status, r.name->>'en_US',
                  l.create_date, l.date_closed, l.date_last_stage_update, l.date_deadline, l.followup_state,
                  l.no_followup_reason_id IS NOT NULL, p.name->>'en_US', c.title->>'en_US', l.email_from
             FROM crm_lead l JOIN res_users u ON u.id = l.user_id JOIN crm_team t ON t.id = l.team_id
             JOIN crm_stage s ON s.id = l.stage_id LEFT JOIN crm_lost_reason r ON r.id = l.lost_reason_id
        LEFT JOIN crm_decision_phase p ON p.id = l.decision_phase_id
        LEFT JOIN utm_campaign c ON c.id = l.campaign_id
            WHERE u.login LIKE 'pd_rep_%' ORDER BY l.id""",
        """SELECT dense_rank() OVER (ORDER BY h.lead_id), s.name->>'en_US', h.date_in, h.date_out,
                  h.is_current, h.origin, h.skipped_stage_count, h.duration_hours
             FROM crm_lead_stage_history h JOIN crm_stage s ON s.id = h.stage_id
             JOIN res_users u ON u.id = h.user_id
            WHERE u.login LIKE 'pd_rep_%' ORDER BY h.lead_id, h.date_in""",
        """SELECT dense_rank() OVER (ORDER BY a.res_id), a.summary, a.date_deadline, a.create_date
             FROM mail_activity a JOIN res_users u ON u.id = a.user_id
            WHERE a.res_model = 'crm.lead' AND u.login LIKE 'pd_rep_%' ORDER BY a.res_id""",
        """SELECT dense_rank() OVER (ORDER BY e.lead_id), e.event_type, e.date, e.description
             FROM crm_lead_customer_event e JOIN crm_lead l ON l.id = e.lead_id
             JOIN res_users u ON u.id = l.user_id WHERE u.login LIKE 'pd_rep_%' ORDER BY e.lead_id, e.date""",
        """SELECT dense_rank() OVER (ORDER BY i.lead_id), q.title->>'en_US', x.value_numerical_box,
                  sa.value->>'en_US', i.end_datetime
             FROM survey_user_input_line x JOIN survey_user_input i ON i.id = x.user_input_id
             JOIN survey_question q ON q.id = x.question_id
        LEFT JOIN survey_question_answer sa ON sa.id = x.suggested_answer_id
             JOIN crm_lead l ON l.id = i.lead_id JOIN res_users u ON u.id = l.user_id
            WHERE u.login LIKE 'pd_rep_%' ORDER BY i.lead_id, q.sequence""",
        """SELECT dense_rank() OVER (ORDER BY h.lead_id), p.code, h.date_in, h.date_out, h.origin,
                  t.name->>'en_US', u.login, c.login
             FROM crm_lead_phase_history h JOIN crm_lifecycle_phase p ON p.id = h.phase_id
             JOIN crm_team t ON t.id = h.team_id LEFT JOIN res_users u ON u.id = h.user_id
        LEFT JOIN res_users c ON c.id = h.changed_by_id
            ORDER BY h.lead_id, h.date_in, h.id""",
        """SELECT dense_rank() OVER (ORDER BY x.lead_id), x.state, x.date_sent, x.date_decided,
                  r.code, s.login, d.login
             FROM crm_lead_handoff x JOIN res_users s ON s.id = x.sender_id
        LEFT JOIN res_users d ON d.id = x.decided_by_id
        LEFT JOIN crm_handoff_reject_reason r ON r.id = x.reason_id
            ORDER BY x.lead_id, x.date_sent, x.id""",
    ]
    digest = hashlib.sha256()
    for query in queries:
        env.cr.execute(query)
        rows = env.cr.fetchall()
        assert rows, query
        digest.update(repr(rows).encode())
    return digest.hexdigest()


@tagged("post_install", "-at_install")
class TestDemoDeterminism(TransactionCase):
    def _generate_and_roll_back(self, seed):
        with self.env.cr.savepoint() as savepoint:
            summary = self.env["crm.pipeline.demo"]._generate(leads=150, seed=seed, months=3, now=NOW)
            digest = fingerprint(self.env)
            savepoint.close(rollback=True)
        self.env.invalidate_all()
        return summary, digest

    def test_same_seed_and_now_give_the_same_pipeline(self):
        # what `pipeline_demo --if-empty` asks before generating (a container's restart does nothing)
        self.assertFalse(self.env["crm.pipeline.demo"]._generated())
        first, digest = self._generate_and_roll_back(seed=3)
        again, same = self._generate_and_roll_back(seed=3)
        other, different = self._generate_and_roll_back(seed=4)
        self.assertEqual(same, digest)
        self.assertEqual(
            {key: again[key] for key in (*COUNTS, "marketing_leads", "phase_stays", "handoffs")},
            {key: first[key] for key in (*COUNTS, "marketing_leads", "phase_stays", "handoffs")},
        )
        self.assertNotEqual(different, digest)
        self.assertEqual(other["leads"], 150)


@tagged("post_install", "-at_install")
@freeze_time(NOW)
class TestDemoStory(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.summary = cls.env["crm.pipeline.demo"]._generate(leads=400, seed=7, months=6, now=NOW)
        cls.Lead = cls.env["crm.lead"].with_context(active_test=False)
        cls.teams = {
            key: cls.env["crm.team"].browse(team_id) for key, team_id in cls.summary["teams"].items()
        }
        # the generated leads, also those an SLA rule since returned to marketing
        cls.leads = cls.Lead.search([("create_uid", "in", cls.summary["reps"])])

    def _open(self, key):
        return self.leads.filtered(
            lambda lead: lead.team_id == self.teams[key] and lead.won_status == "pending"
        )

    def test_configuration(self):
        summary = self.summary
        self.assertEqual(summary["leads"], 400)
        self.assertEqual(len(self.leads), 400)
        self.assertGreater(summary["stays"], 400)
        self.assertGreater(summary["activities"], 0)
        self.assertGreater(summary["customer_events"], 0)
        self.assertGreater(summary["snapshots"], 0)
        reps = self.env["res.users"].browse(summary["reps"])
        self.assertEqual(reps.mapped("login"), [f"pd_rep_{i}" for i in range(1, 7)])
        self.assertTrue(all(rep.has_group("sales_team.group_sale_salesman") for rep in reps))
        manager = self.env["res.users"].browse(summary["manager"])
        self.assertTrue(manager.has_group("sales_team.group_sale_manager"))
        field, inside, partner = self.teams["field"], self.teams["inside"], self.teams["partner"]
        self.assertEqual(
            [(team.followup_policy, team.stage_setting) for team in (field, inside, partner)],
            [("enforce", "survey"), ("warn", "manual"), ("off", "manual")],
        )
        self.assertEqual(field.qualification_survey_id.id, summary["survey"])
        self.assertEqual((field | inside | partner).user_id, manager)
        members = (field | inside | partner).crm_team_member_ids
        self.assertEqual(members.user_id, reps)
        self.assertEqual(len(set(members.mapped("activity_daily_capacity"))), 6, "capacities differ per rep")
        criteria = self.env["crm.stage.criterion"].search([("survey_id", "=", summary["survey"])])
        self.assertEqual(set(criteria.stage_id.mapped("name")), {"Qualified", "Proposition"})
        rules = self.env["crm.sla.rule"].browse(summary["sla_rules"])
        self.assertEqual(len(rules), 4)
        self.assertTrue(all(rules.mapped("active")))
        deadline = rules.filtered(lambda rule: rule.clock == "handed_over")
        self.assertEqual((deadline.action, deadline.team_ids), ("return_to_sender", inside))

    def test_campaigns_have_costs_and_leads(self):
        report = self.env["crm.campaign.cost.report"].search(
            [("campaign_id", "in", self.summary["campaigns"])]
        )
        self.assertEqual(len(report), 4)
        for line in report:
            self.assertGreater(line.cost, 0)
            self.assertGreater(line.leads, 0)
            self.assertGreater(line.cost_per_lead, 0)

    def test_field_sales_leads_are_followed_up_and_locked_by_their_answers(self):
        open_leads = self._open("field")
        self.assertTrue(open_leads)
        for lead in open_leads:
            self.assertTrue(lead.activity_ids or lead.no_followup_reason_id, lead.name)
            self.assertNotEqual(lead.followup_state, "missing")
        qualified = self.leads.filtered(lambda lead: lead.team_id == self.teams["field"] and lead.active)
        last_gate = self.env.ref("crm.stage_lead3")
        for lead in qualified:  # crm_stage_survey's own computation of the stage the answers reach
            expected = last_gate if lead.stage_id.is_won else lead.stage_id
            self.assertEqual(lead.survey_gate_stage_id, expected, lead.name)
        self.assertTrue(qualified.filtered("qualification_input_id"))
        self.assertTrue(self.env["crm.lead.customer.event"].search_count([("lead_id", "in", qualified.ids)]))
        self.assertTrue(qualified.filtered("decision_phase_id"))
        # each phase has its history: the customer events that moved it, in order
        for lead in self.leads.filtered("decision_phase_id"):
            changes = lead.decision_phase_change_ids.sorted(lambda change: (change.date, change.id))
            self.assertEqual(changes[-1:].phase_id, lead.decision_phase_id, lead.name)
            self.assertEqual(set(changes.mapped("origin")), {"customer"})
            self.assertEqual(changes.event_id.lead_id, lead)
            self.assertEqual(
                changes[1:].old_phase_id, changes[:-1].phase_id, "each starts where the last ended"
            )

    def test_other_teams_miss_some_follow_ups(self):
        def missing_share(key):
            leads = self._open(key)
            return len(leads.filtered(lambda lead: lead.followup_state == "missing")) / len(leads)

        self.assertGreater(missing_share("inside"), 0)
        self.assertLess(missing_share("inside"), 0.25)
        # Partner Sales is Off, Odoo as usual: its leads without a next step are there but not flagged
        self.assertTrue(self._open("partner").filtered(lambda lead: not lead.activity_ids))
        self.assertEqual(missing_share("partner"), 0)

    def test_stored_states_match_the_addons_own_fills(self):
        """The states given at insert are those the install-time fills of the addons compute."""

        def states():
            return {
                lead.id: (
                    lead.followup_state,
                    lead.sla_last_action_date,
                    lead.sla_owner_since,
                    lead.sla_team_since,
                )
                for lead in self.leads
            }

        inserted = states()
        self.env.cr.execute(
            """UPDATE crm_lead SET sla_last_action_date = NULL, sla_owner_since = NULL, sla_team_since = NULL
                WHERE id = ANY(%s)""",
            [self.leads.ids],
        )
        self.Lead._followup_fill_all()
        self.Lead._sla_fill_last_action()
        self.Lead._sla_fill_owner_since()
        self.env.invalidate_all()
        self.assertEqual(states(), inserted)

    def _run_rules(self):
        """Run the SLA job now; return the events it wrote."""
        rules = self.env["crm.sla.rule"].browse(self.summary["sla_rules"])
        Event = self.env["crm.sla.event"]
        before = Event.search([])
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", return_value=3600.0):
            rules._cron_run_sla_rules()
        return Event.search([]) - before

    def test_the_history_holds_the_rules_past_work(self):
        """The demo's rules have been running: their events are the episodes already past, each on a lead
        with its clock start, breached (or, warned only, about to breach) as the rules count it, acted on
        at the first hourly run after the breach, the leads left as the actions left them. The rules hand
        leads over (reassigned in Field and Inside Sales, returned to marketing, deals pulled back from
        partners into Inside Sales)."""
        rules = self.env["crm.sla.rule"].browse(self.summary["sla_rules"])
        events = self.env["crm.sla.event"].search([("rule_id", "in", rules.ids)])
        self.assertEqual(self.summary["sla_events"], len(events))
        acted = events.filtered(lambda event: event.state == "acted")
        self.assertEqual(set(acted.mapped("action")), {"reassign", "return_to_marketing", "pull_back"})
        self.assertEqual(set(events.mapped("state")), {"acted", "warned"})
        for event in events:
            self.assertTrue(event.lead_id and event.clock_start and event.deadline, event.id)
            calendar = event.rule_id._sla_calendar_groups()[0][0]
            breach = event.rule_id._sla_deadlines(calendar, {event.lead_id.id: event.clock_start}, NOW)
            self.assertEqual(event.deadline, breach[event.lead_id.id], "the breach time is the rule's")
            if event.warned_at:
                rule = event.rule_id
                warning = rule._sla_deadlines(
                    calendar,
                    {event.lead_id.id: event.clock_start},
                    NOW,
                    amount=rule.threshold - rule.warning_before,
                )[event.lead_id.id]
                self.assertLessEqual(warning, event.warned_at)
                self.assertLess(
                    event.warned_at - warning, timedelta(hours=1), "warned at the next hourly run"
                )
            if event.state == "acted":
                self.assertLessEqual(event.clock_start, event.deadline)
                self.assertLessEqual(event.deadline, event.acted_at)
                self.assertLess(event.acted_at - event.deadline, timedelta(hours=1), "the next hourly run")
                self.assertLessEqual(event.acted_at, NOW)
                self.assertNotEqual(event.values_before, event.values_after, "the action changed the lead")
                if event.warned_at:
                    self.assertLessEqual(event.warned_at, event.acted_at)
            else:
                self.assertLessEqual(event.warned_at, NOW)
                self.assertGreater(event.deadline, NOW, "warned, not yet breached")
        # each lead is as the last action on it left it
        for lead in acted.lead_id:
            last = acted.filtered(lambda event, lead=lead: event.lead_id == lead).sorted("acted_at")[-1]
            self.assertEqual(last.rule_id._sla_audit_values(lead)[lead.id], last.values_after)

        # a lead the rules handed over changed hands when they acted (its clocks, its chatter), and was
        # taken up by its new salesperson: a note of theirs since, neither warned nor breached now
        def changed(*names):
            return acted.filtered(
                lambda event: any(event.values_before[name] != event.values_after[name] for name in names)
            )

        handed = changed("user_id")
        self.assertTrue(handed)
        for lead in changed("user_id", "team_id").lead_id:
            events = changed("user_id", "team_id").filtered(lambda event, lead=lead: event.lead_id == lead)
            self.assertEqual(lead.sla_owner_since, max(events.mapped("acted_at")), "the clock restarted then")
        for lead in handed.lead_id:
            last = max(handed.filtered(lambda event, lead=lead: event.lead_id == lead).mapped("acted_at"))
            tracking = lead.message_ids.filtered(
                lambda message: "user_id" in message.tracking_value_ids.field_id.mapped("name")
            )
            self.assertEqual(max(tracking.mapped("date")), last, "the chatter dates the change")
            if lead.user_id:
                self.assertEqual(lead.date_open, last, "assigned then")
                author = lead.user_id.partner_id
                note = lead.message_ids.filtered(lambda message, author=author: message.author_id == author)
                self.assertEqual(lead.sla_last_action_date, max(note.mapped("date")), "taken up since")
                self.assertGreaterEqual(lead.sla_last_action_date, last)

    def test_the_first_runs_after_the_demo_act_on_few_leads(self):
        """Every episode breached or due a warning by now is in the history: the SLA job run at the demo's
        time finds nothing. An hour later it finds only the episodes whose breach or warning time fell in
        that hour: clock starts spread over months, a handful at most, never a share of the pipeline."""
        self.assertFalse(self._run_rules(), "nothing was left for the first run")
        with freeze_time(NOW + timedelta(hours=1)):
            later = self._run_rules()
        open_leads = self.leads.filtered(lambda lead: lead.won_status == "pending" and lead.active)
        self.assertLessEqual(len(later), max(3, len(open_leads) // 100), later.mapped("lead_id.name"))

    def test_history_covers_every_lead_with_one_current_stay(self):
        History = self.env["crm.lead.stage.history"]
        stays = History.search([("lead_id", "in", self.leads.ids)])
        self.assertEqual(set(stays.lead_id.ids), set(self.leads.ids))
        self.assertEqual(len(stays), self.summary["stays"])
        current = stays.filtered("is_current")
        for lead in self.leads:
            mine = current.filtered(lambda stay, lead=lead: stay.lead_id == lead)
            if lead.won_status == "pending":
                self.assertEqual(len(mine), 1, lead.name)
                self.assertEqual(mine.stage_id, lead.stage_id)
            else:
                self.assertFalse(mine, lead.name)
        first = {}
        for stay in stays.sorted("date_in"):
            first.setdefault(stay.lead_id, stay)
        self.assertEqual({stay.origin for stay in first.values()}, {"create"})
        field_moves = stays.filtered(
            lambda stay: stay.team_id == self.teams["field"] and stay.previous_stage_id
        )
        self.assertIn("survey", field_moves.mapped("origin"))
        self.assertTrue(stays.filtered(lambda stay: stay.skipped_stage_count > 0), "some stage jumps")

    def test_decided_leads_have_completed_activities_that_tell_what_wins(self):
        """Won and lost leads have completed activities in their chatter (open ones only next activities),
        and the manager's Activities That Win report on them shows deals in more than one count."""
        self.assertGreater(self.summary["done_activities"], 0)
        messages = self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "in", self.leads.ids),
                ("mail_activity_type_id", "!=", False),
            ]
        )
        self.assertEqual(len(messages), self.summary["done_activities"])
        self.assertEqual(
            set(self.Lead.browse(messages.mapped("res_id")).mapped("won_status")), {"won", "lost"}
        )
        self.assertEqual(
            set(messages.mail_activity_type_id.ids),
            {self.env.ref(f"mail.mail_activity_data_{key}").id for key in ("meeting", "call", "email")},
        )
        manager = self.env["res.users"].browse(self.summary["manager"])
        form = (
            self.env["crm.activity.win.report"]
            .with_user(manager)
            .create({"date_from": False, "min_deals": 10})
        )
        action = form.action_show()
        lines = self.env[action["res_model"]].with_user(manager).with_context(**action["context"]).search([])
        meetings = lines.filtered(lambda line: line.activity_type_id.name == "Meeting" and line.deals)
        self.assertGreater(len(meetings), 2)
        self.assertGreater(max(meetings.mapped("win_rate")), min(meetings.mapped("win_rate")))

    def test_some_leads_are_stuck(self):
        stuck = self.Lead.search([("id", "in", self.leads.ids), ("is_stage_stuck", "=", True)])
        self.assertTrue(stuck)
        self.assertLess(len(stuck), len(self.leads.filtered(lambda lead: lead.won_status == "pending")))

    def test_funnel_report_shows_each_stage_below_full_conversion(self):
        action = self.env["crm.stage.funnel.report"].create({"group_by": "stage"}).action_show()
        Line = self.env[action["res_model"]].with_context(**action["context"])
        lines = {line.stage_id.name: line for line in Line.search([])}
        # Marketing's own stage too: its leads open in Marketing Qualified are there
        self.assertEqual(set(lines), {"New", "Marketing Qualified", "Qualified", "Proposition", "Won"})
        for name in ("New", "Qualified", "Proposition"):
            self.assertTrue(lines[name].has_conversion)
            self.assertLess(lines[name].conversion_rate, 100)
            self.assertGreater(lines[name].conversion_rate, 0)

    def test_probability_by_month_end_has_decided_and_open_snapshots(self):
        """The month ends of the history are filled in: the report has bands with decided opportunities
        (some won, some lost) and opportunities still open set apart."""
        action = self.env["crm.probability.snapshot.report"].create({}).action_show()
        Line = self.env[action["res_model"]].with_context(**action["context"])
        lines = Line.search([]).filtered("has_observed")
        self.assertGreaterEqual(len(lines), 2)
        self.assertGreater(sum(lines.mapped("won_count")), 0)
        self.assertLess(sum(lines.mapped("won_count")), sum(lines.mapped("sample_size")))
        self.assertGreater(sum(Line.search([]).mapped("open_count")), 0)

    def test_one_rep_converts_clearly_better(self):
        def win_rate(login):
            closed = self.leads.filtered(
                lambda lead: lead.user_id.login == login and lead.won_status != "pending"
            )
            return len(closed.filtered(lambda lead: lead.won_status == "won")) / len(closed)

        self.assertGreater(win_rate("pd_rep_1"), 1.5 * win_rate("pd_rep_2"))

    # ------------------------------------------------------------------
    # Handoffs and the demand waterfall (crm_lead_handoff)
    # ------------------------------------------------------------------

    def test_marketing_hands_over_to_inside_then_field_sales(self):
        summary = self.summary
        marketer = self.env["res.users"].browse(summary["marketer"])
        self.assertEqual(marketer.login, "pd_marketer")
        marketing = self.teams["marketing"]
        self.assertEqual(
            (marketing.name, marketing.member_ids, marketing.user_id.id),
            ("Marketing", marketer, summary["manager"]),
        )
        routes = self.env["crm.handoff.route"].browse(summary["routes"])
        phase = {code: self.env.ref(f"crm_lead_handoff.crm_lifecycle_phase_{code}") for code in PHASE_CODES}
        self.assertEqual(
            [(r.from_team_ids, r.to_team_id, r.from_phase_id, r.accept_phase_id) for r in routes],
            [
                (marketing, self.teams["inside"], phase["mql"], phase["sal"]),
                (self.teams["inside"], self.teams["field"], phase["sql"], phase["opportunity"]),
            ],
        )
        self.assertTrue(all(routes.mapped("active")) and all(routes.mapped("domain")))
        handoffs = self.env["crm.lead.handoff"].search([("route_id", "in", routes.ids)])
        self.assertEqual(len(handoffs), summary["handoffs"])
        self.assertEqual(set(handoffs.mapped("state")), {"awaiting", "accepted", "rejected"})
        rejected = handoffs.filtered(lambda handoff: handoff.state == "rejected")
        self.assertGreater(len(rejected.reason_id), 3, "rejected for various reasons")
        self.assertEqual(rejected.decided_by_id.crm_team_ids, self.teams["inside"], "by Inside Sales")
        # each decision left the lead in its phase: accepted into the route's next one, rejected: recycled
        History = self.env["crm.lead.phase.history"]
        for handoff in handoffs.filtered("date_decided"):
            stay = History.search([("handoff_id", "=", handoff.id)])
            expected = phase["recycled"] if handoff.state == "rejected" else handoff.route_id.accept_phase_id
            self.assertEqual(
                (stay.phase_id, stay.date_in), (expected, handoff.date_decided), handoff.lead_id.name
            )
            self.assertEqual(stay.previous_phase_id, handoff.phase_id)
            self.assertLessEqual(handoff.date_sent, handoff.date_decided)
        # the Demand Waterfall shows the phases against their targets, Inside Sales' own where it has one
        form = self.env["crm.waterfall.report.form"].create({"group_by": "team"})
        action = form.action_show()
        Line = self.env[action["res_model"]].with_context(**action["context"])
        targets = {(line.team_id.name, line.phase_id.code): line.target_days for line in Line.search([])}
        self.assertEqual(targets[("Inside Sales", "sal")], 3.0)
        self.assertEqual(targets[("Field Sales", "opportunity")], 30.0)
        # the teams qualify their leads at stages (Marketing's own, the Qualified stage), as their people:
        # the marketer for Marketing Qualified, Inside Sales' reps for Sales Qualified
        marketing_stage = phase["mql"].stage_ids
        self.assertEqual((marketing_stage.name, marketing_stage.team_ids), ("Marketing Qualified", marketing))
        self.assertEqual(phase["sql"].stage_ids.name, "Qualified")
        at_stages = History.search([("lead_id", "in", handoffs.lead_id.ids), ("origin", "=", "stage")])
        self.assertEqual(set(at_stages.phase_id.mapped("code")), {"mql", "sql"})
        self.assertEqual(
            at_stages.filtered(lambda stay: stay.phase_id == phase["mql"]).changed_by_id, marketer
        )
        self.assertEqual(
            at_stages.filtered(lambda stay: stay.phase_id == phase["sql"]).changed_by_id.crm_team_ids,
            self.teams["inside"],
        )
        # a manager's corrections only send recycled leads back to Inquiry and disqualify
        corrections = History.search([("origin", "=", "correction")])
        self.assertEqual(set(corrections.phase_id.mapped("code")), {"inquiry", "disqualified"})
        self.assertEqual(corrections.changed_by_id.id, summary["manager"])
        # Marketing's leads open in Marketing Qualified are in its stage, moved there when qualified
        open_mql = self.Lead.search(
            [("team_id", "=", marketing.id), ("lifecycle_phase_id", "=", phase["mql"].id)]
        )
        self.assertTrue(open_mql)
        self.assertEqual(open_mql.stage_id, marketing_stage)
        self.assertEqual(open_mql.mapped("date_last_stage_update"), open_mql.mapped("lifecycle_phase_date"))
        # a rep's stage move enters the phase now: Inside Sales qualifies an accepted lead at Qualified
        accepted = self.Lead.search(
            [
                ("team_id", "=", self.teams["inside"].id),
                ("lifecycle_phase_id", "=", phase["sal"].id),
                ("type", "=", "lead"),
                ("user_id", "!=", False),
            ],
            limit=1,
        )
        accepted.with_user(accepted.user_id).write({"stage_id": phase["sql"].stage_ids.id})
        self.assertEqual(accepted.lifecycle_phase_id, phase["sql"])
        self.assertEqual(accepted.phase_history_ids.sorted("id")[-1:].origin, "stage")

    def test_handoffs_await_inside_sales(self):
        """Some of Marketing's leads were handed over in the last hours: in Inside Sales' queue, nobody's yet,
        awaiting; an Inside Sales rep accepts one (it becomes theirs, Sales Accepted), a Field Sales rep may
        not."""
        awaiting = self.env["crm.lead.handoff"].search([("state", "=", "awaiting")], order="date_sent, id")
        self.assertGreaterEqual(len(awaiting), 4)
        leads = awaiting.lead_id
        self.assertEqual(leads.team_id, self.teams["inside"])
        self.assertFalse(leads.user_id)
        self.assertEqual(leads.mapped("handoff_id"), awaiting)
        self.assertEqual(leads.mapped("handoff_sent_date"), awaiting.mapped("date_sent"))
        self.assertEqual(set(leads.lifecycle_phase_id.mapped("code")), {"mql"})
        self.assertTrue(all(NOW - timedelta(hours=6) < sent < NOW for sent in awaiting.mapped("date_sent")))
        inside_rep = self.teams["inside"].member_ids[0]
        field_rep = self.teams["field"].member_ids[0]
        with self.assertRaises(AccessError):
            awaiting[0].with_user(field_rep).action_accept()
        awaiting[0].with_user(inside_rep).action_accept()
        self.assertEqual(
            (leads[0].lifecycle_phase_id.code, leads[0].user_id, leads[0].handoff_id),
            ("sal", inside_rep, awaiting[:0]),
        )

    def test_every_lead_is_in_the_phase_of_its_current_stay(self):
        leads = self.Lead.search([("create_uid", "in", [*self.summary["reps"], self.summary["marketer"]])])
        self.assertEqual(len(leads), self.summary["leads"] + self.summary["marketing_leads"])
        History = self.env["crm.lead.phase.history"]
        stays = History.search([("lead_id", "in", leads.ids)])
        self.assertEqual(len(stays), self.summary["phase_stays"])
        self.assertEqual(set(stays.lead_id.ids), set(leads.ids))
        last = {}
        for stay in stays.sorted(lambda stay: (stay.date_in, stay.id)):
            last[stay.lead_id] = stay
        kinds = {}
        for lead in leads:
            stay = last[lead]
            self.assertEqual(
                (lead.lifecycle_phase_id, lead.lifecycle_phase_date), (stay.phase_id, stay.date_in)
            )
            self.assertEqual(stay.is_current, not stay.date_out, lead.name)
            kinds.setdefault(lead.won_status, set()).add(stay.phase_id.kind)
        self.assertEqual(kinds["won"], {"won"})
        self.assertEqual(kinds["lost"], {"lost"})
        self.assertEqual(kinds["pending"], {"progress", "recycled", "disqualified"})
        self.assertEqual(
            len(stays.filtered("is_current")), len(stays.filtered(lambda stay: not stay.date_out))
        )

    def test_refusals(self):
        Demo = self.env["crm.pipeline.demo"]
        self.assertTrue(Demo._generated())
        with self.assertRaisesRegex(UserError, "fresh database"):
            Demo._generate(leads=100, now=NOW)
        for size in (99, 200_001):
            with self.assertRaisesRegex(UserError, "100 to 200000 leads"):
                Demo._generate(leads=size, now=NOW)
        for months in (0, 37):
            with self.assertRaisesRegex(UserError, "1 to 36 months"):
                Demo._generate(months=months, now=NOW)
        manager = new_test_user(
            self.env, login="pd_test_sales_manager", groups="sales_team.group_sale_manager"
        )
        with self.assertRaisesRegex(UserError, "Only an administrator"):
            Demo.with_user(manager)._generate(leads=100, now=NOW)


@tagged("post_install", "-at_install")
class TestDemoCommand(TransactionCase):
    """The ``pipeline_demo`` command line, run as a user runs it."""

    def _command(self, *args):
        """``odoo --addons-path=... <db options> pipeline_demo *args`` with this Odoo and this server's
        connection settings."""
        options = [f"--addons-path={','.join(config['addons_path'])}"]
        options += [
            f"--{name}={config[name]}"
            for name in ("db_host", "db_port", "db_user", "db_password")
            if config.get(name)
        ]
        # the folder holding the odoo package, for a source checkout that is not installed
        paths = [str(Path(path).parent) for path in odoo.__path__]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")])}
        return subprocess.run(
            [sys.executable, "-m", "odoo", *options, "pipeline_demo", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    def test_a_database_that_does_not_exist(self):
        name = f"{self.env.cr.dbname}_no_such_database"
        result = self._command("-d", name, "--leads", "100")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stderr, f"pipeline_demo: database “{name}” does not exist.\n")
        self.assertEqual(result.stdout, "")
