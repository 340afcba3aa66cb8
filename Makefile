# quipu: `make run` serves on 127.0.0.1:8002; `make test` runs every check CI runs.
# Both set everything up on a fresh machine that has Python 3.11+ and the package registries.

PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
BIN    := $(VENV)/bin
# Never download a Python interpreter: use the one on this machine.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test test-scale lint typecheck check pytest perf perf-quick emulator clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock core/pyproject.toml $(wildcard plugins/*/pyproject.toml)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

run: install
	$(BIN)/quipu serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

check: install
	$(BIN)/quipu check

pytest: install
	$(BIN)/pytest -m "not scale"

# Scale-out: 3 quipu processes on one server, a 3-master Cluster and a Sentinel set, and
# the Sentinel master killed under load (70-100 s on a 2-core VM; part of `make test`).
test-scale: install
	$(BIN)/pytest -m scale tests/scale

test: lint typecheck check pytest test-scale

# The perf suite: starts Redis, the emulator, quipu and a bare baseline, runs Locust, writes
# perf/reports/<date>/ and exits 1 when a target is missed (about four minutes).
perf: install
	$(BIN)/python perf/run.py

perf-quick: install
	$(BIN)/python perf/quick.py --tracing

emulator: install
	$(BIN)/quipu emulator --port 8010

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .hypothesis
