from datetime import datetime

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import SlaCase


@tagged("post_install", "-at_install")
class TestRuleValidation(SlaCase):
    def assertRefused(self, fragment, **vals):
        with self.assertRaises(ValidationError) as caught:
            self._rule(**vals)
        self.assertIn(fragment, str(caught.exception))

    def test_clear_messages(self):
        self.assertRefused("greater than zero", threshold=0)
        self.assertRefused("greater than zero", threshold=-2)
        self.assertRefused("whole number", unit="business_days", threshold=1.5)
        # the warning too: its cutoff is counted in whole business days, like the threshold's
        self.assertRefused("whole number", unit="business_days", threshold=2, warning_before=1.5)
        self.assertRefused("smaller than the threshold", threshold=2, warning_before=2)
        self.assertRefused("zero (no warning)", threshold=2, warning_before=-1)
        self.assertRefused("needs that user", action="reassign", reassign_mode="user")
        self.assertRefused("lost reason", action="mark_lost")
        self.assertRefused("not a valid domain", domain="[('no_such_field', '=', 1)]")
        self.assertRefused("not a valid domain", domain="[('name', '=',")
        empty = self.env["crm.team"].create({"name": "Nobody here"})
        self.assertRefused(
            "Nobody here has no member",
            action="reassign",
            reassign_mode="round_robin",
            team_ids=[(6, 0, [empty.id])],
        )
        # one empty team among others is enough: its breached leads could not be reassigned
        self.assertRefused(
            "Nobody here has no member",
            action="reassign",
            reassign_mode="round_robin",
            team_ids=[(6, 0, [self.team.id, empty.id])],
        )
        self._rule(action="reassign", reassign_mode="round_robin", team_ids=[(6, 0, [self.team.id])])

    def test_business_units_need_a_schedule(self):
        other = self.env["res.company"].create({"name": "No Schedule Ltd"})
        other.resource_calendar_id = False
        self.assertRefused(
            "need a working schedule",
            unit="business_hours",
            calendar_id=False,
            company_ids=[(6, 0, other.ids)],
        )
        # every company of the rule needs one
        self.assertRefused(
            "need a working schedule",
            unit="business_days",
            calendar_id=False,
            company_ids=[(6, 0, (self.company | other).ids)],
        )
        # plain days and hours need none
        self._rule(unit="days", calendar_id=False, company_ids=[(6, 0, other.ids)])
        # the companies' schedules are enough
        self._rule(unit="business_days", calendar_id=False, company_ids=[(6, 0, self.company.ids)])

    def test_every_problem_code_has_a_message(self):
        from sla_rules.problems import PROBLEM_CODES, Problem

        rule = self._rule()
        params = {"value": "x", "choices": ("a", "b"), "team_ids": self.team.ids}
        for code in PROBLEM_CODES:
            with self.subTest(code=code):
                self.assertTrue(rule._sla_problem_message(Problem(code, params)))

    def test_every_choice_is_one_sla_rules_knows(self):
        """A choice sla_rules.validate_rule does not know would make every rule using it unsavable."""
        import sla_rules

        fields_ = self.env["crm.sla.rule"]._fields
        for name, known in (
            ("clock", sla_rules.CLOCKS),
            ("unit", sla_rules.UNITS),
            ("action", sla_rules.ACTIONS),
            ("reassign_mode", sla_rules.REASSIGN_MODES),
            ("lead_type", sla_rules.LEAD_TYPES),
        ):
            with self.subTest(field=name):
                # sla_rules may know more (crm_lead_handoff's clock and action): never less
                self.assertLessEqual({key for key, _label in fields_[name].selection}, set(known))

    def test_flexible_hours_refused_for_business_hours(self):
        # two-week schedules are counted (crm_pipeline_base's agreement tests); flexible hours have no fixed
        # times: business days are counted on them, business hours are refused
        self.calendar.two_weeks_calendar = True
        self._rule(unit="business_hours")
        self.calendar.write(
            {"two_weeks_calendar": False, "flexible_hours": True, "full_time_required_hours": 40}
        )
        self._rule(unit="business_days")
        self.assertRefused("flexible hours", unit="business_hours")

    def test_sample_rules_ship_inactive_and_valid(self):
        samples = (
            self.env["crm.sla.rule"]
            .with_context(active_test=False)
            .search(
                [
                    (
                        "id",
                        "in",
                        [
                            self.env.ref(f"crm_sla_rules.{x}").id
                            for x in (
                                "crm_sla_rule_reassign_new",
                                "crm_sla_rule_stale_qualified",
                                "crm_sla_rule_close_unmoved",
                            )
                        ],
                    )
                ]
            )
        )
        self.assertEqual(len(samples), 3)
        self.assertFalse(any(samples.mapped("active")))
        for rule in samples:
            self.assertEqual(rule._sla_problems(), [], rule.name)


@tagged("post_install", "-at_install")
class TestRuleRights(SlaCase):
    def test_salesperson_reads_but_cannot_configure(self):
        rule = self._rule()
        as_rep = self.env["crm.sla.rule"].with_user(self.rep_a)
        self.assertEqual(as_rep.browse(rule.id).name, "Rule")
        with self.assertRaises(AccessError):
            as_rep.create({"name": "Mine", "threshold": 1, "unit": "days", "clock": "create"})
        with self.assertRaises(AccessError):
            rule.with_user(self.rep_a).write({"threshold": 100})
        with self.assertRaises(AccessError):
            rule.with_user(self.rep_a).unlink()
        with self.assertRaises(AccessError):
            rule.with_user(self.rep_a).action_preview()
        with self.assertRaises(AccessError):
            rule.with_user(self.rep_a).action_run_now()

    def test_nobody_writes_events(self):
        rule = self._rule()
        lead = self._lead()
        for user in (self.rep_a, self.manager):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                self.env["crm.sla.event"].with_user(user).create(
                    {
                        "rule_id": rule.id,
                        "lead_id": lead.id,
                        "clock": "create",
                        "clock_start": lead.create_date,
                        "state": "acted",
                    }
                )

    def test_salespeople_see_the_events_of_their_leads(self):
        rule = self._rule(action="escalate")
        mine, theirs = self._lead(name="Alice's"), self._lead(name="Bob's", user=self.rep_b)
        self.env.flush_all()
        rule.sudo()._sla_claim("act", self.calendar, None, datetime(2026, 3, 9, 9, 0), (mine | theirs).ids)
        Event = self.env["crm.sla.event"]
        self.assertEqual(Event.with_user(self.rep_a).search([("rule_id", "=", rule.id)]).lead_id, mine)
        self.assertEqual(
            Event.with_user(self.manager).search([("rule_id", "=", rule.id)]).lead_id, mine | theirs
        )

    def test_manager_change_is_recorded(self):
        rule = self._rule()
        rule.with_user(self.manager).threshold = 3
        self.assertEqual(rule.configured_by_id, self.manager)
        # the runs' own bookkeeping does not change who configured the rule
        rule.sudo().write({"last_run": "2026-03-02 10:00:00", "rotation_state": {"1": 2}})
        self.assertEqual(rule.configured_by_id, self.manager)

    def test_multi_company(self):
        other = self.env["res.company"].create({"name": "SLA Other Co"})
        other.resource_calendar_id = self.calendar
        rule_other = self._rule(name="Other company rule", company_ids=[(6, 0, other.ids)])
        rule_all = self._rule(name="Every company rule")
        visible = (
            self.env["crm.sla.rule"]
            .with_user(self.manager)
            .search([("id", "in", (rule_other | rule_all).ids)])
        )
        self.assertEqual(visible, rule_all, "a manager of one company does not see another company's rules")
