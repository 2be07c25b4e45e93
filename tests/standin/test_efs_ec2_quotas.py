"""EFS, EC2 NAT gateways and Service Quotas through boto3 against the stand-in."""
import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.standin.helpers import FAST, error_code, until


def test_efs_backup_policy_is_stateful(aws):
    efs = aws("efs")
    fs_id = efs.create_file_system(CreationToken=str(uuid.uuid4()), Encrypted=True)["FileSystemId"]
    with pytest.raises(ClientError) as none_yet:
        efs.describe_backup_policy(FileSystemId=fs_id)
    assert error_code(none_yet) == "PolicyNotFound"
    assert efs.put_backup_policy(FileSystemId=fs_id, BackupPolicy={"Status": "ENABLED"})["BackupPolicy"] == {"Status": "ENABLED"}
    assert efs.describe_backup_policy(FileSystemId=fs_id)["BackupPolicy"]["Status"] == "ENABLED"
    efs.put_backup_policy(FileSystemId=fs_id, BackupPolicy={"Status": "DISABLED"})
    assert efs.describe_backup_policy(FileSystemId=fs_id)["BackupPolicy"]["Status"] == "DISABLED"
    with pytest.raises(ClientError) as bad:
        efs.put_backup_policy(FileSystemId=fs_id, BackupPolicy={"Status": "MAYBE"})
    assert error_code(bad) == "ValidationException"
    with pytest.raises(ClientError) as missing:
        efs.put_backup_policy(FileSystemId="fs-00000000", BackupPolicy={"Status": "ENABLED"})
    assert error_code(missing) == "FileSystemNotFound"


def test_efs_update_policy_and_lifecycle(aws):
    efs = aws("efs")
    fs_id = efs.create_file_system(CreationToken=str(uuid.uuid4()), ThroughputMode="bursting")["FileSystemId"]
    assert efs.update_file_system(FileSystemId=fs_id, ThroughputMode="elastic")["ThroughputMode"] == "elastic"
    assert efs.describe_file_systems(FileSystemId=fs_id)["FileSystems"][0]["ThroughputMode"] == "elastic"
    with pytest.raises(ClientError) as needs_mibps:
        efs.update_file_system(FileSystemId=fs_id, ThroughputMode="provisioned")
    assert error_code(needs_mibps) == "BadRequest"
    efs.put_lifecycle_configuration(FileSystemId=fs_id, LifecyclePolicies=[{"TransitionToIA": "AFTER_30_DAYS"}])
    assert efs.describe_lifecycle_configuration(FileSystemId=fs_id)["LifecyclePolicies"] == [{"TransitionToIA": "AFTER_30_DAYS"}]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
                                                                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})
    efs.put_file_system_policy(FileSystemId=fs_id, Policy=policy)
    assert json.loads(efs.describe_file_system_policy(FileSystemId=fs_id)["Policy"]) == json.loads(policy)
    efs.delete_file_system_policy(FileSystemId=fs_id)
    with pytest.raises(ClientError) as gone:
        efs.describe_file_system_policy(FileSystemId=fs_id)
    assert error_code(gone) == "PolicyNotFound"


def test_efs_and_mount_targets_are_replayed(aws, aws_standin):
    ec2, efs = aws("ec2"), aws("efs")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24", AvailabilityZone="us-west-2a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"efs-{uuid.uuid4()}", Description="nfs", VpcId=vpc)["GroupId"]
    aws_standin.configure(time_scale=0.05)  # file system 10 s -> 0.5 s
    fs = efs.create_file_system(CreationToken=str(uuid.uuid4()))
    assert fs["LifeCycleState"] == "creating"
    with pytest.raises(ClientError) as too_early:
        efs.create_mount_target(FileSystemId=fs["FileSystemId"], SubnetId=subnet)
    assert error_code(too_early) == "IncorrectFileSystemLifeCycleState"
    until(lambda: efs.describe_file_systems(FileSystemId=fs["FileSystemId"])["FileSystems"][0]["LifeCycleState"] == "available")
    aws_standin.configure(time_scale=0.01)  # mount target 90 s -> 0.9 s, delete 60 s -> 0.6 s
    target = efs.create_mount_target(FileSystemId=fs["FileSystemId"], SubnetId=subnet, SecurityGroups=[group])
    assert target["LifeCycleState"] == "creating"
    assert efs.describe_mount_targets(MountTargetId=target["MountTargetId"])["MountTargets"][0]["LifeCycleState"] == "creating"
    until(lambda: efs.describe_mount_targets(MountTargetId=target["MountTargetId"])["MountTargets"][0]["LifeCycleState"] == "available")
    assert efs.describe_mount_target_security_groups(MountTargetId=target["MountTargetId"])["SecurityGroups"] == [group]
    efs.delete_mount_target(MountTargetId=target["MountTargetId"])
    [deleting] = efs.describe_mount_targets(FileSystemId=fs["FileSystemId"])["MountTargets"]
    assert deleting["LifeCycleState"] == "deleting"
    with pytest.raises(ClientError) as in_use:  # AWS keeps a deleting mount target until it is gone
        efs.delete_file_system(FileSystemId=fs["FileSystemId"])
    assert error_code(in_use) == "FileSystemInUse"
    mine = {e["operation"]: e for e in aws_standin.timeline() if fs["FileSystemId"] in e["resource"] or
            e["resource"] == target["MountTargetId"]}
    assert {op: (e["real_seconds"], round(e["end"] - e["start"], 6)) for op, e in mine.items()} == {
        "CreateFileSystem": (10, 0.5), "CreateMountTarget": (90, 0.9), "DeleteMountTarget": (60, 0.6)}


def test_nat_gateway_replayed_and_waiter(aws, aws_standin):
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.0.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    aws_standin.configure(time_scale=0.01)  # create 90 s -> 0.9 s, delete 60 s -> 0.6 s
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]
    assert nat["State"] == "pending"
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"] == "pending"
    ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[nat["NatGatewayId"]], WaiterConfig=FAST)
    ec2.delete_nat_gateway(NatGatewayId=nat["NatGatewayId"])
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat["NatGatewayId"]])["NatGateways"][0]["State"] == "deleting"
    ec2.get_waiter("nat_gateway_deleted").wait(NatGatewayIds=[nat["NatGatewayId"]], WaiterConfig=FAST)
    with pytest.raises(ClientError) as unknown:
        ec2.delete_nat_gateway(NatGatewayId="nat-0123456789abcdef0")
    assert error_code(unknown) == "NatGatewayNotFound"


QUOTA_NAMES = {
    "L-DB2E81BA": "Running On-Demand G and VT instances",
    "L-3819A6DF": "All G and VT Spot Instance Requests",
    "L-417A185B": "Running On-Demand P instances",
    "L-7212CCBC": "All P Spot Instance Requests",
    "L-1216C47A": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
}


def test_service_quotas_defaults_and_configured(aws, aws_standin):
    quotas = aws("service-quotas")
    for code, name in QUOTA_NAMES.items():
        quota = quotas.get_service_quota(ServiceCode="ec2", QuotaCode=code)["Quota"]
        assert (quota["QuotaName"], quota["Value"]) == (name, 1152.0 if code == "L-1216C47A" else 64.0)
        assert quota["QuotaArn"] == f"arn:aws:servicequotas:us-west-2:123456789012:ec2/{code}"
    listed = {q["QuotaCode"]: q["Value"] for q in quotas.list_service_quotas(ServiceCode="ec2")["Quotas"]}
    assert set(QUOTA_NAMES) <= set(listed)

    aws_standin.configure(quotas={"L-DB2E81BA": 8, "L-417A185B": 0})
    assert quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-DB2E81BA")["Quota"]["Value"] == 8.0
    assert quotas.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode="L-DB2E81BA")["Quota"]["Value"] == 64.0
    listed = {q["QuotaCode"]: q["Value"] for q in quotas.list_service_quotas(ServiceCode="ec2")["Quotas"]}
    assert (listed["L-DB2E81BA"], listed["L-417A185B"], listed["L-1216C47A"]) == (8.0, 0.0, 1152.0)
    with pytest.raises(ClientError) as unknown:
        quotas.get_service_quota(ServiceCode="ec2", QuotaCode="L-00000000")
    assert error_code(unknown) == "NoSuchResourceException"
    with pytest.raises(ValueError):
        aws_standin.configure(quotas={"L-TYPO": 1})
    assert quotas.get_service_quota(ServiceCode="vpc", QuotaCode="L-F678F1CE")["Quota"]["ServiceCode"] == "vpc"  # moto's own


def test_nat_gateway_tags_have_the_aws_resource_type(aws_standin):
    ec2 = boto3.client("ec2", endpoint_url=aws_standin.endpoint_url, region_name="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation, TagSpecifications=[
        {"ResourceType": "natgateway", "Tags": [{"Key": "Name", "Value": "nat-tag-test"}]}])["NatGateway"]["NatGatewayId"]
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [nat]}, {"Name": "resource-type", "Values": ["natgateway"]}])["Tags"]
    assert [(t["Key"], t["ResourceType"]) for t in tags] == [("Name", "natgateway")]


def test_volumes_answer_an_empty_snapshot_id_like_aws(aws):
    ec2 = aws("ec2")
    volume = ec2.create_volume(AvailabilityZone="us-west-2a", Size=1, VolumeType="gp3")["VolumeId"]
    assert ec2.describe_volumes(VolumeIds=[volume])["Volumes"][0]["SnapshotId"] == ""
    ec2.delete_volume(VolumeId=volume)


def test_kms_key_deletion_accepts_the_key_arn(aws_standin):
    kms = boto3.client("kms", endpoint_url=aws_standin.endpoint_url, region_name="us-west-2")
    key = kms.create_key()["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=key["Arn"], PendingWindowInDays=7)
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=key["Arn"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key["Arn"])
    kms.enable_key_rotation(KeyId=key["Arn"])
    assert kms.get_key_rotation_status(KeyId=key["Arn"])["KeyRotationEnabled"]
