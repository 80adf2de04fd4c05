from lxml import etree
from odoo.addons.crm_stage_survey.tests.common import build_gated_pipeline
from odoo.tests import TransactionCase, new_test_user, tagged, users

# Queries of one lead form's web_read with the whole bundle, for a lead of a team whose stages a qualification
# survey sets (its Qualification tab shows the gates), warm caches. Odoo's own form reads 17 (rep) and 19
# (manager) queries for the same lead and specification; the bundle adds one for all the stat buttons'
# counts, one for the latest qualification and its answers (which also gives the qualification's survey),
# one for the qualification's name (its survey's title) and one each for the names of the decision phase and
# of the next stage.
REP_QUERIES = 22
MANAGER_QUERIES = 24


@tagged("post_install", "-at_install", "is_query_count")
class TestLeadFormQueries(TransactionCase):
    """The lead form reads a fixed number of queries, however many answers, stays and customer events the
    lead or the database holds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"), su=False)
        build_gated_pipeline(cls, "F")
        cls.manager = new_test_user(
            cls.env, login="f_manager", name="Fay Manager", groups="sales_team.group_sale_manager"
        )
        cls.partner = cls.env["res.partner"].create({"name": "Form Customer", "email": "form@example.com"})
        cls.lead = cls._new_lead("Form deal")

    @classmethod
    def _new_lead(cls, name):
        return cls.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "team_id": cls.team.id,
                "user_id": cls.rep.id,
                "partner_id": cls.partner.id,
            }
        )

    def _qualify(self, lead, budget, seats):
        """The qualification survey submitted for ``lead`` (it moves the lead: a stay more)."""
        answer = self.survey.sudo()._create_answer(user=self.rep, check_attempts=False, lead_id=lead.id)
        answer._save_lines(self.q_budget, budget.id)
        answer._save_lines(self.q_need, "40 desks")
        answer._save_lines(self.q_seats, seats)
        answer._mark_done()

    def _customer_events(self, lead, count):
        for _ in range(count):
            self.env["crm.lead.customer.event"].sudo()._log(lead, "email_received", partner=self.partner)

    @staticmethod
    def _form_specification(lead):
        """What the web client asks ``web_read`` for on the lead's form (as the user sees it): every field of
        the view, the name of each related record, and the color of the tags."""
        views = lead.get_views([(False, "form")])
        fields_info = views["models"]["crm.lead"]["fields"]
        arch = etree.fromstring(views["views"]["form"]["arch"])
        spec = {}
        for node in arch.xpath(".//field[not(ancestor::field)]"):
            name = node.get("name")
            info = fields_info[name]
            if info["type"] in ("many2one", "many2many", "one2many"):
                related = {"display_name": {}}
                if node.get("widget") == "many2many_tags":
                    related["color"] = {}
                spec[name] = {"fields": related}
            else:
                spec.setdefault(name, {})
        return spec

    def _read_form(self, lead):
        lead = lead.with_env(self.env)
        spec = self._form_specification(lead)
        # what the changes above leave for the commit (the chatter's tracking) is not the form's
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        lead.web_read(spec)  # warm: the team's gates, the access rules, the registry caches
        self.env.invalidate_all()
        with self.assertQueryCount(f_rep=REP_QUERIES, f_manager=MANAGER_QUERIES):
            [values] = lead.web_read(spec)
        return values

    def _grow(self):
        """More of everything the form counts or reads, on the lead and on other leads of the database."""
        for lead in self.lead | self._new_lead("Other deal"):
            self._qualify(lead, self.no, 4)
            self._qualify(lead, self.yes, 40)
            self._qualify(lead, self.yes, 4)  # back to the same gate: the same records to name
            self._customer_events(lead, 3)

    @users("f_rep", "f_manager")
    def test_form_query_count_does_not_grow_with_the_data(self):
        self._qualify(self.lead, self.yes, 4)
        self._customer_events(self.lead, 1)
        before = self._read_form(self.lead)
        self.assertEqual(before["survey_gate_stage_id"]["id"], self.stage_qualified.id)
        self.assertEqual(before["survey_missing_criteria"], "Seats ≥ 10")
        self._grow()
        after = self._read_form(self.lead)
        self.assertGreater(after["stage_history_count"], before["stage_history_count"])
        self.assertEqual(after["customer_event_count"], before["customer_event_count"] + 3)
        self.assertEqual(after["survey_gate_stage_id"]["id"], self.stage_qualified.id)
        self.assertEqual(after["qualification_input_id"]["display_name"], self.survey.title)
