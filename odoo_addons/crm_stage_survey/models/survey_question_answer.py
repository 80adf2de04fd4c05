from odoo import models


class SurveyQuestionAnswer(models.Model):
    _inherit = "survey.question.answer"

    def write(self, vals):
        if "value" in vals:
            self.env.registry.clear_cache()  # the criteria's labels: the gates of the teams
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # an accepted answer of a criterion: the gates of the teams
        return super().unlink()
