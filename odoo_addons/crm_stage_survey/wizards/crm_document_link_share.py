from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date


class CrmDocumentLinkShare(models.TransientModel):
    """Share one of the lead's documents with a contact through a personal tracked link, sent to them by
    mail from the lead's chatter."""

    _name = "crm.document.link.share"
    _description = "Share a Document through a Tracked Link"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    attachment_id = fields.Many2one(
        "ir.attachment",
        string="Document",
        domain="[('res_model', '=', 'crm.lead'), ('res_id', '=', lead_id), ('type', '=', 'binary')]",
        help="A file attached to the lead (drop it in the chatter first).",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        compute="_compute_partner_id",
        store=True,
        readonly=False,
        help="Who receives the link by mail. Only they should use it: each opening is logged on the lead.",
    )
    tag_ids = fields.Many2many(
        "crm.document.tag",
        string="Tags",
        help="What the document is about (e.g. pricing): opening it may move the lead's decision phase.",
    )
    validity_days = fields.Integer(
        string="Valid for (days)", default=lambda self: self.env["crm.document.link"]._validity_days()
    )
    link_id = fields.Many2one("crm.document.link", string="Tracked Link", readonly=True)
    url = fields.Char(related="link_id.url", string="Link")

    @api.depends("lead_id")
    def _compute_partner_id(self):
        for wizard in self:
            wizard.partner_id = wizard.lead_id.partner_id

    def action_share(self):
        """Create the link, send it to the contact from the lead's chatter and show it."""
        self.ensure_one()
        if not self.attachment_id or not self.partner_id:
            raise UserError(self.env._("Choose the document to share and the contact to send it to."))
        if self.validity_days <= 0:
            raise UserError(self.env._("The link must stay valid for at least one day."))
        link = self.env["crm.document.link"].create(
            {
                "lead_id": self.lead_id.id,
                "partner_id": self.partner_id.id,
                "attachment_id": self.attachment_id.id,
                "tag_ids": [(6, 0, self.tag_ids.ids)],
                "expires_at": fields.Datetime.now() + timedelta(days=self.validity_days),
            }
        )
        self.link_id = link
        anchor = Markup('<a href="%(url)s">%(name)s</a>') % {"url": link.url, "name": self.attachment_id.name}
        self.lead_id.message_post(
            body=Markup("<p>%s</p>")
            % self.env._(
                "Here is %(document)s, for you only. The link is valid until %(date)s.",
                document=anchor,
                date=format_date(self.env, fields.Datetime.context_timestamp(self, link.expires_at).date()),
            ),
            partner_ids=self.partner_id.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Document Shared"),
        }
