from odoo import api, fields, models
from odoo.tools import format_date

from activity_centric import Capacity, Item, day_load, is_at_or_over


class ResUsers(models.Model):
    _inherit = "res.users"

    followup_digest_sent_on = fields.Date(
        string="Weekly Review Sent On",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Last weekly follow-up review sent to this user; the weekly run skips users already served.",
    )

    @api.model
    def _activity_capacities(self, user_ids):
        """Daily capacity per user: the tightest positive limit over the user's sales team memberships.

        :returns: ``{user_id: Capacity}`` (users without any limit are absent)
        """
        # sudo: a salesperson scheduling for a colleague sees the colleague's capacity, not the memberships
        rows = (
            self.env["crm.team.member"]
            .sudo()
            ._read_group(
                [("user_id", "in", list(user_ids))],
                ["user_id"],
                ["activity_daily_capacity:array_agg", "activity_daily_minutes:array_agg"],
            )
        )
        capacities = {}
        for user, counts, minutes in rows:
            count = min((value for value in counts if value), default=None)
            minute = min((value for value in minutes if value), default=None)
            if count is not None or minute is not None:
                capacities[user.id] = Capacity(count=count, minutes=minute)
        return capacities

    @api.model
    def _activity_items(self, user_ids, date_from, date_to, exclude_ids=()):
        """The open activities of these users due between two dates (all documents, not only leads), as
        ``activity_centric.Item`` values with their estimated minutes (one query for all the users).

        :returns: list of ``Item``
        """
        domain = [
            ("user_id", "in", list(user_ids)),
            ("date_deadline", ">=", date_from),
            ("date_deadline", "<=", date_to),
        ]
        if exclude_ids:
            domain.append(("id", "not in", list(exclude_ids)))
        # sudo: a day's load counts every activity of the user, also on documents the caller cannot read
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search_fetch(domain, ["user_id", "date_deadline", "activity_type_id"])
        )
        return [
            Item(
                id=activity.id,
                user=activity.user_id.id,
                day=activity.date_deadline,
                minutes=float(activity.activity_type_id.estimated_minutes or 0),
            )
            for activity in activities
        ]

    @api.model
    def _activity_capacity_warning(self, user, day, exclude_ids=()):
        """The onchange warning shown when scheduling onto a day that is already full (never a block)."""
        if not user or not day:
            return None
        capacity = self._activity_capacities(user.ids).get(user.id)
        if not capacity:
            return None
        load = day_load(self._activity_items(user.ids, day, day, exclude_ids), user.id, day)
        if not is_at_or_over(load, capacity):
            return None
        limits = []
        if capacity.count:
            limits.append(self.env._("%(count)s activities", count=capacity.count))
        if capacity.minutes:
            limits.append(self.env._("%(minutes)s minutes", minutes=capacity.minutes))
        return {
            "title": self.env._("%(user)s is fully booked", user=user.name),
            "message": self.env._(
                "%(user)s already has %(count)s activities (%(minutes)s minutes) on %(day)s; the daily "
                "capacity is %(limits)s. Consider another day, or use Plan tomorrow to level the load.",
                user=user.name,
                count=load.count,
                minutes=int(load.minutes),
                day=format_date(self.env, day),
                limits=self.env._(" and ").join(limits),
            ),
            "type": "notification",
        }
