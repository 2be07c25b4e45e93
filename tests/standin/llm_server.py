"""Local LLM endpoint stand-in: NVIDIA NIM, vLLM's OpenAI server and Triton + vLLM backend on 127.0.0.1.

One asyncio (aiohttp) process serves several endpoints, each on its own port, so that the verify and
benchmark playbooks (and AIPerf) can run against something that behaves like a batching LLM server.
Nothing is generated: the output is a fixed word sequence, one word per token, and all time is asyncio.sleep.

Endpoint flavors
    nim     /v1/health/live, /v1/health/ready, /health, /health/ready, GET /v1/models, POST /v1/completions,
            POST /v1/chat/completions (JSON or SSE), Prometheus text at /v1/metrics and /metrics with NIM 1.x names
            (num_requests_running, gpu_cache_usage_perc, time_to_first_token_seconds, ...).
    vllm    vLLM's OpenAI server as of VLLM_VERSION (the collection's pinned image, versions.VLLM_VERSION): /health (no
            /v1/health/*), GET /version, GET /v1/models, POST /v1/completions, POST /v1/chat/completions, Prometheus text at
            /metrics only, with vLLM V1 names (vllm:num_requests_running, vllm:num_requests_waiting, vllm:kv_cache_usage_perc,
            vllm:inter_token_latency_seconds, ...). `metrics_prefix` ("" or "vllm:") picks the style for either flavor.
    triton  /v2/health/live|ready, GET /v2, /v2/models/{m}[/versions/1], .../ready, .../config, POST /v2/repository/index,
            POST .../generate and .../generate_stream (SSE); metrics on a separate metrics_port (Triton's 8002): exactly the
            families of the pinned Triton 25.10 + vLLM backend (tests/upstream/triton_vllm_metrics.json): nv_inference_*,
            nv_gpu_*, nv_cpu_*, ..., and the backend's vllm:* counters and histograms labelled {model, version} - no gauges
            such as vllm:num_requests_waiting, which the backend does not export. As in the real backend (whose execute()
            only schedules a coroutine), Triton's own request counters and durations cover the hand-off to the engine only:
            success/count at arrival, queue time 0, pending requests 0; vLLM's queue shows in time_to_first_token.
Every port also serves the control API: GET|POST /_standin/config, POST /_standin/reset, GET /_standin/health.

Tokens: prompt tokens = whitespace-separated words of the prompt (chat: of all message texts); output tokens =
max_tokens | max_completion_tokens, else max(default_max_tokens, min_tokens). finish_reason is "length" when a
limit was given, else "stop". `ignore_eos` is accepted (the output always has exactly that many tokens).

Latency model (per endpoint; the requests of all its models share one batch)
    active   = requests admitted to the batch, this one included (1 <= active <= max_batch); more requests than
               max_batch wait in a FIFO queue (num_requests_waiting) and their TTFT includes that wait
    ttft(a)  = ttft_ms * (1 + ttft_growth * (a - 1))          prefill time at a constant load a
    itl(a)   = itl_ms  * (1 + itl_growth  * (a - 1))          time between two tokens at load a
    TTFT     = queue wait + prefill; prefill progresses at 1/ttft(active), re-read every max(2 ms, ttft_ms/8), so
               arrivals during a prefill slow it down like they do on a real batch
    token k  is sent itl(active) after token k-1 (active read when token k-1 left; an absolute schedule, so a
             busy event loop catches up and the mean ITL stays exact)
    E2E      = TTFT + (n - 1) * itl  for n output tokens
    jitter   every delay is multiplied by 1 + u, u uniform in [-jitter_pct/100, +jitter_pct/100] (seeded; 0 = none)
`latency_ms(settings, active)` is the formula; `expected_steady_state(settings, concurrency, output_tokens)` gives what a
closed-loop benchmark at that concurrency should measure (queue = S * (C / B - 1) with B = min(C, max_batch) and
S = ttft(B) + (n - 1) * itl(B)).

Config JSON (CLI --config FILE, or the `endpoints` argument of LLMStandIn / running_llm_server):
    {"host": "127.0.0.1", "endpoints": [
        {"name": "nim", "flavor": "nim|vllm|triton", "port": 0, "metrics_port": 0 (triton only), "models": ["meta/llama-3.1-8b-instruct"],
         "ttft_ms": 50, "itl_ms": 10, "ttft_growth": 0, "itl_growth": 0, "max_batch": 256, "jitter_pct": 0, "seed": 0,
         "default_max_tokens": 16, "max_model_len": 8192, "kv_cache_tokens": 262144, "metrics_prefix": "" (nim) | "vllm:" (vllm),
         "faults": ["not_ready", "wrong_models", "server_error", "stalled_stream", "missing_metrics", "empty_output"]}]}
    Port 0 = a free port. A bare list of endpoints is accepted too. Everything after `models` can be changed at runtime with
    POST /_standin/config (and `models` too); `faults` there is a list (replaces) or {"fault": true|false} (patches).

Faults: not_ready (ready routes 503, live 200), wrong_models (the endpoint serves "<model>-wrong" instead), server_error
(inference routes 500), stalled_stream (the first token is sent, then nothing until the client leaves or the fault is
cleared), missing_metrics (metrics answer 200 without the inference series), empty_output (empty text, 0 tokens).

CLI (run from the repository root):
    python -m tests.standin.llm_server serve  --config FILE [--state-dir DIR]     (foreground)
    python -m tests.standin.llm_server start  --config FILE --state-dir DIR       (detached; writes DIR/llm_endpoints.json)
    python -m tests.standin.llm_server stop   --state-dir DIR
    python -m tests.standin.llm_server status --state-dir DIR
In tests:  with running_llm_server([{"flavor": "nim", "models": ["m"]}]) as llm: llm.url("nim-0"), llm.configure(...)
"""
import argparse
import asyncio
import bisect
import collections
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

from aiohttp import web

from .aws_server import REPO, process_alive, terminate

FLAVORS = ("nim", "vllm", "triton")
FAULTS = ("not_ready", "wrong_models", "server_error", "stalled_stream", "missing_metrics", "empty_output")
WRONG_SUFFIX = "-wrong"
METRICS_PREFIXES = ("", "vllm:")
DEFAULTS = {"ttft_ms": 50.0, "itl_ms": 10.0, "ttft_growth": 0.0, "itl_growth": 0.0, "max_batch": 256, "jitter_pct": 0.0, "seed": 0,
            "default_max_tokens": 16, "max_model_len": 8192, "kv_cache_tokens": 262144, "faults": []}
# key: (type, minimum, maximum or None)
NUMBERS = {"ttft_ms": (float, 0, None), "itl_ms": (float, 0, None), "ttft_growth": (float, 0, None), "itl_growth": (float, 0, None),
           "max_batch": (int, 1, None), "jitter_pct": (float, 0, 100), "default_max_tokens": (int, 1, None),
           "max_model_len": (int, 1, None), "kv_cache_tokens": (int, 1, None)}
FIXED_KEYS = ("name", "flavor", "port", "metrics_port")
TRITON_VERSION = "1"
# The vLLM release whose routes and metric names the vllm flavor serves (kept equal to the collection's pin by a unit test)
VLLM_VERSION = "0.26.0"
TRITON_SERVER_VERSION = "2.59.0"
PREFILL_SLICES = 8
MIN_SLICE_S = 0.002
GPU_MEMORY_BYTES = 80 * 2 ** 30
WEIGHTS_FRACTION = 0.55  # of GPU memory, for nv_gpu_memory_used_bytes; the KV cache can fill another 0.35

WORDS = ("the", "model", "answers", "with", "a", "short", "reply", "about", "GPU", "inference", "on", "our", "cluster", "and", "it", "works")
PIECES = tuple(" " + word for word in WORDS)
PIECES_JSON = tuple(json.dumps(piece).encode() for piece in PIECES)

TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0)
ITL_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0)
REQUEST_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0)
TOKEN_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
HISTOGRAMS = {"ttft": TTFT_BUCKETS, "itl": ITL_BUCKETS, "tpot": ITL_BUCKETS, "e2e": REQUEST_BUCKETS, "queue": REQUEST_BUCKETS,
              "prefill": REQUEST_BUCKETS, "decode": REQUEST_BUCKETS, "inference": REQUEST_BUCKETS, "prompt_len": TOKEN_BUCKETS,
              "gen_len": TOKEN_BUCKETS, "params_n": (1, 2, 5, 10, 20)}

# The LLM series: key, kind, name in NIM 1.x (= vLLM V0 unprefixed), in vLLM V1 (after "vllm:"), in Triton's vLLM backend
# (after "vllm:"), help. None = that server does not have it.
LLM_METRICS = (
    ("running", "gauge", "num_requests_running", "num_requests_running", None, "Number of requests in the batch."),
    ("waiting", "gauge", "num_requests_waiting", "num_requests_waiting", None, "Number of requests waiting for a batch slot."),
    ("max", "gauge", "num_request_max", None, None, "Maximum number of requests in the batch."),
    ("kv", "gauge", "gpu_cache_usage_perc", "kv_cache_usage_perc", None, "KV-cache usage. 1 means 100 percent usage."),
    ("prompt_tokens", "counter", "prompt_tokens_total", "prompt_tokens_total", "prompt_tokens_total", "Number of prefill tokens processed."),
    ("generation_tokens", "counter", "generation_tokens_total", "generation_tokens_total", "generation_tokens_total",
     "Number of generation tokens processed."),
    ("success", "counter", "request_success_total", "request_success_total", None, "Count of finished requests by finished_reason."),
    ("failure", "counter", "request_failure_total", None, None, "Count of failed requests."),
    ("ttft", "histogram", "time_to_first_token_seconds", "time_to_first_token_seconds", "time_to_first_token_seconds",
     "Histogram of time to first token in seconds."),
    ("itl", "histogram", "time_per_output_token_seconds", "inter_token_latency_seconds", "time_per_output_token_seconds",
     "Histogram of time between two output tokens in seconds."),
    ("tpot", "histogram", None, "request_time_per_output_token_seconds", None, "Histogram of (e2e - ttft) / (tokens - 1) per request."),
    ("e2e", "histogram", "e2e_request_latency_seconds", "e2e_request_latency_seconds", "e2e_request_latency_seconds",
     "Histogram of end to end request latency in seconds."),
    ("queue", "histogram", "request_queue_time_seconds", "request_queue_time_seconds", None,
     "Histogram of time spent waiting for a batch slot."),
    ("prefill", "histogram", None, "request_prefill_time_seconds", None, "Histogram of time spent in prefill."),
    ("decode", "histogram", None, "request_decode_time_seconds", None, "Histogram of time spent in decode."),
    ("inference", "histogram", None, "request_inference_time_seconds", None,
     "Histogram of time spent in the batch."),
    ("prompt_len", "histogram", "request_prompt_tokens", "request_prompt_tokens", "request_prompt_tokens", "Number of prompt tokens per request."),
    ("gen_len", "histogram", "request_generation_tokens", "request_generation_tokens", "request_generation_tokens",
     "Number of generated tokens per request."),
    ("params_n", "histogram", None, None, "request_params_n", "Histogram of the n request parameter."),
)
TRITON_COUNTERS = (  # name, stats counter, help
    ("nv_inference_count", "inference_count", "Number of inferences performed (does not include cached requests)"),
    ("nv_inference_exec_count", "exec_count", "Number of model executions performed (does not include cached requests)"),
    ("nv_inference_request_duration_us", "request_us", "Cumulative inference request duration in microseconds (includes cached requests)"),
    ("nv_inference_queue_duration_us", "queue_us", "Cumulative inference queuing duration in microseconds (includes cached requests)"),
    ("nv_inference_compute_input_duration_us", "input_us", "Cumulative compute input duration in microseconds (does not include cached requests)"),
    ("nv_inference_compute_infer_duration_us", "infer_us", "Cumulative compute inference duration in microseconds (does not include cached requests)"),
    ("nv_inference_compute_output_duration_us", "output_us", "Cumulative inference compute output duration in microseconds (does not include cached requests)"),
)
TRITON_FAILURE_REASONS = ("REJECTED", "CANCELED", "BACKEND", "OTHER")
HANDOFF_S = 0.0001  # what Triton measures per request of the vLLM backend: execute() schedules a coroutine and returns
MODEL_LOAD_S = 42.0
CPU_MEMORY_BYTES = 64 * 2 ** 30
START_TIME = time.time()


def dumps(value):
    """Compact JSON, as the real servers send it."""
    return json.dumps(value, separators=(",", ":"))


class BadRequest(Exception):
    """A request the server refuses: HTTP status, message, OpenAI error type."""

    def __init__(self, status, message, kind="BadRequestError"):
        super().__init__(message)
        self.status, self.message, self.kind = status, message, kind


# ---- the latency model (pure) -------------------------------------------------------------------
def latency_ms(settings, active):
    """(ttft, itl) in ms for `active` requests in the batch: ttft_ms * (1 + ttft_growth * (active - 1)), same for itl."""
    extra = max(1, active) - 1
    return (settings.get("ttft_ms", DEFAULTS["ttft_ms"]) * (1 + settings.get("ttft_growth", 0.0) * extra),
            settings.get("itl_ms", DEFAULTS["itl_ms"]) * (1 + settings.get("itl_growth", 0.0) * extra))


def expected_steady_state(settings, concurrency, output_tokens):
    """What a closed-loop client at `concurrency` with `output_tokens` per request measures (times in ms).

    B = min(concurrency, max_batch) requests run, each for S = ttft(B) + (n - 1) * itl(B); the others queue. By Little's
    law every request spends concurrency / throughput = S * C / B in the server, so the queue wait is S * (C / B - 1).
    """
    batch = max(1, min(concurrency, settings.get("max_batch", DEFAULTS["max_batch"])))
    ttft, itl = latency_ms(settings, batch)
    service = ttft + itl * max(0, output_tokens - 1)
    queue = service * (concurrency / batch - 1)
    throughput = batch * 1000.0 / service if service else float("inf")
    return {"active": batch, "waiting": max(0, concurrency - batch), "queue_ms": queue, "ttft_ms": queue + ttft, "itl_ms": itl,
            "request_latency_ms": queue + service, "request_throughput": throughput, "output_token_throughput": throughput * output_tokens}


# ---- settings --------------------------------------------------------------------------------------
def _number(key, value):
    kind, low, high = NUMBERS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise ValueError(f"{key} must be a{'n integer' if kind is int else ' number'}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{key} must be between {low} and {high if high is not None else 'infinity'}, got {value!r}")
    return kind(value)


def _faults(value, current):
    if isinstance(value, dict):
        wanted = set(current)
        for name, enabled in value.items():
            if not isinstance(enabled, bool):
                raise ValueError(f"faults.{name} must be true or false")
            (wanted.add if enabled else wanted.discard)(name)
    elif isinstance(value, list):
        wanted = set(value)
    else:
        raise ValueError("faults must be a list of fault names or an object {fault: true|false}")
    unknown = sorted(str(name) for name in wanted - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(FAULTS)}")
    return [name for name in FAULTS if name in wanted]


def _models(value):
    if not isinstance(value, list) or not value or not all(isinstance(name, str) and name.strip() for name in value):
        raise ValueError("models must be a non-empty list of model names")
    if len(set(value)) != len(value):
        raise ValueError("models must not repeat a name")
    return list(value)


def apply_settings(flavor, current, changes):
    """A new settings dict: `current` with the runtime-changeable `changes` applied; ValueError if any is wrong."""
    if not isinstance(changes, dict):
        raise ValueError("settings must be a JSON object")
    new = dict(current)
    for key, value in changes.items():
        if key in NUMBERS:
            new[key] = _number(key, value)
        elif key == "seed":
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError("seed must be an integer or null")
            new[key] = value
        elif key == "faults":
            new[key] = _faults(value, current.get("faults", []))
        elif key == "models":
            new[key] = _models(value)
        elif key == "metrics_prefix" and flavor != "triton":
            if value not in METRICS_PREFIXES:
                raise ValueError(f"metrics_prefix must be one of {METRICS_PREFIXES}")
            new[key] = value
        elif key in FIXED_KEYS:
            raise ValueError(f"{key} cannot change while the server runs")
        else:
            raise ValueError(f"unknown setting {key!r}")
    return new


def endpoint_specs(config):
    """Validated endpoint specs (name, flavor, port, metrics_port, settings) and the host from a config object."""
    if isinstance(config, list):
        config = {"endpoints": config}
    if not isinstance(config, dict) or not isinstance(config.get("endpoints"), list) or not config["endpoints"]:
        raise ValueError("the config needs a non-empty list 'endpoints'")
    unknown = set(config) - {"host", "endpoints"}
    if unknown:
        raise ValueError(f"unknown config key(s) {', '.join(sorted(unknown))}")
    specs, names = [], set()
    for index, endpoint in enumerate(config["endpoints"]):
        if not isinstance(endpoint, dict) or endpoint.get("flavor") not in FLAVORS:
            raise ValueError(f"endpoint {index}: flavor must be one of {', '.join(FLAVORS)}")
        flavor = endpoint["flavor"]
        name = str(endpoint.get("name") or f"{flavor}-{index}")
        if name in names:
            raise ValueError(f"endpoint name {name!r} used twice")
        names.add(name)
        ports = {}
        for key in ("port", "metrics_port"):
            value = endpoint.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
                raise ValueError(f"endpoint {name}: {key} must be a port number (0 = any free port)")
            ports[key] = value
        if flavor != "triton" and "metrics_port" in endpoint and endpoint["metrics_port"] not in (0, ports["port"]):
            raise ValueError(f"endpoint {name}: {flavor} serves metrics on its own port; metrics_port is for triton")
        base = dict(DEFAULTS, models=None)
        if flavor != "triton":
            base["metrics_prefix"] = "vllm:" if flavor == "vllm" else ""
        rest = {key: value for key, value in endpoint.items() if key not in FIXED_KEYS}
        if "models" not in rest:
            raise ValueError(f"endpoint {name}: models is required")
        try:
            settings = apply_settings(flavor, base, rest)
        except ValueError as exc:
            raise ValueError(f"endpoint {name}: {exc}") from None
        specs.append({"name": name, "flavor": flavor, **ports, "settings": settings})
    return config.get("host", "127.0.0.1"), specs


# ---- metrics state ----------------------------------------------------------------------------------
class Histogram:
    __slots__ = ("buckets", "counts", "total", "count")

    def __init__(self, buckets):
        self.buckets, self.counts, self.total, self.count = buckets, [0] * (len(buckets) + 1), 0.0, 0

    def observe(self, value):
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1


class ModelStats:
    """Counters and histograms of one served model name, updated by the requests it serves."""

    def __init__(self):
        self.hist = {key: Histogram(buckets) for key, buckets in HISTOGRAMS.items()}
        self.counters = dict.fromkeys(("prompt_tokens", "generation_tokens", "success", "inference_count", "exec_count", "request_us", "queue_us",
                                       "input_us", "infer_us", "output_us"), 0)
        self.finished = collections.Counter()  # finished_reason -> requests that completed
        self.failed = collections.Counter()  # BACKEND (server_error) / CANCELED (the client left) -> requests


class Job:
    """One inference request on its way through the endpoint."""

    __slots__ = ("model", "stats", "prompt_tokens", "max_tokens", "finish_reason", "arrival", "admitted", "prefilled", "first", "last",
                 "due", "generated", "done", "waiting", "input_s", "output_s")

    def __init__(self, model, stats, prompt_tokens, max_tokens, finish_reason, arrival):
        self.model, self.stats, self.prompt_tokens, self.max_tokens = model, stats, prompt_tokens, max_tokens
        self.finish_reason, self.arrival = finish_reason, arrival
        self.admitted = self.prefilled = self.first = self.last = None
        self.due = 0.0
        self.generated = 0
        self.done = self.waiting = False
        self.input_s = self.output_s = 0.0


class Engine:
    """One endpoint's state: settings, faults, the batch and its queue, the metrics. Runs on the server's event loop."""

    def __init__(self, spec):
        self.name, self.flavor = spec["name"], spec["flavor"]
        self.port, self.metrics_port = spec["port"], spec["metrics_port"]
        self.initial = spec["settings"]
        self.settings = dict(self.initial)
        self.faults = frozenset(self.settings["faults"])
        self.rng = random.Random(self.settings["seed"])
        self.running = 0
        self.queue = collections.deque()
        self.jobs = set()
        self.stats = {}
        self.unstall = asyncio.Event()
        self.gpu_uuid = "GPU-" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"eks-llm-standin/{self.name}"))
        self.loop = None

    # settings and faults
    def describe(self):
        waiting = sum(1 for job in self.jobs if job.waiting)
        return {"name": self.name, "flavor": self.flavor, "port": self.port, "metrics_port": self.metrics_port, **self.settings,
                "served_models": self.served_models(), "state": {"running": self.running, "waiting": waiting}}

    def configure(self, changes):
        new = apply_settings(self.flavor, self.settings, changes)
        if "seed" in changes:
            self.rng = random.Random(new["seed"])
        self.settings, self.faults = new, frozenset(new["faults"])
        if "stalled_stream" not in self.faults:
            self.unstall.set()
            self.unstall = asyncio.Event()
        self._pump()
        return self.describe()

    def reset(self, settings=False):
        """Zero the metrics; with settings=True also go back to the settings the endpoint started with."""
        self.stats = {}
        if settings:
            self.configure(dict(self.initial))
        return self.describe()

    def served_models(self):
        suffix = WRONG_SUFFIX if "wrong_models" in self.faults else ""
        return [model + suffix for model in self.settings["models"]]

    def model_stats(self, model):
        stats = self.stats.get(model)
        if stats is None:
            stats = self.stats[model] = ModelStats()
        return stats

    def fail(self, model, reason="BACKEND"):
        self.model_stats(model).failed[reason] += 1

    def _jitter(self):
        pct = self.settings["jitter_pct"]
        return 1.0 + self.rng.uniform(-pct, pct) / 100.0 if pct else 1.0

    # the batch
    async def run(self, job, on_token=None):
        """Serve one job: wait for a batch slot, prefill, then each token (`await on_token(index)` after it); job.done at the end."""
        self.jobs.add(job)
        try:
            await self._admit(job)
            await self._prefill(job)
            count = 0 if "empty_output" in self.faults else job.max_tokens
            for index in range(count):
                if index:
                    await self._next_token(job)
                self._emit(job)
                if on_token is not None:
                    await on_token(index)
                if not index and "stalled_stream" in self.faults:
                    while "stalled_stream" in self.faults:
                        await self.unstall.wait()
            job.done = True
        finally:
            self.jobs.discard(job)
            if job.admitted is not None:
                self.running -= 1
                self._pump()
            self._finish(job)

    async def _admit(self, job):
        if self.queue or self.running >= self.settings["max_batch"]:
            job.waiting = True
            future = self.loop.create_future()
            self.queue.append(future)
            try:
                await future
            except asyncio.CancelledError:
                if future.cancelled():
                    if future in self.queue:
                        self.queue.remove(future)
                else:  # the slot was granted just before the client left: hand it on
                    self.running -= 1
                    self._pump()
                raise
            finally:
                job.waiting = False
        else:
            self.running += 1
        job.admitted = self.loop.time()

    def _pump(self):
        while self.queue and self.running < self.settings["max_batch"]:
            future = self.queue.popleft()
            if not future.done():
                self.running += 1
                future.set_result(None)

    async def _prefill(self, job):
        """Sleep ttft(active), re-reading `active` every slice so that arrivals and departures change the pace."""
        scale = self._jitter()
        step = max(MIN_SLICE_S, self.settings["ttft_ms"] / 1000.0 / PREFILL_SLICES)
        remaining, now = 1.0, self.loop.time()
        while remaining > 1e-6:
            full = latency_ms(self.settings, self.running)[0] / 1000.0 * scale
            if full <= 0:
                break
            await asyncio.sleep(min(remaining * full, step))
            later = self.loop.time()
            remaining -= (later - now) / full
            now = later
        job.prefilled = now
        job.stats.counters["prompt_tokens"] += job.prompt_tokens

    async def _next_token(self, job):
        job.due += latency_ms(self.settings, self.running)[1] / 1000.0 * self._jitter()
        wait = job.due - self.loop.time()
        if wait > 0:
            await asyncio.sleep(wait)

    def _emit(self, job):
        now = self.loop.time()
        stats = job.stats
        if job.generated:
            stats.hist["itl"].observe(now - job.last)
        else:
            job.first = job.due = now
            stats.hist["ttft"].observe(now - job.arrival)
        job.last = now
        job.generated += 1
        stats.counters["generation_tokens"] += 1

    def _finish(self, job):
        stats = job.stats
        if not job.done:
            stats.failed["CANCELED"] += 1
            return
        now = self.loop.time()
        stats.finished[job.finish_reason] += 1
        observe = {"e2e": now - job.arrival, "queue": job.admitted - job.arrival - job.input_s, "prefill": job.prefilled - job.admitted,
                   "decode": now - job.prefilled, "inference": now - job.admitted, "prompt_len": job.prompt_tokens, "gen_len": job.generated}
        if job.generated > 1:
            observe["tpot"] = (now - job.first) / (job.generated - 1)
        for key, value in observe.items():
            stats.hist[key].observe(value)
        stats.hist["params_n"].observe(1)

    def handoff(self, job):
        """Triton's statistics of a vLLM backend request: taken when execute() returns, which it does at once (the python
        backend reports them then; the request's generation runs on vLLM's event loop afterwards). No queue: the one model
        instance is free again within microseconds."""
        counters = job.stats.counters
        counters["success"] += 1
        counters["inference_count"] += 1
        counters["exec_count"] += 1
        counters["input_us"] += int(job.input_s * 1e6)
        counters["infer_us"] += int(HANDOFF_S * 1e6)
        counters["request_us"] += int((job.input_s + HANDOFF_S) * 1e6)

    # metrics
    def load(self):
        """(running, waiting, KV tokens) per served model, from the jobs in flight."""
        per_model = {model: [0, 0, 0] for model in self.served_models()}
        for job in self.jobs:
            entry = per_model.setdefault(job.model, [0, 0, 0])
            if job.waiting:
                entry[1] += 1
            elif job.admitted is not None:
                entry[0] += 1
                entry[2] += job.prompt_tokens + job.generated
        return per_model

    def render_llm_metrics(self, style, lines, label_fmt):
        """The LLM series in `style` (0 = NIM 1.x, 1 = vLLM V1, 2 = Triton vLLM backend) appended to lines."""
        load = self.load()
        capacity = self.settings["kv_cache_tokens"]
        models = list(load)
        for key, kind, *names, help_text in LLM_METRICS:
            name = names[style]
            if name is None:
                continue
            name = ("vllm:" if style else "") + name
            lines.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}")
            for model in models:
                labels = label_fmt(model)
                stats = self.model_stats(model)
                if kind == "histogram":
                    _histogram_lines(lines, name, labels, stats.hist[key])
                elif key == "success":
                    reasons = dict(stats.finished, abort=stats.failed["CANCELED"])
                    lines.extend(f'{name}{{{labels},finished_reason="{reason}"}} {float(count)}' for reason, count in sorted(reasons.items()))
                else:
                    value = {"running": load[model][0], "waiting": load[model][1], "max": self.settings["max_batch"],
                             "kv": min(1.0, load[model][2] / capacity), "failure": stats.failed["BACKEND"]}.get(key)
                    lines.append(f"{name}{{{labels}}} {float(stats.counters[key] if value is None else value)}")

    def openai_metrics(self):
        lines = _process_lines()
        if "missing_metrics" not in self.faults:
            style = 1 if self.settings["metrics_prefix"] == "vllm:" else 0
            self.render_llm_metrics(style, lines, lambda model: f'model_name="{_escape(model)}"')
        return "\n".join(lines) + "\n"

    def triton_metrics(self):
        lines = []  # Triton's prometheus-cpp registry has no process_* series
        if "missing_metrics" not in self.faults:
            models = self.served_models()
            label = {model: _triton_labels(model) for model in models}
            lines.append("# HELP nv_inference_request_success Number of successful inference requests, all batch sizes\n"
                         "# TYPE nv_inference_request_success counter")
            lines.extend(f"nv_inference_request_success{{{label[model]}}} {float(self.model_stats(model).counters['success'])}"
                         for model in models)
            lines.append("# HELP nv_inference_request_failure Number of failed inference requests, all batch sizes\n"
                         "# TYPE nv_inference_request_failure counter")
            lines.extend(f'nv_inference_request_failure{{model="{_escape(model)}",reason="{reason}",version="{TRITON_VERSION}"}} '
                         f"{float(self.model_stats(model).failed[reason])}" for model in models for reason in TRITON_FAILURE_REASONS)
            for name, key, help_text in TRITON_COUNTERS:
                lines.append(f"# HELP {name} {help_text}\n# TYPE {name} counter")
                lines.extend(f"{name}{{{label[model]}}} {float(self.model_stats(model).counters[key])}" for model in models)
            for name, number, help_text in (
                    ("nv_inference_pending_request_count", 0, "Instantaneous number of pending requests awaiting execution per-model."),
                    ("nv_model_load_duration_secs", MODEL_LOAD_S, "Model load time in seconds")):
                lines.append(f"# HELP {name} {help_text}\n# TYPE {name} gauge")
                lines.extend(f"{name}{{{label[model]}}} {float(number)}" for model in models)
            self.render_llm_metrics(2, lines, _triton_labels)
        busy = self.running / self.settings["max_batch"]
        kv_used = min(1.0, sum(entry[2] for entry in self.load().values()) / self.settings["kv_cache_tokens"])
        gpu = f'gpu_uuid="{self.gpu_uuid}"'
        for name, kind, value, help_text in (
                ("nv_gpu_utilization", "gauge", busy, "GPU utilization rate [0.0 - 1.0)"),
                ("nv_gpu_memory_total_bytes", "gauge", GPU_MEMORY_BYTES, "GPU total memory, in bytes"),
                ("nv_gpu_memory_used_bytes", "gauge", int(GPU_MEMORY_BYTES * (WEIGHTS_FRACTION + 0.35 * kv_used)), "GPU used memory, in bytes"),
                ("nv_gpu_power_usage", "gauge", 70.0 + 630.0 * busy, "GPU power usage in watts"),
                ("nv_gpu_power_limit", "gauge", 700.0, "GPU power management limit in watts"),
                ("nv_energy_consumption", "counter", 70.0 * (time.time() - START_TIME), "GPU energy consumption in joules since the Triton Server started")):
            lines.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n{name}{{{gpu}}} {float(value)}")
        for name, value, help_text in (
                ("nv_pinned_memory_pool_total_bytes", 2 ** 28, "Pinned memory pool total memory size, in bytes"),
                ("nv_pinned_memory_pool_used_bytes", 0, "Pinned memory pool used memory size, in bytes"),
                ("nv_cpu_utilization", min(1.0, 0.05 + 0.1 * busy), "CPU utilization rate [0.0 - 1.0]"),
                ("nv_cpu_memory_total_bytes", CPU_MEMORY_BYTES, "CPU total memory (RAM), in bytes"),
                ("nv_cpu_memory_used_bytes", CPU_MEMORY_BYTES // 8, "CPU used memory (RAM), in bytes")):
            lines.append(f"# HELP {name} {help_text}\n# TYPE {name} gauge\n{name} {float(value)}")
        return "\n".join(lines) + "\n"


def _escape(value):
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _triton_labels(model):
    return f'model="{_escape(model)}",version="{TRITON_VERSION}"'


def prometheus_response(text):
    return web.Response(body=text.encode(), headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def optional_json(request):
    """The JSON body of a request that may have none ({}); BadRequest if it is not JSON."""
    raw = await request.read()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise BadRequest(400, f"invalid JSON body: {exc}") from None


def _histogram_lines(lines, name, labels, hist):
    cumulative = 0
    for bound, count in zip(hist.buckets, hist.counts):
        cumulative += count
        lines.append(f'{name}_bucket{{{labels},le="{float(bound)}"}} {float(cumulative)}')
    lines.append(f'{name}_bucket{{{labels},le="+Inf"}} {float(hist.count)}')
    lines.append(f"{name}_sum{{{labels}}} {float(hist.total)}")
    lines.append(f"{name}_count{{{labels}}} {float(hist.count)}")


def _process_lines():
    return ["# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
            "# TYPE process_start_time_seconds gauge", f"process_start_time_seconds {START_TIME}",
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
            "# TYPE process_cpu_seconds_total counter", f"process_cpu_seconds_total {time.process_time()}"]


def _words(text):
    return len(text.split()) if isinstance(text, str) else 0


def _max_tokens(values, default):
    """Output length and finish reason from the first given of (max_completion_tokens, max_tokens) and min_tokens."""
    limit = next((value for key, value in values if key != "min_tokens" and value is not None), None)
    floor = dict(values).get("min_tokens") or 0
    for key, value in values:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "min_tokens" else 1)):
            raise BadRequest(400, f"{key} must be {'a non-negative' if key == 'min_tokens' else 'a positive'} integer, got {value!r}")
    if limit is None:
        return max(default, floor), "stop"
    if floor > limit:
        raise BadRequest(400, f"min_tokens must be less than or equal to max_tokens={limit}, got {floor}.")
    return limit, "length"


# ---- HTTP: OpenAI (NIM / vLLM) ----------------------------------------------------------------------
SSE_HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}


def openai_error(status, message, kind):
    return web.json_response({"error": {"message": message, "type": kind, "param": None, "code": status}}, status=status)


def health(engine, ready, body):
    """A health route: 200 with body, or 503 when the endpoint pretends not to be ready."""
    async def handler(_request):
        if ready and "not_ready" in engine.faults:
            message = "Service is not ready." if body is not None else None
            return web.json_response({"object": "health-response", "message": message}, status=503) if message else web.Response(status=503)
        return web.json_response(body) if body is not None else web.Response(status=200)
    return handler


class OpenAIFrontend:
    """NIM / vLLM routes of one engine."""

    def __init__(self, engine):
        self.engine = engine

    def routes(self):
        engine = self.engine
        if engine.flavor == "vllm":  # vLLM: one health route, metrics only at /metrics
            return [web.get("/health", health(engine, True, None)), web.get("/version", self.version), web.get("/v1/models", self.models),
                    web.post("/v1/completions", self.completions), web.post("/v1/chat/completions", self.chat),
                    web.get("/metrics", self.metrics)]
        live = health(engine, False, {"object": "health-response", "message": "Service is live."})
        ready = health(engine, True, {"object": "health-response", "message": "Service is ready."})
        return [web.get("/v1/health/live", live), web.get("/v1/health/ready", ready), web.get("/health", health(engine, True, None)),
                web.get("/health/ready", health(engine, True, None)), web.get("/v1/models", self.models),
                web.post("/v1/completions", self.completions), web.post("/v1/chat/completions", self.chat),
                web.get("/v1/metrics", self.metrics), web.get("/metrics", self.metrics)]

    async def version(self, _request):
        return web.json_response({"version": VLLM_VERSION})

    async def models(self, _request):
        owner = "vllm" if self.engine.flavor == "vllm" else "system"
        data = [{"id": model, "object": "model", "created": int(START_TIME), "owned_by": owner, "root": model, "parent": None,
                 "max_model_len": self.engine.settings["max_model_len"], "permission": []} for model in self.engine.served_models()]
        return web.json_response({"object": "list", "data": data})

    async def metrics(self, _request):
        return prometheus_response(self.engine.openai_metrics())

    async def completions(self, request):
        return await self._serve(request, chat=False)

    async def chat(self, request):
        return await self._serve(request, chat=True)

    def _parse(self, body, chat):
        """(model, prompt tokens, output tokens, finish reason, stream, include usage) of a request body."""
        if not isinstance(body, dict):
            raise BadRequest(400, "the request body must be a JSON object")
        served = self.engine.served_models()
        model = body.get("model") or served[0]
        if model not in served:
            raise BadRequest(404, f"The model `{model}` does not exist.", "NotFoundError")
        if chat:
            messages = body.get("messages")
            if not isinstance(messages, list) or not messages or not all(isinstance(message, dict) for message in messages):
                raise BadRequest(400, "messages must be a non-empty list of message objects")
            prompt = 0
            for message in messages:
                content = message.get("content")
                parts = content if isinstance(content, list) else [{"text": content}]
                prompt += sum(_words(part.get("text")) for part in parts if isinstance(part, dict))
        else:
            prompt_value = body.get("prompt")
            if isinstance(prompt_value, list) and len(prompt_value) == 1 and isinstance(prompt_value[0], (str, list)):
                prompt_value = prompt_value[0]
            if isinstance(prompt_value, str):
                prompt = _words(prompt_value)
            elif isinstance(prompt_value, list) and all(isinstance(token, int) for token in prompt_value):
                prompt = len(prompt_value)
            else:
                raise BadRequest(400, "prompt must be a string, a list of token ids, or a list with one of them")
        if body.get("n", 1) != 1:
            raise BadRequest(400, "the stand-in supports n=1 only")
        keys = ("max_completion_tokens", "max_tokens", "min_tokens") if chat else ("max_tokens", "min_tokens")
        tokens, reason = _max_tokens([(key, body.get(key)) for key in keys], self.engine.settings["default_max_tokens"])
        limit = self.engine.settings["max_model_len"]
        if prompt + tokens > limit:
            raise BadRequest(400, f"This model's maximum context length is {limit} tokens. However, you requested {prompt + tokens} tokens "
                                  f"({prompt} in the messages, {tokens} in the completion). Please reduce the length of the messages or completion.")
        stream = bool(body.get("stream"))
        include_usage = stream and bool((body.get("stream_options") or {}).get("include_usage"))
        return model, prompt, tokens, reason, stream, include_usage

    async def _serve(self, request, chat):
        engine = self.engine
        started = engine.loop.time()
        try:
            try:
                body = await request.json()
            except ValueError as exc:
                raise BadRequest(400, f"invalid JSON body: {exc}") from None
            model, prompt, tokens, reason, stream, include_usage = self._parse(body, chat)
        except BadRequest as exc:
            return openai_error(exc.status, exc.message, exc.kind)
        if "server_error" in engine.faults:
            engine.fail(model)
            return openai_error(500, "Internal server error (stand-in fault server_error)", "InternalServerError")
        job = Job(model, engine.model_stats(model), prompt, tokens, reason, started)
        job.input_s = engine.loop.time() - started
        kind = "chat.completion" if chat else "text_completion"
        ident = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
        head = {"id": ident, "object": kind, "created": int(time.time()), "model": model}
        if stream:
            return await self._stream(request, job, head, chat, include_usage)
        await engine.run(job)
        text = "".join(PIECES[index % len(PIECES)] for index in range(job.generated))
        choice = {"index": 0, "message": {"role": "assistant", "content": text}} if chat else {"index": 0, "text": text}
        choice.update(logprobs=None, finish_reason=job.finish_reason)
        return web.json_response(dict(head, choices=[choice], usage=_usage(job)))

    async def _stream(self, request, job, head, chat, include_usage):
        response = web.StreamResponse(headers=SSE_HEADERS)
        await response.prepare(request)
        head = dict(head, object="chat.completion.chunk") if chat else head
        prefix = b"data: " + dumps(head).encode()[:-1] + b',"choices":[{"index":0,' + (b'"delta":{"content":' if chat else b'"text":')
        middle = (b"}" if chat else b"") + b',"logprobs":null,"finish_reason":'
        reason = dumps(job.finish_reason).encode()
        last = job.max_tokens - 1
        loop_time = self.engine.loop.time

        async def send(index):
            started = loop_time()
            data = prefix + PIECES_JSON[index % len(PIECES_JSON)] + middle + (reason if index == last else b"null") + b"}]}\n\n"
            if chat and not index:
                role = {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
                data = b"data: " + dumps(dict(head, choices=[role])).encode() + b"\n\n" + data
            await response.write(data)
            job.output_s += loop_time() - started

        try:
            await self.engine.run(job, send)
            if not job.generated:  # empty_output: one empty piece that finishes the choice
                await response.write(prefix + b'""' + middle + reason + b"}]}\n\n")
            if include_usage:
                await response.write(b"data: " + dumps(dict(head, choices=[], usage=_usage(job))).encode() + b"\n\n")
            await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except ConnectionError:
            pass  # the client left; the engine counted the request as cancelled
        return response


def _usage(job):
    return {"prompt_tokens": job.prompt_tokens, "completion_tokens": job.generated, "total_tokens": job.prompt_tokens + job.generated}


# ---- HTTP: Triton ------------------------------------------------------------------------------------
def triton_error(status, message):
    return web.json_response({"error": message}, status=status)


class TritonFrontend:
    """Triton (KServe v2 + generate extension) routes of one engine; its metrics live on a second app."""

    def __init__(self, engine):
        self.engine = engine

    def routes(self):
        engine = self.engine
        model_routes = []
        for base in ("/v2/models/{model}", "/v2/models/{model}/versions/{version}"):
            model_routes += [web.get(base, self.metadata), web.get(base + "/ready", self.model_ready), web.get(base + "/config", self.config),
                             web.post(base + "/generate", self.generate), web.post(base + "/generate_stream", self.generate)]
        return [web.get("/v2/health/live", health(engine, False, None)), web.get("/v2/health/ready", health(engine, True, None)),
                web.get("/v2", self.server_metadata), web.post("/v2/repository/index", self.index)] + model_routes

    def metrics_routes(self):
        return [web.get("/metrics", self.metrics)]

    def _model(self, request):
        model, version = request.match_info["model"], request.match_info.get("version", TRITON_VERSION)
        if model not in self.engine.served_models() or version != TRITON_VERSION:
            raise BadRequest(404, f"Request for unknown model: '{model}' version {version} is not found"
                             if "version" in request.match_info else f"Request for unknown model: '{model}' is not found")
        return model

    async def server_metadata(self, _request):
        return web.json_response({"name": "triton", "version": TRITON_SERVER_VERSION,
                                  "extensions": ["classification", "sequence", "model_repository", "model_repository(unload_dependents)",
                                                 "schedule_policy", "model_configuration", "system_shared_memory", "cuda_shared_memory",
                                                 "binary_tensor_data", "parameters", "statistics", "trace", "logging", "generate"]})

    async def index(self, request):
        try:
            body = await optional_json(request)
        except BadRequest as exc:
            return triton_error(exc.status, exc.message)
        state = "UNAVAILABLE" if "not_ready" in self.engine.faults else "READY"
        entries = [{"name": model, "version": TRITON_VERSION, "state": state} | ({"reason": "loading"} if state != "READY" else {})
                   for model in self.engine.served_models()]
        if isinstance(body, dict) and body.get("ready"):
            entries = [entry for entry in entries if entry["state"] == "READY"]
        return web.json_response(entries)

    async def metadata(self, request):
        try:
            model = self._model(request)
        except BadRequest as exc:
            return triton_error(exc.status, exc.message)
        return web.json_response({"name": model, "versions": [TRITON_VERSION], "platform": "vllm",
                                  "inputs": [{"name": "text_input", "datatype": "BYTES", "shape": [1]},
                                             {"name": "stream", "datatype": "BOOL", "shape": [1]},
                                             {"name": "sampling_parameters", "datatype": "BYTES", "shape": [1]},
                                             {"name": "exclude_input_in_output", "datatype": "BOOL", "shape": [1]}],
                                  "outputs": [{"name": "text_output", "datatype": "BYTES", "shape": [-1]}]})

    async def model_ready(self, request):
        try:
            self._model(request)
        except BadRequest as exc:
            return triton_error(exc.status, exc.message)
        return web.Response(status=503 if "not_ready" in self.engine.faults else 200)

    async def config(self, request):
        try:
            model = self._model(request)
        except BadRequest as exc:
            return triton_error(exc.status, exc.message)
        optional = [("stream", "TYPE_BOOL"), ("sampling_parameters", "TYPE_STRING"), ("exclude_input_in_output", "TYPE_BOOL")]
        return web.json_response({
            "name": model, "platform": "", "backend": "vllm", "runtime": "model.py", "version_policy": {"latest": {"num_versions": 1}},
            "max_batch_size": 0, "input": [{"name": "text_input", "data_type": "TYPE_STRING", "dims": [1]}]
            + [{"name": name, "data_type": kind, "dims": [1], "optional": True} for name, kind in optional],
            "output": [{"name": "text_output", "data_type": "TYPE_STRING", "dims": [-1]}],
            "instance_group": [{"name": f"{model}_0", "kind": "KIND_MODEL", "count": 1}],
            "model_transaction_policy": {"decoupled": True}, "parameters": {"REPORT_CUSTOM_METRICS": {"string_value": "true"}}})

    async def metrics(self, _request):
        return prometheus_response(self.engine.triton_metrics())

    @staticmethod
    def _parse(body, default):
        """(prompt text, output tokens, finish reason, exclude input) of a generate request."""
        if not isinstance(body, dict):
            raise BadRequest(400, "the request body must be a JSON object")
        text = body.get("text_input")
        if isinstance(text, list) and len(text) == 1:
            text = text[0]
        if not isinstance(text, str):
            raise BadRequest(400, "text_input must be a string")
        parameters = body.get("parameters") or {}
        sampling = body.get("sampling_parameters") or parameters.get("sampling_parameters") or {}
        if isinstance(sampling, list) and len(sampling) == 1:
            sampling = sampling[0]
        if isinstance(sampling, str):
            try:
                sampling = json.loads(sampling)
            except ValueError:
                raise BadRequest(400, "sampling_parameters must be JSON") from None
        if not isinstance(parameters, dict) or not isinstance(sampling, dict):
            raise BadRequest(400, "parameters and sampling_parameters must be objects")
        values = []
        for key in ("max_tokens", "min_tokens"):
            value = next((source[key] for source in (parameters, body, sampling) if source.get(key) is not None), None)
            if isinstance(value, str) and value.isdigit():
                value = int(value)
            values.append((key, value))
        tokens, reason = _max_tokens(values, default)
        exclude = parameters.get("exclude_input_in_output", body.get("exclude_input_in_output", False))
        return text, tokens, reason, exclude in (True, [True], "true")

    async def generate(self, request):
        engine = self.engine
        started = engine.loop.time()
        stream = request.path.endswith("_stream")
        try:
            model = self._model(request)
            try:
                body = await request.json()
            except ValueError as exc:
                raise BadRequest(400, f"failed to parse the request JSON buffer: {exc}") from None
            text, tokens, reason, exclude = self._parse(body, engine.settings["default_max_tokens"])
        except BadRequest as exc:
            return triton_error(exc.status, exc.message)
        if "server_error" in engine.faults:
            engine.fail(model)
            return triton_error(500, "vLLM backend error (stand-in fault server_error)")
        job = Job(model, engine.model_stats(model), _words(text), tokens, reason, started)
        job.input_s = engine.loop.time() - started
        engine.handoff(job)
        head = {"model_name": model, "model_version": TRITON_VERSION}
        if not stream:
            await engine.run(job)
            output = "".join(PIECES[index % len(PIECES)] for index in range(job.generated))
            return web.json_response(dict(head, text_output=output if exclude else text + output))
        response = web.StreamResponse(headers=SSE_HEADERS)
        await response.prepare(request)
        prefix = b"data: " + dumps(head).encode()[:-1] + b',"text_output":'
        loop_time = engine.loop.time

        async def send(index):
            begin = loop_time()
            await response.write(prefix + PIECES_JSON[index % len(PIECES_JSON)] + b"}\n\n")
            job.output_s += loop_time() - begin

        try:
            await engine.run(job, send)
            if not job.generated:
                await response.write(prefix + b'""}\n\n')
            await response.write_eof()
        except ConnectionError:
            pass
        return response


# ---- control API ---------------------------------------------------------------------------------------
def control_routes(engine):
    async def get_config(_request):
        return web.json_response(engine.describe())

    async def post_config(request):
        try:
            return web.json_response(engine.configure(await request.json()))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)

    async def reset(request):
        try:
            body = await optional_json(request)
        except BadRequest as exc:
            return web.json_response({"error": exc.message}, status=400)
        return web.json_response(engine.reset(settings=bool(isinstance(body, dict) and body.get("settings"))))

    async def health_check(_request):
        return web.json_response({"status": "ok", "pid": os.getpid(), "endpoint": engine.name})

    return [web.get("/_standin/config", get_config), web.post("/_standin/config", post_config), web.post("/_standin/reset", reset),
            web.get("/_standin/health", health_check)]


# ---- the server ------------------------------------------------------------------------------------------
def _listen(host, port):
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class LLMServer:
    """All endpoints of one config on the running event loop: `await start()`, `await stop()`, `describe()`."""

    def __init__(self, config):
        self.config = config
        self.host, specs = endpoint_specs(config)
        self.engines = [Engine(spec) for spec in specs]
        self.runners = []

    async def start(self):
        loop = asyncio.get_running_loop()
        sockets = []
        try:
            for engine in self.engines:
                engine.loop = loop
                main = _listen(self.host, engine.port)
                engine.port = main.getsockname()[1]
                frontend = (TritonFrontend if engine.flavor == "triton" else OpenAIFrontend)(engine)
                sockets.append((main, frontend.routes() + control_routes(engine)))
                if engine.flavor == "triton":
                    metrics = _listen(self.host, engine.metrics_port)
                    engine.metrics_port = metrics.getsockname()[1]
                    sockets.append((metrics, frontend.metrics_routes() + control_routes(engine)))
                else:
                    engine.metrics_port = engine.port
        except OSError:
            for sock, _routes in sockets:
                sock.close()
            raise
        for sock, routes in sockets:
            app = web.Application(client_max_size=64 * 2 ** 20)
            app.add_routes(routes)
            runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self.runners.append(runner)
        return self

    async def stop(self):
        for engine in self.engines:  # let stalled streams go so that shutdown does not wait for them
            engine.configure({"faults": {"stalled_stream": False}})
        while self.runners:
            await self.runners.pop().cleanup()

    def describe(self):
        """What llm_endpoints.json holds: URLs per endpoint name."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        endpoints = {}
        for engine in self.engines:
            base = f"http://{host}:{engine.port}"
            metrics_base = f"http://{host}:{engine.metrics_port}"
            info = {"name": engine.name, "flavor": engine.flavor, "port": engine.port, "metrics_port": engine.metrics_port,
                    "models": list(engine.settings["models"]), "base_url": base, "host_port": f"{host}:{engine.port}",
                    "control_url": f"{base}/_standin"}
            if engine.flavor == "triton":
                info.update(metrics_url=f"{metrics_base}/metrics", health_url=f"{base}/v2/health/ready")
            elif engine.flavor == "vllm":
                info.update(openai_url=f"{base}/v1", metrics_url=f"{base}/metrics", health_url=f"{base}/health")
            else:
                info.update(openai_url=f"{base}/v1", metrics_url=f"{base}/v1/metrics", health_url=f"{base}/v1/health/ready")
            endpoints[engine.name] = info
        return {"pid": os.getpid(), "host": self.host, "config": self.config, "endpoints": endpoints}


def _http_json(url, body=None, timeout=5):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


class LLMStandIn:
    """The stand-in for tests: on a background thread of this process, or (process=True) as a detached child via start/stop.

    `endpoints` is a config (a list of endpoint specs or {"host", "endpoints"}); ports 0 pick free ports.
    """

    def __init__(self, endpoints, host="127.0.0.1", process=False):
        self.config = {"host": host, "endpoints": endpoints} if isinstance(endpoints, list) else dict(endpoints)
        endpoint_specs(self.config)  # fail early, in the caller's thread
        self.process = process
        self.info = None
        self._loop = self._thread = self._server = self._tmp = None

    @property
    def endpoints(self):
        """{name: {"flavor", "port", "metrics_port", "models", "base_url", "openai_url"|-, "metrics_url", "health_url", "control_url"}}"""
        return self.info["endpoints"]

    def start(self):
        if self.process:
            self._tmp = tempfile.TemporaryDirectory(prefix="llm-standin-")
            path = os.path.join(self._tmp.name, "config.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.config, handle)
            self.info = start_daemon(path, self._tmp.name)
            return self
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="llm-standin", daemon=True)
        self._thread.start()
        self._server = LLMServer(self.config)
        try:
            asyncio.run_coroutine_threadsafe(self._server.start(), self._loop).result(timeout=30)
        except BaseException:
            self._close_loop()
            raise
        self.info = self._server.describe()
        return self

    def stop(self):
        if self._tmp is not None:
            stop_daemon(self._tmp.name)
            self._tmp.cleanup()
            self._tmp = None
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(timeout=30)
            self._server = None
            self._close_loop()

    def _close_loop(self):
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _name(self, name):
        return name if name is not None else next(iter(self.endpoints))

    def url(self, name=None, kind="base_url"):
        """A URL of endpoint `name` (default: the first): base_url, openai_url, metrics_url, health_url or control_url."""
        return self.endpoints[self._name(name)][kind]

    def configure(self, name=None, **settings):
        """Change runtime settings/faults of an endpoint (POST /_standin/config); returns its settings."""
        return _http_json(self.url(name, "control_url") + "/config", settings)

    def settings(self, name=None):
        return _http_json(self.url(name, "control_url") + "/config")

    def reset(self, name=None, settings=False):
        """Zero the endpoint's metrics; settings=True also restores the settings it started with."""
        return _http_json(self.url(name, "control_url") + "/reset", {"settings": settings})

    def reset_all(self, settings=True):
        for name in self.endpoints:
            self.reset(name, settings=settings)

    def metrics(self, name=None):
        with urllib.request.urlopen(self.url(name, "metrics_url"), timeout=5) as response:
            return response.read().decode()


@contextlib.contextmanager
def running_llm_server(endpoints, host="127.0.0.1", process=False):
    """`with running_llm_server([{"flavor": "nim", "models": ["m"]}]) as llm:` -> a started LLMStandIn (llm.endpoints, llm.url())."""
    standin = LLMStandIn(endpoints, host=host, process=process)
    with standin:
        yield standin


# ---- CLI ---------------------------------------------------------------------------------------------------
def _paths(state_dir):
    state_dir = os.path.abspath(state_dir)
    return {name: os.path.join(state_dir, name) for name in ("llm_server.pid", "llm_server.log", "llm_endpoints.json")}


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _running_pid(paths):
    try:
        with open(paths["llm_server.pid"], encoding="utf-8") as handle:
            pid = int(handle.read().strip())
    except (OSError, ValueError):
        return None
    return pid if process_alive(pid) else None


def _answers(info):
    """True when every port of every endpoint in llm_endpoints.json answers its control API."""
    if not info:
        return False
    try:
        for endpoint in info["endpoints"].values():
            for port in sorted({endpoint["port"], endpoint["metrics_port"]}):
                host = endpoint["host_port"].rsplit(":", 1)[0]
                if _http_json(f"http://{host}:{port}/_standin/health", timeout=2).get("status") != "ok":
                    return False
    except (OSError, ValueError, KeyError):
        return False
    return True


def load_config(path):
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    endpoint_specs(config)
    return config


def start_daemon(config_path, state_dir, timeout=30):
    """Start `serve` detached (new session) unless a server with the same config answers; returns llm_endpoints.json's content."""
    config = load_config(config_path)
    paths = _paths(state_dir)
    os.makedirs(os.path.dirname(paths["llm_server.pid"]), exist_ok=True)
    pid = _running_pid(paths)
    if pid:
        info = _read_json(paths["llm_endpoints.json"])
        if info and info.get("pid") == pid and info.get("config") == config and _answers(info):
            return dict(info, already_running=True)
        stop_daemon(state_dir)
    for name in ("llm_endpoints.json", "llm_server.pid"):
        if os.path.exists(paths[name]):
            os.remove(paths[name])
    command = [sys.executable, "-m", "tests.standin.llm_server", "serve", "--config", os.path.abspath(config_path), "--state-dir",
               os.path.abspath(state_dir)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    with open(paths["llm_server.log"], "ab") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,  # pylint: disable=consider-using-with
                                   start_new_session=True)
    with open(paths["llm_server.pid"], "w", encoding="utf-8") as handle:
        handle.write(f"{process.pid}\n")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            os.remove(paths["llm_server.pid"])
            raise RuntimeError(f"LLM stand-in exited with {process.returncode}; see {paths['llm_server.log']}")
        info = _read_json(paths["llm_endpoints.json"])
        if info and _answers(info):
            return dict(info, already_running=False)
        time.sleep(0.05)
    stop_daemon(state_dir)
    raise RuntimeError(f"LLM stand-in did not answer within {timeout} s; see {paths['llm_server.log']}")


def stop_daemon(state_dir):
    """SIGTERM (SIGKILL after 10 s) the server of state_dir; returns its pid, or None if none ran."""
    paths = _paths(state_dir)
    pid = _running_pid(paths)
    if pid:
        terminate(pid)
    for name in ("llm_server.pid", "llm_endpoints.json"):
        if os.path.exists(paths[name]):
            os.remove(paths[name])
    return pid


async def _serve(config, state_dir):
    server = await LLMServer(config).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    info = server.describe()
    if state_dir:
        path = _paths(state_dir)["llm_endpoints.json"]
        with open(path + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(info, handle, indent=2)
        os.replace(path + ".tmp", path)
    for name, endpoint in info["endpoints"].items():
        print(f"LLM stand-in {name} ({endpoint['flavor']}) on {endpoint['base_url']}, metrics {endpoint['metrics_url']}", flush=True)
    await stop.wait()
    await server.stop()


def _summary(info):
    return "\n".join(f"  {name}: {endpoint['flavor']} {endpoint['base_url']} models {', '.join(endpoint['models'])} metrics {endpoint['metrics_url']}"
                     for name, endpoint in info["endpoints"].items())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.standin.llm_server", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("serve", "start", "stop", "status"):
        sub = commands.add_parser(name)
        sub.add_argument("--state-dir", required=name != "serve")
        if name in ("serve", "start"):
            sub.add_argument("--config", required=True, help="JSON file: {'host', 'endpoints': [...]} (see the module docstring)")
    args = parser.parse_args(argv)
    paths = _paths(args.state_dir) if args.state_dir else None
    try:
        if args.command == "serve":
            asyncio.run(_serve(load_config(args.config), args.state_dir))
        elif args.command == "start":
            info = start_daemon(args.config, args.state_dir)
            verb = "already running" if info["already_running"] else "running"
            print(f"LLM stand-in {verb} (pid {info['pid']}); endpoints in {paths['llm_endpoints.json']}\n{_summary(info)}")
        elif args.command == "stop":
            pid = stop_daemon(args.state_dir)
            print(f"LLM stand-in (pid {pid}) stopped" if pid else "LLM stand-in not running")
        else:
            info = _read_json(paths["llm_endpoints.json"])
            if _running_pid(paths) and _answers(info):
                print(f"running (pid {info['pid']})\n{_summary(info)}")
                return 0
            print("not running")
            return 3
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"LLM stand-in: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
