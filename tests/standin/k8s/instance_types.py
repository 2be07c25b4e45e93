"""The instance types Karpenter's KWOK provider offers, generated from the collection's GPU catalog.

The same table that validates inventories and places models (plugins/module_utils/gpu_catalog.py)
decides which simulated nodes Karpenter can create, so the local cluster cannot offer a GPU the
collection does not know, nor miss one it does. Offerings also carry the AWS provider's
instance labels (karpenter.k8s.aws/instance-family, ...), so NodePools written for AWS select the
same way here; the provider registers offering requirement keys as well-known labels.
"""
import json
import os
import re
import sys

try:
    from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog
except ImportError:  # run from the repository: `make setup` links the collection under .cache/collections
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                                    ".cache", "collections"))
    from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog

# A few general-purpose types for the CPU NodePool (vCPU, GiB).
CPU_TYPES = {"m6i.large": (2, 8), "m6i.xlarge": (4, 16), "m6i.2xlarge": (8, 32), "c6i.xlarge": (4, 8), "c6i.2xlarge": (8, 16)}
# Rough on-demand prices per vCPU-hour by GPU model: only their order matters to Karpenter.
PRICE_PER_GPU = {"T4": 0.53, "A10G": 1.01, "L4": 0.80, "L40S": 1.86, "A100": 4.10, "H100": 6.88, "H200": 7.90}
SPOT_DISCOUNT = 0.4
NVIDIA_GPU = "nvidia.com/gpu"


def _family_labels(family, size):
    category, generation = re.match(r"^([a-z]+)(\d+)", family).groups()
    return {"karpenter.k8s.aws/instance-family": family, "karpenter.k8s.aws/instance-size": size,
            "karpenter.k8s.aws/instance-category": category, "karpenter.k8s.aws/instance-generation": generation}


def _offerings(zones, capacity_types, price, labels):
    offerings = []
    for zone in zones:
        for capacity_type in capacity_types:
            requirements = [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity_type]},
                            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]
            requirements += [{"key": key, "operator": "In", "values": [value]} for key, value in sorted(labels.items())]
            offerings.append({"Price": round(price * (SPOT_DISCOUNT if capacity_type == "spot" else 1.0), 4),
                              "Available": True, "Requirements": requirements})
    return offerings


def instance_types(zones, capacity_types=("spot", "on-demand")):
    """The KWOK provider's instance-types list for the given zones."""
    result = []
    for name, spec in sorted(gpu_catalog.INSTANCE_TYPES.items()):
        family, size = name.split(".", 1)
        labels = dict(_family_labels(family, size), **{
            "karpenter.k8s.aws/instance-gpu-count": str(spec["gpus"]),
            "karpenter.k8s.aws/instance-gpu-name": spec["gpu_model"].lower(),
            "karpenter.k8s.aws/instance-gpu-manufacturer": "nvidia",
            "karpenter.k8s.aws/instance-gpu-memory": str(spec["gpu_memory_mib"]),
        })
        price = PRICE_PER_GPU[spec["gpu_model"]] * spec["gpus"] + 0.05 * spec["vcpus"]
        result.append({
            "name": name, "architecture": "amd64", "operatingSystems": ["linux"],
            "resources": {"cpu": str(spec["vcpus"]), "memory": "%dGi" % spec["memory_gib"], NVIDIA_GPU: str(spec["gpus"]),
                          "pods": "110", "ephemeral-storage": "200Gi"},
            "offerings": _offerings(zones, capacity_types, price, labels),
        })
    for name, (vcpus, memory_gib) in sorted(CPU_TYPES.items()):
        family, size = name.split(".", 1)
        labels = _family_labels(family, size)
        result.append({
            "name": name, "architecture": "amd64", "operatingSystems": ["linux"],
            "resources": {"cpu": str(vcpus), "memory": "%dGi" % memory_gib, "pods": "110", "ephemeral-storage": "100Gi"},
            "offerings": _offerings(zones, capacity_types, 0.048 * vcpus, labels),
        })
    return result


def write(path, zones):
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(instance_types(zones), handle, indent=1)
    return path
