"""The ``sla_rules`` command and its inputs: the rules file, CSV snapshots, Odoo over a fake connection."""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from funnel_metrics.cli import main as funnel_main
from sla_rules import OUTPUT_COLUMNS, Member, RuleError, TeamInfo, WorkCalendar, cli
from sla_rules.cli import DEMO_LEADS, DEMO_RULES, main
from sla_rules.config import load_config, parse_config
from sla_rules.snapshot import LEAD_FIELDS, read_odoo

AT = "2026-11-23T09:00"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


RULES_YAML = """\
    calendars:
      brussels: {tz: Europe/Brussels}
    default_calendar: brussels
    teams:
      Europe: {leader: alice, members: [bob, carol]}
    rules:
      - name: Untouched
        clock: assignment
        threshold: 1
        unit: business_days
        teams: [Europe]
        action: reassign
      - {name: Old leads, clock: create, threshold: 30, unit: days, warning_before: 5, action: archive}
"""
LEADS_CSV = """\
    id,name,type,team,user,stage,create_date,date_last_stage_update,date_open
    1,Acme,opportunity,Europe,bob,New,2026-11-02T09:00:00,2026-11-02T09:00:00,2026-11-19T09:00:00
    2,Globex,opportunity,Europe,carol,New,2026-10-26T09:00:00,2026-10-26T09:00:00,2026-11-20T09:30:00
    3,Initech,lead,Europe,,New,2026-10-01T09:00:00,2026-10-01T09:00:00,
"""


def simulate_files(
    capsys, folder: Path, rules_text: str = RULES_YAML, csv_text: str = LEADS_CSV, at: str = AT
):
    """Run ``simulate`` on a rules file and a snapshot written from these texts: (code, out, err, paths)."""
    rules, leads = write(folder, "rules.yaml", rules_text), write(folder, "leads.csv", csv_text)
    return (*run(capsys, "simulate", "--rules", rules, "--snapshot", leads, "--at", at), rules, leads)


# ---------------------------------------------------------------------------------------------------------
# the demo
# ---------------------------------------------------------------------------------------------------------


def test_demo_table(capsys):
    code, out, err = run(capsys, "simulate", "--demo", "--at", AT)
    assert code == 0, err
    assert err == ""
    assert out.startswith("SLA rules at 2026-11-23 09:00 UTC on 30 lead(s) from the demo data")
    header = out.splitlines()[2]
    assert header.split() == [
        "rule",
        "lead",
        "owner",
        "clock",
        "start",
        "deadline",
        "status",
        "what",
        "would",
        "happen",
    ]
    assert "Reassign untouched opportunities: 3 to warn, 3 to act on, 0 that cannot be acted on" in out
    assert "Escalate stalled qualification: 1 to warn, 1 to act on, 1 that cannot be acted on" in out
    assert "Pull back idle partner leads: 0 to warn, 2 to act on, 1 that cannot be acted on" in out
    assert "Reassigned from bob to carol (round robin in Europe)." in out
    assert "cannot: Orphans has no team leader to escalate to." in out


def test_demo_csv(capsys):
    code, out, _ = run(capsys, "simulate", "--demo", "--at", AT, "--format", "csv")
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == list(OUTPUT_COLUMNS)
    assert len(table) == 16
    assert set(table["status"]) == {"warn", "breach"}
    assert table["deadline"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()


def test_demo_files_are_shipped():
    assert DEMO_RULES.is_file() and DEMO_LEADS.is_file()
    assert len(load_config(DEMO_RULES).rules) == 5
    assert 25 <= len(pd.read_csv(DEMO_LEADS)) <= 40


def test_at_with_offset_and_default(capsys):
    code, out, _ = run(capsys, "simulate", "--demo", "--at", "2026-11-23T10:00+01:00")
    assert code == 0 and "SLA rules at 2026-11-23 09:00 UTC" in out
    code, out, _ = run(capsys, "simulate", "--demo")
    assert code == 0 and out.startswith("SLA rules at ")


def test_help_says_where_calendars_come_from(capsys):
    code, out, _ = run(capsys, "simulate", "--help")
    assert code == 0
    assert "company working schedules in Odoo are not read" in " ".join(out.split())
    assert "SLA_RULES_API_KEY" in out


# ---------------------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------------------


def test_rules_and_snapshot_files(capsys, tmp_path):
    code, out, err, _, leads = simulate_files(capsys, tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"SLA rules at 2026-11-23 09:00 UTC on 3 lead(s) from {leads} (nothing is changed):"
    body = [line.split("  ")[0:2] for line in lines[4:7]]
    assert [cells[0] for cells in body] == ["Untouched", "Old leads", "Old leads"]
    assert "Reassigned from bob to carol (round robin in Europe)." in lines[4]
    assert lines[4].split()[3:5] == ["2026-11-19", "09:00"]  # clock start
    assert lines[4].split()[5:7] == ["2026-11-20", "09:00"]  # deadline
    assert "Initech" in lines[5] and lines[5].split()[3] == "-"
    assert "Archived." in lines[5]
    assert "Globex" in lines[6] and "Warning: the breach is due on 2026-11-25 09:00 UTC." in lines[6]
    assert lines[-2:] == [
        "Untouched: 0 to warn, 1 to act on, 0 that cannot be acted on",
        "Old leads: 1 to warn, 1 to act on, 0 that cannot be acted on",
    ]


def test_snapshot_with_a_change_of_hands(capsys, tmp_path):
    """Acme, assigned to Bob on Thursday, was handed to him again (a new team) on Friday at 13:00 in
    Brussels: his business day runs from then, so the rule does not act yet."""
    lines = textwrap.dedent(LEADS_CSV).splitlines()
    csv_text = "\n".join(
        [
            lines[0] + ",sla_owner_since",
            lines[1] + ",2026-11-20T12:00:00",
            *(line + "," for line in lines[2:]),
        ]
    )
    code, out, err, _, _ = simulate_files(capsys, tmp_path, csv_text=csv_text)
    assert code == 0, err
    assert "Acme" not in out
    assert out.splitlines()[-2] == "Untouched: 0 to warn, 0 to act on, 0 that cannot be acted on"


def test_nothing_to_do(capsys, tmp_path):
    code, out, _, _, _ = simulate_files(capsys, tmp_path, at="2026-10-02T09:00")
    assert code == 0
    assert "No lead to warn or act on." in out
    assert "Untouched: 0 to warn, 0 to act on, 0 that cannot be acted on" in out


@pytest.mark.parametrize(
    ("rules_text", "message"),
    [
        ("rules: [\n  - {name: x\n", "not valid YAML at line"),
        ("- just a list", "must be a mapping with a 'rules' list"),
        ("rules: []", "rules: give a list of rules"),
        ("rulez: []", "Unknown key(s) rulez"),
        (
            "rules:\n  - {name: Fast, clock: create, treshold: 3, unit: hours, action: archive}",
            "rule 1 (Fast): unknown key(s) treshold",
        ),
        (
            "rules:\n  - {name: Fast, clock: create, unit: hours, action: archive}",
            "rule 1 (Fast): missing key(s) threshold",
        ),
        (
            "rules:\n  - {name: A, clock: create, threshold: 1, unit: hours, action: archive}\n"
            "  - {name: B, clock: create, threshold: 0, unit: hours, action: archive}",
            "rule 2 (B): The threshold must be greater than zero.",
        ),
        (
            "rules:\n  - {name: B, clock: create, threshold: soon, unit: hours, action: archive}",
            "rule 1 (B), key threshold: give a number",
        ),
        (
            "rules:\n  - {name: B, clock: create, threshold: 2, unit: business_hours, action: archive}",
            "rule 1 (B): Business days and business hours need a working calendar",
        ),
        (
            "rules:\n  - {name: B, clock: create, threshold: 2, unit: hours, action: archive, calendar: x}",
            "rule 1 (B), key calendar: no calendar named 'x'",
        ),
        (
            "rules:\n  - {name: B, clock: create, threshold: 2, unit: hours, "
            "action: reassign, reassign: user}",
            "rule 1 (B), key reassign: name the user",
        ),
        (
            "rules:\n  - {name: B, clock: create, threshold: 2, unit: hours, "
            "action: reassign, reassign: [bob]}",
            "rule 1 (B), key reassign: use round_robin, team_leader or {user: name}",
        ),
        (
            "rules:\n  - {name: B, clock: create, threshold: 2, unit: hours, action: mark_lost}",
            "rule 1 (B): Marking as lost needs a lost reason.",
        ),
        (
            "rules:\n  - {name: B, clock: create, threshold: 2, unit: hours, action: archive, teams: {a: 1}}",
            "rule 1 (B), key teams: give a name or a list of names",
        ),
        (
            "rules:\n  - {id: 1, name: A, clock: create, threshold: 1, unit: hours, action: archive}\n"
            "  - {id: 1, name: B, clock: create, threshold: 1, unit: hours, action: archive}",
            "rule 2 (B): id 1 is used by an earlier rule",
        ),
        ("rules:\n  - archive everything", "rule 1: give a mapping"),
        ("calendars: {x: {tz: Mars/Base}}\nrules: []", "calendar x: Unknown time zone 'Mars/Base'"),
        ("default_calendar: x\nrules: []", "default_calendar: no calendar named 'x'"),
        ("teams: {Europe: {boss: alice}}\nrules: []", "team Europe: unknown key(s) boss"),
        (
            "teams: {Europe: {members: [{user: bob, capacity: lots}]}}\nrules: []",
            "capacity must be a whole number",
        ),
        ("teams: {Europe: {members: [{user: bob, away: true}]}}\nrules: []", "unknown key(s) away"),
    ],
)
def test_bad_rules_file(capsys, tmp_path, rules_text, message):
    code, out, err, rules, _ = simulate_files(capsys, tmp_path, rules_text)
    assert code == 2
    assert out == ""
    assert err.startswith(f"sla_rules: error: {rules}: ")
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        (
            "id,name,type,team,user\n1,A,lead,Europe,bob\n",
            "missing column(s) stage_id, create_date, date_open",
        ),
        (
            LEADS_CSV.replace("2026-11-19T09:00:00", "yesterday"),
            "column date_open, line 2: cannot read 'yesterday'",
        ),
        ("id,team,team_id,type,user,stage\n", "columns team_id and team_id say the same thing"),
    ],
)
def test_bad_snapshot(capsys, tmp_path, csv_text, message):
    code, _, err, _, _ = simulate_files(capsys, tmp_path, csv_text=csv_text)
    assert code == 2
    assert message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["simulate", "--demo", "--at", "someday"], "--at: cannot read 'someday'"),
        (["simulate", "--demo", "--rules", "r.yaml"], "--demo brings its own rules"),
        (["simulate", "--snapshot", "leads.csv"], "--rules is required"),
        (
            ["simulate", "--rules", "missing.yaml", "--snapshot", "x.csv"],
            "missing.yaml: cannot read the rules file",
        ),
        (
            ["simulate", "--rules", str(DEMO_RULES), "--snapshot", "nowhere.csv"],
            "nowhere.csv: snapshot file not found",
        ),
        (["simulate", "--rules", str(DEMO_RULES), "--url", "http://localhost:8069"], "--url needs --db"),
        (
            [
                "simulate",
                "--rules",
                str(DEMO_RULES),
                "--url",
                "http://localhost:8069",
                "--db",
                "x",
                "--page-size",
                "0",
            ],
            "--page-size must be at least 1",
        ),
    ],
)
def test_bad_input(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert message in err


def test_usage_errors(capsys):
    assert run(capsys, "simulate")[0] == 2
    assert run(capsys, "simulate", "--demo", "--snapshot", "x.csv")[0] == 2
    assert run(capsys, "simulate", "--demo", "--format", "xml")[0] == 2
    assert run(capsys)[0] == 2


def test_round_robin_team_without_members(capsys, tmp_path):
    code, _, err, _, _ = simulate_files(
        capsys, tmp_path, RULES_YAML.replace("members: [bob, carol]", "members: []")
    )
    assert code == 2
    assert (
        "rule Untouched: Round robin needs members in every team of the rule: team(s) Europe have none."
        in err
    )


def test_interrupted(capsys, monkeypatch):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "evaluate", stop)
    code, _, err = run(capsys, "simulate", "--demo", "--at", AT)
    assert code == 130
    assert err == "sla_rules: interrupted\n"


def test_parse_config():
    config = parse_config(
        {
            "calendars": {"c": {"tz": "UTC"}},
            "teams": {
                "T": {"leader": "lea", "members": ["a", {"user": "b", "absent": True, "capacity": 2}]},
                "Marketing": None,
            },
            "rules": [
                {
                    "name": "A",
                    "clock": "create",
                    "threshold": 2,
                    "unit": "business_hours",
                    "action": "escalate",
                    "calendar": "c",
                    "stages": "New",
                },
                {
                    "id": "x",
                    "name": "B",
                    "clock": "stage_entry",
                    "threshold": 3,
                    "unit": "hours",
                    "action": "reassign",
                    "reassign": {"user": "bob"},
                    "teams": ["T"],
                    "lead_type": "lead",
                },
                {
                    "name": "C",
                    "clock": "create",
                    "threshold": 3,
                    "unit": "days",
                    "action": "return_to_marketing",
                    "team": "Marketing",
                    "tags": ["stale", "cold"],
                },
            ],
        }
    )
    first, second, third = config.rules
    assert (first.id, first.stage_ids, first.unit) == (1, frozenset({"New"}), "business_hours")
    assert (second.id, second.reassign_mode, second.user_id, second.team_ids) == (
        "x",
        "user",
        "bob",
        frozenset({"T"}),
    )
    assert (third.id, third.target_team_id, third.tag_ids) == (3, "Marketing", frozenset({"stale", "cold"}))
    assert config.calendars == {1: WorkCalendar()}
    assert config.teams == {
        "T": TeamInfo("T", "lea", (Member("a"), Member("b", True, 2))),
        "Marketing": TeamInfo("Marketing", None, ()),
    }


def test_config_errors_are_rule_errors():
    with pytest.raises(RuleError, match="rule 1"):
        parse_config({"rules": [{"name": "A"}]})


# ---------------------------------------------------------------------------------------------------------
# Odoo over a fake connection
# ---------------------------------------------------------------------------------------------------------


def _matches(row: dict, domain: list) -> bool:
    """A small evaluator of the domains the reader sends (AND of terms, prefix '|')."""

    def value(name: str) -> Any:
        found = row.get(name, False)
        return found[0] if isinstance(found, list) else found

    def term(item: tuple) -> bool:
        name, operator, expected = item
        actual = value(name)
        return {
            "=": lambda: actual == expected,
            "in": lambda: actual in expected,
            ">": lambda: actual > expected,
        }[operator]()

    stack: list[bool] = []
    for item in reversed(domain):
        if item == "|":
            stack.append(stack.pop() or stack.pop())
        else:
            stack.append(term(item))
    return all(stack)


class FakeModel:
    def __init__(self, server: FakeOdoo, name: str) -> None:
        self.server, self.name = server, name

    def search_read(self, domain=(), fields=(), order=None, limit=None, context=None):
        self.server.calls.append((self.name, list(domain), context))
        rows = sorted(
            (r for r in self.server.rows[self.name] if _matches(r, list(domain))), key=lambda r: r["id"]
        )
        rows = rows[:limit] if limit else rows
        return [{"id": r["id"], **{f: r.get(f, False) for f in fields}} for r in rows]

    def fields_get(self, attributes=None):
        self.server.fields_get_calls += 1
        return {name: {"type": "char"} for name in self.server.lead_fields}

    def sla_snapshot_fields(self, names, context=None):
        """crm_sla_rules' read-only method; a database without that addon answers as Odoo 19 does."""
        if "sla_last_action_date" not in self.server.lead_fields:
            raise ValueError(
                "Unexpected status code 404: "
                + json.dumps({"message": f"The method '{self.name}.sla_snapshot_fields' does not exist"})
            )
        return [name for name in names if name in self.server.lead_fields]


class FakeOdoo:
    """Stands in for an odoolib connection to an Odoo 19 database."""

    database = "prod"

    def __init__(self, with_sla: bool = True) -> None:
        self.calls: list = []
        self.fields_get_calls = 0
        self.lead_fields = {*LEAD_FIELDS, "active"}
        if with_sla:
            self.lead_fields |= {"sla_last_action_date", "sla_owner_since", "sla_team_since"}
        europe, bob, carol, dave = [1, "Europe"], [2, "Bob"], [3, "Carol"], [4, "Dave"]
        new, won = [1, "New"], [2, "Won"]
        lead = {
            "type": "opportunity",
            "team_id": europe,
            "stage_id": new,
            "company_id": [1, "My Company"],
            "create_date": "2026-11-02 09:00:00",
            "date_last_stage_update": "2026-11-02 09:00:00",
            "active": True,
            "sla_last_action_date": False,
            "sla_owner_since": False,
            "sla_team_since": False,
        }
        self.rows = {
            "crm.lead": [
                {**lead, "id": 11, "name": "Acme", "user_id": bob, "date_open": "2026-11-19 09:00:00"},
                {**lead, "id": 12, "name": "Globex", "user_id": carol, "date_open": "2026-11-20 09:30:00"},
                {
                    **lead,
                    "id": 13,
                    "name": "Closed",
                    "user_id": bob,
                    "date_open": "2026-11-02 09:00:00",
                    "stage_id": won,
                    "sla_owner_since": "2026-11-20 09:00:00",
                },
                {
                    **lead,
                    "id": 14,
                    "name": "Gone",
                    "user_id": bob,
                    "date_open": "2026-11-02 09:00:00",
                    "active": False,
                },
                {**lead, "id": 15, "name": "Nobody's", "user_id": False, "date_open": False},
            ],
            "crm.stage": [
                {"id": 1, "name": "New", "is_won": False},
                {"id": 2, "name": "Won", "is_won": True},
            ],
            "crm.team": [
                {"id": 1, "name": "Europe", "user_id": [5, "Alice"]},
                {"id": 2, "name": "Marketing", "user_id": False},
            ],
            "crm.team.member": [
                {
                    "id": 1,
                    "crm_team_id": europe,
                    "user_id": bob,
                    "assignment_optout": False,
                    "assignment_max": 0,
                },
                {
                    "id": 2,
                    "crm_team_id": europe,
                    "user_id": dave,
                    "assignment_optout": True,
                    "assignment_max": 0,
                },
                {
                    "id": 3,
                    "crm_team_id": europe,
                    "user_id": carol,
                    "assignment_optout": False,
                    "assignment_max": 30,
                    "lead_month_count": 29,
                },
            ],
            "res.users": [
                {"id": 2, "name": "Bob", "login": "bob", "is_out_of_office": False},
                {"id": 3, "name": "Carol", "login": "carol", "is_out_of_office": False},
                {"id": 4, "name": "Dave", "login": "dave", "is_out_of_office": True},
                {"id": 5, "name": "Alice", "login": "alice", "is_out_of_office": False},
            ],
            "res.company": [{"id": 1, "name": "My Company"}],
            "crm.tag": [{"id": 1, "name": "stale"}],
            "crm.lost.reason": [{"id": 1, "name": "No answer"}],
        }

    def get_model(self, name: str) -> FakeModel:
        return FakeModel(self, name)

    def get_user_context(self) -> dict:
        return {"lang": "en_US", "tz": "Europe/Brussels"}


ODOO_RULES = """\
    calendars: {brussels: {tz: Europe/Brussels}}
    default_calendar: brussels
    rules:
      - {name: Untouched, clock: assignment, threshold: 1, unit: business_days, teams: [Europe],
         action: reassign}
      - {name: To Bob, clock: create, threshold: 10, unit: days, action: reassign, reassign: {user: bob},
         stages: [New], companies: [My Company]}
      - {name: Lost, clock: create, threshold: 10, unit: days, action: mark_lost, lost_reason: No answer}
"""


def test_read_odoo(tmp_path):
    server = FakeOdoo()
    config = load_config(write(tmp_path, "rules.yaml", ODOO_RULES))
    snapshot = read_odoo(server, config, page_size=2)
    assert snapshot.source == "database 'prod'"
    assert snapshot.leads["id"].tolist() == [11, 12, 13, 15]  # active only, paged by 2
    assert snapshot.leads["user_id"].tolist()[:3] == ["Bob", "Carol", "Bob"]
    assert pd.isna(snapshot.leads["user_id"].iloc[3])
    assert snapshot.leads["won"].tolist() == [False, False, True, False]
    assert str(snapshot.leads["date_open"].dtype) == "datetime64[ns, UTC]"
    assert snapshot.leads["sla_last_action_date"].isna().all()
    assert str(snapshot.leads["sla_owner_since"].dtype) == "datetime64[ns, UTC]"
    assert snapshot.leads["sla_owner_since"].notna().tolist() == [False, False, True, False]
    assert snapshot.rules[1].user_id == "Bob"  # the login became the name
    assert snapshot.teams == {
        "Europe": TeamInfo(
            "Europe", "Alice", (Member("Bob"), Member("Dave", absent=True), Member("Carol", capacity_left=1))
        )
    }
    lead_calls = [call for call in server.calls if call[0] == "crm.lead"]
    assert all(("active", "=", True) in domain for _, domain, _ in lead_calls)
    assert all(context == {"active_test": False, "lang": "en_US"} for _, _, context in server.calls)
    assert server.fields_get_calls == 0, "crm_sla_rules says which columns it has (read-only), not fields_get"


def test_odoo_end_to_end(capsys, tmp_path, monkeypatch):
    server = FakeOdoo()
    seen: dict = {}

    def fake_connect(url, database, login, api_key, protocol="json2", retries=3):
        seen.update(url=url, database=database, login=login, api_key=api_key, protocol=protocol)
        return server

    monkeypatch.setattr(cli, "connect", fake_connect)
    monkeypatch.setenv("SLA_RULES_API_KEY", "s3cret")
    rules = write(tmp_path, "rules.yaml", ODOO_RULES)
    argv = ["simulate", "--rules", rules, "--url", "https://odoo.example.com", "--db", "prod", "--user", "me"]
    code, out, err = run(capsys, *argv, "--at", AT)
    assert code == 0, err
    assert seen == {
        "url": "https://odoo.example.com",
        "database": "prod",
        "login": "me",
        "api_key": "s3cret",
        "protocol": "json2",
    }
    assert "s3cret" not in out + err
    assert "on 4 lead(s) from database 'prod'" in out
    assert "Reassigned from Bob to Carol (round robin in Europe)." in out  # Dave is away
    assert "Untouched: 0 to warn, 1 to act on, 0 that cannot be acted on" in out
    assert "To Bob: 0 to warn, 2 to act on, 1 that cannot be acted on" in out
    assert "cannot: Bob already owns it." in out
    assert "Lost: 0 to warn, 3 to act on, 0 that cannot be acted on" in out


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        (("teams: [Europe]", "teams: [Asia]"), "sales team(s) that database 'prod' does not have: Asia"),
        (("{user: bob}", "{user: zed}"), "user(s) that database 'prod' does not have: zed"),
        (("stages: [New]", "stages: [New, Old]"), "stage(s) that database 'prod' does not have: Old"),
        (
            ("lost_reason: No answer", "lost_reason: Price"),
            "lost reason(s) that database 'prod' does not have: Price",
        ),
        (
            ("companies: [My Company]", "companies: [Other]"),
            "company(s) that database 'prod' does not have: Other",
        ),
    ],
)
def test_odoo_unknown_names(capsys, tmp_path, monkeypatch, replace, message):
    monkeypatch.setattr(cli, "connect", lambda *args, **kwargs: FakeOdoo())
    monkeypatch.setenv("SLA_RULES_API_KEY", "k")
    rules = write(tmp_path, "rules.yaml", ODOO_RULES.replace(*replace))
    code, _, err = run(capsys, "simulate", "--rules", rules, "--url", "http://x", "--db", "prod", "--at", AT)
    assert code == 2
    assert message in err


def test_odoo_without_crm_sla_rules(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "connect", lambda *args, **kwargs: FakeOdoo(with_sla=False))
    monkeypatch.setenv("SLA_RULES_API_KEY", "k")
    rules = write(
        tmp_path,
        "rules.yaml",
        ODOO_RULES.replace(
            "clock: create, threshold: 10, unit: days, action: mark_lost",
            "clock: last_action, threshold: 10, unit: days, action: mark_lost",
        ),
    )
    code, _, err = run(capsys, "simulate", "--rules", rules, "--url", "http://x", "--db", "prod", "--at", AT)
    assert code == 2
    assert "Rule(s) Lost use the last_action clock" in err
    assert "crm_sla_rules module is not installed" in err
    # without a last_action rule the same database is fine
    code, out, _ = run(
        capsys,
        "simulate",
        "--rules",
        write(tmp_path, "ok.yaml", ODOO_RULES),
        "--url",
        "http://x",
        "--db",
        "prod",
        "--at",
        AT,
    )
    assert code == 0 and "Lost: 0 to warn, 3 to act on" in out


def test_odoo_without_crm_lead_handoff(capsys, tmp_path, monkeypatch):
    server = FakeOdoo()
    monkeypatch.setattr(cli, "connect", lambda *args, **kwargs: server)
    monkeypatch.setenv("SLA_RULES_API_KEY", "k")
    rules = write(
        tmp_path,
        "rules.yaml",
        ODOO_RULES.replace(
            "clock: create, threshold: 10, unit: days, action: mark_lost",
            "clock: handed_over, threshold: 10, unit: days, action: return_to_sender",
        ),
    )
    base = ["simulate", "--rules", rules, "--url", "http://x", "--db", "prod", "--at", AT]
    code, _, err = run(capsys, *base)
    assert code == 2
    assert "Rule(s) Lost use the handed_over clock" in err
    assert "crm_lead_handoff module is not installed" in err
    # with the addon, the handoffs' clock column is read: no handoff awaits, nothing to return
    server.lead_fields.add("handoff_sent_date")
    code, out, _ = run(capsys, *base)
    assert code == 0 and "Lost: 0 to warn, 0 to act on" in out


def test_api_key_sources(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("SLA_RULES_API_KEY", raising=False)
    rules = write(tmp_path, "rules.yaml", ODOO_RULES)
    base = ["simulate", "--rules", rules, "--url", "http://x", "--db", "prod", "--at", AT]
    code, _, err = run(capsys, *base)
    assert code == 2 and "no API key: set SLA_RULES_API_KEY or pass --api-key-file" in err
    empty = write(tmp_path, "empty.key", "")
    assert "is empty" in run(capsys, *base, "--api-key-file", empty)[2]
    assert "cannot read the API key file" in run(capsys, *base, "--api-key-file", str(tmp_path / "none"))[2]
    keys: list = []
    monkeypatch.setattr(cli, "connect", lambda *args, **kwargs: keys.append(args[3]) or FakeOdoo())
    code, _, _ = run(capsys, *base, "--api-key-file", write(tmp_path, "ok.key", "from-file\n"))
    assert code == 0 and keys == ["from-file"]


def test_odoo_refusing_the_login_names_our_variable(capsys, tmp_path, monkeypatch):
    from funnel_metrics.extract import ExtractError

    def refuse(*args, **kwargs):
        raise ExtractError(
            "the Odoo server refused the login: check the API key (FUNNEL_METRICS_API_KEY or ...)"
        )

    monkeypatch.setattr(cli, "connect", refuse)
    monkeypatch.setenv("SLA_RULES_API_KEY", "k")
    rules = write(tmp_path, "rules.yaml", ODOO_RULES)
    code, _, err = run(capsys, "simulate", "--rules", rules, "--url", "http://x", "--db", "prod", "--at", AT)
    assert code == 2
    assert "SLA_RULES_API_KEY" in err and "FUNNEL_METRICS" not in err


def test_unreachable_server(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("SLA_RULES_API_KEY", "k")
    rules = write(tmp_path, "rules.yaml", ODOO_RULES)
    code, _, err = run(capsys, "simulate", "--rules", rules, "--url", "ftp://x", "--db", "prod", "--at", AT)
    assert code == 2
    assert "must start with http:// or https://" in err


# ---------------------------------------------------------------------------------------------------------
# one rule for dates and for lines, in both commands
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["01/02/2026", "02/01/2026", "1 Feb 2026", "2026-2-1"])
def test_both_commands_refuse_a_date_that_is_not_iso_8601(capsys, tmp_path, text):
    """``01/02/2026`` is 1 February or 2 January depending on who reads it: neither command guesses."""
    code, out, err = run(capsys, "simulate", "--demo", "--at", text)
    assert (code, out) == (2, "")
    assert err == (
        f"sla_rules: error: --at: cannot read {text!r} as a date and time: use ISO 8601, year first, "
        "e.g. 2026-11-23T09:00 or 2026-11-23\n"
    )
    code = funnel_main(["report", "--demo", "--as-of", text, "-o", str(tmp_path / "r.html")])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == (
        f"funnel-metrics: error: --as-of: cannot read {text!r} as a date and time: use ISO 8601, year "
        "first, e.g. 2026-11-23T09:00 or 2026-11-23\n"
    )
    assert not (tmp_path / "r.html").exists()


def test_both_commands_take_the_same_iso_8601_instants(capsys, tmp_path):
    code, out, _ = run(capsys, "simulate", "--demo", "--at", "2026-11-23 10:00+01:00")
    assert code == 0 and out.startswith("SLA rules at 2026-11-23 09:00 UTC")
    code = funnel_main(
        ["report", "--demo", "--as-of", "2024-12-01T10:00+01:00", "-o", str(tmp_path / "r.html")]
    )
    assert code == 0 and "Snapshot (as of)" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "2024-12-01 09:00 UTC" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_both_commands_name_a_bad_date_in_a_file_by_its_line(capsys, tmp_path):
    """Line 3 of the file (the header is line 1) is "line 3" in both commands."""
    bad_snapshot = LEADS_CSV.replace("2026-10-26T09:00:00,2026-11-20", "26/10/2026 09:00,2026-11-20")
    code, _, err, _, leads = simulate_files(capsys, tmp_path, csv_text=bad_snapshot)
    assert code == 2
    assert f"{leads}, column date_last_stage_update, line 3: cannot read '26/10/2026 09:00'" in err

    transitions = tmp_path / "t.csv"
    transitions.write_text(
        "lead_id,stage,stage_sequence,entered_at,left_at,user,team,product,source,outcome,lost_reason\n"
        "1,New,1,2026-10-01T09:00:00Z,,bob,Europe,,web,open,\n"
        "2,New,1,26/10/2026 09:00,,bob,Europe,,web,open,\n",
        encoding="utf-8",
    )
    code = funnel_main(["report", "--input", str(transitions), "-o", str(tmp_path / "r.html")])
    _, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "funnel-metrics: error: entered_at: cannot parse '26/10/2026 09:00' as an ISO 8601 timestamp "
        "(line 3; 1 bad value(s) in the column)\n"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "teams: [Europe]\n        action: reassign",
            "teams: [Eurpoe]\n        action: reassign",
            "rule 1 (Untouched), key teams: unknown team Eurpoe: the file's teams are Europe (check the "
            "spelling, or add the team under teams).",
        ),
        (
            "warning_before: 5, action: archive}",
            "warning_before: 5, action: return_to_marketing, team: Marketing}",
            "rule 2 (Old leads), key team: unknown team Marketing: the file's teams are Europe",
        ),
    ],
)
def test_an_unknown_team_in_the_rules_file_is_called_so(capsys, tmp_path, old, new, message):
    assert old in RULES_YAML
    code, out, err, rules, _ = simulate_files(capsys, tmp_path, RULES_YAML.replace(old, new))
    assert (code, out) == (2, "")
    assert err.startswith(f"sla_rules: error: {rules}: {message}")
    assert "round robin" not in err.lower()
