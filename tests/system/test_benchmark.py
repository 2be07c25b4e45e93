"""playbooks/benchmark.yml: a real AIPerf sweep against the LLM stand-in, SLO gates, and the in-cluster Jobs on the local API server.

Controller mode runs AIPerf 0.13.0 from its own virtualenv (`make aiperf`: .cache/aiperf-venv) with a word-level tokenizer
made here, against a NIM endpoint (chat) and a Triton endpoint (generate_stream) of one stand-in process, and compares
the report with the stand-in's latency model. In-cluster mode is run against the local Kubernetes stand-in, where KWOK
completes the Jobs' pods without running them: the Jobs, their arguments and placement are checked there, and the play
must refuse to report runs that printed no export.
"""
import csv
import json
import os

import pytest

from tests.standin.llm_server import expected_steady_state, running_llm_server
from tests.system.conftest import installed_aiperf, kube_objects, kubectl, make_tokenizer, run_playbook, write_inventory

FAKE_NGC_KEY = "nvapi-" + "BENCHTEST-" + "0123456789" * 3
ENDPOINTS = [
    {"name": "nim", "flavor": "nim", "models": ["meta/llama-3.1-8b-instruct"], "ttft_ms": 30, "itl_ms": 6,
     "ttft_growth": 0.05, "itl_growth": 0.02, "max_batch": 64},
    {"name": "triton", "flavor": "triton", "models": ["opt-350m"], "ttft_ms": 40, "itl_ms": 8,
     "ttft_growth": 0.05, "itl_growth": 0.02, "max_batch": 64},
]
MODELS = [
    {"name": "llama31-8b", "engine": "nim_operator", "parameters_billion": 8, "namespace": "nim",
     "nim": {"image": "nvcr.io/nim/meta/llama-3.1-8b-instruct", "tag": "1.3.3"}},
    {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
     "vllm": {"model_id": "facebook/opt-350m", "revision": "08a2b2e"}},
]
ENDPOINT_OF = {"llama31-8b": "nim", "opt-350m": "triton"}
INPUT_TOKENS, OUTPUT_TOKENS, REQUESTS = 32, 16, 60


@pytest.fixture(scope="module")
def aiperf():
    return installed_aiperf()


@pytest.fixture(scope="module")
def tokenizer(aiperf, tmp_path_factory):  # pylint: disable=unused-argument
    return make_tokenizer(str(tmp_path_factory.mktemp("tokenizer")))


@pytest.fixture(scope="module")
def llm():
    with running_llm_server(ENDPOINTS, process=True) as server:
        yield server


def controller_inventory(tmp_path, llm, aiperf, tokenizer_dir, **changes):
    bench = {
        "enabled": True, "runner": "aiperf", "mode": "controller", "aiperf_bin": aiperf,
        "tokenizer": dict((model, tokenizer_dir) for model in ENDPOINT_OF),
        "endpoint_overrides": dict((model, {"base_url": llm.url(name)}) for model, name in ENDPOINT_OF.items()),
        "profiles": [{"name": "isl32-osl16", "input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS,
                      "concurrencies": [1, 4], "request_count": REQUESTS, "warmup_requests": 4}],
        "results_dir": str(tmp_path / "reports"),
    }
    bench.update(changes)
    return write_inventory(tmp_path, changes={"eks_llm_models": MODELS, "eks_llm_benchmark": bench})


def benchmark(inventory, extra=()):
    result = run_playbook("playbooks/benchmark.yml", inventory, args=list(extra), env={"NGC_API_KEY": FAKE_NGC_KEY}, timeout=900)
    assert FAKE_NGC_KEY not in result.output
    runs = os.path.join(os.path.dirname(inventory), "reports", "benchmark")  # results_dir of controller_inventory
    found = [os.path.join(runs, d) for d in sorted(os.listdir(runs))] if os.path.isdir(runs) else []
    return result, found


def within(measured, expected, low, high):
    return expected * low <= measured <= expected * high


def test_aiperf_sweep_matches_the_standin_and_passes_loose_slos(tmp_path, llm, aiperf, tokenizer):
    llm.reset_all(settings=True)
    inventory = controller_inventory(tmp_path, llm, aiperf, tokenizer, goodput={"time_to_first_token": 1000}, slos=[
        {"metric": "inter_token_latency_ms", "stat": "p99", "max": 100},
        {"metric": "output_token_throughput_per_s", "min": 20, "concurrency": 4},
        {"metric": "request_goodput_per_s", "min": 1, "model": "opt-350m"},
    ])
    result, runs = benchmark(inventory)
    assert result.returncode == 0, result
    assert len(runs) == 1 and os.path.basename(runs[0]).startswith("llm-local-")
    run_dir = runs[0]
    report = json.loads(open(os.path.join(run_dir, "report.json"), encoding="utf-8").read())
    results = dict(((r["model"], r["concurrency"]), r) for r in report["results"])
    assert sorted(results) == [("llama31-8b", 1), ("llama31-8b", 4), ("opt-350m", 1), ("opt-350m", 4)]
    for (model, concurrency), row in sorted(results.items()):
        metrics = row["metrics"]
        expected = expected_steady_state(llm.settings(ENDPOINT_OF[model]), concurrency, OUTPUT_TOKENS)
        where = "%s c%d: %s vs %s" % (model, concurrency, json.dumps(metrics, sort_keys=True), expected)
        assert metrics["runner"] == "aiperf" and metrics["streaming"] is True and metrics["concurrency"] == concurrency, where
        assert metrics["request_count"] == REQUESTS and metrics["error_count"] == 0, where
        assert metrics["endpoint_type"] == ("chat" if model == "llama31-8b" else "template"), where
        assert round(metrics["output_sequence_length_avg"]) == OUTPUT_TOKENS, where
        # the inter-token latency is what the stand-in's model sets exactly; TTFT and latency carry client overhead
        assert within(metrics["inter_token_latency_ms"]["avg"], expected["itl_ms"], 0.9, 1.12), where
        assert within(metrics["time_to_first_token_ms"]["p50"], expected["ttft_ms"], 0.9, 1.5), where
        assert within(metrics["request_latency_ms"]["avg"], expected["request_latency_ms"], 0.9, 1.25), where
        assert within(metrics["output_token_throughput_per_s"], expected["output_token_throughput"], 0.6, 1.1), where
        assert metrics["goodput_source"] == "computed" and metrics["request_goodput_per_s"] > 0, where
    # batching: four requests in flight raise the ITL as the model says, and the throughput with them
    for model in ENDPOINT_OF:
        assert results[(model, 4)]["metrics"]["output_token_throughput_per_s"] > 2.5 * results[(model, 1)]["metrics"]["output_token_throughput_per_s"]
    # three gates: ITL on 4 results, throughput on the 2 at concurrency 4, goodput on opt-350m's 2
    assert report["slo_failures"] == 0 and len(report["slo_results"]) == 8 and all(e["passed"] for e in report["slo_results"])
    markdown = open(os.path.join(run_dir, "report.md"), encoding="utf-8").read()
    assert "### llama31-8b / nim_operator / isl32-osl16" in markdown and "### opt-350m / triton_vllm / isl32-osl16" in markdown
    assert "FAIL" not in markdown and "PASS" in markdown
    with open(os.path.join(run_dir, "results.csv"), encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    for name in ("throughput_vs_concurrency.png", "ttft_vs_concurrency.png", "itl_vs_concurrency.png", "throughput_vs_latency.png"):
        with open(os.path.join(run_dir, name), "rb") as handle:
            png = handle.read()
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000, name
    # each run's raw AIPerf artifacts stay beside the report
    assert os.path.isfile(os.path.join(run_dir, "runs", "opt-350m", "isl32-osl16", "c4", "profile_export_aiperf.json"))
    assert "report: %s/report.md" % run_dir in result.output


def test_an_slo_the_standin_cannot_meet_fails_the_play_with_the_table(tmp_path, llm, aiperf, tokenizer):
    llm.reset_all(settings=True)
    inventory = controller_inventory(tmp_path, llm, aiperf, tokenizer, models=["opt-350m"], profiles=[
        {"name": "tight", "input_tokens": INPUT_TOKENS, "output_tokens": OUTPUT_TOKENS, "concurrencies": [2], "request_count": 30,
         "warmup_requests": 0}], slos=[
        {"metric": "time_to_first_token_ms", "stat": "p99", "max": 5},
        {"metric": "inter_token_latency_ms", "stat": "p50", "max": 50}])
    result, runs = benchmark(inventory)
    assert result.returncode != 0 and result.failed == 1, result
    assert "1 of 2 SLO checks failed" in result.output, result
    assert "| 1 | time_to_first_token_ms p99 | opt-350m | triton_vllm | tight | 2 | <= 5.00 |" in result.output, result
    # the report is written before the gate fails, and says which gate missed
    markdown = open(os.path.join(runs[-1], "report.md"), encoding="utf-8").read()
    assert "FAIL" in markdown and "PASS" in markdown


def test_a_missing_tokenizer_or_aiperf_fails_before_any_run(tmp_path, llm, aiperf, tokenizer):
    inventory = controller_inventory(tmp_path, llm, aiperf, tokenizer, aiperf_bin=str(tmp_path / "no-aiperf"))
    result, dummy_runs = benchmark(inventory)
    assert result.returncode != 0 and "is not an executable" in result.output, result
    (tmp_path / "t").mkdir()
    inventory = controller_inventory(tmp_path / "t", llm, aiperf, tokenizer, tokenizer={"llama31-8b": tokenizer, "opt-350m": str(tmp_path)})
    result, dummy_runs = benchmark(inventory)
    assert result.returncode != 0 and "eks_llm_benchmark.tokenizer: no tokenizer.json in opt-350m: %s" % tmp_path in result.output, result
    assert "TASK [eks_llm.inference.benchmark : Run each level of the sweep" not in result.output


# ---- in-cluster Jobs on the local API server ----------------------------------------------------------------
NODES = """
apiVersion: v1
kind: Node
metadata:
  name: bench-cpu-0
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {eks-llm/node-pool: cpu, kubernetes.io/os: linux, kubernetes.io/arch: amd64, kubernetes.io/hostname: bench-cpu-0}
status:
  allocatable: {cpu: "8", memory: 32Gi, pods: "110"}
  capacity: {cpu: "8", memory: 32Gi, pods: "110"}
---
apiVersion: v1
kind: Node
metadata:
  name: bench-gpu-0
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {eks-llm/node-pool: cpu, eks-llm/gpu: "true", kubernetes.io/os: linux, kubernetes.io/arch: amd64}
spec:
  taints: [{key: nvidia.com/gpu, value: "true", effect: NoSchedule}]
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "110", nvidia.com/gpu: "4"}
  capacity: {cpu: "64", memory: 256Gi, pods: "110", nvidia.com/gpu: "4"}
---
apiVersion: v1
kind: Namespace
metadata: {name: nim}
---
apiVersion: v1
kind: Namespace
metadata: {name: llm}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: bench-opt-350m-cache}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteMany]
  storageClassName: ""
  hostPath: {path: /tmp/bench-opt-350m-cache}
  claimRef: {namespace: llm, name: opt-350m-cache}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: opt-350m-cache, namespace: llm}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  volumeName: bench-opt-350m-cache
  resources: {requests: {storage: 1Gi}}
"""


@pytest.fixture
def cluster(platform_standin):
    kubectl(platform_standin, "apply", "-f", "-", stdin=NODES)
    yield platform_standin
    # waited for: the next test of this fixture creates its Jobs in namespaces of the same names
    kubectl(platform_standin, "delete", "namespace", "nim", "llm", "--timeout=100s", check=False)
    kubectl(platform_standin, "delete", "pv", "bench-opt-350m-cache", "--wait=false", check=False)
    kubectl(platform_standin, "delete", "node", "bench-cpu-0", "bench-gpu-0", "--wait=false", check=False)


def test_in_cluster_jobs_are_accepted_run_off_the_gpu_nodes_and_complete(tmp_path, cluster):
    inventory = write_inventory(tmp_path, changes={"eks_llm_models": MODELS, "eks_llm_benchmark": {
        "enabled": True, "mode": "in_cluster", "runner": "genai_perf",
        "tokenizer": {"llama31-8b": "/opt/tokenizers/llama-3.1-8b-instruct"},
        "profiles": [{"name": "isl128-osl128", "concurrencies": [8, 16], "request_count": 200}],
        "run_timeout_s": 120, "results_dir": str(tmp_path / "reports")}})
    state = json.dumps({"cluster_access_state": {"kubeconfig": cluster["kubeconfig"]}})
    result, dummy_runs = benchmark(inventory, extra=["-e", state])
    # KWOK completes the pods without running genai-perf: every Job completes, none prints an export, and the
    # play refuses to report them - naming each one
    assert result.returncode != 0, result
    assert "4 of 4 benchmark Job(s) gave no result" in result.output, result
    jobs = kube_objects(cluster, "jobs", "-A", "-l", "app.kubernetes.io/component=benchmark")
    assert len(jobs) == 4
    by_run = dict((job["metadata"]["name"].rsplit("-", 1)[1], job) for job in jobs)
    pods = dict((pod["metadata"]["labels"]["job-name"], pod) for pod in kube_objects(cluster, "pods", "-A", "-l", "app.kubernetes.io/component=benchmark"))
    for index, (model, concurrency) in enumerate([("llama31-8b", 8), ("llama31-8b", 16), ("opt-350m", 8), ("opt-350m", 16)]):
        job = by_run[str(index)]
        name = job["metadata"]["name"]
        assert "%s/%s (model %s, profile isl128-osl128, concurrency %d): Complete" % (job["metadata"]["namespace"], name, model, concurrency) in result.output
        assert job["metadata"]["namespace"] == ("nim" if model == "llama31-8b" else "llm")
        assert any(c["type"] == "Complete" and c["status"] == "True" for c in job["status"]["conditions"]), job["status"]
        spec = job["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert container["image"] == "nvcr.io/nvidia/tritonserver:25.10-py3-sdk"
        argv = container["command"][4:]
        assert argv[:4] == ["genai-perf", "profile", "-m", "meta/llama-3.1-8b-instruct" if model == "llama31-8b" else "opt-350m"]
        flags = dict(zip(argv[4::1], argv[5::1]))
        assert flags["--concurrency"] == str(concurrency) and flags["--request-count"] == "200" and "--streaming" in argv
        assert flags["--endpoint-type"] == ("chat" if model == "llama31-8b" else "generate")
        assert flags["-u"] == ("llama31-8b.nim.svc.cluster.local:8000" if model == "llama31-8b" else "opt-350m.llm.svc.cluster.local:8000")
        if model == "opt-350m":
            assert flags["--tokenizer"] == "facebook/opt-350m" and flags["--tokenizer-revision"] == "08a2b2e"
            assert {"name": "HF_HOME", "value": "/model-cache/huggingface"} in container["env"]
            assert spec["volumes"][1]["persistentVolumeClaim"]["claimName"] == "opt-350m-cache"
        else:
            assert flags["--tokenizer"] == "/opt/tokenizers/llama-3.1-8b-instruct" and len(spec["volumes"]) == 1
        assert {"name": "HF_HUB_OFFLINE", "value": "1"} in container["env"]
        assert spec["nodeSelector"] == {"eks-llm/node-pool": "cpu"} and not spec.get("tolerations")
        # placed on the CPU node, never on the (tainted, labelled) GPU node that also carries the cpu pool label
        assert pods[name]["spec"]["nodeName"] == "bench-cpu-0"


def test_in_cluster_aiperf_the_default_runner_runs_in_its_own_image_off_the_gpu_nodes(tmp_path, cluster):
    """No runner in the inventory: AIPerf, in AIPerf's own pinned image, one Job per run, placed like genai-perf's."""
    from ansible_collections.eks_llm.inference.plugins.module_utils import versions  # pylint: disable=import-outside-toplevel

    inventory = write_inventory(tmp_path, changes={"eks_llm_models": MODELS, "eks_llm_benchmark": {
        "enabled": True, "mode": "in_cluster", "models": ["opt-350m"],
        "profiles": [{"name": "isl128-osl128", "concurrencies": [8], "request_count": 200}],
        "run_timeout_s": 120, "results_dir": str(tmp_path / "reports")}})
    state = json.dumps({"cluster_access_state": {"kubeconfig": cluster["kubeconfig"]}})
    result, dummy_runs = benchmark(inventory, extra=["-e", state])
    # KWOK completes the pod without running AIPerf: the Job completes and the play says it gave no result
    assert result.returncode != 0 and "1 of 1 benchmark Job(s) gave no result" in result.output, result
    (job,) = kube_objects(cluster, "jobs", "-A", "-l", "app.kubernetes.io/component=benchmark")
    assert job["metadata"]["namespace"] == "llm"
    assert any(c["type"] == "Complete" and c["status"] == "True" for c in job["status"]["conditions"]), job["status"]
    spec = job["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert container["image"] == versions.IMAGES["aiperf"] == "nvcr.io/nvidia/aiperf:0.13.0"
    argv = container["command"][4:]
    assert argv[:6] == ["aiperf", "profile", "-m", "opt-350m", "--url", "http://opt-350m.llm.svc.cluster.local:8000"], argv
    flags = dict(zip(argv[4::1], argv[5::1]))
    # Triton's streaming route through AIPerf's template endpoint (it has no Triton client)
    assert flags["--endpoint-type"] == "template" and flags["--concurrency"] == "8" and flags["--ui"] == "none"
    assert flags["--tokenizer"] == "facebook/opt-350m" and flags["--tokenizer-revision"] == "08a2b2e"
    assert {"name": "HF_HOME", "value": "/model-cache/huggingface"} in container["env"]
    assert spec["nodeSelector"] == {"eks-llm/node-pool": "cpu"} and not spec.get("tolerations")
    (pod,) = kube_objects(cluster, "pods", "-A", "-l", "app.kubernetes.io/component=benchmark")
    assert pod["spec"]["nodeName"] == "bench-cpu-0"
