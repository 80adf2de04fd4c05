from odoo import api, models
from odoo.addons.crm_pipeline_base.tools import insert_in_pages, reserve_ids
from odoo.fields import Command
from odoo.tools import SQL

from .crm_pipeline_demo import _nullable

# the marketer of the demo: login (the password too) and name; Marketing's team: name, follow-up policy
MARKETER = ("pd_marketer", "Maya Brooks")
MARKETING_TEAM = ("Marketing", "off")
# Marketing's own stage, entered at Marketing Qualified (the story's Qualified stage is entered at Sales
# Qualified): the teams' own steps of the waterfall (funnel_metrics.demo_waterfall)
MARKETING_STAGE = "Marketing Qualified"
# the acceptance deadline of Inside Sales: an SLA rule on the handed-over clock (business hours)
ACCEPTANCE_HOURS = 8
# targets per phase (every team): code, conversion (%), days in the phase; Inside Sales' own for sal
PHASE_TARGETS = (
    ("mql", None, 90.0, 7.0),
    ("sal", None, 85.0, 5.0),
    ("sal", "inside", 90.0, 3.0),
    ("sql", None, 75.0, 7.0),
    ("opportunity", None, 35.0, 30.0),
)
# the story's routes (funnel_metrics.demo_waterfall.ROUTES, in that order): name, quality criteria
ROUTE_NAMES = (
    ("Marketing to Inside Sales", "[('email_from', '!=', False), ('partner_name', '!=', False)]"),
    ("Inside Sales to Field Sales", "[('partner_name', '!=', False)]"),
)


class CrmPipelineDemo(models.AbstractModel):
    """The demo's demand waterfall: Marketing and its marketer, the handoff routes between Marketing, Inside
    Sales and Field Sales, Marketing's own leads, and every lead's lifecycle phases and handoffs as
    ``funnel_metrics.demo_waterfall`` planned them, written set-based (the phase stays and handoffs as
    crm_lead_handoff's flows leave them, dated when they happened)."""

    _inherit = "crm.pipeline.demo"  # pylint: disable=consider-merging-classes-inherited  # one file per concern

    @api.model
    def _create_waterfall_configuration(self, config):
        """Marketing (its leader the demo's manager, its member the marketer) and its qualified stage, the
        stages the teams' own phases are entered at (Marketing's for Marketing Qualified, the story's
        Qualified stage for Sales Qualified), the routes of the story, targets per phase and Inside Sales'
        acceptance deadline (an SLA rule on the handed-over clock).
        The routes switch the lifecycle phases on for the company: created before the leads are written,
        their rebuild of the phases finds none of the demo's leads.

        :param dict config: :meth:`_create_configuration`'s records
        :return: dict of records: ``sla_rules`` (the configuration's and the acceptance deadline of Inside
            Sales), ``marketer``, ``marketing`` (the team), ``routes`` (in the story's order),
            ``lifecycle_phases`` (in ``demo_waterfall.PHASES`` order), ``reject_reasons`` (in the story's
            order of reasons), ``marketing_stage``
        """
        from funnel_metrics.demo_waterfall import PHASES, ROUTES, WaterfallStory  # noqa: PLC0415

        company, manager = config["company"], config["manager"]
        marketer = (
            self.env["res.users"]
            .with_context(no_reset_password=True, mail_create_nolog=True)
            .create(
                {
                    "login": MARKETER[0],
                    "password": MARKETER[0],
                    "name": MARKETER[1],
                    "email": f"{MARKETER[0]}@example.com",
                    "tz": company.partner_id.tz or "UTC",
                    "company_id": company.id,
                    "company_ids": [Command.link(company.id)],
                    "group_ids": [Command.set(self.env.ref("sales_team.group_sale_salesman").ids)],
                }
            )
        )
        marketing = (
            self.env["crm.team"]
            .with_context(mail_create_nolog=True)
            .create(
                {
                    "name": MARKETING_TEAM[0],
                    "company_id": company.id,
                    "user_id": manager.id,
                    "followup_policy": MARKETING_TEAM[1],
                    "crm_team_member_ids": [Command.create({"user_id": marketer.id})],
                }
            )
        )
        teams = {"marketing": marketing, **config["teams"]}
        phases = self.env["crm.lifecycle.phase"]
        for code in PHASES:
            phases |= self.env.ref(f"crm_lead_handoff.crm_lifecycle_phase_{code}")
        new_stage = config["stages"][0]
        marketing_stage = self.env["crm.stage"].create(
            {
                "name": MARKETING_STAGE,
                "sequence": new_stage.sequence,
                "probability": new_stage.probability,
                "team_ids": [Command.set(marketing.ids)],
            }
        )
        phases[PHASES.index("mql")].stage_ids = [Command.link(marketing_stage.id)]
        phases[PHASES.index("sql")].stage_ids = [Command.link(config["stages"][1].id)]
        routes = self.env["crm.handoff.route"]
        for sequence, ((name, domain), (source, target, from_phase, accept_phase)) in enumerate(
            zip(ROUTE_NAMES, ROUTES, strict=True)
        ):
            routes |= routes.create(
                {
                    "name": name,
                    "sequence": (sequence + 1) * 10,
                    "company_id": company.id,
                    "from_team_ids": [Command.set(teams[source].ids)],
                    "to_kind": "team",
                    "to_team_id": teams[target].id,
                    "from_phase_id": phases[from_phase].id,
                    "accept_phase_id": phases[accept_phase].id,
                    "domain": domain,
                }
            )
        self.env["crm.lifecycle.phase.target"].create(
            [
                {
                    "phase_id": phases[PHASES.index(code)].id,
                    "team_id": teams[team].id if team else False,
                    "company_id": company.id,
                    "target_conversion_rate": rate,
                    "target_days_in_phase": days,
                }
                for code, team, rate, days in PHASE_TARGETS
            ]
        )
        # nobody in Inside Sales decided in time: the handoff goes back to its sender (not run here: the
        # demo's handoffs awaiting a decision were sent in the last hours)
        deadline = self.env["crm.sla.rule"].create(
            {
                "name": self.env._(
                    "Handoff not decided in %(hours)s business hours: back to the sender",
                    hours=ACCEPTANCE_HOURS,
                ),
                "sequence": 40,
                "team_ids": [Command.set(config["teams"]["inside"].ids)],
                "company_ids": [Command.set(company.ids)],
                "lead_type": "both",
                "clock": "handed_over",
                "threshold": ACCEPTANCE_HOURS,
                "unit": "business_hours",
                "action": "return_to_sender",
            }
        )
        reasons = self.env["crm.handoff.reject.reason"]
        for code, _share in WaterfallStory().reasons:
            reasons |= self.env.ref(f"crm_lead_handoff.crm_handoff_reject_reason_{code}")
        return {
            "sla_rules": config["sla_rules"] | deadline,
            "marketer": marketer,
            "marketing": marketing,
            "routes": routes,
            "lifecycle_phases": phases,
            "reject_reasons": reasons,
            "marketing_stage": marketing_stage,
        }

    @api.model
    def _write_waterfall(self, plan, config, lead_ids, now):
        """Write the plan's waterfall: Marketing's own leads (with their stay in the first stage), the
        handoffs, the phase stays, then each lead's current phase and awaiting handoff.

        :param lead_ids: the ids of the plan's sales leads, in the plan's order
        :param datetime now: naive UTC, the demo's time
        :return: dict of counts: ``marketing_leads``, ``phase_stays``, ``handoffs``
        """
        import numpy as np  # noqa: PLC0415

        from funnel_metrics.demo_waterfall import TEAM_KEYS  # noqa: PLC0415

        waterfall = plan.waterfall
        marketing_ids = self._insert_marketing_leads(waterfall.marketing, waterfall.qualified_at, config, now)
        all_ids = np.array([*lead_ids, *marketing_ids], dtype="int64")
        teams = {"marketing": config["marketing"], **config["teams"]}
        team_ids = np.array([teams[key].id for key in TEAM_KEYS], dtype="int64")
        # users by the plan's index: the reps, then the marketer (demo_waterfall.MARKETER, -2), nobody (-1)
        user_ids = np.array([*config["reps"].ids, config["marketer"].id, 0], dtype="int64")
        phase_ids = np.array(config["lifecycle_phases"].ids, dtype="int64")
        routes = config["routes"]
        handoffs = waterfall.handoffs
        receiver = user_ids[handoffs.receiver]
        handoff_ids = self._insert_handoffs(
            {
                "lead_id": all_ids[handoffs.lead].tolist(),
                "route_id": np.array(routes.ids)[handoffs.route].tolist(),
                "sender_id": user_ids[handoffs.sender].tolist(),
                "sent": handoffs.sent.tolist(),
                "decided": _nullable(handoffs.decided, handoffs.decided >= 0),
                "state": np.array(["awaiting", "accepted", "rejected"])[handoffs.state].tolist(),
                "reason_id": _nullable(
                    np.array(config["reject_reasons"].ids)[handoffs.reason], handoffs.reason >= 0
                ),
                "decided_by_id": _nullable(receiver, receiver > 0),
                "new_user_id": _nullable(receiver, (receiver > 0) & (handoffs.state == 1)),
            },
            config["company"].id,
        )
        stays = waterfall.stays
        first = np.r_[True, stays.lead[1:] != stays.lead[:-1]]
        previous = np.where(first, -1, np.r_[-1, stays.phase[:-1]])
        stay_user = user_ids[stays.user]
        decider = np.where(stays.handoff >= 0, receiver[stays.handoff], 0)
        # a handoff's stay by who decided on it; a phase set by hand (a correction) by the teams' manager; one
        # entered at a stage (or created, converted, closed) by the stay's salesperson
        changed_by = np.where(
            decider > 0, decider, np.where(stays.origin == "correction", config["manager"].id, stay_user)
        )
        stay_count = self._insert_phase_stays(
            {
                "lead_id": all_ids[stays.lead].tolist(),
                "phase_id": phase_ids[stays.phase].tolist(),
                "previous_phase_id": _nullable(phase_ids[previous], previous >= 0),
                "date_in": stays.entered.tolist(),
                "date_out": _nullable(stays.left, stays.left >= 0),
                "user_id": _nullable(stay_user, stay_user > 0),
                "team_id": team_ids[stays.team].tolist(),
                "changed_by_id": _nullable(changed_by, changed_by > 0),
                "handoff_id": _nullable(np.array(handoff_ids + [0])[stays.handoff], stays.handoff >= 0),
                "origin": stays.origin.tolist(),
            },
            config["company"].id,
        )
        self._set_current_phases(all_ids.tolist())
        return {
            "marketing_leads": len(marketing_ids),
            "phase_stays": stay_count,
            "handoffs": len(handoff_ids),
        }

    @api.model
    def _insert_marketing_leads(self, marketing, qualified_at, config, now):
        """Marketing's own leads (``demo_waterfall.MarketingLeads``): leads of the marketer in Marketing, in
        the first stage or, from ``qualified_at`` (UTC seconds since the epoch, -1 for none) on, in
        Marketing's qualified stage; or, handed over and awaiting Inside Sales' decision, nobody's yet in
        Inside Sales' queue; created by the marketer, each with its stays in those stages. Returns their
        ids."""
        import numpy as np  # noqa: PLC0415

        from activity_centric import LeadFacts, followup_state  # noqa: PLC0415

        m = len(marketing.created)
        if not m:
            return []
        awaiting = marketing.awaiting
        teams = [config["marketing"], config["teams"]["inside"]]
        # a new lead without activities, under each team's follow-up policy, as activity_centric decides
        states = [
            followup_state(
                LeadFacts(active=True, won=False, folded=False, has_reason=False, open_activities=0),
                team.followup_policy,
            )
            for team in teams
        ]
        new_stage, qualified_stage = config["stages"][0], config["marketing_stage"]
        qualified = qualified_at >= 0
        company_id = config["company"].id
        lead_ids = self._insert_leads(
            {
                "name": marketing.name.tolist(),
                "type": ["lead"] * m,
                "active": [True] * m,
                "user_id": np.where(awaiting, None, config["marketer"].id).tolist(),
                "team_id": np.where(awaiting, teams[1].id, teams[0].id).tolist(),
                "stage_id": np.where(qualified, qualified_stage.id, new_stage.id).tolist(),
                "revenue": [0.0] * m,
                "probability": [new_stage.probability] * m,
                "won_status": ["pending"] * m,
                "lost_reason_id": [None] * m,
                "created": marketing.created.tolist(),
                "stage_date": np.where(qualified, qualified_at, marketing.created).tolist(),
                "closed": [None] * m,
                "deadline": [None] * m,
                "partner_name": marketing.partner_name.tolist(),
                "contact_name": marketing.contact_name.tolist(),
                "email": marketing.email.tolist(),
                "priority": ["0"] * m,
                "campaign_id": np.array(config["campaigns"].ids)[marketing.campaign].tolist(),
                "source_id": np.array(config["sources"].ids)[marketing.source].tolist(),
                "medium_id": np.array(config["mediums"].ids)[marketing.source].tolist(),
                "followup_state": np.where(awaiting, states[1], states[0]).tolist(),
                "no_followup_reason_id": [None] * m,
                "decision_phase_id": [None] * m,
                "tag_id": np.array(config["tags"].ids)[marketing.product].tolist(),
            },
            company_id,
            now.date(),
        )
        self.env.cr.execute(
            SQL(
                "UPDATE crm_lead SET create_uid = %(uid)s, write_uid = %(uid)s WHERE id = ANY(%(ids)s)",
                uid=config["marketer"].id,
                ids=lead_ids,
            )
        )
        # the first stage from their creation (until they were qualified), then the marketer's move
        moved = np.flatnonzero(qualified)
        ids = np.array(lead_ids, dtype="int64")
        self.env["crm.lead.stage.history"]._bulk_insert_stays(
            {
                "lead_id": [*lead_ids, *ids[moved].tolist()],
                "stage_id": [new_stage.id] * m + [qualified_stage.id] * len(moved),
                "previous_stage_id": [None] * m + [new_stage.id] * len(moved),
                "date_in": [*marketing.created.tolist(), *qualified_at[moved].tolist()],
                "date_out": [*_nullable(qualified_at, qualified), *[None] * len(moved)],
                "origin": ["create"] * m + ["manual"] * len(moved),
            }
        )
        return lead_ids

    @api.model
    def _insert_handoffs(self, handoffs, company_id):
        """Handoffs as crm_lead_handoff's flows leave them: from the route's team and phase to its team,
        the lead's salesperson when sent, what the receiving side decided and when.

        :param dict handoffs: per handoff: ``lead_id``, ``route_id``, ``sender_id``, ``sent``,
            ``decided`` (UTC seconds since the epoch; ``None`` while awaiting), ``state``, ``reason_id``,
            ``decided_by_id``, ``new_user_id``
        :return: the new handoffs' ids, in the order of the rows
        """
        ids = reserve_ids(self.env.cr, "crm_lead_handoff", len(handoffs["lead_id"]))
        self.env["crm.handoff.route"].flush_model()
        insert_in_pages(
            self.env.cr,
            """
            INSERT INTO crm_lead_handoff (
                id, lead_id, route_id, company_id, sender_id, from_team_id, from_user_id, to_team_id,
                phase_id, state, date_sent, date_decided, decided_by_id, auto_accepted, reason_id,
                new_user_id, create_uid, create_date, write_uid, write_date)
            SELECT v.id, v.lead_id, r.id, %(company)s, v.sender_id, ft.crm_team_id, v.sender_id, r.to_team_id,
                   r.from_phase_id, v.state, d.sent, d.decided, v.decided_by_id, false, v.reason_id,
                   v.new_user_id, v.sender_id, d.sent, COALESCE(v.decided_by_id, v.sender_id),
                   COALESCE(d.decided, d.sent)
              FROM unnest(%(id)s::int[], %(lead_id)s::int[], %(route_id)s::int[], %(sender_id)s::int[],
                          %(sent)s::bigint[], %(decided)s::bigint[], %(state)s::varchar[],
                          %(reason_id)s::int[], %(decided_by_id)s::int[], %(new_user_id)s::int[])
                   AS v(id, lead_id, route_id, sender_id, sent, decided, state, reason_id, decided_by_id,
                        new_user_id)
              JOIN crm_handoff_route r ON r.id = v.route_id
        CROSS JOIN LATERAL (
                   SELECT to_timestamp(v.sent) AT TIME ZONE 'UTC' AS sent,
                          to_timestamp(v.decided) AT TIME ZONE 'UTC' AS decided
                   ) d
        CROSS JOIN LATERAL (
                   SELECT min(rel.crm_team_id) AS crm_team_id FROM crm_handoff_route_from_team_rel rel
                    WHERE rel.crm_handoff_route_id = r.id
                   ) ft
            """,
            {"id": ids, **handoffs},
            company=company_id,
        )
        # who may decide on each: its route's receivers (when it was sent, as now)
        for route in self.env["crm.handoff.route"].browse(sorted(set(handoffs["route_id"]))):
            mine = [
                id_ for id_, route_id in zip(ids, handoffs["route_id"], strict=True) if route_id == route.id
            ]
            self.env.cr.execute(
                SQL(
                    """INSERT INTO crm_lead_handoff_receiver_rel (crm_lead_handoff_id, res_users_id)
                       SELECT h, u FROM unnest(%s::int[]) h CROSS JOIN unnest(%s::int[]) u""",
                    mine,
                    route._receivers().ids,
                )
            )
        return ids

    @api.model
    def _insert_phase_stays(self, stays, company_id):
        """Phase stays as crm_lead_handoff records them, dated when they happened.

        :param dict stays: per stay: ``lead_id``, ``phase_id``, ``previous_phase_id``, ``date_in``,
            ``date_out`` (UTC seconds since the epoch, ``None`` for the current stay), ``user_id``,
            ``team_id``, ``changed_by_id``, ``handoff_id``, ``origin``
        :return: the number of stays inserted
        """
        return insert_in_pages(
            self.env.cr,
            """
            INSERT INTO crm_lead_phase_history (
                lead_id, phase_id, previous_phase_id, date_in, date_out, is_current, duration_hours,
                user_id, team_id, company_id, changed_by_id, handoff_id, origin, create_uid, create_date,
                write_uid, write_date)
            SELECT v.lead_id, v.phase_id, v.previous_phase_id, d.date_in, d.date_out, d.date_out IS NULL,
                   EXTRACT(EPOCH FROM (d.date_out - d.date_in)) / 3600.0, v.user_id, v.team_id, %(company)s,
                   v.changed_by_id, v.handoff_id, v.origin, v.changed_by_id, d.date_in, v.changed_by_id,
                   COALESCE(d.date_out, d.date_in)
              FROM unnest(%(lead_id)s::int[], %(phase_id)s::int[], %(previous_phase_id)s::int[],
                          %(date_in)s::bigint[], %(date_out)s::bigint[], %(user_id)s::int[],
                          %(team_id)s::int[], %(changed_by_id)s::int[], %(handoff_id)s::int[],
                          %(origin)s::varchar[])
                   AS v(lead_id, phase_id, previous_phase_id, date_in, date_out, user_id, team_id,
                        changed_by_id, handoff_id, origin)
        CROSS JOIN LATERAL (
                   SELECT to_timestamp(v.date_in) AT TIME ZONE 'UTC' AS date_in,
                          to_timestamp(v.date_out) AT TIME ZONE 'UTC' AS date_out
                   ) d
            """,
            stays,
            company=company_id,
        )

    @api.model
    def _set_current_phases(self, lead_ids):
        """Each lead's phase and its date from its current (else last) stay; its awaiting handoff, if any,
        with the time it was sent (the 'handed over' clock)."""
        self.env.cr.execute(
            SQL(
                """
            UPDATE crm_lead l SET lifecycle_phase_id = last.phase_id, lifecycle_phase_date = last.date_in,
                                  handoff_id = h.id, handoff_sent_date = h.date_sent
              FROM (SELECT DISTINCT ON (lead_id) lead_id, phase_id, date_in FROM crm_lead_phase_history
                     WHERE lead_id = ANY(%(ids)s) ORDER BY lead_id, date_in DESC, id DESC) last
         LEFT JOIN crm_lead_handoff h ON h.lead_id = last.lead_id AND h.state = 'awaiting'
             WHERE l.id = last.lead_id
            """,
                ids=lead_ids,
            )
        )
