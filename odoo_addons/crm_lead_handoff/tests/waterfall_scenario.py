from datetime import datetime, timedelta

from freezegun import freeze_time
from odoo.tests import new_test_user

# the reports import pandas lazily; under freezegun's patched datetime that import crashes the interpreter
import funnel_metrics  # noqa: F401 # pylint: disable=unused-import

T0 = datetime(2026, 3, 2, 9, 0, 0)  # a Monday
AS_OF = T0 + timedelta(days=20)

# Eight leads of Marketing: the phases they went through (code, day), their handoff from Marketing Qualified
# (day sent, state, day decided, who accepted it or the rejection reason's code; None: not handed over), their
# source, campaign and country. Known by construction, as of AS_OF:
# - Inquiry: 8 entered, 6 moved on (L7 too: it came back later), 1 disqualified (L4), 1 still there (L5);
# - Marketing Qualified: 6 entered, 3 moved on, 2 recycled (L1, L7), 1 still there (L3); 6 handed over: 3
#   accepted (1 by default), 2 rejected, 1 awaiting: acceptance 60 %;
# - Sales Accepted: 3 entered, 1 moved on, 1 disqualified, 1 lost.
LEADS = (
    (
        (("inquiry", 0), ("mql", 1), ("sal", 3), ("sql", 5), ("opportunity", 8)),
        (2, "accepted", 3, "alice"),
        ("web", "spring", "be"),
    ),
    (
        (("inquiry", 0), ("mql", 1), ("recycled", 3)),
        (2, "rejected", 3, "wrong_region"),
        ("web", "spring", "be"),
    ),
    (
        (("inquiry", 0), ("mql", 2), ("sal", 4), ("disqualified", 6)),
        (3, "accepted", 4, "bob"),
        ("fair", "expo", "fr"),
    ),
    ((("inquiry", 0), ("mql", 1)), (2, "awaiting", None, None), ("fair", "expo", "fr")),
    ((("inquiry", 0), ("disqualified", 2)), None, ("web", "spring", "fr")),
    ((("inquiry", 0),), None, ("web", None, "be")),
    (
        (("inquiry", 0), ("mql", 1), ("sal", 2), ("lost", 5)),
        (1.5, "auto", 2, "alice"),
        ("fair", "expo", "be"),
    ),
    (
        (("inquiry", 0), ("mql", 1), ("recycled", 2), ("inquiry", 10)),
        (1, "rejected", 2, "not_ready_yet"),
        ("web", "spring", "be"),
    ),
)
# what each campaign cost
COSTS = {"spring": 800.0, "expo": 300.0}


class WaterfallScenario:
    """The leads of :data:`LEADS` in a Marketing team, handed over to an Inside Sales team on a route, their
    phases recorded as the addon's flows record them (``_record_moves``), and one lead of another company."""

    @classmethod
    def _build_waterfall(cls):
        env = cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = env.company
        cls.company_b = env["res.company"].create({"name": "Waterfall Company B"})
        cls.manager = new_test_user(
            env, login="wf_manager", name="Wanda Manager", groups="sales_team.group_sale_manager"
        )
        cls.marketer = new_test_user(
            env, login="wf_marketer", name="Mark Marketer", groups="sales_team.group_sale_salesman"
        )
        cls.alice, cls.bob = (
            new_test_user(
                env,
                login=f"wf_{name.lower()}",
                name=f"{name} Inside",
                groups="sales_team.group_sale_salesman",
            )
            for name in ("Alice", "Bob")
        )
        cls.carol = new_test_user(
            env,
            login="wf_carol",
            name="Carol Company B",
            groups="sales_team.group_sale_salesman_all_leads",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        Team = env["crm.team"]
        cls.marketing = Team.create({"name": "WF Marketing", "member_ids": [(6, 0, cls.marketer.ids)]})
        cls.inside = Team.create(
            {"name": "WF Inside Sales", "member_ids": [(6, 0, (cls.alice | cls.bob).ids)]}
        )
        cls.phases = {phase.code: phase for phase in env["crm.lifecycle.phase"].search([])}
        cls.reasons = {reason.code: reason for reason in env["crm.handoff.reject.reason"].search([])}
        cls.sources = {name: env["utm.source"].create({"name": f"WF {name}"}) for name in ("web", "fair")}
        cls.campaigns = {
            name: env["utm.campaign"].create({"title": f"WF {name}", "cost": cost})
            for name, cost in COSTS.items()
        }
        cls.countries = {code: env.ref(f"base.{code}") for code in ("be", "fr")}
        # the company's first route switches the phases on: its leads enter Inquiry as they are created
        cls.route = env["crm.handoff.route"].create(
            {
                "name": "WF Marketing to Inside Sales",
                "from_team_ids": [(6, 0, cls.marketing.ids)],
                "to_kind": "team",
                "to_team_id": cls.inside.id,
                "from_phase_id": cls.phases["mql"].id,
                "accept_phase_id": cls.phases["sal"].id,
            }
        )
        Lead = env["crm.lead"]
        cls.leads = Lead
        for index, (_phases, _handoff, (source, campaign, country)) in enumerate(LEADS):
            with freeze_time(T0 + timedelta(hours=index)):
                cls.leads |= Lead.create(
                    {
                        "name": f"WF Lead {index}",
                        "type": "lead",
                        "team_id": cls.marketing.id,
                        "user_id": cls.marketer.id,
                        "source_id": cls.sources[source].id,
                        "campaign_id": campaign and cls.campaigns[campaign].id,
                        "country_id": cls.countries[country].id,
                    }
                )
        with freeze_time(T0 + timedelta(hours=12)):
            cls.lead_b = Lead.with_company(cls.company_b).create(
                {"name": "WF Lead B", "type": "lead", "user_id": cls.carol.id, "company_id": cls.company_b.id}
            )
        History = env["crm.lead.phase.history"]
        # the phases of every lead, in time order: lead n moves n hours into the day; its handoff is sent 8
        # hours into its day (after it entered the phase) and decided as it moves on
        events = []
        for index, (lead, (phases, handoff, _groups)) in enumerate(zip(cls.leads, LEADS, strict=True)):
            for code, day in phases:
                events.append((T0 + timedelta(days=day, hours=index), "move", lead, code))
            if handoff:
                events.append((T0 + timedelta(days=handoff[0], hours=8), "handoff", lead, (index, *handoff)))
        events.append((T0 + timedelta(hours=13), "move", cls.lead_b, "inquiry"))
        cls.handoffs = env["crm.lead.handoff"]
        for when, kind, lead, what in sorted(events, key=lambda event: event[0]):
            with freeze_time(when):
                if kind == "move" and not (what == "inquiry" and lead.lifecycle_phase_id.code == "inquiry"):
                    History._record_moves({lead.id: (cls.phases[what].id, "correction", None)})
                elif kind == "handoff":
                    cls.handoffs |= cls._handoff(lead, when, *what)
        env.flush_all()

    @classmethod
    def _handoff(cls, lead, sent, index, _day, state, decided_day, who):
        """A handoff of ``lead`` from its current phase, as the flows leave it; an accepted one gives the lead
        to the receiving team and salesperson (in SQL: the report reads what is stored)."""
        decided = T0 + timedelta(days=decided_day, hours=index) if decided_day is not None else False
        vals = {
            "lead_id": lead.id,
            "route_id": cls.route.id,
            "company_id": cls.company.id,
            "sender_id": cls.marketer.id,
            "from_team_id": lead.team_id.id,
            "from_user_id": lead.user_id.id,
            "to_team_id": cls.inside.id,
            "phase_id": lead.lifecycle_phase_id.id,
            "date_sent": sent,
            "state": "accepted" if state == "auto" else state,
            "date_decided": decided,
            "auto_accepted": state == "auto",
        }
        if state in ("accepted", "auto"):
            user = {"alice": cls.alice, "bob": cls.bob}[who]
            vals.update(decided_by_id=user.id if state == "accepted" else False, new_user_id=user.id)
            cls.env.cr.execute(
                "UPDATE crm_lead SET team_id = %s, user_id = %s WHERE id = %s",
                [cls.inside.id, user.id, lead.id],
            )
            lead.invalidate_recordset(["team_id", "user_id"])
        elif state == "rejected":
            vals.update(reason_id=cls.reasons[who].id, decided_by_id=cls.alice.id)
        return cls.env["crm.lead.handoff"].sudo().create(vals)
