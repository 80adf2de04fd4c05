import pytz
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CrmPipelineReportScope(models.AbstractModel):
    """What a pipeline report looks at: a period of days and sales teams.

    The days are the user's: a manager in Sydney asking for March gets his March, from midnight on the 1st
    to midnight on the 1st of April, Sydney time (his preferences' time zone, UTC when he has none). The
    report names the time zone (``period_tz``); ``funnel-metrics --tz`` counts days the same way.
    """

    _name = "crm.pipeline.report.scope"
    _description = "Pipeline Report Scope"

    date_from = fields.Date(string="From")
    date_to = fields.Date(string="To")
    team_ids = fields.Many2many("crm.team", string="Sales Teams", help="Leave empty for every team.")
    period_tz = fields.Char(
        string="Days In",
        compute="_compute_period_tz",
        help="The period's days start and end at midnight in this time zone: yours, from your preferences "
        "(UTC when you have none).",
    )

    @api.depends_context("tz", "uid")
    def _compute_period_tz(self):
        for scope in self:
            scope.period_tz = self._tz()

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for scope in self:
            if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
                raise ValidationError(self.env._("The period ends before it starts: check the two dates."))

    def _tz(self):
        """The user's time zone (the context's, else his preferences'), UTC when none is set or known."""
        tz = self.env.context.get("tz") or self.env.user.tz
        return tz if tz in pytz.all_timezones_set else "UTC"

    def _period_bounds(self):
        """``(start, end)`` of the period as naive UTC datetimes, end excluded: midnight at the start of
        ``date_from`` and at the end of ``date_to`` in the user's time zone (``funnel_metrics.period_bounds``,
        as the command line counts them); None for an open bound."""
        from funnel_metrics.periods import period_bounds  # noqa: PLC0415 - pandas is heavy: load it when asked

        self.ensure_one()
        return period_bounds(self.date_from or None, self.date_to or None, self._tz())
