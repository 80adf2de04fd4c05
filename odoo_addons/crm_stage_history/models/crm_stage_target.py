from odoo import api, fields, models
from odoo.tools import SQL

# Specificity order: a target for a salesperson beats one for a team, which beats one for a tag.
_SPECIFICITY = ("user_id", "team_id", "product_tag_id")


class CrmStageTarget(models.Model):
    _name = "crm.stage.target"
    _description = "Stage Target"
    _order = "stage_id, team_id, user_id, product_tag_id, id"
    _rec_name = "stage_id"

    active = fields.Boolean(default=True)
    stage_id = fields.Many2one("crm.stage", required=True, ondelete="cascade", index=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", ondelete="cascade", help="Leave empty for every team."
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", ondelete="cascade", help="Leave empty for every salesperson."
    )
    product_tag_id = fields.Many2one(
        "crm.tag",
        string="Product / Tag",
        ondelete="cascade",
        help="Applies to leads carrying this tag. Leave empty for every lead.",
    )
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    target_conversion_rate = fields.Float(
        string="Target Conversion (%)",
        help="Share of the leads entering the stage that should reach a later "
        "stage (lost leads count against it, open ones do not). 0 means no target.",
    )
    target_days_in_stage = fields.Float(
        string="Target Days in Stage",
        help="A lead staying longer than this in the stage is stuck. 0 means no target.",
    )

    _check_conversion_rate = models.Constraint(
        "CHECK(target_conversion_rate >= 0 AND target_conversion_rate <= 100)",
        "The target conversion must be between 0% and 100%.",
    )
    _check_days = models.Constraint(
        "CHECK(target_days_in_stage >= 0)",
        "The target days in stage cannot be negative.",
    )
    _unique_scope = models.UniqueIndex(
        "(stage_id, COALESCE(team_id, 0), COALESCE(user_id, 0), COALESCE(product_tag_id, 0), "
        "COALESCE(company_id, 0)) WHERE active",
        "There is already a target for this stage, team, salesperson and tag: edit that one instead.",
    )

    @api.model
    def _best_target_sql(self, measure):
        """SQL of a LATERAL subquery picking the most specific active target with ``measure`` set
        for a stay ``h`` of lead ``l`` (the lead's current salesperson, team and tags count)."""
        return SQL(
            """SELECT t.%(measure)s
                 FROM crm_stage_target t
                WHERE t.active AND t.stage_id = h.stage_id AND t.%(measure)s > 0
                  AND (t.team_id IS NULL OR t.team_id = l.team_id)
                  AND (t.user_id IS NULL OR t.user_id = l.user_id)
                  AND (t.product_tag_id IS NULL OR EXISTS (
                        SELECT 1 FROM crm_tag_rel r WHERE r.lead_id = l.id AND r.tag_id = t.product_tag_id))
                  AND (t.company_id IS NULL OR l.company_id IS NULL OR t.company_id = l.company_id)
             ORDER BY t.user_id IS NOT NULL DESC, t.team_id IS NOT NULL DESC,
                      t.product_tag_id IS NOT NULL DESC, t.id
                LIMIT 1""",
            measure=SQL.identifier(measure),
        )

    @api.model
    def _best_for(self, measure, stage, team=None, user=None, tags=None):
        """The most specific active target with ``measure`` set that applies to a stage, and
        optionally a team, a salesperson and tags (``None`` = the dimension is not fixed, so only
        targets that leave it empty apply). Returns an empty recordset when none applies."""
        candidates = self.search([("stage_id", "=", stage.id), (measure, ">", 0)])
        tag_ids = set(tags.ids) if tags else set()

        def applies(target):
            return (
                (not target.team_id or (team and target.team_id == team))
                and (not target.user_id or (user and target.user_id == user))
                and (not target.product_tag_id or target.product_tag_id.id in tag_ids)
            )

        matching = candidates.filtered(applies)
        if not matching:
            return matching
        return max(matching, key=lambda t: (tuple(bool(t[f]) for f in _SPECIFICITY), -t.id))
