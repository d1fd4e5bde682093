PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install install-runtime test test-slow test-s3-real test-core-asan fuzz demo man lint bench bench-quick clean

# The runtime alone (what 'make demo' and users need): ama and its four
# dependencies, plus the man pages where man finds them for this venv.
$(BIN)/ama: setup.cfg setup.py pyproject.toml ama/_speedups.c ama/_blake3.c ama/_blake3.h
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# compat mode: a plain .pth entry, no import hook costing start-up time
	$(BIN)/pip install -q -e . --config-settings editable_mode=compat
	touch $(BIN)/ama

# man-db looks in ../share/man next to every directory on PATH, so with
# .venv/bin on PATH 'man ama-status' works; otherwise MANPATH=.venv/share/man.
$(VENV)/share/man/man1/ama.1: $(BIN)/ama $(wildcard man/*.1)
	mkdir -p $(VENV)/share/man/man1
	rm -f $(VENV)/share/man/man1/ama*.1
	cp man/*.1 $(VENV)/share/man/man1/
	touch $@

# Test, lint and man-page tools: only 'make install' and 'make test' need them.
$(VENV)/.dev-installed: $(BIN)/ama setup.cfg
	$(BIN)/pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

install-runtime: $(BIN)/ama $(VENV)/share/man/man1/ama.1

install: install-runtime $(VENV)/.dev-installed

# Two workers: the machine's two cores (each test is mostly one 'ama' subprocess).
test: install
	$(BIN)/python -m pytest -n 2

# The heavier cases 'make test' leaves out (pytest.mark.slow): fuzz trials,
# network faults, multi-GB and million-entry inputs. CI runs them (.ci/run).
test-slow: install
	$(BIN)/python -m pytest -m slow

# Crash and corruption fuzzing (tests/fuzz_harness.py): N trials, a table, docs/reliability.md.
N ?= 1000
fuzz: install
	$(BIN)/python scripts/fuzz.py -n $(N) --markdown docs/reliability.md

# The S3 backend's cases against a real, independently written S3 server:
# Ceph's radosgw from Debian's packages (installed if missing, as root), one
# node on 127.0.0.1, started for the run and stopped whatever happens.
S3_REAL_TESTS := tests/test_protocol.py tests/test_remote_backends.py tests/test_s3_real.py
test-s3-real: install
	bash scripts/ceph-rgw.sh run $(BIN)/python -m pytest -p no:cacheprovider $(S3_REAL_TESTS) -k "s3-real or s3_real"

# The compiled core (ama/_speedups.c) built once more with AddressSanitizer
# and UBSan, warnings as errors, and run against its pure-Python twin on
# random trees (scripts/core_sanitized.py). CI runs it (.ci/run).
ASAN_SO := build/asan/_speedups.so
test-core-asan: install
	mkdir -p build/asan
	$(CC) -shared -fPIC -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
		-Wall -Wextra -Werror -std=gnu11 -I"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
		ama/_speedups.c ama/_blake3.c -o $(ASAN_SO) -lpthread
	LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" ASAN_OPTIONS=detect_leaks=0 \
		PYTHONMALLOC=malloc $(BIN)/python scripts/core_sanitized.py $(ASAN_SO) 60

lint: install
	$(BIN)/ruff check ama tests bench

demo: install-runtime
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

man: install
	$(BIN)/python scripts/make_man.py man
	$(MAKE) -s $(VENV)/share/man/man1/ama.1

# BENCH_ARGS: more options for bench/run.py, e.g. BENCH_ARGS="--only status --repeat 9"
bench: install
	bash bench/setup_peers.sh
	$(BIN)/python bench/run.py --markdown docs/benchmarks.md $(BENCH_ARGS)

bench-quick: install
	bash bench/setup_peers.sh
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
