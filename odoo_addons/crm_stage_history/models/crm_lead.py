from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import cursor_mark

# Origins that only the code making such a move may record (the answers, a rule, a manager's override, the
# rebuild): it runs as superuser or marks the cursor with this key around the write (cursor-scoped, so that an
# RPC caller cannot forge it, unlike the context). A caller's context can only say "import" or "manual".
TRUSTED_ORIGIN_KEY = "crm_stage_history.trusted_origin"
CALLER_ORIGINS = ("create", "manual", "import")


class CrmLead(models.Model):
    _inherit = "crm.lead"

    stage_history_ids = fields.One2many("crm.lead.stage.history", "lead_id")
    stage_history_count = fields.Integer(compute="_compute_pd_counts", string="Stage Stays")
    is_stage_stuck = fields.Boolean(
        string="Stuck in Stage",
        compute="_compute_is_stage_stuck",
        search="_search_is_stage_stuck",
        help="The lead has been in its stage longer than the stage target allows.",
    )

    def _pd_counted_models(self):
        return {**super()._pd_counted_models(), "stage_history_count": ("crm.lead.stage.history", [])}

    def _compute_is_stage_stuck(self):
        stuck = self.env["crm.lead.stage.history"]._stuck_stays(lead_ids=self.ids)
        stuck_leads = {lead_id for _stay_id, lead_id in stuck}
        for lead in self:
            lead.is_stage_stuck = lead.id in stuck_leads

    def _search_is_stage_stuck(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        stuck_wanted = (True in value) == (operator == "in")
        return [("stage_history_ids", "any" if stuck_wanted else "not any", [("is_stuck", "=", True)])]

    def _stage_history_origin(self, default):
        """Origin of the stays opened by the current operation (other addons set it in context)."""
        origin = self.env.context.get("stage_history_origin")
        trusted = self.env.su or cursor_mark(self.env.cr, TRUSTED_ORIGIN_KEY)
        if origin and (trusted or origin in CALLER_ORIGINS):
            return origin
        return "import" if self.env.context.get("import_file") else default

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        leads._stage_history_sync(self._stage_history_origin("create"))
        return leads

    def write(self, vals):
        if "stage_id" not in vals and "active" not in vals:
            return super().write(vals)
        # values already in cache (crm's own write reads them too): a write that moves nothing
        # (merges, mass edits rewriting the same stage) costs no history query
        moves = any(
            ("stage_id" in vals and lead.stage_id.id != (vals["stage_id"] or False))
            or ("active" in vals and lead.active != bool(vals["active"]))
            for lead in self
        )
        result = super().write(vals)
        if moves:
            self._stage_history_sync(self._stage_history_origin("manual"))
        return result

    def _stage_history_sync(self, origin):
        """Close and open stays after leads were created, moved, archived or restored."""
        History = self.env["crm.lead.stage.history"]
        # the stays copy the leads' columns: flush them, with every field the write left to recompute
        # (crm's "Days to Close", prorated revenue...), so that crm's update carries them; flushing only
        # the copied columns left those for a second update of every lead after the stays
        self.flush_recordset()
        History._sync_stays(self.ids, origin, fields.Datetime.now())

    def _merge_dependences(self, opportunities):
        # the merged leads are deleted afterwards: their stays move to the lead that survives
        self.env["crm.lead.stage.history"]._move_to_lead(opportunities.ids, self.id, fields.Datetime.now())
        return super()._merge_dependences(opportunities)

    def action_view_stage_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_stage_history.crm_lead_stage_history_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        return action
