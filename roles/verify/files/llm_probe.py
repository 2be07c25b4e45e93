#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""llm_probe: prove that LLM inference endpoints really serve, from wherever it runs.

Standard library only (Python >= 3.8), so the same file runs on the Ansible controller and in a
pinned python image inside the cluster. For every model of the spec it checks, over HTTP:

* OpenAI / NIM API: ``/v1/health/live`` and ``/v1/health/ready``, the model list (exactly the
  expected served names), a completion, a chat completion, a streamed chat completion, the prompt
  set sent concurrently, and the metrics series (with or without the ``vllm:`` prefix);
* Triton: ``/v2/health/live``, ``/v2/health/ready``, ``/v2/models/<m>/ready``, the repository index
  (exactly the expected models), a generate and a generate_stream request (``exclude_input_in_output``,
  so an echoed prompt is not mistaken for an answer), the prompt set through generate, and the
  ``nv_inference_*`` series of the model;
* vLLM's OpenAI server: the same as OpenAI / NIM, but its one health route ``/health`` (it answers once the
  engine is loaded; vLLM has no ``/v1/health/*``) and only ``vllm:``-prefixed series;
* optionally Prometheus: an active scrape target of the model's Service whose health is up.

Every check records what was expected and what came back; nothing passes by default (an empty
model list, an empty answer or a missing series is a failure). For each model the first generating
request that answered is recorded (``first_answers``: when it was sent and answered, UTC), the last
phase of the model's time to serving. The result is printed as one JSON
line after ``EKS_LLM_PROBE_RESULT`` on stdout (a Job's log carries it back to the controller), a
human-readable trace goes to stderr.

Usage::

    llm_probe.py --spec spec.json                 # what the verify role runs
    llm_probe.py --api openai --base-url http://localhost:8000 --model meta/llama3-8b-instruct \\
                 --prompts prompts.txt            # one model by hand (e.g. through a port-forward)

Exit status: 0 every check passed, 1 a check failed, 2 the probe could not run (bad arguments).
"""

import argparse
import concurrent.futures
import json
import math
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

RESULT_MARKER = "EKS_LLM_PROBE_RESULT "
BODY_EXCERPT = 200

# Series the metrics endpoint must serve. Each entry lists accepted spellings of one series;
# OpenAI/NIM names may carry the ``vllm:`` prefix (NIM 2.x passes vLLM's metrics through) and
# histograms count when any of their _bucket/_sum/_count series is served.
OPENAI_SERIES = (
    ("num_requests_running",),
    ("num_requests_waiting",),
    ("gpu_cache_usage_perc", "kv_cache_usage_perc"),
    ("prompt_tokens_total",),
    ("generation_tokens_total",),
    ("time_to_first_token_seconds",),
    ("e2e_request_latency_seconds",),
)
TRITON_SERIES = (
    ("nv_inference_request_success",),
    ("nv_inference_request_failure",),
    ("nv_inference_count",),
    ("nv_inference_exec_count",),
    ("nv_inference_pending_request_count",),
    ("nv_inference_request_duration_us",),
    ("nv_inference_queue_duration_us",),
    ("nv_inference_compute_infer_duration_us",),
    # the vLLM backend's own series (REPORT_CUSTOM_METRICS): the Triton HPA's metric is computed from it
    ("vllm:time_to_first_token_seconds",),
)
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

SPEC_DEFAULTS = {
    "timeout_s": 60.0,
    "concurrency": 8,
    "max_tokens": 64,
    "expect_metrics": True,
    "prometheus_url": "",
    "prompts": [],
}
MODEL_DEFAULTS = {
    "api": "openai",
    "namespace": "",
    "metrics_url": "",
    "served_model_name": "",
    "expected_models": None,
}
APIS = ("openai", "vllm", "triton")
# the APIs with OpenAI's routes (/v1/models, /v1/completions, /v1/chat/completions)
OPENAI_APIS = ("openai", "vllm")
SMOKE_PROMPT = "Name three primary colours."
# The checks that make the engine generate: the first of them to pass gives the model's first answer (time to serving).
GENERATING_CHECKS = ("completion", "chat_completion", "generate")


class ProbeError(Exception):
    """An HTTP exchange that did not give what a check needs; the message says what came back."""


def excerpt(text, limit=BODY_EXCERPT):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def http(method, url, timeout, payload=None):
    """Send one request; return (status, body text). Connection problems raise ProbeError."""
    data = None
    headers = {"Accept": "application/json"}
    if payload is not None:
        data = json.dumps(payload).encode("utf-8")
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace") if error.fp is not None else ""
        return error.code, body
    except (urllib.error.URLError, socket.timeout, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ProbeError("no HTTP response from %s %s: %s" % (method, url, reason))


def http_json(method, url, timeout, payload=None):
    """A request whose answer must be HTTP 200 with a JSON body; returns the decoded body."""
    status, body = http(method, url, timeout, payload)
    if status != 200:
        raise ProbeError("HTTP %d from %s %s: %s" % (status, method, url, excerpt(body) or "(empty body)"))
    try:
        return json.loads(body)
    except ValueError:
        raise ProbeError("HTTP 200 from %s %s but not JSON: %s" % (method, url, excerpt(body) or "(empty body)"))


def sse_events(method, url, timeout, payload):
    """Stream a request answered with server-sent events; yield each ``data:`` payload.

    ``timeout`` bounds the wait for every read, so a stream that stops sending fails instead
    of hanging. Raises ProbeError for a non-200 answer or a stalled / broken stream.
    """
    request = urllib.request.Request(url, data=json.dumps(payload).encode("utf-8"), method=method,
                                     headers={"Content-Type": "application/json", "Accept": "text/event-stream"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace") if error.fp is not None else ""
        raise ProbeError("HTTP %d from %s %s: %s" % (error.code, method, url, excerpt(body) or "(empty body)"))
    except (urllib.error.URLError, socket.timeout, OSError) as error:
        raise ProbeError("no HTTP response from %s %s: %s" % (method, url, getattr(error, "reason", error)))
    events = 0
    with response:
        while True:
            try:
                line = response.readline()
            except (socket.timeout, OSError) as error:
                raise ProbeError("stream stalled: nothing for %ss after %d event(s) (%s)" % (timeout, events, error))
            if not line:
                return
            line = line.decode("utf-8", "replace").strip()
            if line.startswith("data:"):
                events += 1
                yield line[len("data:"):].strip()


def percentile(values, share):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(math.ceil(share * len(ordered))))
    return ordered[min(rank, len(ordered)) - 1]


def metric_names(text):
    """Names and label sets of the series in a Prometheus text exposition: {name: [labels text, ...]}."""
    series = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        brace = line.find("{")
        space = line.find(" ")
        if brace != -1 and (space == -1 or brace < space):
            name, labels = line[:brace], line[brace + 1:line.rfind("}")]
        elif space != -1:
            name, labels = line[:space], ""
        else:
            continue
        series.setdefault(name, []).append(labels)
    return series


def find_series(series, spellings, prefixes=("",)):
    """The first served series matching one of ``spellings`` (any prefix, histogram suffixes allowed)."""
    for spelling in spellings:
        for prefix in prefixes:
            base = prefix + spelling
            for name in (base,) + tuple(base + suffix for suffix in HISTOGRAM_SUFFIXES):
                if name in series:
                    return name
    return None


class Check(object):
    """One verification step of one model: what was expected, what came back, pass or fail."""

    def __init__(self, model, name, expected):
        self.model = model
        self.name = name
        self.expected = expected
        self.got = "not run"
        self.ok = False

    def passed(self, got):
        self.ok, self.got = True, got

    def failed(self, got):
        self.ok, self.got = False, got

    def as_dict(self):
        return {"model": self.model, "check": self.name, "ok": self.ok, "expected": self.expected, "got": self.got}


class ModelProbe(object):
    """All the HTTP checks of one model."""

    def __init__(self, model, spec, log):
        self.model = model
        self.spec = spec
        self.log = log
        self.name = model["name"]
        self.base = model["base_url"].rstrip("/")
        self.timeout = float(spec["timeout_s"])
        self.max_tokens = int(spec["max_tokens"])
        self.checks = []
        self.prompt_report = None
        self.first_answer = None
        if model["api"] == "triton":
            self.served = model["served_model_name"] or model["name"]
        else:
            self.served = model["served_model_name"]
        expected = model["expected_models"]
        self.expected_models = sorted(expected if expected is not None else [self.served])

    def check(self, name, expected, action):
        """Run ``action`` (returns what came back, or raises ProbeError / ValueError naming what is wrong)."""
        result = Check(self.name, name, expected)
        sent = utc_now()
        try:
            result.passed(action())
        except (ProbeError, ValueError, KeyError, TypeError, IndexError) as error:
            result.failed(str(error) or error.__class__.__name__)
        if result.ok and name in GENERATING_CHECKS and self.first_answer is None:
            self.first_answer = {"check": name, "sent": sent, "answered": utc_now()}
        self.checks.append(result)
        self.log("%s %s %s: %s" % ("PASS" if result.ok else "FAIL", self.name, name, result.got))
        return result

    # --- shared building blocks -------------------------------------------------------------------

    def expect_status_200(self, path):
        url = self.base + path
        status, body = http("GET", url, self.timeout)
        if status != 200:
            raise ProbeError("HTTP %d from GET %s: %s" % (status, url, excerpt(body) or "(empty body)"))
        return "HTTP 200" + (": " + excerpt(body, 80) if body.strip() else "")

    def expect_exact_models(self, served):
        if not served:
            raise ProbeError("an empty model list")
        if sorted(served) != self.expected_models:
            raise ProbeError("%s (missing: %s; unexpected: %s)" % (
                sorted(served), sorted(set(self.expected_models) - set(served)) or "none",
                sorted(set(served) - set(self.expected_models)) or "none"))
        return "%s" % sorted(served)

    @staticmethod
    def non_empty(text, where):
        if not isinstance(text, str):
            raise ProbeError("%s is %s, not text" % (where, type(text).__name__))
        if not text.strip():
            raise ProbeError("%s is empty (%r)" % (where, text))
        return text

    # --- OpenAI / NIM -----------------------------------------------------------------------------

    def openai_models(self):
        body = http_json("GET", self.base + "/v1/models", self.timeout)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ProbeError("no 'data' list in the answer: %s" % excerpt(json.dumps(body)))
        return self.expect_exact_models([entry.get("id") for entry in data if isinstance(entry, dict)])

    def openai_completion(self, prompt):
        body = http_json("POST", self.base + "/v1/completions", self.timeout,
                         {"model": self.served, "prompt": prompt, "max_tokens": self.max_tokens, "temperature": 0})
        return self.non_empty(body["choices"][0]["text"], "choices[0].text")

    def openai_chat(self, prompt):
        body = http_json("POST", self.base + "/v1/chat/completions", self.timeout,
                         {"model": self.served, "messages": [{"role": "user", "content": prompt}],
                          "max_tokens": self.max_tokens, "temperature": 0})
        return self.non_empty(body["choices"][0]["message"]["content"], "choices[0].message.content")

    def openai_chat_stream(self):
        payload = {"model": self.served, "messages": [{"role": "user", "content": SMOKE_PROMPT}],
                   "max_tokens": self.max_tokens, "temperature": 0, "stream": True}
        parts, done, chunks = [], False, 0
        for data in sse_events("POST", self.base + "/v1/chat/completions", self.timeout, payload):
            if data == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            if isinstance(chunk, dict) and "error" in chunk:
                raise ProbeError("an error event in the stream: %s" % excerpt(json.dumps(chunk["error"])))
            chunks += 1
            for choice in chunk.get("choices", []):
                parts.append((choice.get("delta") or {}).get("content") or "")
        if not done:
            raise ProbeError("the stream ended after %d chunk(s) without 'data: [DONE]'" % chunks)
        text = self.non_empty("".join(parts), "the streamed content")
        return "%d chunk(s), %d characters: %s" % (chunks, len(text), excerpt(text, 60))

    # --- Triton -----------------------------------------------------------------------------------

    def triton_models(self):
        index = http_json("POST", self.base + "/v2/repository/index", self.timeout, {})
        if not isinstance(index, list):
            raise ProbeError("the repository index is not a list: %s" % excerpt(json.dumps(index)))
        not_ready = ["%s (%s)" % (m.get("name"), m.get("state") or "no state") for m in index
                     if isinstance(m, dict) and m.get("state") != "READY"]
        served = self.expect_exact_models(sorted(set(m.get("name") for m in index if isinstance(m, dict) and m.get("state") == "READY")))
        if not_ready:
            raise ProbeError("models not READY: %s" % ", ".join(not_ready))
        return served

    def triton_generate(self, prompt):
        path = "/v2/models/%s/generate" % urllib.parse.quote(self.served, safe="")
        parameters = {"stream": False, "temperature": 0, "max_tokens": self.max_tokens, "exclude_input_in_output": True}
        body = http_json("POST", self.base + path, self.timeout, {"text_input": prompt, "parameters": parameters})
        if isinstance(body, dict) and "error" in body:
            raise ProbeError("error from generate: %s" % excerpt(body["error"]))
        return self.non_empty(body["text_output"], "text_output")

    def triton_generate_stream(self):
        path = "/v2/models/%s/generate_stream" % urllib.parse.quote(self.served, safe="")
        payload = {"text_input": SMOKE_PROMPT, "parameters": {"stream": True, "temperature": 0, "max_tokens": self.max_tokens,
                                                              "exclude_input_in_output": True}}
        parts, events = [], 0
        for data in sse_events("POST", self.base + path, self.timeout, payload):
            event = json.loads(data)
            if isinstance(event, dict) and "error" in event:
                raise ProbeError("an error event in the stream: %s" % excerpt(event["error"]))
            events += 1
            parts.append(event.get("text_output") or "")
        if not events:
            raise ProbeError("the stream ended without a single event")
        text = self.non_empty("".join(parts), "the streamed text_output")
        return "%d event(s), %d characters: %s" % (events, len(text), excerpt(text, 60))

    # --- prompts, metrics, Prometheus -------------------------------------------------------------

    def ask(self, index, prompt):
        started = time.monotonic()
        answer = {"index": index, "prompt": prompt, "ok": False, "text": "", "error": ""}
        try:
            if self.model["api"] == "triton":
                answer["text"] = self.triton_generate(prompt)
            else:
                answer["text"] = self.openai_chat(prompt)
            answer["ok"] = True
        except (ProbeError, ValueError, KeyError, TypeError, IndexError) as error:
            answer["error"] = str(error) or error.__class__.__name__
        answer["latency_ms"] = round((time.monotonic() - started) * 1000.0, 2)
        self.log("Model %s - Request %d: %.2fs (%.2fms)%s" % (
            self.served, index, answer["latency_ms"] / 1000.0, answer["latency_ms"], "" if answer["ok"] else " FAILED: " + answer["error"]))
        return answer

    def prompt_set(self):
        prompts = self.spec["prompts"]
        if not prompts:
            raise ProbeError("no prompts to send (the prompt file is empty)")
        concurrency = max(1, min(int(self.spec["concurrency"]), len(prompts)))
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=concurrency) as pool:
            answers = list(pool.map(lambda item: self.ask(item[0], item[1]), enumerate(prompts)))
        wall = time.monotonic() - started
        good = [a for a in answers if a["ok"]]
        latencies = [a["latency_ms"] for a in answers]
        stats = {"min": min(latencies), "p50": percentile(latencies, 0.5), "p90": percentile(latencies, 0.9),
                 "max": max(latencies), "mean": round(sum(latencies) / len(latencies), 2)}
        verdict = "%s: %s answered %d/%d prompts at concurrency %d in %.2f s (latency p50 %.0f ms, p90 %.0f ms, max %.0f ms)" % (
            "PASS" if len(good) == len(answers) else "FAIL", self.name, len(good), len(answers), concurrency, wall,
            stats["p50"], stats["p90"], stats["max"])
        self.prompt_report = {"verdict": verdict, "concurrency": concurrency, "wall_s": round(wall, 3),
                              "latency_ms": stats, "answers": answers}
        self.log(verdict)
        if len(good) != len(answers):
            failures = ["request %d: %s" % (a["index"], a["error"]) for a in answers if not a["ok"]]
            raise ProbeError("%d/%d answered; %s" % (len(good), len(answers), "; ".join(failures[:5])
                                                     + ("; ..." if len(failures) > 5 else "")))
        return verdict

    def metrics(self):
        url = self.model["metrics_url"]
        status, body = http("GET", url, self.timeout)
        if status != 200:
            raise ProbeError("HTTP %d from GET %s: %s" % (status, url, excerpt(body) or "(empty body)"))
        series = metric_names(body)
        if self.model["api"] == "triton":
            wanted, prefixes = TRITON_SERIES, ("",)
        elif self.model["api"] == "vllm":
            wanted, prefixes = OPENAI_SERIES, ("vllm:",)
        else:
            wanted, prefixes = OPENAI_SERIES, ("", "vllm:")
        missing, found = [], []
        for spellings in wanted:
            name = find_series(series, spellings, prefixes)
            if name is None:
                missing.append("|".join(spellings))
            else:
                found.append(name)
        if missing:
            raise ProbeError("missing series %s (%d series names served)" % (", ".join(missing), len(series)))
        if self.model["api"] == "triton":
            label = 'model="%s"' % self.served
            unlabelled = [n for n in found if not any(label in labels for labels in series[n])]
            if unlabelled:
                raise ProbeError("series without %s: %s" % (label, ", ".join(unlabelled)))
        return "%d expected series served (%s)" % (len(found), ", ".join(found))

    def prometheus_target(self):
        url = self.spec["prometheus_url"].rstrip("/") + "/api/v1/targets?state=active"
        body = http_json("GET", url, self.timeout)
        targets = (body.get("data") or {}).get("activeTargets") or []
        namespace = self.model["namespace"]
        names = (self.name, "%s/%s" % (namespace, self.name))
        mine = [t for t in targets if (t.get("labels") or {}).get("namespace") == namespace and (
            (t.get("labels") or {}).get("service") == self.name or (t.get("labels") or {}).get("job") in names)]
        if not mine:
            jobs = sorted(set((t.get("labels") or {}).get("job", "?") for t in targets))
            raise ProbeError("no active target with namespace=%s and service or job %s among %d target(s) (jobs: %s)" % (
                namespace, self.name, len(targets), ", ".join(jobs) or "none"))
        down = ["%s is %s (%s)" % (t.get("scrapeUrl"), t.get("health"), t.get("lastError") or "no error") for t in mine if t.get("health") != "up"]
        if down:
            raise ProbeError("; ".join(down))
        return "%d target(s) up: %s" % (len(mine), ", ".join(t.get("scrapeUrl", "?") for t in mine))

    # --- the sequence -----------------------------------------------------------------------------

    def run(self):
        base = self.base
        if self.model["api"] == "triton":
            quoted = urllib.parse.quote(self.served, safe="")
            self.check("health_live", "HTTP 200 from GET %s/v2/health/live" % base, lambda: self.expect_status_200("/v2/health/live"))
            self.check("health_ready", "HTTP 200 from GET %s/v2/health/ready" % base, lambda: self.expect_status_200("/v2/health/ready"))
            self.check("model_ready", "HTTP 200 from GET %s/v2/models/%s/ready" % (base, quoted),
                       lambda: self.expect_status_200("/v2/models/%s/ready" % quoted))
            self.check("model_list", "exactly %s READY in the repository index" % self.expected_models, self.triton_models)
            self.check("generate", "non-empty text_output from POST /v2/models/%s/generate" % quoted,
                       lambda: excerpt(self.triton_generate(SMOKE_PROMPT), 80))
            self.check("generate_stream", "events with non-empty text_output from POST /v2/models/%s/generate_stream" % quoted,
                       self.triton_generate_stream)
        else:
            if self.model["api"] == "vllm":
                self.check("health_ready", "HTTP 200 from GET %s/health" % base, lambda: self.expect_status_200("/health"))
            else:
                self.check("health_live", "HTTP 200 from GET %s/v1/health/live" % base, lambda: self.expect_status_200("/v1/health/live"))
                self.check("health_ready", "HTTP 200 from GET %s/v1/health/ready" % base, lambda: self.expect_status_200("/v1/health/ready"))
            self.check("model_list", "exactly %s from GET /v1/models" % self.expected_models, self.openai_models)
            self.check("completion", "non-empty choices[0].text from POST /v1/completions (model %s)" % self.served,
                       lambda: excerpt(self.openai_completion("Once upon a time"), 80))
            self.check("chat_completion", "non-empty choices[0].message.content from POST /v1/chat/completions (model %s)" % self.served,
                       lambda: excerpt(self.openai_chat(SMOKE_PROMPT), 80))
            self.check("chat_stream", "a streamed chat completion with content, ending in data: [DONE]", self.openai_chat_stream)
        self.check("prompt_set", "%d/%d prompts answered with non-empty text" % (len(self.spec["prompts"]), len(self.spec["prompts"])),
                   self.prompt_set)
        if self.spec["expect_metrics"]:
            if self.model["api"] == "triton":
                wanted, how = TRITON_SERIES, 'with model="%s"' % self.served
            elif self.model["api"] == "vllm":
                wanted, how = OPENAI_SERIES, "(vllm:-prefixed)"
            else:
                wanted, how = OPENAI_SERIES, "(optionally vllm:-prefixed)"
            expected = "series %s %s from %s" % (", ".join("|".join(s) for s in wanted), how, self.model["metrics_url"])
            self.check("metrics", expected, self.metrics)
        if self.spec["prometheus_url"]:
            self.check("prometheus_target", "an active Prometheus target for service %s/%s with health up" % (
                self.model["namespace"], self.name), self.prometheus_target)
        return {"checks": [c.as_dict() for c in self.checks], "prompts": self.prompt_report, "first_answer": self.first_answer}


def utc_now():
    """Now in UTC with milliseconds, in the form Kubernetes timestamps are compared with (RFC 3339, Z)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % int(now % 1 * 1000)


def normalise_spec(spec):
    """Apply defaults and reject a spec the probe cannot run (ValueError naming the problem)."""
    if not isinstance(spec, dict):
        raise ValueError("the spec must be a JSON object")
    unknown = sorted(set(spec) - set(SPEC_DEFAULTS) - {"models"})
    if unknown:
        raise ValueError("unknown spec key(s): %s" % ", ".join(unknown))
    result = dict(SPEC_DEFAULTS, **spec)
    if not isinstance(result.get("models"), list) or not result["models"]:
        raise ValueError("the spec lists no models")
    models = []
    for index, model in enumerate(result["models"]):
        if not isinstance(model, dict):
            raise ValueError("models[%d] is not an object" % index)
        unknown = sorted(set(model) - set(MODEL_DEFAULTS) - {"name", "base_url"})
        if unknown:
            raise ValueError("models[%d]: unknown key(s) %s" % (index, ", ".join(unknown)))
        model = dict(MODEL_DEFAULTS, **model)
        for key in ("name", "base_url"):
            if not model.get(key):
                raise ValueError("models[%d] has no %s" % (index, key))
        if model["api"] not in APIS:
            raise ValueError("models[%d] (%s): api %r is not one of %s" % (index, model["name"], model["api"], ", ".join(APIS)))
        if model["api"] in OPENAI_APIS and not model["served_model_name"]:
            raise ValueError("models[%d] (%s): an OpenAI-API model needs served_model_name" % (index, model["name"]))
        if result["expect_metrics"] and not model["metrics_url"]:
            raise ValueError("models[%d] (%s): expect_metrics is on but metrics_url is empty" % (index, model["name"]))
        if result["prometheus_url"] and not model["namespace"]:
            raise ValueError("models[%d] (%s): the Prometheus target check needs the namespace" % (index, model["name"]))
        models.append(model)
    result["models"] = models
    return result


def read_prompts(path):
    """One prompt per non-empty line; lines starting with '#' are comments."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


def run(spec, log=None):
    """Probe every model of a normalised spec; return the result document."""
    log = log or (lambda message: None)
    started = time.time()
    checks, prompts, first_answers = [], {}, {}
    for model in spec["models"]:
        outcome = ModelProbe(model, spec, log).run()
        checks.extend(outcome["checks"])
        prompts[model["name"]] = outcome["prompts"]
        first_answers[model["name"]] = outcome["first_answer"]
    failed = [c for c in checks if not c["ok"]]
    return {
        "probe": "llm_probe",
        "format": 1,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 3),
        "ok": not failed and bool(checks),
        "checks": checks,
        "failed": len(failed),
        "prompts": prompts,
        "first_answers": first_answers,
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Check that LLM inference endpoints answer, list the right models and export metrics.")
    parser.add_argument("--spec", help="JSON file with the models to probe (what the verify role writes)")
    parser.add_argument("--prompts", help="prompt file, one prompt a line (overrides the spec's prompts)")
    parser.add_argument("--api", choices=APIS, help="single model: openai (NIM), vllm (vLLM's OpenAI server) or triton")
    parser.add_argument("--base-url", help="single model: e.g. http://localhost:8000")
    parser.add_argument("--model", help="single model: served model name (OpenAI) or Triton model name")
    parser.add_argument("--metrics-url", default="", help="single model: metrics endpoint (omit to skip the metrics check)")
    parser.add_argument("--concurrency", type=int, help="prompts in flight at once")
    parser.add_argument("--timeout", type=float, help="seconds to wait for any response or stream read")
    parser.add_argument("--max-tokens", type=int, help="max_tokens of every request")
    parser.add_argument("--output", help="also write the JSON result to this file")
    return parser.parse_args(argv)


def spec_from_args(args):
    if args.spec:
        with open(args.spec, encoding="utf-8") as handle:
            spec = json.load(handle)
    elif args.api and args.base_url and args.model:
        model = {"name": args.model.split("/")[-1], "api": args.api, "base_url": args.base_url,
                 "served_model_name": args.model, "metrics_url": args.metrics_url}
        spec = {"models": [model], "expect_metrics": bool(args.metrics_url)}
    else:
        raise ValueError("give --spec, or --api, --base-url and --model")
    for key, value in (("concurrency", args.concurrency), ("timeout_s", args.timeout), ("max_tokens", args.max_tokens)):
        if value is not None:
            spec[key] = value
    if args.prompts:
        spec["prompts"] = read_prompts(args.prompts)
    return normalise_spec(spec)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        spec = spec_from_args(args)
    except (ValueError, OSError) as error:
        sys.stderr.write("llm_probe: %s\n" % error)
        return 2

    def log(message):
        sys.stderr.write(message + "\n")
        sys.stderr.flush()

    result = run(spec, log)
    line = json.dumps(result, sort_keys=True, separators=(",", ":"))
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(line + "\n")
    for check in result["checks"]:
        if not check["ok"]:
            log("FAILED %s %s: expected %s; got %s" % (check["model"], check["check"], check["expected"], check["got"]))
    log("%s: %d check(s), %d failed, %.1f s" % ("PASS" if result["ok"] else "FAIL", len(result["checks"]), result["failed"], result["duration_s"]))
    sys.stdout.write(RESULT_MARKER + line + "\n")
    sys.stdout.flush()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
