# The two README commands: `make run` (set up, then the main job) and `make test` (set up, then the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements/ci.lock | sha256sum | cut -c1-12)
CHECKOV := .venv-checkov/bin/checkov  # a tool environment of its own: its pins fight vectorbt's and pulumi's
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages run test bench faults soak lint lock clean

setup: $(STAMP) system-packages

# What the suite needs from Debian: chromium for the dashboard's browser tests (Playwright's own download does
# not work offline), sqlite3 and zstd, the peers the backup bench (and its smoke) times tradeops against, and
# prometheus, whose promtool unit-tests the alert rules and whose server runs them against live services, and
# shellcheck, which actionlint runs on every workflow's `run:` scripts (tests/pipelines/test_linters.py).
system-packages:
	command -v chromium >/dev/null && command -v sqlite3 >/dev/null && command -v zstd >/dev/null && \
		command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v shellcheck >/dev/null || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium sqlite3 zstd prometheus shellcheck)

# Every release from the hashed CI lock (`make lock`), pip and setuptools included; then tradeops itself, editable,
# without resolving anything: CI tests exactly the files the lock names.
$(STAMP): pyproject.toml requirements/ci.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes --requirement requirements/ci.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/tradeops warmup
	rm -f $(VENV)/.installed-* && touch $@

run: setup
	$(BIN)/tradeops gate --strategy sma_cross --param fast=10 --param slow=30 --data sample:GOOG \
		--report reports/gate-report.html --out reports/verdict.json

lint: setup
	$(BIN)/ruff check apps tests pipelines infra
	$(BIN)/ruff format --check apps tests pipelines infra
	$(BIN)/mypy
	$(BIN)/vulture  # dead code; paths and reasoned exceptions in [tool.vulture] of pyproject.toml

# The hashed locks the image and CI install from (requirements/*.lock, pipelines/lock.py): run after changing a
# dependency in pyproject.toml; the suite fails until the locks match it. `make lock UPGRADE=1` moves every pin.
lock: setup
	$(BIN)/python -m pipelines.lock $(if $(UPGRADE),--upgrade)

$(CHECKOV):
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --upgrade pip
	.venv-checkov/bin/python -m pip install --quiet checkov==3.3.30

# The reports are written even when a test fails (that is when they matter); the suite's status wins.
# One pytest-xdist worker per core (`-n auto`); a worker that runs out of tests steals queued ones from the other
# (`--dist worksteal`), so the slow tests balance out without a list of them. The controller writes the junit XML,
# combines the workers' coverage and judges the requirements (docs/contributing.md, "Running the suite").
test: lint $(CHECKOV)
	$(BIN)/python -m pytest -n auto --dist worksteal --requirements-strict --cov --cov-report=term \
		--cov-report=html:reports/coverage --cov-report=xml:reports/coverage.xml --junitxml=reports/junit.xml; \
	suite=$$?; \
	$(BIN)/tradeops tests report --junit reports/junit.xml --coverage reports/coverage.xml --out reports || exit $$?; \
	$(BIN)/tradeops requirements report --junit reports/junit.xml --out reports; \
	matrix=$$?; [ $$suite -ne 0 ] && exit $$suite; exit $$matrix

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m pipelines.bench.engine --out reports/bench.json
	$(BIN)/python -m pipelines.bench.api_load --out reports/api_load.json
	$(BIN)/python -m pipelines.bench.backup --out reports/backup_bench.json
	$(BIN)/python -m pipelines.bench.trader --out reports/trader_bench.json
	$(BIN)/python -m pipelines.bench.divergence --out reports/divergence_bench.json
	$(BIN)/python -m pipelines.bench.threads --out reports/threads_bench.json
	$(BIN)/python -m pipelines.bench.startup --out reports/startup_bench.json
	$(BIN)/python -m pipelines.bench.sweeps --out reports/sweep_bench.json
	$(BIN)/python -m pipelines.bench.latest_version --out reports/latest_version_bench.json
	$(BIN)/python -m pipelines.bench.datasets --out reports/datasets_bench.json

# Fault injection against real running services (locked/stopped database, oversize bodies, ...): slow, apart
# from `make test`; every scenario module in pipelines/faults/ runs and one table of figures is printed.
faults: setup
	$(BIN)/python -m pipelines.faults --out reports/faults.json
	$(BIN)/python -m pipelines.bench.market_data --out reports/market_data_bench.json

# The money path's state machine (tests/apps/trader/money_machine.py, DC-28) run longer than the suite runs it:
# new random examples each round; prints steps, examples and invariant violations, exits 1 on one.
# The money path's state machine (tests/apps/trader/money_machine.py) run longer: `make soak COUNT=N SECONDS=S`.
SOAK_COUNT ?= 200
SOAK_SECONDS ?= 1200
soak: setup
	$(BIN)/python -m pipelines.soak.money --count $(or $(COUNT),$(SOAK_COUNT)) --seconds $(or $(SECONDS),$(SOAK_SECONDS))

clean:
	rm -rf $(VENV) .venv-checkov reports .coverage
