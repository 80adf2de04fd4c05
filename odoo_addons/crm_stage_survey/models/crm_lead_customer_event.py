from odoo import api, fields, models

from .crm_decision_phase_trigger import EVENT_TYPES


class CrmLeadCustomerEvent(models.Model):
    """What the customer did on a lead: opened a shared document, completed a survey, wrote an email.
    Rows are written through ``_log`` only (an audit log: users read them, nobody edits them), which also
    moves the lead's decision phase forward when a trigger matches."""

    _name = "crm.lead.customer.event"
    _description = "Customer Event"
    _order = "date desc, id desc"
    _rec_name = "description"

    lead_id = fields.Many2one("crm.lead", required=True, readonly=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner", string="Contact", readonly=True, index="btree_not_null", ondelete="set null"
    )
    event_type = fields.Selection(EVENT_TYPES, required=True, readonly=True, index=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    description = fields.Char(
        readonly=True, help="The document's name, the survey's title, the mail's subject."
    )
    payload = fields.Json(readonly=True, help="Ids and names of the records involved, nothing else.")
    link_id = fields.Many2one(
        "crm.document.link",
        string="Document Link",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    phase_id = fields.Many2one(
        "crm.decision.phase",
        string="Moved to Phase",
        readonly=True,
        ondelete="set null",
        help="The decision phase this event moved the lead to, if it did.",
    )
    company_id = fields.Many2one(related="lead_id.company_id", store=True, index=True)

    @api.model
    def _log(
        self,
        lead,
        event_type,
        partner=None,
        description="",
        payload=None,
        link=None,
        tags=None,
        announce=True,
    ):
        """Record that the customer did ``event_type`` on ``lead`` and apply the phase triggers.

        Among the active triggers of ``event_type`` (of the lead's company or of none) whose document tag is
        in ``tags`` (when they have one) and whose pattern is in ``description`` (when they have one), the
        latest phase wins; the lead moves there only if it is later than its current phase (forward only).

        :param lead: the ``crm.lead`` (one record)
        :param str event_type: ``document_opened``, ``survey_completed`` or ``email_received``
        :param partner: the ``res.partner`` who acted, if known
        :param str description: what the customer acted on (document name, survey title, mail subject)
        :param dict payload: small JSON: ids and names only
        :param link: the ``crm.document.link`` opened, for document openings
        :param tags: the ``crm.document.tag`` records of the document, for document openings
        :param bool announce: post the chatter note on a phase move (not for a lead the event itself created)
        :returns: the new event (as superuser)
        """
        lead.ensure_one()
        # sudo: the customer's actions are reported by whoever handles them (the public visitor of a document
        # link, the mail gateway, a survey participant), who may not read the lead; users only read events
        lead = lead.sudo()
        phase, trigger = self._triggered_phase(lead, event_type, description, tags)
        moved = bool(phase) and phase._is_after(lead.decision_phase_id)
        # sudo: events are read-only for users, this method is their only writer
        event = self.sudo().create(
            {
                "lead_id": lead.id,
                "partner_id": partner.id if partner else False,
                "event_type": event_type,
                "description": description or False,
                "payload": payload or {},
                "link_id": link.id if link else False,
                "phase_id": phase.id if moved else False,
            }
        )
        if moved:
            lead._decision_phase_move(phase, event._phase_note(trigger) if announce else None, event)
        return event

    @api.model
    def _triggered_phase(self, lead, event_type, description, tags):
        """The latest phase among the triggers matching the event, and the trigger that gives it."""
        tags = tags or self.env["crm.document.tag"]
        company_ids = [lead.company_id.id, False]
        # sudo: triggers are configuration, applied to the customer's actions whoever reports them
        triggers = (
            self.env["crm.decision.phase.trigger"]
            .sudo()
            .search(
                [
                    ("event_type", "=", event_type),
                    ("company_id", "in", company_ids),
                    ("phase_id.active", "=", True),
                    ("phase_id.company_id", "in", company_ids),
                ]
            )
            .filtered(lambda trigger: trigger._matches(description, tags))
        )
        if not triggers:
            return self.env["crm.decision.phase"], triggers
        trigger = max(triggers, key=lambda trigger: (trigger.phase_id.sequence, trigger.phase_id.id))
        return trigger.phase_id, trigger

    def _phase_note(self, trigger):
        """The chatter note saying which customer action moved the lead's phase."""
        self.ensure_one()
        who = self.partner_id.display_name or self.env._("The customer")
        what = self.description or ""
        if self.event_type == "document_opened":
            action = self.env._("%(who)s opened the document “%(what)s”.", who=who, what=what)
        elif self.event_type == "survey_completed":
            action = self.env._("%(who)s completed the survey “%(what)s”.", who=who, what=what)
        else:
            action = self.env._("%(who)s sent the email “%(what)s”.", who=who, what=what)
        return self.env._(
            "Decision phase moved by a customer action: %(action)s (trigger: %(trigger)s)",
            action=action,
            trigger=trigger.name,
        )
