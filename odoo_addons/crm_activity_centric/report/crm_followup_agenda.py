from odoo import api, fields, models, tools
from odoo.fields import Domain
from odoo.tools import SQL

from ..models.crm_lead import FOLLOWUP_STATES


class CrmFollowupAgenda(models.Model):
    """My Day: open activities on leads and leads missing a follow-up, one list ordered by priority.

    Activity rows have even ids (activity id × 2), missing-follow-up rows odd ids (lead id × 2 + 1). A user
    sees only rows on leads he may open: every row can be acted on.
    """

    _name = "crm.followup.agenda"
    _description = "Follow-up Agenda"
    _auto = False
    _order = "priority desc, expected_revenue desc, date_deadline asc, id"
    _rec_name = "lead_id"

    kind = fields.Selection([("activity", "Activity"), ("missing", "Missing Follow-up")], readonly=True)
    todo = fields.Char(
        string="Next Step",
        compute="_compute_todo",
        help="The activity's type, or “Plan a next step” for a lead without any.",
    )
    activity_id = fields.Many2one("mail.activity", readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Lead/Opportunity", readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned to", readonly=True)
    salesperson_id = fields.Many2one("res.users", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    activity_type_id = fields.Many2one("mail.activity.type", readonly=True)
    summary = fields.Char(readonly=True)
    date_deadline = fields.Date(string="Due Date", readonly=True)
    priority = fields.Selection(
        [("0", "Low"), ("1", "Medium"), ("2", "High"), ("3", "Very High")], readonly=True
    )
    expected_revenue = fields.Monetary(readonly=True, currency_field="company_currency")
    company_currency = fields.Many2one("res.currency", readonly=True)
    lead_type = fields.Selection([("lead", "Lead"), ("opportunity", "Opportunity")], readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    followup_state = fields.Selection(FOLLOWUP_STATES, readonly=True, string="Follow-up")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
                CREATE OR REPLACE VIEW %(table)s AS (
                    SELECT a.id * 2 AS id, 'activity' AS kind, a.id AS activity_id, l.id AS lead_id,
                           a.user_id, l.user_id AS salesperson_id, l.team_id, l.company_id,
                           a.activity_type_id, a.summary, a.date_deadline,
                           COALESCE(l.priority, '0') AS priority, l.expected_revenue,
                           c.currency_id AS company_currency, l.type AS lead_type, l.stage_id,
                           l.followup_state
                      FROM mail_activity a
                      JOIN crm_lead l ON a.res_model = 'crm.lead' AND a.res_id = l.id
                      LEFT JOIN res_company c ON c.id = l.company_id
                     WHERE a.active AND l.active
                    UNION ALL
                    SELECT l.id * 2 + 1, 'missing', NULL, l.id,
                           l.user_id, l.user_id, l.team_id, l.company_id,
                           NULL, NULL, NULL,
                           COALESCE(l.priority, '0'), l.expected_revenue,
                           c.currency_id, l.type, l.stage_id,
                           l.followup_state
                      FROM crm_lead l
                      LEFT JOIN res_company c ON c.id = l.company_id
                     WHERE l.active AND l.followup_state = 'missing'
                )
                """,
                table=SQL.identifier(self._table),
            )
        )

    @api.depends("kind", "activity_type_id")
    def _compute_todo(self):
        for row in self:
            if row.kind == "missing":
                row.todo = self.env._("Plan a next step")
            else:
                row.todo = row.activity_type_id.name or self.env._("Activity")

    def _search(self, domain, offset=0, limit=None, order=None, **kwargs):
        # the view reads leads and activities straight from the tables: write pending changes first
        self.env["crm.lead"].flush_model()
        self.env["mail.activity"].flush_model()
        if not self.env.su:
            # only rows on leads the user may open: an activity left with him on a lead now someone else's
            # is nothing he can act on (a subquery with the leads' record rules, no row read here)
            domain = Domain(domain) & Domain("lead_id", "in", self.env["crm.lead"]._search([]))
        return super()._search(domain, offset=offset, limit=limit, order=order, **kwargs)

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "views": [(False, "form")],
            "target": "current",
        }

    def action_done(self):
        """Mark the row's activity done: the follow-up policy of the lead's team applies."""
        self.activity_id.action_feedback()
        return True

    def action_done_schedule_next(self):
        self.ensure_one()
        return self.activity_id.action_feedback_schedule_next()
