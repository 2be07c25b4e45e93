# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""model_storage_drift_info in-process against moto.

One mocked account for the whole file: every case builds its own copy of the storage (security group, file system,
bucket, named after the case) as model_storage leaves it, changes one thing and reads. Two cases put the write
modules themselves to it - amazon.aws.ec2_security_group, efs_file_system and amazon.aws.s3_bucket with the role's
options: what they deploy does not drift and they would change nothing; where the read says a part drifts, its
module (in check mode; s3_bucket has none) would change it.
"""

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils import s3 as amazon_s3
from ansible_collections.amazon.aws.plugins.modules import ec2_security_group
from ansible_collections.amazon.aws.plugins.modules import s3_bucket
from ansible_collections.eks_llm.inference.plugins.modules import efs_file_system
from ansible_collections.eks_llm.inference.plugins.modules import model_storage_drift_info as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.conftest import LEAKY_ENVIRONMENT
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

TAGS = {"eks-llm:deployment": "demo", "team": "ml"}
CIDRS = ["10.0.1.0/24", "10.0.2.0/24"]
RULE_DESC = "NFS from the cluster's private subnets"
TLS_ONLY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
PUBLIC_ACCESS = {"block_public_acls": True, "ignore_public_acls": True, "block_public_policy": True,
                 "restrict_public_buckets": True}

DRIFT = ModuleRunner(module_under_test.main, region=REGION)
SECURITY_GROUP = ModuleRunner(ec2_security_group.main, region=REGION)
FILE_SYSTEM = ModuleRunner(efs_file_system.main, region=REGION)
BUCKET = ModuleRunner(s3_bucket.main, region=REGION)


@pytest.fixture(scope="module")
def account():
    """One mocked account for every test here: clients and a VPC with two subnets (two zones)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in LEAKY_ENVIRONMENT:
            patch.delenv(name, raising=False)
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", REGION)):
            patch.setenv(name, value)
        with mock_aws():
            clients = dict((service, boto3.client(service, region_name=REGION)) for service in ("ec2", "efs", "s3"))
            vpc_id = clients["ec2"].create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            subnets = [clients["ec2"].create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=REGION + zone)["Subnet"]["SubnetId"]
                       for cidr, zone in zip(CIDRS, "ab")]
            yield dict(clients, vpc_id=vpc_id, subnets=subnets)


# ---------------------------------------------------------------------------
# The role's options, for a copy named `name`
# ---------------------------------------------------------------------------


def sg_options(account, name, **changes):
    """What model_storage gives amazon.aws.ec2_security_group (without the egress options the read ignores)."""
    return dict({"name": name + "-efs", "description": "NFS to the model cache", "vpc_id": account["vpc_id"],
                 "rules": [{"proto": "tcp", "ports": ["2049"], "cidr_ip": CIDRS, "rule_desc": RULE_DESC}],
                 "tags": dict(TAGS, Name=name + "-efs")}, **changes)


def efs_options(name, **changes):
    """What model_storage gives efs_file_system (its mount targets apart)."""
    return dict({"name": name + "-models", "encrypted": True, "throughput_mode": "elastic", "backup": True,
                 "lifecycle": {"transition_to_ia": "AFTER_30_DAYS"}, "file_system_policy": TLS_ONLY, "tags": TAGS},
                **changes)


def bucket_options(name, **changes):
    """What model_storage gives amazon.aws.s3_bucket."""
    return dict({"name": name + "-bucket", "encryption": "AES256", "versioning": True, "public_access": PUBLIC_ACCESS,
                 "object_ownership": "BucketOwnerEnforced", "tags": TAGS}, **changes)


def drift_options(account, name, sg=None, efs=None, bucket=None):
    return {"security_group": sg or sg_options(account, name), "file_system": efs or efs_options(name),
            "mount_target_subnet_ids": account["subnets"], "bucket": bucket or bucket_options(name)}


def build(account, name):
    """The storage as the write modules leave it, built straight with boto3 (fast); returns the ids."""
    ec2, efs, s3 = account["ec2"], account["efs"], account["s3"]
    group_id = ec2.create_security_group(
        GroupName=name + "-efs", Description="NFS to the model cache", VpcId=account["vpc_id"],
        TagSpecifications=[{"ResourceType": "security-group",
                            "Tags": [{"Key": k, "Value": v} for k, v in dict(TAGS, Name=name + "-efs").items()]}])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049,
        "IpRanges": [{"CidrIp": cidr, "Description": RULE_DESC} for cidr in CIDRS]}])
    fs_id = efs.create_file_system(
        CreationToken=name + "-models", Encrypted=True, ThroughputMode="elastic", Backup=True,
        Tags=[{"Key": k, "Value": v} for k, v in dict(TAGS, Name=name + "-models").items()])["FileSystemId"]
    efs.put_lifecycle_configuration(FileSystemId=fs_id, LifecyclePolicies=[{"TransitionToIA": "AFTER_30_DAYS"}])
    efs.put_file_system_policy(FileSystemId=fs_id, Policy=json.dumps(TLS_ONLY))
    for subnet in account["subnets"]:
        efs.create_mount_target(FileSystemId=fs_id, SubnetId=subnet, SecurityGroups=[group_id])
    bucket = name + "-bucket"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in TAGS.items()]})
    return {"group_id": group_id, "fs_id": fs_id, "bucket": bucket}


def drifted_parts(result):
    return {part: result["%s_drifted" % part] for part in ("security_group", "file_system", "bucket")}


NOTHING = {"security_group": False, "file_system": False, "bucket": False}


# ---------------------------------------------------------------------------
# Whole states
# ---------------------------------------------------------------------------


def test_nothing_deployed_drifts_everywhere_and_returns_no_ids(account):
    result = DRIFT(drift_options(account, "none"))
    assert result["changed"] is False and result["drifted"] is True
    assert drifted_parts(result) == {"security_group": True, "file_system": True, "bucket": True}
    assert result["differences"] == ["security group none-efs: missing", "file system none-models: missing",
                                     "bucket none-bucket: missing"]
    assert (result["security_group_id"], result["file_system_id"], result["bucket_name"]) == (None, None, None)
    assert result["file_system_available"] is False
    assert DRIFT(drift_options(account, "none"), check_mode=True) == result  # check mode reads the same


def test_as_the_write_modules_deploy_it_nothing_drifts_and_they_would_change_nothing(account, monkeypatch):
    """The role's three write tasks, then the read (in check mode, as under --check), then the writes again."""
    monkeypatch.setattr(ec2_security_group, "sleep", lambda seconds: None)  # it waits 3 s after creating a group
    group_id = SECURITY_GROUP(dict(sg_options(account, "written"), rules_egress=[], purge_rules_egress=False))["group_id"]
    mount_targets = [{"subnet_id": subnet, "security_groups": [group_id]} for subnet in account["subnets"]]
    fs_id = FILE_SYSTEM(dict(efs_options("written"), mount_targets=mount_targets))["file_system"]["file_system_id"]
    assert BUCKET(bucket_options("written"))["changed"] is True

    result = DRIFT(drift_options(account, "written"), check_mode=True)
    assert result["differences"] == [] and result["drifted"] is False and drifted_parts(result) == NOTHING
    assert (result["security_group_id"], result["file_system_id"], result["bucket_name"]) == (group_id, fs_id, "written-bucket")
    assert result["file_system_available"] is True

    sg_args = dict(sg_options(account, "written"), rules_egress=[], purge_rules_egress=False)
    assert SECURITY_GROUP(sg_args, check_mode=True)["changed"] is False
    assert FILE_SYSTEM(dict(efs_options("written"), mount_targets=mount_targets), check_mode=True)["changed"] is False
    assert BUCKET(bucket_options("written"))["changed"] is False  # s3_bucket has no check mode: a real, no-op run


def test_the_copy_built_for_the_cases_does_not_drift(account):
    ids = build(account, "built")
    result = DRIFT(drift_options(account, "built"))
    assert result["differences"] == [] and drifted_parts(result) == NOTHING
    assert (result["security_group_id"], result["file_system_id"], result["bucket_name"]) == (ids["group_id"], ids["fs_id"], ids["bucket"])


def test_the_write_modules_would_change_what_the_read_calls_drift(account):
    ids = build(account, "crossed")
    account["ec2"].revoke_security_group_ingress(GroupId=ids["group_id"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "IpRanges": [{"CidrIp": CIDRS[1]}]}])
    mount_target = account["efs"].describe_mount_targets(FileSystemId=ids["fs_id"])["MountTargets"][0]
    account["efs"].delete_mount_target(MountTargetId=mount_target["MountTargetId"])
    result = DRIFT(drift_options(account, "crossed"))
    assert drifted_parts(result) == {"security_group": True, "file_system": True, "bucket": False}
    sg_args = dict(sg_options(account, "crossed"), rules_egress=[], purge_rules_egress=False)
    assert SECURITY_GROUP(sg_args, check_mode=True)["changed"] is True
    mount_targets = [{"subnet_id": subnet, "security_groups": [ids["group_id"]]} for subnet in account["subnets"]]
    assert FILE_SYSTEM(dict(efs_options("crossed"), mount_targets=mount_targets), check_mode=True)["changed"] is True


# ---------------------------------------------------------------------------
# One difference at a time, each on its own copy
# ---------------------------------------------------------------------------


def _revoke_rule(account, ids):
    account["ec2"].revoke_security_group_ingress(GroupId=ids["group_id"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "IpRanges": [{"CidrIp": CIDRS[1]}]}])


def _extra_rule(account, ids):
    account["ec2"].authorize_security_group_ingress(GroupId=ids["group_id"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def _rule_redescribed(account, ids):
    account["ec2"].update_security_group_rule_descriptions_ingress(GroupId=ids["group_id"], IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049, "IpRanges": [{"CidrIp": CIDRS[0], "Description": "other"}]}])


def _sg_tagged(**tags):
    def change(account, ids):
        account["ec2"].create_tags(Resources=[ids["group_id"]], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return change


def _efs_tagged(account, ids):
    account["efs"].tag_resource(ResourceId=ids["fs_id"], Tags=[{"Key": "team", "Value": "web"}])


def _mount_target_deleted(account, ids):
    mount_targets = account["efs"].describe_mount_targets(FileSystemId=ids["fs_id"])["MountTargets"]
    account["efs"].delete_mount_target(MountTargetId=[mt for mt in mount_targets if mt["SubnetId"] == account["subnets"][1]][0]["MountTargetId"])


def _mount_target_regrouped(account, ids):
    other = account["ec2"].create_security_group(GroupName="other-%s" % ids["fs_id"], Description="other",
                                                 VpcId=account["vpc_id"])["GroupId"]
    mount_targets = account["efs"].describe_mount_targets(FileSystemId=ids["fs_id"])["MountTargets"]
    account["efs"].modify_mount_target_security_groups(MountTargetId=mount_targets[0]["MountTargetId"], SecurityGroups=[other])


def _lifecycle_changed(account, ids):
    account["efs"].put_lifecycle_configuration(FileSystemId=ids["fs_id"], LifecyclePolicies=[{"TransitionToIA": "AFTER_7_DAYS"}])


def _policy_changed(account, ids):
    policy = dict(TLS_ONLY, Statement=[dict(TLS_ONLY["Statement"][0], Sid="Other", Action="elasticfilesystem:*")])
    account["efs"].put_file_system_policy(FileSystemId=ids["fs_id"], Policy=json.dumps(policy))


def _versioning_suspended(account, ids):
    account["s3"].put_bucket_versioning(Bucket=ids["bucket"], VersioningConfiguration={"Status": "Suspended"})


def _public_access_deleted(account, ids):
    account["s3"].delete_public_access_block(Bucket=ids["bucket"])


def _public_access_loosened(account, ids):
    account["s3"].put_public_access_block(Bucket=ids["bucket"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})


def _encryption_deleted(account, ids):
    account["s3"].delete_bucket_encryption(Bucket=ids["bucket"])


def _ownership_changed(account, ids):
    account["s3"].put_bucket_ownership_controls(Bucket=ids["bucket"], OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})


def _bucket_tagged(**tags):
    def change(account, ids):
        account["s3"].put_bucket_tagging(Bucket=ids["bucket"], Tagging={"TagSet": [
            {"Key": k, "Value": v} for k, v in dict(TAGS, **tags).items()]})
    return change


# case: (the change after build, the part that drifts, the one difference after "<resource name>: ")
SINGLE_DIFFERENCES = {
    "sg-rule-removed": (_revoke_rule, "security_group", "rule tcp 2049-2049 from 10.0.2.0/24 missing"),
    "sg-rule-added": (_extra_rule, "security_group", "rule tcp 22-22 from 0.0.0.0/0 not wanted"),
    "sg-rule-description": (_rule_redescribed, "security_group", "rule tcp 2049-2049 from 10.0.1.0/24 description differs"),
    "sg-tag-value": (_sg_tagged(team="web"), "security_group", "tag team differs"),
    "sg-tag-extra": (_sg_tagged(owner="someone"), "security_group", "tag owner not wanted"),
    "efs-tag-value": (_efs_tagged, "file_system", "tag team differs"),
    "efs-mount-target-missing": (_mount_target_deleted, "file_system", "mount target in {subnet1} missing"),
    "efs-mount-target-groups": (_mount_target_regrouped, "file_system", "mount target in {subnet0} in other security groups"),
    "efs-lifecycle": (_lifecycle_changed, "file_system", "lifecycle differs"),
    "efs-policy": (_policy_changed, "file_system", "policy differs"),
    "s3-versioning-off": (_versioning_suspended, "bucket", "versioning is Suspended"),
    "s3-public-access-off": (_public_access_deleted, "bucket", "public access block differs"),
    "s3-public-access-loosened": (_public_access_loosened, "bucket", "public access block differs"),
    "s3-encryption-missing": (_encryption_deleted, "bucket", "default encryption is off"),
    "s3-ownership": (_ownership_changed, "bucket", "object ownership is ObjectWriter"),
    "s3-tag-value": (_bucket_tagged(team="web"), "bucket", "tag team differs"),
    "s3-tag-extra": (_bucket_tagged(owner="someone"), "bucket", "tag owner not wanted"),
}
RESOURCE = {"security_group": "security group {name}-efs", "file_system": "file system {name}-models",
            "bucket": "bucket {name}-bucket"}


@pytest.mark.parametrize("case", sorted(SINGLE_DIFFERENCES))
def test_each_single_difference_drifts_its_part_and_is_named(account, case):
    change, part, difference = SINGLE_DIFFERENCES[case]
    ids = build(account, case)
    change(account, ids)
    result = DRIFT(drift_options(account, case))
    subnets = dict(("subnet%d" % index, subnet) for index, subnet in enumerate(account["subnets"]))
    assert result["differences"] == ["%s: %s" % (RESOURCE[part].format(name=case), difference.format(**subnets))], result
    assert drifted_parts(result) == dict(NOTHING, **{part: True}) and result["drifted"] is True
    assert (result["security_group_id"], result["file_system_id"], result["bucket_name"]) == (ids["group_id"], ids["fs_id"], ids["bucket"])


def test_what_the_write_modules_would_leave_alone_does_not_drift(account):
    ids = build(account, "alone")
    _sg_tagged(owner="someone")(account, ids)
    _bucket_tagged(owner="someone")(account, ids)
    _versioning_suspended(account, ids)
    _lifecycle_changed(account, ids)
    result = DRIFT(drift_options(
        account, "alone", sg=sg_options(account, "alone", purge_tags=False),
        efs=efs_options("alone", lifecycle=None), bucket=bucket_options("alone", purge_tags=False, versioning=None)))
    assert result["differences"] == [] and drifted_parts(result) == NOTHING


def test_a_missing_security_group_drifts_the_file_system_too(account):
    ids = build(account, "nogroup")
    result = DRIFT(drift_options(account, "nogroup", sg=dict(sg_options(account, "nogroup"), name="renamed-efs")))
    assert drifted_parts(result) == {"security_group": True, "file_system": True, "bucket": False}
    assert result["differences"] == ["security group renamed-efs: missing",
                                     "file system nogroup-models: its mount targets' security group is missing"]
    assert result["file_system_id"] == ids["fs_id"] and result["security_group_id"] is None


def test_parts_not_asked_for_are_not_read(account):
    result = DRIFT({"bucket": bucket_options("only")})
    assert result["differences"] == ["bucket only-bucket: missing"]
    assert drifted_parts(result) == {"security_group": False, "file_system": False, "bucket": True}


def test_a_bucket_setting_that_cannot_be_read_drifts(account, monkeypatch):
    build(account, "unreadable")

    def refused(client, bucket):
        raise amazon_s3.AnsibleS3PermissionsError(message="Failed to get bucket encryption settings (permission denied)")
    monkeypatch.setattr(module_under_test, "get_s3_bucket_encryption", refused)
    result = DRIFT(drift_options(account, "unreadable"))
    assert result["differences"] == ["bucket unreadable-bucket: encryption cannot be read"]
    assert drifted_parts(result) == dict(NOTHING, bucket=True)


def test_a_read_that_fails_otherwise_fails_the_module(stubbed_client):
    dummy, stubber = stubbed_client("ec2")
    stubber.add_client_error("describe_security_groups", service_error_code="UnauthorizedOperation", http_status_code=403)
    failed = DRIFT.failing({"security_group": {"name": "demo-efs", "vpc_id": "vpc-1"}})
    assert "Failed to read the model storage" in failed["msg"]
