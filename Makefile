# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
CATALOGS := ticketing/translations

.PHONY: run test install translations extract-messages

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
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching

run: translations
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo-data --if-empty
	$(BIN)/flask --app wsgi serve --host $(HOST) --port $(PORT)

test: translations
	$(BIN)/python -m pytest
