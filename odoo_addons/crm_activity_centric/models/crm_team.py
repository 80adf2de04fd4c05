from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import cursor_marker
from odoo.tools import SQL

# Leads handed out by Odoo's lead assignment (cursor-scoped, so an RPC caller cannot forge it): like leads
# arriving by themselves, they get the team's default first activity or show in Missing Follow-up; the
# assignment is not refused for them.
ASSIGNING_KEY = "crm_activity_centric.assigning_leads"


class CrmTeam(models.Model):
    _inherit = "crm.team"

    followup_policy = fields.Selection(
        [("off", "Off"), ("warn", "Warn"), ("enforce", "Enforce")],
        string="Follow-up Policy",
        default="off",
        required=True,
        tracking=True,
        help="Off: Odoo as usual.\n"
        "Warn: leads without a next activity or a no-follow-up reason are flagged, nothing is blocked.\n"
        "Enforce: the last open activity of an open lead cannot be completed, cancelled, deleted or moved "
        "without another one planned or a no-follow-up reason.",
    )
    followup_default_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Default First Activity",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
        help="Leads that reach this team from the mail gateway, a website form, an import or the API get "
        "this activity, so they never start without a next step. Leads created by hand in the form do not: "
        "the salesperson plans them.",
    )
    followup_default_delay = fields.Integer(
        string="Due After (days)", default=0, help="Days between the lead's arrival and the default activity."
    )
    followup_missing_count = fields.Integer(
        compute="_compute_followup_missing_count", string="Missing Follow-up"
    )

    _followup_default_delay_positive = models.Constraint(
        "CHECK (followup_default_delay >= 0)",
        "The delay of the default first activity cannot be negative.",
    )

    @api.model
    def _pd_team_ids_fields(self):
        return super()._pd_team_ids_fields() | {"followup_policy"}

    @api.model
    def _pd_feature_team_ids(self):
        return super()._pd_feature_team_ids() | self._followup_policy_team_ids()

    @api.model
    def _followup_policy_team_ids(self):
        """The ids of the teams that ask for a next step (Warn or Enforce), cached."""
        return self._pd_team_ids("followup_policy", "warn") | self._pd_team_ids("followup_policy", "enforce")

    @api.model
    def action_missing_followup(self):
        """*Missing Follow-up* (CRM › Sales): the user's own leads, or where he leads a team that asks for a
        next step, his teams' leads."""
        action = self.env["ir.actions.actions"]._for_xml_id(
            "crm_activity_centric.crm_lead_action_missing_followup"
        )
        return self._pd_start_from_led_teams(action, self._followup_policy_team_ids())

    @api.model
    def _followup_enforce_team_ids(self):
        """The ids of the teams that enforce a follow-up, cached: a lead write that cannot concern them
        costs no query (Odoo's lead assignment writes its leads one by one)."""
        return self._pd_team_ids("followup_policy", "enforce")

    def _action_assign_leads(self, force_quota=False, creation_delta_days=7):
        with cursor_marker(self.env.cr, ASSIGNING_KEY):
            return super()._action_assign_leads(
                force_quota=force_quota, creation_delta_days=creation_delta_days
            )

    def init(self):
        # Teams created while the registry does not hold this module yet (crm's own data and at-install
        # tests during an update of crm) must still satisfy NOT NULL: give the column its default in SQL.
        self.env.cr.execute(SQL("ALTER TABLE crm_team ALTER COLUMN followup_policy SET DEFAULT 'off'"))

    @api.depends("followup_policy")
    def _compute_followup_missing_count(self):
        counts = dict(
            self.env["crm.lead"]._read_group(
                [("team_id", "in", self.ids), ("followup_state", "=", "missing")], ["team_id"], ["__count"]
            )
        )
        for team in self:
            team.followup_missing_count = counts.get(team, 0)

    def action_view_missing_followup(self):
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "crm_activity_centric.crm_lead_action_missing_followup"
        )
        action.update(
            name=self.env._("Missing Follow-up"),
            domain=[("team_id", "=", self.id), ("followup_state", "=", "missing")],
            context={},
        )
        return action
