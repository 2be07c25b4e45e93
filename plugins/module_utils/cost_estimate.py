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

import json
import math

from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog

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
        capacity = "spot" if "spot" in (pool.get("capacity_types") or ["on-demand"]) else "on-demand"
        gpus = gpu_catalog.INSTANCE_TYPES.get(instance_type, {}).get("gpus", 1)
        count = int(math.ceil(pool.get("gpu_limit", 8) / float(gpus)))
        items.append({"key": "instance", "what": "GPU node %s (%s, pool %s)" % (instance_type, capacity, pool.get("name")),
                      "instance_type": instance_type, "capacity_type": capacity, "count": count})
    return items


def fallback_price(item):
    """Price of an item from FALLBACK_PRICES, or None when the table has none."""
    if item["key"] != "instance":
        return FALLBACK_PRICES[item["key"]]
    price = FALLBACK_PRICES[item["capacity_type"]].get(item["instance_type"])
    if price is None and item["capacity_type"] == "spot":
        price = FALLBACK_PRICES["on-demand"].get(item["instance_type"])
    return price


def estimate(items, read_price, hours):
    """Price each item; ``read_price(item)`` returns USD/hour or None (not readable). Returns the estimate dict."""
    lines, notes = [], []
    for item in items:
        price, source = read_price(item), "aws"
        if price is None:
            price, source = fallback_price(item), "fallback"
            notes.append("%s: price not readable from AWS; %s" % (item["what"], (
                "fallback table (%s, %s) used" % (FALLBACK_TAKEN, FALLBACK_REGION)) if price is not None else "no fallback price either, counted as 0"))
        unit = price or 0.0
        lines.append(dict(item, unit_usd_per_hour=round(unit, 4), usd_per_hour=round(unit * item["count"], 4), source=source))
    per_hour = sum(line["usd_per_hour"] for line in lines)
    fallback = any(line["source"] == "fallback" for line in lines)
    return {
        "lines": lines,
        "usd_per_hour": round(per_hour, 2),
        "hours": hours,
        "usd_for_run": round(per_hour * hours, 2),
        "fallback": fallback,
        "notes": notes,
        "negligible": list(NEGLIGIBLE),
    }


def summary(result):
    """Lines of text for a person, marking a fallback estimate clearly."""
    marker = " (FALLBACK ESTIMATE: some prices from the table of %s, %s)" % (FALLBACK_TAKEN, FALLBACK_REGION) if result["fallback"] else ""
    text = ["Cost estimate%s:" % marker]
    for line in result["lines"]:
        text.append("  %d x %s: $%.4f/h each, $%.2f/h [%s]" % (
            line["count"], line["what"], line["unit_usd_per_hour"], line["usd_per_hour"], line["source"]))
    text.append("  total: $%.2f per hour, about $%.2f for %.1f hours" % (result["usd_per_hour"], result["usd_for_run"], result["hours"]))
    text.extend("  not counted (negligible): %s" % item for item in result["negligible"])
    text.extend("  note: %s" % note for note in result["notes"])
    return text
