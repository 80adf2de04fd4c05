"""Benchmarks of crm_stage_history, run inside the Python that runs Odoo (see run.py).

    python bench_stage_history.py write DB [--leads 1000] [--repeat 5] [--history 200000]
    python bench_stage_history.py backfill DB [--leads 100000] [--changes 3]

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import config

ADDONS = str(Path(__file__).resolve().parents[2] / "odoo_addons")


def environment(db: str):
    config.parse_config(["--database", db, "--log-level", "warn", "--addons-path", ADDONS])
    registry = Registry(db)
    return registry.cursor()


HISTORY_STAYS_PER_LEAD = 4


def generate_history(cr, stays: int, stage_ids: list[int], team_id: int) -> None:
    """``stays`` stays of ``stays / 4`` open opportunities, written in SQL (the leads alone where
    crm_stage_history is not installed): the write below then maintains tables and indexes of a real size."""
    cr.execute(
        """INSERT INTO crm_lead (name, type, stage_id, team_id, active, create_date, write_date, create_uid,
                                 write_uid, company_id, probability, priority, color)
           SELECT 'History ' || g, 'opportunity',
                  (%(stages)s::int[])[1 + (%(per)s - 1) %% array_length(%(stages)s::int[], 1)], %(team)s,
                  true, now() - interval '400 days' + g * interval '1 minute', now(), 1, 1, 1, 10, '0', 0
             FROM generate_series(1, %(leads)s) g""",
        {
            "stages": stage_ids,
            "per": HISTORY_STAYS_PER_LEAD,
            "team": team_id,
            "leads": stays // HISTORY_STAYS_PER_LEAD,
        },
    )
    cr.execute("SELECT to_regclass('crm_lead_stage_history') IS NOT NULL")
    if cr.fetchone()[0]:
        cr.execute(
            """INSERT INTO crm_lead_stage_history (
                   lead_id, stage_id, previous_stage_id, date_in, date_out, is_current, duration_hours,
                   user_id, team_id, company_id, changed_by_id, origin, skipped_stage_count, lead_type,
                   expected_revenue, probability, create_uid, create_date, write_uid, write_date)
               SELECT l.id, (%(stages)s::int[])[1 + s %% array_length(%(stages)s::int[], 1)], NULL,
                      l.create_date + s * interval '5 days',
                      CASE WHEN s < %(last)s THEN l.create_date + (s + 1) * interval '5 days' END,
                      s = %(last)s, CASE WHEN s < %(last)s THEN 120.0 END,
                      NULL, l.team_id, 1, 1, 'manual', 0, 'opportunity', 0, 10, 1, now(), 1, now()
                 FROM crm_lead l CROSS JOIN generate_series(0, %(last)s) s
                WHERE l.name LIKE 'History %%'""",
            {"stages": stage_ids, "last": HISTORY_STAYS_PER_LEAD - 1},
        )
    cr.execute("ANALYZE")


def bench_write(db: str, leads_count: int, repeat: int, history: int = 0) -> dict:
    """One write({'stage_id'}) on N opportunities: before commit (flush) and with the commit's tracking."""
    with environment(db) as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        stages = env["crm.stage"].search([("is_won", "=", False)], order="sequence", limit=2)
        team = env["crm.team"].search([], limit=1)
        if history:
            generate_history(cr, history, stages.ids, team.id)
            cr.commit()
        leads = (
            env["crm.lead"]
            .with_context(tracking_disable=True, mail_create_nolog=True)
            .create(
                [
                    {
                        "name": f"Bench {i}",
                        "type": "opportunity",
                        "stage_id": stages[0].id,
                        "team_id": team.id,
                    }
                    for i in range(leads_count)
                ]
            )
        )
        leads = env["crm.lead"].browse(leads.ids)  # the writes below are tracked, as in real use
        env.flush_all()
        cr.commit()
        write_times, commit_times, queries = [], [], []
        for run in range(repeat):
            target = stages[(run + 1) % 2]
            env.invalidate_all()
            cr.precommit.clear()
            start_queries = cr.sql_log_count
            start = time.perf_counter()
            leads.write({"stage_id": target.id})
            env.flush_all()
            written = time.perf_counter()
            queries.append(cr.sql_log_count - start_queries)
            cr.precommit.run()
            env.flush_all()
            done = time.perf_counter()
            write_times.append(written - start)
            commit_times.append(done - start)
            cr.commit()
        leads.unlink()
        cr.execute("DELETE FROM crm_lead WHERE name LIKE 'History %%'")
        cr.commit()
    return {
        "leads": leads_count,
        "history": history,
        "write_s": statistics.median(write_times),
        "write_and_tracking_s": statistics.median(commit_times),
        "write_queries": statistics.median(queries),
    }


def bench_backfill(db: str, leads_count: int, changes: int) -> dict:
    """Backfill of N leads with ``changes`` tracked stage changes each, against an INSERT ... SELECT floor."""
    with environment(db) as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        stage_ids = env["crm.stage"].search([("is_won", "=", False)], order="sequence").ids
        field_id = env["ir.model.fields"]._get("crm.lead", "stage_id").id
        started = time.perf_counter()
        cr.execute(
            """INSERT INTO crm_lead (name, type, stage_id, active, create_date, write_date, create_uid,
                                     write_uid, company_id, probability, priority, color)
               SELECT 'Backfill ' || g, 'opportunity', %(first)s, true,
                      now() - interval '200 days' + g * interval '1 minute', now(), 1, 1, 1, 10, '0', 0
                 FROM generate_series(1, %(n)s) g""",
            {"first": stage_ids[0], "n": leads_count},
        )
        cr.execute(
            """CREATE TEMP TABLE bench_moves AS
               SELECT l.id AS lead_id, c AS step, l.create_date + c * interval '3 days' AS date,
                      (%(stages)s::int[])[1 + (c - 1) %% array_length(%(stages)s::int[], 1)] AS old_stage,
                      (%(stages)s::int[])[1 + c %% array_length(%(stages)s::int[], 1)] AS new_stage
                 FROM crm_lead l CROSS JOIN generate_series(1, %(changes)s) c
                WHERE l.name LIKE 'Backfill %%'""",
            {"stages": stage_ids, "changes": changes},
        )
        # a temp table has no statistics until analysed: without them the joins below can go quadratic
        cr.execute("CREATE INDEX ON bench_moves (lead_id, step); ANALYZE bench_moves")
        cr.execute(
            """WITH msg AS (
                   INSERT INTO mail_message (model, res_id, message_type, date, create_uid, create_date, body)
                   SELECT 'crm.lead', lead_id, 'notification', date, 1, date, step::text FROM bench_moves
                   RETURNING id, res_id, body)
               INSERT INTO mail_tracking_value (field_id, mail_message_id, old_value_integer,
                                                new_value_integer,
                                                create_uid, create_date)
               SELECT %(field)s, msg.id, m.old_stage, m.new_stage, 1, m.date
                 FROM msg JOIN bench_moves m ON m.lead_id = msg.res_id AND m.step::text = msg.body""",
            {"field": field_id},
        )
        cr.execute(
            "UPDATE crm_lead SET stage_id = m.new_stage FROM bench_moves m "
            "WHERE m.lead_id = crm_lead.id AND m.step = %s",
            [changes],
        )
        cr.execute("ANALYZE crm_lead; ANALYZE mail_message; ANALYZE mail_tracking_value")
        generated = time.perf_counter() - started
        cr.commit()

        History = env["crm.lead.stage.history"]
        start = time.perf_counter()
        written = History._backfill()
        backfill_s = time.perf_counter() - start
        cr.rollback()

        # floor: one plain row per tracked change, no window function, no stage ordering
        start = time.perf_counter()
        cr.execute(
            """INSERT INTO crm_lead_stage_history (lead_id, stage_id, previous_stage_id, date_in, origin)
               SELECT m.res_id, v.new_value_integer, v.old_value_integer, m.date, 'backfill'
                 FROM mail_tracking_value v JOIN mail_message m ON m.id = v.mail_message_id
                WHERE m.model = 'crm.lead' AND v.field_id = %s""",
            [field_id],
        )
        floor_rows = cr.rowcount
        floor_s = time.perf_counter() - start
        cr.rollback()

        cr.execute(
            "DELETE FROM mail_message WHERE model = 'crm.lead' AND id IN ("
            "SELECT mail_message_id FROM mail_tracking_value WHERE field_id = %s)",
            [field_id],
        )
        cr.execute("DELETE FROM crm_lead WHERE name LIKE 'Backfill %%'")
        cr.commit()
    return {
        "leads": leads_count,
        "tracked_changes": leads_count * changes,
        "generate_s": generated,
        "backfill_s": backfill_s,
        "backfill_rows": written,
        "floor_s": floor_s,
        "floor_rows": floor_rows,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["write", "backfill"])
    parser.add_argument("db")
    parser.add_argument("--leads", type=int)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--changes", type=int, default=3)
    parser.add_argument("--history", type=int, default=0, help="stays generated first (write)")
    args = parser.parse_args(argv)
    if args.what == "write":
        result = bench_write(args.db, args.leads or 1000, args.repeat, args.history)
    else:
        result = bench_backfill(args.db, args.leads or 100_000, args.changes)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
