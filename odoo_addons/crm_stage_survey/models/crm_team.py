from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class CrmTeam(models.Model):
    _inherit = "crm.team"

    stage_setting = fields.Selection(
        [("manual", "Set by hand"), ("survey", "Set by the qualification survey")],
        string="Stages",
        required=True,
        default="manual",
        help="Set by the qualification survey: the answers to the team's survey set the stage of its leads; "
        "salespeople no longer move them by hand (managers can override, with a reason).",
    )
    qualification_survey_id = fields.Many2one(
        "survey.survey",
        help="The questionnaire whose answers encode each stage's entry criteria (Surveys app).",
    )
    survey_probability = fields.Selection(
        [("stage", "The stage's probability"), ("predictive", "Odoo's predictive scoring")],
        string="Probability",
        required=True,
        default="stage",
        help="In a survey team, the probability of a lead follows its stage's probability (stated or "
        "calibrated), or Odoo's predictive lead scoring.",
    )
    survey_won_gate = fields.Boolean(
        string="Winning Needs the Last Gate",
        default=True,
        help="A lead can be marked won only once it has reached the last stage before the won stage.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        teams = super().create(vals_list)
        if any(vals.get("stage_setting") == "survey" for vals in vals_list):
            self.env.registry.clear_cache()  # _survey_team_ids
        return teams

    def write(self, vals):
        if {"stage_setting", "qualification_survey_id", "active"} & vals.keys():
            self.env.registry.clear_cache()  # _survey_team_ids
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # _survey_team_ids
        return super().unlink()

    @api.model
    @tools.ormcache()
    def _survey_team_ids(self):
        """The ids of the teams whose stages a qualification survey sets, cached: creating leads of other
        teams costs no query."""
        # sudo: every team's setting, whoever creates a lead; only ids leave this method
        teams = self.sudo().with_context(active_test=False)
        return frozenset(
            teams.search([("stage_setting", "=", "survey"), ("qualification_survey_id", "!=", False)]).ids
        )

    def init(self):
        # teams inserted while the registry does not hold this module (an update of crm) get the defaults
        for column, default in (("stage_setting", "manual"), ("survey_probability", "stage")):
            self.env.cr.execute(
                SQL("ALTER TABLE crm_team ALTER COLUMN %s SET DEFAULT %s", SQL.identifier(column), default)
            )

    @api.constrains("stage_setting", "qualification_survey_id")
    def _check_qualification_survey(self):
        for team in self:
            if team.stage_setting == "survey" and not team.qualification_survey_id:
                raise ValidationError(
                    self.env._(
                        "The team “%(team)s” sets its stages by survey: choose its qualification survey.",
                        team=team.name,
                    )
                )
