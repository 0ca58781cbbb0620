# Two commands for a newcomer: `make run` (the whole platform with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run manage test install check lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python -m localaws.devstack

# A manage.py command against the stack `make run` started, e.g. make manage CMD="replay_dlq --queue inbound-dlq"
manage: install
	$(BIN)/python -m localaws.devstack manage $(CMD)

test: install
	scripts/ensure_chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: install
	$(BIN)/python -m pytest -m "not browser" -q $(PYTEST_ARGS)

# Static checks, configured in pyproject.toml; CI runs them before the tests. mypy loads the real
# settings (the django-stubs plugin), which demand a secret key: a placeholder serves.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SECRET_KEY=lint-only-not-a-secret $(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: install
	$(BIN)/python bench/contacts_bench.py
	$(BIN)/python bench/outbound_bench.py
	$(BIN)/python bench/bulk_bench.py
	$(BIN)/python bench/inbound_bench.py

clean:
	rm -rf $(VENV) .local staticfiles .pytest_cache .hypothesis .mypy_cache .ruff_cache
