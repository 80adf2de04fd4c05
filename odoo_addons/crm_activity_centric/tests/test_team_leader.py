from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import FollowupCase


@tagged("post_install", "-at_install")
class TestOffTeamsAndLeaders(FollowupCase):
    """Off is Odoo as usual: nothing flagged. A team leader starts from the teams he leads."""

    def _missing_followup(self, user):
        """What the menu CRM › Sales › Missing Follow-up opens for ``user``: its context and the leads the
        default filters show."""
        action = self.env.ref("crm_activity_centric.crm_lead_action_missing_followup_start")
        result = action.with_user(user).run()
        return result["context"], self._shown(user, result)

    def _shown(self, user, action):
        filters = {
            "assigned_to_me": [("user_id", "=", user.id)],
            "pd_my_teams": ["|", ("user_id", "=", user.id), ("team_id.user_id", "=", user.id)],
        }
        domain = safe_eval(action.get("domain") or "[]", {"uid": user.id})
        for name, filter_domain in filters.items():
            if action["context"].get(f"search_default_{name}"):
                domain += filter_domain
        return self.env["crm.lead"].with_user(user).search(domain)

    def test_off_team_leads_are_not_flagged(self):
        lead = self._lead(team=self.team_off)
        self.assertEqual(lead.followup_state, "exempt", "Off: Odoo as usual, no lead is missing a step")
        self.assertEqual(self.team_off.followup_missing_count, 0)
        self.team_off.with_user(self.sales_manager).followup_policy = "warn"
        self.assertEqual(lead.followup_state, "missing", "Warn flags it")
        self.assertEqual(self.team_off.followup_missing_count, 1)
        lead.with_user(self.salesman).activity_schedule(act_type_xmlid="mail.mail_activity_data_call")
        self.assertEqual(lead.followup_state, "scheduled")
        lead.activity_ids.action_feedback(feedback="Called")
        self.team_off.with_user(self.sales_manager).followup_policy = "off"
        self.assertEqual(lead.followup_state, "exempt")
        moved = self._lead(team=self.team_off)
        moved.team_id = self.team_warn
        self.assertEqual(moved.followup_state, "missing", "a lead moved into a Warn team is flagged there")
        moved.team_id = False
        self.assertEqual(moved.followup_state, "exempt", "without a team, nothing asks for a next step")

    def test_missing_followup_of_a_leader(self):
        """Mona leads the Enforce team and is a member of none: she starts from its leads."""
        lead = self._lead(team=self.team_enforce, user=self.salesman_2)
        off_lead = self._lead(team=self.team_off, user=self.salesman_2)
        self.assertEqual(lead.followup_state, "missing")
        context, shown = self._missing_followup(self.sales_manager)
        self.assertEqual(context.get("search_default_pd_my_teams"), 1)
        self.assertNotIn("search_default_assigned_to_me", context)
        self.assertIn(lead, shown)
        self.assertNotIn(off_lead, shown)
        # a salesperson keeps his own leads
        context, shown = self._missing_followup(self.salesman_2)
        self.assertEqual(context.get("search_default_assigned_to_me"), 1)
        self.assertNotIn("search_default_pd_my_teams", context)
        self.assertEqual(shown, lead)

    def test_missing_followup_of_the_leader_of_an_off_team(self):
        """A team that asks for no next step gives its leader nothing to follow up: Odoo's filter stays."""
        self.team_enforce.user_id = False
        self.team_off.user_id = self.sales_manager
        context, _shown = self._missing_followup(self.sales_manager)
        self.assertEqual(context.get("search_default_assigned_to_me"), 1)
        self.assertNotIn("search_default_pd_my_teams", context)

    def test_pipeline_of_a_leader(self):
        """CRM's own pipeline (the app's first screen): a leader of a team with a follow-up policy starts
        from his teams' opportunities; the leader of an Off team and a salesperson keep "My Pipeline"."""
        opportunity = self._lead(team=self.team_enforce, user=self.salesman)
        pipeline = self.env.ref("crm.action_your_pipeline")
        action = pipeline.with_user(self.sales_manager).run()
        self.assertEqual(action["context"].get("search_default_pd_my_teams"), 1)
        self.assertNotIn("search_default_assigned_to_me", action["context"])
        self.assertIn(opportunity, self._shown(self.sales_manager, action))
        self.assertEqual(
            pipeline.with_user(self.salesman).run()["context"].get("search_default_assigned_to_me"), 1
        )
        self.team_enforce.followup_policy = "off"
        action = pipeline.with_user(self.sales_manager).run()
        self.assertEqual(action["context"].get("search_default_assigned_to_me"), 1)
        self.assertNotIn("search_default_pd_my_teams", action["context"])

    def test_my_teams_filter_in_the_search_view(self):
        view = self.env.ref("crm.view_crm_case_opportunities_filter")
        arch = self.env["crm.lead"].get_views([(view.id, "search")])["views"]["search"]["arch"]
        self.assertIn('name="pd_my_teams"', arch)
