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

.PHONY: setup local-up local-down deploy teardown test lint sanity unit system molecule bench clean

$(BIN)/ansible-playbook: requirements.txt tests/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r tests/requirements.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

setup: $(BIN)/ansible-playbook $(COLLECTION_LINK)

# Local AWS stand-in (moto + our extensions); writes $(LOCAL_DIR)/env.sh to source.
local-up: setup
	$(BIN)/python -m tests.standin.aws_server start --state-dir $(LOCAL_DIR)
	@echo "source $(LOCAL_DIR)/env.sh to talk to the stand-in from your shell"

local-down: setup
	$(BIN)/python -m tests.standin.aws_server stop --state-dir $(LOCAL_DIR)

deploy: local-up
	source $(LOCAL_DIR)/env.sh && $(BIN)/ansible-playbook site.yml -i $(INVENTORY)

teardown: local-up
	source $(LOCAL_DIR)/env.sh && $(BIN)/ansible-playbook teardown.yml -i $(INVENTORY)

lint: setup
	$(BIN)/ansible-lint --profile production

sanity: setup
	tests/sanity/run.sh

unit: setup
	$(BIN)/python -m pytest -q tests/unit tests/standin

system: setup
	$(BIN)/python -m pytest -q tests/system

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
