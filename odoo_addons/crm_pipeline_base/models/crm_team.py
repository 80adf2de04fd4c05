from odoo import api, models, tools
from odoo.tools.safe_eval import safe_eval


class CrmTeam(models.Model):
    _inherit = "crm.team"

    @api.model
    def _pd_team_ids_fields(self):
        """The team fields that :meth:`_pd_team_ids` is asked about: writing one of them (or ``active``)
        clears its cache. Addons extend it: ``return super()._pd_team_ids_fields() | {...}``."""
        return frozenset()

    @api.model
    @tools.ormcache("field", "value")
    def _pd_team_ids(self, field, value):
        """The ids of the teams, archived ones too, whose ``field`` is ``value`` (a feature switched on per
        team: ``("followup_policy", "enforce")``), cached: a lead write or create that cannot concern those
        teams costs no query. ``field`` must be listed by :meth:`_pd_team_ids_fields`."""
        # sudo: every team's setting, whoever writes a lead; only ids leave this method
        teams = self.sudo().with_context(active_test=False)
        return frozenset(teams.search([(field, "=", value)]).ids)

    @api.model
    def _pd_feature_team_ids(self):
        """The ids of the teams where a feature that changes how the team works is switched on (a follow-up
        policy, stages set by a survey). Addons extend it: ``return super()._pd_feature_team_ids() | ...``,
        from :meth:`_pd_team_ids` (cached)."""
        return frozenset()

    @api.model
    def _pd_start_from_led_teams(self, action, team_ids):
        """``action`` (a window action on leads, as ``_for_xml_id`` gives it) opening on "My Teams' Pipeline"
        (the leads of the teams the user leads, and his own) instead of "My Pipeline" when the user leads one
        of the teams ``team_ids``: a team leader who is a member of none owns no deal, "My Pipeline" shows
        him nothing. Other users keep the action's filters."""
        context = action.get("context") or {}
        if isinstance(context, str):
            context = safe_eval(context, {"uid": self.env.uid})
        if context.get("search_default_assigned_to_me") and self.search_count(
            [("user_id", "=", self.env.uid), ("id", "in", list(team_ids))], limit=1
        ):
            context = {key: value for key, value in context.items() if key != "search_default_assigned_to_me"}
            context["search_default_pd_my_teams"] = 1
        action["context"] = context
        return action

    @api.model
    def _action_update_to_pipeline(self, action):
        # CRM's pipeline and forecast: a leader of a team with a feature on starts from his teams
        action = super()._action_update_to_pipeline(action)
        return self._pd_start_from_led_teams(action, self._pd_feature_team_ids())

    @api.model_create_multi
    def create(self, vals_list):
        teams = super().create(vals_list)
        if any(self._pd_team_ids_fields() & vals.keys() for vals in vals_list):
            self.env.registry.clear_cache()  # _pd_team_ids
        return teams

    def write(self, vals):
        if (self._pd_team_ids_fields() | {"active"}) & vals.keys():
            self.env.registry.clear_cache()  # _pd_team_ids
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # _pd_team_ids
        return super().unlink()
