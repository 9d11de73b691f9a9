# fdac-research: `make reports` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?=
SEED ?= 20261121
FAMILIES ?=
PRESET ?= default
KEY_FILE ?=
LABELS ?=
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

.PHONY: env data reports test check lint format types lab bench clean help

help:
	@echo "make reports  - set up, generate the default synthetic world, run every notebook into reports/"
	@echo "make test     - set up, then the test suite (fast: slow and benchmark tests are excluded)"
	@echo "make data     - write the default synthetic world to data/synthetic/"
	@echo "make lab      - JupyterLab with the package and notebooks"
	@echo "make check    - lint + types + tests"
	@echo "make bench    - benchmarks (JSON + table under reports/benchmarks/)"

# The environment is created once and re-used; it is rebuilt when pyproject.toml or the
# constraints file changes. torch (CPU build) is installed before sdv so that no CUDA wheels
# are pulled in.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,spark]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (fdac-research)" >/dev/null
	@touch $(STAMP)

env: $(STAMP)

data: $(STAMP)
	$(BIN)/fdac-research generate --out data/synthetic --preset $(PRESET) --seed $(SEED) $(if $(FAMILIES),--families $(FAMILIES),)

reports: $(STAMP)
	$(BIN)/fdac-research pipeline --out reports --work data/work --seed $(SEED) --preset $(PRESET) $(if $(FAMILIES),--families $(FAMILIES),) $(if $(DATA),--data $(DATA),) $(if $(KEY_FILE),--key-file $(KEY_FILE),) $(if $(LABELS),--labels $(LABELS),)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks notebooks

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH)
	$(BIN)/python tools/readme_figures.py

clean:
	rm -rf data/synthetic/* data/work reports/*
