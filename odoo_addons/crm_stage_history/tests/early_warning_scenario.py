"""The early warnings' scenario, relative to now so that the report's default date sees it: one sales team,
two salespersons, a stage Inquiry with a 70 % conversion target.

- baseline (12 weeks ago, decided 2 days later): Alice 40 leads, 30 qualified and 10 lost (75 %); Bob 8
  leads, 6 qualified and 2 lost;
- recent (2 weeks ago, decided 2 days later): Alice 24 leads, 6 qualified and 18 lost (25 %); Bob 4 leads, 3
  qualified and 1 lost.

Alice's leads come from the source "EW Fair" and carry the tag "EW Pro"; Bob's carry the tags "EW Pro" and
"EW Basic" together, from no source. Alice's Inquiry conversion dropped (and so did her tag's and her
source's, and the team's: 36 of 48 against 9 of 28); Bob has too few decided leads to be tested. The
qualified leads stay open in Qualified.
"""

from datetime import timedelta

from freezegun import freeze_time
from odoo import fields
from odoo.tests import new_test_user

PLAN = {
    # (salesperson, weeks ago): (qualified, lost)
    ("alice", 12): (30, 10),
    ("bob", 12): (6, 2),
    ("alice", 2): (6, 18),
    ("bob", 2): (3, 1),
}


def build_scenario(cls):
    """Users, team, stages, target and leads of the scenario on ``cls`` (a test class being set up)."""
    cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
    cls.manager = new_test_user(
        cls.env, login="ew_manager", name="Erin Manager", groups="sales_team.group_sale_manager"
    )
    cls.alice = new_test_user(
        cls.env, login="ew_alice", name="Alice Warn", groups="sales_team.group_sale_salesman"
    )
    cls.bob = new_test_user(cls.env, login="ew_bob", name="Bob Warn", groups="sales_team.group_sale_salesman")
    cls.team = cls.env["crm.team"].create({"name": "Warning Team"})
    Stage = cls.env["crm.stage"]
    cls.inquiry, cls.qualified = (
        Stage.create({"name": name, "sequence": seq, "team_ids": [(6, 0, cls.team.ids)]})
        for name, seq in (("EW Inquiry", 900), ("EW Qualified", 910))
    )
    cls.env["crm.stage.target"].create({"stage_id": cls.inquiry.id, "target_conversion_rate": 70})
    cls.as_of = fields.Datetime.now().replace(microsecond=0)
    users = {"alice": cls.alice, "bob": cls.bob}
    cls.source = cls.env["utm.source"].create({"name": "EW Fair"})
    pro, basic = cls.env["crm.tag"].create([{"name": "EW Pro"}, {"name": "EW Basic"}])
    details = {
        "alice": {"source_id": cls.source.id, "tag_ids": [(6, 0, pro.ids)]},
        "bob": {"tag_ids": [(6, 0, (pro | basic).ids)]},
    }
    for (name, weeks), (qualified, lost) in PLAN.items():
        start = cls.as_of - timedelta(weeks=weeks)
        with freeze_time(start):
            leads = cls.env["crm.lead"].create(
                [
                    {
                        "name": f"EW {name} {weeks} {i}",
                        "type": "opportunity",
                        "team_id": cls.team.id,
                        "user_id": users[name].id,
                        "stage_id": cls.inquiry.id,
                        **details[name],
                    }
                    for i in range(qualified + lost)
                ]
            )
        with freeze_time(start + timedelta(days=2)):
            leads[:qualified].write({"stage_id": cls.qualified.id})
            leads[qualified:].action_set_lost()
