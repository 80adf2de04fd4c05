from markupsafe import Markup
from odoo import models
from odoo.tools import SQL


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def _pd_user_write_fields(self):
        """The lead fields whose writes an addon judges by the rights of the user who makes them (a guard
        that refuses some changes to some users). An "Update Record" server action that sets one of them
        runs with the user's rights, not as superuser (``ir.actions.server._run_action_object_write``).
        Addons extend it: ``return super()._pd_user_write_fields() | {...}``."""
        return frozenset()

    def _pd_counted_models(self):
        """The counts of the lead form's stat buttons that :meth:`_compute_pd_counts` computes: ``{count
        field: (model, domain)}``, the records of ``model`` whose ``lead_id`` is the lead, within ``domain``.
        Addons extend it (``return {**super()._pd_counted_models(), "x_count": ("x.model", [])}``) and
        declare the field with ``compute="_compute_pd_counts"``: Odoo computes the fields that share a
        compute method together, so all the counts of a form cost one query."""
        return {}

    def _compute_pd_counts(self):
        """Every count of :meth:`_pd_counted_models` for these leads in one query, each counting the records
        the user may read (the model's record rules, archived records left out), as a grouped read would."""
        counted = self._pd_counted_models()
        ids = [lead_id for lead_id in self.ids if isinstance(lead_id, int)]
        parts = []
        for name, (model, domain) in counted.items():
            if not ids:
                break
            query = self.env[model]._search([("lead_id", "in", ids), *domain])
            if query.is_empty():
                continue
            lead = self.env[model]._field_to_sql(query.table, "lead_id", query)
            query.groupby = lead  # grouped in place, not around a sub-query: less for PostgreSQL to plan
            parts.append(query.select(SQL("%s", name), lead, SQL("count(*)")))
        counts = {}
        if parts:
            for name, lead_id, count in self.env.execute_query(SQL(" UNION ALL ").join(parts)):
                counts[name, lead_id] = count
        for lead in self:
            for name in counted:
                lead[name] = counts.get((name, lead.id), 0)

    def _pd_hand_over_activities(self, previous_users, policies=None, by_sla=False):
        """After a change of salesperson of the leads ``self``: give the previous owner's open activities on
        each lead to its new owner, where ``activity_centric.activities_to_hand_over`` says so, and note it
        in the lead's chatter. ``previous_users``: ``{lead id: user id before the change}``; ``policies``:
        ``{lead id: follow-up policy of its team}`` (missing: ``off``); ``by_sla``: an SLA rule's own
        reassignment (always hands over). Set-based: one search, one write per new owner, one batch of
        notes. Returns the leads whose activities moved."""
        from activity_centric import (  # noqa: PLC0415
            OpenActivity,
            Reassignment,
            activities_to_hand_over,
            hands_over,
        )

        policies = policies or {}
        changes = {
            lead.id: Reassignment(
                previous_users.get(lead.id) or None,
                lead.user_id.id or None,
                policies.get(lead.id, "off"),
                by_sla,
            )
            # sudo: the new owners, read after a write that may have given the lead away (a salesperson
            # handing his lead to a colleague no longer reads it)
            for lead in self.sudo()
            if lead.id in previous_users
        }
        changes = {lead_id: change for lead_id, change in changes.items() if hands_over(change)}
        if not changes:
            return self.browse()
        previous = {change.previous_user for change in changes.values()}
        # sudo: the change of hands decides where the previous owner's activities go, whoever makes it
        Activity = self.env["mail.activity"].sudo()
        activities = Activity.search_fetch(
            [
                ("res_model", "=", self._name),
                ("res_id", "in", list(changes)),
                ("user_id", "in", list(previous)),
            ],
            ["res_id", "user_id", "activity_type_id", "summary"],
        )
        moves = activities_to_hand_over(
            changes,
            [OpenActivity(activity.id, activity.res_id, activity.user_id.id) for activity in activities],
        )
        if not moves:
            return self.browse()
        by_user = {}
        for activity_id, user_id in moves.items():
            by_user.setdefault(user_id, []).append(activity_id)
        for user_id, activity_ids in by_user.items():
            # one "you have an activity" mail per activity would flood the new owner: the note says it
            Activity.browse(activity_ids).with_context(mail_activity_quick_update=True).write(
                {"user_id": user_id}
            )
        handed = {}
        for activity in Activity.browse(list(moves)):
            handed.setdefault(activity.res_id, []).append(
                f"{activity.activity_type_id.name}: {activity.summary}"
                if activity.summary
                else activity.activity_type_id.name or ""
            )
        leads = self.browse(sorted(handed))
        Users = self.env["res.users"].sudo()  # sudo: the names of the previous and new owner, for the note
        bodies = {
            lead_id: Markup("<p>%s</p>")
            % self.env._(
                "Open activities handed over from %(previous)s to %(new)s with the lead: %(activities)s.",
                previous=Users.browse(changes[lead_id].previous_user).name,
                new=Users.browse(changes[lead_id].new_user).name,
                activities=", ".join(names),
            )
            for lead_id, names in handed.items()
        }
        leads._message_log_batch(bodies=bodies)
        return leads
