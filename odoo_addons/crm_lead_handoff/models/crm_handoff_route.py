from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval


class CrmHandoffRoute(models.Model):
    """Who may hand which leads over to whom: from a team (or channel managers) to a team or a partner, in
    which phase, meeting which quality criteria. A company's first active route switches the lifecycle
    phases on for it."""

    _name = "crm.handoff.route"
    _description = "Handoff Route"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True
    )
    from_team_ids = fields.Many2many(
        "crm.team",
        "crm_handoff_route_from_team_rel",
        string="From Teams",
        help="The teams whose leads this route hands over, whose members and leaders may send them. Empty: "
        "leads of any team, sent by the extra senders and sales managers.",
    )
    sender_user_ids = fields.Many2many(
        "res.users",
        "crm_handoff_route_sender_rel",
        string="Extra Senders",
        domain="[('share', '=', False)]",
        help="Users who may hand leads over besides the members and leaders of the teams (channel managers). "
        "Sales managers always may.",
    )
    to_kind = fields.Selection(
        [("team", "A sales team"), ("partner", "A partner")], string="To", required=True, default="team"
    )
    to_team_id = fields.Many2one("crm.team", string="Receiving Team")
    to_partner_id = fields.Many2one("res.partner", string="Receiving Partner")
    receiver_user_ids = fields.Many2many(
        "res.users",
        "crm_handoff_route_receiver_rel",
        string="Receivers",
        domain="[('share', '=', False)]",
        help="Who accepts or rejects the leads handed over. Empty for a team: its members and leader. "
        "Required for a partner.",
    )
    from_phase_id = fields.Many2one(
        "crm.lifecycle.phase",
        required=True,
        ondelete="restrict",
        help="The phase a lead must be in to be handed over on this route.",
    )
    accept_phase_id = fields.Many2one(
        "crm.lifecycle.phase",
        string="Phase on Acceptance",
        required=True,
        ondelete="restrict",
        help="The phase the lead enters when the receiving side accepts it.",
    )
    domain = fields.Char(
        string="Quality Criteria",
        default="[]",
        help="The conditions a lead must meet to be handed over on this route.",
    )
    gate_stage_id = fields.Many2one(
        "crm.stage",
        string="Qualification Reaches",
        help="The answers to the lead team's qualification survey must reach this stage (its entry criteria "
        "and those of every earlier stage hold) for the lead to be handed over.",
    )
    auto_accept_hours = fields.Float(
        string="Accept After (business hours)",
        help="Accept a handoff nobody decided on after this many business hours on the working schedule. "
        "0: never; the receiving side decides.",
    )
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Schedule",
        help="The schedule the business hours are counted on. Empty: the company's.",
    )
    handoff_ids = fields.One2many("crm.lead.handoff", "route_id")

    @api.constrains(
        "to_kind",
        "to_team_id",
        "to_partner_id",
        "receiver_user_ids",
        "domain",
        "auto_accept_hours",
        "calendar_id",
    )
    def _check_route(self):
        for route in self:
            if route.to_kind == "team" and not route.to_team_id:
                raise ValidationError(self.env._("Route “%s”: choose the receiving team.", route.name))
            if route.to_kind == "partner" and not (route.to_partner_id and route.receiver_user_ids):
                raise ValidationError(
                    self.env._(
                        "Route “%s”: a partner route needs the receiving partner and the users who accept or "
                        "reject for it (Receivers).",
                        route.name,
                    )
                )
            if route.auto_accept_hours < 0:
                raise ValidationError(
                    self.env._("Route “%s”: “Accept After” is 0 (never) or a number of hours.", route.name)
                )
            if route.auto_accept_hours and not (route.calendar_id or route.company_id.resource_calendar_id):
                raise ValidationError(
                    self.env._(
                        "Route “%s”: business hours are counted on a working schedule: choose one on the "
                        "route, or give its company one.",
                        route.name,
                    )
                )
            try:
                route._quality_domain().validate(self.env["crm.lead"])
            except (ValueError, SyntaxError, NameError, TypeError) as exc:
                raise ValidationError(
                    self.env._(
                        "Route “%(route)s”: the quality criteria are not a valid domain on leads "
                        "(%(error)s).",
                        route=route.name,
                        error=exc,
                    )
                ) from None

    def _quality_domain(self):
        value = safe_eval((self.domain or "").strip() or "[]", {"uid": self.env.uid})
        if not isinstance(value, (list, tuple)):
            raise ValueError(self.env._("a domain is a list of conditions"))
        return Domain(value)

    # ------------------------------------------------------------------
    # Who sends, who receives
    # ------------------------------------------------------------------

    def _may_send(self, user):
        """Whether ``user`` may hand leads over on this route: a sales manager, an extra sender, or a member
        or leader of one of its teams (of any team when it has none, for the extra senders only)."""
        self.ensure_one()
        if user.has_group("sales_team.group_sale_manager") or user in self.sender_user_ids:
            return True
        teams = self.sudo().from_team_ids  # sudo: team membership, whoever reads it
        return bool(teams) and (user in teams.member_ids or user in teams.user_id)

    def _receivers(self):
        """The users who accept or reject the handoffs of this route."""
        self.ensure_one()
        if self.receiver_user_ids or self.to_kind == "partner":
            return self.receiver_user_ids
        team = self.sudo().to_team_id  # sudo: team membership, whoever reads it
        return team.member_ids | team.user_id

    # ------------------------------------------------------------------
    # The feature per company
    # ------------------------------------------------------------------

    @api.model
    @tools.ormcache(cache="stable")
    def _handoff_company_ids(self):
        """The ids of the companies with at least one active route: the lifecycle phases are recorded only
        there. Cached: a lead write in a company without routes costs no query. In the "stable" cache,
        which only a change of routes clears: the default cache is cleared by many writes (teams, users),
        and a lead write after each would pay the query again."""
        # sudo: every company's routes, whoever writes a lead; only ids leave this method
        routes = self.sudo().with_context(active_test=True).search([])
        return frozenset(routes.company_id.ids)

    def _switch_on(self, before):
        """After routes changed: rebuild the phases of the companies switched on by it (``before``: the ids
        of the companies on before)."""
        self.env.registry.clear_cache("stable")  # _handoff_company_ids
        new = self._handoff_company_ids() - before
        if new:
            self.env["crm.lead.phase.history"]._backfill(company_ids=sorted(new))

    @api.model_create_multi
    def create(self, vals_list):
        before = self._handoff_company_ids()
        routes = super().create(vals_list)
        routes._switch_on(before)
        return routes

    def write(self, vals):
        before = self._handoff_company_ids()
        result = super().write(vals)
        if {"active", "company_id"} & vals.keys():
            self._switch_on(before)
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache("stable")  # _handoff_company_ids
        return result

    def action_rebuild_phases(self):
        """Rebuild the phases of the leads of the routes' companies that have none (sales managers)."""
        self.check_access("write")  # who may configure the routes
        count = self.env["crm.lead.phase.history"]._backfill(company_ids=self.company_id.ids)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%(count)s phase stays rebuilt.", count=count),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
