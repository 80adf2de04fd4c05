"""Benchmarks of crm_lead_handoff, run inside the Python that runs Odoo (see run.py's ``handoff`` section).

    python bench_lead_handoff.py generate DB [--leads 200000]
    python bench_lead_handoff.py waterfall DB [--repeat 3]
    python bench_lead_handoff.py writes DB [--repeat 5]

`generate` writes, in SQL, ``--leads`` leads (three teams, ten salespersons, sources, mediums, campaigns,
countries) with five lifecycle phase stays each (1,000,000 for 200,000 leads: some still open in a phase,
some recycled, lost or won) and one handoff each (accepted, some by default, or rejected with a reason),
then commits. `waterfall` times the Demand Waterfall as a sales manager, whole period, per phase and per team
and month: the read its list makes, which computes the report (``crm.lead.phase.history._phase_stays`` and
``_handoffs``, then ``funnel_metrics.waterfall``), warm (one untimed call, then the median of ``--repeat``),
with an empty cache as a new request has, and the CPU seconds it used in this process and in its PostgreSQL
backend (what it takes on a machine doing nothing else); the read of the tables and the waterfall alone
are timed too.
`writes` times ``crm.lead.phase.history._record_moves`` (every phase write of the addon goes through it) on
batches of 10, 100 and 1,000 leads: seconds and queries (``cr.sql_log_count``), median of ``--repeat``,
each rolled back. Each prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ADDONS = str(Path(__file__).resolve().parents[2] / "odoo_addons")
GOAL_S = 2.0
STAYS_PER_LEAD = 5
BATCHES = (10, 100, 1000)
# the phases of each path (lead id modulo 4), by code; each lead has STAYS_PER_LEAD stays
PATHS = (
    ("inquiry", "mql", "sal", "sql", "opportunity"),  # still an opportunity
    ("inquiry", "mql", "recycled", "inquiry", "mql"),  # rejected, recycled, back in Marketing Qualified
    ("inquiry", "mql", "sal", "sql", "lost"),
    ("inquiry", "mql", "sal", "opportunity", "won"),
)
# the handoff of each path, from Marketing Qualified: its state (decided when the lead left it)
HANDOFF_STATES = ("accepted", "rejected", "accepted", "accepted")


def environment(db: str):
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["--database", db, "--log-level", "warn", "--addons-path", ADDONS])
    return Registry(db).cursor()


def superuser(cr):
    from odoo import SUPERUSER_ID, api  # noqa: PLC0415

    return api.Environment(cr, SUPERUSER_ID, {})


def generate(db: str, leads: int) -> dict:
    """The leads, their phase stays and handoffs, in SQL; the records they refer to through the ORM."""
    from odoo.tests import new_test_user  # noqa: PLC0415

    with environment(db) as cr:
        env = superuser(cr)
        env = env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True))
        started = time.perf_counter()
        manager = new_test_user(env, login="bench_manager", groups="sales_team.group_sale_manager")
        users = [
            new_test_user(env, login=f"bench_rep_{i}", groups="sales_team.group_sale_salesman")
            for i in range(10)
        ]
        teams = env["crm.team"].create([{"name": f"Bench Team {i}"} for i in range(3)])
        sources = env["utm.source"].create([{"name": f"Bench Source {i}"} for i in range(5)])
        mediums = env["utm.medium"].create([{"name": f"Bench Medium {i}"} for i in range(3)])
        campaigns = env["utm.campaign"].create(
            [{"title": f"Bench Campaign {i}", "cost": 1000 * (i + 1)} for i in range(10)]
        )
        countries = env["res.country"].search([], limit=10, order="id")
        phases = {phase.code: phase.id for phase in env["crm.lifecycle.phase"].search([])}
        reasons = env["crm.handoff.reject.reason"].search([], order="sequence, id").ids
        route = env["crm.handoff.route"].create(
            {
                "name": "Bench: marketing to inside sales",
                "from_team_ids": [(6, 0, teams[:1].ids)],
                "to_kind": "team",
                "to_team_id": teams[1].id,
                "from_phase_id": phases["mql"],
                "accept_phase_id": phases["sal"],
            }
        )
        env.flush_all()
        cr.execute(
            """INSERT INTO crm_lead (name, type, active, create_date, write_date, create_uid, write_uid,
                                     company_id, team_id, user_id, source_id, medium_id, campaign_id,
                                     country_id, probability, priority, color)
               SELECT 'Waterfall ' || g, 'lead', true,
                      now() at time zone 'UTC' - interval '400 days' + g * (interval '240 days' / %(n)s),
                      now() at time zone 'UTC', 1, 1, 1,
                      (%(teams)s::int[])[1 + g %% 3], (%(users)s::int[])[1 + g %% 10],
                      (%(sources)s::int[])[1 + g %% 5], (%(mediums)s::int[])[1 + g %% 3],
                      (%(campaigns)s::int[])[1 + g %% 10], (%(countries)s::int[])[1 + g %% 10],
                      10, '0', 0
                 FROM generate_series(1, %(n)s) g""",
            {
                "n": leads,
                "teams": teams.ids,
                "users": [user.id for user in users],
                "sources": sources.ids,
                "mediums": mediums.ids,
                "campaigns": campaigns.ids,
                "countries": countries.ids,
            },
        )
        # the stays: path (lead id modulo 4), step; a stay lasts 1 to 9 days (by lead); the last one of the
        # first two paths is still open, a won or lost stay ends as it starts
        path_rows = [
            (path, step, phases[code], step == STAYS_PER_LEAD - 1 and path < 2)
            for path, codes in enumerate(PATHS)
            for step, code in enumerate(codes)
        ]
        cr.execute(
            """CREATE TEMP TABLE bench_path (path int, step int, phase_id int, open bool);
               INSERT INTO bench_path SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], %s::bool[])""",
            [list(column) for column in zip(*path_rows, strict=True)],
        )
        cr.execute(
            """INSERT INTO crm_lead_phase_history (
                   lead_id, phase_id, previous_phase_id, date_in, date_out, is_current, duration_hours,
                   user_id, team_id, company_id, changed_by_id, origin,
                   create_uid, create_date, write_uid, write_date)
               SELECT l.id, p.phase_id, NULL, s.date_in,
                      CASE WHEN p.open THEN NULL
                           WHEN p.step = %(last)s THEN s.date_in
                           ELSE s.date_in + s.days END,
                      p.open, CASE WHEN p.open THEN NULL ELSE 0 END,
                      l.user_id, l.team_id, l.company_id, 1, 'backfill', 1, now(), 1, now()
                 FROM crm_lead l
                 JOIN bench_path p ON p.path = l.id %% 4
           CROSS JOIN LATERAL (SELECT l.create_date + p.step * (1 + l.id %% 9) * interval '1 day' AS date_in,
                                      (1 + l.id %% 9) * interval '1 day' AS days) s
                WHERE l.name LIKE 'Waterfall %%'""",
            {"last": STAYS_PER_LEAD - 1},
        )
        stays = cr.rowcount
        cr.execute(
            """UPDATE crm_lead l SET lifecycle_phase_id = h.phase_id, lifecycle_phase_date = h.date_in
                 FROM (SELECT DISTINCT ON (lead_id) lead_id, phase_id, date_in FROM crm_lead_phase_history
                        ORDER BY lead_id, date_in DESC, id DESC) h
                WHERE h.lead_id = l.id AND l.name LIKE 'Waterfall %%'"""
        )
        # one handoff per lead, sent from Marketing Qualified half a day before it left it
        cr.execute(
            """INSERT INTO crm_lead_handoff (
                   lead_id, route_id, company_id, sender_id, from_team_id, to_team_id, phase_id, state,
                   date_sent, date_decided, decided_by_id, auto_accepted, reason_id,
                   create_uid, create_date, write_uid, write_date)
               SELECT l.id, %(route)s, l.company_id, %(manager)s, l.team_id, %(to_team)s, h.phase_id,
                      (%(states)s::varchar[])[1 + l.id %% 4],
                      h.date_out - interval '12 hours', h.date_out, %(manager)s, l.id %% 12 = 0,
                      CASE WHEN l.id %% 4 = 1 THEN (%(reasons)s::int[])[1 + l.id %% %(nreasons)s] END,
                      1, now(), 1, now()
                 FROM crm_lead l
                 JOIN crm_lead_phase_history h ON h.lead_id = l.id AND h.phase_id = %(mql)s
                                              AND h.date_out IS NOT NULL
                WHERE l.name LIKE 'Waterfall %%'""",
            {
                "route": route.id,
                "manager": manager.id,
                "to_team": teams[1].id,
                "states": list(HANDOFF_STATES),
                "reasons": reasons,
                "nreasons": len(reasons),
                "mql": phases["mql"],
            },
        )
        handoffs = cr.rowcount
        cr.execute("ANALYZE crm_lead; ANALYZE crm_lead_phase_history; ANALYZE crm_lead_handoff")
        cr.commit()
        return {
            "leads": leads,
            "stays": stays,
            "handoffs": handoffs,
            "seconds": round(time.perf_counter() - started, 1),
        }


def _backend_cpu(pid: int) -> float:
    """CPU seconds (user + system) a PostgreSQL backend used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _median_call(cr, env, call, repeat: int) -> dict:
    """Median seconds and queries of ``call(env)``, warm: one untimed call, each with an empty cache; and
    the CPU seconds of this process and of its PostgreSQL backend during the call (the time the call takes
    on a machine that does nothing else: the two alternate)."""
    cr.execute("SELECT pg_backend_pid()")
    backend = cr.fetchone()[0]
    times, queries, cpu = [], [], []
    for run in range(repeat + 1):
        env.invalidate_all()
        cr.cache.clear()
        before, started = cr.sql_log_count, time.perf_counter()
        cpu_before = time.process_time() + _backend_cpu(backend)
        call(env)
        seconds, count = time.perf_counter() - started, cr.sql_log_count - before
        if run:
            times.append(seconds)
            queries.append(count)
            cpu.append(time.process_time() + _backend_cpu(backend) - cpu_before)
    return {
        "s": round(statistics.median(times), 3),
        "queries": int(statistics.median(queries)),
        "cpu_s": round(statistics.median(cpu), 3),
    }


def waterfall(db: str, repeat: int) -> dict:
    """The Demand Waterfall as a sales manager: the list's read of its lines, the tables' read alone and
    the waterfall computed on them alone."""
    import funnel_metrics  # noqa: PLC0415

    with environment(db) as cr:
        admin = superuser(cr)
        manager = admin["res.users"].search([("login", "=", "bench_manager")])
        env = admin(user=manager.id)
        results = {
            "stays": admin["crm.lead.phase.history"].search_count([]),
            "handoffs": admin["crm.lead.handoff"].search_count([]),
        }
        for name, vals in (
            ("phase", {}),
            ("team_month", {"group_by": "team", "period": "month"}),
        ):
            action = env["crm.waterfall.report.form"].create(vals).action_show()
            Line = env["crm.waterfall.report"].with_context(**action["context"])

            def read(_env, Line=Line):
                lines = Line.search([])
                lines.fetch(["phase_id", "entered", "conversion_rate", "median_days", "acceptance_rate"])
                return lines

            results[f"report_{name}"] = _median_call(cr, env, read, repeat)
            results[f"lines_{name}"] = len(read(env))
        form = env["crm.waterfall.report.form"].create({})
        results["read_tables"] = _median_call(cr, env, lambda _env: form._tables(()), repeat)
        stays, handoffs = form._tables(())
        now = admin.cr.now()
        started = time.perf_counter()
        funnel_metrics.waterfall(stays, handoffs, as_of=now)
        results["waterfall_s"] = round(time.perf_counter() - started, 3)
        cr.rollback()
    results["goal_s"] = GOAL_S
    return results


def writes(db: str, repeat: int) -> dict:
    """``_record_moves`` on batches of leads: seconds and queries per batch size, each run rolled back."""
    with environment(db) as cr:
        env = superuser(cr)
        History = env["crm.lead.phase.history"]
        phase = env["crm.lifecycle.phase"].search([("code", "=", "sql")])
        lead_ids = (
            env["crm.lead"].search([("name", "=like", "Waterfall %")], limit=max(BATCHES), order="id").ids
        )
        results = {}
        for size in BATCHES:
            times, queries = [], []
            for _run in range(repeat):
                env.invalidate_all()
                moves = dict.fromkeys(lead_ids[:size], (phase.id, "correction", None))
                before, started = cr.sql_log_count, time.perf_counter()
                History._record_moves(moves)
                env.flush_all()
                times.append(time.perf_counter() - started)
                queries.append(cr.sql_log_count - before)
                cr.rollback()
            results[str(size)] = {
                "s": round(statistics.median(times), 4),
                "queries": int(statistics.median(queries)),
            }
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["generate", "waterfall", "writes"])
    parser.add_argument("db")
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.what == "generate":
        result = generate(args.db, args.leads)
    elif args.what == "waterfall":
        result = waterfall(args.db, args.repeat)
    else:
        result = writes(args.db, args.repeat)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
