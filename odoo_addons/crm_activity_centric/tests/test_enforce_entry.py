from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged, users

from .common import FollowupCase

NEXT_STEP = "requires a next step"


@tagged("post_install", "-at_install")
class TestEnforceEntry(FollowupCase):
    """Every open lead of an enforce team has a next step however it got there: moving it in from another
    team (by hand, a merge, a conversion, an administrator's action), restoring it, reopening it or removing
    its reason without one is refused, or the team's default first activity becomes its next step."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls._lead(team=cls.team_enforce, name="Hopper")
        cls.activity = cls._activity(cls.lead)

    def assertRefused(self, operation):
        """The operation is refused; what it wrote is rolled back, as a request would be."""
        with self.assertRaises(UserError) as refusal:
            operation()
        self.assertIn(NEXT_STEP, str(refusal.exception))
        self.assertIn("Enforce Team", str(refusal.exception))
        self.assertIn("No Follow-up Reason", str(refusal.exception))
        return refusal

    @users("ac_salesman")
    def test_team_hop_is_refused_on_the_way_back(self):
        """Out to an Off team, the last activity completed there, back in: the way back is refused."""
        lead = self.lead.with_user(self.env.user)
        lead.team_id = self.team_off
        self.activity.with_user(self.env.user).action_feedback(feedback="Called, no news")
        self.assertEqual(lead.followup_state, "exempt", "an Off team flags nothing")
        self.assertRefused(lambda: lead.write({"team_id": self.team_enforce.id}))
        self.assertEqual(lead.team_id, self.team_off, "the lead stays where it was")
        # the form's save is the same write
        form = Form(lead)
        form.team_id = self.team_enforce
        self.assertRefused(form.save)
        self.assertEqual(lead.team_id, self.team_off)
        # with a next step (or a reason) it may come back
        self._activity(lead)
        lead.team_id = self.team_enforce
        self.assertEqual(lead.followup_state, "scheduled")

    @users("ac_manager")
    def test_a_manager_is_held_too(self):
        lead = self._lead(team=self.team_warn, name="Warned").with_user(self.env.user)
        self.assertRefused(lambda: lead.write({"team_id": self.team_enforce.id}))
        lead.write({"team_id": self.team_enforce.id, "no_followup_reason_id": self.reason.id})
        self.assertEqual(lead.followup_state, "exempt")

    @users("ac_salesman")
    def test_archive_complete_restore(self):
        """Archived (or lost), its last activity completed, restored: the restore is refused."""
        lead = self.lead.with_user(self.env.user)
        lead.action_archive()
        self.activity.with_user(self.env.user).action_done()
        for restore in (lead.action_unarchive, lead.action_restore, lambda: lead.write({"active": True})):
            self.assertRefused(restore)
            self.assertFalse(lead.active)
        lead.action_set_lost()
        self.assertRefused(lead.action_restore)
        self.assertFalse(lead.active)

    @users("ac_salesman")
    def test_restore_button_asks_for_the_next_step(self):
        """The form's Restore button opens the dialog to schedule the next step; saving it restores the lead
        in the same transaction, closing it changes nothing."""
        lead = self.lead.with_user(self.env.user)
        lead.action_set_lost()
        self.activity.with_user(self.env.user).action_cancel()
        action = lead.with_context(followup_ask_next_step=True).action_restore()
        self.assertEqual(action["res_model"], "mail.activity")
        self.assertFalse(lead.active, "nothing changes until the next step is saved")
        dialog = self.env["mail.activity"].with_context(**action["context"])
        with Form(dialog) as form:
            form.activity_type_id = self.call
            form.summary = "Call them back after the restore"
        self.assertTrue(lead.active, "restored by saving its next step")
        self.assertEqual(lead.followup_state, "scheduled")
        self.assertEqual(lead.activity_ids.summary, "Call them back after the restore")
        self.assertEqual(lead.probability, lead.automated_probability, "restored as crm restores")
        # a lead with a next step (or an off team's lead) is restored at once, as in Odoo
        other = self._lead(team=self.team_off, name="Off and lost").with_user(self.env.user)
        other.action_set_lost()
        self.assertFalse(other.with_context(followup_ask_next_step=True).action_restore())
        self.assertTrue(other.active)

    def test_restore_dialog_cannot_restore_another_lead(self):
        lead = self.lead
        lead.action_archive()
        other = self._lead(team=self.team_off, name="Elsewhere")
        context = {"followup_restore_lead_id": lead.id, "followup_restore_method": "action_unarchive"}
        with self.assertRaisesRegex(UserError, "lead being restored"):
            self.env["mail.activity"].with_context(**context).create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": other.id,
                    "activity_type_id": self.call.id,
                }
            )
        self.assertFalse(lead.active)

    @users("ac_salesman")
    def test_reopening_a_won_or_parked_lead(self):
        lead = self.lead.with_user(self.env.user)
        lead.stage_id = self.stage_won
        self.activity.with_user(self.env.user).action_done()
        self.assertRefused(lambda: lead.write({"stage_id": self.stage_new.id}))
        self.assertEqual(lead.stage_id, self.stage_won)
        lead.write({"stage_id": self.stage_parked.id})  # a folded stage needs no next step
        self.assertRefused(lambda: lead.write({"stage_id": self.stage_qualified.id}))

    @users("ac_salesman")
    def test_removing_the_reason_without_a_next_step(self):
        lead = self.lead.with_user(self.env.user)
        lead.no_followup_reason_id = self.reason
        self.activity.with_user(self.env.user).action_done()
        self.assertRefused(lambda: lead.write({"no_followup_reason_id": False}))
        self.assertEqual(lead.no_followup_reason_id, self.reason)

    @users("ac_salesman")
    def test_merge_and_conversion_into_an_enforce_team(self):
        first = self._lead(team=self.team_off, name="Dup 1").with_user(self.env.user)
        second = self._lead(team=self.team_off, name="Dup 2").with_user(self.env.user)
        self.assertRefused(lambda: (first | second).merge_opportunity(team_id=self.team_enforce.id))
        self.assertTrue(second.exists(), "the refused merge deleted nothing")
        self._activity(second)
        merged = (first | second).merge_opportunity(team_id=self.team_enforce.id)
        self.assertEqual(merged.team_id, self.team_enforce)
        self.assertEqual(merged.followup_state, "scheduled", "the merged lead keeps the activity")

        lead = self._lead(team=self.team_off, name="To convert", type="lead").with_user(self.env.user)
        wizard = Form(
            self.env["crm.lead2opportunity.partner"].with_context(
                active_model="crm.lead", active_id=lead.id, active_ids=lead.ids
            )
        )
        wizard.name = "convert"
        wizard.team_id = self.team_enforce
        self.assertRefused(wizard.save().action_apply)
        self.assertEqual(lead.type, "lead")

    def test_a_new_salesperson_brings_the_lead_into_their_team(self):
        """crm recomputes the team from the salesperson (and the type): handing a lead to a member of an
        enforce team only is entering that team."""
        newcomer = new_test_user(self.env, login="ac_newcomer", groups="sales_team.group_sale_salesman")
        self.env["crm.team.member"].create({"crm_team_id": self.team_enforce.id, "user_id": newcomer.id})
        lead = self._lead(team=self.team_off, name="Handed over").with_user(self.sales_manager)
        self.assertRefused(lambda: lead.write({"user_id": newcomer.id}))
        self.assertEqual((lead.user_id, lead.team_id), (self.salesman, self.team_off))
        raw = self._lead(team=self.team_off, user=newcomer, name="Raw", type="lead").with_user(newcomer)
        self.assertEqual(raw.team_id, self.team_off)
        self.assertRefused(lambda: raw.convert_opportunity(self.env["res.partner"]))
        self.assertEqual(raw.type, "lead")

    def test_an_administrators_update_record_action(self):
        """An "Update Record" server action runs as superuser; setting the team that way is still the move of
        the salesperson who runs it."""
        # sudo: only administrators create server actions; the salesperson only runs it
        action = (
            self.env["ir.actions.server"]
            .sudo()
            .create(
                {
                    "name": "Send to the enforce team",
                    "model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "state": "object_write",
                    "update_path": "team_id",
                    "value": str(self.team_enforce.id),
                }
            )
        )
        lead = self._lead(team=self.team_off, name="Moved by action")
        run = action.with_user(self.salesman).with_context(
            active_model="crm.lead", active_ids=lead.ids, active_id=lead.id
        )
        self.assertRefused(run.run)
        self.assertEqual(lead.team_id, self.team_off)

    def test_the_default_first_activity_becomes_the_next_step(self):
        """Where the team has a default first activity, a lead entering it without a next step gets it instead
        of a refusal — also when the superuser moves it (an SLA rule, lead assignment)."""
        self.team_enforce.write(
            {"followup_default_activity_type_id": self.todo.id, "followup_default_delay": 2}
        )
        lead = self._lead(team=self.team_off, name="Arrives").with_user(self.salesman)
        lead.team_id = self.team_enforce
        self.assertEqual(lead.followup_state, "scheduled")
        self.assertEqual(lead.activity_ids.activity_type_id, self.todo)
        self.assertEqual(lead.activity_ids.user_id, self.salesman)
        # sudo: what a scheduled action does
        pulled = self._lead(team=self.team_off, name="Pulled back").sudo()
        pulled.team_id = self.team_enforce
        self.assertEqual(pulled.followup_state, "scheduled")

    def test_odoo_lead_assignment_is_not_refused(self):
        """A manager's *Assign Leads* (as the scheduled action) hands unassigned leads to the team: like leads
        arriving by themselves, they are not refused; without a default first activity they show in Missing
        Follow-up."""
        unassigned = self.env["crm.lead"].create(
            [
                {"name": f"Inbound {i}", "type": "opportunity", "team_id": False, "user_id": False}
                for i in range(3)
            ]
        )
        self.env["crm.team.member"].search([("crm_team_id", "=", self.team_enforce.id)]).assignment_max = 30
        self.team_enforce.with_user(self.sales_manager).action_assign_leads()
        self.assertEqual(unassigned.team_id, self.team_enforce)
        self.assertEqual(set(unassigned.mapped("followup_state")), {"missing"})

    def test_superuser_housekeeping_is_not_refused(self):
        lead = self._lead(team=self.team_off, name="Data fix")
        # sudo: a data fix or a scheduled action, not a salesperson
        lead.sudo().team_id = self.team_enforce
        self.assertEqual(lead.followup_state, "missing", "flagged in Missing Follow-up, not refused")

    @users("ac_salesman")
    def test_leads_already_missing_still_move(self):
        """A lead that was missing a next step in the team before (created before the policy, say) is not
        refused for changes that do not cause it: it is listed in Missing Follow-up."""
        lead = self.lead.with_user(self.env.user)
        self.team_enforce.sudo().followup_policy = "off"
        self.activity.with_user(self.env.user).action_done()
        self.team_enforce.sudo().followup_policy = "enforce"
        lead.stage_id = self.stage_qualified
        self.assertEqual(lead.followup_state, "missing")

    @users("ac_salesman")
    def test_warn_and_off_teams_accept_anything(self):
        for team in (self.team_warn, self.team_off):
            lead = self._lead(team=self.team_off, name=f"To {team.name}").with_user(self.env.user)
            lead.team_id = team
            lead.action_archive()
            lead.action_unarchive()
            self.assertTrue(lead.active)
