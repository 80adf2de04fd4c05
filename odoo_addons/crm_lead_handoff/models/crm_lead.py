from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import array_literal, cursor_mark, cursor_marker
from odoo.exceptions import AccessError
from odoo.tools import SQL, sql

# cursor-scoped marker (not forgeable over RPC, unlike a context key): the addon's own writes of the phase
# and handoff fields
HANDOFF_KEY = "crm_lead_handoff.flow"
# lead fields written by the addon's flows only: a salesperson's write, or a manager's, is refused
PROTECTED_FIELDS = frozenset(
    ("lifecycle_phase_id", "lifecycle_phase_date", "handoff_id", "handoff_sent_date")
)
# lead fields whose change may move a lead to another phase (conversion, won, lost, restore)
PHASE_TRIGGERS = frozenset(("type", "stage_id", "active", "probability"))


class CrmLead(models.Model):
    _inherit = "crm.lead"

    lifecycle_phase_id = fields.Many2one(
        "crm.lifecycle.phase",
        index="btree_not_null",
        readonly=True,
        copy=False,
        ondelete="restrict",
        help="Where the lead is in the demand waterfall. Set by handoffs, conversion, the stages mapped to "
        "phases, won and lost; a sales manager corrects it with a reason.",
    )
    lifecycle_phase_kind = fields.Selection(related="lifecycle_phase_id.kind", string="Phase Kind")
    lifecycle_phase_date = fields.Datetime(string="In Phase Since", readonly=True, copy=False)
    handoff_id = fields.Many2one(
        "crm.lead.handoff",
        string="Awaiting Handoff",
        compute="_compute_handoff_id",
        store=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The handoff of this lead that awaits the receiving side's decision.",
    )
    handoff_sent_date = fields.Datetime(
        string="Handed Over On",
        compute="_compute_handoff_id",
        store=True,
        copy=False,
        index="btree_not_null",
        help="When the awaiting handoff was sent: the start of the 'handed over' clock of SLA rules.",
    )
    handoff_to_team_id = fields.Many2one(related="handoff_id.to_team_id", string="Handed Over to Team")
    handoff_to_partner_id = fields.Many2one(
        related="handoff_id.to_partner_id", string="Handed Over to Partner"
    )
    handoff_ids = fields.One2many("crm.lead.handoff", "lead_id", string="Handoffs")
    phase_history_ids = fields.One2many("crm.lead.phase.history", "lead_id", string="Phase Stays")
    handoff_count = fields.Integer(
        compute="_compute_pd_counts",
    )
    phase_history_count = fields.Integer(compute="_compute_pd_counts", string="Phase Stay Count")
    lifecycle_enabled = fields.Boolean(compute="_compute_handoff_buttons")
    handoff_can_send = fields.Boolean(compute="_compute_handoff_buttons")
    handoff_can_decide = fields.Boolean(compute="_compute_handoff_buttons")

    def _auto_init(self):
        # the columns of the awaiting handoff are empty on every existing lead: created here, they are not
        # computed lead by lead on install
        for column, kind in (("handoff_id", "int4"), ("handoff_sent_date", "timestamp")):
            if not sql.column_exists(self.env.cr, self._table, column):
                sql.create_column(self.env.cr, self._table, column, kind)
        return super()._auto_init()

    @api.depends("handoff_ids.state", "handoff_ids.date_sent")
    def _compute_handoff_id(self):
        for lead in self:
            awaiting = lead.handoff_ids.filtered(lambda handoff: handoff.state == "awaiting")[:1]
            lead.handoff_id = awaiting
            lead.handoff_sent_date = awaiting.date_sent

    def _pd_counted_models(self):
        return {
            **super()._pd_counted_models(),
            "handoff_count": ("crm.lead.handoff", []),
            "phase_history_count": ("crm.lead.phase.history", []),
        }

    @api.depends_context("uid")
    @api.depends("company_id", "lifecycle_phase_id", "handoff_id")
    def _compute_handoff_buttons(self):
        on = self.env["crm.handoff.route"]._handoff_company_ids()
        user = self.env.user
        for lead in self:
            lead.lifecycle_enabled = (lead.company_id.id or self.env.company.id) in on
            lead.handoff_can_send = bool(
                lead.lifecycle_enabled and not lead.handoff_id and lead._handoff_routes(user)
            )
            handoff = lead.handoff_id.sudo()  # sudo: who receives it, to show the buttons
            lead.handoff_can_decide = bool(
                handoff
                and handoff.state == "awaiting"
                and user in handoff.receiver_ids
                and user != handoff.sender_id
            )

    def _handoff_routes(self, user):
        """The active routes on which ``user`` may hand this lead over now (its company, team and phase)."""
        self.ensure_one()
        if not self.lifecycle_phase_id:
            return self.env["crm.handoff.route"]
        # sudo: the routes' settings, to offer the button; sending checks the rights again
        routes = (
            self.env["crm.handoff.route"]
            .sudo()
            .search(
                [
                    ("company_id", "=", (self.company_id or self.env.company).id),
                    ("from_phase_id", "=", self.lifecycle_phase_id.id),
                ]
            )
        )
        return routes.filtered(
            lambda route: (
                route._may_send(user) and (not route.from_team_ids or self.team_id in route.from_team_ids)
            )
        )

    # ------------------------------------------------------------------
    # Guard of the phase and handoff fields
    # ------------------------------------------------------------------

    def _handoff_privileged(self):
        return self.env.su or bool(cursor_mark(self.env.cr, HANDOFF_KEY))

    def _handoff_guard(self, names):
        protected = PROTECTED_FIELDS & set(names)
        if protected and not self._handoff_privileged():
            raise AccessError(
                self.env._(
                    "The lifecycle phase and the handoff of a lead are set by handoffs, conversion, won and "
                    "lost, not by hand (%(fields)s). Hand the lead over, accept or reject its handoff, or "
                    "ask "
                    "a sales manager to correct the phase with a reason (“Correct Phase”).",
                    fields=", ".join(sorted(protected)),
                )
            )

    # ------------------------------------------------------------------
    # Recording
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._handoff_guard(vals)
        leads = super().create(vals_list)
        leads._lifecycle_sync(stage_written=True)
        return leads

    def write(self, vals):
        self._handoff_guard(vals)
        result = super().write(vals)
        if PHASE_TRIGGERS & vals.keys():
            self._lifecycle_sync(stage_written="stage_id" in vals)
        if "team_id" in vals and not cursor_mark(self.env.cr, HANDOFF_KEY):
            self._handoff_cancel_elsewhere()
        return result

    def _handoff_cancel_elsewhere(self):
        """Cancel the awaiting handoffs of leads sent to another team than the one they were handed to (by
        hand, by an SLA rule): nobody on the receiving side is to decide on them any more."""
        leads = self._lifecycle_leads()
        if not leads:
            return
        # sudo: the handoffs of the leads, whoever moves them
        handoffs = leads.sudo().handoff_id.filtered(
            lambda handoff: handoff.lead_id.team_id != handoff.to_team_id
        )
        handoffs._handoff_close("cancelled")

    def _lifecycle_leads(self):
        """The leads of ``self`` whose company records lifecycle phases (a lead without a company: where
        the current company does). No query where no company does."""
        on = self.env["crm.handoff.route"]._handoff_company_ids()
        if not on:
            return self.browse()
        current = self.env.company.id
        return self.filtered(lambda lead: (lead.company_id.id or current) in on)

    def _lifecycle_sync(self, stage_written=False):
        """Move the leads to the phase their change puts them in (``funnel_metrics.phase_moves.phase_after``:
        creation, conversion, stage, won, lost, restore), set-based: one read, then the moves
        (``crm.lead.phase.history._record_moves``); awaiting handoffs of leads won or lost are cancelled.

        :param bool stage_written: the leads were put in their stage now (created, or their stage written):
            a stage mapped to a phase (``crm.lifecycle.phase.stage_ids``) may move them to it
        """
        leads = self._lifecycle_leads()
        if not leads:
            return
        from funnel_metrics.phase_moves import LeadState, phase_after

        Phase = self.env["crm.lifecycle.phase"]
        phases = Phase._plain_phases()
        table = Phase._phase_table()
        stage_phases = Phase._stage_phase_codes() if stage_written else {}
        leads.flush_recordset(["type", "won_status", "active", "lifecycle_phase_id", "stage_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT l.id, p.code, l.type, l.won_status, COALESCE(l.active, false), last.code,
                          l.handoff_id, l.stage_id
                     FROM unnest(%s::int[]) AS v(id)
                     JOIN crm_lead l ON l.id = v.id
                LEFT JOIN crm_lifecycle_phase p ON p.id = l.lifecycle_phase_id
                LEFT JOIN LATERAL (
                          SELECT lp.code FROM crm_lead_phase_history h
                            JOIN crm_lifecycle_phase lp ON lp.id = h.phase_id
                           WHERE h.lead_id = l.id AND lp.kind = 'progress'
                        ORDER BY h.date_in DESC, h.id DESC LIMIT 1
                          ) last ON l.lifecycle_phase_id IS NOT NULL""",
                array_literal(leads.ids),
            )
        )
        moves, closed_handoffs = {}, []
        for lead_id, code, lead_type, won_status, active, last, handoff_id, stage_id in rows:
            state = LeadState(
                code, lead_type or "lead", won_status or "pending", active, last, stage_phases.get(stage_id)
            )
            target, origin = phase_after(state, phases)
            if target is None:
                continue
            moves[lead_id] = (table[target][0], origin, None)
            if origin in ("won", "lost") and handoff_id:
                closed_handoffs.append(handoff_id)
        if closed_handoffs:
            self.env["crm.lead.handoff"].browse(closed_handoffs)._handoff_close("cancelled")
        self.env["crm.lead.phase.history"]._record_moves(moves)

    def _merge_dependences(self, opportunities):
        # the merged leads are deleted afterwards: their stays and handoffs go to the lead that survives
        # (where phases are recorded: a merge elsewhere, like crm's lead assignment, costs no query)
        if (self | opportunities)._lifecycle_leads():
            now = fields.Datetime.now()
            self.env["crm.lead.phase.history"]._move_to_lead(opportunities.ids, self.id, now)
            self.env["crm.lead.handoff"]._move_to_lead(opportunities.ids, self.id, now)
        return super()._merge_dependences(opportunities)

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_handoff_send(self):
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Hand Over"),
            "res_model": "crm.lead.handoff.send",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

    def _awaiting_handoff(self):
        self.ensure_one()
        handoff = self.handoff_id
        if not handoff or handoff.sudo().state != "awaiting":
            raise AccessError(self.env._("“%s” awaits no handoff decision.", self.name))
        return handoff

    def action_handoff_accept(self):
        self._awaiting_handoff().action_accept()
        return True

    def action_handoff_reject(self):
        handoff = self._awaiting_handoff()
        handoff._check_receiver()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject Handoff"),
            "res_model": "crm.lead.handoff.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_handoff_id": handoff.id},
        }

    def action_phase_correction(self):
        self.ensure_one()
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can correct a lead's lifecycle phase."))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Correct Phase"),
            "res_model": "crm.lead.phase.correction",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

    def action_view_handoffs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_lead_handoff.crm_lead_handoff_action")
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {}
        return action

    def action_view_phase_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lead_handoff.crm_lead_phase_history_action"
        )
        action["domain"] = [("lead_id", "=", self.id)]
        return action

    def _handoff_write(self, vals):
        """Write ``vals`` (phase and handoff fields among them) as the addon's own flow."""
        with cursor_marker(self.env.cr, HANDOFF_KEY):
            # sudo: the flow checked who may do it; the lead changes team and owner on the receiving side's
            # behalf, whose rights on the lead follow
            self.sudo().with_context(mail_auto_subscribe_no_notify=True).write(vals)
