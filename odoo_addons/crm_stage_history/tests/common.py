from datetime import datetime

from odoo.tests import TransactionCase, new_test_user

# The report imports pandas lazily; under freezegun's patched datetime that import crashes the
# interpreter, so load it before any test freezes time.
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

T0 = datetime(2026, 3, 2, 9, 0, 0)


class StageHistoryCase(TransactionCase):
    """A pipeline of our own (sequences far from crm's default stages), users per group, a factory."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.salesman = new_test_user(
            cls.env, login="sh_salesman", name="Sally Salesman", groups="sales_team.group_sale_salesman"
        )
        cls.salesman_2 = new_test_user(
            cls.env, login="sh_salesman_2", name="Sam Salesman", groups="sales_team.group_sale_salesman"
        )
        cls.sales_all = new_test_user(
            cls.env,
            login="sh_sales_all",
            name="Alex All Leads",
            groups="sales_team.group_sale_salesman_all_leads",
        )
        cls.sales_manager = new_test_user(
            cls.env, login="sh_manager", name="Mona Manager", groups="sales_team.group_sale_manager"
        )
        cls.team = cls.env["crm.team"].create({"name": "History Team", "company_id": cls.company.id})
        cls.other_team = cls.env["crm.team"].create({"name": "Other Team", "company_id": cls.company.id})
        Stage = cls.env["crm.stage"]
        cls.s1, cls.s2, cls.s3, cls.s4 = (
            Stage.create({"name": name, "sequence": seq, "team_ids": [(6, 0, cls.team.ids)]})
            for name, seq in (("Inquiry", 100), ("Qualified", 110), ("Proposal", 120), ("Negotiation", 130))
        )
        cls.won = Stage.create(
            {"name": "Signed", "sequence": 190, "is_won": True, "team_ids": [(6, 0, cls.team.ids)]}
        )
        # belongs to another team: never counted as skipped for our team's leads
        cls.other_stage = Stage.create(
            {"name": "Other Review", "sequence": 115, "team_ids": [(6, 0, cls.other_team.ids)]}
        )
        cls.History = cls.env["crm.lead.stage.history"]

    @classmethod
    def _lead(cls, name="Lead", stage=None, user=None, **vals):
        return cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "team_id": cls.team.id,
                "stage_id": (stage or cls.s1).id,
                "user_id": (user or cls.salesman).id,
                **vals,
            }
        )

    @classmethod
    def _leads(cls, count, stage=None, user=None):
        return cls.env["crm.lead"].create(
            [
                {
                    "name": f"Lead {i}",
                    "type": "opportunity",
                    "team_id": cls.team.id,
                    "stage_id": (stage or cls.s1).id,
                    "user_id": (user or cls.salesman).id,
                }
                for i in range(count)
            ]
        )

    def _stays(self, lead):
        return self.History.search([("lead_id", "=", lead.id)], order="date_in, id")


def report_lines(env, action):
    """The lines the list of a report's action reads in ``env`` (the funnel's, the calibration's: computed
    as they are read, from the parameters in the action's context), every column fetched. As in a new
    request, nothing computed earlier in the transaction is reused (lines are computed once per
    transaction, see ``crm.pipeline.readonly.report``): the lines are those of the data as it is now."""
    env.invalidate_all()
    env.cr.cache.clear()
    Line = env[action["res_model"]].with_context(**action["context"])
    lines = Line.search([])
    lines.fetch([name for name, field in Line._fields.items() if field.store])
    return lines


# the numbers of a funnel line a user reads
FUNNEL_NUMBERS = (
    "entered",
    "advanced",
    "lost",
    "open",
    "conversion_rate",
    "median_days",
    "p90_days",
    "target_conversion_rate",
    "target_days_in_stage",
    "below_target",
)
