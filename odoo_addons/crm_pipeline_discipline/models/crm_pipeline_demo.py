import time

from odoo import api, fields, models
from odoo.exceptions import UserError

MIN_LEADS, MAX_LEADS = 100, 200_000
MIN_MONTHS, MAX_MONTHS = 1, 36


class CrmPipelineDemo(models.AbstractModel):
    """A demo pipeline that tells the story of the four addons: teams with their policies, reps with
    capacities, a qualification survey with gates, months of stage history, activities, customer events,
    campaigns with costs, stage targets and SLA rules with what they did before now. Deterministic from a
    seed: what to write is planned by ``funnel_metrics.demo_plan``; the configuration records are created
    through the ORM (``crm_pipeline_demo_config.py``), the per-lead volumes written set-based by the addons
    that own the tables (stays: crm_stage_history, customer events: crm_stage_survey, SLA events:
    crm_sla_rules; Odoo's own tables: ``crm_pipeline_demo_odoo_tables.py``); the rules' past episodes are
    the rules' own decisions (``crm_pipeline_demo_sla.py``)."""

    _name = "crm.pipeline.demo"
    _description = "Demo Pipeline Generator"

    @api.model
    def _generate(self, leads=2000, seed=42, months=6, now=None):
        """Generate the demo pipeline in the current company.

        :param int leads: number of leads, 100 to 200,000
        :param int seed: the same seed and ``now`` give the same data
        :param int months: months of history before ``now``, 1 to 36
        :param datetime now: naive UTC; everything is dated relative to it (default: now)
        :return: dict ``teams`` (key -> id, Marketing's ``marketing``), ``manager``, ``marketer``, ``reps``
            (ids in login order), ``routes`` (handoff routes), ``survey``, ``sla_rules``, ``campaigns``
            (ids), ``leads`` (the sales teams'), ``stays``, ``activities``, ``done_activities``,
            ``customer_events``, ``marketing_leads``, ``phase_stays``, ``handoffs``, ``sla_events``,
            ``snapshots`` (month-end probability snapshots) (counts) and ``seconds``
        :raise UserError: not an administrator, sizes out of range, a demo pipeline already there
        """
        started = time.monotonic()
        self._check_request(leads, months)
        now = (now or fields.Datetime.now()).replace(microsecond=0)
        # numpy and pandas are heavy: load them when asked for
        from funnel_metrics.demo_plan import DEMO_STORY, plan_demo  # noqa: PLC0415

        config = self._create_configuration(DEMO_STORY)
        config.update(self._create_waterfall_configuration(config))
        missing = [key for key, phase in config["phases"].items() if not phase]
        plan = plan_demo(leads, int(seed), months, now, DEMO_STORY, missing_phases=missing)
        counts = self._write_plan(plan, config, now)
        self.env.invalidate_all()
        counts["sla_events"] = self._write_sla_history(config["sla_rules"], now)
        self.env.invalidate_all()
        # the month ends of the history, as the fill-back from the stage history gives them
        counts["snapshots"] = self.env["crm.lead.probability.snapshot"]._backfill_snapshots(now=now)
        return {
            "teams": {key: team.id for key, team in config["teams"].items()}
            | {"marketing": config["marketing"].id},
            "manager": config["manager"].id,
            "marketer": config["marketer"].id,
            "routes": config["routes"].ids,
            "reps": config["reps"].ids,
            "survey": config["survey"].id,
            "sla_rules": config["sla_rules"].ids,
            "campaigns": config["campaigns"].ids,
            **counts,
            "seconds": round(time.monotonic() - started, 3),
        }

    @api.model
    def _generated(self):
        """Whether this database already holds a generated demo pipeline (its users exist)."""
        users = self.env["res.users"].with_context(active_test=False)
        return bool(users.search_count([("login", "in", self._demo_logins())]))

    @api.model
    def _check_request(self, leads, months):
        if not self.env.is_system():
            raise UserError(self.env._("Only an administrator can generate the demo pipeline."))
        if not isinstance(leads, int) or not MIN_LEADS <= leads <= MAX_LEADS:
            raise UserError(
                self.env._(
                    "The demo pipeline holds %(low)s to %(high)s leads, not %(leads)s: choose a size in "
                    "that range.",
                    low=MIN_LEADS,
                    high=MAX_LEADS,
                    leads=leads,
                )
            )
        if not isinstance(months, int) or not MIN_MONTHS <= months <= MAX_MONTHS:
            raise UserError(
                self.env._(
                    "The demo history covers %(low)s to %(high)s months, not %(months)s: choose a number of "
                    "months in that range.",
                    low=MIN_MONTHS,
                    high=MAX_MONTHS,
                    months=months,
                )
            )
        if self._generated():
            logins = self._demo_logins()
            raise UserError(
                self.env._(
                    "This database already holds a generated demo pipeline (its users %(logins)s exist). "
                    "Generate it into a fresh database instead: create one, install crm_pipeline_discipline "
                    "and run “odoo pipeline_demo -d <new database>” (or “make demo” with DEMO_RESET=1).",
                    logins=", ".join(logins[:2]) + "…",
                )
            )

    @api.model
    def _write_plan(self, plan, config, now):
        """Write ``plan`` (a :class:`funnel_metrics.demo_plan.DemoPlan`) with the records of ``config``
        (:meth:`_create_configuration`): the plan's indexes become record ids, its sentinels ``None``, and
        each table's rows go to its writer.

        :return: dict of counts: ``leads``, ``stays``, ``activities`` (open), ``done_activities`` (completed:
            their chatter messages), ``customer_events``, and those of :meth:`_write_waterfall`
        """
        import numpy as np  # noqa: PLC0415

        funnel, steps = plan.funnel, plan.story.customer_events
        # per customer event step: the decision phase it moves the lead to
        phase_ids = np.array([config["phases"][step.phase].id or 0 for step in steps], dtype="int64")
        lead_ids = np.array(
            self._insert_leads(self._lead_rows(plan, config, phase_ids), config["company"].id, now.date()),
            dtype="int64",
        )
        stage_ids, stays = np.array(config["stages"].ids), plan.stays
        stay_count = self.env["crm.lead.stage.history"]._bulk_insert_stays(
            {
                "lead_id": lead_ids[funnel.lead].tolist(),
                "stage_id": stage_ids[funnel.stage].tolist(),
                "previous_stage_id": _nullable(stage_ids[stays.previous], stays.previous >= 0),
                "date_in": funnel.entered.tolist(),
                "date_out": _nullable(stays.ended, stays.ended >= 0),
                "origin": stays.origin.tolist(),
            }
        )
        answers, gates = plan.answers, config["gates"]
        self._insert_qualifications(
            {
                "lead_id": lead_ids[answers.lead].tolist(),
                "at": answers.at.tolist(),
                "answers": [
                    answers.budget.tolist(),
                    np.array(gates["need_answers"])[answers.need].tolist(),
                    np.array(gates["decider_answers"])[answers.decider].tolist(),
                    np.array(gates["timeline_answers"])[answers.timeline].tolist(),
                ],
            },
            config["survey"],
            [gates["budget"], gates["need"], gates["decider"], gates["timeline"]],
        )
        followup, options = plan.followup, config["activity_plan"]
        type_ids = np.array(
            [[activity_type.id or 0 for activity_type, _summary in kinds] for kinds in options]
        )
        summaries = np.array([[summary for _type, summary in kinds] for kinds in options], dtype=object)
        stage, kind = funnel.last_stage[followup.lead], followup.kind
        activity_count = self._insert_activities(
            {
                "lead_id": lead_ids[followup.lead].tolist(),
                "type_id": _nullable(type_ids[stage, kind], type_ids[stage, kind] > 0),
                "summary": summaries[stage, kind].tolist(),
                "due": followup.due.tolist(),
            },
            now,
            config["company"].partner_id.tz or "UTC",
        )
        done = plan.done_activities
        done_types = np.array(
            [
                self.env.ref(f"mail.mail_activity_data_{key}").id
                for key, _odds, _mean in plan.story.done_activities
            ],
            dtype="int64",
        )
        done_count = self._insert_done_activities(
            {
                "lead_id": lead_ids[done.lead].tolist(),
                "type_id": done_types[done.kind].tolist(),
                "at": done.date.tolist(),
            }
        )
        events = plan.events
        event_count = self.env["crm.lead.customer.event"]._bulk_insert_events(
            {
                "lead_id": lead_ids[events.lead].tolist(),
                "event_type": [steps[step].event_type for step in events.step.tolist()],
                "description": [steps[step].description for step in events.step.tolist()],
                "phase_id": phase_ids[events.step].tolist(),
                "date": events.date.tolist(),
            }
        )
        return {
            "leads": len(lead_ids),
            "stays": stay_count,
            "activities": activity_count,
            "done_activities": done_count,
            "customer_events": event_count,
            **self._write_waterfall(plan, config, lead_ids.tolist(), now),
        }

    @api.model
    def _lead_rows(self, plan, config, phase_ids):
        """The rows of :meth:`_insert_leads` for the plan's leads: won ones in the won stage at 100 %, lost
        ones archived at 0 % with a lost reason, open ones at their stage's stated probability; each in
        the decision phase of its last customer event (``phase_ids``: per step of the story's events)."""
        import numpy as np  # noqa: PLC0415

        funnel, details, followup, events = plan.funnel, plan.details, plan.followup, plan.events
        stages = config["stages"]
        user_ids, team_ids = np.array(config["reps"].ids), np.array([team.id for team in config["rep_teams"]])
        stage_probability = np.array(stages.mapped("probability"))
        won, lost = funnel.outcome == 0, funnel.outcome == 1
        return {
            "name": details.name.tolist(),
            "type": np.where(details.is_lead, "lead", "opportunity").tolist(),
            "active": (~lost).tolist(),
            "user_id": user_ids[funnel.user].tolist(),
            "team_id": team_ids[funnel.user].tolist(),
            "stage_id": np.array(stages.ids)[funnel.last_stage].tolist(),
            "revenue": funnel.revenue.tolist(),
            "probability": np.where(
                won, 100.0, np.where(lost, 0.0, stage_probability[funnel.last_stage])
            ).tolist(),
            "won_status": np.where(won, "won", np.where(lost, "lost", "pending")).tolist(),
            "lost_reason_id": _nullable(np.array(config["lost_reasons"].ids)[funnel.lost_reason], lost),
            "created": funnel.created.tolist(),
            "stage_date": funnel.last_entered.tolist(),
            "closed": _nullable(np.where(won, funnel.last_entered, funnel.last_left), won | lost),
            "deadline": _nullable(details.deadline, details.deadline >= 0),
            "partner_name": details.partner_name.tolist(),
            "contact_name": details.contact_name.tolist(),
            "email": details.email.tolist(),
            "priority": details.priority.tolist(),
            "campaign_id": np.array(config["campaigns"].ids)[funnel.campaign].tolist(),
            "source_id": np.array(config["sources"].ids)[funnel.source].tolist(),
            "medium_id": np.array(config["mediums"].ids)[funnel.source].tolist(),
            "followup_state": self._followup_states(plan, config).tolist(),
            "no_followup_reason_id": _nullable(config["followup_reason"].id, followup.with_reason),
            "decision_phase_id": _nullable(phase_ids[events.phase], events.phase >= 0),
            "tag_id": np.array(config["tags"].ids)[funnel.product].tolist(),
        }

    @api.model
    def _followup_states(self, plan, config):
        """The stored follow-up state of each lead (under its team's policy), decided by activity_centric as
        the addon does."""
        import numpy as np  # noqa: PLC0415

        from activity_centric import POLICIES, LeadFacts, followup_state  # noqa: PLC0415

        funnel, followup = plan.funnel, plan.followup
        has_activity = np.zeros(funnel.n, dtype=bool)
        has_activity[followup.lead] = True
        folded = np.array(config["stages"].mapped("fold"))[funnel.last_stage]
        policy = np.array([POLICIES.index(team.followup_policy) for team in config["rep_teams"]])[funnel.user]
        facts = np.stack(
            [funnel.outcome != 1, funnel.outcome == 0, folded, followup.with_reason, has_activity, policy]
        ).T
        combos, inverse = np.unique(facts, axis=0, return_inverse=True)
        states = [
            followup_state(
                LeadFacts(
                    active=bool(active),
                    won=bool(won),
                    folded=bool(fold),
                    has_reason=bool(reason),
                    open_activities=int(planned),
                ),
                POLICIES[policy],
            )
            for active, won, fold, reason, planned, policy in combos.tolist()
        ]
        return np.array(states, dtype=object)[inverse.ravel()]


def _nullable(values, present):
    """``values`` (an array, or one value for all) where ``present``, ``None`` elsewhere, as a list."""
    import numpy as np  # noqa: PLC0415

    return np.where(present, values, None).tolist()
