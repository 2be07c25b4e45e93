"""Tests of the LLM endpoint stand-in (tests/standin/llm_server.py): routes per flavor, SSE format, usage,
latency against the model's own formula, faults, metrics that follow the traffic, control API, CLI."""
import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import aiohttp
import pytest

from tests.standin.aws_server import REPO, process_alive
from tests.standin.llm_server import (PIECES, VLLM_VERSION, LLMStandIn, endpoint_specs, expected_steady_state, latency_ms,
                                      running_llm_server)

NIM_MODEL = "meta/llama-3.1-8b-instruct"
ENDPOINTS = [
    {"name": "nim", "flavor": "nim", "models": [NIM_MODEL], "ttft_ms": 10, "itl_ms": 2},
    {"name": "vllm", "flavor": "vllm", "models": ["facebook/opt-125m", "second-model"], "ttft_ms": 10, "itl_ms": 2},
    {"name": "triton", "flavor": "triton", "models": ["vllm_model"], "ttft_ms": 10, "itl_ms": 2},
    {"name": "timed", "flavor": "nim", "models": ["timed"], "ttft_ms": 60, "itl_ms": 15, "ttft_growth": 0.5, "itl_growth": 0.2, "max_batch": 16},
]


@pytest.fixture(scope="module")
def server():
    with running_llm_server(ENDPOINTS) as standin:
        yield standin


@pytest.fixture
def llm(server):  # pylint: disable=redefined-outer-name
    """The module's server with every endpoint at its start settings and zero metrics."""
    server.reset_all(settings=True)
    yield server
    server.reset_all(settings=True)


# ---- helpers ---------------------------------------------------------------------------------------------
def http(url, body=None, method=None, timeout=10):
    """(status, headers, raw body) of a request; a JSON body is sent for dicts/lists, raw bytes as they are."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method or ("GET" if data is None else "POST"),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def http_json(url, body=None, method=None):
    status, _headers, raw = http(url, body, method)
    return status, json.loads(raw) if raw else None


def sse(raw):
    """The `data:` payloads of an SSE body, in order; every event must be one `data: ...` line and a blank line."""
    text = raw.decode()
    assert text.endswith("\n\n"), text[-80:]
    events = text[:-2].split("\n\n")
    assert all(event.startswith("data: ") and "\n" not in event for event in events), events
    return [event[len("data: "):] for event in events]


def parse_metrics(text):
    """{(name, ((label, value), ...)): value} of a Prometheus text exposition; also checks every sample has a TYPE."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            head, value = line.rsplit(" ", 1)
            name, _brace, labels = head.partition("{")
            samples[(name, tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))))] = float(value)
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in types or family in types, f"sample {name} without a TYPE line"
    return samples


def value(samples, name, **labels):
    """The one sample of `name` whose labels include `labels` (None if there is none)."""
    found = [number for (sample, sample_labels), number in samples.items()
             if sample == name and set(labels.items()) <= set(sample_labels)]
    assert len(found) <= 1, (name, labels, found)
    return found[0] if found else None


def scrape(llm, name):  # pylint: disable=redefined-outer-name
    return parse_metrics(llm.metrics(name))


def text_of(count):
    return "".join(PIECES[index % len(PIECES)] for index in range(count))


def chat_body(model, max_tokens=None, stream=False, content="hello there", **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream, **extra}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return body


async def timed_stream(session, url, body):
    """POST and read the SSE reply: (status, [(seconds since the request was sent, payload), ...])."""
    started = time.perf_counter()
    async with session.post(url, json=body) as response:
        events = []
        async for line in response.content:
            if line.startswith(b"data: "):
                events.append((time.perf_counter() - started, line[6:].strip().decode()))
        return response.status, events


def token_times(events):
    """Arrival times of the events that carry generated text (OpenAI chat/completions or Triton)."""
    times = []
    for arrival, payload in events:
        if payload == "[DONE]":
            continue
        data = json.loads(payload)
        choice = (data.get("choices") or [{}])[0]
        piece = data.get("text_output", choice.get("text", (choice.get("delta") or {}).get("content")))
        if piece:
            times.append(arrival)
    return times


async def post_json(session, url, body):
    async with session.post(url, json=body) as response:
        return response.status, await response.json()


async def next_event(response, timeout):
    """The next non-blank SSE line, waiting at most `timeout` seconds for it."""
    async def read():
        line = b"\n"
        while line == b"\n":
            line = await response.content.readline()
        return line
    return await asyncio.wait_for(read(), timeout)


def run_concurrently(url, bodies, during=None):
    """Send `bodies` at once (one connection each, opened beforehand); returns their (status, events) and during()'s result."""
    async def main():
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0, force_close=False)) as session:
            warm = {**bodies[0], "max_tokens": 1, "stream": False}  # open the connections first: no connect time in TTFT
            await asyncio.gather(*[post_json(session, url, warm) for _body in bodies])
            tasks = [timed_stream(session, url, body) for body in bodies]
            extra = [during(session)] if during else []
            results = await asyncio.gather(*tasks, *extra)
            return results[:len(bodies)], (results[len(bodies)] if during else None)
    return asyncio.run(main())


def reset_metrics(llm, name):  # pylint: disable=redefined-outer-name
    llm.reset(name, settings=False)


# ---- the pure latency model ------------------------------------------------------------------------------------
def test_latency_formula():
    settings = {"ttft_ms": 100, "itl_ms": 20, "ttft_growth": 0.5, "itl_growth": 0.25}
    assert latency_ms(settings, 1) == (100, 20)
    assert latency_ms(settings, 0) == (100, 20)
    assert latency_ms(settings, 5) == (300, 40)
    assert latency_ms({"ttft_ms": 7, "itl_ms": 3}, 64) == (7, 3)


def test_expected_steady_state_without_and_with_queue():
    settings = {"ttft_ms": 100, "itl_ms": 20, "ttft_growth": 0.5, "itl_growth": 0.25, "max_batch": 4}
    fits = expected_steady_state(settings, 3, 11)
    assert fits["queue_ms"] == 0 and fits["waiting"] == 0 and fits["active"] == 3
    assert fits["ttft_ms"] == 200 and fits["itl_ms"] == 30 and fits["request_latency_ms"] == 200 + 10 * 30
    assert fits["request_throughput"] == pytest.approx(3 / 0.5) and fits["output_token_throughput"] == pytest.approx(66)
    queued = expected_steady_state(settings, 8, 11)  # batch 4: ttft 250, itl 35, S = 600, everyone waits one S
    assert queued["active"] == 4 and queued["waiting"] == 4
    assert queued["queue_ms"] == pytest.approx(600) and queued["ttft_ms"] == pytest.approx(850)
    assert queued["request_latency_ms"] == pytest.approx(1200) and queued["request_throughput"] == pytest.approx(4 / 0.6)


@pytest.mark.parametrize("config, message", [
    ([], "non-empty list"),
    ([{"flavor": "tgi", "models": ["m"]}], "flavor must be one of"),
    ([{"flavor": "nim"}], "models is required"),
    ([{"flavor": "nim", "models": []}], "non-empty list of model names"),
    ([{"flavor": "nim", "models": ["m"], "name": "a"}, {"flavor": "vllm", "models": ["m"], "name": "a"}], "used twice"),
    ([{"flavor": "nim", "models": ["m"], "metrics_port": 9002}], "metrics_port is for triton"),
    ([{"flavor": "triton", "models": ["m"], "metrics_prefix": "vllm:"}], "unknown setting 'metrics_prefix'"),
    ([{"flavor": "nim", "models": ["m"], "ttft_ms": -1}], "ttft_ms must be between"),
    ([{"flavor": "nim", "models": ["m"], "max_batch": 1.5}], "max_batch must be an integer"),
    ([{"flavor": "nim", "models": ["m"], "faults": ["melted"]}], "unknown fault(s) melted"),
    ([{"flavor": "nim", "models": ["m"], "port": 70000}], "port must be a port number"),
    ({"endpoints": [{"flavor": "nim", "models": ["m"]}], "hosts": "x"}, "unknown config key(s) hosts"),
])
def test_config_validation(config, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        endpoint_specs(config)


def test_config_defaults_per_flavor():
    host, specs = endpoint_specs([{"flavor": "nim", "models": ["a"]}, {"flavor": "vllm", "models": ["b"]}, {"flavor": "triton", "models": ["c"]}])
    assert host == "127.0.0.1"
    assert [spec["name"] for spec in specs] == ["nim-0", "vllm-1", "triton-2"]
    assert [spec["settings"].get("metrics_prefix") for spec in specs] == ["", "vllm:", None]
    assert specs[0]["settings"]["ttft_ms"] == 50.0 and specs[0]["settings"]["default_max_tokens"] == 16


# ---- OpenAI flavors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nim", "vllm"])
def test_openai_health_and_models(llm, name):  # pylint: disable=redefined-outer-name
    base = llm.url(name)
    assert http(base + "/health")[0] == 200
    if name == "nim":
        assert http_json(base + "/v1/health/live") == (200, {"object": "health-response", "message": "Service is live."})
        assert http_json(base + "/v1/health/ready") == (200, {"object": "health-response", "message": "Service is ready."})
        assert http(base + "/health/ready")[0] == 200
    else:  # vLLM has one health route and serves metrics at /metrics only
        assert [http(base + path)[0] for path in ("/v1/health/live", "/v1/health/ready", "/health/ready", "/v1/metrics")] == [404] * 4
        assert llm.url(name, "health_url") == base + "/health" and llm.url(name, "metrics_url") == base + "/metrics"
    status, models = http_json(base + "/v1/models")
    assert status == 200 and models["object"] == "list"
    assert [model["id"] for model in models["data"]] == llm.endpoints[name]["models"]
    assert {model["owned_by"] for model in models["data"]} == {"system" if name == "nim" else "vllm"}
    assert http(base + "/v2/health/ready")[0] == 404  # no Triton routes on an OpenAI server


@pytest.mark.parametrize("name", ["nim", "vllm"])
def test_completions_non_streaming_usage(llm, name):  # pylint: disable=redefined-outer-name
    model = llm.endpoints[name]["models"][-1]
    status, reply = http_json(llm.url(name) + "/v1/completions", {"model": model, "prompt": "one two three four", "max_tokens": 5})
    assert status == 200
    assert reply["object"] == "text_completion" and reply["model"] == model and reply["id"].startswith("cmpl-")
    assert reply["choices"] == [{"index": 0, "text": text_of(5), "logprobs": None, "finish_reason": "length"}]
    assert reply["usage"] == {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}


def test_chat_non_streaming_usage_and_lengths(llm):  # pylint: disable=redefined-outer-name
    url = llm.url("nim") + "/v1/chat/completions"
    body = {"model": NIM_MODEL, "max_completion_tokens": 3,
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "hello there GPU"}]}]}
    status, reply = http_json(url, body)
    assert status == 200 and reply["object"] == "chat.completion" and reply["id"].startswith("chatcmpl-")
    assert reply["choices"] == [{"index": 0, "message": {"role": "assistant", "content": text_of(3)}, "logprobs": None, "finish_reason": "length"}]
    assert reply["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    # no limit: default_max_tokens (16) and "stop"; min_tokens raises it; ignore_eos is accepted
    assert http_json(url, chat_body(NIM_MODEL))[1]["usage"]["completion_tokens"] == 16
    assert http_json(url, chat_body(NIM_MODEL))[1]["choices"][0]["finish_reason"] == "stop"
    assert http_json(url, chat_body(NIM_MODEL, min_tokens=20, ignore_eos=True))[1]["usage"]["completion_tokens"] == 20
    assert http_json(url, chat_body(NIM_MODEL, max_tokens=7, min_tokens=7, ignore_eos=True))[1]["usage"]["completion_tokens"] == 7
    llm.configure("nim", default_max_tokens=4)
    assert http_json(url, chat_body(NIM_MODEL))[1]["usage"]["completion_tokens"] == 4


@pytest.mark.parametrize("path, body, status, kind, message", [
    ("/v1/chat/completions", chat_body("no/such-model", 2), 404, "NotFoundError", "The model `no/such-model` does not exist."),
    ("/v1/completions", {"model": "no/such-model", "prompt": "x"}, 404, "NotFoundError", "does not exist"),
    ("/v1/chat/completions", chat_body(NIM_MODEL, 2, min_tokens=3), 400, "BadRequestError", "min_tokens must be less than or equal"),
    ("/v1/chat/completions", chat_body(NIM_MODEL, 0), 400, "BadRequestError", "max_tokens must be a positive integer"),
    ("/v1/chat/completions", {"model": NIM_MODEL, "messages": "hi"}, 400, "BadRequestError", "messages must be"),
    ("/v1/completions", {"model": NIM_MODEL, "prompt": {"x": 1}}, 400, "BadRequestError", "prompt must be"),
    ("/v1/completions", {"model": NIM_MODEL, "prompt": "x", "n": 2}, 400, "BadRequestError", "n=1"),
    ("/v1/completions", b"{not json", 400, "BadRequestError", "invalid JSON body"),
])
def test_openai_errors(llm, path, body, status, kind, message):  # pylint: disable=redefined-outer-name
    got, reply = http_json(llm.url("nim") + path, body)
    assert got == status
    assert reply["error"]["type"] == kind and reply["error"]["code"] == status and message in reply["error"]["message"]


def test_context_length_limit(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", max_model_len=10)
    url = llm.url("nim") + "/v1/completions"
    assert http_json(url, {"model": NIM_MODEL, "prompt": "a b c d", "max_tokens": 6})[0] == 200
    status, reply = http_json(url, {"model": NIM_MODEL, "prompt": "a b c d e", "max_tokens": 6})
    assert status == 400 and "maximum context length is 10 tokens" in reply["error"]["message"]


def test_chat_streaming_format_and_usage(llm):  # pylint: disable=redefined-outer-name
    url = llm.url("nim") + "/v1/chat/completions"
    status, headers, raw = http(url, chat_body(NIM_MODEL, 5, stream=True, content="one two three", stream_options={"include_usage": True}))
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = sse(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert len({chunk["id"] for chunk in chunks}) == 1 and {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert {chunk["model"] for chunk in chunks} == {NIM_MODEL}
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    pieces = [chunk["choices"][0]["delta"]["content"] for chunk in chunks[1:-1]]
    assert "".join(pieces) == text_of(5) and len(pieces) == 5
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks[1:-1]] == [None] * 4 + ["length"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}
    # without include_usage there is no usage chunk
    events = sse(http(url, chat_body(NIM_MODEL, 2, stream=True))[2])
    assert len(events) == 4 and all("usage" not in json.loads(event) for event in events[:-1])


def test_completions_streaming(llm):  # pylint: disable=redefined-outer-name
    status, _headers, raw = http(llm.url("vllm") + "/v1/completions", {"model": "second-model", "prompt": "a b", "max_tokens": 3, "stream": True,
                                                                       "stream_options": {"include_usage": True}})
    events = sse(raw)
    assert status == 200 and events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert [chunk["choices"][0]["text"] for chunk in chunks[:-1]] == list(PIECES[:3])
    assert {chunk["object"] for chunk in chunks} == {"text_completion"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "length" and chunks[-1]["usage"]["total_tokens"] == 5


# ---- Triton -------------------------------------------------------------------------------------------------------
def test_triton_routes(llm):  # pylint: disable=redefined-outer-name
    base = llm.url("triton")
    assert http(base + "/v2/health/live")[0] == 200 and http(base + "/v2/health/ready")[0] == 200
    status, meta = http_json(base + "/v2")
    assert status == 200 and meta["name"] == "triton" and "generate" in meta["extensions"]
    status, model = http_json(base + "/v2/models/vllm_model")
    assert status == 200 and model["name"] == "vllm_model" and model["versions"] == ["1"]
    assert [tensor["name"] for tensor in model["outputs"]] == ["text_output"]
    assert http(base + "/v2/models/vllm_model/ready")[0] == 200 and http(base + "/v2/models/vllm_model/versions/1/ready")[0] == 200
    assert http(base + "/v2/models/vllm_model/versions/2/ready")[0] == 404
    status, config = http_json(base + "/v2/models/vllm_model/config")
    assert status == 200 and config["backend"] == "vllm" and config["model_transaction_policy"] == {"decoupled": True}
    assert http_json(base + "/v2/repository/index", b"") == (200, [{"name": "vllm_model", "version": "1", "state": "READY"}])
    assert http_json(base + "/v2/models/other") == (404, {"error": "Request for unknown model: 'other' is not found"})
    assert http(base + "/v1/models")[0] == 404 and http(base + "/metrics")[0] == 404  # metrics are on the metrics port
    assert http(llm.endpoints["triton"]["metrics_url"])[0] == 200 and llm.endpoints["triton"]["metrics_port"] != llm.endpoints["triton"]["port"]


def test_triton_generate(llm):  # pylint: disable=redefined-outer-name
    url = llm.url("triton") + "/v2/models/vllm_model/generate"
    status, reply = http_json(url, {"text_input": "what is a GPU", "parameters": {"max_tokens": 4, "stream": False}})
    assert status == 200 and reply == {"model_name": "vllm_model", "model_version": "1", "text_output": "what is a GPU" + text_of(4)}
    reply = http_json(url, {"text_input": "x", "exclude_input_in_output": True, "sampling_parameters": json.dumps({"max_tokens": "3"})})[1]
    assert reply["text_output"] == text_of(3)
    assert http_json(url.replace("/generate", "/versions/1/generate"), {"text_input": "x", "max_tokens": 2})[1]["text_output"] == "x" + text_of(2)
    assert http_json(url, {"parameters": {"max_tokens": 2}}) == (400, {"error": "text_input must be a string"})


def test_triton_generate_stream(llm):  # pylint: disable=redefined-outer-name
    status, headers, raw = http(llm.url("triton") + "/v2/models/vllm_model/generate_stream",
                                {"text_input": "tell me", "parameters": {"max_tokens": 6, "stream": True}})
    assert status == 200 and headers["Content-Type"].startswith("text/event-stream")
    events = [json.loads(event) for event in sse(raw)]
    assert events == [{"model_name": "vllm_model", "model_version": "1", "text_output": piece} for piece in PIECES[:6]]


# ---- latency ---------------------------------------------------------------------------------------------------------
def test_latency_at_concurrency_1(llm):  # pylint: disable=redefined-outer-name
    settings = llm.settings("timed")
    ttft, itl = latency_ms(settings, 1)
    (result,), _none = run_concurrently(llm.url("timed") + "/v1/chat/completions", [chat_body("timed", 6, stream=True)])
    times = token_times(result[1])
    assert result[0] == 200 and len(times) == 6
    assert ttft - 2 <= times[0] * 1000 <= ttft + 25, times
    gaps = [(later - earlier) * 1000 for earlier, later in zip(times, times[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(itl, rel=0.15), gaps


def test_latency_grows_with_concurrency_8(llm):  # pylint: disable=redefined-outer-name
    ttft, itl = latency_ms(llm.settings("timed"), 8)  # 60 * (1 + 0.5 * 7) = 270 ms, 15 * (1 + 0.2 * 7) = 36 ms
    results, _none = run_concurrently(llm.url("timed") + "/v1/chat/completions", [chat_body("timed", 5, stream=True)] * 8)
    firsts, gaps = [], []
    for status, events in results:
        times = token_times(events)
        assert status == 200 and len(times) == 5
        firsts.append(times[0] * 1000)
        gaps += [(later - earlier) * 1000 for earlier, later in zip(times, times[1:])]
    # the first arrivals prefill at a lower load until the last one is in (client skew of some ms): bound each loosely, the mean tightly
    assert all(ttft * 0.75 <= first <= ttft * 1.1 + 25 for first in firsts), (ttft, firsts)
    assert sum(firsts) / len(firsts) == pytest.approx(ttft, rel=0.1), (ttft, firsts)
    assert sum(gaps) / len(gaps) == pytest.approx(itl, rel=0.15), (itl, gaps)


def test_queue_beyond_max_batch(llm):  # pylint: disable=redefined-outer-name
    llm.configure("timed", max_batch=4)
    ttft, itl = latency_ms(llm.settings("timed"), 4)  # 150 ms, 24 ms
    service = ttft + 3 * itl

    async def mid_flight(session):
        await asyncio.sleep(ttft / 2000)
        async with session.get(llm.endpoints["timed"]["metrics_url"]) as response:
            return parse_metrics(await response.text())

    results, samples = run_concurrently(llm.url("timed") + "/v1/chat/completions", [chat_body("timed", 4, stream=True)] * 8, mid_flight)
    assert value(samples, "num_requests_running", model_name="timed") == 4
    assert value(samples, "num_requests_waiting", model_name="timed") == 4
    assert value(samples, "gpu_cache_usage_perc", model_name="timed") > 0
    firsts = sorted(token_times(events)[0] * 1000 for _status, events in results)
    assert all(ttft * 0.8 <= first <= ttft * 1.1 + 25 for first in firsts[:4]), firsts
    assert all((service + ttft) * 0.9 <= first <= (service + ttft) * 1.1 + 25 for first in firsts[4:]), (service + ttft, firsts)
    after = scrape(llm, "timed")
    assert value(after, "num_requests_waiting", model_name="timed") == 0
    assert value(after, "request_queue_time_seconds_count", model_name="timed") == 16  # 8 warm-up + 8
    assert value(after, "request_queue_time_seconds_sum", model_name="timed") >= 4 * service / 1000 * 0.9


def test_closed_loop_matches_expected_steady_state(llm):  # pylint: disable=redefined-outer-name
    llm.configure("timed", max_batch=3)
    expected = expected_steady_state(llm.settings("timed"), 6, 4)  # ttft(3) 120 + queue 183 ms
    url = llm.url("timed") + "/v1/chat/completions"

    async def client(session):
        measured = []
        for _round in range(3):
            _status, events = await timed_stream(session, url, chat_body("timed", 4, stream=True))
            times = token_times(events)
            measured.append((times[0], [later - earlier for earlier, later in zip(times, times[1:])]))
        return measured[1:]  # the first round fills the pipeline

    async def main():
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            return await asyncio.gather(*[client(session) for _client in range(6)])

    rounds = [item for measured in asyncio.run(main()) for item in measured]
    ttfts = [first * 1000 for first, _gaps in rounds]
    gaps = [gap * 1000 for _first, request_gaps in rounds for gap in request_gaps]
    assert sum(ttfts) / len(ttfts) == pytest.approx(expected["ttft_ms"], rel=0.12), (expected, ttfts)
    assert sum(gaps) / len(gaps) == pytest.approx(expected["itl_ms"], rel=0.15), (expected, gaps)


def test_concurrency_128_completes(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", itl_ms=5, ttft_ms=20)
    started = time.perf_counter()
    results, _none = run_concurrently(llm.url("nim") + "/v1/chat/completions", [chat_body(NIM_MODEL, 10, stream=True)] * 128)
    assert time.perf_counter() - started < 20
    assert all(status == 200 and len(token_times(events)) == 10 and events[-1][1] == "[DONE]" for status, events in results)
    samples = scrape(llm, "nim")
    assert value(samples, "generation_tokens_total", model_name=NIM_MODEL) == 128 * 11  # + 128 one-token warm-ups
    assert value(samples, "request_success_total", model_name=NIM_MODEL, finished_reason="length") == 256
    assert value(samples, "num_requests_running", model_name=NIM_MODEL) == 0


# ---- metrics ------------------------------------------------------------------------------------------------------------
def test_nim_metrics_count_the_traffic(llm):  # pylint: disable=redefined-outer-name
    url = llm.url("nim") + "/v1/completions"
    before = scrape(llm, "nim")
    assert value(before, "prompt_tokens_total", model_name=NIM_MODEL) == 0 and value(before, "time_to_first_token_seconds_count", model_name=NIM_MODEL) == 0
    http(url, {"model": NIM_MODEL, "prompt": "a b c", "max_tokens": 4})
    http(url, {"model": NIM_MODEL, "prompt": "a b c d e", "max_tokens": 6, "stream": True})
    for path in ("/v1/metrics", "/metrics"):
        status, headers, raw = http(llm.url("nim") + path)
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        samples = parse_metrics(raw.decode())
        assert not any(name.startswith("vllm:") for name, _labels in samples)
        labels = {"model_name": NIM_MODEL}
        assert value(samples, "prompt_tokens_total", **labels) == 8 and value(samples, "generation_tokens_total", **labels) == 10
        assert value(samples, "request_success_total", finished_reason="length", **labels) == 2
        assert value(samples, "time_to_first_token_seconds_count", **labels) == 2
        assert value(samples, "time_to_first_token_seconds_sum", **labels) >= 2 * 0.010
        assert value(samples, "time_to_first_token_seconds_bucket", le="+Inf", **labels) == 2
        assert value(samples, "time_per_output_token_seconds_count", **labels) == 3 + 5
        assert value(samples, "e2e_request_latency_seconds_count", **labels) == 2
        assert value(samples, "e2e_request_latency_seconds_sum", **labels) >= (0.010 + 3 * 0.002) + (0.010 + 5 * 0.002)
        assert value(samples, "request_prompt_tokens_sum", **labels) == 8 and value(samples, "request_generation_tokens_sum", **labels) == 10
        assert value(samples, "num_requests_running", **labels) == 0 and value(samples, "num_request_max", **labels) == 256
        assert value(samples, "request_failure_total", **labels) == 0


def test_vllm_flavor_is_the_pinned_vllm_release(llm):  # pylint: disable=redefined-outer-name
    from ansible_collections.eks_llm.inference.plugins.module_utils import versions  # pylint: disable=import-outside-toplevel

    # a new pin must come with the stand-in's routes and metric names of that release
    assert VLLM_VERSION == versions.VLLM_VERSION and versions.IMAGES["vllm"].endswith(":v" + versions.VLLM_VERSION)
    assert http_json(llm.url("vllm") + "/version") == (200, {"version": VLLM_VERSION})
    names = set(name for name, _labels in scrape(llm, "vllm"))
    # what the HPA (prometheus-adapter's llm_requests_waiting), the dashboards and the verify probe read
    assert {"vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc",
            "vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket"} <= names
    # names this release no longer exports (V0-era spellings)
    assert not names & {"vllm:gpu_cache_usage_perc", "vllm:time_per_output_token_seconds_bucket", "vllm:num_request_max"}


def test_vllm_metric_names(llm):  # pylint: disable=redefined-outer-name
    http(llm.url("vllm") + "/v1/chat/completions", chat_body("facebook/opt-125m", 3))
    samples = scrape(llm, "vllm")
    names = {name for name, _labels in samples if not name.startswith("process_")}
    assert names and all(name.startswith("vllm:") for name in names)
    for model, count in (("facebook/opt-125m", 1), ("second-model", 0)):
        assert value(samples, "vllm:e2e_request_latency_seconds_count", model_name=model) == count
        assert value(samples, "vllm:inter_token_latency_seconds_count", model_name=model) == 2 * count
        assert value(samples, "vllm:request_time_per_output_token_seconds_count", model_name=model) == count
        assert value(samples, "vllm:kv_cache_usage_perc", model_name=model) == 0
        assert value(samples, "vllm:num_requests_waiting", model_name=model) == 0
    assert value(samples, "vllm:gpu_cache_usage_perc") is None and value(samples, "vllm:time_per_output_token_seconds_count") is None
    # the style is a runtime setting of either OpenAI flavor
    llm.configure("nim", metrics_prefix="vllm:")
    assert value(scrape(llm, "nim"), "vllm:kv_cache_usage_perc", model_name=NIM_MODEL) == 0
    llm.configure("vllm", metrics_prefix="")
    assert value(scrape(llm, "vllm"), "gpu_cache_usage_perc", model_name="second-model") == 0


def test_triton_metrics_count_the_traffic(llm):  # pylint: disable=redefined-outer-name
    url = llm.url("triton") + "/v2/models/vllm_model/"
    http(url + "generate", {"text_input": "a b", "parameters": {"max_tokens": 3}})
    http(url + "generate_stream", {"text_input": "a b c", "parameters": {"max_tokens": 5}})
    http(url + "generate", {"text_input": "a", "parameters": {"max_tokens": -1}})  # refused before it reaches the model
    samples = scrape(llm, "triton")
    labels = {"model": "vllm_model", "version": "1"}
    assert value(samples, "nv_inference_request_success", **labels) == 2
    assert value(samples, "nv_inference_count", **labels) == 2 and value(samples, "nv_inference_exec_count", **labels) == 2
    assert value(samples, "nv_inference_request_failure", reason="BACKEND", **labels) == 0
    # the vLLM backend's execute() hands the request over and returns: Triton times the hand-off, not the generation
    assert 0 < value(samples, "nv_inference_request_duration_us", **labels) < (10 + 2 * 2) * 1000
    assert value(samples, "nv_inference_compute_infer_duration_us", **labels) == 2 * 100
    assert value(samples, "nv_inference_queue_duration_us", **labels) == 0
    assert value(samples, "nv_inference_compute_output_duration_us", **labels) == 0
    assert value(samples, "vllm:prompt_tokens_total", **labels) == 5 and value(samples, "vllm:generation_tokens_total", **labels) == 8
    assert value(samples, "vllm:time_to_first_token_seconds_count", **labels) == 2
    assert value(samples, "vllm:time_per_output_token_seconds_count", **labels) == 2 + 4
    assert value(samples, "vllm:e2e_request_latency_seconds_count", **labels) == 2
    assert value(samples, "vllm:request_params_n_count", **labels) == 2
    assert value(samples, "vllm:num_requests_running", **labels) is None  # the backend exports no gauges
    gpu = {"gpu_uuid": next(dict(found)["gpu_uuid"] for name, found in samples if name == "nv_gpu_utilization")}
    assert value(samples, "nv_gpu_utilization", **gpu) == 0
    assert value(samples, "nv_gpu_memory_used_bytes", **gpu) < value(samples, "nv_gpu_memory_total_bytes", **gpu)


def test_triton_gauges_follow_the_load(llm):  # pylint: disable=redefined-outer-name
    llm.configure("triton", ttft_ms=400, max_batch=1)
    url = llm.url("triton") + "/v2/models/vllm_model/generate"

    async def main():
        async with aiohttp.ClientSession() as session:
            requests = [asyncio.ensure_future(post_json(session, url, {"text_input": "a b c", "parameters": {"max_tokens": 2}})) for _request in range(2)]
            await asyncio.sleep(0.2)
            async with session.get(llm.endpoints["triton"]["metrics_url"]) as response:
                during = parse_metrics(await response.text())
            assert [status for status, _reply in await asyncio.gather(*requests)] == [200, 200]
            return during

    during, after = asyncio.run(main()), scrape(llm, "triton")
    labels = {"model": "vllm_model", "version": "1"}
    # vLLM queues the second request, Triton does not see it: its requests were handed over at once
    assert value(during, "nv_inference_pending_request_count", **labels) == 0
    assert value(during, "nv_inference_request_success", **labels) == 2 and value(during, "vllm:e2e_request_latency_seconds_count", **labels) == 0
    assert value(during, "nv_gpu_utilization") == 1.0
    assert value(after, "nv_gpu_utilization") == 0
    assert value(during, "nv_gpu_memory_used_bytes") > value(after, "nv_gpu_memory_used_bytes")
    assert value(after, "nv_inference_queue_duration_us", **labels) == 0
    assert value(after, "vllm:time_to_first_token_seconds_sum", **labels) >= 0.9 * (400 + 400 + 400) / 1000  # the second one waited


# ---- faults -------------------------------------------------------------------------------------------------------------
def test_fault_not_ready(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", faults=["not_ready"])
    llm.configure("triton", faults={"not_ready": True})
    nim, triton = llm.url("nim"), llm.url("triton")
    assert http_json(nim + "/v1/health/ready") == (503, {"object": "health-response", "message": "Service is not ready."})
    assert http(nim + "/health")[0] == 503 and http(nim + "/health/ready")[0] == 503
    assert http(nim + "/v1/health/live")[0] == 200
    assert http(triton + "/v2/health/ready")[0] == 503 and http(triton + "/v2/models/vllm_model/ready")[0] == 503
    assert http(triton + "/v2/health/live")[0] == 200
    assert http_json(triton + "/v2/repository/index", {})[1] == [{"name": "vllm_model", "version": "1", "state": "UNAVAILABLE", "reason": "loading"}]
    assert http_json(triton + "/v2/repository/index", {"ready": True})[1] == []
    llm.configure("nim", faults={"not_ready": False})
    assert http(nim + "/v1/health/ready")[0] == 200


def test_fault_wrong_models(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", faults=["wrong_models"])
    llm.configure("triton", faults=["wrong_models"])
    nim, triton = llm.url("nim"), llm.url("triton")
    assert [model["id"] for model in http_json(nim + "/v1/models")[1]["data"]] == [NIM_MODEL + "-wrong"]
    assert http(nim + "/v1/chat/completions", chat_body(NIM_MODEL, 1))[0] == 404
    assert http(nim + "/v1/chat/completions", chat_body(NIM_MODEL + "-wrong", 1))[0] == 200
    assert http(triton + "/v2/models/vllm_model")[0] == 404 and http(triton + "/v2/models/vllm_model-wrong/ready")[0] == 200
    assert [entry["name"] for entry in http_json(triton + "/v2/repository/index", {})[1]] == ["vllm_model-wrong"]
    assert value(scrape(llm, "triton"), "nv_inference_request_success", model="vllm_model-wrong") == 0


def test_fault_server_error(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", faults=["server_error"])
    llm.configure("triton", faults=["server_error"])
    nim, triton = llm.url("nim"), llm.url("triton")
    status, reply = http_json(nim + "/v1/chat/completions", chat_body(NIM_MODEL, 2, stream=True))
    assert status == 500 and reply["error"]["type"] == "InternalServerError"
    assert http(nim + "/v1/completions", {"model": NIM_MODEL, "prompt": "x"})[0] == 500
    assert http(nim + "/v1/health/ready")[0] == 200 and http(nim + "/v1/models")[0] == 200
    status, reply = http_json(triton + "/v2/models/vllm_model/generate", {"text_input": "x"})
    assert status == 500 and "error" in reply
    assert http(triton + "/v2/models/vllm_model/generate_stream", {"text_input": "x"})[0] == 500
    assert value(scrape(llm, "nim"), "request_failure_total", model_name=NIM_MODEL) == 2
    samples = scrape(llm, "triton")
    assert value(samples, "nv_inference_request_failure", model="vllm_model", reason="BACKEND") == 2
    assert value(samples, "nv_inference_request_success", model="vllm_model") == 0


def test_fault_stalled_stream(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", faults=["stalled_stream"])
    url = llm.url("nim") + "/v1/chat/completions"

    async def first_then_silence(session, body, expect_piece):
        async with session.post(url, json=body) as response:
            lines = []
            while not any(expect_piece in line for line in lines):
                lines.append(await next_event(response, 2))
            with pytest.raises(asyncio.TimeoutError):
                await next_event(response, 0.4)
            async with session.get(llm.endpoints["nim"]["metrics_url"]) as metrics:
                return parse_metrics(await metrics.text())

    async def resumes(session):
        task = asyncio.ensure_future(timed_stream(session, url, chat_body(NIM_MODEL, 4, stream=True)))
        await asyncio.sleep(0.3)
        assert not task.done()
        assert (await post_json(session, llm.endpoints["nim"]["control_url"] + "/config", {"faults": []}))[0] == 200
        return await asyncio.wait_for(task, 5)

    async def main():
        async with aiohttp.ClientSession() as session:
            during = await first_then_silence(session, chat_body(NIM_MODEL, 4, stream=True), b'"content":" the"')
        await asyncio.sleep(0.1)  # the client is gone: the server cancels the request
        async with aiohttp.ClientSession() as session:
            return during, await resumes(session)

    during, (status, events) = asyncio.run(main())
    assert value(during, "num_requests_running", model_name=NIM_MODEL) == 1
    assert status == 200 and len(token_times(events)) == 4 and events[-1][1] == "[DONE]"
    samples = scrape(llm, "nim")
    assert value(samples, "request_success_total", model_name=NIM_MODEL, finished_reason="abort") == 1
    assert value(samples, "request_success_total", model_name=NIM_MODEL, finished_reason="length") == 1
    assert value(samples, "num_requests_running", model_name=NIM_MODEL) == 0


def test_fault_stalled_triton_stream(llm):  # pylint: disable=redefined-outer-name
    llm.configure("triton", faults=["stalled_stream"])

    async def main():
        async with aiohttp.ClientSession() as session:
            async with session.post(llm.url("triton") + "/v2/models/vllm_model/generate_stream", json={"text_input": "x", "max_tokens": 3}) as response:
                first = await next_event(response, 2)
                with pytest.raises(asyncio.TimeoutError):
                    await next_event(response, 0.4)
                return first

    assert json.loads(asyncio.run(main())[len(b"data: "):]) == {"model_name": "vllm_model", "model_version": "1", "text_output": PIECES[0]}
    time.sleep(0.1)
    assert value(scrape(llm, "triton"), "nv_inference_request_failure", model="vllm_model", reason="CANCELED") == 1


def test_fault_missing_metrics(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", faults=["missing_metrics"])
    llm.configure("triton", faults=["missing_metrics"])
    for name, absent in (("nim", ("num_requests_running", "time_to_first_token_seconds")), ("triton", ("nv_inference_count", "vllm:"))):
        status, _headers, raw = http(llm.endpoints[name]["metrics_url"])
        text = raw.decode()
        assert status == 200 and ("process_start_time_seconds" in text if name == "nim" else "nv_gpu_utilization" in text)
        assert not any(series in text for series in absent), text
    assert "nv_gpu_utilization" in http(llm.endpoints["triton"]["metrics_url"])[2].decode()


def test_fault_empty_output(llm):  # pylint: disable=redefined-outer-name
    llm.configure("nim", faults=["empty_output"])
    llm.configure("triton", faults=["empty_output"])
    url = llm.url("nim") + "/v1/chat/completions"
    reply = http_json(url, chat_body(NIM_MODEL, 5))[1]
    assert reply["choices"][0]["message"]["content"] == "" and reply["usage"]["completion_tokens"] == 0
    events = sse(http(url, chat_body(NIM_MODEL, 5, stream=True))[2])
    chunks = [json.loads(event) for event in events[:-1]]
    assert events[-1] == "[DONE]" and "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks) == ""
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    triton = llm.url("triton") + "/v2/models/vllm_model/"
    assert http_json(triton + "generate", {"text_input": "x", "exclude_input_in_output": True})[1]["text_output"] == ""
    assert [json.loads(event)["text_output"] for event in sse(http(triton + "generate_stream", {"text_input": "x"})[2])] == [""]
    assert value(scrape(llm, "nim"), "generation_tokens_total", model_name=NIM_MODEL) == 0


def test_faults_from_the_start_config():
    with running_llm_server([{"flavor": "nim", "models": ["m"], "faults": ["not_ready", "wrong_models"]}]) as standin:
        assert http(standin.url(None, "health_url"))[0] == 503
        assert [model["id"] for model in http_json(standin.url(None, "openai_url") + "/models")[1]["data"]] == ["m-wrong"]
        assert standin.reset(settings=True)["faults"] == ["not_ready", "wrong_models"]  # the start settings include them


# ---- control API --------------------------------------------------------------------------------------------------------
def test_control_api_settings_and_errors(llm):  # pylint: disable=redefined-outer-name
    control = llm.endpoints["nim"]["control_url"]
    status, settings = http_json(control + "/config")
    assert status == 200 and settings["ttft_ms"] == 10 and settings["faults"] == [] and settings["served_models"] == [NIM_MODEL]
    assert settings["state"] == {"running": 0, "waiting": 0} and settings["port"] == llm.endpoints["nim"]["port"]
    for bad, message in (({"ttft_ms": -1}, "ttft_ms"), ({"bogus": 1}, "unknown setting"), ({"faults": ["melted"]}, "unknown fault"),
                         ({"port": 1}, "cannot change"), ({"faults": {"not_ready": "yes"}}, "true or false"), (b"[", "Expecting")):
        status, reply = http_json(control + "/config", bad)
        assert status == 400 and message in reply["error"], reply
    assert http_json(control + "/config")[1]["ttft_ms"] == 10  # nothing changed
    assert llm.configure("nim", faults={"not_ready": True})["faults"] == ["not_ready"]
    assert llm.configure("nim", faults={"server_error": True})["faults"] == ["not_ready", "server_error"]
    assert llm.configure("nim", faults={"not_ready": False})["faults"] == ["server_error"]
    metrics_control = f"http://127.0.0.1:{llm.endpoints['triton']['metrics_port']}/_standin/config"
    assert http_json(metrics_control, {"itl_ms": 3})[1]["itl_ms"] == 3 and llm.settings("triton")["itl_ms"] == 3
    assert http_json(llm.endpoints["triton"]["control_url"] + "/health")[1]["endpoint"] == "triton"


def test_control_api_changes_latency(llm):  # pylint: disable=redefined-outer-name
    url = llm.url("nim") + "/v1/completions"
    body = {"model": NIM_MODEL, "prompt": "x", "max_tokens": 3}
    llm.configure("nim", ttft_ms=250, itl_ms=50)
    started = time.perf_counter()
    assert http(url, body)[0] == 200
    assert 0.35 <= time.perf_counter() - started <= 0.6
    llm.configure("nim", ttft_ms=0, itl_ms=0)
    started = time.perf_counter()
    assert http(url, body)[0] == 200
    assert time.perf_counter() - started < 0.15


def test_control_api_reset(llm):  # pylint: disable=redefined-outer-name
    http(llm.url("nim") + "/v1/completions", {"model": NIM_MODEL, "prompt": "x y", "max_tokens": 2})
    assert value(scrape(llm, "nim"), "prompt_tokens_total", model_name=NIM_MODEL) == 2
    llm.configure("nim", ttft_ms=33)
    assert llm.reset("nim")["ttft_ms"] == 33
    samples = scrape(llm, "nim")
    assert value(samples, "prompt_tokens_total", model_name=NIM_MODEL) == 0 and value(samples, "e2e_request_latency_seconds_count", model_name=NIM_MODEL) == 0
    assert llm.reset("nim", settings=True)["ttft_ms"] == 10


# ---- start / stop ---------------------------------------------------------------------------------------------------------
def cli(*args):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([sys.executable, "-m", "tests.standin.llm_server", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_cli_start_status_stop(tmp_path):
    config, state = tmp_path / "llm.json", tmp_path / "state"
    config.write_text(json.dumps({"endpoints": [{"name": "nim", "flavor": "nim", "models": ["m"], "ttft_ms": 1, "itl_ms": 1},
                                                {"name": "triton", "flavor": "triton", "models": ["vllm_model"]}]}))
    started = cli("start", "--config", str(config), "--state-dir", str(state))
    assert started.returncode == 0, started.stderr
    info = json.loads((state / "llm_endpoints.json").read_text())
    pid = int((state / "llm_server.pid").read_text())
    assert info["pid"] == pid and process_alive(pid) and pid != os.getpid()
    assert set(info["endpoints"]) == {"nim", "triton"} and info["endpoints"]["nim"]["openai_url"].endswith("/v1")
    assert http(info["endpoints"]["nim"]["health_url"])[0] == 200 and http(info["endpoints"]["triton"]["metrics_url"])[0] == 200
    assert http_json(info["endpoints"]["nim"]["openai_url"] + "/chat/completions", chat_body("m", 2))[1]["usage"]["completion_tokens"] == 2
    again = cli("start", "--config", str(config), "--state-dir", str(state))
    assert again.returncode == 0 and "already running" in again.stdout and int((state / "llm_server.pid").read_text()) == pid
    status = cli("status", "--state-dir", str(state))
    assert status.returncode == 0 and f"pid {pid}" in status.stdout
    stopped = cli("stop", "--state-dir", str(state))
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    assert not process_alive(pid) and not (state / "llm_endpoints.json").exists()
    assert _closed(info["endpoints"]["nim"]["health_url"])
    assert cli("status", "--state-dir", str(state)).returncode == 3
    assert "not running" in cli("stop", "--state-dir", str(state)).stdout


def _closed(url):
    try:
        http(url, timeout=2)
    except urllib.error.URLError:
        return True
    return False


def test_cli_refuses_a_bad_config(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"endpoints": [{"flavor": "nim"}]}))
    result = cli("start", "--config", str(config), "--state-dir", str(tmp_path / "state"))
    assert result.returncode == 1 and "models is required" in result.stderr


def test_process_mode_fixture():
    with LLMStandIn([{"name": "v", "flavor": "vllm", "models": ["m"], "ttft_ms": 1, "itl_ms": 1}], process=True) as standin:
        assert standin.info["pid"] != os.getpid()
        assert http_json(standin.url("v", "openai_url") + "/completions", {"model": "m", "prompt": "a", "max_tokens": 2})[0] == 200
        assert value(parse_metrics(standin.metrics("v")), "vllm:generation_tokens_total", model_name="m") == 2
        pid = standin.info["pid"]
    assert not process_alive(pid)
