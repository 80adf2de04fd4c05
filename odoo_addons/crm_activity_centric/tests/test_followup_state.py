from odoo.tests import Form, tagged

from .common import FollowupCase


@tagged("post_install", "-at_install")
class TestFollowupState(FollowupCase):
    """The state every list, filter and digest relies on, kept right by every kind of change."""

    def test_new_lead_without_activity_is_missing(self):
        lead = self._lead(team=self.team_warn)
        self.assertEqual(lead.followup_state, "missing")

    def test_activity_lifecycle(self):
        lead = self._lead(team=self.team_warn)
        first = self._activity(lead)
        self.assertEqual(lead.followup_state, "scheduled")
        second = self._activity(lead, activity_type=self.todo)
        first.action_feedback(feedback="Called, they want a demo")
        self.assertEqual(lead.followup_state, "scheduled", "one activity is still open")
        second.action_cancel()
        self.assertEqual(lead.followup_state, "missing")
        third = self._activity(lead)
        self.assertEqual(lead.followup_state, "scheduled")
        third.unlink()
        self.assertEqual(lead.followup_state, "missing")

    def test_reschedule_and_reassign_keep_scheduled(self):
        lead = self._lead(team=self.team_warn)
        activity = self._activity(lead)
        activity.write({"date_deadline": "2026-04-01", "user_id": self.salesman_2.id})
        self.assertEqual(lead.followup_state, "scheduled")

    def test_moving_an_activity_moves_the_follow_up(self):
        source = self._lead(team=self.team_warn, name="Source")
        target = self._lead(team=self.team_warn, name="Target")
        activity = self._activity(source)
        activity.write({"res_id": target.id})
        self.assertEqual(source.followup_state, "missing")
        self.assertEqual(target.followup_state, "scheduled")

    def test_exempt_cases(self):
        won = self._lead(team=self.team_warn, stage=self.stage_won)
        parked = self._lead(team=self.team_warn, stage=self.stage_parked)
        lost = self._lead(team=self.team_warn)
        lost.action_set_lost()
        reason = self._lead(team=self.team_warn, no_followup_reason_id=self.reason.id)
        self.assertEqual((won | parked | reason).mapped("followup_state"), ["exempt"] * 3)
        self.assertEqual(lost.followup_state, "exempt")
        lost.action_unarchive()
        self.assertEqual(lost.followup_state, "missing", "a restored lead needs a next step again")

    def test_stage_changes(self):
        lead = self._lead(team=self.team_warn)
        lead.stage_id = self.stage_parked
        self.assertEqual(lead.followup_state, "exempt")
        lead.stage_id = self.stage_qualified
        self.assertEqual(lead.followup_state, "missing")
        lead.action_set_won()
        self.assertEqual(lead.followup_state, "exempt")

    def test_folding_a_stage_updates_its_leads(self):
        leads = self._lead(team=self.team_warn) | self._lead(team=self.team_warn)
        self.stage_new.fold = True
        self.assertEqual(set(leads.mapped("followup_state")), {"exempt"})

    def test_batch_of_leads(self):
        leads = self.env["crm.lead"].create(
            [
                {"name": f"L{i}", "team_id": self.team_warn.id, "stage_id": self.stage_new.id}
                for i in range(20)
            ]
        )
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": lead.id,
                    "activity_type_id": self.call.id,
                    "user_id": self.salesman.id,
                }
                for lead in leads[:10]
            ]
        )
        self.assertEqual(leads[:10].mapped("followup_state"), ["scheduled"] * 10)
        self.assertEqual(leads[10:].mapped("followup_state"), ["missing"] * 10)
        leads[:10].activity_ids.unlink()
        self.assertEqual(set(leads.mapped("followup_state")), {"missing"})

    def test_reason_is_logged_and_cleared_by_a_new_activity(self):
        lead = self._lead(team=self.team_warn)
        self.env.flush_all()
        self.env.cr.precommit.run()  # the lead was created in an earlier request
        lead.write({"no_followup_reason_id": self.reason.id, "no_followup_note": "Back in June"})
        self.env.flush_all()
        self.env.cr.precommit.run()
        tracked = lead.message_ids.tracking_value_ids.filtered(
            lambda t: t.field_id.name == "no_followup_reason_id"
        )
        self.assertEqual(tracked.new_value_char, self.reason.name, "setting a reason shows in the chatter")
        self.assertEqual(lead.followup_state, "exempt")
        self._activity(lead)
        self.assertFalse(lead.no_followup_reason_id, "a planned activity lifts the no-follow-up reason")
        self.assertEqual(lead.followup_state, "scheduled")

    def test_state_cannot_be_written(self):
        lead = self._lead(team=self.team_warn)
        with self.assertRaisesRegex(Exception, "computed from the lead's activities"):
            lead.write({"followup_state": "scheduled"})
        forged = self.env["crm.lead"].create(
            {"name": "Forged", "team_id": self.team_warn.id, "followup_state": "exempt"}
        )
        self.assertEqual(forged.followup_state, "missing")

    def test_merge_keeps_the_follow_up_on_the_surviving_lead(self):
        head = self._lead(team=self.team_enforce, name="Head", expected_revenue=100)
        tail = self._lead(team=self.team_enforce, name="Tail")
        self._activity(head)
        self._activity(tail)
        merged = (head | tail).merge_opportunity()
        self.assertEqual(merged.followup_state, "scheduled")
        self.assertEqual(len(merged.activity_ids), 2)

    def test_form_shows_the_banner_state(self):
        lead = self._lead(team=self.team_warn)
        form = Form(lead)
        self.assertEqual(form.followup_state, "missing")
        self.assertEqual(form.followup_policy, "warn")

    def test_rows_written_without_this_module_loaded(self):
        """During an update of crm, crm's data is loaded before this module is: its teams and leads
        must not break the NOT NULL policy column nor stay without a state."""
        self.env.cr.execute(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_name = 'crm_team' AND column_name = 'followup_policy'"
        )
        self.assertEqual(self.env.cr.fetchone()[0], "'off'::character varying")
        lead = self._lead(team=self.team_warn)
        self.env.flush_all()
        self.env.cr.execute("UPDATE crm_lead SET followup_state = NULL WHERE id = %s", [lead.id])
        lead.invalidate_recordset(["followup_state"])
        self.env["crm.lead"].init()
        self.assertEqual(lead.followup_state, "missing")
