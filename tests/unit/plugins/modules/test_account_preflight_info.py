# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.account_preflight_info.

moto serves STS, the zones of EC2 and its spot price history; Service Quotas (the EC2 GPU quotas) and the Price List
API, which moto does not have, are answered by a botocore Stubber, as in the tests of service_quota_info.
"""

import json

import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils import modules as aws_modules
from ansible_collections.eks_llm.inference.plugins.module_utils import cost_estimate
from ansible_collections.eks_llm.inference.plugins.modules import account_preflight_info as apf
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

G_ON_DEMAND = "L-DB2E81BA"
G_SPOT = "L-3819A6DF"
MOTO_ACCOUNT = "123456789012"

RUN = ModuleRunner(apf.main, region=REGION)

# An existing VPC (no NAT gateway priced), the default core nodes (2 x m6i.large on-demand), a spot GPU pool
COST = {"network": {"vpc_id": "vpc-0123456789abcdef0"}, "core_nodes": {},
        "gpu_node_pools": [{"name": "gpu", "instance_types": ["g5.xlarge"], "capacity_types": ["spot"], "gpu_limit": 2}]}


@pytest.fixture
def quotas(stubbed_client):
    """The Stubber answering the Service Quotas client (our retrying_client); STS and EC2 stay moto's."""
    return stubbed_client("service-quotas")[1]


@pytest.fixture
def pricing(monkeypatch):
    """A Stubber answering the Price List client; every other client the module asks amazon.aws for is moto's.
    The regions the module asked clients for are kept in ``stubber.regions``."""
    client = botocore.session.get_session().create_client(
        "pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)
    stubber.activate()
    stubber.regions = {}
    real = aws_modules.boto3_conn

    def conn(module, conn_type=None, resource=None, **params):
        stubber.regions.setdefault(resource, []).append(params.get("region"))
        if resource == "pricing":
            return client
        return real(module, conn_type=conn_type, resource=resource, **params)

    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.modules.boto3_conn", conn)
    yield stubber
    stubber.deactivate()
    stubber.assert_no_pending_responses()


def quota(code, name, value):
    return {"Quota": {"ServiceCode": "ec2", "QuotaCode": code, "QuotaName": name, "Value": value, "Unit": "None",
                      "Adjustable": True, "GlobalQuota": False}}


def product(usagetype, usd):
    """One PriceList entry as GetProducts returns it: a JSON string."""
    return json.dumps({"product": {"attributes": {"usagetype": usagetype}, "sku": "S"}, "terms": {"OnDemand": {"S.T": {
        "priceDimensions": {"S.T.1": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}}})


def test_all_parts_in_one_run(quotas, pricing):
    quotas.add_response("get_service_quota", quota(G_ON_DEMAND, "Running On-Demand G and VT instances", 64.0),
                        {"ServiceCode": "ec2", "QuotaCode": G_ON_DEMAND})
    quotas.add_client_error("get_service_quota", service_error_code="NoSuchResourceException", http_status_code=400,
                            expected_params={"ServiceCode": "ec2", "QuotaCode": G_SPOT})
    quotas.add_response("get_aws_default_service_quota", quota(G_SPOT, "All G and VT Spot Instance Requests", 0.0),
                        {"ServiceCode": "ec2", "QuotaCode": G_SPOT})
    pricing.add_response("get_products", {"PriceList": [product("USW2-AmazonEKS-Hours:perCluster", "0.1000000000")]})
    pricing.add_client_error("get_products", service_error_code="AccessDeniedException", http_status_code=403)  # m6i.large
    with mock_aws():
        result = RUN({"quota_codes": [G_ON_DEMAND, G_SPOT], "cost_estimate": COST})
    assert result["changed"] is False
    assert result["caller_identity"]["account"] == MOTO_ACCOUNT
    assert result["caller_identity"]["arn"].startswith("arn:aws:")
    assert {zone["zone_name"] for zone in result["availability_zones"]} >= {REGION + "a", REGION + "b"}
    assert result["quotas"] == {
        G_ON_DEMAND: {"name": "Running On-Demand G and VT instances", "value": 64.0, "unit": "None", "adjustable": True,
                      "source": "applied"},
        G_SPOT: {"name": "All G and VT Spot Instance Requests", "value": 0.0, "unit": "None", "adjustable": True,
                 "source": "default"},
    }
    sources = {line["what"]: line["source"] for line in result["estimate"]["lines"]}
    assert sources == {"EKS control plane": "aws", "core node m6i.large (on-demand)": "fallback",
                       "GPU node g5.xlarge (spot, pool gpu)": "aws"}  # spot: moto's price history of the region
    assert result["estimate"]["fallback"] is True
    assert result["summary"] == cost_estimate.summary(result["estimate"])
    # the Price List API in its own region, the spot history (and everything else) in the deployment's
    assert pricing.regions["pricing"] == [cost_estimate.PRICING_REGION]
    assert set(pricing.regions["ec2"]) == {REGION} and pricing.regions["sts"] == [REGION]


def test_only_the_caller_identity_and_zones_without_quotas_or_prices():
    with mock_aws():
        result = RUN({})
    assert set(result) == {"changed", "caller_identity", "availability_zones"}
    assert result["caller_identity"] == {"account": MOTO_ACCOUNT, "arn": "arn:aws:sts::%s:user/moto" % MOTO_ACCOUNT,
                                         "user_id": result["caller_identity"]["user_id"]}
    with mock_aws():
        assert set(RUN({"availability_zones": False})) == {"changed", "caller_identity"}


def test_the_zone_list_is_the_one_aws_az_info_returns():
    with mock_aws():
        zones = RUN({})["availability_zones"]
    assert all(zone["region_name"] == REGION and zone["state"] == "available" and zone["zone_id"] for zone in zones)
    assert "ZoneName" not in zones[0]  # snake case, as aws_az_info returns them


def test_credentials_refused_fail_first_with_the_aws_message(stubbed_client):
    sts, stubber = stubbed_client("sts", via="boto3_conn")
    assert sts.meta.service_model.service_name == "sts"
    stubber.add_client_error("get_caller_identity", service_error_code="InvalidClientTokenId", http_status_code=403,
                             service_message="The security token included in the request is invalid.")
    failure = RUN.failing({"quota_codes": [G_ON_DEMAND], "cost_estimate": COST})  # nothing else is read
    assert failure["msg"].startswith("Failed to retrieve caller identity: ")  # as aws_caller_info says it
    assert failure["msg"].endswith("The security token included in the request is invalid.")
    assert failure["error"]["code"] == "InvalidClientTokenId"


def test_no_credentials_at_all_fail_with_botocores_message(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    failure = RUN.failing({})
    assert failure["msg"] == "Failed to retrieve caller identity: Unable to locate credentials"


def test_a_quota_refused_or_unknown_fails_as_service_quota_info_does(quotas):
    quotas.add_client_error("get_service_quota", service_error_code="AccessDeniedException", http_status_code=403,
                            service_message="not authorized to perform servicequotas:GetServiceQuota")
    quotas.add_client_error("get_service_quota", service_error_code="NoSuchResourceException", http_status_code=400)
    quotas.add_client_error("get_aws_default_service_quota", service_error_code="NoSuchResourceException", http_status_code=400)
    with mock_aws():
        refused = RUN.failing({"quota_codes": [G_ON_DEMAND]})
        unknown = RUN.failing({"quota_codes": ["L-00000000"], "availability_zones": False})
    assert refused["msg"].startswith("Failed to get service quota") and "servicequotas:GetServiceQuota" in refused["msg"]
    assert unknown["msg"] == "Service Quotas knows no quota L-00000000 of service ec2 in %s (neither applied nor default)" % REGION
    assert unknown["quotas"] == {} and unknown["caller_identity"]["account"] == MOTO_ACCOUNT


def test_check_mode_reads_and_never_changes(quotas):
    quotas.add_response("get_service_quota", quota(G_ON_DEMAND, "Running On-Demand G and VT instances", 8.0),
                        {"ServiceCode": "ec2", "QuotaCode": G_ON_DEMAND})
    with mock_aws():
        result = RUN({"quota_codes": [G_ON_DEMAND], "cost_estimate": dict(COST, read_prices=False)}, check_mode=True)
    assert result["changed"] is False
    assert result["quotas"][G_ON_DEMAND]["value"] == 8.0
    assert result["caller_identity"]["account"] == MOTO_ACCOUNT and result["availability_zones"]
    assert result["estimate"]["fallback"] is True  # read_prices false: the table only
