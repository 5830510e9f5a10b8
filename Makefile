# Two commands do all set-up on a fresh Debian machine: `make demo` and `make test`.
# Both are safe to run again.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= --durations=15
# The any-date pass: the clock shifted about three years and a few hours ahead.
FAKE_DAYS ?= 1103.3

.PHONY: test test-any-date demo deps venv lint typecheck bench faults load clean package package-test

deps:
	@bash scripts/install-debian-deps.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

venv: deps $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy signage_core device_runtime content_server signage_player kiosk_app

test: venv lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-any-date

# The tests that use neither sockets nor subprocess timeouts (libfaketime can make those
# fail with EINVAL), again with the clock years ahead: a date fixed in a test that meets
# a real clock fails the day it is written, not months later.
# FAKETIME_FORCE_MONOTONIC_FIX=0: with the real monotonic clock, libfaketime 0.9.10's
# "fix" (on by default with glibc >= 2.30) turns every timed wait on a monotonic
# condition, Python's GIL hand-over among them, into a deadline years in the past: the
# waiting thread spins, and threaded tests (the ASGI test client) crawl on busy cores.
test-any-date: venv
	FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_FORCE_MONOTONIC_FIX=0 faketime -f "+$(FAKE_DAYS)d" \
		$(BIN)/python -m pytest -q -p no:cacheprovider -m "not live and not display and not e2e" tests

demo: venv
	$(BIN)/python scripts/demo.py

bench: venv
	$(BIN)/python -m bench

# Fault runs (bench/faults_*.py), each with a checker; not part of `make test`. 11-12.5
# minutes in all on 2 shared cores; each run's time and the total are printed.
# FAULTS_DEVICES, FAULTS_KILLS, FAULTS_DOWN_S, FAULTS_POLL_S, FAULTS_ASSET_KB, FAULTS_CLOCK_DAYS,
# FAULTS_RELAY_CUT_S, FAULTS_RELAY_SPEEDUP, FAULTS_DISK_FULL_S, FAULTS_DISK_ASSET_KB,
# FAULTS_KILL_LOOP_ROUNDS... scale them.
faults: venv
	$(BIN)/python -m bench.faults

# LOAD_DEVICES simulated screens for LOAD_SECONDS against a real server and Mosquitto on
# loopback (bench/load.py); ends with one `load: ...` line. Not part of `make test`.
LOAD_DEVICES ?= 1000
LOAD_SECONDS ?= 120
load: venv
	LOAD_DEVICES=$(LOAD_DEVICES) LOAD_SECONDS=$(LOAD_SECONDS) $(BIN)/python -m bench.load

# One-file device binaries into dist/ (packaging/<app>.spec each); PyInstaller comes from
# the optional `package` group, installed here only.
PACKAGE_APPS := signage-player kiosk-app
PACKAGE_STAMP := $(VENV)/.installed-package

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,package]'
	@touch $(PACKAGE_STAMP)

package: venv $(PACKAGE_STAMP)
	@mkdir -p build dist
	@for app in $(PACKAGE_APPS); do \
		start=$$(date +%s); \
		KIVY_NO_CONSOLELOG=1 $(BIN)/pyinstaller --noconfirm --clean --log-level WARN \
			--distpath dist --workpath build/pyinstaller packaging/$$app.spec \
			>build/package-$$app.log 2>&1 \
			|| { tail -40 build/package-$$app.log; echo "make package: $$app failed, see build/package-$$app.log"; exit 1; }; \
		echo "dist/$$app: $$(du -m dist/$$app | cut -f1) MB, built in $$(( $$(date +%s) - start )) s"; \
	done

# The built binaries with no virtualenv: sync from a real server, draw Lao under Xvfb
# (screenshots in tests/artifacts/package-*.png). Minutes: not part of `make test`.
package-test: package
	SIGNAGE_PACKAGE_DIST=$(CURDIR)/dist $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/packaging/test_package_binary.py tests/packaging/test_package_kiosk.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
