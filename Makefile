# Cairn developer commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
LINT_PATHS := src tests $(wildcard bench)
HOST ?= 127.0.0.1
PORT ?= 8585

.PHONY: install run test lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

NPM := $(shell command -v npm 2>/dev/null)
JS_STAMP := tests/kontent_js/node_modules/.installed

# The real Kontent.ai JS SDK drives the Kontent face in the suite (when Node is on the machine).
$(JS_STAMP): tests/kontent_js/package.json
	cd tests/kontent_js && npm install --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

# dbt (the suite builds a real dbt project) pins its own dependencies: a virtualenv of its own.
DBT_VENV := .venv-dbt
DBT_STAMP := $(DBT_VENV)/.installed
$(DBT_STAMP): tests/dbt_project/requirements.txt
	$(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/pip install -q -r tests/dbt_project/requirements.txt
	touch $(DBT_STAMP)

# secoda-analysis-mcp 0.1.1 needs mcp<2 (it imports mcp.server.fastmcp): it gets a venv of its own,
# which tests/test_secoda_mcp_client.py runs it from.
MCP_VENV := .venv-secoda-mcp
MCP_STAMP := $(MCP_VENV)/.installed
$(MCP_STAMP): Makefile
	$(PYTHON) -m venv $(MCP_VENV)
	$(MCP_VENV)/bin/pip install -q 'secoda-analysis-mcp==0.1.1' 'mcp<2'
	touch $(MCP_STAMP)

CHROMIUM := /usr/bin/chromium

# The UI's end-to-end tests drive Debian's Chromium (Playwright cannot download its own browser
# here). Installed once when missing; needs root, as CI has.
$(CHROMIUM):
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing chromium (Debian package) for the UI tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "warning: $(CHROMIUM) is missing and cannot be installed here (not root or no apt-get)." \
	       "Install Debian's chromium package for tests/test_web_browser.py" >&2; \
	fi

install: $(STAMP) $(DBT_STAMP) $(MCP_STAMP) $(if $(NPM),$(JS_STAMP)) $(CHROMIUM)

## Set up, load the demo catalog, print an API key, and serve on SQLite.
run: $(STAMP)
	$(BIN)/cairn demo
	@echo "API key (use as 'Authorization: Bearer <key>'):"
	@$(BIN)/cairn keys create --name quickstart | tail -n 1
	$(BIN)/cairn serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

format: install
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

## Lint, type-check and run the whole suite against SQLite and PostgreSQL.
test: install
	scripts/ensure-services
	$(MAKE) lint
	$(BIN)/pytest -n 2 -q

clean:
	rm -rf $(VENV) $(DBT_VENV) $(MCP_VENV) .pytest_cache .mypy_cache .ruff_cache cairn.db cairn.db-wal cairn.db-shm
