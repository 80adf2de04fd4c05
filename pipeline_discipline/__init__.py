"""What the plain packages ``activity_centric``, ``funnel_metrics`` and ``sla_rules`` share (plain Python, no
Odoo): the form of a validator's findings.

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

from pipeline_discipline.problems import Problem, english

__all__ = ["Problem", "english"]
