# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.service_quota_info.

moto only has Service Quotas data for `vpc` (the applied path); the EC2 GPU
quotas, the fallback to the AWS default and the failures use a botocore Stubber.
"""

import pytest
import yaml
from moto import mock_aws

from ansible_collections.eks_llm.inference.plugins.modules import service_quota_info as sq
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

REGION = "us-west-2"
G_ON_DEMAND = "L-DB2E81BA"
P_ON_DEMAND = "L-417A185B"


RUN = ModuleRunner(sq.main, region=REGION)


def run(args, check_mode=False):
    return RUN(args, check_mode)


def run_failing(args):
    return RUN.failing(args)


@pytest.fixture
def stubbed(stubbed_client):
    """The Stubber answering the Service Quotas client the module uses."""
    return stubbed_client("service-quotas")[1]


def quota(code, name, value, adjustable=True):
    return {
        "Quota": {
            "ServiceCode": "ec2",
            "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
            "QuotaArn": "arn:aws:servicequotas:us-west-2:123456789012:ec2/" + code,
            "QuotaCode": code,
            "QuotaName": name,
            "Value": value,
            "Unit": "None",
            "Adjustable": adjustable,
            "GlobalQuota": False,
        }
    }


def no_such_resource(stubber, operation, code, service="ec2"):
    stubber.add_client_error(
        operation,
        service_error_code="NoSuchResourceException",
        service_message="The request failed because the specified resource does not exist.",
        http_status_code=400,
        expected_params={"ServiceCode": service, "QuotaCode": code},
    )


def test_applied_quota_from_moto():
    with mock_aws():
        result = run({"service_code": "vpc", "quota_codes": ["L-7E9ECCDB"]})
    assert result["changed"] is False
    assert result["service_code"] == "vpc"
    assert result["quotas"] == {
        "L-7E9ECCDB": {
            "name": "Active VPC peering connections per VPC",
            "value": 50.0,
            "unit": "None",
            "adjustable": True,
            "source": "applied",
        }
    }


def test_applied_and_default_gpu_quotas(stubbed):
    stubbed.add_response("get_service_quota", quota(G_ON_DEMAND, "Running On-Demand G and VT instances", 64.0),
                         {"ServiceCode": "ec2", "QuotaCode": G_ON_DEMAND})
    no_such_resource(stubbed, "get_service_quota", P_ON_DEMAND)
    stubbed.add_response("get_aws_default_service_quota", quota(P_ON_DEMAND, "Running On-Demand P instances", 0.0),
                         {"ServiceCode": "ec2", "QuotaCode": P_ON_DEMAND})
    result = run({"quota_codes": [G_ON_DEMAND, P_ON_DEMAND, G_ON_DEMAND]})  # default service ec2; duplicate read once
    assert result["changed"] is False
    assert result["quotas"] == {
        G_ON_DEMAND: {"name": "Running On-Demand G and VT instances", "value": 64.0, "unit": "None",
                      "adjustable": True, "source": "applied"},
        P_ON_DEMAND: {"name": "Running On-Demand P instances", "value": 0.0, "unit": "None",
                      "adjustable": True, "source": "default"},
    }


def test_check_mode_reads_and_never_changes(stubbed):
    no_such_resource(stubbed, "get_service_quota", G_ON_DEMAND)
    stubbed.add_response("get_aws_default_service_quota", quota(G_ON_DEMAND, "Running On-Demand G and VT instances", 5.0),
                         {"ServiceCode": "ec2", "QuotaCode": G_ON_DEMAND})
    result = run({"quota_codes": [G_ON_DEMAND]}, check_mode=True)
    assert result["changed"] is False
    assert result["quotas"][G_ON_DEMAND]["source"] == "default"
    assert result["quotas"][G_ON_DEMAND]["value"] == 5.0


def test_unknown_quota_fails(stubbed):
    no_such_resource(stubbed, "get_service_quota", "L-00000000")
    no_such_resource(stubbed, "get_aws_default_service_quota", "L-00000000")
    failure = run_failing({"quota_codes": ["L-00000000"]})
    assert "knows no quota L-00000000 of service ec2 in us-west-2" in failure["msg"]


def test_access_denied_fails_with_aws_error(stubbed):
    stubbed.add_client_error("get_service_quota", service_error_code="AccessDeniedException",
                             service_message="not authorized to perform servicequotas:GetServiceQuota",
                             http_status_code=403, expected_params={"ServiceCode": "ec2", "QuotaCode": G_ON_DEMAND})
    failure = run_failing({"quota_codes": [G_ON_DEMAND]})
    assert failure["msg"].startswith("Failed to get service quota")
    assert "servicequotas:GetServiceQuota" in failure["msg"]
    assert failure["error"]["code"] == "AccessDeniedException"


def test_quota_codes_are_required():
    assert "quota_codes" in run_failing({})["msg"]


def test_gpu_quota_codes_are_documented():
    examples = yaml.safe_load(sq.EXAMPLES)
    documented = examples[0]["ansible.builtin.set_fact"]["gpu_quota_codes"]
    assert documented == sq.EC2_GPU_QUOTA_CODES
    assert set(sq.EC2_GPU_QUOTA_CODES) == {"L-DB2E81BA", "L-3819A6DF", "L-417A185B", "L-7212CCBC"}
    description = " ".join(yaml.safe_load(sq.DOCUMENTATION)["description"])
    for code, name in sq.EC2_GPU_QUOTA_CODES.items():
        assert "V(%s) %s" % (code, name) in description
