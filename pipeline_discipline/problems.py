"""Problems found by a validator: codes with parameters (see the package docstring)."""

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
