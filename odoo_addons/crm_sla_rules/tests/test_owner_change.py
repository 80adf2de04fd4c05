from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import MONDAY_10, SlaCase

MINUTE = timedelta(minutes=1)
# Thursday 12 March 2026, 10:00 in Brussels: ten days after MONDAY_10
HANDOFF = datetime(2026, 3, 12, 9, 0)
# four business days later (Friday, Monday, Tuesday, Wednesday), 10:00 in Brussels
HANDOFF_BREACH = datetime(2026, 3, 18, 9, 0)


@tagged("post_install", "-at_install")
class TestOwnerChange(SlaCase):
    """A new salesperson or sales team starts with a fresh clock, whoever made the change."""

    def _untouched_rule(self, **vals):
        """The sample rule: an opportunity nobody acted on in 4 business days goes to the next member."""
        return self._rule(
            name=vals.pop("name", "Untouched 4 business days"),
            clock="last_action",
            threshold=4,
            unit="business_days",
            action="reassign",
            reassign_mode="round_robin",
            **vals,
        )

    def test_manager_handoff_gives_the_new_salesperson_4_business_days(self):
        """A lead idle 10 days with Alice is handed to Bob: the next run leaves it with Bob; it moves on
        only once Bob too has left it 4 business days."""
        rule = self._untouched_rule()
        lead = self._lead(name="Idle with Alice")
        with freeze_time(HANDOFF):
            lead.with_user(self.manager).write({"user_id": self.rep_b.id})
        self._run(HANDOFF + MINUTE, rules=rule)
        self.assertFalse(self._events(rule, lead), "Bob just got it")
        self.assertEqual(lead.user_id, self.rep_b)
        self._run(HANDOFF_BREACH - MINUTE, rules=rule)
        self.assertFalse(self._events(rule, lead))
        self._run(HANDOFF_BREACH, rules=rule)
        event = self._events(rule, lead)
        self.assertEqual(event.state, "acted")
        self.assertEqual(event.clock_start, HANDOFF)
        self.assertEqual(event.deadline, HANDOFF_BREACH)
        self.assertEqual(event.values_before["user_id"], "Bob Rep")
        self.assertNotEqual(lead.user_id, self.rep_b)

    def test_import_of_a_new_salesperson_gives_a_fresh_clock(self):
        rule = self._untouched_rule()
        lead = self._lead(name="Imported to Bob")
        with freeze_time(HANDOFF):
            result = (
                self.env["crm.lead"]
                .with_user(self.manager)
                .load([".id", "user_id/.id"], [[str(lead.id), str(self.rep_b.id)]])
            )
        self.assertFalse(result["messages"])
        self._run(HANDOFF + MINUTE, rules=rule)
        self.assertFalse(self._events(rule, lead))
        self.assertEqual(lead.user_id, self.rep_b)

    def test_the_rules_own_reassignment_gives_a_fresh_clock(self):
        """The rule hands the lead from Alice to Bob: a rerun does nothing; Bob is held to the same 4
        business days, and the rule acts again (a new episode) once he has let them pass."""
        rule = self._untouched_rule()
        lead = self._lead(name="Idle with Alice")
        self._run(HANDOFF, rules=rule)
        self.assertEqual(lead.user_id, self.rep_b)
        self._run(HANDOFF + timedelta(hours=1), rules=rule)
        self.assertEqual(len(self._events(rule, lead)), 1, "a rerun right after the run acts on nothing")
        self._run(HANDOFF_BREACH - MINUTE, rules=rule)
        self.assertEqual(len(self._events(rule, lead)), 1)
        self._run(HANDOFF_BREACH, rules=rule)
        events = self._events(rule, lead).sorted("id")
        self.assertEqual(len(events), 2, "Bob's own 4 business days are a new episode")
        self.assertEqual(events[1].clock_start, HANDOFF)
        self.assertEqual(events[1].values_before["user_id"], "Bob Rep")
        self.assertEqual(lead.user_id, self.rep_c)

    def test_pulled_back_leads_start_afresh_in_their_new_team(self):
        """Deals pulled back from a partner team enter the team with fresh clocks: a rerun right after the
        run acts on nothing, and the team's stage rule counts from the day the team got them."""
        partners = self.env["crm.team"].create({"name": "SLA Partners", "user_id": self.manager.id})
        self.env["crm.team.member"].create({"crm_team_id": partners.id, "user_id": self.rep_c.id})
        untouched = self._untouched_rule(sequence=10)
        stuck = self._rule(name="Stuck 2 days in a stage", sequence=20, clock="stage_entry", threshold=2)
        pull_back = self._rule(
            name="Partner deal not moved: pull back",
            sequence=30,
            team_ids=[(6, 0, partners.ids)],
            clock="stage_entry",
            threshold=5,
            action="pull_back",
            target_team_id=self.team.id,
        )
        rules = untouched | stuck | pull_back
        deals = self._lead(name="Partner deal 1", user=self.rep_c, team_id=partners.id) | self._lead(
            name="Partner deal 2", user=self.rep_c, team_id=partners.id
        )
        self._run(HANDOFF, rules=rules)
        self.assertEqual(deals.team_id, self.team)
        self.assertFalse(deals.user_id)
        self._run(HANDOFF + timedelta(hours=1), rules=rules)
        self.assertEqual(
            rules.event_ids.mapped(lambda event: (event.rule_id, event.state)),
            [(pull_back, "acted")] * 2,
            "a rerun right after the run acts on nothing",
        )
        self.assertFalse(deals.user_id)
        self._run(HANDOFF + timedelta(days=2) - MINUTE, rules=stuck)
        self.assertFalse(stuck.event_ids)
        self._run(HANDOFF + timedelta(days=2), rules=stuck)
        self.assertEqual(stuck.event_ids.lead_id, deals)
        self.assertEqual(set(stuck.event_ids.mapped("clock_start")), {HANDOFF})

    def test_lead_assignment_gives_a_fresh_clock(self):
        """Odoo's lead assignment (as superuser, like its scheduled action) gives an unassigned lead to a
        member: the member gets 4 business days from then."""
        self.team.crm_team_member_ids.assignment_max = 30
        rule = self._untouched_rule()
        lead = self.env["crm.lead"].create(
            {
                "name": "Waiting in the team",
                "type": "lead",
                "team_id": self.team.id,
                "user_id": False,
                "stage_id": self.stage_new.id,
            }
        )
        self._set_clocks(
            lead,
            MONDAY_10,
            columns=(
                "create_date",
                "date_last_stage_update",
                "sla_last_action_date",
                "sla_owner_since",
                "sla_team_since",
            ),
        )
        with freeze_time(HANDOFF):
            self.team.sudo()._action_assign_leads(force_quota=True)
        self.assertEqual(lead.type, "opportunity")
        owner = lead.user_id
        self.assertTrue(owner)
        self._run(HANDOFF + MINUTE, rules=rule)
        self.assertFalse(self._events(rule, lead))
        self.assertEqual(lead.user_id, owner)
        self._run(HANDOFF_BREACH, rules=rule)
        self.assertEqual(self._events(rule, lead).clock_start, HANDOFF)

    def test_only_the_leads_that_change_hands_restart(self):
        """Two leads given to Bob at once, one already his: only the other one's clock restarts; a new
        team restarts the stage clock too."""
        alices, bobs = self._lead(name="Alice's"), self._lead(name="Bob's", user=self.rep_b)
        with freeze_time(HANDOFF):
            (alices | bobs).with_user(self.manager).write({"user_id": self.rep_b.id})
        self.assertEqual((alices.sla_owner_since, alices.sla_team_since), (HANDOFF, MONDAY_10))
        self.assertEqual((bobs.sla_owner_since, bobs.sla_team_since), (MONDAY_10, MONDAY_10))
        with freeze_time(HANDOFF_BREACH):
            bobs.with_user(self.manager).write({"team_id": self.marketing.id})
        self.assertEqual((bobs.sla_owner_since, bobs.sla_team_since), (HANDOFF_BREACH, HANDOFF_BREACH))

    def test_recording_costs_one_query_whatever_the_number_of_leads(self):
        """Leads all given to someone new: the restart rides in the write's own UPDATE, no query of ours;
        some of them already theirs: one UPDATE of ours for all the others. For 3 leads as for 30."""
        cursor_class = type(self.env.cr)
        original = cursor_class.execute
        ours = []

        def execute(cr, query, params=None, log_exceptions=True):
            if "SET sla_owner_since" in str(query):
                ours.append(query)
            return original(cr, query, params, log_exceptions)

        for size in (3, 30):
            for already_bobs, queries in ((0, 0), (1, 1)):
                with self.subTest(size=size, already_bobs=already_bobs):
                    leads = self.env["crm.lead"].concat(*(self._lead(name=f"L{i}") for i in range(size)))
                    bobs = self.env["crm.lead"].concat(
                        *(self._lead(name="Bob's", user=self.rep_b) for _ in range(already_bobs))
                    )
                    self.env.flush_all()
                    ours.clear()
                    with patch.object(cursor_class, "execute", execute), freeze_time(HANDOFF):
                        (leads | bobs).write({"user_id": self.rep_b.id})
                        self.env.flush_all()
                    self.assertEqual(len(ours), queries)
                    self.assertEqual(set(leads.mapped("sla_owner_since")), {HANDOFF})
                    self.assertEqual(set(bobs.mapped("sla_owner_since")), {MONDAY_10} if bobs else set())

    def test_recorded_not_given(self):
        with self.assertRaisesRegex(UserError, "cannot be set by hand"):
            self._lead().with_user(self.rep_a).write({"sla_owner_since": datetime(2030, 1, 1)})
        with self.assertRaisesRegex(UserError, "cannot be set by hand"):
            self._lead().with_user(self.rep_a).write({"sla_team_since": datetime(2030, 1, 1)})
        lead = (
            self.env["crm.lead"]
            .with_user(self.rep_a)
            .create(
                {
                    "name": "Forged",
                    "sla_owner_since": datetime(2030, 1, 1),
                    "sla_team_since": datetime(2030, 1, 1),
                }
            )
        )
        self.assertLess(lead.sla_owner_since, datetime(2030, 1, 1))
        self.assertLess(lead.sla_team_since, datetime(2030, 1, 1))

    def test_install_fill_from_the_chatter(self):
        """Leads without a value (install, upgrade) changed hands at their latest tracked change of
        salesperson or team, else when they were created."""
        handed, moved, untouched = (self._lead(name=name) for name in ("Handed", "Moved", "Untouched"))
        # changes are tracked at commit, and not on records created in the same transaction
        self.env.flush_all()
        self.env.cr.precommit.run()
        handed.user_id = self.rep_b
        moved.team_id = self.marketing
        self.env.flush_all()
        self.env.cr.precommit.run()
        for lead, date in ((handed, datetime(2026, 3, 9, 14, 0)), (moved, datetime(2026, 3, 10, 15, 0))):
            message = lead.message_ids.filtered("tracking_value_ids")
            self.assertEqual(len(message), 1)
            self.env.cr.execute("UPDATE mail_message SET date = %s WHERE id = %s", (date, message.id))
        leads = handed | moved | untouched
        # the assignment date Odoo set for Bob is the real time of this transaction: put it back
        self._set_clocks(leads, MONDAY_10, columns=("date_open",))
        self.env.cr.execute(
            "UPDATE crm_lead SET sla_owner_since = NULL, sla_team_since = NULL WHERE id IN %s",
            (tuple(leads.ids),),
        )
        self.env["crm.lead"]._sla_fill_owner_since()
        self.env.invalidate_all()
        self.assertEqual(
            [(lead.sla_owner_since, lead.sla_team_since) for lead in leads],
            [
                (datetime(2026, 3, 9, 14, 0), MONDAY_10),
                (datetime(2026, 3, 10, 15, 0), datetime(2026, 3, 10, 15, 0)),
                (MONDAY_10, MONDAY_10),
            ],
        )
