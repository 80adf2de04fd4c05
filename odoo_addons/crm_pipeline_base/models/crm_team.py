from odoo import api, models, tools


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
