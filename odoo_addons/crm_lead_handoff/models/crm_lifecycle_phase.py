from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

PHASE_KINDS = [
    ("progress", "Progress"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("recycled", "Recycled"),
    ("disqualified", "Disqualified"),
]


class CrmLifecyclePhase(models.Model):
    """A phase of the demand waterfall (Inquiry, Marketing Qualified, Sales Accepted...): every lead of a
    company with handoffs is in one, recorded as stays (``crm.lead.phase.history``)."""

    _name = "crm.lifecycle.phase"
    _description = "Lifecycle Phase"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Stable key of the phase, used by the exports and reports.")
    sequence = fields.Integer(default=10, help="Order of the phases in the waterfall.")
    kind = fields.Selection(
        PHASE_KINDS,
        required=True,
        default="progress",
        help="Progress: a step of the waterfall. Won, Lost: the end of an opportunity. Recycled: handed back "
        "(rejected) to be nurtured again. Disqualified: not a lead to pursue.",
    )
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    stage_ids = fields.Many2many(
        "crm.stage",
        "crm_lifecycle_phase_stage_rel",
        "phase_id",
        "stage_id",
        string="Entered at Stages",
        help="A lead put in one of these pipeline stages (by its salesperson, the qualification survey, an "
        "SLA rule or an import) enters this phase, when it is a progress phase later than the lead's own: "
        "never backwards, never out of won, lost or disqualified; a recycled lead enters it again.",
    )

    _code_unique = models.Constraint("UNIQUE(code)", "Two phases cannot share a code.")

    @api.model
    @tools.ormcache(cache="stable")
    def _phase_table(self):
        """``{code: (id, sequence, kind)}`` of the active phases, cached (cleared when phases change,
        like :meth:`_stage_phase_codes`)."""
        # sudo: the waterfall's phases are the same for everyone who records a move
        phases = self.sudo().with_context(active_test=True).search([])
        return {phase.code: (phase.id, phase.sequence, phase.kind) for phase in phases}

    @api.model
    @tools.ormcache(cache="stable")
    def _stage_phase_codes(self):
        """``{stage_id: code}`` of the stages mapped to the active phases, cached (cleared when phases
        change)."""
        # sudo: the mapping is the same for everyone who moves a lead's stage
        phases = self.sudo().with_context(active_test=True).search([])
        return {stage.id: phase.code for phase in phases for stage in phase.stage_ids}

    @api.constrains("stage_ids", "kind")
    def _check_stage_ids(self):
        for phase in self.filtered("stage_ids"):
            if phase.kind != "progress":
                raise ValidationError(
                    self.env._(
                        "Only progress phases are entered at stages: “%(phase)s” is not one. Remove its "
                        "stages, or close leads as won or lost, which moves them to the won or lost phase.",
                        phase=phase.name,
                    )
                )
            other = self.with_context(active_test=False).search(
                [("stage_ids", "in", phase.stage_ids.ids), ("id", "!=", phase.id)], limit=1
            )
            if other:
                raise ValidationError(
                    self.env._(
                        "The stage “%(stage)s” already moves leads to the phase “%(other)s”: a stage enters "
                        "one phase only. Remove it from “%(other)s” or from “%(phase)s”.",
                        stage=(phase.stage_ids & other.stage_ids)[0].name,
                        other=other.name,
                        phase=phase.name,
                    )
                )

    @api.model
    def _plain_phases(self):
        """The active phases as ``funnel_metrics.phase_moves.Phase`` values keyed by code."""
        from funnel_metrics.phase_moves import as_phases

        return as_phases(
            (code, sequence, kind) for code, (_id, sequence, kind) in self._phase_table().items()
        )

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache("stable")  # _phase_table
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache("stable")  # _phase_table
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache("stable")  # _phase_table
        return super().unlink()
