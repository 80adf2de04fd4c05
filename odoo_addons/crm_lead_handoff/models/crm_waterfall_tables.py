import io

from odoo import api, models
from odoo.tools import SQL

# the lead's columns a waterfall groups by, besides the stay's own team and salesperson
LEAD_GROUPS = ("source_id", "medium_id", "campaign_id", "country_id")


def _micros(column):
    """An instant as microseconds since the epoch: exact (a double is, to the microsecond, until 2106)."""
    return SQL("round(date_part('epoch', %s) * 1000000)::bigint", column)


def _copy_frame(env, select, dtypes):
    """The rows of ``select`` as a DataFrame of ``dtypes`` (the select's columns, in its order): one
    ``COPY`` parsed by Arrow, no Python object per value (the funnel report's read of its stays)."""
    import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for

    buffer = io.BytesIO()
    # the cursor's COPY: Odoo's query log and counters do not see it
    env.cr.copy_expert(
        env.cr.mogrify(SQL("COPY (%s) TO STDOUT WITH (FORMAT csv)", select).code, select.params).decode(),
        buffer,
    )
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:  # no row: the parser wants at least a line
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})
    return pd.read_csv(
        buffer,
        names=list(dtypes),
        dtype=dtypes,
        true_values=["t"],
        false_values=["f"],
        engine="pyarrow",
    )


def id_labels(ids):
    """Odoo ids (0 for none) as the text keys of a funnel_metrics table: a pandas ``string`` array of the
    ids as text, NA for none. Each distinct id is converted once."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    codes, uniques = pd.factorize(np.asarray(ids))
    labels = pd.array([str(value) if value else None for value in uniques.tolist()], dtype="string")
    return labels.take(codes)


def _utc(micros):
    """Microseconds since the epoch (NA for none) as ``datetime64[ns, UTC]`` instants (NaT for none)."""
    import pandas as pd  # noqa: PLC0415

    return pd.to_datetime(micros, unit="us").astype("datetime64[ns]").dt.tz_localize("UTC")


class CrmLeadPhaseHistory(models.Model):
    _inherit = "crm.lead.phase.history"

    @api.model
    def _readable_query(self, model):
        """``(query, lead alias)``: the rows of ``model`` (phase stays or handoffs, both with a ``lead_id``)
        the current user may read, of leads he may read, joined to their lead. The rows' record rules come
        from ``_search``, the leads' are applied on the joined leads; archived (lost) leads are read too."""
        Model = self.env[model].with_context(active_test=False)
        query = Model._search([])
        lead = query.join(query.table, "lead_id", "crm_lead", "id", "lead")
        Lead = self.env["crm.lead"]
        if not self.env.su:
            Lead.browse().check_access("read")
            lead_sudo = Lead.sudo().with_context(active_test=False)
            rules = self.env["ir.rule"]._compute_domain(Lead._name, "read").optimize_full(lead_sudo)
            if not rules.is_true():
                query.add_where(rules._to_sql(lead_sudo, lead, query))
        return query, lead

    @api.model
    def _phase_stays(self, start=None, end=None, teams=None):
        """Every phase stay of the leads in scope as a ``funnel_metrics`` phase stays table, read with the
        current user's rights (the stays and the leads he may read), keyed by ids: ``phase``, ``team``,
        ``user``, ``source``, ``medium``, ``campaign`` and ``country`` hold the records' ids as text (two
        may share a name, never an id), NA for none; the source, medium, campaign and country are the lead's.

        The leads in scope are ``funnel_metrics.cohort_rows``': those whose first phase stay began at or
        after ``start`` and before ``end`` (naive UTC, either may be None) and, with ``teams``, that had a
        stay in one of them, each with its whole history (its later phases tell whether it advanced).
        """

        from funnel_metrics import cohort_rows  # noqa: PLC0415

        self.flush_model(["lead_id", "phase_id", "date_in", "date_out", "user_id", "team_id", "origin"])
        self.env["crm.lead"].flush_model([*LEAD_GROUPS, "active", "user_id", "company_id"])
        query, lead = self._readable_query(self._name)

        def stay(name):
            return SQL.identifier(query.table, name)

        select = query.select(
            stay("id"),
            stay("lead_id"),
            stay("phase_id"),
            _micros(stay("date_in")),
            _micros(stay("date_out")),
            SQL("COALESCE(%s, 0)", stay("user_id")),
            SQL("COALESCE(%s, 0)", stay("team_id")),
            *(SQL("COALESCE(%s, 0)", SQL.identifier(lead, name)) for name in LEAD_GROUPS),
            stay("origin"),
        )
        dtypes = {
            "id": "int64",
            "lead_id": "int64",
            "phase_id": "int64",
            "date_in": "int64",
            "date_out": "Int64",
            "user_id": "int64",
            "team_id": "int64",
            **dict.fromkeys(LEAD_GROUPS, "int64"),
            "origin": "string",
        }
        frame = _copy_frame(self.env, select, dtypes)
        frame = frame.sort_values(["lead_id", "date_in", "id"], kind="stable", ignore_index=True)
        for name in ("date_in", "date_out"):
            frame[name] = _utc(frame[name])
        of_scope = frame["team_id"].isin(teams.ids).to_numpy() if teams else None
        if start or end or of_scope is not None:
            frame = frame[cohort_rows(frame["lead_id"], frame["date_in"], start, end, of_scope)]
            frame = frame.reset_index(drop=True)
        return self._stays_table(frame)

    @api.model
    def _stays_table(self, frame):
        """The phase stays table of ``funnel_metrics`` for the rows of :meth:`_phase_stays`' read, with
        the phases' sequence and kind (archived phases too)."""
        import pandas as pd  # noqa: PLC0415

        Phase = self.env["crm.lifecycle.phase"].with_context(active_test=False)
        phases = {
            phase["id"]: phase
            for phase in Phase.browse(frame["phase_id"].unique().tolist()).read(["sequence", "kind"])
        }
        phase_id = frame["phase_id"]
        table = pd.DataFrame(
            {
                "lead_id": frame["lead_id"],
                "phase": id_labels(phase_id),
                "phase_sequence": phase_id.map({key: row["sequence"] for key, row in phases.items()}),
                "phase_kind": phase_id.map({key: row["kind"] for key, row in phases.items()}).astype(
                    "string"
                ),
                "entered_at": frame["date_in"],
                "left_at": frame["date_out"],
                "team": id_labels(frame["team_id"]),
                "user": id_labels(frame["user_id"]),
                **{name.removesuffix("_id"): id_labels(frame[name]) for name in LEAD_GROUPS},
                "origin": frame["origin"],
            }
        )
        return table.astype({"phase_sequence": "int64"})

    @api.model
    def _handoffs(self, lead_ids=None):
        """The handoffs the current user may read (of leads he may read) as a ``funnel_metrics`` handoffs
        table keyed by ids, as :meth:`_phase_stays` keys its stays: ``route``, ``from_team``, ``to`` (the
        receiving team's id as text, or ``partner:<id>``), ``phase``, ``reason``; ``team`` is the sending
        team (the lead's team when it was handed over), ``source``, ``medium``, ``campaign`` and ``country``
        the lead's. With ``lead_ids`` (an array), only the handoffs of those leads."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when asked for

        Handoff = self.env["crm.lead.handoff"]
        Handoff.flush_model(
            [
                "lead_id",
                "route_id",
                "from_team_id",
                "to_team_id",
                "to_partner_id",
                "phase_id",
                "state",
                "date_sent",
                "date_decided",
                "auto_accepted",
                "reason_id",
            ]
        )
        self.env["crm.lead"].flush_model([*LEAD_GROUPS, "active", "user_id", "company_id"])
        query, lead = self._readable_query(Handoff._name)

        def handoff(name):
            return SQL.identifier(query.table, name)

        select = query.select(
            handoff("id"),
            handoff("lead_id"),
            *(
                SQL("COALESCE(%s, 0)", handoff(name))
                for name in ("route_id", "from_team_id", "to_team_id", "to_partner_id", "phase_id")
            ),
            handoff("state"),
            _micros(handoff("date_sent")),
            _micros(handoff("date_decided")),
            SQL("COALESCE(%s, false)", handoff("auto_accepted")),
            SQL("COALESCE(%s, 0)", handoff("reason_id")),
            *(SQL("COALESCE(%s, 0)", SQL.identifier(lead, name)) for name in LEAD_GROUPS),
        )
        dtypes = {
            "id": "int64",
            "lead_id": "int64",
            "route_id": "int64",
            "from_team_id": "int64",
            "to_team_id": "int64",
            "to_partner_id": "int64",
            "phase_id": "int64",
            "state": "string",
            "date_sent": "int64",
            "date_decided": "Int64",
            "auto_accepted": "bool",
            "reason_id": "int64",
            **dict.fromkeys(LEAD_GROUPS, "int64"),
        }
        frame = _copy_frame(self.env, select, dtypes)
        if lead_ids is not None:
            frame = frame[frame["lead_id"].isin(lead_ids)]
        frame = frame.sort_values("id", ignore_index=True)
        # the receiving side: a team's id, or a partner's as partner:<id> (the two share no key)
        to = pd.Series(id_labels(frame["to_team_id"])).fillna(
            "partner:" + pd.Series(id_labels(frame["to_partner_id"]))
        )
        return pd.DataFrame(
            {
                "handoff_id": frame["id"],
                "lead_id": frame["lead_id"],
                "route": id_labels(frame["route_id"]),
                "from_team": id_labels(frame["from_team_id"]),
                "to": to,
                "phase": id_labels(frame["phase_id"]),
                "sent_at": _utc(frame["date_sent"]),
                "decided_at": _utc(frame["date_decided"]),
                "state": frame["state"],
                "auto_accepted": frame["auto_accepted"].astype(bool),
                "reason": id_labels(frame["reason_id"]),
                "team": id_labels(frame["from_team_id"]),
                **{name.removesuffix("_id"): id_labels(frame[name]) for name in LEAD_GROUPS},
            }
        )
