# Two commands a reader needs: `make book` and `make test`. Each creates .venv on first use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# MathJax and the widget manager, served by the book itself (see package.json).
ASSETS := _vendor/.stamp
# The venv's tools first, so that Jupyter kernels started by the build use the venv's Python.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help venv assets book test lint clean

help:
	@echo "make book   build the HTML book into _build/html (sets up .venv first)"
	@echo "make test   run the whole test suite (sets up .venv first)"
	@echo "make lint   ruff over the package and the tests"
	@echo "make clean  remove _build (keeps .venv)"

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0) if v == (3, 11) else print(f"warning: weightinit is pinned for Python 3.11, found {v[0]}.{v[1]}")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(STAMP)

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: the book serves MathJax itself and needs Node.js and npm to fetch it (Debian: apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

$(ASSETS): node_modules/.installed scripts/vendor_assets.py
	$(PYTHON) scripts/vendor_assets.py

assets: $(ASSETS)

book: $(STAMP) $(ASSETS)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

# pytest exits 5 when it collects nothing; that is a broken suite, never a pass.
test: $(STAMP) $(ASSETS)
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure"; exit 1; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf _build
