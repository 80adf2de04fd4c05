import logging
from datetime import timedelta

from markupsafe import Markup
from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import retry_on_concurrency
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

HANDOFF_STATES = [
    ("awaiting", "Awaiting acceptance"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("returned", "Returned"),
    ("cancelled", "Cancelled"),
]


class CrmLeadHandoff(models.Model):
    """One handoff of a lead on a route: sent, then accepted or rejected (with a reason) by the receiving
    side, returned to the sender by an SLA rule when nobody acts, or cancelled when the lead is closed first.
    Written by the addon's flows only."""

    _name = "crm.lead.handoff"
    _description = "Lead Handoff"
    _order = "date_sent desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", required=True, index=True, ondelete="cascade", readonly=True)
    route_id = fields.Many2one(
        "crm.handoff.route", required=True, index=True, ondelete="restrict", readonly=True
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    sender_id = fields.Many2one("res.users", string="Sent By", readonly=True, index=True)
    from_team_id = fields.Many2one("crm.team", readonly=True)
    from_user_id = fields.Many2one(
        "res.users", string="From Salesperson", readonly=True, help="The lead's salesperson when it was sent."
    )
    to_team_id = fields.Many2one("crm.team", readonly=True)
    to_partner_id = fields.Many2one("res.partner", readonly=True)
    receiver_ids = fields.Many2many(
        "res.users",
        "crm_lead_handoff_receiver_rel",
        string="Receivers",
        readonly=True,
        help="Who may accept or reject this handoff (the route's receivers when it was sent).",
    )
    phase_id = fields.Many2one(
        "crm.lifecycle.phase",
        string="From Phase",
        readonly=True,
        help="The phase the lead was handed over from.",
    )
    state = fields.Selection(HANDOFF_STATES, required=True, default="awaiting", readonly=True, index=True)
    date_sent = fields.Datetime(string="Sent", required=True, readonly=True)
    date_decided = fields.Datetime(string="Decided", readonly=True)
    decided_by_id = fields.Many2one("res.users", readonly=True)
    auto_accepted = fields.Boolean(readonly=True, help="Accepted by default: nobody decided in time.")
    reason_id = fields.Many2one(
        "crm.handoff.reject.reason", string="Rejection Reason", readonly=True, ondelete="restrict"
    )
    note = fields.Text(readonly=True, help="The sender's note.")
    decision_note = fields.Text(readonly=True, help="The receiving side's note on its decision.")
    new_user_id = fields.Many2one("res.users", string="New Salesperson", readonly=True)
    hours_to_decision = fields.Float(compute="_compute_hours_to_decision", aggregator="avg")

    @api.depends("date_sent", "date_decided")
    def _compute_hours_to_decision(self):
        for handoff in self:
            end = handoff.date_decided
            handoff.hours_to_decision = (end - handoff.date_sent).total_seconds() / 3600 if end else 0.0

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    @api.model
    def _handoff_send(self, leads, route, note=False):
        """Hand ``leads`` over on ``route`` as the current user, after checking everything the route asks:
        who sends, the company, team and phase of each lead, no handoff awaiting, the quality criteria and
        the qualification gate. The leads go to the receiving team, unassigned (or to the partner), and
        wait there for acceptance. Returns the handoffs."""
        user = self.env.user
        leads.check_access("write")
        if not route.active:
            raise UserError(self.env._("The route “%s” is archived: choose an active route.", route.name))
        if not route._may_send(user):
            raise AccessError(
                self.env._(
                    "You may not hand leads over on “%(route)s”: its senders are the members and leaders of "
                    "its teams, its extra senders and sales managers.",
                    route=route.name,
                )
            )
        for lead in leads:
            if (lead.company_id or self.env.company) != route.company_id:
                raise UserError(
                    self.env._("“%(lead)s” belongs to another company than the route.", lead=lead.name)
                )
            if route.from_team_ids and lead.team_id not in route.from_team_ids:
                raise UserError(
                    self.env._(
                        "“%(lead)s” is not in a team this route hands over from (%(teams)s).",
                        lead=lead.name,
                        teams=", ".join(route.sudo().from_team_ids.mapped("name")),
                    )
                )
            if lead.lifecycle_phase_id != route.from_phase_id:
                raise UserError(
                    self.env._(
                        "“%(lead)s” is in the phase %(phase)s; the route “%(route)s” hands over leads in "
                        "%(from)s.",
                        lead=lead.name,
                        phase=lead.lifecycle_phase_id.name or self.env._("none"),
                        route=route.name,
                        **{"from": route.from_phase_id.name},
                    )
                )
            if lead.handoff_id:
                raise UserError(
                    self.env._("“%(lead)s” already awaits a decision on a handoff.", lead=lead.name)
                )
        failing = leads - leads.filtered_domain(route._quality_domain())
        if failing:
            raise UserError(
                self.env._(
                    "“%(lead)s” does not meet the quality criteria of “%(route)s”: complete the lead first.",
                    lead=failing[0].name,
                    route=route.name,
                )
            )
        if route.gate_stage_id:
            results = leads._survey_gate_results()
            for lead in leads:
                result = results.get(lead.id)
                if not result or route.gate_stage_id.id not in result[0].reached:
                    raise UserError(
                        self.env._(
                            "The qualification answers of “%(lead)s” must reach %(stage)s to be handed over "
                            "on “%(route)s”: use “Qualify” first.",
                            lead=lead.name,
                            stage=route.gate_stage_id.name,
                            route=route.name,
                        )
                    )
        now = fields.Datetime.now()
        receivers = route._receivers()
        # sudo: handoffs are written by the flows only, after the checks above
        handoffs = self.sudo().create(
            [
                {
                    "lead_id": lead.id,
                    "route_id": route.id,
                    "company_id": route.company_id.id,
                    "sender_id": user.id,
                    "from_team_id": lead.team_id.id,
                    "from_user_id": lead.user_id.id,
                    "to_team_id": route.to_team_id.id if route.to_kind == "team" else False,
                    "to_partner_id": route.to_partner_id.id if route.to_kind == "partner" else False,
                    "receiver_ids": [(6, 0, receivers.ids)],
                    "phase_id": lead.lifecycle_phase_id.id,
                    "date_sent": now,
                    "note": note or False,
                }
                for lead in leads
            ]
        )
        # in the receiving side's queue: unassigned (its receivers see unassigned leads), in the receiving
        # team or with the partner (website_crm_partner_assign's field, where installed)
        vals = {"user_id": False}
        if route.to_kind == "team":
            vals["team_id"] = route.to_team_id.id
        elif "partner_assigned_id" in leads._fields:
            vals["partner_assigned_id"] = route.to_partner_id.id
        leads._handoff_write(vals)
        leads._message_log_batch(
            bodies={
                handoff.lead_id.id: Markup("<p>%s</p>")
                % self.env._(
                    "Handed over to %(to)s on “%(route)s” by %(sender)s: awaiting acceptance.%(note)s",
                    to=(route.to_team_id or route.to_partner_id).display_name,
                    route=route.name,
                    sender=user.name,
                    note=f" {note}" if note else "",
                )
                for handoff in handoffs
            }
        )
        return handoffs.sudo(False)

    # ------------------------------------------------------------------
    # Deciding
    # ------------------------------------------------------------------

    def _check_receiver(self):
        """Refuse unless the current user is a receiver of each of these awaiting handoffs, not its sender."""
        user = self.env.user
        for handoff in self.sudo():
            if handoff.state != "awaiting":
                raise UserError(
                    self.env._("The handoff of “%(lead)s” is decided already.", lead=handoff.lead_id.name)
                )
            if user == handoff.sender_id:
                raise AccessError(
                    self.env._(
                        "You handed “%(lead)s” over: the receiving side accepts or rejects it, not the "
                        "sender.",
                        lead=handoff.lead_id.name,
                    )
                )
            if user not in handoff.receiver_ids:
                raise AccessError(
                    self.env._(
                        "Only the receiving side of the handoff of “%(lead)s” accepts or rejects it: "
                        "%(who)s.",
                        lead=handoff.lead_id.name,
                        who=", ".join(handoff.receiver_ids.mapped("name")),
                    )
                )

    def action_accept(self, user_id=None):
        """Accept these handoffs as a receiver: the leads enter the route's acceptance phase, owned by
        ``user_id`` (a receiver; default: the current user)."""
        self._check_receiver()
        owner = self.env["res.users"].browse(user_id) if user_id else self.env.user
        for handoff in self.sudo():
            if owner not in handoff.receiver_ids:
                raise UserError(
                    self.env._(
                        "%(user)s is not on the receiving side of the handoff of “%(lead)s”: give it to one "
                        "of %(who)s.",
                        user=owner.name,
                        lead=handoff.lead_id.name,
                        who=", ".join(handoff.receiver_ids.mapped("name")),
                    )
                )
        self.sudo()._accept(owner)
        return True

    def _accept(self, owner=None):
        """Accept these handoffs still awaiting (``owner``: the new salesperson; none: accepted by
        default, the lead keeps its owner); those decided meanwhile are left as they are."""
        handoffs = self.filtered(lambda handoff: handoff.state == "awaiting")
        if not handoffs:
            return
        now = fields.Datetime.now()
        auto = not owner
        handoffs.write(
            {
                "state": "accepted",
                "date_decided": now,
                "decided_by_id": False if auto else self.env.uid,
                "auto_accepted": auto,
                "new_user_id": owner.id if owner else False,
            }
        )
        if owner:
            handoffs.lead_id._handoff_write({"user_id": owner.id})
        self.env["crm.lead.phase.history"]._record_moves(
            {
                handoff.lead_id.id: (
                    handoff.route_id.accept_phase_id.id,
                    "auto_accept" if auto else "accept",
                    handoff.id,
                )
                for handoff in handoffs
            },
            now,
        )
        handoffs.lead_id._message_log_batch(
            bodies={
                handoff.lead_id.id: Markup("<p>%s</p>")
                % (
                    self.env._("Handoff accepted by default: nobody decided in time.")
                    if auto
                    else self.env._("Handoff accepted by %(user)s.", user=self.env.user.name)
                )
                for handoff in handoffs
            }
        )

    def action_reject(self, reason_id=None, note=None):
        """Reject these handoffs as a receiver, with a reason: the leads go back to their sender (team and
        salesperson) and count as recycled."""
        self._check_receiver()
        reason = self.env["crm.handoff.reject.reason"].browse(reason_id).exists() if reason_id else None
        if not reason:
            raise UserError(
                self.env._("Say why you reject the handoff: choose a rejection reason (the sender sees it).")
            )
        self.sudo()._reject(reason, note)
        return True

    def _reject(self, reason, note=None):
        now = fields.Datetime.now()
        self.write(
            {
                "state": "rejected",
                "date_decided": now,
                "decided_by_id": self.env.uid,
                "reason_id": reason.id,
                "decision_note": note or False,
            }
        )
        self._send_back()
        recycled = self.env["crm.lifecycle.phase"].sudo().search([("kind", "=", "recycled")], limit=1)
        if recycled:
            self.env["crm.lead.phase.history"]._record_moves(
                {handoff.lead_id.id: (recycled.id, "reject", handoff.id) for handoff in self}, now
            )
        self.lead_id._message_log_batch(
            bodies={
                handoff.lead_id.id: Markup("<p>%s</p>")
                % self.env._(
                    "Handoff rejected by %(user)s: %(reason)s.%(note)s Back to %(sender)s.",
                    user=self.env.user.name,
                    reason=reason.name,
                    note=f" {note}" if note else "",
                    sender=(handoff.from_user_id or handoff.from_team_id).display_name,
                )
                for handoff in self
            }
        )

    def _send_back(self):
        """The leads of these handoffs go back to their sender's team and salesperson (and leave the
        partner), one write per sender."""
        groups = {}
        for handoff in self:
            groups.setdefault(
                (handoff.from_team_id.id, handoff.from_user_id.id, handoff.route_id.to_kind), []
            ).append(handoff.lead_id.id)
        Lead = self.env["crm.lead"]
        for (team_id, user_id, to_kind), lead_ids in groups.items():
            vals = {"team_id": team_id, "user_id": user_id}
            if to_kind == "partner" and "partner_assigned_id" in Lead._fields:
                vals["partner_assigned_id"] = False
            Lead.browse(lead_ids)._handoff_write(vals)

    def _handoff_close(self, state):
        """Close these awaiting handoffs without a decision: ``returned`` (an SLA rule: nobody acted, the
        leads go back to their sender) or ``cancelled`` (the lead was closed first)."""
        handoffs = self.sudo().filtered(lambda handoff: handoff.state == "awaiting")
        if not handoffs:
            return handoffs
        handoffs.write({"state": state, "date_decided": fields.Datetime.now()})
        if state == "returned":
            handoffs._send_back()
        return handoffs

    @api.model
    def _move_to_lead(self, from_lead_ids, to_lead_id, now):
        """The handoffs of merged leads go to the lead they were merged into; those awaiting are cancelled."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead_handoff
                      SET lead_id = %(to)s,
                          date_decided = CASE WHEN state = 'awaiting' THEN %(now)s ELSE date_decided END,
                          state = CASE WHEN state = 'awaiting' THEN 'cancelled' ELSE state END,
                          write_uid = %(uid)s, write_date = %(now)s
                    WHERE lead_id = ANY(%(ids)s)""",
                to=to_lead_id,
                now=now,
                uid=self.env.uid,
                ids=list(from_lead_ids),
            )
        )
        self.invalidate_model()
        leads = self.env["crm.lead"].browse([to_lead_id, *from_lead_ids])
        leads.invalidate_recordset(["handoff_ids"])
        leads.modified(["handoff_ids"])

    # ------------------------------------------------------------------
    # Accepted by default
    # ------------------------------------------------------------------

    @api.model
    def _cron_auto_accept(self, batch_size=500):
        """Accept by default the handoffs that waited longer than their route's business hours allow, route
        by route, a batch at a time with a commit per batch (awaiting ones only: a rerun never accepts
        twice)."""
        now = fields.Datetime.now()
        routes = self.env["crm.handoff.route"].sudo().search([("auto_accept_hours", ">", 0)])
        for route in routes:
            limit = route._auto_accept_cutoff(now)
            Handoff = self.sudo().with_context(allowed_company_ids=route.company_id.ids)
            while True:
                handoffs = Handoff.search(
                    [("route_id", "=", route.id), ("state", "=", "awaiting"), ("date_sent", "<=", limit)],
                    limit=batch_size,
                    order="date_sent, id",
                )
                if not handoffs:
                    break
                done, _result = retry_on_concurrency(
                    self.env,
                    handoffs._accept,
                    logger=_logger,
                    label=f"Handoff route {route.name} (id {route.id})",
                    batch=f"{len(handoffs)} handoffs",
                    left_to="the next run",
                )
                remaining = Handoff.search_count(
                    [("route_id", "=", route.id), ("state", "=", "awaiting"), ("date_sent", "<=", limit)]
                )
                if self.env["ir.cron"]._commit_progress(len(handoffs), remaining=remaining) <= 0 or not done:
                    return


class CrmHandoffRoute(models.Model):
    _inherit = "crm.handoff.route"  # pylint: disable=consider-merging-classes-inherited  # the cron's part

    def _auto_accept_cutoff(self, now):
        """The latest sending time accepted by default at ``now``: ``auto_accept_hours`` business hours
        back on the route's working schedule (``sla_rules.businesstime.cutoff`` through the shared calendar
        adapter)."""
        from sla_rules.businesstime import cutoff

        self.ensure_one()
        calendar = self.calendar_id or self.company_id.resource_calendar_id

        def compute(work):
            result = cutoff(now, self.auto_accept_hours, "business_hours", work)
            return result, result, now

        reach = timedelta(days=max(self.auto_accept_hours / 2, 14))
        return calendar._pd_work_time(now - reach, now, compute)
