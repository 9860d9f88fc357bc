# Every target a newcomer needs; the README names the same commands.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install test test-fast lint format typecheck demo clean

install: $(STAMP) ## .venv with the package, the local stack, spaCy and the dev tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[local,nlp,dev]'
	touch $(STAMP)

test: install tools ## the whole suite: unit, integration, end-to-end, infrastructure
	$(BIN)/pytest

test-fast: install ## the unit tests only
	$(BIN)/pytest tests/unit

lint: install typecheck ## the type check, then ruff (lint and format check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy --strict on the layer, the CLI and the functions
	$(BIN)/mypy shared/newsflow cli/newsflow_cli functions

format: install ## ruff format and the fixable lint findings
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: install ## the whole pipeline locally on the sample articles, ending with its HTML report
	$(BIN)/newsflow demo --report .newsflow/demo-report.html

clean: ## remove the venv, build output and caches
	rm -rf $(VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

help: ## this list: every target with what it does
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z0-9_-]+:[^#]*## / {printf "  %-19s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

# ---------------------------------------------------------------- build, deploy, infrastructure
# SAM CLI and checkov live in their own venvs: each pins exact boto3 (and SAM click) versions
# that clash with the runtime dependencies and with each other. `sam build` needs python3.12
# (the Lambda runtime) on PATH: python3.12 on PATH, else pyenv's 3.12. The tool venvs use it
# too when it exists, else $(PYTHON), so the checks run on any machine.
PY312 ?= $(shell python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null \
	|| { p=$$(pyenv prefix 3.12 2>/dev/null | head -n1) && [ -x "$$p/bin/python3.12" ] \
	&& echo "$$p/bin/python3.12"; })
TOOLS_PYTHON ?= $(or $(PY312),$(shell command -v $(PYTHON)))
SAM_VENV ?= .venv-sam
CHECKOV_VENV ?= .venv-checkov
SAM := SAM_CLI_TELEMETRY=0 PATH="$(dir $(PY312)):$$PATH" $(SAM_VENV)/bin/sam
BUILD_DIR := .aws-sam/build

.PHONY: tools tools-lock requirements requirements-check build sizes validate checkov \
	deploy deploy-guided

tools: $(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed ## SAM CLI + checkov venvs

$(SAM_VENV)/.installed $(CHECKOV_VENV)/.installed: .venv-%/.installed: infra/tools/%.txt | $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing --python "$(TOOLS_PYTHON)" .venv-$*
	$(BIN)/uv pip install --quiet --python .venv-$*/bin/python --require-hashes -r $<
	touch $@

tools-lock: install ## re-pin the SAM CLI / checkov venvs from infra/tools/*.in
	for tool in sam checkov; do $(BIN)/uv pip compile --quiet --universal --python-version 3.11 \
		--generate-hashes --custom-compile-command "make tools-lock" \
		infra/tools/$$tool.in -o infra/tools/$$tool.txt; done

requirements: install ## pin the Lambda requirements files from pyproject.toml
	$(BIN)/python infra/scripts/pin_requirements.py

requirements-check: install ## fail if a fresh resolution differs from the pinned files
	$(BIN)/python infra/scripts/pin_requirements.py --check

build: $(SAM_VENV)/.installed ## sam build (offline from the package index, no Docker)
	@[ -n "$(PY312)" ] || { echo "error: python3.12 not found (put it on PATH, or" \
		"'pyenv install 3.12'); sam build needs the Lambda runtime's python" >&2; exit 1; }
	@start=$$(date +%s); $(SAM) build --parallel && \
		echo "sam build took $$(( $$(date +%s) - start )) s"

sizes: install ## unzipped size of each built function + its layers (fails above 250 MB)
	$(BIN)/python infra/scripts/lambda_sizes.py --build-dir $(BUILD_DIR)

validate: install $(SAM_VENV)/.installed ## cfn-lint + sam validate --lint
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

checkov: $(CHECKOV_VENV)/.installed ## static security checks of the template
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation \
		--skip-download --compact --quiet

deploy: build ## sam deploy with samconfig.toml (STAGE=prod for the prod config env)
	$(SAM) deploy --config-env $(or $(STAGE),default)

deploy-guided: build ## first deploy: asks for the parameters and saves them
	$(SAM) deploy --guided

# ---------------------------------------------------------------- soak
# N URLs (a few hundred distinct generated pages, plus 404s, a PDF, private addresses, lines that
# are not URLs and always-unavailable pages) through the local stack; checks that every line ends
# ENRICHED, FAILED or in a DLQ, reports throughput and RSS, writes JSON to bench-results/.
# SOAK_ARGS passes more options, e.g. SOAK_ARGS="--from-build --max-workers 4".
SOAK_URLS ?= 10000
SOAK_PAGES ?= 300

.PHONY: soak
soak: install ## soak the local stack: SOAK_URLS=10000 SOAK_PAGES=300 (see docs/HARDENING.md)
	$(BIN)/python infra/scripts/soak.py --urls $(SOAK_URLS) --pages $(SOAK_PAGES) $(SOAK_ARGS)

# ---------------------------------------------------------------- benchmarks
# Extraction quality/speed, fetch stage split, enrichment, cold starts, package sizes, cost per
# 1M articles and local-stack throughput (docs/BENCHMARKS.md). Loopback traffic only.
# CORPUS=dir: a folder of .html/.html.gz pages (with evaldata.json for quality); without it a
# generated sample is used. BENCH_ARGS="--quick" for a short run; DOCS=1 rewrites the generated
# part of docs/BENCHMARKS.md. Results: bench-results/bench-latest.json and bench-latest.md.
.PHONY: bench
bench: install ## benchmarks into bench-results/ (CORPUS=dir, BENCH_ARGS=--quick, DOCS=1)
	$(BIN)/python -m bench.run $(if $(CORPUS),--corpus "$(CORPUS)") \
		$(if $(DOCS),--docs docs/BENCHMARKS.md) $(BENCH_ARGS)
