from odoo import fields, models


class CrmStageHistoryScope(models.AbstractModel):
    """Which stage history a report or wizard looks at: the leads that entered the pipeline in a
    period (days in the user's time zone, see ``crm.pipeline.report.scope``) and passed through some sales
    teams (or salespersons), each with its whole history, and which of their stays are of those teams and
    salespersons."""

    _name = "crm.stage.history.scope"
    _inherit = "crm.pipeline.report.scope"
    _description = "Stage History Scope"

    date_from = fields.Date(
        string="Entered Pipeline From", help="Leads whose first stage stay started on or after this day."
    )
    date_to = fields.Date(
        string="Entered Pipeline To", help="Leads whose first stage stay started on or before this day."
    )
    team_ids = fields.Many2many(
        help="Leads that had at least one stage stay in one of these teams, with their whole history: their "
        "stays in other teams still tell whether they moved forward or were lost.",
    )

    def _scope_users(self):
        """Salespersons to keep (empty: all); reports that filter on them override this."""
        return self.env["res.users"]

    def _transitions(self):
        """Every stay of the leads in scope as a funnel_metrics transitions table, read with the user's
        rights (see ``crm.lead.stage.history._transitions``)."""
        self.ensure_one()
        start, end = self._period_bounds()
        return self.env["crm.lead.stage.history"]._transitions(start, end, self.team_ids, self._scope_users())

    def _keyed_by_ids(self, table):
        """A table of :meth:`_transitions` whose ``stage``, ``team`` and ``user`` are the records' ids as
        text, as the targets are keyed (``crm.stage.target._targets_table``): two stages, teams or
        salespersons may share a name, never an id."""
        return table.assign(
            **{
                column: table[f"{column}_id"].astype("string").where(table[f"{column}_id"] > 0)
                for column in ("stage", "team", "user")
            }
        )

    def _selected_stays(self, table):
        """Per row of a table of :meth:`_transitions`: whether the stay is of the chosen teams and
        salespersons (at entry) -- the ``selected`` stays of funnel_metrics' ``selection_funnel`` and
        ``breakdown``; None when neither teams nor salespersons are chosen (every stay counts)."""
        selected = None
        for column, chosen in (("team_id", self.team_ids), ("user_id", self._scope_users())):
            if chosen:
                of_chosen = table[column].isin(chosen.ids)
                selected = of_chosen if selected is None else selected & of_chosen
        return selected
