# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The Karpenter objects roles/karpenter renders for a reserved GPU pool: its own EC2NodeClass selecting the pool's
reservations (capacityReservationSelectorTerms), a NodePool allowing capacity type reserved and referencing that class,
while pools without reservations keep sharing the class of their AMI family."""
import json
import os

import jinja2
import yaml

from ansible_collections.eks_llm.inference.plugins.filter.platform import karpenter_node_classes
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
    """objects.yaml.j2 as the role's lookup('template') renders it, parsed; {kind: {name: object}}."""
    config, problems, dummy = inventory_model.validate(INVENTORY)
    assert problems == []
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")), undefined=jinja2.StrictUndefined)
    env.filters.update(to_json=json.dumps, combine=lambda a, b: dict(a, **b), ternary=lambda value, yes, no: yes if value else no)
    karpenter = dict(config["karpenter"], **(settings or {}))
    # as vars/main.yml: EC2NodeClasses always (the API server validates them locally too), KWOKNodeClasses locally
    templates = ["ec2nodeclass.yaml.j2"] + (["kwoknodeclass.yaml.j2"] if karpenter["node_class_kind"] == "KWOKNodeClass" else [])
    text = env.get_template("objects.yaml.j2").render(
        __karpenter_node_classes=karpenter_node_classes(config["gpu_node_pools"], karpenter["cpu_pool"]),
        __karpenter_class_templates=templates, __karpenter_cpu_pools=[{"name": "cpu", "kind": "cpu", "weight": 1}],
        karpenter_gpu_node_pools=config["gpu_node_pools"], karpenter_settings=karpenter, karpenter_platform=config["platform"],
        karpenter_name="demo", karpenter_node_role="demo-karpenter-node", karpenter_tags=config["tags"],
        karpenter_ami_aliases=config["ami_aliases"])
    objects = {}
    for item in yaml.safe_load_all(text):
        if item:
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
