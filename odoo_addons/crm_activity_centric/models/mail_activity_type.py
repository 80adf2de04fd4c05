from odoo import fields, models


class MailActivityType(models.Model):
    _inherit = "mail.activity.type"

    estimated_minutes = fields.Integer(
        help="Typical time an activity of this type takes; counted against the salesperson's daily minutes."
    )

    _estimated_minutes_positive = models.Constraint(
        "CHECK (estimated_minutes >= 0)", "Estimated minutes cannot be negative."
    )
