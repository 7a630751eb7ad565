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
# Matplotlib's font cache beside the venv's matplotlib: a cache in ~/.cache that another
# matplotlib built without its own fonts makes every log-scale figure print "findfont: Font
# family ['STIXGeneral'] not found" onto the book's pages.
export MPLCONFIGDIR := $(abspath $(VENV))/matplotlib

.PHONY: help venv assets book test lab lint clean

help:
	@echo "make book   build the HTML book into _build/html (sets up .venv first)"
	@echo "make test   run the whole test suite (sets up .venv first)"
	@echo "make lab    JupyterLab on the chapters and exercises, as in Binder"
	@echo "make release / make grade   the nbgrader course (see README)"
	@echo "make bench  benchmarks with targets -> benchmarks/RESULTS.md"
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

# One BLAS thread while chapters execute: their matrices are small, and on a shared 2-core
# machine a two-thread OpenBLAS pool can stall a chapter many times over. The chapters execute
# in parallel, one per core (scripts/build_book.py wraps `jupyter-book build`; BOOK_JOBS=N),
# each in a kernel forked from one warm process (scripts/book_kernels.py; BOOK_KERNELS=fresh
# starts them from scratch instead).
book: $(STAMP) $(ASSETS)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python scripts/build_book.py . -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

# First the package's layering (import-linter's contracts in pyproject.toml): a wrong import
# fails here, named. Then pytest, which exits 5 when it collects nothing: a broken suite, never a pass.
test: $(STAMP) $(ASSETS)
	$(BIN)/lint-imports --no-cache
	@$(BIN)/python -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure"; exit 1; fi; \
	exit $$status

# JupyterLab in .venv, opening the .md chapters as notebooks (as Binder does).
lab: $(STAMP)
	$(BIN)/python scripts/lab_settings.py
	$(BIN)/jupyter lab

lint: $(STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf _build

# nbgrader (see nbgrader_config.py): the assignments are the folders of solutions/, the
# instructor sources; exercises/ is what students open. '*' is every assignment.
.PHONY: release grade bench

# Regenerate every exercises/<assignment>/ from solutions/ (overwrites; commit the result).
release: $(STAMP)
	$(BIN)/nbgrader generate_assignment '*' --force --no-db --log-level=WARN

# Grade every new or changed submitted/<student>/<assignment>/ with JOBS worker processes (default:
# one per core), then refresh grades.csv (a "status" column tells "not submitted" from a 0) and
# feedback/<student>/<assignment>/*.html. Incremental: what is graded and unchanged is not
# graded again, and a run that is interrupted continues where it stopped; the release and the
# gradebook's course cells are regenerated into _build/ only when solutions/ changed. Student code
# runs in a sandboxed kernel and the tests are judged in a separate process; only one process
# writes the gradebook (weightinit.grading.batch). Lines starting "[grade]" name each submission
# that was repaired, tampered with, or could not be graded.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
grade: export PYTHONWARNINGS = ignore
grade: $(STAMP)
	@$(BIN)/python -m weightinit.grading.batch --jobs $(JOBS)

# Benchmarks with targets (clean build, rebuild, autograde, propagation, make test), written
# to benchmarks/RESULTS.md. Slow: several clean builds and a full `make test`.
bench: $(STAMP) $(ASSETS)
	$(BIN)/python benchmarks/run.py
