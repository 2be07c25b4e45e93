# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.service_quota_info.

moto only has Service Quotas data for `vpc` (the applied path); the EC2 GPU
quotas, the fallback to the AWS default and the failures use a botocore Stubber.
"""

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.eks_llm.inference.plugins.module_utils import common
from ansible_collections.eks_llm.inference.plugins.modules import service_quota_info as sq

REGION = "us-west-2"
G_ON_DEMAND = "L-DB2E81BA"
P_ON_DEMAND = "L-417A185B"


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


@pytest.fixture(autouse=True)
def harness(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json(self, **kwargs):
        raise ModuleFail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


def _invoke(args, check_mode):
    args = dict(args)
    args.setdefault("region", REGION)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        sq.main()


def run(args, check_mode=False):
    try:
        _invoke(args, check_mode)
    except ModuleFail as e:
        pytest.fail("module failed: %s" % e.result.get("msg"))
    except ModuleExit as e:
        return e.result
    pytest.fail("module returned without exit_json")


def run_failing(args):
    with pytest.raises(ModuleFail) as info:
        _invoke(args, False)
    return info.value.result


@pytest.fixture
def stubbed(monkeypatch):
    client = boto3.client("service-quotas", region_name=REGION)
    stubber = Stubber(client)
    wrapped = RetryingBotoClientWrapper(client, common.aws_retry())
    monkeypatch.setattr(common.AnsibleEKSModule, "retrying_client", lambda self, service: wrapped)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


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
