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


def _describe(criterion: Criterion) -> str:
    """How messages name a criterion: its label (or id), its stage and its question."""
    where = f"stage {criterion.stage!r}, question {criterion.question!r}"
    if criterion.label:
        return f"criterion {criterion.label!r} ({where})"
    if criterion.id is not None:
        return f"criterion {criterion.id!r} ({where})"
    return f"criterion on {where}"


def _listing(values: Iterable[Any]) -> str:
    """``values`` as a sorted, comma-separated list of reprs (sorted by repr when they do not compare)."""
    values = list(values)
    try:
        ordered = sorted(values)
    except TypeError:
        ordered = sorted(values, key=repr)
    return ", ".join(repr(value) for value in ordered)


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


def _problems(criterion: Criterion, questions: Mapping[Any, Any] | None, survey: Any) -> list[str]:
    """The sentences describing what is wrong with one criterion (empty: nothing)."""
    name = _describe(criterion)
    problems = []
    if criterion.kind not in CRITERION_KINDS:
        problems.append(
            f"{name} has the unknown kind {criterion.kind!r}: use one of {', '.join(CRITERION_KINDS)}."
        )
    question = None
    if questions is not None:
        question = questions.get(criterion.question)
        if question is None:
            problems.append(
                f"{name} is on question {criterion.question!r}, which is not one of the survey's questions: "
                "pick a question of the team's qualification survey."
            )
        elif survey is not None and question.get("survey") != survey:
            problems.append(
                f"{name} is on a question of another survey ({question.get('survey')!r}, not {survey!r}): "
                "pick a question of the team's qualification survey."
            )
    question_kind = question.get("kind") if question is not None else None
    needed = _FITTING_QUESTION_KIND.get(criterion.kind)
    if question is not None and needed is not None and question_kind != needed:
        problems.append(
            f"{name} is a {criterion.kind} criterion but question {criterion.question!r} is a "
            f"{question_kind} question: use "
            + (
                f"a {question_kind} criterion or an 'answered' one."
                if question_kind in ("choice", "numeric")
                else "an 'answered' criterion."
            )
        )
    if criterion.kind == "choice":
        if not criterion.accepted:
            problems.append(
                f"{name} is a choice criterion with no accepted answer: select at least one answer."
            )
        elif question is not None and question_kind == "choice":
            foreign = criterion.accepted - frozenset(question.get("answers") or ())
            if foreign:
                problems.append(
                    f"{name} accepts answer(s) {_listing(foreign)} that are not answers of question "
                    f"{criterion.question!r}: accept only the question's own answers."
                )
    if criterion.kind == "numeric":
        low, high = criterion.minimum, criterion.maximum
        if not (_is_bound(low) and _is_bound(high)):
            problems.append(
                f"{name} has bounds that are not finite numbers (minimum={low!r}, maximum={high!r}): "
                "give numbers or leave a bound empty."
            )
        elif low is None and high is None:
            problems.append(
                f"{name} is a numeric criterion without any bound: set a minimum, a maximum or both."
            )
        elif low is not None and high is not None and low > high:
            problems.append(
                f"{name} has its bounds reversed (minimum {low:g} > maximum {high:g}): swap them."
            )
    return problems


def validate_criteria(
    criteria: Iterable[Criterion], questions: Mapping[Any, Any] | None = None, *, survey: Any = None
) -> None:
    """Check stage criteria before they are saved; raise one error listing every problem found.

    Inputs:

    - ``criteria``: the :class:`Criterion` values to check;
    - ``questions`` (optional): mapping question id -> a mapping with the keys ``kind`` (one of
      :data:`QUESTION_KINDS`), ``answers`` (the question's answer ids, for choice questions) and ``survey``
      (the survey id). Without it, only what a criterion says on its own is checked;
    - ``survey`` (optional, keyword): the survey every question must belong to (the team's qualification
      survey); checked only when ``questions`` is given.

    Problems found, one sentence each, in the order of ``criteria``: an unknown criterion kind; a criterion
    on a question not in ``questions`` or of another survey than ``survey``; a criterion kind that does not
    fit its question (choice on a non-choice question, numeric on a non-numeric one; ``answered`` fits every
    question); a choice criterion without accepted answers, or accepting answers that do not belong to its
    question; a numeric criterion without any bound, with a bound that is not a finite number, or with its
    bounds reversed (minimum > maximum; equal bounds are fine).

    Output: ``None`` when every criterion is valid.

    Raises:
        ValueError: at least one problem; the message has a first line counting them, then one line per
            problem (``- <sentence>``).
    """
    problems = []
    for criterion in criteria:
        if not isinstance(criterion, Criterion):
            problems.append(
                f"{criterion!r} is not a Criterion: build criteria with funnel_metrics.Criterion."
            )
            continue
        problems.extend(_problems(criterion, questions, survey))
    if problems:
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        raise ValueError(f"the stage criteria have {count}:\n" + "\n".join(f"- {p}" for p in problems))
