from datetime import datetime, timedelta

import numpy as np
import pytz
from odoo.tests import tagged

from sla_rules import businesstime

from .common import MONDAY_10, SlaCase


@tagged("post_install", "-at_install")
class TestBusinessTime(SlaCase):
    """The rule's cutoffs and deadlines on its resource.calendar equal sla_rules' (offline) on the same
    schedule, and Odoo's own plan_hours."""

    def _cutoff(self, unit, amount, now):
        rule = self._rule(unit=unit, threshold=amount)
        return rule._sla_cutoffs(self.calendar, now).act

    def test_known_deadlines(self):
        """Hand-computed breach times on the Brussels week (Friday 6 March closed, DST on 29 March)."""
        cases = [
            # unit, amount, clock start (UTC), breach time (UTC)
            ("days", 2, MONDAY_10, datetime(2026, 3, 4, 9, 0)),
            ("hours", 10, MONDAY_10, datetime(2026, 3, 2, 19, 0)),
            # Monday 10:00 + 2 business days = Wednesday 10:00 local
            ("business_days", 2, MONDAY_10, datetime(2026, 3, 4, 9, 0)),
            # Monday 10-12, 13-17 (6 h), Tuesday 8-12 (4 h): Tuesday 12:00 local
            ("business_hours", 10, MONDAY_10, datetime(2026, 3, 3, 11, 0)),
            # Thursday 10:00 + 2 business days, Friday closed: Tuesday 10:00 local
            ("business_days", 2, datetime(2026, 3, 5, 9, 0), datetime(2026, 3, 10, 9, 0)),
            # Thursday 10-12, 13-17 (6 h), Friday closed, Monday 8-10: Monday 10:00 local
            ("business_hours", 8, datetime(2026, 3, 5, 9, 0), datetime(2026, 3, 9, 9, 0)),
            # a Saturday start counts from Monday: 1 business day ends Monday 24:00 local
            ("business_days", 1, datetime(2026, 3, 7, 10, 0), datetime(2026, 3, 9, 23, 0)),
            # across the change to summer time: Friday 10:00 (UTC+1) -> Monday 10:00 (UTC+2)
            ("business_days", 1, datetime(2026, 3, 27, 9, 0), datetime(2026, 3, 30, 8, 0)),
            ("business_hours", 4, datetime(2026, 3, 27, 14, 0), datetime(2026, 3, 30, 8, 0)),
        ]
        for unit, amount, start, breach in cases:
            with self.subTest(unit=unit, amount=amount, start=start):
                minute = timedelta(minutes=1)
                self.assertGreaterEqual(
                    self._cutoff(unit, amount, breach), start, "breached at the breach time"
                )
                self.assertLess(self._cutoff(unit, amount, breach - minute), start, "not a minute before")
                rule = self._rule(unit=unit, threshold=amount)
                deadline = rule._sla_deadlines(self.calendar, {1: start}, breach)[1]
                self.assertEqual(deadline, breach)

    def test_odoo_and_offline_agree(self):
        """Random instants over six weeks (a holiday, a DST change, nights and weekends): the rule's cutoff
        (leaves read around the evaluation time) equals the one sla_rules computes on the schedule with its
        leaves over the whole period, and business-hours deadlines equal Odoo's plan_hours."""
        rng = np.random.default_rng(19)
        base = datetime(2026, 3, 2)
        nows = [base + timedelta(minutes=int(m)) for m in rng.integers(7 * 24 * 60, 42 * 24 * 60, 60)]
        rule = self._rule(unit="business_hours", threshold=1)
        work = self.calendar._pd_work_calendar(base - timedelta(days=60), base + timedelta(days=90))
        for unit, amounts in (("business_hours", (0.5, 3, 8, 37)), ("business_days", (1, 3, 10))):
            rule.unit = unit
            for amount in amounts:
                for now in nows:
                    with self.subTest(unit=unit, amount=amount, now=now):
                        rule.threshold = amount
                        expected = rule._sla_cutoffs(self.calendar, now).act
                        self.assertEqual(businesstime.cutoff(now, amount, unit, work), expected)
                        if unit == "business_hours":
                            odoo = self.calendar.plan_hours(
                                -amount, pytz.utc.localize(now), compute_leaves=True
                            )
                            self.assertEqual(odoo.astimezone(pytz.utc).replace(tzinfo=None), expected)
        for start in nows[:30]:
            aware = pytz.utc.localize(start)
            for hours in (1, 6, 19.5):
                with self.subTest(start=start, hours=hours):
                    odoo = self.calendar.plan_hours(hours, aware, compute_leaves=True)
                    self.assertEqual(
                        businesstime.deadline(start, hours, "business_hours", work),
                        odoo.astimezone(pytz.utc).replace(tzinfo=None),
                    )
