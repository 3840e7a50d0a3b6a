# platform-registry: every set-up step lives here so a fresh clone works with one command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SPECTRAL := tools/spectral
SPECTRAL_STAMP := $(SPECTRAL)/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run run-production test lint bench soak browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/platforms migrate
	$(BIN)/platforms demo --if-empty
	$(BIN)/platforms serve --host $(HOST) --port $(PORT)

# The production layout on this machine's PostgreSQL (PLATFORMS_DATABASE_URL, default the local
# `test` database, schema `registry`): migrate, then supervisord with WORKERS API workers and the
# projection runner; waits for /readyz, Ctrl-C stops it gracefully (deploy/README.md).
run-production: $(STAMP)
	$(BIN)/python deploy/run_production.py --host $(HOST) --port $(PORT) --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Spectral (the OpenAPI linter) from the npm registry, at the version its lock file pins.
$(SPECTRAL_STAMP): $(SPECTRAL)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make lint needs Node.js and npm for Spectral (Debian: apt-get install nodejs npm)"; exit 1; }
	cd $(SPECTRAL) && npm ci --silent --no-audit --no-fund
	touch $(SPECTRAL_STAMP)

# ruff over the code, the tests, the benchmarks, the tools and deploy/; mypy over src (pyproject.toml);
# Spectral's OpenAPI rules over the API's document, every warning a failure.
lint: $(STAMP) $(SPECTRAL_STAMP)
	$(BIN)/ruff check src tests bench tools deploy
	$(BIN)/mypy
	@mkdir -p var
	$(BIN)/platforms openapi --out var/openapi.json
	$(SPECTRAL)/node_modules/.bin/spectral lint var/openapi.json --ruleset $(SPECTRAL)/.spectral.yaml --fail-severity=warn

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| echo "wrk is not installed: bench_api.py falls back to its slower Python client"
	$(BIN)/python bench/run_all.py

# Ten minutes on PostgreSQL with the servers' sessions killed every minute (bench/soak.py), then
# five through the production layout with an API worker and the runner killed every minute
# (bench/soak_layout.py); neither in `make test` nor in `make bench`. SOAK_ARGS=--minutes 2 and
# LAYOUT_SOAK_ARGS=--minutes 1 for short ones.
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)
	$(BIN)/python bench/soak_layout.py $(LAYOUT_SOAK_ARGS)

clean:
	rm -rf $(VENV) $(SPECTRAL)/node_modules var/*.sqlite3 .pytest_cache .ruff_cache .mypy_cache
