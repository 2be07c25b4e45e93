# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""GPU facts of the EC2 instance types the collection can place models on.

One table feeds inventory validation, model placement, the GPU quota check and
(locally) the instance types offered by Karpenter's KWOK provider, so they can
never disagree. GPU memory is in MiB as EC2 DescribeInstanceTypes reports it.
"""

# family: (GPU model, MiB per GPU, EC2 quota group: "G" (G and VT) or "P")
GPU_FAMILIES = {
    "g4dn": ("T4", 15360, "G"),
    "g5": ("A10G", 22888, "G"),
    "g6": ("L4", 22888, "G"),
    "g6e": ("L40S", 45776, "G"),
    "p4d": ("A100", 40960, "P"),
    "p4de": ("A100", 81920, "P"),
    "p5": ("H100", 81920, "P"),
    "p5e": ("H200", 144384, "P"),
}

# instance type: (GPUs, vCPUs, memory GiB)
_SIZES = {
    "g4dn": {"xlarge": (1, 4, 16), "2xlarge": (1, 8, 32), "4xlarge": (1, 16, 64), "8xlarge": (1, 32, 128),
             "16xlarge": (1, 64, 256), "12xlarge": (4, 48, 192), "metal": (8, 96, 384)},
    "g5": {"xlarge": (1, 4, 16), "2xlarge": (1, 8, 32), "4xlarge": (1, 16, 64), "8xlarge": (1, 32, 128),
           "16xlarge": (1, 64, 256), "12xlarge": (4, 48, 192), "24xlarge": (4, 96, 384), "48xlarge": (8, 192, 768)},
    "g6": {"xlarge": (1, 4, 16), "2xlarge": (1, 8, 32), "4xlarge": (1, 16, 64), "8xlarge": (1, 32, 128),
           "16xlarge": (1, 64, 256), "12xlarge": (4, 48, 192), "24xlarge": (4, 96, 384), "48xlarge": (8, 192, 768)},
    "g6e": {"xlarge": (1, 4, 32), "2xlarge": (1, 8, 64), "4xlarge": (1, 16, 128), "8xlarge": (1, 32, 256),
            "16xlarge": (1, 64, 512), "12xlarge": (4, 48, 384), "24xlarge": (4, 96, 768), "48xlarge": (8, 192, 1536)},
    "p4d": {"24xlarge": (8, 96, 1152)},
    "p4de": {"24xlarge": (8, 96, 1152)},
    "p5": {"4xlarge": (1, 16, 256), "48xlarge": (8, 192, 2048)},
    "p5e": {"48xlarge": (8, 192, 2048)},
}

# EC2 Service Quotas (vCPUs) that bound GPU capacity, per quota group and capacity type.
GPU_QUOTA_CODES = {
    ("G", "on-demand"): "L-DB2E81BA",
    ("G", "spot"): "L-3819A6DF",
    ("P", "on-demand"): "L-417A185B",
    ("P", "spot"): "L-7212CCBC",
}

BYTES_PER_PARAMETER = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}


def _build():
    types = {}
    for family, sizes in _SIZES.items():
        gpu_model, gpu_mib, quota_group = GPU_FAMILIES[family]
        for size, (gpus, vcpus, memory_gib) in sizes.items():
            types["%s.%s" % (family, size)] = {
                "family": family,
                "gpu_model": gpu_model,
                "gpus": gpus,
                "gpu_memory_mib": gpu_mib,
                "vcpus": vcpus,
                "memory_gib": memory_gib,
                "quota_group": quota_group,
            }
    return types


INSTANCE_TYPES = _build()


def family_of(instance_type):
    return instance_type.split(".", 1)[0]


def expand_pool_instance_types(instance_types, instance_families):
    """The catalog instance types a node pool may launch (explicit types first, then whole families)."""
    chosen = [t for t in (instance_types or []) if t in INSTANCE_TYPES]
    for family in instance_families or []:
        chosen.extend(sorted((t for t in INSTANCE_TYPES if family_of(t) == family and t not in chosen),
                             key=lambda t: (INSTANCE_TYPES[t]["gpus"], INSTANCE_TYPES[t]["vcpus"])))
    return chosen


def placement(model, pool_instance_types, overhead_gib=1.0):
    """Work out whether one replica of ``model`` fits on the pool's instance types.

    ``model`` needs parameters_billion, precision, tensor_parallel, gpu_memory_utilization and
    kv_cache_min_gib. Returns a dict with the per-GPU numbers, the instance types that can host a
    replica (enough GPUs, and a GPU count the tensor-parallel degree divides) and a list of
    human-readable problems (empty when it fits).
    """
    tp = model["tensor_parallel"]
    weights_gib = model["parameters_billion"] * 1e9 * BYTES_PER_PARAMETER[model["precision"]] / 2 ** 30
    per_gpu_weights_gib = weights_gib / tp
    result = {
        "weights_gib": round(weights_gib, 2),
        "per_gpu_weights_gib": round(per_gpu_weights_gib, 2),
        "eligible_instance_types": [],
        "rejected": {},
        "problems": [],
    }
    for itype in pool_instance_types:
        facts = INSTANCE_TYPES[itype]
        usable_gib = facts["gpu_memory_mib"] / 1024.0 * model["gpu_memory_utilization"]
        kv_gib = usable_gib - per_gpu_weights_gib - overhead_gib
        if facts["gpus"] < tp:
            result["rejected"][itype] = "has %d GPU(s), the model needs %d (tensor_parallel)" % (facts["gpus"], tp)
        elif facts["gpus"] % tp:
            result["rejected"][itype] = "%d GPUs cannot be split into tensor-parallel groups of %d" % (facts["gpus"], tp)
        elif kv_gib < model["kv_cache_min_gib"]:
            result["rejected"][itype] = (
                "%s has %.1f GiB usable per GPU (%.0f%% of %.1f GiB); weights need %.1f GiB per GPU + %.1f GiB runtime"
                " overhead, leaving %.1f GiB for KV cache (minimum %.1f GiB)"
                % (facts["gpu_model"], usable_gib, model["gpu_memory_utilization"] * 100, facts["gpu_memory_mib"] / 1024.0,
                   per_gpu_weights_gib, overhead_gib, kv_gib, model["kv_cache_min_gib"]))
        else:
            result["eligible_instance_types"].append(itype)
            result.setdefault("kv_cache_gib_per_gpu", round(kv_gib, 2))
    if not result["eligible_instance_types"]:
        result["problems"] = ["%s: %s" % (t, why) for t, why in result["rejected"].items()]
    return result


def min_replicas(model):
    """Replicas of a model at its smallest scale (the HPA's minimum when it autoscales)."""
    scaling = model.get("autoscaling") or {}
    return scaling["min_replicas"] if scaling.get("enabled") else model["replicas"]


def max_replicas(model):
    """Replicas of a model at its largest scale (the HPA's maximum when it autoscales)."""
    scaling = model.get("autoscaling") or {}
    return scaling["max_replicas"] if scaling.get("enabled") else model["replicas"]


def quota_requirements(pools, models):
    """vCPU quota each (quota group, capacity type) needs, from the GPU node pools and the models on them.

    ``minimum``: one node for the most demanding model replica of the pool (below it nothing can run);
    ``ceiling``: the pool's gpu_limit reached with its least GPU-dense instance type (below it
    Karpenter will hit the quota before the pool's limit);
    ``max_scale_vcpus``: per pool, the fewest vCPUs its models need at their maximum scale (every replica's GPUs on
    the most GPU-dense eligible instance type: a lower bound, so a quota below it can never be enough).
    """
    needs = {}
    for pool in pools:
        types = pool["resolved_instance_types"]
        if not types:
            continue
        pool_models = [m for m in models if m.get("node_pool") == pool["name"]]
        eligible = [m["placement"].get("eligible_instance_types") or types for m in pool_models if m.get("placement")]
        smallest_per_model = [min(INSTANCE_TYPES[t]["vcpus"] for t in e) for e in eligible] or [min(INSTANCE_TYPES[t]["vcpus"] for t in types)]
        minimum = max(smallest_per_model)
        ceiling = int(max(INSTANCE_TYPES[t]["vcpus"] / float(INSTANCE_TYPES[t]["gpus"]) for t in types) * pool["gpu_limit"])
        at_max_scale = int(sum(max_replicas(m) * m["tensor_parallel"] * min(
            INSTANCE_TYPES[t]["vcpus"] / float(INSTANCE_TYPES[t]["gpus"]) for t in (m["placement"].get("eligible_instance_types") or types))
            for m in pool_models if m.get("placement")))
        if "reserved" in pool["capacity_types"]:
            # the reservations hold the pool's capacity already (their size is not in the inventory): its quotas only
            # bound what it may add beyond them, a warning (ceiling), never a failure
            minimum, at_max_scale = 0, 0
        for group in sorted(set(INSTANCE_TYPES[t]["quota_group"] for t in types)):
            for capacity in [c for c in pool["capacity_types"] if c != "reserved"]:
                key = (group, capacity)
                fresh = {"quota_code": GPU_QUOTA_CODES[key], "quota_group": group, "capacity_type": capacity,
                         "minimum_vcpus": 0, "ceiling_vcpus": 0, "pools": [], "max_scale_vcpus": {}}
                need = needs.setdefault(key, fresh)
                need["minimum_vcpus"] = max(need["minimum_vcpus"], minimum)
                need["ceiling_vcpus"] += ceiling
                need["pools"].append(pool["name"])
                need["max_scale_vcpus"][pool["name"]] = at_max_scale
    return [needs[k] for k in sorted(needs)]


def quota_shortfalls(requirements, quotas):
    """Compare requirements with Service Quotas values: (errors, warnings), each a list of sentences.

    A pool that may use spot or on-demand only fails when no capacity type it allows reaches its minimum.
    """
    errors, warnings = [], []
    by_pool = {}
    for need in requirements:
        value = quotas.get(need["quota_code"], {}).get("value")
        if value is None:
            warnings.append("quota %s (%s %s vCPUs) could not be read" % (need["quota_code"], need["quota_group"], need["capacity_type"]))
            continue
        for pool in need["pools"]:
            by_pool.setdefault(pool, []).append((need, value))
        if value < need["ceiling_vcpus"]:
            warnings.append("quota %s allows %d %s-instance %s vCPUs; pools %s may grow to %d vCPUs"
                            % (need["quota_code"], value, need["quota_group"], need["capacity_type"], ", ".join(need["pools"]), need["ceiling_vcpus"]))
    for pool, checks in sorted(by_pool.items()):
        at_max = max(need["max_scale_vcpus"].get(pool, 0) for need, dummy in checks)
        if sum(value for dummy, value in checks) < at_max:
            allowed = ", ".join("%s %s: %d (%s)" % (n["quota_group"], n["capacity_type"], v, n["quota_code"]) for n, v in checks)
            errors.append("the models on GPU node pool %s need at least %d vCPUs at their maximum scale (replicas, or"
                          " autoscaling.max_replicas) and the quotas allow %s; request an increase in Service Quotas (EC2)"
                          " or lower the replicas" % (pool, at_max, allowed))
        if all(value < need["minimum_vcpus"] for need, value in checks):
            allowed = ", ".join("%s %s: %d (%s)" % (n["quota_group"], n["capacity_type"], v, n["quota_code"]) for n, v in checks)
            needed = max(n["minimum_vcpus"] for n, dummy in checks)
            errors.append("GPU node pool %s cannot launch a single node: it needs %d vCPUs and the quotas allow %s;"
                          " request an increase in Service Quotas (EC2)" % (pool, needed, allowed))
    return errors, warnings
