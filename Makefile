# Every target bootstraps what it needs on a fresh Debian machine: the Debian packages it lacks
# (.ci/system-deps; as root, or with password-less sudo), the Python venv and the npm packages.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp

.PHONY: install system-deps system-deps-test demo demo-linked test test-fast lint bench docs clean

install: system-deps $(STAMP) $(NODE_STAMP)

## system-deps: python3-venv, node and npm if missing; system-deps-test adds chromium, fonts-noto-cjk, nginx, openssl, tor, systemd
system-deps:
	@.ci/system-deps base

system-deps-test:
	@.ci/system-deps test

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## demo: keys, gateway, sample reports through the real protocol, desk, published site served locally
demo: install
	$(PY) -m lianxin_cli demo

## demo-linked: a city and two counties, each its own Lianxin, one case assigned down and back
demo-linked: install
	$(PY) -m lianxin_cli demo --linked

## test: the whole suite (slow and browser tests included)
test: system-deps-test install
	$(PY) -m pytest -q

## test-fast: skip the slow and browser tests
test-fast: system-deps-test install
	$(PY) -m pytest -q -m "not slow and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## bench: every benchmark (the 1M-case registers take several minutes to build once)
bench: system-deps-test install
	$(PY) bench/gateway_bench.py
	node bench/pow_node.mjs 20
	$(PY) bench/browser_bench.py
	$(PY) bench/desk_bench.py --cases 1000000
	$(PY) bench/publish_bench.py
	$(PY) bench/linked_bench.py

clean:
	rm -rf $(VENV) node_modules site var .pytest_cache .mypy_cache .ruff_cache
