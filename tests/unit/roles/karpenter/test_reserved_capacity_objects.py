# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The Karpenter objects roles/karpenter applies for a reserved GPU pool (the karpenter_plan filter): its own
EC2NodeClass selecting the pool's reservations (capacityReservationSelectorTerms), a NodePool allowing capacity type
reserved and referencing that class, while pools without reservations keep sharing the class of their AMI family."""
import os

import yaml

from ansible_collections.eks_llm.inference.plugins.filter.platform import karpenter_plan
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "karpenter")
ODCR = "cr-0a1b2c3d4e5f60718"
INVENTORY = {
    "eks_llm_name": "demo", "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [
        {"name": "gpu-p5-block", "instance_types": ["p5.48xlarge"], "capacity_types": ["reserved"],
         "capacity_reservations": [{"id": ODCR}, {"tags": {"team": "ml"}, "owner_id": "123456789012"}]},
        {"name": "gpu-g5", "instance_families": ["g5"], "capacity_types": ["spot", "on-demand"]},
    ],
}


def rendered(settings=None):
    """The objects of the role's plan (vars/main.yml: __karpenter_plan) for INVENTORY; {kind: {name: object}}."""
    config, problems, dummy = inventory_model.validate(INVENTORY)
    assert problems == []
    plan = karpenter_plan({"name": "demo", "node_role": "demo-karpenter-node", "gpu_node_pools": config["gpu_node_pools"],
                           "karpenter": dict(config["karpenter"], **(settings or {})), "platform": config["platform"],
                           "tags": config["tags"], "ami_aliases": config["ami_aliases"]})
    objects = {}
    for item in plan["objects"]:
        objects.setdefault(item["kind"], {})[item["metadata"]["name"]] = item
    return objects


def test_the_reserved_pool_has_its_own_node_class_selecting_its_reservations():
    objects = rendered()
    classes = objects["EC2NodeClass"]
    assert sorted(classes) == ["cpu-al2023", "gpu-al2023", "gpu-al2023-gpu-p5-block"]
    assert classes["gpu-al2023-gpu-p5-block"]["spec"]["capacityReservationSelectorTerms"] == [
        {"id": ODCR}, {"tags": {"team": "ml"}, "ownerID": "123456789012"}]
    assert "capacityReservationSelectorTerms" not in classes["gpu-al2023"]["spec"]
    assert "capacityReservationSelectorTerms" not in classes["cpu-al2023"]["spec"]


def test_the_reserved_nodepool_allows_reserved_and_references_its_class():
    pools = rendered()["NodePool"]
    reserved, shared = pools["gpu-p5-block"]["spec"]["template"]["spec"], pools["gpu-g5"]["spec"]["template"]["spec"]
    assert reserved["nodeClassRef"] == {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu-al2023-gpu-p5-block"}
    assert {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["reserved"]} in reserved["requirements"]
    assert shared["nodeClassRef"]["name"] == "gpu-al2023"
    assert {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]} in shared["requirements"]
    assert pools["cpu"]["spec"]["template"]["spec"]["nodeClassRef"]["name"] == "cpu-al2023"


def test_locally_the_kwok_class_of_the_reserved_pool_exists_too():
    objects = rendered({"node_class_kind": "KWOKNodeClass"})
    assert "gpu-al2023-gpu-p5-block" in objects["KWOKNodeClass"]
    ref = objects["NodePool"]["gpu-p5-block"]["spec"]["template"]["spec"]["nodeClassRef"]
    assert ref == {"group": "karpenter.kwok.sh", "kind": "KWOKNodeClass", "name": "gpu-al2023-gpu-p5-block"}


def test_the_reserved_capacity_feature_gate_is_set_in_the_chart_values():
    with open(os.path.join(ROLE, "tasks", "main.yml"), encoding="utf-8") as handle:
        install = yaml.safe_load(handle)[0]
    assert install["vars"]["__karpenter_values"]["settings"]["featureGates"] == {"reservedCapacity": True}


def test_the_role_gives_the_plan_every_input_it_reads():
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        expression = yaml.safe_load(handle)["__karpenter_plan"]
    for key, variable in (("name", "karpenter_name"), ("node_role", "karpenter_node_role"),
                          ("gpu_node_pools", "karpenter_gpu_node_pools"), ("karpenter", "karpenter_settings"),
                          ("platform", "karpenter_platform"), ("tags", "karpenter_tags"), ("ami_aliases", "karpenter_ami_aliases")):
        assert "'%s': %s" % (key, variable) in expression
    assert expression.rstrip().endswith("| eks_llm.inference.karpenter_plan }}")
