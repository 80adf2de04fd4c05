from dataclasses import replace
from datetime import timedelta

from odoo import api, fields, models
from odoo.addons.crm_pipeline_base.tools import cursor_marker
from odoo.exceptions import AccessError, UserError

from activity_centric import CalendarError, Load, WorkCalendar, day_load, fits, level, working_days

from ..models.mail_activity import LEVELLING_KEY

HORIZON = 10  # working days searched for room after the planned day


class CrmActivityPlanTomorrow(models.TransientModel):
    _name = "crm.activity.plan.tomorrow"
    _description = "Plan Tomorrow"

    date = fields.Date(
        string="Day to Plan",
        required=True,
        default=lambda self: fields.Date.context_today(self) + timedelta(days=1),
    )
    team_id = fields.Many2one("crm.team", string="Sales Team")
    user_ids = fields.Many2many(
        "res.users",
        string="Salespeople",
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
    )
    is_manager = fields.Boolean(compute="_compute_is_manager")
    load_ids = fields.One2many("crm.activity.plan.tomorrow.load", "wizard_id")
    move_ids = fields.One2many("crm.activity.plan.tomorrow.move", "wizard_id", string="Proposed Moves")
    proposed = fields.Boolean(readonly=True)
    unplaced_count = fields.Integer(string="No Room Found", readonly=True)
    over_count = fields.Integer(
        string="Over Capacity", readonly=True, help="Salespeople whose day does not fit their capacity."
    )

    def _compute_is_manager(self):
        for wizard in self:
            wizard.is_manager = self.env.user.has_group("sales_team.group_sale_salesman_all_leads")

    @api.onchange("team_id")
    def _onchange_team_id(self):
        if self.team_id and self.is_manager:
            self.user_ids = self.team_id.member_ids | self.team_id.user_id

    def _planned_users(self):
        self.ensure_one()
        users = self.user_ids or self.env.user
        if users != self.env.user and not self.env.user.has_group("sales_team.group_sale_salesman_all_leads"):
            raise AccessError(self.env._("You can only plan your own activities."))
        return users

    def _working_days(self):
        """``(work calendar, the HORIZON working days after the planned day)``: the working days of the
        company's working schedule (as event chains and SLA business days count them); without a schedule,
        Monday to Friday."""
        self.ensure_one()
        schedule = self.env.company.resource_calendar_id
        if not schedule:
            work_calendar = WorkCalendar.from_weekdays(range(5))
            return work_calendar, working_days(self.date, HORIZON, calendar=work_calendar)

        def compute(work):
            days = working_days(self.date, HORIZON, calendar=work)
            return (work, days), self.date, days[-1] + timedelta(days=1)

        try:
            return schedule._pd_work_time(self.date, self.date + timedelta(days=1), compute)
        except CalendarError as error:
            raise UserError(schedule._pd_calendar_problem(error)) from None

    def action_propose(self):
        self.ensure_one()
        users = self._planned_users()
        work_calendar, days = self._working_days()
        # the load of a day counts every activity of the salesperson, also on documents the planner cannot
        # read; only lead activities the planner may edit are proposed for a move
        loads = self.env["res.users"]._activity_items(users.ids, self.date, days[-1])
        # sudo: which documents those activities are on, as the load above
        activities = self.env["mail.activity"].sudo().browse([item.id for item in loads])
        lead_activities = activities.filtered(lambda act: act.res_model == "crm.lead")
        leads = self.env["crm.lead"].browse(lead_activities.mapped("res_id")).exists()
        editable = set(self.env["mail.activity"].browse(lead_activities.ids)._filtered_access("write").ids)
        lead_by_id = {lead.id: lead for lead in leads.sudo()}
        items = []
        for item, activity in zip(loads, activities, strict=True):
            lead = lead_by_id.get(activity.res_id) if activity.res_model == "crm.lead" else None
            items.append(
                replace(
                    item,
                    priority=(int(lead.priority or 0), lead.expected_revenue or 0.0) if lead else (99, 0.0),
                    movable=bool(lead) and activity.id in editable,
                )
            )
        capacities = self.env["res.users"]._activity_capacities(users.ids)
        plan = level(items, capacities, self.date, calendar=work_calendar, horizon=HORIZON)
        load_lines = []
        for user in users.sorted("name"):
            capacity = capacities.get(user.id)
            was = day_load(items, user.id, self.date)
            after = plan.loads.get((user.id, self.date), Load(0, 0.0))
            load_lines.append(
                {
                    "user_id": user.id,
                    "count_before": was.count,
                    "minutes_before": round(was.minutes),
                    "count_after": after.count,
                    "minutes_after": round(after.minutes),
                    "capacity_count": capacity.count or 0 if capacity else 0,
                    "capacity_minutes": round(capacity.minutes or 0) if capacity else 0,
                    "over": bool(capacity) and not fits(was, capacity),
                }
            )
        self.load_ids.unlink()
        self.move_ids.unlink()
        self.write(
            {
                "proposed": True,
                "load_ids": [fields.Command.create(vals) for vals in load_lines],
                "move_ids": [
                    fields.Command.create(
                        {
                            "activity_id": move.id,
                            "user_id": move.user,
                            "lead_id": activities.browse(move.id).res_id,
                            "from_date": move.from_day,
                            "to_date": move.to_day,
                        }
                    )
                    for move in plan.moves
                ],
                "unplaced_count": len(plan.unplaced),
                "over_count": sum(line["over"] for line in load_lines),
            }
        )
        return self._reopen()

    def action_apply(self):
        self.ensure_one()
        moves = self.move_ids.filtered("selected")
        if not moves:
            raise UserError(self.env._("Select at least one proposed move."))
        self._planned_users()
        with cursor_marker(self.env.cr, LEVELLING_KEY):
            for to_date, day_moves in moves.grouped("to_date").items():
                day_moves.activity_id.write({"date_deadline": to_date})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("%(count)s activities moved.", count=len(moves)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "new",
            "name": self.env._("Plan Tomorrow"),
        }


class CrmActivityPlanTomorrowLoad(models.TransientModel):
    _name = "crm.activity.plan.tomorrow.load"
    _description = "Plan Tomorrow: Load per Salesperson"
    _order = "id"

    wizard_id = fields.Many2one("crm.activity.plan.tomorrow", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    count_before = fields.Integer(string="Activities", readonly=True, help="Activities due on the day.")
    minutes_before = fields.Integer(string="Minutes", readonly=True, help="Their estimated minutes.")
    count_after = fields.Integer(
        string="Activities After", readonly=True, help="Activities due on the day once the moves are applied."
    )
    minutes_after = fields.Integer(readonly=True, help="Their estimated minutes once the moves are applied.")
    capacity_count = fields.Integer(
        string="Max Activities",
        readonly=True,
        help="The salesperson's daily capacity in activities (0: no limit).",
    )
    capacity_minutes = fields.Integer(
        string="Max Minutes", readonly=True, help="The salesperson's daily capacity in minutes (0: no limit)."
    )
    over = fields.Boolean(string="Over Capacity", readonly=True)


class CrmActivityPlanTomorrowMove(models.TransientModel):
    _name = "crm.activity.plan.tomorrow.move"
    _description = "Plan Tomorrow: Proposed Move"
    _order = "user_id, from_date, id"

    wizard_id = fields.Many2one("crm.activity.plan.tomorrow", required=True, ondelete="cascade", index=True)
    selected = fields.Boolean(string="Apply", default=True)
    activity_id = fields.Many2one("mail.activity", readonly=True, ondelete="cascade")
    activity_type_id = fields.Many2one(related="activity_id.activity_type_id")
    summary = fields.Char(related="activity_id.summary")
    lead_id = fields.Many2one("crm.lead", string="Lead/Opportunity", readonly=True)
    priority = fields.Selection(related="lead_id.priority")
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    from_date = fields.Date(string="From", readonly=True)
    to_date = fields.Date(string="To", readonly=True)
