from datetime import timedelta

from freezegun import freeze_time
from odoo.addons.crm_stage_history.hooks import post_init_hook
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import T0, StageHistoryCase

STAY_FIELDS = [
    "stage_id",
    "previous_stage_id",
    "date_in",
    "date_out",
    "is_current",
    "duration_hours",
    "skipped_stage_count",
]


@tagged("post_install", "-at_install")
class TestBackfill(StageHistoryCase):
    """History rebuilt from the chatter must match the history recorded live by the same writes."""

    maxDiff = None

    def _tracked(self, when, func):
        """Run ``func`` at ``when`` and let the chatter tracking run as it does at commit."""
        with freeze_time(when):
            result = func()
            self.env.flush_all()
            self.env.cr.precommit.run()
        return result

    def _snapshot(self, leads):
        return {lead.id: self._stays(lead).read(STAY_FIELDS, load=None) for lead in leads}

    @staticmethod
    def _without_ids(snapshot):
        return {
            lead: [{k: v for k, v in row.items() if k != "id"} for row in rows]
            for lead, rows in snapshot.items()
        }

    def test_backfill_rebuilds_what_was_recorded_live(self):
        Lead = self.env["crm.lead"].with_context(tracking_disable=False)
        moving = self._tracked(
            T0,
            lambda: Lead.create(
                {
                    "name": "Moving",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s1.id,
                    "user_id": self.salesman.id,
                }
            ),
        )
        won = self._tracked(
            T0,
            lambda: Lead.create(
                {
                    "name": "Won",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s2.id,
                }
            ),
        )
        lost = self._tracked(
            T0,
            lambda: Lead.create(
                {
                    "name": "Lost",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s1.id,
                }
            ),
        )
        untouched = self._tracked(
            T0,
            lambda: Lead.create(
                {
                    "name": "Untouched",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "stage_id": self.s3.id,
                }
            ),
        )
        self._tracked(T0 + timedelta(hours=2), lambda: moving.write({"stage_id": self.s2.id}))
        self._tracked(T0 + timedelta(days=1), lambda: moving.write({"stage_id": self.s4.id}))
        self._tracked(T0 + timedelta(days=3), lambda: moving.write({"stage_id": self.s3.id}))
        self._tracked(T0 + timedelta(days=2), won.action_set_won)
        self._tracked(T0 + timedelta(days=4), lost.action_set_lost)
        leads = moving | won | lost | untouched
        # create_date is the transaction's time, which freezegun does not move: put it where it was
        self.env.cr.execute("UPDATE crm_lead SET create_date = %s WHERE id = ANY(%s)", [T0, leads.ids])
        leads.invalidate_recordset(["create_date"])
        live = self._without_ids(self._snapshot(leads))
        self.assertEqual(len(live[moving.id]), 4)

        self.History.search([("lead_id", "in", leads.ids)]).unlink()
        written = self.History._backfill(leads.ids)
        self.assertEqual(written, 4 + 2 + 1 + 1)
        rebuilt = self._snapshot(leads)
        self.assertEqual(self._without_ids(rebuilt), live)
        self.assertEqual(
            set(self.History.search([("lead_id", "in", leads.ids)]).mapped("origin")), {"backfill"}
        )

        # idempotent: a second run writes nothing and changes nothing
        self.assertEqual(self.History._backfill(leads.ids), 0)
        self.assertEqual(self._snapshot(leads), rebuilt)

    def test_install_hook_rebuilds_leads_without_history(self):
        with freeze_time(T0):
            lead = self._lead(stage=self.s2)
        self._stays(lead).unlink()
        post_init_hook(self.env)
        self.assertRecordValues(
            self._stays(lead),
            [
                {
                    "stage_id": self.s2.id,
                    "date_in": lead.create_date,
                    "is_current": True,
                    "origin": "backfill",
                    "user_id": self.salesman.id,
                    "team_id": self.team.id,
                }
            ],
        )

    def test_settings_button_is_for_sales_administrators(self):
        lead = self._lead()
        self._stays(lead).unlink()
        settings = self.env["res.config.settings"].create({})
        with self.assertRaises(AccessError):
            settings.with_user(self.salesman).action_crm_stage_history_backfill()
        self.assertFalse(self._stays(lead))
        action = settings.with_user(self.sales_manager).action_crm_stage_history_backfill()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(len(self._stays(lead)), 1)
