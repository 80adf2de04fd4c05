from odoo.tests import TransactionCase, new_test_user, tagged, users

# Queries of one write({'stage_id'}) on a batch of opportunities with the whole bundle installed, flushed,
# before commit: crm's own write and flush (8), the one statement that closes and opens the stays (with the
# customer's decision phase on entry) and the open activities counted for the follow-up state. The SLA
# clock and crm's own recomputed fields are written with the stage, in crm's own update.
STAGE_WRITE_QUERIES = 10


@tagged("post_install", "-at_install", "is_query_count")
class TestStageWriteQueries(TransactionCase):
    """A stage change costs the same queries for 5 leads as for 60, whatever the bundle adds to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the chatter's tracking runs at commit, one message per lead, bundle or not: counted is the write
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.manager = new_test_user(
            cls.env, login="w_manager", name="Wes Manager", groups="sales_team.group_sale_manager"
        )
        cls.team = cls.env["crm.team"].create({"name": "Write Team"})
        cls.first, cls.second = cls.env["crm.stage"].create(
            [
                {"name": "Write New", "sequence": 1, "team_ids": [(6, 0, cls.team.ids)]},
                {"name": "Write Next", "sequence": 2, "team_ids": [(6, 0, cls.team.ids)]},
            ]
        )

    def _leads(self, count):
        return self.env["crm.lead"].create(
            [
                {
                    "name": f"Write {i}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.first.id,
                }
                for i in range(count)
            ]
        )

    def _new_batch(self, count):
        leads = self._leads(count)
        self.env.flush_all()
        # rows loaded by SQL (a migration, the demo generator) leave crm's stored "Days to Close" empty: the
        # stage write recomputes it, and the bundle's flush before the stays must carry it in crm's own
        # update, not leave it for a second update of every lead after the stays
        self.env.cr.execute("UPDATE crm_lead SET day_close = NULL WHERE id = ANY(%s)", [leads.ids])
        self.env.invalidate_all()
        return leads

    @users("w_manager")
    def test_stage_write_query_count_does_not_grow_with_the_batch(self):
        # warm: access rules, the skip table, the teams with a feature on
        self._new_batch(2).write({"stage_id": self.second.id})
        for count in (5, 60):
            leads = self._new_batch(count)
            with self.assertQueryCount(w_manager=STAGE_WRITE_QUERIES):
                leads.write({"stage_id": self.second.id})
            stays = leads.stage_history_ids.filtered("is_current")
            self.assertEqual(stays.stage_id, self.second)
            self.assertEqual(len(stays), count)
            self.assertEqual(len(set(leads.mapped("sla_last_action_date"))), 1, "one clock for the batch")
