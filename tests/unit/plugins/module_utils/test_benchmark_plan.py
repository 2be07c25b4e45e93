"""eks_llm_benchmark: validation, the planned runs (exact genai-perf / AIPerf command lines), the in-cluster Job."""
import copy
import json

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark_plan
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model

BASE = {
    "eks_llm_name": "demo",
    "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [{"name": "g5", "instance_families": ["g5"]}],
    "eks_llm_models": [
        {"name": "llama3-8b", "engine": "nim_chart", "parameters_billion": 8, "namespace": "nim",
         "nim": {"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "1.0.3"}},
        {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16",
         "vllm": {"model_id": "facebook/opt-350m", "revision": "08a2b2e"}},
    ],
    "eks_llm_ngc_api_key": "nvapi-test-key",
    "eks_llm_hf_token": "hf_test",
}
NIM_TOKENIZER = {"llama3-8b": "./tokenizers/llama3"}
SETTINGS = {"image": "nvcr.io/nvidia/tritonserver:25.10-py3-sdk", "registry_secret": "ngc-registry", "labels": {"app.kubernetes.io/part-of": "demo"},
            "run_id": "20260101T000000Z", "deadline_s": 3600, "cpu_pool": True, "pool_label": "eks-llm/node-pool",
            "gpu_node_label": "eks-llm/gpu", "resources": {"requests": {"cpu": "2"}}}


def validate(bench):
    variables = copy.deepcopy(BASE)
    variables["eks_llm_benchmark"] = bench
    return inventory_model.validate(variables)


def valid(bench):
    config, problems, dummy_warnings = validate(bench)
    assert problems == []
    return config["benchmark"]


def problems_of(bench):
    config, problems, dummy_warnings = validate(bench)
    assert config is None
    return "\n".join(problems)


def option(argv, flag):
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


def test_off_by_default_with_seed_003_sweep():
    bench = valid({})
    # AIPerf (genai-perf's successor) in the cluster unless the inventory asks for genai-perf
    assert bench["enabled"] is False and bench["runner"] == "aiperf" and bench["mode"] == "in_cluster"
    assert [(p["name"], p["input_tokens"], p["output_tokens"], p["concurrencies"]) for p in bench["profiles"]] == [
        ("isl128-osl128", 128, 128, [8, 16, 32, 64, 128])]
    # what only a running benchmark needs is required once it is switched on
    assert "eks_llm_benchmark.tokenizer.llama3-8b: required: nothing is downloaded at run time" in problems_of({"enabled": True})


def test_in_cluster_genai_perf_runs_per_model_profile_and_concurrency():
    bench = valid({"enabled": True, "runner": "genai_perf", "tokenizer": NIM_TOKENIZER, "goodput": {"time_to_first_token": 500}})
    runs = benchmark_plan.plan_runs(bench, "/r/runs", "20260101T000000Z")
    assert [(r["model"], r["concurrency"], r["request_count"]) for r in runs] == [
        ("llama3-8b", 8, 100), ("llama3-8b", 16, 160), ("llama3-8b", 32, 320), ("llama3-8b", 64, 640), ("llama3-8b", 128, 1280),
        ("opt-350m", 8, 100), ("opt-350m", 16, 160), ("opt-350m", 32, 320), ("opt-350m", 64, 640), ("opt-350m", 128, 1280)]
    nim, triton = runs[0], runs[5]
    assert nim["argv"][:8] == ["genai-perf", "profile", "-m", "meta/llama3-8b-instruct", "-u", "llama3-8b.nim.svc.cluster.local:8000",
                               "--endpoint-type", "chat"]
    assert "--streaming" in nim["argv"] and option(nim["argv"], "--concurrency") == ["8"]
    assert option(nim["argv"], "--synthetic-input-tokens-mean") == ["128"] and option(nim["argv"], "--synthetic-input-tokens-stddev") == ["0"]
    assert option(nim["argv"], "--extra-inputs") == ["max_tokens:128", "min_tokens:128", "ignore_eos:true"]
    assert option(nim["argv"], "--warmup-request-count") == ["10"] and option(nim["argv"], "--artifact-dir") == ["/results/out"]
    assert option(nim["argv"], "--goodput") == ["time_to_first_token:500"]
    # NIM: a relative tokenizer is read from the model's cache claim
    assert option(nim["argv"], "--tokenizer") == ["/model-cache/tokenizers/llama3"] and nim["model_cache_claim"] == "llama3-8b-model-store"
    assert nim["env"]["HF_HUB_OFFLINE"] == "1"
    # Triton: HTTP generate by default; the tokenizer from the HF cache the server filled, at the model's revision
    assert option(triton["argv"], "-u") == ["opt-350m.llm.svc.cluster.local:8000"] and option(triton["argv"], "--endpoint-type") == ["generate"]
    # genai-perf 0.0.16 stays on the non-streaming generate route unless told: TTFT needs generate_stream
    assert option(triton["argv"], "--endpoint") == ["v2/models/opt-350m/generate_stream"] and "--streaming" in triton["argv"]
    assert option(triton["argv"], "--tokenizer") == ["facebook/opt-350m"] and option(triton["argv"], "--tokenizer-revision") == ["08a2b2e"]
    assert triton["model_cache_claim"] == "opt-350m-cache" and triton["env"]["HF_HOME"] == "/model-cache/huggingface"
    assert triton["export_file"] == "/r/runs/opt-350m/isl128-osl128/c8/profile_export_genai_perf.json"
    assert len(set(r["job_name"] for r in runs)) == len(runs) and all(len(r["job_name"]) <= 63 for r in runs)


def test_a_model_streamed_from_s3_needs_its_tokenizer_named_in_the_cluster():
    variables = copy.deepcopy(BASE)
    variables["eks_llm_models"][1]["vllm"] = {"model_id": "s3://demo-models-123456789012-us-west-2/models/opt-350m"}
    variables["eks_llm_benchmark"] = {"enabled": True, "tokenizer": NIM_TOKENIZER}
    dummy_config, problems, dummy_warnings = inventory_model.validate(variables)
    assert problems == ["eks_llm_benchmark.tokenizer.opt-350m: required: the model streams its weights from"
                        " s3://demo-models-123456789012-us-west-2/models/opt-350m and leaves no tokenizer in its cache claim, so give the"
                        " directory of the tokenizer (inside the image, or relative to the root of the claim opt-350m-cache)"]
    variables["eks_llm_benchmark"]["tokenizer"] = dict(NIM_TOKENIZER, **{"opt-350m": "./tokenizers/opt-350m"})
    config, problems, dummy_warnings = inventory_model.validate(variables)
    assert problems == []
    run = benchmark_plan.plan_runs(config["benchmark"], "/r", "X")[-1]
    assert option(run["argv"], "--tokenizer") == ["/model-cache/tokenizers/opt-350m"] and run["model_cache_claim"] == "opt-350m-cache"


def test_kserve_uses_triton_grpc_with_the_vllm_backend():
    bench = valid({"enabled": True, "runner": "genai_perf", "models": ["opt-350m"], "profiles": [
        {"name": "grpc", "concurrencies": [4], "endpoint_type": "kserve", "request_count": 40}]})
    (run,) = benchmark_plan.plan_runs(bench, "/r", "X")
    assert option(run["argv"], "-u") == ["opt-350m.llm.svc.cluster.local:8001"]
    assert option(run["argv"], "--endpoint-type") == ["kserve"] and option(run["argv"], "--backend") == ["vllm"]
    assert option(run["argv"], "--request-count") == ["40"]
    bench["profiles"][0]["warmup_requests"] = 0
    assert "--warmup-request-count" not in benchmark_plan.plan_runs(bench, "/r", "X")[0]["argv"]


def test_controller_aiperf_against_overrides_with_a_tokenizer_directory():
    bench = valid({"enabled": True, "runner": "aiperf", "mode": "controller",
                   "tokenizer": {"llama3-8b": "/tok", "opt-350m": "./tok"},
                   "endpoint_overrides": {"llama3-8b": {"base_url": "http://127.0.0.1:18000/"}, "opt-350m": {"base_url": "http://127.0.0.1:18001"}},
                   "profiles": [{"name": "small", "input_tokens": 32, "output_tokens": 16, "concurrencies": [1, 4], "streaming": True}]})
    runs = benchmark_plan.plan_runs(bench, "/r/runs", "X")
    chat, generate = runs[0], runs[2]
    assert chat["argv"][:6] == ["aiperf", "profile", "-m", "meta/llama3-8b-instruct", "--url", "http://127.0.0.1:18000"]
    assert option(chat["argv"], "--artifact-dir") == ["/r/runs/llama3-8b/small/c1"] and chat["model_cache_claim"] == ""
    assert option(chat["argv"], "--ui") == ["none"] and "--no-server-metrics" in chat["argv"]
    # a directory must be loaded with offline mode off (AIPerf takes any non-empty value as on)
    # and AIPerf's memory-mapped dataset goes under the run's directory, not the system temp directory
    assert chat["env"] == {"HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "", "AIPERF_DATASET_MMAP_BASE_PATH": "/r/runs/llama3-8b/small/c1"}
    # Triton through AIPerf's template endpoint on generate_stream
    assert option(generate["argv"], "--endpoint-type") == ["template"]
    assert option(generate["argv"], "--custom-endpoint") == ["/v2/models/opt-350m/generate_stream"]
    template = json.loads(option(generate["argv"], "--extra-inputs")[0])
    assert template["response_field"] == "text_output" and '"text_input": {{ text|tojson }}' in template["payload_template"]
    assert option(generate["argv"], "--tokenizer") == ["./tok"]


def test_every_problem_at_once():
    text = problems_of({
        "enabled": True, "mode": "controller", "runner": "genai_perf", "models": ["nope"], "tokenizer": {"ghost": "/t"},
        "goodput": {"ttft": 1, "request_latency": -5},
        "slos": [{"metric": "ttft", "max": 1}, {"metric": "request_latency_ms"}, {"metric": "inter_token_latency_ms", "max": "x", "model": "nope"}],
        "endpoint_overrides": {"llama3-8b": {"base_url": "ftp://x"}},
        "profiles": [{"name": "Bad_Name", "concurrencies": [], "input_tokens": 0},
                     {"name": "p", "concurrencies": [64, 64], "request_count": 10, "endpoint_type": "completions"}],
        "request_timeout_s": 0, "run_timeout_s": 10})
    for expected in (
            "eks_llm_benchmark.models: 'nope' is not a model of eks_llm_models",
            "eks_llm_benchmark.enabled: true, but there is no model to benchmark",
            "eks_llm_benchmark.runner: genai_perf needs perf_analyzer",
            "eks_llm_benchmark.tokenizer: 'ghost' is not a model",
            "eks_llm_benchmark.goodput: 'ttft'",
            "eks_llm_benchmark.goodput.request_latency: -5 is not a positive number",
            "eks_llm_benchmark.slos[0].metric: 'ttft'",
            "eks_llm_benchmark.slos[1]: give max, min or both",
            "eks_llm_benchmark.slos[2].max: 'x' is not a number",
            "eks_llm_benchmark.slos[2].model: 'nope' is not a benchmarked model",
            "eks_llm_benchmark.endpoint_overrides.llama3-8b: expected {base_url: http://host:port}",
            "eks_llm_benchmark.profiles[0].name: 'Bad_Name'",
            "eks_llm_benchmark.profiles[0].concurrencies: empty",
            "eks_llm_benchmark.profiles[0].input_tokens: 0 given; allowed 1-131072",
            "eks_llm_benchmark.profiles[1].concurrencies: [64, 64] repeats a value",
            "eks_llm_benchmark.profiles[1].request_count: 10 given; allowed 64-10000000",
            "eks_llm_benchmark.request_timeout_s: 0 given", "eks_llm_benchmark.run_timeout_s: 10 given"):
        assert expected in text, expected


def test_endpoint_types_must_fit_the_engine_and_the_runner():
    text = problems_of({"enabled": True, "runner": "aiperf", "tokenizer": NIM_TOKENIZER, "profiles": [
        {"name": "a", "endpoint_type": "generate"}, {"name": "b", "endpoint_type": "chat"}, {"name": "c", "endpoint_type": "kserve"}]})
    assert "profiles.a.endpoint_type: a serves llama3-8b with the OpenAI API (NIM, vLLM): endpoint_type chat or completions, not generate" in text
    assert "profiles.b.endpoint_type: b serves opt-350m with Triton: endpoint_type generate (HTTP) or kserve" in text
    assert "profiles.c.endpoint_type: AIPerf has no Triton gRPC client" in text
    controller = {"enabled": True, "runner": "aiperf", "mode": "controller", "tokenizer": {"llama3-8b": "/t", "opt-350m": "/t"}}
    assert "controller runs the benchmark on the controller" in problems_of(controller)


def test_job_runs_off_the_gpu_nodes_and_prints_its_export():
    bench = valid({"enabled": True, "tokenizer": NIM_TOKENIZER})
    run = benchmark_plan.plan_runs(bench, "/r", "20260101T000000Z")[5]
    job = benchmark_plan.job_manifest(run, SETTINGS)
    assert job["metadata"]["namespace"] == "llm" and job["metadata"]["name"] == run["job_name"]
    assert job["metadata"]["labels"]["eks-llm/benchmark-run"] == "20260101t000000z"
    pod = job["spec"]["template"]["spec"]
    assert "tolerations" not in pod and pod["nodeSelector"] == {"eks-llm/node-pool": "cpu"}
    assert pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "eks-llm/gpu", "operator": "DoesNotExist"}]}]
    assert pod["imagePullSecrets"] == [{"name": "ngc-registry"}]  # the image is on nvcr.io
    container = pod["containers"][0]
    assert container["command"][:2] == ["/bin/sh", "-c"] and container["command"][4:] == run["argv"]
    assert benchmark_plan.EXPORT_BEGIN in container["command"][2] and '"$@"' in container["command"][2]
    assert {"name": "model-cache", "mountPath": "/model-cache", "readOnly": True} in container["volumeMounts"]
    assert {"name": "model-cache", "persistentVolumeClaim": {"claimName": "opt-350m-cache", "readOnly": True}} in pod["volumes"]
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] == 3600
    without_cpu_pool = benchmark_plan.job_manifest(run, dict(SETTINGS, cpu_pool=False))["spec"]["template"]["spec"]
    assert "nodeSelector" not in without_cpu_pool and without_cpu_pool["affinity"] == pod["affinity"]


def test_export_from_log():
    export = {"request_throughput": {"unit": "requests/sec", "avg": 2.0}}
    log = "genai-perf table\n%s\n%s\n%s\n" % (benchmark_plan.EXPORT_BEGIN, json.dumps(export), benchmark_plan.EXPORT_END)
    assert json.loads(benchmark_plan.export_from_log(log)) == export
    assert benchmark_plan.export_from_log("") is None
    assert benchmark_plan.export_from_log("%s\n{\"trunc" % benchmark_plan.EXPORT_BEGIN) is None
    assert benchmark_plan.export_from_log("%s\nnot json\n%s" % (benchmark_plan.EXPORT_BEGIN, benchmark_plan.EXPORT_END)) is None
