from odoo import api, fields, models
from odoo.exceptions import ValidationError

EVENT_TYPES = [
    ("document_opened", "Document Opened"),
    ("survey_completed", "Survey Completed"),
    ("email_received", "Email Received"),
]


class CrmDecisionPhaseTrigger(models.Model):
    """A customer action (event type, optionally a document tag and a pattern) that moves a lead to a phase.
    When several triggers match one event, the latest phase wins; a lead never moves back automatically."""

    _name = "crm.decision.phase.trigger"
    _description = "Decision Phase Trigger"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    event_type = fields.Selection(EVENT_TYPES, required=True, index=True)
    document_tag_id = fields.Many2one(
        "crm.document.tag",
        ondelete="cascade",
        help="Only documents shared with this tag (document openings only).",
    )
    pattern = fields.Char(
        help="Only events whose description contains this text, ignoring case: the subject of an email, "
        "the name of a document or of a survey.",
    )
    phase_id = fields.Many2one(
        "crm.decision.phase",
        required=True,
        ondelete="cascade",
        check_company=True,
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        help="The phase the lead moves to, if it is later than the lead's current phase.",
    )
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to apply it in every company.")

    @api.constrains("event_type", "document_tag_id")
    def _check_document_tag(self):
        for trigger in self:
            if trigger.document_tag_id and trigger.event_type != "document_opened":
                raise ValidationError(
                    self.env._(
                        "Trigger “%(name)s”: a document tag only applies to document openings. Remove the "
                        "tag or choose the event type Document Opened.",
                        name=trigger.name,
                    )
                )

    def _matches(self, description, tags):
        """Whether this trigger applies to an event with this description and these document tags."""
        self.ensure_one()
        if self.document_tag_id and self.document_tag_id not in tags:
            return False
        return not self.pattern or self.pattern.casefold() in (description or "").casefold()
