# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
LOCALSTRIPE_PORT ?= 8420
STAMP := $(VENV)/.installed

export FLASK_APP := wsgi:app

.PHONY: run test install lint format translations messages clean prod worker bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d charity/translations

# Re-extract the English msgids and merge them into the Chinese catalog (then translate the .po).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o charity/translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i charity/translations/messages.pot -d charity/translations

run: install
	$(BIN)/python scripts/run_dev.py --port $(PORT) --localstripe-port $(LOCALSTRIPE_PORT)

test: install
	$(BIN)/python scripts/run_tests.py

# Production: gunicorn + RQ workers under one supervisor (docs/deployment.md).
prod: install
	scripts/prod.sh

worker: install
	$(BIN)/flask jobs worker

# Benchmarks (several minutes; not part of `make test`): each step rewrites its own marked
# section of docs/benchmarks.md. Needs PostgreSQL on 127.0.0.1:5432 and wrk (installed with
# apt-get when missing). The fault drill restarts PostgreSQL once: DRILL_ARGS=--no-pg-restart
# skips that on a shared server. The giving-day drill (bench/drill.py) runs two app servers
# behind haproxy, PgBouncer, a streaming replica, Redis (database 5) and RQ, the sequencer,
# tiles and two witnesses on this machine (haproxy installed with apt-get when missing).
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432
bench: install
	$(BIN)/python -m bench.run $(ARGS)
	$(BIN)/python -m bench.webhook $(WEBHOOK_ARGS)
	$(BIN)/python -m bench.fault_drill $(DRILL_ARGS)
	$(BIN)/python -m bench.auditlog $(AUDITLOG_ARGS)
	$(BIN)/python -m bench.dashboard $(BENCH_PG)/charity_bench_dashboard
	$(BIN)/python -m bench.drill $(SCALE_DRILL_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache
