from datetime import date, datetime

from odoo.tests import TransactionCase, new_test_user

# pandas is imported lazily by the reports; under freezegun's patched datetime that import crashes the
# interpreter, so load it before any test freezes time.
import activity_centric.chains  # noqa: F401 # pylint: disable=unused-import
import activity_centric.signals  # noqa: F401 # pylint: disable=unused-import

TODAY = date(2026, 3, 4)  # a Wednesday
NOW = datetime(2026, 3, 4, 9, 0, 0)


class FollowupCase(TransactionCase):
    """Teams per policy, users per group, stages, a lead and activity factory."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the administrator, not the superuser: the follow-up policy does not apply to sudo housekeeping
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        cls.company = cls.env.company
        cls.salesman = new_test_user(
            cls.env,
            login="ac_salesman",
            name="Sally Salesman",
            groups="sales_team.group_sale_salesman",
            email="sally@example.com",
        )
        cls.salesman_2 = new_test_user(
            cls.env,
            login="ac_salesman_2",
            name="Sam Salesman",
            groups="sales_team.group_sale_salesman",
            email="sam@example.com",
        )
        cls.sales_manager = new_test_user(
            cls.env,
            login="ac_manager",
            name="Mona Manager",
            groups="sales_team.group_sale_manager",
            email="mona@example.com",
        )
        # both salespeople belong to every team (Odoo's default single membership would archive the others)
        cls.env["ir.config_parameter"].set_param("sales_team.membership_multi", True)
        Team = cls.env["crm.team"]
        cls.team_enforce = Team.create(
            {"name": "Enforce Team", "followup_policy": "enforce", "user_id": cls.sales_manager.id}
        )
        cls.team_warn = Team.create({"name": "Warn Team", "followup_policy": "warn"})
        cls.team_off = Team.create({"name": "Off Team"})
        for team in (cls.team_enforce, cls.team_warn, cls.team_off):
            cls.env["crm.team.member"].create(
                [
                    {"crm_team_id": team.id, "user_id": cls.salesman.id},
                    {"crm_team_id": team.id, "user_id": cls.salesman_2.id},
                ]
            )
        Stage = cls.env["crm.stage"]
        cls.stage_new = Stage.create({"name": "AC New", "sequence": 101})
        cls.stage_qualified = Stage.create({"name": "AC Qualified", "sequence": 102})
        cls.stage_parked = Stage.create({"name": "AC Parked", "sequence": 103, "fold": True})
        cls.stage_won = Stage.create({"name": "AC Won", "sequence": 190, "is_won": True})
        cls.reason = cls.env["crm.followup.reason"].create({"name": "Waiting for inbound"})
        cls.call = cls.env.ref("mail.mail_activity_data_call")
        cls.todo = cls.env.ref("mail.mail_activity_data_todo")

    @classmethod
    def _lead(cls, team=None, user=None, stage=None, **vals):
        return cls.env["crm.lead"].create(
            {
                "name": vals.pop("name", "Lead"),
                "type": "opportunity",
                "team_id": (team or cls.team_enforce).id,
                "user_id": (user or cls.salesman).id,
                "stage_id": (stage or cls.stage_new).id,
                **vals,
            }
        )

    @classmethod
    def _activity(cls, lead, user=None, activity_type=None, deadline=None, **vals):
        return cls.env["mail.activity"].create(
            {
                "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                "res_id": lead.id,
                "activity_type_id": (activity_type or cls.call).id,
                "user_id": (user or cls.salesman).id,
                "date_deadline": deadline or TODAY,
                **vals,
            }
        )
