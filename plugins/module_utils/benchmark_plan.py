# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Benchmark sweeps as data: the inventory's ``eks_llm_benchmark`` checked and normalised, then planned into runs.

:func:`validate` is called by the inventory validator (it reads the inventory only). :func:`plan_runs` turns the
normalised settings into one run per model, profile and concurrency, each with the exact command line of the
runner (genai-perf 0.0.16 or AIPerf 0.13.0), and :func:`job_manifest` wraps a run into the Kubernetes Job that
executes it in the cluster. Runs are sequential by design: two load levels at once would measure neither.
"""

import json
import posixpath
import re

RUNNERS = ("genai_perf", "aiperf")
MODES = ("in_cluster", "controller")
ENDPOINT_TYPES = ("chat", "completions", "generate", "kserve")
OPENAI_ENDPOINT_TYPES = ("chat", "completions")
TRITON_ENDPOINT_TYPES = ("generate", "kserve")
TRITON_GRPC_PORT = 8001

# Seed 003's sweep (Triton + vLLM, opt-350m): 128 input / 128 output tokens at concurrency 8 to 128.
DEFAULT_PROFILES = [
    {"name": "isl128-osl128", "input_tokens": 128, "output_tokens": 128, "concurrencies": [8, 16, 32, 64, 128],
     "request_count": 0, "warmup_requests": 10, "streaming": True, "endpoint_type": ""},
]
PROFILE_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,22}[a-z0-9])?$")
HF_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?(@[A-Za-z0-9._/-]+)?$")

# Where the in-cluster Job mounts its scratch space and the model's cache claim.
RESULTS_MOUNT = "/results"
MODEL_CACHE_MOUNT = "/model-cache"
EXPORT_BEGIN = "EKS_LLM_BENCHMARK_EXPORT_BEGIN"
EXPORT_END = "EKS_LLM_BENCHMARK_EXPORT_END"
EXPORT_NAMES = {"genai_perf": "profile_export_genai_perf.json", "aiperf": "profile_export_aiperf.json"}
RUNNER_COMMANDS = {"genai_perf": ["genai-perf", "profile"], "aiperf": ["aiperf", "profile"]}

# The Job's shell: run the tool ("$@", never re-parsed by a shell), then print its JSON export between markers
# so the controller can collect it from the pod log (the results live in an emptyDir that dies with the pod).
JOB_SCRIPT = (
    '"$@"; rc=$?; '
    'export=$(find %(out)s \\( -name profile_export_aiperf.json -o -name "*_genai_perf.json" \\) -not -path "*/phases/*" | head -n 1); '
    'if [ "$rc" -ne 0 ] || [ -z "$export" ]; then echo "benchmark run failed: exit code $rc, export: ${export:-none}" >&2; exit 1; fi; '
    'echo %(begin)s; cat "$export"; echo; echo %(end)s'
) % {"out": RESULTS_MOUNT + "/out", "begin": EXPORT_BEGIN, "end": EXPORT_END}

# A payload for Triton's generate_stream, for AIPerf's template endpoint (it has no Triton endpoint type).
TRITON_TEMPLATE = '{"text_input": {{ text|tojson }}, "stream": {{ stream|tojson }}, "exclude_input_in_output": true}'


def default_request_count(concurrency):
    """Requests of a run when the profile gives none: far more than in flight, so ramp-up and drain weigh little."""
    return max(10 * concurrency, 100)


def model_cache_claim(model):
    """The claim that holds a model's weights and tokenizer (created by the inference layer or the NIM Operator)."""
    suffix = {"triton_vllm": "-cache", "vllm": "-cache", "nim_chart": "-model-store", "nim_operator": "-pvc"}.get(model["engine"])
    return model["name"] + suffix if suffix else ""


def is_path(tokenizer):
    return tokenizer.startswith(("/", "./", "../", "~"))


def split_tokenizer(value):
    """'org/name@rev' -> ('org/name', 'rev'); a path or a name without a revision -> (value, '')."""
    if is_path(value) or "@" not in value:
        return value, ""
    name, revision = value.rsplit("@", 1)
    return name, revision


def _check_range(problems, variable, value, low, high, why=""):
    if not low <= value <= high:
        problems.add(variable, "%d given; allowed %d-%d%s" % (value, low, high, why))


def _profiles(problems, where, profiles):
    result, seen = [], set()
    for index, profile in enumerate(profiles or DEFAULT_PROFILES):
        at = "%s.profiles[%d]" % (where, index)
        if not PROFILE_NAME_RE.match(profile["name"]):
            problems.add(at + ".name", "%r: lowercase letters, digits and '-', at most 24 (it names directories and Jobs)"
                         % profile["name"])
        if profile["name"] in seen:
            problems.add(at + ".name", "%r is used by another profile" % profile["name"])
        seen.add(profile["name"])
        _check_range(problems, at + ".input_tokens", profile["input_tokens"], 1, 131072)
        _check_range(problems, at + ".output_tokens", profile["output_tokens"], 1, 32768)
        _check_range(problems, at + ".warmup_requests", profile["warmup_requests"], 0, 100000)
        if not profile["concurrencies"]:
            problems.add(at + ".concurrencies", "empty; give at least one concurrency, e.g. [8, 16, 32, 64, 128]")
        for concurrency in profile["concurrencies"]:
            _check_range(problems, at + ".concurrencies", concurrency, 1, 4096)
        if len(set(profile["concurrencies"])) != len(profile["concurrencies"]):
            problems.add(at + ".concurrencies", "%s repeats a value" % profile["concurrencies"])
        if profile["request_count"]:
            low = max(profile["concurrencies"] or [1])
            _check_range(problems, at + ".request_count", profile["request_count"], low, 10000000,
                         " (0 = max(10 x concurrency, 100); fewer requests than the concurrency never reach it)")
        result.append(dict(profile))
    return result


def _endpoint_type(problems, at, profile, model, runner):
    triton = model["engine"] == "triton_vllm"
    wanted = profile["endpoint_type"] or ("generate" if triton else "chat")
    if triton and wanted not in TRITON_ENDPOINT_TYPES:
        problems.add(at, "%s serves %s with Triton: endpoint_type generate (HTTP) or kserve (gRPC, --backend vllm), not %s"
                     % (profile["name"], model["name"], wanted))
    elif not triton and wanted not in OPENAI_ENDPOINT_TYPES:
        problems.add(at, "%s serves %s with the OpenAI API (NIM, vLLM): endpoint_type chat or completions, not %s"
                     % (profile["name"], model["name"], wanted))
    elif runner == "aiperf" and wanted == "kserve":
        problems.add(at, "AIPerf has no Triton gRPC client: use endpoint_type generate or runner genai_perf")
    return wanted


def _tokenizer(problems, where, mode, model, given):
    """(tokenizer, revision, needs_model_cache) of one model, or problems."""
    if given is None:
        streamed = bool(model.get("vllm")) and model["vllm"]["model_id"].startswith("s3://")
        if streamed and mode == "in_cluster":
            # vLLM pulls a streamed folder's tokenizer into the pod's memory, never into the claim
            problems.add("%s.tokenizer.%s" % (where, model["name"]),
                         "required: the model streams its weights from %s and leaves no tokenizer in its cache claim, so give the"
                         " directory of the tokenizer (inside the image, or relative to the root of the claim %s)"
                         % (model["vllm"]["model_id"], model_cache_claim(model)))
            return "", "", False
        if model["engine"] in ("triton_vllm", "vllm") and mode == "in_cluster" and model.get("vllm"):
            # the Hugging Face cache the server filled on the model's cache claim holds it at this revision
            return model["vllm"]["model_id"], model["vllm"]["revision"], True
        problems.add("%s.tokenizer.%s" % (where, model["name"]),
                     "required: nothing is downloaded at run time, so give the directory of the tokenizer (%s)"
                     % ("on the controller" if mode == "controller"
                        else "inside the image, or relative to the root of the model's cache claim %s" % model_cache_claim(model)))
        return "", "", False
    if not isinstance(given, str) or not given or not (is_path(given) or HF_ID_RE.match(given)):
        problems.add("%s.tokenizer.%s" % (where, model["name"]),
                     "%r: a directory (absolute, or ./relative) or a Hugging Face id pinned with @revision" % (given,))
        return "", "", False
    name, revision = split_tokenizer(given)
    if mode == "in_cluster" and not is_path(name):
        return name, revision, True
    if mode == "in_cluster" and not name.startswith("/"):
        return posixpath.normpath(posixpath.join(MODEL_CACHE_MOUNT, name)), "", True
    return name, revision, False


def _check_slos(problems, where, slos, names, profiles, slo_metrics, slo_stats):
    for index, slo in enumerate(slos):
        at = "%s.slos[%d]" % (where, index)
        if not isinstance(slo, dict):
            problems.add(at, "expected {metric, stat, max|min, model, profile, concurrency}, got %r" % (slo,))
            continue
        unknown = set(slo) - {"metric", "stat", "max", "min", "concurrency", "model", "engine", "profile"}
        if unknown:
            problems.add(at, "unknown keys %s" % ", ".join(sorted(unknown)))
        if slo.get("metric") not in slo_metrics:
            problems.add(at + ".metric", "%r; allowed: %s" % (slo.get("metric"), ", ".join(slo_metrics)))
        if slo.get("stat", "p99") not in slo_stats:
            problems.add(at + ".stat", "%r; allowed: %s" % (slo.get("stat"), ", ".join(slo_stats)))
        if "max" not in slo and "min" not in slo:
            problems.add(at, "give max, min or both")
        for bound in ("max", "min"):
            if bound in slo and (isinstance(slo[bound], bool) or not isinstance(slo[bound], (int, float))):
                problems.add("%s.%s" % (at, bound), "%r is not a number" % (slo[bound],))
        if "model" in slo and slo["model"] not in names:
            problems.add(at + ".model", "%r is not a benchmarked model (%s)" % (slo["model"], ", ".join(names) or "none"))
        if "profile" in slo and slo["profile"] not in [p["name"] for p in profiles]:
            problems.add(at + ".profile", "%r is not a profile (%s)" % (slo["profile"], ", ".join(p["name"] for p in profiles)))


class _Ignored(object):
    """A problem collector that drops what it is given."""

    def add(self, variable, message):
        pass


def validate(problems, bench, models, context):
    """Check and normalise ``eks_llm_benchmark``.

    ``context``: in_cluster_endpoints (model -> {base_url}), url_re, slo_metrics, slo_stats, goodput_keys.
    """
    where = "eks_llm_benchmark"
    by_name = dict((m["name"], m) for m in models)
    for name in bench["models"]:
        if name not in by_name:
            problems.add(where + ".models", "%r is not a model of eks_llm_models (models: %s)" % (name, ", ".join(by_name) or "none"))
    chosen = [m for m in models if not bench["models"] or m["name"] in bench["models"]]
    if bench["enabled"] and not chosen:
        problems.add(where + ".enabled", "true, but there is no model to benchmark (eks_llm_models is empty)")
    if bench["mode"] == "controller" and bench["runner"] == "genai_perf":
        problems.add(where + ".runner", "genai_perf needs perf_analyzer (the Triton SDK image): use mode in_cluster,"
                     " or runner aiperf (pure Python) on the controller")
    _check_range(problems, where + ".request_timeout_s", bench["request_timeout_s"], 1, 86400)
    _check_range(problems, where + ".run_timeout_s", bench["run_timeout_s"], 60, 86400)
    profiles = _profiles(problems, where, bench["profiles"])
    for key, value in sorted((bench["goodput"] or {}).items()):
        if key not in context["goodput_keys"]:
            problems.add(where + ".goodput", "%r; allowed: %s" % (key, ", ".join(sorted(context["goodput_keys"]))))
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.add("%s.goodput.%s" % (where, key), "%r is not a positive number" % (value,))
    _check_slos(problems, where, bench["slos"], [m["name"] for m in chosen], profiles, context["slo_metrics"], context["slo_stats"])
    for name in sorted(bench["tokenizer"] or {}):
        if name not in by_name:
            problems.add(where + ".tokenizer", "%r is not a model of eks_llm_models" % name)
    overrides = {}
    for name, override in sorted((bench["endpoint_overrides"] or {}).items()):
        if name not in by_name:
            problems.add(where + ".endpoint_overrides", "%r is not a model of eks_llm_models" % name)
        elif not isinstance(override, dict) or set(override) - {"base_url", "metrics_url"} \
                or not context["url_re"].match(str(override.get("base_url", ""))):
            problems.add("%s.endpoint_overrides.%s" % (where, name), "expected {base_url: http://host:port}, got %r" % (override,))
        else:
            overrides[name] = override["base_url"].rstrip("/")
    # what a model needs to be benchmarked is only required of a benchmark that is switched on
    needs = problems if bench["enabled"] else _Ignored()
    targets = {}
    for model in chosen:
        if model["name"] not in overrides and bench["mode"] == "controller" and bench["enabled"]:
            problems.add("%s.endpoint_overrides.%s" % (where, model["name"]), "mode controller runs the benchmark on the"
                         " controller, which cannot resolve cluster Service names: give base_url, or use mode in_cluster")
        tokenizer, revision, needs_cache = _tokenizer(needs, where, bench["mode"], model, (bench["tokenizer"] or {}).get(model["name"]))
        targets[model["name"]] = {
            "engine": model["engine"],
            "namespace": model["namespace"],
            "served_model_name": model["served_model_name"],
            "base_url": overrides.get(model["name"]) or context["in_cluster_endpoints"](model)["base_url"],
            "endpoint_types": dict((p["name"], _endpoint_type(needs, "%s.profiles.%s.endpoint_type" % (where, p["name"]),
                                                              p, model, bench["runner"])) for p in profiles),
            "tokenizer": tokenizer,
            "tokenizer_revision": revision,
            "model_cache_claim": model_cache_claim(model) if needs_cache else "",
        }
    return dict(bench, profiles=profiles, models=[m["name"] for m in chosen], endpoint_overrides=overrides, targets=targets)


# ---- planning ------------------------------------------------------------------------------------------------
def _host_port(base_url, port=None):
    host_port = base_url.split("://", 1)[-1].split("/", 1)[0]
    if port is not None:
        host_port = "%s:%d" % (host_port.rsplit(":", 1)[0] if ":" in host_port else host_port, port)
    return host_port


def _goodput_args(goodput):
    return ["%s:%s" % (key, goodput[key]) for key in sorted(goodput)]


def tool_args(runner, target, profile, concurrency, request_count, artifact_dir, goodput, request_timeout_s):
    """The command line of one run, as a list (never through a shell)."""
    endpoint_type = target["endpoint_types"][profile["name"]]
    osl = profile["output_tokens"]
    args = list(RUNNER_COMMANDS[runner]) + ["-m", target["served_model_name"]]
    if runner == "genai_perf":
        url = _host_port(target["base_url"], TRITON_GRPC_PORT if endpoint_type == "kserve" else None)
        args += ["-u", url, "--endpoint-type", endpoint_type]
        if endpoint_type == "kserve":
            args += ["--backend", "vllm"]
        elif endpoint_type == "generate" and profile["streaming"]:
            # genai-perf 0.0.16 keeps the non-streaming generate route even with --streaming (every TTFT would be
            # the request latency): name Triton's streaming route
            args += ["--endpoint", "v2/models/%s/generate_stream" % target["served_model_name"]]
    else:
        args += ["--url", target["base_url"]]
        if endpoint_type == "generate":
            path = "/v2/models/%s/generate%s" % (target["served_model_name"], "_stream" if profile["streaming"] else "")
            args += ["--endpoint-type", "template", "--custom-endpoint", path, "--extra-inputs",
                     json.dumps({"payload_template": TRITON_TEMPLATE, "response_field": "text_output"}, sort_keys=True)]
        else:
            args += ["--endpoint-type", endpoint_type]
    if profile["streaming"]:
        args.append("--streaming")
    args += ["--synthetic-input-tokens-mean", str(profile["input_tokens"]), "--synthetic-input-tokens-stddev", "0",
             "--output-tokens-mean", str(osl), "--output-tokens-stddev", "0",
             "--extra-inputs", "max_tokens:%d" % osl, "--extra-inputs", "min_tokens:%d" % osl,
             "--extra-inputs", "ignore_eos:true",
             "--concurrency", str(concurrency), "--request-count", str(request_count)]
    if profile["warmup_requests"]:
        # AIPerf rejects 0; no warmup is the flag left out, for both tools
        args += ["--warmup-request-count", str(profile["warmup_requests"])]
    args += ["--random-seed", "0", "--tokenizer", target["tokenizer"]]
    if target["tokenizer_revision"]:
        args += ["--tokenizer-revision", target["tokenizer_revision"]]
    args += ["--artifact-dir", artifact_dir]
    if goodput:
        args += ["--goodput"] + _goodput_args(goodput)
    if runner == "aiperf":
        args += ["--ui", "none", "--no-server-metrics", "--request-timeout-seconds", str(request_timeout_s)]
    return args


def tool_env(runner, target, mode, artifact_dir=None):
    """Environment of one run: offline Hugging Face for ids (their cache is on the model's claim in the cluster).

    AIPerf on the controller writes its dataset's memory-mapped files under the run's own directory (its default, the
    system temp directory, keeps an aiperf_mmap_<id> directory per run for good).

    AIPerf 0.13.0 cannot load a tokenizer directory in offline mode (it resolves the path as a Hub snapshot) and
    takes any non-empty HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, even "0", as offline: a directory is given to it with
    both set empty, which also overrides a value in the controller's environment. genai-perf loads both offline.
    """
    offline = "1" if runner == "genai_perf" or not is_path(target["tokenizer"]) else ""
    env = {"HF_HUB_OFFLINE": offline, "TRANSFORMERS_OFFLINE": offline}
    if runner == "aiperf" and mode == "controller" and artifact_dir:
        env["AIPERF_DATASET_MMAP_BASE_PATH"] = artifact_dir
    if mode == "in_cluster":
        env["HOME"] = RESULTS_MOUNT
        if target["model_cache_claim"] and not is_path(target["tokenizer"]):
            env["HF_HOME"] = MODEL_CACHE_MOUNT + "/huggingface"
    return env


def plan_runs(bench, runs_dir, run_id):
    """One run per benchmarked model, profile and concurrency, in that order.

    ``runs_dir``: the controller directory that receives each run's export (``<model>/<profile>/c<N>``).
    """
    planned = []
    for name in bench["models"]:
        target = bench["targets"][name]
        for profile in bench["profiles"]:
            for concurrency in profile["concurrencies"]:
                count = profile["request_count"] or default_request_count(concurrency)
                local_dir = posixpath.join(runs_dir, name, profile["name"], "c%d" % concurrency)
                artifact_dir = local_dir if bench["mode"] == "controller" else RESULTS_MOUNT + "/out"
                planned.append({
                    "index": len(planned),
                    "model": name,
                    "engine": target["engine"],
                    "namespace": target["namespace"],
                    "served_model_name": target["served_model_name"],
                    "profile": profile["name"],
                    "concurrency": concurrency,
                    "request_count": count,
                    "endpoint_type": target["endpoint_types"][profile["name"]],
                    "dir": local_dir,
                    "export_file": posixpath.join(local_dir, EXPORT_NAMES[bench["runner"]]),
                    "job_name": "llm-bench-%s-%d" % (run_id.lower(), len(planned)),
                    "model_cache_claim": target["model_cache_claim"],
                    "argv": tool_args(bench["runner"], target, profile, concurrency, count, artifact_dir,
                                      bench["goodput"], bench["request_timeout_s"]),
                    "env": tool_env(bench["runner"], target, bench["mode"], artifact_dir),
                })
    return planned


NGC_REGISTRY = "nvcr.io"


def on_ngc_registry(image):
    """True for an image pulled from NGC's registry, which needs the NGC pull secret (dockerconfigjson, $oauthtoken)."""
    return image.split("/", 1)[0] == NGC_REGISTRY


def ngc_pull_namespaces(config):
    """Namespaces where the in-cluster benchmark Jobs pull an nvcr.io image (they need the NGC pull secret there)."""
    bench = config.get("benchmark") or {}
    if not bench.get("enabled") or bench.get("mode") != "in_cluster" or not on_ngc_registry(job_image(config)):
        return []
    return sorted(set(bench["targets"][name]["namespace"] for name in bench["models"]))


def job_image(config):
    """The pinned image of the in-cluster benchmark Job: the Triton SDK image carries genai-perf and perf_analyzer;
    AIPerf has its own."""
    return config["images"]["triton_sdk" if config["benchmark"]["runner"] == "genai_perf" else "aiperf"]


def job_manifest(run, settings):
    """The batch/v1 Job of one in-cluster run.

    ``settings``: image, registry_secret, labels, run_id, deadline_s, cpu_pool (bool), pool_label, gpu_node_label,
    resources. An image on nvcr.io is pulled with ``registry_secret`` (the NGC pull secret the models role creates in
    the namespace, see inference.secret_plan).
    The pod tolerates no taint (GPU nodes are tainted) and requires a node without the GPU label; with the
    platform's CPU NodePool it also selects that pool, so Karpenter provisions a CPU node for it.
    """
    labels = dict(settings["labels"], **{
        "app.kubernetes.io/component": "benchmark", "eks-llm/benchmark-run": settings["run_id"].lower(),
        "eks-llm/model": run["model"]})
    volumes = [{"name": "results", "emptyDir": {}}]
    mounts = [{"name": "results", "mountPath": RESULTS_MOUNT}]
    if run["model_cache_claim"]:
        volumes.append({"name": "model-cache", "persistentVolumeClaim": {"claimName": run["model_cache_claim"], "readOnly": True}})
        mounts.append({"name": "model-cache", "mountPath": MODEL_CACHE_MOUNT, "readOnly": True})
    pod = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": settings["gpu_node_label"], "operator": "DoesNotExist"}]}]}}},
        "containers": [{
            "name": "benchmark",
            "image": settings["image"],
            "imagePullPolicy": "IfNotPresent",
            "command": ["/bin/sh", "-c", JOB_SCRIPT, "benchmark"] + run["argv"],
            "env": [{"name": key, "value": value} for key, value in sorted(run["env"].items())],
            "resources": settings["resources"],
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": mounts,
        }],
        "volumes": volumes,
    }
    if on_ngc_registry(settings["image"]):
        pod["imagePullSecrets"] = [{"name": settings["registry_secret"]}]
    if settings["cpu_pool"]:
        pod["nodeSelector"] = {settings["pool_label"]: "cpu"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": run["job_name"], "namespace": run["namespace"], "labels": labels},
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": settings["deadline_s"],
            "ttlSecondsAfterFinished": 86400,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def export_from_log(log):
    """The JSON export a Job printed between the markers; None when it printed none."""
    text = log or ""
    start = text.rfind(EXPORT_BEGIN)
    if start < 0:
        return None
    end = text.find(EXPORT_END, start)
    if end < 0:
        return None
    body = text[start + len(EXPORT_BEGIN):end].strip()
    try:
        json.loads(body)
    except ValueError:
        return None
    return body + "\n"
