"""What a run does: act on the claimed leads, apply the plans set-based, schedule activities, warn."""

from markupsafe import Markup
from odoo import fields, models
from odoo.fields import Command
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .crm_sla_rule import _logger


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    def _sla_act(self, claimed, calendar, now):
        """Carry out the rule's action on the claimed leads and complete their events."""
        leads = self._sla_leads(list(claimed))
        plans, rotation = self._sla_plan(leads)
        before = self._sla_audit_values(leads)
        errors = {plan.lead_id: plan.error for plan in plans if plan.error}
        errors.update(self._sla_apply([plan for plan in plans if not plan.error]))
        leads.invalidate_recordset()
        after = self._sla_audit_values(leads)
        events = self.env["crm.sla.event"].sudo().browse(claimed.values())
        starts = {event.lead_id.id: event.clock_start for event in events}
        deadlines = self._sla_deadlines(calendar, starts, now)
        descriptions = {plan.lead_id: plan.description for plan in plans}
        for event in events:
            lead_id = event.lead_id.id
            error = errors.get(lead_id)
            event.write(
                {
                    "state": "failed" if error else "acted",
                    "deadline": deadlines.get(lead_id),
                    "values_before": before.get(lead_id),
                    "values_after": after.get(lead_id),
                    "message": error or descriptions.get(lead_id),
                }
            )
        if rotation and self.action == "reassign":
            self.rotation_state = {str(team): user for team, user in rotation.items()}
        done = leads.filtered(lambda lead: lead.id not in errors)
        bodies = {
            lead.id: Markup("<p>%s</p>")
            % self.env._(
                "SLA rule “%(rule)s” (%(clock)s since %(start)s, over %(threshold)s %(unit)s): %(what)s",
                rule=self.name,
                clock=dict(self._fields["clock"]._description_selection(self.env))[self.clock],
                start=f"{fields.Datetime.to_string(starts[lead.id])} UTC",
                threshold=f"{self.threshold:g}",
                unit=dict(self._fields["unit"]._description_selection(self.env))[self.unit].lower(),
                what=descriptions.get(lead.id, ""),
            )
            for lead in done
        }
        if bodies:
            done._message_log_batch(bodies=bodies)

    def _sla_apply(self, plans):
        """Apply ``plans``; a plan that fails is rolled back alone. Returns ``{lead_id: error}``."""
        if not plans:
            return {}
        try:
            with self.env.cr.savepoint():
                self._sla_apply_plans(plans)
            return {}
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # not the leads' fault: the whole batch is retried on fresh data (_sla_batch)
        except Exception:  # noqa: BLE001 - isolate the failing lead below; nothing is lost
            self.env.invalidate_all()
        errors = {}
        for plan in plans:
            try:
                with self.env.cr.savepoint():
                    self._sla_apply_plans([plan])
                    # tracking runs at commit: run it now, a later rollback would drop it with its queue
                    self.env.cr.precommit.run()
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                raise
            except Exception as exc:  # pylint: disable=broad-except  # one lead must not stop the run
                self.env.invalidate_all()
                errors[plan.lead_id] = str(exc) or exc.__class__.__name__
                _logger.warning(
                    "SLA rule %s (id %s) failed on lead %s: %s", self.name, self.id, plan.lead_id, exc
                )
        return errors

    def _sla_apply_plans(self, plans):
        """Write the planned changes, one write per distinct set of values."""
        groups = {}
        for plan in plans:
            changes = dict(plan.changes)
            key = (
                tuple(
                    sorted(
                        (k, v if not isinstance(v, (list, tuple)) else tuple(v)) for k, v in changes.items()
                    )
                ),
                plan.notify_user_id,
            )
            groups.setdefault(key, []).append(plan.lead_id)
        for (items, notify_user_id), lead_ids in groups.items():
            leads = self._sla_leads(lead_ids)
            changes = dict(items)
            tags = changes.pop("tag_ids_add", ())
            vals = {name: value or False for name, value in changes.items() if name in leads._fields}
            if tags:
                vals["tag_ids"] = [Command.link(tag) for tag in tags]
            if vals.get("active") is False and "lost_reason_id" in vals:
                lost_reason = vals.pop("lost_reason_id")
                vals.pop("active")
                if vals:
                    leads.write(vals)
                leads.action_set_lost(lost_reason_id=lost_reason)
            elif vals:
                previous = {lead.id: lead.user_id.id for lead in leads} if self.action == "reassign" else None
                leads.write(vals)
                if previous:
                    # the next step goes with the lead: the previous owner may no longer open it
                    leads._pd_hand_over_activities(previous, by_sla=True)
            if self.action == "escalate" and notify_user_id:
                summary = self.env._("SLA breached: %(rule)s", rule=self.name)
                self._sla_schedule(
                    [(lead, notify_user_id, self.escalate_activity_type_id, summary, None) for lead in leads]
                )

    def _sla_schedule(self, activities):
        """Create the rule's activities (``[(lead, user_id, activity type, summary, deadline date)]``) in one
        call. They show in their owner's activities at once; no e-mail per activity (a run can create
        hundreds: whoever wants an e-mail chooses warnings by message)."""
        if not activities:
            return
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id("crm.lead")
        # sudo: the rule schedules on leads of every salesperson, for their owner or team leader
        self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": lead.id,
                    "activity_type_id": (activity_type or todo).id,
                    "user_id": user_id,
                    "summary": summary,
                    "date_deadline": deadline or fields.Date.context_today(lead),
                    "automated": True,
                }
                for lead, user_id, activity_type, summary, deadline in activities
            ]
        )

    def _sla_warn(self, claimed, calendar, now):
        """Tell each owner (salesperson, else team leader) when the lead will breach."""
        leads = self._sla_leads(list(claimed))
        events = self.env["crm.sla.event"].sudo().browse(claimed.values())
        starts = {event.lead_id.id: event.clock_start for event in events}
        deadlines = self._sla_deadlines(calendar, starts, now)
        action_label = dict(self._fields["action"]._description_selection(self.env))[self.action]
        messages, activities = {}, []
        for lead in leads:
            owner = lead.user_id or lead.team_id.user_id
            deadline = deadlines.get(lead.id)
            local = fields.Datetime.context_timestamp(lead.with_context(tz=owner.tz or "UTC"), deadline)
            text = self.env._(
                "SLA rule “%(rule)s”: on %(deadline)s this lead breaches; then: %(action)s.",
                rule=self.name,
                deadline=local.strftime("%Y-%m-%d %H:%M"),
                action=action_label.lower(),
            )
            if not owner:
                messages[lead.id] = self.env._("Nobody to warn (no salesperson, no team leader). %s", text)
                continue
            if self.warning_mode == "activity":
                activities.append((lead, owner.id, self.warning_activity_type_id, text, local.date()))
            else:
                lead.message_post(body=text, partner_ids=owner.partner_id.ids, subtype_xmlid="mail.mt_note")
            messages[lead.id] = self.env._("Warned %(owner)s: %(text)s", owner=owner.name, text=text)
        self._sla_schedule(activities)
        for event in events:
            event.write(
                {"deadline": deadlines.get(event.lead_id.id), "message": messages.get(event.lead_id.id)}
            )
