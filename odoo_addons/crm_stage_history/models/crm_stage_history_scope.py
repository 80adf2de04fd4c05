from odoo import api, fields, models
from odoo.exceptions import UserError


class CrmStageHistoryScope(models.AbstractModel):
    """Which stage history a report or wizard looks at: the leads that entered the pipeline in a
    period, the stays of some sales teams."""

    _name = "crm.stage.history.scope"
    _description = "Stage History Scope"

    date_from = fields.Date(
        string="Entered Pipeline From", help="Leads whose first stage stay started on or after this day."
    )
    date_to = fields.Date(
        string="Entered Pipeline To", help="Leads whose first stage stay started on or before this day."
    )
    team_ids = fields.Many2many("crm.team", string="Sales Teams")

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for scope in self:
            if scope.date_from and scope.date_to and scope.date_from > scope.date_to:
                raise UserError(self.env._("The period ends before it starts: check the two dates."))

    def _scope_users(self):
        """Salespersons to keep (empty: all); reports that filter on them override this."""
        return self.env["res.users"]

    def _transitions(self):
        """The stays in scope as a funnel_metrics transitions table, read with the user's rights."""
        self.ensure_one()
        History = self.env["crm.lead.stage.history"]
        return History._transitions(
            History._scope_domain(self.date_from, self.date_to, self.team_ids, self._scope_users())
        )
