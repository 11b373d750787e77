# readerapp: `make run` serves the app with demo data; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000

.PHONY: run test lint format bench clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	READERAPP_ENVIRONMENT=$${READERAPP_ENVIRONMENT:-development} $(FLASK) db upgrade heads
	READERAPP_ENVIRONMENT=$${READERAPP_ENVIRONMENT:-development} $(FLASK) seed-demo --if-empty
	READERAPP_ENVIRONMENT=$${READERAPP_ENVIRONMENT:-development} $(FLASK) measures load --builtin
	READERAPP_ENVIRONMENT=$${READERAPP_ENVIRONMENT:-development} PORT=$(PORT) $(BIN)/python -m readerapp.serve

test: $(VENV)/.installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check readerapp tests bench migrations wsgi.py
	$(BIN)/ruff format --check readerapp tests bench migrations wsgi.py
	$(BIN)/lint-imports

format: $(VENV)/.installed
	$(BIN)/ruff check --fix readerapp tests bench migrations wsgi.py
	$(BIN)/ruff format readerapp tests bench migrations wsgi.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
