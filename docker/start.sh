#!/bin/bash
# The demo container's start: install the bundle into the database "pipeline" and generate the demo
# pipeline on the first start, then serve. Later starts find both done and only serve.
# Runs as the image's `odoo` command would (HOST/PORT/USER/PASSWORD as in the official image).
# ODOO_ADMIN_PASSWORD (required) is the password of the user `admin`, set on every start: change it
# there, not in Odoo. It is passed through the environment, never on a command line.
set -euo pipefail

if [[ -z "${ODOO_ADMIN_PASSWORD:-}" ]]; then
    echo "pipeline-start: set ODOO_ADMIN_PASSWORD (the password of the Odoo user admin)" >&2
    exit 2
fi

DB="${DEMO_DB:-pipeline}"
DB_ARGS=(--db_host "${HOST:-db}" --db_port "${PORT:-5432}" --db_user "${USER:-odoo}" --db_password "${PASSWORD:-odoo}")
ADDONS_PATH="${ADDONS_PATH:-/mnt/extra-addons}"

if command -v wait-for-psql.py >/dev/null; then
    wait-for-psql.py "${DB_ARGS[@]}" --timeout=60
fi
# An installed module is left as it is: this is a no-op after the first start.
odoo "${DB_ARGS[@]}" --addons-path="$ADDONS_PATH" -d "$DB" -i crm_pipeline_discipline \
    --stop-after-init --no-http
odoo shell "${DB_ARGS[@]}" --addons-path="$ADDONS_PATH" -d "$DB" --no-http <<'PYTHON'
import os
env.ref("base.user_admin").password = os.environ["ODOO_ADMIN_PASSWORD"]
env.cr.commit()
PYTHON
odoo --addons-path="$ADDONS_PATH" pipeline_demo "${DB_ARGS[@]}" -d "$DB" \
    --leads "${DEMO_LEADS:-2000}" --seed "${DEMO_SEED:-42}" --if-empty
# No database manager (it would offer to create and drop databases with Odoo's default master password).
exec odoo "${DB_ARGS[@]}" --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^${DB}\$" --no-database-list "$@"
