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
DEMO_PRODUCTS ?= 60

# `make bench BENCH_ARGS="--scenario idle"`: see benchmarks/README.md.
BENCH_ARGS ?=

.PHONY: help venv demo test bench bench-transfer bench-webhooks lint clean

help:
	@echo "make demo   run the example project on http://$(HOST):$(PORT)/"
	@echo "make test   run the whole test suite (tox: every Python/Django, lint, dist)"
	@echo "make bench  optional: live engine vs a bare websocket server (PostgreSQL, redis-server)"
	@echo "make bench-transfer  optional: CSV import of 10,000 rows, export of 100,000 (PostgreSQL)"
	@echo "make bench-webhooks  optional: the webhook relay at 200 changes/s to 3 endpoints (PostgreSQL)"

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
		|| { echo "django-shop-manager needs Python >= 3.10 (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[redis,postgres,daphne,webhooks]' whitenoise django-axes tox tox-uv ruff
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo_data --products $(DEMO_PRODUCTS) --if-empty
	$(MANAGE) create_demo_users
	@echo
	@echo "  Open http://$(HOST):$(PORT)/products/ and log in at http://$(HOST):$(PORT)/accounts/login/"
	@echo
	$(MANAGE) runserver $(HOST):$(PORT)

# Each tox env writes how many security and fault cases it ran here
# (tests/conftest.py); tox hides a passing env's output, so print them after.
CASE_COUNTS := .tox/case-counts

test: venv
	rm -rf $(CASE_COUNTS)
	$(BIN)/tox run-parallel --parallel-no-spinner --parallel 2 $(TOX_ARGS); status=$$?; \
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

lint: venv
	$(BIN)/python -m pip install --quiet --group lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .tox .coverage .coverage.* dist build example_project/db.sqlite3
