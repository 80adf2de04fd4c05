from collections import Counter
from dataclasses import replace

from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import cursor_mark
from odoo.exceptions import UserError
from odoo.tools import SQL, clean_context

from activity_centric import next_step_deadline, refused_leads

from .crm_lead import RESTORE_METHODS

# Moves made by the Plan tomorrow wizard are levelling, not a salesperson pushing an activity ahead:
# they are not counted as reschedules. Cursor-scoped so that an RPC caller cannot forge it.
LEVELLING_KEY = "crm_activity_centric.levelling"
PROTECTED_FIELDS = ("followup_done_at", "followup_reschedule_count")


class MailActivity(models.Model):
    _inherit = "mail.activity"

    followup_done_at = fields.Datetime(
        string="Done At", readonly=True, copy=False, help="When the activity was marked done."
    )
    followup_reschedule_count = fields.Integer(
        string="Reschedules", readonly=True, copy=False, help="How many times the due date was moved."
    )

    # ------------------------------------------------------------------
    # Follow-up policy
    # ------------------------------------------------------------------

    def _followup_lead_counts(self):
        """Open activities of ``self`` per lead they are attached to."""
        return Counter(
            activity.res_id
            for activity in self
            if activity.res_model == "crm.lead" and activity.res_id and activity.active
        )

    def _followup_guard(self, raise_if_refused=True):
        """Check that removing the open activities ``self`` from their leads leaves each lead of an
        ``enforce`` team with a next step (or a reason).

        :returns: ``(snapshot, refused_lead_ids)``; the snapshot gives the leads' state after the removal.
        """
        removed = self._followup_lead_counts()
        Lead = self.env["crm.lead"]
        snapshot = Lead._followup_snapshot(list(removed), self.ids)
        if self.env.su:
            # server-side housekeeping (archived users, deleted records, garbage collection) is not a
            # salesperson skipping a follow-up
            return snapshot, []
        merging = Lead._followup_merging_ids()
        # the snapshot counts the activities the lead keeps; the policy wants those it has now
        refused = refused_leads(
            {
                lead_id: replace(facts, open_activities=facts.open_activities + removed[lead_id])
                for lead_id, (facts, _p, _s) in snapshot.items()
                if lead_id not in merging
            },
            {lead_id: policy for lead_id, (_f, policy, _s) in snapshot.items()},
            removed,
        )
        if refused and raise_if_refused:
            raise UserError(
                self.env._(
                    "%(leads)s would be left without a next step. Its sales team requires a follow-up: "
                    "use “Done & Schedule Next” to plan the next activity, schedule another activity "
                    "first, or set a No Follow-up Reason on the lead.",
                    leads=Lead.browse(refused)._followup_names(),
                )
            )
        return snapshot, refused

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            for fname in PROTECTED_FIELDS:
                vals.pop(fname, None)
        context = dict(self.env.context)
        done_id = context.pop("followup_done_activity_id", None)
        feedback = context.pop("followup_done_feedback", False)
        restore_id = context.pop("followup_restore_lead_id", None)
        restore_method = context.pop("followup_restore_method", None)
        # the link to the completed activity serves this create only: the keys are removed (not set to
        # None) so that they do not reach the records it creates nor the actions it returns
        activities = super(MailActivity, self.with_context(context)).create(  # pylint: disable=context-overridden
            vals_list
        )
        lead_ids = list(activities._followup_lead_counts())
        if lead_ids:
            Lead = self.env["crm.lead"]
            snapshot = Lead._followup_snapshot(lead_ids)
            Lead._followup_store(snapshot)
            Lead._followup_clear_reasons(
                [lead_id for lead_id, (facts, _p, _s) in snapshot.items() if facts.has_reason]
            )
        if isinstance(done_id, int):
            activities._followup_complete_previous(done_id, feedback)
        if isinstance(restore_id, int) and restore_method in RESTORE_METHODS:
            activities._followup_restore_lead(restore_id, restore_method)
        return activities

    def _followup_restore_lead(self, lead_id, method):
        """Restore the lead whose Restore button asked for this next step (see crm.lead's
        ``_followup_ask_next_step``), now that it has one."""
        lead = self.env["crm.lead"].browse(lead_id).exists()
        if not lead or lead.active:
            return
        if not any(activity.res_model == "crm.lead" and activity.res_id == lead.id for activity in self):
            raise UserError(self.env._("The next step must be planned on the lead being restored."))
        getattr(lead.with_context(clean_context(self.env.context)), method)()

    def write(self, vals):
        if any(fname in vals for fname in PROTECTED_FIELDS):
            raise UserError(
                self.env._("When an activity was done and how often it was moved are recorded, not set.")
            )
        removing = ("active" in vals and not vals["active"]) or "res_id" in vals or "res_model" in vals
        removing = removing or "res_model_id" in vals
        snapshot = None
        if removing:
            snapshot, _refused = self._followup_guard()
            if "active" in vals and not vals["active"]:
                vals = dict(vals, followup_done_at=fields.Datetime.now())
        if "date_deadline" in vals and not cursor_mark(self.env.cr, LEVELLING_KEY):
            self._followup_count_reschedule(vals["date_deadline"])
        reopened = self.filtered(lambda act: not act.active) if vals.get("active") else self.browse()
        result = super().write(vals)
        if snapshot is not None:
            Lead = self.env["crm.lead"]
            Lead._followup_store(snapshot)
            # activities moved to other leads bring those leads a follow-up
            moved_to = [lead_id for lead_id in self._followup_lead_counts() if lead_id not in snapshot]
            if moved_to:
                Lead._followup_store(Lead._followup_snapshot(moved_to))
        if reopened:
            lead_ids = list(reopened._followup_lead_counts())
            self.env["crm.lead"]._followup_store(self.env["crm.lead"]._followup_snapshot(lead_ids))
        return result

    def unlink(self):
        snapshot, _refused = self._followup_guard()
        result = super().unlink()
        self.env["crm.lead"]._followup_store(snapshot)
        return result

    def _followup_count_reschedule(self, new_deadline):
        moved = self.filtered(
            lambda act: act.active and act.date_deadline != fields.Date.to_date(new_deadline)
        )
        if moved:
            self.env.cr.execute(
                SQL(
                    "UPDATE mail_activity"
                    " SET followup_reschedule_count = COALESCE(followup_reschedule_count, 0) + 1"
                    " WHERE id = ANY(%s)",
                    moved.ids,
                )
            )
            moved.invalidate_recordset(["followup_reschedule_count"])

    # ------------------------------------------------------------------
    # Done & Schedule Next, atomic where the policy requires a next step
    # ------------------------------------------------------------------

    def action_feedback_schedule_next(self, feedback=False, attachment_ids=None):
        if len(self) != 1 or not self.active or attachment_ids:
            return super().action_feedback_schedule_next(feedback=feedback, attachment_ids=attachment_ids)
        _snapshot, refused = self._followup_guard(raise_if_refused=False)
        if not refused:
            return super().action_feedback_schedule_next(feedback=feedback, attachment_ids=attachment_ids)
        # The lead must keep a next step: leave this activity open and mark it done only when the next
        # one is saved (see create); closing the dialog leaves everything as it was.
        self.check_access("write")
        return {
            "name": self.env._("Schedule the Next Activity"),
            "context": dict(
                clean_context(self.env.context),
                default_previous_activity_type_id=self.activity_type_id.id,
                activity_previous_deadline=self.date_deadline,
                default_res_id=self.res_id,
                default_res_model=self.res_model,
                followup_done_activity_id=self.id,
                followup_done_feedback=feedback or False,
            ),
            "view_mode": "form",
            "res_model": "mail.activity",
            "views": [(False, "form")],
            "type": "ir.actions.act_window",
            "target": "new",
        }

    def _followup_complete_previous(self, done_id, feedback):
        """Mark done the activity whose Done & Schedule Next opened the dialog that created ``self``."""
        previous = self.browse(done_id).exists()
        if not previous or not previous.active:
            return
        if not any(
            activity.res_model == previous.res_model and activity.res_id == previous.res_id
            for activity in self
        ):
            raise UserError(self.env._("The next activity must be planned on the same record."))
        previous.action_feedback(feedback=feedback)

    @api.onchange("activity_type_id")
    def _onchange_activity_type_id(self):
        result = super()._onchange_activity_type_id()
        previous = self.env.context.get("activity_previous_deadline")
        if previous and self.activity_type_id and self.res_model == "crm.lead" and self.res_id:
            # The type counts its delay from the completed activity's deadline (Done & Schedule Next, a
            # triggered next activity): a late one gives a date already past. The lead's team decides.
            # sudo: the team's policy decides the date, whatever the user may read of the team
            policy = self.env["crm.lead"].sudo().browse(self.res_id).team_id.followup_policy or "off"
            today = fields.Date.context_today(self)
            from_today = self.activity_type_id.with_context(
                activity_previous_deadline=False
            )._get_date_deadline()
            self.date_deadline = next_step_deadline(self.date_deadline, from_today, today, policy)
        return result

    @api.onchange("user_id", "date_deadline")
    def _onchange_followup_capacity(self):
        exclude = self.ids if isinstance(self.id, int) else self._origin.ids
        warning = self.env["res.users"]._activity_capacity_warning(self.user_id, self.date_deadline, exclude)
        if warning:
            return {"warning": warning}
        return None
