# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The cost estimate: parsing of recorded Price List / spot history shapes, resources of a configuration, fallback."""

import datetime
import json
import os

import botocore.exceptions
import yaml

from ansible_collections.eks_llm.inference.plugins.module_utils import cost_estimate
from ansible_collections.eks_llm.inference.plugins.modules import cost_estimate_info

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def _product(usagetype, dimensions):
    """One PriceList entry as GetProducts returns it: a JSON string (documented shape of the Price List API)."""
    return json.dumps({
        "product": {"productFamily": "Compute Instance", "attributes": {"usagetype": usagetype, "regionCode": "us-east-1"}, "sku": "SKU1"},
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {"SKU1.JRTCKXETXF": {
            "offerTermCode": "JRTCKXETXF", "sku": "SKU1",
            "priceDimensions": {
                "SKU1.JRTCKXETXF.%d" % i: {"unit": unit, "pricePerUnit": {"USD": usd}, "description": "x"}
                for i, (unit, usd) in enumerate(dimensions)},
        }}},
    })


def test_on_demand_hourly_reads_the_hourly_usd_price():
    price_list = [_product("BoxUsage:g5.xlarge", [("Hrs", "1.0060000000")])]
    assert cost_estimate.on_demand_hourly(price_list) == 1.006


def test_on_demand_hourly_skips_zero_non_hourly_and_other_usagetypes():
    price_list = [
        _product("USE1-NatGateway-Bytes", [("GB", "0.0450000000")]),
        _product("USE1-NatGateway-Hours", [("Hrs", "0.0000000000"), ("Hrs", "0.0450000000")]),
        _product("USE1-Other-Hours", [("Hrs", "0.0100000000")]),
    ]
    assert cost_estimate.on_demand_hourly(price_list, "NatGateway-Hours") == 0.045
    assert cost_estimate.on_demand_hourly(price_list[:1]) is None
    assert cost_estimate.on_demand_hourly([]) is None


def test_spot_hourly_takes_latest_per_zone_then_highest_zone():
    old = datetime.datetime(2026, 12, 1, 10, 0)
    new = datetime.datetime(2026, 12, 3, 10, 0)
    history = [
        {"AvailabilityZone": "us-east-1a", "InstanceType": "g5.xlarge", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.9000", "Timestamp": old},
        {"AvailabilityZone": "us-east-1a", "InstanceType": "g5.xlarge", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.4100", "Timestamp": new},
        {"AvailabilityZone": "us-east-1b", "InstanceType": "g5.xlarge", "ProductDescription": "Linux/UNIX", "SpotPrice": "0.4300", "Timestamp": new},
    ]
    assert cost_estimate.spot_hourly(history) == 0.43
    assert cost_estimate.spot_hourly([]) is None


def _inventory(name):
    with open(os.path.join(REPO, "inventories", "examples", name, "group_vars", "all", "main.yml")) as handle:
        return yaml.safe_load(handle)


def test_resources_of_the_acceptance_inventory():
    inv = _inventory("acceptance-smallest")
    items = cost_estimate.resources(inv.get("eks_llm_network"), inv.get("eks_llm_core_nodes"), inv.get("eks_llm_gpu_node_pools"))
    assert [(i["key"], i.get("instance_type"), i.get("capacity_type"), i["count"]) for i in items] == [
        ("eks_cluster", None, None, 1),
        ("nat_gateway", None, None, 1),
        ("instance", "m6i.large", "on-demand", 2),
        ("instance", "g5.xlarge", "spot", 1),
    ]


def test_resources_nat_per_az_existing_vpc_and_multi_gpu_instances():
    items = cost_estimate.resources({"nat_gateways": "per_az", "az_count": 3}, {}, [
        {"name": "big", "instance_types": ["g5.12xlarge"], "gpu_limit": 8}])
    assert items[1]["count"] == 3
    assert items[-1]["instance_type"] == "g5.12xlarge" and items[-1]["count"] == 2
    items = cost_estimate.resources({"vpc_id": "vpc-12345678"}, {}, [])
    assert "nat_gateway" not in [i["key"] for i in items]


def test_estimate_from_aws_prices():
    items = cost_estimate.resources({}, {}, [{"name": "g", "instance_types": ["g5.xlarge"], "capacity_types": ["spot"], "gpu_limit": 1}])
    prices = {"eks_cluster": 0.1, "nat_gateway": 0.05, "m6i.large": 0.1, "g5.xlarge": 0.5}
    result = cost_estimate.estimate(items, lambda item: prices[item.get("instance_type", item["key"])], 2.0)
    assert result["usd_per_hour"] == 0.85 and result["usd_for_run"] == 1.7
    assert not result["fallback"] and result["notes"] == []
    assert "FALLBACK" not in "\n".join(cost_estimate.summary(result))


def test_estimate_falls_back_and_says_so():
    items = cost_estimate.resources({}, {"instance_types": ["m7i.large"]}, [
        {"name": "g", "instance_types": ["g5.xlarge"], "capacity_types": ["spot"], "gpu_limit": 1}])
    result = cost_estimate.estimate(items, lambda item: None, 1.0)
    assert result["fallback"]
    by_what = {line["what"]: line for line in result["lines"]}
    assert by_what["EKS control plane"]["unit_usd_per_hour"] == cost_estimate.FALLBACK_PRICES["eks_cluster"]
    assert by_what["GPU node g5.xlarge (spot, pool g)"]["unit_usd_per_hour"] == cost_estimate.FALLBACK_PRICES["spot"]["g5.xlarge"]
    assert by_what["core node m7i.large (on-demand)"]["usd_per_hour"] == 0  # not in the table: said in the notes
    text = "\n".join(cost_estimate.summary(result))
    assert "FALLBACK ESTIMATE" in text and cost_estimate.FALLBACK_TAKEN in text and cost_estimate.FALLBACK_REGION in text
    assert "no fallback price either" in text and "EFS" in text and "S3" in text


class _FakePricing:
    def __init__(self, lists):
        self.lists, self.calls = lists, []

    def get_products(self, **kwargs):
        self.calls.append(kwargs)
        key = kwargs["ServiceCode"] + ":" + ",".join(sorted("%s=%s" % (f["Field"], f["Value"]) for f in kwargs["Filters"]))
        if key not in self.lists:
            raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetProducts")
        return {"FormatVersion": "aws_v1", "PriceList": self.lists[key]}


class _FakeEC2:
    def describe_spot_price_history(self, **kwargs):
        assert kwargs["InstanceTypes"] == ["g5.xlarge"] and kwargs["ProductDescriptions"] == ["Linux/UNIX"]
        return {"SpotPriceHistory": [{"AvailabilityZone": "eu-west-1a", "SpotPrice": "0.3900", "Timestamp": datetime.datetime(2026, 12, 3)}]}


def test_price_reader_asks_the_price_list_and_spot_history_and_falls_back_on_errors():
    pricing = _FakePricing({
        "AmazonEKS:regionCode=eu-west-1": [_product("EUW1-AmazonEKS-Hours:perCluster", [("Hours", "0.1000000000")])],
        "AmazonEC2:capacitystatus=Used,instanceType=m6i.large,operatingSystem=Linux,preInstalledSw=NA,regionCode=eu-west-1,tenancy=Shared":
            [_product("EU-BoxUsage:m6i.large", [("Hrs", "0.1070000000")])],
    })
    read = cost_estimate_info.price_reader(pricing, _FakeEC2(), "eu-west-1")
    items = cost_estimate.resources({}, {}, [{"name": "g", "instance_types": ["g5.xlarge"], "capacity_types": ["spot"], "gpu_limit": 1}])
    result = cost_estimate.estimate(items, read, 1.0)
    sources = {line["key"] + ":" + line.get("instance_type", ""): (line["unit_usd_per_hour"], line["source"]) for line in result["lines"]}
    assert sources == {
        "eks_cluster:": (0.1, "aws"),
        "nat_gateway:": (cost_estimate.FALLBACK_PRICES["nat_gateway"], "fallback"),  # GetProducts denied
        "instance:m6i.large": (0.107, "aws"),
        "instance:g5.xlarge": (0.39, "aws"),
    }
    assert result["fallback"]


def _model(name, pool, tp=1, replicas=1, autoscaling=None, eligible=None):
    return {"name": name, "node_pool": pool, "tensor_parallel": tp, "replicas": replicas,
            "autoscaling": autoscaling or {"enabled": False}, "placement": {"eligible_instance_types": eligible or []}}


def test_pool_scales_minimum_from_the_models_maximum_from_the_limit():
    pools = [{"name": "g5", "instance_families": ["g5"], "capacity_types": ["spot", "on-demand"], "gpu_limit": 16},
             {"name": "big", "instance_types": ["g5.12xlarge"], "gpu_limit": 8},
             {"name": "idle", "instance_types": ["g6.xlarge"], "gpu_limit": 2}]
    models = [
        # 2 replicas of 4 GPUs: the smallest type that fits is g5.12xlarge (4 GPUs), one replica per node
        _model("llama-70b", "g5", tp=4, replicas=2, eligible=["g5.12xlarge", "g5.24xlarge", "g5.48xlarge"]),
        # autoscaling from 3: on the same pool's chosen type, 4 one-GPU replicas share a node
        _model("small", "g5", autoscaling={"enabled": True, "min_replicas": 3, "max_replicas": 9},
               eligible=["g5.xlarge", "g5.12xlarge", "g5.24xlarge", "g5.48xlarge"]),
        _model("mid", "big", tp=2, replicas=3, eligible=["g5.12xlarge"]),
    ]
    scales = {s["name"]: s for s in cost_estimate.pool_scales(pools, models)}
    assert scales["g5"] == {"name": "g5", "instance_type": "g5.12xlarge", "gpus_per_node": 4, "capacity_type": "spot",
                            "fallback_capacity_type": None, "min_nodes": 2 + 1, "max_nodes": 4}
    assert (scales["big"]["min_nodes"], scales["big"]["max_nodes"], scales["big"]["capacity_type"]) == (2, 2, "on-demand")
    assert (scales["idle"]["instance_type"], scales["idle"]["min_nodes"], scales["idle"]["max_nodes"]) == ("g6.xlarge", 0, 2)


def test_pool_costs_price_both_capacity_types_and_charge_the_one_used():
    scales = cost_estimate.pool_scales(
        [{"name": "g", "instance_types": ["g5.xlarge"], "capacity_types": ["spot"], "gpu_limit": 4}],
        [_model("m", "g", replicas=2, eligible=["g5.xlarge"])])
    prices = {("g5.xlarge", "on-demand"): 1.0, ("g5.xlarge", "spot"): 0.4}
    pool, = cost_estimate.pool_costs(scales, lambda item: prices[(item["instance_type"], item["capacity_type"])])
    assert (pool["on_demand_usd_per_hour"], pool["spot_usd_per_hour"]) == (1.0, 0.4)
    assert (pool["min_usd_per_hour"], pool["max_usd_per_hour"], pool["source"]) == (0.8, 1.6, "aws")


def test_estimate_per_pool_totals_and_summary():
    items = cost_estimate.resources({}, {}, [])
    scales = cost_estimate.pool_scales([{"name": "g", "instance_types": ["g5.xlarge"], "gpu_limit": 2}],
                                       [_model("m", "g", eligible=["g5.xlarge"])])
    prices = {"eks_cluster": 0.1, "nat_gateway": 0.05, "m6i.large": 0.1}
    result = cost_estimate.estimate(items, lambda item: prices.get(item.get("instance_type", item["key"]))
                                    if item["key"] != "instance" or item["instance_type"] != "g5.xlarge"
                                    else None, 1.0, scales)
    # g5.xlarge not readable: the fallback table prices it, and the estimate says so
    assert result["fallback"] and any("GPU pool g" in note for note in result["notes"])
    assert result["usd_per_hour_min"] == round(0.1 + 0.05 + 2 * 0.1 + 1.006, 2)
    assert result["usd_per_hour"] == round(0.1 + 0.05 + 2 * 0.1 + 2 * 1.006, 2)
    text = "\n".join(cost_estimate.summary(result))
    assert "GPU pool g: g5.xlarge at $1.0060/h on-demand" in text and "1 node(s) at minimum scale" in text
    assert "at most $%.2f per hour" % result["usd_per_hour"] in text


def test_serving_costs_price_each_models_nodes_at_the_pools_capacity_type():
    models = [_model("a", "g", tp=1, replicas=3, eligible=["g5.12xlarge"]), _model("b", "g", tp=4, replicas=2, eligible=["g5.12xlarge"]),
              _model("elsewhere", "unpriced", eligible=["g5.xlarge"])]
    scales = cost_estimate.pool_scales([{"name": "g", "instance_types": ["g5.12xlarge"], "capacity_types": ["spot"], "gpu_limit": 16}],
                                       models)
    pools = cost_estimate.pool_costs(scales, lambda item: {"on-demand": 5.0, "spot": 2.0}[item["capacity_type"]])
    costs = cost_estimate.serving_costs(models, pools)
    assert costs == [
        {"model": "a", "nodes": 1, "instance_type": "g5.12xlarge", "capacity_type": "spot", "usd_per_hour": 2.0},
        {"model": "b", "nodes": 2, "instance_type": "g5.12xlarge", "capacity_type": "spot", "usd_per_hour": 4.0},
    ]
    assert pools[0]["min_nodes"] == 3


def test_a_reserved_pool_is_not_charged_for_its_reservations_and_says_so():
    pools = [{"name": "block", "instance_types": ["g5.xlarge"], "capacity_types": ["reserved"], "gpu_limit": 2},
             {"name": "odcr", "instance_types": ["g5.xlarge"], "capacity_types": ["reserved", "on-demand"], "gpu_limit": 4}]
    models = [_model("m", "block", eligible=["g5.xlarge"]), _model("n", "odcr", replicas=2, eligible=["g5.xlarge"])]
    scales = cost_estimate.pool_scales(pools, models)
    assert [(s["capacity_type"], s["fallback_capacity_type"]) for s in scales] == [("reserved", None), ("reserved", "on-demand")]
    result = cost_estimate.estimate([], lambda item: {"on-demand": 1.0, "spot": 0.4}[item["capacity_type"]], 1.0, scales)
    block, odcr = result["pools"]
    assert (block["min_usd_per_hour"], block["max_usd_per_hour"]) == (0.0, 0.0)
    # at most every node of the pool's gpu_limit is on-demand fallback; at minimum the models run in the reservations
    assert (odcr["min_usd_per_hour"], odcr["max_usd_per_hour"]) == (0.0, 4.0)
    assert result["usd_per_hour_min"] == 0.0 and result["usd_per_hour"] == 4.0
    assert any(note.startswith("GPU pool block runs in capacity reservations: EC2 bills them whether or not nodes run")
               and "no fallback capacity" in note for note in result["notes"])
    assert any("the maximum counts its on-demand fallback at its gpu_limit" in note for note in result["notes"])
    text = "\n".join(cost_estimate.summary(result))
    assert "GPU pool odcr: g5.xlarge at $1.0000/h on-demand, $0.4000/h spot; reserved: 2 node(s) at minimum scale" in text
    assert "up to 4 (gpu_limit) $4.00/h at its on-demand fallback" in text
    # a benchmark on reserved nodes is priced at what an ODCR bills per hour: the on-demand rate
    assert cost_estimate.serving_costs(models, result["pools"])[1] == {
        "model": "n", "nodes": 2, "instance_type": "g5.xlarge", "capacity_type": "reserved", "usd_per_hour": 2.0}
    # without models: only the fallback is an item; a reserved-only pool adds none
    items = cost_estimate.resources({}, {}, pools)
    assert [i["capacity_type"] for i in items if "GPU" in i["what"]] == ["on-demand"]
