"""Stage gates: which stage of a pipeline a lead's qualification answers reach (plain Python, no Odoo).

A sales team may set stages by a qualification survey (the ``crm_stage_survey`` addon). Each stage has
*criteria* on questions of the team's survey; a lead reaches a stage when every criterion of that stage and of
every earlier stage holds. The criteria of a stage are the exit criteria of the stage before it. The addon
reads the stages, the criteria and the lead's latest completed answers from the ORM and hands them over as
plain values:

- ``stages``: the pipeline's stage ids, in sequence order;
- ``criteria``: :class:`Criterion` values, one per ``crm.stage.criterion`` row;
- ``answers``: a mapping question id -> the lead's answer:

  ============ ===========================================================================================
  question     answer
  ============ ===========================================================================================
  choice       an answer id, or a collection (list, tuple, set...) of answer ids for a multiple choice
  numeric      an int or float; a str that parses as a number (``"12"``, ``" 2.5e3 "``) is accepted
  text, other  a str
  ============ ===========================================================================================

  A question missing from the mapping, ``None``, ``False`` (Odoo's empty value), a blank string and an empty
  collection all mean *not answered* (blank items inside a collection are ignored).

Criterion kinds (:data:`CRITERION_KINDS`):

- ``"choice"``: holds when the answer, or any of the answers of a multiple choice, is one of ``accepted``;
- ``"numeric"``: holds when the answer is a finite number within ``[minimum, maximum]``, both inclusive, a
  ``None`` bound being open (an answer that is not a number does not hold);
- ``"answered"``: holds when the question is answered at all.

An unanswered question never holds. The functions are pure: no global state, nothing is modified.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Real
from typing import Any

from activity_centric.problems import Problem, english

CRITERION_KINDS: tuple[str, ...] = ("choice", "numeric", "answered")
"""The kinds of :class:`Criterion`."""

QUESTION_KINDS: tuple[str, ...] = ("choice", "numeric", "text")
"""The kinds of question :func:`validate_criteria` knows (``questions[...]["kind"]``)."""

_FITTING_QUESTION_KIND: dict[str, str | None] = {"choice": "choice", "numeric": "numeric", "answered": None}
"""Per criterion kind, the question kind it needs (None: any question)."""


@dataclass(frozen=True)
class Criterion:
    """One criterion of a stage on one question of the team's survey (a ``crm.stage.criterion`` row).

    - ``stage``: the stage id the criterion gates (a lead reaches the stage only if it holds);
    - ``question``: the question id, a key of the ``answers`` mapping;
    - ``kind``: one of :data:`CRITERION_KINDS`;
    - ``accepted`` (choice): the answer ids that satisfy it, any one of them; any collection is stored as a
      frozenset;
    - ``minimum``, ``maximum`` (numeric): inclusive bounds, ``None`` = unbounded on that side;
    - ``label``: what the criterion asks, for messages (``"Budget confirmed is Yes"``);
    - ``id``: the criterion's record id, if any.
    """

    stage: Any
    question: Any
    kind: str
    accepted: frozenset = frozenset()
    minimum: float | None = None
    maximum: float | None = None
    label: str = ""
    id: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.accepted, frozenset):
            if isinstance(self.accepted, (str, bytes)) or not isinstance(self.accepted, Iterable):
                raise ValueError(
                    f"{_describe(self)}: accepted must be a collection of answer ids (e.g. {{12, 13}}), "
                    f"got {self.accepted!r}"
                )
            object.__setattr__(self, "accepted", frozenset(self.accepted))


@dataclass(frozen=True)
class GateResult:
    """What :func:`reached_stage` found for one lead.

    - ``stage``: the highest stage reached, ``None`` when not even the first one is;
    - ``next_stage``: the stage after ``stage`` in the pipeline (the first stage when ``stage`` is ``None``),
      ``None`` at the end of the pipeline;
    - ``missing``: the criteria of ``next_stage`` that do not hold (the exit criteria of ``stage`` still to
      meet), in the order they were given; empty when ``next_stage`` is ``None``;
    - ``reached``: every stage reached, in pipeline order (a prefix of the pipeline).
    """

    stage: Any | None
    next_stage: Any | None
    missing: tuple[Criterion, ...]
    reached: tuple[Any, ...]

    @property
    def placed(self) -> Any | None:
        """The stage a lead with these answers belongs in: ``stage``, or the first stage of the pipeline when
        the answers reach none (a lead is always in some stage); ``None`` for an empty pipeline."""
        return self.stage if self.stage is not None else self.next_stage

    @property
    def complete(self) -> bool:
        """True when the answers reach every stage of the pipeline (the last gate is passed; an empty
        pipeline has no gate to pass)."""
        return self.next_stage is None


def _describe(criterion: Criterion) -> str:
    """How messages name a criterion: its label (or id), its stage and its question."""
    return _name(criterion.stage, criterion.question, criterion.label, criterion.id)


def _name(stage: Any, question: Any, label: str, id: Any) -> str:  # noqa: A002 - Criterion's field
    where = f"stage {stage!r}, question {question!r}"
    if label:
        return f"criterion {label!r} ({where})"
    if id is not None:
        return f"criterion {id!r} ({where})"
    return f"criterion on {where}"


def _sorted(values: Iterable[Any]) -> tuple[Any, ...]:
    """``values`` sorted (by repr when they do not compare)."""
    values = list(values)
    try:
        return tuple(sorted(values))
    except TypeError:
        return tuple(sorted(values, key=repr))


def _listing(values: Iterable[Any]) -> str:
    """``values`` as a sorted, comma-separated list of reprs."""
    return ", ".join(repr(value) for value in _sorted(values))


def _is_blank(value: Any) -> bool:
    """True for the values that mean "no answer": None, False, a blank string."""
    if value is None or value is False:
        return True
    return isinstance(value, str) and not value.strip()


def _given_answers(answer: Any) -> tuple[Any, ...]:
    """The answer as a tuple of its non-blank values (empty: not answered)."""
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Collection) or isinstance(answer, Mapping):
        values: tuple[Any, ...] = (answer,)
    else:
        values = tuple(answer)
    return tuple(value for value in values if not _is_blank(value))


def _as_number(value: Any) -> float | None:
    """A finite number from an int/float/Decimal or a numeric string; None for anything else (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (Real, Decimal)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _is_bound(value: Any) -> bool:
    """True for a usable numeric bound: None or a finite int/float (not a bool)."""
    return value is None or (
        isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(float(value))
    )


def _check_kind(criterion: Criterion) -> None:
    if criterion.kind not in CRITERION_KINDS:
        raise ValueError(
            f"{_describe(criterion)} has the unknown kind {criterion.kind!r}: "
            f"use one of {', '.join(CRITERION_KINDS)}"
        )
    if criterion.kind == "numeric" and not (_is_bound(criterion.minimum) and _is_bound(criterion.maximum)):
        raise ValueError(
            f"{_describe(criterion)}: the bounds must be finite numbers or None, "
            f"got minimum={criterion.minimum!r}, maximum={criterion.maximum!r}"
        )


def criterion_holds(criterion: Criterion, answer: Any) -> bool:
    """Whether one criterion holds for the answer given to its question.

    Inputs:

    - ``criterion``: a :class:`Criterion`;
    - ``answer``: the lead's answer to ``criterion.question`` as described in the module docstring (``None``
      when the question was not answered).

    Output: ``True`` when the criterion holds: a choice criterion when the answer (or any of the answers) is
    in ``accepted``; a numeric criterion when the answer is a finite number (or a str that parses as one)
    within ``[minimum, maximum]``, bounds inclusive, ``None`` = open; an answered criterion when there is an
    answer at all. An unanswered question never holds.

    Raises:
        ValueError: the criterion's kind is not one of :data:`CRITERION_KINDS` (whatever the answer), or a
            numeric criterion's bound is not a finite number or None.
    """
    _check_kind(criterion)
    given = _given_answers(answer)
    if not given:
        return False
    if criterion.kind == "answered":
        return True
    if criterion.kind == "choice":
        for value in given:
            try:
                if value in criterion.accepted:
                    return True
            except TypeError:  # an unhashable value is no answer id
                continue
        return False
    for value in given:  # numeric
        number = _as_number(value)
        if number is None:
            continue
        if criterion.minimum is not None and number < criterion.minimum:
            continue
        if criterion.maximum is not None and number > criterion.maximum:
            continue
        return True
    return False


def reached_stage(
    stages: Sequence[Any], criteria: Iterable[Criterion], answers: Mapping[Any, Any]
) -> GateResult:
    """The highest stage of a pipeline that a lead's answers reach, and what is missing for the next one.

    Inputs:

    - ``stages``: the stage ids of the pipeline in sequence order (may be empty);
    - ``criteria``: the criteria of those stages (:class:`Criterion`), any order; a stage without criteria
      is reached whenever every earlier stage is (the first stage usually has none);
    - ``answers``: mapping question id -> answer (see the module docstring); a question missing from it is
      not answered.

    Output: a :class:`GateResult`. Gates are cumulative: the walk along ``stages`` stops at the first stage
    whose own criteria do not all hold, so a later stage is not reached even when its criteria hold.
    ``missing`` lists the failing criteria of that first stage not reached (``next_stage``) in the order
    ``criteria`` gave them. An empty pipeline gives ``GateResult(None, None, (), ())``.

    Raises:
        ValueError: a stage is listed twice in ``stages``, a criterion is not a :class:`Criterion` or names a
            stage that is not in ``stages`` (the message names the stages), or a criterion's kind is unknown
            (checked for every criterion, not only those the walk reaches).
    """
    stages = tuple(stages)
    criteria = tuple(criteria)
    twice = [stage for stage, count in Counter(stages).items() if count > 1]
    if twice:
        raise ValueError(
            f"the pipeline lists stage(s) {_listing(twice)} more than once: list each stage once"
        )
    by_stage: dict[Any, list[Criterion]] = {stage: [] for stage in stages}
    unknown = []
    for criterion in criteria:
        if not isinstance(criterion, Criterion):
            raise ValueError(
                f"criteria must be Criterion values, got {type(criterion).__name__}: {criterion!r}"
            )
        _check_kind(criterion)
        if criterion.stage in by_stage:
            by_stage[criterion.stage].append(criterion)
        else:
            unknown.append(criterion.stage)
    if unknown:
        pipeline = ", ".join(repr(stage) for stage in stages) or "no stages"
        raise ValueError(
            f"criteria name stage(s) {_listing(set(unknown))} that are not in the pipeline "
            f"({pipeline}): remove those criteria or add the stages"
        )
    reached: list[Any] = []
    for stage in stages:
        missing = tuple(
            criterion
            for criterion in by_stage[stage]
            if not criterion_holds(criterion, answers.get(criterion.question))
        )
        if missing:
            return GateResult(
                stage=reached[-1] if reached else None,
                next_stage=stage,
                missing=missing,
                reached=tuple(reached),
            )
        reached.append(stage)
    return GateResult(
        stage=reached[-1] if reached else None, next_stage=None, missing=(), reached=tuple(reached)
    )


PROBLEM_TEXTS: dict[str, str] = {
    "not_a_criterion": "{value!r} is not a Criterion: build criteria with funnel_metrics.Criterion.",
    "unknown_kind": "{name} has the unknown kind {kind!r}: use one of {kinds}.",
    "unknown_question": "{name} is on question {question!r}, which is not one of the survey's questions: "
    "pick a question of the team's qualification survey.",
    "other_survey": "{name} is on a question of another survey ({question_survey!r}, not {survey!r}): "
    "pick a question of the team's qualification survey.",
    "kind_mismatch": "{name} is a {kind} criterion but question {question!r} is a {question_kind} question: "
    "use {fitting}.",
    "no_accepted_answer": "{name} is a choice criterion with no accepted answer: select at least one answer.",
    "foreign_answers": "{name} accepts answer(s) {listed} that are not answers of question {question!r}: "
    "accept only the question's own answers.",
    "bound_not_finite": "{name} has bounds that are not finite numbers (minimum={minimum!r}, "
    "maximum={maximum!r}): give numbers or leave a bound empty.",
    "no_bound": "{name} is a numeric criterion without any bound: set a minimum, a maximum or both.",
    "bounds_reversed": "{name} has its bounds reversed (minimum {minimum:g} > maximum {maximum:g}): "
    "swap them.",
}
"""The English sentence of each problem code of :func:`criteria_problems` (see :func:`problem_text`)."""


def _problem(code: str, criterion: Criterion, **params: Any) -> Problem:
    """A problem of ``criterion``: its parameters name the criterion (``stage``, ``question``, ``label``,
    ``id``) besides ``params``."""
    return Problem(
        code,
        {
            "stage": criterion.stage,
            "question": criterion.question,
            "label": criterion.label,
            "id": criterion.id,
            **params,
        },
    )


def _criterion_problems(
    criterion: Criterion, questions: Mapping[Any, Any] | None, survey: Any
) -> list[Problem]:
    """What is wrong with one criterion (empty: nothing)."""
    problems = []
    if criterion.kind not in CRITERION_KINDS:
        problems.append(_problem("unknown_kind", criterion, kind=criterion.kind, kinds=CRITERION_KINDS))
    question = None
    if questions is not None:
        question = questions.get(criterion.question)
        if question is None:
            problems.append(_problem("unknown_question", criterion))
        elif survey is not None and question.get("survey") != survey:
            problems.append(
                _problem("other_survey", criterion, question_survey=question.get("survey"), survey=survey)
            )
    question_kind = question.get("kind") if question is not None else None
    needed = _FITTING_QUESTION_KIND.get(criterion.kind)
    if question is not None and needed is not None and question_kind != needed:
        problems.append(
            _problem("kind_mismatch", criterion, kind=criterion.kind, question_kind=question_kind)
        )
    if criterion.kind == "choice":
        if not criterion.accepted:
            problems.append(_problem("no_accepted_answer", criterion))
        elif question is not None and question_kind == "choice":
            foreign = criterion.accepted - frozenset(question.get("answers") or ())
            if foreign:
                problems.append(_problem("foreign_answers", criterion, answers=_sorted(foreign)))
    if criterion.kind == "numeric":
        low, high = criterion.minimum, criterion.maximum
        if not (_is_bound(low) and _is_bound(high)):
            problems.append(_problem("bound_not_finite", criterion, minimum=low, maximum=high))
        elif low is None and high is None:
            problems.append(_problem("no_bound", criterion))
        elif low is not None and high is not None and low > high:
            problems.append(_problem("bounds_reversed", criterion, minimum=low, maximum=high))
    return problems


def criteria_problems(
    criteria: Iterable[Criterion], questions: Mapping[Any, Any] | None = None, *, survey: Any = None
) -> list[Problem]:
    """What is wrong with stage criteria before they are saved, as problem codes with parameters.

    Inputs:

    - ``criteria``: the :class:`Criterion` values to check;
    - ``questions`` (optional): mapping question id -> a mapping with the keys ``kind`` (one of
      :data:`QUESTION_KINDS`), ``answers`` (the question's answer ids, for choice questions) and ``survey``
      (the survey id). Without it, only what a criterion says on its own is checked;
    - ``survey`` (optional, keyword): the survey every question must belong to (the team's qualification
      survey); checked only when ``questions`` is given.

    Output: the :class:`~activity_centric.problems.Problem` values found, in the order of ``criteria`` (empty:
    every criterion is valid). Every problem of a criterion has the parameters ``stage``, ``question``,
    ``label`` and ``id`` of the criterion, and per code:

    - ``not_a_criterion``: a value that is not a :class:`Criterion` (only the parameter ``value``);
    - ``unknown_kind``: a kind not in :data:`CRITERION_KINDS` (``kind``, ``kinds``);
    - ``unknown_question``: a question not in ``questions``;
    - ``other_survey``: a question of another survey than ``survey`` (``question_survey``, ``survey``);
    - ``kind_mismatch``: a choice criterion on a non-choice question, a numeric one on a non-numeric
      question; ``answered`` fits every question (``kind``, ``question_kind``);
    - ``no_accepted_answer``: a choice criterion without accepted answers;
    - ``foreign_answers``: accepted answers that are not the question's (``answers``, a sorted tuple);
    - ``bound_not_finite``: a numeric bound that is not a finite number or None (``minimum``, ``maximum``);
    - ``no_bound``: a numeric criterion without any bound;
    - ``bounds_reversed``: minimum > maximum; equal bounds are fine (``minimum``, ``maximum``).
    """
    problems = []
    for criterion in criteria:
        if not isinstance(criterion, Criterion):
            problems.append(Problem("not_a_criterion", {"value": criterion}))
            continue
        problems.extend(_criterion_problems(criterion, questions, survey))
    return problems


def problem_text(problem: Problem) -> str:
    """One problem of :func:`criteria_problems` as an English sentence (what :func:`validate_criteria` and
    other plain callers show), from :data:`PROBLEM_TEXTS`."""
    params = problem.params
    if problem.code == "not_a_criterion":
        return english(problem, PROBLEM_TEXTS)
    extra: dict[str, Any] = {
        "name": _name(params["stage"], params["question"], params["label"], params["id"])
    }
    if problem.code == "unknown_kind":
        extra["kinds"] = ", ".join(params["kinds"])
    elif problem.code == "foreign_answers":
        extra["listed"] = _listing(params["answers"])
    elif problem.code == "kind_mismatch":
        kind = params["question_kind"]
        extra["fitting"] = (
            f"a {kind} criterion or an 'answered' one"
            if kind in ("choice", "numeric")
            else "an 'answered' criterion"
        )
    return english(problem, PROBLEM_TEXTS, **extra)


def validate_criteria(
    criteria: Iterable[Criterion], questions: Mapping[Any, Any] | None = None, *, survey: Any = None
) -> None:
    """Check stage criteria before they are saved; raise one error listing every problem found.

    Inputs: as :func:`criteria_problems`, which finds the problems.

    Output: ``None`` when every criterion is valid.

    Raises:
        ValueError: at least one problem; the message has a first line counting them, then one line per
            problem (``- <sentence>``, the sentence of :func:`problem_text`).
    """
    problems = [problem_text(problem) for problem in criteria_problems(criteria, questions, survey=survey)]
    if problems:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise ValueError(f"the stage criteria have {count}:\n" + "\n".join(f"- {p}" for p in problems))
