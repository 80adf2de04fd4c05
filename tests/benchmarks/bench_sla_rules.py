"""Benchmarks of crm_sla_rules, run inside the Python that runs Odoo (see run.py).

    python bench_sla_rules.py generate DB [--leads 100000] [--small 10000]
    python bench_sla_rules.py run DB
    python bench_sla_rules.py race DB
    python bench_sla_rules.py cron DB          (one scheduled run; `race` starts two of them)

`generate` sets up teams, members and 10 active rules through the ORM, then inserts open leads set-based
around each rule's own cutoffs (about 1.2 % of the leads a rule watches past its breach cutoff, 0.6 % in
its warning window), and measures the selection phase (`_sla_select` of every rule) on the first
``--small`` leads and on all of them. `run` times the cron (real commits) and a rerun; `race` runs two
crons at once in two processes on the same committed data and checks that nothing was done twice.

Lead names say what is expected of each lead (``SLA breach …``, ``SLA warn …``, ``SLA ok …``), so the
checks compare the events with the data as generated. Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import odoo
from odoo import api, fields, sql_db
from odoo.modules.registry import Registry
from odoo.tools import config
from odoo.tools.misc import Callbacks
from psycopg2.extensions import TransactionRollbackError

ADDONS = os.environ.get("BENCH_ADDONS") or str(Path(__file__).resolve().parents[2] / "odoo_addons")

# Per mille of the leads a rule watches that are past its breach cutoff, and in its warning window.
BREACH_PER_MILLE = 12
WARN_PER_MILLE = 6

# The 10 rules: name; scope (team, lead type, stage); clock; threshold and unit; warning (before, mode);
# action and its parameters. Scopes do not overlap: each lead is watched by one rule at most, so the expected
# outcome of every lead is known when it is generated. Leads moved by an action land in the "marketing"
# team, which no rule watches, so a rerun has nothing to do.
RULE_FIELDS = (
    "name",
    "team",
    "lead_type",
    "stage",
    "clock",
    "threshold",
    "unit",
    "warning_before",
    "warning_mode",
    "action",
    "parameters",
)
# fmt: off
RULES = [dict(zip(RULE_FIELDS, values, strict=True)) for values in (
    ("Direct: reassign untouched new deals", "direct", "opportunity", "new",
     "last_action", 4, "business_days", 1, "activity", "reassign", {"reassign_mode": "round_robin"}),
    ("Inside: new deals to the leader", "inside", "opportunity", "new",
     "assignment", 8, "business_hours", 2, "message", "reassign", {"reassign_mode": "team_leader"}),
    ("Direct: stale qualified back to marketing", "direct", "opportunity", "qualified",
     "stage_entry", 20, "business_days", 0, "activity", "return_to_marketing",
     {"target_team": "marketing", "tags": True}),
    ("Inside: proposals unmoved 60 days are lost", "inside", "opportunity", "proposition",
     "stage_entry", 60, "days", 7, "message", "mark_lost", {}),
    ("Partners: archive old leads", "partners", "lead", "new",
     "create", 90, "days", 0, "activity", "archive", {}),
    ("Inside: escalate idle qualified deals", "inside", "opportunity", "qualified",
     "last_action", 48, "hours", 12, "activity", "escalate", {}),
    ("Partners: pull back idle new deals", "partners", "opportunity", "new",
     "last_action", 10, "days", 2, "message", "pull_back", {"target_team": "marketing"}),
    ("Direct: escalate leads not qualified", "direct", "lead", "new",
     "create", 2, "business_days", 0, "activity", "escalate", {}),
    ("Partners: reassign slow proposals", "partners", "opportunity", "proposition",
     "assignment", 5, "business_days", 1, "activity", "reassign", {"reassign_mode": "round_robin"}),
    ("Inside: escalate idle leads", "inside", "lead", "new",
     "last_action", 16, "business_hours", 4, "message", "escalate", {}),
)]
# fmt: on
# cells without a rule: their leads must never be touched
UNWATCHED = [("direct", "opportunity", "proposition"), ("partners", "opportunity", "qualified")]
CLOCK_COLUMNS = {
    "stage_entry": "date_last_stage_update",
    "create": "create_date",
    "assignment": "date_open",
    "last_action": "sla_last_action_date",
}
# the clock columns of a lead, given the value ``v`` of its rule's clock column (the key) and ``d`` days:
# created, assigned, entered its stage and acted on in that order (assignment is not an action)
LEAD_COLUMNS = ("create_date", "date_open", "date_last_stage_update", "sla_last_action_date")
COLUMN_VALUES = {
    "create_date": ("v", "v", "v", "v"),
    "date_open": ("v - d", "v", "v - d", "v - d"),
    "date_last_stage_update": ("v - d", "v - d", "v", "v"),
    "sla_last_action_date": ("v - d", "v - d", "v - d", "v"),
}
PHASES = ("_sla_select", "_sla_claim", "_sla_act", "_sla_warn")


def environment(db: str):
    config.parse_config(["--database", db, "--log-level", "warn", "--addons-path", ADDONS])
    return Registry(db).cursor()


# ----------------------------------------------------------------------------------------------------
# generate
# ----------------------------------------------------------------------------------------------------


def setup(env) -> dict:
    """Teams with a leader and members, a public holiday, and the 10 rules, through the ORM."""
    users_model = env["res.users"].with_context(no_reset_password=True, mail_create_nolog=True)
    salesman = env.ref("sales_team.group_sale_salesman")
    manager = env.ref("sales_team.group_sale_manager")
    teams = {"direct": env.ref("sales_team.team_sales_department")}
    for key, name in (("inside", "Inside Sales"), ("partners", "Partners"), ("marketing", "Marketing")):
        teams[key] = env["crm.team"].create({"name": name})
    users = {}
    for key in ("direct", "inside", "partners"):
        leader = users_model.create(
            {"name": f"Leader {key}", "login": f"sla_leader_{key}", "group_ids": [(6, 0, [manager.id])]}
        )
        reps = users_model.create(
            [
                {
                    "name": f"Rep {key} {i}",
                    "login": f"sla_rep_{key}_{i}",
                    "group_ids": [(6, 0, [salesman.id])],
                }
                for i in range(1, 4)
            ]
        )
        teams[key].write({"user_id": leader.id, "use_leads": True, "use_opportunities": True})
        env["crm.team.member"].create([{"crm_team_id": teams[key].id, "user_id": rep.id} for rep in reps])
        # the inside team's leader owns a quarter of its leads: "to the leader" fails on those
        users[key] = reps.ids + ([leader.id] if key == "inside" else [])
    teams["marketing"].write({"user_id": env.ref("base.user_admin").id, "use_leads": True})

    company = env.company
    calendar = company.resource_calendar_id
    holiday = fields.Date.today() - timedelta(days=14)
    while holiday.weekday() >= 5:
        holiday -= timedelta(days=1)
    env["resource.calendar.leaves"].create(
        {
            "name": "Bench public holiday",
            "calendar_id": calendar.id,
            "company_id": company.id,
            "date_from": datetime.combine(holiday, datetime.min.time()),
            "date_to": datetime.combine(holiday, datetime.max.time().replace(microsecond=0)),
            "time_type": "leave",
        }
    )
    stages = {
        "new": env.ref("crm.stage_lead1"),
        "qualified": env.ref("crm.stage_lead2"),
        "proposition": env.ref("crm.stage_lead3"),
    }
    env["crm.sla.rule"].search([]).write({"active": False})  # only the 10 rules below run
    admin_env = env(user=env.ref("base.user_admin"))
    vals_list = []
    for sequence, spec in enumerate(RULES, start=1):
        parameters = spec["parameters"]
        vals = {
            "name": spec["name"],
            "sequence": sequence,
            "team_ids": [(6, 0, teams[spec["team"]].ids)],
            "lead_type": spec["lead_type"],
            "stage_ids": [(6, 0, stages[spec["stage"]].ids)],
            "clock": spec["clock"],
            "threshold": spec["threshold"],
            "unit": spec["unit"],
            "warning_before": spec["warning_before"],
            "warning_mode": spec["warning_mode"],
            "action": spec["action"],
            "reassign_mode": parameters.get("reassign_mode", "round_robin"),
        }
        if parameters.get("target_team"):
            vals["target_team_id"] = teams[parameters["target_team"]].id
        if parameters.get("tags"):
            vals["tag_ids"] = [(6, 0, env.ref("crm_sla_rules.crm_tag_sla_nurture").ids)]
        if spec["action"] == "mark_lost":
            vals["lost_reason_id"] = env.ref("crm_sla_rules.crm_lost_reason_sla_stalled").id
        if spec["action"] == "escalate":
            vals["escalate_activity_type_id"] = env.ref("mail.mail_activity_data_todo").id
        if spec["warning_before"] and spec["warning_mode"] == "activity":
            vals["warning_activity_type_id"] = env.ref("mail.mail_activity_data_call").id
        vals_list.append(vals)
    rules = admin_env["crm.sla.rule"].create(vals_list)
    return {"teams": teams, "users": users, "stages": stages, "rules": rules.sudo()}


def cells(env, made: dict, now: datetime) -> list[dict]:
    """One cell per (team, lead type, stage): its rule's cutoffs (from the addon itself) or none."""
    result = []
    for rule, spec in zip(made["rules"], RULES, strict=True):
        ((calendar, _companies),) = rule._sla_calendar_groups()
        limits = rule._sla_cutoffs(calendar, now)
        act = limits.act
        warn = limits.warn or act
        result.append(
            {
                "key": (spec["team"], spec["lead_type"], spec["stage"]),
                "column": CLOCK_COLUMNS[spec["clock"]],
                "act": act,
                "warn": warn,
                "breach": BREACH_PER_MILLE,
                "warned": WARN_PER_MILLE if rule.warning_before else 0,
            }
        )
    for key in UNWATCHED:
        old = now - timedelta(days=400)
        result.append(
            {"key": key, "column": "sla_last_action_date", "act": old, "warn": old, "breach": 0, "warned": 0}
        )
    return result


def insert_leads(env, made: dict, cell_list: list[dict], first: int, last: int, now: datetime) -> None:
    """Leads ``first``..``last`` set-based: lead ``g`` is number ``k = g / cells`` of cell ``g % cells``;
    its bucket ``k * 7919 % 1000`` puts it past the breach cutoff, in the warning window or fresh, and ``k``
    also picks its salesperson and how long before its clock start it was created."""
    cr = env.cr
    count = len(cell_list)
    for index, cell in enumerate(cell_list):
        team_key, lead_type, stage_key = cell["key"]
        columns = dict(zip(LEAD_COLUMNS, COLUMN_VALUES[cell["column"]], strict=True))
        cr.execute(
            f"""
            WITH picked AS (
                SELECT g, k, k * 7919 %% 1000 AS b
                  FROM generate_series(%(first)s, %(last)s) g, LATERAL (SELECT g / %(count)s AS k) n
                 WHERE g %% %(count)s = %(index)s
            ), placed AS (
                SELECT g, k, b, (1 + k %% 30) * interval '1 day' AS d,
                       CASE WHEN b < %(breach)s THEN 'breach' WHEN b < %(breach)s + %(warned)s THEN 'warn'
                            ELSE 'ok' END AS kind,
                       CASE WHEN b < %(breach)s
                                 THEN %(act)s - interval '2 hours'
                                      - (b / greatest(%(breach)s, 1)::float) * interval '20 days'
                            WHEN b < %(breach)s + %(warned)s
                                 THEN %(act)s + (%(warn)s - %(act)s)
                                      * (0.1 + 0.8 * (b - %(breach)s) / greatest(%(warned)s, 1)::float)
                            ELSE %(warn)s + (%(now)s - %(warn)s)
                                 * (0.1 + 0.8 * (b - %(breach)s - %(warned)s)
                                    / (1000 - %(breach)s - %(warned)s)::float)
                       END AS v
                  FROM picked
            )
            INSERT INTO crm_lead (name, type, stage_id, team_id, user_id, company_id, active, won_status,
                                  probability, priority, color, expected_revenue, create_uid, write_uid,
                                  write_date, create_date, date_open, date_last_stage_update,
                                  sla_last_action_date)
            SELECT 'SLA ' || kind || ' ' || g, %(type)s, %(stage)s, %(team)s,
                   (%(users)s::int[])[1 + k %% array_length(%(users)s::int[], 1)], %(company)s, true,
                   'pending', 10, '0', 0, 1000 + g %% 9000, 1, 1, %(now)s,
                   {columns["create_date"]}, {columns["date_open"]}, {columns["date_last_stage_update"]},
                   {columns["sla_last_action_date"]}
              FROM placed
            """,  # noqa: S608 - column expressions are constants of this module
            {
                "first": first,
                "last": last,
                "count": count,
                "index": index,
                "breach": cell["breach"],
                "warned": cell["warned"],
                "act": cell["act"],
                "warn": cell["warn"],
                "now": now,
                "type": lead_type,
                "stage": made["stages"][stage_key].id,
                "team": made["teams"][team_key].id,
                "users": made["users"][team_key],
                "company": env.company.id,
            },
        )
    # one current stay per lead, as crm_stage_history keeps them (the actions close and open stays)
    cr.execute(
        """INSERT INTO crm_lead_stage_history (lead_id, stage_id, user_id, team_id, company_id, origin,
                                               lead_type, expected_revenue, probability, is_current, date_in,
                                               create_uid, create_date, write_uid, write_date)
           SELECT l.id, l.stage_id, l.user_id, l.team_id, l.company_id, 'import', l.type, l.expected_revenue,
                  l.probability, true, l.date_last_stage_update, 1, %(now)s, 1, %(now)s
             FROM crm_lead l
            WHERE l.name LIKE 'SLA %%'
              AND NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h WHERE h.lead_id = l.id)""",
        {"now": now},
    )
    cr.execute("ANALYZE crm_lead; ANALYZE crm_lead_stage_history; ANALYZE crm_sla_event")


def measure_selection(env, now: datetime) -> dict:
    """Every rule's `_sla_select` (act, and warn when it warns, per working schedule), on a cold cache."""
    rules = env["crm.sla.rule"].sudo().search([])
    env.invalidate_all()
    cr = env.cr
    queries, start = cr.sql_log_count, time.perf_counter()
    selected = {"act": 0, "warn": 0}
    per_rule = []
    for rule in rules:
        rule_start = time.perf_counter()
        for kind in ("act", "warn"):
            if kind == "warn" and not rule.warning_before:
                continue
            for calendar, company_ids in rule._sla_calendar_groups():
                selected[kind] += len(rule._sla_select(kind, calendar, company_ids, now))
        per_rule.append(round(time.perf_counter() - rule_start, 4))
    return {
        "seconds": time.perf_counter() - start,
        "queries": cr.sql_log_count - queries,
        "selected_act": selected["act"],
        "selected_warn": selected["warn"],
        "rule_seconds": per_rule,
    }


def generate(db: str, leads_count: int, small: int) -> dict:
    with environment(db) as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        started = time.perf_counter()
        made = setup(env)
        cr.commit()
        setup_s = time.perf_counter() - started
        now = fields.Datetime.now()
        cell_list = cells(env, made, now)
        selection = {}
        generate_s = 0.0
        bounds = [(1, min(small, leads_count))]
        if leads_count > small:
            bounds.append((small + 1, leads_count))
        for first, last in bounds:
            start = time.perf_counter()
            insert_leads(env, made, cell_list, first, last, now)
            cr.commit()
            generate_s += time.perf_counter() - start
            selection[str(last)] = measure_selection(env, fields.Datetime.now())
            cr.rollback()
        cr.execute(
            "SELECT split_part(name, ' ', 2), count(*) FROM crm_lead WHERE name LIKE 'SLA %%' GROUP BY 1"
        )
        kinds = dict(cr.fetchall())
        cr.execute("SELECT count(*) FROM crm_lead WHERE active AND won_status = 'pending'")
        (open_leads,) = cr.fetchone()
    return {
        "leads": leads_count,
        "open_leads": open_leads,
        "rules": len(RULES),
        "expected": {
            "breach": kinds.get("breach", 0),
            "warn": kinds.get("warn", 0),
            "ok": kinds.get("ok", 0),
        },
        "setup_s": setup_s,
        "generate_s": generate_s,
        "selection": selection,
    }


# ----------------------------------------------------------------------------------------------------
# run, rerun, race
# ----------------------------------------------------------------------------------------------------


class Profile:
    """Time and queries per rule and phase, by wrapping the registry's classes (the addon is not changed).

    Phases: ``select``, ``claim``, ``act``, ``warn`` (the rule's methods), ``commit`` (``_commit_progress``:
    flush, tracking, COMMIT, then the after-commit callbacks); and two parts of those: ``tracking``
    (pre-commit callbacks: chatter tracking, run at savepoints and commits) and ``after_commit`` (post-commit
    callbacks: the e-mails that notifications send right after the commit, each on a new cursor).
    Queries are counted on every cursor of the process (``odoo.sql_db.sql_counter``)."""

    def __init__(self, env):
        self.cr = env.cr
        self.rows = defaultdict(lambda: defaultdict(lambda: [0, 0.0, 0]))  # rule -> phase -> [n, s, q]
        self.claimed = defaultdict(int)  # committed claims, by kind
        self.pending = defaultdict(int)  # claims of the open transaction
        self.current = None
        rule_cls = env.registry["crm.sla.rule"]
        for phase in PHASES:
            self._wrap(rule_cls, phase)
        self._wrap(rule_cls, "_sla_run", track_rule=True)
        self._wrap(env.registry["ir.cron"], "_commit_progress", label="commit")
        self._wrap(Callbacks, "run", callbacks=True)

    def _wrap(self, cls, name, label=None, track_rule=False, callbacks=False):
        original = getattr(cls, name)
        profile = self

        def wrapper(record, *args, **kwargs):
            if callbacks:
                kind = {id(profile.cr.precommit): "tracking", id(profile.cr.postcommit): "after_commit"}.get(
                    id(record)
                )
                if not kind or not len(record):
                    return original(record, *args, **kwargs)
            if track_rule:
                profile.current = record.name
            queries, start = sql_db.sql_counter, time.perf_counter()
            count = len(record) if callbacks else 1
            result = original(record, *args, **kwargs)
            row = profile.rows[profile.current][kind if callbacks else label or name.removeprefix("_sla_")]
            row[0] += count
            row[1] += time.perf_counter() - start
            row[2] += sql_db.sql_counter - queries
            if name == "_sla_claim":
                profile.pending[args[0]] += len(result)
            elif name == "_commit_progress":
                for kind, count in profile.pending.items():
                    profile.claimed[kind] += count
                profile.pending.clear()
            return result

        setattr(cls, name, wrapper)

    def as_dict(self) -> dict:
        return {
            rule: {phase: {"calls": n, "s": round(s, 3), "queries": q} for phase, (n, s, q) in phases.items()}
            for rule, phases in self.rows.items()
            if rule
        }

    def totals(self) -> dict:
        """Per phase, over the rules."""
        result = defaultdict(lambda: [0, 0.0, 0])
        for phases in self.rows.values():
            for phase, values in phases.items():
                for i, value in enumerate(values):
                    result[phase][i] += value
        return {phase: {"calls": n, "s": round(s, 3), "queries": q} for phase, (n, s, q) in result.items()}


def cron_run(env) -> dict:
    """One run of the scheduled action's code: its time, and its queries on the cron's cursor and on all
    cursors (with the e-mails sent after each commit on new cursors)."""
    cr = env.cr
    queries, all_queries, start = cr.sql_log_count, sql_db.sql_counter, time.perf_counter()
    env["crm.sla.rule"]._cron_run_sla_rules()
    cr.commit()
    return {
        "seconds": time.perf_counter() - start,
        "queries": cr.sql_log_count - queries,
        "all_queries": sql_db.sql_counter - all_queries,
    }


def outcome(cr) -> dict:
    """Events, notes and activities, and how they match the leads' expected outcome (from their names)."""
    cr.execute("SELECT state, count(*) FROM crm_sla_event GROUP BY state")
    states = dict(cr.fetchall())
    cr.execute(
        """SELECT count(*) FILTER (WHERE n > 1) FROM (
               SELECT count(*) AS n FROM crm_sla_event GROUP BY rule_id, lead_id, clock_start) e"""
    )
    (duplicate_episodes,) = cr.fetchone()
    cr.execute(
        """SELECT split_part(l.name, ' ', 2) AS kind, e.state, count(*)
             FROM crm_sla_event e JOIN crm_lead l ON l.id = e.lead_id GROUP BY 1, 2"""
    )
    by_kind = defaultdict(dict)
    for kind, state, count in cr.fetchall():
        by_kind[kind][state] = count
    cr.execute(
        """SELECT split_part(l.name, ' ', 2), count(*) FROM crm_lead l
            WHERE l.name LIKE 'SLA %%'
              AND NOT EXISTS (SELECT 1 FROM crm_sla_event e WHERE e.lead_id = l.id) GROUP BY 1"""
    )
    untouched = dict(cr.fetchall())
    # chatter: one action note ("SLA rule “x” (clock since …)") and at most one warning per lead
    cr.execute(
        """SELECT count(*), count(DISTINCT res_id), coalesce(max(n), 0) FROM (
               SELECT res_id, count(*) OVER (PARTITION BY res_id) AS n FROM mail_message
                WHERE model = 'crm.lead' AND body::text LIKE '%%SLA rule “%%” (%%') m"""
    )
    notes, noted_leads, max_notes = cr.fetchone()
    cr.execute(
        """SELECT count(*), coalesce(max(n), 0) FROM (
               SELECT res_id, count(*) AS n FROM mail_message
                WHERE model = 'crm.lead' AND body::text LIKE '%%SLA rule “%%”: on %%' GROUP BY res_id) m"""
    )
    warned_by_message, max_warn_messages = cr.fetchone()
    cr.execute(
        """SELECT count(*), coalesce(max(n), 0), coalesce(sum(n), 0) FROM (
               SELECT res_id, count(*) AS n FROM mail_activity
                WHERE res_model = 'crm.lead' AND summary LIKE 'SLA%%' GROUP BY res_id) a"""
    )
    activity_leads, max_activities, activities = cr.fetchone()
    cr.execute("SELECT count(*) FROM mail_message WHERE model = 'crm.lead'")
    (messages,) = cr.fetchone()
    return {
        "events": states,
        "duplicate_episodes": duplicate_episodes,
        "events_by_expected": by_kind,
        "leads_without_event": untouched,
        "action_notes": notes,
        "leads_with_action_note": noted_leads,
        "max_action_notes_per_lead": max_notes,
        "warning_messages": warned_by_message,
        "max_warning_messages_per_lead": max_warn_messages,
        "sla_activities": activities,
        "leads_with_sla_activity": activity_leads,
        "max_sla_activities_per_lead": max_activities,
        "lead_messages": messages,
    }


def consistent(result: dict) -> bool:
    """Each breached lead acted on (or failed) once, each warned lead warned once, nothing else touched."""
    by_kind = result["events_by_expected"]
    return (
        result["duplicate_episodes"] == 0
        and not by_kind.get("ok")
        and set(by_kind.get("breach", {})) <= {"acted", "failed"}
        and set(by_kind.get("warn", {})) <= {"warned"}
        and result["leads_without_event"].get("breach", 0) == 0
        and result["leads_without_event"].get("warn", 0) == 0
        and result["max_action_notes_per_lead"] <= 1
        and result["max_warning_messages_per_lead"] <= 1
        and result["max_sla_activities_per_lead"] <= 1
    )


def bench_run(db: str) -> dict:
    """The cron with real commits on the generated data, then again right after."""
    with environment(db) as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        profile = Profile(env)
        first = cron_run(env)
        first_profile, first_phases = profile.as_dict(), profile.totals()
        after_first = outcome(cr)
        cr.execute("SELECT state, count(*) FROM mail_mail GROUP BY state")
        mails = dict(cr.fetchall())
        profile.rows.clear()
        rerun = cron_run(env)
        after_rerun = outcome(cr)
        rerun_profile = profile.as_dict()
    return {
        "first": {
            **first,
            **after_first,
            "mails": mails,
            "consistent": consistent(after_first),
            "phases": first_phases,
            "profile": first_profile,
        },
        "rerun": {
            **rerun,
            "new_events": sum(after_rerun["events"].values()) - sum(after_first["events"].values()),
            "new_messages": after_rerun["lead_messages"] - after_first["lead_messages"],
            "new_activities": after_rerun["sla_activities"] - after_first["sla_activities"],
            "profile": rerun_profile,
        },
    }


def bench_cron(db: str, attempts: int = 5) -> dict:
    """One scheduled run, started when the parent says so (a line on stdin), for `race`. A run that a
    concurrent transaction aborts (serialization failure, deadlock) is rolled back and started again, as
    the scheduler would at its next call."""
    with environment(db) as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        profile = Profile(env)
        env["crm.sla.rule"].search([]).mapped("name")  # registry and caches warm before the start
        print("ready", flush=True)
        sys.stdin.readline()
        start, errors = time.perf_counter(), []
        for _attempt in range(attempts):
            try:
                cron_run(env)
                break
            except TransactionRollbackError as exc:
                cr.rollback()
                profile.pending.clear()
                errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "errors": errors,
        "done": len(errors) < attempts,
        "claimed": dict(profile.claimed),
    }


def aborted_statements(log: str) -> list[str]:
    """The start of each statement Odoo logged as a "bad query" (``bad query: b'<SQL with \\n>'``)."""
    found = set()
    for line in log.splitlines():
        if "bad query: " in line:
            text = line.split("bad query: ", 1)[1].removeprefix("b'").replace("\\n", " ")
            found.add(" ".join(text.split())[:70])
    return sorted(found)


def bench_race(db: str) -> dict:
    """Two crons at once, in two processes with their own cursors, on the same committed data."""
    children = []
    with tempfile.TemporaryDirectory() as logs:
        try:
            for number in range(2):
                log = open(Path(logs, f"cron{number}.log"), "w+")  # noqa: SIM115 - closed below
                command = [sys.executable, __file__, "cron", db]
                child = subprocess.Popen(
                    command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True
                )
                children.append((child, log))
            for child, log in children:
                line = child.stdout.readline()
                if line.strip() != "ready":
                    log.seek(0)
                    raise SystemExit(f"cron worker did not start: {line}{log.read()[-3000:]}")
            start = time.perf_counter()
            for child, _log in children:
                child.stdin.write("go\n")
                child.stdin.flush()
            runs = []
            for child, log in children:
                out, _err = child.communicate()
                log.seek(0)
                if child.returncode:
                    raise SystemExit(f"cron worker failed:\n{out[-3000:]}{log.read()[-3000:]}")
                run = json.loads(out.strip().splitlines()[-1])
                # which statements the concurrent transaction aborted (Odoo logs them as "bad query")
                run["aborted_statements"] = aborted_statements(log.read())
                runs.append(run)
            seconds = time.perf_counter() - start
        finally:
            for child, log in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
                log.close()
    with environment(db) as cr:
        result = outcome(cr)
    return {"runs": runs, "seconds": seconds, **result, "consistent": consistent(result)}


# ----------------------------------------------------------------------------------------------------
# readable summaries (the JSON line follows them)
# ----------------------------------------------------------------------------------------------------


def summarize_generate(result: dict) -> None:
    expected = result["expected"]
    print(
        f"{result['leads']} open leads, {result['rules']} rules: {expected['breach']} past a breach cutoff, "
        f"{expected['warn']} in a warning window (setup {result['setup_s']:.1f}s, "
        f"generated in {result['generate_s']:.1f}s)"
    )
    for leads, selection in result["selection"].items():
        print(
            f"  _sla_select of every rule on {leads:>7} leads: {selection['queries']:4} queries "
            f"{selection['seconds']:6.3f}s -> {selection['selected_act']} to act on, "
            f"{selection['selected_warn']} to warn"
        )


def summarize_run(result: dict) -> None:
    first, rerun = result["first"], result["rerun"]
    print(
        f"first run: {first['seconds']:.2f}s, {first['queries']} queries on the cron's cursor, "
        f"{first['all_queries']} on all cursors; events {first['events']}; e-mails {first['mails']}; "
        f"consistent with the data: {first['consistent']}"
    )
    print(f"  {'phase (queries on all cursors)':32}{'calls':>7}{'seconds':>9}{'queries':>9}")
    labels = {
        "select": "select",
        "claim": "claim",
        "act": "act",
        "warn": "warn",
        "commit": "commits",
        "tracking": "  tracking (in act and commits)",
        "after_commit": "  e-mails sent after commit",
        "run": "whole rules",
    }
    for phase, label in labels.items():
        row = first["phases"].get(phase)
        if row:
            print(f"  {label:32}{row['calls']:>7}{row['s']:>9.2f}{row['queries']:>9}")
    print(f"  {'rule (queries on all cursors)':45}{'seconds':>9}{'queries':>9}")
    for rule, phases in first["profile"].items():
        print(f"  {rule:45}{phases['run']['s']:>9.2f}{phases['run']['queries']:>9}")
    print(
        f"rerun: {rerun['seconds']:.3f}s, {rerun['queries']} queries, {rerun['new_events']} new events, "
        f"{rerun['new_messages']} new messages"
    )


def summarize_race(result: dict) -> None:
    print(f"two runs at once: {result['seconds']:.1f}s; events {result['events']}")
    for number, run in enumerate(result["runs"], start=1):
        print(
            f"  run {number}: {run['seconds']:.1f}s, claimed {run['claimed']}, finished: {run['done']}, "
            f"{len(run['errors'])} aborted attempt(s) {run['aborted_statements']}"
        )
    print(
        f"  duplicate episodes {result['duplicate_episodes']}, most action notes on a lead "
        f"{result['max_action_notes_per_lead']}, most warnings {result['max_warning_messages_per_lead']}, "
        f"most SLA activities {result['max_sla_activities_per_lead']}; consistent: {result['consistent']}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["generate", "run", "race", "cron"])
    parser.add_argument("db")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    args = parser.parse_args(argv)
    if args.what == "generate":
        result = generate(args.db, args.leads, args.small)
        summarize_generate(result)
    elif args.what == "run":
        result = bench_run(args.db)
        summarize_run(result)
    elif args.what == "race":
        result = bench_race(args.db)
        summarize_race(result)
    else:
        result = bench_cron(args.db)
    print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
