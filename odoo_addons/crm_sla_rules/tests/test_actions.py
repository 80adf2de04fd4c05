from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import SlaCase

LATE = datetime(2026, 3, 5, 9, 0)  # two days after the clocks of _lead() started


@tagged("post_install", "-at_install")
class TestActions(SlaCase):
    def _act(self, leads, **rule_vals):
        rule = self._rule(**rule_vals)
        self._run(LATE, rules=rule)
        return rule

    def _note(self, lead):
        return lead.message_ids.filtered(lambda m: "SLA rule" in (m.body or ""))

    def test_reassign_round_robin(self):
        """Rotation skips the owner, absent members and members over capacity; it continues across runs."""
        self.env["ir.config_parameter"].sudo().set_param("crm.lead.auto.assignment", True)
        self.rep_c.sudo().write(
            {"out_of_office_from": LATE - timedelta(days=1), "out_of_office_to": LATE + timedelta(days=1)}
        )
        leads = [self._lead(name=f"L{i}") for i in range(3)]
        rule = self._act(leads[0] | leads[1] | leads[2], action="reassign", reassign_mode="round_robin")
        self.assertEqual(
            [lead.user_id for lead in leads],
            [self.rep_b, self.rep_b, self.rep_b],
            "Alice owns them, Carol is away: Bob takes them",
        )
        self.assertEqual(rule.rotation_state, {str(self.team.id): self.rep_b.id})
        event = self._events(rule, leads[0])
        self.assertEqual(event.values_before["user_id"], "Alice Rep")
        self.assertEqual(event.values_after["user_id"], "Bob Rep")
        self.assertIn("Bob Rep", self._note(leads[0]).body)
        self.assertEqual(event.changes, "Salesperson: Alice Rep → Bob Rep")
        # Carol is back: the rotation goes on after Bob
        self.rep_c.sudo().write({"out_of_office_from": False, "out_of_office_to": False})
        nxt = self._lead(name="Next")
        self._run(LATE, rules=rule)
        self.assertEqual(nxt.user_id, self.rep_c)
        # Carol's month is full (one lead for a capacity of one): Bob again
        self.team.crm_team_member_ids.filtered(lambda m: m.user_id == self.rep_c).assignment_max = 1
        last = self._lead(name="Last")
        self._run(LATE, rules=rule)
        self.assertEqual(last.user_id, self.rep_b)

    def test_reassign_nobody_available_fails_cleanly(self):
        self.team.crm_team_member_ids.filtered(lambda m: m.user_id != self.rep_a).assignment_optout = True
        lead = self._lead()
        rule = self._act(lead, action="reassign", reassign_mode="round_robin")
        event = self._events(rule, lead)
        self.assertEqual(event.state, "failed")
        self.assertIn("SLA Europe", event.message)
        self.assertEqual(lead.user_id, self.rep_a, "nothing changed")
        with self.assertRaises(AccessError):
            event.with_user(self.rep_a).action_retry()
        # the manager lets Bob take leads again and retries: the next run acts
        self.team.crm_team_member_ids.filtered(lambda m: m.user_id == self.rep_b).assignment_optout = False
        event.with_user(self.manager).action_retry()
        self.assertEqual(event.state, "retry")
        self._run(LATE, rules=rule)
        self.assertEqual(event.state, "acted")
        self.assertEqual(lead.user_id, self.rep_b)
        with self.assertRaises(UserError):
            event.with_user(self.manager).action_retry()

    def test_reassign_to_leader_and_to_user(self):
        lead = self._lead()
        self._act(lead, action="reassign", reassign_mode="team_leader")
        self.assertEqual(lead.user_id, self.manager)
        other = self._lead(name="Other")
        self._act(
            other, name="To Carol", action="reassign", reassign_mode="user", reassign_user_id=self.rep_c.id
        )
        self.assertEqual(other.user_id, self.rep_c)

    def test_reassign_hands_the_open_activities_over(self):
        """The rule's reassignment hands Alice's open activities on the lead to the new owner, with a note;
        a colleague's activity on the lead stays his."""
        lead = self._lead()
        Activity = self.env["mail.activity"].sudo()
        call, bobs = Activity.create(
            [
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": lead.id,
                    "activity_type_id": self.env.ref("mail.mail_activity_data_call").id,
                    "summary": "Call back",
                    "user_id": user.id,
                }
                for user in (self.rep_a, self.rep_b)
            ]
        )
        self._act(lead, action="reassign", reassign_mode="user", reassign_user_id=self.rep_c.id)
        self.assertEqual(lead.user_id, self.rep_c)
        self.assertEqual(call.user_id, self.rep_c, "Alice's call goes with the lead")
        self.assertEqual(bobs.user_id, self.rep_b)
        notes = lead.message_ids.filtered(lambda m: "handed over" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertIn("from Alice Rep to Carol Rep", notes.body)
        self.assertIn("Call: Call back", notes.body)
        self.assertFalse(
            self.env["mail.activity"].with_user(self.rep_a).search([("res_model", "=", "crm.lead")]),
            "Alice keeps no activity on the lead she gave away",
        )

    def test_return_to_marketing(self):
        lead = self._lead()
        self._act(
            lead,
            action="return_to_marketing",
            target_team_id=self.marketing.id,
            tag_ids=[(6, 0, self.tag.ids)],
        )
        self.assertEqual(lead.type, "lead")
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.team_id, self.marketing)
        self.assertIn(self.tag, lead.tag_ids)
        self.assertIn("tagged SLA nurture", self._note(lead).body)

    def test_mark_lost(self):
        lead = self._lead()
        rule = self._act(lead, action="mark_lost", lost_reason_id=self.lost_reason.id)
        self.assertFalse(lead.active)
        self.assertEqual(lead.won_status, "lost")
        self.assertEqual(lead.lost_reason_id, self.lost_reason)
        self.assertEqual(self._events(rule, lead).values_after["active"], False)
        self.assertEqual(self._events(rule, lead).message, "Marked as lost (SLA: no answer).")
        stay = lead.stage_history_ids.sorted("id")[-1:]
        self.assertTrue(stay.date_out, "the stay is closed with the loss")

    def test_archive(self):
        lead = self._lead()
        self._act(lead, action="archive")
        self.assertFalse(lead.active)
        self.assertTrue(self._note(lead))

    def test_pull_back(self):
        lead = self._lead()
        rule = self._act(lead, action="pull_back", target_team_id=self.marketing.id)
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.team_id, self.marketing)
        self.assertEqual(self._events(rule, lead).state, "acted")
        unassigned = self._lead(name="Nobody's", user=self.env["res.users"])
        self._run(LATE, rules=rule)
        self.assertEqual(self._events(rule, unassigned).state, "failed", "nothing to pull back")

    def test_escalate(self):
        lead = self._lead()
        rule = self._act(lead, action="escalate")
        activity = lead.activity_ids.filtered(lambda a: a.user_id == self.manager)
        self.assertEqual(len(activity), 1, "an activity for the team leader")
        self.assertIn(rule.name, activity.summary)
        self.assertTrue(self._note(lead))
        self.assertEqual(self._events(rule, lead).configured_by_id, self.env.user)
