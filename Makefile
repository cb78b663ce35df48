# Two commands on a fresh machine: `make run` (everything, gateway on http://127.0.0.1:8000)
# and `make test` (the whole suite). Needs python3 (>= 3.11) and a RabbitMQ; PostgreSQL only
# for the tests (and when DATABASE_URL points at it).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HONCHO := $(BIN)/honcho
PYTEST_ARGS ?=

# Procfile commands (`gunicorn`, `python`) and scripts resolve to the virtualenv.
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: help install env check-broker migrate run test test-fast bench clean

help:
	@echo "make run      install, check RabbitMQ, migrate every service, start every process (Ctrl-C stops)"
	@echo "make test     install, run the whole test suite (needs PostgreSQL and RabbitMQ)"
	@echo "make migrate  apply every service's migrations (databases from .env)"
	@echo "make bench    run every benchmark in bench/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed (or the virtualenv is new).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

.env:
	cp .env.example .env
	@echo "created .env from .env.example (development defaults; edit JWT_SECRET and ADMIN_PASSWORD)"

env: .env

check-broker: install .env
	@$(HONCHO) run $(BIN)/python scripts/check_broker.py

migrate: install .env
	$(HONCHO) run $(BIN)/python -m shared.migrations

run: install .env check-broker migrate
	exec $(HONCHO) start -f Procfile

test: install
	@scripts/ensure_chromium.sh
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The suite without the test that restarts the machine's RabbitMQ (it affects every vhost).
test-fast: install
	$(BIN)/python -m pytest -q -m "not broker_restart" $(PYTEST_ARGS)

bench: install
	@status=0; for script in bench/*.py; do \
		echo "== $$script"; \
		$(BIN)/python $$script || status=1; \
	done; exit $$status

clean:
	rm -rf var/*.db var/*.db-wal var/*.db-shm .pytest_cache
