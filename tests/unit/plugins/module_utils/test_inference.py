"""The inference layer's objects, computed from example inventories: engines, placement, autoscaling, stale removal."""
import copy
import glob
import json
import os

import jinja2
import jsonschema
import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.filter import inference as inference_filters
from ansible_collections.eks_llm.inference.plugins.filter import verify as verify_filters
from ansible_collections.eks_llm.inference.plugins.module_utils import inference
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.tests.unit.plugins.module_utils import crd_schema

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
EXAMPLES = os.path.join(REPO, "inventories", "examples")
CRDS = os.path.join(REPO, "tests", "standin", "charts", "k8s-nim-operator", "crds")
NGC_KEY = "nvapi-" + "unit-test-key"
HF_TOKEN = "hf_" + "unit-test-token"


def load(example, **changes):
    with open(os.path.join(EXAMPLES, example, "group_vars", "all", "main.yml")) as handle:
        given = yaml.safe_load(handle)
    given.update(eks_llm_ngc_api_key=NGC_KEY, eks_llm_hf_token=HF_TOKEN)
    given.update(changes)
    config, problems, dummy_warnings = inventory_model.validate(given)
    assert problems == [], problems
    return config


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def test_quantity_is_written_as_the_api_server_stores_it():
    assert inference.quantity(0.5) == "500m"
    assert inference.quantity(10) == "10"
    assert inference.quantity(1.25) == "1250m"
    assert inference.quantity(1.0) == "1"


@pytest.mark.parametrize("example", sorted(os.listdir(EXAMPLES)))
def test_every_object_carries_the_layer_labels_and_no_secret(example):
    config = load(example)
    plan = inference.plan(config, "bucket-1", config["region"])
    objects = plan["namespaces"] + plan["operator_namespace"] + plan["triton_shared"] + plan["open_webui"]
    objects += [o for m in plan["models"] for o in m["objects"]]
    assert objects
    for obj in objects:
        object_labels = obj["metadata"]["labels"]
        assert object_labels["app.kubernetes.io/managed-by"] == "eks_llm.inference"
        assert object_labels["app.kubernetes.io/part-of"] == config["name"]
        assert object_labels["eks-llm/layer"] == "inference"
    for model in plan["models"]:
        for obj in model["objects"]:
            assert obj["metadata"]["labels"]["eks-llm/model"] == model["name"]
            assert obj["metadata"]["labels"]["eks-llm/engine"] == model["engine"]
    text = json.dumps(plan)
    assert NGC_KEY not in text and HF_TOKEN not in text
    assert sorted(set(plan["keys"])) == plan["keys"]


def test_nim_operator_cache_selects_the_profile_by_engine_precision_tp_and_gpu():
    config = load("nim-operator-llama3-8b-tp2-g5-12xlarge")
    cache, service = config_objects = inference.nim_operator_objects(config, config["models"][0])
    assert [o["kind"] for o in config_objects] == ["NIMCache", "NIMService"]
    ngc = cache["spec"]["source"]["ngc"]
    assert ngc["modelPuller"] == "nvcr.io/nim/meta/llama3-8b-instruct:1.0.3"
    assert ngc["pullSecret"] == "ngc-registry" and ngc["authSecret"] == "ngc-api"
    assert ngc["model"] == {"precision": "fp16", "tensorParallelism": "2", "gpus": [{"product": "A10G"}], "engine": "tensorrt_llm"}
    assert cache["spec"]["storage"]["pvc"] == {"create": True, "storageClass": "efs-ap", "size": "50Gi", "volumeAccessMode": "ReadWriteMany"}
    spec = service["spec"]
    assert spec["storage"]["nimCache"]["name"] == cache["metadata"]["name"]
    assert spec["resources"]["limits"]["nvidia.com/gpu"] == "2" and spec["resources"]["requests"]["nvidia.com/gpu"] == "2"
    assert spec["nodeSelector"] == {"eks-llm/node-pool": "g5-12xlarge"}
    assert spec["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
    assert spec["replicas"] == 1 and "scale" not in spec
    assert spec["startupProbe"]["probe"]["httpGet"]["path"] == "/v1/health/ready"
    assert spec["metrics"]["enabled"] is True
    assert spec["expose"]["service"] == {"type": "ClusterIP", "port": 8000}


def test_a_new_nim_tag_or_profile_gets_a_new_cache_and_the_old_one_is_stale():
    """modelPuller is immutable in the real NIMCache CRD (v3.0.2 `self == oldSelf`): the cache name carries a hash of
    the puller image and model selection, so a new tag is a new NIMCache and the old one is removed as stale."""
    config = load("nim-operator-llama3-8b-tp2-g5-12xlarge")
    model = config["models"][0]
    before = inference.plan(config, "b", "eu-west-1")
    cache, service = inference.nim_operator_objects(config, model)
    assert cache["metadata"]["name"] == inference.nim_cache_name(model) == service["spec"]["storage"]["nimCache"]["name"]
    assert cache["metadata"]["name"].startswith(model["name"] + "-") and len(cache["metadata"]["name"]) <= len(model["name"]) + 9
    retagged = copy.deepcopy(model)
    retagged["nim"]["tag"] = "1.1.0"
    profiled = copy.deepcopy(model)
    profiled["nim"]["profile"] = "tensorrt_llm-a10g-fp16-tp2-throughput"
    names = set(inference.nim_cache_name(m) for m in (model, retagged, profiled))
    assert len(names) == 3 and inference.nim_cache_name(copy.deepcopy(model)) == cache["metadata"]["name"]
    config["models"][0] = retagged
    after = inference.plan(config, "b", "eu-west-1")
    existing = _as_existing([o for m in before["models"] for o in m["objects"]])
    assert [(s["kind"], s["name"]) for s in inference.stale(existing, after["keys"])] == [("NIMCache", cache["metadata"]["name"])]
    reads = verify_filters.workload_kinds([retagged])
    assert [(r["kind"], r["name"], r["object_name"]) for r in reads] == [
        ("NIMCache", model["name"], inference.nim_cache_name(retagged)), ("NIMService", model["name"], model["name"])]


def test_an_explicit_nim_profile_wins_and_autoscaling_goes_to_the_operator_hpa():
    config = load("nim-operator-llama3-8b-tp2-g5-12xlarge")
    model = copy.deepcopy(config["models"][0])
    model["nim"]["profile"] = "tensorrt_llm-a10g-fp16-tp2-throughput"
    model["autoscaling"] = {"enabled": True, "min_replicas": 1, "max_replicas": 3, "target": 4}
    cache, service = inference.nim_operator_objects(config, model)
    assert cache["spec"]["source"]["ngc"]["model"] == {"profiles": ["tensorrt_llm-a10g-fp16-tp2-throughput"]}
    scale = service["spec"]["scale"]
    assert "replicas" not in service["spec"]
    assert scale["hpa"]["metrics"] == [{"type": "Pods", "pods": {
        "metric": {"name": "llm_requests_waiting"}, "target": {"type": "AverageValue", "averageValue": "4"}}}]
    assert (scale["hpa"]["minReplicas"], scale["hpa"]["maxReplicas"]) == (1, 3)


@pytest.mark.parametrize("autoscaling", [False, True])
def test_nim_custom_resources_fit_the_crd_schemas(autoscaling):
    config = load("nim-operator-llama3-8b-tp2-g5-12xlarge")
    model = copy.deepcopy(config["models"][0])
    model["autoscaling"] = {"enabled": autoscaling, "min_replicas": 1, "max_replicas": 4, "target": 0.5}
    for obj in inference.nim_operator_objects(config, model):
        with open(os.path.join(CRDS, "apps.nvidia.com_%ss.yaml" % obj["kind"].lower())) as handle:
            crd = yaml.safe_load(handle)
        schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert "x-kubernetes-preserve-unknown-fields" not in schema["properties"]["spec"]
        jsonschema.validate(obj, schema)
        assert crd_schema.unknown_fields(obj["spec"], schema["properties"]["spec"]) == []


def test_the_crd_schema_check_catches_a_wrong_field():
    config = load("nim-operator-llama3-8b-tp2-g5-12xlarge")
    service = inference.nim_service(config, config["models"][0])
    service["spec"]["gpus"] = 2
    with open(os.path.join(CRDS, "apps.nvidia.com_nimservices.yaml")) as handle:
        schema = yaml.safe_load(handle)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert crd_schema.unknown_fields(service["spec"], schema["properties"]["spec"]) == ["spec.gpus"]
    service["spec"]["replicas"] = "two"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(service, schema)


def test_nim_chart_model_gets_a_store_on_efs_a_correct_hpa_and_a_matching_service_monitor():
    config = load("nim-llama3-8b-g5-spot-efs")
    model = config["models"][0]
    objects = inference.nim_chart_objects(config, model)
    store = by_kind(objects, "PersistentVolumeClaim")[0]
    assert store["spec"]["storageClassName"] == "efs-ap" and store["spec"]["accessModes"] == ["ReadWriteMany"]
    assert store["metadata"]["labels"]["eks-llm/helm-release"] == model["name"]
    hpa = by_kind(objects, "HorizontalPodAutoscaler")[0]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": model["name"]}
    assert hpa["spec"]["metrics"][0]["pods"]["target"] == {"type": "AverageValue", "averageValue": "10"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 5)
    monitor = by_kind(objects, "ServiceMonitor")[0]
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "nim-llm", "app.kubernetes.io/instance": model["name"]}
    assert monitor["spec"]["endpoints"][0]["path"] == "/v1/metrics"
    values = inference.nim_chart_values(config, model)
    assert values["persistence"] == {"enabled": True, "existingClaim": store["metadata"]["name"]}
    assert values["model"]["ngcAPISecret"] == "ngc-api" and values["imagePullSecrets"] == [{"name": "ngc-registry"}]
    assert values["fullnameOverride"] == model["name"] and values["statefulSet"] == {"enabled": False}
    assert values["autoscaling"] == {"enabled": False}
    assert values["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_nim_chart_values_fit_the_stand_in_chart_schema():
    config = load("nim-llama3-8b-g5-spot-efs")
    with open(os.path.join(REPO, "tests", "standin", "charts", "nim-llm", "values.schema.json")) as handle:
        schema = json.load(handle)
    jsonschema.validate(inference.nim_chart_values(config, config["models"][0]), schema)


def test_triton_model_repository_renders_the_official_vllm_layout():
    config = load("triton-vllm-opt-350m-hpa-s3")
    model = config["models"][0]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(REPO, "model_repository", "vllm_model")),
                             keep_trailing_newline=True)
    env.filters["eks_llm.inference.triton_model_json"] = inference_filters.triton_model_json
    env.filters["to_nice_json"] = lambda value, indent=4, sort_keys=True: json.dumps(value, indent=indent, sort_keys=sort_keys)
    pbtxt = env.get_template("config.pbtxt.j2").render(triton_vllm_model=model)
    assert 'name: "opt-350m"' in pbtxt and 'backend: "vllm"' in pbtxt
    assert "decoupled: true" in pbtxt and "REPORT_CUSTOM_METRICS" in pbtxt
    assert "gpus" not in pbtxt
    engine_args = json.loads(env.get_template("1/model.json.j2").render(triton_vllm_model=model))
    assert engine_args == {"model": "facebook/opt-350m", "tensor_parallel_size": 1, "gpu_memory_utilization": 0.5,
                           "max_model_len": 2048, "dtype": "auto", "enforce_eager": False, "disable_log_stats": False}


def test_triton_deployment_loads_its_model_from_s3_with_pod_identity_and_caches_on_efs():
    config = load("triton-vllm-opt-350m-hpa-s3")
    model = config["models"][0]
    objects = inference.triton_objects(config, model, "bucket-1", "eu-west-1")
    deployment = by_kind(objects, "Deployment")[0]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert "replicas" not in deployment["spec"]
    assert pod["serviceAccountName"] == "triton"
    assert "--model-repository=s3://bucket-1/triton/model_repository" in container["args"]
    assert "--load-model=opt-350m" in container["args"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    hf_token = [e for e in container["env"] if e["name"] == "HF_TOKEN"][0]
    assert hf_token["valueFrom"]["secretKeyRef"]["name"] == "hf-token"
    cache = [v for v in pod["volumes"] if v["name"] == "cache"][0]
    assert cache == {"name": "cache", "persistentVolumeClaim": {"claimName": "opt-350m-cache"}}
    assert by_kind(objects, "PersistentVolumeClaim")[0]["spec"]["storageClassName"] == "efs-ap"
    service = by_kind(objects, "Service")[0]
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 8000), ("grpc", 8001), ("metrics", 8002)]
    monitor = by_kind(objects, "ServiceMonitor")[0]
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]


def test_triton_hpa_has_the_seed_shape():
    config = load("triton-vllm-opt-350m-hpa-s3")
    hpa = by_kind(inference.triton_objects(config, config["models"][0], "b", "eu-west-1"), "HorizontalPodAutoscaler")[0]
    spec = hpa["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 4)
    assert spec["metrics"] == [{"type": "Pods", "pods": {"metric": {"name": "triton_requests_waiting"},
                                                         "target": {"type": "AverageValue", "averageValue": "2"}}}]
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 120
    assert spec["behavior"]["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 60}]


def test_several_triton_models_get_one_gpu_each_and_no_gpu_ids():
    config = load("triton-vllm-mistral-llama2-g5-24xlarge")
    plan = inference.plan(config, "b", config["region"])
    deployments = [o for m in plan["models"] for o in m["objects"] if o["kind"] == "Deployment"]
    assert [d["metadata"]["name"] for d in deployments] == ["mistral7b", "llama2"]
    for deployment in deployments:
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["resources"]["requests"]["nvidia.com/gpu"] == "1"
        assert "CUDA_VISIBLE_DEVICES" not in json.dumps(deployment)
        assert deployment["spec"]["template"]["spec"]["nodeSelector"] == {"eks-llm/node-pool": "g5-24xlarge"}
    # one GPU's share of a g5.24xlarge: 4 of the 4 replicas fit one node
    assert container["resources"]["requests"]["cpu"] == "12" and container["resources"]["requests"]["memory"] == "67Gi"
    prefetch = by_kind(plan["triton_shared"], "DaemonSet")
    assert [d["metadata"]["name"] for d in prefetch] == ["triton-prefetch-g5-24xlarge"]
    assert prefetch[0]["spec"]["template"]["spec"]["nodeSelector"] == {"eks-llm/node-pool": "g5-24xlarge"}
    service = [o for m in plan["models"] for o in m["objects"] if o["kind"] == "Service"][0]
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    assert service["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/16"]
    tags = service["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags"]
    assert "eks-llm:deployment=%s" % config["name"] in tags.split(",")


def _as_existing(objects):
    return [dict(o, metadata=dict(o["metadata"], uid="u")) for o in objects]


def test_switching_engine_marks_the_old_engines_objects_stale_and_nothing_else():
    triton = load("triton-vllm-opt-350m-hpa-s3")
    existing = _as_existing(inference.plan(triton, "b", "eu-west-1")["namespaces"]
                            + [o for m in inference.plan(triton, "b", "eu-west-1")["models"] for o in m["objects"]])
    owned = {"name": "opt-350m-abc", "namespace": "triton", "ownerReferences": [{"kind": "ReplicaSet"}]}
    existing.append({"apiVersion": "v1", "kind": "Pod", "metadata": owned})
    switched = load("triton-vllm-opt-350m-hpa-s3", eks_llm_models=[{
        "name": "opt-350m", "engine": "nim_operator", "namespace": "triton", "parameters_billion": 0.35,
        "nim": {"image": "nvcr.io/nim/facebook/opt-350m", "tag": "1.0.0"}}])
    plan = inference.plan(switched, "b", "eu-west-1")
    stale = inference.stale(existing, plan["keys"])
    assert sorted((s["kind"], s["name"]) for s in stale) == [
        ("Deployment", "opt-350m"), ("HorizontalPodAutoscaler", "opt-350m"), ("PersistentVolumeClaim", "opt-350m-cache"),
        ("Service", "opt-350m"), ("ServiceMonitor", "opt-350m")]
    back = inference.plan(triton, "b", "eu-west-1")
    assert inference.stale(existing, back["keys"]) == []
    chart_store = _as_existing([inference.nim_chart_store(switched, switched["models"][0])])
    assert inference.stale(chart_store, plan["keys"])[0]["release"] == "opt-350m"
    assert inference.stale(existing, [])[-1]["kind"] == "Namespace"


def test_removal_goes_in_phases_serving_storage_credentials_namespaces():
    assert sorted(k for dummy, kinds in inference.REMOVAL_PHASES for k in kinds) == sorted(k for dummy, k in inference.CLEANUP_KINDS)
    config = load("nim-operator-llama3-8b-tp2-g5-12xlarge")
    plan = inference.plan(config, "b", "eu-west-1")
    existing = _as_existing(plan["namespaces"] + plan["operator_namespace"] + [o for m in plan["models"] for o in m["objects"]])
    phases = inference.removal_phases(inference.stale(existing, []))
    assert [p["name"] for p in phases] == ["serving", "storage", "namespaces"]
    serving, storage, spaces = phases
    assert serving["kinds"] == [{"api_version": "apps.nvidia.com/v1alpha1", "kind": "NIMService"}]
    cache = inference.nim_cache_name(config["models"][0])
    assert storage["keys"] == ["NIMCache/nim-service/" + cache]
    assert storage["objects"] == [{"apiVersion": "apps.nvidia.com/v1alpha1", "kind": "NIMCache",
                                   "metadata": {"name": cache, "namespace": "nim-service"}}]
    assert spaces["objects"][0]["metadata"] == {"name": "nim-service"}  # cluster-scoped: no namespace key
    assert inference.object_keys(serving["objects"]) == serving["keys"]
    assert inference.removal_phases([]) == []


def test_existing_claims_keep_their_size():
    config = load("triton-vllm-opt-350m-hpa-s3")
    objects = inference.triton_objects(config, config["models"][0], "b", "eu-west-1")
    existing = [{"kind": "PersistentVolumeClaim", "metadata": {"name": "opt-350m-cache", "namespace": "triton"},
                 "spec": {"resources": {"requests": {"storage": "20Gi"}}}}]
    kept = inference.keep_existing_sizes(objects, existing)
    assert by_kind(kept, "PersistentVolumeClaim")[0]["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert by_kind(objects, "PersistentVolumeClaim")[0]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_with_an_engine_only_that_engines_existing_claims_keep_their_size():
    """The models role's listing of the whole layer also holds another engine's claim of the same name (an engine
    switch removes it before the apply): its size must not carry over."""
    config = load("triton-vllm-opt-350m-hpa-s3")
    objects = inference.triton_objects(config, config["models"][0], "b", "eu-west-1")

    def claim(engine, size):
        return {"kind": "PersistentVolumeClaim", "spec": {"resources": {"requests": {"storage": size}}},
                "metadata": {"name": "opt-350m-cache", "namespace": "triton", "labels": {"eks-llm/engine": engine}}}

    def size(kept):
        return by_kind(kept, "PersistentVolumeClaim")[0]["spec"]["resources"]["requests"]["storage"]

    assert size(inference.keep_existing_sizes(objects, [claim("vllm", "20Gi")], "triton_vllm")) == "50Gi"
    assert size(inference.keep_existing_sizes(objects, [claim("triton_vllm", "20Gi")], "triton_vllm")) == "20Gi"
    assert size(inference.keep_existing_sizes(objects, [claim("vllm", "20Gi")])) == "20Gi"


def test_secrets_follow_the_engines_of_each_namespace():
    config = load("nim-llama3-8b-g5-spot-efs")
    assert [(s["namespace"], s["name"], s["type"]) for s in inference.secret_plan(config)] == [
        ("nim", "ngc-registry", "kubernetes.io/dockerconfigjson"), ("nim", "ngc-api", "Opaque")]
    triton = load("triton-vllm-opt-350m-hpa-s3")
    assert [(s["namespace"], s["name"]) for s in inference.secret_plan(triton)] == [("triton", "hf-token")]


def test_secret_objects_carry_the_layer_labels_and_the_data_of_their_name_only():
    config = load("nim-llama3-8b-g5-spot-efs")
    data = {"ngc-registry": {".dockerconfigjson": "e30="}, "ngc-api": {"NGC_API_KEY": "bnZhcGk="}, "hf-token": {"HF_TOKEN": "aGY="}}
    objects = inference_filters.inference_secret_objects(inference.secret_plan(config), config, data)
    assert [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"], o["type"], o["data"]) for o in objects] == [
        ("Secret", "nim", "ngc-registry", "kubernetes.io/dockerconfigjson", {".dockerconfigjson": "e30="}),
        ("Secret", "nim", "ngc-api", "Opaque", {"NGC_API_KEY": "bnZhcGk="})]
    assert all(o["metadata"]["labels"] == inference.labels(config, component="credentials") for o in objects)
    assert inference.labels(config, component="credentials")["eks-llm/layer"] == "inference"


def test_open_webui_points_at_the_nim_endpoints_with_data_on_efs():
    config = load("nim-llama3-8b-g5-spot-efs")
    objects = inference.plan(config, "", config["region"])["open_webui"]
    deployment = by_kind(objects, "Deployment")[0]
    env = dict((e["name"], e.get("value")) for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"])
    assert env["OPENAI_API_BASE_URLS"] == "http://llama3-8b-instruct.nim.svc.cluster.local:8000/v1"
    assert env["ENABLE_SIGNUP"] == "false"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == config["images"]["open_webui"]
    assert by_kind(objects, "PersistentVolumeClaim")[0]["spec"]["storageClassName"] == "efs-ap"


@pytest.mark.parametrize("changes, expected", [
    ({"eks_llm_models": [{"name": "m", "engine": "triton_vllm", "namespace": "monitoring", "parameters_billion": 0.35,
                          "vllm": {"model_id": "facebook/opt-350m"}}]}, "belongs to the cluster or the platform layer"),
    ({"eks_llm_open_webui": {"enabled": True}}, "no model uses a NIM engine"),
    ({"eks_llm_exposure": {"source_ranges": ["10.0.0.0/8"]}}, "only apply to mode internal_nlb"),
    ({"eks_llm_exposure": {"mode": "internal_nlb", "source_ranges": ["nope"]}}, "is not a CIDR block"),
    ({"eks_llm_exposure": {"mode": "internal_nlb"}, "eks_llm_tags": {"team": "ml,infra"}}, "values cannot hold ','"),
])
def test_front_end_and_namespace_problems(changes, expected):
    with open(os.path.join(EXAMPLES, "triton-vllm-opt-350m-hpa-s3", "group_vars", "all", "main.yml")) as handle:
        given = yaml.safe_load(handle)
    given.update(changes)
    config, problems, dummy_warnings = inventory_model.validate(given)
    assert config is None and expected in "\n".join(problems)


def test_examples_cover_every_engine_and_seed_feature():
    configs = [load(os.path.basename(path)) for path in glob.glob(os.path.join(EXAMPLES, "*"))]
    engines = set(m["engine"] for c in configs for m in c["models"])
    assert engines == {"nim_operator", "nim_chart", "triton_vllm", "vllm"}
    assert any(c["open_webui"]["enabled"] for c in configs)
    assert any(len(c["models"]) > 1 for c in configs)
    assert any(m["tensor_parallel"] == 2 for c in configs for m in c["models"])


def test_vllm_model_gets_the_openai_server_with_inventory_engine_args_probes_cache_service_monitor_and_hpa():
    config = load("vllm-qwen25-7b-tp2-hpa-g5")
    model = config["models"][0]
    plan = inference.plan(config, "", config["region"])
    objects = plan["models"][0]["objects"]
    assert [o["kind"] for o in objects] == ["PersistentVolumeClaim", "Deployment", "Service", "ServiceMonitor", "HorizontalPodAutoscaler"]
    deployment = by_kind(objects, "Deployment")[0]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == config["images"]["vllm"] == "vllm/vllm-openai:v0.26.0"
    assert container["command"] == ["vllm", "serve"]
    assert container["args"] == ["Qwen/Qwen2.5-7B-Instruct", "--served-model-name=Qwen/Qwen2.5-7B-Instruct", "--host=0.0.0.0", "--port=8000",
                                 "--tensor-parallel-size=2", "--gpu-memory-utilization=0.9", "--max-model-len=8192", "--dtype=auto"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "2"  # tensor parallel = GPUs per replica
    assert "replicas" not in deployment["spec"]  # the HPA owns the replica count
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/health", "port": "http", "scheme": "HTTP"}
    # a cold start (download + load + compile) gets 30 minutes before the first /health answer
    assert container["startupProbe"]["periodSeconds"] * container["startupProbe"]["failureThreshold"] == 1800
    env = dict((e["name"], e) for e in container["env"])
    assert env["HF_HOME"]["value"] == "/cache/huggingface"
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "hf-token", "key": "HF_TOKEN", "optional": True}
    assert pod["nodeSelector"] == {"eks-llm/node-pool": "gpu-g5-12xlarge"} and pod["automountServiceAccountToken"] is False
    assert [v for v in pod["volumes"] if v["name"] == "cache"] == [{"name": "cache", "persistentVolumeClaim": {"claimName": "qwen25-7b-cache"}}]
    claim = by_kind(objects, "PersistentVolumeClaim")[0]
    assert claim["metadata"]["name"] == "qwen25-7b-cache" and claim["spec"]["storageClassName"] == "efs-ap"
    assert claim["spec"]["resources"]["requests"]["storage"] == "60Gi"
    service = by_kind(objects, "Service")[0]
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 8000)]
    monitor = by_kind(objects, "ServiceMonitor")[0]
    assert monitor["spec"]["endpoints"][0]["port"] == "http" and monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["selector"]["matchLabels"] == service["spec"]["selector"] == {"eks-llm/model": "qwen25-7b", "eks-llm/engine": "vllm"}
    hpa = by_kind(objects, "HorizontalPodAutoscaler")[0]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 3)
    # prometheus-adapter's llm_requests_waiting is vllm:num_requests_waiting per pod
    assert hpa["metrics"] == [{"type": "Pods", "pods": {"metric": {"name": "llm_requests_waiting"},
                                                        "target": {"type": "AverageValue", "averageValue": "4"}}}]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "qwen25-7b"}
    assert [(s["namespace"], s["name"]) for s in plan["secrets"]] == [("vllm", "hf-token")]
    assert plan["triton_shared"] == []


def test_vllm_optional_engine_args_and_fixed_replicas():
    config = load("vllm-qwen25-7b-tp2-hpa-g5", eks_llm_models=[{
        "name": "opt-350m", "engine": "vllm", "parameters_billion": 0.35, "precision": "fp16", "replicas": 2, "max_model_len": 2048,
        "gpu_memory_utilization": 0.5, "vllm": {"model_id": "facebook/opt-350m", "revision": "abc123", "dtype": "float16", "enforce_eager": True}}])
    deployment = by_kind(inference.plan(config, "", config["region"])["models"][0]["objects"], "Deployment")[0]
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[1] == "--served-model-name=opt-350m"  # the model's name when none is given
    assert args[-4:] == ["--max-model-len=2048", "--dtype=float16", "--revision=abc123", "--enforce-eager"]
    assert "--gpu-memory-utilization=0.5" in args and deployment["spec"]["replicas"] == 2


STREAMED = {"name": "qwen-s3", "engine": "vllm", "namespace": "vllm", "parameters_billion": 7.6, "precision": "bf16", "tensor_parallel": 2,
            "vllm": {"model_id": "s3://eks-llm-models-123456789012-us-west-2/models/qwen25-7b/", "revision": "abc123"}}


def test_vllm_streams_weights_from_the_model_bucket_with_its_own_service_account():
    config = load("vllm-qwen25-7b-tp2-hpa-g5", eks_llm_models=[STREAMED, dict(STREAMED, name="qwen-hf", vllm={"model_id": "Qwen/Qwen2.5-7B-Instruct"})])
    # vllm/vllm-openai v0.26.0 carries boto3 with Pod Identity: no IRSA annotation, the association names the account
    assert config["service_accounts"]["vllm"] == [{"namespace": "vllm", "service_account": "vllm", "prefix": "models/qwen25-7b/",
                                                   "role_name": "eks-llm-vllm-model-reader", "credentials": "pod_identity"}]
    plan = inference.plan(dict(config, aws_account={"partition": "aws", "account_id": "123456789012"}), "", config["region"])
    assert [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"], o["metadata"].get("annotations")) for o in plan["vllm_shared"]] == [
        ("ServiceAccount", "vllm", "vllm", None)]
    assert "ServiceAccount/vllm/vllm" in plan["keys"]
    assert plan["vllm_streamed"] == [{"model": "qwen-s3", "namespace": "vllm", "uri": "s3://eks-llm-models-123456789012-us-west-2/models/qwen25-7b/",
                                      "bucket": "eks-llm-models-123456789012-us-west-2", "prefix": "models/qwen25-7b"}]
    streamed, from_hub = [by_kind(m["objects"], "Deployment")[0]["spec"]["template"]["spec"] for m in plan["models"]]
    container = streamed["containers"][0]
    # the streamer reads the folder itself (a revision is a Hugging Face notion, not passed), config and tokenizer included
    assert container["args"][0] == STREAMED["vllm"]["model_id"] and "--load-format=runai_streamer" in container["args"]
    assert not [a for a in container["args"] if a.startswith("--revision")]
    assert {"name": "AWS_REGION", "value": "us-west-2"} in container["env"]
    assert streamed["serviceAccountName"] == "vllm" and streamed["automountServiceAccountToken"] is False
    # a Hugging Face model beside it keeps no AWS identity
    assert "serviceAccountName" not in from_hub and "--load-format=runai_streamer" not in from_hub["containers"][0]["args"]
    assert not [e for e in from_hub["containers"][0]["env"] if e["name"] == "AWS_REGION"]


def test_vllm_streaming_under_irsa_annotates_its_account_and_verify_reads_its_folder():
    config = load("vllm-qwen25-7b-tp2-hpa-g5", eks_llm_models=[STREAMED], eks_llm_workload_credentials={"vllm": "irsa"})
    plan = inference.plan(dict(config, aws_account={"partition": "aws", "account_id": "123456789012"}), "", config["region"])
    assert plan["vllm_shared"][0]["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/eks-llm-vllm-model-reader"}
    assert config["service_accounts"]["vllm"][0]["prefix"] == "models/qwen25-7b/"


@pytest.mark.parametrize("keys, expected", [
    (["models/q/config.json", "models/q/tokenizer.json", "models/q/model-00001-of-00002.safetensors"], []),
    (["models/q/config.json", "models/q/tokenizer.model", "models/q/model.safetensors", "models/q/README.md"], []),
    (["models/q/tokenizer.json", "models/q/model.safetensors"], ["s3://b/models/q: no config.json"]),
    (["models/q/config.json", "models/q/model.safetensors"], ["s3://b/models/q: no tokenizer (tokenizer.json or tokenizer.model)"]),
    (["models/q/config.json", "models/q/tokenizer.json", "models/q/pytorch_model.bin"],
     ["s3://b/models/q: PyTorch weights only (pytorch_model.bin): the Run:ai Model Streamer loads *.safetensors; convert them"]),
    # files in a subfolder or in a sibling folder with the same start are not the folder's
    (["models/q/config.json", "models/q/tokenizer.json", "models/q/original/model.safetensors", "models/qq/model.safetensors"],
     ["s3://b/models/q: no *.safetensors weights"]),
    ([], ["s3://b/models/q: no config.json", "s3://b/models/q: no tokenizer (tokenizer.json or tokenizer.model)", "s3://b/models/q: no *.safetensors weights"]),
])
def test_a_streamed_folder_must_hold_config_tokenizer_and_safetensors(keys, expected):
    source = {"model": "q", "uri": "s3://b/models/q", "bucket": "b", "prefix": "models/q"}
    assert inference.streamed_weights_problems(source, keys) == expected
    # as the role calls it: amazon.aws.s3_object mode=list results of the loop over the plan's vllm_streamed
    assert inference_filters.inference_weights_problems([{"item": source, "s3_keys": keys}, {"item": source, "s3_keys": []}])[:len(expected)] == expected


def test_switching_between_triton_vllm_and_vllm_marks_only_the_old_engines_objects_stale():
    vllm = load("vllm-qwen25-7b-tp2-hpa-g5")
    existing = _as_existing([o for m in inference.plan(vllm, "", vllm["region"])["models"] for o in m["objects"]])
    with open(os.path.join(EXAMPLES, "vllm-qwen25-7b-tp2-hpa-g5", "group_vars", "all", "main.yml")) as handle:
        written = yaml.safe_load(handle)["eks_llm_models"][0]
    switched = load("vllm-qwen25-7b-tp2-hpa-g5", eks_llm_models=[dict(written, engine="triton_vllm")])
    plan = inference.plan(switched, "b", switched["region"])
    # same names (qwen25-7b, qwen25-7b-cache): the Deployment's selector (engine label) cannot change in place, so it goes
    # before the apply; the cache claim (same Hugging Face cache layout), Service, monitor and HPA are applied over
    assert inference.stale(existing, plan["keys"]) == []
    stale = inference.stale(existing, plan["keys"], plan["engines"])
    assert [(s["kind"], s["name"]) for s in stale] == [("Deployment", "qwen25-7b")]
    back = inference.plan(vllm, "", vllm["region"])
    assert inference.stale(existing, back["keys"], back["engines"]) == []
    new = dict((inference._key(o), o) for m in plan["models"] for o in m["objects"])  # pylint: disable=protected-access
    assert new["Deployment/vllm/qwen25-7b"]["metadata"]["labels"]["eks-llm/engine"] == "triton_vllm"
    assert sorted(k.split("/")[0] for k in new) == ["Deployment", "HorizontalPodAutoscaler", "PersistentVolumeClaim", "Service", "ServiceMonitor"]
    gone = inference.plan(load("vllm-qwen25-7b-tp2-hpa-g5", eks_llm_models=[]), "", vllm["region"])
    assert sorted((s["kind"], s["name"]) for s in inference.stale(existing, gone["keys"])) == [
        ("Deployment", "qwen25-7b"), ("HorizontalPodAutoscaler", "qwen25-7b"), ("PersistentVolumeClaim", "qwen25-7b-cache"),
        ("Service", "qwen25-7b"), ("ServiceMonitor", "qwen25-7b")]


def test_open_webui_lists_vllm_endpoints_too():
    config = load("vllm-qwen25-7b-tp2-hpa-g5", eks_llm_open_webui={"enabled": True})
    deployment = by_kind(inference.plan(config, "", config["region"])["open_webui"], "Deployment")[0]
    env = dict((e["name"], e.get("value")) for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"])
    assert env["OPENAI_API_BASE_URLS"] == "http://qwen25-7b.vllm.svc.cluster.local:8000/v1"
