import json

from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase, TransactionCase


class Json2Case(HttpCase):
    """Calls to the external API (JSON-2: ``POST /json/2/<model>/<method>``, an API key as bearer token) as
    a given user, for the tests that check that the server refuses over RPC what the UI refuses.

    ``self.json2(user, model, method, **kwargs)`` returns ``(HTTP status, decoded JSON body)``; the user's
    API key is made on the first call of each test (:meth:`json2_key` gives it, for a client library).
    """

    def setUp(self):
        super().setUp()
        self._json2_keys = {}

    def json2_key(self, user):
        """An API key of ``user`` (a ``res.users`` record), made once per test."""
        if user.id not in self._json2_keys:
            # sudo: a key without expiry is beyond what a user may create for themselves
            self._json2_keys[user.id] = (
                self.env["res.users.apikeys"].with_user(user).sudo()._generate(None, "tests", None)
            )
        return self._json2_keys[user.id]

    def json2(self, user, model, method, **kwargs):
        """Call ``model.method(**kwargs)`` over JSON-2 as ``user``: ``(status, body)``. A refusal is
        ``(422, {"name": "odoo.exceptions.UserError", "message": ..., ...})``."""
        response = self.url_open(
            f"/json/2/{model}/{method}",
            data=json.dumps(kwargs),
            headers={"Authorization": f"bearer {self.json2_key(user)}", "Content-Type": "application/json"},
        )
        return response.status_code, response.json()


class Killed(BaseException):
    """The worker process dies (killed, out of memory): no ``except Exception`` of the run catches it."""


class CommittingCase(TransactionCase):
    """For the tests of a cron under faults, with real commits on real separate connections, as in
    production: the test's own transaction stays empty; its data is committed (and deleted afterwards) on
    connections of :meth:`connection_env`. :class:`Killed` simulates a worker that dies."""

    def connection_env(self):
        """A superuser environment on a new connection of its own, closed after the test."""
        cr = self.registry.cursor()
        self.addCleanup(cr.close)
        return api.Environment(cr, SUPERUSER_ID, {})
