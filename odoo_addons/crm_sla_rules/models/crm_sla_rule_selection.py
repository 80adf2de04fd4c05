"""Which leads a rule warns or acts on: one SQL query per rule, kind and working schedule, and the claim
of their episodes."""

import psycopg2.errors
from odoo import models
from odoo.fields import Domain
from odoo.tools import SQL

from .crm_sla_rule import _logger


class CrmSlaRule(models.Model):
    _inherit = "crm.sla.rule"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    def _sla_clock_columns(self):
        """The ``crm.lead`` columns of the rule's clock: its own, then the changes of hands restarting it."""
        from sla_rules.rules import CLOCK_COLUMNS, CLOCK_RESTARTS

        return (CLOCK_COLUMNS[self.clock], *CLOCK_RESTARTS[self.clock])

    def _sla_clock_start(self, table):
        """The clock start of the leads of ``table`` in SQL, as ``sla_rules.rules.clock_start`` defines it:
        the latest of the clock's columns (GREATEST skips the empty ones)."""
        columns = [SQL.identifier(table, column) for column in self._sla_clock_columns()]
        return columns[0] if len(columns) == 1 else SQL("GREATEST(%s)", SQL(", ").join(columns))

    def _sla_scope_domain(self):
        """The rule's scope on ``crm.lead``: ``sla_rules.rules.scope_conditions`` of its plain values as a
        domain (the plain ``won`` is crm's ``won_status``)."""
        from sla_rules.rules import scope_conditions

        domain = Domain.TRUE
        for name, operator, value in scope_conditions(self._sla_rule_values()):
            if name == "won":
                domain &= Domain("won_status", "=" if value else "!=", "won")
            else:
                domain &= Domain(name, operator, sorted(value) if operator == "in" else value)
        return domain

    def _sla_query(self, kind, calendar, company_ids, now, lead_ids=None):
        """The leads this rule must warn (``kind='warn'``) or act on (``'act'``) now: scope, clock past the
        cutoff, and no event yet for the episode (rule, lead, clock start)."""
        self.ensure_one()
        from sla_rules.rules import CLOCK_REQUIRES

        column, *restarts = self._sla_clock_columns()
        limits = self._sla_cutoffs(calendar, now)
        domain = self._sla_scope_domain() & self._sla_extra_domain()
        # the clock runs once its own column and the fields it requires are set
        for name in (column, *CLOCK_REQUIRES[self.clock]):
            domain &= Domain(name, "!=", False)
        if company_ids is not None:
            domain &= Domain("company_id", "in", company_ids)
        if lead_ids is not None:
            domain &= Domain("id", "in", lead_ids)
        if kind == "act":
            cutoff = limits.act
            handled = ("acted", "failed")
        else:
            cutoff = limits.warn
            handled = ("warned", "acted", "failed", "retry")
        # the clock's own column is at or before the cutoff whenever its start is: the index on it helps
        domain &= Domain(column, "<=", cutoff)
        # the conditions below read the events and the restart columns in SQL
        self.env["crm.sla.event"].flush_model(["rule_id", "lead_id", "clock_start", "state"])
        self.env["crm.lead"].flush_model(restarts)
        # sudo: rules act on every lead of their scope, whoever the salesperson; active leads only
        query = self.env["crm.lead"].sudo().with_context(active_test=True)._search(domain)
        lead_id = SQL.identifier(query.table, "id")
        start = self._sla_clock_start(query.table)
        query.add_where(SQL("%s <= %s", start, cutoff))
        if kind == "warn":
            query.add_where(SQL("%s > %s", start, limits.act))
        query.add_where(
            SQL(
                """NOT EXISTS (SELECT 1 FROM crm_sla_event event
                                WHERE event.rule_id = %s AND event.lead_id = %s
                                  AND event.clock_start = %s AND event.state IN %s)""",
                self.id,
                lead_id,
                start,
                handled,
            )
        )
        query.order = SQL("%s, %s", start, lead_id)
        return query

    def _sla_select(self, kind, calendar, company_ids, now):
        query = self._sla_query(kind, calendar, company_ids, now)
        # through the environment: the lead fields the selection reads are flushed first (a clock column
        # computed in the same transaction, a team just written)
        return [row[0] for row in self.env.execute_query(query.select())]

    def _sla_claim(self, kind, calendar, company_ids, now, lead_ids):
        """Open (warn) or take over (act) the episodes of ``lead_ids`` that still qualify, in one statement:
        the unique (rule, lead, clock start) makes a concurrent run wait, then skip what this one took.
        Returns ``{lead_id: event_id}`` in the order of ``lead_ids`` (the selection's: oldest clock first,
        which the round robin follows), whatever order the statement returned its rows in."""
        rows = dict(
            self._sla_claim_rows(self.env.cr, self._sla_claim_sql(kind, calendar, company_ids, now, lead_ids))
        )
        self.env["crm.sla.event"].invalidate_model()
        return {lead_id: rows[lead_id] for lead_id in lead_ids if lead_id in rows}

    @staticmethod
    def _sla_claim_rows(cr, claim):
        """Run the claim statement on ``cr``. When a concurrent run took some of the same episodes after
        this transaction's snapshot, PostgreSQL refuses the statement (repeatable read): the batch is
        left to that run and nothing is claimed here."""
        try:
            with cr.savepoint(flush=False):
                cr.execute(claim, log_exceptions=False)
                return cr.fetchall()
        except psycopg2.errors.SerializationFailure:
            _logger.info("SLA rules: a concurrent run is handling the same leads; batch skipped")
            return []

    def _sla_claim_sql(self, kind, calendar, company_ids, now, lead_ids):
        """The claim statement (``INSERT ... ON CONFLICT ... RETURNING lead_id, id``)."""
        query = self._sla_query(kind, calendar, company_ids, now, lead_ids=lead_ids)
        query.order = None
        lead = query.table
        state = "warned" if kind == "warn" else "acted"
        select = query.select(
            SQL(
                "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s",
                self.id,
                SQL.identifier(lead, "id"),
                self.clock,
                self._sla_clock_start(lead),
                state,
                self.action,
                now if kind == "warn" else None,
                now if kind == "act" else None,
                SQL.identifier(lead, "company_id"),
                SQL.identifier(lead, "team_id"),
                SQL.identifier(lead, "user_id"),
                self.configured_by_id.id,
                self.env.uid,
                now,
                self.env.uid,
                now,
            )
        )
        on_conflict = (
            SQL("DO NOTHING")
            if kind == "warn"
            else SQL(
                """DO UPDATE SET state = EXCLUDED.state, acted_at = EXCLUDED.acted_at,
                                 user_id = EXCLUDED.user_id, team_id = EXCLUDED.team_id,
                                 configured_by_id = EXCLUDED.configured_by_id,
                                 write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                    WHERE crm_sla_event.state IN ('warned', 'retry')"""
            )
        )
        return SQL(
            """INSERT INTO crm_sla_event (rule_id, lead_id, clock, clock_start, state, action, warned_at,
                                              acted_at, company_id, team_id, user_id, configured_by_id,
                                              create_uid, create_date, write_uid, write_date)
                   %s
                   ON CONFLICT (rule_id, lead_id, clock_start) %s
                   RETURNING lead_id, id""",
            select,
            on_conflict,
        )
