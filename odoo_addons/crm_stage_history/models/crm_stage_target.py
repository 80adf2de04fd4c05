from odoo import api, fields, models


def id_key(value):
    """An Odoo id as the text key of a funnel_metrics table (targets, transitions); None for no record."""
    return str(value) if value else None


_TABLE_FIELDS = [
    "stage_id",
    "team_id",
    "user_id",
    "product_tag_id",
    "company_id",
    "target_conversion_rate",
    "target_days_in_stage",
]


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
    def _targets_table(self):
        """The active targets the current user may read as a funnel_metrics targets table, read once for a
        whole report or search: ``funnel_metrics.match_targets`` picks the most specific of them.

        Stages, teams, salespersons and tags (``product``) are keyed by their ids as text (two may share a
        name); conversion rates are fractions. Rows are in id order, so of two targets equally specific
        the older applies. The ``company`` column (id as text, NA for every company) is not a dimension of
        the match: :meth:`_of_company` keeps the targets of a lead's company first.
        """
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when targets are matched

        rows = self.search_read([], _TABLE_FIELDS, order="id", load=None)
        return pd.DataFrame(
            {
                "stage": [id_key(row["stage_id"]) for row in rows],
                "team": [id_key(row["team_id"]) for row in rows],
                "user": [id_key(row["user_id"]) for row in rows],
                "product": [id_key(row["product_tag_id"]) for row in rows],
                "company": [id_key(row["company_id"]) for row in rows],
                "target_conversion_rate": [row["target_conversion_rate"] / 100 for row in rows],
                "target_days_in_stage": [float(row["target_days_in_stage"]) for row in rows],
            },
            dtype=object,
        ).astype({"target_conversion_rate": "float64", "target_days_in_stage": "float64"})

    @api.model
    def _of_company(self, table, company_id):
        """The targets of :meth:`_targets_table` that apply to a lead of this company: those for every
        company and those of its own; all of them for a lead without a company."""
        if not company_id:
            return table
        return table[table["company"].isna() | (table["company"] == str(company_id))]
