from odoo import fields, models


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    activity_daily_capacity = fields.Integer(
        string="Activities per Day",
        help="How many activities this salesperson can handle in a day; 0 means no limit. "
        "Scheduling beyond it shows a warning and Plan tomorrow proposes moves.",
    )
    activity_daily_minutes = fields.Integer(
        string="Minutes per Day",
        help="Working minutes per day for activities, counted with each activity type's estimated minutes; "
        "0 means no limit.",
    )

    _activity_capacity_positive = models.Constraint(
        "CHECK (activity_daily_capacity >= 0 AND activity_daily_minutes >= 0)",
        "A daily capacity cannot be negative.",
    )
