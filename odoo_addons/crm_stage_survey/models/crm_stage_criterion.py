from odoo import api, fields, models
from odoo.exceptions import ValidationError

CHOICE_TYPES = ("simple_choice", "multiple_choice")
NUMERIC_TYPES = ("numerical_box", "scale")


def question_kind(question_type):
    """The kind of a survey question in the gate engine's terms (``funnel_metrics.gates.QUESTION_KINDS``)."""
    return (
        "choice" if question_type in CHOICE_TYPES else "numeric" if question_type in NUMERIC_TYPES else "text"
    )


class CrmStageCriterion(models.Model):
    """An entry criterion of a stage: a question of a qualification survey and the answers that satisfy it.
    A lead reaches a stage when every criterion of that stage and of every earlier stage holds."""

    _name = "crm.stage.criterion"
    _description = "Stage Entry Criterion"
    _order = "stage_id, sequence, id"

    sequence = fields.Integer(default=10)
    stage_id = fields.Many2one("crm.stage", required=True, index=True, ondelete="cascade")
    survey_id = fields.Many2one(
        "survey.survey",
        required=True,
        index=True,
        ondelete="cascade",
        help="The qualification survey this criterion belongs to (teams using it apply it).",
    )
    question_id = fields.Many2one(
        "survey.question",
        required=True,
        ondelete="cascade",
        domain="[('survey_id', '=', survey_id), ('is_page', '=', False)]",
    )
    question_type = fields.Selection(related="question_id.question_type")
    kind = fields.Selection(
        [
            ("choice", "One of the accepted answers"),
            ("numeric", "A number within bounds"),
            ("answered", "Answered"),
        ],
        compute="_compute_kind",
        store=True,
    )
    answer_ids = fields.Many2many(
        "survey.question.answer", string="Accepted Answers", domain="[('question_id', '=', question_id)]"
    )
    has_minimum = fields.Boolean(string="At Least")
    minimum = fields.Float()
    has_maximum = fields.Boolean(string="At Most")
    maximum = fields.Float()
    label = fields.Char(compute="_compute_label")

    @api.model_create_multi
    def create(self, vals_list):
        criteria = super().create(vals_list)
        self.env.registry.clear_cache()  # the gates of the teams (crm.lead._survey_gates_of)
        return criteria

    def write(self, vals):
        self.env.registry.clear_cache()  # the gates of the teams (crm.lead._survey_gates_of)
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # the gates of the teams (crm.lead._survey_gates_of)
        return super().unlink()

    @api.depends("question_id.question_type")
    def _compute_kind(self):
        for criterion in self:
            kind = question_kind(criterion.question_id.question_type)
            criterion.kind = "answered" if kind == "text" else kind

    @api.depends("question_id", "kind", "answer_ids", "has_minimum", "minimum", "has_maximum", "maximum")
    def _compute_label(self):
        for criterion in self:
            title = criterion.question_id.title or ""
            if criterion.kind == "choice":
                condition = " / ".join(criterion.answer_ids.mapped("value"))
                if title.endswith("?"):  # "Budget approved? Yes / Pending"
                    criterion.label = self.env._(
                        "%(question)s %(answers)s", question=title, answers=condition
                    )
                else:  # "Budget: Approved"
                    criterion.label = self.env._(
                        "%(question)s: %(answers)s", question=title, answers=condition
                    )
            elif criterion.kind == "numeric":
                bounds = []
                if criterion.has_minimum:
                    bounds.append(f"≥ {criterion.minimum:g}")
                if criterion.has_maximum:
                    bounds.append(f"≤ {criterion.maximum:g}")
                criterion.label = self.env._(
                    "%(question)s %(bounds)s", question=title, bounds=" and ".join(bounds)
                )
            else:
                criterion.label = self.env._("%(question)s: answered", question=title)

    @api.constrains(
        "survey_id", "question_id", "answer_ids", "has_minimum", "minimum", "has_maximum", "maximum"
    )
    def _check_criterion(self):
        from funnel_metrics.gates import criteria_problems

        for survey, criteria in self.grouped("survey_id").items():
            questions = {
                question.id: {
                    "kind": question_kind(question.question_type),
                    "answers": question.suggested_answer_ids.ids,
                    "survey": question.survey_id.id,
                }
                for question in criteria.question_id
            }
            plain = [criterion._gate_criterion() for criterion in criteria]
            problems = criteria_problems(plain, questions, survey=survey.id)
            if problems:
                raise ValidationError("\n".join(self._problem_message(problem) for problem in problems))

    def _problem_message(self, problem):
        """The translated message of a problem code of ``funnel_metrics.gates.criteria_problems``."""
        from funnel_metrics.gates import problem_text

        params = problem.params
        criterion = self.browse(params["id"])
        question = criterion.question_id.title
        if problem.code == "other_survey":
            return self.env._(
                "The question “%(question)s” belongs to another survey than “%(survey)s”: choose a "
                "question of the qualification survey.",
                question=question,
                survey=criterion.survey_id.title,
            )
        if problem.code == "no_accepted_answer":
            return self.env._("Choose the accepted answers of “%(question)s”.", question=question)
        if problem.code == "foreign_answers":
            answers = self.env["survey.question.answer"].browse(params["answers"])
            return self.env._(
                "The answers %(answers)s are not answers of “%(question)s”.",
                answers=", ".join(answers.mapped("value")),
                question=question,
            )
        if problem.code == "no_bound":
            return self.env._("Give a lower or an upper bound for “%(question)s”.", question=question)
        if problem.code == "bound_not_finite":
            return self.env._("The bounds of “%(question)s” must be numbers.", question=question)
        if problem.code == "bounds_reversed":
            return self.env._(
                "The bounds of “%(question)s” are reversed: the minimum is above the maximum.",
                question=question,
            )
        # the other codes (a kind that does not fit its question...) cannot come from a record, whose kind
        # follows its question: the engine's own wording
        return problem_text(problem)

    def _gate_criterion(self):
        """The plain-package form (``funnel_metrics.gates.Criterion``)."""
        from funnel_metrics.gates import Criterion

        self.ensure_one()
        return Criterion(
            stage=self.stage_id.id,
            question=self.question_id.id,
            kind=self.kind,
            accepted=frozenset(self.answer_ids.ids),
            minimum=self.minimum if self.has_minimum else None,
            maximum=self.maximum if self.has_maximum else None,
            label=self.label,
            id=self.id,
        )
