PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test fuzz demo man lint bench bench-quick clean

$(BIN)/ama: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# compat mode: a plain .pth entry, no import hook costing start-up time
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $(BIN)/ama

install: $(BIN)/ama

test: install
	$(BIN)/python -m pytest

# Crash and corruption fuzzing (tests/fuzz_harness.py): N trials, a table, docs/reliability.md.
N ?= 1000
fuzz: install
	$(BIN)/python scripts/fuzz.py -n $(N) --markdown docs/reliability.md

lint: install
	$(BIN)/ruff check ama tests bench

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

man: install
	$(BIN)/python scripts/make_man.py man

bench: install
	bash bench/setup_peers.sh
	$(BIN)/python bench/run.py --markdown docs/benchmarks.md

bench-quick: install
	bash bench/setup_peers.sh
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) build *.egg-info
