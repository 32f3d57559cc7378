# e-Registry — the two set-up commands are `make demo` and `make test` (see README.md).
# Each installs what it needs first: a Python virtual environment (.venv) with the project,
# and the Node packages of the local stack (hardhat_local/node_modules).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NODE_DIR := hardhat_local

.PHONY: demo test install python-deps node-deps system-deps lint ruff typecheck layers compile bench clean

demo: python-deps node-deps  # the demo needs no browser or database
	$(BIN)/python scripts/demo.py $(DEMO_ARGS)

# Lint first: a broken floor or a type error fails in seconds, before the suite's node and daemons start.
# The suite runs in one worker process per core (at most 4; each starts its own nodes and daemons):
# it is CPU-bound in the test process (figures in docs/PERFORMANCE.md, "Test suite").
# PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= auto
test: install lint
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --maxprocesses 4 $(PYTEST_ARGS)

install: python-deps node-deps system-deps

python-deps: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || (echo "Node.js 20 or newer is needed" >&2; exit 1)
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian packages the tests use (Chromium, zbarimg, a CJK font, PostgreSQL); installed only where
# missing, and only possible as root (CI runs as root).
system-deps:
	@$(BIN)/python scripts/system_deps.py

# ruff (rules in pyproject.toml), the import floors of DESIGN.md, mypy --strict on every package.
lint: ruff layers typecheck

ruff: python-deps
	$(BIN)/ruff check .

layers: python-deps
	$(BIN)/python scripts/check_layers.py --type-checking-circles

typecheck: python-deps
	$(BIN)/mypy

compile: install
	$(BIN)/python scripts/compile_contracts.py

bench: install
	$(BIN)/python scripts/bench_gas.py

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules .run .pytest_cache .mypy_cache .ruff_cache
