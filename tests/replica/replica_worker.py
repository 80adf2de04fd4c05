"""Run in the Python that runs Odoo (see run.py): API keys for the demo's users.

    python replica_worker.py keys DB LOGIN [LOGIN ...]

Gives each login a new API key named "make replica" (its earlier ones of that name removed: one at a time in
a kept database) and prints ``{login: key}`` as JSON on the last line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_screens import environment, superuser  # noqa: E402 - the bench's database access, reused

KEY_NAME = "make replica"


def keys(db: str, logins: list[str]) -> dict:
    with environment(db) as cr:
        env = superuser(cr)
        found = {}
        for login in logins:
            user = env["res.users"].search([("login", "=", login)])
            if not user:
                sys.exit(f"{db}: no user {login!r}")
            env["res.users.apikeys"].search([("user_id", "=", user.id), ("name", "=", KEY_NAME)]).unlink()
            found[login] = env(user=user)["res.users.apikeys"].sudo()._generate(None, KEY_NAME, None)
        cr.commit()
    return found


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[0] != "keys":
        sys.exit(__doc__)
    print(json.dumps(keys(argv[1], argv[2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
