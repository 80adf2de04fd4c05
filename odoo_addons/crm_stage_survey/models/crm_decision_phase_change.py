from odoo import fields, models

PHASE_CHANGE_ORIGINS = [
    ("customer", "Customer Action"),
    ("correction", "Manager's Correction"),
    ("merge", "Merge"),
]


class CrmDecisionPhaseChange(models.Model):
    """Every change of a lead's decision phase and what made it: a customer's action (its event), a sales
    manager's correction (with the reason) or a merge. An audit log written by the addon only
    (``crm.lead._decision_phase_set``): users read it, nobody edits it."""

    _name = "crm.decision.phase.change"
    _description = "Decision Phase Change"
    _order = "date desc, id desc"
    _rec_name = "phase_id"

    lead_id = fields.Many2one("crm.lead", required=True, readonly=True, index=True, ondelete="cascade")
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    old_phase_id = fields.Many2one("crm.decision.phase", string="From", readonly=True, ondelete="set null")
    phase_id = fields.Many2one("crm.decision.phase", string="To", readonly=True, ondelete="set null")
    origin = fields.Selection(PHASE_CHANGE_ORIGINS, required=True, readonly=True)
    event_id = fields.Many2one(
        "crm.lead.customer.event",
        string="Customer Event",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The customer's action that moved the phase.",
    )
    partner_id = fields.Many2one(related="event_id.partner_id", string="Contact")
    user_id = fields.Many2one(
        "res.users", string="By", readonly=True, ondelete="set null", help="Who corrected or merged."
    )
    reason = fields.Text(readonly=True, help="Why a sales manager corrected the phase.")
    company_id = fields.Many2one(related="lead_id.company_id", store=True, index=True)
