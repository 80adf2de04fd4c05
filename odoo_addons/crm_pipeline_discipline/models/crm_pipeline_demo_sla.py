import logging
import zlib
from datetime import timedelta

from odoo import api, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# rounds of the rules over the pipeline: a lead a rule hands over may fall under another rule (a deal
# pulled back from a partner into Inside Sales, then reassigned there); the demo's rules settle in a few
MAX_ROUNDS = 10
# what a change of hands records on the lead, dated when it happens: the restarts of the rules' clocks
# (sla_rules.CLOCK_RESTARTS) and crm's assignment date
HANDS_COLUMNS = ("sla_owner_since", "sla_team_since", "date_open")


def _next_run(moment, now):
    """When the hourly SLA job first saw ``moment`` pass: the next full hour, at the latest ``now``."""
    hour = moment.replace(minute=0, second=0, microsecond=0)
    return min(hour if hour == moment else hour + timedelta(hours=1), now)


class CrmPipelineDemo(models.AbstractModel):
    """The demo's SLA history: the demo's rules have been running every hour before ``now``. Which episodes
    are past is the rules' own decision (their selection at ``now``: scope, clock and cutoffs of
    ``sla_rules``); what each did is the rules' own plan (``sla_rules.plan_actions``) applied by the rules'
    own writer; the events go to crm_sla_rules' bulk writer, dated when the hourly job met them."""

    _inherit = "crm.pipeline.demo"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    @api.model
    def _write_sla_history(self, rules, now):
        """Record what ``rules`` did before ``now`` on the generated pipeline, so that their first run after
        the demo finds nothing already past to act on or warn about.

        Each breached episode was acted on at the first hourly run after its breach time (and warned at
        the first run after its warning time): its action is applied to the lead by the rule's own writer,
        and what that recorded (the chatter's tracking of the changed fields, the clocks restarted by a
        new salesperson or team) is dated at that time. A lead handed to a new salesperson was taken up by
        them: a note of theirs in the rule's quiet window before ``now`` (after the warning cutoff) is its
        last action. Rounds repeat while a rule still finds breached episodes (a lead one rule hands
        over may fall under another); then the leads in their warning window at ``now`` are recorded as
        warned.

        :return: the number of events written
        """
        rules = rules.sorted(lambda rule: (rule.sequence, rule.id))
        written = 0
        for _round in range(MAX_ROUNDS):
            found = 0
            for rule in rules:
                for calendar, company_ids in rule._sla_calendar_groups():
                    lead_ids = rule._sla_select("act", calendar, company_ids, now)
                    if lead_ids:
                        found += len(lead_ids)
                        written += self._sla_history_act(rule, calendar, lead_ids, now)
            if not found:
                break
        else:
            _logger.info("Demo SLA history: the rules still find breaches after %s rounds", MAX_ROUNDS)
        for rule in rules.filtered("warning_before"):
            for calendar, company_ids in rule._sla_calendar_groups():
                lead_ids = rule._sla_select("warn", calendar, company_ids, now)
                if lead_ids:
                    written += self._sla_history_warn(rule, calendar, lead_ids, now)
        rules.write({"last_run": now})
        return written

    @api.model
    def _sla_history_act(self, rule, calendar, lead_ids, now):
        """Act on the breached episodes of ``lead_ids`` as ``rule``'s runs did, in the past; return the
        number of events written."""
        starts = self._sla_history_starts(rule, lead_ids)
        breaches = rule._sla_deadlines(calendar, starts, now)
        acted_at = {lead_id: _next_run(breaches[lead_id], now) for lead_id in lead_ids}
        warned_at = dict.fromkeys(lead_ids)
        if rule.warning_before:
            warnings = rule._sla_deadlines(calendar, starts, now, amount=rule.threshold - rule.warning_before)
            warned_at = {
                lead_id: min(_next_run(warnings[lead_id], now), acted_at[lead_id]) for lead_id in lead_ids
            }
        leads = rule._sla_leads(lead_ids)
        holders = {lead.id: (lead.user_id.id or None, lead.team_id.id or None) for lead in leads}
        hands = self._sla_history_hands(lead_ids)
        plans, rotation = rule._sla_plan(leads)
        before = rule._sla_audit_values(leads)
        errors = {plan.lead_id: plan.error for plan in plans if plan.error}
        first_message = self._sla_history_next_message()
        errors.update(rule._sla_apply([plan for plan in plans if not plan.error]))
        self._sla_history_date_messages(first_message, acted_at)
        leads.invalidate_recordset()
        after = rule._sla_audit_values(leads)
        if rotation and rule.action == "reassign":
            rule.rotation_state = {str(team): user for team, user in rotation.items()}
        self._sla_history_redate(rule, calendar, leads, hands, acted_at, holders, now)
        descriptions = {plan.lead_id: plan.description for plan in plans}
        return self.env["crm.sla.event"]._bulk_insert_events(
            {
                "rule_id": [rule.id] * len(lead_ids),
                "lead_id": lead_ids,
                "clock_start": [starts[lead_id] for lead_id in lead_ids],
                "deadline": [breaches[lead_id] for lead_id in lead_ids],
                "state": ["failed" if lead_id in errors else "acted" for lead_id in lead_ids],
                "warned_at": [warned_at[lead_id] for lead_id in lead_ids],
                "acted_at": [acted_at[lead_id] for lead_id in lead_ids],
                "user_id": [holders[lead_id][0] for lead_id in lead_ids],
                "team_id": [holders[lead_id][1] for lead_id in lead_ids],
                "values_before": [before.get(lead_id) for lead_id in lead_ids],
                "values_after": [after.get(lead_id) for lead_id in lead_ids],
                "message": [errors.get(lead_id) or descriptions.get(lead_id) for lead_id in lead_ids],
            }
        )

    @api.model
    def _sla_history_warn(self, rule, calendar, lead_ids, now):
        """Warn about the episodes of ``lead_ids`` in their warning window at ``now`` with the rule's own
        warning (an activity or a message for the owner, the event's breach time and message), given at
        the first hourly run after their warning time; return the number of events written."""
        starts = self._sla_history_starts(rule, lead_ids)
        warnings = rule._sla_deadlines(calendar, starts, now, amount=rule.threshold - rule.warning_before)
        warned_at = {lead_id: _next_run(warnings[lead_id], now) for lead_id in lead_ids}
        leads = rule._sla_leads(lead_ids)
        written = self.env["crm.sla.event"]._bulk_insert_events(
            {
                "rule_id": [rule.id] * len(leads),
                "lead_id": leads.ids,
                "clock_start": [starts[lead.id] for lead in leads],
                "deadline": [None] * len(leads),
                "state": ["warned"] * len(leads),
                "warned_at": [warned_at[lead.id] for lead in leads],
                "acted_at": [None] * len(leads),
                "user_id": [lead.user_id.id or None for lead in leads],
                "team_id": [lead.team_id.id or None for lead in leads],
                "values_before": [None] * len(leads),
                "values_after": [None] * len(leads),
                "message": [None] * len(leads),
            }
        )
        events = self.env["crm.sla.event"].search(
            [("rule_id", "=", rule.id), ("lead_id", "in", lead_ids), ("state", "=", "warned")]
        )
        first_message = self._sla_history_next_message()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_activity")
        last_activity = self.env.cr.fetchone()[0]
        rule._sla_warn({event.lead_id.id: event.id for event in events}, calendar, now)
        self._sla_history_date_messages(first_message, warned_at)
        self.env["mail.activity"].flush_model()
        self.env.cr.execute(
            SQL(
                """UPDATE mail_activity a SET create_date = v.at, write_date = v.at
                     FROM unnest(%s::int[], %s::timestamp[]) AS v(id, at)
                    WHERE a.res_model = 'crm.lead' AND a.res_id = v.id AND a.id > %s""",
                list(warned_at),
                list(warned_at.values()),
                last_activity,
            )
        )
        self.env["mail.activity"].invalidate_model(["create_date", "write_date"])
        return written

    @api.model
    def _sla_history_next_message(self):
        """The id above every chatter message so far, once the pending tracking is written."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.flush_all()
        self.env.cr.execute("SELECT COALESCE(MAX(id), 0) FROM mail_message")
        return self.env.cr.fetchone()[0] + 1

    @api.model
    def _sla_history_date_messages(self, first_message, dates):
        """Date the leads' chatter messages from ``first_message`` on (their tracking, written now) at
        ``dates`` (``{lead_id: when}``)."""
        self._sla_history_next_message()
        lead_ids = list(dates)
        self.env.cr.execute(
            SQL(
                """UPDATE mail_message m SET date = v.at, create_date = v.at, write_date = v.at
                     FROM unnest(%s::int[], %s::timestamp[]) AS v(id, at)
                    WHERE m.model = 'crm.lead' AND m.res_id = v.id AND m.id >= %s""",
                lead_ids,
                [dates[lead_id] for lead_id in lead_ids],
                first_message,
            )
        )
        self.env["mail.message"].invalidate_model(["date", "create_date", "write_date"])

    @api.model
    def _sla_history_starts(self, rule, lead_ids):
        """``{lead_id: clock start}`` of ``rule`` on these leads, as its selection reads it."""
        self.env["crm.lead"].flush_model(rule._sla_clock_columns())
        self.env.cr.execute(
            SQL("SELECT id, %s FROM crm_lead WHERE id = ANY(%s)", rule._sla_clock_start("crm_lead"), lead_ids)
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _sla_history_hands(self, lead_ids):
        """``{lead_id: values of HANDS_COLUMNS}`` as stored."""
        self.env["crm.lead"].flush_model(HANDS_COLUMNS)
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM crm_lead WHERE id = ANY(%s)",
                SQL(", ").join(SQL.identifier(column) for column in HANDS_COLUMNS),
                lead_ids,
            )
        )
        return {lead_id: values for lead_id, *values in self.env.cr.fetchall()}

    @api.model
    def _sla_history_redate(self, rule, calendar, leads, hands, acted_at, holders, now):
        """Date what the rule's action recorded of the changes of hands (``hands``: HANDS_COLUMNS before
        it; crm's days to assign follow the assignment date) at the time it acted, and give each lead handed
        to a new salesperson a note by them in the rule's quiet window before ``now`` (after its warning
        cutoff, spread by the lead's name): their last action."""
        self.env["crm.lead"].flush_model()
        after = self._sla_history_hands(leads.ids)
        limits = rule._sla_cutoffs(calendar, now)
        quiet = limits.warn or limits.act  # a clock started after it is neither warned nor breached
        rows, taken_up = [], {}
        for lead in leads:
            when = acted_at[lead.id]
            owner, team, assigned = (
                when if value and value != old else value
                for value, old in zip(after[lead.id], hands[lead.id], strict=True)
            )
            if lead.user_id and lead.user_id.id != holders[lead.id][0]:
                spread = zlib.crc32(lead.name.encode()) % 1000 / 1000
                taken_up[lead.id] = max(when, quiet + (now - quiet) * spread).replace(microsecond=0)
            rows.append((lead.id, owner, team, assigned, taken_up.get(lead.id)))
        if taken_up:
            first_message = self._sla_history_next_message()
            for user, user_leads in (
                leads.filtered(lambda lead: lead.id in taken_up).grouped("user_id").items()
            ):
                user_leads._message_log_batch(
                    dict.fromkeys(user_leads.ids, self.env._("Took this lead over and called the customer.")),
                    author_id=user.partner_id.id,
                    message_type="comment",
                )
            self._sla_history_date_messages(first_message, taken_up)
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead l
                      SET sla_owner_since = v.owner, sla_team_since = v.team, date_open = v.assigned,
                          day_open = FLOOR(EXTRACT(EPOCH FROM (v.assigned - l.create_date)) / 86400),
                          sla_last_action_date = GREATEST(l.sla_last_action_date, v.taken_up)
                     FROM unnest(%s::int[], %s::timestamp[], %s::timestamp[], %s::timestamp[],
                                 %s::timestamp[])
                          AS v(id, owner, team, assigned, taken_up)
                    WHERE l.id = v.id""",
                *([row[index] for row in rows] for index in range(5)),
            )
        )
        leads.invalidate_recordset([*HANDS_COLUMNS, "day_open", "sla_last_action_date"])
