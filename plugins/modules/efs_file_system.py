#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: efs_file_system
version_added: 0.1.0
short_description: Manage an Amazon EFS file system with its mount targets, policies and lifecycle
description:
  - Create, update or delete an Amazon EFS file system, identified by its C(Name) tag (O(name))
    or by its ID (O(file_system_id)).
  - Manages what M(community.aws.efs) cannot, all of which a shared model cache on EKS needs
    - the V(elastic) throughput mode, transition to the archive storage class, the backup policy,
    the file system policy (for example one that refuses connections without TLS), and on deletion
    the access points that the EFS CSI driver creates dynamically.
  - Mount targets are reconciled against O(mount_targets) - missing ones are created, those in
    subnets that are not listed are deleted, and their security groups are changed in place.
  - Options that AWS only accepts at creation (O(encrypted), O(kms_key_id), O(performance_mode))
    are not changed on an existing file system; the module warns when they differ.
  - With O(state=absent) the module deletes the access points of the file system, then its mount
    targets (and waits until they are gone, since AWS refuses to delete a file system that still has
    mount targets), then the file system itself.
author:
  - eks_llm maintainers (@eks-llm)
options:
  name:
    description:
      - Value of the C(Name) tag of the file system.
      - Identifies the file system unless O(file_system_id) is given; then it is only the wanted
        value of the C(Name) tag.
      - The module fails if several file systems carry this C(Name) tag.
      - Required to create a file system; it also derives the creation token from it, so that
        a retried creation does not create a second file system.
      - The C(Name) tag is always added to O(tags).
    type: str
  file_system_id:
    description:
      - ID of an existing file system (C(fs-...)) to manage.
      - When set, it identifies the file system instead of O(name). The module cannot create a
        file system with a chosen ID, so with O(state=present) the file system must exist.
    type: str
  state:
    description:
      - Whether the file system should exist.
    type: str
    choices: ['present', 'absent']
    default: present
  encrypted:
    description:
      - Whether the data of the file system is encrypted at rest.
      - Only used when the file system is created.
    type: bool
    default: true
  kms_key_id:
    description:
      - ID, ARN, alias name or alias ARN of the KMS key that encrypts the file system.
      - The AWS managed key C(aws/elasticfilesystem) is used when not set.
      - Requires O(encrypted=true). Only used when the file system is created.
    type: str
  performance_mode:
    description:
      - Performance mode of the file system. AWS chooses V(generalPurpose) when not set.
      - Only used when the file system is created.
    type: str
    choices: ['generalPurpose', 'maxIO']
  throughput_mode:
    description:
      - Throughput mode of the file system.
      - V(elastic) scales with the workload and suits the bursty reads of a model cache.
        Since it is the default, an existing file system in another mode is switched to it
        unless this option says otherwise.
      - Changed on an existing file system with C(UpdateFileSystem). AWS allows a change of
        throughput mode (and a decrease of provisioned throughput) only once every 24 hours;
        the module tries the change and reports the refusal of AWS as a failure.
    type: str
    choices: ['bursting', 'provisioned', 'elastic']
    default: elastic
  provisioned_throughput_in_mibps:
    description:
      - Provisioned throughput in MiB/s.
      - Required when O(throughput_mode=provisioned), refused with any other mode.
    type: float
  lifecycle:
    description:
      - Lifecycle management of the file system, set with C(PutLifecycleConfiguration).
      - When not set, the lifecycle configuration is left as it is.
      - Every policy that is not given is removed; O(lifecycle={}) removes all of them.
    type: dict
    suboptions:
      transition_to_ia:
        description:
          - When files move to the Infrequent Access storage class, counted from the last access.
        type: str
        choices: ['AFTER_1_DAY', 'AFTER_7_DAYS', 'AFTER_14_DAYS', 'AFTER_30_DAYS', 'AFTER_60_DAYS',
                  'AFTER_90_DAYS', 'AFTER_180_DAYS', 'AFTER_270_DAYS', 'AFTER_365_DAYS']
      transition_to_archive:
        description:
          - When files move to the Archive storage class, counted from the last access.
          - AWS requires the V(elastic) throughput mode for it.
        type: str
        choices: ['AFTER_1_DAY', 'AFTER_7_DAYS', 'AFTER_14_DAYS', 'AFTER_30_DAYS', 'AFTER_60_DAYS',
                  'AFTER_90_DAYS', 'AFTER_180_DAYS', 'AFTER_270_DAYS', 'AFTER_365_DAYS']
      transition_to_primary_storage_class:
        description:
          - Moves files back to the Standard storage class when they are accessed.
        type: str
        choices: ['AFTER_1_ACCESS']
  backup:
    description:
      - Whether AWS Backup backs the file system up automatically (the EFS backup policy).
      - When not set, the backup policy is left as it is (or the AWS default on creation).
    type: bool
  file_system_policy:
    description:
      - Resource policy of the file system, as a dictionary.
      - Compared with the current policy as JSON, so key order and one-element lists do not count as a difference.
      - When not set, the policy is left as it is; O(file_system_policy={}) deletes the policy.
    type: dict
  mount_targets:
    description:
      - Mount targets of the file system, one per subnet (and at most one per Availability Zone).
      - Missing mount targets are created; mount targets in subnets that are not listed are deleted.
      - When not set, the mount targets are left as they are; O(mount_targets=[]) deletes all of them.
    type: list
    elements: dict
    suboptions:
      subnet_id:
        description:
          - Subnet of the mount target.
        type: str
        required: true
      security_groups:
        description:
          - Security groups of the mount target (at most five, from the VPC of the subnet).
          - Changed in place when they differ. When not set, AWS uses the default security group
            of the VPC for a new mount target and an existing mount target keeps its groups.
        type: list
        elements: str
  wait:
    description:
      - Whether to wait until the file system and its mount targets are C(available), and on
        deletion until the file system is gone.
      - Whatever its value, the module waits for a file system to be C(available) before it
        configures it, and for deleted mount targets to be gone before it creates mount targets in
        their place or deletes the file system.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait, for each of the stages described in O(wait).
    type: int
    default: 600
notes:
  - Supports check mode and diff mode. In check mode a file system that does not exist yet is
    returned as it would be created, without an ID.
  - Replication configurations are not managed; AWS refuses to delete a file system that is the
    source or the destination of one.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Shared model cache, elastic throughput, TLS enforced, one mount target per private subnet
  eks_llm.inference.efs_file_system:
    name: llm-model-cache
    throughput_mode: elastic
    lifecycle:
      transition_to_ia: AFTER_30_DAYS
      transition_to_primary_storage_class: AFTER_1_ACCESS
    backup: false
    file_system_policy:
      Version: "2012-10-17"
      Statement:
        - Sid: DenyInsecureTransport
          Effect: Deny
          Principal:
            AWS: "*"
          Action: "*"
          Condition:
            Bool:
              aws:SecureTransport: "false"
    mount_targets:
      - subnet_id: subnet-0a1b2c3d4e5f60001
        security_groups: [sg-0123456789abcdef0]
      - subnet_id: subnet-0a1b2c3d4e5f60002
        security_groups: [sg-0123456789abcdef0]
    tags:
      app.kubernetes.io/part-of: eks-llm-inference
  register: model_cache

- name: Hand the file system to the EFS CSI StorageClass
  ansible.builtin.set_fact:
    efs_file_system_id: "{{ model_cache.file_system.file_system_id }}"

- name: Provisioned throughput for a steady benchmark
  eks_llm.inference.efs_file_system:
    name: llm-model-cache
    throughput_mode: provisioned
    provisioned_throughput_in_mibps: 256

- name: Remove the file system policy and leave everything else as it is
  eks_llm.inference.efs_file_system:
    file_system_id: fs-0123456789abcdef0
    file_system_policy: {}

- name: Delete the file system with its access points and mount targets
  eks_llm.inference.efs_file_system:
    name: llm-model-cache
    state: absent
"""

RETURN = r"""
file_system:
  description:
    - The file system, after the changes.
    - Empty after a deletion. In check mode, a file system that would be created has no ID.
  returned: always
  type: dict
  contains:
    file_system_id:
      description: ID of the file system.
      returned: when the file system exists
      type: str
      sample: fs-0123456789abcdef0
    file_system_arn:
      description: ARN of the file system.
      returned: when the file system exists
      type: str
      sample: arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/fs-0123456789abcdef0
    name:
      description: Value of the C(Name) tag.
      returned: always
      type: str
      sample: llm-model-cache
    dns_name:
      description: DNS name to mount the file system with, C(<id>.efs.<region>.amazonaws.com).
      returned: when the file system exists
      type: str
      sample: fs-0123456789abcdef0.efs.us-west-2.amazonaws.com
    creation_token:
      description: Creation token of the file system.
      returned: when the file system exists
      type: str
      sample: llm-model-cache
    life_cycle_state:
      description: State of the file system.
      returned: always
      type: str
      sample: available
    encrypted:
      description: Whether the file system is encrypted at rest.
      returned: always
      type: bool
      sample: true
    kms_key_id:
      description: ARN of the KMS key that encrypts the file system.
      returned: when the file system is encrypted
      type: str
    performance_mode:
      description: Performance mode.
      returned: always
      type: str
      sample: generalPurpose
    throughput_mode:
      description: Throughput mode.
      returned: always
      type: str
      sample: elastic
    provisioned_throughput_in_mibps:
      description: Provisioned throughput in MiB/s.
      returned: when the throughput mode is provisioned
      type: float
      sample: 256.0
    number_of_mount_targets:
      description: Number of mount targets.
      returned: when the file system exists
      type: int
      sample: 2
    size_in_bytes:
      description: Metered size of the file system, as reported by AWS.
      returned: when the file system exists
      type: dict
    lifecycle:
      description: Lifecycle policies, with the keys of O(lifecycle); V(null) for a policy that is not set.
      returned: always
      type: dict
      sample:
        transition_to_ia: AFTER_30_DAYS
        transition_to_archive: null
        transition_to_primary_storage_class: AFTER_1_ACCESS
    backup:
      description: Whether automatic backups are enabled (or being enabled).
      returned: always
      type: bool
      sample: false
    file_system_policy:
      description: Resource policy of the file system; empty when it has none.
      returned: always
      type: dict
    tags:
      description: Tags of the file system.
      returned: always
      type: dict
      sample:
        Name: llm-model-cache
mount_targets:
  description: Mount targets of the file system, after the changes; empty after a deletion.
  returned: always
  type: list
  elements: dict
  contains:
    mount_target_id:
      description: ID of the mount target; not returned for a mount target that check mode would create.
      returned: when the mount target exists
      type: str
      sample: fsmt-0123456789abcdef0
    subnet_id:
      description: Subnet of the mount target.
      returned: always
      type: str
      sample: subnet-0a1b2c3d4e5f60001
    security_groups:
      description: Security groups of the mount target; V(null) while AWS cannot tell them (mount target not C(available)).
      returned: always
      type: list
      elements: str
      sample: [sg-0123456789abcdef0]
    life_cycle_state:
      description: State of the mount target.
      returned: always
      type: str
      sample: available
    ip_address:
      description: IPv4 address of the mount target.
      returned: when the mount target exists
      type: str
      sample: 10.0.1.17
    availability_zone_name:
      description: Availability Zone of the mount target.
      returned: when the mount target exists
      type: str
      sample: us-west-2a
    network_interface_id:
      description: Network interface of the mount target.
      returned: when the mount target exists
      type: str
    vpc_id:
      description: VPC of the mount target.
      returned: when the mount target exists
      type: str
"""

import copy
import hashlib
import json

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.transformation import boto3_resource_to_ansible_dict

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import WaitTimeout
from ansible_collections.eks_llm.inference.plugins.module_utils.common import aws_retry
from ansible_collections.eks_llm.inference.plugins.module_utils.common import wait_until
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import GONE_STATES
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import backup_change
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import backup_enabled
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import compute_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import create_only_drift
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import file_system_options
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import file_systems_named
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import has_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import lifecycle_change
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import lifecycle_from_policies
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import list_mount_targets
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import plan_mount_targets
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import policy_change
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import read_state
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import wanted_tags

# Seconds between two polls while waiting (tests set it to 0).
POLL_DELAY = 5

THROUGHPUT_REFUSED_CODES = ["TooManyRequests", "ThroughputLimitExceeded", "InsufficientThroughputCapacity"]


class AnsibleEFSError(AnsibleAWSError):
    """An AWS failure that this module explains itself."""


# ---------------------------------------------------------------------------
# Pure functions: plans and views (the comparisons are in module_utils/efs.py)
# ---------------------------------------------------------------------------


def creation_token(name):
    """Creation token derived from the name: repeated creations with one name are idempotent."""
    if len(name) <= 64:
        return name
    return "%s-%s" % (name[:47], hashlib.sha256(name.encode("utf-8")).hexdigest()[:16])


def apply_changes(state, changes):
    """The state the changes lead to (used for check mode)."""
    state = copy.deepcopy(state)
    file_system = state["file_system"]
    to_set, to_remove = changes["tags"]
    if to_set or to_remove:
        tags = boto3_tag_list_to_ansible_dict(file_system.get("Tags") or [])
        tags.update(to_set)
        for key in to_remove:
            tags.pop(key, None)
        file_system["Tags"] = ansible_dict_to_boto3_tag_list(tags)
        file_system["Name"] = tags.get("Name")
    if changes["lifecycle"] is not None:
        state["lifecycle"] = lifecycle_from_policies(changes["lifecycle"])
    if changes["backup"] is not None:
        state["backup"] = backup_enabled(changes["backup"])
    if changes["policy"] is not None:
        state["policy"] = changes["policy"][1]
    file_system.update(changes["throughput"])
    plan = changes["mount_targets"]
    modified = dict((item["mount_target_id"], item["security_groups"]) for item in plan["modify"])
    mount_targets = []
    for mount_target in state["mount_targets"]:
        if mount_target.get("MountTargetId") in plan["delete"]:
            continue
        if mount_target.get("MountTargetId") in modified:
            mount_target["SecurityGroups"] = modified[mount_target["MountTargetId"]]
        mount_targets.append(mount_target)
    for item in plan["create"]:
        mount_targets.append(
            {"SubnetId": item["subnet_id"], "SecurityGroups": item["security_groups"], "LifeCycleState": "creating"}
        )
    state["mount_targets"] = mount_targets
    return state


def new_state(params):
    """The state of a file system that would be created with these parameters (check mode)."""
    tags, dummy = wanted_tags(params)
    file_system = {
        "Name": params.get("name"),
        "LifeCycleState": "creating",
        "Encrypted": params["encrypted"],
        "PerformanceMode": params.get("performance_mode") or "generalPurpose",
        "ThroughputMode": params["throughput_mode"],
        "Tags": ansible_dict_to_boto3_tag_list(tags or {}),
    }
    if params.get("kms_key_id"):
        file_system["KmsKeyId"] = params["kms_key_id"]
    if params["throughput_mode"] == "provisioned":
        file_system["ProvisionedThroughputInMibps"] = float(params["provisioned_throughput_in_mibps"])
    empty = {"file_system": file_system, "lifecycle": lifecycle_from_policies([]), "backup": False, "policy": None,
             "mount_targets": []}
    changes = {
        "tags": ({}, []),
        "lifecycle": lifecycle_change(None, params.get("lifecycle")),
        "backup": backup_change(False, params.get("backup")),
        "policy": policy_change(None, params.get("file_system_policy")),
        "mount_targets": plan_mount_targets([], params.get("mount_targets")),
        "throughput": {},
    }
    return apply_changes(empty, changes)


def diff_view(state):
    """What `diff` shows of a state: the settings this module manages."""
    if not state:
        return {}
    file_system = state["file_system"]
    mount_targets = [
        {
            "subnet_id": mt["SubnetId"],
            "security_groups": sorted(mt["SecurityGroups"]) if mt.get("SecurityGroups") is not None else None,
        }
        for mt in state["mount_targets"]
        if mt.get("LifeCycleState") not in GONE_STATES
    ]
    view = {
        "name": file_system.get("Name"),
        "encrypted": file_system.get("Encrypted"),
        "performance_mode": file_system.get("PerformanceMode"),
        "throughput_mode": file_system.get("ThroughputMode"),
        "provisioned_throughput_in_mibps": file_system.get("ProvisionedThroughputInMibps"),
        "lifecycle": state["lifecycle"],
        "backup": state["backup"],
        "file_system_policy": state["policy"] or {},
        "tags": boto3_tag_list_to_ansible_dict(file_system.get("Tags") or []),
        "mount_targets": sorted(mount_targets, key=lambda mt: mt["subnet_id"]),
    }
    if file_system.get("FileSystemId"):
        view["file_system_id"] = file_system["FileSystemId"]
    return view


def error_code(exception):
    """The AWS error code of a botocore ClientError, or None."""
    response = getattr(exception, "response", None) or {}
    return response.get("Error", {}).get("Code")


def dns_name(file_system_id, region):
    suffix = "amazonaws.com.cn" if (region or "").startswith("cn-") else "amazonaws.com"
    return "%s.efs.%s.%s" % (file_system_id, region, suffix)


# ---------------------------------------------------------------------------
# AWS calls
# ---------------------------------------------------------------------------


@NotFoundErrorHandler.list_error_handler("describe file system", default_value=None)
def describe_file_system(client, file_system_id):
    return client.describe_file_systems(FileSystemId=file_system_id, aws_retry=True)["FileSystems"][0]


@NotFoundErrorHandler.list_error_handler("list access points", default_value=[])
@aws_retry()
def list_access_points(client, file_system_id):
    paginator = client.get_paginator("describe_access_points")
    return paginator.paginate(FileSystemId=file_system_id).build_full_result()["AccessPoints"]


@NotFoundErrorHandler.common_error_handler("create file system")
def create_file_system(client, **kwargs):
    return client.create_file_system(aws_retry=True, **kwargs)


@NotFoundErrorHandler.common_error_handler("tag file system")
def tag_file_system(client, file_system_id, tags):
    client.tag_resource(ResourceId=file_system_id, Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True)


@NotFoundErrorHandler.common_error_handler("untag file system")
def untag_file_system(client, file_system_id, keys):
    client.untag_resource(ResourceId=file_system_id, TagKeys=keys, aws_retry=True)


@NotFoundErrorHandler.common_error_handler("put lifecycle configuration")
def put_lifecycle(client, file_system_id, policies):
    client.put_lifecycle_configuration(FileSystemId=file_system_id, LifecyclePolicies=policies, aws_retry=True)


@NotFoundErrorHandler.common_error_handler("put backup policy")
def put_backup_policy(client, file_system_id, status):
    client.put_backup_policy(FileSystemId=file_system_id, BackupPolicy={"Status": status}, aws_retry=True)


@NotFoundErrorHandler.common_error_handler("put file system policy")
def put_policy(client, file_system_id, policy):
    client.put_file_system_policy(FileSystemId=file_system_id, Policy=json.dumps(policy), aws_retry=True)


@NotFoundErrorHandler.deletion_error_handler("delete file system policy")
def delete_policy(client, file_system_id):
    client.delete_file_system_policy(FileSystemId=file_system_id, aws_retry=True)
    return True


@NotFoundErrorHandler.common_error_handler("create mount target")
def create_mount_target(client, file_system_id, subnet_id, security_groups):
    kwargs = {"FileSystemId": file_system_id, "SubnetId": subnet_id}
    if security_groups is not None:
        kwargs["SecurityGroups"] = security_groups
    return client.create_mount_target(aws_retry=True, **kwargs)


@NotFoundErrorHandler.common_error_handler("modify mount target security groups")
def modify_mount_target(client, mount_target_id, security_groups):
    client.modify_mount_target_security_groups(
        MountTargetId=mount_target_id, SecurityGroups=security_groups, aws_retry=True
    )


@NotFoundErrorHandler.deletion_error_handler("delete mount target")
def delete_mount_target(client, mount_target_id):
    client.delete_mount_target(MountTargetId=mount_target_id, aws_retry=True)
    return True


@NotFoundErrorHandler.deletion_error_handler("delete access point")
def delete_access_point(client, access_point_id):
    client.delete_access_point(AccessPointId=access_point_id, aws_retry=True)
    return True


@NotFoundErrorHandler.deletion_error_handler("delete file system")
def delete_file_system(client, file_system_id):
    client.delete_file_system(FileSystemId=file_system_id, aws_retry=True)
    return True


def update_throughput(client, file_system_id, update):
    change = "change the throughput of %s to %s" % (file_system_id, json.dumps(update, sort_keys=True))
    try:
        NotFoundErrorHandler.common_error_handler(change)(client.update_file_system)(FileSystemId=file_system_id, aws_retry=True, **update)
    except AnsibleAWSError as e:
        if error_code(e.exception) not in THROUGHPUT_REFUSED_CODES:
            raise
        raise AnsibleEFSError(
            message=(
                "AWS refused to %s (AWS allows a throughput mode change or a provisioned throughput decrease only once"
                " every 24 hours; run again once the time AWS gives has passed)" % change
            ),
            exception=e.exception,
        ) from e


# ---------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------


class EFSFileSystem:
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.changed = False

    # -- reading -------------------------------------------------------------

    def find(self):
        if self.params.get("file_system_id"):
            return describe_file_system(self.client, self.params["file_system_id"])
        name = self.params["name"]
        found = file_systems_named(self.client, name)
        if len(found) > 1:
            self.module.fail_json(
                msg="%d file systems have the Name tag %s (%s); pass file_system_id to choose one"
                % (len(found), name, ", ".join(sorted(fs["FileSystemId"] for fs in found)))
            )
        return found[0] if found else None

    def read_state(self, file_system):
        return read_state(self.client, file_system)

    def reread_state(self, fs_id):
        file_system = describe_file_system(self.client, fs_id)
        if file_system is None:
            self.module.fail_json(msg="File system %s disappeared while it was being configured" % fs_id)
        return self.read_state(file_system)

    # -- waiting -------------------------------------------------------------

    def _wait(self, fetch, done, what, failed=None):
        try:
            return wait_until(fetch, done, self.params["wait_timeout"], delay=POLL_DELAY, failed=failed)
        except WaitTimeout as e:
            self.module.fail_json(msg="Waiting for %s failed: %s" % (what, e))

    def wait_file_system_available(self, fs_id):
        def failed(file_system):
            if file_system is None:
                return "file system %s does not exist" % fs_id
            if file_system.get("LifeCycleState") in ("error",) + GONE_STATES:
                return "file system %s is in state %s" % (fs_id, file_system["LifeCycleState"])
            return None

        return self._wait(
            lambda: describe_file_system(self.client, fs_id),
            lambda fs: fs is not None and fs.get("LifeCycleState") == "available",
            "file system %s to be available" % fs_id,
            failed=failed,
        )

    def wait_file_system_gone(self, fs_id):
        self._wait(
            lambda: describe_file_system(self.client, fs_id),
            lambda fs: fs is None or fs.get("LifeCycleState") == "deleted",
            "file system %s to be deleted" % fs_id,
        )

    def wait_mount_targets_available(self, fs_id):
        def failed(mount_targets):
            broken = [mt["MountTargetId"] for mt in mount_targets if mt.get("LifeCycleState") == "error"]
            return "mount targets %s are in state error" % ", ".join(broken) if broken else None

        self._wait(
            lambda: list_mount_targets(self.client, fs_id),
            lambda mts: all(mt.get("LifeCycleState") in ("available",) + GONE_STATES for mt in mts),
            "mount targets of %s to be available" % fs_id,
            failed=failed,
        )

    def wait_mount_targets_gone(self, fs_id, mount_target_ids):
        ids = set(mount_target_ids)
        self._wait(
            lambda: list_mount_targets(self.client, fs_id),
            lambda mts: not [mt for mt in mts if mt["MountTargetId"] in ids and mt.get("LifeCycleState") != "deleted"],
            "mount targets %s of %s to be deleted" % (", ".join(sorted(ids)), fs_id),
        )

    # -- present -------------------------------------------------------------

    def create(self):
        params = self.params
        if params.get("file_system_id"):
            self.module.fail_json(
                msg="File system %s does not exist; set name (not file_system_id) to create one"
                % params["file_system_id"]
            )
        self.changed = True
        if self.module.check_mode:
            return None, new_state(params)

        tags, dummy = wanted_tags(params)
        request = {
            "CreationToken": creation_token(params["name"]),
            "Encrypted": params["encrypted"],
            "ThroughputMode": params["throughput_mode"],
            "Tags": ansible_dict_to_boto3_tag_list(tags),
        }
        if params.get("kms_key_id"):
            request["KmsKeyId"] = params["kms_key_id"]
        if params.get("performance_mode"):
            request["PerformanceMode"] = params["performance_mode"]
        if params["throughput_mode"] == "provisioned":
            request["ProvisionedThroughputInMibps"] = float(params["provisioned_throughput_in_mibps"])
        if params.get("backup") is not None:
            request["Backup"] = params["backup"]
        try:
            file_system = create_file_system(self.client, **request)
        except AnsibleAWSError as e:
            if error_code(e.exception) == "FileSystemAlreadyExists":
                raise AnsibleEFSError(
                    message=(
                        "A file system created with creation token %s already exists but does not carry the"
                        " Name tag %s; tag it or pass its file_system_id" % (request["CreationToken"], params["name"])
                    ),
                    exception=e.exception,
                ) from e
            raise
        fs_id = file_system["FileSystemId"]

        # Created with the backup setting already; the rest needs an available file system.
        state = {
            "file_system": file_system,
            "lifecycle": lifecycle_from_policies([]),
            "backup": bool(params.get("backup")),
            "policy": None,
            "mount_targets": [],
        }
        changes = compute_changes(state, dict(params, tags=None, name=None, throughput_mode=None, backup=None))
        if params["wait"] or has_changes(changes):
            self.wait_file_system_available(fs_id)
        self.apply(fs_id, changes)
        return fs_id, None

    def update(self, file_system):
        fs_id = file_system["FileSystemId"]
        if file_system.get("LifeCycleState") in GONE_STATES:
            self.module.fail_json(msg="File system %s is being deleted (state %s)" % (fs_id, file_system["LifeCycleState"]))
        for warning in create_only_drift(file_system, self.params):
            self.module.warn(warning)
        before = self.read_state(file_system)
        changes = compute_changes(before, self.params)
        if not has_changes(changes):
            return before, before
        self.changed = True
        if self.module.check_mode:
            return before, apply_changes(before, changes)

        if file_system.get("LifeCycleState") != "available":
            self.wait_file_system_available(fs_id)
        self.apply(fs_id, changes)
        return before, None

    def apply(self, fs_id, changes):
        """Apply the changes to an available file system; throughput last (AWS may refuse it)."""
        to_set, to_remove = changes["tags"]
        if to_set:
            tag_file_system(self.client, fs_id, to_set)
        if to_remove:
            untag_file_system(self.client, fs_id, to_remove)
        if changes["lifecycle"] is not None:
            put_lifecycle(self.client, fs_id, changes["lifecycle"])
        if changes["backup"] is not None:
            put_backup_policy(self.client, fs_id, changes["backup"])
        if changes["policy"] is not None:
            action, policy = changes["policy"]
            if action == "put":
                put_policy(self.client, fs_id, policy)
            else:
                delete_policy(self.client, fs_id)

        plan = changes["mount_targets"]
        for mount_target_id in plan["delete"]:
            delete_mount_target(self.client, mount_target_id)
        if plan["delete"] and (plan["create"] or self.params["wait"]):
            # A new mount target may go to the Availability Zone of one being deleted.
            self.wait_mount_targets_gone(fs_id, plan["delete"])
        for item in plan["create"]:
            create_mount_target(self.client, fs_id, item["subnet_id"], item["security_groups"])
        for item in plan["modify"]:
            modify_mount_target(self.client, item["mount_target_id"], item["security_groups"])
        if self.params["wait"] and (plan["create"] or plan["modify"]):
            self.wait_mount_targets_available(fs_id)

        if changes["throughput"]:
            update_throughput(self.client, fs_id, changes["throughput"])
            if self.params["wait"]:
                self.wait_file_system_available(fs_id)

    def present(self):
        file_system = self.find()
        if file_system is None:
            before = None
            fs_id, after = self.create()
        else:
            fs_id = file_system["FileSystemId"]
            before, after = self.update(file_system)
        if after is None:
            after = self.reread_state(fs_id)
        return before, after

    # -- absent --------------------------------------------------------------

    def absent(self):
        file_system = self.find()
        if file_system is None:
            return None, None
        fs_id = file_system["FileSystemId"]
        before = self.read_state(file_system)
        self.changed = True
        if self.module.check_mode:
            return before, None

        # The EFS CSI driver creates access points dynamically: remove them, or they would be orphaned.
        for access_point in list_access_points(self.client, fs_id):
            delete_access_point(self.client, access_point["AccessPointId"])
        mount_target_ids = [mt["MountTargetId"] for mt in list_mount_targets(self.client, fs_id)]
        for mount_target_id in mount_target_ids:
            delete_mount_target(self.client, mount_target_id)
        if mount_target_ids:
            # AWS refuses to delete a file system that still has mount targets.
            self.wait_mount_targets_gone(fs_id, mount_target_ids)
        if file_system.get("LifeCycleState") not in GONE_STATES:
            delete_file_system(self.client, fs_id)
        if self.params["wait"]:
            self.wait_file_system_gone(fs_id)
        return before, None


def returned_file_system(state, region):
    if not state:
        return {}
    file_system = boto3_resource_to_ansible_dict(state["file_system"])
    if file_system.get("file_system_id"):
        file_system["dns_name"] = dns_name(file_system["file_system_id"], region)
    file_system["lifecycle"] = dict(state["lifecycle"])
    file_system["backup"] = state["backup"]
    file_system["file_system_policy"] = state["policy"] or {}
    return file_system


def returned_mount_targets(state):
    if not state:
        return []
    result = []
    for mount_target in state["mount_targets"]:
        item = boto3_resource_to_ansible_dict(mount_target, force_tags=False)
        item["security_groups"] = mount_target.get("SecurityGroups")
        result.append(item)
    return result


def validate(module):
    params = module.params
    mode = params["throughput_mode"]
    if params.get("provisioned_throughput_in_mibps") is not None and mode != "provisioned":
        module.fail_json(msg="provisioned_throughput_in_mibps requires throughput_mode=provisioned (got %s)" % mode)
    if params.get("kms_key_id") and not params["encrypted"]:
        module.fail_json(msg="kms_key_id requires encrypted=true")
    subnets = [item["subnet_id"] for item in params.get("mount_targets") or []]
    duplicates = sorted(set(s for s in subnets if subnets.count(s) > 1))
    if duplicates:
        module.fail_json(msg="mount_targets lists these subnets more than once: %s" % ", ".join(duplicates))


def main():
    argument_spec = dict(
        file_system_options(),
        name=dict(type="str"),
        file_system_id=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        mount_targets=dict(
            type="list",
            elements="dict",
            options=dict(
                subnet_id=dict(type="str", required=True),
                security_groups=dict(type="list", elements="str"),
            ),
        ),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleEKSModule(
        argument_spec=argument_spec,
        required_one_of=[("name", "file_system_id")],
        required_if=[("throughput_mode", "provisioned", ["provisioned_throughput_in_mibps"])],
        supports_check_mode=True,
    )
    validate(module)
    client = module.retrying_client("efs")
    manager = EFSFileSystem(module, client)
    try:
        if module.params["state"] == "present":
            before, after = manager.present()
        else:
            before, after = manager.absent()
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    result = dict(
        changed=manager.changed,
        file_system=returned_file_system(after, module.region),
        mount_targets=returned_mount_targets(after),
    )
    if module._diff:
        result["diff"] = dict(before=diff_view(before), after=diff_view(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
