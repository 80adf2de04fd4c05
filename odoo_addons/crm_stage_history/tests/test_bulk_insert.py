from datetime import UTC, timedelta

from .common import T0, StageHistoryCase


def epoch(moment):
    return int(moment.replace(tzinfo=UTC).timestamp())


class TestBulkInsertStays(StageHistoryCase):
    """``_bulk_insert_stays``: stays written in bulk read as the stays the addon records on a move."""

    def test_bulk_stays_are_recorded_as_a_move_records_them(self):
        lead = self._lead("Bulk", stage=self.s3, expected_revenue=1200.0)
        self.env.flush_all()
        self.env.cr.execute("DELETE FROM crm_lead_stage_history WHERE lead_id = %s", [lead.id])
        moved = T0 + timedelta(days=2)
        count = self.History._bulk_insert_stays(
            {
                "lead_id": [lead.id, lead.id],
                "stage_id": [self.s1.id, self.s3.id],
                "previous_stage_id": [None, self.s1.id],
                "date_in": [epoch(T0), epoch(moved)],
                "date_out": [epoch(moved), None],
                "origin": ["create", "manual"],
            }
        )
        self.assertEqual(count, 2)
        self.env.invalidate_all()
        first, current = self.History.search([("lead_id", "=", lead.id)]).sorted("date_in")
        self.assertEqual((first.date_in, first.date_out, first.is_current), (T0, moved, False))
        self.assertEqual(first.duration_hours, 48.0)
        self.assertEqual((first.origin, first.skipped_stage_count), ("create", 0))
        self.assertFalse(first.previous_stage_id)
        self.assertEqual(
            (current.previous_stage_id, current.date_out, current.is_current), (self.s1, False, True)
        )
        # s2 was jumped over; the other team's stage in between does not count for this lead's team
        self.assertEqual(current.skipped_stage_count, 1)
        self.assertEqual(
            (current.user_id, current.team_id, current.changed_by_id, current.expected_revenue),
            (self.salesman, self.team, self.salesman, 1200.0),
        )
        self.assertEqual(current.probability, self.s3.probability)
