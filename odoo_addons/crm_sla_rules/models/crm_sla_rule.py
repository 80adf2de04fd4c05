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
        "name",
        "threshold",
        "active",
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
        """Every reason why this rule cannot run, as sentences saying what to do: the problems of
        ``sla_rules.validate_rule`` on the rule's plain values, then what only Odoo can check (the working
        schedules' kind, the extra conditions)."""
        self.ensure_one()
        from sla_rules.problems import Problem
        from sla_rules.rules import validate_rule

        companies = self._sla_companies()
        problems = list(
            validate_rule(
                self._sla_rule_values(),
                # an inactive rule (the samples shipped) waits for its companies' schedules until activated
                has_calendar=not self.active
                or bool(self.calendar_id)
                or (bool(companies) and all(company.resource_calendar_id for company in companies)),
                team_sizes={team.id: len(team.crm_team_member_ids) for team in self.team_ids},
            )
        )
        if self.unit == "business_hours":
            for calendar in (self.calendar_id or companies.resource_calendar_id).filtered("flexible_hours"):
                problems.append(Problem("calendar_flexible_hours", {"calendar": calendar.display_name}))
        try:
            self._sla_extra_domain().validate(self.env["crm.lead"])
        except (ValueError, SyntaxError, NameError, TypeError) as exc:
            problems.append(Problem("domain_invalid", {"error": str(exc)}))
        return [self._sla_problem_message(problem) for problem in problems]

    def _sla_problem_message(self, problem):
        """The translated sentence of a problem code (``sla_rules.problems``, plus this addon's
        ``calendar_flexible_hours`` and ``domain_invalid``)."""
        code, params = problem.code, problem.params
        if code.startswith("unknown_"):
            return self.env._(
                "“%(value)s” is not a valid choice: use one of %(choices)s.",
                value=params["value"],
                choices=", ".join(params["choices"]),
            )
        messages = {
            "name_missing": lambda: self.env._("A rule needs a name."),
            "threshold_not_positive": lambda: self.env._("The threshold must be greater than zero."),
            "warning_negative": lambda: self.env._(
                "“Warn Before” must be zero (no warning) or a positive number."
            ),
            "warning_not_before_breach": lambda: self.env._(
                "A warning must come before the breach: make “Warn Before” smaller than the threshold."
            ),
            "calendar_missing": lambda: self.env._(
                "Business days and hours need a working schedule: choose one on the rule, or give every "
                "company of the rule a working schedule."
            ),
            "whole_days": lambda: self.env._(
                "Business days are counted in whole days: use a whole number of days."
            ),
            "reassign_user_missing": lambda: self.env._(
                "Reassigning to a named user needs that user: fill in “Reassign To”."
            ),
            "round_robin_empty_teams": lambda: self.env._(
                "Round robin needs members in the team: %(teams)s has no member. Add members or reassign "
                "to the team leader.",
                teams=", ".join(self.env["crm.team"].browse(params["team_ids"]).mapped("name")),
            ),
            "lost_reason_missing": lambda: self.env._("Marking as lost needs a lost reason: choose one."),
            "calendar_flexible_hours": lambda: self.env._(
                "The working schedule “%(calendar)s” has flexible hours, without fixed working times: "
                "business hours cannot be counted on it. Count business days, or choose a schedule with "
                "working hours.",
                calendar=params["calendar"],
            ),
            "domain_invalid": lambda: self.env._(
                "The extra conditions are not a valid domain on leads (%(error)s): fix them.",
                error=params["error"],
            ),
        }
        return messages[code]()

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
