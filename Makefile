# The README's commands: `make run`, `make test` (everything), `make test-fast` and `make lint`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
CATALOGS := ticketing/translations

.PHONY: run test test-fast lint install translations extract-messages

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

translations: install
	$(BIN)/pybabel compile -d $(CATALOGS)

# Maintainers: refresh the catalogs after changing user-facing text.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs ".*" -o $(CATALOGS)/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching --no-wrap

# The embedded demo: development settings (made-up keys, demo logins), one process with the scheduler inside.
run: export APP_ENV = development
run: translations
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo-data --if-empty
	$(BIN)/flask --app wsgi serve --host $(HOST) --port $(PORT)

# Tests run in parallel, one process per core (pytest-xdist); each process has its own databases,
# ports and folders. TEST_WORKERS=0 runs them in this one process.
TEST_WORKERS ?= auto

test: translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# Everything but the browser journeys (tests/e2e) and the tests that start and kill scheduler
# processes (tests/scheduling_processes): the loop to run while working; `make test` before pushing.
test-fast: translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --ignore=tests/e2e --ignore=tests/scheduling_processes

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
