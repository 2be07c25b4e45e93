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

import datetime

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.eks_llm.inference.plugins.module_utils import cost_estimate
from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule

PRICING_REGION = "us-east-1"


def _filters(**terms):
    return [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in terms.items()]


def price_reader(pricing, ec2, region):
    """A read_price(item) for cost_estimate.estimate: USD/hour from AWS, None when it cannot be read."""
    def read(item):
        try:
            if item["key"] == "eks_cluster":
                found = pricing.get_products(ServiceCode="AmazonEKS", Filters=_filters(regionCode=region), MaxResults=100)
                return cost_estimate.on_demand_hourly(found.get("PriceList"), cost_estimate.USAGETYPE_SUFFIX["eks_cluster"])
            if item["key"] == "nat_gateway":
                found = pricing.get_products(ServiceCode="AmazonEC2", Filters=_filters(regionCode=region, productFamily="NAT Gateway"),
                                             MaxResults=100)
                return cost_estimate.on_demand_hourly(found.get("PriceList"), cost_estimate.USAGETYPE_SUFFIX["nat_gateway"])
            if item["capacity_type"] == "spot":
                found = ec2.describe_spot_price_history(InstanceTypes=[item["instance_type"]], ProductDescriptions=["Linux/UNIX"],
                                                        StartTime=datetime.datetime.now(datetime.timezone.utc))
                return cost_estimate.spot_hourly(found.get("SpotPriceHistory"))
            found = pricing.get_products(ServiceCode="AmazonEC2", Filters=_filters(
                regionCode=region, instanceType=item["instance_type"], operatingSystem="Linux", tenancy="Shared",
                preInstalledSw="NA", capacitystatus="Used"), MaxResults=100)
            return cost_estimate.on_demand_hourly(found.get("PriceList"))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            return None
    return read


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            network=dict(type="dict", default={}),
            core_nodes=dict(type="dict", default={}),
            gpu_node_pools=dict(type="list", elements="dict", default=[]),
            models=dict(type="list", elements="dict"),
            hours=dict(type="float", default=1.0),
            read_prices=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    per_pool = module.params["models"] is not None
    items = cost_estimate.resources(module.params["network"], module.params["core_nodes"],
                                    [] if per_pool else module.params["gpu_node_pools"])
    pools = cost_estimate.pool_scales(module.params["gpu_node_pools"], module.params["models"]) if per_pool else None
    if module.params["read_prices"]:
        # An estimate must not hold up the run: a price AWS does not give at once comes from the fallback table.
        quick = {"retries": {"mode": "standard", "max_attempts": 2}, "connect_timeout": 5, "read_timeout": 10}
        read = price_reader(module.client("pricing", region=PRICING_REGION, config=quick), module.client("ec2", config=quick),
                            module.region)
    else:
        def read(item):
            return None
    result = cost_estimate.estimate(items, read, module.params["hours"], pools)
    module.exit_json(changed=False, estimate=result, summary=cost_estimate.summary(result))


if __name__ == "__main__":
    main()
