"""Benchmarks of crm_activity_centric, run inside the Python that runs Odoo (see run.py).

    python bench_activity_centric.py complete DB [--leads 300] [--policy enforce]
    python bench_activity_centric.py generate DB [--leads 100000]
    python bench_activity_centric.py recompute DB

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import config

ADDONS = os.environ.get("BENCH_ADDONS") or str(Path(__file__).resolve().parents[2] / "odoo_addons")


def environment(db: str):
    config.parse_config(["--database", db, "--log-level", "warn", "--addons-path", ADDONS])
    return Registry(db).cursor()


def bench_complete(db: str, leads_count: int, policy: str) -> dict:
    """Mark one activity done per lead (each lead has two, so the policy allows it), one call each,
    as the administrator (not the superuser: the policy applies), before commit."""
    with environment(db) as cr:
        root = api.Environment(cr, odoo.SUPERUSER_ID, {})
        admin = root.ref("base.user_admin")
        team_vals = {"name": "Bench team"}
        if "followup_policy" in root["crm.team"]._fields:
            team_vals["followup_policy"] = policy
        team = root["crm.team"].create(team_vals)
        leads = (
            root["crm.lead"]
            .with_context(tracking_disable=True, mail_create_nolog=True)
            .create(
                [
                    {"name": f"Bench {i}", "type": "opportunity", "team_id": team.id}
                    for i in range(leads_count)
                ]
            )
        )
        model_id = root["ir.model"]._get_id("crm.lead")
        call = root.ref("mail.mail_activity_data_call")
        activities = root["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": lead.id,
                    "activity_type_id": call.id,
                    "user_id": admin.id,
                }
                for lead in leads
                for _ in range(2)
            ]
        )
        cr.commit()
        env = api.Environment(cr, admin.id, {})
        first = env["mail.activity"].browse(activities.ids[::2])
        env.invalidate_all()
        queries, seconds = [], []
        for activity in first:
            before = cr.sql_log_count
            start = time.perf_counter()
            activity.action_feedback(feedback="done")
            env.flush_all()
            seconds.append(time.perf_counter() - start)
            queries.append(cr.sql_log_count - before)
        total = sum(seconds)
        cr.rollback()
        leads.unlink()
        team.unlink()
        cr.commit()
    return {
        "completions": leads_count,
        "queries_median": statistics.median(queries),
        "queries_max": max(queries),
        "ms_median": statistics.median(seconds) * 1000,
        "total_s": total,
    }


def generate(db: str, leads_count: int) -> dict:
    """Leads and activities straight in SQL: a third with two activities, a third with one, a third none."""
    with environment(db) as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        stage = env["crm.stage"].search([("is_won", "=", False)], order="sequence", limit=1)
        model_id = env["ir.model"]._get_id("crm.lead")
        call = env.ref("mail.mail_activity_data_call")
        start = time.perf_counter()
        cr.execute(
            """INSERT INTO crm_lead (name, type, stage_id, active, create_date, write_date, create_uid,
                                     write_uid, company_id, probability, priority, color, user_id)
               SELECT 'Followup ' || g, 'opportunity', %(stage)s, g %% 10 <> 0, now(), now(), 1, 1, 1, 10,
                      '0', 0, 2
                 FROM generate_series(1, %(n)s) g""",
            {"stage": stage.id, "n": leads_count},
        )
        cr.execute(
            """INSERT INTO mail_activity (res_model_id, res_model, res_id, activity_type_id, user_id,
                                          date_deadline, active, create_uid, create_date, write_uid,
                                          write_date)
               SELECT %(model)s, 'crm.lead', l.id, %(call)s, 2, CURRENT_DATE + c, true, 1, now(), 1, now()
                 FROM crm_lead l CROSS JOIN generate_series(1, 2) c
                WHERE l.name LIKE 'Followup %%' AND c <= l.id %% 3""",
            {"model": model_id, "call": call.id},
        )
        cr.execute("ANALYZE crm_lead; ANALYZE mail_activity")
        cr.commit()
    return {"leads": leads_count, "generate_s": time.perf_counter() - start}


def recompute(db: str) -> dict:
    """The state of every lead, filled as the install does (set-based) and recomputed by the ORM."""
    with environment(db) as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        leads = env["crm.lead"].with_context(active_test=False).search([])
        cr.execute("SELECT followup_state, count(*) FROM crm_lead GROUP BY 1 ORDER BY 1")
        at_install = dict(cr.fetchall())
        cr.execute("UPDATE crm_lead SET followup_state = NULL")
        start = time.perf_counter()
        env["crm.lead"]._followup_fill_all()
        fill_seconds = time.perf_counter() - start
        cr.execute("SELECT followup_state, count(*) FROM crm_lead GROUP BY 1 ORDER BY 1")
        filled = dict(cr.fetchall())
        cr.execute("UPDATE crm_lead SET followup_state = NULL")
        env.invalidate_all()
        start = time.perf_counter()
        env.add_to_compute(env["crm.lead"]._fields["followup_state"], leads)
        env.flush_all()
        seconds = time.perf_counter() - start
        cr.execute("SELECT followup_state, count(*) FROM crm_lead GROUP BY 1 ORDER BY 1")
        again = dict(cr.fetchall())
        cr.rollback()
    return {
        "leads": len(leads),
        "install_fill_s": fill_seconds,
        "orm_recompute_s": seconds,
        "states": at_install,
        "fill_matches_orm": filled == again == at_install,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["complete", "generate", "recompute"])
    parser.add_argument("db")
    parser.add_argument("--leads", type=int)
    parser.add_argument("--policy", default="enforce")
    args = parser.parse_args(argv)
    if args.what == "complete":
        result = bench_complete(args.db, args.leads or 300, args.policy)
    elif args.what == "generate":
        result = generate(args.db, args.leads or 100_000)
    else:
        result = recompute(args.db)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
