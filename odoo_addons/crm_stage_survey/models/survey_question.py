from odoo import models

# what the criteria's plain form and labels are read from (crm.lead._survey_gates_of)
_QUESTION_FIELDS = {"title", "question_type", "survey_id"}


class SurveyQuestion(models.Model):
    _inherit = "survey.question"

    def write(self, vals):
        if _QUESTION_FIELDS & vals.keys():
            self.env.registry.clear_cache()  # the criteria's kinds and labels: the gates of the teams
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # its criteria go with it: the gates of the teams
        return super().unlink()
