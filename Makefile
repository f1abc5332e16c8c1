# cowstack.docker_storage: one entry point for the audit, the tests and the benchmarks.
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT      := $(CURDIR)
# The venvs' Python is found by tests/pick-python.sh, which runs each candidate and picks the pinned
# requirements for its version (ansible-core 2.21 on 3.12+, 2.19 on 3.11). Set PY_MAIN / PY_MIN to choose.
PY_MAIN   ?=
PY_MIN    ?=
VENV      := $(ROOT)/.venv
VENV_MIN  := $(ROOT)/.venv-min
VENV_IMP  := $(ROOT)/.venv-importer
VENV_EE   := $(ROOT)/.venv-builder
BIN       := $(VENV)/bin
COLL_LINK := $(ROOT)/.build/collections/ansible_collections/cowstack/docker_storage
pyver      = $$($(1)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# SKIP_VM=1: `make test` without the VM scenarios (and without the packages only they need).
SKIP_VM   ?=
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export PATH := $(BIN):$(PATH)

.PHONY: help setup setup-venv venv collection audit test unit integration sanity lint docs importer ee fresh fresh-ci \
        bench molecule molecule-ci clean

help:
	@echo "make audit        check-mode audit of this machine (report in audit-report/)"
	@echo "make test         unit, sanity (newest and oldest ansible-core), lint, docs, importer, ee, integration, molecule-ci"
	@echo "make test SKIP_VM=1   the same without the VM scenarios"
	@echo "make unit | integration | sanity | lint | docs | importer | ee | bench"
	@echo "make fresh FRESH=debian12|debian13   make audit and make test SKIP_VM=1 in a new debootstrap chroot (root)"
	@echo "make fresh-ci     the fresh-machine check CI runs: Debian 13 chroot, make audit and make unit"
	@echo "make molecule-ci  the VM scenarios CI runs (zfs on Debian 12 and 13, containerd on Debian unstable)"
	@echo "make molecule     the full VM matrix (every scenario on its platforms: Debian 12, 13, unstable)"

setup:  ## Debian packages the tests use (root)
	@bash $(ROOT)/tests/setup-host.sh $(if $(SKIP_VM),test,all)

setup-venv:  ## what a venv needs on Debian (python3-venv), make, git (root)
	@bash $(ROOT)/tests/setup-host.sh venv

$(VENV)/.stamp: requirements/ci.txt requirements/ci-py311.txt tests/pick-python.sh
	@$(MAKE) --no-print-directory setup-venv
	@pick=$$(bash tests/pick-python.sh main $(PY_MAIN)) && set -- $$pick && \
	  echo "$(VENV): $$1 ($$("$$1" -V 2>&1)), $$2" && \
	  "$$1" -m venv $(VENV) && \
	  $(BIN)/pip install -q --disable-pip-version-check -r "$$2"
	@touch $@

venv: $(VENV)/.stamp

$(VENV_MIN)/.stamp: requirements/sanity-min.txt requirements/sanity-min-py313.txt tests/pick-python.sh
	@$(MAKE) --no-print-directory setup-venv
	@pick=$$(bash tests/pick-python.sh oldest $(PY_MIN)) && set -- $$pick && \
	  echo "$(VENV_MIN): $$1 ($$("$$1" -V 2>&1)), $$2" && \
	  "$$1" -m venv $(VENV_MIN) && \
	  $(VENV_MIN)/bin/pip install -q --disable-pip-version-check -r "$$2"
	@touch $@

# galaxy-importer in its own venv, held to the main venv's pins.
$(VENV_IMP)/.stamp: requirements/importer.txt $(VENV)/.stamp
	@req=$$(bash tests/pick-python.sh main $(PY_MAIN) | cut -d' ' -f2) && \
	  $(BIN)/python -m venv $(VENV_IMP) && \
	  $(VENV_IMP)/bin/pip install -q --disable-pip-version-check -r requirements/importer.txt -c "$$req"
	@touch $@

# ansible-builder in its own venv, for the Execution Environment check.
$(VENV_EE)/.stamp: requirements/builder.txt $(VENV)/.stamp
	@$(BIN)/python -m venv $(VENV_EE) && \
	  $(VENV_EE)/bin/pip install -q --disable-pip-version-check -r requirements/builder.txt
	@touch $@

collection:  ## this checkout as cowstack.docker_storage on the collections path
	@mkdir -p $(dir $(COLL_LINK))
	@ln -sfn $(ROOT) $(COLL_LINK)

audit: venv collection
	$(BIN)/ansible-playbook playbooks/audit.yml

test: setup venv collection unit sanity lint docs importer ee integration $(if $(SKIP_VM),,molecule-ci)

unit: venv collection
	$(BIN)/python -m pytest -q tests/unit

integration: venv collection
	$(BIN)/python -m pytest -q tests/integration

sanity: venv collection $(VENV_MIN)/.stamp
	@bash tests/sanity/run.sh $(BIN) $(call pyver,$(BIN))
	@bash tests/sanity/run.sh $(VENV_MIN)/bin $(call pyver,$(VENV_MIN)/bin)

lint: venv collection
	$(BIN)/ansible-lint --profile production --offline
	$(BIN)/antsibull-changelog lint

docs: venv collection
	@bash tests/sanity/docs.sh $(BIN)

importer: venv $(VENV_IMP)/.stamp  ## galaxy-importer on the built tarball, as Galaxy imports it
	@bash tests/galaxy-importer.sh $(BIN) $(VENV_IMP)/bin

ee: venv $(VENV_EE)/.stamp  ## the EE files as ansible-builder reads them; `ansible-builder create` (no container runtime)
	@bash tests/ee.sh $(BIN) $(VENV_EE)/bin

# A new Debian machine with only the distribution's Python (a debootstrap chroot; root).
FRESH ?= debian13
fresh:
	bash tests/fresh/run.sh --level test $(FRESH)

fresh-ci:
	bash tests/fresh/run.sh --level unit debian13

# VM scenarios (qemu under emulation; images built locally with debootstrap, cached by recipe hash).
MOLECULE_CI ?= --ci

molecule-ci: venv collection
	bash tests/vm/run-scenarios.sh $(MOLECULE_CI)

molecule: venv collection
	bash tests/vm/run-scenarios.sh --keep-going

# BENCH_ARGS: bench/storage_bench.py's options, e.g. BENCH_ARGS="--private --fs btrfs -e docker_storage_bench_runs=3".
BENCH_ARGS ?=
bench: venv collection
	$(BIN)/python bench/audit_vs_ping.py
	$(BIN)/python bench/storage_bench.py $(BENCH_ARGS)

clean:
	rm -rf .build audit-report bench-report tests/output .ansible
