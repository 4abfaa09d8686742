VENV ?= .venv
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for `make test` (auto: one per CPU core; 0 runs in this process);
# loadgroup keeps the tests of one xdist_group (a browser module and its live server) on one worker
TEST_WORKERS ?= auto

.PHONY: setup run test test-browser audit chromium lint bench clean

## setup: create the virtual environment and install the project with its dev tools
setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e ".[dev]"
	touch $@

## run: set up, migrate the SQLite default, harvest the bundled sample sources and serve
run: setup
	$(VENV)/bin/agenda db upgrade
	$(VENV)/bin/agenda run --host $(HOST) --port $(PORT)

## test: set up, lint, type-check (mypy: the files in pyproject) and run the whole test suite
## (SQLite, and PostgreSQL when reachable). Bytecode is written even where the environment
## sets PYTHONDONTWRITEBYTECODE: otherwise pytest rewrites the asserts of every test module
## again in every worker and run (seconds of CPU per worker); __pycache__ is git-ignored
test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

## chromium: install Debian's Chromium for the browser tests (as root; no browser download)
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

## test-browser: only the Playwright browser tests (screenshots in test-artifacts/screenshots)
test-browser: setup
	$(VENV)/bin/python -m pytest -m browser

## audit: the page audit (axe-core WCAG 2.1 AA at 1280 and 390 px, the Nu HTML checker, a
## screenshot of each) on every public and editor page and /docs, /redoc, then Lighthouse (mobile) on /, a search and an event page: four scores each
audit: setup
	test -d tests/js/node_modules/lighthouse || (cd tests/js && npm ci --no-audit --no-fund)
	$(VENV)/bin/python -m pytest -n 0 -q tests/web/test_audit.py tests/web/test_public_browser.py
	$(VENV)/bin/python -m tests.web.lighthouse

## bench: run the benchmarks (figures and ratios against a baseline measured in the same run)
bench: setup
	$(VENV)/bin/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache agenda.sqlite*
