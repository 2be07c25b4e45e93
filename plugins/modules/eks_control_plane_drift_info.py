#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_control_plane_drift_info
short_description: Tell whether an EKS cluster's secrets key, control-plane log group or cluster would change, in one run
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Compares the KMS key, the CloudWatch Logs log group and the EKS cluster that the C(eks_cluster) role starts with
    what exists, the way M(amazon.aws.kms_key), M(amazon.aws.cloudwatchlogs_log_group) and
    M(eks_llm.inference.eks_cluster) decide whether to act (their C(purge_tags) defaults included), and returns what
    differs together with what the role publishes from their results (the key's ARN, the cluster as described). A
    re-run that changes nothing then costs this one module run instead of three.
  - The KMS key, found by its alias as M(amazon.aws.kms_key) finds it, drifts when it is missing, pending deletion or
    not enabled, or its description, tags or key rotation differ.
  - The log group drifts when it is missing, or its retention or tags differ.
  - The cluster drifts when it is missing, being deleted or failed, when M(eks_llm.inference.eks_cluster) would start
    an update (the same plan, from the same comparison) or refuse one, or when its tags differ. When O(kms_key) is
    given, the cluster's wanted secrets encryption key is that key, as the role passes the ARN M(amazon.aws.kms_key)
    returns; a missing key makes the cluster drift too, since its ARN is not known yet.
  - Conservative - whatever cannot be shown equal (a part that cannot be read, a wanted change the write module would
    refuse) counts as drift, so that the write module runs and decides.
  - Read-only; never changes anything.
options:
  kms_key:
    description:
      - The key M(amazon.aws.kms_key) is given (its other options at their defaults). Not compared when not set.
    type: dict
    suboptions:
      alias:
        description: Alias of the key, with or without the C(alias/) prefix.
        type: str
        required: true
      description:
        description: Description of the key. Not compared when not set.
        type: str
      enable_key_rotation:
        description: Whether automatic key rotation is on. Not compared when not set.
        type: bool
      tags:
        description: Tags of the key. Not compared when not set.
        type: dict
      purge_tags:
        description: Whether tags not in O(kms_key.tags) are drift (they would be removed). Tags starting with C(aws:) never are.
        type: bool
        default: true
  log_group:
    description:
      - The log group M(amazon.aws.cloudwatchlogs_log_group) is given (its other options at their defaults). Not
        compared when not set.
    type: dict
    suboptions:
      name:
        description: Name of the log group.
        type: str
        required: true
      retention:
        description: Retention in days. Not compared when not set.
        type: int
      tags:
        description: Tags of the log group. Not compared when not set.
        type: dict
      purge_tags:
        description: Whether tags not in O(log_group.tags) are drift (they would be removed).
        type: bool
        default: true
  cluster:
    description:
      - The options M(eks_llm.inference.eks_cluster) is given with O(eks_llm.inference.eks_cluster#module:state=present);
        each has that module's meaning, and one not set is not compared.
    type: dict
    required: true
    suboptions:
      name:
        description: Name of the cluster.
        type: str
        required: true
      version:
        description: Kubernetes version, C(MAJOR.MINOR).
        type: str
      role_arn:
        description: ARN of the cluster's IAM role.
        type: str
      subnets:
        description: Subnet ids of the control plane.
        type: list
        elements: str
      endpoint_public_access:
        description: Whether the API server endpoint is public.
        type: bool
      endpoint_private_access:
        description: Whether the API server endpoint is reachable from the VPC.
        type: bool
      public_access_cidrs:
        description: CIDR blocks allowed to reach the public endpoint.
        type: list
        elements: str
      logging:
        description: Enabled control-plane log types.
        type: list
        elements: str
        choices: [api, audit, authenticator, controllerManager, scheduler]
      authentication_mode:
        description: Authentication mode.
        type: str
        choices: [API, API_AND_CONFIG_MAP, CONFIG_MAP]
      bootstrap_cluster_creator_admin_permissions:
        description: Whether the creator got admin permissions (set at creation only).
        type: bool
      auto_mode:
        description: EKS Auto Mode (compute, block storage and load balancing together), as M(eks_llm.inference.eks_cluster) takes it.
        type: dict
        suboptions:
          enabled:
            description: Whether Auto Mode is on.
            type: bool
            required: true
          node_pools:
            description: Built-in node pools.
            type: list
            elements: str
            choices: [general-purpose, system]
            default: []
          node_role_arn:
            description: IAM role of the built-in node pools' nodes.
            type: str
      tags:
        description: Tags of the cluster.
        type: dict
      purge_tags:
        description: Whether tags not in O(cluster.tags) are drift (they would be removed).
        type: bool
        default: true
notes:
  - Supports check mode.
  - Reads C(kms:DescribeKey), C(kms:ListResourceTags), C(kms:GetKeyRotationStatus), C(logs:DescribeLogGroups),
    C(logs:ListTagsLogGroup) and C(eks:DescribeCluster).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Which parts of the control plane would the write tasks change
  eks_llm.inference.eks_control_plane_drift_info:
    kms_key:
      alias: alias/demo-eks-secrets
      description: Kubernetes secrets encryption for EKS cluster demo
      enable_key_rotation: true
      tags: {eks-llm:deployment: demo}
    log_group:
      name: /aws/eks/demo/cluster
      retention: 30
      tags: {eks-llm:deployment: demo}
    cluster:
      name: demo
      version: "1.33"
      role_arn: arn:aws:iam::123456789012:role/demo-eks-cluster
      subnets: [subnet-0abc1234def567890, subnet-0abc1234def567891]
      logging: [api, audit]
      authentication_mode: API
      tags: {eks-llm:deployment: demo}
  register: control_plane

- name: Create or update the cluster only when it differs
  eks_llm.inference.eks_cluster:
    name: demo
    version: "1.33"
    role_arn: arn:aws:iam::123456789012:role/demo-eks-cluster
    subnets: [subnet-0abc1234def567890, subnet-0abc1234def567891]
    logging: [api, audit]
    authentication_mode: API
    encryption_kms_key_arn: "{{ control_plane.kms_key.arn }}"
    tags: {eks-llm:deployment: demo}
  when: control_plane.cluster.drifted
"""

RETURN = r"""
drifted:
  description: Whether any of the three would change.
  returned: always
  type: bool
  sample: false
kms_key:
  description: The KMS key.
  returned: when O(kms_key) is given
  type: dict
  contains:
    drifted:
      description: Whether M(amazon.aws.kms_key) would create or change the key.
      type: bool
      sample: false
    arn:
      description: ARN of the key; null when it does not exist.
      type: str
      sample: arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    reasons:
      description: What differs, in short phrases; empty when nothing does.
      type: list
      elements: str
      sample: ["key rotation off"]
log_group:
  description: The log group.
  returned: when O(log_group) is given
  type: dict
  contains:
    drifted:
      description: Whether M(amazon.aws.cloudwatchlogs_log_group) would create or change the log group.
      type: bool
      sample: false
    reasons:
      description: What differs, in short phrases; empty when nothing does.
      type: list
      elements: str
      sample: ["retention 7 days, wanted 30"]
cluster:
  description: The cluster.
  returned: always
  type: dict
  contains:
    drifted:
      description: Whether M(eks_llm.inference.eks_cluster) would create, update, re-tag or refuse the cluster.
      type: bool
      sample: false
    reasons:
      description: What differs, in short phrases (the update types EKS would be asked for); empty when nothing does.
      type: list
      elements: str
      sample: ["LoggingUpdate", "tag team missing"]
    description:
      description:
        - The cluster as M(eks_llm.inference.eks_cluster) returns it (RV(eks_llm.inference.eks_cluster#module:cluster));
          empty when it does not exist.
      type: dict
      sample: {"name": "demo", "status": "ACTIVE", "version": "1.33"}
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import list_all
from ansible_collections.eks_llm.inference.plugins.module_utils.common import tag_differences
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import CLUSTER_SETTINGS_SPEC
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import cluster_summary
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import cluster_to_ansible
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import describe_cluster
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import plan_cluster_updates

KMS_KEY_SPEC = dict(
    alias=dict(type="str", required=True),
    description=dict(type="str"),
    enable_key_rotation=dict(type="bool"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
)
LOG_GROUP_SPEC = dict(
    name=dict(type="str", required=True),
    retention=dict(type="int"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
)
CLUSTER_SPEC = dict(
    name=dict(type="str", required=True),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
    **CLUSTER_SETTINGS_SPEC
)
# eks_cluster fails on a cluster in these states (it is not recreated in place)
CLUSTER_REFUSED_STATES = ("DELETING", "FAILED")


def kms_alias(alias):
    return alias if alias.startswith("alias/") else "alias/" + alias


def kms_tags(client, key_id):
    """The key's tags as amazon.aws.kms_key reads them: none when they cannot be read (it would then tag)."""
    try:
        tags = list_all(client, "list_resource_tags", "Tags", KeyId=key_id)
    except is_boto3_error_code("AccessDeniedException"):
        return {}
    return boto3_tag_list_to_ansible_dict(tags, "TagKey", "TagValue")


def kms_key_drift(client, wanted):
    """(arn, reasons) of the key amazon.aws.kms_key finds by its alias; arn None when there is none."""
    try:
        key = client.describe_key(aws_retry=True, KeyId=kms_alias(wanted["alias"]))["KeyMetadata"]
    except is_boto3_error_code("NotFoundException"):
        return None, ["missing"]
    reasons = []
    # kms_key cancels a pending deletion, then enables the key
    if key["KeyState"] == "PendingDeletion":
        reasons.append("pending deletion")
    elif key["KeyState"] != "Enabled":
        reasons.append("state %s, not Enabled" % key["KeyState"])
    if wanted["description"] is not None and wanted["description"] != key.get("Description"):
        reasons.append("description differs")
    if wanted["tags"] is not None:
        current = kms_tags(client, key["Arn"])
        to_set, to_remove = compare_aws_tags(current, wanted["tags"], purge_tags=wanted["purge_tags"])
        reasons += tag_differences(current, to_set, to_remove)
    if wanted["enable_key_rotation"] is not None:
        try:
            rotation = client.get_key_rotation_status(aws_retry=True, KeyId=key["Arn"]).get("KeyRotationEnabled")
        except is_boto3_error_code(["AccessDeniedException", "UnsupportedOperationException"]):
            # kms_key then sets the rotation anyway (or fails saying why)
            rotation = None
        if rotation is None:
            reasons.append("key rotation cannot be read")
        elif rotation != wanted["enable_key_rotation"]:
            reasons.append("key rotation %s" % ("on" if rotation else "off"))
    return key["Arn"], reasons


def log_group_drift(client, wanted):
    """What amazon.aws.cloudwatchlogs_log_group would change on the log group."""
    name = wanted["name"]
    # the module's own read: one page of the groups with this prefix, the one of exactly this name
    groups = client.describe_log_groups(aws_retry=True, logGroupNamePrefix=name).get("logGroups", [])
    group = next((g for g in groups if g["logGroupName"] == name), None)
    if group is None:
        return ["missing"]
    reasons = []
    if wanted["tags"] is not None:
        try:
            current = client.list_tags_log_group(aws_retry=True, logGroupName=name).get("tags", {})
        except is_boto3_error_code("AccessDeniedException"):
            current = {}  # the module warns, takes it as no tags, and tags
        to_set, to_remove = compare_aws_tags(current, wanted["tags"], wanted["purge_tags"])
        reasons += tag_differences(current, to_set, to_remove)
    if wanted["retention"] is not None and wanted["retention"] != group.get("retentionInDays"):
        reasons.append("retention %s days, wanted %d" % (group.get("retentionInDays") or "unlimited", wanted["retention"]))
    return reasons


def cluster_drift(client, wanted, kms_key_arn):
    """(cluster as eks_cluster returns it, reasons). ``kms_key_arn``: False when no key is wanted, None when the
    wanted key does not exist yet."""
    cluster = describe_cluster(client, wanted["name"])
    if cluster is None:
        return {}, ["missing"]
    reasons = []
    if cluster.get("status") in CLUSTER_REFUSED_STATES:
        reasons.append("status %s" % cluster["status"])
    params = dict(wanted, encryption_kms_key_arn=kms_key_arn or None)
    if kms_key_arn is None:
        reasons.append("its secrets encryption key does not exist yet")
    before = cluster_summary(cluster)
    errors, plan = plan_cluster_updates(wanted["name"], before, params)
    # a refused change counts: eks_cluster must run to say why
    reasons += ["cannot be reconciled: %s" % error for error in errors] + [update["type"] for update in plan]
    if wanted["tags"] is not None:
        to_set, to_remove = compare_aws_tags(before.get("tags") or {}, wanted["tags"], purge_tags=wanted["purge_tags"])
        reasons += tag_differences(before.get("tags"), to_set, to_remove)
    return cluster_to_ansible(cluster), reasons


@NotFoundErrorHandler.common_error_handler("read the cluster's control plane")
def read_control_plane(module):
    params = module.params
    result = dict(changed=False)
    kms_key_arn = False
    if params["kms_key"] is not None:
        kms_key_arn, reasons = kms_key_drift(module.retrying_client("kms"), params["kms_key"])
        result["kms_key"] = dict(drifted=bool(reasons), arn=kms_key_arn, reasons=reasons)
    if params["log_group"] is not None:
        reasons = log_group_drift(module.retrying_client("logs"), params["log_group"])
        result["log_group"] = dict(drifted=bool(reasons), reasons=reasons)
    description, reasons = cluster_drift(module.retrying_client("eks"), params["cluster"], kms_key_arn)
    result["cluster"] = dict(drifted=bool(reasons), reasons=reasons, description=description)
    return result


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            kms_key=dict(type="dict", options=KMS_KEY_SPEC, no_log=False),
            log_group=dict(type="dict", options=LOG_GROUP_SPEC),
            cluster=dict(type="dict", required=True, options=CLUSTER_SPEC),
        ),
        supports_check_mode=True,
    )
    try:
        result = read_control_plane(module)
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    result["drifted"] = any(result[part]["drifted"] for part in ("kms_key", "log_group", "cluster") if part in result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
