# Two commands on a fresh machine: `make run` (everything, gateway on http://127.0.0.1:8000)
# and `make test` (the whole suite). Needs python3 (>= 3.11) and a RabbitMQ; PostgreSQL only
# for the tests (and when DATABASE_URL points at it).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LOCK := requirements/dev.txt
# Every process sees the environment first, then .env, then the built-in defaults.
WITH_ENV := $(BIN)/python scripts/with_env.py
PYTEST_ARGS ?=

# Procfile commands (`gunicorn`, `python`) and scripts resolve to the virtualenv.
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: help install lock env check-broker migrate run test test-fast bench profile clean lint typecheck test-unit

help:
	@echo "make run      install, check RabbitMQ, migrate every service, start every process (Ctrl-C stops)"
	@echo "make test     install, run the whole test suite (needs PostgreSQL and RabbitMQ)"
	@echo "make web     build the web UI into web/dist (needs Node.js >= 20; only when web/ changed)"
	@echo "make lint       ruff check and ruff format --check over the tree"
	@echo "make typecheck  mypy as configured in pyproject.toml (shared/ strict, services/ and gateway/ default)"
	@echo "make test-unit  the unit tests only (every */tests/unit/: pure rules, no server needed, seconds)"
	@echo "make migrate  apply every service's migrations (databases from .env)"
	@echo "make bench    run every benchmark in bench/"
	@echo "make profile  cProfile of the accept path and each consumer, in-process (PostgreSQL only; PROFILE_ARGS=--bills 300)"
	@echo "make lock     re-resolve requirements/*.txt from pyproject.toml's ranges"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock or pyproject.toml changed (or the virtualenv is new): the exact,
# hash-checked versions of requirements/dev.txt, then the project itself without dependencies.
$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

install: $(STAMP)

# requirements/runtime.txt (the image) and requirements/dev.txt (make run, make test, CI).
UV_COMPILE = $(BIN)/uv pip compile --quiet pyproject.toml --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
lock: install
	$(UV_COMPILE) -o requirements/runtime.txt
	$(UV_COMPILE) --extra run --extra test --extra dev -o requirements/dev.txt

.env:
	cp .env.example .env
	@echo "created .env from .env.example (development defaults; edit ADMIN_PASSWORD)"

env: .env

check-broker: install .env
	@$(WITH_ENV) $(BIN)/python scripts/check_broker.py

migrate: install .env
	$(WITH_ENV) $(BIN)/python -m shared.migrations

# Development mode (unless the environment says otherwise): without JWT_*_KEY_FILE set,
# scripts/dev_keys.py makes the development key pair under var/, which only development accepts.
run: export APP_ENV ?= development
run: install .env check-broker migrate web
	exec $(WITH_ENV) $(BIN)/python scripts/dev_keys.py $(BIN)/honcho start --env /dev/null -f Procfile

test: install web-check
	@scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Pure rules only: no PostgreSQL, no RabbitMQ.
UNIT_TESTS = $(wildcard shared/tests/unit gateway/tests/unit services/*/tests/unit)
test-unit: install
	$(BIN)/python -m pytest -q $(UNIT_TESTS) $(PYTEST_ARGS)

# The suite without the test that restarts the machine's RabbitMQ (it affects every vhost).
test-fast: install
	$(BIN)/python -m pytest -q -m "not broker_restart" $(PYTEST_ARGS)

# Where a bill's time goes: top functions, SQL round trips per bill and per event (bench/profile_pipeline.py).
PROFILE_ARGS ?=
profile: install
	$(BIN)/python bench/profile_pipeline.py $(PROFILE_ARGS)

bench: install
	@status=0; for script in bench/*.py; do \
		echo "== $$script"; \
		$(BIN)/python $$script || status=1; \
	done; exit $$status

# -- the web UI (web/: React + TypeScript + Vite; the gateway serves web/dist) -----------------
.PHONY: web web-check check-node
WEB_STAMP := web/node_modules/.installed-stamp
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
	$(wildcard web/tsconfig*.json) web/package.json web/package-lock.json web/scripts/bundle-size.mjs

check-node:
	@command -v node >/dev/null 2>&1 && node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { \
		echo "The web UI needs Node.js >= 20 (found: $$(node --version 2>/dev/null || echo none))."; \
		echo "Install it from https://nodejs.org/ or with nvm (nvm install 20), then run make again."; exit 1; }

# npm ci again only when the lock changed (or node_modules is new).
$(WEB_STAMP): web/package-lock.json web/package.json | check-node
	cd web && npm ci --no-audit --no-fund
	@touch $@

# Rebuilt only when a source or the lock changed; prints the gzipped size of the JavaScript.
$(WEB_BUILD): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run build
	@touch $@

web: $(WEB_BUILD)

# The API types come from the spec the services build now, so an API change that breaks a
# screen fails tsc; then the component tests and the production build.
web-check: install $(WEB_STAMP)
	$(BIN)/python scripts/export_openapi.py
	cd web && npm run gen-api && npx tsc -b --noEmit && npm test && npm run build
	@touch $(WEB_BUILD)

clean:
	rm -rf var/*.db var/*.db-wal var/*.db-shm .pytest_cache
