from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

# Messages that count as an action of the salesperson on the lead (the "last action" clock).
_SALESPERSON_MESSAGE_TYPES = ("comment", "email", "email_outgoing")


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
    sla_event_ids = fields.One2many("crm.sla.event", "lead_id", string="SLA Events")
    sla_event_count = fields.Integer(compute="_compute_sla_event_count", string="SLA Events Count")

    def _auto_init(self):
        # Create the column before the ORM does: the ORM would fill every existing lead with the default
        # (now) — a clock reset for the whole database. init() fills it from the lead's own history.
        if not column_exists(self.env.cr, self._table, "sla_last_action_date"):
            create_column(self.env.cr, self._table, "sla_last_action_date", "timestamp without time zone")
        return super()._auto_init()

    def init(self):
        result = super().init()
        self._sla_fill_last_action()
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

    def _compute_sla_event_count(self):
        counts = dict(
            self.env["crm.sla.event"]._read_group([("lead_id", "in", self.ids)], ["lead_id"], ["__count"])
        )
        for lead in self:
            lead.sla_event_count = counts.get(lead, 0)

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # the clock start is recorded, not given: a rep cannot start a lead with a fresh clock
            for vals in vals_list:
                vals.pop("sla_last_action_date", None)
        return super().create(vals_list)

    def write(self, vals):
        if "sla_last_action_date" in vals and not self.env.su:
            raise UserError(
                self.env._(
                    "The last action date of a lead is recorded by Odoo (stage changes, completed "
                    "activities, messages of the salesperson); it cannot be set by hand."
                )
            )
        moves = "stage_id" in vals and any(lead.stage_id.id != vals["stage_id"] for lead in self)
        result = super().write(vals)
        if moves:
            self._sla_touch()
        return result

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
