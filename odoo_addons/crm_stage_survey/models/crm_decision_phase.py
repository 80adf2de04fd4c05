from odoo import fields, models


class CrmDecisionPhase(models.Model):
    """Where the customer stands in their own buying process (not our sales stage): set by what the customer
    does — opening a shared document, completing a survey, writing to us — through the phase triggers."""

    _name = "crm.decision.phase"
    _description = "Customer Decision Phase"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(
        default=10, help="Order of the phases: triggers only move a lead to a later one."
    )
    description = fields.Text(translate=True, help="What the customer is doing in this phase.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", index=True, help="Leave empty to use it in every company.")

    def _is_after(self, other):
        """Whether this phase comes later than ``other`` in the buying process (later than no phase)."""
        self.ensure_one()
        return not other or (self.sequence, self.id) > (other.sequence, other.id)
