# Two commands for a newcomer: `make run` (the whole platform with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run manage test test-fast install check lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The browser libraries the pages serve as static files (Chart.js for the dashboard), exactly as
# package-lock.json pins them; no CDN at run time (docs/design/operations.md, "Dashboard").
node_modules/.package-lock.json: package.json package-lock.json
	scripts/ensure_npm.sh
	npm ci --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.package-lock.json

run: install
	$(BIN)/python -m localaws.devstack

# A manage.py command against the stack `make run` started, e.g. make manage CMD="replay_dlq --queue inbound-dlq".
# Not echoed, so its output can be redirected as the command's own (make manage CMD=infra_template > t.json).
manage: install
	@$(BIN)/python -m localaws.devstack manage $(CMD)

# Three test processes (pytest-xdist), even on two cores: a test process and its in-process moto share
# one interpreter lock, and much of a test's time is spent waiting on a browser, a Celery worker or
# a socket, so a third process keeps both cores busy (measured: README, Test budget). worksteal
# hands the long tests' neighbours to whichever process is free. Each process starts its own stack on
# its own ports.
XDIST := -n 3 --dist worksteal

test: install
	scripts/ensure_chromium.sh
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

check: install
	$(BIN)/python -m pytest -m "not browser" $(XDIST) -q $(PYTEST_ARGS)

# The loop while you work: no browser, no real Celery workers, no sweep of every endpoint with
# generated or malformed input, a tenth of the property examples; in parallel as above.
test-fast: install
	HYPOTHESIS_PROFILE=fast $(BIN)/python -m pytest -m "not browser and not worker and not fuzz" $(XDIST) -q $(PYTEST_ARGS)

# Static checks, configured in pyproject.toml; CI runs them before the tests. mypy loads the real
# settings (the django-stubs plugin), which demand a secret key: a placeholder serves.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SECRET_KEY=lint-only-not-a-secret $(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# bulk_bench.py exits 1 when a target is missed (each is printed PASS or FAIL); the '-' lets the
# benches after it run all the same.
bench: install
	$(BIN)/python bench/contacts_bench.py
	$(BIN)/python bench/outbound_bench.py
	-$(BIN)/python bench/bulk_bench.py
	$(BIN)/python bench/inbound_bench.py
	$(BIN)/python bench/bulk_crash_bench.py
	$(BIN)/python bench/ai_bench.py

clean:
	rm -rf $(VENV) node_modules .local staticfiles .pytest_cache .hypothesis .mypy_cache .ruff_cache
