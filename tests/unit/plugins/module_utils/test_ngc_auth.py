"""NGC authentication: private NGC chart repositories are marked in versions.py, and every Job the collection renders
with an nvcr.io image names a pull secret that the inference plan creates in the Job's namespace."""
import copy
import re

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark_plan
from ansible_collections.eks_llm.inference.plugins.module_utils import inference
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import versions

# NGC's Helm repositories are https://helm.ngc.nvidia.com/<org>. The `nvidia` org is public (the GPU Operator and
# NIM Operator install docs use it without credentials); every other org, like `nim` (NIM for LLMs docs, "Deploy
# with Helm": helm fetch .../nim/charts/nim-llm-<v>.tgz --username='$oauthtoken' --password=$NGC_API_KEY), answers
# anonymous pulls with 401.
NGC_HELM = re.compile(r"^https://helm\.ngc\.nvidia\.com/(?P<org>[^/]+)")
NGC_PUBLIC_ORGS = ("nvidia",)


def ngc_private(repo_url):
    match = NGC_HELM.match(repo_url or "")
    return bool(match) and match.group("org") not in NGC_PUBLIC_ORGS


def test_every_ngc_private_chart_carries_the_auth_marker():
    private = sorted(name for name, spec in versions.CHARTS.items() if ngc_private(spec["repo_url"]))
    assert "nim-llm" in private  # the contract has something to check
    for name, spec in versions.CHARTS.items():
        assert spec.get("auth", "") == ("ngc" if name in private else ""), name


def test_the_auth_marker_survives_a_repository_override():
    problems = inventory_model.Problems()
    charts, dummy_images = versions.resolve({"nim-llm": {"repo_url": "https://mirror.example/nim"}}, {}, problems)
    assert problems.items == []
    assert charts["nim-llm"]["repo_url"] == "https://mirror.example/nim" and charts["nim-llm"]["auth"] == "ngc"


BASE = {
    "eks_llm_name": "demo",
    "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [{"name": "g5", "instance_families": ["g5"]}],
    "eks_llm_models": [
        {"name": "llama3-8b", "engine": "nim_chart", "parameters_billion": 8, "namespace": "nim",
         "nim": {"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "1.0.3"}},
        # a Triton-only namespace: no NIM secret is created there for the models themselves
        {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
         "namespace": "llm", "vllm": {"model_id": "facebook/opt-350m", "revision": "08a2b2e"}},
    ],
    "eks_llm_ngc_api_key": "nvapi-test-key",
    "eks_llm_hf_token": "hf_test",
}
TOKENIZERS = {"llama3-8b": "./tokenizers/llama3", "opt-350m": "./tokenizers/opt"}


def config_for(runner, **changes):
    variables = copy.deepcopy(BASE)
    variables["eks_llm_benchmark"] = {"enabled": True, "runner": runner, "mode": "in_cluster", "tokenizer": TOKENIZERS}
    variables.update(changes)
    return inventory_model.validate(variables)


def rendered_jobs(config):
    """The benchmark Jobs as roles/benchmark/tasks/job.yml renders them (same settings keys)."""
    bench = config["benchmark"]
    settings = {"image": benchmark_plan.job_image(config), "registry_secret": config["platform"]["secrets"]["ngc_registry"],
                "labels": config["platform"]["labels"], "run_id": "20260101T000000Z", "deadline_s": 3600, "cpu_pool": True,
                "pool_label": config["platform"]["pool_label"], "gpu_node_label": config["platform"]["gpu_node_label"],
                "resources": {"requests": {"cpu": "2"}}}
    return [benchmark_plan.job_manifest(run, settings) for run in benchmark_plan.plan_runs(bench, "/r", "20260101T000000Z")]


@pytest.mark.parametrize("runner", ["genai_perf", "aiperf"])
def test_every_nvcr_job_names_a_pull_secret_the_plan_creates_in_its_namespace(runner):
    config, problems, dummy_warnings = config_for(runner)
    assert problems == []
    created = set((s["namespace"], s["name"]) for s in inference.secret_plan(config)
                  if s["type"] == "kubernetes.io/dockerconfigjson")
    jobs = rendered_jobs(config)
    assert sorted(set(j["metadata"]["namespace"] for j in jobs)) == ["llm", "nim"]
    for job in jobs:
        pod = job["spec"]["template"]["spec"]
        images = [c["image"] for c in pod["containers"] + pod.get("initContainers", [])]
        if not any(i.startswith("nvcr.io/") for i in images):
            continue
        names = [s["name"] for s in pod.get("imagePullSecrets", [])]
        assert names, "%s pulls %s from nvcr.io without an image pull secret" % (job["metadata"]["name"], images)
        for name in names:
            assert (job["metadata"]["namespace"], name) in created, (job["metadata"]["namespace"], name, sorted(created))


def test_a_job_image_off_nvcr_needs_no_pull_secret():
    config, problems, dummy_warnings = config_for("aiperf", eks_llm_image_overrides={"aiperf": "registry.example/aiperf:0.13.0"})
    assert problems == []
    for job in rendered_jobs(config):
        assert "imagePullSecrets" not in job["spec"]["template"]["spec"]
    assert [s for s in inference.secret_plan(config) if s["namespace"] == "llm" and s["name"] == "ngc-registry"] == []


def test_an_nvcr_benchmark_image_without_an_ngc_key_fails_early_naming_it():
    triton_only = [m for m in BASE["eks_llm_models"] if m["engine"] == "triton_vllm"]
    variables = copy.deepcopy(BASE)
    variables.update(eks_llm_models=triton_only, eks_llm_ngc_api_key="",
                     eks_llm_benchmark={"enabled": True, "mode": "in_cluster", "tokenizer": {"opt-350m": "./tokenizers/opt"}})
    config, problems, dummy_warnings = inventory_model.validate(variables)
    assert config is None
    # the default runner, AIPerf, in its own image on nvcr.io; genai-perf in the Triton SDK image, also on nvcr.io
    assert any("NGC_API_KEY" in p and "nvcr.io/nvidia/aiperf:" in p for p in problems), problems
    variables["eks_llm_benchmark"]["runner"] = "genai_perf"
    problems = inventory_model.validate(variables)[1]
    assert any("NGC_API_KEY" in p and "nvcr.io/nvidia/tritonserver" in p for p in problems), problems
    # a benchmark that is off, or runs on the controller, pulls no image
    variables["eks_llm_benchmark"] = {"enabled": False}
    assert inventory_model.validate(variables)[1] == []
