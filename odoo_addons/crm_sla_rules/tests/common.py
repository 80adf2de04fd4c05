from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import SQL

# pandas is imported lazily by the rules; under freezegun's patched datetime that import crashes the
# interpreter, so load it (and the plain package) before any test freezes time.
import sla_rules.businesstime  # noqa: F401 # pylint: disable=unused-import
import sla_rules.rules  # noqa: F401 # pylint: disable=unused-import

# loaded before any request: pandas must not be first imported inside the server thread of a test
import sla_rules.simulate  # noqa: F401 # pylint: disable=unused-import

# Monday 2 March 2026, 10:00 in Brussels (UTC+1 until 29 March)
MONDAY_10 = datetime(2026, 3, 2, 9, 0)


class SlaCase(TransactionCase):
    """A Brussels working week with a public holiday, a team with a leader and three members, stages, a
    lead factory that sets clock starts exactly, and a rule factory."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        cls.company = cls.env.company
        cls.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        user = {"groups": "sales_team.group_sale_salesman", "tz": "Europe/Brussels"}
        cls.manager = new_test_user(
            cls.env,
            login="sla_manager",
            name="Mona Manager",
            groups="sales_team.group_sale_manager",
            tz="Europe/Brussels",
        )
        cls.rep_a = new_test_user(cls.env, login="sla_rep_a", name="Alice Rep", **user)
        cls.rep_b = new_test_user(cls.env, login="sla_rep_b", name="Bob Rep", **user)
        cls.rep_c = new_test_user(cls.env, login="sla_rep_c", name="Carol Rep", **user)
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "SLA Brussels week",
                "tz": "Europe/Brussels",
                "attendance_ids": [
                    (
                        0,
                        0,
                        {
                            "name": f"{day} {period}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                            "day_period": period,
                        },
                    )
                    for day in range(5)
                    for start, end, period in ((8, 12, "morning"), (13, 17, "afternoon"))
                ],
            }
        )
        # Good Friday-like closure: Friday 6 March 2026, the whole day in Brussels
        cls.env["resource.calendar.leaves"].create(
            {
                "name": "Public holiday",
                "calendar_id": cls.calendar.id,
                "date_from": datetime(2026, 3, 5, 23, 0),
                "date_to": datetime(2026, 3, 6, 22, 59, 59),
                "time_type": "leave",
            }
        )
        cls.company.resource_calendar_id = cls.calendar
        cls.team = cls.env["crm.team"].create({"name": "SLA Europe", "user_id": cls.manager.id})
        cls.marketing = cls.env["crm.team"].create({"name": "SLA Marketing"})
        cls.env["crm.team.member"].create(
            [{"crm_team_id": cls.team.id, "user_id": rep.id} for rep in (cls.rep_a, cls.rep_b, cls.rep_c)]
        )
        Stage = cls.env["crm.stage"]
        cls.stage_new = Stage.create({"name": "SLA New", "sequence": 101})
        cls.stage_qualified = Stage.create({"name": "SLA Qualified", "sequence": 102})
        cls.lost_reason = cls.env["crm.lost.reason"].create({"name": "SLA: no answer"})
        cls.tag = cls.env["crm.tag"].create({"name": "SLA nurture"})

    @classmethod
    def _lead(cls, start=MONDAY_10, user=None, **vals):
        """An opportunity of the team whose four clocks all start at ``start`` (naive UTC): created,
        assigned, in its stage, last acted on and in its owner's hands since then."""
        lead = cls.env["crm.lead"].create(
            {
                "name": vals.pop("name", "SLA lead"),
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": (user if user is not None else cls.rep_a).id,
                "stage_id": cls.stage_new.id,
                **vals,
            }
        )
        cls._set_clocks(lead, start)
        return lead

    @classmethod
    def _set_clocks(
        cls,
        leads,
        start,
        columns=(
            "create_date",
            "date_last_stage_update",
            "date_open",
            "sla_last_action_date",
            "sla_owner_since",
            "sla_team_since",
        ),
    ):
        leads.flush_recordset()
        cls.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET %s WHERE id IN %s",
                SQL(", ").join(SQL("%s = %s", SQL.identifier(column), start) for column in columns),
                tuple(leads.ids),
            )
        )
        leads.invalidate_recordset()

    @classmethod
    def _rule(cls, **vals):
        return cls.env["crm.sla.rule"].create(
            {
                "name": vals.pop("name", "Rule"),
                "team_ids": [(6, 0, [cls.team.id])],
                "lead_type": "opportunity",
                "clock": "create",
                "threshold": 2,
                "unit": "days",
                "calendar_id": cls.calendar.id,
                "action": "escalate",
                **vals,
            }
        )

    @contextmanager
    def _frozen(self, when):
        with freeze_time(when):
            yield

    def _run(self, when, rules=None, batch_size=200):
        """The scheduled run at ``when``; its per-batch commits are not done in a test."""
        Rule = self.env["crm.sla.rule"]
        with (
            freeze_time(when),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", return_value=3600.0) as progress,
        ):
            if rules is None:
                Rule._cron_run_sla_rules(batch_size=batch_size)
            else:
                for rule in rules.sudo():
                    rule._sla_run(datetime.now(), batch_size)
        self.env.invalidate_all()
        return progress

    def _events(self, rule, lead=None):
        domain = [("rule_id", "=", rule.id)] + ([("lead_id", "=", lead.id)] if lead else [])
        return self.env["crm.sla.event"].sudo().search(domain)


class SlaRpcCase(Json2Case):
    """For the calls over HTTP: a sales manager, three salespeople in a team, five opportunities of the
    team in one stage for 30, 12, 9, 6 and 2 days (the third one new to the team: in it for 2 days), and a
    rule on them: 10 days in the stage, a warning 5 days before, reassign by round robin."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="sla_rpc_manager", name="Rita Manager", groups="sales_team.group_sale_manager"
        )
        cls.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        cls.reps = reps = [
            new_test_user(
                cls.env, login=f"sla_rpc_rep_{i}", name=f"Rep {i}", groups="sales_team.group_sale_salesman"
            )
            for i in range(3)
        ]
        cls.team = cls.env["crm.team"].create({"name": "RPC Team", "user_id": cls.manager.id})
        cls.env["crm.team.member"].create([{"crm_team_id": cls.team.id, "user_id": rep.id} for rep in reps])
        cls.stage = cls.env["crm.stage"].create({"name": "RPC New", "sequence": 400})
        now = datetime.now().replace(microsecond=0)
        cls.leads = cls.env["crm.lead"]
        for index, days in enumerate((30, 12, 9, 6, 2)):
            lead = cls.env["crm.lead"].create(
                {
                    "name": f"RPC lead {index}",
                    "type": "opportunity",
                    "team_id": cls.team.id,
                    "user_id": reps[index % 3].id,
                    "stage_id": cls.stage.id,
                }
            )
            lead.flush_recordset()
            # created with its salesperson, in its stage that many days ago; the third one in the team
            # for 2 days only (a new team restarts the stage clock)
            then = now - timedelta(days=days)
            cls.env.cr.execute(
                SQL(
                    """UPDATE crm_lead SET create_date = %(then)s, date_last_stage_update = %(then)s,
                                          sla_owner_since = %(team_since)s, sla_team_since = %(team_since)s
                        WHERE id = %(id)s""",
                    then=then,
                    team_since=now - timedelta(days=2) if index == 2 else then,
                    id=lead.id,
                )
            )
            cls.leads |= lead
        cls.env.invalidate_all()
        cls.rule = cls.env["crm.sla.rule"].create(
            {
                "name": "RPC stale deals",
                "team_ids": [(6, 0, cls.team.ids)],
                "clock": "stage_entry",
                "threshold": 10,
                "unit": "days",
                "warning_before": 5,
                "action": "reassign",
                "reassign_mode": "round_robin",
            }
        )
