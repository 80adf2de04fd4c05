from odoo.tests import new_test_user


def build_gated_pipeline(cls, prefix):
    """A sales team whose stages follow a qualification survey, with its own pipeline: ``<prefix> New`` (no
    criteria), ``<prefix> Qualified`` (budget confirmed and a need described), ``<prefix> Proposal`` (at
    least 10 seats), ``<prefix> Won``; a salesperson ``cls.rep``, member of it and of ``cls.manual_team``
    (a team whose stages are set by hand). Expects ``cls.env``: an administrator's, not the superuser's."""
    env = cls.env
    login = prefix.lower().replace(" ", "_")
    cls.rep = new_test_user(
        env,
        login=f"{login}_rep",
        name=f"{prefix} Rep",
        email=f"{login}.rep@example.com",
        groups="sales_team.group_sale_salesman",
        tz="UTC",
    )
    cls.survey = env["survey.survey"].create({"title": f"{prefix} Qualification", "access_mode": "token"})
    Question = env["survey.question"]
    cls.q_budget = Question.create(
        {
            "survey_id": cls.survey.id,
            "title": "Budget confirmed?",
            "question_type": "simple_choice",
            "suggested_answer_ids": [(0, 0, {"value": "Yes"}), (0, 0, {"value": "No"})],
        }
    )
    cls.yes, cls.no = cls.q_budget.suggested_answer_ids
    cls.q_need = Question.create(
        {"survey_id": cls.survey.id, "title": "What do they need?", "question_type": "char_box"}
    )
    cls.q_seats = Question.create(
        {"survey_id": cls.survey.id, "title": "Seats", "question_type": "numerical_box"}
    )
    Stage = env["crm.stage"]
    # crm's shared stages belong to another team here, so that the gated pipeline is ours alone
    Stage.search([("team_ids", "=", False)]).team_ids = env["crm.team"].create(
        {"name": f"{prefix} Elsewhere"}
    )
    cls.team = env["crm.team"].create(
        {"name": f"{prefix} Gated", "stage_setting": "survey", "qualification_survey_id": cls.survey.id}
    )
    cls.manual_team = env["crm.team"].create({"name": f"{prefix} Manual"})
    teams = [(6, 0, (cls.team | cls.manual_team).ids)]
    cls.stage_new = Stage.create({"name": f"{prefix} New", "sequence": 1, "team_ids": teams})
    cls.stage_qualified = Stage.create({"name": f"{prefix} Qualified", "sequence": 2, "team_ids": teams})
    cls.stage_proposal = Stage.create({"name": f"{prefix} Proposal", "sequence": 3, "team_ids": teams})
    cls.stage_won = Stage.create({"name": f"{prefix} Won", "sequence": 9, "is_won": True, "team_ids": teams})
    env["crm.stage.criterion"].create(
        [
            {
                "stage_id": cls.stage_qualified.id,
                "survey_id": cls.survey.id,
                "question_id": cls.q_budget.id,
                "answer_ids": [(6, 0, cls.yes.ids)],
            },
            {"stage_id": cls.stage_qualified.id, "survey_id": cls.survey.id, "question_id": cls.q_need.id},
            {
                "stage_id": cls.stage_proposal.id,
                "survey_id": cls.survey.id,
                "question_id": cls.q_seats.id,
                "has_minimum": True,
                "minimum": 10,
            },
        ]
    )
    env["crm.team.member"].create(
        [
            {"crm_team_id": cls.team.id, "user_id": cls.rep.id},
            {"crm_team_id": cls.manual_team.id, "user_id": cls.rep.id},
        ]
    )
