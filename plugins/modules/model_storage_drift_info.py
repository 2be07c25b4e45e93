#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: model_storage_drift_info
short_description: Tell whether the NFS security group, the EFS file system and the S3 model bucket differ, in one run
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Reads the security group of the EFS mount targets, the EFS file system with its mount targets, and the S3 model
    bucket once, and says which of the three tasks that set them up - M(amazon.aws.ec2_security_group),
    M(eks_llm.inference.efs_file_system) and M(amazon.aws.s3_bucket) - would change anything. The C(model_storage)
    role runs only those; a re-run that changes nothing costs this one module run instead of three.
  - The security group drifts (RV(security_group_drifted)) when M(amazon.aws.ec2_security_group) with
    O(security_group) would create or change it - no group of that name in O(security_group.vpc_id), an ingress
    rule of O(security_group.rules) missing or with another description, a rule that is not wanted (with
    O(security_group.purge_rules)), or its tags differ (C(compare_aws_tags) with O(security_group.purge_tags)).
    Egress rules are not compared - the role gives that module no egress rules to purge with.
  - The file system drifts (RV(file_system_drifted)) when M(eks_llm.inference.efs_file_system) with O(file_system)
    and a mount target in each of O(mount_target_subnet_ids) in the security group would change it - the same
    reading and comparison (module_utils C(efs)) - or no file system or several carry the C(Name) tag, it is
    being deleted, or the security group does not exist yet (its mount targets cannot be shown to be in it).
  - The bucket drifts (RV(bucket_drifted)) when M(amazon.aws.s3_bucket) with O(bucket) would create or change it -
    it does not exist, or its versioning, public access block, default encryption, object ownership or tags differ.
    Settings that module only reads (and warns about when it cannot) are not read.
  - Conservative - whatever cannot be shown equal counts as drift, so that the modules decide; a bucket setting that
    cannot be read, for instance.
  - Read-only; never changes anything.
options:
  security_group:
    description:
      - The options given to M(amazon.aws.ec2_security_group) (O(amazon.aws.ec2_security_group#module:state=present)).
      - Not read when unset.
    type: dict
    suboptions:
      name:
        description: Name of the security group.
        type: str
        required: true
      description:
        description: Description of the group. Not compared - AWS cannot change it, the module only warns.
        type: str
      vpc_id:
        description: VPC of the group.
        type: str
        required: true
      rules:
        description: The ingress rules, as that module's O(amazon.aws.ec2_security_group#module:rules) (IP sources only).
        type: list
        elements: dict
        default: []
        suboptions:
          proto:
            description: IP protocol (V(tcp), V(udp), V(all) or a number).
            type: str
            default: tcp
          ports:
            description: Ports or port ranges (V(8000-8100)).
            type: list
            elements: str
          from_port:
            description: First port of the range.
            type: int
          to_port:
            description: Last port of the range.
            type: int
          cidr_ip:
            description: IPv4 sources.
            type: list
            elements: str
          cidr_ipv6:
            description: IPv6 sources.
            type: list
            elements: str
          rule_desc:
            description: Description of the rule; a rule with another description drifts.
            type: str
      purge_rules:
        description: Whether ingress rules not in O(security_group.rules) are drift (they would be revoked).
        type: bool
        default: true
      tags:
        description: Tags of the group. Not compared when unset.
        type: dict
      purge_tags:
        description: Whether tags not in O(security_group.tags) are drift (they would be removed).
        type: bool
        default: true
  file_system:
    description:
      - The options given to M(eks_llm.inference.efs_file_system) that describe the file system, found by its
        C(Name) tag; its mount targets are O(mount_target_subnet_ids). Not read when unset.
      - Options that module leaves unset are not compared, as it leaves that part alone.
    type: dict
    suboptions:
      name:
        description: Value of the C(Name) tag that identifies the file system.
        type: str
        required: true
      encrypted:
        description: Not compared - AWS takes it only when the file system is created.
        type: bool
        default: true
      kms_key_id:
        description: Not compared - AWS takes it only when the file system is created.
        type: str
      performance_mode:
        description: Not compared - AWS takes it only when the file system is created.
        type: str
        choices: ['generalPurpose', 'maxIO']
      throughput_mode:
        description: Throughput mode.
        type: str
        choices: ['bursting', 'provisioned', 'elastic']
        default: elastic
      provisioned_throughput_in_mibps:
        description: Provisioned throughput in MiB/s, with O(file_system.throughput_mode=provisioned).
        type: float
      lifecycle:
        description: The lifecycle policies; every policy not given would be removed.
        type: dict
        suboptions:
          transition_to_ia:
            description: When files move to Infrequent Access.
            type: str
            choices: ['AFTER_1_DAY', 'AFTER_7_DAYS', 'AFTER_14_DAYS', 'AFTER_30_DAYS', 'AFTER_60_DAYS',
                      'AFTER_90_DAYS', 'AFTER_180_DAYS', 'AFTER_270_DAYS', 'AFTER_365_DAYS']
          transition_to_archive:
            description: When files move to Archive.
            type: str
            choices: ['AFTER_1_DAY', 'AFTER_7_DAYS', 'AFTER_14_DAYS', 'AFTER_30_DAYS', 'AFTER_60_DAYS',
                      'AFTER_90_DAYS', 'AFTER_180_DAYS', 'AFTER_270_DAYS', 'AFTER_365_DAYS']
          transition_to_primary_storage_class:
            description: Files move back to Standard on access.
            type: str
            choices: ['AFTER_1_ACCESS']
      backup:
        description: Whether the EFS backup policy is enabled.
        type: bool
      file_system_policy:
        description: The file system policy, compared as a policy (never returned).
        type: dict
      tags:
        description: Tags of the file system (its C(Name) tag is O(file_system.name)).
        type: dict
        aliases: ['resource_tags']
      purge_tags:
        description: Whether tags not in O(file_system.tags) are drift (they would be removed).
        type: bool
        default: true
  mount_target_subnet_ids:
    description:
      - One mount target in each of these subnets, in the security group O(security_group) and no other; a mount
        target in a subnet not listed drifts. Not compared when unset.
    type: list
    elements: str
  bucket:
    description:
      - The options given to M(amazon.aws.s3_bucket) (O(amazon.aws.s3_bucket#module:state=present)). Not read when unset.
      - Options left unset are not compared, as that module leaves them alone.
    type: dict
    suboptions:
      name:
        description: Name of the bucket.
        type: str
        required: true
      versioning:
        description: Whether object versioning is enabled.
        type: bool
      encryption:
        description: Default server-side encryption.
        type: str
        choices: ['none', 'AES256', 'aws:kms', 'aws:kms:dsse']
      encryption_key_id:
        description: KMS key of O(bucket.encryption=aws:kms).
        type: str
      public_access:
        description: The public access block; every setting not given is V(false), as with that module.
        type: dict
        suboptions:
          block_public_acls:
            description: Block public ACLs.
            type: bool
            default: false
          ignore_public_acls:
            description: Ignore public ACLs.
            type: bool
            default: false
          block_public_policy:
            description: Block public bucket policies.
            type: bool
            default: false
          restrict_public_buckets:
            description: Restrict access to buckets with a public policy.
            type: bool
            default: false
      object_ownership:
        description: Object ownership.
        type: str
        choices: ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter']
      tags:
        description: Tags of the bucket. Not compared when unset.
        type: dict
      purge_tags:
        description: Whether tags not in O(bucket.tags) are drift (they would be removed).
        type: bool
        default: true
notes:
  - Supports check mode.
  - Needs C(ec2:DescribeSecurityGroups), C(elasticfilesystem:DescribeFileSystems), C(DescribeMountTargets),
    C(DescribeMountTargetSecurityGroups), C(DescribeLifecycleConfiguration), C(DescribeBackupPolicy),
    C(DescribeFileSystemPolicy), and C(s3:ListBucket) (HeadBucket), C(s3:GetBucketVersioning),
    C(s3:GetBucketPublicAccessBlock), C(s3:GetEncryptionConfiguration), C(s3:GetBucketOwnershipControls) and
    C(s3:GetBucketTagging).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Compare the model storage with the wanted one
  eks_llm.inference.model_storage_drift_info:
    security_group:
      name: demo-efs
      vpc_id: vpc-0123456789abcdef0
      rules:
        - proto: tcp
          ports: [2049]
          cidr_ip: [10.0.32.0/19, 10.0.64.0/19]
          rule_desc: NFS from the cluster's private subnets
      tags: {eks-llm:deployment: demo, Name: demo-efs}
    file_system:
      name: demo-models
      lifecycle: {transition_to_ia: AFTER_30_DAYS}
      backup: true
      tags: {eks-llm:deployment: demo}
    mount_target_subnet_ids: [subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002]
    bucket:
      name: demo-models-123456789012
      versioning: true
      encryption: AES256
      public_access: {block_public_acls: true, ignore_public_acls: true, block_public_policy: true, restrict_public_buckets: true}
      object_ownership: BucketOwnerEnforced
      tags: {eks-llm:deployment: demo}
  register: storage_drift

- name: Create or update the bucket only when it differs
  amazon.aws.s3_bucket:
    name: demo-models-123456789012
    versioning: true
    encryption: AES256
    object_ownership: BucketOwnerEnforced
    tags: {eks-llm:deployment: demo}
  when: storage_drift.bucket_drifted
"""

RETURN = r"""
drifted:
  description: Whether any of the three modules would change anything.
  returned: always
  type: bool
  sample: true
security_group_drifted:
  description: Whether M(amazon.aws.ec2_security_group) would create or change the group; V(false) when O(security_group) is unset.
  returned: always
  type: bool
  sample: false
file_system_drifted:
  description: Whether M(eks_llm.inference.efs_file_system) would create or change the file system; V(false) when O(file_system) is unset.
  returned: always
  type: bool
  sample: false
bucket_drifted:
  description: Whether M(amazon.aws.s3_bucket) would create or change the bucket; V(false) when O(bucket) is unset.
  returned: always
  type: bool
  sample: true
differences:
  description: What differs, in short phrases; empty when nothing does. Never a policy document or a tag value.
  returned: always
  type: list
  elements: str
  sample: ["security group demo-efs: rule tcp 2049-2049 from 10.0.32.0/19 missing",
           "bucket demo-models-123456789012: versioning is Suspended"]
security_group_id:
  description: ID of the security group; null when it does not exist or O(security_group) is unset.
  returned: always
  type: str
  sample: sg-0123456789abcdef0
file_system_id:
  description: ID of the file system; null when there is none (or several) or O(file_system) is unset.
  returned: always
  type: str
  sample: fs-0123456789abcdef0
file_system_available:
  description: Whether the file system and every one of its mount targets are C(available).
  returned: always
  type: bool
  sample: true
bucket_name:
  description: Name of the bucket; null when it does not exist or O(bucket) is unset.
  returned: always
  type: str
  sample: demo-models-123456789012
"""

import ipaddress

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.s3 import AnsibleS3PermissionsError
from ansible_collections.amazon.aws.plugins.module_utils.s3 import AnsibleS3SupportError
from ansible_collections.amazon.aws.plugins.module_utils.s3 import get_s3_bucket_encryption
from ansible_collections.amazon.aws.plugins.module_utils.s3 import get_s3_bucket_ownership_controls
from ansible_collections.amazon.aws.plugins.module_utils.s3 import get_s3_bucket_public_access_block
from ansible_collections.amazon.aws.plugins.module_utils.s3 import get_s3_bucket_tagging
from ansible_collections.amazon.aws.plugins.module_utils.s3 import get_s3_bucket_versioning
from ansible_collections.amazon.aws.plugins.module_utils.s3 import head_s3_bucket
from ansible_collections.amazon.aws.plugins.module_utils.s3 import merge_tags
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import tag_differences
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import GONE_STATES
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import compute_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import file_system_options
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import file_systems_named
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import has_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.efs import read_state

RULE_SPEC = dict(
    proto=dict(type="str", default="tcp"),
    ports=dict(type="list", elements="str"),
    from_port=dict(type="int"),
    to_port=dict(type="int"),
    cidr_ip=dict(type="list", elements="str"),
    cidr_ipv6=dict(type="list", elements="str"),
    rule_desc=dict(type="str"),
)
SECURITY_GROUP_SPEC = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    vpc_id=dict(type="str", required=True),
    rules=dict(type="list", elements="dict", default=[], options=RULE_SPEC,
               mutually_exclusive=[("ports", "from_port"), ("ports", "to_port")]),
    purge_rules=dict(type="bool", default=True),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
)
PUBLIC_ACCESS_SPEC = dict((key, dict(type="bool", default=False)) for key in (
    "block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"))
BUCKET_SPEC = dict(
    name=dict(type="str", required=True),
    versioning=dict(type="bool"),
    encryption=dict(type="str", choices=["none", "AES256", "aws:kms", "aws:kms:dsse"]),
    encryption_key_id=dict(type="str"),
    public_access=dict(type="dict", options=PUBLIC_ACCESS_SPEC),
    object_ownership=dict(type="str", choices=["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
)

# ---------------------------------------------------------------------------
# The security group, as amazon.aws.ec2_security_group compares it: a rule is
# (port range, protocol, source, source type, description), one per port range and source
# ---------------------------------------------------------------------------


def normal_cidr(cidr):
    """The network as ec2_security_group writes it (host bits cleared); text it cannot parse stays as it is."""
    try:
        return str(ipaddress.ip_network(cidr, strict=False))
    except ValueError:
        return cidr


def port_ranges(rule):
    if rule["proto"] in ("all", "-1") or rule["proto"].lstrip("-").isdigit():
        return [(None, None)]
    if rule["from_port"] is not None or rule["to_port"] is not None:
        return [(rule["from_port"], rule["to_port"])]
    ranges = []
    for port in rule["ports"] or []:
        low, dummy, high = str(port).partition("-")
        ranges.append(tuple(sorted((int(low), int(high or low)))))
    return ranges or [(None, None)]


def wanted_rules(rules):
    wanted = set()
    for rule in rules:
        proto = "-1" if rule["proto"] == "all" else rule["proto"]
        sources = ([(normal_cidr(cidr), "ipv4") for cidr in rule["cidr_ip"] or []]
                   + [(normal_cidr(cidr), "ipv6") for cidr in rule["cidr_ipv6"] or []])
        for ports in port_ranges(rule):
            for source, kind in sources:
                wanted.add((ports, proto, source, kind, rule["rule_desc"]))
    return wanted


def current_rules(permissions):
    current = set()
    for permission in permissions:
        ports = (None, None)
        if "FromPort" in permission or "ToPort" in permission:
            ports = (int(permission["FromPort"]), int(permission["ToPort"]))
        proto = str(permission["IpProtocol"])
        for key, source, kind in (("IpRanges", "CidrIp", "ipv4"), ("Ipv6Ranges", "CidrIpv6", "ipv6"),
                                  ("PrefixListIds", "PrefixListId", "ip_prefix"), ("UserIdGroupPairs", "GroupId", "group")):
            for entry in permission.get(key) or []:
                current.add((ports, proto, entry.get(source), kind, entry.get("Description")))
    return current


def rule_text(rule):
    (low, high), proto, source, dummy, dummy = rule
    ports = "" if low is None else " %s-%s" % (low, high)
    return "rule %s%s from %s" % (proto, ports, source)


def rule_differences(wanted, current, purge):
    """What ec2_security_group would authorize, re-describe or (with purge) revoke."""
    current_keys = set(rule[:4] for rule in current)
    wanted_keys = set(rule[:4] for rule in wanted)
    found = ["%s %s" % (rule_text(rule), "description differs" if rule[:4] in current_keys else "missing")
             for rule in sorted(wanted - current, key=str)]
    if purge:
        found += ["%s not wanted" % rule_text(rule) for rule in sorted(current, key=str) if rule[:4] not in wanted_keys]
    return found


def security_group_drift(ec2, wanted):
    """(group id or None, differences)."""
    what = "security group %s" % wanted["name"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [wanted["name"]]}, {"Name": "vpc-id", "Values": [wanted["vpc_id"]]}],
        aws_retry=True)["SecurityGroups"]
    if not groups:
        return None, ["%s: missing" % what]
    group = groups[-1]  # the one ec2_security_group takes
    found = rule_differences(wanted_rules(wanted["rules"]), current_rules(group.get("IpPermissions")), wanted["purge_rules"])
    if wanted["tags"] is not None:
        current = boto3_tag_list_to_ansible_dict(group.get("Tags") or [])
        to_set, to_remove = compare_aws_tags(current, wanted["tags"], purge_tags=wanted["purge_tags"])
        if wanted["purge_tags"] and not wanted["tags"]:
            to_remove = list(current)
        found += tag_differences(current, to_set, to_remove)
    return group["GroupId"], ["%s: %s" % (what, difference) for difference in found]


# ---------------------------------------------------------------------------
# The file system, through module_utils/efs.py: efs_file_system's own reading and comparison
# ---------------------------------------------------------------------------


def change_phrases(changes, current_tags):
    plan = changes["mount_targets"]
    found = tag_differences(current_tags, *changes["tags"])
    found += ["%s differs" % part for part in ("lifecycle", "backup", "policy") if changes[part] is not None]
    found += ["throughput differs"] if changes["throughput"] else []
    found += ["mount target in %s missing" % item["subnet_id"] for item in plan["create"]]
    found += ["mount target %s not wanted" % mount_target_id for mount_target_id in plan["delete"]]
    found += ["mount target in %s in other security groups" % item["subnet_id"] for item in plan["modify"]]
    return found


def file_system_drift(efs, wanted, subnet_ids, group_id):
    """(file system id or None, whether it and its mount targets are available, differences)."""
    what = "file system %s" % wanted["name"]
    named = file_systems_named(efs, wanted["name"])
    if len(named) != 1:
        return None, False, ["%s: %s" % (what, "missing" if not named else "%d carry its name" % len(named))]
    file_system = named[0]
    if file_system.get("LifeCycleState") in GONE_STATES:
        return None, False, ["%s: being deleted" % what]
    found = []
    params = dict(wanted)
    if subnet_ids is not None:
        if group_id is None:
            found.append("its mount targets' security group is missing")
        else:
            params["mount_targets"] = [dict(subnet_id=subnet_id, security_groups=[group_id]) for subnet_id in subnet_ids]
    state = read_state(efs, file_system)
    changes = compute_changes(state, params)
    if has_changes(changes):
        found += change_phrases(changes, boto3_tag_list_to_ansible_dict(file_system.get("Tags") or []))
    available = file_system.get("LifeCycleState") == "available" and all(
        mount_target.get("LifeCycleState") == "available" for mount_target in state["mount_targets"])
    return file_system["FileSystemId"], available, ["%s: %s" % (what, difference) for difference in found]


# ---------------------------------------------------------------------------
# The bucket, as amazon.aws.s3_bucket compares it (its module_utils' reads)
# ---------------------------------------------------------------------------


def versioning_differs(s3, name, wanted):
    status = get_s3_bucket_versioning(s3, name).get("Status")
    # s3_bucket enables it unless Enabled, suspends it only when Enabled
    return ["versioning is %s" % (status or "never enabled")] if wanted != (status == "Enabled") else []


def public_access_differs(s3, name, wanted):
    camel = dict(("".join(word.capitalize() for word in key.split("_")), value) for key, value in wanted.items())
    return [] if get_s3_bucket_public_access_block(s3, name) == camel else ["public access block differs"]


def encryption_differs(s3, name, wanted, key_id):
    rules = (get_s3_bucket_encryption(s3, name) or {}).get("Rules") or [{}]
    current = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
    algorithm = current.get("SSEAlgorithm")
    if wanted == "none":
        same = algorithm is None
    else:
        same = wanted == algorithm and (wanted != "aws:kms" or current.get("KMSMasterKeyID") == key_id)
    return [] if same else ["default encryption is %s" % (algorithm or "off")]


def ownership_differs(s3, name, wanted):
    rules = (get_s3_bucket_ownership_controls(s3, name) or {}).get("Rules") or [{}]
    current = rules[0].get("ObjectOwnership")
    return [] if current == wanted else ["object ownership is %s" % current]


def bucket_tags_differ(s3, name, wanted, purge):
    current = get_s3_bucket_tagging(s3, name)
    if merge_tags(current, wanted, purge) == current:
        return []
    to_set = dict((key, value) for key, value in wanted.items() if current.get(key) != str(value))
    return tag_differences(current, to_set, [key for key in current if key not in wanted] if purge else []) or ["tags differ"]


def bucket_drift(s3, wanted):
    """(whether the bucket exists, differences)."""
    name = wanted["name"]
    what = "bucket %s" % name
    if not head_s3_bucket(s3, name):
        return False, ["%s: missing" % what]
    checks = (
        ("versioning", lambda value: versioning_differs(s3, name, value)),
        ("public_access", lambda value: public_access_differs(s3, name, value)),
        ("encryption", lambda value: encryption_differs(s3, name, value, wanted["encryption_key_id"])),
        ("object_ownership", lambda value: ownership_differs(s3, name, value)),
        ("tags", lambda value: bucket_tags_differ(s3, name, value, wanted["purge_tags"])),
    )
    found = []
    for option, check in checks:
        if wanted[option] is None:
            continue
        try:
            found += check(wanted[option])
        except (AnsibleS3PermissionsError, AnsibleS3SupportError):
            # s3_bucket fails on a setting it is asked for and cannot read: let it say why
            found.append("%s cannot be read" % option.replace("_", " "))
    return True, ["%s: %s" % (what, difference) for difference in found]


def read_drift(module):
    """The module result (changed apart)."""
    params = module.params
    result = dict(security_group_id=None, file_system_id=None, file_system_available=False, bucket_name=None,
                  security_group_drifted=False, file_system_drifted=False, bucket_drifted=False, differences=[])
    if params["security_group"] is not None:
        result["security_group_id"], found = security_group_drift(module.retrying_client("ec2"), params["security_group"])
        result.update(security_group_drifted=bool(found), differences=result["differences"] + found)
    if params["file_system"] is not None:
        file_system_id, available, found = file_system_drift(
            module.retrying_client("efs"), params["file_system"], params["mount_target_subnet_ids"], result["security_group_id"])
        result.update(file_system_id=file_system_id, file_system_available=available, file_system_drifted=bool(found),
                      differences=result["differences"] + found)
    if params["bucket"] is not None:
        exists, found = bucket_drift(module.retrying_client("s3"), params["bucket"])
        result.update(bucket_name=params["bucket"]["name"] if exists else None, bucket_drifted=bool(found),
                      differences=result["differences"] + found)
    result["drifted"] = bool(result["differences"])
    return result


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            security_group=dict(type="dict", options=SECURITY_GROUP_SPEC),
            file_system=dict(type="dict", options=dict(file_system_options(), name=dict(type="str", required=True))),
            mount_target_subnet_ids=dict(type="list", elements="str"),
            bucket=dict(type="dict", options=BUCKET_SPEC),
        ),
        required_by=dict(mount_target_subnet_ids=["security_group", "file_system"]),
        supports_check_mode=True,
    )
    try:
        result = NotFoundErrorHandler.common_error_handler("read the model storage")(read_drift)(module)
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
