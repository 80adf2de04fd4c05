from datetime import datetime

from odoo.tests import TransactionCase, new_test_user

# pandas is imported lazily by the phase moves and the business hours; under freezegun's patched datetime
# that import crashes the interpreter, so load them before any test freezes time.
import funnel_metrics.phase_moves  # noqa: F401 # pylint: disable=unused-import
import sla_rules.businesstime  # noqa: F401 # pylint: disable=unused-import
import sla_rules.rules  # noqa: F401 # pylint: disable=unused-import

# Monday 2 March 2026, 09:00 UTC
MONDAY_9 = datetime(2026, 3, 2, 9, 0)


def make_users(env, prefix):
    """A marketer, an inside-sales rep, a second inside-sales rep, a field rep and a sales manager."""
    salesman = {"groups": "sales_team.group_sale_salesman", "tz": "UTC"}
    return {
        "marketer": new_test_user(env, login=f"{prefix}_marketer", name="Mia Marketer", **salesman),
        "inside": new_test_user(env, login=f"{prefix}_inside", name="Ian Inside", **salesman),
        "inside_2": new_test_user(env, login=f"{prefix}_inside_2", name="Iris Inside", **salesman),
        "field": new_test_user(env, login=f"{prefix}_field", name="Fred Field", **salesman),
        "manager": new_test_user(
            env,
            login=f"{prefix}_manager",
            name="Mona Manager",
            groups="sales_team.group_sale_manager",
            tz="UTC",
        ),
    }


class HandoffMixin:
    """Three teams passing leads along: Marketing (the marketer) hands Marketing Qualified leads to Inside
    Sales (two reps), which hands Sales Accepted leads to the Field (one rep); a sales manager; another
    company with its own user, team and route (switched on too) and a third company without any route."""

    @classmethod
    def _build_handoffs(cls):
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        cls.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        cls.company = cls.env.company
        users = make_users(cls.env, "ho")
        cls.marketer, cls.inside, cls.inside_2 = users["marketer"], users["inside"], users["inside_2"]
        cls.field, cls.manager = users["field"], users["manager"]
        Team = cls.env["crm.team"]
        cls.marketing = Team.create({"name": "HO Marketing", "company_id": cls.company.id})
        cls.inside_sales = Team.create(
            {"name": "HO Inside Sales", "company_id": cls.company.id, "user_id": cls.manager.id}
        )
        cls.field_sales = Team.create({"name": "HO Field", "company_id": cls.company.id})
        cls.env["crm.team.member"].create(
            [
                {"crm_team_id": cls.marketing.id, "user_id": cls.marketer.id},
                {"crm_team_id": cls.inside_sales.id, "user_id": cls.inside.id},
                {"crm_team_id": cls.inside_sales.id, "user_id": cls.inside_2.id},
                {"crm_team_id": cls.field_sales.id, "user_id": cls.field.id},
            ]
        )
        cls.stage = cls.env["crm.stage"].create({"name": "HO New", "sequence": 300})
        cls.won_stage = cls.env["crm.stage"].create({"name": "HO Won", "sequence": 399, "is_won": True})
        ref = cls.env.ref
        cls.inquiry = ref("crm_lead_handoff.crm_lifecycle_phase_inquiry")
        cls.mql = ref("crm_lead_handoff.crm_lifecycle_phase_mql")
        cls.sal = ref("crm_lead_handoff.crm_lifecycle_phase_sal")
        cls.sql_phase = ref("crm_lead_handoff.crm_lifecycle_phase_sql")
        cls.opportunity = ref("crm_lead_handoff.crm_lifecycle_phase_opportunity")
        cls.won = ref("crm_lead_handoff.crm_lifecycle_phase_won")
        cls.lost = ref("crm_lead_handoff.crm_lifecycle_phase_lost")
        cls.recycled = ref("crm_lead_handoff.crm_lifecycle_phase_recycled")
        cls.wrong_size = ref("crm_lead_handoff.crm_handoff_reject_reason_wrong_company_size")
        # the other company: its own user, team and route
        cls.company_b = cls.env["res.company"].create({"name": "HO Company B"})
        cls.user_b = new_test_user(
            cls.env,
            login="ho_user_b",
            name="Bea Other",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.team_b = Team.with_company(cls.company_b).create({"name": "HO Team B"})
        cls.env["crm.team.member"].create({"crm_team_id": cls.team_b.id, "user_id": cls.user_b.id})
        cls.company_off = cls.env["res.company"].create({"name": "HO Company Off"})
        cls.env.user.company_ids |= cls.company_b | cls.company_off
        Route = cls.env["crm.handoff.route"]
        cls.to_inside = Route.create(
            {
                "name": "Marketing to Inside Sales",
                "from_team_ids": [(6, 0, cls.marketing.ids)],
                "to_team_id": cls.inside_sales.id,
                "from_phase_id": cls.mql.id,
                "accept_phase_id": cls.sal.id,
                "domain": "[('email_from', '!=', False)]",
            }
        )
        cls.to_field = Route.create(
            {
                "name": "Inside Sales to Field",
                "from_team_ids": [(6, 0, cls.inside_sales.ids)],
                "to_team_id": cls.field_sales.id,
                "from_phase_id": cls.sal.id,
                "accept_phase_id": cls.sql_phase.id,
            }
        )
        cls.route_b = Route.with_company(cls.company_b).create(
            {
                "name": "B internal",
                "from_team_ids": [(6, 0, cls.team_b.ids)],
                "to_team_id": cls.team_b.id,
                "from_phase_id": cls.mql.id,
                "accept_phase_id": cls.sal.id,
            }
        )
        cls.History = cls.env["crm.lead.phase.history"]

    @classmethod
    def _lead(cls, name="HO lead", team=None, user=None, **vals):
        """A lead of Marketing (by default), owned by the marketer, with an e-mail."""
        Lead = cls.env["crm.lead"]
        if vals.get("company_id"):
            Lead = Lead.with_company(vals["company_id"])
        return Lead.create(
            {
                "name": name,
                "type": "lead",
                "team_id": (team or cls.marketing).id,
                "user_id": (user if user is not None else cls.marketer).id,
                "email_from": "buyer@example.com",
                **vals,
            }
        )

    @classmethod
    def _qualified(cls, name="HO lead", **vals):
        """A Marketing lead moved to Marketing Qualified (by a manager's correction)."""
        lead = cls._lead(name, **vals)
        cls._correct(lead, cls.mql)
        return lead

    @classmethod
    def _correct(cls, leads, phase):
        cls.env["crm.lead.phase.history"]._record_moves(
            {lead.id: (phase.id, "correction", None) for lead in leads}
        )

    def _stays(self, lead):
        """``[(phase, origin, current)]`` of a lead, oldest first."""
        stays = self.History.sudo().search([("lead_id", "=", lead.id)], order="date_in, id")
        return [(stay.phase_id, stay.origin, stay.is_current) for stay in stays]

    def _send(self, lead, route, user, note=None):
        return self.env["crm.lead.handoff"].with_user(user)._handoff_send(lead.with_user(user), route, note)


class HandoffCase(HandoffMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_handoffs()
