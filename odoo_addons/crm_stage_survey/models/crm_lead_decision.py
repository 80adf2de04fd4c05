from odoo import fields, models


class CrmLead(models.Model):
    """The customer's decision phase on the lead, its customer events and tracked document links, and the
    inbound emails of the customer as a source of events."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    decision_phase_id = fields.Many2one(
        "crm.decision.phase",
        tracking=True,
        index=True,
        ondelete="restrict",
        check_company=True,
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        help="Where the customer stands in their buying process. Moved forward automatically by what the "
        "customer does (opening a shared price list, completing a survey, writing to us); never back.",
    )
    customer_event_ids = fields.One2many("crm.lead.customer.event", "lead_id")
    customer_event_count = fields.Integer(compute="_compute_customer_event_count")
    document_link_ids = fields.One2many("crm.document.link", "lead_id")
    document_link_count = fields.Integer(compute="_compute_document_link_count")

    def _compute_customer_event_count(self):
        counts = dict(
            self.env["crm.lead.customer.event"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
            )
        )
        for lead in self:
            lead.customer_event_count = counts.get(lead, 0)

    def _compute_document_link_count(self):
        counts = dict(
            self.env["crm.document.link"]._read_group([("lead_id", "in", self.ids)], ["lead_id"], ["__count"])
        )
        for lead in self:
            lead.document_link_count = counts.get(lead, 0)

    def action_view_customer_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_stage_survey.crm_lead_customer_event_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def action_view_document_links(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_stage_survey.crm_document_link_action")
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"create": False, "active_test": False}
        return action

    def action_share_document(self):
        """The wizard sharing one of the lead's documents through a tracked link."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_stage_survey.crm_document_link_share_action"
        )
        action["context"] = {"default_lead_id": self.id}
        return action

    def _decision_phase_move(self, phase, note):
        """Move to ``phase`` (the caller checked it is later): the change is tracked in the chatter, and a
        note signed by OdooBot (the move is automatic) says which customer action moved it."""
        self.ensure_one()
        odoobot = self.env.ref("base.partner_root")
        if self.env.user._is_public():
            # a visitor of a document link: OdooBot signs the tracking rather than "Public user"
            self._track_set_author(odoobot)
        self.decision_phase_id = phase
        if note:
            self._message_log(body=note, author_id=odoobot.id)

    def _merge_dependences(self, opportunities):
        """Merged leads hand their customer events, document links and decision phase (the latest one) to
        the surviving lead instead of losing them with the merged leads."""
        result = super()._merge_dependences(opportunities)  # moves the attachments first: links follow them
        # sudo: the customer's history moves with the leads, whoever merges them
        self.env["crm.lead.customer.event"].sudo().search([("lead_id", "in", opportunities.ids)]).write(
            {"lead_id": self.id}
        )
        self.env["crm.document.link"].sudo().with_context(active_test=False).search(
            [("lead_id", "in", opportunities.ids)]
        ).write({"lead_id": self.id})
        latest = max(
            opportunities.decision_phase_id, key=lambda phase: (phase.sequence, phase.id), default=None
        )
        if latest and latest._is_after(self.decision_phase_id):
            self.decision_phase_id = latest
        return result

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        if msg_vals.get("message_type", message.message_type) == "email":
            author = message.author_id
            if author and self._is_customer_contact(author):
                self.env["crm.lead.customer.event"]._log(
                    self,
                    "email_received",
                    partner=author,
                    description=msg_vals.get("subject", message.subject) or "",
                    payload={"message": message.id},
                )
        return result

    def _is_customer_contact(self, partner):
        """Whether ``partner`` is the lead's customer or a contact of the customer's company."""
        self.ensure_one()
        customer = self.partner_id
        return bool(customer) and (
            partner == customer or partner.commercial_partner_id == customer.commercial_partner_id
        )
