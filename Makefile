# platform-registry: every set-up step lives here so a fresh clone works with one command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench soak browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/platforms migrate
	$(BIN)/platforms demo --if-empty
	$(BIN)/platforms serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff over the code, the tests, the benchmarks and the tools; mypy over src (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/mypy

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || apt-get install -y -qq wrk >/dev/null 2>&1 \
		|| echo "wrk is not installed: bench_api.py falls back to its slower Python client"
	$(BIN)/python bench/run_all.py

# Ten minutes on PostgreSQL with the servers' sessions killed every minute (bench/soak.py);
# neither in `make test` nor in `make bench`. SOAK_ARGS=--minutes 2 for a short one.
soak: $(STAMP)
	$(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) var/*.sqlite3 .pytest_cache .ruff_cache .mypy_cache
