from datetime import timedelta

import pytz
from odoo import models

WEEKDAYS = (0, 1, 2, 3, 4)


class ResCompany(models.Model):
    _inherit = "res.company"

    def _followup_working_days(self, tz="UTC"):
        """Working weekdays (Monday = 0) and public holidays (local dates in ``tz``) of the company's
        working calendar, as the business-day functions of ``activity_centric`` take them."""
        self.ensure_one()
        calendar = self.resource_calendar_id
        attendances = calendar.attendance_ids.filtered(lambda attendance: not attendance.display_type)
        workdays = tuple(sorted({int(day) for day in attendances.mapped("dayofweek")})) or WEEKDAYS
        zone = pytz.timezone(tz)
        holidays = set()
        for leave in calendar.leave_ids.filtered(lambda leave: not leave.resource_id):
            first = pytz.utc.localize(leave.date_from).astimezone(zone).date()
            last = pytz.utc.localize(leave.date_to).astimezone(zone).date()
            holidays.update(first + timedelta(days=offset) for offset in range((last - first).days + 1))
        return workdays, sorted(holidays)
