# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Temporary: module_utils/karpenter.py builds exactly the objects roles/karpenter/templates rendered."""
import copy
import json
import os

import jinja2
import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import karpenter

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
INVENTORIES = [os.path.join(REPO, "inventories", "examples", name) for name in sorted(os.listdir(os.path.join(REPO, "inventories", "examples")))]
INVENTORIES.append(os.path.join(REPO, "inventories", "local"))
TEMPLATES = os.path.join(REPO, "roles", "karpenter", "templates")


def variants(given):
    yield "as-given", given
    changed = copy.deepcopy(given)
    for pool in changed.get("eks_llm_gpu_node_pools", []):
        pool.update(ami_family="bottlerocket", data_volume_gib=300, expire_after="Never", weight=50, gpu_limit=16)
    changed["eks_llm_karpenter"] = dict(changed.get("eks_llm_karpenter") or {}, cpu_pool=False)
    yield "bottlerocket-no-cpu", changed
    kwok = copy.deepcopy(given)
    kwok["eks_llm_karpenter"] = dict(kwok.get("eks_llm_karpenter") or {}, node_class_kind="KWOKNodeClass", cpu_limit=32)
    yield "kwok", kwok
    mixed = copy.deepcopy(given)
    pools = mixed.get("eks_llm_gpu_node_pools", [])
    if pools:
        extra = dict(copy.deepcopy(pools[0]), name="gpu-extra", ami_family="bottlerocket", data_volume_gib=40)
        extra.pop("capacity_reservations", None)
        extra["capacity_types"] = ["spot"]
        pools.append(extra)
        pools.append(dict(extra, name="gpu-extra2", data_volume_gib=500))
        for model in mixed.get("eks_llm_models", []):
            model.setdefault("node_pool", pools[0]["name"])
    yield "mixed", mixed


def cases():
    for inventory in INVENTORIES:
        with open(os.path.join(inventory, "group_vars", "all", "main.yml"), encoding="utf-8") as handle:
            given = yaml.safe_load(handle)
        # the local inventory's lookups (endpoints, charts, paths) are for Ansible to resolve; Karpenter reads none
        given = dict((key, value) for key, value in given.items() if "{{" not in json.dumps(value))
        given.update(eks_llm_ngc_api_key="nvapi-unit", eks_llm_hf_token="hf_unit")
        for label, changed in variants(given):
            yield pytest.param(changed, id="%s-%s" % (os.path.basename(inventory), label))


def rendered(config):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined)
    env.filters.update(to_json=json.dumps, combine=lambda a, b: dict(a, **b), ternary=lambda value, yes, no: yes if value else no)
    settings = config["karpenter"]
    templates = ["ec2nodeclass.yaml.j2"] + (["kwoknodeclass.yaml.j2"] if settings["node_class_kind"] == "KWOKNodeClass" else [])
    text = env.get_template("objects.yaml.j2").render(
        __karpenter_node_classes=karpenter.node_classes(config["gpu_node_pools"], settings["cpu_pool"]),
        __karpenter_class_templates=templates,
        __karpenter_cpu_pools=[{"name": "cpu", "kind": "cpu", "weight": 1}] if settings["cpu_pool"] else [],
        karpenter_gpu_node_pools=config["gpu_node_pools"], karpenter_settings=settings, karpenter_platform=config["platform"],
        karpenter_name=config["name"], karpenter_node_role="%s-karpenter-node" % config["name"], karpenter_tags=config["tags"],
        karpenter_ami_aliases=config["ami_aliases"])
    return [item for item in yaml.safe_load_all(text) if item]


@pytest.mark.parametrize("given", cases())
def test_the_builders_make_what_the_templates_rendered(given):
    config, problems, dummy = inventory_model.validate(given)
    assert problems == [], problems
    settings = {"name": config["name"], "node_role": "%s-karpenter-node" % config["name"], "gpu_node_pools": config["gpu_node_pools"],
                "karpenter": config["karpenter"], "platform": config["platform"], "tags": config["tags"],
                "ami_aliases": config["ami_aliases"]}
    expected = rendered(config)
    built = karpenter.plan(settings)["objects"]
    assert json.dumps(built, sort_keys=True, indent=1) == json.dumps(expected, sort_keys=True, indent=1)
    assert built == expected
