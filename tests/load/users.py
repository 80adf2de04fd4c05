"""One simulated user of the load test: a process that calls Odoo over JSON-2
(``POST /json/2/<model>/<method>``, its own API key as bearer token) in the mix of a working day, with
think time, until its deadline.

Standard library only. ``run_user(fixture)`` returns the timed samples (see ``loadstats.summarize``) and the
writes Odoo answered OK for, which the checks after the run look for in the database.
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import re
import time
import urllib.parse
from datetime import date, timedelta

import loadstats as ls

TIMEOUT_S = 300  # one call; the server's --limit-time-real is above it
LOOKUP = "(lookup) "  # untimed for the goals: what a user's screen had already loaded
DOCUMENT = base64.b64encode(b"Proposal for the load test: one page of plain text.\n").decode()


class Answer(Exception):
    """A call Odoo answered with an error: its kind (see ``loadstats.classify``) and message."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


class Client:
    """JSON-2 calls with one user's API key, over one keep-alive connection; plain GET/POST without it."""

    def __init__(self, url: str, key: str, context: dict):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.key, self.context = key, context
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # a worker closed the kept-alive connection between two calls: one new connection
                self.connection.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def call(self, model: str, method: str, ids=None, **params):
        payload = {**params, "context": {**self.context, **params.get("context", {})}}
        if ids is not None:
            payload["ids"] = ids
        headers = {"Content-Type": "application/json", "Authorization": f"bearer {self.key}"}
        status, raw = self._send("POST", f"/json/2/{model}/{method}", json.dumps(payload).encode(), headers)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")[:300]
        kind, message = ls.classify(status, body)
        if kind != ls.OK:
            raise Answer(kind, message)
        return body

    def anonymous(self, method: str, path: str, payload: dict | None = None) -> tuple[int, bytes]:
        """A request without API key nor session cookie (a visitor, or the survey's token-only pages)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        try:
            body = json.dumps(payload).encode() if payload is not None else None
            headers = {"Content-Type": "application/json"} if payload is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


class User:
    """What one user does, call by call. ``fixture`` is what ``load_odoo.py prepare`` gave this process."""

    def __init__(self, fixture: dict, deadline: float, max_calls: int, think_s: float, seed: int):
        self.fx = fixture
        self.deadline, self.max_calls, self.think_s = deadline, max_calls, think_s
        self.rng = random.Random(seed)
        self.client = Client(fixture["url"], fixture["key"], {"lang": "en_US", "tz": "UTC"})
        self.uid, self.slot, self.share = fixture["uid"], fixture["slot"], fixture["share"]
        self.samples: list[dict] = []
        self.writes: list[dict] = []
        self.targets: dict[str, list[int]] = {}
        self.weights = ls.mix(
            fixture["role"],
            can_stage=bool(fixture["stage_team_ids"]),
            can_qualify=bool(fixture["survey_team_ids"]),
            native=fixture["native"],
        )

    # ------------------------------------------------------------------ plumbing

    def timed(self, name: str, action) -> object:
        started = time.perf_counter()
        kind, message, result = ls.OK, "", None
        try:
            result = action()
        except Answer as answer:
            kind, message = answer.kind, answer.message
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as error:
            kind, message = ls.ERROR, f"{type(error).__name__}: {error}"
        ms = (time.perf_counter() - started) * 1000
        self.samples.append({"call": name, "ms": ms, "kind": kind, "message": message, "at": time.time()})
        return result if kind == ls.OK else None

    def mine(self, leads: list[int]) -> list[int]:
        """This process's share of its login's records: processes sharing a login work on distinct leads."""
        return [lead for lead in leads if lead % self.share == self.slot]

    def lead_domain(self, extra: list) -> list:
        who = (
            ["user_id", "=", self.uid] if self.fx["role"] == "rep" else ["team_id", "in", self.fx["team_ids"]]
        )
        return [["type", "=", "opportunity"], ["won_status", "=", "pending"], who, *extra]

    def load_targets(self) -> None:
        """The leads this user works on, as their pipeline and lists show them (lookups)."""
        queries = {
            "leads": [],
            "stage": [["team_id", "in", self.fx["stage_team_ids"]]],
            "qualify": [["team_id", "in", self.fx["survey_team_ids"]]],
        }
        for key, extra in queries.items():
            if extra and extra[0][1] == "in" and not extra[0][2]:  # no such team for this user
                self.targets[key] = []
                continue
            found = self.timed(
                f"{LOOKUP}leads",
                lambda extra=extra: self.client.call(
                    "crm.lead", "search", domain=self.lead_domain(extra), limit=3000, order="id"
                ),
            )
            self.targets[key] = self.mine(found or [])

    # ------------------------------------------------------------------ the calls

    def pipeline(self) -> None:
        self.client.call(
            "crm.lead",
            "web_read_group",
            domain=self.lead_domain([]),
            groupby=["stage_id"],
            aggregates=["expected_revenue:sum"],
            auto_unfold=True,
            unfold_read_specification=self.fx["specs"]["kanban"],
            unfold_read_default_limit=80,
            context={"default_type": "opportunity"},
        )

    def my_day(self) -> None:
        today = date.today().isoformat()
        due = ["|", ["kind", "=", "missing"], ["date_deadline", "<=", today]]
        mine = [["user_id", "=", self.uid]] if self.fx["role"] == "rep" else []
        self.client.call(
            "crm.followup.agenda",
            "web_search_read",
            domain=[*mine, *due],
            specification=self.fx["specs"]["agenda"],
            limit=80,
        )

    def lead_form(self) -> None:
        lead = self.rng.choice(self.targets["leads"])
        self.client.call("crm.lead", "web_read", ids=[lead], specification=self.fx["specs"]["form"])

    def complete(self) -> None:
        found = self.timed(
            f"{LOOKUP}activities",
            lambda: self.client.call(
                "mail.activity",
                "search_read",
                domain=[["user_id", "=", self.uid], ["res_model", "=", "crm.lead"]],
                fields=["res_id"],
                limit=200,
                order="date_deadline, id",
            ),
        )
        activities = [row for row in found or [] if row["res_id"] % self.share == self.slot]
        if not activities:
            return
        activity = self.rng.choice(activities[:20])
        self.timed(ls.COMPLETE, lambda: self._done_and_next(activity["id"], activity["res_id"]))

    def _done_and_next(self, activity_id: int, lead_id: int) -> None:
        """Done & Schedule Next as the chatter does it: mark done (or, where the team requires a next step,
        get the dialog that marks it done when the next one is saved), then save the next activity."""
        action = self.client.call(
            "mail.activity", "action_feedback_schedule_next", ids=[activity_id], feedback="Done (load test)"
        )
        if not action:  # the type scheduled its next activity itself
            self.writes.append({"kind": "activity_done", "id": activity_id, "lead": lead_id})
            return
        context = action["context"]
        created = self.client.call(
            "mail.activity",
            "create",
            vals_list=[
                {
                    "res_model_id": self.fx["lead_model_id"],
                    "res_id": context["default_res_id"],
                    "activity_type_id": self.fx["activity_type_id"],
                    "summary": "Next step (load test)",
                    "date_deadline": (date.today() + timedelta(days=3)).isoformat(),
                    "user_id": self.uid,
                }
            ],
            context=context,
        )
        self.writes.append({"kind": "activity_done", "id": activity_id, "lead": lead_id})
        self.writes.append({"kind": "activity_created", "id": created[0], "lead": lead_id})

    def stage(self) -> None:
        lead = self.rng.choice(self.targets["stage"])
        rows = self.timed(
            f"{LOOKUP}stage of a lead",
            lambda: self.client.call("crm.lead", "read", ids=[lead], fields=["stage_id"]),
        )
        if not rows:
            return
        stages = self.fx["stage_ids"]
        current = rows[0]["stage_id"] and rows[0]["stage_id"][0]
        position = stages.index(current) if current in stages else -1
        target = stages[(position + 1) % len(stages)]
        self.timed(ls.STAGE, lambda: self._write_stage(lead, target))

    def _write_stage(self, lead: int, stage: int) -> None:
        self.client.call("crm.lead", "write", ids=[lead], vals={"stage_id": stage})
        self.writes.append({"kind": "stage", "lead": lead, "stage": stage})

    def qualify(self) -> None:
        """Qualify as the lead's button does: the survey opened for the lead, prefilled with its latest
        answers; the page answered and submitted with the answer's token (the survey's own route)."""
        lead = self.rng.choice(self.targets["qualify"])
        action = self.client.call("crm.lead", "action_qualify", ids=[lead])
        url = urllib.parse.urlsplit(action["url"])
        survey_token = url.path.rstrip("/").rsplit("/", 1)[-1]
        answer_token = urllib.parse.parse_qs(url.query)["answer_token"][0]
        params = {}
        for question in self.fx["survey"]["questions"]:
            if question["type"] == "numerical_box":
                params[str(question["id"])] = str(self.rng.randrange(0, 200_000, 500))
            else:
                params[str(question["id"])] = str(self.rng.choice(question["answers"]))
        status, raw = self.client.anonymous(
            "POST",
            f"/survey/submit/{survey_token}/{answer_token}",
            {"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
        )
        body = json.loads(raw) if raw.startswith(b"{") else raw.decode(errors="replace")[:300]
        kind, message = ls.classify(status, body)
        result = body.get("result") if isinstance(body, dict) else None
        refused = isinstance(result, list) and len(result) > 1 and isinstance(result[1], dict)
        if kind == ls.OK and refused and "error" in result[1]:
            kind, message = ls.ERROR, f"survey page refused: {result[1]}"
        if kind != ls.OK:
            raise Answer(kind, message)
        self.writes.append({"kind": "qualify", "lead": lead, "token": answer_token})

    def funnel(self) -> None:
        """The funnel report's form saved and shown, then its lines read as the list does with what the
        action returned (its model, domain and context: the lines are computed as they are read): the
        rows, or per team or salesperson the groups unfolded with their rows and sums."""
        group_by = "stage" if self.fx["role"] == "rep" else self.rng.choice(["stage", "team", "user"])
        form = self.client.call("crm.stage.funnel.report", "create", vals_list=[{"group_by": group_by}])
        action = self.client.call("crm.stage.funnel.report", "action_show", ids=form)
        model, context = action["res_model"], action.get("context") or {}
        spec = self.fx["specs"]["funnel"].get(model) or {"display_name": {}}
        domain = action.get("domain") or []
        if context.get("group_by"):
            self.client.call(
                model,
                "web_read_group",
                domain=domain,
                groupby=context["group_by"],
                aggregates=["lost:sum", "open:sum"],
                auto_unfold=True,
                unfold_read_specification=spec,
                context=context,
            )
        else:
            self.client.call(
                model, "web_search_read", domain=domain, specification=spec, limit=80, context=context
            )

    def share_document(self) -> None:
        lead = self.rng.choice(self.targets["leads"])
        path = self.timed(ls.SHARE, lambda: self._share(lead))
        if path:
            self.timed(ls.OPEN_LINK, lambda: self._open(path))

    def _share(self, lead: int) -> str:
        """A document dropped on the lead's chatter, then shared with a contact (the wizard; the demo's
        leads have no customer, the user picks one)."""
        attachment = self.client.call(
            "ir.attachment",
            "create",
            vals_list=[{"name": "proposal.txt", "datas": DOCUMENT, "res_model": "crm.lead", "res_id": lead}],
        )
        wizard = self.client.call(
            "crm.document.link.share",
            "create",
            vals_list=[
                {"lead_id": lead, "attachment_id": attachment[0], "partner_id": self.fx["contact_id"]}
            ],
        )
        self.client.call("crm.document.link.share", "action_share", ids=wizard)
        shown = self.client.call(
            "crm.document.link.share", "web_read", ids=wizard, specification={"url": {}, "link_id": {}}
        )
        link = shown[0]["link_id"]
        self.writes.append({"kind": "share", "id": link, "lead": lead})
        return urllib.parse.urlsplit(shown[0]["url"]).path

    def _open(self, path: str) -> None:
        status, raw = self.client.anonymous("GET", path)
        if status != 200:
            raise Answer(ls.ERROR, f"HTTP {status} on the shared link: {raw[:200]!r}")
        token = re.sub(r".*/", "", path)
        self.writes.append({"kind": "open", "token": token})

    # ------------------------------------------------------------------ the day

    def run(self) -> dict:
        self.load_targets()
        actions = {
            ls.PIPELINE: self.pipeline,
            ls.MY_DAY: self.my_day,
            ls.LEAD_FORM: self.lead_form,
            ls.QUALIFY: self.qualify,
            ls.FUNNEL: self.funnel,
        }
        # calls that time themselves (a lookup first, or a second call after)
        own_timing = {ls.COMPLETE: self.complete, ls.STAGE: self.stage, ls.SHARE: self.share_document}
        needs = {ls.LEAD_FORM: "leads", ls.STAGE: "stage", ls.QUALIFY: "qualify", ls.SHARE: "leads"}
        calls = 0
        while time.monotonic() < self.deadline and calls < self.max_calls:
            name = ls.pick(self.rng, self.weights)
            if name in needs and not self.targets[needs[name]]:
                continue
            if name in own_timing:
                own_timing[name]()
            else:
                self.timed(name, actions[name])
            calls += 1
            time.sleep(min(ls.think(self.rng, self.think_s), max(self.deadline - time.monotonic(), 0)))
        return {"login": self.fx["login"], "samples": self.samples, "writes": self.writes}


def run_user(job: tuple[dict, float, int, float, int]) -> dict:
    """The entry point of a user process: ``(fixture, seconds to run, max calls, mean think s, seed)``."""
    fixture, seconds, max_calls, think_s, seed = job
    user = User(fixture, time.monotonic() + seconds, max_calls, think_s, seed)
    return user.run()
