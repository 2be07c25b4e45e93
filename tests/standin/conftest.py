"""Stand-in fixtures plus boto3 helpers for the tests in this directory."""
import os
import re
import sys

import boto3
import pytest

# `tests.standin` must be importable even under a bare `pytest` (which does not put the repo on sys.path).
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

# pylint: disable=wrong-import-position
from tests.standin.fixtures import DEFAULTS, aws_standin, aws_standin_clean  # noqa: F401  pylint: disable=unused-import
from tests.standin.helpers import ROLE


@pytest.fixture
def aws(aws_standin):  # pylint: disable=redefined-outer-name
    """Factory for boto3 clients. The moto state is shared by the whole session (a reset
    costs seconds of moto start-up), so tests use their own names; settings are restored."""
    def client(service, **kwargs):
        kwargs.setdefault("region_name", "us-west-2")
        return boto3.client(service, endpoint_url=aws_standin.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing", **kwargs)
    yield client
    aws_standin.configure(**DEFAULTS)


@pytest.fixture
def subnets(aws):  # pylint: disable=redefined-outer-name
    """Two subnets in two AZs of a new VPC (EKS wants at least two AZs)."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-west-2{zone}")["Subnet"]["SubnetId"]
            for i, zone in enumerate("ab")]


@pytest.fixture
def cluster(request, aws, subnets):  # pylint: disable=redefined-outer-name
    """An ACTIVE 1.33 cluster (created with time_scale 0) named after the test."""
    name = re.sub(r"[^A-Za-z0-9-]", "-", request.node.name)[-90:].strip("-")
    return aws("eks").create_cluster(name=name, version="1.33", roleArn=ROLE, resourcesVpcConfig={"subnetIds": subnets})["cluster"]
