from datetime import datetime, time, timedelta

from odoo import models
from odoo.fields import Domain

# the leaves are read one day beyond what a computation reaches: a local day starts up to 14 hours away
# from its UTC date
MARGIN = timedelta(days=1)


def _utc(value):
    """A naive UTC datetime of ``value`` (a naive UTC datetime, or a date: its 00:00 UTC)."""
    return value if isinstance(value, datetime) else datetime.combine(value, time.min)


class ResourceCalendar(models.Model):
    _inherit = "resource.calendar"

    def _pd_work_calendar(self, date_from, date_to):
        """The schedule as an :class:`activity_centric.WorkCalendar`, with the leaves that overlap
        ``[date_from, date_to]`` (naive UTC datetimes, or dates).

        Attendances without section lines and lunch breaks (with their week in a two-week schedule), or the
        flexible hours (full-time hours a week, average hours a day); the time zone; the schedule's closures
        and the global ones (``calendar_id`` empty, of the schedule's company): leaves of the whole schedule
        (no resource) of type ``leave``, read in one query.
        """
        from activity_centric import Attendance, WorkCalendar  # noqa: PLC0415 - pandas is heavy

        self.ensure_one()
        start, end = _utc(date_from), _utc(date_to)
        global_leaves = Domain("calendar_id", "=", False)
        if self.company_id:
            global_leaves &= Domain("company_id", "in", [False, self.company_id.id])
        # sudo: a schedule's closures apply to everyone whose business time it counts, whichever companies
        # the current user may read
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search_fetch(
                Domain("time_type", "=", "leave")
                & Domain("resource_id", "=", False)
                & (Domain("calendar_id", "=", self.id) | global_leaves)
                & Domain("date_from", "<=", end)
                & Domain("date_to", ">=", start),
                ["date_from", "date_to"],
            )
        )
        closures = tuple(
            (leave.date_from, leave.date_to) for leave in leaves if leave.date_to > leave.date_from
        )
        tz = self.tz or "UTC"
        if self.flexible_hours:
            return WorkCalendar(
                tz=tz,
                attendances=(),
                leaves=closures,
                hours_per_week=self.full_time_required_hours or self.hours_per_week,
                hours_per_day=self.hours_per_day,
            )
        attendances = tuple(
            Attendance(
                int(line.dayofweek),
                line.hour_from,
                line.hour_to,
                int(line.week_type) if self.two_weeks_calendar and line.week_type else None,
            )
            for line in self.attendance_ids
            if not line.display_type and line.day_period != "lunch" and line.hour_to > line.hour_from
        )
        return WorkCalendar(tz=tz, attendances=attendances, leaves=closures)

    def _pd_work_time(self, date_from, date_to, compute):
        """``compute(work_calendar)`` on the schedule's :meth:`_pd_work_calendar`, with the leaves of every
        instant it reads.

        ``compute`` returns ``(result, first, last)``: its result and the earliest and latest instants
        (naive UTC datetimes, or dates) it reached. The leaves are read from ``date_from`` to ``date_to``
        first; when the computation reached beyond them, they are read again over a window twice as wide,
        until it stays inside. Returns the result.
        """
        self.ensure_one()
        start, end = _utc(date_from) - MARGIN, _utc(date_to) + MARGIN
        while True:
            result, first, last = compute(self._pd_work_calendar(start, end))
            if _utc(first) - MARGIN >= start and _utc(last) + MARGIN <= end:
                return result
            width = max(end - start, timedelta(days=7))
            start, end = min(start, _utc(first) - MARGIN - width), max(end, _utc(last) + MARGIN + width)

    def _pd_calendar_problem(self, error):
        """The message, in the user's language, of an ``activity_centric.CalendarError`` (or an error carrying
        its ``code``) raised while counting business time on this schedule."""
        self.ensure_one()
        if error.code == "flexible_hours":
            return self.env._(
                "The working schedule “%(calendar)s” has flexible hours, without fixed working times: "
                "business hours cannot be counted on it. Count business days, or give the schedule working "
                "hours.",
                calendar=self.display_name,
            )
        if error.code == "no_working_time":
            return self.env._(
                "The working schedule “%(calendar)s” has no working time left to count (no attendance, or "
                "everything on leave): fix the schedule or choose another one.",
                calendar=self.display_name,
            )
        return self.env._(
            "The working schedule “%(calendar)s” cannot be used to count business time: %(problem)s",
            calendar=self.display_name,
            problem=str(error),
        )
