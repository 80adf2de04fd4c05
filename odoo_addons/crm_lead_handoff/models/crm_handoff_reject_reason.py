from odoo import fields, models


class CrmHandoffRejectReason(models.Model):
    """Why the receiving side of a handoff rejected a lead (wrong company size, no reachable contact...)."""

    _name = "crm.handoff.reject.reason"
    _description = "Handoff Rejection Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="Stable key of the reason, used by the exports and reports.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    _code_unique = models.Constraint("UNIQUE(code)", "Two rejection reasons cannot share a code.")
