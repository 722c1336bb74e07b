# Every target installs what it needs on its own: a fresh clone needs only Python 3.11+
# (and Java 17 for the Spark tests).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
UV      = $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python

.PHONY: run test lint typecheck unit spark install install-dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

# The product alone (what `make run` needs) ...
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(UV) -e .
	touch $@

# ... and the test tools plus the optional Spark engine (what `make test` needs).
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(UV) -e ".[dev,spark]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: build the seeded demo shop and write its RFM report (demo/report.html)
run: $(VENV)/.installed
	mkdir -p demo
	$(BIN)/lealta demo-data demo/orders.csv --customers 5000 --seed 7
	$(BIN)/lealta rfm demo/orders.csv --output demo/rfm.csv --report demo/report.html --clusters auto
	@echo "Open demo/report.html in a browser; the per-customer table is demo/rfm.csv."

## test: lint, type checks and the whole test suite (Spark and PostgreSQL included); a
## throwaway PostgreSQL is started when none answers on 127.0.0.1:5432, and stopped after.
test: lint typecheck
	@url=$$(scripts/ensure-postgres); status=0; \
	LEALTA_TEST_POSTGRES_URL="$$url" $(BIN)/pytest -q || status=$$?; \
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

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
