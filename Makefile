# LiftBit: `make up` starts the whole stack on PORT (default 3000), `make test` runs every test.
SHELL := /bin/bash
PORT ?= 3000
LIFTBIT_HOME ?= $(CURDIR)/.liftbit
export PORT LIFTBIT_HOME

PYTHON := .venv/bin/python
STACK := $(PYTHON) -m scripts.stack

.PHONY: help install up down status logs cli test test-fast fuzz lint compose-check bench bench-analytics bench-load bench-tree bench-flood bench-links backup restore docs clean

help:
	@echo "make up | down | status | logs [s=part] [f=1] | cli [ARGS=...] | test | test-fast | fuzz | lint | bench | bench-analytics | bench-load | bench-tree | bench-flood | bench-links | backup [TO=] | restore FROM= | docs"

install:
	@scripts/bootstrap.sh

up: install
	@$(STACK) up

down:
	@if [[ -x $(PYTHON) ]]; then $(STACK) down; else echo "nothing to stop"; fi

status:
	@$(STACK) status

logs:
	@$(STACK) logs $(s) $(if $(f),--follow,)

# The command-line client: `make cli ARGS="put report.pdf"`, or .venv/bin/liftbit directly.
cli: install
	@if [[ -z "$(ARGS)" ]]; then echo 'run: .venv/bin/liftbit COMMAND (or make cli ARGS="COMMAND ...")'; fi
	@.venv/bin/liftbit $(or $(ARGS),--help)

test:
	@scripts/bootstrap.sh --test
	@scripts/test.sh

# The in-process tier only: no server, no stack.
test-fast:
	@scripts/bootstrap.sh
	@scripts/test.sh --fast

# A longer schemathesis run than make test's (FUZZ_EXAMPLES cases, every check), on its own stack.
fuzz:
	@scripts/bootstrap.sh --test
	@FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-5000} .venv/bin/pytest tests/contract -q --timeout=3600

lint:
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/mypy .
	@npm run --prefix web --silent lint

compose-check:
	@docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml: valid"

bench: install
	@$(PYTHON) -m bench.transfer

bench-analytics: install
	@$(PYTHON) -m bench.analytics

bench-load: install
	@$(PYTHON) -m bench.load

bench-tree: install
	@$(PYTHON) -m bench.tree

bench-flood: install
	@$(PYTHON) -m bench.flood

bench-links: install
	@$(PYTHON) -m bench.links

# A consistent backup of the running stack (metadata and objects, manifest with SHA-256s):
#   make backup [TO=folder or s3://bucket/prefix]   (default: backups/<date-time> here)
#   make restore FROM=folder LIFTBIT_HOME=new-folder [FORCE=1]
backup: install
	@$(STACK) backup --to $(or $(TO),$(CURDIR)/backups/$(shell date -u +%Y%m%dT%H%M%SZ))

restore: install
	@if [[ -z "$(FROM)" ]]; then echo "usage: make restore FROM=<backup folder or s3://…> [LIFTBIT_HOME=…] [FORCE=1]"; exit 2; fi
	@$(STACK) restore --from $(FROM) $(if $(FORCE),--force,)

docs: install
	@scripts/docs.sh

clean: down
	rm -rf $(LIFTBIT_HOME)
