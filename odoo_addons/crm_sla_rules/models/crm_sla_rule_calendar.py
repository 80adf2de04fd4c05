"""Business time of a rule: its working schedules and cutoffs."""

from datetime import timedelta

from odoo import models
from odoo.exceptions import UserError

from sla_rules.businesstime import BUSINESS_UNITS


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    def _sla_calendar_groups(self):
        """``[(calendar, company ids or None)]``: the working schedules that apply, with their companies
        (leads without company go with the current company)."""
        self.ensure_one()
        if self.unit not in BUSINESS_UNITS:
            return [(self.env["resource.calendar"], None)]
        if self.calendar_id:
            return [(self.calendar_id, None)]
        groups = {}
        for company in self._sla_companies():
            company_ids = groups.setdefault(company.resource_calendar_id, [])
            company_ids.append(company.id)
            if company == self.env.company:
                company_ids.append(False)
        if not any(False in ids for ids in groups.values()) and not self.company_ids:
            groups.setdefault(self.env.company.resource_calendar_id, []).append(False)
        return list(groups.items())

    def _sla_cutoffs(self, calendar, now):
        """The rule's breach and warning cutoffs at ``now`` (naive UTC): :func:`sla_rules.cutoffs` on the
        schedule's work calendar (``calendar``, empty for days and hours), the one cutoff of each kind the
        rule's SQL selection compares with (``.act``; ``.warn``, ``None`` without a warning).

        :raise UserError: the schedule cannot count the rule's unit
        """
        from sla_rules.rules import cutoffs

        rule = self._sla_rule_values()
        if self.unit not in BUSINESS_UNITS:
            return cutoffs(rule, now, None)

        def compute(work):
            result = cutoffs(rule, now, work)
            return result, min(result.act, result.warn or result.act), now

        return self._sla_business_time(calendar, now - self._sla_reach(), now, compute)

    def _sla_deadlines(self, calendar, starts, now, amount=None):
        """``{lead_id: breach time}`` for ``starts`` (``{lead_id: clock start}``):
        :func:`sla_rules.businesstime.deadlines` on the schedule's work calendar; with ``amount``, the time
        that ``amount`` of the rule's unit has run instead of its threshold (``threshold - warning_before``:
        the warning time).

        :raise UserError: the schedule cannot count the rule's unit
        """
        if not starts:
            return {}
        import pandas as pd

        from sla_rules.businesstime import deadlines

        series = pd.Series(list(starts.values()), index=list(starts.keys()))
        amount = self.threshold if amount is None else amount
        if self.unit in BUSINESS_UNITS:
            first = min(starts.values())

            def compute(work):
                result = deadlines(series, amount, self.unit, work)
                last = result.max()
                return (
                    result,
                    first,
                    now if pd.isna(last) else max(now, last.tz_localize(None).to_pydatetime()),
                )

            result = self._sla_business_time(calendar, first, now + self._sla_reach(), compute)
        else:
            result = deadlines(series, amount, self.unit)
        return {
            lead_id: (
                value.tz_convert("UTC").tz_localize(None).to_pydatetime() if not pd.isna(value) else False
            )
            for lead_id, value in result.items()
        }

    def _sla_reach(self):
        """How far from the evaluation time the rule's business time usually reaches: the first window of
        leaves read (a longer reach widens it)."""
        return timedelta(days=max(2 * self.threshold, 14) + 14)

    def _sla_business_time(self, calendar, date_from, date_to, compute):
        """``compute(work calendar)`` on ``calendar``'s work calendar, its leaves read from ``date_from`` to
        ``date_to`` and further if it reaches beyond (``resource.calendar._pd_work_time``); a calendar that
        cannot count the rule's unit is a UserError."""
        from sla_rules import RuleError

        try:
            return calendar._pd_work_time(date_from, date_to, compute)
        except RuleError as error:
            if not error.code:
                raise
            raise UserError(
                self.env._(
                    "SLA rule “%(rule)s”: %(problem)s",
                    rule=self.name,
                    problem=calendar._pd_calendar_problem(error),
                )
            ) from None
