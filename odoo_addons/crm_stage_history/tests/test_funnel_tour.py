from datetime import timedelta

from freezegun import freeze_time
from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

# the report imports pandas lazily; under freezegun's patched datetime that import crashes the interpreter
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import


@tagged("post_install", "-at_install")
class TestFunnelTour(HttpCase):
    """The funnel list in the browser (static/src/tours/crm_stage_history_funnel_tour.js), on the funnel
    of TestFunnelReport dated ten days ago: Inquiry converts 75 % against a target of 80 % and has no days
    target, Qualified converts 50 % with no conversion target and stays 2 days against 1, Proposal has no
    target; two leads are lost (in Inquiry and Qualified), three are still open (one in Inquiry, two in
    Proposal)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = new_test_user(
            cls.env, login="sh_tour_manager", name="Mona Manager", groups="sales_team.group_sale_manager"
        )
        team = cls.env["crm.team"].create({"name": "History Team"})
        s1, s2, s3 = (
            cls.env["crm.stage"].create({"name": name, "sequence": seq, "team_ids": [(6, 0, team.ids)]})
            for name, seq in (("Inquiry", 100), ("Qualified", 110), ("Proposal", 120))
        )
        start = fields.Datetime.now() - timedelta(days=10)

        def at(days, func):
            with freeze_time(start + timedelta(days=days)):
                func()

        with freeze_time(start):
            a, b, _c, d, e = cls.env["crm.lead"].create(
                [
                    {"name": name, "type": "opportunity", "team_id": team.id, "stage_id": s1.id}
                    for name in "ABCDE"
                ]
            )
        at(1, lambda: a.write({"stage_id": s2.id}))
        at(2, lambda: b.write({"stage_id": s2.id}))
        at(3, lambda: a.write({"stage_id": s3.id}))
        at(3, e.action_set_lost)
        at(4, lambda: d.write({"stage_id": s3.id}))
        at(4, b.action_set_lost)
        cls.env["crm.stage.target"].create(
            [
                {"stage_id": s1.id, "target_conversion_rate": 80},
                {"stage_id": s2.id, "target_days_in_stage": 1},
            ]
        )

    def test_funnel_list(self):
        self.start_tour(
            "/odoo/action-crm_stage_history.crm_stage_funnel_report_action",
            "crm_stage_history_funnel_tour",
            login=self.manager.login,
        )
