# Two commands matter: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Served on every address (0.0.0.0 or ::), the links still need one a browser opens.
LINK_HOST = $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))

# Django 6 needs Python 3.12+. `python3` may be older (or a pyenv shim that
# exists but cannot run), so each candidate is asked for its version.
define find_python
for c in $$PYTHON python3.14 python3.13 python3.12 python3 \
         $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
  [ -n "$$c" ] || continue; \
  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
    echo "$$c"; exit 0; fi; \
done; exit 1
endef

.PHONY: help
help:
	@echo "make run    create the environment, load demo data, serve on http://$(HOST):$(PORT) with a worker"
	@echo "make test   run the whole test suite (DATABASE_URL picks the database; SQLite by default)"
	@echo "make lint   ruff, import contracts (lint-imports), mypy, migrations up to date"
	@echo "make bench  load benchmark of the CI endpoints (needs PostgreSQL)"

$(VENV)/.installed: pyproject.toml
	@py=$$($(find_python)) || { \
	  echo "Clearway needs Python 3.12 or newer (Django 6 requires it)." >&2; \
	  echo "None of python3.14, python3.13, python3.12 or python3 is recent enough here." >&2; \
	  echo "Install one (e.g. 'apt-get install python3.12' or pyenv), or set PYTHON=/path/to/python3.12." >&2; \
	  exit 1; }; \
	echo "Using $$py ($$($$py --version))"; \
	[ -x $(PY) ] || "$$py" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

.PHONY: venv
venv: $(VENV)/.installed

.PHONY: run
run: export DEBUG ?= 1
run: export CLEARWAY_TASKS_SYNC ?= 0
# Links in feeds, API answers, emails and webhooks point at the port served.
run: export SITE_URL ?= http://$(LINK_HOST):$(PORT)
run: venv
	$(PY) manage.py migrate --no-input
	$(PY) manage.py collectstatic --no-input --verbosity 0
	$(PY) manage.py load_demo
	@echo
	@echo "  Clearway is starting on http://$(LINK_HOST):$(PORT)/ (links use SITE_URL=$(SITE_URL))"
	@echo "  Sign in at http://$(LINK_HOST):$(PORT)/accounts/login/ as one of the demo users above"
	@echo "  (admin site: http://$(LINK_HOST):$(PORT)/admin/). Stop with Ctrl-C."
	@echo
	@# The worker runs in its own process group, gets five seconds to finish its task,
	@# then is killed with all its processes, so a SIGTERM to make (or to the whole
	@# group: docker stop, kill -- -PGID) never leaves it behind.
	@stop_worker() { kill -- -$$worker 2>/dev/null || return 0; \
	  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- -$$worker 2>/dev/null || return 0; sleep 0.5; done; \
	  kill -9 -- -$$worker 2>/dev/null; }; \
	trap 'stop_worker; exit' INT TERM; trap stop_worker EXIT; \
	setsid $(PY) manage.py qcluster & worker=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT)

# Two passes: everything safe to share the cores under pytest-xdist, then the
# `serial` tests (servers, processes, browser, lock-timing races) one by one.
# Exit code 5 (nothing collected, e.g. PYTEST_ARGS picks one file) is not a failure.
PYTEST_WORKERS ?= auto
.PHONY: test
test: venv
	$(PY) -m pytest -n $(PYTEST_WORKERS) -m "not serial" $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(PY) -m pytest -p no:xdist -m serial $(PYTEST_ARGS) || [ $$? -eq 5 ]
	@# The end-to-end flows again, each ending with `rebuild_timeline --check`.
	CLEARWAY_CHECK_TIMELINE=1 $(PY) -m pytest -q tests/e2e tests/timeline

.PHONY: lint
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py makemigrations --check --dry-run

.PHONY: format
format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: bench
bench: venv
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) \
	  || { echo "make bench needs wrk (apt-get install wrk)"; exit 1; }
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	$(PY) bench/run.py $(BENCH_ARGS)
	@if [ -f bench/ical_bench.py ]; then $(PY) bench/ical_bench.py; fi
	$(PY) bench/cold.py $(COLD_ARGS)
	$(PY) bench/churn.py $(CHURN_ARGS)

.PHONY: soak
soak: venv
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	$(PY) bench/soak.py
