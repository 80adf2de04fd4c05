from datetime import timedelta

from odoo.tests import tagged

from .common import MONDAY_10, SlaCase


@tagged("post_install", "-at_install")
class TestBulkInsertEvents(SlaCase):
    """Past episodes written in bulk (a generated or imported pipeline's history) read as the runs' own:
    the rule's clock and action and who configured it, the lead's company, the audit, and a run that
    meets the same episodes does not act on them again."""

    def test_past_episodes_read_as_the_runs_own_and_are_not_redone(self):
        rule = self._rule(action="reassign", reassign_mode="team_leader", clock="create", threshold=2)
        acted, warned = self._lead(name="Acted"), self._lead(name="Warned")
        breach = MONDAY_10 + timedelta(days=2)
        count = self.env["crm.sla.event"]._bulk_insert_events(
            {
                "rule_id": [rule.id, rule.id],
                "lead_id": [acted.id, warned.id],
                "clock_start": [MONDAY_10, MONDAY_10],
                "deadline": [breach, breach],
                "state": ["acted", "warned"],
                "warned_at": [None, breach - timedelta(hours=1)],
                "acted_at": [breach, None],
                "user_id": [self.rep_a.id, self.rep_a.id],
                "team_id": [self.team.id, None],
                "values_before": [{"user_id": "Alice Rep"}, None],
                "values_after": [{"user_id": self.manager.name}, None],
                "message": ["Reassigned to the team leader", None],
            }
        )
        self.assertEqual(count, 2)
        events = (
            self.env["crm.sla.event"]
            .search([("rule_id", "=", rule.id)])
            .sorted(lambda event: event.lead_id.id)
        )
        self.assertRecordValues(
            events,
            [
                {
                    "lead_id": acted.id,
                    "clock": "create",
                    "action": "reassign",
                    "state": "acted",
                    "clock_start": MONDAY_10,
                    "deadline": breach,
                    "acted_at": breach,
                    "warned_at": False,
                    "company_id": acted.company_id.id,
                    "team_id": self.team.id,
                    "user_id": self.rep_a.id,
                    "configured_by_id": rule.configured_by_id.id,
                    "values_after": {"user_id": self.manager.name},
                    "message": "Reassigned to the team leader",
                    "create_date": breach,
                },
                {
                    "lead_id": warned.id,
                    "clock": "create",
                    "action": "reassign",
                    "state": "warned",
                    "clock_start": MONDAY_10,
                    "deadline": breach,
                    "acted_at": False,
                    "warned_at": breach - timedelta(hours=1),
                    "company_id": warned.company_id.id,
                    "team_id": False,
                    "user_id": self.rep_a.id,
                    "configured_by_id": rule.configured_by_id.id,
                    "values_after": False,
                    "message": False,
                    "create_date": breach - timedelta(hours=1),
                },
            ],
        )
        self.assertEqual(events[0].changes, f"Salesperson: Alice Rep → {self.manager.name}")
        # a run after the breach acts on the warned episode only: the acted one is done
        self._run(breach + timedelta(hours=1), rule)
        self.assertEqual(acted.user_id, self.rep_a, "the past episode is not acted on again")
        self.assertEqual(warned.user_id, self.manager)
        self.assertEqual(events.mapped("state"), ["acted", "acted"])
