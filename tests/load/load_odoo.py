"""The load test's steps inside the Python that runs Odoo (see run.py), on a copy of a demo database:

    python load_odoo.py prepare DB --processes 20 --url http://127.0.0.1:PORT
    python load_odoo.py check DB --since TIMESTAMP --writes FILE

`prepare` gives each simulated user process its own API key (the demo's users: ``pd_manager``,
``pd_rep_1`` ... ``pd_rep_6``; several processes share a login when there are more processes than users,
each working on its own share of the login's leads), sets the SLA rules' job and the weekly follow-up
review to run every minute from now (where our addons are installed), switches off Odoo's jobs that call
services outside the machine (IAP, odoo.com), and prints what the processes need:
keys, teams, stages, the field specifications the web client sends for the pipeline's kanban, the lead
form, My Day and the funnel report's lines, the qualification survey's questions. It commits.

`check` looks in the database for every write a user process was answered OK for (stage changes,
activities done and scheduled, qualifications, shared documents and their openings), checks the
follow-up invariant on every lead of an Enforce team with the product's own rule (``activity_centric``'s
``followup_state`` over crm_activity_centric's ``_followup_snapshot``), and that no SLA episode was acted
on twice. It prints one JSON object; ``failed`` lists the checks that failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

# the screens benchmark's Odoo plumbing: one way to open a database and read a view's specification
from bench_screens import (  # noqa: E402
    MANUAL_TEAMS,
    _view_spec,
    environment,
    form_specification,
    list_specification,
    report_action,
    superuser,
)

KEY_NAME = "make load"
CONTACT_EMAIL = "load-test-customer@example.com"
CRONS = ("crm_sla_rules.ir_cron_sla_rules", "crm_activity_centric.ir_cron_followup_digest")
# Odoo's jobs that call services outside the machine (odoo.com, IAP, push services): off in the copy, the
# load test stays on loopback
OUTBOUND_CRONS = (
    "mail.ir_cron_module_update_notification",
    "mail.ir_cron_web_push_notification",
    "sms.ir_cron_sms_scheduler_action",
    "snailmail.snailmail_print",
    "crm_iap_enrich.ir_cron_lead_enrichment",
)


def kanban_specification(env, model: str) -> dict:
    from lxml import etree  # noqa: PLC0415

    view = env[model].get_views([(False, "kanban")])["views"]["kanban"]
    return _view_spec(env, model, etree.fromstring(view["arch"]))


def followup_missing(env) -> dict:
    """The leads of Enforce teams left without a next step, by the product's own rule: the facts as
    crm_activity_centric reads them, the state as activity_centric decides it; and the leads whose stored
    state is not that state."""
    from activity_centric import MISSING, followup_state  # noqa: PLC0415

    teams = env["crm.team"].with_context(active_test=False).search([("followup_policy", "=", "enforce")])
    Lead = env["crm.lead"].with_context(active_test=False)
    leads = Lead.search([("team_id", "in", teams.ids)]).ids
    snapshot = Lead._followup_snapshot(leads)
    states = {lead_id: followup_state(facts, policy) for lead_id, (facts, policy, _s) in snapshot.items()}
    return {
        "leads": len(leads),
        "missing": sorted(lead_id for lead_id, state in states.items() if state == MISSING),
        "stale": sorted(lead_id for lead_id, state in states.items() if state != snapshot[lead_id][2]),
    }


def contact(env):
    """A customer the users share documents with (the demo's leads have none)."""
    Partner = env["res.partner"]
    found = Partner.search([("email", "=", CONTACT_EMAIL)], limit=1)
    return found or Partner.create({"name": "Load Test Customer", "email": CONTACT_EMAIL})


def prepare(db: str, processes: int, url: str) -> dict:
    with environment(db) as cr:
        env = superuser(cr)
        ours = "crm.sla.rule" in env
        users = env["res.users"].search([("login", "=like", "pd\\_%")], order="id")
        manager_group = env.ref("sales_team.group_sale_manager")
        users = users.sorted(lambda user: (manager_group not in user.all_group_ids, user.login))
        if not users:
            raise SystemExit(
                f"{db}: no demo user (pd_manager, pd_rep_1...): generate the demo pipeline first"
            )
        teams = env["crm.team"].search([])
        manual = teams.filtered(lambda team: team.name in MANUAL_TEAMS)
        survey_teams = teams.filtered(lambda team: team.stage_setting == "survey") if ours else teams.browse()
        manager = users.filtered(lambda user: manager_group in user.all_group_ids)[:1] or users[:1]
        specs = {
            "kanban": kanban_specification(env(user=manager), "crm.lead"),
            "agenda": list_specification(env(user=manager), "crm.followup.agenda") if ours else {},
            "funnel": {},
        }
        if ours:
            # the model the report's action lists (the form is rolled back)
            model = report_action(env(user=manager), "crm.stage.funnel.report", {"group_by": "stage"})[
                "res_model"
            ]
            specs["funnel"][model] = list_specification(env(user=manager), model)
        env["res.users.apikeys"].search([("name", "=", KEY_NAME)]).unlink()
        survey = {}
        if survey_teams:
            questions = survey_teams[0].qualification_survey_id.question_ids.sorted("sequence")
            survey = {
                "questions": [
                    {
                        "id": question.id,
                        "type": question.question_type,
                        "answers": question.suggested_answer_ids.ids,
                    }
                    for question in questions
                ]
            }
        by_login = {}
        for user in users:
            is_manager = manager_group in user.all_group_ids
            member = teams.filtered(lambda team, user=user: user in team.member_ids)
            led = teams.filtered(lambda team, user=user: team.user_id == user)
            by_login[user.login] = {
                "login": user.login,
                "uid": user.id,
                "role": "manager" if is_manager else "rep",
                "team_ids": (led or member).ids,
                "stage_team_ids": (manual if is_manager else member & manual).ids,
                "survey_team_ids": (survey_teams if is_manager else member & survey_teams).ids,
                "specs": {**specs, "form": form_specification(env(user=user), "crm.lead")},
            }
        common = {
            "url": url,
            "native": not ours,
            "stage_ids": env["crm.stage"]
            .search([("is_won", "=", False), ("fold", "=", False)], order="sequence, id")
            .ids,
            "activity_type_id": env.ref("mail.mail_activity_data_call").id,
            "lead_model_id": env["ir.model"]._get_id("crm.lead"),
            "survey": survey,
            "contact_id": contact(env).id,
        }
        fixtures = []
        for number in range(processes):
            user = users[number % len(users)]
            key = env(user=user)["res.users.apikeys"].sudo()._generate(None, KEY_NAME, None)
            fixtures.append(
                {
                    **common,
                    **by_login[user.login],
                    "key": key,
                    "slot": number // len(users),
                    "share": len(range(number % len(users), processes, len(users))),
                }
            )
        for xmlid in OUTBOUND_CRONS:
            cron = env.ref(xmlid, raise_if_not_found=False)
            if cron:
                cron.active = False
        crons = {}
        if ours:
            for xmlid in CRONS:
                cron = env.ref(xmlid)
                cron.write({"active": True, "interval_number": 1, "interval_type": "minutes"})
                cr.execute("UPDATE ir_cron SET nextcall = now() at time zone 'UTC' WHERE id = %s", [cron.id])
                crons[xmlid] = cron.id
        before = followup_missing(env) if ours else None
        cr.commit()
        cr.execute("SELECT (now() at time zone 'UTC')::text")
        since = cr.fetchone()[0]
    return {
        "fixtures": fixtures,
        "logins": len(users),
        "ours": ours,
        "crons": crons,
        "since": since,
        "followup_before": before and {"leads": before["leads"], "missing": len(before["missing"])},
    }


def check(db: str, since: str, writes_file: str) -> dict:
    writes = [json.loads(line) for line in Path(writes_file).read_text().splitlines() if line.strip()]
    by_kind: dict[str, list[dict]] = {}
    for write in writes:
        by_kind.setdefault(write["kind"], []).append(write)
    lost: dict[str, list] = {}
    with environment(db) as cr:
        env = superuser(cr)
        ours = "crm.sla.rule" in env
        stages = by_kind.get("stage", [])
        if stages:
            cr.execute(
                """SELECT DISTINCT m.res_id, v.new_value_integer
                     FROM mail_tracking_value v
                     JOIN mail_message m ON m.id = v.mail_message_id
                     JOIN ir_model_fields f ON f.id = v.field_id
                    WHERE m.model = 'crm.lead' AND f.model = 'crm.lead' AND f.name = 'stage_id'
                      AND m.create_date >= %s AND m.res_id = ANY(%s)""",
                [since, sorted({write["lead"] for write in stages})],
            )
            found = set(cr.fetchall())
            lost["stage changes"] = [w for w in stages if (w["lead"], w["stage"]) not in found]
        done = by_kind.get("activity_done", [])
        if done:
            cr.execute(
                "SELECT id FROM mail_activity WHERE id = ANY(%s) AND NOT active", [[w["id"] for w in done]]
            )
            found = {row[0] for row in cr.fetchall()}
            lost["activities done"] = [w for w in done if w["id"] not in found]
        created = by_kind.get("activity_created", [])
        if created:
            cr.execute(
                "SELECT id FROM mail_activity WHERE id = ANY(%s) AND res_model = 'crm.lead'",
                [[w["id"] for w in created]],
            )
            found = {row[0] for row in cr.fetchall()}
            lost["activities scheduled"] = [w for w in created if w["id"] not in found]
        qualified = by_kind.get("qualify", [])
        if qualified:
            cr.execute(
                """SELECT lead_id, access_token FROM survey_user_input
                    WHERE access_token = ANY(%s) AND state = 'done'""",
                [[w["token"] for w in qualified]],
            )
            found = set(cr.fetchall())
            lost["qualifications"] = [w for w in qualified if (w["lead"], w["token"]) not in found]
        shares = by_kind.get("share", [])
        if shares:
            cr.execute(
                "SELECT id, lead_id FROM crm_document_link WHERE id = ANY(%s)", [[w["id"] for w in shares]]
            )
            found = set(cr.fetchall())
            lost["shared documents"] = [w for w in shares if (w["id"], w["lead"]) not in found]
        opens = by_kind.get("open", [])
        if opens:
            wanted: dict[str, int] = {}
            for write in opens:
                wanted[write["token"]] = wanted.get(write["token"], 0) + 1
            cr.execute(
                """SELECT l.token, l.open_count, count(e.id) FROM crm_document_link l
                     LEFT JOIN crm_lead_customer_event e ON e.link_id = l.id
                    WHERE l.token = ANY(%s) GROUP BY l.token, l.open_count""",
                [list(wanted)],
            )
            found = {token: min(count, events) for token, count, events in cr.fetchall()}
            lost["link openings"] = [token for token, count in wanted.items() if found.get(token, 0) < count]
        result = {
            "writes": {kind: len(rows) for kind, rows in by_kind.items()},
            "lost": {what: len(rows) for what, rows in lost.items()},
            "lost_examples": {what: rows[:3] for what, rows in lost.items() if rows},
        }
        failed = [f"{what} lost: {len(rows)}" for what, rows in lost.items() if rows]
        if ours:
            followup = followup_missing(env)
            result["followup"] = {
                "enforce_leads": followup["leads"],
                "missing": len(followup["missing"]),
                "missing_examples": followup["missing"][:5],
                "stale_state": len(followup["stale"]),
            }
            if followup["missing"]:
                failed.append(
                    f"follow-up invariant: {len(followup['missing'])} Enforce leads without a next step"
                )
            if followup["stale"]:
                failed.append(
                    f"follow-up state: {len(followup['stale'])} Enforce leads with a stale stored state"
                )
            result["sla"] = sla_outcome(cr, since)
            if result["sla"]["duplicate_episodes"] or result["sla"]["acted_twice"]:
                failed.append(
                    f"SLA: {result['sla']['duplicate_episodes']} duplicate episodes, "
                    f"{result['sla']['acted_twice']} episodes acted on twice"
                )
            cr.execute(
                "SELECT cron_name, lastcall::text FROM ir_cron WHERE id IN %s",
                [tuple(env.ref(xmlid).id for xmlid in CRONS)],
            )
            result["crons_last_run"] = dict(cr.fetchall())
        result["failed"] = failed
        cr.rollback()
    return result


def sla_outcome(cr, since: str) -> dict:
    """The SLA episodes: none recorded twice (rule, lead, clock start), and none of those acted on during
    the run noted twice on its lead (the action's chatter note names the rule and the clock's start)."""
    cr.execute(
        """SELECT count(*) FILTER (WHERE n > 1) FROM (
               SELECT count(*) AS n FROM crm_sla_event GROUP BY rule_id, lead_id, clock_start) e"""
    )
    (duplicates,) = cr.fetchone()
    cr.execute("SELECT state, count(*) FROM crm_sla_event WHERE create_date >= %s GROUP BY state", [since])
    during = dict(cr.fetchall())
    cr.execute(
        """SELECT count(*) FROM (
               SELECT m.res_id, m.body FROM mail_message m
                WHERE m.model = 'crm.lead' AND m.create_date >= %s AND m.body::text LIKE %s
                GROUP BY m.res_id, m.body HAVING count(*) > 1) twice""",
        [since, "%SLA rule “%” (%"],
    )
    (twice,) = cr.fetchone()
    return {"duplicate_episodes": duplicates, "events_during_run": during, "acted_twice": twice}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["prepare", "check"])
    parser.add_argument("db")
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--url", default="")
    parser.add_argument("--since", default="")
    parser.add_argument("--writes", default="")
    args = parser.parse_args(argv)
    if args.what == "prepare":
        result = prepare(args.db, args.processes, args.url)
    else:
        result = check(args.db, args.since, args.writes)
    print(json.dumps(result, default=str))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
