"""Business time of a rule: its working schedules and cutoffs."""

from datetime import timedelta

import pytz
from odoo import models
from odoo.exceptions import UserError

from .crm_sla_rule import BUSINESS_UNITS


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"

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

    def _sla_cutoff(self, calendar, now, amount):
        """Latest clock start that has used up ``amount`` (rule unit) at ``now`` (naive UTC):
        ``resource.calendar`` does the business-time arithmetic."""
        if self.unit == "hours":
            return now - timedelta(hours=amount)
        if self.unit == "days":
            return now - timedelta(days=amount)
        aware = pytz.utc.localize(now)
        if self.unit == "business_hours":
            cutoff = calendar.plan_hours(-amount, aware, compute_leaves=True)
            if not cutoff:
                raise UserError(self._sla_no_working_time(calendar))
            return cutoff.astimezone(pytz.utc).replace(tzinfo=None)
        from sla_rules.businesstime import business_days_cutoff

        days = int(amount)
        window = timedelta(days=2 * days + 14)
        while True:
            intervals = calendar._work_intervals_batch(aware - window, aware + timedelta(days=1))[False]
            dates = {start.date() for start, _stop, _meta in intervals}
            today = aware.astimezone(pytz.timezone(calendar.tz or "UTC")).date()
            if len([d for d in dates if d < today]) >= days:
                return business_days_cutoff(now, days, calendar.tz or "UTC", dates)
            if window > timedelta(days=3 * 366):
                raise UserError(self._sla_no_working_time(calendar))
            window *= 2

    def _sla_no_working_time(self, calendar):
        return self.env._(
            "The working schedule “%(calendar)s” of the SLA rule “%(rule)s” has no working time left to "
            "count (no attendance, or everything on leave): fix the schedule or choose another one.",
            calendar=calendar.display_name,
            rule=self.name,
        )

    def _sla_work_calendar(self, calendar, start, end):
        """The plain-package form of ``calendar`` (attendances and closures between ``start`` and ``end``),
        for the per-lead breach times; the cutoffs themselves come from ``resource.calendar``."""
        from sla_rules.businesstime import Attendance, WorkCalendar

        attendances = tuple(
            Attendance(int(line.dayofweek), line.hour_from, line.hour_to)
            for line in calendar.attendance_ids
            if not line.display_type and line.day_period != "lunch"
        )
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("time_type", "=", "leave"),
                    ("calendar_id", "in", [False, calendar.id]),
                    ("resource_id", "=", False),
                    ("date_from", "<=", end),
                    ("date_to", ">=", start),
                ]
            )
        )
        return WorkCalendar(
            tz=calendar.tz or "UTC",
            attendances=attendances,
            leaves=tuple((leave.date_from, leave.date_to) for leave in leaves),
        )

    def _sla_deadlines(self, calendar, starts, now):
        """``{lead_id: breach time}`` for ``starts`` (``{lead_id: clock start}``)."""
        if not starts:
            return {}
        import pandas as pd

        from sla_rules.businesstime import deadlines

        work_calendar = None
        if self.unit in BUSINESS_UNITS:
            span = timedelta(days=max(2 * self.threshold, 14) + 14)
            work_calendar = self._sla_work_calendar(calendar, min(starts.values()) - span, now + span)
        series = pd.Series(list(starts.values()), index=list(starts.keys()))
        result = deadlines(series, self.threshold, self.unit, work_calendar)
        return {
            lead_id: (
                value.tz_convert("UTC").tz_localize(None).to_pydatetime() if not pd.isna(value) else False
            )
            for lead_id, value in result.items()
        }
