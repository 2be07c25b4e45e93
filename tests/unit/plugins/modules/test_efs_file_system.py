# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.efs_file_system.

The reconcile logic is tested as pure functions; whole-module runs execute
main() in-process against moto (what moto implements) or a botocore Stubber
(UpdateFileSystem, PutBackupPolicy and DeleteFileSystemPolicy, which moto lacks,
and the timing of waits).
"""

import datetime
import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.eks_llm.inference.plugins.module_utils import common
from ansible_collections.eks_llm.inference.plugins.module_utils import efs as efs_compare
from ansible_collections.eks_llm.inference.plugins.modules import efs_file_system as efs
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

REGION = "us-west-2"

TLS_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


# ---------------------------------------------------------------------------
# Harness
# ---------------------------------------------------------------------------


RUN = ModuleRunner(efs.main, region=REGION)


@pytest.fixture(autouse=True)
def harness(monkeypatch):
    """No waiting between polls; returns the warnings the module gives in this test."""
    monkeypatch.setattr(efs, "POLL_DELAY", 0)
    monkeypatch.setattr(RUN, "warnings", [])
    return RUN.warnings


def run(args, check_mode=False, diff=True):
    """Run the module, which must succeed; return its result."""
    return RUN(args, check_mode, diff)


def run_failing(args, check_mode=False):
    """Run the module, which must fail; return its result."""
    return RUN.failing(args, check_mode)


@pytest.fixture
def aws():
    """moto with a VPC of three subnets (three AZs) and two security groups."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.%d.0/24" % i, AvailabilityZone=REGION + az)["Subnet"][
                "SubnetId"
            ]
            for i, az in enumerate("abc")
        ]
        groups = [
            ec2.create_security_group(GroupName="efs-%d" % i, Description="efs", VpcId=vpc_id)["GroupId"]
            for i in range(2)
        ]
        yield {"efs": boto3.client("efs", region_name=REGION), "subnets": subnets, "groups": groups}


@pytest.fixture
def stubbed(stubbed_client):
    """The Stubber answering the EFS client the module uses."""
    return stubbed_client("efs")[1]


def mount_targets_by_subnet(client, fs_id):
    result = {}
    for mt in client.describe_mount_targets(FileSystemId=fs_id)["MountTargets"]:
        groups = client.describe_mount_target_security_groups(MountTargetId=mt["MountTargetId"]).get("SecurityGroups", [])
        result[mt["SubnetId"]] = sorted(groups)
    return result


def full_args(aws, **overrides):
    args = {
        "name": "model-cache",
        "lifecycle": {"transition_to_ia": "AFTER_30_DAYS", "transition_to_primary_storage_class": "AFTER_1_ACCESS"},
        "backup": True,
        "file_system_policy": TLS_ONLY_POLICY,
        "mount_targets": [
            {"subnet_id": aws["subnets"][0], "security_groups": [aws["groups"][0]]},
            {"subnet_id": aws["subnets"][1], "security_groups": [aws["groups"][0]]},
        ],
        "tags": {"team": "ml", "app.kubernetes.io/part-of": "eks-llm-inference"},
    }
    args.update(overrides)
    return args


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------


def _mt(mt_id, subnet, groups, state="available"):
    return {"MountTargetId": mt_id, "SubnetId": subnet, "SecurityGroups": groups, "LifeCycleState": state}


class TestPlanMountTargets:
    def test_create_delete_modify(self):
        current = [
            _mt("fsmt-a", "subnet-a", ["sg-1"]),
            _mt("fsmt-b", "subnet-b", ["sg-1", "sg-2"]),
            _mt("fsmt-x", "subnet-x", ["sg-1"]),
        ]
        wanted = [
            {"subnet_id": "subnet-a", "security_groups": ["sg-1"]},
            {"subnet_id": "subnet-b", "security_groups": ["sg-3"]},
            {"subnet_id": "subnet-d", "security_groups": ["sg-1"]},
        ]
        plan = efs_compare.plan_mount_targets(current, wanted)
        assert plan == {
            "create": [{"subnet_id": "subnet-d", "security_groups": ["sg-1"]}],
            "delete": ["fsmt-x"],
            "modify": [{"mount_target_id": "fsmt-b", "subnet_id": "subnet-b", "security_groups": ["sg-3"]}],
        }

    def test_group_order_and_duplicates_do_not_count(self):
        current = [_mt("fsmt-a", "subnet-a", ["sg-2", "sg-1"])]
        plan = efs_compare.plan_mount_targets(current, [{"subnet_id": "subnet-a", "security_groups": ["sg-1", "sg-2", "sg-1"]}])
        assert plan == {"create": [], "delete": [], "modify": []}

    def test_none_leaves_mount_targets_alone(self):
        assert efs_compare.plan_mount_targets([_mt("fsmt-a", "subnet-a", ["sg-1"])], None) == {
            "create": [], "delete": [], "modify": []}

    def test_empty_list_deletes_all(self):
        current = [_mt("fsmt-a", "subnet-a", ["sg-1"]), _mt("fsmt-b", "subnet-b", None, state="creating")]
        assert efs_compare.plan_mount_targets(current, [])["delete"] == ["fsmt-a", "fsmt-b"]

    def test_groups_not_given_or_unknown_are_not_modified(self):
        current = [_mt("fsmt-a", "subnet-a", ["sg-1"]), _mt("fsmt-b", "subnet-b", None, state="creating")]
        wanted = [{"subnet_id": "subnet-a", "security_groups": None}, {"subnet_id": "subnet-b", "security_groups": ["sg-9"]}]
        assert efs_compare.plan_mount_targets(current, wanted) == {"create": [], "delete": [], "modify": []}

    def test_mount_target_being_deleted_counts_as_gone(self):
        current = [_mt("fsmt-a", "subnet-a", None, state="deleting")]
        plan = efs_compare.plan_mount_targets(current, [{"subnet_id": "subnet-a", "security_groups": None}])
        assert plan == {"create": [{"subnet_id": "subnet-a", "security_groups": None}], "delete": [], "modify": []}


class TestLifecycle:
    def test_round_trip(self):
        wanted = {"transition_to_ia": "AFTER_30_DAYS", "transition_to_archive": "AFTER_90_DAYS",
                  "transition_to_primary_storage_class": None}
        policies = efs_compare.lifecycle_to_policies(wanted)
        assert policies == [{"TransitionToIA": "AFTER_30_DAYS"}, {"TransitionToArchive": "AFTER_90_DAYS"}]
        assert efs_compare.lifecycle_from_policies(policies) == wanted

    def test_unchanged(self):
        current = efs_compare.lifecycle_from_policies([{"TransitionToIA": "AFTER_7_DAYS"}])
        assert efs_compare.lifecycle_change(current, {"transition_to_ia": "AFTER_7_DAYS"}) is None

    def test_changed(self):
        current = efs_compare.lifecycle_from_policies([{"TransitionToIA": "AFTER_7_DAYS"}])
        assert efs_compare.lifecycle_change(current, {"transition_to_ia": "AFTER_14_DAYS"}) == [
            {"TransitionToIA": "AFTER_14_DAYS"}]

    def test_empty_clears_and_none_leaves(self):
        current = efs_compare.lifecycle_from_policies([{"TransitionToIA": "AFTER_7_DAYS"}])
        assert efs_compare.lifecycle_change(current, {}) == []
        assert efs_compare.lifecycle_change(current, {"transition_to_ia": None}) == []
        assert efs_compare.lifecycle_change(current, None) is None
        assert efs_compare.lifecycle_change(efs_compare.lifecycle_from_policies([]), {}) is None


class TestPolicyAndBackup:
    def test_policy_equal_modulo_formatting(self):
        current = json.loads(json.dumps(TLS_ONLY_POLICY))
        current["Statement"][0]["Action"] = ["*"]  # a one-element list is the same as the string
        wanted = {"Statement": list(TLS_ONLY_POLICY["Statement"]), "Version": "2012-10-17"}
        assert efs_compare.policy_change(current, wanted) is None

    def test_policy_put_when_different_or_missing(self):
        other = json.loads(json.dumps(TLS_ONLY_POLICY))
        other["Statement"][0]["Effect"] = "Allow"
        assert efs_compare.policy_change(TLS_ONLY_POLICY, other) == ("put", other)
        assert efs_compare.policy_change(None, TLS_ONLY_POLICY) == ("put", TLS_ONLY_POLICY)

    def test_policy_empty_deletes_and_none_leaves(self):
        assert efs_compare.policy_change(TLS_ONLY_POLICY, {}) == ("delete", None)
        assert efs_compare.policy_change(None, {}) is None
        assert efs_compare.policy_change(TLS_ONLY_POLICY, None) is None

    @pytest.mark.parametrize(
        "status, wanted, expected",
        [
            (None, True, "ENABLED"),
            ("DISABLED", True, "ENABLED"),
            ("ENABLING", True, None),
            ("ENABLED", False, "DISABLED"),
            ("DISABLING", False, None),
            (None, False, None),
            ("ENABLED", None, None),
        ],
    )
    def test_backup_change(self, status, wanted, expected):
        assert efs_compare.backup_change(efs_compare.backup_enabled(status), wanted) == expected


class TestThroughputAndNaming:
    def test_throughput_changes(self):
        bursting = {"ThroughputMode": "bursting"}
        assert efs_compare.throughput_change(bursting, "elastic", None) == {"ThroughputMode": "elastic"}
        assert efs_compare.throughput_change(bursting, "provisioned", 128) == {
            "ThroughputMode": "provisioned", "ProvisionedThroughputInMibps": 128.0}
        provisioned = {"ThroughputMode": "provisioned", "ProvisionedThroughputInMibps": 128.0}
        assert efs_compare.throughput_change(provisioned, "provisioned", 128) == {}
        assert efs_compare.throughput_change(provisioned, "provisioned", 64) == {"ProvisionedThroughputInMibps": 64.0}
        assert efs_compare.throughput_change({"ThroughputMode": "elastic"}, "elastic", None) == {}

    def test_creation_token(self):
        assert efs.creation_token("model-cache") == "model-cache"
        long_a, long_b = "x" * 70 + "a", "x" * 70 + "b"
        assert len(efs.creation_token(long_a)) <= 64
        assert efs.creation_token(long_a) != efs.creation_token(long_b)

    def test_dns_name(self):
        assert efs.dns_name("fs-1", "us-west-2") == "fs-1.efs.us-west-2.amazonaws.com"
        assert efs.dns_name("fs-1", "cn-north-1") == "fs-1.efs.cn-north-1.amazonaws.com.cn"

    def test_wanted_tags(self):
        assert efs_compare.wanted_tags({"name": "n", "tags": None, "purge_tags": True}) == ({"Name": "n"}, False)
        assert efs_compare.wanted_tags({"name": "n", "tags": {"a": "1"}, "purge_tags": True}) == ({"a": "1", "Name": "n"}, True)
        assert efs_compare.wanted_tags({"name": None, "tags": None, "purge_tags": True}) == (None, False)

    def test_create_only_drift(self):
        fs = {"FileSystemId": "fs-1", "Encrypted": False, "PerformanceMode": "generalPurpose",
              "KmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/k1"}
        params = {"encrypted": True, "performance_mode": "maxIO", "kms_key_id": "k1"}
        warnings = efs_compare.create_only_drift(fs, params)
        assert len(warnings) == 2
        assert "encrypted=False" in warnings[0] and "performance_mode=generalPurpose" in warnings[1]


# ---------------------------------------------------------------------------
# Whole module against moto
# ---------------------------------------------------------------------------


class TestModuleWithMoto:
    def test_create(self, aws):
        result = run(full_args(aws))
        assert result["changed"] is True
        fs = result["file_system"]
        fs_id = fs["file_system_id"]
        assert fs["name"] == "model-cache"
        assert fs["dns_name"] == "%s.efs.%s.amazonaws.com" % (fs_id, REGION)
        assert fs["throughput_mode"] == "elastic"
        assert fs["encrypted"] is True
        assert fs["tags"] == {"Name": "model-cache", "team": "ml", "app.kubernetes.io/part-of": "eks-llm-inference"}
        assert fs["lifecycle"] == {"transition_to_ia": "AFTER_30_DAYS", "transition_to_archive": None,
                                   "transition_to_primary_storage_class": "AFTER_1_ACCESS"}
        assert fs["backup"] is True
        assert fs["file_system_policy"] == TLS_ONLY_POLICY
        assert sorted(mt["subnet_id"] for mt in result["mount_targets"]) == sorted(aws["subnets"][:2])
        assert all(mt["security_groups"] == [aws["groups"][0]] for mt in result["mount_targets"])
        assert result["diff"]["before"] == {}
        assert result["diff"]["after"]["file_system_id"] == fs_id

        # What AWS (moto) holds, read back independently of the module.
        client = aws["efs"]
        described = client.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]
        assert described["ThroughputMode"] == "elastic" and described["Encrypted"] is True
        assert described["CreationToken"] == "model-cache"
        assert client.describe_lifecycle_configuration(FileSystemId=fs_id)["LifecyclePolicies"] == [
            {"TransitionToIA": "AFTER_30_DAYS"}, {"TransitionToPrimaryStorageClass": "AFTER_1_ACCESS"}]
        assert json.loads(client.describe_file_system_policy(FileSystemId=fs_id)["Policy"]) == TLS_ONLY_POLICY
        assert client.describe_backup_policy(FileSystemId=fs_id)["BackupPolicy"]["Status"] == "ENABLED"
        assert mount_targets_by_subnet(client, fs_id) == {
            aws["subnets"][0]: [aws["groups"][0]], aws["subnets"][1]: [aws["groups"][0]]}

    def test_rerun_is_unchanged(self, aws):
        first = run(full_args(aws))
        second = run(full_args(aws))
        assert second["changed"] is False
        assert second["file_system"]["file_system_id"] == first["file_system"]["file_system_id"]
        assert second["diff"]["before"] == second["diff"]["after"]
        assert len(aws["efs"].describe_file_systems()["FileSystems"]) == 1

    def test_update(self, aws):
        fs_id = run(full_args(aws))["file_system"]["file_system_id"]
        client = aws["efs"]
        other_policy = json.loads(json.dumps(TLS_ONLY_POLICY))
        other_policy["Statement"][0]["Sid"] = "NoPlainText"
        args = full_args(
            aws,
            tags={"team": "inference"},
            lifecycle={"transition_to_ia": "AFTER_7_DAYS", "transition_to_archive": "AFTER_90_DAYS"},
            file_system_policy=other_policy,
            mount_targets=[
                {"subnet_id": aws["subnets"][0], "security_groups": [aws["groups"][1]]},  # groups change
                {"subnet_id": aws["subnets"][2], "security_groups": [aws["groups"][0]]},  # subnet 1 -> 2
            ],
        )
        result = run(args)
        assert result["changed"] is True
        assert result["file_system"]["file_system_id"] == fs_id
        assert result["file_system"]["tags"] == {"Name": "model-cache", "team": "inference"}
        assert result["diff"]["before"]["tags"]["team"] == "ml"
        assert result["diff"]["after"]["tags"] == {"Name": "model-cache", "team": "inference"}

        tags = client.list_tags_for_resource(ResourceId=fs_id)["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == {"Name": "model-cache", "team": "inference"}
        assert client.describe_lifecycle_configuration(FileSystemId=fs_id)["LifecyclePolicies"] == [
            {"TransitionToIA": "AFTER_7_DAYS"}, {"TransitionToArchive": "AFTER_90_DAYS"}]
        assert json.loads(client.describe_file_system_policy(FileSystemId=fs_id)["Policy"]) == other_policy
        assert mount_targets_by_subnet(client, fs_id) == {
            aws["subnets"][0]: [aws["groups"][1]], aws["subnets"][2]: [aws["groups"][0]]}
        assert run(args)["changed"] is False

    def test_tags_not_purged_without_purge_tags(self, aws):
        fs_id = run(full_args(aws))["file_system"]["file_system_id"]
        result = run(full_args(aws, tags={"extra": "1"}, purge_tags=False))
        assert result["changed"] is True
        tags = {t["Key"]: t["Value"] for t in aws["efs"].list_tags_for_resource(ResourceId=fs_id)["Tags"]}
        assert tags == {"Name": "model-cache", "team": "ml", "app.kubernetes.io/part-of": "eks-llm-inference",
                        "extra": "1"}

    def test_check_mode_create_changes_nothing(self, aws):
        result = run(full_args(aws), check_mode=True)
        assert result["changed"] is True
        assert "file_system_id" not in result["file_system"]
        assert result["file_system"]["name"] == "model-cache"
        assert result["diff"]["after"]["backup"] is True
        assert [mt["subnet_id"] for mt in result["mount_targets"]] == aws["subnets"][:2]
        assert aws["efs"].describe_file_systems()["FileSystems"] == []

    def test_check_mode_update_predicts_and_changes_nothing(self, aws):
        fs_id = run(full_args(aws))["file_system"]["file_system_id"]
        args = full_args(aws, tags={"team": "inference"},
                         mount_targets=[{"subnet_id": aws["subnets"][2], "security_groups": [aws["groups"][1]]}])
        predicted = run(args, check_mode=True)
        assert predicted["changed"] is True
        client = aws["efs"]
        assert sorted(mount_targets_by_subnet(client, fs_id)) == sorted(aws["subnets"][:2])
        tags = {t["Key"]: t["Value"] for t in client.list_tags_for_resource(ResourceId=fs_id)["Tags"]}
        assert tags["team"] == "ml"
        applied = run(args)
        assert predicted["diff"]["after"] == applied["diff"]["after"]

    def test_absent_removes_access_points_mount_targets_and_file_system(self, aws):
        fs_id = run(full_args(aws))["file_system"]["file_system_id"]
        client = aws["efs"]
        for path in ("/models/a", "/models/b"):
            client.create_access_point(FileSystemId=fs_id, RootDirectory={"Path": path})
        assert len(client.describe_access_points(FileSystemId=fs_id)["AccessPoints"]) == 2

        in_check_mode = run({"name": "model-cache", "state": "absent"}, check_mode=True)
        assert in_check_mode["changed"] is True
        assert len(client.describe_file_systems()["FileSystems"]) == 1

        result = run({"name": "model-cache", "state": "absent"})
        assert result["changed"] is True
        assert result["file_system"] == {} and result["mount_targets"] == []
        assert result["diff"]["before"]["file_system_id"] == fs_id and result["diff"]["after"] == {}
        assert client.describe_file_systems()["FileSystems"] == []
        assert client.describe_access_points()["AccessPoints"] == []
        assert run({"name": "model-cache", "state": "absent"})["changed"] is False

    def test_identity_by_id_and_missing_id(self, aws):
        fs_id = run(full_args(aws))["file_system"]["file_system_id"]
        by_id = run({"file_system_id": fs_id, "mount_targets": []})
        assert by_id["changed"] is True and by_id["mount_targets"] == []
        assert aws["efs"].describe_mount_targets(FileSystemId=fs_id)["MountTargets"] == []
        failure = run_failing({"file_system_id": "fs-0000000000000000f"})
        assert "fs-0000000000000000f does not exist" in failure["msg"]
        assert run({"file_system_id": "fs-0000000000000000f", "state": "absent"})["changed"] is False

    def test_two_file_systems_with_one_name_fail(self, aws):
        for token in ("one", "two"):
            aws["efs"].create_file_system(CreationToken=token, Tags=[{"Key": "Name", "Value": "dup"}])
        failure = run_failing({"name": "dup"})
        assert "2 file systems have the Name tag dup" in failure["msg"]

    def test_create_only_options_warn(self, aws, harness):
        aws["efs"].create_file_system(CreationToken="plain", Encrypted=False, ThroughputMode="elastic",
                                      Tags=[{"Key": "Name", "Value": "plain"}])
        result = run({"name": "plain"})
        assert result["changed"] is False
        assert any("encrypted=False" in warning for warning in harness)

    @pytest.mark.parametrize(
        "args, message",
        [
            ({"name": "x", "throughput_mode": "elastic", "provisioned_throughput_in_mibps": 10},
             "requires throughput_mode=provisioned"),
            ({"name": "x", "throughput_mode": "provisioned"}, "provisioned_throughput_in_mibps"),
            ({"name": "x", "mount_targets": [{"subnet_id": "subnet-a"}, {"subnet_id": "subnet-a"}]},
             "more than once: subnet-a"),
            ({"state": "absent"}, "one of the following is required: name, file_system_id"),
        ],
    )
    def test_invalid_arguments(self, aws, args, message):
        assert message in run_failing(args)["msg"]


# ---------------------------------------------------------------------------
# Whole module against a Stubber (what moto lacks; waits)
# ---------------------------------------------------------------------------

FS_ID = "fs-0123456789abcdef0"
MT_ID = "fsmt-0123456789abcdef0"
SUBNET_ID = "subnet-0123456789abcdef0"
SG_ID = "sg-0123456789abcdef0"
AP_IDS = ("fsap-0123456789abcdef1", "fsap-0123456789abcdef2")
CREATED = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def fs_description(state="available", mode="bursting", **extra):
    description = {
        "OwnerId": "123456789012",
        "CreationToken": "model-cache",
        "FileSystemId": FS_ID,
        "FileSystemArn": "arn:aws:elasticfilesystem:us-west-2:123456789012:file-system/" + FS_ID,
        "CreationTime": CREATED,
        "LifeCycleState": state,
        "Name": "model-cache",
        "NumberOfMountTargets": 0,
        "SizeInBytes": {"Value": 6144},
        "PerformanceMode": "generalPurpose",
        "Encrypted": True,
        "ThroughputMode": mode,
        "Tags": [{"Key": "Name", "Value": "model-cache"}],
    }
    description.update(extra)
    return description


def expect_describe(stubber, *descriptions):
    for description in descriptions:
        stubber.add_response("describe_file_systems", {"FileSystems": [description]}, {"FileSystemId": FS_ID})


def expect_read_state(stubber, policy=None, backup="DISABLED", mount_targets=()):
    ident = {"FileSystemId": FS_ID}
    if policy is None:
        stubber.add_client_error("describe_file_system_policy", "PolicyNotFound", http_status_code=404,
                                 expected_params=ident)
    else:
        stubber.add_response("describe_file_system_policy", {"FileSystemId": FS_ID, "Policy": json.dumps(policy)},
                             ident)
    stubber.add_response("describe_lifecycle_configuration", {"LifecyclePolicies": []}, ident)
    stubber.add_response("describe_backup_policy", {"BackupPolicy": {"Status": backup}}, ident)
    stubber.add_response("describe_mount_targets", {"MountTargets": list(mount_targets)}, ident)


class TestModuleWithStubber:
    def test_update_throughput_backup_and_delete_policy(self, stubbed):
        expect_describe(stubbed, fs_description(mode="bursting"))
        expect_read_state(stubbed, policy=TLS_ONLY_POLICY, backup="DISABLED")
        stubbed.add_response("put_backup_policy", {"BackupPolicy": {"Status": "ENABLING"}},
                             {"FileSystemId": FS_ID, "BackupPolicy": {"Status": "ENABLED"}})
        stubbed.add_response("delete_file_system_policy", {}, {"FileSystemId": FS_ID})
        stubbed.add_response("update_file_system", fs_description(state="updating", mode="elastic"),
                             {"FileSystemId": FS_ID, "ThroughputMode": "elastic"})
        # wait=true: polls until the update is done
        expect_describe(stubbed, fs_description(state="updating", mode="elastic"), fs_description(mode="elastic"))
        # the result is read back
        expect_describe(stubbed, fs_description(mode="elastic"))
        expect_read_state(stubbed, policy=None, backup="ENABLING")

        result = run({"file_system_id": FS_ID, "backup": True, "file_system_policy": {}})
        assert result["changed"] is True
        assert result["file_system"]["throughput_mode"] == "elastic"
        assert result["file_system"]["backup"] is True
        assert result["file_system"]["file_system_policy"] == {}
        assert result["diff"]["before"]["throughput_mode"] == "bursting"
        assert result["diff"]["before"]["file_system_policy"] == TLS_ONLY_POLICY

    def test_throughput_change_refused_within_24_hours(self, stubbed):
        expect_describe(stubbed, fs_description(mode="elastic"))
        expect_read_state(stubbed)
        stubbed.add_client_error(
            "update_file_system",
            service_error_code="TooManyRequests",
            service_message="You have reached the maximum number of throughput mode changes. Try again after 2026-01-02T00:00:00Z",
            http_status_code=429,
            expected_params={"FileSystemId": FS_ID, "ThroughputMode": "provisioned",
                             "ProvisionedThroughputInMibps": 256.0},
        )
        failure = run_failing({"file_system_id": FS_ID, "throughput_mode": "provisioned",
                               "provisioned_throughput_in_mibps": 256})
        assert "AWS refused to change the throughput of %s" % FS_ID in failure["msg"]
        assert "once every 24 hours" in failure["msg"]
        assert "Try again after 2026-01-02T00:00:00Z" in failure["msg"]
        assert failure["error"]["code"] == "TooManyRequests"

    def test_other_throughput_change_errors_fail_naming_the_change(self, stubbed):
        expect_describe(stubbed, fs_description(mode="elastic"))
        expect_read_state(stubbed)
        stubbed.add_client_error("update_file_system", service_error_code="BadRequest", service_message="not in this region",
                                 http_status_code=400)
        failure = run_failing({"file_system_id": FS_ID, "throughput_mode": "provisioned",
                               "provisioned_throughput_in_mibps": 256})
        assert failure["msg"].startswith('Failed to change the throughput of %s to {"ProvisionedThroughputInMibps": 256.0, '
                                         '"ThroughputMode": "provisioned"}: ' % FS_ID)
        assert "not in this region" in failure["msg"] and failure["error"]["code"] == "BadRequest"

    def test_absent_waits_for_mount_targets_before_deleting(self, stubbed):
        mount_target = {"MountTargetId": MT_ID, "FileSystemId": FS_ID, "SubnetId": SUBNET_ID,
                        "LifeCycleState": "available", "OwnerId": "123456789012"}
        ident = {"FileSystemId": FS_ID}
        expect_describe(stubbed, fs_description(NumberOfMountTargets=1))
        expect_read_state(stubbed, mount_targets=[mount_target])
        stubbed.add_response("describe_mount_target_security_groups", {"SecurityGroups": [SG_ID]},
                             {"MountTargetId": MT_ID})
        stubbed.add_response("describe_access_points", {"AccessPoints": [
            {"AccessPointId": AP_IDS[0], "FileSystemId": FS_ID}, {"AccessPointId": AP_IDS[1], "FileSystemId": FS_ID}]},
            ident)
        stubbed.add_response("delete_access_point", {}, {"AccessPointId": AP_IDS[0]})
        stubbed.add_response("delete_access_point", {}, {"AccessPointId": AP_IDS[1]})
        stubbed.add_response("describe_mount_targets", {"MountTargets": [mount_target]}, ident)
        stubbed.add_response("delete_mount_target", {}, {"MountTargetId": MT_ID})
        stubbed.add_response("describe_mount_targets", {"MountTargets": [dict(mount_target, LifeCycleState="deleting")]},
                             ident)
        stubbed.add_response("describe_mount_targets", {"MountTargets": []}, ident)
        stubbed.add_response("delete_file_system", {}, ident)
        expect_describe(stubbed, fs_description(state="deleting"))
        stubbed.add_client_error("describe_file_systems", "FileSystemNotFound", http_status_code=404,
                                 expected_params=ident)

        result = run({"file_system_id": FS_ID, "state": "absent"})
        assert result["changed"] is True
        assert result["diff"]["before"]["mount_targets"] == [{"subnet_id": SUBNET_ID, "security_groups": [SG_ID]}]

    def test_wait_timeout_is_reported(self, stubbed, monkeypatch):
        monkeypatch.setattr(efs, "wait_until", _timeout_immediately)
        ident = {"FileSystemId": FS_ID}
        expect_describe(stubbed, fs_description())
        expect_read_state(stubbed)
        stubbed.add_response("describe_access_points", {"AccessPoints": []}, ident)
        stubbed.add_response("describe_mount_targets", {"MountTargets": []}, ident)
        stubbed.add_response("delete_file_system", {}, ident)
        expect_describe(stubbed, fs_description(state="deleting"))  # the one poll before the deadline
        failure = run_failing({"file_system_id": FS_ID, "state": "absent", "wait_timeout": 1})
        assert "Waiting for file system %s to be deleted failed" % FS_ID in failure["msg"]

    def test_creation_token_taken_by_a_renamed_file_system(self, stubbed):
        stubbed.add_response("describe_file_systems", {"FileSystems": [fs_description(Name="renamed")]}, {})
        stubbed.add_client_error(
            "create_file_system", "FileSystemAlreadyExists", "File system already exists", http_status_code=409,
            expected_params={"CreationToken": "model-cache", "Encrypted": True, "ThroughputMode": "elastic",
                             "Tags": [{"Key": "Name", "Value": "model-cache"}]},
        )
        failure = run_failing({"name": "model-cache"})
        assert "creation token model-cache already exists but does not carry the Name tag model-cache" in failure["msg"]

    def test_aws_error_is_reported(self, stubbed):
        stubbed.add_client_error("describe_file_systems", "AccessDeniedException", "not allowed",
                                 http_status_code=403, expected_params={})
        failure = run_failing({"name": "model-cache"})
        assert failure["msg"].startswith("Failed to list file systems")
        assert "not allowed" in failure["msg"]


def _timeout_immediately(fetch, done, timeout, delay=5, failed=None):
    raise common.WaitTimeout("timed out after %ss waiting; last state: %s" % (timeout, fetch()))


def test_returned_file_system_shape():
    state = {
        "file_system": fs_description(mode="elastic"),
        "lifecycle": efs_compare.lifecycle_from_policies([]),
        "backup": False,
        "policy": None,
        "mount_targets": [],
    }
    returned = efs.returned_file_system(state, REGION)
    assert returned["file_system_id"] == FS_ID
    assert returned["dns_name"] == FS_ID + ".efs.us-west-2.amazonaws.com"
    assert returned["creation_time"].startswith("2026-01-01")
    assert returned["tags"] == {"Name": "model-cache"}
    assert returned["file_system_policy"] == {}
    assert efs.returned_file_system(None, REGION) == {}


def test_gpu_style_check_mode_predicts_provisioned_create():
    params = {"name": "n", "tags": None, "purge_tags": True, "encrypted": True, "kms_key_id": None,
              "performance_mode": None, "throughput_mode": "provisioned", "provisioned_throughput_in_mibps": 64,
              "lifecycle": None, "backup": None, "file_system_policy": None, "mount_targets": None}
    view = efs.diff_view(efs.new_state(params))
    assert view["throughput_mode"] == "provisioned"
    assert view["provisioned_throughput_in_mibps"] == 64.0
    assert view["tags"] == {"Name": "n"}
    assert view["backup"] is False and view["mount_targets"] == []
