# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""How an EFS file system is read and compared with the options of eks_llm.inference.efs_file_system.

Shared by the module that changes the file system (efs_file_system) and the one that only tells whether it would
(model_storage_drift_info), so that both read and compare it the same way.
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import aws_retry

# (option of `lifecycle`, key of an entry of the API's LifecyclePolicies list)
LIFECYCLE_KEYS = (
    ("transition_to_ia", "TransitionToIA"),
    ("transition_to_archive", "TransitionToArchive"),
    ("transition_to_primary_storage_class", "TransitionToPrimaryStorageClass"),
)
TRANSITION_CHOICES = [
    "AFTER_1_DAY",
    "AFTER_7_DAYS",
    "AFTER_14_DAYS",
    "AFTER_30_DAYS",
    "AFTER_60_DAYS",
    "AFTER_90_DAYS",
    "AFTER_180_DAYS",
    "AFTER_270_DAYS",
    "AFTER_365_DAYS",
]

# mount targets and file systems in these states are on their way out
GONE_STATES = ("deleting", "deleted")


def file_system_options():
    """The argument spec of efs_file_system's options that describe the file system itself (not which one it is, its
    mount targets or the waits), shared with model_storage_drift_info's ``file_system`` option: one set of defaults."""
    return dict(
        encrypted=dict(type="bool", default=True),
        kms_key_id=dict(type="str"),
        performance_mode=dict(type="str", choices=["generalPurpose", "maxIO"]),
        throughput_mode=dict(type="str", default="elastic", choices=["bursting", "provisioned", "elastic"]),
        provisioned_throughput_in_mibps=dict(type="float"),
        lifecycle=dict(
            type="dict",
            options=dict(
                transition_to_ia=dict(type="str", choices=TRANSITION_CHOICES),
                transition_to_archive=dict(type="str", choices=TRANSITION_CHOICES),
                transition_to_primary_storage_class=dict(type="str", choices=["AFTER_1_ACCESS"]),
            ),
        ),
        backup=dict(type="bool"),
        file_system_policy=dict(type="dict"),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )

# ---------------------------------------------------------------------------
# Pure functions: comparisons and plans (unit tested without AWS)
# ---------------------------------------------------------------------------


def lifecycle_from_policies(policies):
    """{transition_to_ia: ..., ...} from the API's LifecyclePolicies (a list of one-key dicts)."""
    result = dict((option, None) for option, dummy in LIFECYCLE_KEYS)
    for policy in policies or []:
        for option, key in LIFECYCLE_KEYS:
            if policy.get(key):
                result[option] = policy[key]
    return result


def lifecycle_to_policies(lifecycle):
    """The API's LifecyclePolicies list for the `lifecycle` option."""
    lifecycle = lifecycle or {}
    return [{key: lifecycle[option]} for option, key in LIFECYCLE_KEYS if lifecycle.get(option)]


def lifecycle_change(current, wanted):
    """LifecyclePolicies to put, or None when nothing changes (`wanted` None leaves it as it is)."""
    if wanted is None:
        return None
    wanted_policies = lifecycle_to_policies(wanted)
    if lifecycle_from_policies(wanted_policies) == (current or lifecycle_from_policies([])):
        return None
    return wanted_policies


def backup_enabled(status):
    """Whether a BackupPolicy status counts as enabled (None: no policy at all)."""
    return status in ("ENABLED", "ENABLING")


def backup_change(current_enabled, wanted):
    """BackupPolicy status to put, or None."""
    if wanted is None or bool(current_enabled) == wanted:
        return None
    return "ENABLED" if wanted else "DISABLED"


def policy_change(current, wanted):
    """('put', policy), ('delete', None) or None. `current` None: no policy; `wanted` None: leave it."""
    if wanted is None:
        return None
    if not wanted:
        return ("delete", None) if current else None
    if not current or compare_policies(current, wanted):
        return ("put", wanted)
    return None


def same_groups(left, right):
    return sorted(set(left or [])) == sorted(set(right or []))


def plan_mount_targets(current, wanted):
    """Reconcile mount targets.

    current: [{MountTargetId, SubnetId, LifeCycleState, SecurityGroups (None when unknown)}]
    wanted: [{subnet_id, security_groups (None: keep / AWS default)}], or None to leave them alone.
    Returns {"create": [{subnet_id, security_groups}], "delete": [mount target id],
    "modify": [{mount_target_id, subnet_id, security_groups}]}.
    """
    plan = {"create": [], "delete": [], "modify": []}
    if wanted is None:
        return plan
    live = [mt for mt in current if mt.get("LifeCycleState") not in GONE_STATES]
    by_subnet = dict((mt["SubnetId"], mt) for mt in live)
    wanted_subnets = set()
    for item in wanted:
        subnet_id = item["subnet_id"]
        groups = item.get("security_groups")
        wanted_subnets.add(subnet_id)
        existing = by_subnet.get(subnet_id)
        if existing is None:
            plan["create"].append({"subnet_id": subnet_id, "security_groups": groups})
        elif groups is not None and existing.get("SecurityGroups") is not None:
            if not same_groups(existing["SecurityGroups"], groups):
                plan["modify"].append(
                    {"mount_target_id": existing["MountTargetId"], "subnet_id": subnet_id, "security_groups": groups}
                )
    plan["delete"] = [mt["MountTargetId"] for mt in live if mt["SubnetId"] not in wanted_subnets]
    return plan


def throughput_change(file_system, mode, mibps):
    """UpdateFileSystem arguments (without FileSystemId), or {} when the throughput is as wanted."""
    update = {}
    if mode and file_system.get("ThroughputMode") != mode:
        update["ThroughputMode"] = mode
    if mode == "provisioned" and mibps is not None:
        current = file_system.get("ProvisionedThroughputInMibps")
        if "ThroughputMode" in update or current is None or float(current) != float(mibps):
            update["ProvisionedThroughputInMibps"] = float(mibps)
    return update


def wanted_tags(params):
    """(tags to end with, purge) or (None, False) when tags are not managed."""
    tags = params.get("tags")
    if tags is None and not params.get("name"):
        return None, False
    result = dict(tags or {})
    if params.get("name"):
        result["Name"] = params["name"]
    return result, bool(params.get("purge_tags")) and tags is not None


def compute_changes(state, params):
    """Everything to change on an existing file system (see `has_changes`)."""
    file_system = state["file_system"]
    tags, purge = wanted_tags(params)
    to_set, to_remove = {}, []
    if tags is not None:
        to_set, to_remove = compare_aws_tags(boto3_tag_list_to_ansible_dict(file_system.get("Tags") or []), tags, purge_tags=purge)
    return {
        "tags": (to_set, to_remove),
        "lifecycle": lifecycle_change(state["lifecycle"], params.get("lifecycle")),
        "backup": backup_change(state["backup"], params.get("backup")),
        "policy": policy_change(state["policy"], params.get("file_system_policy")),
        "mount_targets": plan_mount_targets(state["mount_targets"], params.get("mount_targets")),
        "throughput": throughput_change(
            file_system, params.get("throughput_mode"), params.get("provisioned_throughput_in_mibps")
        ),
    }


def has_changes(changes):
    plan = changes["mount_targets"]
    return bool(
        changes["tags"][0]
        or changes["tags"][1]
        or changes["lifecycle"] is not None
        or changes["backup"] is not None
        or changes["policy"] is not None
        or plan["create"]
        or plan["delete"]
        or plan["modify"]
        or changes["throughput"]
    )


def create_only_drift(file_system, params):
    """Warnings for options that differ but that AWS only accepts at creation."""
    warnings = []
    fs_id = file_system["FileSystemId"]
    if params["encrypted"] != file_system.get("Encrypted"):
        warnings.append(
            "%s has encrypted=%s; encryption can only be chosen when a file system is created"
            % (fs_id, file_system.get("Encrypted"))
        )
    mode = params.get("performance_mode")
    if mode and mode != file_system.get("PerformanceMode"):
        warnings.append(
            "%s has performance_mode=%s; the performance mode can only be chosen when a file system is created"
            % (fs_id, file_system.get("PerformanceMode"))
        )
    key = params.get("kms_key_id")
    current_key = file_system.get("KmsKeyId") or ""
    if key and "alias/" not in key and key != current_key and not current_key.endswith("/" + key):
        warnings.append(
            "%s is encrypted with %s; the KMS key can only be chosen when a file system is created"
            % (fs_id, current_key or "no key")
        )
    return warnings


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


@NotFoundErrorHandler.common_error_handler("list file systems")
@aws_retry()
def list_file_systems(client):
    return client.get_paginator("describe_file_systems").paginate().build_full_result()["FileSystems"]


@NotFoundErrorHandler.list_error_handler("list mount targets", default_value=[])
@aws_retry()
def list_mount_targets(client, file_system_id):
    paginator = client.get_paginator("describe_mount_targets")
    return paginator.paginate(FileSystemId=file_system_id).build_full_result()["MountTargets"]


@NotFoundErrorHandler.list_error_handler("describe mount target security groups", default_value=None)
def describe_mount_target_security_groups(client, mount_target_id):
    return client.describe_mount_target_security_groups(MountTargetId=mount_target_id, aws_retry=True).get(
        "SecurityGroups", []
    )


@NotFoundErrorHandler.list_error_handler("describe lifecycle configuration", default_value=[])
def describe_lifecycle(client, file_system_id):
    return client.describe_lifecycle_configuration(FileSystemId=file_system_id, aws_retry=True).get(
        "LifecyclePolicies", []
    )


@NotFoundErrorHandler.list_error_handler("describe backup policy", default_value=None)
def describe_backup_status(client, file_system_id):
    return client.describe_backup_policy(FileSystemId=file_system_id, aws_retry=True)["BackupPolicy"]["Status"]


@NotFoundErrorHandler.list_error_handler("describe file system policy", default_value=None)
def describe_policy(client, file_system_id):
    policy = client.describe_file_system_policy(FileSystemId=file_system_id, aws_retry=True).get("Policy")
    return json.loads(policy) if policy else None


def file_systems_named(client, name):
    """The file systems with the Name tag ``name`` that are not deleted (efs_file_system's lookup by name)."""
    return [fs for fs in list_file_systems(client) if fs.get("Name") == name and fs.get("LifeCycleState") != "deleted"]


def read_mount_targets(client, file_system_id):
    """The mount targets, each with ``SecurityGroups`` (None unless it is available: AWS only answers then)."""
    mount_targets = []
    for mount_target in list_mount_targets(client, file_system_id):
        mount_target = dict(mount_target)
        groups = None
        if mount_target.get("LifeCycleState") == "available":
            groups = describe_mount_target_security_groups(client, mount_target["MountTargetId"])
        mount_target["SecurityGroups"] = groups
        mount_targets.append(mount_target)
    return mount_targets


def read_state(client, file_system):
    """Everything `compute_changes` compares of the file system ``file_system`` (one DescribeFileSystems entry)."""
    fs_id = file_system["FileSystemId"]
    policy = describe_policy(client, fs_id)
    return {
        "file_system": file_system,
        "lifecycle": lifecycle_from_policies(describe_lifecycle(client, fs_id)),
        "backup": backup_enabled(describe_backup_status(client, fs_id)),
        "policy": policy,
        "mount_targets": read_mount_targets(client, fs_id),
    }
