import io

from odoo import api, models
from odoo.tools import SQL

# the lead's columns a waterfall groups by, besides the stay's own team and salesperson
LEAD_GROUPS = ("source_id", "medium_id", "campaign_id", "country_id")
# the columns of the phase stays and handoffs tables a report can group by
GROUPS = ("team", "user", "source", "medium", "campaign", "country")


# the numpy type (big-endian) of each kind of column of :func:`_copy_frame`, as PostgreSQL sends it
_BINARY = {"id": ">i4", "code": ">i4", "instant": ">i8", "bool": "u1"}
# a binary COPY's header (signature, flags, header extension length) and trailer
_HEADER, _TRAILER = 19, 2
# PostgreSQL's timestamps count microseconds from 2000-01-01; 'infinity' is the largest int64
_PG_EPOCH_US = 946_684_800_000_000


def _copy_frame(env, select, columns):
    """The rows of ``select`` as a DataFrame, read by one binary ``COPY`` and cut into columns by numpy: no
    Python object nor text per value. ``columns`` maps each column of the select, in its order, to
    ``"id"`` (a many2one: NULL is read as 0), ``"code"`` (an int4 computed by the select, never NULL),
    ``"instant"`` (a timestamp, naive UTC as Odoo stores it: ``datetime64[ns, UTC]``, NaT for NULL) or
    ``"bool"`` (NULL is read as False); every value is then of a fixed width."""
    import numpy as np  # noqa: PLC0415 - pandas is heavy: load it when a report is asked for
    import pandas as pd  # noqa: PLC0415

    def fixed(expression, kind):
        if kind == "id":
            return SQL("COALESCE(%s, 0)::int4", expression)
        if kind == "instant":
            return SQL("COALESCE(%s, 'infinity')::timestamp", expression)
        if kind == "bool":
            return SQL("COALESCE(%s, false)", expression)
        return SQL("(%s)::int4", expression)

    query = SQL(
        "COPY (SELECT %s FROM (%s) AS copied(%s)) TO STDOUT WITH (FORMAT binary)",
        SQL(", ").join(fixed(SQL.identifier("copied", name), kind) for name, kind in columns.items()),
        select,
        SQL(", ").join(SQL.identifier(name) for name in columns),
    )
    buffer = io.BytesIO()
    # the cursor's COPY: Odoo's query log and counters do not see it
    env.cr.copy_expert(env.cr.mogrify(query.code, query.params).decode(), buffer)
    data = buffer.getbuffer()
    extension = int.from_bytes(data[_HEADER - 4 : _HEADER], "big")
    row = np.dtype(
        [("count", ">i2")]
        + [
            field
            for position, kind in enumerate(columns.values())
            for field in ((f"size{position}", ">i4"), (f"value{position}", _BINARY[kind]))
        ]
    )
    rows = np.frombuffer(data[_HEADER + extension : len(data) - _TRAILER], dtype=row)
    frame = {}
    for position, (name, kind) in enumerate(columns.items()):
        values = rows[f"value{position}"]
        if kind == "instant":
            micros = values.astype("int64")
            ns = np.where(
                micros == np.iinfo(np.int64).max, np.iinfo(np.int64).min, (micros + _PG_EPOCH_US) * 1000
            )
            frame[name] = pd.Series(ns.view("datetime64[ns]")).dt.tz_localize("UTC")
        else:
            frame[name] = values.astype("bool" if kind == "bool" else "int64")
    return pd.DataFrame(frame)


def id_labels(ids):
    """Odoo ids (0 for none) as the text keys of a funnel_metrics table: a pandas ``string`` array of the
    ids as text, NA for none. Each distinct id is converted once."""
    import numpy as np  # noqa: PLC0415
    import pandas as pd  # noqa: PLC0415

    codes, uniques = pd.factorize(np.asarray(ids))
    labels = pd.array([str(value) if value else None for value in uniques.tolist()], dtype="string")
    return labels.take(codes)


def _labels(values, groups, length):
    """The group columns of a table (those of ``values``: column name to ids): :func:`id_labels` of the
    values of the columns in ``groups``, empty (NA) for the others."""
    import numpy as np  # noqa: PLC0415

    empty = id_labels(np.zeros(length, dtype="int64"))
    return {name: id_labels(ids) if name in groups else empty for name, ids in values.items()}


class CrmLeadPhaseHistory(models.Model):
    _inherit = "crm.lead.phase.history"

    @api.model
    def _readable_leads(self):
        """The leads the current user may read (his record rules; archived, lost leads too), with the
        columns a waterfall groups by: ``id`` and :data:`LEAD_GROUPS`."""
        Lead = self.env["crm.lead"].with_context(active_test=False)
        Lead.flush_model(LEAD_GROUPS)
        query = Lead._search([])
        lead = query.table
        select = query.select(
            SQL.identifier(lead, "id"), *(SQL.identifier(lead, name) for name in LEAD_GROUPS)
        )
        return _copy_frame(self.env, select, dict.fromkeys(("id", *LEAD_GROUPS), "id"))

    @api.model
    def _phase_stays(self, start=None, end=None, teams=None, groups=GROUPS):
        """``(stays, leads)``: every phase stay of the leads in scope as a ``funnel_metrics`` phase stays
        table, and those leads (:meth:`_readable_leads`' columns), read with the current user's rights: the
        stays he may read of the leads he may read. The table is keyed by ids: ``phase``, ``team``, ``user``,
        ``source``, ``medium``, ``campaign`` and ``country`` hold the records' ids as text (two may share a
        name, never an id), NA for none; the source, medium, campaign and country are the lead's. Of the
        :data:`GROUPS` columns, those not in ``groups`` are left empty (a report per team needs no campaign:
        a million texts fewer to make and check).

        The leads in scope are ``funnel_metrics.cohort_rows``': those whose first phase stay began at or
        after ``start`` and before ``end`` (naive UTC, either may be None) and, with ``teams``, that had a
        stay in one of them, each with its whole history (its later phases tell whether it moved on).

        Three reads whatever the number of stays: the leads, the stays (one binary ``COPY`` each, see
        :func:`_copy_frame`) and the phases; the leads' rules are applied by matching the stays to the
        readable leads (a join of every stay to its lead costs more than the whole read).
        """
        from funnel_metrics import cohort_rows  # noqa: PLC0415 - pandas is heavy: load it when asked for

        leads = self._readable_leads()
        self.flush_model(["lead_id", "phase_id", "date_in", "date_out", "user_id", "team_id"])
        query = self.with_context(active_test=False)._search([])

        def stay(name):
            return SQL.identifier(query.table, name)

        select = query.select(
            *(stay(name) for name in ("lead_id", "phase_id", "date_in", "date_out", "user_id", "team_id"))
        )
        kinds = {"lead_id": "id", "phase_id": "id", "date_in": "instant", "date_out": "instant"}
        frame = _copy_frame(self.env, select, {**kinds, "user_id": "id", "team_id": "id"})
        # each stay's lead among the readable ones (-1: a lead the user may not read)
        position = leads.set_index("id").index.get_indexer(frame["lead_id"])
        readable = position >= 0
        of_scope = frame["team_id"].isin(teams.ids).to_numpy() if teams else None
        if start or end or of_scope is not None:
            readable &= cohort_rows(frame["lead_id"], frame["date_in"], start, end, of_scope)
        if not readable.all():
            frame, position = frame[readable].reset_index(drop=True), position[readable]
        lead_columns = leads.take(position).reset_index(drop=True)
        values = {"team": frame["team_id"], "user": frame["user_id"]}
        values.update({name.removesuffix("_id"): lead_columns[name] for name in LEAD_GROUPS})
        return self._stays_table(frame, _labels(values, groups, len(frame))), leads

    @api.model
    def _stays_table(self, frame, groups):
        """The phase stays table of ``funnel_metrics`` for the rows of :meth:`_phase_stays`' read and their
        group columns (``groups``: :data:`GROUPS` to text arrays), with the phases' sequence and kind
        (archived phases too)."""
        import numpy as np  # noqa: PLC0415
        import pandas as pd  # noqa: PLC0415

        Phase = self.env["crm.lifecycle.phase"].with_context(active_test=False)
        phases = Phase.browse(frame["phase_id"].unique().tolist()).read(["sequence", "kind"])
        phase_id = frame["phase_id"]
        return pd.DataFrame(
            {
                "lead_id": frame["lead_id"],
                "phase": id_labels(phase_id),
                "phase_sequence": phase_id.map({row["id"]: row["sequence"] for row in phases}).astype(
                    "int64"
                ),
                "phase_kind": phase_id.map({row["id"]: row["kind"] for row in phases}).astype("string"),
                "entered_at": frame["date_in"],
                "left_at": frame["date_out"],
                **groups,
                # the origin of a stay is not a dimension of the waterfall: not read
                "origin": id_labels(np.zeros(len(frame), dtype="int64")),
            }
        )

    @api.model
    def _handoffs(self, leads, lead_ids, groups=GROUPS):
        """The handoffs the current user may read of the leads ``lead_ids`` (an array of ids among the rows
        of ``leads``, :meth:`_readable_leads`') as a ``funnel_metrics`` handoffs table keyed by ids, as
        :meth:`_phase_stays` keys its stays: ``route``, ``from_team``, ``to`` (the receiving team's id as
        text, or ``partner:<id>``), ``phase``, ``reason``; ``team`` is the sending team (the lead's team when
        it was handed over), ``source``, ``medium``, ``campaign`` and ``country`` the lead's. One ``COPY``."""
        import pandas as pd  # noqa: PLC0415 - pandas is heavy: load it when asked for

        Handoff = self.env["crm.lead.handoff"]
        states = [state for state, _label in Handoff._fields["state"].selection]
        many2ones = ("route_id", "from_team_id", "to_team_id", "to_partner_id", "phase_id", "reason_id")
        Handoff.flush_model(["lead_id", *many2ones, "state", "date_sent", "date_decided", "auto_accepted"])
        query = Handoff._search([])

        def handoff(name):
            return SQL.identifier(query.table, name)

        select = query.select(
            handoff("id"),
            handoff("lead_id"),
            *(handoff(name) for name in many2ones),
            # the state as its position among the states (1 for the first)
            SQL("array_position(%s::varchar[], %s::varchar)", states, handoff("state")),
            handoff("date_sent"),
            handoff("date_decided"),
            handoff("auto_accepted"),
        )
        frame = _copy_frame(
            self.env,
            select,
            {
                "id": "id",
                "lead_id": "id",
                **dict.fromkeys(many2ones, "id"),
                "state": "code",
                "date_sent": "instant",
                "date_decided": "instant",
                "auto_accepted": "bool",
            },
        )
        frame = frame[frame["lead_id"].isin(lead_ids)].reset_index(drop=True)
        lead_columns = leads.set_index("id").loc[frame["lead_id"]].reset_index(drop=True)
        values = {"team": frame["from_team_id"]}
        values.update({name.removesuffix("_id"): lead_columns[name] for name in LEAD_GROUPS})
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
                "sent_at": frame["date_sent"],
                "decided_at": frame["date_decided"],
                "state": pd.array(states, dtype="string").take(frame["state"].to_numpy() - 1),
                "auto_accepted": frame["auto_accepted"],
                "reason": id_labels(frame["reason_id"]),
                **_labels(values, groups, len(frame)),
            }
        )
