"""playbooks/verify.yml against the LLM stand-in: passes in every API flavour, and each fault fails it saying what is wrong.

One stand-in process serves three endpoints - NIM (NIM 1.x metric names), vLLM's OpenAI server (its routes and
vllm:-prefixed V1 names) and Triton + vLLM - and the inventory points a model of engine nim_chart, vllm and triton_vllm
at them through
eks_llm_verify.endpoint_overrides (mode controller, Kubernetes-side checks switched off explicitly).
"""
import json
import os

import pytest

from tests.standin.llm_server import running_llm_server
from tests.system.conftest import run_playbook, write_inventory

FAKE_NGC_KEY = "nvapi-" + "SYSTEMTEST-" + "0123456789" * 3
ENDPOINTS = [
    {"name": "nim", "flavor": "nim", "models": ["meta/llama3-8b-instruct"], "ttft_ms": 5, "itl_ms": 1},
    {"name": "vllm", "flavor": "vllm", "models": ["meta/llama-3.1-8b-instruct"], "ttft_ms": 5, "itl_ms": 1},
    {"name": "triton", "flavor": "triton", "models": ["opt-350m"], "ttft_ms": 5, "itl_ms": 1},
]
MODELS = [
    {"name": "llama3-8b", "engine": "nim_chart", "parameters_billion": 8,
     "nim": {"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "1.0.3"}},
    {"name": "llama31-8b", "engine": "vllm", "parameters_billion": 8, "served_model_name": "meta/llama-3.1-8b-instruct",
     "vllm": {"model_id": "meta-llama/Llama-3.1-8B-Instruct"}},
    {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
     "vllm": {"model_id": "facebook/opt-350m"}, "autoscaling": {"enabled": True}},
]
MODEL_OF = {"nim": "llama3-8b", "vllm": "llama31-8b", "triton": "opt-350m"}
OPENAI_CHECKS = ["health_live", "health_ready", "model_list", "completion", "chat_completion", "chat_stream", "prompt_set", "metrics"]
VLLM_CHECKS = [check for check in OPENAI_CHECKS if check != "health_live"]  # vLLM has one health route: /health
TRITON_CHECKS = ["health_live", "health_ready", "model_ready", "model_list", "generate", "generate_stream", "prompt_set", "metrics"]


@pytest.fixture(scope="module")
def llm():
    with running_llm_server(ENDPOINTS, process=True) as server:
        yield server


@pytest.fixture
def inventory(llm, tmp_path):
    llm.reset_all(settings=True)
    overrides = dict((MODEL_OF[name], {"base_url": llm.url(name), "metrics_url": llm.url(name, "metrics_url")}) for name in MODEL_OF)
    path = write_inventory(tmp_path, changes={
        "eks_llm_models": MODELS,
        "eks_llm_verify": {"mode": "controller", "check_workloads": False, "check_prometheus": False, "check_hpa": False, "check_interruption": False,
                           "check_storage": False, "check_identity": False, "check_logs": False,
                           "endpoint_overrides": overrides, "timeout_s": 2, "concurrency": 10, "max_tokens": 8,
                           "results_dir": str(tmp_path / "reports")},
    })
    return path


def verify(inventory):
    # custom stats (set_stats: what AWX shows and a workflow hands on), printed as one JSON line
    env = {"NGC_API_KEY": FAKE_NGC_KEY, "ANSIBLE_SHOW_CUSTOM_STATS": "true", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}
    result = run_playbook("playbooks/verify.yml", inventory, env=env, timeout=600)
    runs = os.path.join(os.path.dirname(inventory), "reports", "verify")
    found = [os.path.join(runs, d) for d in sorted(os.listdir(runs))] if os.path.isdir(runs) else []
    return result, found


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def test_every_flavour_passes_and_leaves_a_report(inventory):
    result, runs = verify(inventory)
    assert result.returncode == 0, result
    assert result.failed == 0
    assert len(runs) == 1 and os.path.basename(runs[0]).startswith("llm-local-")
    report = json.loads(read(os.path.join(runs[0], "verify-report.json")))
    assert report["ok"] is True and report["mode"] == "controller"
    done = dict(((c["model"], c["check"]), c) for c in report["checks"])
    for model, checks in (("llama3-8b", OPENAI_CHECKS), ("llama31-8b", VLLM_CHECKS), ("opt-350m", TRITON_CHECKS)):
        for check in checks:
            assert done[(model, check)]["ok"] is True, done[(model, check)]
    # served names from the inventory; vLLM's health route and vllm: metrics
    assert "['meta/llama-3.1-8b-instruct']" in done[("llama31-8b", "model_list")]["got"]
    assert "vllm:kv_cache_usage_perc" in done[("llama31-8b", "metrics")]["got"]
    assert done[("llama31-8b", "health_ready")]["expected"].endswith("/health") and ("llama31-8b", "health_live") not in done
    # switched-off checks are listed, not hidden
    skipped = sorted(set(c["check"] for c in report["checks"] if c["ok"] is None))
    assert skipped == ["hpa_metric", "interruption_delivery", "log_delivery", "pods", "prometheus_target", "rollout_or_ready", "service",
                       "storage", "time_to_serving", "workload_identity"]
    assert all(c["got"].startswith("switched off by eks_llm_verify.") for c in report["checks"] if c["ok"] is None)
    markdown = read(os.path.join(runs[0], "verify-report.md"))
    assert "- verdict: **PASS**" in markdown and "## Prompts: opt-350m" in markdown
    for model in MODEL_OF.values():
        answers = read(os.path.join(runs[0], "answers-%s.txt" % model))
        assert answers.count("\n=========\n") == 20 and "FAILED" not in answers
        assert report["prompts"][model]["verdict"].startswith("PASS: %s answered 20/20 prompts at concurrency 10" % model)
        assert "PASS: %s answered 20/20 prompts" % model in result.output
    stats = json.loads(result.output.split("CUSTOM STATS:", 1)[1].split("RUN:", 1)[1].split("\n", 1)[0])
    assert stats["eks_llm_verify"]["ok"] is True and stats["eks_llm_verify"]["failed"] == 0
    assert stats["eks_llm_verify"]["report"] == os.path.join(runs[0], "verify-report.md")


# (fault, {model: [(check, text the failure must contain)]}) - every flavour carries the fault in the same run
FAULTS = [
    ("not_ready", {"llama3-8b": [("health_ready", "got HTTP 503 from GET")],
                   "llama31-8b": [("health_ready", "got HTTP 503 from GET")],
                   "opt-350m": [("health_ready", "got HTTP 503 from GET"), ("model_ready", "got HTTP 503"),
                                ("model_list", "got an empty model list")]}),
    ("wrong_models", {"llama3-8b": [("model_list", "expected exactly ['meta/llama3-8b-instruct'] from GET /v1/models;"
                                                   " got ['meta/llama3-8b-instruct-wrong'] (missing: ['meta/llama3-8b-instruct'];"
                                                   " unexpected: ['meta/llama3-8b-instruct-wrong'])")],
                      "llama31-8b": [("model_list", "got ['meta/llama-3.1-8b-instruct-wrong']")],
                      "opt-350m": [("model_list", "got ['opt-350m-wrong'] (missing: ['opt-350m']"),
                                   ("model_ready", "got HTTP 404")]}),
    ("server_error", {"llama3-8b": [("completion", "got HTTP 500 from POST"), ("prompt_set", "got 0/20 answered; request 0: HTTP 500")],
                      "llama31-8b": [("chat_completion", "got HTTP 500 from POST")],
                      "opt-350m": [("generate", "got HTTP 500 from POST"), ("prompt_set", "got 0/20 answered")]}),
    ("stalled_stream", {"llama3-8b": [("chat_stream", "got stream stalled: nothing for 2.0s after")],
                        "llama31-8b": [("chat_stream", "got stream stalled")],
                        "opt-350m": [("generate_stream", "got stream stalled: nothing for 2.0s after")]}),
    ("missing_metrics", {"llama3-8b": [("metrics", "got missing series num_requests_running, num_requests_waiting")],
                         "llama31-8b": [("metrics", "got missing series num_requests_running")],
                         "opt-350m": [("metrics", "got missing series nv_inference_request_success")]}),
    ("empty_output", {"llama3-8b": [("completion", "got choices[0].text is empty"), ("chat_stream", "got the streamed content is empty")],
                      "llama31-8b": [("chat_completion", "got choices[0].message.content is empty")],
                      "opt-350m": [("generate", "got text_output is empty"), ("prompt_set", "got 0/20 answered")]}),
]


@pytest.mark.parametrize("fault, expected", FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_fails_the_play_naming_model_check_and_what_came_back(llm, inventory, fault, expected):
    for name in MODEL_OF:
        llm.configure(name, faults=[fault])
    result, runs = verify(inventory)
    assert result.returncode != 0, result
    assert result.failed == 1, result  # one failure at the end, after every check of every model ran
    assert "Verify failed" in result.output
    report = json.loads(read(os.path.join(runs[-1], "verify-report.json")))
    assert report["ok"] is False
    failures = dict(((c["model"], c["check"]), c) for c in report["checks"] if c["ok"] is False)
    for model, checks in expected.items():
        for check, text in checks:
            line = "%s: %s: expected %s; got %s" % (model, check, failures[(model, check)]["expected"], failures[(model, check)]["got"])
            assert text in line, line
            assert line in result.output, line
    # checks the fault does not touch still pass: health_live answers in every fault mode
    passed = set((c["model"], c["check"]) for c in report["checks"] if c["ok"] is True)
    assert set((model, "health_live") for model in MODEL_OF.values() if model != "llama31-8b") <= passed
    assert "- verdict: **FAIL**" in read(os.path.join(runs[-1], "verify-report.md"))
