from odoo import api, fields, models
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

    @api.model
    def _pd_team_ids_fields(self):
        return super()._pd_team_ids_fields() | {"stage_setting"}

    @api.model
    def _pd_feature_team_ids(self):
        return super()._pd_feature_team_ids() | self._survey_team_ids()

    @api.model
    def _survey_team_ids(self):
        """The ids of the teams whose stages a qualification survey sets (every such team has its survey:
        ``_check_qualification_survey``), cached: creating leads of other teams costs no query."""
        return self._pd_team_ids("stage_setting", "survey")

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
