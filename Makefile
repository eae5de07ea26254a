# The two commands: `make demo` and `make test`. Each sets up what it needs.
# `make bench` is optional and part of neither (benchmarks/README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# pyenv (as on our CI machines) resolves python3.10 ... python3.13 from this list;
# without pyenv it does nothing.
export PYENV_VERSION ?= 3.12.1:3.13.0:3.11.7:3.10.13
# tox and uv start interpreters with a cleaned environment, where pyenv's shims
# no longer see PYENV_VERSION: put the real interpreter folders on PATH instead.
PYENV_BINS := $(shell command -v pyenv >/dev/null 2>&1 && for v in 3.13 3.12 3.11 3.10; do \
	p=$$(PYENV_VERSION=$(PYENV_VERSION) pyenv which python$$v 2>/dev/null) && printf '%s:' "$${p%/*}"; done)
export PATH := $(PYENV_BINS)$(PATH)
# tox-uv must use the installed interpreters, never fetch its own.
export UV_PYTHON_DOWNLOADS ?= never
# Each `make test` run names its own PostgreSQL test databases and Redis key
# prefixes after this id (tox.ini), so checkouts sharing one server never collide.
ifndef SHOP_MANAGER_RUN_ID
SHOP_MANAGER_RUN_ID := $(shell echo "$$(date +%s)_$$$$")
endif
export SHOP_MANAGER_RUN_ID

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := cd example_project && DEBUG=$${DEBUG:-true} ../$(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo catalogue has 45 products; more are made up (load_demo_data).
DEMO_PRODUCTS ?= 45

# tox envs run at once by `make test`; each also runs its cases in
# pytest-xdist workers (tox.ini), and much of their time is spent waiting on
# the servers they start, so three keep two cores busy (four starved the
# socket churn and relay cases of CPU).
TOX_PARALLEL ?= 3

# `make bench BENCH_ARGS="--scenario idle"`: see benchmarks/README.md.
BENCH_ARGS ?=
# `make screenshots SCREENSHOT_ARGS="--only product-list"`: scripts/screenshots.py.
SCREENSHOT_ARGS ?=

.PHONY: help venv demo test bench bench-transfer bench-webhooks chaos lint screenshots clean

help:
	@echo "make demo   run the example project on http://$(HOST):$(PORT)/"
	@echo "make test   run the whole test suite (tox: every Python/Django, lint, dist)"
	@echo "make bench  optional: live engine vs a bare websocket server (PostgreSQL, redis-server)"
	@echo "make bench-transfer  optional: CSV import of 100,000 rows beside COPY, export of 100,000 (PostgreSQL)"
	@echo "make bench-webhooks  optional: the webhook relay at 200 changes/s to 3 endpoints (PostgreSQL)"
	@echo "make chaos  optional: 1,000 dashboards on 2 servers while Redis, PostgreSQL and a server fail (BENCH_ARGS=\"--dashboards 100 --seconds 30\")"
	@echo "make screenshots  refresh docs/images/ from the example project (Debian's /usr/bin/chromium)"
	@echo "PORT=8001 and HOST=0.0.0.0 change where make demo listens."

# What the demo needs: the package (with the extras the example project's
# settings can switch on) and the example project's own apps (the `demo` group).
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "django-shop-manager needs Python >= 3.10 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[redis,postgres,daphne,webhooks]' --group demo
	touch $@

# What `make test` and `make lint` add: tox (which builds its own envs) and ruff.
$(VENV)/.dev-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet tox tox-uv --group lint
	touch $@

# A development venv: the demo's packages and the tools.
venv: $(VENV)/.dev-installed

demo: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo_site --products $(DEMO_PRODUCTS)
	@echo
	@echo "  Open http://$(HOST):$(PORT)/products/ and log in at http://$(HOST):$(PORT)/accounts/login/"
	@echo "  (another port: make demo PORT=8001)"
	@echo
	$(MANAGE) runserver $(HOST):$(PORT)

# Each tox env writes how many security and fault cases it ran here
# (tests/conftest.py); tox hides a passing env's output, so print them after.
CASE_COUNTS := .tox/case-counts

test: $(VENV)/.dev-installed
	rm -rf $(CASE_COUNTS)
	$(BIN)/tox run-parallel --parallel-no-spinner --parallel $(TOX_PARALLEL) $(TOX_ARGS); status=$$?; \
	for f in $(CASE_COUNTS)/*.txt; do \
		[ -e "$$f" ] && printf '%s: %s\n' "$$(basename "$$f" .txt)" "$$(cat "$$f")"; \
	done; exit $$status

# Optional, never part of `make test`: needs PostgreSQL on 127.0.0.1:5432 and
# redis-server on PATH; starts and stops everything else itself.
$(VENV)/.bench-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet --group bench
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/live_bench.py $(BENCH_ARGS)

# `make bench-transfer BENCH_ARGS="--import-rows 2000"`: CSV import/export.
bench-transfer: venv
	$(BIN)/python benchmarks/transfer_bench.py $(BENCH_ARGS)

# The webhook relay at 200 changes/s to 3 endpoints (needs PostgreSQL only).
bench-webhooks: venv
	$(BIN)/python benchmarks/webhook_bench.py $(BENCH_ARGS)

# The guarantees under load and faults at once (issue 13): two uvicorn
# processes, 1,000 dashboards, 10 changes/s for 90 s while Redis is killed,
# PostgreSQL cut off, a server SIGKILLed and users demoted; prints a table and
# fails if any guarantee broke. It drives the example project with the test
# helpers, so it needs the test group too. BENCH_ARGS: --dashboards, --rate, --seconds.
chaos: $(VENV)/.bench-installed
	$(BIN)/python -m pip install --quiet --group test
	$(BIN)/python benchmarks/chaos.py $(BENCH_ARGS)

# Every picture in docs/images/, desktop and phone, from the running example
# project with its demo data; Playwright drives the system Chromium (it never
# downloads a browser).
$(VENV)/.e2e-installed: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet --group e2e
	touch $@

screenshots: $(VENV)/.e2e-installed
	$(BIN)/python scripts/screenshots.py $(SCREENSHOT_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .tox .coverage .coverage.* dist build example_project/db.sqlite3
