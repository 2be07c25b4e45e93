#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_cluster_info
version_added: 0.1.0
short_description: Read an EKS cluster's endpoint, certificate authority, status and version
description:
  - Describes one Amazon EKS cluster, so that plays which only talk to Kubernetes (platform,
    inference, verify, benchmark, teardown) can connect to it without re-running the AWS layer.
  - Returns RV(exists=false) and no RV(cluster) when the cluster does not exist, so teardown can
    skip the Kubernetes side of a cluster that is already gone.
  - Only reads; never reports a change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  name:
    description: Name of the EKS cluster.
    required: true
    type: str
  require_active:
    description:
      - Fail unless the cluster exists and its status is C(ACTIVE) (or C(UPDATING), which still serves
        the Kubernetes API).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Connect the platform play to the cluster the AWS layer created
  eks_llm.inference.eks_cluster_info:
    name: llm-prod
    require_active: true
  register: cluster

- name: Use its endpoint
  ansible.builtin.debug:
    msg: "{{ cluster.cluster.endpoint }}"
"""

RETURN = r"""
exists:
  description: Whether the cluster exists.
  returned: always
  type: bool
cluster:
  description: The cluster as C(DescribeCluster) returns it, in snake_case (tags left as given).
  returned: when the cluster exists
  type: dict
  contains:
    arn:
      description: Cluster ARN.
      type: str
    endpoint:
      description: URL of the Kubernetes API server.
      type: str
    certificate_authority:
      description: C(data) is the base64 PEM of the cluster's certificate authority.
      type: dict
    status:
      description: C(CREATING), C(ACTIVE), C(UPDATING), C(DELETING) or C(FAILED).
      type: str
    version:
      description: Kubernetes minor version.
      type: str
  sample:
    arn: arn:aws:eks:us-west-2:123456789012:cluster/llm-prod
    endpoint: https://0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com
    status: ACTIVE
    version: "1.33"
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import describe_cluster
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import describe_to_ansible

SERVING = ("ACTIVE", "UPDATING")


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        require_active=dict(type="bool", default=False),
    )
    module = AnsibleEKSModule(argument_spec=argument_spec, supports_check_mode=True)
    name = module.params["name"]
    try:
        cluster = describe_cluster(module.retrying_client("eks"), name)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    if module.params["require_active"] and (cluster is None or cluster.get("status") not in SERVING):
        module.fail_json(msg="EKS cluster %s in %s is %s; it must be ACTIVE (run the AWS layer first: playbooks/aws.yml)"
                         % (name, module.region, "missing" if cluster is None else cluster.get("status")), exists=cluster is not None)
    if cluster is None:
        module.exit_json(changed=False, exists=False)
    module.exit_json(changed=False, exists=True, cluster=describe_to_ansible(cluster, ignore_list=["tags"]))


if __name__ == "__main__":
    main()
