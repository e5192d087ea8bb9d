# nianbao: `make demo` installs and runs the whole pipeline locally; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: help install demo test lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/nianbao: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	@touch $@

install: $(BIN)/nianbao  ## create .venv and install nianbao with its test tools

demo: install  ## run the pipeline on sample_inputs/ (local S3 server, DuckDB file, Prefect without a server)
	$(BIN)/nianbao demo --data-dir .nianbao

lint: install  ## ruff
	$(BIN)/ruff check src tests flows benchmarks

test: install  ## lint, then the whole test suite
	$(BIN)/ruff check src tests flows benchmarks
	$(BIN)/python -m pytest -q

bench: install  ## throughput benchmarks (not tests)
	$(BIN)/python benchmarks/bench_check.py

clean:  ## remove the venv and local data
	rm -rf $(VENV) .nianbao
