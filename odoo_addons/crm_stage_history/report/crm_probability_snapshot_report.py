from markupsafe import Markup
from odoo import fields, models

from ..wizards.crm_stage_calibration import _number, _percent


class CrmProbabilitySnapshotReport(models.TransientModel):
    """Parameters of *Probability Calibration by Month-End*: which month ends, which teams, which bands;
    its lines are measured when the list reads them."""

    _name = "crm.probability.snapshot.report"
    _inherit = "crm.pipeline.readonly.report.form"
    _description = "Probability Calibration by Month-End"
    _report_line_model = "crm.probability.snapshot.band"
    _report_param_fields = ("date_from", "date_to", "team_ids", "band_count", "min_sample")

    date_from = fields.Date(
        string="Month Ends From", help="Snapshots of the month ends on or after this day."
    )
    date_to = fields.Date(string="Month Ends To", help="Snapshots of the month ends on or before this day.")
    team_ids = fields.Many2many(
        "crm.team", string="Sales Teams", help="Opportunities of these teams at the month end (empty: all)."
    )
    band_count = fields.Integer(
        string="Bands", default=10, help="Equal bands of stated probability: 10 gives 0-10 %, ..., 90-100 %."
    )
    min_sample = fields.Integer(
        string="Minimum Sample",
        default=30,
        help="Per stage: below this many decided opportunities, the recommendation leans on the stated "
        "probability.",
    )

    def _snapshots(self):
        """The month-end snapshots in scope, read with the user's rights (see
        ``crm.lead.probability.snapshot._snapshots_table``)."""
        self.ensure_one()
        domain = []
        if self.date_from:
            domain.append(("snapshot_date", ">=", self.date_from))
        if self.date_to:
            domain.append(("snapshot_date", "<=", self.date_to))
        if self.team_ids:
            domain.append(("team_id", "in", self.team_ids.ids))
        return self.env["crm.lead.probability.snapshot"]._snapshots_table(domain)

    def _report_values(self):
        """One line per probability band: ``funnel_metrics.probability_bands`` of the snapshots."""
        from funnel_metrics.probability_bands import probability_bands  # noqa: PLC0415 - pandas: when asked

        self.ensure_one()
        table = self._snapshots()
        if table.empty:
            return []
        result = probability_bands(table, bands=max(1, self.band_count))
        brier = _number(result.attrs["brier"])
        return [
            {
                "band": row.band,
                "band_sequence": index,
                "low": row.low * 100,
                "high": row.high * 100,
                "snapshot_count": int(row.snapshots),
                "sample_size": int(row.n),
                "won_count": int(row.won),
                "lead_count": int(row.leads),
                "observed": _percent(row.observed),
                "has_observed": int(row.n) > 0,
                "ci_low": _percent(row.ci_low),
                "ci_high": _percent(row.ci_high),
                "mean_stated": _percent(row.mean_stated),
                "open_count": int(row.open),
                "brier_score": brier,
            }
            for index, row in enumerate(result.itertuples(index=False))
        ]

    def action_show(self):
        """Open the bands: the list measures them as it reads them (no write)."""
        return self._report_action(
            self.env._("Probability Calibration by Month-End"),
            view_mode="list,graph",
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._(
                "No month-end snapshot in this period and these teams: widen the filters, or fill the past "
                "month ends in from the stage history."
            ),
        )

    def action_show_stages(self):
        """Open the per-stage measure of the same snapshots, to apply to the stages (sales managers)."""
        Stages = self.env["crm.probability.snapshot.stage.report"]
        return Stages.new(Stages._report_params_to_values(self._report_params()))._report_action(
            self.env._("Probability Calibration by Month-End: Stages"),
            help=Markup('<p class="o_view_nocontent_empty_folder">%s</p>')
            % self.env._("No month-end snapshot in this period and these teams: widen the filters."),
        )

    def action_backfill(self):
        """Fill the past month ends in from the stage history (sales managers)."""
        return self.env["crm.lead.probability.snapshot"].action_backfill()


class CrmProbabilitySnapshotStageReport(models.TransientModel):
    """The per-stage measure of *Probability Calibration by Month-End*: same parameters, lines per stage
    that "Apply to Stages" acts on."""

    _name = "crm.probability.snapshot.stage.report"
    _inherit = "crm.probability.snapshot.report"
    _description = "Probability Calibration by Month-End: Stages"
    _report_line_model = "crm.probability.snapshot.stage"

    def _report_values(self):
        """One line per stage, its id the stage's: ``funnel_metrics.snapshot_stage_rates`` of the snapshots,
        the stages' probabilities of now as the stated ones."""
        from funnel_metrics.probability_bands import (  # noqa: PLC0415 - pandas: load when asked for
            probability_bands,
            snapshot_stage_rates,
        )

        self.ensure_one()
        table = self._snapshots()
        if table.empty:
            return []
        stages = self.env["crm.stage"].browse(sorted({int(stage) for stage in table["stage"]})).exists()
        stated = {str(stage.id): stage.probability / 100 for stage in stages}
        result = snapshot_stage_rates(table, stated, min_sample=self.min_sample)
        brier = _number(probability_bands(table).attrs["brier"])
        Line = self.env[self._report_line_model]
        by_id = {stage.id: stage for stage in stages}
        return [
            Line._stage_line_values(stage, row, int(row.leads), brier)
            for row in result.itertuples(index=False)
            if (stage := by_id.get(int(row.stage))) and not stage.is_won
        ]


class CrmProbabilitySnapshotBand(models.Model):
    """A band of stated probability and how often its month-end opportunities were won, computed on read
    from the parameters in the context (``probability_snapshot_report``)."""

    _name = "crm.probability.snapshot.band"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Probability Calibration by Month-End: Band"
    _auto = False
    _order = "band_sequence"
    _report_model = "crm.probability.snapshot.report"
    _report_context_key = "probability_snapshot_report"

    band = fields.Char(string="Stated Probability")
    band_sequence = fields.Integer()
    low = fields.Float(string="From (%)", aggregator=None)
    high = fields.Float(string="To (%)", aggregator=None)
    snapshot_count = fields.Integer(string="Snapshots", aggregator="sum")
    sample_size = fields.Integer(
        string="Decided Snapshots", aggregator="sum", help="Snapshots of opportunities since won or lost."
    )
    won_count = fields.Integer(string="Won", aggregator="sum")
    lead_count = fields.Integer(string="Decided Opportunities", aggregator=None)
    mean_stated = fields.Float(string="Stated (%)", aggregator=None, help="Mean stated probability.")
    observed = fields.Float(string="Won (%)", aggregator=None, help="Share of decided snapshots won.")
    has_observed = fields.Boolean()
    ci_low = fields.Float(
        string="Won From (%)",
        aggregator=None,
        help="Lower end of the 95% interval; an opportunity's several month ends count as one outcome.",
    )
    ci_high = fields.Float(string="Won To (%)", aggregator=None, help="Upper end of the 95% interval.")
    open_count = fields.Integer(
        string="Still Open",
        aggregator="sum",
        help="Snapshots of opportunities not decided yet: left out of the rate, as they have no outcome.",
    )
    brier_score = fields.Float(
        digits=(16, 4),
        aggregator="avg",
        help="One number for the whole measure, not per band: the mean squared gap between the stated "
        "probability and the outcome over every decided snapshot (0 is perfect; 0.25 is what always saying "
        "50% scores).",
    )


class CrmProbabilitySnapshotStage(models.Model):
    """A stage's chance of winning from a month end in it, computed on read (``probability_snapshot_stages``);
    its id is the stage's, and Apply is the calibration's (``crm.stage.calibration.line``)."""

    _name = "crm.probability.snapshot.stage"
    _inherit = "crm.stage.calibration.line"
    _description = "Probability Calibration by Month-End: Stage"
    _auto = False
    _report_model = "crm.probability.snapshot.stage.report"
    _report_context_key = "probability_snapshot_stages"

    sample_size = fields.Integer(string="Decided Opportunities")
