"""Stage gates: criteria of every kind, the cumulative walk along the pipeline, validation messages."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from activity_centric.problems import Problem
from funnel_metrics import (
    CRITERION_KINDS,
    Criterion,
    GateResult,
    criteria_problems,
    criterion_holds,
    problem_text,
    reached_stage,
    validate_criteria,
)
from funnel_metrics.gates import PROBLEM_TEXTS

# --------------------------------------------------------------------------------------------------------
# criterion_holds
# --------------------------------------------------------------------------------------------------------

YES, NO, MAYBE = 11, 12, 13  # answer ids of "Budget confirmed?"
BUDGET = Criterion(stage="qualified", question="budget", kind="choice", accepted=frozenset({YES, MAYBE}))
SEATS = Criterion(stage="qualified", question="seats", kind="numeric", minimum=10, maximum=50)
AT_LEAST = Criterion(stage="qualified", question="seats", kind="numeric", minimum=10)
AT_MOST = Criterion(stage="qualified", question="seats", kind="numeric", maximum=50.5)
NEED = Criterion(stage="qualified", question="need", kind="answered")


@pytest.mark.parametrize(
    ("criterion", "answer", "holds"),
    [
        # choice: one answer id, or a collection of them (multiple choice): any accepted one is enough
        pytest.param(BUDGET, YES, True, id="choice-accepted"),
        pytest.param(BUDGET, MAYBE, True, id="choice-other-accepted"),
        pytest.param(BUDGET, NO, False, id="choice-not-accepted"),
        pytest.param(BUDGET, [NO, MAYBE], True, id="multiple-one-accepted"),
        pytest.param(BUDGET, (NO,), False, id="multiple-none-accepted"),
        pytest.param(BUDGET, {YES, MAYBE}, True, id="multiple-set"),
        pytest.param(BUDGET, frozenset({NO, 99}), False, id="multiple-frozenset-none-accepted"),
        pytest.param(BUDGET, [None, YES], True, id="multiple-blank-item-ignored"),
        pytest.param(BUDGET, "11", False, id="choice-ids-compare-by-equality"),
        pytest.param(BUDGET, [[YES]], False, id="choice-unhashable-item"),
        # numeric: inclusive bounds, None = open, numeric strings accepted
        pytest.param(SEATS, 10, True, id="numeric-at-minimum"),
        pytest.param(SEATS, 50, True, id="numeric-at-maximum"),
        pytest.param(SEATS, 30.5, True, id="numeric-inside"),
        pytest.param(SEATS, 9.999, False, id="numeric-below"),
        pytest.param(SEATS, 50.001, False, id="numeric-above"),
        pytest.param(AT_LEAST, 10**9, True, id="numeric-no-maximum"),
        pytest.param(AT_LEAST, 9, False, id="numeric-no-maximum-below"),
        pytest.param(AT_MOST, -1e6, True, id="numeric-no-minimum"),
        pytest.param(AT_MOST, 50.5, True, id="numeric-no-minimum-at-maximum"),
        pytest.param(AT_MOST, 51, False, id="numeric-no-minimum-above"),
        pytest.param(SEATS, "25", True, id="string-int"),
        pytest.param(SEATS, " 12.5 ", True, id="string-float-spaces"),
        pytest.param(SEATS, "1e1", True, id="string-exponent"),
        pytest.param(SEATS, "5", False, id="string-below"),
        pytest.param(SEATS, "twenty", False, id="string-not-a-number"),
        pytest.param(SEATS, "nan", False, id="string-nan"),
        pytest.param(AT_LEAST, "inf", False, id="string-infinity"),
        pytest.param(AT_LEAST, float("nan"), False, id="float-nan"),
        pytest.param(SEATS, True, False, id="bool-is-no-number"),
        pytest.param(SEATS, Decimal("20"), True, id="decimal"),
        pytest.param(SEATS, [3, 20], True, id="numeric-any-of-several"),
        pytest.param(AT_MOST, 0, True, id="numeric-zero-is-an-answer"),
        # answered: any non-empty answer
        pytest.param(NEED, "Replace the old CRM", True, id="answered-text"),
        pytest.param(NEED, 0, True, id="answered-zero"),
        pytest.param(NEED, [NO], True, id="answered-choice"),
        pytest.param(NEED, "   ", False, id="answered-blank-text"),
        # unanswered never holds, whatever the kind
        *(
            pytest.param(criterion, empty, False, id=f"unanswered-{criterion.kind}-{label}")
            for criterion in (BUDGET, SEATS, AT_MOST, NEED)
            for label, empty in (
                ("none", None),
                ("empty-str", ""),
                ("false", False),
                ("list", []),
                ("set", set()),
            )
        ),
    ],
)
def test_criterion_holds(criterion, answer, holds):
    assert criterion_holds(criterion, answer) is holds


@pytest.mark.parametrize("answer", [None, "", YES, [YES]])
def test_unknown_kind_raises_even_without_answer(answer):
    odd = Criterion(stage="qualified", question="budget", kind="choise", accepted=frozenset({YES}))
    with pytest.raises(ValueError, match=r"unknown kind 'choise': use one of choice, numeric, answered"):
        criterion_holds(odd, answer)


def test_numeric_bound_that_is_not_a_number_raises():
    odd = Criterion(stage="qualified", question="seats", kind="numeric", minimum="10")
    with pytest.raises(ValueError, match=r"bounds must be finite numbers or None, got minimum='10'"):
        criterion_holds(odd, 20)


def test_criterion_stores_accepted_as_frozenset_and_is_hashable():
    criterion = Criterion(stage=1, question=2, kind="choice", accepted=[3, 4, 3])
    assert criterion.accepted == frozenset({3, 4})
    assert hash(criterion) == hash(Criterion(stage=1, question=2, kind="choice", accepted=frozenset({3, 4})))
    assert CRITERION_KINDS == ("choice", "numeric", "answered")


@pytest.mark.parametrize("accepted", [3, "12"])
def test_criterion_accepted_must_be_a_collection(accepted):
    with pytest.raises(ValueError, match=r"accepted must be a collection of answer ids"):
        Criterion(stage=1, question=2, kind="choice", accepted=accepted)


# --------------------------------------------------------------------------------------------------------
# reached_stage
# --------------------------------------------------------------------------------------------------------

PIPELINE = ("new", "qualified", "proposal", "won")
# qualified: budget Yes/Maybe and a need stated; proposal: 10 to 50 seats; won: none (reached after proposal)
Q_BUDGET = Criterion(
    "qualified", "budget", "choice", accepted=frozenset({YES, MAYBE}), label="Budget yes", id=1
)
Q_NEED = Criterion("qualified", "need", "answered", label="Need stated", id=2)
P_SEATS = Criterion("proposal", "seats", "numeric", minimum=10, maximum=50, label="10-50 seats", id=3)
CRITERIA = (Q_BUDGET, P_SEATS, Q_NEED)  # deliberately not grouped by stage


@pytest.mark.parametrize(
    ("answers", "stage", "next_stage", "missing", "reached"),
    [
        pytest.param({}, "new", "qualified", (Q_BUDGET, Q_NEED), ("new",), id="no-answers-first-stage-only"),
        pytest.param({"budget": YES}, "new", "qualified", (Q_NEED,), ("new",), id="one-of-two-criteria"),
        pytest.param(
            {"budget": NO, "need": "x"}, "new", "qualified", (Q_BUDGET,), ("new",), id="wrong-choice"
        ),
        pytest.param(
            {"budget": [NO, YES], "need": "x"},
            "qualified",
            "proposal",
            (P_SEATS,),
            ("new", "qualified"),
            id="multiple-choice-passes",
        ),
        pytest.param(
            {"budget": YES, "need": "x", "seats": "80"},
            "qualified",
            "proposal",
            (P_SEATS,),
            ("new", "qualified"),
            id="numeric-out-of-bounds",
        ),
        # proposal's criteria hold, and "won" has none: reached too, end of the pipeline
        pytest.param(
            {"budget": YES, "need": "x", "seats": 50},
            "won",
            None,
            (),
            PIPELINE,
            id="all-stages",
        ),
        # cumulative: the seats would pass proposal, but qualified fails, so neither is reached
        pytest.param(
            {"budget": NO, "need": "x", "seats": 20},
            "new",
            "qualified",
            (Q_BUDGET,),
            ("new",),
            id="cumulative-later-holds-earlier-fails",
        ),
        pytest.param(
            {"seats": 20},
            "new",
            "qualified",
            (Q_BUDGET, Q_NEED),
            ("new",),
            id="cumulative-only-later-answered",
        ),
        # answers to questions no criterion looks at change nothing
        pytest.param(
            {"budget": MAYBE, "need": ["a"], "colour": "blue"},
            "qualified",
            "proposal",
            (P_SEATS,),
            ("new", "qualified"),
            id="extra-answers-ignored",
        ),
    ],
)
def test_reached_stage(answers, stage, next_stage, missing, reached):
    assert reached_stage(PIPELINE, CRITERIA, answers) == GateResult(stage, next_stage, missing, reached)


def test_missing_keeps_the_input_order():
    a = Criterion("qualified", "q1", "answered", id="a")
    b = Criterion("qualified", "q2", "answered", id="b")
    c = Criterion("qualified", "q3", "answered", id="c")
    other = Criterion("new", "q0", "answered", id="other")
    for order in ((a, b, c), (c, a, b), (b, other, c, a)):
        result = reached_stage(["new", "qualified"], order, {"q0": "ok"})
        assert result.missing == tuple(x for x in order if x is not other)
    assert reached_stage(["new", "qualified"], (c, a, b), {"q0": "ok", "q1": "ok"}).missing == (c, b)


def test_first_stage_with_criteria_can_fail():
    first = Criterion("new", "email", "answered")
    assert reached_stage(["new", "qualified"], [first], {}) == GateResult(None, "new", (first,), ())
    assert reached_stage(["new", "qualified"], [first], {"email": "a@b.c"}) == GateResult(
        "qualified", None, (), ("new", "qualified")
    )


def test_stages_without_criteria_are_reached_in_turn():
    assert reached_stage(["a", "b", "c"], [], {}) == GateResult("c", None, (), ("a", "b", "c"))
    gate = Criterion("c", "q", "answered")
    # b has no criteria: reached because a is; c is gated
    assert reached_stage(["a", "b", "c", "d"], iter([gate]), {}) == GateResult("b", "c", (gate,), ("a", "b"))


def test_empty_pipeline():
    assert reached_stage([], [], {"budget": YES}) == GateResult(None, None, (), ())


def test_integer_stage_ids_and_one_stage():
    gate = Criterion(7, 101, "numeric", minimum=0)
    assert reached_stage([7], [gate], {101: 0}) == GateResult(7, None, (), (7,))
    assert reached_stage([7], [gate], {101: -1}) == GateResult(None, 7, (gate,), ())


@pytest.mark.parametrize(
    ("stages", "criteria", "message"),
    [
        pytest.param(
            PIPELINE,
            [Q_BUDGET, Criterion("lost", "q", "answered"), Criterion("archived", "q", "answered")],
            "criteria name stage(s) 'archived', 'lost' that are not in the pipeline "
            "('new', 'qualified', 'proposal', 'won'): remove those criteria or add the stages",
            id="unknown-stages",
        ),
        pytest.param(
            [],
            [Q_BUDGET],
            "criteria name stage(s) 'qualified' that are not in the pipeline (no stages)",
            id="criteria-on-empty-pipeline",
        ),
        pytest.param(
            ["new", "qualified", "new"],
            [],
            "the pipeline lists stage(s) 'new' more than once",
            id="duplicate-stage",
        ),
        pytest.param(
            PIPELINE,
            [Q_BUDGET, Criterion("won", "q", "boolean", label="Signed")],
            "criterion 'Signed' (stage 'won', question 'q') has the unknown kind 'boolean'",
            id="unknown-kind-even-past-the-failing-stage",
        ),
        pytest.param(
            PIPELINE, [{"stage": "new"}], "criteria must be Criterion values, got dict", id="not-a-criterion"
        ),
    ],
)
def test_reached_stage_errors(stages, criteria, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        reached_stage(stages, criteria, {})


# --------------------------------------------------------------------------------------------------------
# validate_criteria
# --------------------------------------------------------------------------------------------------------

SURVEY = 5
QUESTIONS = {
    "budget": {"kind": "choice", "answers": frozenset({YES, NO, MAYBE}), "survey": SURVEY},
    "seats": {"kind": "numeric", "survey": SURVEY},
    "need": {"kind": "text", "survey": SURVEY},
    "elsewhere": {"kind": "text", "survey": 6},
    "colours": {"kind": "choice", "answers": [21, 22], "survey": SURVEY},  # any collection of answer ids
}
VALID = (
    Criterion("qualified", "budget", "choice", accepted=frozenset({YES})),
    Criterion("qualified", "colours", "choice", accepted=frozenset({21, 22})),
    Criterion("qualified", "need", "answered"),
    Criterion("qualified", "budget", "answered"),
    Criterion("proposal", "seats", "numeric", minimum=10),
    Criterion("proposal", "seats", "numeric", maximum=50.0),
    Criterion("proposal", "seats", "numeric", minimum=3, maximum=3),  # equal bounds: exactly 3
)


@pytest.mark.parametrize(
    ("questions", "survey"),
    [
        pytest.param(QUESTIONS, SURVEY, id="with-questions-and-survey"),
        pytest.param(QUESTIONS, None, id="with-questions"),
        pytest.param(None, None, id="criteria-alone"),
        pytest.param(None, SURVEY, id="survey-needs-questions"),
    ],
)
def test_valid_criteria_pass(questions, survey):
    assert validate_criteria(VALID, questions, survey=survey) is None
    assert validate_criteria([], questions, survey=survey) is None


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        pytest.param(
            Criterion("qualified", "elsewhere", "answered", label="Other survey"),
            "criterion 'Other survey' (stage 'qualified', question 'elsewhere') is on a question of another "
            "survey (6, not 5): pick a question of the team's qualification survey.",
            id="other-survey",
        ),
        pytest.param(
            Criterion("qualified", "ghost", "answered", id=41),
            "criterion 41 (stage 'qualified', question 'ghost') is on question 'ghost', which is not one "
            "of the survey's questions: pick a question of the team's qualification survey.",
            id="unknown-question",
        ),
        pytest.param(
            Criterion("qualified", "budget", "choice", accepted=frozenset({YES, 99, 98})),
            "criterion on stage 'qualified', question 'budget' accepts answer(s) 98, 99 that are not "
            "answers of question 'budget': accept only the question's own answers.",
            id="foreign-answers",
        ),
        pytest.param(
            Criterion("qualified", "budget", "choice", label="Budget"),
            "criterion 'Budget' (stage 'qualified', question 'budget') is a choice criterion with no "
            "accepted answer: select at least one answer.",
            id="choice-without-answers",
        ),
        pytest.param(
            Criterion("proposal", "seats", "numeric", minimum=50, maximum=10.5, label="Seats"),
            "criterion 'Seats' (stage 'proposal', question 'seats') has its bounds reversed "
            "(minimum 50 > maximum 10.5): swap them.",
            id="bounds-reversed",
        ),
        pytest.param(
            Criterion("proposal", "seats", "numeric", label="Seats"),
            "criterion 'Seats' (stage 'proposal', question 'seats') is a numeric criterion without any "
            "bound: set a minimum, a maximum or both.",
            id="numeric-without-bound",
        ),
        pytest.param(
            Criterion("proposal", "seats", "numeric", minimum=float("nan"), label="Seats"),
            "criterion 'Seats' (stage 'proposal', question 'seats') has bounds that are not finite numbers "
            "(minimum=nan, maximum=None): give numbers or leave a bound empty.",
            id="numeric-bound-not-a-number",
        ),
        pytest.param(
            Criterion("qualified", "seats", "choice", accepted=frozenset({YES}), label="Seats"),
            "criterion 'Seats' (stage 'qualified', question 'seats') is a choice criterion but question "
            "'seats' is a numeric question: use a numeric criterion or an 'answered' one.",
            id="choice-on-numeric",
        ),
        pytest.param(
            Criterion("qualified", "budget", "numeric", minimum=1, label="Budget"),
            "criterion 'Budget' (stage 'qualified', question 'budget') is a numeric criterion but question "
            "'budget' is a choice question: use a choice criterion or an 'answered' one.",
            id="numeric-on-choice",
        ),
        pytest.param(
            Criterion("qualified", "need", "choice", accepted=frozenset({YES}), label="Need"),
            "criterion 'Need' (stage 'qualified', question 'need') is a choice criterion but question 'need' "
            "is a text question: use an 'answered' criterion.",
            id="choice-on-text",
        ),
        pytest.param(
            Criterion("qualified", "need", "boolean", label="Need"),
            "criterion 'Need' (stage 'qualified', question 'need') has the unknown kind 'boolean': use one "
            "of choice, numeric, answered.",
            id="unknown-kind",
        ),
        pytest.param(
            "budget is yes",
            "'budget is yes' is not a Criterion: build criteria with funnel_metrics.Criterion.",
            id="not-a-criterion",
        ),
    ],
)
def test_each_validation_message(criterion, message):
    with pytest.raises(ValueError) as caught:
        validate_criteria([*VALID, criterion], QUESTIONS, survey=SURVEY)
    assert str(caught.value) == f"the stage criteria have 1 problem:\n- {message}"


def test_every_problem_is_listed_in_input_order():
    criteria = [
        Criterion("proposal", "seats", "numeric", minimum=9, maximum=1, id="reversed"),
        VALID[0],
        # two problems on one criterion: another survey, and choice on a text question
        Criterion("qualified", "elsewhere", "choice", accepted=frozenset({1}), id="two"),
        Criterion("qualified", "budget", "choice", id="empty"),
    ]
    with pytest.raises(ValueError) as caught:
        validate_criteria(criteria, QUESTIONS, survey=SURVEY)
    lines = str(caught.value).splitlines()
    assert lines[0] == "the stage criteria have 4 problems:"
    assert [line.split(" (stage")[0] for line in lines[1:]] == [
        "- criterion 'reversed'",
        "- criterion 'two'",
        "- criterion 'two'",
        "- criterion 'empty'",
    ]
    assert "another survey" in lines[2] and "is a text question" in lines[3]
    assert all(line.endswith(".") for line in lines[1:])


@pytest.mark.parametrize(
    ("survey", "problems"),
    [
        pytest.param(SURVEY, 1, id="expected-survey-checked"),
        pytest.param(None, 0, id="no-expected-survey"),
    ],
)
def test_survey_is_checked_only_when_given(survey, problems):
    criterion = Criterion("qualified", "elsewhere", "answered")
    if problems:
        with pytest.raises(ValueError, match="another survey"):
            validate_criteria([criterion], QUESTIONS, survey=survey)
    else:
        validate_criteria([criterion], QUESTIONS, survey=survey)


def test_without_questions_only_the_criteria_themselves_are_checked():
    criteria = [
        Criterion("qualified", "ghost", "choice", accepted=frozenset({99})),  # fine without questions
        Criterion("qualified", "ghost", "choice"),
        Criterion("proposal", "seats", "numeric"),
        Criterion("proposal", "seats", "numeric", minimum=2, maximum=1),
        Criterion("proposal", "seats", "odd"),
    ]
    with pytest.raises(ValueError) as caught:
        validate_criteria(criteria, survey=SURVEY)
    text = str(caught.value)
    assert text.startswith("the stage criteria have 4 problems:")
    for part in ("no accepted answer", "without any bound", "bounds reversed", "unknown kind 'odd'"):
        assert part in text


def test_survey_is_keyword_only():
    with pytest.raises(TypeError):
        validate_criteria(VALID, QUESTIONS, SURVEY)  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------------
# criteria_problems: the same checks as codes with parameters (what the Odoo addon translates)
# --------------------------------------------------------------------------------------------------------


def test_problems_are_codes_with_the_criterion_and_its_measures():
    criteria = [
        Criterion("proposal", "seats", "numeric", minimum=9, maximum=1, id=7, label="Seats"),
        VALID[0],
        Criterion("qualified", "elsewhere", "choice", accepted=frozenset({1})),
        Criterion("qualified", "budget", "choice", accepted=frozenset({YES, 99, 98})),
        "budget is yes",
    ]
    problems = criteria_problems(criteria, QUESTIONS, survey=SURVEY)
    assert [problem.code for problem in problems] == [
        "bounds_reversed",
        "other_survey",
        "kind_mismatch",
        "foreign_answers",
        "not_a_criterion",
    ]
    assert problems[0] == Problem(
        "bounds_reversed",
        {"stage": "proposal", "question": "seats", "label": "Seats", "id": 7, "minimum": 9, "maximum": 1},
    )
    assert (problems[1].params["question_survey"], problems[1].params["survey"]) == (6, SURVEY)
    assert (problems[2].params["kind"], problems[2].params["question_kind"]) == ("choice", "text")
    assert problems[3].params["answers"] == (98, 99)
    assert problems[4].params == {"value": "budget is yes"}
    assert criteria_problems(VALID, QUESTIONS, survey=SURVEY) == []


def test_every_code_has_its_english_sentence():
    criteria = [
        Criterion("qualified", "need", "boolean"),
        Criterion("qualified", "ghost", "answered"),
        Criterion("qualified", "budget", "choice"),
        Criterion("proposal", "seats", "numeric"),
        Criterion("proposal", "seats", "numeric", minimum=float("inf")),
    ]
    problems = criteria_problems(criteria, QUESTIONS, survey=SURVEY)
    assert {problem.code for problem in problems} | {
        "other_survey",
        "kind_mismatch",
        "foreign_answers",
        "bounds_reversed",
        "not_a_criterion",
    } == set(PROBLEM_TEXTS)
    assert problem_text(problems[2]) == (
        "criterion on stage 'qualified', question 'budget' is a choice criterion with no accepted answer: "
        "select at least one answer."
    )


@pytest.mark.parametrize(
    ("answers", "placed", "complete"),
    [
        pytest.param({}, "new", False, id="nothing-reached-first-stage"),
        pytest.param({"budget": YES}, "qualified", False, id="middle"),
        pytest.param({"budget": YES, "seats": 20}, "proposal", True, id="last-gate-passed"),
    ],
)
def test_where_a_lead_belongs_and_whether_it_passed_the_last_gate(answers, placed, complete):
    stages = ["new", "qualified", "proposal"]
    criteria = [
        Criterion("new", "need", "answered"),
        Criterion("qualified", "budget", "choice", accepted=frozenset({YES})),
        Criterion("proposal", "seats", "numeric", minimum=10),
    ]
    answers = {"need": "desks", **answers} if answers else {}
    result = reached_stage(stages, criteria, answers)
    assert (result.placed, result.complete) == (placed, complete)
    empty = reached_stage([], [], {})
    assert (empty.placed, empty.complete) == (None, True)
