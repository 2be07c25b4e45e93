#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: cost_estimate_info
version_added: 0.1.0
short_description: Estimate what a configuration costs per hour and for a run
description:
  - Lists the hourly-billed resources a configuration creates (EKS control plane, NAT gateways, core node group
    instances, GPU nodes at their capacity type) and prices them.
  - On-demand prices come from the AWS Price List API (C(pricing) C(GetProducts), endpoint region us-east-1); spot
    prices from EC2 C(DescribeSpotPriceHistory) in O(region) (latest price per zone, the highest zone counted).
  - A price that cannot be read is taken from a fallback table (date and region in RV(estimate.notes)); the
    estimate is then marked RV(estimate.fallback=true).
  - EFS, S3, CloudWatch and EBS are billed by use and listed as negligible, not counted.
  - Only reads; never reports a change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  network:
    description: The inventory variable C(eks_llm_network).
    type: dict
    default: {}
  core_nodes:
    description: The inventory variable C(eks_llm_core_nodes).
    type: dict
    default: {}
  gpu_node_pools:
    description:
      - The inventory variable C(eks_llm_gpu_node_pools); each pool counts as C(gpu_limit) GPUs of its first instance type.
      - A pool with capacity type C(reserved) counts only at its fallback capacity type (spot, else on-demand), and not
        at all without one - its capacity reservations are billed whether or not nodes run in them.
    type: list
    elements: dict
    default: []
  models:
    description:
      - The models of the normalised inventory, C(eks_llm.models) as the validator publishes it (with node_pool,
        tensor_parallel, replicas, autoscaling and placement).
      - When given, each GPU pool is priced on its own, on-demand and spot, at its minimum scale (the nodes its
        models need at their minimum replicas) and its maximum (the nodes Karpenter may launch under its
        C(gpu_limit)), in RV(estimate.pools); the total per hour is then the maximum and RV(estimate.usd_per_hour_min)
        the minimum. Without it every pool counts as C(gpu_limit) GPUs of its first instance type.
    type: list
    elements: dict
  hours:
    description: Expected duration of the run in hours.
    type: float
    default: 1.0
  read_prices:
    description: Read prices from AWS; V(false) uses the fallback table only.
    type: bool
    default: true
notes:
  - Supports check mode.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Estimate the cost of the inventory for a run of 1.5 hours
  eks_llm.inference.cost_estimate_info:
    region: "{{ eks_llm_region }}"
    network: "{{ eks_llm_network | default({}) }}"
    core_nodes: "{{ eks_llm_core_nodes | default({}) }}"
    gpu_node_pools: "{{ eks_llm_gpu_node_pools | default([]) }}"
    hours: 1.5
  register: cost
- name: Show it
  ansible.builtin.debug:
    msg: "{{ cost.summary }}"
"""

RETURN = r"""
estimate:
  description: The estimate.
  returned: always
  type: dict
  contains:
    lines:
      description: One line per resource kind, with count, unit_usd_per_hour, usd_per_hour and source (V(aws) or V(fallback)).
      returned: always
      type: list
      elements: dict
    usd_per_hour:
      description: Total USD per hour (with O(models), every GPU pool at its maximum scale).
      returned: always
      type: float
    usd_per_hour_min:
      description: Total USD per hour with every GPU pool at its minimum scale (without O(models), no GPU pool counted).
      returned: always
      type: float
    pools:
      description:
        - With O(models), per GPU pool - name, instance_type, gpus_per_node, capacity_type (V(reserved) when the pool
          has capacity reservations, else V(spot) when it allows spot, else V(on-demand)), fallback_capacity_type (for a
          reserved pool V(spot), V(on-demand) or none), on_demand_usd_per_hour, spot_usd_per_hour, min_nodes,
          max_nodes, min_usd_per_hour, max_usd_per_hour and source (V(aws) when both prices were read from AWS, else
          V(fallback)).
        - A reserved pool's reservations are billed by EC2 whether or not nodes run in them, so they are not counted;
          its min_usd_per_hour is 0 and its max_usd_per_hour prices every node at its fallback capacity type (0 without
          one); RV(estimate.notes) says so.
      returned: always
      type: list
      elements: dict
    usd_for_run:
      description: Total USD for O(hours).
      returned: always
      type: float
    fallback:
      description: Whether any price came from the fallback table.
      returned: always
      type: bool
    notes:
      description: Which prices could not be read, and which pools run in capacity reservations (not counted).
      returned: always
      type: list
      elements: str
summary:
  description: The estimate as lines of text.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.cost_estimate import ESTIMATE_OPTIONS
from ansible_collections.eks_llm.inference.plugins.module_utils.cost_estimate import configuration_estimate
# The reader of AWS prices, importable from here as before (tests/standin, tests/unit).
from ansible_collections.eks_llm.inference.plugins.module_utils.cost_estimate import price_reader  # pylint: disable=unused-import


def main():
    module = AnsibleEKSModule(argument_spec=ESTIMATE_OPTIONS, supports_check_mode=True)
    estimate, summary = configuration_estimate(module, module.params)
    module.exit_json(changed=False, estimate=estimate, summary=summary)


if __name__ == "__main__":
    main()
