# Every target installs what it needs on its own: a fresh clone needs only Python 3.11+
# (and Java 17 for the Spark tests).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
UV      = $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

.PHONY: run test test-future lint typecheck unit spark install install-dev bench ingest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# The product alone (what `make run` needs) ...
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(UV) -e ".[clv]"
	touch $@

# ... and the test tools plus the optional Spark engine (what `make test` needs).
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(UV) -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: the server on SQLite (./lealta.db) with the demo shop loaded, API docs at /docs; also
## writes the demo's RFM report (demo/report.html) and its orders one row per line (demo/lines.csv,
## for `lealta affinity demo/lines.csv`)
run: $(VENV)/.installed
	mkdir -p demo
	$(BIN)/lealta demo-data demo/orders.csv --customers 5000 --seed 7
	$(BIN)/lealta demo-data demo/lines.csv --customers 5000 --seed 7 --lines
	$(BIN)/lealta rfm demo/orders.csv --output demo/rfm.csv --report demo/report.html --clusters auto
	$(BIN)/lealta serve --demo

## test: lint, type checks and the whole test suite (Spark, PostgreSQL, Chromium, SMTP included);
## installs the system programs the tests drive when missing (as root, with apt), starts a
## throwaway PostgreSQL when none answers on 127.0.0.1:5432 (stopped after), and ends with a loud
## summary of anything skipped and why (LEALTA_FAIL_ON_SKIP=1 makes a skip fail the run).
# Three workers even on two cores: a third of the suite's time is spent waiting on servers,
# subprocesses and browsers (two workers kept the CPUs about 55 % busy).
PYTEST = $(BIN)/pytest -q -n 3 --dist loadgroup
test: lint typecheck
	@scripts/ensure-test-tools
	@url=$$(scripts/ensure-postgres); status=0; \
	LEALTA_TEST_POSTGRES_URL="$$url" $(PYTEST) || status=$$?; \
	scripts/ensure-postgres --stop; exit $$status

## test-future: the suite again with the clock moved FUTURE ahead (Debian's faketime), to prove
## no test depends on the day it runs. Only the wall clock moves (monotonic clocks stay real, so
## timed waits work; scripts/faketime/sitecustomize.py mends time.sleep for that mode);
## PostgreSQL is started outside the moved clock; the Spark tests' JVM, Node.js and Chromium run
## on the real one (they spin or hang under libfaketime; what they compute takes its dates from
## the tests or the server). The tests' PostgreSQL runs (half the suite's time) are left out
## here: they repeat the SQLite runs' dates, and no code asks the database for the time (every
## timestamp comes from the injected clock), so they would prove nothing new. The Spark tests
## (marker spark) are left out too: each compares Spark's figures with DuckDB's over the same
## files, both engines take every date from the data (the JVM runs on the real clock anyway), so
## the moved clock cannot change what they compare (they run in `make test` and `make spark`).
## The CLV fits of the CDNOW file (marker dates_from_data) are left out for the same reason:
## the calibration end, the holdout and every customer's age come from the file's dates and
## the options, and no clock is read on that path (the fits from the store, which stamp the
## clock's time on what they save, stay in).
## The browser tests and the live-server tests (tests/browser, tests/e2e/server) are left out as
## well: Chromium and the servers' workers time their waits on real clocks, and every page and
## route they drive is rendered again under the moved clock by tests/integration (console,
## REST, workers through TestClient and the injected clock), which stay in this run.
FUTURE ?= +3y
test-future: $(VENV)/.installed-dev
	@scripts/ensure-test-tools
	@url=$$(scripts/ensure-postgres); status=0; \
	echo "the whole suite again, with the clock moved $(FUTURE): $$(faketime -f '$(FUTURE)' date)"; \
	LEALTA_TEST_POSTGRES_URL="$$url" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_SKIP_CMDS=java,node \
	PYTHONPATH="$(CURDIR)/scripts/faketime$${PYTHONPATH:+:$$PYTHONPATH}" \
	faketime -f '$(FUTURE)' $(PYTEST) -p no:cacheprovider -k 'not postgresql' \
		-m 'not spark and not dates_from_data' --ignore=tests/browser --ignore=tests/e2e/server \
		|| status=$$?; \
	scripts/ensure-postgres --stop; exit $$status

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -q -m "not spark" tests/unit

spark: $(VENV)/.installed-dev
	$(BIN)/pytest -q -m spark

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/rfm.py 1000000

ingest: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) demo lealta.db lealta.db-* lealta-inbox.db* .pytest_cache .mypy_cache .ruff_cache
