# fahuo — `make demo` runs everything on the embedded default; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := src/fahuo/entrypoints/web/static/vendor

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml package.json package-lock.json
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

$(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js: $(STAMP)
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js $(VENDOR)/

install: $(STAMP) $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

demo: install
	$(BIN)/fahuo demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/labels.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .fahuo
