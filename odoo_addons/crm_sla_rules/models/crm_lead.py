from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

# Messages that count as an action of the salesperson on the lead (the "last action" clock).
_SALESPERSON_MESSAGE_TYPES = ("comment", "email", "email_outgoing")
# Clock columns recorded by Odoo, never given: a rep could otherwise start a lead with a fresh clock.
_RECORDED_CLOCKS = ("sla_last_action_date", "sla_owner_since", "sla_team_since")


class CrmLead(models.Model):
    _inherit = "crm.lead"

    sla_last_action_date = fields.Datetime(
        string="Last Salesperson Action",
        readonly=True,
        copy=False,
        index=True,
        default=fields.Datetime.now,
        help="Latest stage change, completed activity or message from the salesperson: the start of the "
        "'last action' clock of SLA rules.",
    )
    sla_owner_since = fields.Datetime(
        string="Owner Since",
        readonly=True,
        copy=False,
        default=fields.Datetime.now,
        help="When the lead got its current salesperson or sales team (creation, or the latest change of "
        "either, whoever made it): the 'assignment' and 'last action' clocks of SLA rules start again then.",
    )
    sla_team_since = fields.Datetime(
        string="In Team Since",
        readonly=True,
        copy=False,
        default=fields.Datetime.now,
        help="When the lead entered its current sales team (creation, or the latest change of team): the "
        "'stage entry' clock of SLA rules starts again then.",
    )
    sla_event_ids = fields.One2many("crm.sla.event", "lead_id", string="SLA Events")
    sla_event_count = fields.Integer(compute="_compute_pd_counts", string="SLA Events Count")

    def _auto_init(self):
        # Create the columns before the ORM does: the ORM would fill every existing lead with the default
        # (now) — a clock reset for the whole database. init() fills them from the lead's own history.
        for column in _RECORDED_CLOCKS:
            if not column_exists(self.env.cr, self._table, column):
                create_column(self.env.cr, self._table, column, "timestamp without time zone")
        return super()._auto_init()

    def init(self):
        result = super().init()
        self._sla_fill_last_action()
        self._sla_fill_owner_since()
        return result

    @api.model
    def _sla_fill_last_action(self):
        """Set-based: the last action of the leads that have none yet (install, or leads written while the
        registry did not hold this module) is the latest of their stage change, creation, completed
        activities and messages from their salesperson."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead
                   SET sla_last_action_date =
                       GREATEST(lead.date_last_stage_update, lead.create_date, msg.last)
                  FROM crm_lead todo
             LEFT JOIN LATERAL (
                        SELECT MAX(message.date) AS last
                          FROM mail_message message
                     LEFT JOIN res_users salesperson ON salesperson.id = todo.user_id
                         WHERE message.model = 'crm.lead'
                           AND message.res_id = todo.id
                           AND (message.mail_activity_type_id IS NOT NULL
                                OR (message.author_id = salesperson.partner_id
                                    AND message.message_type IN %s))
                       ) msg ON TRUE
                 WHERE todo.id = lead.id AND todo.sla_last_action_date IS NULL
                """,
                _SALESPERSON_MESSAGE_TYPES,
            )
        )

    @api.model
    def _sla_fill_owner_since(self):
        """Set-based, for the leads that have no value yet (install, upgrade): they got their salesperson or
        team at the latest of their creation, their salesperson's assignment date and the changes of either
        tracked in the chatter; they entered their team at the latest of their creation and its tracked
        changes."""
        owner_fields = [
            self.env["ir.model.fields"]._get(self._name, name).id for name in ("user_id", "team_id")
        ]
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead lead
                   SET sla_owner_since = COALESCE(
                           todo.sla_owner_since,
                           GREATEST(todo.create_date,
                                    CASE WHEN todo.user_id IS NOT NULL THEN todo.date_open END,
                                    change.owner)),
                       sla_team_since = COALESCE(todo.sla_team_since, GREATEST(todo.create_date, change.team))
                  FROM crm_lead todo
             LEFT JOIN LATERAL (
                        SELECT MAX(message.date) AS owner,
                               MAX(message.date) FILTER (WHERE tracking.field_id = %(team)s) AS team
                          FROM mail_message message
                          JOIN mail_tracking_value tracking ON tracking.mail_message_id = message.id
                         WHERE message.model = 'crm.lead'
                           AND message.res_id = todo.id
                           AND tracking.field_id IN %(tracked)s
                       ) change ON TRUE
                 WHERE todo.id = lead.id AND (todo.sla_owner_since IS NULL OR todo.sla_team_since IS NULL)
                """,
                team=owner_fields[1],
                tracked=tuple(owner_fields),
            )
        )

    def _pd_counted_models(self):
        return {**super()._pd_counted_models(), "sla_event_count": ("crm.sla.event", [])}

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # the clock starts are recorded, not given: a rep cannot start a lead with a fresh clock
            for vals in vals_list:
                for name in _RECORDED_CLOCKS:
                    vals.pop(name, None)
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            if "sla_last_action_date" in vals:
                raise UserError(
                    self.env._(
                        "The last action date of a lead is recorded by Odoo (stage changes, completed "
                        "activities, messages of the salesperson); it cannot be set by hand."
                    )
                )
            if "sla_owner_since" in vals or "sla_team_since" in vals:
                raise UserError(
                    self.env._(
                        "When a lead got its salesperson and its sales team is recorded by Odoo when they "
                        "change; it cannot be set by hand."
                    )
                )
        moves = "stage_id" in vals and any(lead.stage_id.id != vals["stage_id"] for lead in self)
        owners = self._sla_owners(vals)
        restarts = self._sla_restarts(vals, owners)
        touch = self._sla_touch_vals() if moves else {}
        result = super().write({**vals, **restarts, **touch})
        if moves and not touch:
            self._sla_touch()
        if owners:
            self._sla_hands_changed(owners, restarts)
        return result

    def _sla_owners(self, vals):
        """``{lead id: (salesperson id, team id)}`` before a write of ``vals`` that may change them (the team
        also follows what crm computes it from: the salesperson, the type); empty for any other write, and
        when the superuser gives the restarts of the clocks himself."""
        team_depends = {path.split(".")[0] for path in self.pool.field_depends[self._fields["team_id"]]}
        changes_hands = {"user_id", "team_id", *team_depends} & set(vals)
        if not changes_hands or "sla_owner_since" in vals or "sla_team_since" in vals:
            return {}
        return {lead.id: (lead.user_id.id, lead.team_id.id) for lead in self}

    def _sla_restarts(self, vals, owners):
        """The restarts of the clocks to write with ``vals`` when it gives every lead a new team, or a new
        salesperson: then they cost no query of their own (a lead's form, Odoo's lead assignment one lead at a
        time, a batch given to one salesperson). Other changes are recorded after the write."""
        if not owners:
            return {}
        now = fields.Datetime.now()
        if "team_id" in vals and all(team_id != (vals["team_id"] or False) for _, team_id in owners.values()):
            return {"sla_owner_since": now, "sla_team_since": now}
        if "user_id" in vals and all(user_id != (vals["user_id"] or False) for user_id, _ in owners.values()):
            return {"sla_owner_since": now}
        return {}

    def _sla_hands_changed(self, owners, restarts):
        """Record, set-based, that the leads whose salesperson or team differs from ``owners`` (``{lead id:
        (user id, team id)}`` before the write) changed hands now, unless the write already did
        (``restarts``): their clocks restart for the new owner."""
        new_owner, new_team = [], []
        for lead in self:
            user_id, team_id = owners[lead.id]
            if lead.team_id.id != team_id and "sla_team_since" not in restarts:
                new_team.append(lead.id)
            elif lead.user_id.id != user_id and "sla_owner_since" not in restarts:
                new_owner.append(lead.id)
        if not new_owner and not new_team:
            return
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead
                      SET sla_owner_since = %(now)s,
                          sla_team_since = CASE WHEN id = ANY(%(new_team)s) THEN %(now)s
                                                ELSE sla_team_since END
                    WHERE id = ANY(%(changed)s)""",
                now=fields.Datetime.now(),
                new_team=new_team,
                changed=new_owner + new_team,
            )
        )
        self.invalidate_recordset(["sla_owner_since", "sla_team_since"])

    def _sla_touch_vals(self):
        """The move of the 'last action' clock to now, as values to write with a stage change (the leads'
        rows are then written once, not twice), when no clock of these leads is later than now (it never
        goes backwards); else empty, and :meth:`_sla_touch` moves the clocks after the write."""
        now = fields.Datetime.now()
        if any(lead.sla_last_action_date and lead.sla_last_action_date > now for lead in self):
            return {}
        return {"sla_last_action_date": now}

    def _sla_touch(self, when=None):
        """Move the 'last action' clock of these leads to ``when`` (default: now); never backwards."""
        if not self.ids:
            return
        when = when or fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead SET sla_last_action_date = %s
                    WHERE id IN %s AND (sla_last_action_date IS NULL OR sla_last_action_date < %s)""",
                when,
                tuple(self.ids),
                when,
            )
        )
        self.invalidate_recordset(["sla_last_action_date"])

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        if message.message_type in _SALESPERSON_MESSAGE_TYPES and message.author_id:
            self.filtered(lambda lead: lead.user_id.partner_id == message.author_id)._sla_touch(message.date)
        return result

    def action_view_sla_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm_sla_rules.crm_sla_event_action")
        action["domain"] = [("lead_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    @api.model
    @api.readonly
    def sla_snapshot_fields(self, names):
        """Which of ``names`` are fields of the leads that the current user may read: the optional columns
        that ``sla_rules simulate --url`` reads. Read-only, so that a read replica serves it (Odoo's
        ``fields_get`` is not)."""
        self.check_access("read")
        names = [name for name in names if isinstance(name, str)] if isinstance(names, list) else []
        return [
            name
            for name in names
            if name in self._fields and self._has_field_access(self._fields[name], "read")
        ]
