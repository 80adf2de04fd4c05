from odoo import api, fields, models
from odoo.tools import SQL


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
    def _sync_stays(self, lead_ids, origin, now):
        super()._sync_stays(lead_ids, origin, now)
        if not lead_ids:
            return
        # the stays opened just now record the customer's decision phase on entry (one statement)
        self.env["crm.lead"].flush_model(["decision_phase_id"])
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead_stage_history h
                      SET decision_phase_id = l.decision_phase_id
                     FROM crm_lead l
                    WHERE l.id = h.lead_id AND h.lead_id = ANY(%s) AND h.date_in = %s
                      AND h.decision_phase_id IS NULL AND l.decision_phase_id IS NOT NULL""",
                list(lead_ids),
                now,
            )
        )
        self.invalidate_model(["decision_phase_id"])
