"""The inventory model: every bad input is a clear problem naming the variable; good inputs normalise."""
import copy
import os
import re

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from tests.standin.local import inventory_folders, inventory_variables

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

BASE = {
    "eks_llm_name": "demo",
    "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [{"name": "g5", "instance_families": ["g5"], "capacity_types": ["spot", "on-demand"]}],
    "eks_llm_models": [
        {"name": "llama3-8b", "engine": "nim_chart", "parameters_billion": 8,
         "nim": {"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "1.0.3"}},
        {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
         "vllm": {"model_id": "facebook/opt-350m"}},
    ],
    "eks_llm_ngc_api_key": "nvapi-test-key",
    "eks_llm_hf_token": "hf_test",
}


def variables(**changes):
    result = copy.deepcopy(BASE)
    for key, value in changes.items():
        result[key] = value
    return result


def with_model(index, **changes):
    result = copy.deepcopy(BASE)
    result["eks_llm_models"][index].update(changes)
    return result


def problems_of(given):
    config, problems, dummy_warnings = inventory_model.validate(given)
    assert config is None, "expected problems, got a valid configuration"
    return "\n".join(problems)


def test_valid_inventory_normalises_with_defaults_tags_and_placement():
    config, problems, dummy_warnings = inventory_model.validate(variables())
    assert problems == []
    assert config["tags"]["eks-llm:deployment"] == "demo"
    assert config["cluster"]["version"] == "1.33"
    assert sorted(config["cluster"]["addons"]) == sorted(inventory_model.DEFAULT_ADDONS)
    assert config["network"]["availability_zones"] == ["us-west-2a", "us-west-2b"]
    assert [s["cidr"] for s in config["network"]["private_subnets"]] == ["10.0.0.0/19", "10.0.32.0/19"]
    llama = config["models"][0]
    assert llama["node_pool"] == "g5"
    assert "g5.xlarge" in llama["placement"]["eligible_instance_types"]
    assert config["service_accounts"]["triton"] == [{"namespace": "llm", "service_account": "triton",
                                                     "prefix": "triton/model_repository/",
                                                     "role_name": "demo-triton-model-reader", "credentials": "irsa"}]
    assert config["service_accounts"]["ebs_csi"] == {"namespace": "kube-system", "service_account": "ebs-csi-controller-sa",
                                                     "credentials": "pod_identity"}
    # secrets never leave the validator
    assert "nvapi-test-key" not in repr(config) and "hf_test" not in repr(config)


@pytest.mark.parametrize("given, expected", [
    (variables(eks_llm_name="Demo_Cluster"), "eks_llm_name: 'Demo_Cluster' is not usable"),
    (variables(eks_llm_name="x" * 40), "use 3-32 characters"),
    (variables(eks_llm_region="us-middle-9"), "eks_llm_region: 'us-middle-9' is not an AWS region"),
    (with_model(0, engine="tgi"), "unknown engine 'tgi'; allowed: nim_operator, nim_chart, triton_vllm, vllm"),
    (with_model(1, tensor_parallel="two"), "tensor_parallel"),
    (with_model(1, name="llama3-8b"), "duplicate model name 'llama3-8b'"),
    (variables(eks_llm_ngc_api_key=""), "engine nim_chart pulls from nvcr.io and NGC: set NGC_API_KEY"),
    (variables(eks_llm_ngc_api_key="abcdef"), "does not start with 'nvapi-'"),
    (with_model(1, vllm=None), "engine triton_vllm needs a model source"),
    (with_model(1, vllm={"model_id": "not a model"}), "neither a Hugging Face id"),
    (with_model(1, engine="vllm", vllm=None),
     "eks_llm_models[1] (opt-350m).vllm: engine vllm needs a model source: vllm: {model_id: <hf org/name or s3://bucket/prefix>}"),
    (with_model(1, engine="vllm", vllm={"model_id": "not a model"}),
     "'not a model' is neither a Hugging Face id (org/name, e.g. facebook/opt-350m) nor an s3:// URI of the model bucket"),
    # weights in S3: only the model bucket (the model readers' roles read nothing else), a folder, an image that streams
    (with_model(1, engine="vllm", vllm={"model_id": "s3://models/opt-350m"}),
     "eks_llm_models[1] (opt-350m).vllm.model_id: 's3://models/opt-350m' is in bucket 'models'; the model's pods can read only"
     " the model bucket demo-models-<account>-us-west-2 (eks_llm_model_bucket.name): copy the weights there"),
    (with_model(1, vllm={"model_id": "s3://other-bucket/opt-350m"}), "'s3://other-bucket/opt-350m' is in bucket 'other-bucket'"),
    (dict(with_model(1, engine="vllm", vllm={"model_id": "s3://weights-bucket/opt"}), eks_llm_model_bucket={"name": "my-weights"}),
     "the model's pods can read only the model bucket my-weights (eks_llm_model_bucket.name)"),
    (with_model(1, engine="vllm", vllm={"model_id": "s3://demo-models-123456789012-us-west-2"}),
     "names no prefix: give the folder that holds config.json, the tokenizer and the *.safetensors files"),
    (dict(with_model(1, engine="vllm", vllm={"model_id": "s3://demo-models-123456789012-us-west-2/opt"}),
          eks_llm_image_overrides={"vllm": "vllm/vllm-openai:v0.6.4"}),
     "vllm/vllm-openai:v0.6.4 cannot stream weights from S3 (--load-format runai_streamer with s3:// models needs vllm/vllm-openai >= v0.7.0)"),
    (with_model(0, vllm={"model_id": "facebook/opt-350m"}), "eks_llm_models[0] (llama3-8b).vllm: is read by the engines triton_vllm and vllm only"),
    (with_model(1, engine="vllm", tensor_parallel=3), "tensor_parallel: 3: allowed 1, 2, 4 or 8 GPUs per replica"),
    (with_model(1, engine="vllm", parameters_billion=70, precision="bf16"), "cannot be placed on node pool 'g5': 130.4 GiB of bf16 weights"),
    (with_model(0, nim={"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "latest"}), "pin an explicit NIM version"),
    (with_model(0, parameters_billion=70), "cannot be placed on node pool 'g5': 130.4 GiB of bf16 weights"),
    (with_model(0, node_pool="missing"), "'missing' is not a GPU node pool"),
    (variables(eks_llm_tags={"aws:owner": "x"}), "tag key 'aws:owner' is reserved"),
    (variables(eks_llm_network={"cidr": "10.0.0.0/8"}), "the VPC prefix must be /16 to /20"),
    (variables(eks_llm_network={"cidr": "banana"}), "'banana' is not an IPv4 CIDR block; give one with a /16 to /20 prefix"),
    (variables(eks_llm_network={"availability_zones": ["eu-west-1a", "us-west-2b"]}), "'eu-west-1a' is not an availability zone of region us-west-2"),
    (variables(eks_llm_network={"vpc_id": "vpc-0123456789abcdef0", "private_subnet_ids": ["subnet-0123456789abcdef0"]}), "needs at least 2 private subnets"),
    (variables(eks_llm_cluster={"version": "1.20"}), "'1.20' is not a supported EKS version"),
    (variables(eks_llm_cluster={"logging": ["api", "kubelet"]}), "'kubelet' is not a control-plane log type"),
    (variables(eks_llm_cluster={"endpoint_public_access": False, "endpoint_private_access": False}), "would be unreachable"),
    (variables(eks_llm_model_bucket={"name": "Bad_Bucket"}), "'Bad_Bucket' is not a valid S3 bucket name"),
    (variables(eks_llm_core_nodes={"min_size": 3, "desired_size": 2, "max_size": 4}), "min_size <= desired_size <= max_size"),
    (variables(eks_llm_gpu_node_pools=[{"name": "g5", "instance_types": ["g5.huge"]}]), "unknown GPU instance type(s) g5.huge"),
    (variables(eks_llm_gpu_node_pools=[{"name": "g5", "instance_families": ["g5"], "capacity_types": ["dedicated"]}]),
     "['dedicated']: allowed values are reserved, spot, on-demand"),
    (variables(eks_llm_modles=[]), "eks_llm_modles"),
    (with_model(0, replicas="many"), "replicas"),
    (variables(eks_llm_preflight={"max_usd_per_hour": 0}), "eks_llm_preflight.max_usd_per_hour: 0.0: a ceiling in USD per hour above 0"),
    (variables(eks_llm_preflight={"max_usd_per_hour": 20, "estimate_cost": False}), "set, but estimate_cost is false"),
])
def test_each_bad_input_is_a_clear_problem(given, expected):
    assert expected in problems_of(given)


def test_tensor_parallel_must_divide_the_gpus_of_the_instance():
    given = variables(eks_llm_gpu_node_pools=[{"name": "g5", "instance_types": ["g5.12xlarge"]}])
    given["eks_llm_models"][1]["tensor_parallel"] = 8
    text = problems_of(given)
    assert "g5.12xlarge: has 4 GPU(s), the model needs 8 (tensor_parallel)" in text
    assert gpu_catalog.placement(dict(parameters_billion=1, precision="fp16", tensor_parallel=4, gpu_memory_utilization=0.9,
                                      kv_cache_min_gib=1), ["g4dn.12xlarge"])["eligible_instance_types"] == ["g4dn.12xlarge"]
    rejected = gpu_catalog.placement(dict(parameters_billion=1, precision="fp16", tensor_parallel=8, gpu_memory_utilization=0.9,
                                          kv_cache_min_gib=1), ["g5.48xlarge", "g5.12xlarge"])
    assert rejected["eligible_instance_types"] == ["g5.48xlarge"]


def test_all_problems_are_reported_at_once():
    given = with_model(0, engine="tgi")
    given["eks_llm_region"] = "nowhere-1"
    given["eks_llm_name"] = "BAD"
    config, problems, dummy_warnings = inventory_model.validate(given)
    assert config is None and len(problems) >= 3


ENV_LOOKUP_RE = re.compile(r"\{\{ lookup\('ansible.builtin.env', '([A-Z_]+)'\) \}\}")
LOCAL_ENV = {"EKS_LLM_LOCAL_LLM_URL": "http://127.0.0.1:40001", "EKS_LLM_LOCAL_LLM_METRICS_URL": "http://127.0.0.1:40002/metrics",
             "EKS_LLM_STANDIN_NODE_REGISTRATION_DELAY": "2s"}


def _with_inventory_dir(value, inventory_dir):
    """Render the one magic variable inventories use in nested values, as Ansible would."""
    if isinstance(value, dict):
        return dict((k, _with_inventory_dir(v, inventory_dir)) for k, v in value.items())
    if isinstance(value, list):
        return [_with_inventory_dir(v, inventory_dir) for v in value]
    if isinstance(value, str):
        value = value.replace("{{ inventory_dir }}", inventory_dir)
        # what `make local-up` writes to .cache/local/local.env
        return ENV_LOOKUP_RE.sub(lambda match: LOCAL_ENV.get(match.group(1), "/standin/" + match.group(1)), value)
    return value


def test_every_example_inventory_passes():
    folders = inventory_folders()
    assert len(folders) >= 5
    for path in folders:
        given = inventory_variables(path)
        given = dict((k, v) for k, v in given.items() if not (isinstance(v, str) and "{{" in v))
        given = _with_inventory_dir(given, os.path.dirname(os.path.dirname(path)))
        given.update(eks_llm_ngc_api_key="nvapi-test", eks_llm_hf_token="hf_test")
        config, problems, dummy_warnings = inventory_model.validate(given)
        assert problems == [], "%s: %s" % (path, problems)


def test_quota_requirements_and_shortfalls():
    config, dummy_problems, dummy_warnings = inventory_model.validate(variables())
    needs = gpu_catalog.quota_requirements(config["gpu_node_pools"], config["models"])
    codes = sorted(n["quota_code"] for n in needs)
    assert codes == ["L-3819A6DF", "L-DB2E81BA"]
    assert all(n["minimum_vcpus"] == 4 for n in needs)
    errors, dummy_warnings = gpu_catalog.quota_shortfalls(needs, {"L-3819A6DF": {"value": 0}, "L-DB2E81BA": {"value": 2}})
    assert any("g5 cannot launch a single node" in e for e in errors), errors
    errors, warnings = gpu_catalog.quota_shortfalls(needs, {"L-3819A6DF": {"value": 0}, "L-DB2E81BA": {"value": 8}})
    assert errors == [] and warnings
    # at maximum scale: two models x 4 replicas x 1 GPU on g5 (4 vCPUs per GPU at best) = 32 vCPUs
    scaled = variables()
    for model in scaled["eks_llm_models"]:
        model["autoscaling"] = {"enabled": True, "min_replicas": 1, "max_replicas": 4}
    config, dummy_problems, dummy_warnings = inventory_model.validate(scaled)
    needs = gpu_catalog.quota_requirements(config["gpu_node_pools"], config["models"])
    assert [n["max_scale_vcpus"] for n in needs] == [{"g5": 32}, {"g5": 32}]
    errors, dummy_warnings = gpu_catalog.quota_shortfalls(needs, {"L-3819A6DF": {"value": 16}, "L-DB2E81BA": {"value": 8}})
    assert len(errors) == 1 and "pool g5 need at least 32 vCPUs at their maximum scale" in errors[0], errors
    errors, dummy_warnings = gpu_catalog.quota_shortfalls(needs, {"L-3819A6DF": {"value": 16}, "L-DB2E81BA": {"value": 16}})
    assert errors == []


def test_docs_describe_every_variable_and_key():
    with open(os.path.join(REPO, "docs", "inventory.md")) as handle:
        text = handle.read()
    missing = []
    for variable, spec in inventory_model.SPEC.items():
        if "`%s`" % variable not in text:
            missing.append(variable)
        for key in (spec.get("options") or {}):
            if "`%s`" % key not in text:
                missing.append("%s.%s" % (variable, key))
    assert missing == []


def test_existing_vpc_normalises_to_the_same_shape_with_nothing_to_create():
    given = variables(eks_llm_network={"vpc_id": "vpc-0123456789abcdef0",
                                       "private_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]})
    config, problems, dummy_warnings = inventory_model.validate(given)
    assert problems == []
    fresh, dummy_problems, dummy_warnings = inventory_model.validate(variables())
    assert set(config["network"]) == set(fresh["network"])
    assert config["network"]["private_subnets"] == [] and config["network"]["public_subnets"] == []


def test_hugging_face_token_warning_only_for_gated_models():
    ungated = variables(eks_llm_hf_token="")
    dummy_config, problems, warnings = inventory_model.validate(ungated)
    assert problems == [] and not [w for w in warnings if "Hugging Face" in w]
    gated = variables(eks_llm_hf_token="")
    gated["eks_llm_models"][1]["vllm"] = {"model_id": "meta-llama/Llama-2-7b-chat-hf"}
    dummy_config, problems, warnings = inventory_model.validate(gated)
    assert problems == []
    assert [w for w in warnings if "opt-350m is gated on Hugging Face" in w and "HF_TOKEN" in w]


def test_vllm_engine_normalises_with_the_probe_api_its_metrics_path_and_a_token_warning_for_gated_models():
    given = with_model(1, engine="vllm", vllm={"model_id": "meta-llama/Llama-3.1-8B-Instruct"}, parameters_billion=8,
                       precision="bf16", tensor_parallel=1, served_model_name="meta-llama/Llama-3.1-8B-Instruct")
    given["eks_llm_hf_token"] = ""
    config, problems, warnings = inventory_model.validate(given)
    assert problems == []
    model = config["models"][1]
    assert model["engine"] == "vllm" and model["placement"]["eligible_instance_types"]
    assert "vllm" in config["engines"]
    endpoint = config["verify"]["endpoints"]["opt-350m"]
    assert endpoint == {"base_url": "http://opt-350m.llm.svc.cluster.local:8000", "metrics_url": "http://opt-350m.llm.svc.cluster.local:8000/metrics",
                        "api": "vllm", "namespace": "llm", "served_model_name": "meta-llama/Llama-3.1-8B-Instruct"}
    assert [w for w in warnings if "opt-350m is gated on Hugging Face" in w]
    # no AWS identity for the vLLM pods: only Triton's service accounts get a model-reader role
    assert config["service_accounts"]["triton"] == []


def test_vllm_endpoint_override_defaults_to_its_metrics_path():
    given = with_model(1, engine="vllm")
    given["eks_llm_verify"] = {"mode": "controller", "check_prometheus": False, "endpoint_overrides": {
        "opt-350m": {"base_url": "http://127.0.0.1:9000"}, "llama3-8b": {"base_url": "http://127.0.0.1:9001"}}}
    config, problems, dummy_warnings = inventory_model.validate(given)
    assert problems == []
    assert config["verify"]["endpoints"]["opt-350m"]["metrics_url"] == "http://127.0.0.1:9000/metrics"
    assert config["verify"]["endpoints"]["llama3-8b"]["metrics_url"] == "http://127.0.0.1:9001/v1/metrics"


def reserved_pool(**changes):
    pool = {"name": "g5", "instance_families": ["g5"], "capacity_types": ["reserved", "on-demand"],
            "capacity_reservations": [{"id": "cr-0a1b2c3d4e5f60718"}]}
    pool.update(changes)
    return variables(eks_llm_gpu_node_pools=[pool])


def test_reserved_pool_gets_its_own_node_class_with_karpenters_selector_terms():
    given = reserved_pool(capacity_reservations=[{"id": "cr-0a1b2c3d4e5f60718"},
                                                 {"tags": {"team": "ml", "purpose": "*"}, "owner_id": "123456789012"}])
    given["eks_llm_gpu_node_pools"].append({"name": "g6", "instance_families": ["g6"]})
    given["eks_llm_models"][0]["node_pool"] = given["eks_llm_models"][1]["node_pool"] = "g5"
    config, problems, warnings = inventory_model.validate(given)
    assert problems == [] and warnings == []
    reserved, plain = config["gpu_node_pools"]
    assert reserved["node_class"] == "gpu-al2023-g5" and plain["node_class"] == "gpu-al2023"
    assert reserved["capacity_reservation_selector_terms"] == [
        {"id": "cr-0a1b2c3d4e5f60718"}, {"tags": {"team": "ml", "purpose": "*"}, "ownerID": "123456789012"}]
    assert plain["capacity_reservation_selector_terms"] == []


@pytest.mark.parametrize("pool, expected", [
    ({"capacity_reservations": []}, "capacity type reserved needs the reservations the pool launches into"),
    ({"capacity_types": ["on-demand"]}, "given, but capacity_types ['on-demand'] has no reserved"),
    ({"capacity_types": ["reserved", "reserved"]}, "(each at most once"),
    ({"capacity_reservations": [{"id": "cr-0A1B"}]}, "capacity_reservations[0].id: 'cr-0A1B' is not a capacity reservation id"),
    ({"capacity_reservations": [{"id": "r-0a1b"}]}, "'r-0a1b' is not a capacity reservation id"),
    ({"capacity_reservations": [{"id": "cr-0a1b", "tags": {"team": "ml"}}]}, "capacity_reservations[0]: give either id, or tags"),
    ({"capacity_reservations": [{"id": "cr-0a1b", "owner_id": "123456789012"}]}, "cannot be combined with other keys"),
    ({"capacity_reservations": [{"owner_id": "123456789012"}]}, "owner_id alone selects nothing"),
    ({"capacity_reservations": [{"tags": {"team": "ml"}, "owner_id": "1234"}]}, "owner_id: '1234' is not an AWS account id"),
    ({"capacity_reservations": [{"tags": {"team": ""}}]}, "empty tag keys or values are not supported ('team')"),
    ({"capacity_reservations": [{"tags": dict(("k%d" % n, "v") for n in range(21))}]}, "21 tags given; at most 20 per term"),
    ({"capacity_reservations": [{"id": "cr-%d" % n} for n in range(31)]}, "31 terms given; Karpenter's EC2NodeClass allows at most 30"),
    ({"capacity_reservations": [{"id": "cr-0a1b"}, {"id": "cr-0a1b"}]}, "capacity_reservations[1].id: cr-0a1b is listed twice"),
    ({"capacity_reservations": ["cr-0a1b"]}, "expected one capacity reservation: a mapping with keys id, owner_id, tags"),
])
def test_reserved_capacity_mistakes_are_clear_problems(pool, expected):
    text = problems_of(reserved_pool(**pool))
    assert "eks_llm_gpu_node_pools[0] (g5)" in text and expected in text, text


def test_reserved_pool_without_interruption_queue_is_warned_about():
    given = reserved_pool()
    given["eks_llm_karpenter"] = {"interruption_queue": False}
    config, problems, warnings = inventory_model.validate(given)
    assert problems == [] and config is not None
    assert any("g5 use reserved capacity but eks_llm_karpenter.interruption_queue is false" in w for w in warnings), warnings


def test_a_reserved_pools_quotas_only_warn():
    config, dummy_problems, dummy_warnings = inventory_model.validate(reserved_pool())
    needs = gpu_catalog.quota_requirements(config["gpu_node_pools"], config["models"])
    # no quota code for reserved capacity: only the on-demand fallback's, and it can never fail the pool
    assert [(n["quota_code"], n["capacity_type"], n["minimum_vcpus"]) for n in needs] == [("L-DB2E81BA", "on-demand", 0)]
    errors, warnings = gpu_catalog.quota_shortfalls(needs, {"L-DB2E81BA": {"value": 0}})
    assert errors == [] and any("pools g5 may grow to" in w for w in warnings), warnings
    reserved_only = reserved_pool(capacity_types=["reserved"])
    config, dummy_problems, dummy_warnings = inventory_model.validate(reserved_only)
    assert gpu_catalog.quota_requirements(config["gpu_node_pools"], config["models"]) == []
