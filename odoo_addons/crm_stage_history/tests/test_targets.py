from datetime import timedelta

from freezegun import freeze_time
from odoo.tests import tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from .common import T0, StageHistoryCase


@tagged("post_install", "-at_install")
class TestStageTargets(StageHistoryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tag = cls.env["crm.tag"].create({"name": "Hardware"})
        Target = cls.env["crm.stage.target"]
        cls.t_stage = Target.create(
            {"stage_id": cls.s1.id, "target_days_in_stage": 3, "target_conversion_rate": 50}
        )
        cls.t_team = Target.create({"stage_id": cls.s1.id, "team_id": cls.team.id, "target_days_in_stage": 5})
        cls.t_tag = Target.create(
            {"stage_id": cls.s1.id, "product_tag_id": cls.tag.id, "target_days_in_stage": 4}
        )
        cls.t_user = Target.create(
            {"stage_id": cls.s1.id, "user_id": cls.salesman_2.id, "target_days_in_stage": 10}
        )

    def test_the_most_specific_target_applies(self):
        best = self.env["crm.stage.target"]._best_for
        days = "target_days_in_stage"
        self.assertEqual(best(days, self.s1), self.t_stage)
        self.assertEqual(best(days, self.s1, team=self.other_team), self.t_stage)
        self.assertEqual(best(days, self.s1, tags=self.tag), self.t_tag)
        self.assertEqual(best(days, self.s1, team=self.team, tags=self.tag), self.t_team)
        self.assertEqual(best(days, self.s1, team=self.team, user=self.salesman_2), self.t_user)
        self.assertFalse(best(days, self.s2))
        # a target that does not set the measure does not hide a less specific one that does
        self.assertEqual(best("target_conversion_rate", self.s1, team=self.team), self.t_stage)

    @mute_logger("odoo.sql_db")
    def test_one_target_per_scope(self):
        # stages are shared between companies: each company sets its own targets on them
        company_b = self.env["res.company"].create({"name": "Target Company B"})
        other = self.env["crm.stage.target"].create(
            {
                "stage_id": self.s1.id,
                "team_id": self.team.id,
                "company_id": company_b.id,
                "target_days_in_stage": 9,
            }
        )
        self.env.flush_all()
        self.assertTrue(other.exists())
        with self.assertRaises(IntegrityError):
            self.env["crm.stage.target"].create({"stage_id": self.s1.id, "team_id": self.team.id})
            self.env.flush_all()

    def test_stuck_filter_uses_the_target_of_the_lead(self):
        with freeze_time(T0):
            in_team = self._lead("Team lead")  # team target: 5 days
            other_team = self._lead("Other team lead")
            other_team.team_id = self.other_team  # stage target: 3 days
            tagged = self._lead("Tagged other team lead", tag_ids=[(6, 0, self.tag.ids)])
            tagged.team_id = self.other_team  # tag target: 4 days
            patient = self._lead("Patient", user=self.salesman_2)  # user target: 10 days
            moved = self._lead("Moved on")
            moved.stage_id = self.s2  # no target on Qualified
        leads = in_team | other_team | tagged | patient | moved
        Lead = self.env["crm.lead"]
        for days, stuck in (
            (2, []),
            (3.5, [other_team]),
            (4.5, [other_team, tagged]),
            (6, [in_team, other_team, tagged]),
            (11, [in_team, other_team, tagged, patient]),
        ):
            with freeze_time(T0 + timedelta(days=days)):
                found = Lead.search([("id", "in", leads.ids), ("is_stage_stuck", "=", True)])
                self.assertEqual(found, Lead.browse([lead.id for lead in stuck]), f"after {days} days")
                leads.invalidate_recordset(["is_stage_stuck"])
                self.assertEqual(leads.filtered("is_stage_stuck"), found)
                not_stuck = Lead.search([("id", "in", leads.ids), ("is_stage_stuck", "=", False)])
                self.assertEqual(not_stuck, leads - found)
