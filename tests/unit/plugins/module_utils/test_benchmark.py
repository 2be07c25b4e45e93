# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The parts of module_utils.benchmark the two modules' tests do not reach on their own."""

import copy
import json
import os
import shutil

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules import benchmark_harness as h


def test_number_accepts_only_finite_numbers():
    assert benchmark.number(3) == 3 and benchmark.number(2.5) == 2.5
    for value in (None, True, "12", float("nan"), float("inf"), {"avg": 1}):
        assert benchmark.number(value) is None


def test_plain_csv_cells():
    assert benchmark.plain(6740.7563) == "6740.7563"
    assert benchmark.plain(1234567.0) == "1234567"
    assert benchmark.plain(0.00001) == "0"
    assert benchmark.plain(-0.00001) == "0"
    assert benchmark.plain(12) == "12"
    assert benchmark.plain(None) == ""
    assert benchmark.plain(False) == "false"


def test_fmt_markdown_cells():
    assert benchmark.fmt(None) == "n/a"
    assert benchmark.fmt(True) == "yes"
    assert benchmark.fmt(7) == "7"
    assert benchmark.fmt(6740.756) == "6740.76"
    assert benchmark.fmt(112.8359, 1) == "112.8"


def test_times_in_other_units_are_converted_to_ms(tmp_path):
    data = json.load(open(h.GENAI_PERF_CHAT_FILE))
    data["request_latency"] = {"unit": "sec", "avg": 1.5, "p50": 1.25, "p90": 2.0, "p99": 2.5, "min": 1.0, "max": 3.0}
    data["inter_token_latency"] = {"unit": "ns", "avg": 13500000.0}
    metrics = benchmark.normalize_export(data, "x")
    assert metrics["request_latency_ms"] == {"avg": 1500.0, "p50": 1250.0, "p90": 2000.0, "p99": 2500.0,
                                             "min": 1000.0, "max": 3000.0}
    assert metrics["inter_token_latency_ms"] == {"avg": 13.5, "p50": None, "p90": None, "p99": None,
                                                 "min": None, "max": None}
    data["time_to_first_token"]["unit"] = "tokens"
    with pytest.raises(benchmark.BenchmarkError) as info:
        benchmark.normalize_export(data, "x")
    assert str(info.value) == "x: time_to_first_token is in 'tokens', expected a time unit (ms, ns, s, sec, us)"


def test_genai_perf_invalid_goodput_is_null():
    # genai-perf writes -1 when none of the --goodput names is a metric it knows.
    data = json.load(open(h.GENAI_PERF_CHAT_FILE))
    data["request_goodput"]["avg"] = -1.0
    metrics = benchmark.normalize_export(data, "x")
    assert metrics["request_goodput_per_s"] is None and metrics["goodput_source"] is None


def test_aiperf_request_rate_run_and_errors():
    data = json.load(open(os.path.join(h.AIPERF_COMPLETIONS, "profile_export_aiperf.json")))
    data["input_config"]["phases"] = [{"name": "profiling", "kind": "profiling", "type": "poisson", "rate": 12.5,
                                       "requests": 100}]
    data["error_summary"] = [{"error_details": {"code": 500, "type": "InternalServerError", "message": "x"},
                              "count": 3}]
    metrics = benchmark.normalize_export(data, "x")
    assert (metrics["concurrency"], metrics["request_rate"], metrics["error_count"]) == (None, 12.5, 3)
    data["error_request_count"] = {"unit": "requests", "avg": 4.0}
    assert benchmark.normalize_export(data, "x")["error_count"] == 4


def test_records_from_another_run_are_refused(tmp_path):
    run = h.copy_fixture(h.AIPERF_CHAT, tmp_path / "run")
    records = os.path.join(run, "profile_export.jsonl")
    with open(records) as handle:
        lines = handle.readlines()
    with open(records, "w") as handle:
        handle.writelines(lines[:-1])
    with pytest.raises(benchmark.BenchmarkError) as info:
        benchmark.read_results(run, goodput={"request_latency": 1000})
    assert str(info.value) == (
        "%s has 31 successful profiling requests but %s counts 32: they are not from the same run"
        % (records, os.path.join(run, "profile_export_aiperf.json")))
    with open(records, "w") as handle:
        handle.writelines(lines[:-1] + [lines[-1][:100]])
    with pytest.raises(benchmark.BenchmarkError) as info:
        benchmark.read_results(run, goodput={"request_latency": 1000})
    assert str(info.value).startswith("%s line 36 is truncated or not JSON (" % records)


def test_records_of_a_prefixed_export(tmp_path):
    # --profile-export-prefix bench writes bench.json and bench.jsonl
    shutil.copy(os.path.join(h.AIPERF_CHAT, "profile_export_aiperf.json"), str(tmp_path / "bench.json"))
    shutil.copy(os.path.join(h.AIPERF_CHAT, "profile_export.jsonl"), str(tmp_path / "bench.jsonl"))
    metrics, warnings = benchmark.read_results(str(tmp_path / "bench.json"), goodput={"time_to_first_token": 160})
    assert warnings == [] and metrics["goodput_source"] == "computed"
    assert metrics["request_goodput_per_s"] == pytest.approx(7.740114857799333 * 23 / 32)


def test_several_models_in_one_genai_perf_run():
    data = json.load(open(h.GENAI_PERF_CHAT_FILE))
    data["input_config"]["model_names"] = ["llama-a", "llama-b"]
    metrics = benchmark.normalize_export(data, "x")
    assert metrics["model"] == "llama-a" and metrics["models"] == ["llama-a", "llama-b"]


def _row(model="m", engine="e", profile="p", concurrency=1, metrics=None):
    return {"model": model, "engine": engine, "profile": profile, "concurrency": concurrency,
            "metrics": metrics or {}}


def test_normalize_results_concurrency():
    rows = benchmark.normalize_results([_row(concurrency=8.0), _row(concurrency="16"),
                                        _row(concurrency=None, metrics={"concurrency": 4})])
    assert [r["concurrency"] for r in rows] == [8, 16, 4]
    for bad in (0, -2, True, 2.5, "many"):
        with pytest.raises(benchmark.BenchmarkError):
            benchmark.normalize_results([_row(concurrency=bad)])
    with pytest.raises(benchmark.BenchmarkError) as info:
        benchmark.normalize_results([{"model": "m"}])
    assert str(info.value) == "results[1] must be a dict with a metrics dict (from benchmark_results_info)"


def test_groups_keep_first_appearance_and_sort_by_concurrency():
    rows = benchmark.normalize_results([_row("b", concurrency=4), _row("a", concurrency=2), _row("b", concurrency=1)])
    assert [(key[0], [r["concurrency"] for r in members]) for key, members in benchmark.groups(rows)] == [
        ("b", [1, 4]), ("a", [2])]


def test_engine_and_profile_filters_of_a_gate():
    rows = benchmark.normalize_results([
        _row("m", "nim", "short", 1, {"request_throughput_per_s": 5.0}),
        _row("m", "triton", "short", 1, {"request_throughput_per_s": 3.0}),
        _row("m", "nim", "long", 1, {"request_throughput_per_s": 1.0}),
    ])
    evaluations = benchmark.evaluate_slos(rows, [{"metric": "request_throughput_per_s", "min": 2.0, "engine": "nim"},
                                                 {"metric": "request_throughput_per_s", "max": 4.0, "profile": "short"}])
    assert [(e["gate"], e["engine"], e["profile"], e["passed"]) for e in evaluations] == [
        (1, "nim", "short", True), (1, "nim", "long", False), (2, "nim", "short", False), (2, "triton", "short", True)]


def test_baseline_of_zero_has_no_percentage():
    rows = benchmark.normalize_results([_row(metrics={"request_throughput_per_s": 2.0})])
    baseline = {"format": benchmark.REPORT_FORMAT, "results": [_row(metrics={"request_throughput_per_s": 0.0})]}
    comparison, only_current, only_baseline = benchmark.compare_baseline(rows, baseline, "b.json")
    assert comparison == [{"model": "m", "engine": "e", "profile": "p", "concurrency": 1,
                           "metric": "request_throughput_per_s", "stat": None, "baseline": 0.0, "current": 2.0,
                           "delta_percent": None, "better": None}]
    assert only_current == [] and only_baseline == []
    assert "| request_throughput_per_s | 0.00 | 2.00 | n/a | n/a |" in benchmark.baseline_table(comparison)


def test_concurrency_axis_is_logarithmic_for_wide_sweeps():
    classes = benchmark.import_matplotlib()
    figure = classes[0]()
    narrow, wide = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
    benchmark._concurrency_axis(narrow, [{"concurrency": c} for c in (2, 4, 8)])
    benchmark._concurrency_axis(wide, [{"concurrency": c} for c in (1, 8, 64)])
    assert narrow.get_xscale() == "linear" and wide.get_xscale() == "log"
    assert list(wide.get_xticks()) == [1, 8, 64]


def test_plot_images_are_deterministic():
    metrics = benchmark.read_results(h.GENAI_PERF_KSERVE)[0]
    rows = benchmark.normalize_results([_row(concurrency=c, metrics=copy.deepcopy(metrics)) for c in (1, 2)])
    classes = benchmark.import_matplotlib()
    first, _skipped = benchmark.render_plots(rows, classes)
    second, _skipped = benchmark.render_plots(rows, classes)
    assert [p[1] for p in first] == [p[1] for p in second]


def test_ttft_equal_to_request_latency_means_not_streamed_only_when_every_statistic_matches():
    latency = {"avg": 900.0, "p50": 880.0, "p90": 950.0, "p99": 990.0, "min": 700.0, "max": 1000.0}
    assert benchmark.ttft_is_request_latency(dict(latency), latency) is True
    assert benchmark.ttft_is_request_latency(dict(latency, min=350.0), latency) is False  # one fast first token
    assert benchmark.ttft_is_request_latency(dict(latency, avg=901.0), latency) is True   # within 0.5 %
    assert benchmark.ttft_is_request_latency(None, latency) is False
    assert benchmark.ttft_is_request_latency({"avg": 900.0}, {"avg": 900.0}) is False  # no min/max: cannot say


def test_a_ttft_gate_on_a_run_that_did_not_stream_fails_with_the_reason():
    metrics = dict((key, None) for key in benchmark.METRIC_KEYS)
    metrics.update(model="m", streaming=True, concurrency=8, not_streamed="time to first token equals the request latency")
    rows = benchmark.normalize_results([{"model": "m", "engine": "triton_vllm", "profile": "p", "metrics": metrics}])
    [evaluation] = benchmark.evaluate_slos(rows, [{"metric": "time_to_first_token_ms", "stat": "p99", "max": 500}])
    assert evaluation["passed"] is False and evaluation["measured"] is None
    assert evaluation["reason"].startswith("time_to_first_token_ms p99 is not judged: time to first token equals")
    report = benchmark.render_markdown("t", rows, [evaluation], None, [], [])
    assert "| requested, NOT streamed at 8 (TTFT = latency) |" in report


class _Recorder(object):
    """Stands in for matplotlib's Figure and Axes: records what is drawn (colours, label offsets)."""

    def __init__(self, *args, **kwargs):
        self.axes, self.calls = [], []

    def add_subplot(self, *args):
        self.axes.append(_Axes(self.calls, len(self.axes)))
        return self.axes[-1]

    def savefig(self, buffer, **kwargs):
        buffer.write(b"png")
        _Recorder.last = self

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class _Axes(object):
    def __init__(self, calls, panel):
        self.calls, self.panel = calls, panel

    def plot(self, xs, ys, *args, **kwargs):
        self.calls.append(("plot", self.panel, kwargs.get("label"), kwargs.get("color")))

    def annotate(self, text, xy, **kwargs):
        self.calls.append(("annotate", self.panel, text, kwargs.get("xytext")))

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def test_each_series_keeps_its_colour_in_every_panel_and_labels_of_neighbours_do_not_share_an_offset():
    def row(engine, concurrency, ttft):
        metrics = dict((key, None) for key in benchmark.METRIC_KEYS)
        latency = {"avg": 900.0 + concurrency, "p50": 880.0, "p90": 950.0, "p99": 990.0 + concurrency, "min": 1.0, "max": 2000.0}
        metrics.update(model="m", streaming=True, concurrency=concurrency, request_latency_ms=latency,
                       time_to_first_token_ms=None if ttft is None else dict(latency, p99=ttft + concurrency),
                       output_token_throughput_per_s=100.0 * concurrency)
        return {"model": "m", "engine": engine, "profile": "p", "metrics": metrics}

    # the first series has no TTFT: in the TTFT panel the second series must keep its own colour
    rows = benchmark.normalize_results([row("a_engine", c, None) for c in (1, 2)] + [row("b_engine", c, 100.0) for c in (1, 2)])
    plots, dummy = benchmark.render_plots(rows, (_Recorder, lambda figure: None))
    assert [name for name, dummy_png, dummy_caption in plots][-1] == "throughput_vs_latency.png"
    calls = _Recorder.last.calls
    colours = dict(((panel, label), colour) for kind, panel, label, colour in calls if kind == "plot")
    assert colours[(0, "m / b_engine")] == colours[(1, "m / b_engine")] != colours[(0, "m / a_engine")]
    offsets = [offset for kind, panel, dummy_text, offset in calls if kind == "annotate" and panel == 0]
    assert len(offsets) == 4 and len(set(offsets)) == 4
