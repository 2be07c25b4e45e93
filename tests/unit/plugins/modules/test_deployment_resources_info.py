# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""deployment_resources_info against moto, in process."""

import json
from unittest import mock

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from botocore.client import BaseClient  # noqa: E402
from moto.iam import aws_managed_policies as moto_managed_policies  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.eks_llm.inference.plugins.modules import deployment_resources_info  # noqa: E402
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner  # noqa: E402

REGION = "us-west-2"
DEPLOYMENT = {"eks-llm:deployment": "demo"}
OURS = [{"Key": "eks-llm:deployment", "Value": "demo"}]
OTHER = [{"Key": "eks-llm:deployment", "Value": "other"}]
ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})


RUN = ModuleRunner(deployment_resources_info.main, region=REGION)


# A few of AWS's managed policies, as moto holds them: the account has policies the module must not report (they are
# AWS's, not tagged by us). All ~1300 of them cost moto a JSON parse and an object each, for every IAM backend of every
# test (~2 s a test here).
AWS_MANAGED_POLICIES = json.dumps(dict((name, data) for name, data in json.loads(moto_managed_policies.aws_managed_policies_data).items()
                                       if name in ("AmazonEKSClusterPolicy", "AmazonEKSWorkerNodePolicy", "AmazonS3ReadOnlyAccess")))


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setattr("moto.iam.models.aws_managed_policies_data", AWS_MANAGED_POLICIES)
    # AWSRetry sleeps between attempts; retried errors must not slow the tests.
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda _s: None)
    with moto.mock_aws():
        yield


def run_module(capsys, **args):  # pylint: disable=unused-argument
    args.setdefault("tags", dict(DEPLOYMENT))
    result = RUN(args)
    assert result["changed"] is False
    return result


def kinds(result, key="resources"):
    return sorted((item["service"], item["type"]) for item in result[key])


def tags_of(tag_list):
    return {tag["Key"]: tag["Value"] for tag in tag_list}


def create_deployment(tag_list, suffix):
    """One of each kind of resource, all carrying tag_list; returns their ids."""
    ids = {}
    tags = tags_of(tag_list)
    ec2 = boto3.client("ec2", region_name=REGION)

    def spec(kind):
        return [{"ResourceType": kind, "Tags": tag_list}]

    vpc = ec2.create_vpc(CidrBlock="10.%d.0.0/16" % (10 if suffix == "demo" else 20), TagSpecifications=spec("vpc"))["Vpc"]
    ids["vpc"] = vpc["VpcId"]
    cidr = vpc["CidrBlock"].replace("0.0/16", "1.0/24")
    subnet = ec2.create_subnet(VpcId=ids["vpc"], CidrBlock=cidr, TagSpecifications=spec("subnet"))["Subnet"]
    ids["subnet"] = subnet["SubnetId"]
    ids["security_group"] = ec2.create_security_group(
        GroupName="sg-" + suffix, Description="test", VpcId=ids["vpc"], TagSpecifications=spec("security-group")
    )["GroupId"]
    igw = ec2.create_internet_gateway(TagSpecifications=spec("internet-gateway"))["InternetGateway"]
    ids["internet_gateway"] = igw["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=ids["internet_gateway"], VpcId=ids["vpc"])
    ids["elastic_ip"] = ec2.allocate_address(Domain="vpc", TagSpecifications=spec("elastic-ip"))["AllocationId"]
    ids["nat_gateway"] = ec2.create_nat_gateway(
        SubnetId=ids["subnet"], AllocationId=ids["elastic_ip"], TagSpecifications=spec("natgateway")
    )["NatGateway"]["NatGatewayId"]
    ids["route_table"] = ec2.create_route_table(VpcId=ids["vpc"], TagSpecifications=spec("route-table"))["RouteTable"]["RouteTableId"]
    ids["launch_template"] = ec2.create_launch_template(
        LaunchTemplateName="lt-" + suffix, LaunchTemplateData={"InstanceType": "g5.xlarge"}, TagSpecifications=spec("launch-template")
    )["LaunchTemplate"]["LaunchTemplateId"]
    ids["network_interface"] = ec2.create_network_interface(
        SubnetId=ids["subnet"], TagSpecifications=spec("network-interface")
    )["NetworkInterface"]["NetworkInterfaceId"]
    ids["vpc_endpoint"] = ec2.create_vpc_endpoint(
        VpcId=ids["vpc"], ServiceName="com.amazonaws.%s.s3" % REGION, VpcEndpointType="Gateway", TagSpecifications=spec("vpc-endpoint")
    )["VpcEndpoint"]["VpcEndpointId"]
    # what the EBS CSI driver creates for a claim, tagged through the add-on's controller.extraVolumeTags
    ids["volume"] = ec2.create_volume(
        AvailabilityZone=REGION + "a", Size=50, VolumeType="gp3", Encrypted=True, TagSpecifications=spec("volume")
    )["VolumeId"]

    # what the cluster's cloud provider creates for a Service of type LoadBalancer, tagged through its annotation
    elbv2 = boto3.client("elbv2", region_name=REGION)
    ids["load_balancer"] = elbv2.create_load_balancer(
        Name="nlb-" + suffix, Subnets=[ids["subnet"]], Scheme="internal", Type="network", Tags=tag_list
    )["LoadBalancers"][0]["LoadBalancerArn"]
    ids["target_group"] = elbv2.create_target_group(
        Name="tg-" + suffix, Protocol="TCP", Port=8000, VpcId=ids["vpc"], TargetType="ip", Tags=tag_list
    )["TargetGroups"][0]["TargetGroupArn"]

    role_arn = boto3.client("iam").create_role(
        RoleName="role-" + suffix, AssumeRolePolicyDocument=ROLE_POLICY, Tags=tag_list
    )["Role"]["Arn"]
    ids["role"] = "role-" + suffix
    ids["policy"] = boto3.client("iam").create_policy(PolicyName="policy-" + suffix, PolicyDocument=POLICY, Tags=tag_list)["Policy"]["Arn"]
    boto3.client("iam").create_instance_profile(InstanceProfileName="profile-" + suffix, Tags=tag_list)
    ids["instance_profile"] = "profile-" + suffix

    eks = boto3.client("eks", region_name=REGION)
    eks.create_cluster(
        name="cluster-" + suffix,
        roleArn=role_arn,
        resourcesVpcConfig={"subnetIds": [ids["subnet"]], "securityGroupIds": [ids["security_group"]]},
        tags=tags,
    )
    ids["cluster"] = "cluster-" + suffix
    eks.create_nodegroup(
        clusterName=ids["cluster"], nodegroupName="system", nodeRole=role_arn, subnets=[ids["subnet"]], tags=tags
    )
    ids["nodegroup"] = ids["cluster"] + "/system"

    efs = boto3.client("efs", region_name=REGION)
    ids["file_system"] = efs.create_file_system(CreationToken="fs-" + suffix, Tags=tag_list)["FileSystemId"]
    ids["access_point"] = efs.create_access_point(
        ClientToken="ap-" + suffix, FileSystemId=ids["file_system"], Tags=tag_list
    )["AccessPointId"]

    s3 = boto3.client("s3", region_name=REGION)
    ids["bucket"] = "bucket-" + suffix
    s3.create_bucket(Bucket=ids["bucket"], CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket=ids["bucket"], Tagging={"TagSet": tag_list})

    ids["queue"] = boto3.client("sqs", region_name=REGION).create_queue(QueueName="queue-" + suffix, tags=tags)["QueueUrl"]

    events = boto3.client("events", region_name=REGION)
    events.put_rule(Name="rule-" + suffix, ScheduleExpression="rate(5 minutes)", Tags=tag_list)
    ids["rule"] = "rule-" + suffix

    boto3.client("logs", region_name=REGION).create_log_group(logGroupName="/eks/" + suffix, tags=tags)
    ids["log_group"] = "/eks/" + suffix

    ids["secret"] = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="secret-" + suffix, SecretString="s3cr3t", Tags=tag_list
    )["ARN"]

    kms_tags = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in tag_list]
    ids["key"] = boto3.client("kms", region_name=REGION).create_key(Description=suffix, Tags=kms_tags)["KeyMetadata"]["KeyId"]
    return ids


EXPECTED = sorted(
    [
        ("ec2", "vpc"),
        ("ec2", "subnet"),
        ("ec2", "security_group"),
        ("ec2", "internet_gateway"),
        ("ec2", "elastic_ip"),
        ("ec2", "nat_gateway"),
        ("ec2", "route_table"),
        ("ec2", "launch_template"),
        ("ec2", "network_interface"),
        ("ec2", "vpc_endpoint"),
        ("ec2", "volume"),
        ("eks", "cluster"),
        ("eks", "nodegroup"),
        ("elbv2", "load_balancer"),
        ("elbv2", "target_group"),
        ("efs", "file_system"),
        ("efs", "access_point"),
        ("s3", "bucket"),
        ("iam", "role"),
        ("iam", "policy"),
        ("iam", "instance_profile"),
        ("sqs", "queue"),
        ("events", "rule"),
        ("logs", "log_group"),
        ("secretsmanager", "secret"),
        ("kms", "key"),
    ]
)


def delete_deployment(ids):
    ec2 = boto3.client("ec2", region_name=REGION)
    eks = boto3.client("eks", region_name=REGION)
    eks.delete_nodegroup(clusterName=ids["cluster"], nodegroupName="system")
    eks.delete_cluster(name=ids["cluster"])
    boto3.client("elbv2", region_name=REGION).delete_load_balancer(LoadBalancerArn=ids["load_balancer"])
    boto3.client("elbv2", region_name=REGION).delete_target_group(TargetGroupArn=ids["target_group"])
    ec2.delete_volume(VolumeId=ids["volume"])
    ec2.delete_vpc_endpoints(VpcEndpointIds=[ids["vpc_endpoint"]])
    ec2.delete_network_interface(NetworkInterfaceId=ids["network_interface"])
    ec2.delete_launch_template(LaunchTemplateId=ids["launch_template"])
    ec2.delete_route_table(RouteTableId=ids["route_table"])
    ec2.delete_nat_gateway(NatGatewayId=ids["nat_gateway"])
    ec2.release_address(AllocationId=ids["elastic_ip"])
    ec2.detach_internet_gateway(InternetGatewayId=ids["internet_gateway"], VpcId=ids["vpc"])
    ec2.delete_internet_gateway(InternetGatewayId=ids["internet_gateway"])
    ec2.delete_security_group(GroupId=ids["security_group"])
    ec2.delete_subnet(SubnetId=ids["subnet"])
    ec2.delete_vpc(VpcId=ids["vpc"])
    boto3.client("efs", region_name=REGION).delete_access_point(AccessPointId=ids["access_point"])
    boto3.client("efs", region_name=REGION).delete_file_system(FileSystemId=ids["file_system"])
    boto3.client("s3", region_name=REGION).delete_bucket(Bucket=ids["bucket"])
    iam = boto3.client("iam")
    iam.delete_instance_profile(InstanceProfileName=ids["instance_profile"])
    iam.delete_role(RoleName=ids["role"])
    iam.delete_policy(PolicyArn=ids["policy"])
    boto3.client("sqs", region_name=REGION).delete_queue(QueueUrl=ids["queue"])
    boto3.client("events", region_name=REGION).delete_rule(Name=ids["rule"])
    boto3.client("logs", region_name=REGION).delete_log_group(logGroupName=ids["log_group"])
    boto3.client("secretsmanager", region_name=REGION).delete_secret(SecretId=ids["secret"], ForceDeleteWithoutRecovery=True)


def test_finds_exactly_the_tagged_resources(capsys):
    ours = create_deployment(OURS, "demo")
    create_deployment(OTHER, "other")

    result = run_module(capsys)

    assert result["complete"] is True, result["unscanned"]
    assert result["unscanned"] == []
    assert kinds(result) == EXPECTED
    assert result["count"] == len(EXPECTED)
    assert result["by_type"]["ec2:vpc"] == 1
    assert sum(result["by_type"].values()) == result["count"]
    found = {(item["service"], item["type"]): item for item in result["resources"]}
    for (service, rtype), item in found.items():
        assert item["tags"]["eks-llm:deployment"] == "demo", item
        assert item["id"] == ours[rtype], (service, rtype, item)
    assert found[("ec2", "vpc")]["arn"].endswith(":vpc/" + ours["vpc"])
    assert found[("ec2", "vpc")]["arn"].startswith("arn:aws:ec2:us-west-2:123456789012:")
    assert found[("ec2", "security_group")]["name"] == "sg-demo"
    assert found[("s3", "bucket")]["arn"] == "arn:aws:s3:::bucket-demo"
    assert found[("logs", "log_group")]["arn"].endswith(":log-group:/eks/demo")
    assert found[("sqs", "queue")]["arn"] == "arn:aws:sqs:us-west-2:123456789012:queue-demo"
    assert found[("eks", "cluster")]["name"] == "cluster-demo"
    assert result["pending_deletion"] == []


def test_volumes_being_deleted_are_not_left(capsys):
    ours = create_deployment(OURS, "demo")
    original = BaseClient._make_api_call

    def deleting(self, operation, params):
        answer = original(self, operation, params)
        if operation == "DescribeVolumes":
            for volume in answer["Volumes"]:
                volume["State"] = "deleting"
        return answer

    result = run_module(capsys, services=["ec2"])
    volumes = [item for item in result["resources"] if item["type"] == "volume"]
    assert [item["id"] for item in volumes] == [ours["volume"]]
    assert volumes[0]["arn"] == "arn:aws:ec2:us-west-2:123456789012:volume/" + ours["volume"]
    with mock.patch.object(BaseClient, "_make_api_call", deleting):
        result = run_module(capsys, services=["ec2"])
    assert [item for item in result["resources"] if item["type"] == "volume"] == []
    assert result["complete"] is True


def test_load_balancer_tags_are_read_twenty_at_a_time(capsys):
    ours = create_deployment(OURS, "demo")
    elbv2 = boto3.client("elbv2", region_name=REGION)
    more = [
        elbv2.create_target_group(Name="tg-extra-%d" % index, Protocol="TCP", Port=8000, VpcId=ours["vpc"],
                                  Tags=OURS if index % 2 else OTHER)["TargetGroups"][0]["TargetGroupArn"]
        for index in range(24)
    ]
    calls = []
    original = BaseClient._make_api_call

    def counting(self, operation, params):
        if operation == "DescribeTags":
            calls.append(len(params["ResourceArns"]))
        return original(self, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", counting):
        result = run_module(capsys, services=["elbv2"])
    found = sorted(item["id"] for item in result["resources"] if item["type"] == "target_group")
    assert found == sorted([ours["target_group"]] + more[1::2])
    assert max(calls) == 20 and sum(calls) == 1 + 1 + 24


def test_all_tags_must_match(capsys):
    create_deployment(OURS, "demo")
    result = run_module(capsys, tags={"eks-llm:deployment": "demo", "eks-llm:stage": "prod"})
    assert result["count"] == 0
    assert result["resources"] == []


def test_services_limit_the_scan(capsys):
    create_deployment(OURS, "demo")
    result = run_module(capsys, services=["sqs", "kms"])
    assert kinds(result) == [("kms", "key"), ("sqs", "queue")]
    assert result["complete"] is True


def test_nothing_left_after_teardown(capsys):
    ids = create_deployment(OURS, "demo")
    create_deployment(OTHER, "other")
    kms = boto3.client("kms", region_name=REGION)
    delete_deployment(ids)
    kms.schedule_key_deletion(KeyId=ids["key"], PendingWindowInDays=7)

    result = run_module(capsys)

    assert result["count"] == 0, result["resources"]
    assert result["resources"] == []
    assert result["by_type"] == {}
    assert result["complete"] is True
    assert [(item["type"], item["id"]) for item in result["pending_deletion"]] == [("key", ids["key"])]
    assert result["pending_deletion"][0]["deletion_date"]


def test_secret_with_recovery_window_is_pending_deletion(capsys):
    client = boto3.client("secretsmanager", region_name=REGION)
    arn = client.create_secret(Name="pending", SecretString="x", Tags=OURS)["ARN"]
    client.create_secret(Name="untagged", SecretString="x")
    client.delete_secret(SecretId=arn, RecoveryWindowInDays=7)

    result = run_module(capsys, services=["secretsmanager"])

    assert result["count"] == 0
    assert len(result["pending_deletion"]) == 1
    pending = result["pending_deletion"][0]
    assert (pending["service"], pending["type"], pending["id"], pending["name"]) == ("secretsmanager", "secret", arn, "pending")
    assert pending["deletion_date"]


def test_terminated_instances_are_skipped(capsys):
    ec2 = boto3.client("ec2", region_name=REGION)
    image = "ami-0123456789abcdef0"  # moto runs any image id (the unit tests load no default AMIs: tests/unit/conftest.py)
    spec = [{"ResourceType": "instance", "Tags": OURS}]
    running = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=spec)["Instances"][0]["InstanceId"]
    gone = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=spec)["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[gone])

    result = run_module(capsys, services=["ec2"])

    instances = [item["id"] for item in result["resources"] if item["type"] == "instance"]
    assert instances == [running]


def test_aws_managed_keys_are_skipped(capsys):
    kms = boto3.client("kms", region_name=REGION)
    kms_tags = [{"TagKey": "eks-llm:deployment", "TagValue": "demo"}]
    ours = kms.create_key(Description="ours", Tags=kms_tags)["KeyMetadata"]["KeyId"]
    managed = kms.create_key(Description="managed", Tags=kms_tags)["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/demo", TargetKeyId=ours)
    real_call = BaseClient._make_api_call

    def aws_managed(self, operation_name, api_params):
        response = real_call(self, operation_name, api_params)
        if operation_name == "DescribeKey" and api_params["KeyId"] == managed:
            response["KeyMetadata"]["KeyManager"] = "AWS"
        return response

    with mock.patch.object(BaseClient, "_make_api_call", aws_managed):
        result = run_module(capsys, services=["kms"])

    assert [(item["id"], item.get("name")) for item in result["resources"]] == [(ours, "alias/demo")]


def test_failing_service_is_unscanned(capsys):
    create_deployment(OURS, "demo")
    real_call = BaseClient._make_api_call
    calls = []

    def fail_list_queues(self, operation_name, api_params):
        if operation_name == "ListQueues":
            calls.append(operation_name)
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "boom"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
                operation_name,
            )
        return real_call(self, operation_name, api_params)

    with mock.patch.object(BaseClient, "_make_api_call", fail_list_queues):
        result = run_module(capsys)

    assert result["complete"] is False
    assert result["unscanned"] == [{"service": "sqs", "type": "queue", "reason": "InternalError: boom (HTTP 500)"}]
    # A 500 is retried before the type is given up.
    assert len(calls) > 1
    # Every other service still scanned.
    assert kinds(result) == [kind for kind in EXPECTED if kind != ("sqs", "queue")]


def test_not_implemented_is_unscanned(capsys):
    def not_implemented(self, operation_name, api_params):
        raise NotImplementedError("The %s action has not been implemented" % operation_name)

    with mock.patch.object(BaseClient, "_make_api_call", not_implemented):
        result = run_module(capsys, services=["logs"])

    assert result["complete"] is False
    assert result["unscanned"][0]["service"] == "logs"
    assert "not implemented" in result["unscanned"][0]["reason"]


def test_bucket_in_other_region_is_skipped_with_warning(capsys):
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="far-away", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_tagging(Bucket="far-away", Tagging={"TagSet": OURS})
    untagged = boto3.client("s3", region_name=REGION)
    untagged.create_bucket(Bucket="near-untagged", CreateBucketConfiguration={"LocationConstraint": REGION})

    RUN.warnings.clear()
    result = run_module(capsys, services=["s3"])

    assert result["count"] == 0
    assert result["complete"] is True
    messages = RUN.warnings
    assert len(messages) == 1 and "far-away" in messages[0] and "near-untagged" not in messages[0], messages


def test_empty_tags_are_refused(capsys):
    with patch_module_args({"region": REGION, "tags": {}}):
        with pytest.raises(SystemExit) as exit_info:
            deployment_resources_info.main()
    result = json.loads(capsys.readouterr().out)
    assert exit_info.value.code == 1
    assert result["failed"] is True
    assert "must not be empty" in result["msg"]


def test_no_credentials_at_all_fail_naming_them(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    failure = RUN.failing({"tags": {"eks-llm:deployment": "demo"}, "services": ["sqs"]})
    assert failure["msg"] == "No usable AWS credentials: Unable to locate credentials"
