import dataclasses

from odoo import fields, models


def _archive_with(value_field, value):
    """Selection ``ondelete`` on uninstall: the rules on the removed choice are archived (they could not run
    without this addon) and given a choice that exists, never left running on another meaning."""

    def ondelete(rules):
        rules.write({value_field: value, "active": False})

    return ondelete


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"

    clock = fields.Selection(
        selection_add=[("handed_over", "Handed over")],
        ondelete={"handed_over": _archive_with("clock", "stage_entry")},
        help="Stage entry: since the lead entered its stage. Creation: since it was created. Assignment: "
        "since its salesperson was set. Last action: since the latest stage change, completed activity or "
        "message from the salesperson. Handed over: since the handoff awaiting acceptance was sent (stops "
        "when the receiving side decides). A new salesperson or sales team restarts the assignment and last "
        "action clocks, whoever made the change; a new sales team also restarts the stage entry clock.",
    )
    action = fields.Selection(
        selection_add=[("return_to_sender", "Return handoff to sender")],
        ondelete={"return_to_sender": _archive_with("action", "escalate")},
    )

    def _sla_snapshots(self, leads):
        snapshots = super()._sla_snapshots(leads)
        sent = {lead.id: lead.handoff_sent_date or None for lead in leads}
        return [dataclasses.replace(snapshot, handoff_sent_date=sent[snapshot.id]) for snapshot in snapshots]

    def _sla_apply_plans(self, plans):
        if self.action != "return_to_sender":
            return super()._sla_apply_plans(plans)
        leads = self._sla_leads([plan.lead_id for plan in plans])
        return leads.handoff_id._handoff_close("returned")


class CrmSlaEvent(models.Model):
    _inherit = "crm.sla.event"

    # the events of a removed clock or action are the audit of a feature that left with the addon
    clock = fields.Selection(
        selection_add=[("handed_over", "Handed over")], ondelete={"handed_over": "cascade"}
    )
    action = fields.Selection(
        selection_add=[("return_to_sender", "Return handoff to sender")],
        ondelete={"return_to_sender": "set null"},
    )
