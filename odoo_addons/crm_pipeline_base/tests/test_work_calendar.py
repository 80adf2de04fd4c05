from datetime import date, datetime, time, timedelta

import pytz
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

# pandas is imported lazily by the adapter; load it before anything patches datetime
import activity_centric  # noqa: F401 # pylint: disable=unused-import
import sla_rules  # noqa: F401 # pylint: disable=unused-import

BRUSSELS = pytz.timezone("Europe/Brussels")


def utc(day, hour=0.0):
    """Naive UTC datetime of a Brussels wall time (``day`` at ``hour``, decimal)."""
    wall = datetime.combine(day, time()) + timedelta(hours=hour)
    return BRUSSELS.localize(wall).astimezone(pytz.utc).replace(tzinfo=None)


def days(first, last):
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def attendance(day, start, end, period, week_type=False):
    return {
        "name": f"{day} {period}",
        "dayofweek": str(day),
        "hour_from": start,
        "hour_to": end,
        "day_period": period,
        "week_type": week_type,
    }


WEEK = [
    (day, start, end, period)
    for day in range(5)
    for start, end, period in ((8, 12, "morning"), (12, 13, "lunch"), (13, 17, "afternoon"))
]
HALF_DAY = date(2026, 3, 18)  # Wednesday: closed in the morning
HOLIDAY = date(2026, 3, 20)  # Friday: public holiday of the company (global leave)
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)  # DST changes in Brussels


@tagged("post_install", "-at_install")
class TestWorkCalendar(TransactionCase):
    """One working-day definition from resource.calendar: SLA business time (sla_rules), event chains and
    Plan Tomorrow (activity_centric) agree on it, and with Odoo's own counts, on a schedule with a half-day
    closure and a public holiday across both DST changes, a two-week schedule and a flexible one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Calendar = cls.env["resource.calendar"]
        cls.fixed = Calendar.create(
            {
                "name": "Brussels week",
                "tz": "Europe/Brussels",
                "attendance_ids": [(0, 0, attendance(*line)) for line in WEEK],
            }
        )
        cls.two_weeks = Calendar.create(
            {
                "name": "Brussels two weeks",
                "tz": "Europe/Brussels",
                "two_weeks_calendar": True,
                "attendance_ids": [(0, 0, attendance(*line, week_type="0")) for line in WEEK]
                + [(0, 0, attendance(day, 8, 12, "morning", week_type="1")) for day in range(3)],
            }
        )
        cls.flexible = Calendar.create(
            {
                "name": "Brussels flexible",
                "tz": "Europe/Brussels",
                "flexible_hours": True,
                "hours_per_day": 8,
                "full_time_required_hours": 40,
            }
        )
        cls.calendars = cls.fixed | cls.two_weeks | cls.flexible
        Leave = cls.env["resource.calendar.leaves"]
        for calendar in cls.calendars:
            for closed in (HALF_DAY, HALF_DAY + timedelta(days=217)):  # also Wednesday 21 October
                Leave.create(
                    {
                        "name": "Morning closed",
                        "calendar_id": calendar.id,
                        "date_from": utc(closed, 8),
                        "date_to": utc(closed, 12),
                    }
                )
        for holiday in (HOLIDAY, HOLIDAY + timedelta(days=217)):  # also Friday 23 October
            Leave.create(
                {
                    "name": "Public holiday",
                    "calendar_id": False,  # a public holiday of the current company
                    "date_from": utc(holiday),
                    "date_to": utc(holiday, 23 + 59 / 60 + 59 / 3600),
                }
            )
        cls.calendars.company_id = cls.env.company
        # a resource's own leave does not close the schedule
        resource = cls.env["resource.resource"].create({"name": "Sam", "calendar_id": cls.fixed.id})
        Leave.create(
            {
                "name": "Sam's day off",
                "calendar_id": cls.fixed.id,
                "resource_id": resource.id,
                "date_from": utc(date(2026, 3, 17)),
                "date_to": utc(date(2026, 3, 18)),
            }
        )

    def _work(self, calendar, first=date(2026, 3, 1), last=date(2026, 11, 30)):
        return calendar._pd_work_calendar(first, last)

    def test_adapter_reads_attendances_leaves_and_time_zone(self):
        work = self._work(self.fixed)
        self.assertEqual(work.tz, "Europe/Brussels")
        self.assertEqual(len(work.attendances), 10, "no lunch break")
        self.assertEqual(work.weekly_hours, 40)
        self.assertEqual(len(work.leaves), 4, "the schedule's and the company's closures, not Sam's")
        two_weeks = self._work(self.two_weeks)
        self.assertEqual({a.week_type for a in two_weeks.attendances}, {0, 1})
        flexible = self._work(self.flexible)
        self.assertTrue(flexible.is_flexible)
        self.assertEqual((flexible.hours_per_week, flexible.hours_per_day), (40, 8))
        # another company's public holiday does not close this company's schedules
        other = self.env["res.company"].create({"name": "Elsewhere"})
        theirs = (
            self.env["resource.calendar.leaves"]
            .with_company(other)
            .create(
                {
                    "name": "Their holiday",
                    "calendar_id": False,
                    "date_from": utc(date(2026, 3, 19)),
                    "date_to": utc(date(2026, 3, 20)),
                }
            )
        )
        self.assertEqual(theirs.company_id, other)
        self.assertTrue(self._work(self.fixed).is_working_day(date(2026, 3, 19)))

    def test_working_days(self):
        week = days(date(2026, 3, 16), date(2026, 3, 22))
        for calendar in self.calendars:
            with self.subTest(calendar=calendar.name):
                # the half-day closure leaves a working day, the public holiday does not
                self.assertEqual(
                    self._work(calendar).working_dates(week[0], week[-1]),
                    [date(2026, 3, day) for day in (16, 17, 18, 19)],
                )
        # the second week of the two-week schedule: Monday to Wednesday
        self.assertEqual(
            self._work(self.two_weeks).working_dates(date(2026, 3, 23), date(2026, 3, 29)),
            [date(2026, 3, day) for day in (23, 24, 25)],
        )

    def test_working_days_agree_with_odoo(self):
        """A day is a working day exactly when Odoo counts work hours on it (leaves included)."""
        for calendar in self.fixed | self.two_weeks:
            work = self._work(calendar)
            for around in (SPRING, AUTUMN, HOLIDAY, HOLIDAY + timedelta(days=217)):
                for day in days(around - timedelta(days=10), around + timedelta(days=10)):
                    with self.subTest(calendar=calendar.name, day=day):
                        hours = calendar.get_work_hours_count(
                            pytz.utc.localize(utc(day)), pytz.utc.localize(utc(day + timedelta(days=1)))
                        )
                        self.assertEqual(work.is_working_day(day), hours > 0)

    def test_business_hours_agree_with_odoo(self):
        """SLA business hours on the adapted calendar are Odoo's plan_hours, across DST and closures."""
        from sla_rules import cutoff, deadline

        starts = [
            utc(date(2026, 3, 27), 16),  # Friday before the spring change
            utc(
                date(2026, 10, 23) - timedelta(days=1), 15
            ),  # Thursday before a holiday and the autumn change
            utc(HALF_DAY, 7),
            utc(HOLIDAY - timedelta(days=1), 15.5),
            utc(date(2026, 3, 25), 11),  # Wednesday of the two-week schedule's short week
        ]
        for calendar in self.fixed | self.two_weeks:
            work = self._work(calendar)
            for start in starts:
                for hours in (1, 3, 9, 20):
                    with self.subTest(calendar=calendar.name, start=start, hours=hours):
                        aware = pytz.utc.localize(start)
                        odoo = calendar.plan_hours(hours, aware, compute_leaves=True)
                        expected = odoo.astimezone(pytz.utc).replace(tzinfo=None)
                        self.assertEqual(deadline(start, hours, "business_hours", work), expected)
                        back = calendar.plan_hours(-hours, aware, compute_leaves=True)
                        self.assertEqual(
                            cutoff(start, hours, "business_hours", work),
                            back.astimezone(pytz.utc).replace(tzinfo=None),
                        )

    def test_sla_chains_and_plan_tomorrow_agree(self):
        """On every schedule, the working days Plan Tomorrow offers are those the SLA business-day deadlines
        and the event chains' deadlines count: a start at 10:00 on a working day is due at 10:00 on the n-th
        next working day for both; on a closed day, the chain counts from the next working day at the same
        time, the SLA clock to the end of the n-th working day."""
        import pandas as pd

        from activity_centric import Threshold, deadlines, working_days
        from sla_rules import deadline

        for calendar in self.calendars:
            for first in (date(2026, 3, 13), date(2026, 10, 16)):
                for day in days(first, first + timedelta(days=14)):
                    start = utc(day, 10)
                    for count in (1, 2, 3):
                        with self.subTest(calendar=calendar.name, day=day, count=count):

                            def compute(work, start=start, count=count, day=day):
                                chain = deadlines(
                                    pd.Series([start]), Threshold(count, "business_days"), calendar=work
                                ).iloc[0]
                                sla = deadline(start, count, "business_days", work)
                                plan = working_days(day, count + 1, calendar=work)
                                result = (work.is_working_day(day), chain, sla, plan)
                                return result, start, plan[-1] + timedelta(days=1)

                            working, chain, sla, plan = calendar._pd_work_time(start, start, compute)
                            chain = chain.tz_localize(None).to_pydatetime()
                            if working:
                                self.assertEqual(chain, utc(plan[count - 1], 10))
                                self.assertEqual(sla, chain)
                            else:
                                self.assertEqual(chain, utc(plan[count], 10))
                                self.assertEqual(sla, utc(plan[count - 1] + timedelta(days=1)))

    def test_flexible_hours_count_days_not_hours(self):
        from activity_centric import CalendarError
        from sla_rules import RuleError, cutoff

        work = self._work(self.flexible)
        self.assertEqual(
            work.working_dates(date(2026, 3, 20), date(2026, 3, 23)),
            [date(2026, 3, 23)],
            "Friday is a holiday",
        )
        with self.assertRaises(RuleError) as caught:
            cutoff(utc(date(2026, 3, 23), 10), 4, "business_hours", work)
        self.assertEqual(caught.exception.code, "flexible_hours")
        with self.assertRaises(UserError) as refused:
            try:
                work.work_intervals([0])
            except CalendarError as error:
                raise UserError(self.flexible._pd_calendar_problem(error)) from None
        self.assertIn("flexible hours", str(refused.exception))

    def test_leaves_read_as_far_as_the_computation_reaches(self):
        """The leaves are read in one query over the window asked for; a computation reaching beyond it
        reads them again over a wider window, so that a holiday further on still counts."""
        from activity_centric import working_days

        def compute(work):
            result = working_days(date(2026, 3, 2), 15, calendar=work)
            return result, date(2026, 3, 2), result[-1]

        self.fixed._pd_work_calendar(date(2026, 3, 2), date(2026, 3, 2))  # the schedule itself is read
        with self.assertQueryCount(1):
            wide = self.fixed._pd_work_time(date(2026, 3, 2), date(2026, 4, 30), compute)
        with self.assertQueryCount(2):
            result = self.fixed._pd_work_time(date(2026, 3, 2), date(2026, 3, 2), compute)
        self.assertEqual(result, wide)
        self.assertNotIn(HOLIDAY, result)
        self.assertIn(HALF_DAY, result)
        self.assertEqual(result[-1], date(2026, 3, 24))
