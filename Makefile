# Every target installs what it needs on its own: a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
EXTRAS ?= dev,spark
STAMP   = $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma  := ,

.PHONY: run test lint typecheck unit spark install demo report bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[$(EXTRAS)]"
	touch $@

install: $(STAMP)

## run: build the seeded demo shop and write its RFM report (demo/report.html)
run: $(STAMP)
	mkdir -p demo
	$(BIN)/lealta demo-data demo/orders.csv --customers 5000 --seed 7
	$(BIN)/lealta rfm demo/orders.csv --output demo/rfm.csv --report demo/report.html --clusters auto

## test: lint, type checks and the whole test suite (Spark included)
test: lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q -m "not spark"

bench: $(STAMP)
	$(BIN)/python benchmarks/rfm.py 1000000

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
