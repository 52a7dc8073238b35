# The commands the README shows. Everything else the project needs is installed from here.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
HUB := $(VENV)/bin/hub

help:
	@echo "make up     install, start Neo4j, Redis, API, worker and beat; migrate; seed demo data"
	@echo "make test   the whole test suite against its own real servers"
	@echo "make down   stop what 'make up' started"
	@echo "make bench  lookup benchmark (100k subjects); results in bench/RESULTS.md"
	@echo "make bench-seed  seed 1,000,000 subjects from nothing (bulk) and 100,000 (usual), timed (long)"
	@echo "make bench-archive  1,000,000-row archive import and hub rate --all (after make bench)"
	@echo "make bench-investigate  latency of network, paths, controllers, exposure (after make bench-seed)"
	@echo "make bench-sync  decision-to-partner latency and delivery events/s (1 and 2 workers)"
	@echo "make bench-portal  subject pages with and without the cache, anonymous GraphQL lookups"
	@echo "make bench-batch  subjects/s of subjectsByCode at 100 codes against single lookups (100k graph)"
	@echo "make bench-plans  EXPLAIN every named query on the 100k graph; fails on a label scan"
	@echo "make bench-peer  the hub against @neo4j/graphql: lookups and depth-2 networks, same load (needs Node.js)"
	@echo "make bench-instructions  instructions a computed lookup costs the API, by callgrind (needs valgrind)"
	@echo "make soak   10 minutes of mixed load while a worker, an API process, Redis and Neo4j fail"
	@echo "make lint   ruff and mypy"

# System packages: Redis from Debian when missing; Java 17 and Maven are expected on the machine.
system:
	@command -v redis-server >/dev/null || { \
	  echo "installing redis-server (Debian package)"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq redis-server >/dev/null; }
	@command -v java >/dev/null && command -v mvn >/dev/null || { \
	  echo "installing Java 17 and Maven (Debian packages)"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null; }

# The browser tests' Chromium and a Chinese font for its screenshots, and the certificate
# tests' PDF renderer and QR decoder, from Debian (only `make test` needs them).
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . && command -v pdftoppm >/dev/null && command -v zbarimg >/dev/null || { \
	  echo "installing chromium, fonts-wqy-microhei, poppler-utils and zbar-tools (Debian packages) for the browser tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq chromium fonts-wqy-microhei poppler-utils zbar-tools >/dev/null; }

# The pages' browser libraries (cytoscape.js; React and GraphiQL for GraphiQL in development),
# exactly as locked (package-lock.json).
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 and npm"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

assets: node_modules/.installed

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q uv==$(UV_VERSION)

# The virtualenv, exactly as locked (uv.lock), with the dev tools.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

venv: $(VENV)/.synced

up: system venv assets
	$(HUB) up

down:
	@if [ -x $(HUB) ]; then $(HUB) down; else echo "nothing to stop"; fi

# Two processes (pytest-xdist), each with its own Neo4j, Redis, API and workers; a file's tests
# stay together. TEST_PROCESSES=0 runs the suite in this process alone.
TEST_PROCESSES ?= 2
test: system venv assets browser
	$(VENV)/bin/pytest -n $(TEST_PROCESSES) --dist loadfile

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The load generator the HTTP benchmarks drive, from Debian.
wrk:
	@command -v wrk >/dev/null || { echo "installing wrk (Debian package)"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq wrk >/dev/null; }

bench: system venv wrk
	$(VENV)/bin/python -m bench.run $(BENCH_ARGS)

# Long: 1,000,000 subjects from nothing with `hub seed --bulk`, 100,000 without (about 11 min).
bench-seed: system venv
	$(VENV)/bin/python -m bench.seed $(BENCH_ARGS)

bench-archive: system venv
	$(VENV)/bin/python -m bench.archive $(BENCH_ARGS)

bench-investigate: system venv
	$(VENV)/bin/python -m bench.investigate $(BENCH_ARGS)

bench-sync: system venv
	$(VENV)/bin/python -m bench.sync $(BENCH_ARGS)

bench-portal: system venv wrk
	$(VENV)/bin/python -m bench.portal $(BENCH_ARGS)

bench-batch: system venv wrk
	$(VENV)/bin/python -m bench.batch $(BENCH_ARGS)

# Every named query EXPLAINed on the 100k graph of `make bench`: fails on a label scan.
bench-plans: system venv
	$(VENV)/bin/python -m bench.plans $(BENCH_ARGS)

# The peer (bench/peer/, @neo4j/graphql on Node.js) is installed by the benchmark itself (npm ci).
bench-peer: system venv wrk
	$(VENV)/bin/python -m bench.peer $(BENCH_ARGS)

# Exact, unlike wall time: BENCH_ARGS="--against HEAD~1" counts a revision beside this checkout.
bench-instructions: system venv
	$(VENV)/bin/python -m bench.instructions $(BENCH_ARGS)

# Its own stack under .data/soak on free ports; BENCH_ARGS="--seconds 120" for a short run.
soak: system venv
	$(VENV)/bin/python -m bench.soak $(BENCH_ARGS)

.PHONY: help system browser assets venv wrk up down test lint bench bench-seed bench-archive bench-investigate bench-sync bench-portal bench-batch bench-plans bench-peer bench-instructions soak
