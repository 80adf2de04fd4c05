from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

SNAPSHOT_ORIGINS = [
    ("monthly", "Month-end cron"),
    ("backfill", "Rebuilt from stage history"),
]

# the advisory lock of a transaction that writes snapshots ("SNAP"): one writer at a time
LOCK_NAMESPACE = 0x534E4150
LOCK_SQL = SQL("SELECT pg_try_advisory_xact_lock(%s, 0)", LOCK_NAMESPACE)

# how long the month-end cron waits before it tries again when another transaction writes snapshots
RETRY_DELAY = timedelta(minutes=10)

# the columns every insert fills, in order
_COLUMNS = SQL(
    """lead_id, snapshot_date, stage_id, team_id, user_id, company_id, probability, is_automated,
       expected_revenue, origin, create_uid, create_date, write_uid, write_date"""
)


class CrmLeadProbabilitySnapshot(models.Model):
    """An open opportunity as it stood at a month end: the monthly pipeline data a manager looks back on
    to see whether the 50 % deals close anywhere near half the time.

    Rows are only written by :meth:`_cron_month_end_snapshot` (the live leads at the start of a month) and
    :meth:`_backfill_snapshots` (past month ends, from the stage history), both one set-based
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: a rerun, or two workers at once, add nothing twice.
    Nobody creates, changes or deletes them through the ORM (no access right allows it)."""

    _name = "crm.lead.probability.snapshot"
    _description = "Month-End Probability Snapshot"
    _order = "snapshot_date desc, lead_id"
    _rec_name = "lead_id"

    snapshot_date = fields.Date(
        string="Month End", required=True, readonly=True, index=True, help="The last day of the month."
    )
    lead_id = fields.Many2one(
        "crm.lead", string="Opportunity", required=True, readonly=True, index=True, ondelete="cascade"
    )
    stage_id = fields.Many2one("crm.stage", readonly=True, ondelete="set null")
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True, ondelete="set null")
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True, ondelete="set null")
    company_id = fields.Many2one("res.company", readonly=True, ondelete="set null")
    probability = fields.Float(
        readonly=True, aggregator="avg", help="The opportunity's probability (%) at the month end."
    )
    is_automated = fields.Boolean(
        string="Predictive Scoring",
        readonly=True,
        help="The probability was the one Odoo's predictive lead scoring computed, not set by hand. "
        "Rebuilt month ends cannot tell and say no.",
    )
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True, aggregator="sum")
    company_currency = fields.Many2one(related="company_id.currency_id", string="Currency")
    origin = fields.Selection(SNAPSHOT_ORIGINS, required=True, readonly=True)

    _lead_month_uniq = models.Constraint(
        "UNIQUE (lead_id, snapshot_date)", "An opportunity has one snapshot per month end."
    )

    @api.model
    def _insert_sql(self, select):
        """The insert of the rows of ``select`` (its columns in :data:`_COLUMNS`' order), keeping the
        snapshots that exist."""
        return SQL(
            """INSERT INTO crm_lead_probability_snapshot (%s) %s
               ON CONFLICT (lead_id, snapshot_date) DO NOTHING""",
            _COLUMNS,
            select,
        )

    @api.model
    def _lock(self):
        """Take the snapshots' writer lock for this transaction; False when another transaction holds it
        (another worker is storing snapshots: this one leaves it to it). Taken first, before any read: Odoo's
        transactions see the database as it was at their first statement, and an insert that met the rows
        of a writer that committed since would fail to serialize rather than skip them."""
        return self.env.execute_query(LOCK_SQL)[0][0]

    @api.model
    def _month_end_select(self, month_start, now):
        """The open opportunities of now, dated the month end before ``month_start`` (a naive UTC instant,
        the first of a month): those created before it, not won, not lost, active, in a stage not won."""
        return SQL(
            """SELECT l.id, (%(month_start)s::timestamp - interval '1 day')::date, l.stage_id, l.team_id,
                      l.user_id, l.company_id, COALESCE(l.probability, 0),
                      round(COALESCE(l.probability, 0)::numeric, 2)
                          = round(COALESCE(l.automated_probability, 0)::numeric, 2),
                      l.expected_revenue, 'monthly', %(uid)s, %(now)s, %(uid)s, %(now)s
                 FROM crm_lead l
                 JOIN crm_stage s ON s.id = l.stage_id
                WHERE l.type = 'opportunity' AND l.active AND l.won_status = 'pending'
                  AND NOT COALESCE(s.is_won, false) AND l.create_date < %(month_start)s""",
            month_start=month_start,
            now=now,
            uid=self.env.uid,
        )

    @api.model
    def _cron_month_end_snapshot(self):
        """Store the open opportunities as they stand at the last month end (scheduled on the first of each
        month, shortly after midnight UTC: the live leads then are the month-end pipeline).

        One statement for every company, committed with the job (the set is written whole or not at all). A
        second worker at the same time (or a manager's fill-back) holds the writer lock: this run stores
        nothing and comes back in :data:`RETRY_DELAY`, when the rows the other one wrote are kept. Run late,
        it still dates the rows the last month end, and keeps any row already there (a month end filled back
        from the stage history stays as it was).

        :return: number of snapshots written
        """
        now = fields.Datetime.now()
        if not self._lock():
            self.env.ref("crm_stage_history.ir_cron_probability_snapshot")._trigger(now + RETRY_DELAY)
            return 0
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        self.env["crm.lead"].flush_model()
        self.env.cr.execute(self._insert_sql(self._month_end_select(month_start, now)))
        count = self.env.cr.rowcount
        self.invalidate_model()
        return count

    @api.model
    def _backfill_snapshots(self, company_ids=None, now=None):
        """Fill the past month ends in from the stage history, in one statement: for each month end (its
        instant the first of the next month, UTC) up to now, each stay of an opportunity open then -- entered
        at or before it, left after it or not yet -- gives the lead's stage, salesperson, team and revenue,
        and the probability the lead had when it entered the stage (Odoo does not track a lead's probability
        in the chatter, so nothing finer is known; a change within a stay is not seen). This is
        ``funnel_metrics.month_end_snapshots``' rule. Month ends that already have a snapshot of the lead
        keep it.

        :param company_ids: only the opportunities of these companies (and those without one); None: all
        :param now: the instant up to which month ends are taken (naive UTC; default: now), for a generated
            history dated relative to another instant
        :return: number of snapshots written; None when another transaction is writing snapshots (run it
            again once that one is done)
        """
        if not self._lock():
            return None
        now = now or fields.Datetime.now()
        self.env["crm.lead"].flush_model(["type", "company_id"])
        self.env["crm.lead.stage.history"].flush_model()
        restrict = SQL()
        if company_ids is not None:
            restrict = SQL("AND (h.company_id IS NULL OR h.company_id = ANY(%s))", list(company_ids))
        select = SQL(
            """SELECT h.lead_id, (m.instant - interval '1 day')::date, h.stage_id, h.team_id, h.user_id,
                      h.company_id, COALESCE(h.probability, 0), false, h.expected_revenue, 'backfill',
                      %(uid)s, %(now)s, %(uid)s, %(now)s
                 FROM crm_lead_stage_history h
                 JOIN crm_lead l ON l.id = h.lead_id
                 CROSS JOIN LATERAL generate_series(
                        date_trunc('month', h.date_in)
                            + CASE WHEN h.date_in = date_trunc('month', h.date_in)
                                   THEN interval '0 month' ELSE interval '1 month' END,
                        date_trunc('month', LEAST(COALESCE(h.date_out - interval '1 microsecond', %(now)s),
                                                  %(now)s)),
                        interval '1 month') AS m(instant)
                WHERE l.type = 'opportunity' %(restrict)s""",
            uid=self.env.uid,
            now=now,
            restrict=restrict,
        )
        self.env.cr.execute(self._insert_sql(select))
        count = self.env.cr.rowcount
        self.invalidate_model()
        return count

    def action_backfill(self):
        """Fill the past month ends of the user's companies in from the stage history (sales managers)."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only sales managers can fill month-end snapshots in from the stage history.")
            )
        count = self._backfill_snapshots(self.env.companies.ids)
        if count is None:
            raise UserError(
                self.env._(
                    "Month-end snapshots are being written right now (the monthly snapshot, or another "
                    "fill-in): try again in a few minutes."
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Month-end snapshots filled in"),
                "message": self.env._("%(count)s snapshots rebuilt from the stage history.", count=count),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _snapshots_table(self, domain):
        """The snapshots matching ``domain`` that the user may read (record rules: his own and unassigned
        opportunities, or all; his companies), with their lead's outcome now, as a ``funnel_metrics``
        snapshots table keyed by ids: ``stage``, ``team`` and ``user`` are the records' ids as text (two
        stages may share a name, never an id), probabilities are fractions. One query."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when a report asks

        from funnel_metrics.odoo_rows import lead_outcomes  # noqa: PLC0415
        from funnel_metrics.probability_bands import SNAPSHOT_COLUMNS, validate_snapshots  # noqa: PLC0415

        self.flush_model()
        self.env["crm.lead"].flush_model(["won_status", "active"])
        self.env["crm.stage"].flush_model(["sequence"])
        query = self._search(domain)
        lead = query.join(query.table, "lead_id", "crm_lead", "id", "lead")
        stage = query.left_join(query.table, "stage_id", "crm_stage", "id", "stage")

        def column(name):
            return SQL.identifier(query.table, name)

        rows = self.env.execute_query(
            query.select(
                column("lead_id"),
                column("snapshot_date"),
                SQL("COALESCE(%s, 0)", column("stage_id")),
                SQL("COALESCE(%s, 0)", SQL.identifier(stage, "sequence")),
                column("probability"),
                SQL.identifier(lead, "won_status"),
                SQL("COALESCE(%s, false)", SQL.identifier(lead, "active")),
                column("team_id"),
                column("user_id"),
                column("is_automated"),
                SQL("COALESCE(%s, 0)::float8", column("expected_revenue")),
            )
        )
        names = ["lead_id", "snapshot_date", "stage", "stage_sequence", "probability", "won_status", "active"]
        names += ["team", "user", "is_automated", "expected_revenue"]
        frame = pd.DataFrame(rows, columns=names)
        if frame.empty:
            return validate_snapshots(pd.DataFrame({name: [] for name in SNAPSHOT_COLUMNS}))
        frame["outcome"] = lead_outcomes(frame["won_status"], frame["active"])
        frame["probability"] = frame["probability"].astype("float64") / 100
        frame["stage"] = frame["stage"].astype("string")  # 0: the stage was deleted since
        for name in ("team", "user"):
            frame[name] = [str(value) if value else None for value in frame[name]]
        return validate_snapshots(frame)
