# Agora: `make run` serves the platform with demo data; `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test lint format bench bench-auth bench-events install install-dev erd asyncapi clean help

help:
	@echo "make run    - install, migrate, seed demo data (first start) and serve on AGORA_HOST:AGORA_PORT"
	@echo "make test   - install test dependencies and run the test suite"
	@echo "make lint   - ruff, formatting, mypy (strict) and the import-layer contracts"
	@echo "make bench  - load benchmarks against PostgreSQL; writes docs/performance.md"
	@echo "make bench-auth - token verification and login benchmarks; writes docs/performance.md"
	@echo "make asyncapi - regenerate docs/asyncapi.json from the event catalogue"
	@echo "make bench-events - relay, consumer and commit-to-consumer latency; writes docs/performance.md"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.runtime-installed

install: $(VENV)/.runtime-installed
install-dev: $(VENV)/.dev-installed

run: install
	$(BIN)/agora migrate
	$(BIN)/agora seed --if-empty
	$(BIN)/agora serve

test: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

erd: install-dev
	$(BIN)/agora erd --output docs/erd.md

asyncapi: install-dev
	$(BIN)/agora events asyncapi > docs/asyncapi.json.tmp && mv docs/asyncapi.json.tmp docs/asyncapi.json

bench: install-dev
	$(BIN)/python benchmarks/run.py

bench-auth: install-dev
	$(BIN)/python benchmarks/bench_auth.py

bench-events: install-dev
	$(BIN)/python benchmarks/bench_events.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
