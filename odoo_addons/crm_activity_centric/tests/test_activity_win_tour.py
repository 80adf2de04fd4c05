from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestActivityWinTour(HttpCase):
    """Activities That Win in the browser (static/src/tours/crm_activity_win_tour.js), as a sales manager and
    as a salesperson: Alice won one opportunity with two meetings and a call and lost one with a meeting;
    Bob won one with two meetings."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="awt_manager", name="Mia Tour", groups="sales_team.group_sale_manager", tz="UTC"
        )
        cls.alice, cls.bob = (
            new_test_user(cls.env, login=login, name=name, groups="sales_team.group_sale_salesman", tz="UTC")
            for login, name in (("awt_alice", "Alice Tour"), ("awt_bob", "Bob Tour"))
        )
        team = cls.env["crm.team"].create({"name": "Win Tour Team"})
        meeting = cls.env.ref("mail.mail_activity_data_meeting")
        call = cls.env.ref("mail.mail_activity_data_call")
        for user, types, won in (
            (cls.alice, [meeting, meeting, call], True),
            (cls.alice, [meeting], False),
            (cls.bob, [meeting, meeting], True),
        ):
            lead = cls.env["crm.lead"].create(
                {
                    "name": f"Win Tour {user.name}",
                    "type": "opportunity",
                    "team_id": team.id,
                    "user_id": user.id,
                }
            )
            for activity_type in types:
                cls.env["mail.activity"].create(
                    {
                        "res_model_id": cls.env["ir.model"]._get_id("crm.lead"),
                        "res_id": lead.id,
                        "activity_type_id": activity_type.id,
                        "user_id": user.id,
                    }
                ).action_feedback()
            lead.action_set_won() if won else lead.action_set_lost()

    def _tour(self, user, tour):
        self.start_tour(
            "/odoo/action-crm_activity_centric.crm_activity_win_report_action", tour, login=user.login
        )

    def test_manager(self):
        self._tour(self.manager, "crm_activity_win_manager_tour")

    def test_manager_per_salesperson(self):
        self._tour(self.manager, "crm_activity_win_salespeople_tour")

    def test_salesperson(self):
        self._tour(self.alice, "crm_activity_win_rep_tour")
