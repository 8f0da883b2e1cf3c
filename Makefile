# The two commands: `make run` and `make test`. Everything else is a helper of those.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# tests/reliability runs a throwaway PostgreSQL cluster of its own (initdb, postgres): the server binaries.
PG_BIN ?= /usr/lib/postgresql/15/bin

# make run settings (environment overrides work too, e.g. GATEWAY_PORT=9000 make run)
GATEWAY_HOST ?= 127.0.0.1
GATEWAY_PORT ?= 8000
AUTH_PORT ?= 50051
COLLECTION_PORT ?= 50052
export GATEWAY_HOST GATEWAY_PORT AUTH_PORT COLLECTION_PORT

.PHONY: install install-dev run run-postgres import-monolith measure-stack test test-unit bench wrk protos lint typecheck \
	vendor-protos vendor-swagger-ui test-deps docs-screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

LOCAL_PACKAGES := -e protos/python -e libs/service_kit
# The runtime: both services, their kit and stubs, and Envoy. What `make run` needs and nothing more.
$(VENV)/.installed: $(BIN)/python pyproject.toml protos/python/pyproject.toml libs/service_kit/pyproject.toml
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(LOCAL_PACKAGES) -e '.[gateway]'
	touch $@

# The tools on top: tests, code generation, linters, type checker, deployment-file checks
$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install -q $(LOCAL_PACKAGES) -e '.[gateway,dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: migrate the embedded SQLite databases, create a dev key if missing, start both services and Envoy
run: install
	$(PY) -m scripts.stack

## make run-postgres: the same on the local PostgreSQL server (PG_ADMIN_URL), one database per service, created if missing
run-postgres: install
	$(PY) -m scripts.run_postgres

## make import-monolith FROM=<database URL>: import a FastAPI monolith's users and cigars (keeping their ids) into
## the databases the services use (AUTH_DATABASE_URL, COLLECTION_DATABASE_URL; make run's by default), migrated
## first. IMPORT_ARGS passes flags, e.g. IMPORT_ARGS="--dry-run --on-invalid=fix" (python -m monolith_import --help).
import-monolith: install
	@test -n "$(FROM)" || { echo "usage: make import-monolith FROM=<database URL> [IMPORT_ARGS=...]" >&2; exit 2; }
	$(PY) -m auth_service migrate
	$(PY) -m collection_service migrate
	$(PY) -m monolith_import --from '$(FROM)' $(IMPORT_ARGS)

## make measure-stack: startup time and memory (RSS) of the stack on PostgreSQL, at rest and after the e2e suite
measure-stack: install-dev
	$(PY) -m scripts.measure_stack

## make test: lint, types, then every test (unit, kit, integration on SQLite and PostgreSQL, e2e through Envoy, ...)
test: install-dev test-deps wrk $(PG_BIN)/initdb
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

## make test-unit: the unit and kit tests, in seconds: no PostgreSQL, Envoy or browser
test-unit: install-dev
	$(BIN)/pytest -q tests/unit tests/kit -m "not postgres" $(PYTEST_ARGS)

$(PG_BIN)/initdb:
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q postgresql-15

## make bench: our stack against the FastAPI baseline (../shared/bench), SQLite then PostgreSQL; not part of make test
bench: install-dev wrk
	$(PY) -m scripts.bench $(BENCH_ARGS)

# wrk (Debian package) drives the load in make bench and in its smoke test
wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get install -y -q wrk || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q wrk; }; }

## make protos: regenerate the Python stubs and the descriptor set Envoy loads
protos: install-dev
	$(BIN)/buf lint
	$(PY) scripts/gen_protos.py

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

typecheck: install-dev
	$(BIN)/mypy

## refresh third_party/googleapis from the installed googleapis-common-protos package
vendor-protos: install-dev
	$(PY) scripts/vendor_protos.py

## Debian packages of the tests: headless Chromium and its driver (/docs), jq (the README's quick start)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v jq >/dev/null || \
	  { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q \
	    chromium chromium-driver jq; }

## refresh docs/swagger*.png (the pictures in docs/api.md) from the browser test
docs-screenshot: install-dev test-deps
	CIGAR_UPDATE_SCREENSHOT=1 $(BIN)/pytest -q tests/e2e/test_swagger_ui_browser.py

## refresh gateway/swagger-ui (served at /docs) from the pinned swagger-ui-py package
vendor-swagger-ui: install-dev
	$(PY) scripts/vendor_swagger_ui.py

clean:
	rm -rf $(VENV) $(VENV)-peer var
