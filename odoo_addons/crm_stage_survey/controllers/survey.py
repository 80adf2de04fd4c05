from odoo.addons.survey.controllers.main import Survey


class QualificationSurvey(Survey):
    """The pages of a lead's qualification name the lead and, once submitted, say the stage reached and lead
    back to it (templates ``views/survey_templates.xml``); any other answer gets Odoo's pages."""

    def _prepare_survey_data(self, survey_sudo, answer_sudo, **post):
        data = super()._prepare_survey_data(survey_sudo, answer_sudo, **post)
        data.update(answer_sudo._qualification_page_values())
        return data
