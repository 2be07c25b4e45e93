"""The Price List API and spot price history of the stand-in, through boto3 (the module's reader is tested here too)."""
import json

import pytest
from botocore.exceptions import ClientError

from ansible_collections.eks_llm.inference.plugins.module_utils import cost_estimate
from ansible_collections.eks_llm.inference.plugins.modules.cost_estimate_info import price_reader
from tests.standin.helpers import error_code


def ec2_filters(**terms):
    return [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in terms.items()]


def test_get_products_answers_in_the_price_list_shape(aws):
    pricing = aws("pricing", region_name="us-east-1")
    found = pricing.get_products(ServiceCode="AmazonEC2", Filters=ec2_filters(
        regionCode="us-west-2", instanceType="g5.xlarge", operatingSystem="Linux", tenancy="Shared", preInstalledSw="NA",
        capacitystatus="Used"))["PriceList"]
    assert len(found) == 1 and isinstance(found[0], str)  # AWS sends each product as a JSON string
    product = json.loads(found[0])
    assert product["product"]["attributes"]["instanceType"] == "g5.xlarge"
    assert cost_estimate.on_demand_hourly(found) == pytest.approx(1.006)
    assert pricing.get_products(ServiceCode="AmazonEC2", Filters=ec2_filters(instanceType="g9.mega"))["PriceList"] == []
    eks = pricing.get_products(ServiceCode="AmazonEKS", Filters=ec2_filters(regionCode="us-west-2"))["PriceList"]
    assert cost_estimate.on_demand_hourly(eks, cost_estimate.USAGETYPE_SUFFIX["eks_cluster"]) == pytest.approx(0.10)
    with pytest.raises(ClientError) as bad:
        pricing.get_products(ServiceCode="AmazonEC2", Filters=[{"Type": "FUZZY", "Field": "x", "Value": "y"}])
    assert error_code(bad) == "InvalidParameterException"


def test_get_products_pages(aws):
    pricing = aws("pricing", region_name="us-east-1")
    first = pricing.get_products(ServiceCode="AmazonEC2", MaxResults=5)
    assert len(first["PriceList"]) == 5 and first["NextToken"]
    second = pricing.get_products(ServiceCode="AmazonEC2", MaxResults=5, NextToken=first["NextToken"])
    assert not set(first["PriceList"]) & set(second["PriceList"])


def test_spot_prices_are_a_fraction_of_on_demand_and_differ_by_zone(aws, aws_standin):
    ec2 = aws("ec2")
    history = ec2.describe_spot_price_history(InstanceTypes=["g5.xlarge"], ProductDescriptions=["Linux/UNIX"])["SpotPriceHistory"]
    prices = {entry["AvailabilityZone"]: float(entry["SpotPrice"]) for entry in history}
    assert len(prices) >= 2 and len(set(prices.values())) >= 2
    assert all(0.3 * 1.006 < price < 0.6 * 1.006 for price in prices.values())
    assert cost_estimate.spot_hourly(history) == max(prices.values())
    aws_standin.configure(prices={"g5.xlarge": {"on_demand": 2.0, "spot": 0.5}})
    history = ec2.describe_spot_price_history(InstanceTypes=["g5.xlarge"])["SpotPriceHistory"]
    assert {float(entry["SpotPrice"]) for entry in history} == {0.5}


def test_the_modules_price_reader_reads_both(aws, aws_standin):
    aws_standin.configure(prices={"g6.xlarge": {"on_demand": 0.9, "spot": 0.3}})
    read = price_reader(aws("pricing", region_name="us-east-1"), aws("ec2"), "us-west-2")
    assert read({"key": "instance", "instance_type": "g6.xlarge", "capacity_type": "on-demand"}) == pytest.approx(0.9)
    assert read({"key": "instance", "instance_type": "g6.xlarge", "capacity_type": "spot"}) == pytest.approx(0.3)
    assert read({"key": "nat_gateway"}) == pytest.approx(0.045)
    assert read({"key": "instance", "instance_type": "g9.mega", "capacity_type": "on-demand"}) is None
