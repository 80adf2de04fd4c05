import json

from odoo import api, models
from odoo.addons.crm_pipeline_base.tools import insert_in_pages


class CrmSlaEvent(models.Model):
    _inherit = "crm.sla.event"

    @api.model
    def _bulk_insert_events(self, events):
        """Insert past episodes of rules on existing leads as the rules' runs record them, one INSERT per
        page of rows, without the ORM (for generated or imported pipelines whose history includes the
        rules' past work).

        Given per episode, as parallel lists of plain values (one per episode):

        - ``rule_id``, ``lead_id``, ``clock_start`` (naive UTC datetime), ``state`` (``warned``, ``acted``
          or ``failed``), ``deadline`` (the breach time), ``warned_at`` and ``acted_at`` (naive UTC, or
          ``None``: not warned, not acted);
        - ``user_id``, ``team_id``: the lead's salesperson and sales team when the rule warned or acted
          (``None`` for none);
        - ``values_before``, ``values_after``: the audited values (dicts, or ``None``), ``message``.

        Read at insert: the clock and action from the rule, who configured it, the lead's company. The
        episode is dated by its last step (acted, else warned) and recorded by the current user, as a run
        records it. Caches are not invalidated: the caller does it before reading the events.

        :param dict events: column name -> list of values, all the same length
        :return: the number of events inserted
        """
        self.env["crm.sla.rule"].flush_model(["clock", "action", "configured_by_id"])
        self.env["crm.lead"].flush_model(["company_id"])
        return insert_in_pages(
            self.env.cr,
            """
            INSERT INTO crm_sla_event (
                rule_id, lead_id, clock, clock_start, deadline, state, action, warned_at, acted_at,
                company_id, team_id, user_id, configured_by_id, values_before, values_after, message,
                create_uid, create_date, write_uid, write_date)
            SELECT v.rule_id, v.lead_id, r.clock, v.clock_start, v.deadline, v.state, r.action, v.warned_at,
                   v.acted_at, l.company_id, v.team_id, v.user_id, r.configured_by_id, v.before::jsonb,
                   v.after::jsonb, v.message, %(uid)s, COALESCE(v.acted_at, v.warned_at), %(uid)s,
                   COALESCE(v.acted_at, v.warned_at)
              FROM unnest(%(rule_id)s::int[], %(lead_id)s::int[], %(clock_start)s::timestamp[],
                          %(deadline)s::timestamp[], %(state)s::varchar[], %(warned_at)s::timestamp[],
                          %(acted_at)s::timestamp[], %(team_id)s::int[], %(user_id)s::int[],
                          %(values_before)s::text[], %(values_after)s::text[], %(message)s::text[])
                   AS v(rule_id, lead_id, clock_start, deadline, state, warned_at, acted_at, team_id, user_id,
                        before, after, message)
              JOIN crm_sla_rule r ON r.id = v.rule_id
              JOIN crm_lead l ON l.id = v.lead_id
            """,
            {
                **{
                    name: events[name]
                    for name in (
                        "rule_id",
                        "lead_id",
                        "clock_start",
                        "deadline",
                        "state",
                        "warned_at",
                        "acted_at",
                        "team_id",
                        "user_id",
                        "message",
                    )
                },
                **{
                    name: [None if values is None else json.dumps(values) for values in events[name]]
                    for name in ("values_before", "values_after")
                },
            },
            uid=self.env.uid,
        )
