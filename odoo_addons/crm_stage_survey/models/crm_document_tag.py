from odoo import fields, models


class CrmDocumentTag(models.Model):
    """What a shared document is about (pricing, case study, security review...): the phase triggers of
    document openings match on these tags."""

    _name = "crm.document.tag"
    _description = "Shared Document Tag"
    _order = "name"

    name = fields.Char(required=True, translate=True)
    color = fields.Integer()

    _name_unique = models.Constraint("UNIQUE(name)", "A document tag with this name already exists.")
