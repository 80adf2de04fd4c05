from datetime import datetime, timedelta

from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL

# loaded before any request: pandas must not be first imported inside the server thread of a test
import sla_rules.simulate  # noqa: F401 # pylint: disable=unused-import


@tagged("post_install", "-at_install")
class TestSimulateOverRpc(Json2Case):
    """`sla_rules simulate --url` reads a live Odoo over JSON-2 and lists what the addon's own preview
    lists for the same rule."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="sla_rpc_manager", name="Rita Manager", groups="sales_team.group_sale_manager"
        )
        cls.env["ir.config_parameter"].sudo().set_param("sales_team.membership_multi", True)
        reps = [
            new_test_user(
                cls.env, login=f"sla_rpc_rep_{i}", name=f"Rep {i}", groups="sales_team.group_sale_salesman"
            )
            for i in range(3)
        ]
        cls.team = cls.env["crm.team"].create({"name": "RPC Team", "user_id": cls.manager.id})
        cls.env["crm.team.member"].create([{"crm_team_id": cls.team.id, "user_id": rep.id} for rep in reps])
        cls.stage = cls.env["crm.stage"].create({"name": "RPC New", "sequence": 400})
        now = datetime.now().replace(microsecond=0)
        cls.leads = cls.env["crm.lead"]
        for index, days in enumerate((30, 12, 9, 6, 2)):
            lead = cls.env["crm.lead"].create(
                {
                    "name": f"RPC lead {index}",
                    "type": "opportunity",
                    "team_id": cls.team.id,
                    "user_id": reps[index % 3].id,
                    "stage_id": cls.stage.id,
                }
            )
            lead.flush_recordset()
            # created with its salesperson, in its stage that many days ago; the third one in the team
            # for 2 days only (a new team restarts the stage clock)
            then = now - timedelta(days=days)
            cls.env.cr.execute(
                SQL(
                    """UPDATE crm_lead SET create_date = %(then)s, date_last_stage_update = %(then)s,
                                          sla_owner_since = %(team_since)s, sla_team_since = %(team_since)s
                        WHERE id = %(id)s""",
                    then=then,
                    team_since=now - timedelta(days=2) if index == 2 else then,
                    id=lead.id,
                )
            )
            cls.leads |= lead
        cls.env.invalidate_all()
        cls.rule = cls.env["crm.sla.rule"].create(
            {
                "name": "RPC stale deals",
                "team_ids": [(6, 0, cls.team.ids)],
                "clock": "stage_entry",
                "threshold": 10,
                "unit": "days",
                "warning_before": 5,
                "action": "reassign",
                "reassign_mode": "round_robin",
            }
        )

    def test_simulate_matches_the_preview(self):
        from funnel_metrics.extract import connect
        from sla_rules.config import parse_config
        from sla_rules.simulate import evaluate
        from sla_rules.snapshot import read_odoo

        config = parse_config(
            {
                "rules": [
                    {
                        "name": "RPC stale deals",
                        "clock": "stage_entry",
                        "threshold": 10,
                        "unit": "days",
                        "warning_before": 5,
                        "teams": ["RPC Team"],
                        "action": "reassign",
                        "reassign": "round_robin",
                    }
                ]
            }
        )
        # the client library's own HTTP session: no test cookie, so let every request through
        with self.allow_requests(all_requests=True):
            connection = connect(
                self.base_url(), self.env.cr.dbname, "sla_rpc_manager", self.json2_key(self.manager)
            )
            snapshot = read_odoo(connection, config)
        now = datetime.now()
        frame = evaluate(
            snapshot.rules, snapshot.leads, now, snapshot.calendars, snapshot.teams, snapshot.names
        )
        offline = {(int(row.lead_id), row.status, row.description) for row in frame.itertuples()}

        action = self.rule.with_user(self.manager).action_preview()
        preview = self.env["crm.sla.preview"].with_user(self.manager).browse(action["res_id"])
        in_odoo = {(line.lead_id.id, line.status, line.description) for line in preview.line_ids}
        breached = {lead_id for lead_id, status, _ in in_odoo if status == "breach"}
        self.assertEqual(breached, set(self.leads[:2].ids), "30 and 12 days in stage: over 10 days")
        warned = {lead_id for lead_id, status, _ in in_odoo if status == "warn"}
        self.assertEqual(warned, set(self.leads[3].ids), "6 days: warned; 9 days but 2 in the team: not yet")
        self.assertEqual(
            {(lead_id, status) for lead_id, status, _ in offline},
            {(lead_id, status) for lead_id, status, _ in in_odoo},
        )
        # the same round robin, named the same way
        self.assertEqual(
            {(lead_id, d) for lead_id, s, d in offline if s == "breach"},
            {(lead_id, d) for lead_id, s, d in in_odoo if s == "breach"},
        )
