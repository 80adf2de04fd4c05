from datetime import datetime, timedelta

from odoo import api, fields, models, tools
from odoo.addons.crm_pipeline_base.tools import array_literal, move_stays_to_lead
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from .crm_stage_target import id_key

# leads rebuilt per batch: a read of their leads and stage changes, one insert
BACKFILL_BATCH = 5000

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
    def _stay_lead_columns(self):
        """Columns a stay copies from its lead when it opens, besides its own (``{stay column: lead
        field}``). Addons extend it: ``return {**super()._stay_lead_columns(), "column": "field"}``."""
        return {}

    @api.model
    def _sync_stays(self, lead_ids, origin, now):
        """Bring the stays of the given leads in line with the leads, in one statement.

        - the current stay of a lead that is archived (lost) or now in another stage ends at ``now``;
        - an active lead with a stage gets a new stay when its current stay was in another stage,
          when it has no current stay (restored, or never recorded), except a lead still in the won
          stage its last stay ended in: a stay in a won stage ends as it starts, the journey is over.

        The stay copies the lead's salesperson, team, revenue... so the caller flushes the leads first.
        Leads already in line are left alone, so calling it twice changes nothing. Every read of the
        leads goes through their ids (an index lookup each), never a scan of the whole lead table.
        """
        if not lead_ids:
            return
        extra = self._stay_lead_columns()
        self.env.cr.execute(
            SQL(
                """
            WITH closed AS (
                UPDATE crm_lead_stage_history h
                   SET date_out = %(now)s, is_current = false,
                       duration_hours = GREATEST(EXTRACT(EPOCH FROM (%(now)s - h.date_in)) / 3600.0, 0),
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM crm_lead l
                 WHERE h.lead_id = ANY(%(ids)s) AND h.is_current AND l.id = ANY(%(ids)s) AND l.id = h.lead_id
                   AND (NOT COALESCE(l.active, false) OR l.stage_id IS DISTINCT FROM h.stage_id)
             RETURNING h.lead_id, h.stage_id, COALESCE(l.active, false) AND l.stage_id IS NOT NULL AS reopens
            ), moves AS (
                -- moved: the stay just closed is the previous one
                SELECT c.lead_id, c.stage_id AS prev_id FROM closed c WHERE c.reopens
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
                lead_type, expected_revenue, probability, create_uid, create_date, write_uid, write_date
                %(extra_columns)s)
            SELECT l.id, l.stage_id, ps.id, %(now)s,
                   CASE WHEN ns.is_won THEN %(now)s::timestamp END, NOT COALESCE(ns.is_won, false),
                   CASE WHEN ns.is_won THEN 0.0 END,
                   l.user_id, l.team_id, l.company_id, %(uid)s, %(origin)s, COALESCE(k.n, 0),
                   l.type, l.expected_revenue, l.probability, %(uid)s, %(now)s, %(uid)s, %(now)s
                   %(extra_values)s
              FROM moves m
              JOIN crm_lead l ON l.id = m.lead_id
              JOIN crm_stage ns ON ns.id = l.stage_id
         LEFT JOIN crm_stage ps ON ps.id = m.prev_id
              %(skip_join)s
             WHERE l.id = ANY(%(ids)s)
            """,
                now=now,
                uid=self.env.uid,
                origin=origin,
                ids=list(lead_ids),
                skip_join=self._skip_join(),
                extra_columns=SQL("").join(SQL(", %s", SQL.identifier(column)) for column in extra),
                extra_values=SQL("").join(
                    SQL(", %s", SQL.identifier("l", field)) for field in extra.values()
                ),
            )
        )
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(["stage_history_ids"])

    @api.model
    def _move_to_lead(self, from_lead_ids, to_lead_id, now):
        """Give the stays of merged leads to the lead they were merged into; their current stays end."""
        move_stays_to_lead(self.env, "crm_lead_stage_history", from_lead_ids, to_lead_id, now)
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(["stage_history_ids"])

    # ------------------------------------------------------------------
    # Backfill from the chatter
    # ------------------------------------------------------------------

    @api.model
    def _backfill(self, lead_ids=None):
        """Rebuild the stays of leads that have none from the ``stage_id`` tracking of the chatter.

        The stays are ``funnel_metrics.stays_from_changes``'s: one from the creation of the lead in the
        stage before its first tracked change (its current stage without any), then one per tracked
        change; the last stay of a lost or archived lead ends when it was closed, a stay in a won stage
        ends as it starts. Leads that already have history are left alone, so running it twice changes
        nothing. Leads are read and written in batches, one query of each kind per batch.

        :param lead_ids: restrict to these leads (default: every lead)
        :return: number of stays written
        """
        self.env["crm.lead"].flush_model()
        self.flush_model()
        self.env["mail.message"].flush_model(["model", "res_id", "date"])
        self.env["mail.tracking.value"].flush_model(
            ["field_id", "mail_message_id", "old_value_integer", "new_value_integer"]
        )
        restrict = SQL("AND l.id = ANY(%s)", list(lead_ids)) if lead_ids is not None else SQL()
        todo = [
            lead_id
            for (lead_id,) in self.env.execute_query(
                SQL(
                    """SELECT l.id FROM crm_lead l
                        WHERE l.stage_id IS NOT NULL %s
                          AND NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h WHERE h.lead_id = l.id)
                     ORDER BY l.id""",
                    restrict,
                )
            )
        ]
        won_stages = self.env["crm.stage"].search([("is_won", "=", True)]).ids
        count = 0
        for batch in split_every(BACKFILL_BATCH, todo, list):
            count += self._backfill_batch(batch, won_stages)
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(["stage_history_ids"])
        return count

    @api.model
    def _backfill_batch(self, lead_ids, won_stages):
        """Write the stays rebuilt from the chatter of these leads (which have none): a read of the leads,
        one of their stage changes, one insert."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when history is rebuilt

        from funnel_metrics import stays_from_changes  # noqa: PLC0415

        leads = pd.DataFrame(
            self.env.execute_query(
                SQL(
                    """SELECT l.id, l.create_date, l.stage_id, l.create_uid,
                              CASE WHEN NOT COALESCE(l.active, false)
                                   THEN COALESCE(l.date_closed, l.write_date) END
                         FROM crm_lead l WHERE l.id = ANY(%s)""",
                    lead_ids,
                )
            ),
            columns=["lead_id", "created_at", "stage", "created_by", "ended_at"],
            dtype=object,
        )
        changes = pd.DataFrame(
            self.env.execute_query(
                SQL(
                    """SELECT m.res_id, m.date, old.id, new.id, m.create_uid
                         FROM mail_tracking_value v
                         JOIN mail_message m ON m.id = v.mail_message_id
                         JOIN crm_stage new ON new.id = v.new_value_integer
                    LEFT JOIN crm_stage old ON old.id = v.old_value_integer
                        WHERE m.model = 'crm.lead' AND v.field_id = %s AND m.res_id = ANY(%s)
                     ORDER BY v.id""",
                    self.env["ir.model.fields"]._get("crm.lead", "stage_id").id,
                    lead_ids,
                )
            ),
            columns=["lead_id", "at", "old_stage", "new_stage", "changed_by"],
            dtype=object,
        )
        stays = stays_from_changes(leads, changes, won_stages)
        if stays.empty:
            return 0
        # who made the move: the author of the change, or the creator of the lead for its first stay
        by_change = changes["changed_by"].reindex(stays["change"].fillna(-1).astype("int64"))
        by_lead = leads.set_index("lead_id")["created_by"].reindex(stays["lead_id"])
        authors = by_change.where(stays["change"].notna().to_numpy(), by_lead.to_numpy())
        changed_by = [None if pd.isna(user) or not user else int(user) for user in authors.tolist()]

        def instants(values):  # datetime64 to Python datetimes, NaT to None
            return values.to_numpy().astype("datetime64[us]").tolist()

        self.env.cr.execute(
            SQL(
                """
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, previous_stage_id, date_in, date_out, is_current, duration_hours,
                user_id, team_id, company_id, changed_by_id, origin, skipped_stage_count,
                lead_type, expected_revenue, probability, create_uid, create_date, write_uid, write_date)
            SELECT e.lead_id, e.stage_id, ps.id, e.date_in, e.date_out, e.date_out IS NULL,
                   EXTRACT(EPOCH FROM (e.date_out - e.date_in)) / 3600.0,
                   l.user_id, l.team_id, l.company_id, e.changed_by, 'backfill', COALESCE(k.n, 0),
                   l.type, l.expected_revenue, l.probability,
                   %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC'
              FROM unnest(%(lead)s::int[], %(stage)s::int[], %(prev)s::int[], %(date_in)s::timestamp[],
                          %(date_out)s::timestamp[], %(changed_by)s::int[])
                   AS e(lead_id, stage_id, prev_id, date_in, date_out, changed_by)
              JOIN crm_lead l ON l.id = e.lead_id
              JOIN crm_stage ns ON ns.id = e.stage_id
         LEFT JOIN crm_stage ps ON ps.id = e.prev_id
                   %(skip_join)s
            """,
                uid=self.env.uid,
                lead=array_literal(int(lead) for lead in stays["lead_id"]),
                stage=array_literal(int(stage) for stage in stays["stage"]),
                prev=array_literal(
                    int(stage) if stage is not None else None for stage in stays["previous_stage"]
                ),
                date_in=array_literal(instants(stays["entered_at"])),
                date_out=array_literal(instants(stays["left_at"])),
                changed_by=array_literal(changed_by),
                skip_join=self._skip_join(),
            )
        )
        return self.env.cr.rowcount

    # ------------------------------------------------------------------
    # Reading for reports
    # ------------------------------------------------------------------

    @api.model
    def _funnel_query(self, start=None, end=None, team_ids=None):
        """``(query, lead alias)``: the stays the current user may read, of leads he may read, joined to
        their lead; with ``start`` (naive UTC), without the leads that had a stay before it, with ``end``,
        without those that had none before it, with ``team_ids``, without those that had no stay in these
        teams (never in the report's leads, :func:`funnel_metrics.cohort_rows`) -- the read of
        :meth:`_transitions` and :meth:`funnel_rows`. The stays' record rules come from ``_search``, the
        leads' are applied on the joined leads (one join, not a sub-query); lost leads, archived, are read
        too."""
        self.flush_model(["lead_id", "stage_id", "date_in", "date_out", "user_id", "team_id", "company_id"])
        self.env["crm.lead"].flush_model(["won_status", "active", "user_id", "company_id"])
        query = self.with_context(active_test=False)._search([])
        lead = query.join(query.table, "lead_id", "crm_lead", "id", "lead")
        Lead = self.env["crm.lead"]
        if not self.env.su:
            Lead.browse().check_access("read")
            lead_sudo = Lead.sudo().with_context(active_test=False)
            rules = self.env["ir.rule"]._compute_domain(Lead._name, "read").optimize_full(lead_sudo)
            if not rules.is_true():
                query.add_where(rules._to_sql(lead_sudo, lead, query))

        def stay(name):
            return SQL.identifier(query.table, name)

        if start:
            query.add_where(
                SQL(
                    """%(date_in)s >= %(start)s AND NOT EXISTS (
                           SELECT 1 FROM crm_lead_stage_history earlier
                            WHERE earlier.lead_id = %(lead_id)s AND earlier.date_in < %(start)s)""",
                    date_in=stay("date_in"),
                    lead_id=stay("lead_id"),
                    start=start,
                )
            )
        if end:
            query.add_where(
                SQL(
                    """EXISTS (SELECT 1 FROM crm_lead_stage_history entry
                                WHERE entry.lead_id = %(lead_id)s AND entry.date_in < %(end)s)""",
                    lead_id=stay("lead_id"),
                    end=end,
                )
            )
        if team_ids:
            query.add_where(
                SQL(
                    """EXISTS (SELECT 1 FROM crm_lead_stage_history of_team
                                WHERE of_team.lead_id = %(lead_id)s AND of_team.team_id = ANY(%(teams)s))""",
                    lead_id=stay("lead_id"),
                    teams=list(team_ids),
                )
            )
        return query, lead

    @api.model
    def _transitions(self, start=None, end=None, teams=None, users=None):
        """Every stay of the leads in scope as a funnel_metrics transitions table (Odoo ids beside).

        The leads in scope are ``funnel_metrics.cohort_rows``': those whose first stay began at or after
        ``start`` and before ``end`` (naive UTC datetimes, either may be None: the bounds of a report's
        period, ``crm.pipeline.report.scope._period_bounds``) and that have at least one stay of the given
        teams and salespersons (at entry; none given: any lead), each with its whole history: its stays in
        other teams tell whether it moved forward or was lost. A lead Alice moves out of New and Bob later
        loses in Qualified is an advance in New for Alice, not a loss; cutting Bob's stay would make it one.
        Which stays are of the teams and salespersons is :meth:`crm.stage.history.scope._selected_stays`.
        The RPC extractor of funnel_metrics reads the same stays.

        Read with the current user's rights: the stays and leads he may read (a salesperson's numbers
        cover the leads he can see; lost leads, archived, are read too). One ``COPY`` of the stays with
        their lead's outcome, as bare ids (the reports key stages, teams and salespersons by id: no name is
        read but the stages'), parsed by Arrow: no Python object per value. With a start, SQL leaves out
        the leads that had a stay before it (never in scope) and their stays, so a year of a long history
        costs a year; the rest of the rule is ``cohort_rows``'.
        """
        import io  # noqa: PLC0415

        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when asked for

        from funnel_metrics import cohort_rows  # noqa: PLC0415
        from funnel_metrics.odoo_rows import transitions_from_ids  # noqa: PLC0415

        query, lead = self._funnel_query(start)

        def stay(name):
            return SQL.identifier(query.table, name)

        # an instant as microseconds since the epoch: exact (a double is, to the microsecond, until 2106)
        def micros(name):
            return SQL("round(date_part('epoch', %s) * 1000000)::bigint", stay(name))

        select = query.select(
            stay("id"),
            stay("lead_id"),
            stay("stage_id"),
            micros("date_in"),
            micros("date_out"),
            SQL("COALESCE(%s, 0)", stay("user_id")),
            SQL("COALESCE(%s, 0)", stay("team_id")),
            SQL.identifier(lead, "won_status"),
            SQL("COALESCE(%s, false)", SQL.identifier(lead, "active")),
        )
        buffer = io.BytesIO()
        # the cursor's COPY: Odoo's query log and counters do not see it
        self.env.cr.copy_expert(
            self.env.cr.mogrify(
                SQL("COPY (%s) TO STDOUT WITH (FORMAT csv)", select).code, select.params
            ).decode(),
            buffer,
        )
        buffer.seek(0)
        # the columns of the select, in its order
        dtypes = {
            "id": "int64",
            "lead_id": "int64",
            "stage_id": "int64",
            "date_in": "int64",
            "date_out": "Int64",
            "user_id": "int64",
            "team_id": "int64",
            "won_status": "string",
            "active": "bool",
        }
        if buffer.getbuffer().nbytes:
            frame = pd.read_csv(
                buffer,
                names=list(dtypes),
                dtype=dtypes,
                true_values=["t"],
                false_values=["f"],
                engine="pyarrow",
            )
        else:  # no stay: the parser wants at least a line
            frame = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})
        frame = frame.sort_values(["lead_id", "id"], kind="stable", ignore_index=True)
        for name in ("date_in", "date_out"):
            frame[name] = pd.to_datetime(frame[name], unit="us")
        of_scope = None
        if teams:
            of_scope = frame["team_id"].isin(teams.ids).to_numpy()
        if users:
            of_user = frame["user_id"].isin(users.ids).to_numpy()
            of_scope = of_user if of_scope is None else of_scope & of_user
        if end or of_scope is not None:
            frame = frame[cohort_rows(frame["lead_id"], frame["date_in"], start, end, of_scope)]
        leads = frame[["lead_id", "won_status", "active"]].drop_duplicates("lead_id")
        Stage = self.env["crm.stage"]
        stages = {
            stage["id"]: (stage["name"], stage["sequence"])
            for stage in Stage.browse(frame["stage_id"].unique().tolist()).read(["name", "sequence"])
        }
        return transitions_from_ids(
            frame.reset_index(drop=True), leads.rename(columns={"lead_id": "id"}), stages
        )

    @api.model
    @api.readonly
    def funnel_rows(self, start=False, end=False, team_ids=False, after_lead_id=0, limit=20000):
        """One page of the stage history for ``funnel-metrics export`` (funnel_metrics' extractor), as
        columns of bare ids: the stays of the next ``limit`` leads by id after ``after_lead_id``, of the
        leads the user may read (:meth:`_funnel_query`: his record rules on the stays and on their leads,
        lost leads included), and those leads.

        ``start``, ``end`` (``"YYYY-MM-DD HH:MM:SS[.ffffff]"``, UTC, or False): leave out the leads that
        had a stay before ``start`` or none before ``end``, and with ``team_ids`` (a list of sales team
        ids) those without a stay in these teams, as the reports do; which of the others are in the report's
        leads is :func:`funnel_metrics.cohort_rows`' rule, which the extractor applies.
        Read-only (served by a read replica where there is one); every value can travel over XML-RPC: no
        ``None`` (an empty many2one is 0, a stay still open has ``date_out`` False), instants as
        ``YYYY-MM-DD HH:MM:SS.ffffff`` text.

        :return: ``{"stays": {column: [values]}, "leads": {column: [values]}, "next_lead_id": id}`` with
            the columns ``funnel_metrics.odoo_rows.STAY_FIELDS`` (stays by lead, then entry) and ``id``
            and ``LEAD_FIELDS`` (``tag_ids``: a list of ids per lead); ``next_lead_id`` is the
            ``after_lead_id`` of the next page, False after the last one.
        """
        from funnel_metrics.odoo_rows import LEAD_FIELDS, STAY_FIELDS  # noqa: PLC0415

        stay_columns, lead_columns = STAY_FIELDS, ("id", *LEAD_FIELDS)
        try:
            after, limit = int(after_lead_id or 0), int(limit)
            start, end = (datetime.fromisoformat(bound) if bound else None for bound in (start, end))
            team_ids = [int(team) for team in team_ids or ()]
        except (TypeError, ValueError) as error:
            raise UserError(self.env._("funnel_rows: %(error)s", error=error)) from error
        if limit < 1:
            raise UserError(self.env._("funnel_rows: the page size must be at least 1."))
        query, _lead = self._funnel_query(start, end, team_ids)
        # the page: the next ``limit`` lead ids (a range of the leads' primary key, cheap whatever the
        # stays); the rules and the start apply to the stays of that range
        [[upto, count]] = self.env.execute_query(
            SQL(
                """SELECT max(id), count(*)
                     FROM (SELECT id FROM crm_lead WHERE id > %s ORDER BY id LIMIT %s) page""",
                after,
                limit,
            )
        )
        columns = {"stays": {name: [] for name in stay_columns}}
        columns["leads"] = {name: [] for name in lead_columns}
        columns["next_lead_id"] = upto if count == limit else False
        if not count:
            return columns

        def stay(name):
            return SQL.identifier(query.table, name)

        def instant(name):
            return SQL("to_char(%s, 'YYYY-MM-DD HH24:MI:SS.US')", stay(name))

        query.add_where(SQL("%s > %s AND %s <= %s", stay("lead_id"), after, stay("lead_id"), upto))
        query.order = SQL("%s, %s, %s", stay("lead_id"), stay("date_in"), stay("id"))
        rows = self.env.execute_query(
            query.select(
                stay("lead_id"),
                stay("stage_id"),
                instant("date_in"),
                instant("date_out"),
                SQL("COALESCE(%s, 0)", stay("user_id")),
                SQL("COALESCE(%s, 0)", stay("team_id")),
            )
        )
        if not rows:
            return columns
        for name, values in zip(stay_columns, zip(*rows, strict=True), strict=True):
            columns["stays"][name] = list(values)
        columns["stays"]["date_out"] = [value or False for value in columns["stays"]["date_out"]]
        # the leads of these stays: readable (their stays came through the leads' rules)
        leads = self.env.execute_query(
            SQL(
                """
                SELECT l.id, COALESCE(l.name, ''), COALESCE(l.won_status, 'pending'),
                       COALESCE(l.active, false), COALESCE(l.lost_reason_id, 0), COALESCE(l.source_id, 0),
                       COALESCE(l.campaign_id, 0), COALESCE(t.tag_ids, '{}'),
                       COALESCE(l.expected_revenue, 0)::float8
                  FROM crm_lead l
             LEFT JOIN (SELECT lead_id, array_agg(tag_id ORDER BY tag_id) AS tag_ids
                          FROM crm_tag_rel
                         WHERE lead_id > %(after)s AND lead_id <= %(upto)s
                      GROUP BY lead_id) t ON t.lead_id = l.id
                 WHERE l.id = ANY(%(ids)s)
              ORDER BY l.id
                """,
                after=after,
                upto=upto,
                ids=sorted(set(columns["stays"]["lead_id"])),
            )
        )
        for name, values in zip(lead_columns, zip(*leads, strict=True), strict=True):
            columns["leads"][name] = list(values)
        return columns

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------

    @api.model
    def _stuck_stays(self, stay_ids=None, lead_ids=None):
        """Current stays lasting longer than the most specific days-in-stage target of their lead (its
        stage, and its current salesperson, team, tags and company).

        The targets are read once and matched by ``funnel_metrics.match_targets``; SQL only reads the
        current stays older than the shortest target of their stage (none younger can be stuck).

        :return: list of ``(stay id, lead id)``
        """
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when the filter is used

        from funnel_metrics import match_targets  # noqa: PLC0415

        Target = self.env["crm.stage.target"]
        targets = Target._targets_table()
        timed = targets[targets["target_days_in_stage"] > 0]
        if timed.empty:
            return []
        now = fields.Datetime.now()
        shortest = timed.groupby("stage")["target_days_in_stage"].min()
        restrict = SQL()
        if stay_ids is not None:
            restrict = SQL("AND h.id = ANY(%s)", list(stay_ids))
        if lead_ids is not None:
            restrict = SQL("%s AND h.lead_id = ANY(%s)", restrict, list(lead_ids))
        self.flush_model(["is_current", "date_in", "stage_id", "lead_id"])
        self.env["crm.lead"].flush_model(["user_id", "team_id", "tag_ids", "company_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT h.id, h.lead_id, h.stage_id, h.date_in, l.user_id, l.team_id, l.company_id,
                          ARRAY(SELECT r.tag_id FROM crm_tag_rel r WHERE r.lead_id = l.id)
                     FROM crm_lead_stage_history h
                     JOIN crm_lead l ON l.id = h.lead_id
                     JOIN unnest(%(stages)s::int[], %(cutoffs)s::timestamp[]) AS c(stage_id, cutoff)
                          ON c.stage_id = h.stage_id
                    WHERE h.is_current AND h.date_in < c.cutoff %(restrict)s""",
                stages=[int(stage) for stage in shortest.index],
                cutoffs=[now - timedelta(days=days) for days in shortest],
                restrict=restrict,
            )
        )
        if not rows:
            return []
        stays = pd.DataFrame(
            {
                "stage": [id_key(row[2]) for row in rows],
                "user": [id_key(row[4]) for row in rows],
                "team": [id_key(row[5]) for row in rows],
                "product": [[str(tag) for tag in row[7]] for row in rows],
            },
            dtype=object,
        )
        company = pd.Series([row[6] or 0 for row in rows])
        target = pd.Series(float("nan"), index=stays.index)
        for company_id in company.unique().tolist():
            of_company = company == company_id
            target[of_company] = match_targets(
                stays[of_company], Target._of_company(timed, company_id), "target_days_in_stage"
            )
        # stuck when the stay is older than its target, as funnel_metrics.stuck_leads has it
        entered = pd.Series([row[3] for row in rows], dtype="datetime64[ns]")
        stuck = (entered < pd.Timestamp(now) - pd.to_timedelta(target, unit="D")).tolist()
        return [(row[0], row[1]) for row, is_stuck in zip(rows, stuck, strict=True) if is_stuck]
