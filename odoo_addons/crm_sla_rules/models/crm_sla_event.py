from odoo import fields, models
from odoo.exceptions import AccessError, MissingError, UserError

from .crm_sla_rule import ACTIONS, CLOCKS


class CrmSlaEvent(models.Model):
    """One row per episode of a rule on a lead: (rule, lead, clock start) is unique, so a rerun of the cron,
    or two runs at once, never warn or act twice; a new clock start (new stage, new owner...) opens a new
    episode. Rows are written by the rules' runs only (audit log)."""

    _name = "crm.sla.event"
    _description = "SLA Event"
    _order = "id desc"
    _rec_name = "rule_id"

    rule_id = fields.Many2one("crm.sla.rule", required=True, readonly=True, index=True, ondelete="restrict")
    lead_id = fields.Many2one("crm.lead", required=True, readonly=True, index=True, ondelete="cascade")
    clock = fields.Selection(CLOCKS, required=True, readonly=True)
    clock_start = fields.Datetime(required=True, readonly=True, help="Start of the clock of this episode.")
    deadline = fields.Datetime(string="Breach Time", readonly=True)
    state = fields.Selection(
        [("warned", "Warned"), ("acted", "Acted"), ("failed", "Failed"), ("retry", "To Retry")],
        required=True,
        readonly=True,
        index=True,
    )
    action = fields.Selection(ACTIONS, readonly=True)
    warned_at = fields.Datetime(readonly=True)
    acted_at = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        index=True,
        help="Owner of the lead when the rule warned or acted.",
    )
    configured_by_id = fields.Many2one(
        "res.users",
        string="Rule Configured By",
        readonly=True,
        help="Who last changed the rule when it acted: the run acts on their "
        "behalf, with the rights the action needs.",
    )
    values_before = fields.Json(readonly=True)
    values_after = fields.Json(readonly=True)
    message = fields.Text(readonly=True, help="What the rule did, or why it could not.")
    changes = fields.Text(compute="_compute_changes", help="The lead's values the action changed.")

    def action_retry(self):
        """Let the next run act again on failed episodes (after the cause was fixed: a member added to
        the team, a leader set...). Sales managers only."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(self.env._("Only sales managers can retry SLA events."))
        missing = self - self.exists()
        if missing:
            raise MissingError(
                self.env._(
                    "The SLA event with id %(ids)s does not exist (it may have been deleted): reload the "
                    "events.",
                    ids=", ".join(map(str, missing._ids)),
                )
            )
        failed = self.filtered(lambda event: event.state == "failed")
        if failed != self:
            raise UserError(self.env._("Only failed SLA events can be retried."))
        # sudo: events are written by the rules' runs only; this marks them for the next one
        failed.sudo().write({"state": "retry"})
        return True

    def _compute_changes(self):
        Lead = self.env["crm.lead"]
        for event in self:
            before, after = event.values_before or {}, event.values_after or {}
            lines = []
            for name in after:
                if before.get(name) != after[name] and name in Lead._fields:
                    label = Lead._fields[name].get_description(self.env)["string"]
                    lines.append(f"{label}: {_shown(before.get(name))} → {_shown(after[name])}")
            event.changes = "\n".join(lines)

    _episode_unique = models.Constraint(
        "UNIQUE(rule_id, lead_id, clock_start)",
        "A rule acts once per lead and clock start.",
    )


def _shown(value):
    """A before/after value as the audit shows it (False and empty are 'None')."""
    return "None" if value in (False, None, "") else str(value)
