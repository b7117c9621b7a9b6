# Entry points. Each target bootstraps .venv from the lock when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
LOCK := locks/requirements.txt
LAB_VENV := .venv-lab
LAB_LOCK := locks/requirements-lab.txt
STAMP := $(VENV)/.installed

.PHONY: report test lint lab validate summary bench lock clean help

help:
	@echo "make report   build reports/index.html (validates the data first)"
	@echo "make test     lint, then run the whole test suite"
	@echo "make lint     ruff check and ruff format --check over src, tests and benchmarks"
	@echo "make lab      open JupyterLab on notebooks/ with the project's kernel"
	@echo "make validate check data/ against the contract"
	@echo "make bench    time the build against nbconvert and the helpers at scale (minutes)"
	@echo "make lock     re-resolve the pinned lock files after editing pyproject.toml"

$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --editable .
	@touch $@

validate: $(STAMP)
	$(BIN)/sting-outcomes validate

# build validates the data itself whenever an input changed; unchanged inputs skip everything.
report: $(STAMP)
	$(BIN)/sting-outcomes build

summary: $(STAMP)
	$(BIN)/sting-outcomes summary

LINTED := src tests benchmarks

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

# The browser tests need Debian's chromium: installed here when missing (apt-get, as root), so
# that under make test a missing browser fails the suite instead of skipping it. Bytecode is
# cached (PYTHONDONTWRITEBYTECODE cleared) so that the build's subprocesses and kernels do not
# recompile pandas and matplotlib from source each time; --durations prints the slowest tests.
test: lint
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ echo "installing chromium for the browser tests (apt-get)"; \
		  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	STING_OUTCOMES_REQUIRE_BROWSER=1 PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest --durations=10

# Not part of make test: it takes minutes and measures rather than asserts.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# JupyterLab lives in its own environment: its server stack (jupyter-events and the
# jsonschema format extras) slows every import of nbformat, which the build does not need.
$(LAB_VENV)/.installed: $(LAB_LOCK) pyproject.toml
	@test -x $(LAB_VENV)/bin/python || $(PYTHON) -m venv $(LAB_VENV)
	@$(LAB_VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(LAB_VENV)/bin/uv pip sync --quiet --python $(LAB_VENV)/bin/python --require-hashes $(LAB_LOCK)
	$(LAB_VENV)/bin/uv pip install --quiet --python $(LAB_VENV)/bin/python --no-deps --editable .
	$(LAB_VENV)/bin/python -m ipykernel install --sys-prefix --name sting-outcomes --display-name "Python (sting-outcomes)"
	@touch $@

lab: $(LAB_VENV)/.installed
	$(LAB_VENV)/bin/jupyter lab notebooks/

lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --no-header --generate-hashes --python-version 3.11 --extra dev pyproject.toml -o $(LOCK)
	$(BIN)/uv pip compile --quiet --no-header --generate-hashes --python-version 3.11 --extra dev --extra lab -c $(LOCK) pyproject.toml -o $(LAB_LOCK)

clean:
	rm -rf reports .reports-* .reports.* .pytest_cache .hypothesis
