"""Preview and buttons of a rule."""

from odoo import api, models
from odoo.exceptions import AccessError, MissingError
from odoo.fields import Command

from .crm_sla_rule import PREVIEW_LIMIT


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    def _sla_check_manager(self):
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can preview or run SLA rules."))

    def _sla_check_exists(self):
        """Refuse, in one line, ids of rules that do not exist (a button called over RPC, a rule deleted in
        another tab): nothing is done for any of them."""
        missing = self - self.exists()
        if missing:
            raise MissingError(
                self.env._(
                    "The SLA rule with id %(ids)s does not exist (it may have been deleted): reload the "
                    "rules.",
                    ids=", ".join(map(str, missing._ids)),
                )
            )

    def _sla_preview_values(self, now):
        """What every rule would warn about and act on at ``now``: the run's own selection and plan, no
        write. Returns the values of ``crm.sla.preview.line``: the first :data:`PREVIEW_LIMIT` leads of
        each rule, kind and working schedule, and, where a list was cut, a line with the rule's exact
        totals."""
        from sla_rules.rules import clock_start

        lines = []
        for rule in self:
            totals, cut = {}, set()
            for kind in ("act", "warn"):
                if kind == "warn" and not rule.warning_before:
                    continue
                status = "breach" if kind == "act" else "warn"
                totals[status] = 0
                for calendar, company_ids in rule._sla_calendar_groups():
                    lead_ids = rule._sla_select(kind, calendar, company_ids, now)
                    totals[status] += len(lead_ids)
                    if len(lead_ids) > PREVIEW_LIMIT:
                        cut.add(status)
                    leads = rule._sla_leads(lead_ids[:PREVIEW_LIMIT])
                    values = rule._sla_rule_values()
                    starts = {lead.id: clock_start(values, lead) for lead in rule._sla_snapshots(leads)}
                    deadlines = rule._sla_deadlines(calendar, starts, now)
                    plans = {plan.lead_id: plan for plan in rule._sla_plan(leads)[0]} if kind == "act" else {}
                    mode = dict(rule._fields["warning_mode"]._description_selection(self.env))[
                        rule.warning_mode
                    ]
                    for lead in leads:
                        plan = plans.get(lead.id)
                        owner = lead.user_id or lead.team_id.user_id
                        warning = self.env._(
                            "Warn %(owner)s: %(mode)s",
                            owner=owner.name or self.env._("nobody"),
                            mode=mode.lower(),
                        )
                        lines.append(
                            {
                                "rule_id": rule.id,
                                "lead_id": lead.id,
                                "user_id": lead.user_id.id,
                                "team_id": lead.team_id.id,
                                "clock_start": starts[lead.id],
                                "deadline": deadlines.get(lead.id),
                                "status": status,
                                "description": plan.description if plan else warning,
                                "error": plan.error if plan else False,
                            }
                        )
            # past the listed leads, the rule's exact totals, in the lines of each list that was cut
            for status in sorted(cut):
                lines.append(
                    {
                        "rule_id": rule.id,
                        "status": status,
                        "description": self.env._(
                            "%(rule)s: %(warn)s to warn, %(act)s to act on%(more)s",
                            rule=rule.name,
                            warn=totals.get("warn", 0),
                            act=totals["breach"],
                            more=self.env._(" (the first %(limit)s of each are listed)", limit=PREVIEW_LIMIT),
                        ),
                    }
                )
        return lines

    @api.readonly
    def action_preview(self):
        """The preview of these rules: what they would do now. Computes nothing and writes nothing: the
        lines are computed when the list reads them (read-only calls, on a read replica where there is
        one)."""
        self._sla_check_manager()
        self._sla_check_exists()
        current = self.env["ir.actions.act_window"]._for_xml_id("crm_sla_rules.crm_sla_preview_line_action")
        preview = self.env["crm.sla.preview"].new({"rule_ids": [Command.set(self.ids)]})
        return preview._report_action(
            self.env._("SLA Preview"),
            help=current["help"],
            context={"group_by": ["status"] if len(self) == 1 else ["rule_id", "status"]},
        )

    def action_run_now(self):
        """Ask the scheduler to run every active rule as soon as possible (commits per batch, like the
        scheduled run, so it does not happen inside this request)."""
        self._sla_check_manager()
        self._sla_check_exists()
        # sudo: triggering a cron is reserved to administrators; managers may ask for this one
        self.env.ref("crm_sla_rules.ir_cron_sla_rules").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": self.env._("The SLA rules will run in a moment; their events will appear below."),
                "type": "info",
                "sticky": False,
            },
        }

    def action_view_events(self):
        self.ensure_one()
        self._sla_check_exists()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_sla_rules.crm_sla_event_action")
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
