import math
from datetime import timedelta

import pandas as pd
from freezegun import freeze_time
from odoo.tests import tagged
from odoo.tools import mute_logger
from psycopg2 import IntegrityError

from funnel_metrics import match_targets

from .common import T0, StageHistoryCase, report_lines


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

    def _best(self, measure, stage, team=None, user=None, tags=None):
        """The target funnel_metrics.match_targets picks in the targets table Odoo reads."""
        frame = pd.DataFrame(
            {
                "stage": [str(stage.id)],
                "team": [str(team.id) if team else None],
                "user": [str(user.id) if user else None],
                "product": [[str(tag) for tag in tags.ids] if tags else None],
            }
        )
        return match_targets(frame, self.env["crm.stage.target"]._targets_table(), measure).iloc[0]

    def test_the_most_specific_target_applies(self):
        days = "target_days_in_stage"
        self.assertEqual(self._best(days, self.s1), 3)  # the stage's own
        self.assertEqual(self._best(days, self.s1, team=self.other_team), 3)
        self.assertEqual(self._best(days, self.s1, tags=self.tag), 4)  # the tag's
        self.assertEqual(self._best(days, self.s1, team=self.team, tags=self.tag), 5)  # the team's
        self.assertEqual(self._best(days, self.s1, team=self.team, user=self.salesman_2), 10)  # Sam's
        self.assertTrue(math.isnan(self._best(days, self.s2)))
        # a target that does not set the measure does not hide a less specific one that does
        self.assertEqual(self._best("target_conversion_rate", self.s1, team=self.team), 0.5)

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

    def test_stuck_filter_and_report_targets_agree_with_match_targets(self):
        """Targets of every kind of specificity on Qualified, leads of every combination: the stuck filter
        and the report's targets are what funnel_metrics.match_targets gives on a table of the same targets
        written with names (as the command line takes them)."""
        Target, Tag = self.env["crm.stage.target"], self.env["crm.tag"]
        software = Tag.create({"name": "Software"})
        company_b = self.env["res.company"].create({"name": "Target Company B"})
        for vals in (
            {"target_days_in_stage": 2, "target_conversion_rate": 40},
            {"team_id": self.team.id, "target_days_in_stage": 6},
            {"user_id": self.salesman.id, "target_days_in_stage": 3, "target_conversion_rate": 60},
            {"user_id": self.salesman.id, "team_id": self.team.id, "target_days_in_stage": 8},
            {"team_id": self.team.id, "product_tag_id": self.tag.id, "target_days_in_stage": 7},
            {"product_tag_id": software.id, "target_days_in_stage": 9},
            # as specific as the one before for a lead with both tags: the older one applies
            {"product_tag_id": self.tag.id, "target_days_in_stage": 1.5},
            # another company's: never for our leads
            {"company_id": company_b.id, "target_days_in_stage": 0.5},
        ):
            Target.create({"stage_id": self.s2.id, **vals})
        both_tags = [(6, 0, (self.tag | software).ids)]
        with freeze_time(T0):
            leads = self.env["crm.lead"]
            for team, user, tags in (
                (self.team, self.salesman, False),  # salesperson + team: 8
                (self.team, self.salesman_2, [(6, 0, self.tag.ids)]),  # team + tag: 7
                (self.other_team, self.salesman, both_tags),  # salesperson: 3
                (self.other_team, self.salesman_2, both_tags),  # two tags: the older target, 9
                (self.other_team, self.salesman_2, False),  # the stage's own: 2
            ):
                leads |= self._lead(stage=self.s2, user=user, team_id=team.id, tag_ids=tags)
            leads |= self._lead(stage=self.s1, user=self.salesman_2)  # Sam's target on Inquiry: 10

        ours = Target.search([("company_id", "!=", company_b.id)], order="id")
        table = pd.DataFrame(
            {
                "stage": [t.stage_id.name for t in ours],
                "team": [t.team_id.name or None for t in ours],
                "user": [t.user_id.name or None for t in ours],
                "product": [t.product_tag_id.name or None for t in ours],
                "target_conversion_rate": [t.target_conversion_rate / 100 for t in ours],
                "target_days_in_stage": [t.target_days_in_stage for t in ours],
            }
        )
        frame = pd.DataFrame(
            {
                "stage": [lead.stage_id.name for lead in leads],
                "team": [lead.team_id.name for lead in leads],
                "user": [lead.user_id.name for lead in leads],
                "product": [lead.tag_ids.mapped("name") for lead in leads],
            }
        )
        expected = match_targets(frame, table, "target_days_in_stage").tolist()
        self.assertEqual(expected, [8, 7, 3, 9, 2, 10])
        Lead = self.env["crm.lead"]
        for days in (1, 2.5, 3.5, 6.5, 7.5, 8.5, 9.5, 10.5):
            with freeze_time(T0 + timedelta(days=days)):
                found = Lead.search([("id", "in", leads.ids), ("is_stage_stuck", "=", True)])
                stuck = [lead.id for lead, target in zip(leads, expected, strict=True) if target < days]
                self.assertEqual(found, Lead.browse(stuck), f"after {days} days")

        for by, column in (("stage", None), ("team", "team_id"), ("user", "user_id")):
            report = (
                self.env["crm.stage.funnel.report"]
                .with_user(self.sales_manager)
                .create({"group_by": by, "team_ids": [(6, 0, (self.team | self.other_team).ids)]})
            )
            with freeze_time(T0 + timedelta(days=1)):
                lines = report_lines(report.env, report.action_show())
            keys = pd.DataFrame({"stage": [line.stage_id.name for line in lines]})
            if column:
                keys[by] = [line[column].name for line in lines]
            for measure, scale in (("target_days_in_stage", 1), ("target_conversion_rate", 100)):
                with self.subTest(per=by, measure=measure):
                    want = [round(v * scale, 6) for v in match_targets(keys, table, measure).fillna(0)]
                    self.assertEqual([round(line[measure], 6) for line in lines], want)
