"""Read the transitions table from an Odoo 19 database over RPC.

The extractor talks to Odoo with its client SDK, ``odoolib`` (package ``odoo-client-lib``), over JSON-2 by
default (``POST /json/2/<model>/<method>`` with an API key; Odoo 19 deprecates XML-RPC and JSON-RPC), or
over XML-RPC / JSON-RPC for servers where JSON-2 is not an option. It reads the stays of the
``crm_stage_history`` addon (``crm.lead.stage.history``), the leads they belong to and the stages as
bare ids, page by page into compact columns, and one name map per model for the names the table shows,
and maps them with :func:`funnel_metrics.odoo_rows.transitions_from_ids` -- the same mapping the addon
uses -- so that a report built from an extract shows the numbers of the addon's own funnel report.

Typical use::

    connection = connect("https://odoo.example.com", "prod", "me@example.com", api_key)
    table = extract_transitions(connection, date_from="2025-01-01", date_to="2025-03-31", progress=True)

With ``teams``, the extractor reads what the addon's reports read when filtered on those teams: the whole
history of every lead that has a stay in one of them. :func:`team_stays` says which stays are the teams'
own; as ``selected``, it gives the numbers of the addon's Funnel report filtered on the teams::

    table = extract_transitions(connection, teams=["Europe"])
    europe = funnel_metrics.selection_funnel(table, team_stays(table, ["Europe"]))

:func:`extract_campaign_costs` reads the addon's campaign costs (``utm.campaign.cost``, sales managers only)
as a costs table for :func:`funnel_metrics.cost.cost_per_lead` by ``campaign``; :func:`extract_stage_targets`
its stage targets (``crm.stage.target``) as a targets table, by name; :func:`extract_currency` the currency
of the user's company, for the report's amounts.

Every failure a user can fix (unreachable server, refused login or key, a database without
``crm_stage_history``, an unknown team, an empty period) raises :class:`ExtractError` with a message that says
what to do. Transient failures (connection reset, time-outs, HTTP 5xx) are retried with exponential backoff.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from activity_centric.instants import parse_day
from funnel_metrics.cost import campaign_costs
from funnel_metrics.odoo_rows import STAGE_FIELDS, transitions_from_ids
from funnel_metrics.periods import cohort_rows

PROTOCOLS: tuple[str, ...] = ("json2", "xmlrpc", "jsonrpc")
"""Protocols :func:`connect` accepts; ``json2`` (Odoo 19's external API, API key as password) first."""

STAY_MODEL = "crm.lead.stage.history"
_INSTALL_HINT = "install the crm_stage_history module in that database (Apps › Stage History)"
_UPGRADE_HINT = "upgrade the crm_stage_history module in that database (Apps › Stage History › Upgrade)"
#: the addon's public, read-only method that pages the stage history (``crm.lead.stage.history``)
FUNNEL_ROWS_METHOD = "funnel_rows"

#: leads per page of the stage history, rows per ``search_read`` call, ids per ``in`` domain. Over JSON-2
#: every call costs a request, an API key check and a connection: on 379,140 stays, pages of 2,000 took
#: twice as long as pages of 20,000, and bigger ones gained nothing.
DEFAULT_PAGE_SIZE = 20000


class ExtractError(Exception):
    """Reading from Odoo failed for a reason the user can fix; the message says what to do.

    :ivar kind: what failed, when an Odoo call did (``"access"``, ``"unknown field"``, ``"transient"``...);
        ``None`` for errors found before calling Odoo
    """

    kind: str | None = None


# ------------------------------------------------------------------------------------------------------
# server address and connection
# ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerAddress:
    """Where an Odoo server listens, in the terms ``odoolib.get_connection`` takes.

    :ivar hostname: host name or IP address (an IPv6 address in brackets, as odoolib puts it in URLs)
    :ivar port: TCP port
    :ivar protocol: odoolib protocol name: ``json2``, ``xmlrpc`` or ``jsonrpc``, with an ``s`` appended
        (``json2s``, ``xmlrpcs``, ``jsonrpcs``) for HTTPS
    :ivar url: the server's base URL, for messages (``https://odoo.example.com``)
    """

    hostname: str
    port: int
    protocol: str
    url: str


# Paths of Odoo's web client that people copy from the browser; the API lives at the server's root.
_WEB_CLIENT_PATH = re.compile(r"^/(odoo|web)(/.*)?$|^/?$")


def parse_url(url: str, protocol: str = "json2") -> ServerAddress:
    """Split a server URL such as ``http://localhost:8069`` into what odoolib needs.

    :param url: ``http://host[:port]`` or ``https://host[:port]``; without a scheme, ``http`` is assumed.
        Without a port, 80 (http) or 443 (https). A path of Odoo's web client (``/odoo``, ``/web...``) is
        ignored; any other path is refused (odoolib talks to the server's root).
    :param protocol: ``json2`` (default), ``xmlrpc`` or ``jsonrpc``; an ``https`` URL selects the TLS
        variant odoolib offers (``json2s``, ``xmlrpcs``, ``jsonrpcs``).
    :raises ExtractError: unknown protocol or scheme, no host, bad port, a path odoolib cannot use.
    """
    if protocol not in PROTOCOLS:
        raise ExtractError(f"unknown protocol {protocol!r}: use one of {', '.join(PROTOCOLS)}")
    text = (url or "").strip()
    if not text:
        raise ExtractError("no server URL given: pass the Odoo address, e.g. --url http://localhost:8069")
    if "://" not in text:
        text = f"http://{text}"
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ExtractError(f"cannot use the URL {url!r}: it must start with http:// or https://")
    try:
        port = parts.port
    except ValueError:
        raise ExtractError(
            f"cannot use the URL {url!r}: the port is not a number between 0 and 65535"
        ) from None
    hostname = parts.hostname
    if not hostname:
        raise ExtractError(f"cannot use the URL {url!r}: it names no host (e.g. http://localhost:8069)")
    if not _WEB_CLIENT_PATH.match(parts.path):
        raise ExtractError(
            f"cannot use the URL {url!r}: give the server's address without a path "
            f"(e.g. {scheme}://{parts.netloc})"
        )
    if port is None:
        port = 443 if scheme == "https" else 80
    if ":" in hostname:  # IPv6 literal: odoolib formats f"{hostname}:{port}"
        hostname = f"[{hostname}]"
    default_port = 443 if scheme == "https" else 80
    base = f"{scheme}://{hostname}" + ("" if port == default_port else f":{port}")
    return ServerAddress(hostname, port, protocol + ("s" if scheme == "https" else ""), base)


def connect(
    url: str,
    database: str,
    login: str | None,
    api_key: str,
    protocol: str = "json2",
    retries: int = 3,
    *,
    backoff: float = 1.0,
) -> Any:
    """Open and check an odoolib connection to an Odoo server.

    :param url: the server, e.g. ``http://localhost:8069`` (see :func:`parse_url`)
    :param database: database name
    :param login: the user's login (XML-RPC / JSON-RPC; JSON-2 identifies the user by the API key)
    :param api_key: an API key (Preferences › Account Security › New API Key); over XML-RPC / JSON-RPC the
        password works too. Never included in messages.
    :param protocol: ``json2`` (default), ``xmlrpc`` or ``jsonrpc``
    :param retries: retries on transient failures (see :func:`extract_transitions`)
    :return: an authenticated odoolib connection (its user context fetched, which checks the login)
    :raises ExtractError: bad URL, unreachable server, refused login or key, unknown database.
    """
    import odoolib

    address = parse_url(url, protocol)
    if not database:
        raise ExtractError("no database given: pass the Odoo database name with --db")
    if protocol != "json2" and not login:
        raise ExtractError(f"{protocol} needs the user's login: pass it with --login")
    if not api_key:
        raise ExtractError(
            "no API key given: set FUNNEL_METRICS_API_KEY or pass --api-key-file "
            "(create a key in Odoo: Preferences › Account Security › New API Key)"
        )
    connection = odoolib.get_connection(
        hostname=address.hostname,
        protocol=address.protocol,
        port=address.port,
        database=database,
        login=login,
        password=api_key,
    )
    RpcCaller(connection, retries, backoff, server=address.url).call("res.users", connection.get_user_context)
    return connection


# ------------------------------------------------------------------------------------------------------
# error classification and retries
# ------------------------------------------------------------------------------------------------------

_TRANSIENT = "transient"
_UNREACHABLE = "unreachable"
_AUTH = "auth"
_ACCESS = "access"
_MISSING_MODEL = "missing model"
_NO_DATABASE = "no database"
_NOT_FOUND = "not found"
_MISSING_METHOD = "missing method"
_UNKNOWN_FIELD = "unknown field"
_OTHER = "other"

_TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
_STATUS_RE = re.compile(r"^Unexpected status code (\d{3}): (.*)$", re.DOTALL)
_UNREACHABLE_RE = re.compile(
    r"refused|name or service not known|nodename nor servname|getaddrinfo|temporary failure in name"
    r"|no address associated|no route to host|network is unreachable|name resolution|certificate|ssl",
    re.IGNORECASE,
)
# Odoo's ORM for a field the model does not have (JSON-2 answers it with HTTP 500, yet it is not transient)
_UNKNOWN_FIELD_RE = re.compile(r"Invalid field \S+ on model", re.IGNORECASE)
_MISSING_MODEL_RE = re.compile(r"(doesn't|does not) exist", re.IGNORECASE)
# Odoo's answer to a call of a method the model does not have (an addon older than this package)
_MISSING_METHOD_RE = re.compile(r"The method '[\w.]+' does not exist")
_NO_DATABASE_RE = re.compile(
    r'database "?[^"\s]*"? does not exist|database not found|no database is selected', re.IGNORECASE
)


def _httpx_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """httpx's (connect errors, transient transport errors); empty tuples without httpx."""
    try:
        import httpx
    except ImportError:  # pragma: no cover - odoolib depends on httpx
        return (), ()
    return (httpx.ConnectError,), (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


def _server_message(exc: BaseException) -> tuple[int | None, str]:
    """HTTP status (when known) and the server's message, from whatever odoolib raised."""
    if isinstance(exc, xmlrpc.client.Fault):
        return None, f"{exc.faultCode} {exc.faultString}"
    if isinstance(exc, xmlrpc.client.ProtocolError):
        return exc.errcode, exc.errmsg
    error = getattr(exc, "error", None)  # odoolib.tools.JsonRPCException
    if isinstance(error, dict):
        data = error.get("data") or {}
        return None, f"{data.get('name', '')} {data.get('message') or error.get('message', '')}".strip()
    text = str(exc)
    match = _STATUS_RE.match(text)
    if match:  # odoolib's JSON-2 proxy: ValueError("Unexpected status code 404: {json body}")
        body = match.group(2)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            body = f"{parsed.get('name', '')} {parsed.get('message', '')}".strip() or body
        return int(match.group(1)), body
    return None, text


def _classify(exc: BaseException) -> str:
    """What kind of failure ``exc`` is: retried (transient) or reported (all the others)."""
    from odoolib.tools import AuthenticationError

    connect_errors, transport_errors = _httpx_errors()
    if isinstance(exc, AuthenticationError):
        return _AUTH
    if isinstance(exc, (ConnectionRefusedError, socket.gaierror, ssl.SSLError)):
        return _UNREACHABLE
    if isinstance(exc, connect_errors):
        return _UNREACHABLE if _UNREACHABLE_RE.search(str(exc)) else _TRANSIENT
    if isinstance(
        exc,
        (
            ConnectionError,
            TimeoutError,
            http.client.IncompleteRead,
            http.client.BadStatusLine,
            *transport_errors,
        ),
    ):
        return _TRANSIENT  # reset, aborted, broken pipe, remote disconnected, time-outs
    if isinstance(exc, json.JSONDecodeError):  # JSON-RPC got a proxy's HTML error page
        return _TRANSIENT
    if isinstance(exc, OSError):
        return _UNREACHABLE if _UNREACHABLE_RE.search(str(exc)) else _TRANSIENT
    status, message = _server_message(exc)
    if _UNKNOWN_FIELD_RE.search(message):
        return _UNKNOWN_FIELD
    if status in _TRANSIENT_STATUS:
        return _TRANSIENT
    if status == 401 or re.search(r"AccessDenied|Access Denied", message):
        return _AUTH
    if _NO_DATABASE_RE.search(message):
        return _NO_DATABASE
    if _MISSING_METHOD_RE.search(message):
        return _MISSING_METHOD
    if status == 403 or "AccessError" in message:
        return _ACCESS
    if _MISSING_MODEL_RE.search(message) and ("model" in message or "Object" in message):
        return _MISSING_MODEL
    if status == 404:
        return _NOT_FOUND
    return _OTHER


def _short(text: str, limit: int = 300) -> str:
    """The first meaningful line of a server message, cut to ``limit`` characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    # a traceback's last line carries the error; other messages lead with it
    line = lines[-1] if lines and lines[0].startswith("Traceback") else (lines[0] if lines else "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


class RpcCaller:
    """Calls odoolib with retries on transient failures and turns the others into :class:`ExtractError`."""

    def __init__(
        self,
        connection: Any,
        retries: int,
        backoff: float,
        server: str | None = None,
    ) -> None:
        self.connection = connection
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.database = getattr(connection, "database", None) or "?"
        self.server = server or _server_of(connection)

    def call(self, model: str, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return method(*args, **kwargs)
            except Exception as exc:
                kind = _classify(exc)
                if kind == _TRANSIENT and attempt < self.retries:
                    time.sleep(self.backoff * 2**attempt)
                    continue
                error = self.error(kind, exc, model, attempts=attempt + 1)
                error.kind = kind
                raise error from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def error(self, kind: str, exc: BaseException, model: str, attempts: int) -> ExtractError:
        status, message = _server_message(exc)
        where = f"the Odoo server at {self.server}"
        if kind == _UNREACHABLE:
            return ExtractError(
                f"cannot reach {where} ({_short(str(exc)) or type(exc).__name__}): check the URL and port, "
                "and that Odoo is running"
            )
        if kind == _AUTH:
            return ExtractError(
                f"{where} refused the login for database {self.database!r}: check --db, --login and the API "
                "key (FUNNEL_METRICS_API_KEY or --api-key-file; create one in Odoo under Preferences › "
                "Account Security › New API Key)"
            )
        if kind == _NO_DATABASE:
            return ExtractError(f"{where} has no database {self.database!r}: check --db")
        if kind == _MISSING_MODEL and model == STAY_MODEL:
            return ExtractError(
                f"database {self.database!r} has no stage history (model {STAY_MODEL} is missing): "
                f"{_INSTALL_HINT}"
            )
        if kind == _MISSING_METHOD and model == STAY_MODEL:
            return ExtractError(
                f"database {self.database!r} has an older crm_stage_history, without the read this export "
                f"uses ({_short(message)}): {_UPGRADE_HINT}"
            )
        if kind == _NOT_FOUND:
            return ExtractError(
                f"{where} answered 404 (not found) to a call on {model}: check --db, and that the server "
                "runs Odoo 19 (for older servers use --protocol xmlrpc)"
            )
        if kind == _ACCESS:
            return ExtractError(
                f"Odoo refused to let this user read {model} ({_short(message)}): use a user of the Sales "
                "team (salesman or above) whose API key may read the CRM"
            )
        if kind == _TRANSIENT:
            return ExtractError(
                f"{where} kept failing while reading {model} after {attempts} attempt(s) "
                f"({_short(message) or type(exc).__name__}): try again later, or with a smaller --page-size"
            )
        detail = _short(message) or type(exc).__name__
        code = f"HTTP {status}: " if status else ""
        return ExtractError(f"{where} answered with an error while reading {model} ({code}{detail})")


def _server_of(connection: Any) -> str:
    """The server's base URL of an odoolib connection, for messages."""
    url = str(getattr(getattr(connection, "connector", None), "url", "") or "")
    return re.sub(r"/(json/2/?|xmlrpc|jsonrpc)$", "", url) or "?"


# ------------------------------------------------------------------------------------------------------
# extraction
# ------------------------------------------------------------------------------------------------------

DateLike = date | str


def _as_date(value: DateLike | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return parse_day(str(value), name)
    except ValueError as exc:
        raise ExtractError(str(exc)) from None


def _odoo_datetime(instant: datetime) -> str:
    """A naive UTC instant as Odoo writes datetimes in domains."""
    return instant.strftime("%Y-%m-%d %H:%M:%S")


def _bounds(start: date | None, end: date | None, tz: str) -> tuple[datetime | None, datetime | None]:
    """The period's UTC bounds (:func:`funnel_metrics.period_bounds`), an unknown zone as an ExtractError."""
    from funnel_metrics.periods import period_bounds

    try:
        return period_bounds(start, end, tz)
    except ValueError as exc:
        raise ExtractError(str(exc)) from None


def _period_text(start: date | None, end: date | None) -> str:
    if start and end:
        return f"between {start.isoformat()} and {end.isoformat()}"
    if start:
        return f"since {start.isoformat()}"
    if end:
        return f"up to {end.isoformat()}"
    return "at all"


def _rows(result: Any) -> list[dict[str, Any]]:
    """A list of row dicts from an odoolib answer (its JSON-2 ``read`` returns a bare dict for one row)."""
    if not result:
        return []
    if isinstance(result, dict):
        return [result]
    return list(result)


def _chunks(values: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield [int(value) for value in values[start : start + size]]


def many2one_id(value: Any) -> int:
    """The id of a many2one value as RPC returns it (``[id, name]``, an id, or ``False``); 0 when empty."""
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else 0
    return int(value) if value else 0


#: ``load`` of a bare-ids read: Odoo's ``search_read`` passes it to ``read``, where any value but
#: ``"_classic_read"`` returns many2one values as bare ids, without computing their display names. ``""``
#: rather than ``None``: odoolib's XML-RPC client cannot send ``None``.
BARE_IDS_LOAD = ""


def _server_method(proxy: Any, name: str) -> Callable[..., Any]:
    """The server's own method ``name`` through an odoolib model proxy.

    odoolib's XML-RPC / JSON-RPC proxy (``odoolib.rpc.Model``) defines a client-side ``search_read`` -- a
    ``search`` then a ``read``: two calls per page, and no read options such as ``load`` --, while its
    ``__getattr__`` sends any method to the server as it is, as the JSON-2 proxy does for every method.
    """
    from odoolib.rpc import Model

    return Model.__getattr__(proxy, name) if isinstance(proxy, Model) else getattr(proxy, name)


class RpcReader:
    """Paged, retried ``search_read`` calls on one connection.

    ``bare=True`` reads many2one values as bare ids (:data:`BARE_IDS_LOAD`): the server computes no display
    names, which are most of the time of a read (one name map per model, :meth:`names`, is read instead).
    """

    def __init__(self, connection: Any, caller: RpcCaller, page_size: int, context: dict[str, Any]) -> None:
        self.connection = connection
        self.caller = caller
        self.page_size = page_size
        self.context = context
        self.models: dict[str, Any] = {}

    def model(self, name: str) -> Any:
        if name not in self.models:
            self.models[name] = self.connection.get_model(name)
        return self.models[name]

    def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: Sequence[str],
        limit: int | None = None,
        *,
        bare: bool = False,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"domain": domain, "fields": list(fields), "order": "id"}
        if limit:
            kwargs["limit"] = limit
        if bare:
            kwargs["load"] = BARE_IDS_LOAD
        method = _server_method(self.model(model), "search_read")
        return _rows(self.caller.call(model, method, context=self.context, **kwargs))

    def pages(
        self, model: str, domain: list[Any], fields: Sequence[str], bar: Any = None, *, bare: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """Every row matching ``domain``, one page (a list of rows) at a time, in id order: each page after
        the last id of the previous one (``id > last id``, never offsets, so that rows written meanwhile
        neither shift nor repeat a page); none once a page comes back short."""
        last_id = 0
        while True:
            rows = self.search_read(
                model, [*domain, ("id", ">", last_id)], fields, limit=self.page_size, bare=bare
            )
            if bar is not None:
                bar.update(len(rows))
            full = len(rows) == self.page_size
            last_id = max(int(row["id"]) for row in rows) if full else last_id
            if rows:
                yield rows
            del rows  # the caller's page is the only one left while the next one is read
            if not full:
                return

    def funnel_pages(
        self, start: datetime | None, end: datetime | None, team_ids: list[int] | None, bar: Any = None
    ) -> Iterator[dict[str, Any]]:
        """The stage history, one page of :attr:`page_size` leads (by id) at a time, from the addon's
        ``funnel_rows``: ``{"stays": columns, "leads": columns}`` of bare ids, the leads that had a stay
        before ``start``, none before ``end`` (naive UTC) or, with ``team_ids``, none in these teams left
        out by the server."""
        model = self.model(STAY_MODEL)
        method = _server_method(model, FUNNEL_ROWS_METHOD)
        after: int | bool = 0
        while True:
            page = self.caller.call(
                STAY_MODEL,
                method,
                start=_odoo_datetime(start) if start else False,
                end=_odoo_datetime(end) if end else False,
                team_ids=team_ids or False,
                after_lead_id=after,
                limit=self.page_size,
                context=self.context,
            )
            after = page["next_lead_id"]
            if bar is not None:
                bar.update(len(page["stays"]["lead_id"]))
            yield page
            del page  # the caller's page is the only one left while the next one is read
            if not after:
                return

    def paged(
        self, model: str, domain: list[Any], fields: Sequence[str], bar: Any = None, *, bare: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Every row matching ``domain``, page by page in id order (see :meth:`pages`)."""
        for page in self.pages(model, domain, fields, bar, bare=bare):
            yield from page

    def pages_by_ids(
        self, model: str, ids: Iterable[int], fields: Sequence[str], bar: Any = None, *, bare: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """The rows of the given ids, a chunk of :attr:`page_size` ids per call (archived ones too: the
        context has ``active_test`` off)."""
        for chunk in _chunks(sorted(set(ids)), self.page_size):
            page = self.search_read(model, [("id", "in", chunk)], fields, bare=bare)
            if bar is not None:
                bar.update(len(chunk))
            yield page
            del page

    def by_ids(
        self, model: str, ids: Iterable[int], fields: Sequence[str], bar: Any = None, *, bare: bool = False
    ) -> list[dict]:
        """The rows of the given ids (see :meth:`pages_by_ids`), as one list."""
        return [row for page in self.pages_by_ids(model, ids, fields, bar, bare=bare) for row in page]

    def names(self, model: str, ids: Iterable[int]) -> dict[int, str]:
        """id to ``display_name`` of the given records of ``model`` -- the name a many2one value
        ``[id, name]`` carries --, read in chunks of ids."""
        return {
            int(row["id"]): row["display_name"]
            for page in self.pages_by_ids(model, ids, ["display_name"], bare=True)
            for row in page
        }


# ------------------------------------------------------------------------------------------------------
# compact columns
# ------------------------------------------------------------------------------------------------------


def _id_column(values: list[Any]) -> np.ndarray:
    """Bare ids, 0 when empty (as ``funnel_rows`` sends them)."""
    return np.asarray(values, dtype=np.int64)


def _datetime_column(values: list[Any]) -> np.ndarray:
    """Odoo datetimes (naive UTC strings ``YYYY-MM-DD HH:MM:SS`` or datetimes; ``False`` when empty)."""
    return np.array([value or "NaT" for value in values], dtype="datetime64[us]")


def _label_column(values: list[Any]) -> list[Any]:
    """Texts of few distinct values (a selection), each kept once."""
    return [sys.intern(value) if isinstance(value, str) else value for value in values]


_COLUMN_KINDS: dict[str, Callable[[list[Any]], Any]] = {
    "id": _id_column,
    "datetime": _datetime_column,
    "text": list,
    "label": _label_column,
    "bool": lambda values: np.array(values, dtype=bool),
    "float": lambda values: np.array([value or 0.0 for value in values], dtype="float64"),
}


class _Columns:
    """A table read page by page kept as compact columns: numpy arrays of ids, datetimes, numbers and
    flags, lists of texts, and for a many2many one sorted tuple of ids per row (equal tuples shared).
    Each page (``{field: [values]}``, as the addon's ``funnel_rows`` sends it) is converted when it
    arrives and can then be dropped, so that memory grows with the table, not with the JSON."""

    def __init__(self, kinds: dict[str, str]) -> None:
        self.kinds = kinds
        self.parts: dict[str, list[Any]] = {field: [] for field in kinds}
        self.shared: dict[tuple[int, ...], tuple[int, ...]] = {}
        self.count = 0

    def add(self, columns: dict[str, list[Any]]) -> None:
        for field, kind in self.kinds.items():
            values = columns[field]
            if kind == "ids":
                self.parts[field].append([self.shared.setdefault(key, key) for key in map(_id_key, values)])
            else:
                self.parts[field].append(_COLUMN_KINDS[kind](values))
        self.count += len(columns[next(iter(self.kinds))])

    def column(self, field: str) -> Any:
        kind, parts = self.kinds[field], self.parts[field]
        if kind in ("text", "label", "ids"):
            return [value for part in parts for value in part]
        if not parts:
            return np.array([], dtype={"id": np.int64, "datetime": "datetime64[us]"}.get(kind, object))
        return np.concatenate(parts)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({field: self.column(field) for field in self.kinds})


def _id_key(ids: Any) -> tuple[int, ...]:
    return tuple(sorted(int(i) for i in ids)) if ids else ()


#: how the extractor keeps each field it reads (see :class:`_Columns`)
_STAY_KINDS = {
    "lead_id": "id",
    "stage_id": "id",
    "date_in": "datetime",
    "date_out": "datetime",
    "user_id": "id",
    "team_id": "id",
}
_LEAD_KINDS = {
    "id": "id",
    "name": "text",
    "won_status": "label",
    "active": "bool",
    "lost_reason_id": "id",
    "source_id": "id",
    "campaign_id": "id",
    "tag_ids": "ids",
    "expected_revenue": "float",
}
#: the model of each field of :data:`funnel_metrics.odoo_rows.NAMED_FIELDS`
NAMED_MODELS: dict[str, str] = {
    "user_id": "res.users",
    "team_id": "crm.team",
    "tag_ids": "crm.tag",
    "source_id": "utm.source",
    "lost_reason_id": "crm.lost.reason",
    "campaign_id": "utm.campaign",
}


def _team_ids(reader: RpcReader, teams: Iterable[str | int]) -> list[int]:
    """Ids of the teams named or numbered in ``teams``; an unknown team is an error that lists the known.

    An int is a team id; a text is a team name, or a team id when no team has that name and it is a number
    (``--team 7`` on the command line).
    """
    wanted = [t if isinstance(t, int) and not isinstance(t, bool) else str(t).strip() for t in teams]
    names = sorted({t for t in wanted if isinstance(t, str)})
    by_name: dict[str, int] = {}
    if names:
        rows = reader.search_read("crm.team", [("name", "in", names)], ["name"])
        by_name = {row["name"]: int(row["id"]) for row in rows}
    as_ids = {t: int(t) for t in wanted if isinstance(t, int) or (t not in by_name and t.isdigit())}
    existing: set[int] = set()
    if as_ids:
        rows = reader.search_read("crm.team", [("id", "in", sorted(set(as_ids.values())))], ["name"])
        existing = {int(row["id"]) for row in rows}
    found, unknown = set(), []
    for team in wanted:
        if team in by_name:
            found.add(by_name[team])
        elif team in as_ids and as_ids[team] in existing:
            found.add(as_ids[team])
        elif str(team) not in unknown:
            unknown.append(str(team))
    if unknown:
        known = ", ".join(sorted(row["name"] for row in reader.search_read("crm.team", [], ["name"])))
        raise ExtractError(
            f"unknown sales team(s): {', '.join(unknown)}; teams in this database: {known or 'none'}"
        )
    return sorted(found)


def read_context(connection: Any, caller: RpcCaller) -> dict[str, Any]:
    """The context of every read: ``active_test`` off (lost leads are archived), the user's language."""
    user_context = caller.call("res.users", connection.get_user_context) or {}
    context: dict[str, Any] = {"active_test": False}
    if isinstance(user_context, dict) and user_context.get("lang"):
        context["lang"] = user_context["lang"]  # names as the user sees them in Odoo
    return context


def extract_transitions(
    connection: Any,
    date_from: DateLike | None = None,
    date_to: DateLike | None = None,
    teams: Iterable[str | int] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: bool = False,
    retries: int = 3,
    *,
    backoff: float = 1.0,
    tz: str = "UTC",
) -> pd.DataFrame:
    """Read the stage history of an Odoo database into a transitions table.

    The selection is that of the addon's reports (*CRM › Reporting › Funnel*, the calibration of
    probabilities): the leads whose **first** stage stay began between ``date_from`` and ``date_to`` (days in
    the time zone ``tz``, both inclusive; either may be left open) and, with ``teams``, that have at least one
    stay in one of those sales teams -- each with **all** its stays, whatever their team. A lead's stays in
    other teams tell whether it moved on from the teams' stages or was lost there: cutting them would turn a
    lead Europe hands over to America, and America loses, into a loss in Europe. :func:`team_stays` marks the
    teams' own stays, for :func:`funnel_metrics.selection_funnel` and ``breakdown(..., selected=...)`` (the
    Funnel report filtered on the teams); :func:`funnel_metrics.calibration` takes the table as it is (the
    calibration filtered on them).

    How it reads: the addon's read-only ``funnel_rows``, the read of its own reports, in pages of
    ``page_size`` leads by id: the stays the user may read and their leads, as columns of bare ids (no
    display name computed, no record browsed), the server leaving out the leads that had a stay before the
    period, none before its end or, with ``teams``, none in them; each page is kept as compact columns and
    dropped.
    :func:`funnel_metrics.cohort_rows` -- the rule of the addon's reports -- then says which stays are in
    scope. Then their stages, and one id to name map per model whose names the table shows (salespersons,
    teams, tags, sources, lost reasons, campaigns: ``display_name``, the name a many2one value carries),
    read for the ids seen only. Memory grows with the table, not with the JSON Odoo sends.

    :param connection: an odoolib connection (:func:`connect`, or ``odoolib.get_connection``)
    :param date_from: first day of the period (``date`` or ``YYYY-MM-DD``), or ``None``
    :param date_to: last day of the period, or ``None``
    :param teams: sales teams by name or id; leads without a stay in any of them are left out. ``None``:
        every lead.
    :param page_size: leads per page of the stage history (by lead id, ``id > last id``, never an offset:
        leads created meanwhile neither shift nor repeat a page); stages and names are read by chunks of ids
        of this size
    :param progress: show tqdm progress bars (on stderr)
    :param retries: retries of a call that failed for a transient reason (connection reset, time-out,
        HTTP 5xx), with exponential backoff (``backoff``, then twice that, ...); login and access errors are
        never retried
    :param backoff: seconds before the first retry
    :param tz: the time zone the period's days are counted in (IANA name, default UTC); the Odoo reports
        count them in the user's time zone, which they name: pass it to get the same leads
    :return: the validated transitions table (contract columns plus the extras of
        :func:`~funnel_metrics.odoo_rows.transitions_from_ids`), sorted by lead and entry time
    :raises ExtractError: unreachable server, refused login, no ``crm_stage_history`` in the database (or
        one older than this package), an unknown team, no stage history in the period, an unknown time
        zone, or an error answer from Odoo.
    """
    from tqdm.auto import tqdm

    start, end = _as_date(date_from, "date_from"), _as_date(date_to, "date_to")
    if start and end and start > end:
        raise ExtractError(
            f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()}): check the two dates"
        )
    bounds = _bounds(start, end, tz)
    if page_size < 1:
        raise ExtractError(f"page size must be at least 1, got {page_size}")
    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, page_size, read_context(connection, caller))

    teams = list(teams or [])
    team_ids = _team_ids(reader, teams) if teams else None
    stays, leads = _Columns(_STAY_KINDS), _Columns(_LEAD_KINDS)
    with tqdm(desc="stays", unit=" stays", disable=not progress) as bar:
        for page in reader.funnel_pages(*bounds, team_ids, bar):
            stays.add(page["stays"])
            leads.add(page["leads"])
            del page
    stay_frame, lead_frame = stays.frame(), leads.frame()
    del stays, leads
    of_scope = stay_frame["team_id"].isin(team_ids).to_numpy() if team_ids is not None else None
    in_scope = cohort_rows(stay_frame["lead_id"], stay_frame["date_in"], *bounds, of_scope)
    stay_frame = stay_frame[in_scope].reset_index(drop=True)
    if stay_frame.empty:
        scope = f" for team(s) {', '.join(str(t) for t in teams)}" if teams else ""
        raise ExtractError(
            f"no stage history {_period_text(start, end)}{scope} in database {caller.database!r} "
            "(leads whose first stage stay began in the period): widen the period or check the teams"
        )
    lead_frame = lead_frame[lead_frame["id"].isin(stay_frame["lead_id"])].reset_index(drop=True)

    stage_rows = reader.by_ids("crm.stage", _seen(stay_frame["stage_id"]), STAGE_FIELDS, bare=True)
    stages = {int(row["id"]): (row["name"], int(row["sequence"])) for row in stage_rows}
    seen = {
        "user_id": _seen(stay_frame["user_id"]),
        "team_id": _seen(stay_frame["team_id"]),
        "tag_ids": {tag for key in set(lead_frame["tag_ids"]) for tag in key},
        **{field: _seen(lead_frame[field]) for field in ("source_id", "lost_reason_id", "campaign_id")},
    }
    names = {field: reader.names(NAMED_MODELS[field], ids) if ids else {} for field, ids in seen.items()}

    table = transitions_from_ids(stay_frame, lead_frame, stages, names)
    return table.sort_values(["lead_id", "entered_at"], kind="stable").reset_index(drop=True)


def _seen(ids: pd.Series) -> set[int]:
    """The distinct ids of a column of bare ids, without 0 (empty)."""
    return {int(i) for i in pd.unique(ids.to_numpy()) if i}


CAMPAIGN_MODEL = "utm.campaign"
#: fields read from ``utm.campaign``: ``display_name`` (the campaign's title, as a lead's ``campaign_id``
#: names it and so as the ``campaign`` column of the transitions table holds it), ``name`` (the identifier,
#: when there is no display name) and the addon's ``cost``
CAMPAIGN_FIELDS: tuple[str, ...] = ("display_name", "name", "cost")
CAMPAIGN_COST_COLUMNS: tuple[str, ...] = ("campaign", "period", "cost")
"""Columns of :func:`extract_campaign_costs`."""


def extract_campaign_costs(
    connection: Any,
    transitions: pd.DataFrame,
    retries: int = 3,
    *,
    backoff: float = 1.0,
    page_size: int = DEFAULT_PAGE_SIZE,
    note: Callable[[str], None] | None = None,
) -> pd.DataFrame | None:
    """The campaign costs of an Odoo database as a costs table for ``cost_per_lead(..., by="campaign")``.

    Reads the campaigns with a cost (``utm.campaign``, ``cost > 0``, archived ones too) through the same
    retrying caller as :func:`extract_transitions`. The ``cost`` field comes with the ``crm_stage_history``
    addon and only sales managers may read it.

    A campaign has one total cost and no period, while a costs table needs one: the whole cost of a campaign
    is put on the month (start, UTC) of the first stay of that campaign's leads in ``transitions``, and the
    cost of a campaign without leads in the table on the month of the table's first entry. So, in a report
    built with these costs, the totals per campaign are exact (all of the campaign's cost over the leads of
    the table) while the split per month is not meaningful (the cost lands in one month, whatever months
    the campaign ran). The whole cost is counted whatever period the table covers: a campaign whose leads
    are only partly in the table costs more per lead than over all its leads. Costs are in each campaign's
    currency, not converted.

    :param connection: an odoolib connection (:func:`connect`)
    :param transitions: the transitions table the costs are for (of :func:`extract_transitions`: its
        ``campaign`` column holds the campaign's display name, which the costs are keyed by); not empty
    :param retries: retries of a call that failed for a transient reason (see :func:`extract_transitions`)
    :param backoff: seconds before the first retry
    :param page_size: campaigns per ``search_read`` call
    :param note: called with a one-line message (for the user, ending with what to do instead) when the
        costs cannot be read and ``None`` is returned
    :return: one row per campaign with a cost (campaigns of the same display name added up), sorted by
        campaign: ``campaign`` (string), ``period`` (``datetime64[ns, UTC]``, month start), ``cost``
        (float64); an empty table when no campaign has a cost. ``None`` when this user may not read the
        costs (access error: not a sales manager) or the database has no cost field (an older
        ``crm_stage_history``).
    :raises ExtractError: any other failure of the call (see :func:`extract_transitions`).
    :raises ValueError: an empty ``transitions`` table.
    """
    entered = pd.to_datetime(transitions["entered_at"], utc=True)
    if entered.isna().all():
        raise ValueError("the transitions table is empty: campaign costs need the months of its leads")
    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, max(1, int(page_size)), read_context(connection, caller))
    try:
        rows = list(reader.paged(CAMPAIGN_MODEL, [("cost", ">", 0)], CAMPAIGN_FIELDS))
    except ExtractError as exc:
        if exc.kind == _ACCESS:
            message = "campaign costs not read: only sales managers may read them; pass --costs CSV"
        elif exc.kind == _UNKNOWN_FIELD:
            message = (
                f"campaign costs not read: database {caller.database!r} has no campaign cost (update the "
                "crm_stage_history module); pass --costs CSV"
            )
        else:
            raise
        if note is not None:
            note(message)
        return None

    totals: dict[str, float] = {}
    for row in rows:
        label = str(row.get("display_name") or row.get("name") or f"{CAMPAIGN_MODEL},{row['id']}")
        totals[label] = totals.get(label, 0.0) + float(row.get("cost") or 0.0)
    return campaign_costs(totals, transitions)


def team_stays(transitions: pd.DataFrame, teams: Iterable[str | int]) -> pd.Series:
    """Which stays of a transitions table are of the given sales teams (at entry).

    These are the stays the addon's Funnel report counts when filtered on the teams: pass the result as
    ``selected`` to :func:`funnel_metrics.selection_funnel` or :func:`funnel_metrics.breakdown`, on a table
    holding the whole history of its leads (:func:`extract_transitions` or :func:`select_period` with the
    same teams).

    A text is a team's name (the ``team`` column) or, when no stay's team has that name and it is a number,
    a team id (``--team 7``); an int is a team id, matched on the ``team_id`` column of an extracted table
    (on the name when the table has no such column). Stays without a team are of no team.

    :return: a bool Series with the table's index, True for the stays of one of the teams
    :raises ExtractError: a team no stay of the table belongs to (the message lists the table's teams).
    :raises TransitionsError: the table is invalid.
    """
    from funnel_metrics.funnel import _validated

    table = _validated(transitions)
    names = table["team"].astype("string")
    ids = pd.to_numeric(table["team_id"], errors="coerce") if "team_id" in table.columns else None
    match = pd.Series(False, index=table.index)
    unknown = []
    for team in teams:
        if isinstance(team, int) and not isinstance(team, bool) and ids is not None:
            hit = ids.eq(team)
        else:
            text = str(team).strip()
            hit = names.eq(text)
            if not hit.any() and ids is not None and text.isdigit():
                hit = ids.eq(int(text))
        hit = hit.fillna(False).astype(bool)
        if not hit.any():
            unknown.append(str(team))
        match |= hit
    if unknown:
        known = ", ".join(sorted(table["team"].dropna().unique().tolist()))
        raise ExtractError(
            f"unknown sales team(s): {', '.join(unknown)}; teams in the table: {known or 'none'}"
        )
    return match


def select_period(
    transitions: pd.DataFrame,
    date_from: DateLike | None = None,
    date_to: DateLike | None = None,
    teams: Iterable[str | int] | None = None,
    tz: str = "UTC",
) -> pd.DataFrame:
    """Offline twin of the filters of :func:`extract_transitions`, for a table read from a file.

    Keeps the leads whose first stay (earliest ``entered_at`` over all their rows) began between
    ``date_from`` and ``date_to`` (days in the time zone ``tz``, default UTC, both inclusive; either may be
    ``None``) and, with ``teams``,
    that have at least one stay of one of those teams (see :func:`team_stays`), with all their rows.
    Applied to the whole history, it gives what :func:`extract_transitions` reads with the same arguments.

    :return: the kept rows of the validated table, index 0..n-1 (possibly empty)
    :raises ExtractError: bad dates, a period that ends before it starts, an unknown time zone, a team not
        in the table.
    :raises TransitionsError: the table is invalid.
    """
    from funnel_metrics.transitions import validate_transitions

    start, end = _as_date(date_from, "date_from"), _as_date(date_to, "date_to")
    if start and end and start > end:
        raise ExtractError(
            f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()}): check the two dates"
        )
    begins, ends = _bounds(start, end, tz)
    table = validate_transitions(transitions)
    keep = pd.Series(True, index=table.index)
    if start is not None or end is not None:
        first = table.groupby("lead_id")["entered_at"].transform("min")
        if begins is not None:
            keep &= first >= pd.Timestamp(begins, tz="UTC")
        if ends is not None:
            keep &= first < pd.Timestamp(ends, tz="UTC")
    wanted = list(teams or [])
    if wanted:
        keep &= team_stays(table, wanted).groupby(table["lead_id"]).transform("any")
    return table[keep.to_numpy(dtype=bool)].reset_index(drop=True)


TARGET_MODEL = "crm.stage.target"
#: fields read from ``crm.stage.target`` (the ``crm_stage_history`` addon's stage targets)
TARGET_FIELDS: tuple[str, ...] = (
    "stage_id",
    "team_id",
    "user_id",
    "product_tag_id",
    "target_conversion_rate",
    "target_days_in_stage",
)
TARGET_COLUMNS: tuple[str, ...] = (
    "stage",
    "team",
    "user",
    "product",
    "target_conversion_rate",
    "target_days_in_stage",
)
"""Columns of :func:`extract_stage_targets`: a targets table (see :mod:`funnel_metrics.targets`)."""


def _m2o_name(value: Any) -> str | None:
    """The name of a many2one value as RPC returns it (``[id, name]``); ``None`` when empty."""
    return str(value[1]) if isinstance(value, (list, tuple)) and len(value) > 1 else None


def extract_stage_targets(
    connection: Any,
    retries: int = 3,
    *,
    backoff: float = 1.0,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> pd.DataFrame:
    """The stage targets of an Odoo database (*CRM › Configuration › Stage Targets* of the
    ``crm_stage_history`` addon) as a targets table for the report, keyed by names as the transitions table
    of :func:`extract_transitions` is: stage, team, salesperson and tag (``product``) names.

    Reads the active targets this user may read (``crm.stage.target``, those of the user's companies)
    through the same retrying caller as :func:`extract_transitions`. Conversion targets come as fractions
    (Odoo stores percents); 0 is "no target", as in Odoo. A target's company is not a dimension of the
    report: the targets of every company the user may read apply, the older first when two are equally
    specific.

    :param connection: an odoolib connection (:func:`connect`)
    :param retries: retries of a call that failed for a transient reason (see :func:`extract_transitions`)
    :param backoff: seconds before the first retry
    :param page_size: targets per ``search_read`` call
    :return: one row per target in id order, columns :data:`TARGET_COLUMNS` (an empty table when the
        database has none)
    :raises ExtractError: the call failed (see :func:`extract_transitions`), e.g. a database without
        ``crm_stage_history``.
    """
    caller = RpcCaller(connection, retries, backoff)
    context = {**read_context(connection, caller), "active_test": True}  # archived targets do not apply
    reader = RpcReader(connection, caller, max(1, int(page_size)), context)
    rows = list(reader.paged(TARGET_MODEL, [], TARGET_FIELDS))
    return pd.DataFrame(
        {
            "stage": pd.Series([_m2o_name(row.get("stage_id")) for row in rows], dtype="string"),
            "team": pd.Series([_m2o_name(row.get("team_id")) for row in rows], dtype="string"),
            "user": pd.Series([_m2o_name(row.get("user_id")) for row in rows], dtype="string"),
            "product": pd.Series([_m2o_name(row.get("product_tag_id")) for row in rows], dtype="string"),
            "target_conversion_rate": pd.Series(
                [float(row.get("target_conversion_rate") or 0.0) / 100 for row in rows], dtype="float64"
            ),
            "target_days_in_stage": pd.Series(
                [float(row.get("target_days_in_stage") or 0.0) for row in rows], dtype="float64"
            ),
        },
        columns=list(TARGET_COLUMNS),
    )


def extract_currency(connection: Any, retries: int = 3, *, backoff: float = 1.0) -> str | None:
    """The currency of the user's company in Odoo (its code, e.g. ``EUR``): the currency the report's
    amounts (expected revenues, campaign costs) are shown in. ``None`` when Odoo does not say.

    :raises ExtractError: the call failed (see :func:`extract_transitions`).
    """
    caller = RpcCaller(connection, retries, backoff)
    user_context = caller.call("res.users", connection.get_user_context) or {}
    uid = user_context.get("uid") if isinstance(user_context, dict) else None
    if not uid:
        return None
    reader = RpcReader(connection, caller, DEFAULT_PAGE_SIZE, {"active_test": False})
    users = reader.by_ids("res.users", [int(uid)], ["company_id"])
    company = many2one_id(users[0].get("company_id")) if users else 0
    if not company:
        return None
    companies = reader.by_ids("res.company", [company], ["currency_id"])
    return _m2o_name(companies[0].get("currency_id")) if companies else None


ACTIVITY_MESSAGE_MODEL = "mail.message"
#: fields of a completed activity's chatter message: the lead (``res_id``), the activity's type, when it was
#: marked done (the message's ``date``) and who marked it (``author_id``, a partner)
ACTIVITY_MESSAGE_FIELDS: tuple[str, ...] = ("res_id", "mail_activity_type_id", "date", "author_id")
#: fields of a lead that say whether and when it was decided
DEAL_FIELDS: tuple[str, ...] = ("won_status", "date_closed", "write_date", "user_id")


def extract_activities(
    connection: Any,
    lead_ids: Iterable[int],
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: bool = False,
    retries: int = 3,
    *,
    backoff: float = 1.0,
) -> pd.DataFrame:
    """The completed activities of some leads of an Odoo database, as an activities table (see
    :mod:`funnel_metrics.activity_wins`).

    A completed activity is what Odoo keeps of it: the chatter message posted when it was marked done (a
    ``mail.message`` on the lead with an activity type, as Odoo's own *CRM › Reporting › Activities* counts
    them; the archived activity Odoo 19 also keeps is the same activity, not counted twice). Read with the
    user's rights (the messages of the leads he may read), in chunks of ``page_size`` lead ids and pages of
    ``page_size`` messages (``id > last id``), through the retrying caller of :func:`extract_transitions`;
    then the names of the activity types (in the user's language) and of the authors.

    :param connection: an odoolib connection (:func:`connect`)
    :param lead_ids: the leads (e.g. ``table["lead_id"].unique()`` of :func:`extract_transitions`)
    :param page_size: lead ids per chunk, messages per page
    :param progress: a tqdm progress bar (on stderr)
    :param retries: retries of a call that failed for a transient reason (see :func:`extract_transitions`)
    :param backoff: seconds before the first retry
    :return: the validated activities table (``user``: the name of who marked it done), sorted by lead and
        time
    :raises ExtractError: the call failed (see :func:`extract_transitions`).
    """
    from tqdm.auto import tqdm

    from funnel_metrics.activity_wins import ACTIVITY_COLUMNS, validate_activities

    if page_size < 1:
        raise ExtractError(f"page size must be at least 1, got {page_size}")
    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, page_size, read_context(connection, caller))
    rows: list[tuple[int, int, str, int]] = []
    with tqdm(desc="activities", unit=" activities", disable=not progress) as bar:
        for chunk in _chunks(sorted({int(i) for i in lead_ids}), page_size):
            domain = [
                ("model", "=", "crm.lead"),
                ("res_id", "in", chunk),
                ("mail_activity_type_id", "!=", False),
            ]
            for page in reader.pages(ACTIVITY_MESSAGE_MODEL, domain, ACTIVITY_MESSAGE_FIELDS, bar, bare=True):
                rows.extend(
                    (
                        int(row["res_id"]),
                        many2one_id(row["mail_activity_type_id"]),
                        row["date"],
                        many2one_id(row["author_id"]),
                    )
                    for row in page
                )
    types = reader.names("mail.activity.type", {row[1] for row in rows})
    authors = reader.names("res.partner", {row[3] for row in rows if row[3]})
    frame = pd.DataFrame(
        {
            "lead_id": [row[0] for row in rows],
            "activity_type": [types.get(row[1]) for row in rows],
            "done_at": [row[2] for row in rows],
            "user": [authors.get(row[3]) for row in rows],
        },
        columns=list(ACTIVITY_COLUMNS),
    )
    table = validate_activities(frame)
    return table.sort_values(["lead_id", "done_at"], kind="stable").reset_index(drop=True)


def extract_deals(
    connection: Any,
    lead_ids: Iterable[int],
    page_size: int = DEFAULT_PAGE_SIZE,
    retries: int = 3,
    *,
    backoff: float = 1.0,
) -> pd.DataFrame:
    """The decided deals among some leads of an Odoo database, as a deals table (see
    :mod:`funnel_metrics.activity_wins`): the leads whose ``won_status`` is won or lost (Odoo's own rule:
    won = in a won stage at 100 %, lost = archived at 0 %; the others are open and left out), decided at
    their ``date_closed`` (the last write when Odoo has none), with their salesperson's name. Read with the
    user's rights, in chunks of ``page_size`` ids.

    :raises ExtractError: the call failed (see :func:`extract_transitions`).
    """
    from funnel_metrics.activity_wins import DEAL_COLUMNS, validate_deals

    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, max(1, int(page_size)), read_context(connection, caller))
    rows = [
        row
        for row in reader.by_ids("crm.lead", {int(i) for i in lead_ids}, DEAL_FIELDS, bare=True)
        if row.get("won_status") in ("won", "lost")
    ]
    users = reader.names("res.users", {many2one_id(row["user_id"]) for row in rows} - {0})
    frame = pd.DataFrame(
        {
            "lead_id": [int(row["id"]) for row in rows],
            "outcome": [row["won_status"] for row in rows],
            "decided_at": [row.get("date_closed") or row["write_date"] for row in rows],
            "user": [users.get(many2one_id(row["user_id"])) for row in rows],
        },
        columns=list(DEAL_COLUMNS),
    )
    return validate_deals(frame).sort_values("lead_id", kind="stable").reset_index(drop=True)


PHASE_CHANGE_MODEL = "crm.decision.phase.change"
PHASE_MODEL = "crm.decision.phase"
#: fields read from ``crm.decision.phase.change`` (bare ids): the lead, when, and the phase after the change
PHASE_CHANGE_FIELDS: tuple[str, ...] = ("lead_id", "date", "phase_id")


def extract_phase_changes(
    connection: Any,
    transitions: pd.DataFrame,
    retries: int = 3,
    *,
    backoff: float = 1.0,
    page_size: int = DEFAULT_PAGE_SIZE,
    note: Callable[[str], None] | None = None,
) -> pd.DataFrame | None:
    """The customers' decision phase changes of the leads of ``transitions`` (the ``crm_stage_survey``
    addon's ``crm.decision.phase.change``), as a phase changes table for
    :func:`funnel_metrics.phase_observations`.

    Reads, through the same retrying caller as :func:`extract_transitions`, every change the user may read
    (his record rules: a salesperson's own and unassigned leads, his companies), page by page in id order
    as bare ids, keeps those of the table's leads, then the names and sequences of their phases (archived
    ones too). A change that cleared the phase has an empty ``phase``.

    :param connection: an odoolib connection (:func:`connect`)
    :param transitions: the transitions table the changes are for (its ``lead_id`` are Odoo's lead ids)
    :param retries: retries of a call that failed for a transient reason (see :func:`extract_transitions`)
    :param backoff: seconds before the first retry
    :param page_size: changes per ``search_read`` call
    :param note: called with a one-line message (for the user, ending with what to do instead) when the
        changes cannot be read and ``None`` is returned
    :return: columns ``lead_id`` (int64), ``changed_at`` (``datetime64[ns, UTC]``), ``phase`` (string, NA
        when cleared), ``phase_sequence`` (int64), in lead then time order; ``None`` when the database has
        no decision phase history (``crm_stage_survey`` not installed) or this user may not read it.
    :raises ExtractError: any other failure of the call.
    """
    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, max(1, int(page_size)), read_context(connection, caller))
    try:
        rows = list(reader.paged(PHASE_CHANGE_MODEL, [], PHASE_CHANGE_FIELDS, bare=True))
    except ExtractError as exc:
        if exc.kind in (_MISSING_MODEL, _NOT_FOUND):
            message = (
                f"decision phases not read: database {caller.database!r} has no decision phase history "
                "(install the crm_stage_survey module); pass --phase-changes CSV"
            )
        elif exc.kind == _ACCESS:
            message = (
                "decision phases not read: you may not read the decision phase history; pass "
                "--phase-changes CSV"
            )
        else:
            raise
        if note is not None:
            note(message)
        return None
    leads = set(pd.unique(transitions["lead_id"].to_numpy(dtype="int64")).tolist())
    rows = [row for row in rows if many2one_id(row.get("lead_id")) in leads]
    phase_ids = {many2one_id(row.get("phase_id")) for row in rows} - {0}
    phases = {
        int(row["id"]): (str(row["name"]), int(row.get("sequence") or 0))
        for row in reader.by_ids(PHASE_MODEL, phase_ids, ["name", "sequence"], bare=True)
    }
    phase_of = [phases.get(many2one_id(row.get("phase_id"))) for row in rows]
    frame = pd.DataFrame(
        {
            "lead_id": pd.Series([many2one_id(row.get("lead_id")) for row in rows], dtype="int64"),
            "changed_at": pd.to_datetime(
                pd.Series([row.get("date") for row in rows], dtype="object"), utc=True, format="ISO8601"
            ).astype("datetime64[ns, UTC]"),
            "phase": pd.Series([phase[0] if phase else None for phase in phase_of], dtype="string"),
            "phase_sequence": pd.Series([phase[1] if phase else -1 for phase in phase_of], dtype="int64"),
        }
    )
    return frame.sort_values(["lead_id", "changed_at"], kind="stable", ignore_index=True)


# ------------------------------------------------------------------------------------------------------
# month-end probability snapshots
# ------------------------------------------------------------------------------------------------------

SNAPSHOT_MODEL = "crm.lead.probability.snapshot"
#: fields read from the snapshots (bare ids)
SNAPSHOT_FIELDS: tuple[str, ...] = (
    "lead_id",
    "snapshot_date",
    "stage_id",
    "team_id",
    "user_id",
    "probability",
    "is_automated",
    "expected_revenue",
)


def extract_snapshots(
    connection: Any,
    date_from: DateLike | None = None,
    date_to: DateLike | None = None,
    teams: Iterable[str | int] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: bool = False,
    retries: int = 3,
    *,
    backoff: float = 1.0,
) -> pd.DataFrame:
    """The month-end probability snapshots of an Odoo database (*CRM › Reporting › Probability by
    Month-End* of the ``crm_stage_history`` addon) as a snapshots table for
    :func:`funnel_metrics.probability_bands`, with each lead's outcome now.

    The selection is that of the Odoo report: the snapshots of the month ends from ``date_from`` to
    ``date_to`` (days, inclusive; either may be left open) and, with ``teams``, of opportunities that were in
    one of those teams at the month end -- those this user may read (his own and unassigned opportunities,
    or all of them; his companies). Read like :func:`extract_transitions`: paged ``search_read`` calls by
    id with bare ids, retried for transient failures; then the outcome of the leads seen (``won_status``,
    ``active``: lost leads are archived, read too) and the names of their stages, teams and salespersons.

    :param connection: an odoolib connection (:func:`connect`)
    :param date_from: first month end to take (``date`` or ``YYYY-MM-DD``), or ``None``
    :param date_to: last month end to take, or ``None``
    :param teams: sales teams by name or id, or ``None`` (every team)
    :param page_size: snapshots per call; leads, stages and names are read by chunks of ids of this size
    :param progress: show a tqdm progress bar (on stderr)
    :param retries: retries of a call that failed for a transient reason (see :func:`extract_transitions`)
    :param backoff: seconds before the first retry
    :return: the validated snapshots table (:data:`funnel_metrics.probability_bands.SNAPSHOT_COLUMNS`, names
        for stages, teams and salespersons; probabilities as fractions) plus ``stage_id``, by month end and
        lead
    :raises ExtractError: the call failed (see :func:`extract_transitions`), e.g. a database whose
        ``crm_stage_history`` has no snapshots yet (update it), or the period ends before it starts.
    """
    from tqdm.auto import tqdm

    from funnel_metrics.odoo_rows import lead_outcomes
    from funnel_metrics.probability_bands import validate_snapshots

    start, end = _as_date(date_from, "date_from"), _as_date(date_to, "date_to")
    if start and end and start > end:
        raise ExtractError(
            f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()}): check the two dates"
        )
    if page_size < 1:
        raise ExtractError(f"page size must be at least 1, got {page_size}")
    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, page_size, read_context(connection, caller))
    domain: list[Any] = []
    if start:
        domain.append(("snapshot_date", ">=", start.isoformat()))
    if end:
        domain.append(("snapshot_date", "<=", end.isoformat()))
    if teams:
        domain.append(("team_id", "in", _team_ids(reader, list(teams))))
    with tqdm(desc="snapshots", unit=" snapshots", disable=not progress) as bar:
        rows = list(reader.paged(SNAPSHOT_MODEL, domain, SNAPSHOT_FIELDS, bar, bare=True))
    frame = pd.DataFrame(
        {
            "lead_id": _id_column([many2one_id(row["lead_id"]) for row in rows]),
            "snapshot_date": [row["snapshot_date"] for row in rows],
            "stage_id": _id_column([many2one_id(row["stage_id"]) for row in rows]),
            "team_id": _id_column([many2one_id(row["team_id"]) for row in rows]),
            "user_id": _id_column([many2one_id(row["user_id"]) for row in rows]),
            "probability": np.asarray([float(row["probability"] or 0) for row in rows]) / 100,
            "is_automated": [bool(row["is_automated"]) for row in rows],
            "expected_revenue": [float(row["expected_revenue"] or 0) for row in rows],
        }
    )
    del rows
    leads = reader.by_ids("crm.lead", _seen(frame["lead_id"]), ["won_status", "active"], bare=True)
    status = {int(row["id"]): (row.get("won_status"), row.get("active")) for row in leads}
    known = [status.get(int(lead), (None, None)) for lead in frame["lead_id"]]
    frame["outcome"] = lead_outcomes([value[0] for value in known], [value[1] for value in known])
    stage_rows = reader.by_ids("crm.stage", _seen(frame["stage_id"]), STAGE_FIELDS, bare=True)
    stages = {int(row["id"]): (row["name"], int(row["sequence"])) for row in stage_rows}
    frame["stage"] = [stages.get(int(stage), (None, 0))[0] for stage in frame["stage_id"]]
    frame["stage_sequence"] = [stages.get(int(stage), (None, 0))[1] for stage in frame["stage_id"]]
    for field, column in (("team_id", "team"), ("user_id", "user")):
        names = reader.names(NAMED_MODELS[field], _seen(frame[field]))
        frame[column] = [names.get(int(value)) for value in frame[field]]
    table = validate_snapshots(frame)
    table["stage_id"] = frame["stage_id"].to_numpy()
    return table.sort_values(["snapshot_date", "lead_id"], kind="stable", ignore_index=True)


MISSING_MODEL, NOT_FOUND = _MISSING_MODEL, _NOT_FOUND
"""The kinds of :class:`ExtractError` of a database whose addon is older than a model the caller reads."""
ACCESS = _ACCESS
"""The kind of :class:`ExtractError` of a read the user's access rights refuse."""


# ------------------------------------------------------------------------------------------------------
# the demand waterfall: lifecycle phase stays and handoffs (crm_lead_handoff)
# ------------------------------------------------------------------------------------------------------

PHASE_HISTORY_MODEL = "crm.lead.phase.history"
LIFECYCLE_PHASE_MODEL = "crm.lifecycle.phase"
HANDOFF_MODEL = "crm.lead.handoff"
#: fields read from the phase stays, the handoffs and their leads (bare ids)
PHASE_HISTORY_FIELDS: tuple[str, ...] = (
    "lead_id",
    "phase_id",
    "date_in",
    "date_out",
    "user_id",
    "team_id",
    "origin",
)
HANDOFF_FIELDS: tuple[str, ...] = (
    "lead_id",
    "route_id",
    "from_team_id",
    "to_team_id",
    "to_partner_id",
    "phase_id",
    "state",
    "date_sent",
    "date_decided",
    "auto_accepted",
    "reason_id",
)
LEAD_ORIGIN_FIELDS: tuple[str, ...] = ("source_id", "medium_id", "campaign_id", "country_id")
#: the model of each many2one whose name the waterfall's tables show
WATERFALL_MODELS: dict[str, str] = {
    "user_id": "res.users",
    "team_id": "crm.team",
    "from_team_id": "crm.team",
    "to_team_id": "crm.team",
    "to_partner_id": "res.partner",
    "route_id": "crm.handoff.route",
    "reason_id": "crm.handoff.reject.reason",
    "source_id": "utm.source",
    "medium_id": "utm.medium",
    "campaign_id": "utm.campaign",
    "country_id": "res.country",
}
_HANDOFF_HINT = (
    "install the crm_lead_handoff module in that database (Apps › CRM Handoffs and Demand Waterfall)"
)


def _waterfall_rows(
    reader: RpcReader, model: str, fields: Sequence[str], bar: Any = None
) -> list[dict[str, Any]]:
    """Every row of ``model`` the user may read (bare ids); a database without ``crm_lead_handoff`` is an
    :class:`ExtractError` saying to install it."""
    try:
        return list(reader.paged(model, [], fields, bar, bare=True))
    except ExtractError as exc:
        if exc.kind in (_MISSING_MODEL, _NOT_FOUND):
            error = ExtractError(
                f"database {reader.caller.database!r} has no lifecycle phases ({model}): {_HANDOFF_HINT}"
            )
            error.kind = exc.kind
            raise error from None
        raise


def _named(reader: RpcReader, rows: list[dict[str, Any]], field: str) -> list[str | None]:
    """The display names of a many2one field of ``rows`` (None when empty), one name map per model."""
    ids = [many2one_id(row.get(field)) for row in rows]
    names = reader.names(WATERFALL_MODELS[field], set(ids) - {0}) if any(ids) else {}
    return [names.get(i) for i in ids]


def _lead_origins(reader: RpcReader, lead_ids: Iterable[int]) -> dict[int, tuple[str | None, ...]]:
    """lead id -> names of its source, medium, campaign and country (archived leads too)."""
    leads = reader.by_ids("crm.lead", lead_ids, LEAD_ORIGIN_FIELDS, bare=True)
    columns = [_named(reader, leads, field) for field in LEAD_ORIGIN_FIELDS]
    return {int(row["id"]): tuple(column[i] for column in columns) for i, row in enumerate(leads)}


def extract_phase_stays(
    connection: Any,
    date_from: DateLike | None = None,
    date_to: DateLike | None = None,
    teams: Iterable[str | int] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: bool = False,
    retries: int = 3,
    *,
    backoff: float = 1.0,
    tz: str = "UTC",
) -> pd.DataFrame:
    """The lifecycle phase stays of an Odoo database (the ``crm_lead_handoff`` addon's
    ``crm.lead.phase.history``) as a phase stays table for :func:`funnel_metrics.waterfall`.

    The selection is the rule of the reports (:func:`funnel_metrics.cohort_rows`): the leads whose first
    phase stay began between ``date_from`` and ``date_to`` (days in ``tz``) and, with ``teams``, that have a
    stay in one of them, each with all its stays -- among those the user may read (his record rules and
    companies). Read like :func:`extract_transitions`: paged ``search_read`` calls by id with bare ids,
    retried for transient failures; then the phases (name, sequence, kind; archived ones too), the leads'
    source, medium, campaign and country, and one name map per model.

    :return: the validated phase stays table (:data:`funnel_metrics.PHASE_STAY_COLUMNS`), by lead and entry
    :raises ExtractError: the call failed (see :func:`extract_transitions`), a database without
        ``crm_lead_handoff`` (the message says to install it), an unknown team, a period ending before it
        starts.
    """
    from tqdm.auto import tqdm

    from funnel_metrics.phase_stays import PHASE_STAY_COLUMNS, validate_phase_stays

    start, end = _as_date(date_from, "date_from"), _as_date(date_to, "date_to")
    if start and end and start > end:
        raise ExtractError(
            f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()}): check the two dates"
        )
    if page_size < 1:
        raise ExtractError(f"page size must be at least 1, got {page_size}")
    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, page_size, read_context(connection, caller))
    team_ids = _team_ids(reader, list(teams)) if teams else None
    with tqdm(desc="phase stays", unit=" stays", disable=not progress) as bar:
        rows = _waterfall_rows(reader, PHASE_HISTORY_MODEL, PHASE_HISTORY_FIELDS, bar)
    lead = [many2one_id(row.get("lead_id")) for row in rows]
    entered = _datetime_column([row.get("date_in") for row in rows])
    of_scope = [many2one_id(row.get("team_id")) in team_ids for row in rows] if team_ids is not None else None
    keep = cohort_rows(np.asarray(lead, dtype="int64"), entered, *_bounds(start, end, tz), of_scope)
    rows = [row for row, kept in zip(rows, keep, strict=True) if kept]
    phase_rows = reader.by_ids(
        LIFECYCLE_PHASE_MODEL,
        {many2one_id(row.get("phase_id")) for row in rows},
        ["name", "sequence", "kind"],
        bare=True,
    )
    phases = {int(row["id"]): (row["name"], int(row["sequence"]), row["kind"]) for row in phase_rows}
    phase = [phases[many2one_id(row.get("phase_id"))] for row in rows]
    origins = _lead_origins(reader, {many2one_id(row.get("lead_id")) for row in rows})
    origin_of = [origins.get(many2one_id(row.get("lead_id")), (None,) * 4) for row in rows]
    frame = pd.DataFrame(
        {
            "lead_id": _id_column([many2one_id(row.get("lead_id")) for row in rows]),
            "phase": [p[0] for p in phase],
            "phase_sequence": np.asarray([p[1] for p in phase], dtype="int64"),
            "phase_kind": [p[2] for p in phase],
            "entered_at": _datetime_column([row.get("date_in") for row in rows]),
            "left_at": _datetime_column([row.get("date_out") for row in rows]),
            "team": _named(reader, rows, "team_id"),
            "user": _named(reader, rows, "user_id"),
            **{
                name: [o[i] for o in origin_of]
                for i, name in enumerate(("source", "medium", "campaign", "country"))
            },
            "origin": [row.get("origin") or None for row in rows],
        },
        columns=list(PHASE_STAY_COLUMNS),
    )
    table = validate_phase_stays(frame)
    return table.sort_values(["lead_id", "entered_at"], kind="stable", ignore_index=True)


def extract_handoffs(
    connection: Any,
    lead_ids: Iterable[int],
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: bool = False,
    retries: int = 3,
    *,
    backoff: float = 1.0,
) -> pd.DataFrame:
    """The handoffs of the given leads (the ``crm_lead_handoff`` addon's ``crm.lead.handoff``) the user may
    read, as a handoffs table for :func:`funnel_metrics.waterfall`.

    ``route``, ``from_team``, ``to`` (the receiving team, else the partner), ``phase`` (handed over from) and
    ``reason`` are names; ``team`` is the sending team; ``source``, ``medium``, ``campaign`` and ``country``
    the lead's.

    :return: the validated handoffs table (:data:`funnel_metrics.HANDOFF_COLUMNS`), in id order
    :raises ExtractError: the call failed, a database without ``crm_lead_handoff``.
    """
    from tqdm.auto import tqdm

    from funnel_metrics.phase_stays import HANDOFF_COLUMNS, validate_handoffs

    caller = RpcCaller(connection, retries, backoff)
    reader = RpcReader(connection, caller, max(1, int(page_size)), read_context(connection, caller))
    wanted = {int(lead) for lead in lead_ids}
    with tqdm(desc="handoffs", unit=" handoffs", disable=not progress) as bar:
        rows = _waterfall_rows(reader, HANDOFF_MODEL, HANDOFF_FIELDS, bar)
    rows = [row for row in rows if many2one_id(row.get("lead_id")) in wanted]
    phase_rows = reader.by_ids(
        LIFECYCLE_PHASE_MODEL, {many2one_id(row.get("phase_id")) for row in rows}, ["name"], bare=True
    )
    phases = {int(row["id"]): row["name"] for row in phase_rows}
    origins = _lead_origins(reader, {many2one_id(row.get("lead_id")) for row in rows})
    origin_of = [origins.get(many2one_id(row.get("lead_id")), (None,) * 4) for row in rows]
    from_team = _named(reader, rows, "from_team_id")
    to = [
        team or partner
        for team, partner in zip(
            _named(reader, rows, "to_team_id"), _named(reader, rows, "to_partner_id"), strict=True
        )
    ]
    frame = pd.DataFrame(
        {
            "handoff_id": _id_column([int(row["id"]) for row in rows]),
            "lead_id": _id_column([many2one_id(row.get("lead_id")) for row in rows]),
            "route": _named(reader, rows, "route_id"),
            "from_team": from_team,
            "to": to,
            "phase": [phases.get(many2one_id(row.get("phase_id"))) for row in rows],
            "sent_at": _datetime_column([row.get("date_sent") for row in rows]),
            "decided_at": _datetime_column([row.get("date_decided") for row in rows]),
            "state": [row.get("state") for row in rows],
            "auto_accepted": [bool(row.get("auto_accepted")) for row in rows],
            "reason": _named(reader, rows, "reason_id"),
            "team": from_team,
            **{
                name: [o[i] for o in origin_of]
                for i, name in enumerate(("source", "medium", "campaign", "country"))
            },
        },
        columns=list(HANDOFF_COLUMNS),
    )
    return validate_handoffs(frame)
