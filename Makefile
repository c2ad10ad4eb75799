# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB_URL ?= sqlite:///newswatch.db
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_LOGGING_LEVEL ?= WARNING
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false

.PHONY: run test lint bench clean wheel-check browser

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/newswatch db upgrade --db $(DB_URL)
	$(BIN)/newswatch ingest --replay fixtures/http --db $(DB_URL)
	@echo
	@echo '$$ newswatch search --entity "Ant Group"'
	@$(BIN)/newswatch search --entity "Ant Group" --limit 5 --db $(DB_URL)
	@echo '$$ newswatch search stablecoin --source hkma-press'
	@$(BIN)/newswatch search stablecoin --source hkma-press --limit 5 --db $(DB_URL)
	@echo '$$ newswatch search --topic tokenisation --since 2025-11-01'
	@$(BIN)/newswatch search --topic tokenisation --since 2025-11-01 --limit 5 --db $(DB_URL)
	@echo '$$ newswatch stories list --min-articles 4'
	@$(BIN)/newswatch stories list --min-articles 4 --db $(DB_URL)

# Lint, types (mypy over pipeline and flows), the import contracts of .importlinter, then the tests.
test: $(BIN)/.installed-dev
	$(BIN)/ruff check pipeline flows tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -q -rs $(PYTEST_ARGS)

$(BIN)/.installed-bench: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	touch $@

bench: $(BIN)/.installed-bench
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Headless Chromium for the report's browser test (tests/test_report.py skips without it):
# Debian's package, installed only when missing, through sudo unless already root.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# The wheel installed in a new environment, run from outside the checkout (CI runs it too).
wheel-check: $(BIN)/.installed
	PYTHON=$(BIN)/python .ci/wheel-check

clean:
	rm -rf $(VENV) .prefect newswatch.db newswatch.db-wal newswatch.db-shm alerts.jsonl
