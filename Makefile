# Quick start: `make run` (set up and serve the demo dataset on :7071), `make test` (the test suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 7071

.PHONY: setup test-tools run test benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed ## create the virtualenv and install the pinned dependencies

test-tools: node_modules/.installed ## Azurite (the Azure Storage emulator) from npm, for the tests

run: setup ## serve the API on http://localhost:$(PORT) (Swagger UI at /docs)
	$(BIN)/uvicorn api_app.app:create_app --factory --host 127.0.0.1 --port $(PORT)

test: setup test-tools ## lint and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

benchmark: setup ## latency, cold start and memory on ../shared/data/gapminder-sids
	$(BIN)/python -m benchmarks.twolvlimp_latency

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
