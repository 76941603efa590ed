# Residency Pathway Planner. `make run` starts everything; `make test` checks everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
# Django 6.1 needs Python 3.12+; the machine's python3 may be older, so look further.
PYTHON ?= $(shell for c in python3.13 python3.12 $$HOME/.pyenv/versions/3.13*/bin/python $$HOME/.pyenv/versions/3.12*/bin/python python3; do \
	p=$$(command -v $$c 2>/dev/null) || continue; \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: help run test lint fuzz bench worker beat shell clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "Python 3.12 or newer is required (Django 6.1). Install it, e.g. 'apt-get install python3.12 python3.12-venv'"; \
	  echo "or 'pyenv install 3.12', or run: make PYTHON=/path/to/python3.12 ..."; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed: $(VENV)/.python pyproject.toml
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $@

run: $(VENV)/.installed  ## migrate, load the pathway data and demo accounts, start web + worker + beat
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo ""
	@echo "  Pathway Planner: http://127.0.0.1:$(PORT)/"
	@echo "  Demo logins (demo only, password pathway-demo):"
	@echo "    applicant@example.com   advisor@example.com   admin@example.com"
	@echo "  Emails are written to var/mail/. Ctrl-C stops everything."
	@echo ""
	@# All three run in the background; when one stops, or on Ctrl-C, the trap stops the others.
	@trap 'trap - INT TERM EXIT; kill 0 2>/dev/null' INT TERM EXIT; \
	$(VENV)/bin/celery -A pathway worker --loglevel=INFO --pool=threads --concurrency=4 & \
	$(VENV)/bin/celery -A pathway beat --loglevel=INFO --schedule=var/celerybeat-schedule & \
	$(PY) manage.py runserver --noreload 127.0.0.1:$(PORT) & \
	wait -n

lint: $(VENV)/.installed-test  ## ruff, the layer contracts (import-linter) and the migrations check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

# `make run`'s own configuration (SQLite, no Redis) for the code written in plain SQL, which differs by
# database: a reminder's delivery row, the planning sweep, page versions, the advisor's access check.
SQLITE_TESTS := tests/milestones/test_reminder_batches.py tests/milestones/test_reminders.py \
	tests/milestones/test_reminder_lifecycle.py tests/milestones/test_page_cache.py \
	tests/milestones/test_reference_cache.py tests/pathway/test_sharing.py

test: lint  ## lint, the whole test suite (real PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set), then the plain-SQL paths on SQLite
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	env -u DATABASE_URL -u REDIS_URL -u REQUIRE_SERVICES $(VENV)/bin/pytest -q $(SQLITE_TESTS)

# The test suite runs a short, fixed pass of the same fuzzer; this one is long and random.
FUZZ_EXAMPLES ?= 1000
fuzz: $(VENV)/.installed-test  ## fuzz the JSON API from its OpenAPI schema (schemathesis), FUZZ_EXAMPLES per operation
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=random $(VENV)/bin/pytest tests/pathway/test_api_fuzz.py $(PYTEST_ARGS)

bench: $(VENV)/.installed-test  ## benchmarks (PostgreSQL via DATABASE_URL, Redis, wrk for the pages); results go to BENCHMARKS.md; PART=pages|reminders|cohort|directory for one
	$(PY) bench/run.py $(PART)

shell: $(VENV)/.installed  ## a Django shell
	$(PY) manage.py shell

clean:  ## remove the virtual environment and all local state
	rm -rf $(VENV) var
