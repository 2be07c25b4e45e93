# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.benchmark_results_info on exports written by genai-perf 0.0.16 and AIPerf 0.13.0."""

import json
import os
import shutil

import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.modules import benchmark_results_info
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules import benchmark_harness as h
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

STAT_KEYS = {"avg", "p50", "p90", "p99", "min", "max"}


@pytest.fixture
def run():
    return ModuleRunner(benchmark_results_info.main)


def raw(path):
    with open(path) as handle:
        return json.load(handle)


def test_genai_perf_streaming_chat_found_in_the_artifact_dir(run):
    result = run({"path": h.GENAI_PERF_CHAT, "expected_model": "meta/llama-3.1-8b-instruct"})
    m = result["metrics"]
    assert result["changed"] is False
    assert result["path"] == m["source"] == h.GENAI_PERF_CHAT_FILE
    assert m["model"] == "meta/llama-3.1-8b-instruct"
    assert m["models"] == ["meta/llama-3.1-8b-instruct"]
    assert (m["runner"], m["runner_version"], m["endpoint_type"], m["backend"]) == ("genai_perf", None, "chat", None)
    assert m["streaming"] is True
    assert (m["concurrency"], m["request_rate"], m["request_count"], m["error_count"]) == (64, None, 256, None)
    assert m["time_to_first_token_ms"] == {"avg": 229.8046875, "p50": 195.0, "p90": 240.0,
                                           "p99": 681.7499999999999, "min": 150.0, "max": 690.0}
    assert m["inter_token_latency_ms"] == {"avg": 13.494140625, "p50": 13.5, "p90": 15.0, "p99": 15.0,
                                           "min": 12.0, "max": 15.0}
    assert set(m["output_token_throughput_per_user"]) == STAT_KEYS
    assert m["output_token_throughput_per_user"]["p50"] == pytest.approx(74.07407407407408)
    assert m["input_sequence_length_avg"] == pytest.approx(112.8359375)
    assert m["output_sequence_length_avg"] == 128.0
    assert m["request_goodput_per_s"] == pytest.approx(28.68254739912494)
    assert m["goodput_source"] == "export"
    assert m["goodput_slos"] == {"time_to_first_token": 250.0, "inter_token_latency": 15.0}


def test_values_of_1000_and_more_come_from_the_json_never_the_csv(run, tmp_path):
    # The CSV beside it says "3,982.50" and "2,556.75"; the JSON has the full values.
    csv_text = open(h.GENAI_PERF_CHAT_FILE.replace(".json", ".csv")).read()
    assert '"3,982.50"' in csv_text and '"2,556.75"' in csv_text
    m = run({"path": h.GENAI_PERF_CHAT_FILE})["metrics"]
    assert m["output_token_throughput_per_s"] == 3982.498784637822
    assert m["request_latency_ms"] == {"avg": 1943.560546875, "p50": 1924.5, "p90": 2145.0, "p99": 2556.75,
                                       "min": 1674.0, "max": 2595.0}
    # A broken CSV changes nothing.
    artifacts = h.copy_fixture(h.GENAI_PERF_CHAT, tmp_path / "artifacts")
    for root, _dirs, files in os.walk(artifacts):
        for name in files:
            if name.endswith(".csv"):
                with open(os.path.join(root, name), "w") as handle:
                    handle.write("Metric,avg\nnot,a,number\n")
    assert run({"path": artifacts})["metrics"]["output_token_throughput_per_s"] == 3982.498784637822


def test_non_streaming_completions_report_no_ttft_or_itl(run):
    source = os.path.join(h.GENAI_PERF_COMPLETIONS, "meta_llama-3.1-8b-instruct-openai-completions-concurrency4",
                          "profile_export_genai_perf.json")
    # genai-perf writes a TTFT even when not streaming: the request latency.
    data = raw(source)
    assert data["time_to_first_token"]["avg"] == data["request_latency"]["avg"]
    m = run({"path": h.GENAI_PERF_COMPLETIONS})["metrics"]
    assert (m["endpoint_type"], m["streaming"], m["concurrency"], m["request_count"]) == ("completions", False, 4, 40)
    assert m["time_to_first_token_ms"] is None
    assert m["inter_token_latency_ms"] is None
    assert m["output_token_throughput_per_user"] is None
    assert m["request_latency_ms"]["p99"] == pytest.approx(3646.305)
    assert m["output_token_throughput_per_s"] == pytest.approx(228.1741610588707)
    assert m["request_goodput_per_s"] is None and m["goodput_source"] is None and m["goodput_slos"] is None


def test_triton_kserve_vllm_backend(run):
    m = run({"path": h.GENAI_PERF_KSERVE, "expected_model": "vllm_model"})["metrics"]
    assert (m["model"], m["endpoint_type"], m["backend"], m["streaming"]) == ("vllm_model", "kserve", "vllm", True)
    assert m["concurrency"] == 16
    assert m["time_to_first_token_ms"]["p99"] == pytest.approx(408.33)
    assert m["inter_token_latency_ms"]["avg"] == pytest.approx(10.107421875)
    assert m["output_token_throughput_per_s"] == pytest.approx(1403.9718074508878)


def test_triton_http_generate(run):
    m = run({"path": h.GENAI_PERF_GENERATE})["metrics"]
    assert (m["endpoint_type"], m["backend"], m["streaming"], m["concurrency"]) == ("generate", None, True, 8)
    assert m["time_to_first_token_ms"]["p50"] == 123.5


def test_aiperf_streaming_chat_with_warmup(run):
    m = run({"path": h.AIPERF_CHAT})["metrics"]
    assert m["source"] == os.path.join(h.AIPERF_CHAT, "profile_export_aiperf.json")
    assert (m["runner"], m["runner_version"], m["endpoint_type"], m["streaming"]) == ("aiperf", "0.13.0", "chat", True)
    # phases: warmup first, then profiling; the concurrency is the profiling phase's.
    assert [p["kind"] for p in raw(m["source"])["input_config"]["phases"]] == ["warmup", "profiling"]
    assert (m["concurrency"], m["request_count"], m["error_count"]) == (8, 32, 0)
    assert m["time_to_first_token_ms"]["p99"] == pytest.approx(215.60730881)
    assert m["inter_token_latency_ms"]["p50"] == pytest.approx(13.083437706349205)
    assert m["output_token_throughput_per_user"]["min"] == pytest.approx(68.13, abs=0.01)
    assert m["request_throughput_per_s"] == pytest.approx(7.740114857799333)
    assert m["request_goodput_per_s"] == pytest.approx(4.353814607512125)
    assert m["goodput_source"] == "export"
    assert m["goodput_slos"] == {"time_to_first_token": 175.0, "inter_token_latency": 14.0}


def test_aiperf_goodput_computed_from_records_matches_aiperf(run):
    # The thresholds of the run: the records give AIPerf's own goodput back.
    same = run({"path": h.AIPERF_CHAT, "goodput": {"time_to_first_token": 175, "inter_token_latency": 14}})
    assert same["metrics"]["goodput_source"] == "computed"
    assert same["metrics"]["request_goodput_per_s"] == pytest.approx(4.353814607512125, rel=1e-12)
    # Stricter: 23 of the 32 requests had a TTFT <= 160 ms.
    strict = run({"path": h.AIPERF_CHAT, "goodput": {"time_to_first_token": 160}})["metrics"]
    assert strict["request_goodput_per_s"] == pytest.approx(7.740114857799333 * 23 / 32)
    assert strict["goodput_slos"] == {"time_to_first_token": 160}
    # Per-user throughput is good at or above its threshold: 21 of 32 reached 76.3 tokens/s.
    per_user = run({"path": h.AIPERF_CHAT, "goodput": {"output_token_throughput_per_user": 76.3}})["metrics"]
    assert per_user["request_goodput_per_s"] == pytest.approx(7.740114857799333 * 21 / 32)


def test_aiperf_non_streaming(run):
    m = run({"path": h.AIPERF_COMPLETIONS})["metrics"]
    assert (m["runner"], m["endpoint_type"], m["streaming"], m["concurrency"]) == ("aiperf", "completions", False, 4)
    assert m["time_to_first_token_ms"] is None and m["inter_token_latency_ms"] is None
    assert m["request_latency_ms"]["max"] == pytest.approx(raw(m["source"])["request_latency"]["max"])


def test_goodput_without_per_request_records_reports_the_export_with_a_warning(run):
    result = run({"path": h.GENAI_PERF_CHAT, "goodput": {"time_to_first_token": 100}})
    m = result["metrics"]
    assert m["request_goodput_per_s"] == pytest.approx(28.68254739912494)
    assert m["goodput_source"] == "export"
    assert m["goodput_slos"] == {"time_to_first_token": 250.0, "inter_token_latency": 15.0}
    assert len(run.warnings) == 1
    assert "no per-request records" in run.warnings[0]
    assert '{"inter_token_latency": 15.0, "time_to_first_token": 250.0}' in run.warnings[0]


def test_goodput_without_records_or_export_value_is_null(run, tmp_path):
    artifacts = h.copy_fixture(h.AIPERF_COMPLETIONS, tmp_path / "run")
    m = run({"path": artifacts, "goodput": {"request_latency": 1000}})["metrics"]
    assert m["request_goodput_per_s"] is None and m["goodput_source"] is None
    assert "reporting no goodput" in run.warnings[0]


def test_goodput_with_an_unknown_metric_fails(run):
    failure = run.failing({"path": h.AIPERF_CHAT, "goodput": {"ttft": 100}})
    assert failure["msg"] == ("goodput names unknown metric(s) ttft; use inter_token_latency, "
                              "output_token_throughput_per_user, request_latency, time_to_first_token")


def test_goodput_threshold_must_be_a_number(run):
    failure = run.failing({"path": h.AIPERF_CHAT, "goodput": {"request_latency": "fast"}})
    assert failure["msg"] == "goodput threshold request_latency must be a number, got 'fast'"


def test_aiperf_phase_copies_are_not_candidates(run, tmp_path):
    directory = h.copy_fixture(h.AIPERF_CHAT, tmp_path / "run")
    for phase in ("warmup", "profiling"):
        os.makedirs(os.path.join(directory, "phases", phase))
        shutil.copy(os.path.join(directory, "profile_export_aiperf.json"), os.path.join(directory, "phases", phase))
    assert run({"path": directory})["path"] == os.path.join(directory, "profile_export_aiperf.json")
    # Named directly, the warmup phase's export is refused; the profiling phase's is read.
    warmup = os.path.join(directory, "phases", "warmup", "profile_export_aiperf.json")
    failure = run.failing({"path": warmup})
    assert failure["msg"] == (
        "%s is the export of AIPerf's warmup phase, not of the measurement; read the run's "
        "profile_export_aiperf.json two directories up" % warmup)
    profiling = os.path.join(directory, "phases", "profiling", "profile_export_aiperf.json")
    assert run({"path": profiling})["metrics"]["request_count"] == 32


def test_a_sweep_directory_is_ambiguous(run, tmp_path):
    sweep = tmp_path / "sweep"
    for level in (1, 2):
        h.copy_fixture(h.AIPERF_COMPLETIONS, sweep / ("concurrency_%d" % level))
    failure = run.failing({"path": str(sweep)})
    first = str(sweep / "concurrency_1" / "profile_export_aiperf.json")
    second = str(sweep / "concurrency_2" / "profile_export_aiperf.json")
    assert failure["msg"] == (
        "found 2 benchmark exports under %s, so which one to read is ambiguous; set path to one of: %s, %s"
        % (sweep, first, second))


def test_missing_path_fails(run, tmp_path):
    missing = str(tmp_path / "nothing-here")
    assert run.failing({"path": missing})["msg"] == "%s does not exist" % missing


def test_directory_without_export_fails(run, tmp_path):
    (tmp_path / "profile_export.json").write_text("{}")
    assert run.failing({"path": str(tmp_path)})["msg"] == (
        "found no benchmark export under %s: looked for profile_export_aiperf.json and *_genai_perf.json" % tmp_path)


def test_truncated_export_fails(run):
    failure = run.failing({"path": h.TRUNCATED})
    assert failure["msg"].startswith("benchmark export %s is truncated or not JSON (" % h.TRUNCATED)


def test_foreign_json_fails_naming_the_expected_keys(run):
    failure = run.failing({"path": h.FOREIGN})
    assert failure["msg"].startswith("%s is not a genai-perf or AIPerf export: expected genai-perf "
                                     "profile_export_genai_perf.json (metric objects such as request_latency"
                                     % h.FOREIGN)
    assert "input_config with endpoint and perf_analyzer" in failure["msg"]
    assert "AIPerf profile_export_aiperf.json (schema_version, aiperf_version" in failure["msg"]
    assert failure["msg"].endswith("its top-level keys are: failures, load_summary, successes")


def test_json_that_is_not_an_object_fails(run, tmp_path):
    path = tmp_path / "x_genai_perf.json"
    path.write_text("[1, 2]")
    assert run.failing({"path": str(path)})["msg"].endswith("its top-level keys are: none (a JSON list, not an object)")


def test_another_model_than_expected_fails(run):
    failure = run.failing({"path": h.GENAI_PERF_KSERVE, "expected_model": "meta/llama-3.1-8b-instruct"})
    assert failure["msg"] == "%s is a benchmark of vllm_model, not of the expected model meta/llama-3.1-8b-instruct" % (
        os.path.join(h.GENAI_PERF_KSERVE, "vllm_model-triton-vllm-concurrency16", "profile_export_genai_perf.json"))


def test_check_mode_reads_the_same(run):
    assert run({"path": h.AIPERF_CHAT}, check_mode=True) == run({"path": h.AIPERF_CHAT})


def test_path_is_required(run):
    assert "missing required arguments: path" in run.failing({})["msg"]


def test_every_returned_metric_is_documented(run):
    documented = yaml.safe_load(benchmark_results_info.RETURN)["metrics"]["contains"]
    assert sorted(documented) == sorted(run({"path": h.AIPERF_CHAT})["metrics"])


def test_a_streaming_run_whose_ttft_is_the_request_latency_is_flagged_and_its_streaming_metrics_dropped(run, tmp_path):
    # what genai-perf 0.0.16 writes when --endpoint-type generate --streaming called Triton's non-streaming route
    data = raw(os.path.join(h.GENAI_PERF_GENERATE, "vllm_model-openai-generate-concurrency8", "profile_export_genai_perf.json"))
    data["time_to_first_token"] = dict(data["request_latency"])
    target = tmp_path / "run" / "profile_export_genai_perf.json"
    target.parent.mkdir()
    target.write_text(json.dumps(data))
    m = run({"path": str(target.parent)})["metrics"]
    assert m["streaming"] is True
    assert "time to first token equals the request latency for every request" in m["not_streamed"]
    assert m["time_to_first_token_ms"] is None and m["inter_token_latency_ms"] is None
    assert m["output_token_throughput_per_user"] is None
    assert m["request_latency_ms"]["p99"] == data["request_latency"]["p99"]
    # a real streaming run (the fixture) is not flagged
    assert run({"path": h.GENAI_PERF_GENERATE})["metrics"]["not_streamed"] is None
