import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

DAYS_PARAM = "crm_stage_survey.document_link_days"
DEFAULT_DAYS = 30
ROUTE = "/crm/doc/"


def _new_token():
    """256 random bits, URL-safe: the only credential of a tracked link."""
    return secrets.token_urlsafe(32)


class CrmDocumentLink(models.Model):
    """A personal, expiring link through which one contact opens one document attached to a lead, without
    logging in. Each opening is counted and logged as a customer event (which may move the lead's decision
    phase); nothing about the visitor is stored (no IP address, no browser)."""

    _name = "crm.document.link"
    _description = "Tracked Document Link"
    _order = "id desc"

    token = fields.Char(required=True, readonly=True, copy=False, default=lambda self: _new_token())
    lead_id = fields.Many2one("crm.lead", required=True, index=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        index=True,
        ondelete="cascade",
        help="The person the link was shared with.",
    )
    attachment_id = fields.Many2one(
        "ir.attachment",
        string="Document",
        required=True,
        index=True,
        ondelete="cascade",
        help="The file served by the link: one of the lead's attachments.",
    )
    tag_ids = fields.Many2many(
        "crm.document.tag",
        string="Tags",
        help="What the document is about; the phase triggers match on them.",
    )
    expires_at = fields.Datetime(
        string="Expires On", required=True, default=lambda self: self._default_expires_at()
    )
    open_count = fields.Integer(string="Openings", readonly=True, copy=False)
    last_opened_at = fields.Datetime(string="Last Opened On", readonly=True, copy=False)
    active = fields.Boolean(default=True, help="Archive the link to revoke it.")
    url = fields.Char(string="Link", compute="_compute_url", help="Personal link to send to the contact.")
    is_expired = fields.Boolean(string="Expired", compute="_compute_is_expired")
    event_ids = fields.One2many("crm.lead.customer.event", "link_id", string="Openings Log")
    company_id = fields.Many2one(related="lead_id.company_id", store=True, index=True)

    _token_unique = models.UniqueIndex("(token)", "A document link token must be unique.")

    @api.model
    def _validity_days(self):
        """Days a new link stays valid (system parameter ``crm_stage_survey.document_link_days``)."""
        # sudo: system parameters are readable by administrators only
        value = self.env["ir.config_parameter"].sudo().get_param(DAYS_PARAM, DEFAULT_DAYS)
        try:
            days = int(value)
        except (TypeError, ValueError):
            return DEFAULT_DAYS
        return days if days > 0 else DEFAULT_DAYS

    @api.model
    def _default_expires_at(self):
        return fields.Datetime.now() + timedelta(days=self._validity_days())

    @api.depends("token")
    def _compute_url(self):
        for link in self:
            link.url = f"{link.get_base_url()}{ROUTE}{link.token}" if link.token else False

    @api.depends("expires_at")
    def _compute_is_expired(self):
        now = fields.Datetime.now()
        for link in self:
            link.is_expired = bool(link.expires_at) and link.expires_at <= now

    @api.depends("attachment_id", "partner_id")
    def _compute_display_name(self):
        for link in self:
            link.display_name = self.env._(
                "%(document)s for %(contact)s",
                document=link.attachment_id.name or "",
                contact=link.partner_id.display_name or "",
            )

    @api.constrains("attachment_id", "lead_id")
    def _check_attachment_on_lead(self):
        for link in self:
            # sudo: the check must also refuse attachments the user cannot read, without revealing them
            attachment = link.attachment_id.sudo()
            if attachment.res_model != "crm.lead" or attachment.res_id != link.lead_id.id:
                raise ValidationError(
                    self.env._(
                        "Only documents attached to the lead “%(lead)s” can be shared from it: attach "
                        "the file to the lead (in its chatter) first, then share it.",
                        lead=link.lead_id.display_name,
                    )
                )
            if attachment.type != "binary":
                raise ValidationError(
                    self.env._(
                        "“%(document)s” is a web address, not a file: only files can be shared through a "
                        "tracked link. Send the address itself instead.",
                        document=attachment.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # always drawn here: a token chosen by the caller could be guessable
            vals["token"] = _new_token()
        return super().create(vals_list)

    def write(self, vals):
        if "token" in vals:
            raise UserError(
                self.env._(
                    "The address of a tracked link cannot be changed. Archive the link and share the "
                    "document again to get a new one."
                )
            )
        if not self.env.su and {"open_count", "last_opened_at"} & set(vals):
            raise UserError(self.env._("Openings are counted by the link itself; they cannot be edited."))
        return super().write(vals)

    @api.model
    def _find_valid(self, token):
        """The active, unexpired link with exactly this token whose document is still attached to its lead,
        or an empty recordset. Call it as superuser: the token is the visitor's only credential."""
        if not token or len(token) > 128:
            return self.browse()
        link = self.search([("token", "=", token)], limit=1)
        if not link or link.is_expired:
            return self.browse()
        attachment = link.attachment_id
        if (
            attachment.res_model != "crm.lead"
            or attachment.res_id != link.lead_id.id
            or attachment.type != "binary"
        ):
            return self.browse()
        return link

    def _register_open(self):
        """Count one opening of this valid link and log it on the lead (the triggers may move its phase)."""
        self.ensure_one()
        self.write({"open_count": self.open_count + 1, "last_opened_at": fields.Datetime.now()})
        return self.env["crm.lead.customer.event"]._log(
            self.lead_id,
            "document_opened",
            partner=self.partner_id,
            description=self.attachment_id.name,
            payload={"link": self.id, "attachment": self.attachment_id.id},
            link=self,
            tags=self.tag_ids,
        )
