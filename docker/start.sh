#!/bin/bash
# The demo container's start: install the bundle into the database "pipeline" and generate the demo
# pipeline on the first start, then serve. Later starts find both done and only serve.
# Runs as the image's `odoo` command would (HOST/PORT/USER/PASSWORD as in the official image).
set -euo pipefail

DB="${DEMO_DB:-pipeline}"
DB_ARGS=(--db_host "${HOST:-db}" --db_port "${PORT:-5432}" --db_user "${USER:-odoo}" --db_password "${PASSWORD:-odoo}")
ADDONS_PATH="${ADDONS_PATH:-/mnt/extra-addons}"

if command -v wait-for-psql.py >/dev/null; then
    wait-for-psql.py "${DB_ARGS[@]}" --timeout=60
fi
# An installed module is left as it is: this is a no-op after the first start.
odoo "${DB_ARGS[@]}" --addons-path="$ADDONS_PATH" -d "$DB" -i crm_pipeline_discipline \
    --stop-after-init --no-http
odoo --addons-path="$ADDONS_PATH" pipeline_demo "${DB_ARGS[@]}" -d "$DB" \
    --leads "${DEMO_LEADS:-2000}" --seed "${DEMO_SEED:-42}" --if-empty
exec odoo "${DB_ARGS[@]}" --addons-path="$ADDONS_PATH" -d "$DB" --db-filter="^${DB}\$" "$@"
