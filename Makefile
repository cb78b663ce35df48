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

.PHONY: help install lock env check-broker migrate run test test-fast bench clean

help:
	@echo "make run      install, check RabbitMQ, migrate every service, start every process (Ctrl-C stops)"
	@echo "make test     install, run the whole test suite (needs PostgreSQL and RabbitMQ)"
	@echo "make migrate  apply every service's migrations (databases from .env)"
	@echo "make bench    run every benchmark in bench/"
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
	@echo "created .env from .env.example (development defaults; edit JWT_SECRET and ADMIN_PASSWORD)"

env: .env

check-broker: install .env
	@$(WITH_ENV) $(BIN)/python scripts/check_broker.py

migrate: install .env
	$(WITH_ENV) $(BIN)/python -m shared.migrations

run: install .env check-broker migrate
	exec $(WITH_ENV) $(BIN)/honcho start --env /dev/null -f Procfile

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
