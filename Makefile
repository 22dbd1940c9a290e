# fahuo — `make demo` runs everything on the embedded default; `make test` runs every test.
# `make demo` installs only what running needs; the test tools come with `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
NODE_STAMP := node_modules/.installed
VENDOR := src/fahuo/entrypoints/web/static/vendor
VENDOR_STAMP := $(VENDOR)/.copied
SWAGGER := node_modules/swagger-ui-dist
# make demo PORT=8601 SANDBOX_PORT=8701 (or FAHUO_PORT / FAHUO_SANDBOX_PORT in the environment)
DEMO_PORTS := $(if $(PORT),--port $(PORT)) $(if $(SANDBOX_PORT),--sandbox-port $(SANDBOX_PORT))

.PHONY: install install-dev demo test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# --ignore-scripts: the assets are plain files; no package's install script runs (or phones home)
$(NODE_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR_STAMP): $(NODE_STAMP)
	mkdir -p $(VENDOR)/swagger-ui
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp $(SWAGGER)/swagger-ui-bundle.js $(SWAGGER)/swagger-ui.css $(SWAGGER)/favicon-32x32.png \
	   $(VENDOR)/swagger-ui/
	touch $@

install: $(RUN_STAMP) $(VENDOR_STAMP)

install-dev: install $(DEV_STAMP)

demo: install
	$(BIN)/fahuo demo $(DEMO_PORTS)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# a non-Beijing zone, so a time shown from the server's clock instead of the shop's fails (issue 13)
test: lint
	TZ=America/New_York $(BIN)/pytest

bench: install
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/labels.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .fahuo .fahuo-demo
