# `make demo`: set up .venv and build a dataset from the generated sample episodes, ending in a
# gallery page. `make test`: set up .venv and run the whole suite. Both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.udw-setup
DEMO_OUT ?= demo-out
# Models shipped beside the repo (the LBP anime-face cascade) join the user's own UDW_MODELS_DIR.
SHARED_MODELS := $(abspath $(wildcard ../shared/models))
PYTEST_ARGS ?=
# Test files run in parallel processes (most tests wait on servers, subprocesses or Ray start-up).
PYTEST_WORKERS ?= 2

.PHONY: setup demo test test-hosts bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.txt Makefile
	$(PYTHON) -m venv $(VENV)
	# torch for the standalone generation path: a CPU build where one is available locally.
	$(BIN)/pip install -q torch==2.13.0 || $(BIN)/pip install -q torch --index-url https://download.pytorch.org/whl/cpu
	$(BIN)/pip install -q -e ".[app,dev,ray]"
	touch $(STAMP)

demo: setup
	UDW_MODELS_DIR="$${UDW_MODELS_DIR:+$$UDW_MODELS_DIR:}$(SHARED_MODELS)" $(BIN)/udw demo -o $(DEMO_OUT)

test: setup
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Real-host tests: set UDW_COMFYUI_DIR / UDW_A1111_DIR (and their *_PYTHON) first.
test-hosts: setup
	$(BIN)/python -m pytest -q -m host tests/hosts

bench: setup
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
