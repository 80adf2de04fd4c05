import logging

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import datetime as safe_datetime
from odoo.tools.safe_eval import dateutil, safe_eval

_logger = logging.getLogger(__name__)

CLOCKS = [
    ("stage_entry", "Stage entry"),
    ("create", "Creation"),
    ("assignment", "Assignment"),
    ("last_action", "Last action"),
]
UNITS = [
    ("business_days", "Business days"),
    ("business_hours", "Business hours"),
    ("days", "Days"),
    ("hours", "Hours"),
]
BUSINESS_UNITS = ("business_days", "business_hours")
ACTIONS = [
    ("reassign", "Reassign"),
    ("return_to_marketing", "Return to marketing"),
    ("mark_lost", "Mark as lost"),
    ("pull_back", "Pull back from partner"),
    ("escalate", "Escalate"),
    ("archive", "Archive"),
]
# crm.lead values kept on the event before and after an action
AUDITED_FIELDS = ("user_id", "team_id", "type", "active", "lost_reason_id", "partner_assigned_id")
# fields the runs write: they do not change who configured the rule
RUN_FIELDS = {"rotation_state", "last_run"}
# advisory lock namespace of the rules' runs ("SLA" in ASCII)
LOCK_NAMESPACE = 0x534C41
# preview lines per rule and kind (warn / act); the totals are always exact
PREVIEW_LIMIT = 200


class CrmSlaRule(models.Model):
    _name = "crm.sla.rule"
    _description = "SLA Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    company_ids = fields.Many2many("res.company", string="Companies", help="Leave empty for every company.")
    team_ids = fields.Many2many("crm.team", string="Sales Teams", help="Leave empty for every team.")
    lead_type = fields.Selection(
        [("lead", "Leads"), ("opportunity", "Opportunities"), ("both", "Leads and opportunities")],
        string="Applies To",
        required=True,
        default="opportunity",
    )
    stage_ids = fields.Many2many("crm.stage", string="Stages", help="Leave empty for every open stage.")
    domain = fields.Char(string="Extra Conditions", default="[]", help="Only leads matching this domain.")
    clock = fields.Selection(
        CLOCKS,
        required=True,
        default="stage_entry",
        help="Stage entry: since the lead entered its stage. Creation: since it was created. Assignment: "
        "since its salesperson was set. Last action: since the latest stage change, completed activity or "
        "message from the salesperson. A new salesperson or sales team restarts the assignment and last "
        "action clocks, whoever made the change; a new sales team also restarts the stage entry clock.",
    )
    threshold = fields.Float(required=True, default=4.0)
    unit = fields.Selection(UNITS, required=True, default="business_days")
    calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Schedule",
        help="Business days and hours follow this schedule and its public holidays. Empty: the working "
        "schedule of the lead's company.",
    )
    warning_before = fields.Float(
        string="Warn Before",
        help="Warn the owner this long (same unit as the threshold) before the breach. 0: no warning.",
    )
    warning_mode = fields.Selection(
        [("activity", "Activity for the owner"), ("message", "Message to the owner")],
        default="activity",
        required=True,
    )
    warning_activity_type_id = fields.Many2one(
        "mail.activity.type",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
    )
    action = fields.Selection(ACTIONS, required=True, default="escalate")
    reassign_mode = fields.Selection(
        [
            ("round_robin", "Round robin in the team"),
            ("team_leader", "Team leader"),
            ("user", "A named user"),
        ],
        default="round_robin",
        required=True,
    )
    reassign_user_id = fields.Many2one("res.users", string="Reassign To", domain="[('share', '=', False)]")
    target_team_id = fields.Many2one(
        "crm.team",
        string="Give To Team",
        help="Team that gets the lead back (return to marketing, pull back).",
    )
    tag_ids = fields.Many2many("crm.tag", string="Add Tags")
    lost_reason_id = fields.Many2one("crm.lost.reason")
    escalate_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Escalation Activity Type",
        domain="[('res_model', 'in', (False, 'crm.lead'))]",
    )
    rotation_state = fields.Json(
        readonly=True, copy=False, help="Round robin: the last user given a lead, per team."
    )
    last_run = fields.Datetime(readonly=True, copy=False)
    configured_by_id = fields.Many2one(
        "res.users",
        readonly=True,
        copy=False,
        default=lambda self: self.env.user,
        help="Who last changed the rule's settings: the runs act on their behalf and record it.",
    )
    event_ids = fields.One2many("crm.sla.event", "rule_id")
    event_count = fields.Integer(compute="_compute_event_count")
    failed_count = fields.Integer(compute="_compute_event_count")

    # ------------------------------------------------------------------
    # Fields, validation
    # ------------------------------------------------------------------

    def _compute_event_count(self):
        counts = {
            (rule.id, state): count
            for rule, state, count in self.env["crm.sla.event"]._read_group(
                [("rule_id", "in", self.ids)], ["rule_id", "state"], ["__count"]
            )
        }
        for rule in self:
            rule.event_count = sum(c for (rid, _state), c in counts.items() if rid == rule.id)
            rule.failed_count = counts.get((rule.id, "failed"), 0)

    def write(self, vals):
        if set(vals) - RUN_FIELDS:
            vals = {**vals, "configured_by_id": self.env.uid}
        return super().write(vals)

    @api.constrains(
        "threshold",
        "unit",
        "warning_before",
        "calendar_id",
        "company_ids",
        "action",
        "reassign_mode",
        "reassign_user_id",
        "team_ids",
        "lost_reason_id",
        "domain",
    )
    def _check_rule(self):
        for rule in self:
            problems = rule._sla_problems()
            if problems:
                raise ValidationError(
                    self.env._(
                        "The SLA rule “%(name)s” cannot be saved:\n%(problems)s",
                        name=rule.name,
                        problems="\n".join(f"- {p}" for p in problems),
                    )
                )

    def _sla_problems(self):
        """Every reason why this rule cannot run, as sentences saying what to do."""
        self.ensure_one()
        problems = []
        if self.threshold <= 0:
            problems.append(self.env._("The threshold must be greater than zero."))
        if self.unit == "business_days" and self.threshold != int(self.threshold):
            problems.append(
                self.env._("Business days are counted in whole days: use a whole number of days.")
            )
        if self.warning_before < 0 or (self.warning_before and self.warning_before >= self.threshold):
            problems.append(
                self.env._(
                    "A warning must come before the breach: make “Warn Before” smaller than the threshold."
                )
            )
        if self.unit in BUSINESS_UNITS:
            calendars = self.calendar_id or self._sla_companies().resource_calendar_id
            if not calendars or (
                not self.calendar_id and not all(self._sla_companies().resource_calendar_id)
            ):
                problems.append(
                    self.env._(
                        "Business days and hours need a working schedule: choose one on the rule, or give "
                        "every company of the rule a working schedule."
                    )
                )
            if self.unit == "business_hours":
                for calendar in calendars.filtered("flexible_hours"):
                    problems.append(
                        self.env._(
                            "The working schedule “%(calendar)s” has flexible hours, without fixed working "
                            "times: business hours cannot be counted on it. Count business days, or choose "
                            "a schedule with working hours.",
                            calendar=calendar.display_name,
                        )
                    )
        if self.action == "reassign":
            if self.reassign_mode == "user" and not self.reassign_user_id:
                problems.append(
                    self.env._("Reassigning to a named user needs that user: fill in “Reassign To”.")
                )
            if self.reassign_mode == "round_robin":
                empty = self.team_ids.filtered(lambda team: not team.crm_team_member_ids)
                if empty:
                    problems.append(
                        self.env._(
                            "Round robin needs members in the team: %(teams)s has no member. Add members or "
                            "reassign to the team leader.",
                            teams=", ".join(empty.mapped("name")),
                        )
                    )
        if self.action == "mark_lost" and not self.lost_reason_id:
            problems.append(self.env._("Marking as lost needs a lost reason: choose one."))
        try:
            self._sla_extra_domain().validate(self.env["crm.lead"])
        except (ValueError, SyntaxError, NameError, TypeError) as exc:
            problems.append(
                self.env._(
                    "The extra conditions are not a valid domain on leads (%(error)s): fix them.", error=exc
                )
            )
        return problems

    def _sla_extra_domain(self):
        text = (self.domain or "").strip() or "[]"
        context = {
            "uid": self.env.uid,
            "datetime": safe_datetime,
            "relativedelta": dateutil.relativedelta.relativedelta,
            "context_today": lambda: fields.Date.context_today(self),
        }
        value = safe_eval(text, context)
        if not isinstance(value, (list, tuple)):
            raise ValueError(self.env._("a domain is a list of conditions"))
        return Domain(value)

    def _sla_companies(self):
        # sudo: the scope covers every company, whatever companies the current user may read
        return self.company_ids or self.env["res.company"].sudo().search([("active", "=", True)])
