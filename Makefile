# Cairn developer commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8585

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, load the demo catalog, print an API key, and serve on SQLite.
run: install
	$(BIN)/cairn demo
	@echo "API key (use as 'Authorization: Bearer <key>'):"
	@$(BIN)/cairn keys create --name quickstart | tail -n 1
	$(BIN)/cairn serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## Lint, type-check and run the whole suite against SQLite and PostgreSQL.
test: install
	scripts/ensure-services
	$(MAKE) lint
	$(BIN)/pytest -n 2 -q

bench: install
	$(BIN)/python -m bench --help

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache cairn.db cairn.db-wal cairn.db-shm
