from dataclasses import replace

from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import cursor_mark, cursor_marker
from odoo.exceptions import UserError
from odoo.tools import SQL, clean_context
from odoo.tools.sql import column_exists, create_column

from activity_centric import DEFAULT_ACTIVITY, LeadFacts, check_entry, followup_state, needs_default_activity

from .crm_team import ASSIGNING_KEY

FOLLOWUP_STATES = [
    ("scheduled", "Scheduled"),
    ("missing", "Missing Follow-up"),
    ("exempt", "Exempt"),
]
# Leads being merged into another one (cursor-scoped, so an RPC caller cannot forge it): their
# activities move to the surviving lead and they disappear, so losing their last activity is fine.
MERGING_KEY = "crm_activity_centric.merging_lead_ids"
# Lead fields whose change can put an open lead in an enforce team without a next step (activity_centric's
# check_entry), besides the team and what crm computes the team from (``_followup_entry_fields``): a
# restore, a stage out of won or folded, a no-follow-up reason removed.
ENTRY_FIELDS = ("team_id", "active", "stage_id", "no_followup_reason_id")
# What the activity created in the "Schedule the next step" dialog of a refused restore then does.
RESTORE_METHODS = ("action_restore", "action_unarchive")


class CrmLead(models.Model):
    _inherit = "crm.lead"

    followup_state = fields.Selection(
        FOLLOWUP_STATES,
        string="Follow-up",
        compute="_compute_followup_state",
        store=True,
        index=True,
        readonly=True,
        help="Scheduled: the lead has an open activity.\n"
        "Missing Follow-up: the lead is open and has neither an activity nor a no-follow-up reason, in a "
        "team whose follow-up policy is Warn or Enforce.\n"
        "Exempt: won, lost or archived, in a folded stage, a no-follow-up reason is given, or its team's "
        "follow-up policy is Off (or it has no team).",
    )
    followup_policy = fields.Selection(related="team_id.followup_policy", string="Follow-up Policy")
    no_followup_reason_id = fields.Many2one(
        "crm.followup.reason",
        string="No Follow-up Reason",
        tracking=True,
        index="btree_not_null",
        ondelete="restrict",
        check_company=True,
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
        help="Why this lead deliberately has no next activity. Cleared when an activity is scheduled.",
    )
    no_followup_note = fields.Text(string="No Follow-up Note", tracking=True)

    # ------------------------------------------------------------------
    # Follow-up state
    # ------------------------------------------------------------------

    @api.depends(
        "active", "stage_id.fold", "stage_id.is_won", "no_followup_reason_id", "team_id.followup_policy"
    )
    def _compute_followup_state(self):
        counts = self._followup_open_counts()
        # each stage's and team's facts read once, and the state once per distinct set of facts: a stage
        # change on 1,000 leads recomputes them all
        stages = {stage.id: (stage.is_won, stage.fold) for stage in self.stage_id}
        policies = {team.id: team.followup_policy or "off" for team in self.team_id}
        states = {}
        for lead in self:
            won, folded = stages.get(lead.stage_id.id, (False, False))
            facts = LeadFacts(
                active=lead.active,
                won=won,
                folded=folded,
                has_reason=bool(lead.no_followup_reason_id),
                open_activities=counts.get(lead.id, 0),
            )
            policy = policies.get(lead.team_id.id, "off")
            if (facts, policy) not in states:
                states[facts, policy] = followup_state(facts, policy)
            lead.followup_state = states[facts, policy]

    def _followup_open_counts(self):
        ids = [lead_id for lead_id in self.ids if isinstance(lead_id, int)]
        if not ids:
            return {}
        # sudo: the state counts every open activity of the lead, also those the current user cannot read
        return dict(
            self.env["mail.activity"]
            .sudo()
            ._read_group([("res_model", "=", "crm.lead"), ("res_id", "in", ids)], ["res_id"], ["__count"])
        )

    @api.model
    def _followup_snapshot(self, lead_ids, removed_activity_ids=()):
        """Facts of the given leads in one query, open activities counted without ``removed_activity_ids``.

        :returns: ``{lead_id: (LeadFacts, policy, stored_state)}``
        """
        if not lead_ids:
            return {}
        self.flush_model(["active", "stage_id", "team_id", "no_followup_reason_id", "followup_state"])
        self.env["crm.stage"].flush_model(["fold", "is_won"])
        self.env["crm.team"].flush_model(["followup_policy"])
        self.env["mail.activity"].flush_model(["res_model", "res_id", "active"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.id, l.active, COALESCE(s.is_won, FALSE), COALESCE(s.fold, FALSE),
                       l.no_followup_reason_id IS NOT NULL, COALESCE(t.followup_policy, 'off'),
                       l.followup_state,
                       (SELECT count(*) FROM mail_activity a
                         WHERE a.res_model = 'crm.lead' AND a.res_id = l.id AND a.active
                           AND a.id != ALL(%(removed)s))
                  FROM crm_lead l
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                  LEFT JOIN crm_team t ON t.id = l.team_id
                 WHERE l.id = ANY(%(leads)s)
                """,
                removed=list(removed_activity_ids),
                leads=list(lead_ids),
            )
        )
        return {
            lead_id: (
                LeadFacts(
                    active=bool(active),
                    won=won,
                    folded=folded,
                    has_reason=has_reason,
                    open_activities=count,
                ),
                policy,
                state,
            )
            for lead_id, active, won, folded, has_reason, policy, state, count in rows
        }

    @api.model
    def _followup_store(self, snapshot):
        """Write the follow-up state that the snapshot's facts give, for the leads where it changed."""
        by_state = {}
        for lead_id, (facts, policy, stored) in snapshot.items():
            state = followup_state(facts, policy)
            if state != stored:
                by_state.setdefault(state, []).append(lead_id)
        for state, ids in by_state.items():
            self.env.cr.execute(SQL("UPDATE crm_lead SET followup_state = %s WHERE id = ANY(%s)", state, ids))
            self.browse(ids).invalidate_recordset(["followup_state"])

    @api.model
    def _followup_merging_ids(self):
        return cursor_mark(self.env.cr, MERGING_KEY, frozenset())

    def _auto_init(self):
        # Created here, before the ORM sees the field, so that the ORM does not recompute it lead by lead at
        # install: init() fills it set-based (100,000 leads: 7 s instead of 15 s).
        if not column_exists(self.env.cr, self._table, "followup_state"):
            create_column(self.env.cr, self._table, "followup_state", "varchar")
        return super()._auto_init()

    def init(self):
        # At install every lead; on an update, the leads created while the registry did not hold this
        # module yet (crm's data during an update of crm).
        self._followup_fill_all(only_missing=True)

    @api.model
    def _followup_fill_all(self, only_missing=False):
        rows = self.env.execute_query(
            SQL(
                """
                SELECT l.id, l.active, COALESCE(s.is_won, FALSE), COALESCE(s.fold, FALSE),
                       l.no_followup_reason_id IS NOT NULL, COALESCE(a.n, 0),
                       COALESCE(t.followup_policy, 'off')
                  FROM crm_lead l
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                  LEFT JOIN crm_team t ON t.id = l.team_id
                  LEFT JOIN (SELECT res_id, count(*) AS n FROM mail_activity
                              WHERE res_model = 'crm.lead' AND active GROUP BY res_id) a ON a.res_id = l.id
                 WHERE %s
                """,
                SQL("l.followup_state IS NULL") if only_missing else SQL("TRUE"),
            )
        )
        by_state = {}
        for lead_id, active, won, folded, has_reason, count, policy in rows:
            facts = LeadFacts(
                active=bool(active), won=won, folded=folded, has_reason=has_reason, open_activities=count
            )
            by_state.setdefault(followup_state(facts, policy), []).append(lead_id)
        for state, ids in by_state.items():
            self.env.cr.execute(SQL("UPDATE crm_lead SET followup_state = %s WHERE id = ANY(%s)", state, ids))

    # ------------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # computed from the lead's activities, never given
            vals.pop("followup_state", None)
        leads = super().create(vals_list)
        if not self.env.context.get("followup_interactive"):
            leads._followup_schedule_default()
        return leads

    def write(self, vals):
        if "followup_state" in vals:
            raise UserError(
                self.env._(
                    "The follow-up state is computed from the lead's activities: schedule an activity "
                    "or give a no-follow-up reason instead."
                )
            )
        before = self._followup_entry_snapshot(vals)
        owners = self._followup_owners(vals)
        result = super().write(vals)
        if owners:
            self._followup_hand_over(owners)
        if before:
            self._followup_check_entry(before)
        return result

    def _followup_owners(self, vals):
        """``{lead id: salesperson id}`` before a write that gives leads a new salesperson while some team has
        a follow-up policy; None otherwise (no query)."""
        if "user_id" not in vals:
            return None
        Team = self.env["crm.team"]
        if not (Team._followup_enforce_team_ids() or Team._pd_team_ids("followup_policy", "warn")):
            return None
        return {lead.id: lead.user_id.id for lead in self if lead.user_id.id != vals["user_id"]} or None

    def _followup_hand_over(self, owners):
        """After a change of salesperson: in teams with a follow-up policy the previous owner's open
        activities on the lead go to the new owner, with a note
        (``activity_centric.activities_to_hand_over``); in teams without one they stay, as in Odoo."""
        leads = self.browse(list(owners)).sudo()  # sudo: the teams of leads the write may have given away
        policies = {lead.id: lead.team_id.followup_policy or "off" for lead in leads}
        self.browse(list(owners))._pd_hand_over_activities(owners, policies)

    def _pd_user_write_fields(self):
        # the follow-up policy judges an "Update Record" that may bring a lead into a team as the user's own
        return super()._pd_user_write_fields() | self._followup_entry_fields()

    @api.model
    def _followup_entry_fields(self):
        """The fields whose write may bring a lead into a team without a next step: ``ENTRY_FIELDS`` and
        those crm computes the team from (a new salesperson, a conversion), read from the registry."""
        team_depends = {path.split(".")[0] for path in self.pool.field_depends[self._fields["team_id"]]}
        return {*ENTRY_FIELDS, *team_depends}

    def _followup_entry_snapshot(self, vals):
        """Before a write that may put leads in an enforce team without a next step: the enforce teams, and
        the facts of the leads already in one (only there do the facts before the write matter)."""
        ids = [lead_id for lead_id in self.ids if isinstance(lead_id, int)]
        if not ids or not self._followup_entry_fields() & vals.keys():
            return None
        enforce = self.env["crm.team"]._followup_enforce_team_ids()
        if not enforce:
            return None
        inside = [lead.id for lead in self.browse(ids) if lead.team_id.id in enforce]
        return enforce, ids, self._followup_snapshot(inside) if inside else {}

    def _followup_entry_decisions(self, before, after):
        """``{lead_id: Decision}`` of ``check_entry`` for the leads of the snapshot ``after``. A lead missing
        from ``before`` was in no enforce team: its facts before do not matter, only an enforce lead can have
        been missing a next step already (``check_entry``), so it is judged as coming from a team without
        policy."""
        decisions = {}
        for lead in self.browse(list(after)):
            facts, policy, _state = after[lead.id]
            old_facts, old_policy, _old = before.get(lead.id) or (facts, "off", None)
            has_default = bool(lead.team_id.followup_default_activity_type_id)
            decisions[lead.id] = check_entry(old_facts, old_policy, facts, policy, has_default)
        return decisions

    def _followup_check_entry(self, state):
        """After the write: a lead now open without a next step in an enforce team it was not missing one in
        gets the team's default first activity, or the write is refused — except for the superuser's
        housekeeping and Odoo's lead assignment, whose leads show in Missing Follow-up instead."""
        enforce, ids, before = state
        inside = [lead.id for lead in self.browse(ids) if lead.team_id.id in enforce]
        if not inside:
            return
        decisions = self._followup_entry_decisions(before, self._followup_snapshot(inside))
        refused = [lead_id for lead_id, decision in decisions.items() if not decision.allowed]
        if refused and not (self.env.su or cursor_mark(self.env.cr, ASSIGNING_KEY)):
            raise self.browse(refused)._followup_entry_refusal()
        given = [lead_id for lead_id, decision in decisions.items() if decision.reason == DEFAULT_ACTIVITY]
        if given:
            self.browse(given)._followup_schedule_default()

    def _followup_names(self):
        """The leads' names for a message: the first five, quoted."""
        # sudo: the names of leads the user is acting on, for the message only
        names = self.sudo()[:5].mapped("display_name")
        return ", ".join(f"“{name}”" for name in names) + ("…" if len(self) > 5 else "")

    def _followup_entry_refusal(self):
        return UserError(
            self.env._(
                "%(leads)s would be open in the sales team “%(team)s”, which requires a next step, without "
                "one: schedule an activity on the lead first (Activities, in the chatter), or give it a "
                "No Follow-up Reason.",
                leads=self._followup_names(),
                team=self.sudo()[:1].team_id.name,
            )
        )

    # ------------------------------------------------------------------
    # Restore: ask for the next step first where the team requires one
    # ------------------------------------------------------------------

    def action_restore(self):
        return self._followup_ask_next_step("action_restore") or super().action_restore()

    def action_unarchive(self):
        return self._followup_ask_next_step("action_unarchive") or super().action_unarchive()

    def _followup_ask_next_step(self, method):
        """From the form's Restore button: when restoring this lead would be refused for want of a next step,
        the dialog to schedule it; saving the activity restores the lead (nothing changes if it is closed).
        Elsewhere (lists, RPC) the restore itself says what to do."""
        if len(self) != 1 or self.active or not self.env.context.get("followup_ask_next_step"):
            return None
        before = self._followup_snapshot(self.ids)
        if not before:
            return None
        facts, policy, state = before[self.id]
        after = {self.id: (replace(facts, active=True), policy, state)}
        if self._followup_entry_decisions(before, after)[self.id].allowed:
            return None
        self.check_access("write")
        return {
            "name": self.env._("Schedule the Next Step to Restore “%(lead)s”", lead=self.display_name),
            "type": "ir.actions.act_window",
            "res_model": "mail.activity",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": dict(
                {
                    key: value
                    for key, value in clean_context(self.env.context).items()
                    if key != "followup_ask_next_step"
                },
                default_res_id=self.id,
                default_res_model=self._name,
                followup_restore_lead_id=self.id,
                followup_restore_method=method,
            ),
        }

    def web_save(self, vals, specification, next_id=None):
        # A lead created in the form is planned by the salesperson who creates it; the team's default
        # first activity is for leads that arrive by themselves (mail gateway, website, import, API).
        records = self if self else self.with_context(followup_interactive=True)
        return super(CrmLead, records).web_save(vals, specification, next_id=next_id)

    def _followup_schedule_default(self):
        """Give the team's default first activity to the new leads that would start without follow-up."""
        teams = self.team_id.filtered(
            lambda team: team.followup_policy != "off" and team.followup_default_activity_type_id
        )
        if not teams:
            return
        leads = self.filtered(lambda lead: lead.team_id in teams)
        snapshot = self._followup_snapshot(leads.ids)
        today = fields.Date.context_today(self)
        model_id = self.env["ir.model"]._get_id("crm.lead")
        vals_list = []
        for lead in leads:
            facts, policy, _state = snapshot[lead.id]
            if not needs_default_activity(facts, policy, has_default_type=True, interactive=False):
                continue
            team = lead.team_id
            activity_type = team.followup_default_activity_type_id
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": lead.id,
                    "activity_type_id": activity_type.id,
                    "summary": activity_type.summary or False,
                    "note": activity_type.default_note or False,
                    "date_deadline": fields.Date.add(today, days=team.followup_default_delay),
                    # never the website visitor or portal user a lead may have been created as
                    "user_id": (lead.user_id if lead.user_id and not lead.user_id.share else team.user_id).id
                    or False,
                }
            )
        if vals_list:
            # sudo: the team's configuration decides this activity, not the rights of whoever (website
            # visitor, mail gateway, import) created the lead
            self.env["mail.activity"].sudo().create(vals_list)

    def _merge_dependences(self, opportunities):
        merging = self._followup_merging_ids() | frozenset(opportunities.ids)
        with cursor_marker(self.env.cr, MERGING_KEY, merging):
            return super()._merge_dependences(opportunities)

    @api.model
    def _followup_clear_reasons(self, lead_ids):
        """A lead that gets an activity has a follow-up again: its no-follow-up reason no longer holds."""
        leads = self.browse(lead_ids)
        if leads:
            # sudo: whoever may plan an activity on the lead may lift the reason it contradicts
            leads.sudo().write({"no_followup_reason_id": False, "no_followup_note": False})
