# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The Karpenter objects of the platform layer as data: node classes (EC2NodeClass, and KWOKNodeClass for the local
stand-in) and NodePools (one per GPU pool of the inventory, and the CPU pool).

Pure functions of the settings the ``karpenter`` role is given (its defaults read the fact ``eks_llm``): no API calls.
The role applies what ``plan`` returns and removes the NodePools and node classes of this deployment it no longer
names. The objects follow the CRDs of Karpenter v1.14 (karpenter.sh/v1 NodePool, karpenter.k8s.aws/v1 EC2NodeClass,
karpenter.kwok.sh/v1alpha1 KWOKNodeClass); the unit tests validate them against those schemas.

EKS Auto Mode (``settings["compute_mode"] == "auto_mode"``): AWS runs Karpenter; the NodePools are the same
karpenter.sh/v1 objects, but reference Auto Mode's NodeClass (eks.amazonaws.com/v1: role, subnets and security groups by
tag, ephemeral storage, tags, capacity reservations; no AMI, no block device mappings, no metadata options) and select
instances with Auto Mode's labels (eks.amazonaws.com/instance-*; tests/upstream/eks_auto_mode.json).

``settings``: ``name`` (deployment and EKS cluster name, the discovery tag value), ``compute_mode`` (``karpenter``,
the default, or ``auto_mode``), ``node_role`` (IAM role of the nodes), ``gpu_node_pools`` (``eks_llm.gpu_node_pools``,
normalised by inventory_model), ``karpenter`` (``eks_llm.karpenter``: node_class_kind, cpu_pool, cpu_limit),
``platform`` (``eks_llm.platform``: labels, GPU node label, pool label, GPU taint), ``tags`` (AWS tags of the instances
and volumes), ``ami_aliases`` (AMI alias per family).
"""

NODE_POOL_API_VERSION = "karpenter.sh/v1"
EC2_NODE_CLASS_API_VERSION = "karpenter.k8s.aws/v1"
KWOK_NODE_CLASS_API_VERSION = "karpenter.kwok.sh/v1alpha1"
AUTO_NODE_CLASS_API_VERSION = "eks.amazonaws.com/v1"
NODE_CLASS_GROUPS = {"EC2NodeClass": "karpenter.k8s.aws", "KWOKNodeClass": "karpenter.kwok.sh", "NodeClass": "eks.amazonaws.com"}
# Every kind the role creates, found again by label when a pool leaves the inventory and at teardown (NodePools first).
MANAGED_KINDS = [
    {"api_version": NODE_POOL_API_VERSION, "kind": "NodePool"},
    {"api_version": EC2_NODE_CLASS_API_VERSION, "kind": "EC2NodeClass"},
    {"api_version": KWOK_NODE_CLASS_API_VERSION, "kind": "KWOKNodeClass"},
]
# EKS Auto Mode: Karpenter's NodePool and Auto Mode's NodeClass (no EC2NodeClass or KWOKNodeClass CRD in such a cluster)
AUTO_MODE_KINDS = [
    {"api_version": NODE_POOL_API_VERSION, "kind": "NodePool"},
    {"api_version": AUTO_NODE_CLASS_API_VERSION, "kind": "NodeClass"},
]
# Auto Mode's well-known labels for instance selection (its NodePools know no karpenter.k8s.aws/* labels)
AUTO_MODE_INSTANCE_CATEGORY = "eks.amazonaws.com/instance-category"
AUTO_MODE_INSTANCE_GENERATION = "eks.amazonaws.com/instance-generation"
CPU_POOL = {"name": "cpu", "kind": "cpu", "weight": 1}
CPU_VOLUME_GIB = 100
DEFAULT_AMI_FAMILY = "al2023"
DEFAULT_EXPIRE_AFTER = "720h"
# Node Feature Discovery's NVIDIA PCI label, in every GPU mode: the NIM Operator's caching Job selects it
# (k8s-nim-operator v3.0.2 NIMCache.GetNodeSelectors), and Karpenter can only launch a node for that Job
# if the pool promises it (NFD of the GPU Operator adds it after boot; the device plugin never does).
NVIDIA_PCI_LABEL = "feature.node.kubernetes.io/pci-10de.present"


def node_classes(pools, cpu_pool=True, cpu_volume_gib=CPU_VOLUME_GIB):
    """One node class per GPU pool's node_class (its AMI family; a pool with capacity reservations has its own, since the
    class selects the reservations) and the CPU class; a GPU class's volume fits the largest pool using it.

    Returns [{name, ami_family, volume_gib, capacity_reservation_selector_terms}] sorted by name, e.g. gpu-al2023 /
    gpu-bottlerocket / gpu-al2023-<pool> / cpu-al2023.
    """
    classes = {}
    for pool in pools:
        name = pool.get("node_class") or "gpu-%s" % pool["ami_family"]
        volume = max(classes.get(name, {}).get("volume_gib", 0), int(pool["data_volume_gib"]))
        classes[name] = {"name": name, "ami_family": pool["ami_family"], "volume_gib": volume,
                         "capacity_reservation_selector_terms": pool.get("capacity_reservation_selector_terms") or []}
    if cpu_pool:
        classes["cpu-al2023"] = {"name": "cpu-al2023", "ami_family": "al2023", "volume_gib": cpu_volume_gib,
                                 "capacity_reservation_selector_terms": []}
    return [classes[name] for name in sorted(classes)]


def _volume(device, size_gib, fast=True):
    ebs = {"volumeSize": "%dGi" % size_gib, "volumeType": "gp3"}
    if fast:
        ebs.update(iops=6000, throughput=500)
    ebs.update(encrypted=True, deleteOnTermination=True)
    return {"deviceName": device, "ebs": ebs}


def block_device_mappings(node_class):
    """Encrypted gp3 volumes sized for multi-GB inference images: Bottlerocket's images go on its data volume (xvdb),
    behind a small OS volume; other AMI families have one root volume."""
    if node_class["ami_family"] == "bottlerocket":
        return [_volume("/dev/xvda", 8, fast=False), _volume("/dev/xvdb", node_class["volume_gib"])]
    return [_volume("/dev/xvda", node_class["volume_gib"])]


def ec2_node_class(node_class, settings):
    """The EC2NodeClass of a node_classes entry: AMI alias of its family, subnets and security groups found by tag,
    IMDSv2 only, its volumes, the capacity reservations it selects (if any), the deployment's tags."""
    spec = {
        "role": settings["node_role"],
        "amiSelectorTerms": [{"alias": settings["ami_aliases"][node_class["ami_family"]]}],
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": settings["name"]}}],
        "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": settings["name"]}}],
    }
    if node_class.get("capacity_reservation_selector_terms"):
        # the On-Demand Capacity Reservations and Capacity Blocks the pool's `reserved` capacity launches into
        spec["capacityReservationSelectorTerms"] = list(node_class["capacity_reservation_selector_terms"])
    spec["metadataOptions"] = {"httpEndpoint": "enabled", "httpProtocolIPv6": "disabled", "httpPutResponseHopLimit": 1,
                               "httpTokens": "required"}
    spec["blockDeviceMappings"] = block_device_mappings(node_class)
    spec["tags"] = dict(settings["tags"], **{"eks-llm:node-class": node_class["name"]})
    return {"apiVersion": EC2_NODE_CLASS_API_VERSION, "kind": "EC2NodeClass",
            "metadata": {"name": node_class["name"], "labels": dict(settings["platform"]["labels"])}, "spec": spec}


def kwok_node_class(node_class, settings):
    """The KWOKNodeClass of a node_classes entry (the local stand-in's Karpenter provider simulates its nodes); its
    nodeRegistrationDelay (karpenter.kwok_node_registration_delay) stands for the instance's boot."""
    node_class_object = {"apiVersion": KWOK_NODE_CLASS_API_VERSION, "kind": "KWOKNodeClass",
                         "metadata": {"name": node_class["name"], "labels": dict(settings["platform"]["labels"])}}
    delay = settings["karpenter"].get("kwok_node_registration_delay")
    if delay:
        node_class_object["spec"] = {"nodeRegistrationDelay": delay}
    return node_class_object


def auto_node_class_name(pool):
    """The NodeClass of a GPU pool in Auto Mode: ``gpu`` shared, ``gpu-<pool>`` for a pool with reservations (the class
    selects them). Auto Mode picks the AMI itself, so the name carries no AMI family."""
    return "gpu-%s" % pool["name"] if pool.get("capacity_reservation_selector_terms") else "gpu"


def auto_node_classes(pools, cpu_pool=True, cpu_volume_gib=CPU_VOLUME_GIB):
    """node_classes for Auto Mode: [{name, volume_gib, capacity_reservation_selector_terms}] sorted by name."""
    classes = {}
    for pool in pools:
        name = auto_node_class_name(pool)
        volume = max(classes.get(name, {}).get("volume_gib", 0), int(pool["data_volume_gib"]))
        classes[name] = {"name": name, "volume_gib": volume,
                         "capacity_reservation_selector_terms": pool.get("capacity_reservation_selector_terms") or []}
    if cpu_pool:
        classes["cpu"] = {"name": "cpu", "volume_gib": cpu_volume_gib, "capacity_reservation_selector_terms": []}
    return [classes[name] for name in sorted(classes)]


def _auto_reservation_term(term):
    """Karpenter's capacityReservationSelectorTerms entry in Auto Mode's spelling (owner, not ownerID)."""
    return dict(("owner" if key == "ownerID" else key, value) for key, value in term.items())


def auto_node_class(node_class, settings):
    """Auto Mode's NodeClass of an auto_node_classes entry: the node role, subnets and security groups found by tag,
    ephemeral storage sized for the images, the deployment's tags, the reservations it selects (if any)."""
    spec = {
        "role": settings["node_role"],
        "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": settings["name"]}}],
        "securityGroupSelectorTerms": [{"tags": {"aws:eks:cluster-name": settings["name"]}}],
        "ephemeralStorage": {"size": "%dGi" % node_class["volume_gib"]},
        "tags": dict(settings["tags"], **{"eks-llm:node-class": node_class["name"]}),
    }
    if node_class.get("capacity_reservation_selector_terms"):
        spec["capacityReservationSelectorTerms"] = [_auto_reservation_term(t) for t in node_class["capacity_reservation_selector_terms"]]
    return {"apiVersion": AUTO_NODE_CLASS_API_VERSION, "kind": "NodeClass",
            "metadata": {"name": node_class["name"], "labels": dict(settings["platform"]["labels"])}, "spec": spec}


def _requirement(key, operator, values):
    return {"key": key, "operator": operator, "values": list(values)}


def node_pool(pool, settings):
    """The NodePool of an inventory GPU pool, or of the CPU pool (``CPU_POOL``, kind cpu).

    A GPU pool: its instance types (families expanded by the GPU catalog) and capacity types (reserved: the capacity
    reservations of its node class), the GPU taint, the labels GPU DaemonSets and model workloads select on, its GPU
    limit, consolidation of empty nodes only (model replicas are slow to move), expiry and weight. The CPU pool:
    spot or on-demand c/m/r instances newer than generation 5, consolidated when empty or underutilised.
    """
    platform, karpenter = settings["platform"], settings["karpenter"]
    auto = settings.get("compute_mode") == "auto_mode"
    gpu = pool.get("kind", "gpu") == "gpu"
    kind = "gpu" if gpu else "cpu"
    if gpu:
        limits = {"nvidia.com/gpu": pool["gpu_limit"]}
        disruption = {"consolidationPolicy": "WhenEmpty", "consolidateAfter": pool["consolidate_after"]}
        labels = {platform["gpu_node_label"]: "true", platform["pool_label"]: pool["name"], "nvidia.com/gpu.present": "true",
                  NVIDIA_PCI_LABEL: "true"}
    else:
        limits = {"cpu": karpenter["cpu_limit"]}
        disruption = {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m"}
        labels = {platform["pool_label"]: pool["name"]}
    requirements = [_requirement("kubernetes.io/arch", "In", ["amd64"]), _requirement("kubernetes.io/os", "In", ["linux"])]
    if gpu:
        requirements += [
            # reserved: the capacity reservations its node class selects (Karpenter prefers them to spot and on-demand)
            _requirement("karpenter.sh/capacity-type", "In", pool["capacity_types"]),
            # families are expanded to sizes by the GPU catalog, so placement and Karpenter see the same types
            _requirement("node.kubernetes.io/instance-type", "In", pool["resolved_instance_types"]),
        ]
    else:
        requirements += [
            _requirement("karpenter.sh/capacity-type", "In", ["spot", "on-demand"]),
            _requirement(AUTO_MODE_INSTANCE_CATEGORY if auto else "karpenter.k8s.aws/instance-category", "In", ["c", "m", "r"]),
            _requirement(AUTO_MODE_INSTANCE_GENERATION if auto else "karpenter.k8s.aws/instance-generation", "Gt", ["5"]),
        ]
    if auto:
        node_class_kind = "NodeClass"
        node_class_name = auto_node_class_name(pool) if gpu else "cpu"
    else:
        node_class_kind = karpenter["node_class_kind"]
        node_class_name = pool.get("node_class") or "%s-%s" % (kind, pool.get("ami_family") or DEFAULT_AMI_FAMILY)
    template_spec = {
        "nodeClassRef": {"group": NODE_CLASS_GROUPS[node_class_kind], "kind": node_class_kind, "name": node_class_name},
        "expireAfter": pool.get("expire_after") or DEFAULT_EXPIRE_AFTER,
    }
    if gpu:
        taint = platform["gpu_taint"]
        template_spec["taints"] = [{"key": taint["key"], "value": str(taint["value"]), "effect": taint["effect"]}]
    template_spec["requirements"] = requirements
    return {
        "apiVersion": NODE_POOL_API_VERSION, "kind": "NodePool",
        "metadata": {"name": pool["name"], "labels": dict(platform["labels"], **{"eks-llm/pool-kind": kind})},
        "spec": {"weight": pool["weight"], "limits": limits, "disruption": disruption,
                 "template": {"metadata": {"labels": labels}, "spec": template_spec}},
    }


def selector(settings):
    """Label selector (string) of the NodePools and node classes this deployment created."""
    return "app.kubernetes.io/managed-by=%s,app.kubernetes.io/part-of=%s" % (
        settings["platform"]["labels"]["app.kubernetes.io/managed-by"], settings["name"])


def plan(settings):
    """What the karpenter role applies, in order (node classes first: NodePools name them), and the names and kinds
    its cleanup, teardown and published state use.

    Returns {objects, node_classes, node_pools, gpu_node_pools, wanted_names, managed_kinds, selector}: node classes
    are EC2NodeClasses, and KWOKNodeClasses too when ``karpenter.node_class_kind`` is KWOKNodeClass (the API server
    of the local stand-in validates the EC2NodeClasses; the NodePools reference the KWOK ones); in Auto Mode they are
    Auto Mode's NodeClasses and managed_kinds is NodePool and NodeClass.
    """
    karpenter = settings["karpenter"]
    auto = settings.get("compute_mode") == "auto_mode"
    pools = list(settings["gpu_node_pools"]) + ([dict(CPU_POOL)] if karpenter["cpu_pool"] else [])
    objects = []
    if auto:
        classes = auto_node_classes(settings["gpu_node_pools"], karpenter["cpu_pool"])
        objects += [auto_node_class(node_class, settings) for node_class in classes]
    else:
        classes = node_classes(settings["gpu_node_pools"], karpenter["cpu_pool"])
        for node_class in classes:
            objects.append(ec2_node_class(node_class, settings))
            if karpenter["node_class_kind"] == "KWOKNodeClass":
                objects.append(kwok_node_class(node_class, settings))
    objects += [node_pool(pool, settings) for pool in pools]
    pool_names = [pool["name"] for pool in pools]
    class_names = [node_class["name"] for node_class in classes]
    return {
        "objects": objects,
        "node_classes": class_names,
        "node_pools": pool_names,
        "gpu_node_pools": [pool["name"] for pool in settings["gpu_node_pools"]],
        # what the inventory wants now; anything else of ours is stale
        "wanted_names": pool_names + class_names,
        "managed_kinds": [dict(kind) for kind in (AUTO_MODE_KINDS if auto else MANAGED_KINDS)],
        "selector": selector(settings),
    }
