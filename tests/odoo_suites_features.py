"""Switch every Pipeline Discipline feature on, for one sales team of its own (``make odoo-suites``).

Run with Odoo's Python: ``python odoo_suites_features.py DB``. On a database where the addons are
installed (features off), it creates the team "Pipeline Discipline (compat)" with a salesperson of its
own and turns on, for that team, everything the addons can do: follow-up policy ``enforce`` with a
default first activity, stages set by a qualification survey (with entry criteria and the won gate),
daily activity capacities, stage targets, the three shipped SLA rules (activated, scoped to the team)
and their scheduled action, the weekly follow-up review, the activity chains, the decision phase
triggers, and a handoff route to a receiving team with its auto-accept scheduled action. Then it checks
that the features do act on that team (a new lead gets its first activity and its lifecycle phase; the
salesperson cannot move the stage by hand nor complete the last activity) and prints one JSON object on
its last line: what it switched on, or ``{"error": ...}``.

Odoo's own tests do not use this team: they then show that the features, switched on somewhere in the
database, leave the rest of the CRM as Odoo made it. The handoff route is the exception by design: a route
switches lifecycle phases on for its whole company, so every lead Odoo's tests create, convert, win, lose
or merge in that company records its phase stays.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEAM_NAME = "Pipeline Discipline (compat)"
BUDGET_GATE = 10000.0


def _survey(env):
    """A qualification survey: a budget and a confirmed need; Qualified needs both."""
    from odoo import Command  # noqa: PLC0415 - only Odoo's Python runs this file

    survey = env["survey.survey"].create(
        {
            "title": f"{TEAM_NAME}: qualification",
            "access_mode": "token",
            "questions_layout": "one_page",
            "question_and_page_ids": [
                Command.create({"title": "Budget", "question_type": "numerical_box", "sequence": 1}),
                Command.create(
                    {
                        "title": "Need confirmed?",
                        "question_type": "simple_choice",
                        "sequence": 2,
                        "suggested_answer_ids": [
                            Command.create({"value": "Yes", "sequence": 1}),
                            Command.create({"value": "No", "sequence": 2}),
                        ],
                    }
                ),
            ],
        }
    )
    budget, need = survey.question_ids.sorted("sequence")
    return survey, budget, need


def _switch_on(env) -> dict:
    from odoo import Command  # noqa: PLC0415
    from odoo.exceptions import UserError  # noqa: PLC0415

    company = env.company
    rep = env["res.users"].create(
        {
            "name": f"{TEAM_NAME} salesperson",
            "login": "pipeline_discipline_compat_rep",
            "email": "compat.rep@example.com",
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "group_ids": [Command.set(env.ref("sales_team.group_sale_salesman").ids)],
        }
    )
    manager = env["res.users"].create(
        {
            "name": f"{TEAM_NAME} manager",
            "login": "pipeline_discipline_compat_manager",
            "email": "compat.manager@example.com",
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "group_ids": [Command.set(env.ref("sales_team.group_sale_manager").ids)],
        }
    )
    stages = [env.ref(f"crm.stage_lead{number}") for number in (1, 2, 3, 4)]
    new, qualified, proposition, _won = stages
    survey, budget, need = _survey(env)
    yes = need.suggested_answer_ids.sorted("sequence")[:1]
    criteria = env["crm.stage.criterion"].create(
        [
            {"survey_id": survey.id, "stage_id": qualified.id, "question_id": need.id,
             "answer_ids": [Command.set(yes.ids)]},
            {"survey_id": survey.id, "stage_id": qualified.id, "question_id": budget.id,
             "has_minimum": True, "minimum": BUDGET_GATE},
        ]
    )  # fmt: skip
    call = env.ref("mail.mail_activity_data_call")
    team = env["crm.team"].create(
        {
            "name": TEAM_NAME,
            "company_id": company.id,
            "user_id": manager.id,
            # crm's automatic assignment would hand this team's member leads of other teams' tests
            "assignment_optout": True,
            "followup_policy": "enforce",
            "followup_default_activity_type_id": call.id,
            "followup_default_delay": 1,
            "stage_setting": "survey",
            "qualification_survey_id": survey.id,
            "survey_probability": "stage",
            "survey_won_gate": True,
            "crm_team_member_ids": [
                Command.create(
                    {"user_id": rep.id, "activity_daily_capacity": 8, "activity_daily_minutes": 240}
                )
            ],
        }
    )
    env["crm.stage.target"].create(
        [
            {
                "stage_id": stage.id,
                "team_id": team.id,
                "company_id": company.id,
                "target_conversion_rate": rate,
                "target_days_in_stage": days,
            }
            for stage, rate, days in ((new, 60.0, 7.0), (qualified, 55.0, 14.0), (proposition, 60.0, 21.0))
        ]
    )
    # a handoff route in the company switches lifecycle phases on for all its leads: every lead Odoo's tests
    # create, convert, win, lose or merge there records its phase stays
    inside = env["crm.team"].create(
        {"name": f"{TEAM_NAME} inside sales", "company_id": company.id, "assignment_optout": True}
    )
    route = env["crm.handoff.route"].create(
        {
            "name": f"{TEAM_NAME}: to inside sales",
            "company_id": company.id,
            "from_team_ids": [Command.set(team.ids)],
            "to_team_id": inside.id,
            "from_phase_id": env.ref("crm_lead_handoff.crm_lifecycle_phase_mql").id,
            "accept_phase_id": env.ref("crm_lead_handoff.crm_lifecycle_phase_sal").id,
            "auto_accept_hours": 8,
        }
    )
    rules = env["crm.sla.rule"].with_context(active_test=False).search([])
    rules.write(
        {"active": True, "team_ids": [Command.set(team.ids)], "company_ids": [Command.set(company.ids)]}
    )
    crons = (
        env.ref("crm_sla_rules.ir_cron_sla_rules")
        | env.ref("crm_activity_centric.ir_cron_followup_digest")
        | env.ref("crm_lead_handoff.ir_cron_handoff_auto_accept")
    )
    crons.write({"active": True})
    chains = env["crm.activity.chain"].with_context(active_test=False).search([])
    chains.write({"active": True})
    triggers = env["crm.decision.phase.trigger"].with_context(active_test=False).search([])
    triggers.write({"active": True})
    settings = env["res.config.settings"].create(
        {"crm_followup_digest_overdue_days": 3, "crm_followup_digest_stale_days": 14}
    )
    settings.execute()

    # the features act on the team: checked as its salesperson, then undone
    lead = (
        env["crm.lead"]
        .with_user(rep)
        .create({"name": f"{TEAM_NAME} check", "type": "opportunity", "team_id": team.id, "user_id": rep.id})
        .with_env(env)
    )
    opportunity_phase = env.ref("crm_lead_handoff.crm_lifecycle_phase_opportunity")
    checks = {
        "first_activity_planned": lead.activity_ids.activity_type_id == call,
        "followup_scheduled": lead.followup_state == "scheduled",
        "stage_set_by_survey": lead.stage_id == new,
        "phase_recorded": lead.lifecycle_phase_id == opportunity_phase,
    }
    try:
        with env.cr.savepoint():
            lead.with_user(rep).write({"stage_id": qualified.id})
        checks["stage_write_refused"] = False
    except UserError:
        checks["stage_write_refused"] = True
    try:
        with env.cr.savepoint():
            lead.activity_ids.with_user(rep).action_feedback(feedback="done")
        checks["last_activity_kept"] = False
    except UserError:
        checks["last_activity_kept"] = True
    lead.activity_ids.unlink()
    lead.unlink()
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        return {"error": f"the features do not act on {TEAM_NAME}: {', '.join(failed)} ({checks})"}
    return {
        "team": team.id,
        "salesperson": rep.login,
        "policy": team.followup_policy,
        "stage_setting": team.stage_setting,
        "criteria": len(criteria),
        "sla_rules": len(rules),
        "crons": crons.mapped("name"),
        "activity_chains": len(chains),
        "phase_triggers": len(triggers),
        "handoff_route": route.display_name,
        "checks": checks,
    }


def main(db: str) -> dict:
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        [f"--database={db}", f"--addons-path={ROOT / 'odoo_addons'}", "--log-level=warn", "--no-http"],
        setup_logging=True,
    )
    with Registry.new(db).cursor() as cr:
        return _switch_on(api.Environment(cr, SUPERUSER_ID, {}))


if __name__ == "__main__":
    # tests/ holds test folders named like the plain packages (activity_centric, ...): never import from it
    HERE = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
    os.chdir("/")
    try:
        outcome = main(sys.argv[1])
    except Exception:  # noqa: BLE001 - the caller reads the error from the last line
        outcome = {"error": traceback.format_exc().strip().splitlines()[-1]}
        traceback.print_exc()
    print(json.dumps(outcome))
    sys.exit(1 if "error" in outcome else 0)
