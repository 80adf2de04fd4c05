"""Ways around the rules, tried over the external API the way a salesperson or a portal user could.

Three users log in: ``sec_rep``, a plain salesperson of company A, member of a team whose stages follow a
qualification survey and whose follow-up policy is *enforce* (and of a second *enforce* team whose stages are
set by hand, for the ways into it); ``sec_rep_b``, a salesperson of company B only;
``sec_portal``, a portal user. Each attempt is one way around one rule, over XML-RPC (``/xmlrpc/2``, login and
password), JSON-2 (``/json/2``, API key) or plain HTTP (the document link and survey routes). Each must be
refused with the right error and leave the data as it was: everything the fixture holds is read again, as
superuser, after every attempt and compared with what it was before.
"""

import base64
import logging
import xmlrpc.client
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.addons.crm_stage_survey.tests.common import build_gated_pipeline
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

_logger = logging.getLogger(__name__)

# the external API logs every refusal (odoo.http) and every XML-RPC call (deprecated in 19) as a warning
NOISY_LOGGERS = ("odoo.http", "odoo.addons.rpc.controllers.xmlrpc")

# the refusals, as each protocol reports them
JSON2_STATUS = {"UserError": 422, "ValidationError": 422, "AccessError": 403}
JSON2_NAME = {
    "UserError": "odoo.exceptions.UserError",
    "ValidationError": "odoo.exceptions.ValidationError",
    "AccessError": "odoo.exceptions.AccessError",
}
# /xmlrpc/2 fault codes (addons/rpc/controllers/xmlrpc.py): 4 access error, 2 user error (a warning)
XMLRPC_FAULT = {"UserError": 2, "ValidationError": 2, "AccessError": 4}
# odoo.service.model.get_public_method refuses methods starting with "_" (and @api.private ones)
PRIVATE = "cannot be called remotely"

LOCK = "Qualify"  # the stage lock's message points to the survey
NEXT_STEP = "without a next step"  # the follow-up policy's message
ENTRY = "requires a next step"  # the follow-up policy's message for a lead entering an enforce team
BY_HAND = "not by hand"  # the decision phase's message


@dataclass
class Reply:
    """What the server answered: a JSON-2 status and body, an XML-RPC result or fault, an HTTP response."""

    status: int = 200
    body: Any = None
    fault: xmlrpc.client.Fault | None = None


@dataclass(frozen=True)
class Attempt:
    """One way around one rule.

    ``refusal`` is the exception the server must answer with (``UserError``, ``AccessError``,
    ``ValidationError``), its message containing ``says``. Attempts the server answers without an exception
    (an import reports its errors, a link route answers 404, a grouped read leaves out what the user may not
    see, a forged value is ignored) give ``answered`` instead: a check of the reply saying it was refused.
    ``after`` checks what must hold once the attempt is over, on top of the fixture being unchanged. A
    legitimate call that creates a lead while the server ignores what was forged in it (``changes_fixture``)
    leaves the fixture unchanged but for the number of leads; ``answered`` or ``after`` says what was
    ignored."""

    label: str
    category: str
    protocol: str
    user: str
    call: Callable[[Any], Reply]
    refusal: str | None = None
    says: str = ""
    answered: Callable[[Any, Reply], bool] | None = None
    after: Callable[[Any], None] | None = None
    changes_fixture: bool = False


def _write_stage(t, stage_attr, protocol="json2", context=None):
    vals = {"stage_id": getattr(t, stage_attr).id}
    if protocol == "xmlrpc":
        return t.xmlrpc("rep", "crm.lead", "write", [t.lead.ids, vals])
    return t.json2("rep", "crm.lead", "write", ids=t.lead.ids, vals=vals, context=context or {})


def _new_lead_vals(t, **values):
    return dict({"name": "Forced in", "type": "opportunity", "team_id": t.team.id}, **values)


def _load_refused(_t, reply):
    if reply.fault or not isinstance(reply.body, dict):
        return False
    messages = reply.body["messages"]
    return not reply.body["ids"] and any(m["type"] == "error" and LOCK in m["message"] for m in messages)


def _starts_without_answers(t, created):
    """A new lead (a copy has no answers either) is created, not refused, in the stage no answers reach —
    not in the stage asked for."""
    ids = created if isinstance(created, list) else [created]
    leads = t.env["crm.lead"].browse(ids).exists()
    return bool(leads) and leads.stage_id == t.stage_new and leads.stage_history_ids.stage_id == t.stage_new


def _hop_back(t):
    """Out to a team without a policy, the last activity completed there (both allowed), then back."""
    moved = t.json2("rep", "crm.lead", "write", ids=t.lead_hop.ids, vals={"team_id": t.manual_team.id})
    t.assertEqual(moved.status, 200, moved.body)
    done = t.json2("rep", "mail.activity", "action_feedback", ids=t.activity_hop.ids, feedback="No news")
    t.assertEqual(done.status, 200, done.body)
    return t.json2("rep", "crm.lead", "write", ids=t.lead_hop.ids, vals={"team_id": t.enforce_team.id})


def _hop_refused(t):
    t.assertEqual(t.lead_hop.team_id, t.manual_team, "the lead stays out of the enforce team")
    t.assertEqual(t.lead_hop.followup_state, "exempt", "a team without a policy flags nothing")


def _restore_asks_for_a_next_step(t, reply):
    """From the form's Restore button: the dialog to plan the next step, and nothing restored yet."""
    body = reply.body if isinstance(reply.body, dict) else {}
    return reply.status == 200 and body.get("res_model") == "mail.activity" and not t.lead_lost.active


def _still_lost(t):
    t.assertFalse(t.lead_lost.active)


def _survey_error(code):
    return lambda _t, reply: reply.body == [{}, {"error": code}]


def _groups_only_own_leads(t, reply):
    if reply.status != 200:
        return False
    seen = {group["lead_id"][0] for group in reply.body}
    return t.lead.id in seen and not seen & {t.lead_other.id, t.lead_b.id}


def _link_404(_t, reply):
    return reply.status == 404


def _origin_not_forged(t):
    stay = t.free_lead.stage_history_ids.sorted("id")[-1]
    t.assertEqual(t.free_lead.stage_id, t.stage_proposal, "the move itself is allowed in a manual team")
    t.assertEqual(stay.origin, "manual", "the origin is the salesperson's move, not the forged override")


def _clock_not_forged(t):
    lead = t.env["crm.lead"].search([("name", "=", "Clock forged")])
    t.assertEqual(len(lead), 1)
    t.assertGreaterEqual(
        lead.sla_last_action_date, lead.create_date.replace(microsecond=0), "the clock starts at creation"
    )


ATTEMPTS = [
    # ---- stage lock: in a survey team only the answers (or a manager's override) move a lead -----------
    Attempt(
        "write stage_id on a survey-team lead",
        "stage lock",
        "json2",
        "rep",
        lambda t: _write_stage(t, "stage_proposal"),
        "UserError",
        LOCK,
    ),
    Attempt(
        "write stage_id back to an earlier stage",
        "stage lock",
        "xmlrpc",
        "rep",
        lambda t: _write_stage(t, "stage_new", protocol="xmlrpc"),
        "UserError",
        LOCK,
    ),
    Attempt(
        "write stage_id with the addon's markers forged in the context",
        "stage lock",
        "json2",
        "rep",
        lambda t: _write_stage(
            t,
            "stage_proposal",
            context={"crm_stage_survey.override": True, "stage_history_origin": "override"},
        ),
        "UserError",
        LOCK,
    ),
    Attempt(
        "empty the stage",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead", "write", ids=t.lead.ids, vals={"stage_id": False}),
        "UserError",
        LOCK,
    ),
    Attempt(
        "create a lead straight in a later stage",
        "stage lock",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "create", [[_new_lead_vals(t, stage_id=t.stage_proposal.id)]]),
        answered=lambda t, reply: _starts_without_answers(t, reply.body),
        changes_fixture=True,
    ),
    Attempt(
        "import (load) a row that moves the lead",
        "stage lock",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc(
            "rep",
            "crm.lead",
            "load",
            [["id", "name", "stage_id/id"], [["__import__.sec_lead", "Imported", "__import__.sec_proposal"]]],
            {"context": {"import_file": True}},
        ),
        answered=_load_refused,
    ),
    Attempt(
        "copy the lead with default={'stage_id': a later stage}",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "copy", ids=t.lead.ids, default={"stage_id": t.stage_proposal.id}
        ),
        answered=lambda t, reply: reply.status == 200 and _starts_without_answers(t, reply.body),
        changes_fixture=True,
    ),
    Attempt(
        "web_save (form, kanban drag-and-drop) with a later stage",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "web_save",
            ids=t.lead.ids,
            vals={"stage_id": t.stage_proposal.id},
            specification={},
        ),
        "UserError",
        LOCK,
    ),
    Attempt(
        "web_resequence with field_name='stage_id' (offset = the stage's id)",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "web_resequence",
            ids=t.lead.ids,
            specification={},
            field_name="stage_id",
            offset=t.stage_proposal.id,
        ),
        "UserError",
        LOCK,
    ),
    Attempt(
        "set the stage through the customer's opportunity_ids (one2many command)",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "res.partner",
            "write",
            ids=t.customer.ids,
            vals={"opportunity_ids": [(1, t.lead.id, {"stage_id": t.stage_proposal.id})]},
        ),
        "UserError",
        LOCK,
    ),
    Attempt(
        "create a code server action that writes the stage",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "ir.actions.server",
            "create",
            vals_list=[
                {
                    "name": "Push",
                    "model_id": t.lead_model_id,
                    "state": "code",
                    "code": f"records.write({{'stage_id': {t.stage_proposal.id}}})",
                }
            ],
        ),
        "AccessError",
    ),
    Attempt(
        "run an administrator's code server action that writes the stage",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "ir.actions.server",
            "run",
            ids=t.code_action.ids,
            context={"active_model": "crm.lead", "active_id": t.lead.id, "active_ids": t.lead.ids},
        ),
        "UserError",
        LOCK,
    ),
    Attempt(
        "run an administrator's 'update record' server action that sets the stage",
        "stage lock",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc(
            "rep",
            "ir.actions.server",
            "run",
            [t.write_action.ids],
            {"context": {"active_model": "crm.lead", "active_id": t.lead.id, "active_ids": t.lead.ids}},
        ),
        "UserError",
        LOCK,
    ),
    Attempt(
        "win a lead whose answers do not reach the last gate",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead", "action_set_won", ids=t.lead.ids),
        "UserError",
        "can be won once",
    ),
    Attempt(
        "open the manager's override as a salesperson",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead", "action_survey_override", ids=t.lead.ids),
        "UserError",
        "Only sales managers",
    ),
    Attempt(
        "create the override wizard directly",
        "stage lock",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc(
            "rep",
            "crm.stage.override",
            "create",
            [[{"lead_id": t.lead.id, "stage_id": t.stage_proposal.id, "reason": "because"}]],
        ),
        "AccessError",
    ),
    Attempt(
        "switch the team to stages set by hand",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.team", "write", ids=t.team.ids, vals={"stage_setting": "manual"}),
        "AccessError",
    ),
    Attempt(
        "delete the entry criterion of the next stage",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.stage.criterion", "unlink", ids=t.criteria.ids),
        "AccessError",
    ),
    Attempt(
        "call the private stage writer _survey_write_stage",
        "stage lock",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "_survey_write_stage",
            ids=t.lead.ids,
            stage=t.stage_proposal.id,
            origin="override",
        ),
        "AccessError",
        PRIVATE,
    ),
    # ---- follow-up policy (enforce): the last open activity of an open lead stays ----------------------
    Attempt(
        "mark the last activity done (action_done)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2("rep", "mail.activity", "action_done", ids=t.activity.ids),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "mark the last activity done with feedback (action_feedback)",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "mail.activity", "action_feedback", [t.activity.ids], {"feedback": "done"}),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "mark it done and go to the other activities (action_done_redirect_to_other)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2("rep", "mail.activity", "action_done_redirect_to_other", ids=t.activity.ids),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "mark it done from the lead (activity_feedback on crm.lead)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "activity_feedback",
            ids=t.lead.ids,
            act_type_xmlids=["mail.mail_activity_data_todo"],
            only_automated=False,
        ),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "cancel the last activity (action_cancel)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2("rep", "mail.activity", "action_cancel", ids=t.activity.ids),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "delete the last activity (unlink)",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "mail.activity", "unlink", [t.activity.ids]),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "delete it from the lead (activity_unlink on crm.lead)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "activity_unlink",
            ids=t.lead.ids,
            act_type_xmlids=["mail.mail_activity_data_todo"],
            only_automated=False,
        ),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "delete it through the lead's activity_ids (one2many command 2)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "write", ids=t.lead.ids, vals={"activity_ids": [(2, t.activity.id)]}
        ),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "detach it from the lead through activity_ids (one2many command 3)",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "write", [t.lead.ids, {"activity_ids": [(3, t.activity.id)]}]),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "archive the last activity (action_archive)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2("rep", "mail.activity", "action_archive", ids=t.activity.ids),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "move the last activity to another lead (write res_id)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "mail.activity", "write", ids=t.activity.ids, vals={"res_id": t.lead_move.id}
        ),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "move the last activity to another model (write res_model_id)",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc(
            "rep",
            "mail.activity",
            "write",
            [t.activity.ids, {"res_model_id": t.partner_model_id, "res_id": t.customer.id}],
        ),
        "UserError",
        NEXT_STEP,
    ),
    Attempt(
        "forge Done & Schedule Next: plan the 'next' activity on another lead",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "mail.activity",
            "create",
            vals_list=[
                {
                    "res_model_id": t.lead_model_id,
                    "res_id": t.lead_move.id,
                    "activity_type_id": t.todo.id,
                    "user_id": t.rep.id,
                    "summary": "Decoy",
                }
            ],
            context={"followup_done_activity_id": t.activity.id},
        ),
        "UserError",
        "same record",
    ),
    Attempt(
        "call the private _action_done",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "mail.activity", "_action_done", [t.activity.ids]),
        "AccessError",
        PRIVATE,
    ),
    Attempt(
        "write followup_state on the lead",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead", "write", ids=t.lead.ids, vals={"followup_state": "exempt"}),
        "UserError",
        "computed from the lead's activities",
    ),
    Attempt(
        "write when the activity was done (followup_done_at)",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "mail.activity",
            "write",
            ids=t.activity.ids,
            vals={"followup_done_at": "2026-01-01 00:00:00"},
        ),
        "UserError",
        "recorded, not set",
    ),
    Attempt(
        "exempt the lead with another company's no-follow-up reason",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "write", ids=t.lead.ids, vals={"no_followup_reason_id": t.reason_b.id}
        ),
        "UserError",
        "company inconsistencies",
    ),
    Attempt(
        "complete company A's activity as company B's salesperson",
        "follow-up",
        "xmlrpc",
        "rep_b",
        lambda t: t.xmlrpc("rep_b", "mail.activity", "action_feedback", [t.activity.ids]),
        "AccessError",
    ),
    # ---- follow-up: a lead enters or returns to an enforce team only with a next step -----------------
    Attempt(
        "hop to a team without policy, complete the last activity there, hop back",
        "follow-up",
        "json2",
        "rep",
        _hop_back,
        "UserError",
        ENTRY,
        after=_hop_refused,
    ),
    Attempt(
        "restore a lost lead whose last activity was completed meanwhile (action_restore)",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "action_restore", [t.lead_lost.ids]),
        "UserError",
        ENTRY,
        after=_still_lost,
    ),
    Attempt(
        "unarchive it by writing active",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead", "write", ids=t.lead_lost.ids, vals={"active": True}),
        "UserError",
        ENTRY,
        after=_still_lost,
    ),
    Attempt(
        "restore it with the Restore button's context",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "action_restore", ids=t.lead_lost.ids, context={"followup_ask_next_step": True}
        ),
        answered=_restore_asks_for_a_next_step,
    ),
    Attempt(
        "restore it through the dialog's keys with an activity on another lead",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "mail.activity",
            "create",
            vals_list=[
                {"res_model_id": t.lead_model_id, "res_id": t.lead_move.id, "activity_type_id": t.todo.id}
            ],
            context={
                "followup_restore_lead_id": t.lead_lost.id,
                "followup_restore_method": "action_unarchive",
            },
        ),
        "UserError",
        "lead being restored",
        after=_still_lost,
    ),
    Attempt(
        "reopen a won lead without a next step",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "write", [t.lead_won.ids, {"stage_id": t.stage_new.id}]),
        "UserError",
        ENTRY,
    ),
    Attempt(
        "remove the no-follow-up reason of a lead without activity",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "write", ids=t.lead_reason.ids, vals={"no_followup_reason_id": False}
        ),
        "UserError",
        ENTRY,
    ),
    Attempt(
        "merge two leads without activity into the enforce team",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "merge_opportunity", ids=t.duplicates.ids, team_id=t.enforce_team.id
        ),
        "UserError",
        ENTRY,
        after=lambda t: t.assertEqual(len(t.duplicates.exists()), 2, "nothing merged"),
    ),
    Attempt(
        "convert a lead into the enforce team without a next step",
        "follow-up",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc(
            "rep", "crm.lead", "convert_opportunity", [t.raw_lead.ids, False], {"team_id": t.enforce_team.id}
        ),
        "UserError",
        ENTRY,
        after=lambda t: t.assertEqual((t.raw_lead.type, t.raw_lead.team_id), ("lead", t.manual_team)),
    ),
    Attempt(
        "run an administrator's 'update record' server action that sets the team",
        "follow-up",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "ir.actions.server",
            "run",
            ids=t.team_action.ids,
            context={"active_model": "crm.lead", "active_id": t.raw_lead.id, "active_ids": t.raw_lead.ids},
        ),
        "UserError",
        ENTRY,
        after=lambda t: t.assertEqual(t.raw_lead.team_id, t.manual_team),
    ),
    # ---- stage history: written by the server only, read like the leads --------------------------------
    Attempt(
        "create a stay",
        "stage history",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead.stage.history",
            "create",
            vals_list=[
                {"lead_id": t.lead.id, "stage_id": t.stage_proposal.id, "date_in": "2026-01-01 00:00:00"}
            ],
        ),
        "AccessError",
    ),
    Attempt(
        "rewrite the origin of a stay",
        "stage history",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead.stage.history", "write", [t.stays.ids, {"origin": "override"}]),
        "AccessError",
    ),
    Attempt(
        "rewrite a stay through the lead's stage_history_ids (one2many command)",
        "stage history",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "write",
            ids=t.lead.ids,
            vals={"stage_history_ids": [(1, t.stays[0].id, {"date_in": "2020-01-01 00:00:00"})]},
        ),
        "AccessError",
    ),
    Attempt(
        "delete a stay",
        "stage history",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead.stage.history", "unlink", ids=t.stays.ids),
        "AccessError",
    ),
    Attempt(
        "read the stays of another salesperson's lead",
        "stage history",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead.stage.history", "read", ids=t.stays_other.ids, fields=["origin"]),
        "AccessError",
    ),
    Attempt(
        "count other salespeople's stays with formatted_read_group by lead",
        "stage history",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead.stage.history", "formatted_read_group", domain=[], groupby=["lead_id"]
        ),
        answered=_groups_only_own_leads,
    ),
    Attempt(
        "read company A's stays as company B's salesperson",
        "stage history",
        "xmlrpc",
        "rep_b",
        lambda t: t.xmlrpc("rep_b", "crm.lead.stage.history", "read", [t.stays.ids, ["origin"]]),
        "AccessError",
    ),
    Attempt(
        "call the private _sync_stays",
        "stage history",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead.stage.history",
            "_sync_stays",
            lead_ids=t.lead.ids,
            origin="sla",
            now="2026-01-01",
        ),
        "AccessError",
        PRIVATE,
    ),
    Attempt(
        "forge the origin of a stay through the context (stage_history_origin='override')",
        "stage history",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "write",
            ids=t.free_lead.ids,
            vals={"stage_id": t.stage_proposal.id},
            context={"stage_history_origin": "override"},
        ),
        answered=lambda _t, reply: reply.status == 200,
        after=_origin_not_forged,
    ),
    # ---- SLA rules and events: configured by managers, written by the rules' runs ----------------------
    Attempt(
        "create an SLA rule",
        "SLA",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.sla.rule",
            "create",
            vals_list=[{"name": "Mine", "threshold": 100, "unit": "days", "action": "escalate"}],
        ),
        "AccessError",
    ),
    Attempt(
        "loosen an SLA rule's threshold",
        "SLA",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.sla.rule", "write", [t.rule.ids, {"threshold": 999}]),
        "AccessError",
    ),
    Attempt(
        "delete an SLA rule",
        "SLA",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.sla.rule", "unlink", ids=t.rule.ids),
        "AccessError",
    ),
    Attempt(
        "create an SLA event (claim the episode was handled)",
        "SLA",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.sla.event",
            "create",
            vals_list=[
                {
                    "rule_id": t.rule.id,
                    "lead_id": t.lead.id,
                    "clock": "stage_entry",
                    "clock_start": "2026-01-01 00:00:00",
                    "state": "acted",
                }
            ],
        ),
        "AccessError",
    ),
    Attempt(
        "rewrite an SLA event's state",
        "SLA",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.sla.event", "write", [t.sla_event.ids, {"state": "acted"}]),
        "AccessError",
    ),
    Attempt(
        "retry a failed SLA event (action_retry)",
        "SLA",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.sla.event", "action_retry", ids=t.sla_event.ids),
        "AccessError",
        "Only sales managers",
    ),
    Attempt(
        "run the SLA rules now (action_run_now)",
        "SLA",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.sla.rule", "action_run_now", ids=t.rule.ids),
        "AccessError",
        "Only sales managers",
    ),
    Attempt(
        "preview an SLA rule (action_preview)",
        "SLA",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.sla.rule", "action_preview", [t.rule.ids]),
        "AccessError",
        "Only sales managers",
    ),
    Attempt(
        "read company A's SLA events as company B's salesperson",
        "SLA",
        "json2",
        "rep_b",
        lambda t: t.json2("rep_b", "crm.sla.event", "read", ids=t.sla_event.ids, fields=["state"]),
        "AccessError",
    ),
    Attempt(
        "restart the 'last action' clock (write sla_last_action_date)",
        "SLA",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "write", ids=t.lead.ids, vals={"sla_last_action_date": "2030-01-01 00:00:00"}
        ),
        "UserError",
        "cannot be set by hand",
    ),
    Attempt(
        "create a lead with an old 'last action' clock",
        "SLA",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "create",
            vals_list=[
                {
                    "name": "Clock forged",
                    "team_id": t.manual_team.id,
                    "sla_last_action_date": "2020-01-01 00:00:00",
                }
            ],
        ),
        answered=lambda _t, reply: reply.status == 200,
        after=_clock_not_forged,
        changes_fixture=True,
    ),
    Attempt(
        "call the private _sla_touch",
        "SLA",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "_sla_touch", [t.lead.ids]),
        "AccessError",
        PRIVATE,
    ),
    # ---- customer events and decision phases: logged by the server, per company ------------------------
    Attempt(
        "create a customer event",
        "customer events",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead.customer.event",
            "create",
            vals_list=[{"lead_id": t.lead.id, "event_type": "document_opened", "description": "Prices"}],
        ),
        "AccessError",
    ),
    Attempt(
        "rewrite a customer event",
        "customer events",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead.customer.event", "write", [t.event_a.ids, {"description": "x"}]),
        "AccessError",
    ),
    Attempt(
        "log a customer event through the private _log",
        "customer events",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead.customer.event", "_log", lead=t.lead.id, event_type="email_received"
        ),
        "AccessError",
        PRIVATE,
    ),
    Attempt(
        "read company A's customer events as company B's salesperson",
        "customer events",
        "json2",
        "rep_b",
        lambda t: t.json2("rep_b", "crm.lead.customer.event", "read", ids=t.event_a.ids, fields=["payload"]),
        "AccessError",
    ),
    Attempt(
        "read company B's customer events as company A's salesperson",
        "customer events",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead.customer.event", "read", [t.event_b.ids, ["description"]]),
        "AccessError",
    ),
    Attempt(
        "set the decision phase of company A's lead as company B's salesperson",
        "customer events",
        "json2",
        "rep_b",
        lambda t: t.json2(
            "rep_b", "crm.lead", "write", ids=t.lead.ids, vals={"decision_phase_id": t.phase_b.id}
        ),
        "AccessError",
    ),
    Attempt(
        "put company B's decision phase on a company A lead",
        "customer events",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "write", ids=t.lead.ids, vals={"decision_phase_id": t.phase_b.id}
        ),
        "UserError",
        BY_HAND,
    ),
    # ---- decision phase: set by the customer's behaviour, corrected by a manager with a reason ---------
    Attempt(
        "move the decision phase forward by hand",
        "decision phase",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.lead", "write", ids=t.lead.ids, vals={"decision_phase_id": t.deciding.id}
        ),
        "UserError",
        BY_HAND,
    ),
    Attempt(
        "move the decision phase back by hand",
        "decision phase",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "write", [t.lead.ids, {"decision_phase_id": t.need.id}]),
        "UserError",
        BY_HAND,
    ),
    Attempt(
        "clear the decision phase",
        "decision phase",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead", "write", ids=t.lead.ids, vals={"decision_phase_id": False}),
        "UserError",
        BY_HAND,
    ),
    Attempt(
        "set it with the addon's marker forged in the context",
        "decision phase",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "write",
            ids=t.lead.ids,
            vals={"decision_phase_id": t.deciding.id},
            context={"crm_stage_survey.decision_phase": True},
        ),
        "UserError",
        BY_HAND,
    ),
    Attempt(
        "create a lead with a decision phase",
        "decision phase",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc(
            "rep", "crm.lead", "create", [[{"name": "Pre-phased", "decision_phase_id": t.deciding.id}]]
        ),
        "UserError",
        BY_HAND,
    ),
    Attempt(
        "import a decision phase",
        "decision phase",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.lead",
            "load",
            fields=["id", "decision_phase_id/id"],
            data=[["__import__.sec_lead", "crm_stage_survey.crm_decision_phase_deciding"]],
            context={"import_file": True},
        ),
        answered=lambda _t, reply: (
            reply.status == 200
            and not reply.body["ids"]
            and any(BY_HAND in m["message"] for m in reply.body["messages"])
        ),
    ),
    Attempt(
        "run an administrator's 'update record' server action that sets the phase",
        "decision phase",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc(
            "rep",
            "ir.actions.server",
            "run",
            [t.phase_action.ids],
            {"context": {"active_model": "crm.lead", "active_id": t.lead.id, "active_ids": t.lead.ids}},
        ),
        "UserError",
        BY_HAND,
    ),
    Attempt(
        "open the managers' correction as a salesperson",
        "decision phase",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.lead", "action_decision_phase_correct", ids=t.lead.ids),
        "UserError",
        "Only sales managers",
    ),
    Attempt(
        "correct the phase through the managers' wizard as a salesperson",
        "decision phase",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.decision.phase.correction",
            "create",
            vals_list=[{"lead_id": t.lead.id, "phase_id": t.need.id, "reason": "I say so"}],
        ),
        "AccessError",
    ),
    Attempt(
        "call the private _decision_phase_set",
        "decision phase",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "_decision_phase_set", [t.lead.ids, t.need.id, "correction"]),
        "AccessError",
        PRIVATE,
    ),
    Attempt(
        "rewrite the origin of a phase change",
        "decision phase",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep", "crm.decision.phase.change", "write", ids=t.phase_changes.ids, vals={"origin": "customer"}
        ),
        "AccessError",
    ),
    Attempt(
        "read company A's phase changes as company B's salesperson",
        "decision phase",
        "json2",
        "rep_b",
        lambda t: t.json2(
            "rep_b", "crm.decision.phase.change", "read", ids=t.phase_changes.ids, fields=["reason"]
        ),
        "AccessError",
    ),
    # ---- qualification answers: linked to the lead they qualify, by the server -------------------------
    Attempt(
        "create survey answers linked to another salesperson's lead",
        "survey inputs",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "survey.user_input",
            "create",
            vals_list=[{"survey_id": t.survey.id, "lead_id": t.lead_other.id, "state": "done"}],
        ),
        "AccessError",
    ),
    Attempt(
        "qualify another salesperson's lead (action_qualify)",
        "survey inputs",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.lead", "action_qualify", [t.lead_other.ids]),
        "AccessError",
    ),
    Attempt(
        "qualify company A's lead as company B's salesperson",
        "survey inputs",
        "json2",
        "rep_b",
        lambda t: t.json2("rep_b", "crm.lead", "action_qualify", ids=t.lead.ids),
        "AccessError",
    ),
    Attempt(
        "submit answers into another salesperson's qualification (its answer token)",
        "survey inputs",
        "http",
        "rep_b",
        lambda t: t.survey_submit("sec_rep_b", t.open_input),
        answered=_survey_error("answer_wrong_user"),
    ),
    Attempt(
        "resubmit a completed qualification with other answers (replayed token)",
        "survey inputs",
        "http",
        "rep",
        lambda t: t.survey_submit("sec_rep", t.done_input),
        answered=_survey_error("unauthorized"),
    ),
    Attempt(
        "complete answers through the private _mark_done",
        "survey inputs",
        "json2",
        "rep",
        lambda t: t.json2("rep", "survey.user_input", "_mark_done", ids=t.open_input.ids),
        "AccessError",
        PRIVATE,
    ),
    # ---- tracked document links: the token is the only credential, for its own document only -----------
    Attempt(
        "open a link with one character of its token altered",
        "document links",
        "http",
        "public",
        lambda t: t.open_link(t.link.token[:-1] + ("A" if t.link.token[-1] != "A" else "B")),
        answered=_link_404,
    ),
    Attempt(
        "replay the token of an expired link",
        "document links",
        "http",
        "public",
        lambda t: t.open_link(t.link_expired.token),
        answered=_link_404,
    ),
    Attempt(
        "replay the token of a revoked (archived) link",
        "document links",
        "http",
        "public",
        lambda t: t.open_link(t.link_revoked.token),
        answered=_link_404,
    ),
    Attempt(
        "open a link whose document now belongs to another lead",
        "document links",
        "http",
        "public",
        lambda t: t.open_link(t.link_moved.token),
        answered=_link_404,
    ),
    Attempt(
        "choose a link's token (write token)",
        "document links",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.document.link", "write", ids=t.link.ids, vals={"token": "guessable"}),
        "UserError",
        "cannot be changed",
    ),
    Attempt(
        "inflate a link's openings (write open_count)",
        "document links",
        "xmlrpc",
        "rep",
        lambda t: t.xmlrpc("rep", "crm.document.link", "write", [t.link.ids, {"open_count": 50}]),
        "UserError",
        "cannot be edited",
    ),
    Attempt(
        "share a document of another lead from this one",
        "document links",
        "json2",
        "rep",
        lambda t: t.json2(
            "rep",
            "crm.document.link",
            "create",
            vals_list=[
                {"lead_id": t.lead.id, "partner_id": t.customer.id, "attachment_id": t.attachment_other.id}
            ],
        ),
        "ValidationError",
        "Only documents attached",
    ),
    Attempt(
        "read company A's link tokens as company B's salesperson",
        "document links",
        "json2",
        "rep_b",
        lambda t: t.json2("rep_b", "crm.document.link", "read", ids=t.link.ids, fields=["token"]),
        "AccessError",
    ),
    Attempt(
        "count an opening through the private _register_open",
        "document links",
        "json2",
        "rep",
        lambda t: t.json2("rep", "crm.document.link", "_register_open", ids=t.link.ids),
        "AccessError",
        PRIVATE,
    ),
    # ---- portal user: no access to the CRM records at all ----------------------------------------------
    Attempt(
        "read a lead as a portal user",
        "portal",
        "json2",
        "portal",
        lambda t: t.json2("portal", "crm.lead", "read", ids=t.lead.ids, fields=["name"]),
        "AccessError",
    ),
    Attempt(
        "search the stage history as a portal user",
        "portal",
        "xmlrpc",
        "portal",
        lambda t: t.xmlrpc("portal", "crm.lead.stage.history", "search_read", [[]], {"fields": ["origin"]}),
        "AccessError",
    ),
    Attempt(
        "read SLA events as a portal user",
        "portal",
        "json2",
        "portal",
        lambda t: t.json2("portal", "crm.sla.event", "search_read", domain=[], fields=["state"]),
        "AccessError",
    ),
    Attempt(
        "read customer events as a portal user",
        "portal",
        "json2",
        "portal",
        lambda t: t.json2("portal", "crm.lead.customer.event", "search_read", domain=[], fields=["payload"]),
        "AccessError",
    ),
    Attempt(
        "create a tracked link as a portal user",
        "portal",
        "xmlrpc",
        "portal",
        lambda t: t.xmlrpc(
            "portal",
            "crm.document.link",
            "create",
            [[{"lead_id": t.lead.id, "partner_id": t.customer.id, "attachment_id": t.attachment.id}]],
        ),
        "AccessError",
    ),
    Attempt(
        "create qualification answers as a portal user",
        "portal",
        "json2",
        "portal",
        lambda t: t.json2(
            "portal",
            "survey.user_input",
            "create",
            vals_list=[{"survey_id": t.survey.id, "lead_id": t.lead.id}],
        ),
        "AccessError",
    ),
]


@tagged("post_install", "-at_install")
class TestSecurityOverRpc(Json2Case):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the gated pipeline is built by an administrator (not the superuser), as in the stage lock tests
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        build_gated_pipeline(cls, "Sec")
        cls.env = cls.env(su=True)
        env = cls.env
        cls.company_a = cls.rep.company_id
        cls.team.followup_policy = "enforce"
        cls.todo = env.ref("mail.mail_activity_data_todo")
        cls.lead_model_id = env["ir.model"]._get_id("crm.lead")
        cls.partner_model_id = env["ir.model"]._get_id("res.partner")
        cls.rep2 = new_test_user(env, login="sec_rep_two", groups="sales_team.group_sale_salesman")
        cls.company_b = env["res.company"].create({"name": "Sec Company B"})
        cls.rep_b = new_test_user(
            env,
            login="sec_rep_b",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.portal = new_test_user(env, login="sec_portal", groups="base.group_portal")
        cls.customer = env["res.partner"].create({"name": "Sec Customer", "email": "buyer@example.com"})

        Lead = env["crm.lead"]
        common = {"type": "opportunity", "team_id": cls.team.id, "partner_id": cls.customer.id}
        cls.lead = Lead.create(dict(common, name="Sec deal", user_id=cls.rep.id))
        cls.lead_move = Lead.create(dict(common, name="Sec other deal", user_id=cls.rep.id))
        cls.lead_other = Lead.create(dict(common, name="Sec colleague's deal", user_id=cls.rep2.id))
        cls.free_lead = Lead.create(
            {
                "name": "Sec free deal",
                "type": "opportunity",
                "team_id": cls.manual_team.id,
                "user_id": cls.rep.id,
                "stage_id": cls.stage_new.id,
            }
        )
        team_b = env["crm.team"].create({"name": "Sec Team B", "company_id": cls.company_b.id})
        cls.lead_b = Lead.create(
            {
                "name": "Sec B deal",
                "type": "opportunity",
                "team_id": team_b.id,
                "user_id": cls.rep_b.id,
                "company_id": cls.company_b.id,
            }
        )
        # the answers put the lead in Qualified; the Proposal gate (10 seats) is not met
        cls.done_input = cls._qualify(cls.lead, seats=4)
        cls.open_input = cls.survey._create_answer(user=cls.rep, check_attempts=False, lead_id=cls.lead.id)
        cls.criteria = env["crm.stage.criterion"].search([("stage_id", "=", cls.stage_proposal.id)])

        Activity = env["mail.activity"]
        cls.activity, cls.activity_move = Activity.create(
            [
                {
                    "res_model_id": cls.lead_model_id,
                    "res_id": lead.id,
                    "activity_type_id": cls.todo.id,
                    "user_id": cls.rep.id,
                    "summary": "Call back",
                }
                for lead in (cls.lead, cls.lead_move)
            ]
        )
        cls.stays = cls.lead.stage_history_ids
        cls.stays_other = cls.lead_other.stage_history_ids

        cls.reason_b = env["crm.followup.reason"].create(
            {"name": "Sec B reason", "company_id": cls.company_b.id}
        )
        cls.phase_b = env["crm.decision.phase"].create(
            {"name": "Sec B phase", "company_id": cls.company_b.id}
        )
        Event = env["crm.lead.customer.event"]
        cls.event_a = Event._log(cls.lead, "email_received", partner=cls.customer, description="Question A")
        cls.event_b = Event._log(cls.lead_b, "email_received", description="Question B")

        cls.rule = env["crm.sla.rule"].create(
            {
                "name": "Sec stale deals",
                "company_ids": [(6, 0, cls.company_a.ids)],
                "team_ids": [(6, 0, cls.team.ids)],
                "clock": "stage_entry",
                "threshold": 10,
                "unit": "days",
                "action": "reassign",
                "reassign_mode": "round_robin",
            }
        )
        cls.sla_event = env["crm.sla.event"].create(
            {
                "rule_id": cls.rule.id,
                "lead_id": cls.lead.id,
                "clock": "stage_entry",
                "clock_start": datetime(2026, 1, 5, 9, 0),
                "state": "failed",
                "company_id": cls.company_a.id,
                "team_id": cls.team.id,
                "user_id": cls.rep.id,
                "message": "No member to reassign to",
            }
        )

        Attachment = env["ir.attachment"]
        pdf = base64.b64encode(b"%PDF-1.4 price list")
        cls.attachment, cls.attachment_gone, cls.attachment_other = Attachment.create(
            [
                {"name": name, "datas": pdf, "res_model": "crm.lead", "res_id": lead.id}
                for name, lead in (
                    ("prices.pdf", cls.lead),
                    ("terms.pdf", cls.lead),
                    ("colleague.pdf", cls.lead_other),
                )
            ]
        )
        Link = env["crm.document.link"]
        link_vals = {
            "lead_id": cls.lead.id,
            "partner_id": cls.customer.id,
            "attachment_id": cls.attachment.id,
        }
        cls.link, cls.link_expired, cls.link_revoked = Link.create(
            [
                link_vals,
                dict(link_vals, expires_at=datetime.now() - timedelta(days=1)),
                dict(link_vals, active=False),
            ]
        )
        cls.link_moved = Link.create(dict(link_vals, attachment_id=cls.attachment_gone.id))
        cls.attachment_gone.res_id = cls.lead_move.id

        # follow-up entries: a team that enforces a follow-up and sets its stages by hand, its leads outside
        # the fixture's (each attempt works on a lead of its own)
        cls.enforce_team = env["crm.team"].create({"name": "Sec Enforce", "followup_policy": "enforce"})
        env["crm.team.member"].create({"crm_team_id": cls.enforce_team.id, "user_id": cls.rep.id})
        (
            cls.stage_new | cls.stage_qualified | cls.stage_proposal | cls.stage_won
        ).team_ids |= cls.enforce_team
        enforced = {"type": "opportunity", "team_id": cls.enforce_team.id, "user_id": cls.rep.id}
        cls.lead_hop, cls.lead_lost, cls.lead_won, cls.lead_reason = Lead.create(
            [dict(enforced, name=f"Sec {name}") for name in ("hopper", "lost", "won", "reasoned")]
        )
        cls.activity_hop, activity_lost, activity_won = Activity.create(
            [
                {
                    "res_model_id": cls.lead_model_id,
                    "res_id": lead.id,
                    "activity_type_id": cls.todo.id,
                    "user_id": cls.rep.id,
                }
                for lead in (cls.lead_hop, cls.lead_lost, cls.lead_won)
            ]
        )
        cls.lead_lost.action_set_lost()
        activity_lost.action_done()
        cls.lead_won.action_set_won()
        activity_won.action_done()
        cls.lead_reason.no_followup_reason_id = env["crm.followup.reason"].create({"name": "Sec waiting"})
        free = {"team_id": cls.manual_team.id, "user_id": cls.rep.id}
        cls.duplicates = Lead.create(
            [dict(free, name="Sec duplicate", type="opportunity", email_from="dup@example.com") for _ in "ab"]
        )
        cls.raw_lead = Lead.create(dict(free, name="Sec raw lead", type="lead"))

        # decision phase: the seeded phases, an administrator's action setting one, the lead's changes
        cls.need = env.ref("crm_stage_survey.crm_decision_phase_need")
        cls.deciding = env.ref("crm_stage_survey.crm_decision_phase_deciding")
        cls.phase_changes = env["crm.decision.phase.change"].search([("lead_id", "=", cls.lead.id)])
        assert cls.phase_changes, "the customer's email moved the lead's phase"

        cls.code_action, cls.write_action = env["ir.actions.server"].create(
            [
                {
                    "name": "Sec push to proposal",
                    "model_id": cls.lead_model_id,
                    "state": "code",
                    "code": f"records.write({{'stage_id': {cls.stage_proposal.id}}})",
                },
                {
                    "name": "Sec set proposal",
                    "model_id": cls.lead_model_id,
                    "state": "object_write",
                    "update_path": "stage_id",
                    "value": str(cls.stage_proposal.id),
                },
            ]
        )
        cls.team_action, cls.phase_action = env["ir.actions.server"].create(
            [
                {
                    "name": "Sec send to the enforce team",
                    "model_id": cls.lead_model_id,
                    "state": "object_write",
                    "update_path": "team_id",
                    "value": str(cls.enforce_team.id),
                },
                {
                    "name": "Sec set deciding",
                    "model_id": cls.lead_model_id,
                    "state": "object_write",
                    "update_path": "decision_phase_id",
                    "value": str(cls.deciding.id),
                },
            ]
        )
        env["ir.model.data"].create(
            [
                {"module": "__import__", "name": name, "model": record._name, "res_id": record.id}
                for record, name in ((cls.lead, "sec_lead"), (cls.stage_proposal, "sec_proposal"))
            ]
        )

        cls.rpc_users = {"rep": cls.rep, "rep_b": cls.rep_b, "portal": cls.portal}
        cls.logins = {name: user.login for name, user in cls.rpc_users.items()}
        # new_test_user's passwords: the login, padded to 8 characters
        cls.passwords = {login: login.ljust(8, "x") for login in cls.logins.values()}
        env.flush_all()

    @classmethod
    def _qualify(cls, lead, seats):
        answer = cls.survey._create_answer(user=cls.rep, check_attempts=False, lead_id=lead.id)
        answer._save_lines(cls.q_budget, cls.yes.id)
        answer._save_lines(cls.q_need, "40 desks")
        answer._save_lines(cls.q_seats, seats)
        answer._mark_done()
        return answer

    # ------------------------------------------------------------------
    # The three ways in
    # ------------------------------------------------------------------

    def json2(self, user, model, method, **payload):
        """``user``: "rep", "rep_b" or "portal"."""
        status, body = super().json2(self.rpc_users[user], model, method, **payload)
        return Reply(status=status, body=body)

    def xmlrpc(self, user, model, method, args, kwargs=None):
        password = self.passwords[self.logins[user]]
        if user not in self.uids:
            self.uids[user] = self.xmlrpc_common.authenticate(
                self.env.cr.dbname, self.logins[user], password, {}
            )
            self.assertTrue(self.uids[user], f"{user} logs in over XML-RPC")
        try:
            result = self.xmlrpc_object.execute_kw(
                self.env.cr.dbname, self.uids[user], password, model, method, args, kwargs or {}
            )
        except xmlrpc.client.Fault as fault:
            return Reply(status=500, fault=fault)
        return Reply(body=result)

    def survey_submit(self, login, user_input):
        """Post a page of answers the way the survey form does, as ``login`` (a browser session)."""
        self.authenticate(login, self.passwords[login])
        response = self.url_open(
            f"/survey/submit/{self.survey.access_token}/{user_input.access_token}",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": 0,
                "params": {str(self.q_seats.id): 50, "question_id": self.q_seats.id},
            },
        )
        self.logout()
        return Reply(status=response.status_code, body=response.json().get("result"))

    def open_link(self, token):
        response = self.url_open(f"/crm/doc/{token}")
        return Reply(status=response.status_code, body=response.content)

    # ------------------------------------------------------------------
    # Checks
    # ------------------------------------------------------------------

    def fixture_state(self):
        """Everything an attempt could change, read as superuser from the database; lists in id order (records
        created in one transaction share their create_date: a default order on it leaves ties to PostgreSQL,
        which may return them in another order the next time)."""
        self.env.invalidate_all()
        env = self.env
        leads = self.lead | self.lead_move | self.lead_other | self.lead_b
        lead_fields = [
            "stage_id",
            "team_id",
            "user_id",
            "active",
            "name",
            "followup_state",
            "sla_last_action_date",
            "decision_phase_id",
            "no_followup_reason_id",
            "probability",
        ]
        History = env["crm.lead.stage.history"]
        return {
            "leads": leads.read(lead_fields),
            "lead count": env["crm.lead"].with_context(active_test=False).search_count([]),
            "activities": env["mail.activity"]
            .with_context(active_test=False)
            .search_read(
                [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)],
                ["active", "res_id"],
                order="id",
            ),
            "stays": History.search_read(
                [("lead_id", "in", leads.ids)],
                ["stage_id", "date_in", "date_out", "origin", "is_current"],
                order="id",
            ),
            "rules": env["crm.sla.rule"]
            .with_context(active_test=False)
            .search_read([], ["threshold", "active"], order="id"),
            "sla events": env["crm.sla.event"].search_read([], ["state", "lead_id"], order="id"),
            "customer events": env["crm.lead.customer.event"].search_read(
                [], ["description", "lead_id"], order="id"
            ),
            "phase changes": env["crm.decision.phase.change"].search_read(
                [], ["origin", "phase_id", "lead_id"], order="id"
            ),
            "links": env["crm.document.link"]
            .with_context(active_test=False)
            .search_read([], ["token", "open_count", "active", "lead_id"], order="id"),
            "inputs": env["survey.user_input"].search_read(
                [("survey_id", "=", self.survey.id)], ["state", "lead_id", "user_input_line_ids"], order="id"
            ),
            "answer lines": env["survey.user_input.line"].search_count([("survey_id", "=", self.survey.id)]),
            "team": self.team.read(["stage_setting", "followup_policy", "qualification_survey_id"]),
            "criteria": env["crm.stage.criterion"].search_count([]),
            "server actions": env["ir.actions.server"].search_count([]),
        }

    def assertRefused(self, attempt, reply):
        """The reply is the refusal ``attempt`` expects."""
        if attempt.answered:
            self.assertTrue(attempt.answered(self, reply), f"not refused: {reply.status} {reply.body!r:.300}")
            return
        kind = attempt.refusal
        if attempt.protocol == "xmlrpc":
            self.assertIsNotNone(reply.fault, f"not refused: {reply.body!r:.300}")
            self.assertEqual(reply.fault.faultCode, XMLRPC_FAULT[kind], reply.fault.faultString[-500:])
            self.assertIn(attempt.says, reply.fault.faultString)
        else:
            body = reply.body if isinstance(reply.body, dict) else {}
            self.assertEqual(
                (reply.status, body.get("name")), (JSON2_STATUS[kind], JSON2_NAME[kind]), reply.body
            )
            self.assertIn(attempt.says, body["message"])

    def test_bypass_attempts_are_refused(self):
        self.uids = {}
        counted = Counter(attempt.category for attempt in ATTEMPTS)
        self.assertEqual(len({attempt.label for attempt in ATTEMPTS}), len(ATTEMPTS), "attempts are distinct")
        refused = Counter()
        for attempt in ATTEMPTS:
            with self.subTest(attempt=attempt.label, protocol=attempt.protocol, user=attempt.user):
                before = self.fixture_state()
                with mute_logger(*NOISY_LOGGERS):
                    reply = attempt.call(self)
                self.assertRefused(attempt, reply)
                after = self.fixture_state()
                if attempt.changes_fixture:  # a legitimate call that creates a lead: nothing else changed
                    before.pop("lead count"), after.pop("lead count")
                self.assertEqual(after, before, "the refused attempt changed nothing")
                if attempt.after:
                    self.env.invalidate_all()
                    attempt.after(self)
                refused[attempt.category] += 1
        _logger.info(
            "Security over RPC: %d bypass attempts, %d refused (%s); protocols: %s",
            len(ATTEMPTS),
            sum(refused.values()),
            ", ".join(f"{category} {refused[category]}/{total}" for category, total in counted.items()),
            ", ".join(f"{name} {n}" for name, n in sorted(Counter(a.protocol for a in ATTEMPTS).items())),
        )
        self.assertEqual(refused, counted)
