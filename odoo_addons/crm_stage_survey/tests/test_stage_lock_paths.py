from contextlib import contextmanager

from odoo.addons.crm_pipeline_base.tests.common import Json2Case
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import build_gated_pipeline

# what a salesperson would try to put in a context to unlock the stage (the addon's marker is cursor-scoped)
FORGED_CONTEXT = {"crm_stage_survey.override": True, "stage_history_origin": "override"}


def submit_qualification(case, lead, budget=None, need=None, seats=None):
    """Submit the team's qualification survey for ``lead`` as the survey controller does (sudo)."""
    answer = case.survey.sudo()._create_answer(user=case.rep, check_attempts=False, lead_id=lead.id)
    if budget is not None:
        answer._save_lines(case.q_budget, budget.id)
    if need is not None:
        answer._save_lines(case.q_need, need)
    if seats is not None:
        answer._save_lines(case.q_seats, seats)
    answer._mark_done()
    case.env.invalidate_all()
    return answer


class StageLockCase:
    """Shared set-up: ``cls.lead`` (survey team) was qualified by its answers, so they reach Qualified —
    moving it back to New or on to Proposal by hand are both refused; ``cls.free_lead`` (manual team) sits in
    New and moves freely."""

    @classmethod
    def _build_leads(cls):
        build_gated_pipeline(cls, "Lock")
        Lead = cls.env["crm.lead"]
        cls.lead = Lead.create(
            {"name": "Locked deal", "type": "opportunity", "team_id": cls.team.id, "user_id": cls.rep.id}
        )
        submit_qualification(cls, cls.lead, budget=cls.yes, need="40 desks", seats=4)
        cls.free_lead = Lead.create(
            {
                "name": "Free deal",
                "type": "opportunity",
                "team_id": cls.manual_team.id,
                "user_id": cls.rep.id,
                "stage_id": cls.stage_new.id,
            }
        )

    @contextmanager
    def assertRefused(self):
        """The block raises the lock's UserError; what it wrote is rolled back, as a request would be."""
        with self.assertRaises(UserError) as refusal:
            yield refusal
        self.assertIn("Qualify", str(refusal.exception))

    def assertUnmoved(self, stays):
        """``cls.lead`` is still in Qualified, with its ``stays`` stays: the refused move opened none."""
        self.lead.invalidate_recordset()
        self.assertEqual(self.lead.stage_id, self.stage_qualified)
        self.assertEqual(len(self.lead.stage_history_ids), stays, "no stay was opened by the refused move")


@tagged("post_install", "-at_install")
class TestStageLockPaths(StageLockCase, TransactionCase):
    """Every way a salesperson can set a stage refuses a stage the answers do not reach (with a message that
    points to "Qualify"), and leaves the lead where it was."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        cls._build_leads()

    def setUp(self):
        super().setUp()
        self.assertEqual(self.lead.stage_id, self.stage_qualified, "the answers moved the lead to Qualified")
        self.stays = len(self.lead.stage_history_ids)

    def test_orm_write(self):
        """``write`` is what the form's statusbar and a kanban drag-and-drop end in."""
        as_rep = self.lead.with_user(self.rep)
        for stage in (self.stage_proposal, self.stage_new):
            with self.subTest(stage=stage.name), self.assertRefused():
                as_rep.write({"stage_id": stage.id})
            self.assertUnmoved(self.stays)
        # one lead of a batch that may not move refuses the whole batch
        in_new = self.env["crm.lead"].create(
            {
                "name": "Unqualified deal",
                "type": "opportunity",
                "team_id": self.team.id,
                "user_id": self.rep.id,
            }
        )
        with self.assertRefused():
            (in_new | self.lead).with_user(self.rep).write({"stage_id": self.stage_new.id})
        self.assertUnmoved(self.stays)
        # the stage the answers reach is not a move: saving it with other values is fine
        as_rep.write({"stage_id": self.stage_qualified.id, "expected_revenue": 1200})
        self.assertEqual(self.lead.expected_revenue, 1200)
        self.assertUnmoved(self.stays)

    def test_web_save(self):
        """The form's save route (and the kanban's: a drag-and-drop saves the moved record with it)."""
        Lead = self.env["crm.lead"].with_user(self.rep)
        with self.assertRefused():
            self.lead.with_user(self.rep).web_save({"stage_id": self.stage_proposal.id}, specification={})
        self.assertUnmoved(self.stays)
        # a new lead saved with a later stage starts where its (no) answers put it
        Lead.web_save(
            {"name": "Saved forward", "team_id": self.team.id, "stage_id": self.stage_proposal.id},
            specification={},
        )
        self.assertEqual(Lead.search([("name", "=", "Saved forward")]).stage_id, self.stage_new)
        # the list view's multi-edit
        with self.assertRefused():
            (self.lead | self.free_lead).with_user(self.rep).web_save_multi(
                [{"stage_id": self.stage_new.id}] * 2, specification={}
            )
        self.assertUnmoved(self.stays)

    def test_import(self):
        """An import (``load``, what the import dialog calls) reports the refusal and changes nothing."""
        IrModelData = self.env["ir.model.data"]
        for record, name in (
            (self.lead, "lock_lead"),
            (self.team, "lock_team"),
            (self.stage_new, "lock_stage_new"),
            (self.stage_qualified, "lock_stage_qualified"),
            (self.stage_proposal, "lock_stage_proposal"),
        ):
            IrModelData.create(
                {"module": "__import__", "name": name, "model": record._name, "res_id": record.id}
            )
        Lead = self.env["crm.lead"].with_user(self.rep).with_context(import_file=True)
        fields = ["id", "name", "team_id/id", "stage_id/id"]
        for row in (
            [
                "__import__.lock_lead",
                "Imported name",
                "__import__.lock_team",
                "__import__.lock_stage_proposal",
            ],
            ["__import__.lock_lead", "Imported name", "__import__.lock_team", "__import__.lock_stage_new"],
        ):
            with self.subTest(row=row):
                result = Lead.load(fields, [row])
                self.assertFalse(result["ids"], result)
                errors = [message for message in result["messages"] if message["type"] == "error"]
                self.assertEqual(len(errors), 1, result["messages"])
                self.assertIn("Qualify", errors[0]["message"])
        self.assertEqual(self.lead.name, "Locked deal", "the refused row changed nothing")
        self.assertUnmoved(self.stays)
        # a new row is imported, not lost: it starts where its (no) answers put it
        result = Lead.load(
            fields,
            [
                [
                    "__import__.lock_new_row",
                    "Imported forward",
                    "__import__.lock_team",
                    "__import__.lock_stage_proposal",
                ]
            ],
        )
        self.assertEqual(len(result["ids"]), 1, result["messages"])
        self.assertEqual(self.env["crm.lead"].browse(result["ids"]).stage_id, self.stage_new)
        # the stage the answers reach imports fine
        result = Lead.load(
            fields,
            [
                [
                    "__import__.lock_lead",
                    "Imported name",
                    "__import__.lock_team",
                    "__import__.lock_stage_qualified",
                ]
            ],
        )
        self.assertEqual(result["ids"], self.lead.ids, result["messages"])
        self.assertEqual(self.lead.name, "Imported name")

    def _assert_server_action_moves_only_the_free_lead(self, vals):
        """An administrator's server action that sets the stage to Proposal, run by the salesperson: refused
        on the survey team's lead, done on the manual team's."""
        # sudo: only administrators create server actions; the salesperson only runs it
        action = (
            self.env["ir.actions.server"]
            .sudo()
            .create({"name": "Set proposal", "model_id": self.env["ir.model"]._get_id("crm.lead"), **vals})
        )

        def run(lead):
            return (
                action.with_user(self.rep)
                .with_context(active_model="crm.lead", active_ids=lead.ids, active_id=lead.id)
                .run()
            )

        with self.assertRefused():
            run(self.lead)
        self.assertUnmoved(self.stays)
        run(self.free_lead)
        self.assertEqual(self.free_lead.stage_id, self.stage_proposal, "a manual team's lead moves")

    def test_server_action(self):
        """A code server action run by the salesperson writes as the salesperson."""
        self._assert_server_action_moves_only_the_free_lead(
            {"state": "code", "code": f"records.write({{'stage_id': {self.stage_proposal.id}}})"}
        )

    def test_update_record_server_action(self):
        """Odoo runs an "Update Record" action as superuser once the user may write the records: setting the
        stage that way is still the salesperson's move, refused in a survey team."""
        self._assert_server_action_moves_only_the_free_lead(
            {"state": "object_write", "update_path": "stage_id", "value": str(self.stage_proposal.id)}
        )

    def test_forged_context_does_not_unlock(self):
        as_rep = self.lead.with_user(self.rep).with_context(**FORGED_CONTEXT)
        with self.assertRefused():
            as_rep.write({"stage_id": self.stage_proposal.id})
        self.assertUnmoved(self.stays)

    def test_default_stage_in_context(self):
        """A kanban quick-create in a column passes the column's stage as ``default_stage_id``: a new lead of
        a survey team is created, in the stage its (no) answers reach."""
        Lead = self.env["crm.lead"].with_user(self.rep)
        lead = Lead.with_context(default_stage_id=self.stage_proposal.id).create(
            {"name": "Quick-created", "type": "opportunity", "team_id": self.team.id}
        )
        self.assertEqual(lead.stage_id, self.stage_new, "a lead without answers belongs in New")

    def test_moving_into_a_survey_team_with_a_stage(self):
        """Changing the team and the stage in one write: the stage is checked against the team the lead
        joins."""
        with self.assertRefused():
            self.free_lead.with_user(self.rep).write(
                {"team_id": self.team.id, "stage_id": self.stage_proposal.id}
            )
        self.assertEqual(self.free_lead.team_id, self.manual_team)

    def test_joining_a_survey_team(self):
        """The same in two writes: moved by hand in a manual team, then handed to the survey team, a lead
        does not keep a stage its (missing) answers do not reach — the transfer is refused, or the answers
        set the stage."""
        as_rep = self.free_lead.with_user(self.rep)
        as_rep.write({"stage_id": self.stage_proposal.id})
        try:
            with self.env.cr.savepoint():
                as_rep.write({"team_id": self.team.id})
        except UserError as refusal:
            self.assertIn("Qualify", str(refusal))
            self.assertEqual(self.free_lead.team_id, self.manual_team)
        else:
            self.assertEqual(self.free_lead.stage_id, self.stage_new, "a lead without answers belongs in New")

    def test_emptying_the_stage(self):
        """No stage at all is not a stage the answers reach either."""
        with self.assertRefused():
            self.lead.with_user(self.rep).write({"stage_id": False})
        self.assertUnmoved(self.stays)

    def test_manual_team_unaffected(self):
        as_rep = self.free_lead.with_user(self.rep)
        as_rep.write({"stage_id": self.stage_qualified.id})
        self.assertEqual(self.free_lead.stage_id, self.stage_qualified)
        as_rep.web_save({"stage_id": self.stage_proposal.id}, specification={})
        self.assertEqual(self.free_lead.stage_id, self.stage_proposal)
        self.env["ir.model.data"].create(
            [
                {
                    "module": "__import__",
                    "name": "free_lead",
                    "model": "crm.lead",
                    "res_id": self.free_lead.id,
                },
                {
                    "module": "__import__",
                    "name": "free_new",
                    "model": "crm.stage",
                    "res_id": self.stage_new.id,
                },
            ]
        )
        result = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .with_context(import_file=True)
            .load(
                ["id", "name", "stage_id/id"], [["__import__.free_lead", "Free again", "__import__.free_new"]]
            )
        )
        self.assertEqual(result["ids"], self.free_lead.ids, result["messages"])
        self.assertEqual(self.free_lead.stage_id, self.stage_new)
        created = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .create(
                {"name": "Free start", "team_id": self.manual_team.id, "stage_id": self.stage_proposal.id}
            )
        )
        self.assertEqual(created.stage_id, self.stage_proposal)

    def test_superuser_not_blocked(self):
        self.lead.sudo().write({"stage_id": self.stage_proposal.id})
        self.assertEqual(self.lead.stage_id, self.stage_proposal)
        created = (
            self.env["crm.lead"]
            .sudo()
            .create({"name": "Data fix", "team_id": self.team.id, "stage_id": self.stage_proposal.id})
        )
        self.assertEqual(created.stage_id, self.stage_proposal)


@tagged("post_install", "-at_install")
class TestStageLockJson2(StageLockCase, Json2Case):
    """The external API (JSON-2) refuses what the UI refuses: HTTP 422 with the UserError, nothing changed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        cls._build_leads()

    def _call(self, method, **payload):
        return self.json2(self.rep, "crm.lead", method, **payload)

    def _assert_refused(self, method, **payload):
        # odoo.http logs the UserError it answers with as a WARNING: it must be that refusal and nothing else
        with self.assertLogs("odoo.http", "WARNING") as http_logs:
            status, body = self._call(method, **payload)
        self.assertEqual(status, 422, body)
        self.assertEqual(body["name"], "odoo.exceptions.UserError")
        self.assertIn("Qualify", body["message"])
        self.assertEqual(len(http_logs.records), 1, http_logs.output)
        self.assertIn("Qualify", http_logs.records[0].getMessage())

    def test_write_refused(self):
        stays = len(self.lead.stage_history_ids)
        self._assert_refused("write", ids=self.lead.ids, vals={"stage_id": self.stage_proposal.id})
        self._assert_refused("write", ids=self.lead.ids, vals={"stage_id": self.stage_new.id})
        self.assertUnmoved(stays)

    def test_forged_context_refused(self):
        stays = len(self.lead.stage_history_ids)
        self._assert_refused(
            "write", ids=self.lead.ids, vals={"stage_id": self.stage_proposal.id}, context=FORGED_CONTEXT
        )
        self._assert_refused(
            "web_save",
            ids=self.lead.ids,
            vals={"stage_id": self.stage_proposal.id},
            specification={},
            context=FORGED_CONTEXT,
        )
        self.assertUnmoved(stays)

    def test_create_does_not_keep_a_later_stage(self):
        """Created over the API with a later stage (with or without forged markers), a lead is created — an
        integration's leads are not lost — in the stage its (no) answers reach."""
        vals = {"name": "RPC forward", "type": "opportunity", "team_id": self.team.id}
        for context in ({}, FORGED_CONTEXT):
            status, body = self._call(
                "create", vals_list=[dict(vals, stage_id=self.stage_proposal.id)], context=context
            )
            self.assertEqual(status, 200, body)
        leads = self.env["crm.lead"].search([("name", "=", "RPC forward")])
        self.assertEqual(len(leads), 2)
        self.assertEqual(leads.stage_id, self.stage_new)
        self.assertEqual(
            leads.stage_history_ids.stage_id, self.stage_new, "no stay in Proposal, even briefly"
        )

    def test_create_with_a_forged_default_stage(self):
        vals = {"name": "RPC default", "type": "opportunity", "team_id": self.team.id}
        status, body = self._call(
            "create", vals_list=[vals], context={"default_stage_id": self.stage_proposal.id}
        )
        self.assertEqual(status, 200, body)
        lead = self.env["crm.lead"].browse(body)
        self.assertEqual(lead.stage_id, self.stage_new, "a lead without answers belongs in New")

    def test_allowed_writes_go_through(self):
        status, body = self._call(
            "write", ids=self.lead.ids, vals={"stage_id": self.stage_qualified.id, "name": "Renamed over RPC"}
        )
        self.assertEqual(status, 200, body)
        status, body = self._call("write", ids=self.free_lead.ids, vals={"stage_id": self.stage_proposal.id})
        self.assertEqual(status, 200, body)
        self.env.invalidate_all()
        self.assertEqual(self.lead.name, "Renamed over RPC")
        self.assertEqual(self.free_lead.stage_id, self.stage_proposal)
