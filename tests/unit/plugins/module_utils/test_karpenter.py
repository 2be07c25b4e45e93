# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The Karpenter objects of the platform layer (module_utils/karpenter.py): node classes, NodePools, the role's plan,
checked against Karpenter's CRD schemas for every example inventory."""
import copy
import json
import os
import subprocess

import jsonschema
import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.filter import platform as platform_filters
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import karpenter
from ansible_collections.eks_llm.inference.tests.unit.plugins.module_utils import crd_schema

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
INVENTORIES = [os.path.join(REPO, "inventories", "examples", name) for name in sorted(os.listdir(os.path.join(REPO, "inventories", "examples")))]
INVENTORIES.append(os.path.join(REPO, "inventories", "local"))
LABELS = {"app.kubernetes.io/managed-by": "eks_llm.inference", "app.kubernetes.io/part-of": "demo"}
PLATFORM = {"labels": LABELS, "gpu_node_label": "eks-llm/gpu", "pool_label": "eks-llm/node-pool",
            "gpu_taint": {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}}
ODCR = "cr-0a1b2c3d4e5f60718"


def gpu_pool(name, **changes):
    """A GPU pool as inventory_model normalises it."""
    pool = {"name": name, "capacity_types": ["spot", "on-demand"], "resolved_instance_types": ["g5.xlarge", "g5.2xlarge"],
            "gpu_limit": 8, "ami_family": "al2023", "data_volume_gib": 200, "weight": 10, "consolidate_after": "10m",
            "expire_after": "720h", "node_class": "gpu-al2023", "capacity_reservation_selector_terms": []}
    pool.update(changes)
    return pool


def settings(pools=None, **karpenter_changes):
    given = {"node_class_kind": "EC2NodeClass", "cpu_pool": True, "cpu_limit": 64}
    given.update(karpenter_changes)
    return {"name": "demo", "node_role": "demo-karpenter-node", "gpu_node_pools": [gpu_pool("gpu-g5")] if pools is None else pools,
            "karpenter": given, "platform": PLATFORM, "tags": {"team": "ml"},
            "ami_aliases": {"al2023": "al2023@v20251016", "bottlerocket": "bottlerocket@v1.50.0"}}


def requirement(key, values, operator="In"):
    return {"key": key, "operator": operator, "values": values}


def test_a_gpu_node_pool():
    assert karpenter.node_pool(gpu_pool("gpu-g5", weight=20, consolidate_after="5m"), settings()) == {
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
        "metadata": {"name": "gpu-g5", "labels": dict(LABELS, **{"eks-llm/pool-kind": "gpu"})},
        "spec": {
            "weight": 20,
            "limits": {"nvidia.com/gpu": 8},
            "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"},
            "template": {
                "metadata": {"labels": {"eks-llm/gpu": "true", "eks-llm/node-pool": "gpu-g5", "nvidia.com/gpu.present": "true",
                                        "feature.node.kubernetes.io/pci-10de.present": "true"}},
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu-al2023"},
                    "expireAfter": "720h",
                    "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
                    "requirements": [
                        requirement("kubernetes.io/arch", ["amd64"]), requirement("kubernetes.io/os", ["linux"]),
                        requirement("karpenter.sh/capacity-type", ["spot", "on-demand"]),
                        requirement("node.kubernetes.io/instance-type", ["g5.xlarge", "g5.2xlarge"]),
                    ],
                },
            },
        },
    }


def test_the_cpu_node_pool():
    assert karpenter.node_pool(karpenter.CPU_POOL, settings(cpu_limit=32)) == {
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool",
        "metadata": {"name": "cpu", "labels": dict(LABELS, **{"eks-llm/pool-kind": "cpu"})},
        "spec": {
            "weight": 1,
            "limits": {"cpu": 32},
            "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"},
            "template": {
                "metadata": {"labels": {"eks-llm/node-pool": "cpu"}},
                "spec": {
                    "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "cpu-al2023"},
                    "expireAfter": "720h",
                    "requirements": [
                        requirement("kubernetes.io/arch", ["amd64"]), requirement("kubernetes.io/os", ["linux"]),
                        requirement("karpenter.sh/capacity-type", ["spot", "on-demand"]),
                        requirement("karpenter.k8s.aws/instance-category", ["c", "m", "r"]),
                        requirement("karpenter.k8s.aws/instance-generation", ["5"], "Gt"),
                    ],
                },
            },
        },
    }


def test_a_reserved_gpu_pool_allows_reserved_capacity_from_its_own_class():
    pool = gpu_pool("gpu-p5", capacity_types=["reserved", "on-demand"], node_class="gpu-al2023-gpu-p5",
                    capacity_reservation_selector_terms=[{"id": ODCR}])
    spec = karpenter.node_pool(pool, settings())["spec"]["template"]["spec"]
    assert spec["nodeClassRef"]["name"] == "gpu-al2023-gpu-p5"
    assert requirement("karpenter.sh/capacity-type", ["reserved", "on-demand"]) in spec["requirements"]


def test_locally_pools_reference_kwok_node_classes():
    spec = karpenter.node_pool(gpu_pool("gpu-g5"), settings(node_class_kind="KWOKNodeClass"))["spec"]["template"]["spec"]
    assert spec["nodeClassRef"] == {"group": "karpenter.kwok.sh", "kind": "KWOKNodeClass", "name": "gpu-al2023"}


def test_an_al2023_ec2_node_class():
    node_class = {"name": "gpu-al2023", "ami_family": "al2023", "volume_gib": 300, "capacity_reservation_selector_terms": []}
    assert karpenter.ec2_node_class(node_class, settings()) == {
        "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass",
        "metadata": {"name": "gpu-al2023", "labels": LABELS},
        "spec": {
            "role": "demo-karpenter-node",
            "amiSelectorTerms": [{"alias": "al2023@v20251016"}],
            "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": "demo"}}],
            "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": "demo"}}],
            "metadataOptions": {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": 1,
                                "httpTokens": "required"},
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {
                "volumeSize": "300Gi", "volumeType": "gp3", "iops": 6000, "throughput": 500, "encrypted": True,
                "deleteOnTermination": True}}],
            "tags": {"team": "ml", "eks-llm:node-class": "gpu-al2023"},
        },
    }


def test_a_bottlerocket_node_class_puts_images_on_its_data_volume():
    node_class = {"name": "gpu-bottlerocket", "ami_family": "bottlerocket", "volume_gib": 250,
                  "capacity_reservation_selector_terms": []}
    spec = karpenter.ec2_node_class(node_class, settings())["spec"]
    assert spec["amiSelectorTerms"] == [{"alias": "bottlerocket@v1.50.0"}]
    assert spec["blockDeviceMappings"] == [
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": "8Gi", "volumeType": "gp3", "encrypted": True, "deleteOnTermination": True}},
        {"deviceName": "/dev/xvdb", "ebs": {"volumeSize": "250Gi", "volumeType": "gp3", "iops": 6000, "throughput": 500,
                                            "encrypted": True, "deleteOnTermination": True}},
    ]


def test_a_reserved_pools_node_class_selects_its_reservations():
    terms = [{"id": ODCR}, {"tags": {"team": "ml"}, "ownerID": "123456789012"}]
    node_class = {"name": "gpu-al2023-gpu-p5", "ami_family": "al2023", "volume_gib": 500, "capacity_reservation_selector_terms": terms}
    spec = karpenter.ec2_node_class(node_class, settings())["spec"]
    assert spec["capacityReservationSelectorTerms"] == terms
    assert list(spec).index("capacityReservationSelectorTerms") == list(spec).index("securityGroupSelectorTerms") + 1


def test_a_kwok_node_class():
    assert karpenter.kwok_node_class({"name": "gpu-al2023"}, settings()) == {
        "apiVersion": "karpenter.kwok.sh/v1alpha1", "kind": "KWOKNodeClass", "metadata": {"name": "gpu-al2023", "labels": LABELS}}
    # the stand-in's instance boot: KWOK's Karpenter creates the node that long after the NodeClaim
    booting = karpenter.kwok_node_class({"name": "gpu-al2023"}, settings(kwok_node_registration_delay="2s"))
    assert booting["spec"] == {"nodeRegistrationDelay": "2s"}


def test_one_node_class_per_family_sized_for_its_largest_pool_and_one_per_reserved_pool():
    pools = [gpu_pool("gpu-a", data_volume_gib=100), gpu_pool("gpu-b", data_volume_gib=400),
             gpu_pool("gpu-br", ami_family="bottlerocket", node_class="gpu-bottlerocket"),
             gpu_pool("gpu-p5", node_class="gpu-al2023-gpu-p5", capacity_reservation_selector_terms=[{"id": ODCR}])]
    assert karpenter.node_classes(pools) == [
        {"name": "cpu-al2023", "ami_family": "al2023", "volume_gib": 100, "capacity_reservation_selector_terms": []},
        {"name": "gpu-al2023", "ami_family": "al2023", "volume_gib": 400, "capacity_reservation_selector_terms": []},
        {"name": "gpu-al2023-gpu-p5", "ami_family": "al2023", "volume_gib": 200, "capacity_reservation_selector_terms": [{"id": ODCR}]},
        {"name": "gpu-bottlerocket", "ami_family": "bottlerocket", "volume_gib": 200, "capacity_reservation_selector_terms": []},
    ]
    assert [c["name"] for c in karpenter.node_classes(pools, cpu_pool=False)] == ["gpu-al2023", "gpu-al2023-gpu-p5", "gpu-bottlerocket"]


def test_the_plan_applies_node_classes_before_the_pools_that_name_them():
    plan = platform_filters.karpenter_plan(settings([gpu_pool("gpu-g5"), gpu_pool("gpu-l4", weight=5)]))
    assert [(o["kind"], o["metadata"]["name"]) for o in plan["objects"]] == [
        ("EC2NodeClass", "cpu-al2023"), ("EC2NodeClass", "gpu-al2023"),
        ("NodePool", "gpu-g5"), ("NodePool", "gpu-l4"), ("NodePool", "cpu")]
    assert plan["node_classes"] == ["cpu-al2023", "gpu-al2023"]
    assert plan["node_pools"] == ["gpu-g5", "gpu-l4", "cpu"]
    assert plan["gpu_node_pools"] == ["gpu-g5", "gpu-l4"]
    assert plan["wanted_names"] == ["gpu-g5", "gpu-l4", "cpu", "cpu-al2023", "gpu-al2023"]
    assert plan["selector"] == "app.kubernetes.io/managed-by=eks_llm.inference,app.kubernetes.io/part-of=demo"
    assert [k["kind"] for k in plan["managed_kinds"]] == ["NodePool", "EC2NodeClass", "KWOKNodeClass"]


def test_locally_every_node_class_also_has_its_kwok_twin_and_no_cpu_pool_when_off():
    plan = karpenter.plan(settings(node_class_kind="KWOKNodeClass", cpu_pool=False))
    assert [(o["kind"], o["metadata"]["name"]) for o in plan["objects"]] == [
        ("EC2NodeClass", "gpu-al2023"), ("KWOKNodeClass", "gpu-al2023"), ("NodePool", "gpu-g5")]
    assert plan["node_pools"] == ["gpu-g5"]


def test_the_plan_does_not_change_its_settings():
    given = settings([gpu_pool("gpu-p5", node_class="gpu-al2023-gpu-p5", capacity_reservation_selector_terms=[{"id": ODCR}])])
    before = copy.deepcopy(given)
    plan = karpenter.plan(given)
    plan["objects"][1]["spec"]["capacityReservationSelectorTerms"].append({"id": "cr-other"})
    plan["objects"][1]["metadata"]["labels"]["x"] = "y"
    assert given == before


# Karpenter's CRDs are not kept in this repository: the local Kubernetes stand-in's build (tests/standin/k8s/build.sh)
# takes them from the upstream modules of the pinned version (tests/standin/k8s/versions.env), into its cache.
def _crd_folder():
    bins = subprocess.run([os.path.join(REPO, "tests", "standin", "k8s", "build.sh"), "--print-bin-dir"], check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.dirname(bins)


CRD_FILES = {"NodePool": ("karpenter-crds", "karpenter.sh_nodepools.yaml"),
             "KWOKNodeClass": ("karpenter-crds", "karpenter.kwok.sh_kwoknodeclasses.yaml"),
             "EC2NodeClass": ("upstream-crds", "karpenter.k8s.aws_ec2nodeclasses.yaml")}


@pytest.fixture(scope="module", name="schemas")
def fixture_schemas():
    root, schemas = _crd_folder(), {}
    for kind, (folder, name) in CRD_FILES.items():
        path = os.path.join(root, folder, name)
        if not os.path.exists(path):
            pytest.skip("the local Kubernetes stand-in is not built (tests/standin/k8s/build.sh): no %s" % path)
        with open(path, encoding="utf-8") as handle:
            crd = yaml.safe_load(handle)
        version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
        schema = version["schema"]["openAPIV3Schema"]
        schemas[kind] = ("%s/%s" % (crd["spec"]["group"], version["name"]), schema, jsonschema.validators.validator_for(schema)(schema))
    return schemas


def check(obj, schemas):
    api_version, schema, validator = schemas[obj["kind"]]
    assert obj["apiVersion"] == api_version
    validator.validate(obj)
    assert crd_schema.unknown_fields({k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}, schema, obj["kind"]) == []


def inventory_settings(inventory, **karpenter_changes):
    with open(os.path.join(inventory, "group_vars", "all", "main.yml"), encoding="utf-8") as handle:
        given = yaml.safe_load(handle)
    # the local inventory's lookups (endpoints, charts, paths) are for Ansible to resolve; Karpenter reads none
    given = dict((key, value) for key, value in given.items() if "{{" not in json.dumps(value))
    given.update(eks_llm_ngc_api_key="nvapi-unit", eks_llm_hf_token="hf_unit")
    given["eks_llm_karpenter"] = dict(given.get("eks_llm_karpenter") or {}, **karpenter_changes)
    config, problems, dummy = inventory_model.validate(given)
    assert problems == [], problems
    return {"name": config["name"], "node_role": "%s-karpenter-node" % config["name"], "gpu_node_pools": config["gpu_node_pools"],
            "karpenter": config["karpenter"], "platform": config["platform"], "tags": config["tags"],
            "ami_aliases": config["ami_aliases"]}


def compute_mode(inventory):
    with open(os.path.join(inventory, "group_vars", "all", "main.yml"), encoding="utf-8") as handle:
        return ((yaml.safe_load(handle).get("eks_llm_cluster") or {}).get("compute_mode")) or "karpenter"


# the Auto Mode examples are checked against Auto Mode's NodeClass in test_karpenter_auto_mode.py
KARPENTER_INVENTORIES = [inventory for inventory in INVENTORIES if compute_mode(inventory) == "karpenter"]


@pytest.mark.parametrize("node_class_kind", ["EC2NodeClass", "KWOKNodeClass"])
@pytest.mark.parametrize("inventory", KARPENTER_INVENTORIES, ids=os.path.basename)
def test_every_object_of_every_example_fits_karpenters_crds(inventory, node_class_kind, schemas):
    kwok = {"kwok_node_registration_delay": "1m15s"} if node_class_kind == "KWOKNodeClass" else {}
    given = inventory_settings(inventory, node_class_kind=node_class_kind, **kwok)
    for ami_family in ("al2023", "bottlerocket"):
        pools = [dict(pool, ami_family=ami_family, node_class=pool["node_class"].replace("al2023", ami_family))
                 for pool in given["gpu_node_pools"]]
        plan = karpenter.plan(dict(given, gpu_node_pools=pools))
        assert len(plan["objects"]) == len(plan["node_pools"]) + len(plan["node_classes"]) * (2 if node_class_kind == "KWOKNodeClass" else 1)
        for obj in plan["objects"]:
            check(obj, schemas)
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == given["name"]


def test_the_crd_check_catches_a_wrong_field(schemas):
    pool = karpenter.node_pool(gpu_pool("gpu-g5"), settings())
    pool["spec"]["template"]["spec"]["instanceTypes"] = ["g5.xlarge"]
    with pytest.raises(AssertionError):
        check(pool, schemas)
    pool = karpenter.node_pool(gpu_pool("gpu-g5"), settings())
    pool["spec"]["disruption"]["consolidationPolicy"] = "Always"
    with pytest.raises(jsonschema.ValidationError):
        check(pool, schemas)
