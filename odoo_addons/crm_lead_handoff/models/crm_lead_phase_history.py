from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import array_literal, move_stays_to_lead
from odoo.tools import SQL, split_every

# leads rebuilt per batch: one read of the leads, one insert, one update of their phase
BACKFILL_BATCH = 5000

ORIGINS = [
    ("create", "Creation"),
    ("conversion", "Conversion to opportunity"),
    ("stage", "Stage"),
    ("handoff", "Handoff"),
    ("accept", "Handoff accepted"),
    ("auto_accept", "Handoff accepted by default"),
    ("reject", "Handoff rejected"),
    ("return", "Handoff returned"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("restore", "Restored"),
    ("correction", "Manager correction"),
    ("backfill", "Rebuilt"),
]
# phases whose stay ends as it starts: the journey is over (a restore opens a new stay)
TERMINAL_KINDS = ("won", "lost")


class CrmLeadPhaseHistory(models.Model):
    """One row per stay of a lead in a lifecycle phase, written set-based by the addon's flows only."""

    _name = "crm.lead.phase.history"
    _description = "Lead Lifecycle Phase History"
    _order = "lead_id, date_in desc, id desc"
    _rec_name = "phase_id"

    lead_id = fields.Many2one(
        "crm.lead", string="Lead/Opportunity", required=True, index=True, ondelete="cascade", readonly=True
    )
    phase_id = fields.Many2one(
        "crm.lifecycle.phase", required=True, index=True, ondelete="restrict", readonly=True
    )
    phase_kind = fields.Selection(related="phase_id.kind", string="Kind")
    previous_phase_id = fields.Many2one("crm.lifecycle.phase", ondelete="set null", readonly=True)
    date_in = fields.Datetime(string="Entered", required=True, index=True, readonly=True)
    date_out = fields.Datetime(string="Left", readonly=True, help="Empty while the lead is in the phase.")
    is_current = fields.Boolean(string="Current Stay", readonly=True)
    duration_hours = fields.Float(string="Duration (hours)", readonly=True, aggregator="avg")
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    changed_by_id = fields.Many2one("res.users", readonly=True)
    handoff_id = fields.Many2one("crm.lead.handoff", readonly=True, ondelete="set null")
    origin = fields.Selection(ORIGINS, required=True, default="create", readonly=True)

    _lead_current_idx = models.Index("(lead_id) WHERE is_current")

    # ------------------------------------------------------------------
    # Set-based writers
    # ------------------------------------------------------------------

    @api.model
    def _record_moves(self, moves, now=None):
        """Move leads to new phases: ``moves`` is ``{lead_id: (phase_id, origin, handoff_id or None)}``.

        Three statements whatever the number of leads: the leads' phase, the end of their current stays,
        the new stays (copying the lead's salesperson, team and company as they are now; a stay in a won or
        lost phase ends as it starts). Caches of the leads' phase and of the stays are invalidated."""
        if not moves:
            return
        now = now or fields.Datetime.now()
        Lead = self.env["crm.lead"]
        Lead.flush_model(["lifecycle_phase_id", "user_id", "team_id", "company_id"])
        self.flush_model()
        lead_ids = list(moves)
        phase_ids = [moves[lead_id][0] for lead_id in lead_ids]
        cr = self.env.cr
        cr.execute(
            SQL(
                """WITH v AS (SELECT * FROM unnest(%(lead)s::int[], %(phase)s::int[])
                                         AS v(lead_id, phase_id)),
                        previous AS (SELECT l.id, l.lifecycle_phase_id
                                       FROM crm_lead l JOIN v ON v.lead_id = l.id)
                   UPDATE crm_lead l SET lifecycle_phase_id = v.phase_id, lifecycle_phase_date = %(now)s
                     FROM v JOIN previous p ON p.id = v.lead_id
                    WHERE l.id = v.lead_id
                RETURNING l.id, p.lifecycle_phase_id""",
                lead=array_literal(lead_ids),
                phase=array_literal(phase_ids),
                now=now,
            )
        )
        previous = dict(cr.fetchall())
        cr.execute(
            SQL(
                """UPDATE crm_lead_phase_history h
                      SET date_out = %(now)s, is_current = false,
                          duration_hours = GREATEST(EXTRACT(EPOCH FROM (%(now)s - h.date_in)) / 3600.0, 0),
                          write_uid = %(uid)s, write_date = %(now)s
                     FROM unnest(%(ids)s::int[]) AS v(lead_id)
                    WHERE h.lead_id = v.lead_id AND h.is_current""",
                now=now,
                uid=self.env.uid,
                ids=array_literal(lead_ids),
            )
        )
        cr.execute(
            SQL(
                """INSERT INTO crm_lead_phase_history (
                        lead_id, phase_id, previous_phase_id, date_in, date_out, is_current, duration_hours,
                        user_id, team_id, company_id, changed_by_id, handoff_id, origin,
                        create_uid, create_date, write_uid, write_date)
                   SELECT v.lead_id, v.phase_id, v.prev_id, %(now)s,
                          CASE WHEN p.kind IN %(terminal)s THEN %(now)s::timestamp END,
                          p.kind NOT IN %(terminal)s, CASE WHEN p.kind IN %(terminal)s THEN 0.0 END,
                          l.user_id, l.team_id, l.company_id, %(uid)s, v.handoff_id, v.origin,
                          %(uid)s, %(now)s, %(uid)s, %(now)s
                     FROM unnest(%(lead)s::int[], %(phase)s::int[], %(prev)s::int[], %(handoff)s::int[],
                                 %(origin)s::varchar[]) AS v(lead_id, phase_id, prev_id, handoff_id, origin)
                     JOIN crm_lead l ON l.id = v.lead_id
                     JOIN crm_lifecycle_phase p ON p.id = v.phase_id""",
                now=now,
                uid=self.env.uid,
                terminal=TERMINAL_KINDS,
                lead=array_literal(lead_ids),
                phase=array_literal(phase_ids),
                prev=array_literal([previous.get(lead_id) for lead_id in lead_ids]),
                handoff=array_literal([moves[lead_id][2] for lead_id in lead_ids]),
                origin=array_literal([moves[lead_id][1] for lead_id in lead_ids]),
            )
        )
        self.invalidate_model()
        Lead.browse(lead_ids).invalidate_recordset(
            ["lifecycle_phase_id", "lifecycle_phase_date", "phase_history_ids"]
        )

    @api.model
    def _move_to_lead(self, from_lead_ids, to_lead_id, now):
        """Give the stays of merged leads to the lead they were merged into; their current stays end."""
        self.flush_model()
        move_stays_to_lead(self.env, "crm_lead_phase_history", from_lead_ids, to_lead_id, now)
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(["phase_history_ids"])

    # ------------------------------------------------------------------
    # Rebuild of existing leads
    # ------------------------------------------------------------------

    @api.model
    def _backfill(self, company_ids=None, lead_ids=None):
        """Rebuild the phases of the leads without any phase stay, from their creation, conversion and
        closing (``funnel_metrics.phase_moves.rebuilt_phase_stays``), set-based per batch of leads: one
        read, one insert of the stays, one update of the leads' phase. Leads with stays are left alone, so
        running it twice changes nothing.

        :param company_ids: leads of these companies (and those without a company); default: every lead
        :param lead_ids: restrict to these leads
        :return: the number of stays written
        """
        Lead = self.env["crm.lead"]
        Lead.flush_model()
        self.flush_model()
        conditions = [SQL("NOT EXISTS (SELECT 1 FROM crm_lead_phase_history h WHERE h.lead_id = l.id)")]
        if company_ids is not None:
            conditions.append(SQL("(l.company_id = ANY(%s) OR l.company_id IS NULL)", list(company_ids)))
        only = SQL()
        if lead_ids is not None:
            only = SQL("JOIN unnest(%s::int[]) AS v(id) ON v.id = l.id", array_literal(lead_ids))
        todo = [
            lead_id
            for (lead_id,) in self.env.execute_query(
                SQL(
                    "SELECT l.id FROM crm_lead l %s WHERE %s ORDER BY l.id",
                    only,
                    SQL(" AND ").join(conditions),
                )
            )
        ]
        count = 0
        for batch in split_every(BACKFILL_BATCH, todo, list):
            count += self._backfill_batch(batch)
        self.invalidate_model()
        Lead.invalidate_model(["lifecycle_phase_id", "lifecycle_phase_date", "phase_history_ids"])
        return count

    @api.model
    def _backfill_batch(self, lead_ids):
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when phases are rebuilt

        from funnel_metrics.phase_moves import rebuilt_phase_stays  # noqa: PLC0415

        Phase = self.env["crm.lifecycle.phase"]
        table = Phase._phase_table()
        leads = pd.DataFrame(
            self.env.execute_query(
                SQL(
                    """SELECT l.id, l.create_date, l.type, l.date_conversion, l.won_status,
                              CASE WHEN l.won_status IN ('won', 'lost')
                                   THEN COALESCE(l.date_closed, l.write_date) END
                         FROM unnest(%s::int[]) AS v(id) JOIN crm_lead l ON l.id = v.id""",
                    array_literal(lead_ids),
                )
            ),
            columns=["lead_id", "created_at", "lead_type", "converted_at", "won_status", "closed_at"],
        )
        stays = rebuilt_phase_stays(leads, Phase._plain_phases())
        if stays.empty:
            return 0

        def instants(values):  # datetime64 to Python datetimes, NaT to None
            return [None if pd.isna(value) else value.to_pydatetime() for value in values]

        def phase_ids(codes):
            return [table[code][0] if code is not None else None for code in codes]

        self.env.cr.execute(
            SQL(
                """
            WITH inserted AS (
                INSERT INTO crm_lead_phase_history (
                    lead_id, phase_id, previous_phase_id, date_in, date_out, is_current, duration_hours,
                    user_id, team_id, company_id, changed_by_id, origin,
                    create_uid, create_date, write_uid, write_date)
                SELECT e.lead_id, e.phase_id, e.prev_id, e.date_in, e.date_out, e.date_out IS NULL,
                       EXTRACT(EPOCH FROM (e.date_out - e.date_in)) / 3600.0,
                       l.user_id, l.team_id, l.company_id, l.create_uid, 'backfill',
                       %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
                  FROM unnest(%(lead)s::int[], %(phase)s::int[], %(prev)s::int[], %(date_in)s::timestamp[],
                              %(date_out)s::timestamp[]) AS e(lead_id, phase_id, prev_id, date_in, date_out)
                  JOIN crm_lead l ON l.id = e.lead_id
             RETURNING lead_id, phase_id, date_in, id
            )
            UPDATE crm_lead l SET lifecycle_phase_id = last.phase_id, lifecycle_phase_date = last.date_in
              FROM (SELECT DISTINCT ON (lead_id) lead_id, phase_id, date_in FROM inserted
                     ORDER BY lead_id, date_in DESC, id DESC) last
             WHERE l.id = last.lead_id
            """,
                uid=self.env.uid,
                lead=array_literal(int(lead) for lead in stays["lead_id"]),
                phase=array_literal(phase_ids(stays["phase"])),
                prev=array_literal(phase_ids(stays["previous_phase"])),
                date_in=array_literal(instants(stays["entered_at"])),
                date_out=array_literal(instants(stays["left_at"])),
            )
        )
        return len(stays)
