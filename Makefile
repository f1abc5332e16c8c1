# cowstack.docker_storage: one entry point for the audit, the tests and the benchmarks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT      := $(CURDIR)
find_py = $(shell for p in "$$(pyenv prefix $(1) 2>/dev/null)/bin/python3" "$$(command -v python$(2))"; do \
              [ -x "$$p" ] && { echo "$$p"; break; }; done)
PY_MAIN   ?= $(call find_py,3.13.0,3.13)
PY_MIN    ?= $(call find_py,3.11.7,3.11)
VENV      := $(ROOT)/.venv
VENV_MIN  := $(ROOT)/.venv-min
BIN       := $(VENV)/bin
COLL_LINK := $(ROOT)/.build/collections/ansible_collections/cowstack/docker_storage
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: help setup venv collection audit test unit integration sanity lint docs bench molecule molecule-ci clean

help:
	@echo "make audit        check-mode audit of this machine (report in audit-report/)"
	@echo "make test         every test CI runs: unit, sanity (newest and oldest ansible-core), lint, docs, integration"
	@echo "make unit | integration | sanity | lint | docs | bench"
	@echo "make molecule-ci  the VM scenarios CI runs (zfs on Debian 12 and 13)"
	@echo "make molecule     the full VM matrix (every scenario on Debian 12 and 13)"

setup:  ## Debian packages the tests use (root)
	@bash $(ROOT)/tests/setup-host.sh

$(VENV)/.stamp: requirements/ci.txt
	@test -x "$(PY_MAIN)" || { echo "Python 3.13 not found: set PY_MAIN=/path/to/python3.13" >&2; exit 1; }
	"$(PY_MAIN)" -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements/ci.txt
	@touch $@

venv: $(VENV)/.stamp

$(VENV_MIN)/.stamp: requirements/sanity-min.txt
	"$(PY_MIN)" -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/pip install -q --disable-pip-version-check -r requirements/sanity-min.txt
	@touch $@

collection:  ## this checkout as cowstack.docker_storage on the collections path
	@mkdir -p $(dir $(COLL_LINK))
	@ln -sfn $(ROOT) $(COLL_LINK)

audit: venv collection
	$(BIN)/ansible-playbook playbooks/audit.yml

test: setup venv collection unit sanity lint docs integration molecule-ci

unit: venv collection
	$(BIN)/python -m pytest -q tests/unit

integration: venv collection
	$(BIN)/python -m pytest -q tests/integration

sanity: venv collection $(VENV_MIN)/.stamp
	@bash tests/sanity/run.sh $(BIN) 3.13
	@bash tests/sanity/run.sh $(VENV_MIN)/bin 3.11

lint: venv collection
	$(BIN)/ansible-lint --profile production --offline
	$(BIN)/antsibull-changelog lint

docs: venv collection
	@bash tests/sanity/docs.sh $(BIN)

# VM scenarios (qemu under emulation; images built locally with debootstrap, cached by recipe hash).
MOLECULE_CI ?= --ci

molecule-ci: venv collection
	bash tests/vm/run-scenarios.sh $(MOLECULE_CI)

molecule: venv collection
	bash tests/vm/run-scenarios.sh --keep-going

bench: venv collection
	$(BIN)/python bench/audit_vs_ping.py

clean:
	rm -rf .build audit-report tests/output
