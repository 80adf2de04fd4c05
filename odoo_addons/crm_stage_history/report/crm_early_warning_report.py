import math

from markupsafe import Markup
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

SEGMENT_KINDS = [("team", "Sales Team"), ("user", "Salesperson"), ("product", "Tags"), ("source", "Source")]
TESTS = [
    ("conversion_vs_baseline", "Conversion below baseline"),
    ("conversion_vs_target", "Conversion below target"),
    ("days_vs_baseline", "Slower than baseline"),
    ("days_vs_target", "Median days over target"),
]


def _number(value, scale=1.0):
    """NaN (no estimate) becomes an empty field; a fraction becomes a percentage with ``scale`` 100."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return float(value) * scale


class CrmEarlyWarningReport(models.TransientModel):
    """The early warnings' parameters; the lines are computed when the list reads them."""

    _name = "crm.early.warning.report"
    _inherit = "crm.pipeline.readonly.report.form"
    _description = "Early Warnings"
    _report_line_model = "crm.early.warning.report.line"
    _report_param_fields = ("as_of", "window_weeks", "baseline_weeks", "fdr")

    as_of = fields.Datetime(
        string="As of",
        required=True,
        default=fields.Datetime.now,
        help="The week's check: the recent window ends here; what happened later is not known yet.",
    )
    window_weeks = fields.Integer(
        string="Recent Weeks", required=True, default=4, help="The recent window, the weeks up to the date."
    )
    baseline_weeks = fields.Integer(
        required=True,
        default=26,
        help="The baseline, the weeks just before the recent window: each segment is compared with its own.",
    )
    fdr = fields.Float(
        string="False Alarm Rate",
        required=True,
        default=0.10,
        digits=(3, 2),
        help="At most this share of the warnings is expected to be false (Benjamini-Hochberg over every test "
        "of the report), e.g. 0.10.",
    )

    @api.constrains("window_weeks", "baseline_weeks", "fdr")
    def _check_parameters(self):
        for report in self:
            if report.window_weeks < 1 or report.baseline_weeks < 1:
                raise ValidationError(
                    self.env._("The recent and baseline windows need at least one week each.")
                )
            if not 0 < report.fdr < 1:
                raise ValidationError(
                    self.env._("The false alarm rate is a fraction between 0 and 1, e.g. 0.10 for 10 %.")
                )

    def _with_lead_segments(self, table):
        """``table`` (keyed by ids) with each lead's source (``source``: its id as text) and tags
        (``product``: their ids as text, ascending, joined with ", " -- the tags a lead carries together
        form its segment, as the command's ``product`` joins their names)."""
        lead_ids = table["lead_id"].unique().tolist()
        # the leads of the table are those the user may read (their stays came through the leads' rules)
        rows = self.env.execute_query(
            SQL(
                """SELECT l.id, l.source_id,
                          (SELECT string_agg(r.tag_id::text, ', ' ORDER BY r.tag_id)
                             FROM crm_tag_rel r WHERE r.lead_id = l.id)
                     FROM crm_lead l
                    WHERE l.id = ANY(%s)""",
                lead_ids,
            )
        )
        source = {lead: str(source) for lead, source, _tags in rows if source}
        product = {lead: tags for lead, _source, tags in rows if tags}
        return table.assign(
            source=table["lead_id"].map(source).astype("string"),
            product=table["lead_id"].map(product).astype("string"),
        )

    def _warnings(self):
        """funnel_metrics' early warnings per sales team, salesperson, tags and source over the stage
        history the user may read (his record rules and companies), against the stage targets, as a frame
        keyed by ids."""
        import funnel_metrics  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

        self.ensure_one()
        table = self.env["crm.lead.stage.history"]._transitions()
        if table.empty:
            return None
        keyed = self._with_lead_segments(self.env["crm.stage.history.scope"]._keyed_by_ids(table))
        return funnel_metrics.early_warnings(
            keyed,
            self.as_of,
            self.env["crm.stage.target"]._targets_table(),
            window_weeks=self.window_weeks,
            baseline_weeks=self.baseline_weeks,
            q=self.fdr,
            segments=[kind for kind, _label in SEGMENT_KINDS],
        )

    def _report_values(self):
        """The early warnings as report lines: every test carried out or with something to show."""
        if not 0 < self.fdr < 1 or self.window_weeks < 1 or self.baseline_weeks < 1:
            return []  # a hand-made context: the form refuses these
        result = self._warnings()
        if result is None:
            return []
        stages = self.env["crm.stage"].browse(sorted({int(stage) for stage in result["stage"]}))
        sequence = {stage.id: stage.sequence for stage in stages}
        tags = self._tag_names(result)
        lines = []
        for row in result.to_dict("records"):
            kind = row["segment_kind"]
            segment = int(row["segment"]) if kind != "product" else False
            conversion = row["test"].startswith("conversion")
            # percentages: the conversion's interval, the share of stays over the target, the recent rate of
            # leaving the stage against the baseline's
            lines.append(
                {
                    "segment_kind": kind,
                    "team_id": segment if kind == "team" else False,
                    "user_id": segment if kind == "user" else False,
                    "source_id": segment if kind == "source" else False,
                    "product": tags[row["segment"]] if kind == "product" else False,
                    "stage_id": int(row["stage"]),
                    "stage_sequence": sequence[int(row["stage"])],
                    "test": row["test"],
                    "recent_n": int(row["recent_n"]),
                    "recent_events": int(row["recent_events"]),
                    "baseline_n": int(row["baseline_n"]),
                    "baseline_events": int(row["baseline_events"]),
                    "recent_rate": _number(row["recent_rate"], 100),
                    "baseline_rate": _number(row["baseline_rate"], 100),
                    "target_rate": _number(row["target_rate"], 100),
                    "recent_days": _number(row["recent_days"]),
                    "baseline_days": _number(row["baseline_days"]),
                    "target_days": _number(row["target_days"]),
                    "estimate": _number(row["estimate"], 100),
                    "ci_low": _number(row["ci_low"], 100),
                    "ci_high": _number(row["ci_high"], 100),
                    "p_value": _number(row["p_value"]),
                    "adjusted_p": _number(row["adjusted_p"]),
                    "warning": bool(row["warning"]),
                    "tested": not math.isnan(row["p_value"]),
                    "is_conversion": conversion,
                    "has_recent_days": not math.isnan(row["recent_days"]),
                    "has_baseline_days": not math.isnan(row["baseline_days"]),
                }
            )
        return lines

    def _tag_names(self, result):
        """The tags segments of ``result`` (ids as text, joined) to their names, sorted and joined with ", "
        (as the command names a lead's product)."""
        keys = result.loc[result["segment_kind"] == "product", "segment"].unique().tolist()
        ids = {int(tag) for key in keys for tag in key.split(", ")}
        names = {tag.id: tag.name for tag in self.env["crm.tag"].browse(sorted(ids))}
        return {key: ", ".join(sorted(names[int(tag)] for tag in key.split(", "))) for key in keys}

    def action_show(self):
        """Open the early warnings' list, warnings first: its lines are computed as it reads them."""
        return self._report_action(
            self.env._("Early Warnings"),
            view_mode="list,graph",
            context={"search_default_warning": 1},
            help=Markup('<p class="o_view_nocontent_smiling_face">%s</p><p>%s</p>')
            % (
                self.env._("No early warning this week"),
                self.env._(
                    "No segment's conversion or time in stage dropped significantly. Remove the "
                    "Warnings filter to see every test and its evidence."
                ),
            ),
        )


class CrmEarlyWarningReportLine(models.Model):
    """A test of the early warnings, computed on read from the parameters in the context
    (``early_warning``)."""

    _name = "crm.early.warning.report.line"
    _inherit = "crm.pipeline.readonly.report"
    _description = "Early Warning"
    _auto = False
    _order = "warning desc, adjusted_p, segment_kind, team_id, user_id, product, source_id, stage_sequence"
    _report_model = "crm.early.warning.report"
    _report_context_key = "early_warning"

    segment_kind = fields.Selection(SEGMENT_KINDS, string="Segment", required=True)
    team_id = fields.Many2one("crm.team", string="Sales Team")
    user_id = fields.Many2one("res.users", string="Salesperson")
    product = fields.Char(string="Tags", help="The tags of the leads, a lead's tags together.")
    source_id = fields.Many2one("utm.source")
    segment_name = fields.Char(
        string="Name", compute="_compute_segment_name", help="The sales team, salesperson, tags or source."
    )
    stage_id = fields.Many2one("crm.stage", required=True)
    stage_sequence = fields.Integer()
    test = fields.Selection(TESTS, required=True)
    recent_n = fields.Integer(
        string="Recent",
        help="Conversion: leads decided (moved forward or lost) in the recent weeks. Slower than baseline: "
        "stays that began in the recent weeks. Days over target: stays whose time in stage is known at "
        "the target.",
    )
    recent_events = fields.Integer(
        help="Conversion: of them, those that moved forward. Slower than baseline: those that left the "
        "stage. Days over target: those still in the stage after the target.",
    )
    baseline_n = fields.Integer(string="Baseline", help="The same counts over the baseline weeks.")
    baseline_events = fields.Integer()
    recent_rate = fields.Float(string="Recent Conversion (%)", aggregator=None)
    baseline_rate = fields.Float(string="Baseline Conversion (%)", aggregator=None)
    target_rate = fields.Float(string="Target Conversion (%)", aggregator=None)
    recent_days = fields.Float(
        string="Recent Median Days",
        aggregator=None,
        help="Kaplan-Meier median of the recent stays (those still in the stage are censored).",
    )
    baseline_days = fields.Float(string="Baseline Median Days", aggregator=None)
    target_days = fields.Float(aggregator=None)
    estimate = fields.Float(
        string="Estimate (%)",
        aggregator=None,
        help="Conversion: the recent conversion. Slower than baseline: the recent rate of leaving the stage "
        "in percent of the baseline's (below 100: slower). Days over target: the share of stays longer "
        "than the target (above 50: the median exceeds it).",
    )
    ci_low = fields.Float(string="95% Low (%)", aggregator=None, help="Interval of the estimate.")
    ci_high = fields.Float(string="95% High (%)", aggregator=None, help="Interval of the estimate.")
    p_value = fields.Float(
        string="p-Value",
        aggregator=None,
        help="One-sided: the chance of a drop at least this large by luck alone.",
    )
    adjusted_p = fields.Float(
        string="Adjusted p",
        aggregator=None,
        help="Benjamini-Hochberg over every test of the report: a warning when at most the false alarm rate.",
    )
    warning = fields.Boolean(help="The drop is significant at the report's false alarm rate.")
    tested = fields.Boolean(help="Enough leads or stays to test (20 in each window compared).")
    is_conversion = fields.Boolean()
    has_recent_days = fields.Boolean()
    has_baseline_days = fields.Boolean()

    @api.depends("team_id", "user_id", "product", "source_id")
    def _compute_segment_name(self):
        """The segment in one column, whatever its kind: a list of every kind stays readable."""
        for line in self:
            line.segment_name = line.product or (line.team_id or line.user_id or line.source_id).display_name
