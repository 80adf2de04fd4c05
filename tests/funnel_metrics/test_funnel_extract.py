"""The Odoo RPC extractor against an in-memory stand-in for the Odoo server.

``FakeOdoo`` plays the server behind odoolib's connection and model proxies: it holds the rows of a few
models and answers ``search_read`` / ``search`` / ``read`` / ``search_count`` the way Odoo does for the
subset of domains the extractor sends (``=``, ``!=``, ``in``, ``not in``, ``<``, ``<=``, ``>``, ``>=`` on
plain, many2one and datetime fields; ``active_test``; ``order="id"``; ``limit``/``offset``). It fails the way
odoolib surfaces Odoo's failures (JSON-2: ``ValueError("Unexpected status code 404: {json}")``,
``AuthenticationError`` on 401) when told to. Like Odoo 19 over JSON-2, it answers a read of a field
restricted by groups with a 403 ``odoo.exceptions.AccessError``, and a read of a field the model does not have
with a 500 ``builtins.ValueError`` ("Invalid field ... on model ...").
"""

from __future__ import annotations

import json
import socket
import weakref
import xmlrpc.client
from collections.abc import Iterable
from datetime import date
from types import SimpleNamespace
from typing import Any

import httpx
import odoolib.rpc
import pandas as pd
import pytest
from odoolib.tools import AuthenticationError, JsonRPCException

from funnel_metrics import extract
from funnel_metrics.cost import cost_per_lead
from funnel_metrics.extract import (
    CAMPAIGN_FIELDS,
    ExtractError,
    connect,
    extract_campaign_costs,
    extract_transitions,
    parse_url,
)
from funnel_metrics.odoo_rows import LEAD_FIELDS, NAMED_FIELDS, transitions_from_ids

HISTORY = "crm.lead.stage.history"


# ------------------------------------------------------------------------------------------------------
# the stand-in server
# ------------------------------------------------------------------------------------------------------


def _json2_error(status: int, name: str, message: str) -> ValueError:
    """What odoolib's JSON-2 proxy raises for a non-200 answer of Odoo."""
    body = json.dumps({"name": name, "message": message, "arguments": [message], "context": {}})
    return ValueError(f"Unexpected status code {status}: {body}")


def _key(value: Any) -> Any:
    """A field value as domains compare it: many2one ``[id, name]`` -> id."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], str):
        return value[0]
    return value


def _compare(current: Any, op: str, value: Any) -> bool:
    if op == "in":
        return current in value
    if op == "not in":
        return current not in value
    if op in ("=", "!="):
        return (current == value) == (op == "=")
    if current is False or current is None:
        return False  # SQL: NULL compares to nothing
    return {"<": current < value, "<=": current <= value, ">": current > value, ">=": current >= value}[op]


# relational fields the domains go through: (comodel, the comodel's field pointing back for a one2many)
RELATIONS = {
    (HISTORY, "lead_id"): ("crm.lead", None),
    ("crm.lead", "stage_history_ids"): (HISTORY, "lead_id"),
}


class FakeOdoo:
    """Rows per model, a call log, and failures to raise on the next calls."""

    def __init__(self, tables: dict[str, list[dict[str, Any]]], lang: str = "en_US") -> None:
        self.tables = tables
        self.lang = lang
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.served: list[tuple[str, Any]] = []  # (model, weak reference) of every row served
        self.failures: list[BaseException] = []
        self.fields: dict[str, set[str]] = {}  # declared fields of a model; models not here take any field
        self.restricted: set[tuple[str, str]] = set()  # (model, field) this user's groups may not read
        self.prunes = True  # False: ``any`` / ``not any`` hold for every row (a server leaving nothing out)
        self.old_addon = False  # True: crm_stage_history without ``funnel_rows``

    def hit(self, model: str, method: str, **kwargs: Any) -> None:
        self.calls.append((model, method, kwargs))
        if self.failures:
            raise self.failures.pop(0)
        if model not in self.tables and model != "res.users":
            raise _json2_error(404, "werkzeug.exceptions.NotFound", f"the model {model!r} does not exist")

    def check_fields(self, model: str, names: Iterable[str]) -> None:
        """Odoo 19's field checks of a read (fields and domain): unknown field, then field access."""
        for name in names:
            if model in self.fields and name not in self.fields[model]:
                raise _json2_error(500, "builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
            if (model, name) in self.restricted:
                raise _json2_error(
                    403,
                    "odoo.exceptions.AccessError",
                    f'You do not have enough rights to access the field "{name}" on UTM Campaign ({model}). '
                    "Please contact your system administrator.\n\nOperation: read",
                )

    def holds(self, model: str, row: dict[str, Any], leaf: Iterable[Any]) -> bool:
        """Whether ``row`` of ``model`` satisfies ``leaf``; ``any`` / ``not any`` go through
        :data:`RELATIONS` (a many2one to its record, a one2many to the records pointing back)."""
        field, op, value = leaf
        if op in ("any", "not any"):
            if not self.prunes:
                return True
            comodel, inverse = RELATIONS[(model, field)]
            if inverse is None:
                related = [r for r in self.tables[comodel] if r["id"] == _key(row.get(field))]
            else:
                related = [r for r in self.tables[comodel] if _key(r.get(inverse)) == row["id"]]
            found = any(all(self.holds(comodel, r, sub) for sub in value) for r in related)
            return found == (op == "any")
        return _compare(_key(row.get(field, False)), op, value)

    def matching(self, model: str, domain: list[Any], context: dict[str, Any] | None) -> list[dict[str, Any]]:
        rows = self.tables[model]
        leaves = [tuple(leaf) for leaf in domain]
        if (context or {}).get("active_test", True) and not any(leaf[0] == "active" for leaf in leaves):
            rows = [row for row in rows if row.get("active", True)]
        return sorted(
            (r for r in rows if all(self.holds(model, r, leaf) for leaf in leaves)), key=lambda r: r["id"]
        )

    def calls_to(self, model: str, method: str = "search_read") -> list[dict[str, Any]]:
        return [kwargs for m, name, kwargs in self.calls if m == model and name == method]


class Row(dict):
    """A row as the server sends it (a dict the tests can hold a weak reference to)."""


def _value(row: dict[str, Any], field: str, load: str) -> Any:
    """A field of a stored row as ``read`` returns it: a many2one as ``[id, name]``, or as the bare id when
    ``load`` is not ``"_classic_read"``; ``display_name`` is the ``name`` unless the row has its own."""
    if field == "display_name":
        return row.get("display_name", row.get("name"))
    value = row.get(field, False)
    return _key(value) if load != "_classic_read" else value


class FakeModel:
    """odoolib's model proxy (``connection.get_model(name)``), answered by :class:`FakeOdoo`."""

    def __init__(self, server: FakeOdoo, name: str) -> None:
        self.server, self.name = server, name

    def search_read(
        self, domain=None, fields=None, offset=0, limit=None, order=None, context=None, load="_classic_read"
    ):
        self.server.hit(
            self.name, "search_read", domain=domain, fields=fields, limit=limit, order=order, load=load
        )
        assert order in (None, "id"), order
        self.server.check_fields(self.name, [*(fields or []), *(leaf[0] for leaf in domain or [])])
        rows = self.server.matching(self.name, domain or [], context)[offset:]
        rows = rows[:limit] if limit else rows
        page = [Row(id=r["id"], **{f: _value(r, f, load) for f in fields or r}) for r in rows]
        self.server.served.extend((self.name, weakref.ref(row)) for row in page)
        return page

    def funnel_rows(self, start=False, end=False, team_ids=False, after_lead_id=0, limit=20000, context=None):
        """The addon's page of the stage history (``crm.lead.stage.history.funnel_rows``): the stays of the
        next ``limit`` leads by id, and those leads, as columns of bare ids; the leads with a stay before
        ``start`` or none before ``end`` left out (unless :attr:`FakeOdoo.prunes` is off)."""
        self.server.hit(
            self.name,
            "funnel_rows",
            start=start,
            end=end,
            team_ids=team_ids,
            after_lead_id=after_lead_id,
            limit=limit,
        )
        if self.server.old_addon:
            raise _json2_error(
                404, "werkzeug.exceptions.NotFound", f"The method '{self.name}.funnel_rows' does not exist"
            )
        lead_ids = sorted(lead["id"] for lead in self.server.tables["crm.lead"] if lead["id"] > after_lead_id)
        page_ids = set(lead_ids[:limit])
        stays = sorted(
            (s for s in self.server.tables[self.name] if _key(s["lead_id"]) in page_ids),
            key=lambda s: (_key(s["lead_id"]), s["date_in"], s["id"]),
        )
        if self.server.prunes:
            dates: dict[int, list[str]] = {}
            for stay in stays:
                dates.setdefault(_key(stay["lead_id"]), []).append(stay["date_in"])
            teams = {_key(s["lead_id"]) for s in stays if _key(s["team_id"]) in (team_ids or ())}
            kept = {
                lead
                for lead, entries in dates.items()
                if not (start and min(entries) < start)
                and not (end and min(entries) >= end)
                and (not team_ids or lead in teams)
            }
            stays = [s for s in stays if _key(s["lead_id"]) in kept]
        leads = sorted(
            (
                lead
                for lead in self.server.tables["crm.lead"]
                if lead["id"] in {_key(s["lead_id"]) for s in stays}
            ),
            key=lambda lead: lead["id"],
        )
        page = Row(
            stays={
                **{
                    f: [_key(s[f]) or 0 for s in stays] for f in ("lead_id", "stage_id", "user_id", "team_id")
                },
                "date_in": [s["date_in"] for s in stays],
                "date_out": [s["date_out"] or False for s in stays],
            },
            leads={
                **{f: [lead[f] for lead in leads] for f in ("id", *LEAD_FIELDS)},
                **{
                    f: [_key(lead[f]) or 0 for lead in leads]
                    for f in ("lost_reason_id", "source_id", "campaign_id")
                },
            },
            next_lead_id=max(page_ids) if len(page_ids) == limit else False,
        )
        self.server.served.append((self.name, weakref.ref(page)))
        return page

    def search(self, domain, offset=0, limit=None, order=None, context=None):
        rows = self.search_read(domain, ["id"], offset, limit, order, context)
        return [r["id"] for r in rows]

    def search_count(self, domain, context=None):
        self.server.hit(self.name, "search_count", domain=domain)
        return len(self.server.matching(self.name, domain, context))

    def read(self, ids, fields=None, context=None):
        self.server.hit(self.name, "read", ids=ids, fields=fields)
        wanted = set(ids)
        rows = [{"id": r["id"], **{f: r.get(f) for f in fields or r}} for r in self.server.tables[self.name]]
        rows = [r for r in rows if r["id"] in wanted]
        return rows[0] if len(rows) == 1 else rows  # odoolib's JSON-2 read: a bare dict for one row


class FakeConnection:
    """odoolib's ``Json2Connection`` as the extractor uses it."""

    def __init__(self, server: FakeOdoo, database: str = "pipeline") -> None:
        self.server = server
        self.database = database
        self.connector = SimpleNamespace(url="http://odoo.test:8069/json/2/")

    def get_model(self, name: str) -> FakeModel:
        return FakeModel(self.server, name)

    def get_user_context(self) -> dict[str, Any]:
        self.server.hit("res.users", "context_get")
        return {"lang": self.server.lang, "tz": "Europe/Brussels", "uid": 2}


# ------------------------------------------------------------------------------------------------------
# a small CRM
# ------------------------------------------------------------------------------------------------------

STAGES = [
    {"id": 1, "name": "New", "sequence": 1},
    {"id": 2, "name": "Qualified", "sequence": 2},
    {"id": 3, "name": "Proposition", "sequence": 3},
    {"id": 4, "name": "Won", "sequence": 70},
]
TEAMS = [{"id": 1, "name": "Europe"}, {"id": 2, "name": "America"}]
TAGS = [{"id": 5, "name": "Software"}, {"id": 6, "name": "Hardware"}]
EUROPE, AMERICA = [1, "Europe"], [2, "America"]
# crm.stage.target rows (conversion in percent, 0 = no target): Qualified for everyone, New for Europe
TARGETS = [
    {
        "id": 1,
        "stage_id": [2, "Qualified"],
        "team_id": False,
        "user_id": False,
        "product_tag_id": False,
        "target_conversion_rate": 50.0,
        "target_days_in_stage": 10.0,
    },
    {
        "id": 2,
        "stage_id": [1, "New"],
        "team_id": EUROPE,
        "user_id": False,
        "product_tag_id": [5, "Software"],
        "target_conversion_rate": 0.0,
        "target_days_in_stage": 3.0,
    },
]


def _lead(lead_id: int, won_status: str = "pending", active: bool = True, tags=()) -> dict[str, Any]:
    return {
        "id": lead_id,
        "name": f"Lead {lead_id}",
        "won_status": won_status,
        "active": active,
        "lost_reason_id": [1, "Too expensive"] if won_status == "lost" else False,
        "source_id": [3, "Website"],
        "campaign_id": False,
        "tag_ids": list(tags),
        "expected_revenue": 1000.0 * lead_id,
        "date_closed": "2024-03-25 12:00:00" if won_status != "pending" else False,
        "write_date": "2024-03-25 12:00:00",
    }


# (lead, stage, date_in, date_out, team); leads and their first stay:
#   1: 2024-02-28 (before March)            2: 2024-03-01 00:00:00 (first second of March)
#   3: 2024-03-10, a later stay in April    4: 2024-03-31 23:59:59 (last second of March), America
#   5: 2024-04-01 00:00:00 (after March)    6: 2024-03-15, lost and archived
_STAYS = [
    (1, 1, "2024-02-28 10:00:00", "2024-03-05 10:00:00", EUROPE),
    (1, 2, "2024-03-05 10:00:00", False, EUROPE),
    (2, 1, "2024-03-01 00:00:00", "2024-03-02 08:00:00", EUROPE),
    (2, 2, "2024-03-02 08:00:00", "2024-03-20 08:00:00", EUROPE),
    (2, 4, "2024-03-20 08:00:00", "2024-03-20 08:00:00", EUROPE),
    (3, 1, "2024-03-10 09:00:00", "2024-04-02 09:00:00", EUROPE),
    (3, 3, "2024-04-02 09:00:00", False, AMERICA),
    (4, 1, "2024-03-31 23:59:59", False, AMERICA),
    (5, 1, "2024-04-01 00:00:00", False, EUROPE),
    (6, 1, "2024-03-15 12:00:00", "2024-03-16 12:00:00", EUROPE),
    (6, 2, "2024-03-16 12:00:00", "2024-03-25 12:00:00", EUROPE),
]


def crm_tables() -> dict[str, list[dict[str, Any]]]:
    stays = [
        {
            "id": stay_id,
            "lead_id": [lead, f"Lead {lead}"],
            "stage_id": [stage, next(s["name"] for s in STAGES if s["id"] == stage)],
            "date_in": date_in,
            "date_out": date_out,
            "user_id": [7, "Sally"],
            "team_id": team,
        }
        for stay_id, (lead, stage, date_in, date_out, team) in enumerate(_STAYS, start=10)
    ]
    leads = [
        _lead(1, tags=[5]),
        _lead(2, "won", tags=[6, 5]),
        _lead(3),
        _lead(4),
        _lead(5),
        _lead(6, "lost", active=False),
    ]
    return {
        HISTORY: stays,
        "crm.lead": leads,
        "crm.stage": list(STAGES),
        "crm.team": list(TEAMS),
        "crm.tag": list(TAGS),
        "crm.stage.target": [dict(row) for row in TARGETS],
        "res.users": [
            {"id": 2, "name": "Sally", "company_id": [1, "My Company"]},
            {"id": 7, "name": "Sally"},
        ],
        "utm.source": [{"id": 3, "name": "Website"}],
        "crm.lost.reason": [{"id": 1, "name": "Too expensive"}],
        "res.company": [{"id": 1, "name": "My Company", "currency_id": [125, "EUR"]}],
        # the chatter: the completed activities (none here; see test_funnel_activity_extract.py)
        "mail.message": [],
    }


def expected_table(tables: dict[str, list[dict[str, Any]]], lead_ids: set[int], teams=None) -> pd.DataFrame:
    """What the extractor must return: the stays of those leads (and teams) straight from the stored rows,
    their many2one values ``[id, name]`` split into the ids and the names they carry -- what ``search_read``
    with names shows --, mapped by ``transitions_from_ids``."""
    stays = [
        s
        for s in tables[HISTORY]
        if s["lead_id"][0] in lead_ids and (teams is None or s["team_id"][0] in teams)
    ]
    names: dict[str, dict[int, str]] = {field: {} for field in NAMED_FIELDS}
    names["tag_ids"] = {t["id"]: t["name"] for t in tables["crm.tag"]}

    def ids(rows: list[dict[str, Any]], field: str) -> list[int]:
        for value in (row[field] for row in rows):
            if value and field in names:
                names[field][value[0]] = value[1]
        return [_key(row[field]) or 0 for row in rows]

    stay_columns = {field: ids(stays, field) for field in ("lead_id", "stage_id", "user_id", "team_id")}
    stay_columns |= {field: [s[field] for s in stays] for field in ("date_in", "date_out")}
    leads = tables["crm.lead"]
    lead_columns = {field: [x[field] for x in leads] for field in ("id", *LEAD_FIELDS)}
    lead_columns |= {field: ids(leads, field) for field in ("lost_reason_id", "source_id", "campaign_id")}
    stages = {x["id"]: (x["name"], x["sequence"]) for x in tables["crm.stage"]}
    table = transitions_from_ids(stay_columns, lead_columns, stages, names)
    return table.sort_values(["lead_id", "entered_at"], kind="stable").reset_index(drop=True)


# campaigns (``utm.campaign``: ``display_name`` is the title, what a lead's ``campaign_id`` names; ``name``
# the unique identifier) and the leads they brought
CAMPAIGNS = [
    {"id": 1, "name": "spring-fair", "display_name": "Spring fair", "cost": 1200.0},
    {"id": 2, "name": "trade-show", "display_name": "Trade show", "cost": 300.0, "active": False},
    {"id": 3, "name": "newsletter", "display_name": "Newsletter", "cost": 0.0},
    {"id": 4, "name": "radio-ad", "display_name": "Radio ad", "cost": 500.0},  # no lead
    {"id": 5, "name": "spring-fair-2", "display_name": "Spring fair", "cost": 100.0},  # same title
]
CAMPAIGN_OF_LEAD = {
    1: [1, "Spring fair"],
    2: [1, "Spring fair"],
    3: [5, "Spring fair"],
    4: [2, "Trade show"],
    5: [2, "Trade show"],
}


def campaign_server() -> FakeOdoo:
    """The small CRM with campaign costs (the addon's ``cost`` field, for sales managers only)."""
    tables = crm_tables()
    for lead in tables["crm.lead"]:
        lead["campaign_id"] = CAMPAIGN_OF_LEAD.get(lead["id"], False)
    tables["utm.campaign"] = [dict(row) for row in CAMPAIGNS]
    tables["crm.lead.probability.snapshot"] = []  # the addon keeps month-end snapshots: none yet
    server = FakeOdoo(tables)
    server.fields["utm.campaign"] = {"id", "name", "title", "display_name", "active", "cost"}
    return server


@pytest.fixture
def server() -> FakeOdoo:
    return FakeOdoo(crm_tables())


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The backoff delays the extractor waited (without waiting)."""
    delays: list[float] = []
    monkeypatch.setattr(extract.time, "sleep", delays.append)
    return delays


# ------------------------------------------------------------------------------------------------------
# URL parsing
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "protocol", "expected"),
    [
        ("http://localhost:8069", "json2", ("localhost", 8069, "json2", "http://localhost:8069")),
        ("http://localhost:8069/", "xmlrpc", ("localhost", 8069, "xmlrpc", "http://localhost:8069")),
        ("localhost:8069", "jsonrpc", ("localhost", 8069, "jsonrpc", "http://localhost:8069")),
        (
            "https://odoo.example.com",
            "json2",
            ("odoo.example.com", 443, "json2s", "https://odoo.example.com"),
        ),
        (
            "https://odoo.example.com:8443",
            "xmlrpc",
            ("odoo.example.com", 8443, "xmlrpcs", "https://odoo.example.com:8443"),
        ),
        (
            "HTTPS://Odoo.Example.com",
            "jsonrpc",
            ("odoo.example.com", 443, "jsonrpcs", "https://odoo.example.com"),
        ),
        ("http://odoo.example.com", "json2", ("odoo.example.com", 80, "json2", "http://odoo.example.com")),
        (
            "http://10.0.0.5:8069/odoo/crm?debug=1",
            "json2",
            ("10.0.0.5", 8069, "json2", "http://10.0.0.5:8069"),
        ),
        ("http://host:8069/web#action=12", "json2", ("host", 8069, "json2", "http://host:8069")),
        ("http://[::1]:8069", "json2", ("[::1]", 8069, "json2", "http://[::1]:8069")),
    ],
)
def test_parse_url(url, protocol, expected):
    address = parse_url(url, protocol)
    assert (address.hostname, address.port, address.protocol, address.url) == expected


@pytest.mark.parametrize(
    ("url", "protocol", "message"),
    [
        ("ftp://odoo.example.com", "json2", "must start with http:// or https://"),
        ("http://:8069", "json2", "names no host"),
        ("http://localhost:99999", "json2", "port is not a number"),
        ("http://localhost:8069/api/v1", "json2", "without a path (e.g. http://localhost:8069)"),
        ("", "json2", "no server URL given"),
        ("http://localhost:8069", "soap", "unknown protocol 'soap': use one of json2, xmlrpc, jsonrpc"),
    ],
)
def test_parse_url_refuses(url, protocol, message):
    with pytest.raises(ExtractError, match="^.*" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_url(url, protocol)


# ------------------------------------------------------------------------------------------------------
# extraction
# ------------------------------------------------------------------------------------------------------


def _pages(server: FakeOdoo) -> list[tuple[int, int]]:
    """(after_lead_id, limit) of each page the extractor asked ``funnel_rows`` for."""
    return [(c["after_lead_id"], c["limit"]) for c in server.calls_to(HISTORY, "funnel_rows")]


def test_whole_history_read_in_pages_of_leads_by_id(server):
    table = extract_transitions(FakeConnection(server), page_size=4)

    pd.testing.assert_frame_equal(table, expected_table(server.tables, {1, 2, 3, 4, 5, 6}))
    # 6 leads, 4 per page: 2 pages, the second after the last lead id of the first, never an offset
    assert _pages(server) == [(0, 4), (4, 4)]
    assert server.calls_to(HISTORY) == []  # no search_read of the stays
    assert server.calls_to("crm.lead") == []  # the leads come with their stays


def test_page_boundary_on_the_last_lead_needs_one_empty_page(server):
    server.tables["crm.lead"] = server.tables["crm.lead"][:4]
    server.tables[HISTORY] = server.tables[HISTORY][:8]
    table = extract_transitions(FakeConnection(server), page_size=2)
    assert len(table) == 8
    assert _pages(server) == [(0, 2), (2, 2), (4, 2)]


def large_crm(leads: int) -> dict[str, list[dict[str, Any]]]:
    """The small CRM's stages, teams and tags with ``leads`` leads of three stays each (New, Qualified,
    then Won, lost or still in Qualified), stay ids interleaved across leads as in a real history."""
    tables = crm_tables()
    tables["crm.lead"] = [
        _lead(lead, ("won", "lost", "pending")[lead % 3], active=lead % 3 != 1, tags=[5, 6][: lead % 3])
        for lead in range(1, leads + 1)
    ]
    stays = []
    for lead in range(1, leads + 1):
        day = 1 + lead % 28
        path = [(1, f"2024-03-{day:02d} 09:00:00"), (2, f"2024-04-{day:02d} 09:00:00")]
        path += [(4, f"2024-05-{day:02d} 09:00:00")] if lead % 3 == 0 else []
        for step, (stage, date_in) in enumerate(path):
            date_out = path[step + 1][1] if step + 1 < len(path) else False
            stays.append((step, lead, stage, date_in, date_out))
    tables[HISTORY] = [
        {
            "id": stay_id,
            "lead_id": [lead, f"Lead {lead}"],
            "stage_id": [stage, next(s["name"] for s in STAGES if s["id"] == stage)],
            "date_in": date_in,
            "date_out": date_out,
            "user_id": [7, "Sally"],
            "team_id": EUROPE if lead % 2 else AMERICA,
        }
        for stay_id, (_step, lead, stage, date_in, date_out) in enumerate(sorted(stays), start=100)
    ]
    return tables


def test_pages_of_bare_ids_are_kept_as_columns_no_page_outlives_its_turn():
    """Flat memory: the stays and their leads come in pages of bare ids (no display names), each page
    after the last lead id of the previous one, and each page is dropped once it is kept as compact
    columns: when the client asks for the next page, no earlier page is still alive."""
    server = FakeOdoo(large_crm(60))
    alive: list[tuple[str, int]] = []  # per call: the model called, rows of stays and leads still alive
    original = server.hit

    def hit(model, method, **kwargs):
        alive.append((model, sum(1 for m, row in server.served if m in (HISTORY, "crm.lead") and row())))
        return original(model, method, **kwargs)

    server.hit = hit
    table = extract_transitions(FakeConnection(server), page_size=25)

    pd.testing.assert_frame_equal(table, expected_table(server.tables, set(range(1, 61))))
    assert len(server.tables[HISTORY]) == 140
    assert _pages(server) == [(0, 25), (25, 25), (50, 25)]  # 2 full pages of leads and a short one
    # at every call, the pages served before are gone (the old extractor kept every stay as a dict)
    assert len(alive) > 4 and all(count == 0 for _model, count in alive), alive


def test_one_name_map_per_model_for_the_ids_seen():
    """Names come from one read per model of the ids the table shows (display names, as a many2one
    value carries them), not from every row."""
    server = FakeOdoo(large_crm(30))
    extract_transitions(FakeConnection(server), page_size=1000)
    reads = {
        model: [(c["domain"], c["fields"]) for c in server.calls_to(model)]
        for model in ("res.users", "crm.team", "crm.tag", "utm.source", "crm.lost.reason", "crm.stage")
    }
    assert reads == {
        "res.users": [([("id", "in", [7])], ["display_name"])],
        "crm.team": [([("id", "in", [1, 2])], ["display_name"])],
        "crm.tag": [([("id", "in", [5, 6])], ["display_name"])],
        "utm.source": [([("id", "in", [3])], ["display_name"])],
        "crm.lost.reason": [([("id", "in", [1])], ["display_name"])],
        "crm.stage": [([("id", "in", [1, 2, 4])], ["name", "sequence"])],
    }
    assert server.calls_to("utm.campaign") == []  # no lead has a campaign


class XmlRpcConnector(odoolib.rpc.Connector):
    """odoolib's XML-RPC connector, the server being a :class:`FakeOdoo`: arguments are marshalled as
    XML-RPC marshals them (``None`` refused), the call is answered by the fake model."""

    def __init__(self, server: FakeOdoo) -> None:
        self.server = server
        self.url = "http://odoo.test:8069/xmlrpc"
        self.sent: list[tuple[str, str]] = []

    def send(self, service_name, method, *args):
        xmlrpc.client.dumps(args, allow_none=False)
        database, uid, password, model, model_method, positional, named = args
        self.sent.append((model, model_method))
        if model_method == "context_get":
            return FakeConnection(self.server).get_user_context()
        return getattr(FakeModel(self.server, model), model_method)(*positional, **named)


def test_older_protocols_call_the_servers_methods_once_per_page(server):
    """odoolib's XML-RPC / JSON-RPC model proxy has a ``search_read`` of its own (a search, then a read,
    without ``load``): the extractor calls the server's methods as they are, once per page, with
    arguments XML-RPC can send (no ``None``)."""
    connector = XmlRpcConnector(server)
    connection = odoolib.rpc.Connection(connector, "pipeline", "me", "key", user_id=2)
    table = extract_transitions(connection, "2024-03-01", page_size=4)

    pd.testing.assert_frame_equal(table, expected_table(server.tables, {2, 3, 4, 5, 6}))
    assert [call for call in connector.sent if call[0] == HISTORY] == [(HISTORY, "funnel_rows")] * 2
    assert {method for _model, method in connector.sent} == {"context_get", "funnel_rows", "search_read"}
    assert all(p["load"] == "" for p in server.calls_to("crm.stage"))


def test_stages_and_tags_read_in_chunks_archived_leads_included(server):
    table = extract_transitions(FakeConnection(server), page_size=3)

    assert [c["domain"] for c in server.calls_to("crm.stage")] == [
        [("id", "in", [1, 2, 3])],
        [("id", "in", [4])],
    ]
    assert server.calls_to("crm.tag")[0]["domain"] == [("id", "in", [5, 6])]
    # lead 6 is lost and archived: still read (active_test off), and lost
    lost = table[table["lead_id"] == 6]
    assert set(lost["outcome"]) == {"lost"} and set(lost["lost_reason"]) == {"Too expensive"}
    assert table.loc[table["lead_id"] == 2, "product"].iloc[0] == "Hardware, Software"


def test_period_is_the_first_stay_of_the_lead_both_days_inclusive(server):
    """As the addon's funnel report: leads whose first stay began in March; all their stays."""
    table = extract_transitions(FakeConnection(server), date_from="2024-03-01", date_to=date(2024, 3, 31))

    # 1 began in February (left out though it has a March stay); 5 in April; 3 keeps its April stay
    pd.testing.assert_frame_equal(table, expected_table(server.tables, {2, 3, 4, 6}))
    assert table.loc[table["lead_id"] == 3, "stage"].tolist() == ["New", "Proposition"]


@pytest.mark.parametrize(
    ("date_from", "date_to", "leads"),
    [
        ("2024-03-01", None, {2, 3, 4, 5, 6}),
        (None, "2024-03-31", {1, 2, 3, 4, 6}),
        (None, "2024-02-28", {1}),
        ("2024-03-31", "2024-03-31", {4}),
        ("2024-04-01", "2024-04-30", {5}),
        ("2024-03-02", "2024-03-31", {3, 4, 6}),
    ],
)
def test_period_bounds(server, date_from, date_to, leads):
    table = extract_transitions(FakeConnection(server), date_from=date_from, date_to=date_to, page_size=3)
    assert set(table["lead_id"]) == leads


@pytest.mark.parametrize(
    ("tz", "leads"),
    [
        ("UTC", {2, 3, 4, 6}),
        # March in Brussels: 2024-02-29 23:00 to 2024-03-31 22:00 UTC (summer time from the 31st)
        ("Europe/Brussels", {2, 3, 6}),
        # March in Honolulu: 2024-03-01 10:00 to 2024-04-01 10:00 UTC
        ("Pacific/Honolulu", {3, 4, 5, 6}),
    ],
)
def test_period_days_are_counted_in_the_time_zone_asked_for(server, tz, leads):
    connection = FakeConnection(server)
    table = extract_transitions(connection, date_from="2024-03-01", date_to="2024-03-31", tz=tz)
    assert set(table["lead_id"]) == leads
    everything = extract_transitions(connection)
    selected = extract.select_period(everything, "2024-03-01", "2024-03-31", tz=tz)
    pd.testing.assert_frame_equal(selected, table)


def test_unknown_time_zone_is_refused(server):
    with pytest.raises(ExtractError, match="unknown time zone 'Mars/Olympus'"):
        extract_transitions(FakeConnection(server), date_from="2024-03-01", tz="Mars/Olympus")


def test_teams_select_the_leads_with_a_stay_in_them_with_their_whole_history(server):
    connection = FakeConnection(server)
    by_name = extract_transitions(connection, "2024-03-01", "2024-03-31", teams=["America"])
    by_id = extract_transitions(connection, "2024-03-01", "2024-03-31", teams=[2])
    by_text_id = extract_transitions(connection, "2024-03-01", "2024-03-31", teams=["2"])

    # lead 3 entered in Europe and moved to America: all its stays are in, the cohort is still March's
    expected = expected_table(server.tables, {3, 4})
    for table in (by_name, by_id, by_text_id):
        pd.testing.assert_frame_equal(table, expected)
    assert by_name[["lead_id", "stage", "team"]].values.tolist() == [
        [3, "New", "Europe"],
        [3, "Proposition", "America"],
        [4, "New", "America"],
    ]
    # the period's bounds and the teams go to the server, which leaves out the leads out of them: no list
    # of lead ids
    [page] = server.calls_to(HISTORY, "funnel_rows")[-1:]
    assert (page["start"], page["end"], page["team_ids"]) == (
        "2024-03-01 00:00:00",
        "2024-04-01 00:00:00",
        [2],
    )
    # the teams' own stays, for the numbers of the Funnel report filtered on them
    for teams in (["America"], [2], ["2"]):
        assert extract.team_stays(by_name, teams).tolist() == [False, True, True]


@pytest.mark.parametrize(
    ("date_from", "date_to", "teams"),
    [("2024-03-01", "2024-03-31", None), ("2024-03-02", None, ["Europe"]), (None, "2024-03-31", ["America"])],
)
def test_which_leads_are_in_scope_is_cohort_rows_rule_the_domain_only_prunes(
    server, date_from, date_to, teams
):
    """The server leaves out leads that cannot be in scope; the decision is funnel_metrics.cohort_rows'
    (the addon's reports' rule): a server that left nothing out gives the same table."""
    pruned = extract_transitions(FakeConnection(server), date_from, date_to, teams=teams)
    server.prunes = False
    unpruned = extract_transitions(FakeConnection(server), date_from, date_to, teams=teams)
    pd.testing.assert_frame_equal(unpruned, pruned)


def test_unknown_team_lists_the_known_ones(server):
    with pytest.raises(
        ExtractError, match=r"unknown sales team\(s\): Asia, 99; teams in this database: America, Europe"
    ):
        extract_transitions(FakeConnection(server), teams=["Asia", "Europe", 99])


def test_context_has_the_users_language_and_active_test_off(server, monkeypatch):
    seen: list[dict[str, Any]] = []
    original = FakeModel.search_read

    def spy(self, domain=None, fields=None, offset=0, limit=None, order=None, context=None, **read):
        seen.append(context)
        return original(self, domain, fields, offset, limit, order, context, **read)

    monkeypatch.setattr(FakeModel, "search_read", spy)
    server.lang = "fr_FR"
    extract_transitions(FakeConnection(server))
    assert seen and all(c == {"active_test": False, "lang": "fr_FR"} for c in seen)


def test_empty_period_says_so(server):
    with pytest.raises(
        ExtractError,
        match=r"^no stage history between 2030-01-01 and 2030-01-31 in database 'pipeline' .*widen the",
    ):
        extract_transitions(FakeConnection(server), date_from="2030-01-01", date_to="2030-01-31")
    with pytest.raises(ExtractError, match=r"no stage history since 2030-01-01 for team\(s\) Europe"):
        extract_transitions(FakeConnection(server), date_from="2030-01-01", teams=["Europe"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"date_from": "2024-04-01", "date_to": "2024-03-01"},
            "the period ends (2024-03-01) before it starts",
        ),
        (
            {"date_from": "01/03/2024"},
            "date_from: cannot read '01/03/2024' as a day: use ISO 8601, year first, e.g. 2026-11-23",
        ),
        ({"page_size": 0}, "page size must be at least 1"),
    ],
)
def test_bad_arguments(server, kwargs, message):
    with pytest.raises(ExtractError) as info:
        extract_transitions(FakeConnection(server), **kwargs)
    assert message in str(info.value)
    assert server.calls == []


def test_progress_bars_go_to_stderr(server, capsys):
    table = extract_transitions(FakeConnection(server), "2024-03-01", "2024-03-31", progress=True)
    assert len(table) == 8
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "stays" in captured.err


# ------------------------------------------------------------------------------------------------------
# failures
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionResetError(104, "Connection reset by peer"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        ValueError("Unexpected status code 502: <html>Bad Gateway</html>"),
        _json2_error(503, "werkzeug.exceptions.ServiceUnavailable", "Service Unavailable"),
        TimeoutError("timed out"),
    ],
    ids=["reset", "httpx-timeout", "disconnected", "502", "503", "socket-timeout"],
)
def test_transient_failure_is_retried_with_backoff(server, sleeps, failure):
    expected = extract_transitions(FakeConnection(FakeOdoo(crm_tables())), page_size=4)
    server.failures = [failure, failure]
    table = extract_transitions(FakeConnection(server), page_size=4)

    pd.testing.assert_frame_equal(table, expected)
    assert sleeps == [1.0, 2.0]
    assert server.calls[:3] == [("res.users", "context_get", {})] * 3


def test_transient_failure_in_the_middle_of_paging_resumes_the_same_page(server, sleeps):
    connection = FakeConnection(server)
    original = FakeModel.funnel_rows
    failed: list[bool] = []

    def flaky(self, start=False, end=False, team_ids=False, after_lead_id=0, limit=20000, context=None):
        if after_lead_id == 2 and not failed:
            failed.append(True)
            raise httpx.ReadError("Connection reset by peer")
        return original(self, start, end, team_ids, after_lead_id, limit, context)

    FakeModel.funnel_rows = flaky
    try:
        table = extract_transitions(connection, page_size=2, backoff=0.25)
    finally:
        FakeModel.funnel_rows = original
    assert len(table) == 11
    assert sleeps == [0.25]
    assert _pages(server) == [(0, 2), (2, 2), (4, 2), (6, 2)]


def test_retries_run_out(server, sleeps):
    server.failures = [ConnectionResetError(104, "Connection reset by peer")] * 4
    with pytest.raises(ExtractError, match=r"kept failing while reading res.users after 3 attempt\(s\)"):
        extract_transitions(FakeConnection(server), retries=2)
    assert sleeps == [1.0, 2.0]


@pytest.mark.parametrize(
    "failure",
    [
        AuthenticationError("Authentication failed. Please check your API key."),
        AuthenticationError("Authentication failure"),
    ],
)
def test_login_error_is_not_retried(server, sleeps, failure):
    server.failures = [failure]
    with pytest.raises(ExtractError) as info:
        extract_transitions(FakeConnection(server))
    message = str(info.value)
    assert message.startswith(
        "the Odoo server at http://odoo.test:8069 refused the login for database 'pipeline'"
    )
    assert "FUNNEL_METRICS_API_KEY" in message and "New API Key" in message
    assert sleeps == [] and len(server.calls) == 1


def test_access_error_is_not_retried(server, sleeps):
    server.failures = [
        _json2_error(403, "odoo.exceptions.AccessError", "You are not allowed to access 'Lead Stage History'")
    ]
    with pytest.raises(ExtractError, match=r"Odoo refused to let this user read res.users .*not allowed"):
        extract_transitions(FakeConnection(server))
    assert sleeps == []


def test_database_without_the_stage_history_module(server, sleeps):
    del server.tables[HISTORY]
    with pytest.raises(ExtractError) as info:
        extract_transitions(FakeConnection(server))
    assert str(info.value) == (
        "database 'pipeline' has no stage history (model crm.lead.stage.history is missing): "
        "install the crm_stage_history module in that database (Apps › Stage History)"
    )
    assert sleeps == []


def test_database_with_an_older_stage_history_module_says_to_upgrade_it(server, sleeps):
    """An addon older than this package has no ``funnel_rows``: Odoo answers 404, and the message says
    which module to upgrade rather than to check the database name."""
    server.old_addon = True
    with pytest.raises(ExtractError) as info:
        extract_transitions(FakeConnection(server))
    assert str(info.value) == (
        "database 'pipeline' has an older crm_stage_history, without the read this export uses "
        "(werkzeug.exceptions.NotFound The method 'crm.lead.stage.history.funnel_rows' does not exist): "
        "upgrade the crm_stage_history module in that database (Apps › Stage History › Upgrade)"
    )
    assert info.value.kind == "missing method"
    assert sleeps == []


def _xmlrpc_missing_model() -> Exception:
    """Odoo 19 on /xmlrpc (string fault codes) for a model that does not exist."""
    return xmlrpc.client.Fault("warning -- UserError\n\nObject crm.lead.stage.history doesn't exist", "")


def _jsonrpc_missing_model() -> Exception:
    """Odoo 19 on /jsonrpc, as odoolib raises it."""
    error = {"name": "odoo.exceptions.UserError", "message": "Object crm.lead.stage.history doesn't exist"}
    return JsonRPCException({"code": 200, "message": "Odoo Server Error", "data": error})


@pytest.mark.parametrize("make_failure", [_xmlrpc_missing_model, _jsonrpc_missing_model])
def test_missing_model_over_the_older_protocols(server, make_failure):
    failure = make_failure()
    original = FakeOdoo.hit

    def hit(self, model, method, **kwargs):
        if model == HISTORY:
            raise failure
        return original(self, model, method, **kwargs)

    server.hit = hit.__get__(server)
    with pytest.raises(ExtractError, match="install the crm_stage_history module"):
        extract_transitions(FakeConnection(server))


def test_other_server_error_is_reported_with_its_message(server, sleeps):
    original = FakeOdoo.hit

    def hit(self, model, method, **kwargs):
        if model == "crm.stage":
            raise _json2_error(422, "werkzeug.exceptions.UnprocessableEntity", "Invalid field 'sequence'")
        return original(self, model, method, **kwargs)

    server.hit = hit.__get__(server)
    with pytest.raises(ExtractError) as info:
        extract_transitions(FakeConnection(server))
    assert str(info.value) == (
        "the Odoo server at http://odoo.test:8069 answered with an error while reading crm.stage "
        "(HTTP 422: werkzeug.exceptions.UnprocessableEntity Invalid field 'sequence')"
    )
    assert sleeps == []


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            # Odoo 19's JSON-2 answer to an X-Odoo-Database header naming no database of the server
            ValueError(
                "Unexpected status code 404: <!DOCTYPE html>\n<title>404 Not Found</title>\n"
                "<h1>Not Found</h1>\n"
                "<p>No database is selected and the requested URL was not found in the server-wide "
                "controllers.</p>"
            ),
            "the Odoo server at http://odoo.test:8069 has no database 'pipeline': check --db",
        ),
        (
            xmlrpc.client.Fault('psycopg2.OperationalError: database "pipeline" does not exist', ""),
            "the Odoo server at http://odoo.test:8069 has no database 'pipeline': check --db",
        ),
        (
            ValueError("Unexpected status code 404: <html>Not Found</html>"),
            "the Odoo server at http://odoo.test:8069 answered 404 (not found) to a call on res.users: check "
            "--db, and that the server runs Odoo 19 (for older servers use --protocol xmlrpc)",
        ),
    ],
    ids=["json2", "xmlrpc", "not-odoo-19"],
)
def test_unknown_database(server, sleeps, failure, message):
    server.failures = [failure]
    with pytest.raises(ExtractError) as info:
        extract_transitions(FakeConnection(server))
    assert str(info.value) == message
    assert sleeps == []


def test_rows_accepts_odoolibs_single_dict():
    assert extract._rows({"id": 4, "name": "x"}) == [{"id": 4, "name": "x"}]
    assert extract._rows(False) == [] and extract._rows([]) == []
    assert extract._rows([{"id": 1}, {"id": 2}]) == [{"id": 1}, {"id": 2}]
    # the fake server reproduces the quirk the guard is for
    assert FakeModel(FakeOdoo(crm_tables()), "crm.stage").read([2], ["name"]) == {
        "id": 2,
        "name": "Qualified",
    }


# ------------------------------------------------------------------------------------------------------
# campaign costs
# ------------------------------------------------------------------------------------------------------


def _utc(*days: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(days), utc=True), dtype="datetime64[ns, UTC]")


def test_campaign_costs_on_the_month_of_the_first_lead(sleeps):
    server = campaign_server()
    connection = FakeConnection(server)
    table = extract_transitions(connection)
    notes: list[str] = []
    costs = extract_campaign_costs(connection, table, note=notes.append)

    expected = pd.DataFrame(
        {
            "campaign": pd.Series(["Radio ad", "Spring fair", "Trade show"], dtype="string"),
            # Spring fair: lead 1 entered 2024-02-28; Trade show (archived): lead 4, 2024-03-31 23:59:59;
            # Radio ad has no lead: the month of the table's first entry
            "period": _utc("2024-02-01", "2024-02-01", "2024-03-01"),
            "cost": [500.0, 1300.0, 300.0],  # both campaigns titled Spring fair; not Newsletter (no cost)
        }
    )
    pd.testing.assert_frame_equal(costs, expected)
    assert notes == [] and sleeps == []
    # the campaigns' names for the table (those of its leads), then the costs
    [names, call] = server.calls_to("utm.campaign")
    assert names["domain"] == [("id", "in", [1, 2, 5])] and names["fields"] == ["display_name"]
    assert call["domain"] == [("cost", ">", 0), ("id", ">", 0)]
    assert call["fields"] == list(CAMPAIGN_FIELDS)

    # per campaign, the whole cost over the campaign's leads
    result = cost_per_lead(table, costs, by="campaign")
    totals = result.groupby("campaign")[["leads", "cost"]].sum()
    assert totals.loc["Spring fair"].tolist() == [3, 1300.0]
    assert totals.loc["Trade show"].tolist() == [2, 300.0]
    assert totals.loc["Radio ad"].tolist() == [0, 500.0]


def test_campaign_costs_of_a_period(sleeps):
    connection = FakeConnection(campaign_server())
    table = extract_transitions(connection, "2024-03-01", "2024-03-31")  # leads 2, 3, 4 and 6
    costs = extract_campaign_costs(connection, table)
    assert costs["period"].tolist() == _utc("2024-03-01", "2024-03-01", "2024-03-01").tolist()
    assert costs["cost"].tolist() == [500.0, 1300.0, 300.0]


def test_campaign_costs_not_readable_by_a_salesman(sleeps):
    server = campaign_server()
    server.restricted.add(("utm.campaign", "cost"))
    connection = FakeConnection(server)
    table = extract_transitions(connection)
    notes: list[str] = []
    assert extract_campaign_costs(connection, table, note=notes.append) is None
    assert notes == ["campaign costs not read: only sales managers may read them; pass --costs CSV"]
    assert len([c for c in server.calls_to("utm.campaign") if "cost" in c["fields"]]) == 1 and sleeps == []
    # what the retrying caller raises for it: an access error, not retried
    with pytest.raises(ExtractError, match="Odoo refused to let this user read utm.campaign") as info:
        extract.RpcCaller(connection, 3, 1.0).call(
            "utm.campaign", FakeModel(server, "utm.campaign").search_read, [], ["cost"]
        )
    assert info.value.kind == "access" and sleeps == []


def test_campaign_costs_without_the_cost_field_older_addon(sleeps):
    server = campaign_server()
    server.fields["utm.campaign"].discard("cost")
    connection = FakeConnection(server)
    table = extract_transitions(connection)
    notes: list[str] = []
    assert extract_campaign_costs(connection, table, note=notes.append) is None
    assert notes == [
        "campaign costs not read: database 'pipeline' has no campaign cost (update the crm_stage_history "
        "module); pass --costs CSV"
    ]
    # JSON-2 answers an unknown field with HTTP 500, yet it is not retried
    assert len([c for c in server.calls_to("utm.campaign") if "cost" in c["fields"]]) == 1 and sleeps == []


def test_campaign_costs_other_failures_are_errors(sleeps):
    server = campaign_server()
    connection = FakeConnection(server)
    table = extract_transitions(connection)
    failure = ConnectionResetError(104, "Connection reset by peer")
    original = FakeOdoo.hit

    def hit(self, model, method, **kwargs):
        if model == "utm.campaign":
            raise failure
        return original(self, model, method, **kwargs)

    server.hit = hit.__get__(server)
    with pytest.raises(ExtractError, match=r"kept failing while reading utm.campaign after 2 attempt\(s\)"):
        extract_campaign_costs(connection, table, retries=1, note=pytest.fail)
    assert sleeps == [1.0]


def test_campaign_costs_when_none_has_a_cost_or_the_table_no_campaign(sleeps):
    server = campaign_server()
    for row in server.tables["utm.campaign"]:
        row["cost"] = 0.0
    connection = FakeConnection(server)
    table = extract_transitions(connection)
    costs = extract_campaign_costs(connection, table)
    assert costs.empty and list(costs.columns) == ["campaign", "period", "cost"]

    server.tables["utm.campaign"][3]["cost"] = 50.0
    costs = extract_campaign_costs(connection, table.drop(columns="campaign"))
    assert costs.to_dict("list") == {
        "campaign": ["Radio ad"],
        "period": [pd.Timestamp("2024-02-01", tz="UTC")],
        "cost": [50.0],
    }


def test_unknown_field_is_not_transient():
    invalid = _json2_error(500, "builtins.ValueError", "Invalid field 'cost' on model 'utm.campaign'")
    xmlrpc_invalid = xmlrpc.client.Fault(
        1, "Traceback (most recent call last):\nValueError: Invalid field 'cost' on model 'utm.campaign'"
    )
    assert extract._classify(invalid) == extract._classify(xmlrpc_invalid) == "unknown field"
    assert extract._classify(_json2_error(500, "builtins.KeyError", "boom")) == "transient"


# ------------------------------------------------------------------------------------------------------
# connect: the real odoolib against a closed port
# ------------------------------------------------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("protocol", ["json2", "xmlrpc", "jsonrpc"])
def test_connect_to_a_closed_port_is_unreachable_and_not_retried(closed_port, sleeps, protocol):
    with pytest.raises(ExtractError) as info:
        connect(f"http://127.0.0.1:{closed_port}", "pipeline", "admin", "secret-key", protocol=protocol)
    message = str(info.value)
    assert message.startswith(f"cannot reach the Odoo server at http://127.0.0.1:{closed_port} (")
    assert message.endswith("check the URL and port, and that Odoo is running")
    assert "secret-key" not in message
    assert sleeps == []


def test_connect_to_an_unknown_host(sleeps):
    with pytest.raises(
        ExtractError, match=r"^cannot reach the Odoo server at http://no-such-host\.invalid:8069"
    ):
        connect("http://no-such-host.invalid:8069", "pipeline", "admin", "key")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("http://localhost:8069", "", "admin", "key"), "no database given"),
        (("http://localhost:8069", "db", "admin", ""), "no API key given: set FUNNEL_METRICS_API_KEY"),
        (("http://localhost:8069", "db", None, "key", "xmlrpc"), "xmlrpc needs the user's login"),
    ],
)
def test_connect_refuses_missing_credentials(args, message):
    with pytest.raises(ExtractError, match=message):
        connect(*args)


# ------------------------------------------------------------------------------------------------------
# select_period: the same filters on a table read from a file
# ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_from", "date_to", "teams"),
    [
        ("2024-03-01", "2024-03-31", None),
        ("2024-03-01", None, None),
        (None, "2024-03-31", ["America"]),
        ("2024-03-31", "2024-03-31", None),
        ("2024-03-01", "2024-03-31", ["Europe", "America"]),
        (None, None, [2]),
    ],
)
def test_select_period_matches_the_extractor(server, date_from, date_to, teams):
    connection = FakeConnection(server)
    everything = extract_transitions(connection)
    extracted = extract_transitions(connection, date_from, date_to, teams=teams)
    pd.testing.assert_frame_equal(extract.select_period(everything, date_from, date_to, teams), extracted)


def test_select_period_refuses_unknown_team_and_backwards_period(server):
    everything = extract_transitions(FakeConnection(server))
    with pytest.raises(
        ExtractError, match=r"unknown sales team\(s\): Asia; teams in the table: America, Europe"
    ):
        extract.select_period(everything, teams=["Asia"])
    with pytest.raises(ExtractError, match="before it starts"):
        extract.select_period(everything, "2024-05-01", "2024-04-01")
    assert extract.select_period(everything, "2030-01-01").empty


def test_select_period_keeps_the_whole_history_of_the_teams_leads(make_transitions):
    table = make_transitions(
        [(1, "New", 1, 0, 1, "open"), (1, "Qualified", 2, 1, None, "open"), (2, "New", 1, 0, None, "open")]
    )
    table["team"] = ["Europe", None, "Asia"]
    kept = extract.select_period(table, teams=["Europe"])
    assert kept[["lead_id", "stage"]].values.tolist() == [[1, "New"], [1, "Qualified"]]
    assert extract.team_stays(kept, ["Europe"]).tolist() == [True, False]


def test_team_stays_take_names_ids_and_numbers_as_text(server):
    table = extract_transitions(FakeConnection(server))
    europe = (table["team"] == "Europe").tolist()
    for teams in (["Europe"], [1], ["1"], [" Europe "]):
        assert extract.team_stays(table, teams).tolist() == europe
    assert extract.team_stays(table, ["Europe", 2]).all()
    with pytest.raises(ExtractError, match=r"unknown sales team\(s\): 3, Asia; teams in the table: America"):
        extract.team_stays(table, [3, "Asia"])


# ------------------------------------------------------------------------------------------------------
# stage targets and currency
# ------------------------------------------------------------------------------------------------------


def test_stage_targets_by_name_conversion_as_a_fraction_archived_left_out(server):
    server.tables["crm.stage.target"].append({**TARGETS[0], "id": 3, "active": False})
    targets = extract.extract_stage_targets(FakeConnection(server), page_size=1)
    assert list(targets.columns) == list(extract.TARGET_COLUMNS)
    assert [
        tuple(None if value is pd.NA else value for value in row) for row in targets.itertuples(index=False)
    ] == [
        ("Qualified", None, None, None, 0.5, 10.0),
        ("New", "Europe", None, "Software", 0.0, 3.0),
    ]
    assert len(server.calls_to("crm.stage.target")) == 3  # paged: one target per call, then an empty page


def test_currency_of_the_users_company(server):
    assert extract.extract_currency(FakeConnection(server)) == "EUR"
    server.tables["res.users"][0]["company_id"] = False
    assert extract.extract_currency(FakeConnection(server)) is None
