# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The Kubernetes objects of the inference layer, computed from the normalised configuration.

Pure functions of ``eks_llm`` (the fact the validator publishes) and a few run-time values (the
model bucket): no API calls, no secrets. The roles apply what these functions return, and the
same functions tell the stale-object cleanup what *should* exist, so the two cannot disagree.

Every object carries the common labels plus ``eks-llm/layer: inference``; per-model objects also
carry ``eks-llm/model`` and ``eks-llm/engine``. Content is written the way the API server stores
it (canonical quantities, explicit defaults) so that a second apply changes nothing.
"""

import hashlib
import json

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark_plan
from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import OPENAI_PORT
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import TRITON_HTTP_PORT
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import TRITON_METRICS_PORT
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import TRITON_REPOSITORY_PREFIX
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import VLLM_ENGINES
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import VLLM_SERVICE_ACCOUNT
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import s3_location
from ansible_collections.eks_llm.inference.plugins.module_utils.inventory_model import streams_from_s3
from ansible_collections.eks_llm.inference.plugins.module_utils.monitoring import LAYER_LABEL
from ansible_collections.eks_llm.inference.plugins.module_utils.monitoring import MONITORING_API_VERSION
from ansible_collections.eks_llm.inference.plugins.module_utils import workload_identity

LAYER = "inference"
MODEL_LABEL = "eks-llm/model"
ENGINE_LABEL = "eks-llm/engine"
RELEASE_LABEL = "eks-llm/helm-release"
NIM_ENGINES = ("nim_operator", "nim_chart")
NIM_API_VERSION = "apps.nvidia.com/v1alpha1"
HPA_API_VERSION = "autoscaling/v2"
TRITON_CACHE_MOUNT = "/cache"
# The Services' ports are the ones the validator publishes as each model's endpoints (inventory_model).
TRITON_PORTS = (("http", TRITON_HTTP_PORT), ("grpc", 8001), ("metrics", TRITON_METRICS_PORT))
VLLM_CACHE_MOUNT = "/cache"

# Removal goes phase by phase: what serves (and scales and scrapes) the models, then what they read (caches,
# claims: their EFS access points go with them), then credentials; namespaces last. Each phase is one batch of
# deletions, awaited together, so a teardown waits for the slowest object of a phase, not for the sum of all.
REMOVAL_PHASES = (
    ("serving", ("HorizontalPodAutoscaler", "ServiceMonitor", "NIMService", "Deployment", "DaemonSet", "Service")),
    ("storage", ("NIMCache", "PersistentVolumeClaim")),
    ("credentials", ("ServiceAccount", "ConfigMap", "Secret")),
    ("namespaces", ("Namespace",)),
)
KIND_API_VERSIONS = {
    "HorizontalPodAutoscaler": HPA_API_VERSION, "ServiceMonitor": MONITORING_API_VERSION,
    "NIMService": NIM_API_VERSION, "NIMCache": NIM_API_VERSION, "Deployment": "apps/v1", "DaemonSet": "apps/v1",
}
# Workload kinds whose spec.selector is immutable: a change of engine label needs a new object
IMMUTABLE_SELECTOR_KINDS = ("Deployment", "DaemonSet")
# Kinds the layer applies, in the order stale objects are deleted (the phases' order; core kinds are v1).
CLEANUP_KINDS = tuple((KIND_API_VERSIONS.get(kind, "v1"), kind) for dummy, kinds in REMOVAL_PHASES for kind in kinds)


def efs_claim(config, name, namespace, object_labels, size):
    """A ReadWriteMany claim on the platform's EFS storage class (one access point per claim)."""
    return {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": _meta(name, namespace, object_labels),
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": config["platform"]["storage_class"],
            "resources": {"requests": {"storage": size}},
            "volumeMode": "Filesystem",
        },
    }


def quantity(value):
    """A number as the API server prints a quantity: 0.5 -> '500m', 2.0 -> '2'."""
    milli = int(round(float(value) * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else "%dm" % milli


def labels(config, model=None, component=None):
    """The labels every object of the layer carries (model/engine for per-model objects)."""
    result = dict(config["platform"]["labels"])
    result[LAYER_LABEL] = LAYER
    if model is not None:
        result[MODEL_LABEL] = model["name"]
        result[ENGINE_LABEL] = model["engine"]
    if component:
        result["app.kubernetes.io/component"] = component
    return result


def selector(config):
    """Label selector (string) matching every object the layer created for this deployment."""
    layer = dict(config["platform"]["labels"])
    layer[LAYER_LABEL] = LAYER
    return ",".join("%s=%s" % item for item in sorted(layer.items()))


def _meta(name, namespace, object_labels, annotations=None):
    meta = {"name": name, "labels": object_labels}
    if namespace:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = annotations
    return meta


def replica_resources(model):
    """CPU/memory/GPU of one replica: tensor_parallel GPUs, half the CPUs and 70% of the memory that come with them.

    The share is taken on the smallest eligible instance type of the pool (per GPU), so a replica fits
    every instance type placement accepted, with room for the node's daemons.
    """
    tp = model["tensor_parallel"]
    eligible = model["placement"].get("eligible_instance_types") or []
    facts = [gpu_catalog.INSTANCE_TYPES[t] for t in eligible if t in gpu_catalog.INSTANCE_TYPES]
    if facts:
        cpu = min(f["vcpus"] / float(f["gpus"]) for f in facts) * tp / 2.0
        memory = min(f["memory_gib"] / float(f["gpus"]) for f in facts) * tp * 0.7
    else:
        cpu, memory = 2.0 * tp, 8.0 * tp
    cpu = max(1, int(cpu))
    memory = max(4, int(memory))
    resources = {"cpu": str(cpu), "memory": "%dGi" % memory, "nvidia.com/gpu": str(tp)}
    return {"requests": dict(resources), "limits": {"memory": resources["memory"], "nvidia.com/gpu": str(tp)}}


def gpu_products(model):
    """GPU models (catalog names, e.g. A10G) of the instance types a replica may land on."""
    products = []
    for itype in model["placement"].get("eligible_instance_types") or []:
        product = gpu_catalog.INSTANCE_TYPES[itype]["gpu_model"]
        if product not in products:
            products.append(product)
    return products


def node_selection(config, model):
    """nodeSelector + tolerations that put a replica on the model's GPU node pool and nowhere else."""
    taint = config["platform"]["gpu_taint"]
    return (
        {config["platform"]["pool_label"]: model["node_pool"]},
        [{"key": taint["key"], "operator": "Equal", "value": taint["value"], "effect": taint["effect"]}],
    )


def service_exposure(config):
    """Service type and annotations for the model endpoints (eks_llm.exposure)."""
    exposure = config.get("exposure") or {"mode": "cluster_ip"}
    if exposure["mode"] == "internal_nlb":
        annotations = {
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
            # the NLB the cloud provider creates carries the deployment's tags: teardown's leftover scan finds it
            "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags":
                ",".join("%s=%s" % (key, value) for key, value in sorted(config["tags"].items())),
        }
        return "LoadBalancer", annotations, list(exposure.get("source_ranges") or [])
    return "ClusterIP", {}, []


def _metric_target(config, engine, target):
    key = "triton" if engine == "triton_vllm" else "openai"
    return {
        "type": "Pods",
        "pods": {
            "metric": {"name": config["platform"]["autoscaling_metrics"][key]},
            "target": {"type": "AverageValue", "averageValue": quantity(target)},
        },
    }


def hpa_behavior():
    """Scale up at once (double or +4 pods every 15 s), scale down slowly (one pod a minute, 2 min window)."""
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15},
                         {"type": "Pods", "value": 4, "periodSeconds": 15}],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": 120,
            "selectPolicy": "Max",
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
        },
    }


def hpa_spec(config, model):
    scaling = model["autoscaling"]
    return {
        "minReplicas": scaling["min_replicas"],
        "maxReplicas": scaling["max_replicas"],
        "metrics": [_metric_target(config, model["engine"], scaling["target"])],
        "behavior": hpa_behavior(),
    }


def hpa(config, model, kind, name):
    spec = hpa_spec(config, model)
    spec["scaleTargetRef"] = {"apiVersion": "apps/v1", "kind": kind, "name": name}
    return {
        "apiVersion": HPA_API_VERSION, "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(model["name"], model["namespace"], labels(config, model)),
        "spec": spec,
    }


def service_monitor(config, model, match_labels, port, path):
    monitor_labels = labels(config, model)
    monitor_labels.update(config["platform"].get("service_monitor_labels") or {})
    return {
        "apiVersion": MONITORING_API_VERSION, "kind": "ServiceMonitor",
        "metadata": _meta(model["name"], model["namespace"], monitor_labels),
        "spec": {
            "selector": {"matchLabels": match_labels},
            "namespaceSelector": {"matchNames": [model["namespace"]]},
            "endpoints": [{"port": port, "path": path, "interval": "15s"}],
        },
    }


def model_namespaces(config):
    """Namespaces of the models (and of Open WebUI when enabled), each once, sorted."""
    names = set(m["namespace"] for m in config["models"])
    webui = config.get("open_webui") or {}
    if webui.get("enabled"):
        names.add(webui["namespace"])
    return sorted(names)


def namespaces(config):
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, None, labels(config, component="models"))}
            for ns in model_namespaces(config)]


def secret_plan(config):
    """Which credential Secrets each namespace needs: [{namespace, name, type}] (values are added by the role)."""
    names = config["platform"]["secrets"]
    plan = []
    benchmark_pulls = benchmark_plan.ngc_pull_namespaces(config)  # the benchmark Jobs' nvcr.io image
    for ns in model_namespaces(config):
        engines = set(m["engine"] for m in config["models"] if m["namespace"] == ns)
        nim = bool(engines & set(NIM_ENGINES))
        if (nim or ns in benchmark_pulls) and config.get("has_ngc_api_key"):
            plan.append({"namespace": ns, "name": names["ngc_registry"], "type": "kubernetes.io/dockerconfigjson"})
        if nim and config.get("has_ngc_api_key"):
            plan.append({"namespace": ns, "name": names["ngc_api"], "type": "Opaque"})
        # the vLLM engines download a Hugging Face model and read HF_TOKEN (a gated model needs it)
        if engines & set(VLLM_ENGINES) and config.get("has_hf_token"):
            plan.append({"namespace": ns, "name": names["hf_token"], "type": "Opaque"})
    return plan


def secret_objects(config, secrets, data_by_name):
    """The credential Secrets of ``secret_plan`` as objects, each with the data of its name (base64 values, from the
    role: they never pass through the plan)."""
    return [{"apiVersion": "v1", "kind": "Secret", "type": secret["type"],
             "metadata": _meta(secret["name"], secret["namespace"], labels(config, component="credentials")),
             "data": data_by_name[secret["name"]]}
            for secret in secrets]


# ---------------------------------------------------------------------------------------------- NIM


def _nim_probe(path, period, failures):
    return {"httpGet": {"path": path, "port": "api"}, "periodSeconds": period, "failureThreshold": failures,
            "timeoutSeconds": 5}


def _nim_model_selection(model):
    nim = model["nim"]
    selection = {}
    if nim["profile"]:
        selection["profiles"] = [nim["profile"]]
    else:
        selection["precision"] = model["precision"]
        selection["tensorParallelism"] = str(model["tensor_parallel"])
        selection["gpus"] = [{"product": product} for product in gpu_products(model)]
        if nim.get("llm_engine"):
            selection["engine"] = nim["llm_engine"]
    return selection


def nim_cache_name(model):
    """The NIMCache of a model: its name plus a short hash of what the cache holds (puller image and model
    selection). The operator's CRD makes ``spec.source.ngc.modelPuller`` immutable (and a cache that was filled
    is not filled again), so a new NIM tag or profile gets a new cache; the old one is removed as stale."""
    nim = model["nim"]
    content = json.dumps(["%s:%s" % (nim["image"], nim["tag"]), _nim_model_selection(model)], sort_keys=True)
    return "%s-%s" % (model["name"], hashlib.sha256(content.encode("utf-8")).hexdigest()[:8])


def nim_cache(config, model):
    """NIMCache: pull the model (profile chosen by id, or by engine/precision/TP/GPU) into a PVC on EFS.

    The operator's caching Job goes where ``spec.nodeSelector`` says, by default (none set, as here) to GPU nodes
    labelled ``feature.node.kubernetes.io/pci-10de.present=true`` (the GPU NodePools carry it), and tolerates only
    ``spec.tolerations``: the GPU pools' taint."""
    nim = model["nim"]
    secrets = config["platform"]["secrets"]
    dummy_selector, tolerations = node_selection(config, model)
    return {
        "apiVersion": NIM_API_VERSION, "kind": "NIMCache",
        "metadata": _meta(nim_cache_name(model), model["namespace"], labels(config, model)),
        "spec": {
            "source": {"ngc": {
                "modelPuller": "%s:%s" % (nim["image"], nim["tag"]),
                "pullSecret": secrets["ngc_registry"],
                "authSecret": secrets["ngc_api"],
                "model": _nim_model_selection(model),
            }},
            "storage": {"pvc": {
                "create": True,
                "storageClass": config["platform"]["storage_class"],
                "size": model["cache_size"],
                "volumeAccessMode": "ReadWriteMany",
            }},
            "tolerations": tolerations,
        },
    }


def nim_service(config, model):
    """NIMService: the NIM server on the model's GPU pool, reading the NIMCache, scaled and scraped."""
    nim = model["nim"]
    secrets = config["platform"]["secrets"]
    node_selector, tolerations = node_selection(config, model)
    service_type, annotations, dummy_ranges = service_exposure(config)
    service = {"type": service_type, "port": OPENAI_PORT}
    if annotations:
        service["annotations"] = annotations
    spec = {
        "labels": labels(config, model),
        "image": {"repository": nim["image"], "tag": nim["tag"], "pullPolicy": "IfNotPresent",
                  "pullSecrets": [secrets["ngc_registry"]]},
        "authSecret": secrets["ngc_api"],
        "storage": {"nimCache": {"name": nim_cache_name(model), "profile": nim["profile"]}},
        "resources": replica_resources(model),
        "nodeSelector": node_selector,
        "tolerations": tolerations,
        "expose": {"service": service},
        "startupProbe": {"enabled": True, "probe": _nim_probe("/v1/health/ready", 10, 180)},
        "readinessProbe": {"enabled": True, "probe": _nim_probe("/v1/health/ready", 10, 3)},
        "livenessProbe": {"enabled": True, "probe": _nim_probe("/v1/health/live", 10, 3)},
        "metrics": {"enabled": True, "serviceMonitor": {
            "additionalLabels": dict(config["platform"].get("service_monitor_labels") or {}, **labels(config, model)),
            "interval": "15s"}},
    }
    if model["autoscaling"]["enabled"]:
        spec["scale"] = {"enabled": True, "hpa": hpa_spec(config, model)}
    else:
        spec["replicas"] = model["replicas"]
    return {
        "apiVersion": NIM_API_VERSION, "kind": "NIMService",
        "metadata": _meta(model["name"], model["namespace"], labels(config, model)),
        "spec": spec,
    }


def nim_operator_objects(config, model):
    return [nim_cache(config, model), nim_service(config, model)]


def nim_chart_store(config, model):
    """The model store PVC of a nim-llm release (EFS, shared by its replicas)."""
    store_labels = labels(config, model)
    store_labels[RELEASE_LABEL] = model["name"]
    return efs_claim(config, model["name"] + "-model-store", model["namespace"], store_labels, model["cache_size"])


def nim_chart_values(config, model):
    """Values of the nim-llm chart for one model (no secret: the chart reads the Secrets by name)."""
    nim = model["nim"]
    secrets = config["platform"]["secrets"]
    node_selector, tolerations = node_selection(config, model)
    service_type, annotations, dummy_ranges = service_exposure(config)
    probe = {"enabled": True, "path": "/v1/health/ready", "periodSeconds": 10, "timeoutSeconds": 5}
    return {
        "fullnameOverride": model["name"],
        "image": {"repository": nim["image"], "tag": nim["tag"], "pullPolicy": "IfNotPresent"},
        "imagePullSecrets": [{"name": secrets["ngc_registry"]}],
        "model": {"ngcAPISecret": secrets["ngc_api"], "nimCache": "/model-store", "openaiPort": OPENAI_PORT},
        "replicaCount": model["autoscaling"]["min_replicas"] if model["autoscaling"]["enabled"] else model["replicas"],
        "resources": replica_resources(model),
        "nodeSelector": node_selector,
        "tolerations": tolerations,
        "statefulSet": {"enabled": False},
        "persistence": {"enabled": True, "existingClaim": model["name"] + "-model-store"},
        "service": {"type": service_type, "openaiPort": OPENAI_PORT, "annotations": annotations},
        "startupProbe": dict(probe, failureThreshold=180, initialDelaySeconds=0),
        "readinessProbe": dict(probe, failureThreshold=3, initialDelaySeconds=0),
        "livenessProbe": dict(probe, path="/v1/health/live", failureThreshold=3, initialDelaySeconds=0),
        # the HPA and ServiceMonitor are ours (labelled, stale-removable), not the chart's
        "autoscaling": {"enabled": False},
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": False}},
    }


def nim_chart_release(config, model):
    chart = config["charts"]["nim-llm"]
    return {
        "name": model["name"],
        "namespace": model["namespace"],
        "chart_ref": chart["chart_ref"],
        "chart_repo_url": chart["repo_url"] or None,
        "chart_version": chart["version"] or None,
        "values": nim_chart_values(config, model),
    }


def nim_chart_objects(config, model):
    """Our objects around a nim-llm release: its model store, HPA (when autoscaling) and ServiceMonitor."""
    objects = [nim_chart_store(config, model)]
    match = {"app.kubernetes.io/name": "nim-llm", "app.kubernetes.io/instance": model["name"]}
    objects.append(service_monitor(config, model, match, "http-openai", "/v1/metrics"))
    if model["autoscaling"]["enabled"]:
        objects.append(hpa(config, model, "Deployment", model["name"]))
    return objects


# -------------------------------------------------------------------------------------- Triton + vLLM


def triton_model_json(model):
    """1/model.json of the vLLM backend: vLLM engine arguments, stats on so vLLM metrics are exported."""
    vllm = model["vllm"]
    engine_args = {
        "model": vllm["model_id"],
        "tensor_parallel_size": model["tensor_parallel"],
        "gpu_memory_utilization": model["gpu_memory_utilization"],
        "max_model_len": model["max_model_len"],
        "dtype": vllm["dtype"],
        "enforce_eager": vllm["enforce_eager"],
        "disable_log_stats": False,
    }
    if vllm["revision"] and vllm["revision"] != "main":
        engine_args["revision"] = vllm["revision"]
    return engine_args


def triton_repository(bucket):
    return "s3://%s/%s" % (bucket, TRITON_REPOSITORY_PREFIX)


def _triton_probe(path, period, failures):
    return {"httpGet": {"path": path, "port": "http", "scheme": "HTTP"}, "periodSeconds": period,
            "failureThreshold": failures, "timeoutSeconds": 5, "successThreshold": 1}


def server_deployment(config, model, container, pod_identity):
    """The Deployment of a model's server (Triton or vLLM): ``container`` on the model's GPU pool, rolling one replica
    at a time, the model's cache claim and shared memory for tensor parallel workers; ``pod_identity`` is what the pod
    spec says about its service account. The HPA owns the replica count when the model autoscales."""
    node_selector, tolerations = node_selection(config, model)
    pod_spec = dict(pod_identity)
    pod_spec.update({
        "nodeSelector": node_selector,
        "tolerations": tolerations,
        "terminationGracePeriodSeconds": 60,
        "containers": [container],
        "volumes": [
            {"name": "cache", "persistentVolumeClaim": {"claimName": model["name"] + "-cache"}},
            # tensor parallel workers exchange tensors through shared memory
            {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "%dGi" % (2 * model["tensor_parallel"])}},
        ],
    })
    spec = {
        "selector": {"matchLabels": {MODEL_LABEL: model["name"], ENGINE_LABEL: model["engine"]}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {"metadata": {"labels": labels(config, model, component="server")}, "spec": pod_spec},
    }
    if not model["autoscaling"]["enabled"]:
        spec["replicas"] = model["replicas"]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": _meta(model["name"], model["namespace"], labels(config, model)), "spec": spec}


def triton_deployment(config, model, bucket, region):
    """One Triton server per model, loading only that model from the S3 repository."""
    secrets = config["platform"]["secrets"]
    env = [
        {"name": "AWS_DEFAULT_REGION", "value": region},
        {"name": "HF_HOME", "value": TRITON_CACHE_MOUNT + "/huggingface"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secrets["hf_token"], "key": "HF_TOKEN", "optional": True}}},
    ]
    args = [
        "--model-repository=%s" % triton_repository(bucket),
        "--model-control-mode=explicit",
        "--load-model=%s" % model["name"],
        "--allow-metrics=true",
        "--allow-gpu-metrics=true",
        "--metrics-port=8002",
        "--exit-on-error=true",
    ]
    container = {
        "name": "triton",
        "image": config["images"]["triton_vllm"],
        "imagePullPolicy": "IfNotPresent",
        "command": ["tritonserver"],
        "args": args,
        "env": env,
        "ports": [{"name": name, "containerPort": port, "protocol": "TCP"} for name, port in TRITON_PORTS],
        "resources": replica_resources(model),
        "startupProbe": _triton_probe("/v2/health/ready", 10, 180),
        "readinessProbe": _triton_probe("/v2/health/ready", 10, 3),
        "livenessProbe": _triton_probe("/v2/health/live", 15, 3),
        "volumeMounts": [{"name": "cache", "mountPath": TRITON_CACHE_MOUNT},
                         {"name": "shm", "mountPath": "/dev/shm"}],
    }
    return server_deployment(config, model, container, {"serviceAccountName": "triton"})


def triton_objects(config, model, bucket, region):
    """Per-model Triton objects: HF cache PVC on EFS, Deployment, Service, ServiceMonitor, HPA."""
    service_type, annotations, source_ranges = service_exposure(config)
    service_spec = {
        "type": service_type,
        "selector": {MODEL_LABEL: model["name"], ENGINE_LABEL: model["engine"]},
        "ports": [{"name": name, "port": port, "targetPort": name, "protocol": "TCP"} for name, port in TRITON_PORTS],
    }
    if source_ranges:
        service_spec["loadBalancerSourceRanges"] = source_ranges
    objects = [
        efs_claim(config, model["name"] + "-cache", model["namespace"], labels(config, model), model["cache_size"]),
        triton_deployment(config, model, bucket, region),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": _meta(model["name"], model["namespace"], labels(config, model), annotations), "spec": service_spec},
        service_monitor(config, model, {MODEL_LABEL: model["name"], ENGINE_LABEL: model["engine"]}, "metrics", "/metrics"),
    ]
    if model["autoscaling"]["enabled"]:
        objects.append(hpa(config, model, "Deployment", model["name"]))
    return objects


def model_reader_accounts(config, key):
    """The ServiceAccounts of workload ``key`` (triton, vllm) that read the model bucket, one per namespace: IRSA-annotated
    when the workload's image cannot use Pod Identity (needs ``config["aws_account"]``, which only the role that applies
    the objects knows), plain under Pod Identity (the association names the service account)."""
    account = config.get("aws_account")  # {partition, account_id}
    objects = []
    for entry in config["service_accounts"][key]:
        annotations = workload_identity.service_account_annotations(entry, account["partition"], account["account_id"]) if account else None
        objects.append({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": _meta(entry["service_account"], entry["namespace"], labels(config, component="server"), annotations)})
    return objects


def triton_shared_objects(config):
    """Per triton namespace: the `triton` service account (reads the model bucket; IRSA-annotated when the image
    cannot use Pod Identity, which needs ``config["aws_account"]``) and one
    image prefetch DaemonSet per GPU pool the namespace's models use."""
    objects = model_reader_accounts(config, "triton")
    image = config["images"]["triton_vllm"]
    taint = config["platform"]["gpu_taint"]
    for entry in config["service_accounts"]["triton"]:
        ns = entry["namespace"]
        pools = sorted(set(m["node_pool"] for m in config["models"] if m["engine"] == "triton_vllm" and m["namespace"] == ns))
        for pool in pools:
            name = "triton-prefetch-%s" % pool
            pod_labels = labels(config, component="prefetch")
            pod_labels["app.kubernetes.io/name"] = name
            objects.append({
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": _meta(name, ns, labels(config, component="prefetch")),
                "spec": {
                    "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                    "template": {
                        "metadata": {"labels": pod_labels},
                        "spec": {
                            "nodeSelector": {config["platform"]["pool_label"]: pool},
                            "tolerations": [{"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}],
                            "terminationGracePeriodSeconds": 5,
                            # pulling the image is the job; the container then idles at no cost
                            "containers": [{
                                "name": "prefetch", "image": image, "imagePullPolicy": "IfNotPresent",
                                "command": ["sleep", "infinity"],
                                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"},
                                              "limits": {"cpu": "50m", "memory": "64Mi"}},
                            }],
                        },
                    },
                },
            })
    return objects


# ----------------------------------------------------------------------------------- vLLM (OpenAI server)


def vllm_args(model):
    """`vllm serve` arguments: the model (Hugging Face id, or an s3:// folder streamed by the Run:ai Model Streamer),
    served under the model's served name, sized by the inventory."""
    vllm = model["vllm"]
    args = [
        vllm["model_id"],
        "--served-model-name=%s" % model["served_model_name"],
        "--host=0.0.0.0",
        "--port=%d" % OPENAI_PORT,
        "--tensor-parallel-size=%d" % model["tensor_parallel"],
        "--gpu-memory-utilization=%s" % model["gpu_memory_utilization"],
        "--max-model-len=%d" % model["max_model_len"],
        "--dtype=%s" % vllm["dtype"],
    ]
    if streams_from_s3(model):
        # safetensors read concurrently from S3 into GPU memory, no copy on disk; config.json and the tokenizer files
        # of the folder are pulled into /dev/shm first
        args.append("--load-format=runai_streamer")
    elif vllm["revision"] and vllm["revision"] != "main":
        args.append("--revision=%s" % vllm["revision"])
    if vllm["enforce_eager"]:
        args.append("--enforce-eager")
    return args


def _vllm_probe(period, failures):
    # /health answers 200 once the engine is up; the server listens only after the weights are loaded
    return {"httpGet": {"path": "/health", "port": "http", "scheme": "HTTP"}, "periodSeconds": period,
            "failureThreshold": failures, "timeoutSeconds": 5, "successThreshold": 1}


def vllm_deployment(config, model):
    """One vLLM OpenAI server per replica; weights downloaded once into the model's cache claim on EFS, or streamed
    from the model bucket at every start (service account ``vllm``, which may read the bucket)."""
    secrets = config["platform"]["secrets"]
    env = [
        {"name": "HF_HOME", "value": VLLM_CACHE_MOUNT + "/huggingface"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": secrets["hf_token"], "key": "HF_TOKEN", "optional": True}}},
    ]
    if streams_from_s3(model):
        # the streamer's S3 client needs the bucket's region; credentials come from the service account's role
        env.insert(0, {"name": "AWS_REGION", "value": config["region"]})
    container = {
        "name": "vllm",
        "image": config["images"]["vllm"],
        "imagePullPolicy": "IfNotPresent",
        "command": ["vllm", "serve"],
        "args": vllm_args(model),
        "env": env,
        "ports": [{"name": "http", "containerPort": OPENAI_PORT, "protocol": "TCP"}],
        "resources": replica_resources(model),
        # a cold start downloads the weights and compiles: up to 30 min before the first /health answer
        "startupProbe": _vllm_probe(10, 180),
        "readinessProbe": _vllm_probe(10, 3),
        "livenessProbe": _vllm_probe(15, 3),
        "volumeMounts": [{"name": "cache", "mountPath": VLLM_CACHE_MOUNT},
                         {"name": "shm", "mountPath": "/dev/shm"}],
    }
    if streams_from_s3(model):
        # the Pod Identity webhook (or IRSA's) mounts its own token; the server calls no Kubernetes API
        return server_deployment(config, model, container, {"serviceAccountName": VLLM_SERVICE_ACCOUNT, "automountServiceAccountToken": False})
    # the server calls no AWS or Kubernetes API
    return server_deployment(config, model, container, {"automountServiceAccountToken": False})


def streamed_sources(config):
    """[{model, namespace, uri, bucket, prefix}] of the vLLM models that stream their weights from S3."""
    sources = []
    for model in config["models"]:
        if model["engine"] == "vllm" and streams_from_s3(model):
            uri = model["vllm"]["model_id"]
            sources.append(dict(s3_location(uri), model=model["name"], namespace=model["namespace"], uri=uri))
    return sources


# What vLLM reads from a streamed folder besides the weights (the tokenizer: one of these)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")


def streamed_weights_problems(source, keys):
    """Why vLLM could not start from the S3 folder of ``source`` (streamed_sources) holding ``keys`` (object keys
    listed under its prefix): [] when it can. vLLM pulls config.json and the tokenizer of the folder itself (not its
    subfolders) and the Run:ai Model Streamer loads *.safetensors only."""
    folder = source["prefix"] + "/"
    names = set(key[len(folder):] for key in keys if key.startswith(folder) and "/" not in key[len(folder):])
    problems = []
    if "config.json" not in names:
        problems.append("no config.json")
    if not names.intersection(TOKENIZER_FILES):
        problems.append("no tokenizer (%s)" % " or ".join(TOKENIZER_FILES))
    if not any(name.endswith(".safetensors") for name in names):
        pytorch = sorted(name for name in names if name.endswith((".bin", ".pt", ".pth")))
        problems.append("PyTorch weights only (%s): the Run:ai Model Streamer loads *.safetensors; convert them" % ", ".join(pytorch[:3])
                        if pytorch else "no *.safetensors weights")
    return ["%s: %s" % (source["uri"], problem) for problem in problems]


def vllm_objects(config, model):
    """Per-model vLLM objects: HF cache claim on EFS, Deployment, Service, ServiceMonitor (/metrics) and HPA."""
    match = {MODEL_LABEL: model["name"], ENGINE_LABEL: model["engine"]}
    service_type, annotations, source_ranges = service_exposure(config)
    service_spec = {"type": service_type, "selector": match,
                    "ports": [{"name": "http", "port": OPENAI_PORT, "targetPort": "http", "protocol": "TCP"}]}
    if source_ranges:
        service_spec["loadBalancerSourceRanges"] = source_ranges
    objects = [
        efs_claim(config, model["name"] + "-cache", model["namespace"], labels(config, model), model["cache_size"]),
        vllm_deployment(config, model),
        {"apiVersion": "v1", "kind": "Service",
         "metadata": _meta(model["name"], model["namespace"], labels(config, model), annotations), "spec": service_spec},
        service_monitor(config, model, match, "http", "/metrics"),
    ]
    if model["autoscaling"]["enabled"]:
        objects.append(hpa(config, model, "Deployment", model["name"]))
    return objects


# ------------------------------------------------------------------------------------------ Open WebUI


def open_webui_objects(config):
    """Open WebUI in front of the OpenAI-compatible endpoints (NIM engines and vLLM), data on EFS, sign-up off."""
    webui = config["open_webui"]
    ns = webui["namespace"]
    endpoints = ["http://%s.%s.svc.cluster.local:%d/v1" % (m["name"], m["namespace"], OPENAI_PORT)
                 for m in config["models"] if m["engine"] in NIM_ENGINES + ("vllm",)]
    app_labels = labels(config, component="open-webui")
    match = {"app.kubernetes.io/name": "open-webui"}
    app_labels.update(match)
    env = [
        {"name": "OPENAI_API_BASE_URLS", "value": ";".join(endpoints)},
        {"name": "OPENAI_API_KEYS", "value": ";".join("none" for dummy in endpoints)},
        {"name": "ENABLE_OLLAMA_API", "value": "false"},
        # the first account to sign up becomes the admin; after it, sign-up is closed
        {"name": "ENABLE_SIGNUP", "value": "false"},
        {"name": "WEBUI_AUTH", "value": "true"},
        {"name": "WEBUI_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "open-webui", "key": "WEBUI_SECRET_KEY"}}},
    ]
    service_type, annotations, source_ranges = service_exposure(config)
    service_spec = {"type": service_type, "selector": match,
                    "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}
    if source_ranges:
        service_spec["loadBalancerSourceRanges"] = source_ranges
    return [
        efs_claim(config, "open-webui-data", ns, labels(config, component="open-webui"), webui["storage_size"]),
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": _meta("open-webui", ns, labels(config, component="open-webui")),
         "spec": {
             "replicas": 1,
             "strategy": {"type": "Recreate"},
             "selector": {"matchLabels": match},
             "template": {"metadata": {"labels": app_labels}, "spec": {"containers": [{
                 "name": "open-webui", "image": config["images"]["open_webui"], "imagePullPolicy": "IfNotPresent",
                 "env": env,
                 "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                 "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
                 "readinessProbe": {"httpGet": {"path": "/health", "port": "http", "scheme": "HTTP"}, "periodSeconds": 10,
                                    "failureThreshold": 3, "timeoutSeconds": 5, "successThreshold": 1},
                 "volumeMounts": [{"name": "data", "mountPath": "/app/backend/data"}],
             }], "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "open-webui-data"}}]}},
         }},
        {"apiVersion": "v1", "kind": "Service",
         "metadata": _meta("open-webui", ns, labels(config, component="open-webui"), annotations), "spec": service_spec},
    ]


# ------------------------------------------------------------------------------------------ the plan


def _key(obj):
    return "%s/%s/%s" % (obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def operator_namespace(config):
    """The NIM Operator's namespace, ours while a model uses nim_operator (removed with the last one)."""
    chart = config["charts"]["k8s-nim-operator"]
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": _meta(chart["namespace"], None, dict(labels(config, component="nim-operator"),
                                                             **{RELEASE_LABEL: chart["release"]}))}


def model_objects(config, model, bucket, region):
    if model["engine"] == "nim_operator":
        return nim_operator_objects(config, model)
    if model["engine"] == "nim_chart":
        return nim_chart_objects(config, model)
    if model["engine"] == "vllm":
        return vllm_objects(config, model)
    return triton_objects(config, model, bucket, region)


def plan(config, bucket, region):
    """Everything the layer should have: shared objects, per-model objects and releases, and their keys."""
    models = [{
        "name": m["name"], "engine": m["engine"], "namespace": m["namespace"],
        "objects": model_objects(config, m, bucket, region),
        "release": nim_chart_release(config, m) if m["engine"] == "nim_chart" else None,
    } for m in config["models"]]
    result = {
        "namespaces": namespaces(config),
        "secrets": secret_plan(config),
        "operator_namespace": [operator_namespace(config)] if "nim_operator" in config["engines"] else [],
        "models": models,
        "triton_shared": triton_shared_objects(config),
        "vllm_shared": model_reader_accounts(config, "vllm"),
        "vllm_streamed": streamed_sources(config),
        "open_webui": open_webui_objects(config) if (config.get("open_webui") or {}).get("enabled") else [],
        "triton_repository_prefix": TRITON_REPOSITORY_PREFIX,
        "kinds": [{"api_version": api_version, "kind": kind} for api_version, kind in CLEANUP_KINDS],
    }
    objects = result["namespaces"] + result["operator_namespace"] + result["triton_shared"] + result["vllm_shared"] + result["open_webui"]
    objects += [o for m in models for o in m["objects"]]
    keys = [_key(o) for o in objects]
    keys += ["Secret/%s/%s" % (s["namespace"], s["name"]) for s in result["secrets"]]
    if result["open_webui"]:
        keys.append("Secret/%s/open-webui" % config["open_webui"]["namespace"])
    result["keys"] = sorted(set(keys))
    result["engines"] = dict((_key(o), m["engine"]) for m in models for o in m["objects"])
    return result


def keep_existing_sizes(objects, existing, engine=None):
    """PVC requests cannot shrink and EFS claims cannot grow (EFS is elastic; the size is nominal): keep the
    size an existing claim was created with, so a changed ``cache_size`` never makes apply fail. With ``engine``,
    only existing claims of that engine count (a listing of the whole layer also holds other engines' claims,
    which may share a name and are removed before the apply)."""
    sizes = {}
    for obj in existing:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if obj.get("kind") == "PersistentVolumeClaim" and engine in (None, labels.get(ENGINE_LABEL)):
            requested = ((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}
            if requested.get("storage"):
                sizes[_key(obj)] = requested["storage"]
    result = []
    for obj in objects:
        if obj["kind"] == "PersistentVolumeClaim" and _key(obj) in sizes:
            obj = json.loads(json.dumps(obj))
            obj["spec"]["resources"]["requests"]["storage"] = sizes[_key(obj)]
        result.append(obj)
    return result


def object_keys(objects):
    """'Kind/namespace/name' of Kubernetes objects (as listed from the API server)."""
    return [_key(obj) for obj in objects]


def removal_phases(remove):
    """The entries of ``stale()`` grouped into REMOVAL_PHASES (empty phases left out), each with the objects to
    delete (minimal manifests), the kinds to list while waiting and the keys that must disappear."""
    phases = []
    for name, kinds in REMOVAL_PHASES:
        entries = [e for e in remove if e["kind"] in kinds]
        if not entries:
            continue
        objects = [{"apiVersion": e["apiVersion"], "kind": e["kind"],
                    "metadata": dict({"name": e["name"]}, **({"namespace": e["namespace"]} if e.get("namespace") else {}))}
                   for e in entries]
        listed = []
        for entry in entries:
            kind = {"api_version": entry["apiVersion"], "kind": entry["kind"]}
            if kind not in listed:
                listed.append(kind)
        phases.append({"name": name, "objects": objects, "kinds": listed, "keys": object_keys(objects)})
    return phases


def stale(existing, keys, engines=None):
    """Objects (k8s_info resources) that carry the layer's labels but are not in ``keys``, in deletion order
    (CLEANUP_KINDS); children the API server or an operator created (ownerReferences) are left to their owners.

    ``engines`` ({key: engine} of the plan's per-model objects): a workload whose model switches between engines that
    use the same object names (triton_vllm <-> vllm) is stale too, since its pod selector (engine label) cannot
    change in place; the other same-named objects (claim, Service, monitor, HPA) are applied over and kept."""
    wanted = set(keys)
    engines = engines or {}

    def replaced(obj):
        key = _key(obj)
        engine = ((obj.get("metadata") or {}).get("labels") or {}).get(ENGINE_LABEL)
        return obj.get("kind") in IMMUTABLE_SELECTOR_KINDS and key in engines and engine != engines[key]
    order = dict((kind, index) for index, (dummy, kind) in enumerate(CLEANUP_KINDS))
    result = []
    for obj in existing:
        meta = obj.get("metadata") or {}
        if meta.get("ownerReferences"):
            continue
        if _key(obj) in wanted and not replaced(obj):
            continue
        result.append({
            "apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
            "namespace": meta.get("namespace", ""), "name": meta["name"],
            "release": (meta.get("labels") or {}).get(RELEASE_LABEL, ""),
            "model": (meta.get("labels") or {}).get(MODEL_LABEL, ""),
        })
    result.sort(key=lambda entry: order.get(entry["kind"], len(CLEANUP_KINDS) - 1))
    return result


def removal_order(remove, config):
    """Split ``stale()`` entries into what goes before the apply and what goes after it.

    Most stale objects go first, so an engine switch cannot collide with what the old engine left. The NIMCache of a
    NIM model that stays (its image tag changed, so its cache has a new name) goes after: its NIMService still
    mounts the old cache's claim until the apply moves it to the new cache, and the claim (pvc-protection) - so the
    NIMCache - cannot be deleted before."""
    staying = set(m["name"] for m in config["models"] if m["engine"] == "nim_operator")
    later = [e for e in remove if e["kind"] == "NIMCache" and e.get("model") in staying]
    return {"before": [e for e in remove if e not in later], "after": later}
