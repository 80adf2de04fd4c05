# Pipeline Discipline — developer entry points. `make help` lists them.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
ODOO ?= $(or $(ODOO_BIN),odoo)
ADDONS := $(notdir $(patsubst %/__manifest__.py,%,$(wildcard odoo_addons/*/__manifest__.py)))
comma := ,

.PHONY: help test lint venv pot readme bench load replica odoo-suites screenshots wheels demo up down

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

test:  ## both test tiers: pytest on the plain packages, then every addon on a real Odoo 19
	$(PYTHON) tests/run_tiers.py

$(VPY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet -e ".[dev]"
	touch $(VPY)

venv: $(VPY)  ## the project's virtualenv with the dev tools

lint: $(VPY)  ## ruff and pylint-odoo, as the pre-commit hooks run them
	$(VENV)/bin/pre-commit run --all-files

bench: $(VPY)  ## benchmarks: funnel_metrics on 1M transitions, the addons on a real Odoo 19 (BENCH_SECTIONS picks)
	$(VPY) tests/benchmarks/bench_funnel_metrics.py
	$(PYTHON) tests/benchmarks/run.py

load:  ## load test: 20 users over JSON-2 on a 4-worker Odoo with its crons, ours vs native (LOAD_ARGS: options)
	$(PYTHON) tests/load/run_load.py $(LOAD_ARGS)

replica: $(VPY)  ## every report and export served by a PostgreSQL hot standby (set up and removed by the check itself)
	$(PYTHON) tests/replica/replica_check.py

odoo-suites:  ## Odoo's own suites in Odoo alone, then with our addons (features off, then on); ODOO_SUITES for a subset
	$(PYTHON) tests/odoo_suites.py

pot:  ## regenerate each addon's i18n/<addon>.pot from a scratch database
	dropdb --if-exists pd_pot && createdb pd_pot
	$(ODOO) -d pd_pot --addons-path=odoo_addons -i $(subst $(eval) ,$(comma),$(ADDONS)) --stop-after-init \
		--http-interface=127.0.0.1 --log-level=warn
	$(ODOO) --addons-path=odoo_addons i18n export -d pd_pot $(ADDONS)
	dropdb pd_pot

screenshots:  ## README screenshots: the bundle's browser tours on a generated demo pipeline, saved as PNGs
	$(PYTHON) tests/screenshots.py

readme:  ## each addon's README.rst and static/description/index.html, generated from its readme/ fragments
	$(VPY) tests/gen_addon_readme.py

wheels:  ## wheels of the plain-package distribution and of each addon (odoo-addon-<name>, whool) in dist/
	$(PYTHON) tests/build_wheels.py

demo:  ## a local demo database "pipeline" (DEMO_LEADS leads, default 2000) with the bundle installed
	$(PYTHON) tests/demo_db.py

up:  ## Odoo 19 + PostgreSQL in Docker, the addons installed (http://localhost:8069; set ODOO_ADMIN_PASSWORD)
	docker compose -f docker/compose.yml up --build -d

down:  ## stop the Docker stack (no admin password needed)
	ODOO_ADMIN_PASSWORD="$${ODOO_ADMIN_PASSWORD:-unused}" docker compose -f docker/compose.yml down
