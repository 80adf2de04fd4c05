from odoo import api, fields, models
from odoo.addons.crm_stage_history.models.crm_stage_target import id_key

_TABLE_FIELDS = [
    "phase_id",
    "team_id",
    "user_id",
    "company_id",
    "target_conversion_rate",
    "target_days_in_phase",
]


class CrmLifecyclePhaseTarget(models.Model):
    """A target per lifecycle phase, shaped like the stage targets (``crm.stage.target``): the Demand
    Waterfall shows each phase's most specific one (``funnel_metrics.waterfall(targets=...)``)."""

    _name = "crm.lifecycle.phase.target"
    _description = "Lifecycle Phase Target"
    _order = "phase_id, team_id, user_id, id"
    _rec_name = "phase_id"

    active = fields.Boolean(default=True)
    phase_id = fields.Many2one("crm.lifecycle.phase", required=True, ondelete="cascade", index=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", ondelete="cascade", help="Leave empty for every team."
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", ondelete="cascade", help="Leave empty for every salesperson."
    )
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    target_conversion_rate = fields.Float(
        string="Target Conversion (%)",
        help="Share of the leads entering the phase that should reach a later phase (recycled, "
        "disqualified and lost leads count against it, leads still in the phase do not). 0 means no target.",
    )
    target_days_in_phase = fields.Float(
        string="Target Days in Phase",
        help="How long a lead should stay in the phase, compared with the median days. 0 means no target.",
    )

    _check_conversion_rate = models.Constraint(
        "CHECK(target_conversion_rate >= 0 AND target_conversion_rate <= 100)",
        "The target conversion must be between 0% and 100%.",
    )
    _check_days = models.Constraint(
        "CHECK(target_days_in_phase >= 0)",
        "The target days in phase cannot be negative.",
    )
    _unique_scope = models.UniqueIndex(
        "(phase_id, COALESCE(team_id, 0), COALESCE(user_id, 0), COALESCE(company_id, 0)) WHERE active",
        "There is already a target for this phase, team and salesperson: edit that one instead.",
    )

    @api.model
    def _targets_table(self):
        """The active targets the current user may read as the targets table of
        ``funnel_metrics.waterfall``, read once for a whole report: ``phase``, ``team`` and ``user`` keyed by
        their ids as text (as the report keys its stays), conversion rates as fractions, days as days. Rows
        are in id order, so of two targets equally specific the older applies."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when targets are matched

        rows = self.search_read([], _TABLE_FIELDS, order="id", load=None)
        return pd.DataFrame(
            {
                "phase": [id_key(row["phase_id"]) for row in rows],
                "team": [id_key(row["team_id"]) for row in rows],
                "user": [id_key(row["user_id"]) for row in rows],
                "target_conversion_rate": [row["target_conversion_rate"] / 100 for row in rows],
                "target_days_in_phase": [float(row["target_days_in_phase"]) for row in rows],
            },
            dtype=object,
        ).astype({"target_conversion_rate": "float64", "target_days_in_phase": "float64"})
