from datetime import timedelta

from freezegun import freeze_time
from odoo.tests import tagged

from .common import T0, StageHistoryCase


@tagged("post_install", "-at_install")
class TestStageHistory(StageHistoryCase):
    def test_create_opens_a_stay(self):
        with freeze_time(T0):
            lead = self._lead(expected_revenue=5000)
        stay = self._stays(lead)
        self.assertEqual(len(stay), 1)
        self.assertRecordValues(
            stay,
            [
                {
                    "stage_id": self.s1.id,
                    "previous_stage_id": False,
                    "date_in": T0,
                    "date_out": False,
                    "is_current": True,
                    "origin": "create",
                    "user_id": self.salesman.id,
                    "team_id": self.team.id,
                    "company_id": self.company.id,
                    "lead_type": "opportunity",
                    "expected_revenue": 5000,
                    "skipped_stage_count": 0,
                    "changed_by_id": self.env.uid,
                }
            ],
        )

    def test_stage_change_closes_the_stay_and_opens_the_next(self):
        with freeze_time(T0):
            lead = self._lead()
        with freeze_time(T0 + timedelta(hours=3)):
            lead.with_user(self.salesman).write({"stage_id": self.s2.id})
        first, second = self._stays(lead)
        self.assertRecordValues(
            first,
            [
                {
                    "stage_id": self.s1.id,
                    "date_out": T0 + timedelta(hours=3),
                    "is_current": False,
                    "duration_hours": 3.0,
                }
            ],
        )
        self.assertRecordValues(
            second,
            [
                {
                    "stage_id": self.s2.id,
                    "previous_stage_id": self.s1.id,
                    "date_in": T0 + timedelta(hours=3),
                    "is_current": True,
                    "origin": "manual",
                    "changed_by_id": self.salesman.id,
                    "skipped_stage_count": 0,
                }
            ],
        )
        self.assertEqual(lead.stage_history_count, 2)

    def test_writing_the_same_stage_records_nothing(self):
        lead = self._lead()
        lead.write({"stage_id": self.s1.id, "name": "Renamed"})
        lead.write({"priority": "2"})
        self.assertEqual(len(self._stays(lead)), 1)

    def test_skipped_stages_count_only_the_team_pipeline_and_forward_moves(self):
        lead = self._lead()
        lead.stage_id = self.s4  # jumps over Qualified and Proposal; "Other Review" is another team's
        lead.stage_id = self.s2  # backwards: nothing skipped
        lead.stage_id = self.s3  # next stage
        self.assertEqual(self._stays(lead).mapped("skipped_stage_count"), [0, 2, 0, 0])

    def test_a_new_stage_counts_as_skipped_right_away(self):
        lead = self._lead()
        lead.stage_id = self.s3  # skips Qualified; the skip table is now cached
        self.env["crm.stage"].create({"name": "Demo", "sequence": 125, "team_ids": [(6, 0, self.team.ids)]})
        self.s2.sequence = 135  # Qualified now comes after Negotiation
        lead.stage_id = self.s4  # Proposal -> Negotiation: jumps over the new Demo stage only
        self.assertEqual(self._stays(lead).mapped("skipped_stage_count"), [0, 1, 1])

    def test_one_write_on_many_leads_records_each_lead(self):
        leads = self._leads(30)
        with freeze_time(T0):
            leads.write({"stage_id": self.s3.id})
        stays = self.History.search([("lead_id", "in", leads.ids)])
        self.assertEqual(len(stays), 60)
        current = stays.filtered("is_current")
        self.assertEqual(current.lead_id, leads)
        self.assertEqual(set(current.mapped("stage_id.id")), {self.s3.id})
        self.assertEqual(set(current.mapped("skipped_stage_count")), {1})
        self.assertEqual(set((stays - current).mapped("date_out")), {T0})

    def test_won_ends_the_journey(self):
        with freeze_time(T0):
            lead = self._lead(stage=self.s3)
        with freeze_time(T0 + timedelta(days=2)):
            lead.action_set_won()
        self.assertEqual(lead.stage_id, self.won)
        proposal, won = self._stays(lead)
        self.assertEqual(proposal.date_out, T0 + timedelta(days=2))
        self.assertEqual(proposal.duration_hours, 48.0)
        self.assertRecordValues(
            won,
            [
                {
                    "stage_id": self.won.id,
                    "date_in": T0 + timedelta(days=2),
                    "date_out": T0 + timedelta(days=2),
                    "is_current": False,
                    "duration_hours": 0.0,
                    "previous_stage_id": self.s3.id,
                }
            ],
        )

    def test_lost_closes_and_restore_reopens(self):
        with freeze_time(T0):
            lead = self._lead(stage=self.s2)
        with freeze_time(T0 + timedelta(days=1)):
            lead.action_set_lost()
        stay = self._stays(lead)
        self.assertRecordValues(stay, [{"date_out": T0 + timedelta(days=1), "is_current": False}])
        with freeze_time(T0 + timedelta(days=5)):
            lead.action_restore()
        lost_stay, restored = self._stays(lead)
        self.assertEqual(lost_stay, stay)
        self.assertRecordValues(
            restored,
            [
                {
                    "stage_id": self.s2.id,
                    "previous_stage_id": self.s2.id,
                    "date_in": T0 + timedelta(days=5),
                    "is_current": True,
                }
            ],
        )

    def test_archive_closes_and_unarchive_reopens(self):
        lead = self._lead()
        lead.action_archive()
        self.assertFalse(self._stays(lead).filtered("is_current"))
        lead.action_unarchive()
        self.assertEqual(len(self._stays(lead).filtered("is_current")), 1)
        self.assertEqual(len(self._stays(lead)), 2)

    def test_lost_lead_won_later_gets_a_restored_then_won_stay(self):
        lead = self._lead(stage=self.s2)
        lead.action_set_lost()
        lead.action_set_won()
        stays = self._stays(lead)
        self.assertEqual(stays.mapped("stage_id"), self.s2 + self.s2 + self.won)
        self.assertFalse(stays.filtered("is_current"))

    def test_merge_keeps_both_histories(self):
        with freeze_time(T0):
            leads = self._lead("First", stage=self.s1) | self._lead("Second", stage=self.s1)
        with freeze_time(T0 + timedelta(hours=1)):
            leads[0].stage_id = self.s2
            leads[1].stage_id = self.s3
        stays = self.History.search([("lead_id", "in", leads.ids)])
        self.assertEqual(len(stays), 4)
        with freeze_time(T0 + timedelta(hours=5)):
            merged = leads._merge_opportunity()
        gone = leads - merged
        self.assertFalse(gone.exists())
        self.assertEqual(len(stays.exists()), 4, "no stay of the merged lead is lost")
        self.assertEqual(stays.lead_id, merged)
        gone_last = stays.filtered(
            lambda s: s.date_in == T0 + timedelta(hours=1) and s.stage_id != merged.stage_id
        )
        self.assertEqual(gone_last.date_out, T0 + timedelta(hours=5))
        self.assertEqual(len(self._stays(merged).filtered("is_current")), 1)
        self.assertEqual(self._stays(merged).filtered("is_current").stage_id, merged.stage_id)

    def test_origin_follows_the_context(self):
        imported = (
            self.env["crm.lead"]
            .with_context(import_file=True)
            .create({"name": "Imported", "team_id": self.team.id, "stage_id": self.s1.id})
        )
        self.assertEqual(self._stays(imported).origin, "import")
        imported.with_context(stage_history_origin="sla").stage_id = self.s2
        self.assertEqual(self._stays(imported)[-1].origin, "sla")

    def test_stay_keeps_the_salesperson_who_had_the_lead_on_entry(self):
        lead = self._lead()
        lead.user_id = self.salesman_2
        self.assertEqual(self._stays(lead).user_id, self.salesman)
        lead.stage_id = self.s2
        self.assertEqual(self._stays(lead)[-1].user_id, self.salesman_2)

    def test_deleting_a_lead_deletes_its_history(self):
        lead = self._lead()
        stays = self._stays(lead)
        lead.unlink()
        self.assertFalse(stays.exists())
