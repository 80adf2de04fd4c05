from odoo import api, fields, models


class CrmLeadStageHistory(models.Model):
    _inherit = "crm.lead.stage.history"

    decision_phase_id = fields.Many2one(
        "crm.decision.phase",
        string="Customer Decision Phase",
        readonly=True,
        index="btree_not_null",
        help="Where the customer stood in their own buying process when the lead entered the stage.",
    )

    @api.model
    def _stay_lead_columns(self):
        # a stay records the customer's decision phase on entry, written with the stay itself
        return {**super()._stay_lead_columns(), "decision_phase_id": "decision_phase_id"}
