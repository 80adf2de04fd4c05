"""The form of a validator's findings, shared by the plain packages ``activity_centric``, ``funnel_metrics``
and ``sla_rules``.

A validator does not write sentences: it returns :class:`Problem` values, a *code* naming what is wrong and
the *parameters* that say where and by how much. Each caller words them for its reader:

- the Odoo addons map each code to a translatable message (``self.env._("...", **params)``), naming records
  by their display names;
- the command lines, error messages and notebooks use the package's English wording, one plain function per
  package (``funnel_metrics.gates.problem_text``, ``activity_centric.chains.problem_text``), built on
  :func:`english`.

The codes of each validator and their parameters are listed in its docstring; they are part of its public
API (an addon relies on them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem a validator found.

    - ``code``: what is wrong, a short stable identifier (``"bounds_reversed"``);
    - ``params``: the values that locate and measure it (ids, names, bounds...), plain values only; read-only.
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


def english(problem: Problem, templates: Mapping[str, str], **extra: Any) -> str:
    """``problem`` in English: its code's template from ``templates`` filled (``str.format``) with its
    parameters and ``extra`` (values derived for the sentence, which take precedence).

    Raises:
        KeyError: no template for the code, or the template names a parameter the problem lacks.
    """
    return templates[problem.code].format(**{**problem.params, **extra})
