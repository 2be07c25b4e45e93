# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.
"""Cost estimate of a configuration: which billed resources it creates and what they cost per hour.

Prices come from the AWS Price List API (pricing GetProducts) and EC2 DescribeSpotPriceHistory; a price
that cannot be read is taken from FALLBACK_PRICES and the line is marked as a fallback estimate.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog

# The Price List API answers in a few regions only; on-demand prices of every region are read there.
PRICING_REGION = "us-east-1"
# An estimate must not hold up the run: a price AWS does not give at once comes from the fallback table.
QUICK_CLIENT_CONFIG = {"retries": {"mode": "standard", "max_attempts": 2}, "connect_timeout": 5, "read_timeout": 10}

# The options of a configuration to price (cost_estimate_info's own; account_preflight_info's cost_estimate).
ESTIMATE_OPTIONS = dict(
    network=dict(type="dict", default={}),
    core_nodes=dict(type="dict", default={}),
    gpu_node_pools=dict(type="list", elements="dict", default=[]),
    models=dict(type="list", elements="dict"),
    hours=dict(type="float", default=1.0),
    read_prices=dict(type="bool", default=True),
)

# The one fallback table. Public on-demand list prices (USD per hour, Linux, shared tenancy) of region
# FALLBACK_REGION as published on the AWS pricing pages when FALLBACK_TAKEN; spot prices move every hour,
# so the spot entries are a rough typical value, not a quote. Used only when the API cannot be read.
FALLBACK_TAKEN = "2025-06"
FALLBACK_REGION = "us-east-1"
FALLBACK_PRICES = {
    "eks_cluster": 0.10,
    "nat_gateway": 0.045,
    "on-demand": {
        "m6i.large": 0.096,
        "m6i.xlarge": 0.192,
        "g4dn.xlarge": 0.526,
        "g5.xlarge": 1.006,
        "g6.xlarge": 0.8048,
        "g5.12xlarge": 5.672,
        "g5.24xlarge": 8.144,
    },
    "spot": {
        "g4dn.xlarge": 0.25,
        "g5.xlarge": 0.45,
        "g6.xlarge": 0.40,
    },
}

# Listed for completeness: billed by use (GiB stored, requests), cents for a run of a few hours.
NEGLIGIBLE = [
    "EFS file system (elastic throughput, GiB-month stored: cents for a short run)",
    "S3 model bucket (GiB-month stored and requests: cents for a short run)",
    "CloudWatch logs and EBS volumes of the nodes (cents for a short run)",
]

# Usage types of the Price List API that the hourly lines are, matched by suffix (region prefix differs).
USAGETYPE_SUFFIX = {
    "eks_cluster": "AmazonEKS-Hours:perCluster",
    "nat_gateway": "NatGateway-Hours",
}


def on_demand_hourly(price_list, usagetype_suffix=None):
    """USD per hour from a GetProducts PriceList (a list of JSON strings); None when no hourly price is in it.

    Only price dimensions billed per hour with a non-zero USD price count; with ``usagetype_suffix`` only the
    products whose attributes.usagetype ends with it. The lowest such price is returned.
    """
    prices = []
    for item in price_list or []:
        product = json.loads(item) if isinstance(item, str) else item
        usagetype = product.get("product", {}).get("attributes", {}).get("usagetype", "")
        if usagetype_suffix and not usagetype.endswith(usagetype_suffix):
            continue
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term.get("priceDimensions", {}).values():
                if dimension.get("unit", "").lower() not in ("hrs", "hours", "hour"):
                    continue
                try:
                    usd = float(dimension.get("pricePerUnit", {}).get("USD", ""))
                except ValueError:
                    continue
                if usd > 0:
                    prices.append(usd)
    return min(prices) if prices else None


def spot_hourly(history):
    """USD per hour from DescribeSpotPriceHistory's SpotPriceHistory: the latest price of each availability zone,
    then the highest of them (Karpenter may launch in any zone). None when the history is empty."""
    latest = {}
    for entry in history or []:
        zone = entry.get("AvailabilityZone", "")
        stamp = entry.get("Timestamp")
        stamp = stamp.isoformat() if hasattr(stamp, "isoformat") else str(stamp)
        if zone not in latest or stamp > latest[zone][0]:
            latest[zone] = (stamp, float(entry["SpotPrice"]))
    return max(price for dummy, price in latest.values()) if latest else None


def pool_capacity(pool):
    """(capacity type a pool is priced at, its fallback): reserved first, as Karpenter prefers it, then spot, then
    on-demand. Reserved capacity is billed whether or not nodes run in it (ODCRs at the on-demand rate, Capacity
    Blocks paid up front), so it adds nothing to what the deployment costs; the fallback is what the pool may add."""
    types = pool.get("capacity_types") or ["on-demand"]
    others = "spot" if "spot" in types else ("on-demand" if "on-demand" in types else None)
    return ("reserved", others) if "reserved" in types else (others, None)


def reserved_note(pool_name, fallback):
    return ("GPU pool %s runs in capacity reservations: EC2 bills them whether or not nodes run (ODCRs at the on-demand rate,"
            " Capacity Blocks paid up front), so they are not counted here; %s" % (
                pool_name, "the maximum counts its %s fallback at its gpu_limit" % fallback if fallback else "it has no fallback capacity"))


def resources(network, core_nodes, gpu_pools):
    """The hourly-billed resources of a configuration, from the inventory variables eks_llm_network,
    eks_llm_core_nodes and eks_llm_gpu_node_pools (defaults as in inventory_model.SPEC)."""
    network = network or {}
    core_nodes = core_nodes or {}
    items = [{"key": "eks_cluster", "what": "EKS control plane", "count": 1}]
    if not network.get("vpc_id"):
        zones = len(network.get("availability_zones") or []) or network.get("az_count", 2)
        nats = zones if network.get("nat_gateways", "single") == "per_az" else 1
        items.append({"key": "nat_gateway", "what": "NAT gateway", "count": nats})
    core_type = (core_nodes.get("instance_types") or ["m6i.large"])[0]
    capacity = "spot" if core_nodes.get("capacity_type", "ON_DEMAND") == "SPOT" else "on-demand"
    items.append({"key": "instance", "what": "core node %s (%s)" % (core_type, capacity), "instance_type": core_type,
                  "capacity_type": capacity, "count": core_nodes.get("desired_size", 2)})
    for pool in gpu_pools or []:
        types = gpu_catalog.expand_pool_instance_types(pool.get("instance_types") or [], pool.get("instance_families") or [])
        if not types:
            continue
        instance_type = types[0]
        capacity, fallback = pool_capacity(pool)
        if capacity == "reserved":  # prepaid: only the fallback adds to the bill
            capacity = fallback
        if capacity is None:
            continue
        gpus = gpu_catalog.INSTANCE_TYPES.get(instance_type, {}).get("gpus", 1)
        count = int(math.ceil(pool.get("gpu_limit", 8) / float(gpus)))
        items.append({"key": "instance", "what": "GPU node %s (%s, pool %s)" % (instance_type, capacity, pool.get("name")),
                      "instance_type": instance_type, "capacity_type": capacity, "count": count})
    return items


def pool_node_type(pool, models):
    """The instance type a GPU pool's nodes are priced as: the smallest type (fewest GPUs) that every model placed on
    the pool may run on (its placement's eligible types), else the pool's first type; None when it has none."""
    types = gpu_catalog.expand_pool_instance_types(pool.get("instance_types") or [], pool.get("instance_families") or [])
    placed = [m for m in models or [] if m.get("node_pool") == pool.get("name") and (m.get("placement") or {}).get("eligible_instance_types")]
    fitting = [t for t in types if all(t in m["placement"]["eligible_instance_types"] for m in placed)]
    candidates = sorted(fitting, key=lambda t: gpu_catalog.INSTANCE_TYPES[t]["gpus"]) if placed else types
    return (candidates or types or [None])[0]


def model_nodes(model, gpus_per_node):
    """Nodes a model's minimum replicas take on nodes of ``gpus_per_node`` GPUs (a replica's tensor_parallel GPUs are
    on one node; replicas of the same model share a node when its GPUs allow)."""
    per_node = max(1, gpus_per_node // max(1, int(model.get("tensor_parallel") or 1)))
    return int(math.ceil(gpu_catalog.min_replicas(model) / float(per_node)))


def serving_costs(models, pools):
    """Per model on a priced pool (pool_costs()): the nodes its minimum replicas take and what they cost per hour at
    the pool's capacity type - what a benchmark of the model pays for, to turn tokens/s into USD per million tokens."""
    priced = dict((pool["name"], pool) for pool in pools or [])
    costs = []
    for model in models or []:
        pool = priced.get(model.get("node_pool"))
        # a reserved node costs what EC2 bills the reservation per hour: an ODCR the on-demand rate
        unit = (pool or {}).get("spot_usd_per_hour" if (pool or {}).get("capacity_type") == "spot" else "on_demand_usd_per_hour")
        if unit is None:
            continue
        nodes = model_nodes(model, pool["gpus_per_node"])
        costs.append({"model": model["name"], "nodes": nodes, "instance_type": pool["instance_type"],
                      "capacity_type": pool["capacity_type"], "usd_per_hour": round(unit * nodes, 4)})
    return costs


def pool_scales(pools, models):
    """Nodes of each GPU pool at its two ends: ``min_nodes`` hold its models at their minimum replicas (each replica
    takes tensor_parallel GPUs of one node), ``max_nodes`` are what Karpenter may launch under the pool's gpu_limit -
    the most the pool can ever cost. Capacity: spot when the pool allows it (Karpenter prefers it), else on-demand."""
    scales = []
    for pool in pools or []:
        instance_type = pool_node_type(pool, models)
        if instance_type is None:
            continue
        gpus = gpu_catalog.INSTANCE_TYPES.get(instance_type, {}).get("gpus", 1)
        min_nodes = sum(model_nodes(model, gpus) for model in models or [] if model.get("node_pool") == pool.get("name"))
        max_nodes = max(min_nodes, int(math.ceil(pool.get("gpu_limit", 8) / float(gpus))))
        capacity, fallback = pool_capacity(pool)
        scales.append({"name": pool.get("name"), "instance_type": instance_type, "gpus_per_node": gpus,
                       "capacity_type": capacity, "fallback_capacity_type": fallback, "min_nodes": min_nodes, "max_nodes": max_nodes})
    return scales


def pool_costs(scales, read_price):
    """Each pool of pool_scales() priced on-demand and spot (AWS first, else the fallback table), and what it costs per
    hour at its minimum and maximum scale at the capacity type it uses."""
    priced = []
    for scale in scales:
        prices, sources = {}, []
        for capacity in ("on-demand", "spot"):
            item = {"key": "instance", "instance_type": scale["instance_type"], "capacity_type": capacity}
            price = read_price(item)
            sources.append("aws" if price is not None else "fallback")
            prices[capacity] = price if price is not None else fallback_price(item)
        if scale["capacity_type"] == "reserved":
            # the models' minimum runs in the reservations (billed regardless); at most, every node is fallback capacity
            low, high = 0.0, (prices[scale["fallback_capacity_type"]] or 0.0) if scale.get("fallback_capacity_type") else 0.0
        else:
            low = high = prices[scale["capacity_type"]] or 0.0
        priced.append(dict(scale, on_demand_usd_per_hour=prices["on-demand"], spot_usd_per_hour=prices["spot"],
                           min_usd_per_hour=round(low * scale["min_nodes"], 4), max_usd_per_hour=round(high * scale["max_nodes"], 4),
                           source="aws" if sources == ["aws", "aws"] else "fallback"))
    return priced


def fallback_price(item):
    """Price of an item from FALLBACK_PRICES, or None when the table has none."""
    if item["key"] != "instance":
        return FALLBACK_PRICES[item["key"]]
    price = FALLBACK_PRICES[item["capacity_type"]].get(item["instance_type"])
    if price is None and item["capacity_type"] == "spot":
        price = FALLBACK_PRICES["on-demand"].get(item["instance_type"])
    return price


def estimate(items, read_price, hours, pools=None):
    """Price each item; ``read_price(item)`` returns USD/hour or None (not readable). Returns the estimate dict.

    With ``pools`` (pool_scales()), the GPU pools are priced per pool at both ends instead of as items: the total per
    hour is then the maximum (every pool at its limit) and ``usd_per_hour_min`` the minimum (the models at their
    minimum replicas)."""
    lines, notes = [], []
    for item in items:
        price, source = read_price(item), "aws"
        if price is None:
            price, source = fallback_price(item), "fallback"
            notes.append("%s: price not readable from AWS; %s" % (item["what"], (
                "fallback table (%s, %s) used" % (FALLBACK_TAKEN, FALLBACK_REGION)) if price is not None else "no fallback price either, counted as 0"))
        unit = price or 0.0
        lines.append(dict(item, unit_usd_per_hour=round(unit, 4), usd_per_hour=round(unit * item["count"], 4), source=source))
    priced_pools = pool_costs(pools or [], read_price)
    fixed = sum(line["usd_per_hour"] for line in lines)
    per_hour = fixed + sum(pool["max_usd_per_hour"] for pool in priced_pools)
    fallback = any(line["source"] == "fallback" for line in lines + priced_pools)
    notes.extend("GPU pool %s: %s price not readable from AWS; fallback table (%s, %s) used" % (pool["name"], pool["instance_type"],
                 FALLBACK_TAKEN, FALLBACK_REGION) for pool in priced_pools if pool["source"] == "fallback")
    notes.extend(reserved_note(pool["name"], pool.get("fallback_capacity_type")) for pool in priced_pools if pool["capacity_type"] == "reserved")
    return {
        "lines": lines,
        "pools": priced_pools,
        "usd_per_hour_min": round(fixed + sum(pool["min_usd_per_hour"] for pool in priced_pools), 2),
        "usd_per_hour": round(per_hour, 2),
        "hours": hours,
        "usd_for_run": round(per_hour * hours, 2),
        "fallback": fallback,
        "notes": notes,
        "negligible": list(NEGLIGIBLE),
    }


def _usd(value):
    return "%.4f" % value if value is not None else "?"


def summary(result):
    """Lines of text for a person, marking a fallback estimate clearly."""
    marker = " (FALLBACK ESTIMATE: some prices from the table of %s, %s)" % (FALLBACK_TAKEN, FALLBACK_REGION) if result["fallback"] else ""
    text = ["Cost estimate%s:" % marker]
    for line in result["lines"]:
        text.append("  %d x %s: $%.4f/h each, $%.2f/h [%s]" % (
            line["count"], line["what"], line["unit_usd_per_hour"], line["usd_per_hour"], line["source"]))
    for pool in result.get("pools") or []:
        if pool["capacity_type"] == "reserved":
            text.append("  GPU pool %s: %s at $%s/h on-demand, $%s/h spot; reserved: %d node(s) at minimum scale in its capacity"
                        " reservations (billed by EC2 regardless, not counted), up to %d (gpu_limit) %s [%s]" % (
                            pool["name"], pool["instance_type"], _usd(pool["on_demand_usd_per_hour"]), _usd(pool["spot_usd_per_hour"]),
                            pool["min_nodes"], pool["max_nodes"], "$%.2f/h at its %s fallback" % (pool["max_usd_per_hour"], pool[
                                "fallback_capacity_type"]) if pool.get("fallback_capacity_type") else "in reservations only, $0.00/h",
                            pool["source"]))
            continue
        text.append("  GPU pool %s: %s at $%s/h on-demand, $%s/h spot; %s: %d node(s) at minimum scale $%.2f/h, up to %d"
                    " (gpu_limit) $%.2f/h [%s]" % (
                        pool["name"], pool["instance_type"], _usd(pool["on_demand_usd_per_hour"]), _usd(pool["spot_usd_per_hour"]),
                        pool["capacity_type"], pool["min_nodes"], pool["min_usd_per_hour"], pool["max_nodes"],
                        pool["max_usd_per_hour"], pool["source"]))
    if result.get("pools"):
        text.append("  total: $%.2f per hour at minimum scale, at most $%.2f per hour; about $%.2f for %.1f hours at most" % (
            result["usd_per_hour_min"], result["usd_per_hour"], result["usd_for_run"], result["hours"]))
    else:
        text.append("  total: $%.2f per hour, about $%.2f for %.1f hours" % (result["usd_per_hour"], result["usd_for_run"], result["hours"]))
    text.extend("  not counted (negligible): %s" % item for item in result["negligible"])
    text.extend("  note: %s" % note for note in result["notes"])
    return text


def _filters(**terms):
    return [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in terms.items()]


def price_reader(pricing, ec2, region):
    """A read_price(item) for estimate(): USD/hour from AWS, None when it cannot be read."""
    def read(item):
        try:
            if item["key"] == "eks_cluster":
                found = pricing.get_products(ServiceCode="AmazonEKS", Filters=_filters(regionCode=region), MaxResults=100)
                return on_demand_hourly(found.get("PriceList"), USAGETYPE_SUFFIX["eks_cluster"])
            if item["key"] == "nat_gateway":
                found = pricing.get_products(ServiceCode="AmazonEC2", Filters=_filters(regionCode=region, productFamily="NAT Gateway"),
                                             MaxResults=100)
                return on_demand_hourly(found.get("PriceList"), USAGETYPE_SUFFIX["nat_gateway"])
            if item["capacity_type"] == "spot":
                found = ec2.describe_spot_price_history(InstanceTypes=[item["instance_type"]], ProductDescriptions=["Linux/UNIX"],
                                                        StartTime=datetime.datetime.now(datetime.timezone.utc))
                return spot_hourly(found.get("SpotPriceHistory"))
            found = pricing.get_products(ServiceCode="AmazonEC2", Filters=_filters(
                regionCode=region, instanceType=item["instance_type"], operatingSystem="Linux", tenancy="Shared",
                preInstalledSw="NA", capacitystatus="Used"), MaxResults=100)
            return on_demand_hourly(found.get("PriceList"))
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            return None
    return read


def no_price(item):  # pylint: disable=unused-argument
    return None


def configuration_estimate(module, options):
    """(estimate, summary) of the configuration in ``options`` (the values of ESTIMATE_OPTIONS); with read_prices, the
    prices come from the Price List API (PRICING_REGION) and the spot price history of the module's region, through
    the module's clients, else from the fallback table. Never fails: a price not read is a fallback."""
    per_pool = options["models"] is not None
    items = resources(options["network"], options["core_nodes"], [] if per_pool else options["gpu_node_pools"])
    pools = pool_scales(options["gpu_node_pools"], options["models"]) if per_pool else None
    read = no_price
    if options["read_prices"]:
        read = price_reader(module.client("pricing", region=PRICING_REGION, config=QUICK_CLIENT_CONFIG),
                            module.client("ec2", config=QUICK_CLIENT_CONFIG), module.region)
    result = estimate(items, read, options["hours"], pools)
    return result, summary(result)
