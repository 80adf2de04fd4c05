from odoo import models


class SurveySurvey(models.Model):
    _inherit = "survey.survey"

    def unlink(self):
        self.env.registry.clear_cache()  # its criteria go with it: the gates of the teams
        return super().unlink()
