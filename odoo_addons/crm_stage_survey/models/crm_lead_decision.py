from markupsafe import Markup
from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import cursor_mark, cursor_marker
from odoo.exceptions import UserError

# cursor-scoped marker (not forgeable over RPC, unlike a context key): the phase writes of the addon itself
PHASE_KEY = "crm_stage_survey.decision_phase"


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
        copy=False,
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        help="Where the customer stands in their buying process. Moved forward automatically by what the "
        "customer does (opening a shared price list, completing a survey, writing to us); never back, and "
        "never by hand: a sales manager may correct it, with a reason.",
    )
    decision_phase_change_ids = fields.One2many(
        "crm.decision.phase.change", "lead_id", string="Decision Phase Changes"
    )
    decision_phase_change_count = fields.Integer(compute="_compute_pd_counts")
    customer_event_ids = fields.One2many("crm.lead.customer.event", "lead_id")
    customer_event_count = fields.Integer(compute="_compute_pd_counts")
    document_link_ids = fields.One2many("crm.document.link", "lead_id")
    document_link_count = fields.Integer(compute="_compute_pd_counts")

    def _pd_counted_models(self):
        return {
            **super()._pd_counted_models(),
            "customer_event_count": ("crm.lead.customer.event", []),
            "decision_phase_change_count": ("crm.decision.phase.change", []),
            "document_link_count": ("crm.document.link", []),
        }

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

    # ------------------------------------------------------------------
    # The decision phase moves with the customer, never by hand
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("decision_phase_id") for vals in vals_list):
            self.browse()._decision_phase_guard(True)
        return super().create(vals_list)

    def write(self, vals):
        if "decision_phase_id" in vals:
            self._decision_phase_guard(vals["decision_phase_id"])
        return super().write(vals)

    def _pd_user_write_fields(self):
        # the phase's guard judges a phase set by an "Update Record" action as the user's own change
        return super()._pd_user_write_fields() | {"decision_phase_id"}

    def _decision_phase_guard(self, new_phase):
        """Refuse a decision phase set by hand (a value that changes the phase of any of these leads; a new
        lead with a phase), unless the addon itself or the superuser writes it."""
        if self.env.su or cursor_mark(self.env.cr, PHASE_KEY):
            return
        new_id = new_phase.id if isinstance(new_phase, models.BaseModel) else (new_phase or False)
        if self and all(lead.decision_phase_id.id == new_id for lead in self):
            return  # the phase it already has: an import or a save that repeats it is no change
        raise UserError(
            self.env._(
                "The customer's decision phase moves with what the customer does — opening a shared "
                "document, completing a survey, writing to you — not by hand. A sales manager can correct "
                "it, with a reason (“Correct Decision Phase”)."
            )
        )

    def _decision_phase_set(self, phase, origin, event=None, reason=None):
        """The one writer of the decision phase: move these leads to ``phase`` and record each change with
        its origin (``customer`` with its ``event``, ``correction`` with the manager's ``reason``,
        ``merge``)."""
        moved = self.filtered(lambda lead: lead.decision_phase_id != phase)
        if not moved:
            return
        changes = [
            {
                "lead_id": lead.id,
                "old_phase_id": lead.decision_phase_id.id,
                "phase_id": phase.id,
                "origin": origin,
                "event_id": event.id if event else False,
                "user_id": False if origin == "customer" else self.env.user.id,
                "reason": reason or False,
            }
            for lead in moved
        ]
        with cursor_marker(self.env.cr, PHASE_KEY):
            moved.write({"decision_phase_id": phase.id})
        # sudo: the log is written by the addon only, whoever's action moved the phase
        self.env["crm.decision.phase.change"].sudo().create(changes)

    def _decision_phase_move(self, phase, note, event):
        """Move to ``phase`` (the caller checked it is later) after the customer's ``event``: the change is
        tracked in the chatter, and a note signed by OdooBot (the move is automatic) says which customer
        action moved it."""
        self.ensure_one()
        odoobot = self.env.ref("base.partner_root")
        if self.env.user._is_public():
            # a visitor of a document link: OdooBot signs the tracking rather than "Public user"
            self._track_set_author(odoobot)
        self._decision_phase_set(phase, "customer", event=event)
        if note:
            self._message_log(body=note, author_id=odoobot.id)

    def _decision_phase_correct(self, phase, reason):
        """A sales manager's correction of the phase (forward, back or cleared), logged with the reason."""
        self.ensure_one()
        old = self.decision_phase_id
        self._decision_phase_set(phase, "correction", reason=reason)
        self.message_post(
            body=Markup("<p>%s</p><p>%s</p>")
            % (
                self.env._(
                    "Decision phase corrected by %(manager)s: %(old)s → %(new)s",
                    manager=self.env.user.name,
                    old=old.name or self.env._("none"),
                    new=phase.name or self.env._("none"),
                ),
                reason,
            ),
            subtype_xmlid="mail.mt_note",
        )

    def action_decision_phase_correct(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise UserError(self.env._("Only sales managers can correct the customer's decision phase."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Correct Decision Phase"),
            "res_model": "crm.decision.phase.correction",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

    def action_view_decision_phase_changes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_stage_survey.crm_decision_phase_change_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    def _merge_dependences(self, opportunities):
        """Merged leads hand their customer events, document links, decision phase (the latest one) and its
        changes to the surviving lead instead of losing them with the merged leads."""
        result = super()._merge_dependences(opportunities)  # moves the attachments first: links follow them
        # sudo: the customer's history moves with the leads, whoever merges them
        self.env["crm.lead.customer.event"].sudo().search([("lead_id", "in", opportunities.ids)]).write(
            {"lead_id": self.id}
        )
        self.env["crm.document.link"].sudo().with_context(active_test=False).search(
            [("lead_id", "in", opportunities.ids)]
        ).write({"lead_id": self.id})
        self.env["crm.decision.phase.change"].sudo().search([("lead_id", "in", opportunities.ids)]).write(
            {"lead_id": self.id}
        )
        latest = max(
            opportunities.decision_phase_id, key=lambda phase: (phase.sequence, phase.id), default=None
        )
        if latest and latest._is_after(self.decision_phase_id):
            self._decision_phase_set(latest, "merge")
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
