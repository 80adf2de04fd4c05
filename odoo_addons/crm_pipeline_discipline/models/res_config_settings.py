from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pipeline_followup_summary = fields.Char(
        string="Mandatory Follow-up Teams",
        compute="_compute_pipeline_summaries",
        help="Sales teams whose follow-up policy is Warn or Enforce, out of all active teams.",
    )
    pipeline_survey_summary = fields.Char(
        string="Survey-driven Teams",
        compute="_compute_pipeline_summaries",
        help="Sales teams whose stages are set by their qualification survey.",
    )
    pipeline_sla_summary = fields.Char(
        string="Active SLA Rules",
        compute="_compute_pipeline_summaries",
        help="SLA rules that the scheduled job runs.",
    )
    pipeline_handoff_summary = fields.Char(
        string="Handoff Routes",
        compute="_compute_pipeline_summaries",
        help="Active handoff routes: with one, the lifecycle phases of the company's leads are recorded.",
    )
    pipeline_history_summary = fields.Char(
        string="Stage History",
        compute="_compute_pipeline_summaries",
        help="Stage stays recorded so far.",
    )

    def _compute_pipeline_summaries(self):
        teams = self.env["crm.team"].search([])
        warn = len(teams.filtered(lambda team: team.followup_policy == "warn"))
        enforce = len(teams.filtered(lambda team: team.followup_policy == "enforce"))
        followed = warn + enforce
        if followed:
            followup = self.env._(
                "%(on)s of %(total)s teams (%(enforce)s enforce, %(warn)s warn)",
                on=followed,
                total=len(teams),
                enforce=enforce,
                warn=warn,
            )
        else:
            followup = self.env._("Off in every team (%(total)s)", total=len(teams))
        survey_count = len(teams.filtered(lambda team: team.stage_setting == "survey"))
        if survey_count:
            survey = (
                self.env._("1 team")
                if survey_count == 1
                else self.env._("%(count)s teams", count=survey_count)
            )
        else:
            survey = self.env._("None: every team moves its leads by hand")
        sla_count = self.env["crm.sla.rule"].search_count([("active", "=", True)])
        sla = self.env._("%(count)s active", count=sla_count) if sla_count else self.env._("None active")
        [(stays, leads)] = self.env["crm.lead.stage.history"]._read_group(
            [], aggregates=["__count", "lead_id:count_distinct"]
        )
        history = self.env._("Recording: %(stays)s stays of %(leads)s leads", stays=stays, leads=leads)
        route_count = self.env["crm.handoff.route"].search_count([])
        if route_count:
            handoff = (
                self.env._("%(count)s active routes: lifecycle phases recorded", count=route_count)
                if route_count > 1
                else self.env._("1 active route: lifecycle phases recorded")
            )
        else:
            handoff = self.env._("None: no handoffs, no lifecycle phases")
        for settings in self:
            settings.pipeline_followup_summary = followup
            settings.pipeline_survey_summary = survey
            settings.pipeline_sla_summary = sla
            settings.pipeline_history_summary = history
            settings.pipeline_handoff_summary = handoff
