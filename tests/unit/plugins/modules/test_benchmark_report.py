# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.benchmark_report on metrics read from real genai-perf / AIPerf exports."""

import copy
import csv
import json
import os
import shutil
import struct

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark
from ansible_collections.eks_llm.inference.plugins.modules import benchmark_report
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules import benchmark_harness as h
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

LLAMA = "meta/llama-3.1-8b-instruct"
PLOT_NAMES = ["throughput_vs_concurrency.png", "ttft_vs_concurrency.png", "itl_vs_concurrency.png",
              "throughput_vs_latency.png"]


@pytest.fixture
def run():
    return ModuleRunner(benchmark_report.main)


def metrics_of(path):
    return benchmark.read_results(path)[0]


def sweep(path, model, engine, levels, profile="isl128-osl128"):
    """One result per level from one export: throughput scales with the level, latencies grow with it."""
    base = metrics_of(path)
    results = []
    for index, level in enumerate(levels):
        m = copy.deepcopy(base)
        m["concurrency"] = level
        m["output_token_throughput_per_s"] = base["output_token_throughput_per_s"] * level / levels[-1]
        m["request_throughput_per_s"] = base["request_throughput_per_s"] * level / levels[-1]
        for key in ("time_to_first_token_ms", "inter_token_latency_ms", "request_latency_ms"):
            if m[key]:
                m[key] = dict((stat, value * (1 + 0.25 * index)) for stat, value in m[key].items())
        results.append({"model": model, "engine": engine, "profile": profile, "concurrency": level, "metrics": m})
    return results


@pytest.fixture
def two_engines():
    return (sweep(h.GENAI_PERF_CHAT, LLAMA, "nim", [16, 32, 64])
            + sweep(h.GENAI_PERF_KSERVE, "vllm_model", "triton_vllm", [16, 32, 64]))


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def png_size(path):
    data = read(path)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_writes_markdown_csv_json_and_plots(run, tmp_path, two_engines):
    out = str(tmp_path / "report")
    result = run({"results": two_engines, "output_dir": out, "title": "Llama 3.1 8B: NIM vs Triton"})
    assert result["changed"] is True
    assert result["files"] == [os.path.join(out, name) for name in
                               ["report.md", "results.csv", "report.json"] + PLOT_NAMES]
    assert sorted(os.listdir(out)) == sorted(["report.md", "results.csv", "report.json"] + PLOT_NAMES)
    for name in PLOT_NAMES:
        path = os.path.join(out, name)
        assert os.path.getsize(path) > 10000
        width, height = png_size(path)
        assert (width, height) in ((800, 500), (1200, 500))
    assert png_size(os.path.join(out, "throughput_vs_latency.png")) == (1200, 500)  # latency and TTFT panels
    assert result["slo_results"] == [] and result["slo_failures"] == 0 and result["baseline_comparison"] == []

    report = read(os.path.join(out, "report.md")).decode()
    assert report.startswith("# Llama 3.1 8B: NIM vs Triton\n\n## Runs\n")
    assert "| %s | nim | isl128-osl128 | genai_perf | chat | yes | 16, 32, 64 | 112.8, 112.8, 112.8 | 128.0, 128.0, 128.0 |" % LLAMA in report
    assert "| vllm_model | triton_vllm | isl128-osl128 | genai_perf | kserve | yes | 16, 32, 64 |" in report
    assert "### %s / nim / isl128-osl128\n\n| Concurrency | Requests | TTFT avg (ms) | TTFT p50 (ms) | TTFT p99 (ms) " \
           "| ITL avg (ms) | ITL p50 (ms) | ITL p99 (ms) | Latency avg (ms) | Latency p99 (ms) | Output tok/s | Req/s " \
           "| Goodput (req/s) | $ per M output tok |\n|---:|---:|" % LLAMA in report
    # c64 of NIM: the export's own numbers, latencies scaled 1.5x by the sweep helper
    assert ("| 64 | 256 | 344.71 | 292.50 | 1022.62 | 20.24 | 20.25 | 22.50 | 2915.34 | 3835.12 | 3982.50 | 31.11 "
            "| 28.68 |") in report
    assert "| 16 | 64 | 137.67 | 117.00 | 408.33 |" in report
    assert "## Comparison\n\n| Profile | Concurrency | Model | Engine | Output tok/s |" in report
    assert "| isl128-osl128 | 64 | vllm_model | triton_vllm | 1403.97 |" in report
    assert "No SLO gates were given." in report
    for name in PLOT_NAMES:
        assert "](%s)" % name in report
    assert report.index("## Results") < report.index("## Comparison") < report.index("## SLO gates")
    assert result["summary_markdown"] in report
    assert result["summary_markdown"].startswith("### %s / nim / isl128-osl128\n" % LLAMA)

    with open(os.path.join(out, "results.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["model"], r["engine"], r["concurrency"]) for r in rows] == [
        (LLAMA, "nim", "16"), (LLAMA, "nim", "32"), (LLAMA, "nim", "64"),
        ("vllm_model", "triton_vllm", "16"), ("vllm_model", "triton_vllm", "32"), ("vllm_model", "triton_vllm", "64")]
    assert rows[2]["output_token_throughput_per_s"] == "3982.4988"
    assert rows[2]["request_latency_p99_ms"] == "3835.125"
    assert rows[2]["request_goodput_per_s"] == "28.6825"
    assert rows[2]["streaming"] == "true"
    assert rows[5]["request_goodput_per_s"] == ""
    assert all("," not in value for row in rows for key, value in row.items() if key != "source")

    document = json.loads(read(os.path.join(out, "report.json")))
    assert document["format"] == "eks_llm.inference.benchmark_report" and document["format_version"] == 1
    assert document["title"] == "Llama 3.1 8B: NIM vs Triton"
    assert document["metadata"] == {"models": [LLAMA, "vllm_model"], "engines": ["nim", "triton_vllm"],
                                    "profiles": ["isl128-osl128"], "concurrency_levels": [16, 32, 64],
                                    "runners": ["genai_perf"], "plots": PLOT_NAMES}
    assert len(document["results"]) == 6
    assert document["results"][2]["metrics"]["output_token_throughput_per_s"] == 3982.498784637822
    assert document["slo_results"] == [] and document["slo_failures"] == 0 and document["baseline"] is None


def test_one_model_has_no_comparison_table(run, tmp_path):
    out = str(tmp_path / "r")
    run({"results": sweep(h.AIPERF_CHAT, LLAMA, "nim", [1, 8]), "output_dir": out, "plots": False})
    report = read(os.path.join(out, "report.md")).decode()
    assert "## Comparison" not in report and "## Plots" not in report
    assert "| %s | nim | isl128-osl128 | aiperf 0.13.0 | chat | yes | 1, 8 |" % LLAMA in report
    assert sorted(os.listdir(out)) == ["report.json", "report.md", "results.csv"]


def test_model_and_concurrency_default_to_the_metrics(run, tmp_path):
    metrics = metrics_of(h.AIPERF_CHAT)
    result = run({"results": [{"engine": "nim", "profile": "chat", "metrics": metrics}],
                  "output_dir": str(tmp_path), "plots": False,
                  "slos": [{"metric": "request_throughput_per_s", "min": 5}]})
    assert result["slo_results"][0]["model"] == LLAMA
    assert result["slo_results"][0]["concurrency"] == 8


def test_slos_pass(run, tmp_path, two_engines):
    result = run({"results": two_engines, "output_dir": str(tmp_path), "plots": False, "slos": [
        {"metric": "time_to_first_token_ms", "stat": "p50", "max": 300},
        {"metric": "output_token_throughput_per_s", "min": 1400, "concurrency": 64},
        {"metric": "inter_token_latency_ms", "stat": "avg", "max": 25, "min": 5, "model": "vllm_model"},
    ]})
    assert result["slo_failures"] == 0
    assert len(result["slo_results"]) == 6 + 2 + 3 * 2
    throughput = [e for e in result["slo_results"] if e["gate"] == 2]
    assert [(e["model"], e["concurrency"], e["stat"], e["bound"], e["limit"], e["passed"]) for e in throughput] == [
        (LLAMA, 64, None, "min", 1400.0, True), ("vllm_model", 64, None, "min", 1400.0, True)]
    assert throughput[1]["measured"] == pytest.approx(1403.9718074508878)
    itl = [e for e in result["slo_results"] if e["gate"] == 3]
    assert {e["model"] for e in itl} == {"vllm_model"} and {e["bound"] for e in itl} == {"max", "min"}
    report = read(os.path.join(str(tmp_path), "report.md")).decode()
    assert "14 of 14 checks passed." in report
    assert ("| 2 | output_token_throughput_per_s | vllm_model | triton_vllm | isl128-osl128 | 64 | >= 1400.00 "
            "| 1403.97 | PASS |") in report


def test_a_limit_equal_to_the_measured_value_passes(run, tmp_path):
    metrics = metrics_of(h.GENAI_PERF_CHAT)
    result = run({"results": [{"engine": "nim", "profile": "p", "metrics": metrics}], "output_dir": str(tmp_path),
                  "plots": False, "slos": [{"metric": "time_to_first_token_ms", "stat": "p90", "max": 240.0},
                                           {"metric": "time_to_first_token_ms", "stat": "p90", "max": 239.99}],
                  "fail_on_slo": False})
    assert [e["passed"] for e in result["slo_results"]] == [True, False]


def test_failed_slo_fails_with_the_table_of_misses_after_writing_the_report(run, tmp_path, two_engines):
    out = str(tmp_path / "r")
    failure = run.failing({"results": two_engines, "output_dir": out, "plots": False, "slos": [
        {"metric": "time_to_first_token_ms", "stat": "p99", "max": 500},
        {"metric": "request_throughput_per_s", "min": 1},
    ]})
    # NIM's p99 TTFT is 681.75 ms at c16 (and more above); Triton's 408.33 at c16, 510.41 at c32.
    assert failure["slo_failures"] == 5
    assert failure["msg"].startswith("5 of 12 SLO checks failed:\n| Gate | Metric | Model | Engine | Profile "
                                     "| Concurrency | Limit | Measured | Result |\n")
    assert ("| 1 | time_to_first_token_ms p99 | %s | nim | isl128-osl128 | 16 | <= 500.00 | 681.75 | FAIL |"
            % LLAMA) in failure["msg"]
    assert "| 1 | time_to_first_token_ms p99 | vllm_model | triton_vllm | isl128-osl128 | 32 | <= 500.00 | 510.41 " \
           "| FAIL |" in failure["msg"]
    assert "PASS" not in failure["msg"]
    assert failure["changed"] is True
    assert os.path.isfile(os.path.join(out, "report.md"))
    report = read(os.path.join(out, "report.md")).decode()
    assert "7 of 12 checks passed." in report
    assert "| 1 | time_to_first_token_ms p99 | vllm_model | triton_vllm | isl128-osl128 | 16 | <= 500.00 | 408.33 " \
           "| PASS |" in report
    assert json.loads(read(os.path.join(out, "report.json")))["slo_failures"] == 5


def test_fail_on_slo_false_reports_the_failures(run, tmp_path, two_engines):
    result = run({"results": two_engines, "output_dir": str(tmp_path), "plots": False, "fail_on_slo": False,
                  "slos": [{"metric": "request_latency_ms", "stat": "p99", "max": 2000}]})
    failed = [(e["model"], e["concurrency"]) for e in result["slo_results"] if not e["passed"]]
    assert failed == [(LLAMA, 16), (LLAMA, 32), (LLAMA, 64), ("vllm_model", 32), ("vllm_model", 64)]
    assert result["slo_failures"] == 5
    # the message a caller fails with later (the role copies the report first) is the one the module fails with
    assert result["slo_failure_message"].startswith("5 of 6 SLO checks failed:\n| Gate | Metric |")
    assert "| 1 | request_latency_ms p99 | vllm_model | triton_vllm | isl128-osl128 | 64 |" in result["slo_failure_message"]
    passing = run({"results": two_engines, "output_dir": str(tmp_path / "ok"), "plots": False, "fail_on_slo": False,
                   "slos": [{"metric": "request_latency_ms", "stat": "p99", "max": 10 ** 9}]})
    assert passing["slo_failures"] == 0 and passing["slo_failure_message"] == ""


def test_an_slo_on_a_metric_the_run_did_not_measure_fails(run, tmp_path):
    results = sweep(h.GENAI_PERF_COMPLETIONS, LLAMA, "nim", [4])
    failure = run.failing({"results": results, "output_dir": str(tmp_path), "plots": False, "slos": [
        {"metric": "time_to_first_token_ms", "stat": "p99", "max": 100000},
        {"metric": "request_goodput_per_s", "min": 0},
    ]})
    assert failure["slo_failures"] == 2
    ttft, goodput = failure["slo_results"]
    assert ttft["measured"] is None and ttft["passed"] is False
    assert ttft["reason"] == ("time_to_first_token_ms p99 was not measured: the run did not stream "
                              "(TTFT and ITL need --streaming)")
    assert goodput["reason"] == "request_goodput_per_s was not measured in this run"
    assert "| n/a | FAIL (time_to_first_token_ms p99 was not measured: the run did not stream" in failure["msg"]


def test_an_slo_that_matches_no_result_fails(run, tmp_path, two_engines):
    failure = run.failing({"results": two_engines, "output_dir": str(tmp_path), "plots": False, "slos": [
        {"metric": "request_latency_ms", "max": 10000, "concurrency": 128, "model": LLAMA}]})
    assert failure["slo_results"] == [{
        "gate": 1, "metric": "request_latency_ms", "stat": "p99", "bound": "max", "limit": 10000.0, "measured": None,
        "passed": False, "reason": "no result matches this gate (model=%s, concurrency=128)" % LLAMA,
        "model": LLAMA, "engine": None, "profile": None, "concurrency": 128}]


def test_slo_needs_a_bound_and_a_known_metric(run, tmp_path, two_engines):
    args = {"results": two_engines, "output_dir": str(tmp_path), "plots": False}
    failure = run.failing(dict(args, slos=[{"metric": "request_latency_ms"}]))
    assert "one of the following is required: max, min" in failure["msg"]
    failure = run.failing(dict(args, slos=[{"metric": "ttft", "max": 1}]))
    assert "value of metric must be one of: time_to_first_token_ms" in failure["msg"]
    assert not os.listdir(str(tmp_path))


def test_baseline_comparison(run, tmp_path, two_engines):
    first = str(tmp_path / "first")
    run({"results": two_engines, "output_dir": first, "plots": False})
    baseline = str(tmp_path / "baseline.json")
    shutil.copy(os.path.join(first, "report.json"), baseline)

    current = copy.deepcopy(two_engines)
    nim64 = current[2]["metrics"]
    nim64["output_token_throughput_per_s"] *= 1.10
    nim64["time_to_first_token_ms"]["p99"] *= 0.5
    nim64["request_latency_ms"]["p99"] *= 1.2
    del current[5]  # Triton c64 was not rerun
    current.append(sweep(h.AIPERF_CHAT, LLAMA, "nim", [8])[0])  # a level the baseline does not have
    second = str(tmp_path / "second")
    result = run({"results": current, "output_dir": second, "plots": False, "baseline": baseline})

    deltas = dict(((c["model"], c["engine"], c["concurrency"], c["metric"], c["stat"]), c)
                  for c in result["baseline_comparison"])
    throughput = deltas[(LLAMA, "nim", 64, "output_token_throughput_per_s", None)]
    assert throughput["delta_percent"] == pytest.approx(10.0) and throughput["better"] is True
    assert throughput["baseline"] == pytest.approx(3982.498784637822)
    assert throughput["current"] == pytest.approx(3982.498784637822 * 1.1)
    ttft = deltas[(LLAMA, "nim", 64, "time_to_first_token_ms", "p99")]
    assert ttft["delta_percent"] == pytest.approx(-50.0) and ttft["better"] is True
    latency = deltas[(LLAMA, "nim", 64, "request_latency_ms", "p99")]
    assert latency["delta_percent"] == pytest.approx(20.0) and latency["better"] is False
    unchanged = deltas[(LLAMA, "nim", 16, "request_latency_ms", "p99")]
    assert unchanged["delta_percent"] == 0 and unchanged["better"] is None
    assert {key[:3] for key in deltas} == {(LLAMA, "nim", 16), (LLAMA, "nim", 32), (LLAMA, "nim", 64),
                                           ("vllm_model", "triton_vllm", 16), ("vllm_model", "triton_vllm", 32)}

    report = read(os.path.join(second, "report.md")).decode()
    assert "## Compared with the baseline\n\nBaseline: `%s`" % baseline in report
    assert ("| %s | nim | isl128-osl128 | 64 | output_token_throughput_per_s | 3982.50 | 4380.75 | +10.0 %% "
            "| better |" % LLAMA) in report
    assert "| %s | nim | isl128-osl128 | 64 | request_latency_ms p99 | 3835.12 | 4602.15 | +20.0 %% | worse |" % LLAMA \
        in report
    assert "| %s | nim | isl128-osl128 | 16 | request_latency_ms p99 | 2556.75 | 2556.75 | +0.0 %% | same |" % LLAMA \
        in report
    assert "Not in the baseline: %s / nim / isl128-osl128 at concurrency 8" % LLAMA in report
    assert "In the baseline but not in this run: vllm_model / triton_vllm / isl128-osl128 at concurrency 64" in report
    document = json.loads(read(os.path.join(second, "report.json")))
    assert document["baseline"]["path"] == baseline
    assert document["baseline"]["only_baseline"] == [["vllm_model", "triton_vllm", "isl128-osl128", 64]]
    assert len(document["baseline"]["comparison"]) == len(result["baseline_comparison"])


def test_a_baseline_that_is_not_a_report_fails(run, tmp_path, two_engines):
    args = {"results": two_engines, "output_dir": str(tmp_path / "r"), "plots": False}
    failure = run.failing(dict(args, baseline=h.GENAI_PERF_CHAT_FILE))
    assert failure["msg"] == "baseline %s is not a report.json written by eks_llm.inference.benchmark_report" % (
        h.GENAI_PERF_CHAT_FILE)
    failure = run.failing(dict(args, baseline=h.TRUNCATED))
    assert failure["msg"].startswith("baseline %s is truncated or not JSON" % h.TRUNCATED)
    missing = str(tmp_path / "none.json")
    assert run.failing(dict(args, baseline=missing))["msg"].startswith("cannot read baseline %s" % missing)
    assert not os.path.exists(str(tmp_path / "r"))


def test_second_run_changes_nothing(run, tmp_path, two_engines):
    out = str(tmp_path / "r")
    args = {"results": two_engines, "output_dir": out,
            "slos": [{"metric": "inter_token_latency_ms", "stat": "p99", "max": 50}]}
    assert run(args)["changed"] is True
    stamps = dict((name, os.stat(os.path.join(out, name)).st_mtime_ns) for name in os.listdir(out))
    again = run(args, diff=True)
    assert again["changed"] is False
    assert again["diff"] == []
    assert dict((name, os.stat(os.path.join(out, name)).st_mtime_ns) for name in os.listdir(out)) == stamps
    # A new title changes the two files that carry it, nothing else.
    retitled = run(dict(args, title="Another title"), diff=True)
    assert retitled["changed"] is True
    assert [d["after_header"] for d in retitled["diff"]] == [
        os.path.join(out, "report.md"), os.path.join(out, "report.json")]
    assert "# Another title" in retitled["diff"][0]["after"]
    assert "# LLM inference benchmark" in retitled["diff"][0]["before"]


def test_check_mode_writes_nothing(run, tmp_path, two_engines):
    out = str(tmp_path / "r")
    args = {"results": two_engines, "output_dir": out}
    result = run(args, check_mode=True, diff=True)
    assert result["changed"] is True
    assert not os.path.exists(out)
    assert result["files"][0] == os.path.join(out, "report.md")
    assert [d["after_header"] for d in result["diff"]] == [
        os.path.join(out, n) for n in ["report.md", "results.csv", "report.json"] + PLOT_NAMES]
    assert result["diff"][3]["after"].startswith("(PNG image, ")
    run(args)
    before = dict((name, read(os.path.join(out, name))) for name in os.listdir(out))
    assert run(args, check_mode=True)["changed"] is False
    changed = copy.deepcopy(two_engines)
    changed[0]["metrics"]["request_count"] = 1
    assert run(dict(args, results=changed), check_mode=True)["changed"] is True
    assert dict((name, read(os.path.join(out, name))) for name in os.listdir(out)) == before


def test_check_mode_with_failing_slo_still_fails_and_writes_nothing(run, tmp_path, two_engines):
    out = str(tmp_path / "r")
    failure = run.failing({"results": two_engines, "output_dir": out, "plots": False,
                           "slos": [{"metric": "request_throughput_per_s", "min": 1000}]}, check_mode=True)
    assert failure["slo_failures"] == 6
    assert not os.path.exists(out)


def test_non_streaming_runs_leave_out_the_latency_plots(run, tmp_path):
    out = str(tmp_path / "r")
    result = run({"results": sweep(h.GENAI_PERF_COMPLETIONS, LLAMA, "nim", [1, 2, 4]), "output_dir": out})
    assert [os.path.basename(f) for f in result["files"][3:]] == [
        "throughput_vs_concurrency.png", "throughput_vs_latency.png"]
    assert png_size(os.path.join(out, "throughput_vs_latency.png")) == (600, 500)  # no TTFT panel
    report = read(os.path.join(out, "report.md")).decode()
    assert "Time to first token p50/p99 vs concurrency: not drawn, no run streamed (TTFT needs streaming)." in report
    assert "Inter-token latency p50/p99 vs concurrency: not drawn, no run streamed (ITL needs streaming)." in report
    assert "| 4 | 40 | n/a | n/a | n/a | n/a | n/a | n/a |" in report
    with open(os.path.join(out, "results.csv"), newline="") as handle:
        row = list(csv.DictReader(handle))[-1]
    assert row["time_to_first_token_p99_ms"] == "" and row["streaming"] == "false"


def test_missing_matplotlib_is_a_clear_error_unless_plots_are_off(run, monkeypatch, tmp_path, two_engines):
    def no_matplotlib():
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(benchmark, "import_matplotlib", no_matplotlib)
    failure = run.failing({"results": two_engines, "output_dir": str(tmp_path / "a")})
    assert failure["msg"].startswith("Failed to import the required Python library (matplotlib)")
    assert "No module named 'matplotlib'" in failure["exception"]
    assert run({"results": two_engines, "output_dir": str(tmp_path / "b"), "plots": False})["changed"] is True


def test_bad_results_fail(run, tmp_path, two_engines):
    args = {"output_dir": str(tmp_path / "r"), "plots": False}
    duplicate = two_engines + [copy.deepcopy(two_engines[0])]
    assert run.failing(dict(args, results=duplicate))["msg"] == (
        "results[1] and results[7] are both model %s, engine nim, profile isl128-osl128 at concurrency 16" % LLAMA)
    rate_run = copy.deepcopy(two_engines[:1])
    rate_run[0]["metrics"]["concurrency"] = None
    del rate_run[0]["concurrency"]
    assert run.failing(dict(args, results=rate_run))["msg"] == (
        "results[1] has no concurrency (concurrency must be a positive integer; request-rate runs have none)")
    no_engine = copy.deepcopy(two_engines[:1])
    del no_engine[0]["engine"]
    assert "missing required arguments: engine found in results" in run.failing(dict(args, results=no_engine))["msg"]
    assert run.failing(dict(args, results=[]))["msg"] == "results is empty: nothing to report"


def test_output_dir_that_is_a_file_fails(run, tmp_path, two_engines):
    path = tmp_path / "file"
    path.write_text("x")
    failure = run.failing({"results": two_engines, "output_dir": str(path), "plots": False})
    assert failure["msg"] == "output_dir %s exists and is not a directory" % path


def test_cost_per_million_output_tokens_from_the_nodes_and_the_measured_throughput(run, tmp_path, two_engines):
    costs = [{"model": LLAMA, "usd_per_hour": 5.672, "nodes": 1, "instance_type": "g5.12xlarge", "capacity_type": "on-demand"}]
    result = run({"results": two_engines, "output_dir": str(tmp_path), "plots": False, "costs": costs, "slos": [
        {"metric": "usd_per_million_output_tokens", "max": 2.0, "model": LLAMA, "concurrency": 64}]})
    document = json.loads(read(os.path.join(str(tmp_path), "report.json")).decode())
    rows = [r for r in document["results"] if r["model"] == LLAMA]
    for row in rows:
        per_second = row["metrics"]["output_token_throughput_per_s"]
        assert row["metrics"]["usd_per_million_output_tokens"] == pytest.approx(5.672 / (per_second * 3600) * 1e6, rel=1e-3)
        assert row["metrics"]["serving_cost"]["instance_type"] == "g5.12xlarge"
    # a model without a cost has no figure, and cheaper at higher concurrency (more tokens per node-hour)
    assert all(r["metrics"].get("usd_per_million_output_tokens") is None for r in document["results"] if r["model"] != LLAMA)
    by_level = {r["concurrency"]: r["metrics"]["usd_per_million_output_tokens"] for r in rows}
    assert by_level[64] < by_level[16]
    assert result["slo_failures"] == 0
    report = read(os.path.join(str(tmp_path), "report.md")).decode()
    assert "$ per M output tok" in report
    header = read(os.path.join(str(tmp_path), "results.csv")).decode().splitlines()[0]
    assert "usd_per_million_output_tokens" in header


def test_a_cost_slo_above_the_measured_cost_fails(run, tmp_path, two_engines):
    costs = [{"model": LLAMA, "usd_per_hour": 500.0}]
    result = run.failing({"results": two_engines, "output_dir": str(tmp_path), "plots": False, "costs": costs,
                          "slos": [{"metric": "usd_per_million_output_tokens", "max": 1.0, "model": LLAMA}]})
    assert result["slo_failures"] == 3
