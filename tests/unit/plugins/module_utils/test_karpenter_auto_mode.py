"""EKS Auto Mode's form of the Karpenter objects (module_utils/karpenter.py with compute_mode auto_mode): NodePools
referencing Auto Mode's NodeClass, checked against Karpenter's NodePool CRD and the NodeClass schema kept in
tests/upstream (from AWS's documentation), for the Auto Mode example inventories and by hand."""
import json
import os

import jsonschema
import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import karpenter
from ansible_collections.eks_llm.inference.tests.unit.plugins.module_utils import crd_schema
from tests.unit.plugins.module_utils.test_karpenter import (  # noqa: F401  pylint: disable=unused-import
    INVENTORIES, ODCR, PLATFORM, REPO, check, compute_mode, fixture_schemas, gpu_pool)

FACTS = json.load(open(os.path.join(REPO, "tests", "upstream", "eks_auto_mode.json"), encoding="utf-8"))
AUTO_INVENTORIES = [inventory for inventory in INVENTORIES if compute_mode(inventory) == "auto_mode"]


@pytest.fixture(scope="module", name="node_class_schema")
def fixture_node_class_schema():
    with open(os.path.join(REPO, "tests", "upstream", "eks.amazonaws.com_nodeclasses.yaml"), encoding="utf-8") as handle:
        crd = yaml.safe_load(handle)
    version = crd["spec"]["versions"][0]
    schema = version["schema"]["openAPIV3Schema"]
    return "%s/%s" % (crd["spec"]["group"], version["name"]), schema, jsonschema.validators.validator_for(schema)(schema)


def auto_settings(pools=None):
    return {"name": "demo", "compute_mode": "auto_mode", "node_role": "demo-eks-auto-node",
            "gpu_node_pools": pools if pools is not None else [gpu_pool("gpu-g5")],
            "karpenter": {"node_class_kind": "EC2NodeClass", "cpu_pool": True, "cpu_limit": 64},
            "platform": PLATFORM, "tags": {"eks-llm:deployment": "demo"}, "ami_aliases": {}}


def check_auto(obj, schemas, node_class_schema):
    if obj["kind"] != "NodeClass":
        return check(obj, schemas)
    api_version, schema, validator = node_class_schema
    assert obj["apiVersion"] == api_version
    validator.validate(obj)
    assert crd_schema.unknown_fields({k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}, schema, "NodeClass") == []
    return None


def test_gpu_pool_references_auto_modes_node_class():
    pool = karpenter.node_pool(gpu_pool("gpu-g5"), auto_settings())
    spec = pool["spec"]["template"]["spec"]
    assert spec["nodeClassRef"] == dict(FACTS["node_pool"]["node_class_ref"], name="gpu")
    keys = [r["key"] for r in spec["requirements"]]
    assert FACTS["node_pool"]["labels"]["capacity_type"] in keys and FACTS["node_pool"]["labels"]["instance_type"] in keys
    assert not [key for key in keys if key.startswith("karpenter.k8s.aws/")]  # Auto Mode does not know them
    cpu = karpenter.node_pool(dict(karpenter.CPU_POOL), auto_settings())["spec"]["template"]["spec"]
    assert cpu["nodeClassRef"]["name"] == "cpu"
    assert {r["key"] for r in cpu["requirements"]} >= {FACTS["node_pool"]["labels"]["instance_category"],
                                                       FACTS["node_pool"]["labels"]["instance_generation"]}


def test_node_class_in_auto_modes_form(node_class_schema):
    reserved = gpu_pool("gpu-p5", capacity_types=["reserved"], node_class="gpu-al2023-gpu-p5",
                        capacity_reservation_selector_terms=[{"id": ODCR}, {"tags": {"team": "ml"}, "ownerID": "123456789012"}])
    plan = karpenter.plan(auto_settings([gpu_pool("gpu-g5", data_volume_gib=300), reserved]))
    classes = {o["metadata"]["name"]: o for o in plan["objects"] if o["kind"] == "NodeClass"}
    assert sorted(classes) == ["cpu", "gpu", "gpu-gpu-p5"] == plan["node_classes"]
    gpu = classes["gpu"]["spec"]
    assert gpu["role"] == "demo-eks-auto-node" and gpu["ephemeralStorage"] == {"size": "300Gi"}
    assert gpu["subnetSelectorTerms"] == [{"tags": {"karpenter.sh/discovery": "demo"}}]
    assert gpu["tags"]["eks-llm:deployment"] == "demo"
    assert not set(gpu) & {"amiSelectorTerms", "blockDeviceMappings", "metadataOptions"}  # Auto Mode picks its AMI
    assert classes["gpu-gpu-p5"]["spec"]["capacityReservationSelectorTerms"] == [
        {"id": ODCR}, {"tags": {"team": "ml"}, "owner": "123456789012"}]  # Auto Mode spells it owner
    assert set(gpu) <= set(FACTS["node_class"]["spec_keys"])
    for obj in plan["objects"]:
        if obj["kind"] == "NodeClass":
            check_auto(obj, None, node_class_schema)
    assert plan["managed_kinds"] == [{"api_version": "karpenter.sh/v1", "kind": "NodePool"},
                                     {"api_version": "eks.amazonaws.com/v1", "kind": "NodeClass"}]
    assert [o["kind"] for o in plan["objects"]][:3] == ["NodeClass"] * 3  # classes before the pools naming them


def test_the_node_class_schema_catches_a_wrong_field(node_class_schema):
    obj = karpenter.auto_node_class({"name": "gpu", "volume_gib": 200, "capacity_reservation_selector_terms": []}, auto_settings())
    obj["spec"]["amiSelectorTerms"] = [{"alias": "bottlerocket@latest"}]
    with pytest.raises(AssertionError):
        check_auto(obj, None, node_class_schema)
    obj = karpenter.auto_node_class({"name": "gpu", "volume_gib": 200, "capacity_reservation_selector_terms": []}, auto_settings())
    obj["spec"]["ephemeralStorage"]["size"] = "200 GB"
    with pytest.raises(jsonschema.ValidationError):
        check_auto(obj, None, node_class_schema)


@pytest.mark.parametrize("inventory", AUTO_INVENTORIES, ids=os.path.basename)
def test_every_object_of_every_auto_mode_example_fits(inventory, schemas, node_class_schema):
    with open(os.path.join(inventory, "group_vars", "all", "main.yml"), encoding="utf-8") as handle:
        given = yaml.safe_load(handle)
    given.update(eks_llm_ngc_api_key="nvapi-unit", eks_llm_hf_token="hf_unit")
    config, problems, dummy = inventory_model.validate(given)
    assert problems == [], problems
    plan = karpenter.plan({"name": config["name"], "compute_mode": config["cluster"]["compute_mode"],
                           "node_role": "%s-eks-auto-node" % config["name"], "gpu_node_pools": config["gpu_node_pools"],
                           "karpenter": config["karpenter"], "platform": config["platform"], "tags": config["tags"],
                           "ami_aliases": config["ami_aliases"]})
    assert {o["kind"] for o in plan["objects"]} == {"NodeClass", "NodePool"}
    for obj in plan["objects"]:
        check_auto(obj, schemas, node_class_schema)
