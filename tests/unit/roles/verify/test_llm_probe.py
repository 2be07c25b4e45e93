"""llm_probe: every check passes against a healthy server and fails, saying what came back, against a broken one.

The server here is a few lines of http.server answering the OpenAI/NIM and Triton routes the probe
uses; each test bends one answer (status, body, stream) through the `server.answers` table.
"""
import importlib.util
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.eks_llm.inference.plugins.filter import verify as verify_filters


class _Server(ThreadingHTTPServer):
    # the probe opens up to 20 connections at once; http.server's listen backlog of 5 resets some on a busy machine
    request_queue_size = 64


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PROBE_PATH = os.path.join(REPO, "roles", "verify", "files", "llm_probe.py")
PROMPTS_PATH = os.path.join(REPO, "roles", "verify", "files", "prompts.txt")

_spec = importlib.util.spec_from_file_location("llm_probe", PROBE_PATH)
probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe)

NIM_NAME = "meta/llama3-8b-instruct"
NIM_METRICS = "\n".join([
    "# HELP num_requests_running Number of requests currently running on GPU.",
    "# TYPE num_requests_running gauge",
    'num_requests_running{model_name="%s"} 0.0' % NIM_NAME,
    'num_requests_waiting{model_name="%s"} 0.0' % NIM_NAME,
    'gpu_cache_usage_perc{model_name="%s"} 0.1' % NIM_NAME,
    'prompt_tokens_total{model_name="%s"} 120.0' % NIM_NAME,
    'generation_tokens_total{model_name="%s"} 900.0' % NIM_NAME,
    'time_to_first_token_seconds_bucket{le="0.1",model_name="%s"} 3.0' % NIM_NAME,
    'time_to_first_token_seconds_count{model_name="%s"} 3.0' % NIM_NAME,
    'e2e_request_latency_seconds_sum{model_name="%s"} 4.2' % NIM_NAME,
    "",
])
TRITON_METRICS = "\n".join(
    ['%s{model="opt-350m",version="1"} 5' % name for name in (
        "nv_inference_request_success", "nv_inference_request_failure", "nv_inference_count", "nv_inference_exec_count",
        "nv_inference_pending_request_count", "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
        "nv_inference_compute_infer_duration_us", "vllm:time_to_first_token_seconds_sum")] + ['nv_gpu_utilization{gpu_uuid="GPU-1"} 0.5', ""])


def sse(*payloads):
    return "".join("data: %s\n\n" % (p if isinstance(p, str) else json.dumps(p)) for p in payloads)


def healthy_answers(api):
    """(method, path) -> (status, content type, body) of a server that does everything right."""
    if api == "openai":
        return {
            ("GET", "/v1/health/live"): (200, "application/json", '{"object":"health-response","message":"Service is live."}'),
            ("GET", "/v1/health/ready"): (200, "application/json", '{"object":"health-response","message":"Service is ready."}'),
            ("GET", "/v1/models"): (200, "application/json", json.dumps({"object": "list", "data": [{"id": NIM_NAME, "object": "model"}]})),
            ("POST", "/v1/completions"): (200, "application/json", json.dumps({"choices": [{"index": 0, "text": ", there was a cluster."}]})),
            ("POST", "/v1/chat/completions"): (200, "application/json",
                                               json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "Red, yellow, blue."}}]})),
            ("STREAM", "/v1/chat/completions"): (200, "text/event-stream", sse(
                {"choices": [{"delta": {"role": "assistant"}}]}, {"choices": [{"delta": {"content": "Red, "}}]},
                {"choices": [{"delta": {"content": "yellow, blue."}}]}, "[DONE]")),
            ("GET", "/v1/metrics"): (200, "text/plain; version=0.0.4", NIM_METRICS),
        }
    return {
        ("GET", "/v2/health/live"): (200, "text/plain", ""),
        ("GET", "/v2/health/ready"): (200, "text/plain", ""),
        ("GET", "/v2/models/opt-350m/ready"): (200, "text/plain", ""),
        ("POST", "/v2/repository/index"): (200, "application/json", json.dumps([{"name": "opt-350m", "version": "1", "state": "READY"}])),
        ("POST", "/v2/models/opt-350m/generate"): (200, "application/json",
                                                   json.dumps({"model_name": "opt-350m", "model_version": "1", "text_output": "Red, yellow and blue."})),
        ("POST", "/v2/models/opt-350m/generate_stream"): (200, "text/event-stream", sse(
            {"model_name": "opt-350m", "text_output": "Red, "}, {"model_name": "opt-350m", "text_output": "yellow and blue."})),
        ("GET", "/metrics"): (200, "text/plain", TRITON_METRICS),
    }


class FakeServer(object):
    def __init__(self, api):
        self.answers = healthy_answers(api)
        self.requests = []
        self.stall_s = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, method):
                body = b""
                if method == "POST":
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.loads(body) if body else None
                server.requests.append((method, self.path, payload))
                streaming = isinstance(payload, dict) and (payload.get("stream") or self.path.endswith("generate_stream"))
                key = ("STREAM" if streaming and ("STREAM", self.path) in server.answers else method, self.path)
                status, ctype, text = server.answers.get(key, (404, "application/json", '{"error":"no route %s %s"}' % key))
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if server.stall_s and streaming:
                    self.end_headers()
                    self.wfile.write(data.split(b"\n\n")[0] + b"\n\n")
                    self.wfile.flush()
                    time.sleep(server.stall_s)
                    return
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.answer("GET")

            def do_POST(self):
                self.answer("POST")

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def nim():
    server = FakeServer("openai")
    yield server
    server.close()


@pytest.fixture
def triton():
    server = FakeServer("triton")
    yield server
    server.close()


PROMPTS = probe.read_prompts(PROMPTS_PATH)


def nim_spec(server, **changes):
    spec = {"timeout_s": 10, "concurrency": 5, "max_tokens": 16, "prompts": PROMPTS,
            "models": [{"name": "llama3-8b", "api": "openai", "base_url": server.url, "namespace": "llm",
                        "served_model_name": NIM_NAME, "metrics_url": server.url + "/v1/metrics"}]}
    spec.update(changes)
    return probe.normalise_spec(spec)


def triton_spec(server, **changes):
    spec = {"timeout_s": 10, "concurrency": 5, "max_tokens": 16, "prompts": PROMPTS,
            "models": [{"name": "opt-350m", "api": "triton", "base_url": server.url, "namespace": "llm",
                        "metrics_url": server.url + "/metrics"}]}
    spec.update(changes)
    return probe.normalise_spec(spec)


def by_check(result):
    return dict((c["check"], c) for c in result["checks"])


def failed(result):
    return dict((c["check"], c["got"]) for c in result["checks"] if not c["ok"])


def test_the_prompt_set_has_twenty_prompts():
    assert len(PROMPTS) == 20 and len(set(PROMPTS)) == 20


def test_healthy_nim_passes_every_check_and_answers_every_prompt(nim):
    result = probe.run(nim_spec(nim))
    assert failed(result) == {}
    assert result["ok"] and result["failed"] == 0
    assert sorted(by_check(result)) == sorted(["health_live", "health_ready", "model_list", "completion", "chat_completion",
                                               "chat_stream", "prompt_set", "metrics"])
    report = result["prompts"]["llama3-8b"]
    assert [a["index"] for a in report["answers"]] == list(range(20))
    assert all(a["ok"] and a["text"] == "Red, yellow, blue." and a["latency_ms"] >= 0 for a in report["answers"])
    assert report["verdict"].startswith("PASS: llama3-8b answered 20/20 prompts at concurrency 5")
    # the served name from the inventory is what the requests ask for
    models_asked = set(p["model"] for m, path, p in nim.requests if m == "POST")
    assert models_asked == {NIM_NAME}
    assert sum(1 for m, path, p in nim.requests if path == "/v1/chat/completions") == 22


def test_healthy_triton_passes_every_check(triton):
    result = probe.run(triton_spec(triton))
    assert failed(result) == {}
    assert sorted(by_check(result)) == sorted(["health_live", "health_ready", "model_ready", "model_list", "generate",
                                               "generate_stream", "prompt_set", "metrics"])
    generate = [p for m, path, p in triton.requests if path == "/v2/models/opt-350m/generate"]
    assert len(generate) == 21 and generate[0]["parameters"]["max_tokens"] == 16
    assert all(p["parameters"]["exclude_input_in_output"] is True for p in generate)


@pytest.mark.parametrize("route, answer, check, message", [
    (("GET", "/v1/health/ready"), (503, "application/json", '{"message":"Service is not ready"}'), "health_ready",
     "HTTP 503 from GET"),
    (("GET", "/v1/health/live"), (500, "text/plain", ""), "health_live", "HTTP 500 from GET"),
    (("GET", "/v1/models"), (200, "application/json", '{"data":[{"id":"meta/llama3-70b-instruct"}]}'), "model_list",
     "['meta/llama3-70b-instruct'] (missing: ['meta/llama3-8b-instruct']; unexpected: ['meta/llama3-70b-instruct'])"),
    (("GET", "/v1/models"), (200, "application/json", '{"data":[]}'), "model_list", "an empty model list"),
    (("GET", "/v1/models"), (200, "application/json", '{"models":[]}'), "model_list", "no 'data' list"),
    (("POST", "/v1/completions"), (200, "application/json", '{"choices":[{"text":""}]}'), "completion",
     "choices[0].text is empty"),
    (("POST", "/v1/completions"), (200, "text/html", "<html>proxy</html>"), "completion", "but not JSON"),
    (("POST", "/v1/chat/completions"), (500, "application/json", '{"error":"CUDA out of memory"}'), "chat_completion",
     'HTTP 500 from POST %s/v1/chat/completions: {"error":"CUDA out of memory"}'),
    (("STREAM", "/v1/chat/completions"), (200, "text/event-stream", sse({"choices": [{"delta": {"content": "Red"}}]})),
     "chat_stream", "without 'data: [DONE]'"),
    (("STREAM", "/v1/chat/completions"), (200, "text/event-stream", sse({"error": {"message": "engine died"}})),
     "chat_stream", "an error event in the stream"),
    (("STREAM", "/v1/chat/completions"), (200, "text/event-stream", sse({"choices": [{"delta": {"content": ""}}]}, "[DONE]")),
     "chat_stream", "the streamed content is empty"),
    (("GET", "/v1/metrics"), (404, "text/plain", "not found"), "metrics", "HTTP 404 from GET"),
])
def test_each_nim_fault_fails_its_check_with_what_came_back(nim, route, answer, check, message):
    nim.answers[route] = answer
    result = probe.run(nim_spec(nim))
    got = failed(result)
    assert check in got, result["checks"]
    assert message.replace("%s", nim.url) in got[check]
    assert not result["ok"]


def test_server_errors_on_prompts_fail_the_prompt_set_listing_requests(nim):
    nim.answers[("POST", "/v1/chat/completions")] = (500, "application/json", '{"error":"overloaded"}')
    result = probe.run(nim_spec(nim))
    assert "0/20 answered; request 0: HTTP 500" in failed(result)["prompt_set"]
    assert result["prompts"]["llama3-8b"]["verdict"].startswith("FAIL: llama3-8b answered 0/20")


def test_a_stalled_stream_fails_instead_of_hanging(nim):
    nim.stall_s = 3
    started = time.monotonic()
    result = probe.run(nim_spec(nim, timeout_s=0.5, prompts=PROMPTS[:2]))
    assert "stream stalled: nothing for 0.5s after 1 event(s)" in failed(result)["chat_stream"]
    assert time.monotonic() - started < 10


def test_metrics_missing_series_are_listed(nim):
    nim.answers[("GET", "/v1/metrics")] = (200, "text/plain", "num_requests_running 0\nprompt_tokens_total 1\n")
    got = failed(probe.run(nim_spec(nim)))["metrics"]
    assert got.startswith("missing series num_requests_waiting, gpu_cache_usage_perc|kv_cache_usage_perc, generation_tokens_total,"
                          " time_to_first_token_seconds, e2e_request_latency_seconds (2 series names served)")


def test_vllm_prefixed_v1_metrics_count(nim):
    prefixed = NIM_METRICS.replace("gpu_cache_usage_perc", "kv_cache_usage_perc")
    prefixed = "\n".join(("vllm:" + line) if line and not line.startswith("#") else line for line in prefixed.splitlines())
    nim.answers[("GET", "/v1/metrics")] = (200, "text/plain", prefixed)
    result = probe.run(nim_spec(nim, prompts=PROMPTS[:1]))
    assert result["ok"], failed(result)
    assert "vllm:kv_cache_usage_perc" in by_check(result)["metrics"]["got"]


def test_metrics_not_expected_skips_the_scrape(nim):
    nim.answers[("GET", "/v1/metrics")] = (404, "text/plain", "")
    result = probe.run(nim_spec(nim, expect_metrics=False, prompts=PROMPTS[:1]))
    assert result["ok"] and "metrics" not in by_check(result)


@pytest.mark.parametrize("route, answer, check, message", [
    (("GET", "/v2/health/ready"), (400, "text/plain", ""), "health_ready", "HTTP 400"),
    (("GET", "/v2/models/opt-350m/ready"), (400, "application/json", '{"error":"model not ready"}'), "model_ready",
     "model not ready"),
    (("POST", "/v2/repository/index"), (200, "application/json", '[{"name":"vllm_model","version":"1","state":"READY"}]'),
     "model_list", "['vllm_model'] (missing: ['opt-350m']; unexpected: ['vllm_model'])"),
    (("POST", "/v2/repository/index"), (200, "application/json", "[]"), "model_list", "an empty model list"),
    (("POST", "/v2/repository/index"), (200, "application/json",
                                        '[{"name":"opt-350m","state":"READY"},{"name":"opt-350m","version":"2","state":"UNAVAILABLE"}]'),
     "model_list", "models not READY: opt-350m (UNAVAILABLE)"),
    (("POST", "/v2/models/opt-350m/generate"), (200, "application/json", '{"text_output":"   "}'), "generate", "text_output is empty"),
    (("POST", "/v2/models/opt-350m/generate"), (200, "application/json", '{"model_name":"opt-350m"}'), "generate", "'text_output'"),
    (("POST", "/v2/models/opt-350m/generate_stream"), (200, "text/event-stream", sse({"error": "vLLM engine dead"})),
     "generate_stream", "an error event in the stream: vLLM engine dead"),
    (("POST", "/v2/models/opt-350m/generate_stream"), (200, "text/event-stream", ""), "generate_stream",
     "the stream ended without a single event"),
    (("GET", "/metrics"), (200, "text/plain", TRITON_METRICS.replace('model="opt-350m"', 'model="vllm_model"')), "metrics",
     'series without model="opt-350m": nv_inference_request_success'),
    (("GET", "/metrics"), (200, "text/plain", "nv_gpu_utilization 1\n"), "metrics",
     "missing series nv_inference_request_success, nv_inference_request_failure"),
])
def test_each_triton_fault_fails_its_check_with_what_came_back(triton, route, answer, check, message):
    triton.answers[route] = answer
    result = probe.run(triton_spec(triton, prompts=PROMPTS[:3]))
    got = failed(result)
    assert check in got, result["checks"]
    assert message in got[check]


def test_an_unreachable_server_fails_every_check_naming_the_url(nim):
    url = nim.url
    nim.close()
    result = probe.run(nim_spec(nim, prompts=PROMPTS[:2]))
    got = failed(result)
    assert sorted(got) == sorted(["health_live", "health_ready", "model_list", "completion", "chat_completion", "chat_stream",
                                  "prompt_set", "metrics"])
    assert "no HTTP response from GET %s/v1/health/ready" % url in got["health_ready"]


def prometheus_targets(*targets):
    return (200, "application/json", json.dumps({"status": "success", "data": {"activeTargets": list(targets)}}))


@pytest.mark.parametrize("targets, ok, message", [
    ([{"labels": {"namespace": "llm", "service": "opt-350m", "job": "opt-350m"}, "health": "up", "scrapeUrl": "http://10.0.0.7:8002/metrics"}],
     True, "1 target(s) up: http://10.0.0.7:8002/metrics"),
    ([{"labels": {"namespace": "llm", "job": "llm/opt-350m"}, "health": "up", "scrapeUrl": "http://10.0.0.7:8002/metrics"}],
     True, "1 target(s) up"),
    ([{"labels": {"namespace": "llm", "service": "opt-350m"}, "health": "down", "lastError": "connection refused",
       "scrapeUrl": "http://10.0.0.7:8002/metrics"}], False, "http://10.0.0.7:8002/metrics is down (connection refused)"),
    ([{"labels": {"namespace": "monitoring", "job": "node-exporter"}, "health": "up"}], False,
     "no active target with namespace=llm and service or job opt-350m among 1 target(s) (jobs: node-exporter)"),
])
def test_prometheus_target_must_be_up(triton, targets, ok, message):
    triton.answers[("GET", "/api/v1/targets?state=active")] = prometheus_targets(*targets)
    result = probe.run(triton_spec(triton, prompts=PROMPTS[:1], prometheus_url=triton.url))
    check = by_check(result)["prometheus_target"]
    assert check["ok"] is ok and message in check["got"]


@pytest.mark.parametrize("spec, message", [
    ({}, "the spec lists no models"),
    ({"models": [{"name": "x", "base_url": "http://x"}], "colour": 1}, "unknown spec key(s): colour"),
    ({"models": [{"name": "x", "base_url": "http://x", "api": "tgi"}]}, "api 'tgi' is not one of openai, vllm, triton"),
    ({"models": [{"name": "x", "base_url": "http://x", "api": "openai", "metrics_url": "http://x/m"}]}, "needs served_model_name"),
    ({"models": [{"name": "x", "base_url": "http://x", "api": "triton"}]}, "expect_metrics is on but metrics_url is empty"),
    ({"models": [{"name": "x", "api": "triton"}]}, "has no base_url"),
])
def test_bad_specs_are_refused(spec, message):
    with pytest.raises(ValueError) as error:
        probe.normalise_spec(spec)
    assert message in str(error.value)


def test_percentile_is_nearest_rank():
    values = list(range(1, 21))
    assert probe.percentile(values, 0.5) == 10 and probe.percentile(values, 0.9) == 18 and probe.percentile(values, 1.0) == 20
    assert probe.percentile([7.0], 0.99) == 7.0


def test_main_prints_one_result_line_and_exits_by_outcome(triton, tmp_path, capsys):
    spec_file = tmp_path / "spec.json"
    model = {"name": "opt-350m", "api": "triton", "base_url": triton.url, "metrics_url": triton.url + "/metrics"}
    spec_file.write_text(json.dumps({"timeout_s": 10, "models": [model]}))
    output = tmp_path / "out.json"
    assert probe.main(["--spec", str(spec_file), "--prompts", PROMPTS_PATH, "--output", str(output)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(probe.RESULT_MARKER)]
    assert len(lines) == 1
    result = json.loads(lines[0][len(probe.RESULT_MARKER):])
    assert result["ok"] and len(result["prompts"]["opt-350m"]["answers"]) == 20
    # The probe runs in a Job and cannot import the collection: the verify filter that reads its log defines the
    # marker again. Both ends of the line agree.
    assert verify_filters.RESULT_MARKER == probe.RESULT_MARKER and verify_filters.probe_result(out, "stdout") == result
    assert json.loads(output.read_text()) == result

    triton.answers[("GET", "/v2/health/ready")] = (503, "text/plain", "")
    assert probe.main(["--spec", str(spec_file), "--prompts", PROMPTS_PATH]) == 1
    err = capsys.readouterr().err
    assert "FAILED opt-350m health_ready: expected HTTP 200 from GET %s/v2/health/ready; got HTTP 503" % triton.url in err

    assert probe.main(["--api", "openai", "--base-url", triton.url]) == 2
    assert "give --spec, or --api, --base-url and --model" in capsys.readouterr().err


def test_single_model_command_line_like_the_seed_client(nim, capsys):
    code = probe.main(["--api", "openai", "--base-url", nim.url, "--model", NIM_NAME, "--prompts", PROMPTS_PATH,
                       "--concurrency", "20", "--timeout", "30"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Model meta/llama3-8b-instruct - Request 19:" in err
    assert "PASS: llama3-8b-instruct answered 20/20 prompts at concurrency 20" in err


def test_vllm_api_passes_against_vllms_routes_where_the_nim_routes_are_missing():
    from tests.standin.llm_server import running_llm_server  # pylint: disable=import-outside-toplevel

    with running_llm_server([{"name": "vllm", "flavor": "vllm", "models": ["opt-350m"], "ttft_ms": 1, "itl_ms": 1}]) as server:
        model = {"name": "opt-350m", "api": "vllm", "base_url": server.url("vllm"), "namespace": "llm",
                 "served_model_name": "opt-350m", "metrics_url": server.url("vllm", "metrics_url")}
        spec = {"timeout_s": 10, "concurrency": 5, "max_tokens": 16, "prompts": PROMPTS, "models": [model]}
        result = probe.run(probe.normalise_spec(spec))
        assert failed(result) == {}
        assert sorted(by_check(result)) == sorted(["health_ready", "model_list", "completion", "chat_completion", "chat_stream",
                                                   "prompt_set", "metrics"])
        assert by_check(result)["health_ready"]["expected"] == "HTTP 200 from GET %s/health" % server.url("vllm")
        assert "vllm:num_requests_waiting" in by_check(result)["metrics"]["got"]
        # the NIM-style probe would fail on a real vLLM server: it has no /v1/health/*
        spec["models"] = [dict(model, api="openai")]
        assert "health_live" in failed(probe.run(probe.normalise_spec(spec)))
        server.configure("vllm", metrics_prefix="")  # unprefixed names are NIM's, not vLLM's
        spec["models"] = [model]
        assert "missing series num_requests_running" in failed(probe.run(probe.normalise_spec(spec)))["metrics"]


def test_the_first_generating_answer_is_recorded_per_model(nim, triton):
    before = probe.utc_now()
    nim_first = probe.run(nim_spec(nim))["first_answers"]["llama3-8b"]
    triton_first = probe.run(triton_spec(triton))["first_answers"]["opt-350m"]
    assert nim_first["check"] == "completion" and triton_first["check"] == "generate"
    for first in (nim_first, triton_first):
        # RFC 3339 UTC with milliseconds: the form compared with Kubernetes' timestamps
        assert len(first["sent"]) == len("2026-12-05T10:00:00.000Z") and first["sent"].endswith("Z")
        assert before <= first["sent"] <= first["answered"] <= probe.utc_now()


def test_the_first_answer_is_the_first_generating_check_that_passed(nim):
    nim.answers[("POST", "/v1/completions")] = (500, "application/json", '{"error":"warming up"}')
    first = probe.run(nim_spec(nim))["first_answers"]["llama3-8b"]
    assert first["check"] == "chat_completion"
    nim.answers[("POST", "/v1/chat/completions")] = (500, "application/json", '{"error":"warming up"}')
    assert probe.run(nim_spec(nim))["first_answers"] == {"llama3-8b": None}
