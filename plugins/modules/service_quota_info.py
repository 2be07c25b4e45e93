#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: service_quota_info
version_added: 0.1.0
short_description: Read AWS Service Quotas, such as the EC2 GPU instance quotas
description:
  - Reads the value of Service Quotas in the region, for example before a deployment asks
    Karpenter for GPU instances.
  - For each quota code the applied value of the account comes from C(GetServiceQuota). When AWS
    has no applied value for the account (C(NoSuchResourceException)), the AWS default from
    C(GetAWSDefaultServiceQuota) is returned instead, marked with RV(quotas.source=default).
  - "The EC2 quotas of GPU instances count vCPUs, not instances. Their codes are:
    V(L-DB2E81BA) Running On-Demand G and VT instances;
    V(L-3819A6DF) All G and VT Spot Instance Requests;
    V(L-417A185B) Running On-Demand P instances;
    V(L-7212CCBC) All P Spot Instance Requests."
  - Only reads; never reports a change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  service_code:
    description:
      - Service Quotas code of the service, for example V(ec2), V(vpc), V(eks) or V(elasticfilesystem).
    type: str
    default: ec2
  quota_codes:
    description:
      - Codes of the quotas to read (C(L-...)).
    type: list
    elements: str
    required: true
notes:
  - Supports check mode.
  - Quotas are per region; set O(region) to the region of the cluster.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# The EC2 GPU quota codes, as a variable a preflight can loop over.
# Values are vCPUs: a g5.12xlarge needs 48 of L-DB2E81BA on demand.
- name: Codes of the EC2 GPU instance quotas
  ansible.builtin.set_fact:
    gpu_quota_codes:
      L-DB2E81BA: Running On-Demand G and VT instances
      L-3819A6DF: All G and VT Spot Instance Requests
      L-417A185B: Running On-Demand P instances
      L-7212CCBC: All P Spot Instance Requests

- name: Read the GPU quotas of the region
  eks_llm.inference.service_quota_info:
    region: us-west-2
    quota_codes: "{{ gpu_quota_codes.keys() | list }}"
  register: gpu_quotas

- name: Enough On-Demand G vCPUs for two g5.12xlarge nodes
  ansible.builtin.assert:
    that:
      - gpu_quotas.quotas['L-DB2E81BA'].value >= 96
    fail_msg: >-
      {{ gpu_quotas.quotas['L-DB2E81BA'].name }} is {{ gpu_quotas.quotas['L-DB2E81BA'].value }} vCPUs
      ({{ gpu_quotas.quotas['L-DB2E81BA'].source }} value); request an increase in Service Quotas.

- name: A quota of another service
  eks_llm.inference.service_quota_info:
    service_code: vpc
    quota_codes:
      - L-F678F1CE  # VPCs per Region
"""

RETURN = r"""
service_code:
  description: The service the quotas belong to.
  returned: always
  type: str
  sample: ec2
quotas:
  description: The quotas, keyed by quota code.
  returned: always
  type: dict
  sample:
    L-DB2E81BA:
      name: Running On-Demand G and VT instances
      value: 64.0
      unit: None
      adjustable: true
      source: applied
  contains:
    name:
      description: Name of the quota.
      returned: always
      type: str
      sample: Running On-Demand G and VT instances
    value:
      description: Value of the quota; for the EC2 instance quotas, a number of vCPUs.
      returned: always
      type: float
      sample: 64.0
    unit:
      description: Unit of the value as AWS reports it; V(None) for a plain count.
      returned: always
      type: str
      sample: None
    adjustable:
      description: Whether an increase of the quota can be requested.
      returned: always
      type: bool
      sample: true
    source:
      description:
        - V(applied) when the value is the one applied to the account.
        - V(default) when AWS has no applied value for the account and the value is the AWS default;
          the applied value is then unknown.
      returned: always
      type: str
      choices: ['applied', 'default']
      sample: applied
"""

try:
    import botocore  # pylint: disable=unused-import
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
# The GPU quota codes EXAMPLES lists (tests/unit holds the two equal).
from ansible_collections.eks_llm.inference.plugins.module_utils.service_quotas import EC2_GPU_QUOTA_CODES  # pylint: disable=unused-import
from ansible_collections.eks_llm.inference.plugins.module_utils.service_quotas import read_quotas
from ansible_collections.eks_llm.inference.plugins.module_utils.service_quotas import unknown_quotas_message


def main():
    argument_spec = dict(
        service_code=dict(type="str", default="ec2"),
        quota_codes=dict(type="list", elements="str", required=True),
    )
    module = AnsibleEKSModule(argument_spec=argument_spec, supports_check_mode=True)
    service_code = module.params["service_code"]
    client = module.retrying_client("service-quotas")

    try:
        quotas, unknown = read_quotas(client, service_code, module.params["quota_codes"])
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    if unknown:
        module.fail_json(msg=unknown_quotas_message(unknown, service_code, module.region), quotas=quotas)
    module.exit_json(changed=False, service_code=service_code, quotas=quotas)


if __name__ == "__main__":
    main()
