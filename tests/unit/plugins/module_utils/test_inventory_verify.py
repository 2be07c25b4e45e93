"""eks_llm_verify and served model names: where the probe runs and which endpoint of each model it talks to."""
import copy

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model

BASE = {
    "eks_llm_name": "demo",
    "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [{"name": "g5", "instance_families": ["g5"]}],
    "eks_llm_models": [
        {"name": "llama3-8b", "engine": "nim_chart", "parameters_billion": 8, "namespace": "nim",
         "nim": {"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "1.0.3"}},
        {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
         "vllm": {"model_id": "facebook/opt-350m"}},
    ],
    "eks_llm_ngc_api_key": "nvapi-test-key",
    "eks_llm_hf_token": "hf_test",
}
LOCAL_OVERRIDES = {
    "llama3-8b": {"base_url": "http://127.0.0.1:18000"},
    "opt-350m": {"base_url": "http://127.0.0.1:18001", "metrics_url": "http://127.0.0.1:18001/metrics"},
}


def given(verify=None, **changes):
    result = copy.deepcopy(BASE)
    if verify is not None:
        result["eks_llm_verify"] = verify
    result.update(changes)
    return result


def valid(variables):
    config, problems, dummy_warnings = inventory_model.validate(variables)
    assert problems == []
    return config


def problems_of(variables):
    config, problems, dummy_warnings = inventory_model.validate(variables)
    assert config is None
    return "\n".join(problems)


def test_defaults_probe_in_cluster_through_the_model_services():
    config = valid(given())
    verify = config["verify"]
    assert verify["enabled"] and verify["mode"] == "in_cluster"
    assert verify["check_workloads"] and verify["expect_metrics"] and verify["check_prometheus"] and verify["check_hpa"]
    assert verify["endpoints"] == {
        "llama3-8b": {"api": "openai", "namespace": "nim", "served_model_name": "meta/llama3-8b-instruct",
                      "base_url": "http://llama3-8b.nim.svc.cluster.local:8000",
                      "metrics_url": "http://llama3-8b.nim.svc.cluster.local:8000/v1/metrics"},
        "opt-350m": {"api": "triton", "namespace": "llm", "served_model_name": "opt-350m",
                     "base_url": "http://opt-350m.llm.svc.cluster.local:8000",
                     "metrics_url": "http://opt-350m.llm.svc.cluster.local:8002/metrics"},
    }
    assert verify["prometheus_url"] == "http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090"
    assert [m["served_model_name"] for m in config["models"]] == ["meta/llama3-8b-instruct", "opt-350m"]


def test_served_model_name_from_the_inventory_wins_and_mirrors_keep_the_org():
    variables = given()
    variables["eks_llm_models"][0]["served_model_name"] = "meta/llama-3-8b"
    variables["eks_llm_models"].append({
        "name": "mirror", "engine": "nim_operator", "parameters_billion": 8,
        "nim": {"image": "123456789012.dkr.ecr.us-west-2.amazonaws.com/nim/meta/llama-3.1-8b-instruct", "tag": "1.3.0"}})
    served = dict((m["name"], m["served_model_name"]) for m in valid(variables)["models"])
    assert served == {"llama3-8b": "meta/llama-3-8b", "opt-350m": "opt-350m", "mirror": "meta/llama-3.1-8b-instruct"}


def test_controller_mode_uses_the_overrides():
    verify = valid(given({"mode": "controller", "endpoint_overrides": LOCAL_OVERRIDES, "check_workloads": False,
                          "check_prometheus": False, "check_hpa": False}))["verify"]
    assert verify["endpoints"]["llama3-8b"]["base_url"] == "http://127.0.0.1:18000"
    assert verify["endpoints"]["llama3-8b"]["metrics_url"] == "http://127.0.0.1:18000/v1/metrics"
    assert verify["endpoints"]["opt-350m"]["metrics_url"] == "http://127.0.0.1:18001/metrics"
    assert verify["prometheus_url"] == ""


@pytest.mark.parametrize("verify, expected", [
    ({"mode": "controller", "check_prometheus": False},
     "eks_llm_verify.endpoint_overrides: mode controller probes from the controller, which cannot resolve cluster Service names:"
     " give base_url (and metrics_url) for llama3-8b, opt-350m"),
    ({"mode": "controller", "endpoint_overrides": LOCAL_OVERRIDES},
     "eks_llm_verify.prometheus_url: check_prometheus in mode controller needs a Prometheus URL"),
    ({"mode": "on_the_moon"}, "eks_llm_verify.mode: 'on_the_moon' is not allowed; allowed: 'in_cluster', 'controller'"),
    ({"endpoint_overrides": {"gpt-5": {"base_url": "http://x:1"}}}, "'gpt-5' is not a model of eks_llm_models"),
    ({"endpoint_overrides": {"opt-350m": {"url": "http://x:1"}}}, "expected {base_url: http://host:port"),
    ({"endpoint_overrides": {"opt-350m": {"base_url": "localhost:8000", "metrics_url": "http://x/metrics"}}},
     "eks_llm_verify.endpoint_overrides.opt-350m.base_url: 'localhost:8000' is not an http(s) URL"),
    ({"endpoint_overrides": {"opt-350m": {"base_url": "http://x:8000"}}}, "Triton serves metrics on its own port"),
    ({"concurrency": 0}, "eks_llm_verify.concurrency: 0 given; allowed 1-256"),
    ({"timeout_s": 0}, "eks_llm_verify.timeout_s: 0 given"),
    ({"max_tokens": 100000}, "eks_llm_verify.max_tokens: 100000 given"),
    ({"namespace": "Verify_Here"}, "'Verify_Here' is not a valid Kubernetes namespace name"),
    ({"prometheus_url": "prometheus:9090"}, "eks_llm_verify.prometheus_url: 'prometheus:9090' is not an http(s) URL"),
    ({"colour": "blue"}, "eks_llm_verify.colour: unknown key; known keys: check_hpa"),
])
def test_bad_verify_settings_are_problems(verify, expected):
    assert expected in problems_of(given(verify))


def test_disabled_verify_needs_no_endpoints():
    verify = valid(given({"enabled": False, "mode": "controller"}))["verify"]
    assert verify["enabled"] is False
