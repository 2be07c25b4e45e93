#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: account_preflight_info
version_added: 0.1.0
short_description: Read what a deployment needs to know of an AWS account, in one run
description:
  - Reads, in this order, the caller identity (STS C(GetCallerIdentity) - are there credentials, which account and
    partition), the availability zones of O(region), the Service Quotas in O(quota_codes) and the cost estimate of the
    configuration in O(cost_estimate) - what M(amazon.aws.aws_caller_info), M(amazon.aws.aws_az_info),
    M(eks_llm.inference.service_quota_info) and M(eks_llm.inference.cost_estimate_info) read, with the same code, in one
    module run instead of four (the preflight role of this collection runs it before every deployment).
  - Fails at the first read that AWS refuses, with its message; the later parts are then not read. Missing credentials
    fail the first read, the caller identity.
  - A quota AWS knows neither as applied nor as default fails the module, as in M(eks_llm.inference.service_quota_info).
  - The cost estimate never fails - a price that cannot be read comes from a fallback table, as in
    M(eks_llm.inference.cost_estimate_info).
author:
  - eks_llm maintainers (@eks-llm)
options:
  availability_zones:
    description:
      - List the availability zones of O(region) in RV(availability_zones).
      - V(false) skips the read, for example when the deployment uses an existing VPC.
    type: bool
    default: true
  quota_codes:
    description:
      - Codes of the Service Quotas of O(quota_service_code) to read (C(L-...)), see
        M(eks_llm.inference.service_quota_info) for the EC2 GPU instance quotas.
      - Empty (the default) reads no quota.
    type: list
    elements: str
    default: []
  quota_service_code:
    description: Service Quotas code of the service of O(quota_codes).
    type: str
    default: ec2
  cost_estimate:
    description:
      - The configuration to price, with the options of M(eks_llm.inference.cost_estimate_info); the result is in
        RV(estimate) and RV(summary).
      - Omitted, nothing is priced.
    type: dict
    suboptions:
      network:
        description: As O(eks_llm.inference.cost_estimate_info#module:network).
        type: dict
        default: {}
      core_nodes:
        description: As O(eks_llm.inference.cost_estimate_info#module:core_nodes).
        type: dict
        default: {}
      gpu_node_pools:
        description: As O(eks_llm.inference.cost_estimate_info#module:gpu_node_pools).
        type: list
        elements: dict
        default: []
      models:
        description: As O(eks_llm.inference.cost_estimate_info#module:models).
        type: list
        elements: dict
      hours:
        description: As O(eks_llm.inference.cost_estimate_info#module:hours).
        type: float
        default: 1.0
      read_prices:
        description: As O(eks_llm.inference.cost_estimate_info#module:read_prices).
        type: bool
        default: true
notes:
  - Only reads; never reports a change. Supports check mode.
  - The on-demand prices come from the Price List API in us-east-1, the spot prices from the spot price history of
    O(region); the caller identity from STS and the zones and quotas from O(region). A given O(endpoint_url) serves them
    all (a local stand-in of AWS).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the account before a deployment (one module run)
  eks_llm.inference.account_preflight_info:
    region: us-west-2
    quota_codes:
      - L-DB2E81BA  # Running On-Demand G and VT instances (vCPUs)
      - L-3819A6DF  # All G and VT Spot Instance Requests (vCPUs)
    cost_estimate:
      network: "{{ eks_llm_network | default({}) }}"
      core_nodes: "{{ eks_llm_core_nodes | default({}) }}"
      gpu_node_pools: "{{ eks_llm_gpu_node_pools | default([]) }}"
  register: account

- name: Fail on zones the region does not have
  ansible.builtin.assert:
    that: wanted | difference(account.availability_zones | selectattr('state', 'equalto', 'available') | map(attribute='zone_name')) | length == 0
  vars:
    wanted: [us-west-2a, us-west-2b]

- name: Show the account and the estimate
  ansible.builtin.debug:
    msg: "{{ ['Account ' ~ account.caller_identity.account] + account.summary }}"

- name: Only the caller identity (no zones, quotas or prices)
  eks_llm.inference.account_preflight_info:
    availability_zones: false
  register: caller
"""

RETURN = r"""
caller_identity:
  description: Who the credentials are, as STS C(GetCallerIdentity) says.
  returned: always
  type: dict
  contains:
    account:
      description: The account id.
      returned: always
      type: str
      sample: "123456789012"
    arn:
      description: The ARN of the caller; its second field is the partition.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:user/deployer
    user_id:
      description: The unique id of the caller.
      returned: always
      type: str
      sample: AIDACKCEVSQ6C2EXAMPLE
availability_zones:
  description:
    - The availability zones of the region, as M(amazon.aws.aws_az_info) returns them (keys in snake case).
  returned: when O(availability_zones=true)
  type: list
  elements: dict
  sample:
    - zone_name: us-west-2a
      zone_id: usw2-az1
      state: available
      region_name: us-west-2
      zone_type: availability-zone
      opt_in_status: opt-in-not-required
      messages: []
  contains:
    zone_name:
      description: Name of the zone.
      returned: always
      type: str
      sample: us-west-2a
    zone_id:
      description: Id of the zone (the same physical zone in every account).
      returned: always
      type: str
      sample: usw2-az1
    state:
      description: State of the zone; V(available) when usable.
      returned: always
      type: str
      sample: available
    region_name:
      description: The region of the zone.
      returned: always
      type: str
      sample: us-west-2
quotas:
  description: The quotas of O(quota_codes), keyed by quota code, as M(eks_llm.inference.service_quota_info) returns them.
  returned: when O(quota_codes) is not empty
  type: dict
  sample: {L-3819A6DF: {name: All G and VT Spot Instance Requests, value: 0.0, unit: None, adjustable: true, source: default}}
estimate:
  description: The estimate of O(cost_estimate), as RV(eks_llm.inference.cost_estimate_info#module:estimate).
  returned: when O(cost_estimate) is given
  type: dict
summary:
  description: The estimate as lines of text, as RV(eks_llm.inference.cost_estimate_info#module:summary).
  returned: when O(cost_estimate) is given
  type: list
  elements: str
"""

try:
    import botocore  # pylint: disable=unused-import
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import describe_availability_zones
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import aws_retry
from ansible_collections.eks_llm.inference.plugins.module_utils.cost_estimate import ESTIMATE_OPTIONS
from ansible_collections.eks_llm.inference.plugins.module_utils.cost_estimate import configuration_estimate
from ansible_collections.eks_llm.inference.plugins.module_utils.service_quotas import read_quotas
from ansible_collections.eks_llm.inference.plugins.module_utils.service_quotas import unknown_quotas_message


@AWSErrorHandler.common_error_handler("retrieve caller identity")
def caller_identity(client):
    identity = client.get_caller_identity(aws_retry=True)
    return {"account": identity["Account"], "arn": identity["Arn"], "user_id": identity["UserId"]}


@AWSErrorHandler.common_error_handler("describe availability zones")
def availability_zones(client):
    return [camel_dict_to_snake_dict(zone) for zone in describe_availability_zones(client)]


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            availability_zones=dict(type="bool", default=True),
            quota_codes=dict(type="list", elements="str", default=[]),
            quota_service_code=dict(type="str", default="ec2"),
            cost_estimate=dict(type="dict", options=ESTIMATE_OPTIONS),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = {}
    try:
        result["caller_identity"] = caller_identity(module.client("sts", retry_decorator=aws_retry()))
        if params["availability_zones"]:
            result["availability_zones"] = availability_zones(module.client("ec2"))
        if params["quota_codes"]:
            result["quotas"], unknown = read_quotas(module.retrying_client("service-quotas"), params["quota_service_code"],
                                                    params["quota_codes"])
            if unknown:
                module.fail_json(msg=unknown_quotas_message(unknown, params["quota_service_code"], module.region), **result)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    if params["cost_estimate"] is not None:
        result["estimate"], result["summary"] = configuration_estimate(module, params["cost_estimate"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
