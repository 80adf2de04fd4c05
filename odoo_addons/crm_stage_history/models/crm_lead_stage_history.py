from datetime import datetime, time

from odoo import api, fields, models, tools
from odoo.tools import SQL

ORIGINS = [
    ("create", "Creation"),
    ("manual", "Manual change"),
    ("survey", "Qualification survey"),
    ("sla", "SLA rule"),
    ("override", "Manager override"),
    ("import", "Import"),
    ("backfill", "Rebuilt from chatter"),
]

# Join of the skip table (see _skip_table) for a stay of lead ``l`` entering stage ``ns`` from stage ``ps``.
_SKIP_JOIN = """
    LEFT JOIN unnest(%(k_prev)s::int[], %(k_new)s::int[], %(k_team)s::int[], %(k_count)s::int[])
           AS k(prev_id, new_id, team_id, n)
           ON k.prev_id = ps.id AND k.new_id = ns.id
          AND k.team_id = CASE WHEN l.team_id = ANY(%(k_teams)s::int[]) THEN l.team_id ELSE 0 END
"""


class CrmLeadStageHistory(models.Model):
    _name = "crm.lead.stage.history"
    _description = "Lead Stage History"
    _order = "lead_id, date_in desc, id desc"
    _rec_name = "stage_id"

    lead_id = fields.Many2one(
        "crm.lead", string="Lead/Opportunity", required=True, index=True, ondelete="cascade", readonly=True
    )
    stage_id = fields.Many2one("crm.stage", required=True, index=True, ondelete="restrict", readonly=True)
    previous_stage_id = fields.Many2one("crm.stage", ondelete="set null", readonly=True)
    date_in = fields.Datetime(string="Entered", required=True, index=True, readonly=True)
    date_out = fields.Datetime(
        string="Left", readonly=True, help="Empty while the lead is still in the stage."
    )
    is_current = fields.Boolean(string="Current Stay", readonly=True)
    duration_hours = fields.Float(
        string="Duration (hours)",
        readonly=True,
        aggregator="avg",
        help="Hours spent in the stage; set when the stay ends.",
    )
    days_in_stage = fields.Float(
        string="Days in Stage",
        compute="_compute_days_in_stage",
        help="Days spent in the stage, up to now for the current stay.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        readonly=True,
        help="Salesperson of the lead when it entered the stage.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    changed_by_id = fields.Many2one("res.users", readonly=True)
    origin = fields.Selection(ORIGINS, required=True, default="manual", readonly=True)
    skipped_stage_count = fields.Integer(
        string="Skipped Stages",
        readonly=True,
        aggregator="sum",
        help="Stages of the pipeline jumped over by this move.",
    )
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")], string="Type", readonly=True
    )
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True, aggregator="sum")
    company_currency = fields.Many2one(related="company_id.currency_id", string="Currency")
    probability = fields.Float(readonly=True, aggregator="avg", help="Probability of the lead on entry.")
    is_stuck = fields.Boolean(
        string="Stuck",
        compute="_compute_is_stuck",
        search="_search_is_stuck",
        help="Current stay longer than the stage target allows.",
    )

    # Every index is paid on each stage change of every lead: only those that queries use. The
    # current stays are found by lead (closing them) or as a whole (stuck filter).
    _lead_current_idx = models.Index("(lead_id) WHERE is_current")

    @api.depends("date_in", "date_out")
    def _compute_days_in_stage(self):
        now = fields.Datetime.now()
        for stay in self:
            end = stay.date_out or now
            stay.days_in_stage = (end - stay.date_in).total_seconds() / 86400 if stay.date_in else 0.0

    def _compute_is_stuck(self):
        stuck = {stay_id for stay_id, _lead_id in self._stuck_stays(stay_ids=self.ids)}
        for stay in self:
            stay.is_stuck = stay.id in stuck

    def _search_is_stuck(self, operator, value):
        if operator not in ("in", "not in"):
            return NotImplemented
        stuck_wanted = (True in value) == (operator == "in")
        return [
            ("id", "in" if stuck_wanted else "not in", [stay_id for stay_id, _lead_id in self._stuck_stays()])
        ]

    # ------------------------------------------------------------------
    # Set-based writers, called by crm.lead (one query per batch each)
    # ------------------------------------------------------------------

    @api.model
    def _skip_join(self):
        """SQL joining the skip table for a stay of lead ``l`` entering stage ``ns`` from stage ``ps``."""
        # lists, not tuples: psycopg2 sends lists as arrays
        return SQL(_SKIP_JOIN, **{key: list(values) for key, values in self._skip_table().items()})

    @api.model
    @tools.ormcache()
    def _skip_table(self):
        """How many stages a move jumps over, for every forward move that jumps over at least one.

        A stage is skipped when it lies strictly between the two stages (by sequence, then id), is
        not a won stage (an end point, not a step) and belongs to the lead's team pipeline (no team,
        or the team among its teams). Team 0 stands for every team no stage is restricted to.
        Stages are few, so the table is small; it is handed to SQL as arrays (a correlated
        subquery per row would cost far more to plan and run). Cached: stages change seldom, and
        crm.stage clears the cache when they do.

        :return: dict of four parallel tuples ``k_prev``, ``k_new``, ``k_team``, ``k_count``, and the
            teams with a table of their own, ``k_teams`` (read only: the dict is shared)
        """
        # plain SQL: the whole pipeline counts, whatever the current user may read
        self.env["crm.stage"].flush_model(["sequence", "is_won", "team_ids"])
        self.env.cr.execute("""
            SELECT s.id, NOT COALESCE(s.is_won, false), array_remove(array_agg(r.crm_team_id), NULL)
              FROM crm_stage s LEFT JOIN crm_stage_crm_team_rel r ON r.crm_stage_id = s.id
          GROUP BY s.id ORDER BY s.sequence, s.id""")
        stages = self.env.cr.fetchall()
        team_ids = {0, *(team_id for _id, _step, teams in stages for team_id in teams)}
        table = {"k_prev": [], "k_new": [], "k_team": [], "k_count": [], "k_teams": sorted(team_ids)}
        for team_id in team_ids:
            steps = [is_step and (not teams or team_id in teams) for _id, is_step, teams in stages]
            for i, (prev_id, _step, _teams) in enumerate(stages):
                between = 0
                for j in range(i + 1, len(stages)):
                    if between:
                        table["k_prev"].append(prev_id)
                        table["k_new"].append(stages[j][0])
                        table["k_team"].append(team_id)
                        table["k_count"].append(between)
                    between += steps[j]
        return {key: tuple(values) for key, values in table.items()}

    @api.model
    def _sync_stays(self, lead_ids, origin, now):
        """Bring the stays of the given leads in line with the leads, in one statement.

        - the current stay of a lead that is archived (lost) or now in another stage ends at ``now``;
        - an active lead with a stage gets a new stay when its current stay was in another stage,
          when it has no current stay (restored, or never recorded), except a lead still in the won
          stage its last stay ended in: a stay in a won stage ends as it starts, the journey is over.

        The stay copies the lead's salesperson, team, revenue... so the caller flushes the leads first.
        Leads already in line are left alone, so calling it twice changes nothing.
        """
        if not lead_ids:
            return
        self.env.cr.execute(
            SQL(
                """
            WITH closed AS (
                UPDATE crm_lead_stage_history h
                   SET date_out = %(now)s, is_current = false,
                       duration_hours = GREATEST(EXTRACT(EPOCH FROM (%(now)s - h.date_in)) / 3600.0, 0),
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM crm_lead l
                 WHERE h.lead_id = ANY(%(ids)s) AND h.is_current AND l.id = h.lead_id
                   AND (NOT COALESCE(l.active, false) OR l.stage_id IS DISTINCT FROM h.stage_id)
             RETURNING h.lead_id, h.stage_id
            ), moves AS (
                -- moved: the stay just closed is the previous one
                SELECT c.lead_id, c.stage_id AS prev_id
                  FROM closed c JOIN crm_lead l ON l.id = c.lead_id
                 WHERE COALESCE(l.active, false) AND l.stage_id IS NOT NULL
                 UNION ALL
                -- no current stay (restored, never recorded): the last stay, if any, is the previous one
                SELECT l.id, last.stage_id
                  FROM crm_lead l
                  JOIN crm_stage ns ON ns.id = l.stage_id
             LEFT JOIN LATERAL (
                        SELECT h.stage_id FROM crm_lead_stage_history h
                         WHERE h.lead_id = l.id ORDER BY h.date_in DESC, h.id DESC LIMIT 1
                       ) last ON true
                 WHERE l.id = ANY(%(ids)s) AND COALESCE(l.active, false)
                   AND NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h
                                    WHERE h.lead_id = l.id AND h.is_current)
                   AND (NOT COALESCE(ns.is_won, false) OR last.stage_id IS DISTINCT FROM l.stage_id)
            )
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, previous_stage_id, date_in, date_out, is_current, duration_hours,
                user_id, team_id, company_id, changed_by_id, origin, skipped_stage_count,
                lead_type, expected_revenue, probability, create_uid, create_date, write_uid, write_date)
            SELECT l.id, l.stage_id, ps.id, %(now)s,
                   CASE WHEN ns.is_won THEN %(now)s::timestamp END, NOT COALESCE(ns.is_won, false),
                   CASE WHEN ns.is_won THEN 0.0 END,
                   l.user_id, l.team_id, l.company_id, %(uid)s, %(origin)s, COALESCE(k.n, 0),
                   l.type, l.expected_revenue, l.probability, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM moves m
              JOIN crm_lead l ON l.id = m.lead_id
              JOIN crm_stage ns ON ns.id = l.stage_id
         LEFT JOIN crm_stage ps ON ps.id = m.prev_id
              %(skip_join)s
            """,
                now=now,
                uid=self.env.uid,
                origin=origin,
                ids=list(lead_ids),
                skip_join=self._skip_join(),
            )
        )
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(["stage_history_ids"])

    @api.model
    def _move_to_lead(self, from_lead_ids, to_lead_id, now):
        """Give the stays of merged leads to the lead they were merged into; their current stays end."""
        self.env.cr.execute(
            SQL(
                """UPDATE crm_lead_stage_history
                      SET lead_id = %(to)s, is_current = false,
                          date_out = CASE WHEN is_current THEN %(now)s ELSE date_out END,
                          duration_hours = CASE WHEN is_current
                              THEN GREATEST(EXTRACT(EPOCH FROM (%(now)s - date_in)) / 3600.0, 0)
                              ELSE duration_hours END,
                          write_uid = %(uid)s, write_date = %(now)s
                    WHERE lead_id = ANY(%(ids)s)""",
                to=to_lead_id,
                now=now,
                uid=self.env.uid,
                ids=list(from_lead_ids),
            )
        )
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(["stage_history_ids"])

    # ------------------------------------------------------------------
    # Backfill from the chatter
    # ------------------------------------------------------------------

    @api.model
    def _backfill(self, lead_ids=None):
        """Rebuild the stays of leads that have none from the ``stage_id`` tracking of the chatter.

        One stay from the creation of the lead to its first tracked stage change, then one stay per
        tracked change. Leads without tracking get one stay from their creation. The last stay of a
        lost or archived lead ends when it was closed; a stay in a won stage ends as it starts. Leads
        that already have history are left alone, so running it twice changes nothing.

        :param lead_ids: restrict to these leads (default: every lead)
        :return: number of stays written
        """
        self.env["crm.lead"].flush_model()
        self.flush_model()
        field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        restrict = SQL("AND l.id = ANY(%s)", list(lead_ids)) if lead_ids is not None else SQL()
        self.env.cr.execute(
            SQL(
                """
            WITH todo AS (
                SELECT l.* FROM crm_lead l
                 WHERE l.stage_id IS NOT NULL %(restrict)s
                   AND NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h WHERE h.lead_id = l.id)
            ), trk AS (
                SELECT m.res_id AS lead_id, m.date, m.create_uid, v.id AS vid,
                       v.old_value_integer AS old_stage, v.new_value_integer AS new_stage
                  FROM mail_tracking_value v
                  JOIN mail_message m ON m.id = v.mail_message_id
                  JOIN todo ON todo.id = m.res_id
                  JOIN crm_stage s ON s.id = v.new_value_integer
                 WHERE m.model = 'crm.lead' AND v.field_id = %(field_id)s
            ), first_trk AS (
                SELECT DISTINCT ON (lead_id) lead_id, date, old_stage
                  FROM trk ORDER BY lead_id, date, vid
            ), stays AS (
                SELECT t.id AS lead_id, COALESCE(s0.id, t.stage_id) AS stage_id, NULL::int AS prev_id,
                       t.create_date AS date_in, f.date AS date_out, t.create_uid AS changed_by,
                       'backfill' AS origin
                  FROM todo t
             LEFT JOIN first_trk f ON f.lead_id = t.id
             LEFT JOIN crm_stage s0 ON s0.id = f.old_stage
                 UNION ALL
                SELECT lead_id, new_stage, old_stage, date,
                       LEAD(date) OVER (PARTITION BY lead_id ORDER BY date, vid), create_uid, 'backfill'
                  FROM trk
            ), ended AS (
                SELECT st.lead_id, st.stage_id, st.prev_id, st.date_in, st.changed_by,
                       CASE WHEN st.date_out IS NOT NULL THEN GREATEST(st.date_out, st.date_in)
                            WHEN ns.is_won THEN st.date_in
                            WHEN NOT COALESCE(l.active, false)
                                THEN GREATEST(COALESCE(l.date_closed, l.write_date), st.date_in)
                       END AS date_out
                  FROM stays st
                  JOIN todo l ON l.id = st.lead_id
                  JOIN crm_stage ns ON ns.id = st.stage_id
            )
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, previous_stage_id, date_in, date_out, is_current, duration_hours,
                user_id, team_id, company_id, changed_by_id, origin, skipped_stage_count,
                lead_type, expected_revenue, probability, create_uid, create_date, write_uid, write_date)
            SELECT e.lead_id, e.stage_id, ps.id, e.date_in, e.date_out, e.date_out IS NULL,
                   EXTRACT(EPOCH FROM (e.date_out - e.date_in)) / 3600.0,
                   l.user_id, l.team_id, l.company_id, e.changed_by, 'backfill', COALESCE(k.n, 0),
                   l.type, l.expected_revenue, l.probability,
                   %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
              FROM ended e
              JOIN todo l ON l.id = e.lead_id
              JOIN crm_stage ns ON ns.id = e.stage_id
         LEFT JOIN crm_stage ps ON ps.id = e.prev_id
                   %(skip_join)s
            """,
                restrict=restrict,
                field_id=field.id,
                uid=self.env.uid,
                skip_join=self._skip_join(),
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(["stage_history_ids"])
        return count

    # ------------------------------------------------------------------
    # Reading for reports
    # ------------------------------------------------------------------

    @api.model
    def _scope_domain(self, date_from=None, date_to=None, teams=None, users=None):
        """Every stay of the leads in scope: the leads whose first stay began between the two dates
        (inclusive; either may be empty) and that have at least one stay of the given teams and
        salespersons (at entry; none given: any lead).

        A lead's whole history is kept, whatever team or salesperson its other stays had: they tell
        whether it moved forward or was lost. A lead Alice moves out of New and Bob later loses in
        Qualified is an advance in New for Alice, not a loss; cutting Bob's stay would make it one. Which
        stays are of the teams and salespersons is :meth:`crm.stage.history.scope._selected_stays`. The
        RPC extractor of funnel_metrics (``teams``) reads the same stays.
        """
        domain = []
        of_scope = []
        if teams:
            of_scope.append(("team_id", "in", teams.ids))
        if users:
            of_scope.append(("user_id", "in", users.ids))
        if of_scope:
            domain.append(("lead_id", "any", [("stage_history_ids", "any", of_scope)]))
        if date_from or date_to:
            having = []
            if date_from:
                having.append(("date_in:min", ">=", datetime.combine(date_from, time.min)))
            if date_to:
                having.append(("date_in:min", "<=", datetime.combine(date_to, time.max)))
            cohort = self.with_context(active_test=False)._read_group([], ["lead_id"], having=having)
            domain.append(("lead_id", "in", [lead.id for (lead,) in cohort]))
        return domain

    @api.model
    def _transitions(self, domain):
        """The stays matching ``domain`` as a funnel_metrics transitions table (Odoo ids beside).

        Read with the current user's rights: a salesperson's numbers cover the leads he can see.
        """
        from funnel_metrics import odoo_rows  # noqa: PLC0415 - pandas is heavy: load it when asked for

        stays = self.with_context(active_test=False).search_read(
            domain, list(odoo_rows.STAY_FIELDS), order="id"
        )
        lead_ids = list({stay["lead_id"][0] for stay in stays})
        Lead = self.env["crm.lead"].with_context(active_test=False)
        leads = Lead.browse(lead_ids).read(list(odoo_rows.LEAD_FIELDS))
        stage_ids = list({stay["stage_id"][0] for stay in stays})
        stages = self.env["crm.stage"].browse(stage_ids).read(list(odoo_rows.STAGE_FIELDS))
        tags = {tag["id"]: tag["name"] for tag in self.env["crm.tag"].search_read([], ["name"])}
        return odoo_rows.transitions_from_odoo(stays, leads, stages, tags)

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------

    @api.model
    def _stuck_stays(self, stay_ids=None, lead_ids=None):
        """Current stays lasting longer than the most specific days-in-stage target of their lead.

        :return: list of ``(stay id, lead id)``
        """
        restrict = SQL()
        if stay_ids is not None:
            restrict = SQL("AND h.id = ANY(%s)", list(stay_ids))
        if lead_ids is not None:
            restrict = SQL("%s AND h.lead_id = ANY(%s)", restrict, list(lead_ids))
        self.flush_model(["is_current", "date_in", "stage_id", "lead_id"])
        self.env["crm.stage.target"].flush_model()
        self.env["crm.lead"].flush_model(["user_id", "team_id", "tag_ids"])
        self.env.cr.execute(
            SQL(
                """SELECT h.id, h.lead_id
                 FROM crm_lead_stage_history h
                 JOIN crm_lead l ON l.id = h.lead_id
                 JOIN LATERAL (%(target)s) tg ON true
                WHERE h.is_current %(restrict)s
                  AND h.date_in < %(now)s - tg.target_days_in_stage * interval '1 day'""",
                target=self.env["crm.stage.target"]._best_target_sql("target_days_in_stage"),
                restrict=restrict,
                now=fields.Datetime.now(),
            )
        )
        return self.env.cr.fetchall()
