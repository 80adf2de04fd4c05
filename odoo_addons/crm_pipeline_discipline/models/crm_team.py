from odoo import fields, models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    sla_rule_count = fields.Integer(
        compute="_compute_sla_rule_count",
        string="Active SLA Rules",
        help="Active SLA rules that watch this team's leads: the rules naming the team and the rules for "
        "every team, in the team's company.",
    )

    def _covering_sla_rules(self):
        """The active SLA rules the user can read that apply to the leads of ``self`` (one team)."""
        self.ensure_one()
        return (
            self.env["crm.sla.rule"]
            .search([("active", "=", True)])
            .filtered(lambda rule: self._is_covered_by(rule))
        )

    def _is_covered_by(self, rule):
        team_ok = not rule.team_ids or self in rule.team_ids
        # a team without a company takes leads of every company: a company-limited rule still covers some
        company_ok = not rule.company_ids or not self.company_id or self.company_id in rule.company_ids
        return team_ok and company_ok

    def _compute_sla_rule_count(self):
        rules = self.env["crm.sla.rule"].search([("active", "=", True)])
        for team in self:
            team.sla_rule_count = len(rules.filtered(lambda rule, team=team: team._is_covered_by(rule)))

    def action_view_sla_rules(self):
        """The active SLA rules that watch this team's leads."""
        self.ensure_one()
        action = self.env["ir.actions.actions"]._for_xml_id("crm_sla_rules.crm_sla_rule_action")
        action.update(
            name=self.env._("SLA Rules of %(team)s", team=self.name),
            domain=[("id", "in", self._covering_sla_rules().ids)],
            context={"default_team_ids": [self.id]},
        )
        return action
