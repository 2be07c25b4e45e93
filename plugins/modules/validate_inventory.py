#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
module: validate_inventory
short_description: Validate the eks_llm_* inventory variables and publish the normalised configuration
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Reads every C(eks_llm_*) variable of the host (see C(docs/inventory.md)), checks types, names AWS would refuse,
    regions, network layout, node pools, model placement on the GPUs of the chosen pool, tensor parallelism against
    the GPUs per instance, engine requirements (NGC key for NIM, a model source for Triton), and duplicate names.
  - Collects every problem and fails once listing all of them, before any resource is touched.
  - On success sets the fact C(eks_llm), the normalised configuration (defaults applied, derived names, tags and
    placement) that the other roles consume. Secrets are never part of it.
  - The NGC API key and Hugging Face token are read from C(eks_llm_ngc_api_key) / C(eks_llm_hf_token), or from the
    C(NGC_API_KEY) / C(HF_TOKEN) environment variables of the controller.
  - Runs on the controller only and makes no API calls.
options: {}
attributes:
  check_mode:
    support: full
    description: Read-only.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Validate the inventory before anything is created
  eks_llm.inference.validate_inventory:
"""

RETURN = r"""
ansible_facts:
  description: The normalised configuration as the fact C(eks_llm).
  returned: success
  type: dict
  contains:
    eks_llm:
      description: Normalised configuration (name, region, tags, network, cluster, core_nodes, gpu_node_pools, models...).
      type: dict
problems:
  description: Every problem found, as "variable - what was given - what is allowed".
  returned: failure
  type: list
  elements: str
"""
