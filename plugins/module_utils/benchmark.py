# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""LLM benchmark results: genai-perf / AIPerf exports, SLO gates and the run report.

Shared by the ``benchmark_results_info`` module (one export in, one normalised
``metrics`` dict out) and the ``benchmark_report`` module (many of those in,
Markdown / CSV / JSON / PNG out). Everything here is plain data in, plain data
out; the modules do the file system writes and Ansible plumbing.

Formats read (both tools write every time in ms, throughputs per second):

* genai-perf 0.0.16 ``<prefix>_genai_perf.json``: one object per metric
  (``{"unit", "avg", "p1" ... "p99", "min", "max", "std"}``; system metrics carry
  only ``unit`` and ``avg``) plus ``input_config`` (``model_names``,
  ``endpoint.{type,streaming,backend,service_kind}``,
  ``perf_analyzer.stimulus``, ``input.goodput``). genai-perf writes
  ``time_to_first_token`` even for non-streaming runs, where it equals the
  request latency: only ``input_config.endpoint.streaming`` says whether it
  means anything.
* AIPerf 0.13.0 ``profile_export_aiperf.json``: ``schema_version``,
  ``aiperf_version``, the same metric objects (with ``count`` and ``sum``),
  ``goodput`` instead of ``request_goodput``, and ``input_config`` with
  ``models.items[].name``, ``endpoint.{type,streaming}``, ``phases[]``
  (``kind`` warmup/profiling, ``concurrency``, ``rate``) and ``slos``.
  Per-request records are in ``profile_export.jsonl`` beside it.

The CSV exports are never read: genai-perf formats values >= 1000 with a
thousands separator.
"""

import csv
import io
import json
import math
import os

AIPERF_EXPORT = "profile_export_aiperf.json"
AIPERF_RECORDS = "profile_export.jsonl"
GENAI_PERF_SUFFIX = "_genai_perf.json"

STATS = ("avg", "p50", "p90", "p99", "min", "max")

# metric key in our `metrics` -> metric key in both exports
DISTRIBUTIONS = {
    "time_to_first_token_ms": "time_to_first_token",
    "inter_token_latency_ms": "inter_token_latency",
    "request_latency_ms": "request_latency",
    "output_token_throughput_per_user": "output_token_throughput_per_user",
}
TIME_METRICS = ("time_to_first_token_ms", "inter_token_latency_ms", "request_latency_ms")
# Only meaningful when the run streamed tokens.
STREAMING_METRICS = ("time_to_first_token_ms", "inter_token_latency_ms", "output_token_throughput_per_user")
SCALAR_METRICS = ("output_token_throughput_per_s", "request_throughput_per_s", "request_goodput_per_s",
                  "usd_per_million_output_tokens")

# Thresholds the `goodput` option of benchmark_results_info accepts: the names genai-perf's
# --goodput and AIPerf's --goodput use. Latencies are good at or below the threshold (ms),
# the per-user throughput at or above it (tokens/s).
GOODPUT_THRESHOLDS = {
    "time_to_first_token": "max",
    "inter_token_latency": "max",
    "request_latency": "max",
    "output_token_throughput_per_user": "min",
}

EXPECTED_EXPORT = (
    "genai-perf profile_export_genai_perf.json (metric objects such as request_latency and "
    "request_throughput, and input_config with endpoint and perf_analyzer) or AIPerf "
    "profile_export_aiperf.json (schema_version, aiperf_version, the same metric objects and "
    "input_config with endpoint and phases)"
)

_TIME_UNITS = {"ms": 1.0, "s": 1000.0, "sec": 1000.0, "us": 0.001, "ns": 0.000001}


class BenchmarkError(Exception):
    """A problem with the inputs; the message is meant for the user (fail_json msg)."""


# ---------------------------------------------------------------------------------------------
# Reading one export
# ---------------------------------------------------------------------------------------------


def is_export_name(name):
    return name == AIPERF_EXPORT or name.endswith(GENAI_PERF_SUFFIX)


def _is_phase_copy(path):
    """AIPerf also writes each phase's export to phases/<phase>/; the run's own is two levels up."""
    phases_dir = os.path.dirname(os.path.dirname(path))
    run_export = os.path.join(os.path.dirname(phases_dir), os.path.basename(path))
    return os.path.basename(phases_dir) == "phases" and os.path.isfile(run_export)


def find_export(path):
    """The export file `path` names: the file itself, or the only export below a directory."""
    if not os.path.exists(path):
        raise BenchmarkError("%s does not exist" % path)
    if not os.path.isdir(path):
        return path
    candidates = []
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if is_export_name(name):
                candidates.append(os.path.join(root, name))
    candidates = [c for c in candidates if not _is_phase_copy(c)]
    if not candidates:
        raise BenchmarkError(
            "found no benchmark export under %s: looked for %s and *%s" % (path, AIPERF_EXPORT, GENAI_PERF_SUFFIX)
        )
    if len(candidates) > 1:
        raise BenchmarkError(
            "found %d benchmark exports under %s, so which one to read is ambiguous; set path to one of: %s"
            % (len(candidates), path, ", ".join(candidates))
        )
    return candidates[0]


def load_json(path, what):
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as e:
        raise BenchmarkError("cannot read %s %s: %s" % (what, path, e))
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BenchmarkError("%s %s is truncated or not JSON (%s)" % (what, path, e))


def number(value):
    """A finite int/float, else None (JSON null, strings, booleans, NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if math.isnan(value) or math.isinf(value):
        return None
    return value


def detect_runner(data, path):
    if isinstance(data, dict):
        config = data.get("input_config")
        if isinstance(config, dict) and isinstance(config.get("endpoint"), dict):
            if "aiperf_version" in data or "schema_version" in data:
                return "aiperf"
            if "perf_analyzer" in config:
                return "genai_perf"
        found = ", ".join(sorted(data)[:20]) or "none"
    else:
        found = "none (a JSON %s, not an object)" % type(data).__name__
    raise BenchmarkError(
        "%s is not a genai-perf or AIPerf export: expected %s; its top-level keys are: %s" % (path, EXPECTED_EXPORT, found)
    )


def _time_factor(block, key, path):
    unit = block.get("unit", "ms")
    if unit not in _TIME_UNITS:
        raise BenchmarkError("%s: %s is in %r, expected a time unit (%s)" % (path, key, unit, ", ".join(sorted(_TIME_UNITS))))
    return _TIME_UNITS[unit]


def _distribution(data, key, path, is_time):
    block = data.get(key)
    if not isinstance(block, dict):
        return None
    factor = _time_factor(block, key, path) if is_time else 1.0
    stats = {}
    for stat in STATS:
        value = number(block.get(stat))
        stats[stat] = None if value is None else value * factor
    if all(value is None for value in stats.values()):
        return None
    return stats


def _scalar(data, key):
    block = data.get(key)
    return number(block.get("avg")) if isinstance(block, dict) else None


def _count(data, key):
    value = _scalar(data, key)
    return None if value is None else int(round(value))


def _model_names(value):
    """genai-perf model_names (list) or AIPerf models ({items: [{name}]}, list or string)."""
    if isinstance(value, dict):
        value = value.get("items")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _genai_perf_run(data):
    config = data["input_config"]
    endpoint = config["endpoint"]
    stimulus = (config.get("perf_analyzer") or {}).get("stimulus") or {}
    goodput_slos = (config.get("input") or {}).get("goodput") or None
    goodput = _scalar(data, "request_goodput")
    if goodput is not None and goodput < 0:
        goodput = None  # genai-perf writes -1 when --goodput named no metric it knows
    return {
        "models": _model_names(config.get("model_names")),
        "runner_version": None,  # genai-perf does not record its version
        "endpoint_type": endpoint.get("type"),
        "backend": endpoint.get("backend") if endpoint.get("type") == "kserve" else None,
        "streaming": bool(endpoint.get("streaming")),
        "concurrency": stimulus.get("concurrency"),
        "request_rate": stimulus.get("request_rate"),
        "error_count": None,
        "goodput": goodput,
        "goodput_slos": goodput_slos if isinstance(goodput_slos, dict) else None,
    }


def _aiperf_errors(data):
    """error_request_count, which AIPerf leaves out when there were none (error_summary is then [])."""
    count = _count(data, "error_request_count")
    summary = data.get("error_summary")
    if count is None and isinstance(summary, list):
        count = sum(int(number(e.get("count")) or 0) for e in summary if isinstance(e, dict))
    return count


def _aiperf_run(data, path):
    config = data["input_config"]
    endpoint = config["endpoint"]
    phases = [p for p in config.get("phases") or [] if isinstance(p, dict)]
    profiling = [p for p in phases if p.get("kind", "profiling") == "profiling"] or phases[-1:] or [{}]
    phase_dir = os.path.dirname(os.path.abspath(path))
    if os.path.basename(os.path.dirname(phase_dir)) == "phases":
        kinds = dict((p.get("name"), p.get("kind")) for p in phases)
        if kinds.get(os.path.basename(phase_dir), "profiling") != "profiling":
            raise BenchmarkError(
                "%s is the export of AIPerf's %s phase, not of the measurement; read the run's %s two directories up"
                % (path, os.path.basename(phase_dir), AIPERF_EXPORT)
            )
    slos = config.get("slos")
    return {
        "models": _model_names(config.get("models")),
        "runner_version": data.get("aiperf_version"),
        "endpoint_type": endpoint.get("type"),
        "backend": None,
        "streaming": bool(endpoint.get("streaming")),
        "concurrency": profiling[0].get("concurrency"),
        "request_rate": profiling[0].get("rate"),
        "error_count": _aiperf_errors(data),
        "goodput": _scalar(data, "goodput"),
        "goodput_slos": slos if isinstance(slos, dict) and slos else None,
    }


def ttft_is_request_latency(ttft, latency, tolerance=0.005):
    """True when every statistic both distributions carry is the same (within ``tolerance``, relative): the first
    token came with the last one for every request, from the fastest (min) to the slowest (max)."""
    if not isinstance(ttft, dict) or not isinstance(latency, dict):
        return False
    shared = [stat for stat in ("min", "max", "avg", "p50", "p90", "p99") if number(ttft.get(stat)) is not None
              and number(latency.get(stat)) is not None]
    if not {"min", "max"} <= set(shared):
        return False
    return all(abs(number(ttft[s]) - number(latency[s])) <= tolerance * max(abs(number(latency[s])), 1e-6) for s in shared)


def normalize_export(data, path):
    """The `metrics` dict of benchmark_results_info for one parsed export."""
    runner = detect_runner(data, path)
    run = _aiperf_run(data, path) if runner == "aiperf" else _genai_perf_run(data)
    metrics = {
        "model": run["models"][0] if run["models"] else None,
        "models": run["models"],
        "runner": runner,
        "runner_version": run["runner_version"],
        "endpoint_type": run["endpoint_type"],
        "backend": run["backend"],
        "streaming": run["streaming"],
        "concurrency": run["concurrency"],
        "request_rate": run["request_rate"],
        "request_count": _count(data, "request_count"),
        "error_count": run["error_count"],
    }
    for ours, theirs in DISTRIBUTIONS.items():
        metrics[ours] = _distribution(data, theirs, path, ours in TIME_METRICS)
    metrics["not_streamed"] = None
    if run["streaming"] and ttft_is_request_latency(metrics["time_to_first_token_ms"], metrics["request_latency_ms"]):
        # a "streaming" run that got each answer in one piece (e.g. genai-perf 0.0.16's generate endpoint type
        # calls Triton's non-streaming route): its TTFT, ITL and per-user rate are not measurements
        metrics["not_streamed"] = ("time to first token equals the request latency for every request: the answers"
                                   " arrived in one piece (a non-streaming route), so TTFT and ITL were not measured")
    if not run["streaming"] or metrics["not_streamed"]:
        for key in STREAMING_METRICS:
            metrics[key] = None
    metrics.update(
        {
            "output_token_throughput_per_s": _scalar(data, "output_token_throughput"),
            "request_throughput_per_s": _scalar(data, "request_throughput"),
            "request_goodput_per_s": run["goodput"],
            "goodput_source": "export" if run["goodput"] is not None else None,
            "goodput_slos": run["goodput_slos"] if run["goodput"] is not None else None,
            "input_sequence_length_avg": _scalar(data, "input_sequence_length"),
            "output_sequence_length_avg": _scalar(data, "output_sequence_length"),
            "source": path,
        }
    )
    return metrics


def check_goodput_thresholds(thresholds):
    unknown = sorted(set(thresholds) - set(GOODPUT_THRESHOLDS))
    if unknown:
        raise BenchmarkError(
            "goodput names unknown metric(s) %s; use %s" % (", ".join(unknown), ", ".join(sorted(GOODPUT_THRESHOLDS)))
        )
    for key, value in thresholds.items():
        if number(value) is None:
            raise BenchmarkError("goodput threshold %s must be a number, got %r" % (key, value))


def aiperf_records_path(export_path):
    """AIPerf writes <prefix>.jsonl beside <prefix>.json (profile_export.jsonl for the default name)."""
    directory, name = os.path.split(export_path)
    if name == AIPERF_EXPORT:
        return os.path.join(directory, AIPERF_RECORDS)
    return os.path.join(directory, os.path.splitext(name)[0] + ".jsonl")


def _record_is_good(record_metrics, thresholds):
    for key, limit in thresholds.items():
        entry = record_metrics.get(key)
        value = number(entry.get("value")) if isinstance(entry, dict) else None
        if value is None:
            return False  # as AIPerf does: a request without the metric does not count as good
        if GOODPUT_THRESHOLDS[key] == "max" and value > limit:
            return False
        if GOODPUT_THRESHOLDS[key] == "min" and value < limit:
            return False
    return True


def goodput_from_records(records_path, thresholds, metrics):
    """Requests/s that met every threshold, from AIPerf's per-request records.

    AIPerf's own definition: good requests over the same observation window as
    request_throughput, i.e. request_throughput * good / successful requests.
    """
    good = total = 0
    with open(records_path, "rb") as handle:
        for number_, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise BenchmarkError("%s line %d is truncated or not JSON (%s)" % (records_path, number_, e))
            metadata = record.get("metadata") if isinstance(record, dict) else None
            if not isinstance(metadata, dict) or metadata.get("benchmark_phase") != "profiling":
                continue
            if record.get("error") is not None:
                continue
            total += 1
            if _record_is_good(record.get("metrics") or {}, thresholds):
                good += 1
    expected = metrics["request_count"]
    if expected is not None and total != expected:
        raise BenchmarkError(
            "%s has %d successful profiling requests but %s counts %d: they are not from the same run"
            % (records_path, total, metrics["source"], expected)
        )
    throughput = metrics["request_throughput_per_s"]
    if not total or throughput is None:
        return 0.0
    return throughput * good / total


def read_results(path, expected_model=None, goodput=None):
    """Find, parse and normalise one export. Returns (metrics, warnings)."""
    source = find_export(path)
    metrics = normalize_export(load_json(source, "benchmark export"), source)
    if expected_model is not None and expected_model not in metrics["models"]:
        raise BenchmarkError(
            "%s is a benchmark of %s, not of the expected model %s"
            % (source, ", ".join(metrics["models"]) or "no named model", expected_model)
        )
    warnings = []
    if goodput:
        check_goodput_thresholds(goodput)
        records = aiperf_records_path(source)
        if metrics["runner"] == "aiperf" and os.path.isfile(records):
            metrics["request_goodput_per_s"] = goodput_from_records(records, goodput, metrics)
            metrics["goodput_source"] = "computed"
            metrics["goodput_slos"] = dict(goodput)
        else:
            reported = (
                "the goodput in the export, computed by %s with its own thresholds %s"
                % (metrics["runner"], json.dumps(metrics["goodput_slos"], sort_keys=True))
                if metrics["request_goodput_per_s"] is not None
                else "no goodput"
            )
            warnings.append(
                "goodput thresholds were given but %s has no per-request records (AIPerf %s) to apply them to; "
                "reporting %s" % (source, AIPERF_RECORDS, reported)
            )
    return metrics, warnings


# ---------------------------------------------------------------------------------------------
# Results of a sweep and SLO gates
# ---------------------------------------------------------------------------------------------

METRIC_KEYS = (
    "model", "models", "runner", "runner_version", "endpoint_type", "backend", "streaming", "concurrency",
    "request_rate", "request_count", "error_count", "time_to_first_token_ms", "inter_token_latency_ms",
    "request_latency_ms", "output_token_throughput_per_user", "output_token_throughput_per_s",
    "request_throughput_per_s", "request_goodput_per_s", "goodput_source", "goodput_slos",
    "input_sequence_length_avg", "output_sequence_length_avg", "source", "not_streamed",
    "usd_per_million_output_tokens", "serving_cost",
)
SLO_METRICS = (
    "time_to_first_token_ms", "inter_token_latency_ms", "request_latency_ms", "output_token_throughput_per_user",
    "output_token_throughput_per_s", "request_throughput_per_s", "request_goodput_per_s",
    "usd_per_million_output_tokens",
)
SLO_STATS = ("avg", "p50", "p90", "p99")
# Larger is better for these (baseline verdicts); smaller for the rest.
LARGER_IS_BETTER = ("output_token_throughput_per_user", "output_token_throughput_per_s", "request_throughput_per_s",
                    "request_goodput_per_s")
BASELINE_METRICS = (
    ("output_token_throughput_per_s", None),
    ("request_throughput_per_s", None),
    ("time_to_first_token_ms", "p50"),
    ("time_to_first_token_ms", "p99"),
    ("inter_token_latency_ms", "p50"),
    ("inter_token_latency_ms", "p99"),
    ("request_latency_ms", "p99"),
)
REPORT_FORMAT = "eks_llm.inference.benchmark_report"
REPORT_FORMAT_VERSION = 1


def _text(value):
    return value if isinstance(value, str) and value else None


def _concurrency(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


def serving_costs(results, costs):
    """Each result with what a million output tokens cost at the measured throughput, from ``costs`` (per model:
    usd_per_hour of the nodes serving it, nodes, instance_type, capacity_type): usd_per_hour / (tokens/s * 3600) * 1e6,
    in its metrics as usd_per_million_output_tokens, with the nodes counted as serving_cost. Results of a model
    without a cost, or without a measured output throughput, are returned as they are."""
    by_model = dict((cost["model"], cost) for cost in costs or [])
    priced = []
    for result in results:
        metrics = result.get("metrics") if isinstance(result, dict) else None
        cost = by_model.get(result.get("model") if isinstance(result, dict) else None)
        throughput = number((metrics or {}).get("output_token_throughput_per_s"))
        if cost is None or not isinstance(metrics, dict) or not throughput or throughput <= 0 or cost.get("usd_per_hour") is None:
            priced.append(result)
            continue
        per_million = float(cost["usd_per_hour"]) / (throughput * 3600.0) * 1e6
        serving = dict((key, cost.get(key)) for key in ("nodes", "instance_type", "capacity_type", "usd_per_hour"))
        priced.append(dict(result, metrics=dict(metrics, usd_per_million_output_tokens=round(per_million, 4), serving_cost=serving)))
    return priced


def normalize_results(results):
    """Validated result rows in input order; each {model, engine, profile, concurrency, metrics}."""
    rows = []
    seen = {}
    for index, result in enumerate(results, 1):
        if not isinstance(result, dict) or not isinstance(result.get("metrics"), dict):
            raise BenchmarkError("results[%d] must be a dict with a metrics dict (from benchmark_results_info)" % index)
        metrics = dict((key, result["metrics"].get(key)) for key in METRIC_KEYS)
        row = {
            "model": _text(result.get("model")) or _text(metrics["model"]),
            "engine": _text(result.get("engine")),
            "profile": _text(result.get("profile")),
            "concurrency": _concurrency(metrics["concurrency"] if result.get("concurrency") is None
                                        else result["concurrency"]),
            "metrics": metrics,
        }
        missing = [key for key in ("model", "engine", "profile", "concurrency") if row[key] is None]
        if missing:
            raise BenchmarkError(
                "results[%d] has no %s (concurrency must be a positive integer; request-rate runs have none)"
                % (index, ", ".join(missing))
            )
        key = (row["model"], row["engine"], row["profile"], row["concurrency"])
        if key in seen:
            raise BenchmarkError(
                "results[%d] and results[%d] are both model %s, engine %s, profile %s at concurrency %d"
                % ((seen[key], index) + key)
            )
        seen[key] = index
        rows.append(row)
    if not rows:
        raise BenchmarkError("results is empty: nothing to report")
    return rows


def group_key(row):
    return (row["model"], row["engine"], row["profile"])


def groups(rows):
    """[(model, engine, profile), [rows by concurrency]] in order of first appearance."""
    order = []
    members = {}
    for row in rows:
        key = group_key(row)
        if key not in members:
            order.append(key)
            members[key] = []
        members[key].append(row)
    return [(key, sorted(members[key], key=lambda r: r["concurrency"])) for key in order]


def measured(metrics, metric, stat):
    if metric in SCALAR_METRICS:
        return number(metrics.get(metric))
    block = metrics.get(metric)
    return number(block.get(stat)) if isinstance(block, dict) else None


def _slo_applies(slo, row):
    for key in ("model", "engine", "profile", "concurrency"):
        if slo.get(key) is not None and slo[key] != row[key]:
            return False
    return True


def _scope(slo):
    parts = ["%s=%s" % (key, slo[key]) for key in ("model", "engine", "profile", "concurrency") if slo.get(key) is not None]
    return ", ".join(parts) or "any"


def _missing_reason(metric, stat, row):
    what = metric if stat is None else "%s %s" % (metric, stat)
    if metric in STREAMING_METRICS and row["metrics"].get("not_streamed"):
        return "%s is not judged: %s" % (what, row["metrics"]["not_streamed"])
    if metric in STREAMING_METRICS and row["metrics"].get("streaming") is False:
        return "%s was not measured: the run did not stream (TTFT and ITL need --streaming)" % what
    return "%s was not measured in this run" % what


def evaluate_slos(rows, slos):
    """One evaluation per gate, bound and matching result; an unmeasured metric or no match fails."""
    evaluations = []
    for gate, slo in enumerate(slos, 1):
        metric = slo["metric"]
        stat = None if metric in SCALAR_METRICS else slo.get("stat") or "p99"
        bounds = [(bound, float(slo[bound])) for bound in ("max", "min") if slo.get(bound) is not None]
        matching = [row for row in rows if _slo_applies(slo, row)]
        targets = matching or [None]
        for row in targets:
            value = measured(row["metrics"], metric, stat) if row else None
            for bound, limit in bounds:
                if row is None:
                    reason = "no result matches this gate (%s)" % _scope(slo)
                elif value is None:
                    reason = _missing_reason(metric, stat, row)
                else:
                    reason = None
                passed = reason is None and (value <= limit if bound == "max" else value >= limit)
                evaluations.append({
                    "gate": gate,
                    "metric": metric,
                    "stat": stat,
                    "bound": bound,
                    "limit": limit,
                    "measured": value,
                    "passed": passed,
                    "reason": reason,
                    "model": row["model"] if row else slo.get("model"),
                    "engine": row["engine"] if row else slo.get("engine"),
                    "profile": row["profile"] if row else slo.get("profile"),
                    "concurrency": row["concurrency"] if row else slo.get("concurrency"),
                })
    return evaluations


def compare_baseline(rows, baseline, path):
    """(comparison rows, keys only in this run, keys only in the baseline) against a previous report.json."""
    if not isinstance(baseline, dict) or baseline.get("format") != REPORT_FORMAT or not isinstance(
        baseline.get("results"), list
    ):
        raise BenchmarkError("baseline %s is not a report.json written by %s" % (path, REPORT_FORMAT))
    previous = {}
    for entry in baseline["results"]:
        if isinstance(entry, dict) and isinstance(entry.get("metrics"), dict):
            previous[(entry.get("model"), entry.get("engine"), entry.get("profile"), entry.get("concurrency"))] = entry
    comparison = []
    current_keys = set()
    for row in rows:
        key = group_key(row) + (row["concurrency"],)
        current_keys.add(key)
        if key not in previous:
            continue
        for metric, stat in BASELINE_METRICS:
            before = measured(previous[key]["metrics"], metric, stat)
            after = measured(row["metrics"], metric, stat)
            if before is None and after is None:
                continue
            delta = (after - before) / before * 100.0 if before and after is not None else None
            better = None
            if delta is not None and delta != 0:
                better = (delta > 0) == (metric in LARGER_IS_BETTER)
            comparison.append({
                "model": row["model"], "engine": row["engine"], "profile": row["profile"],
                "concurrency": row["concurrency"], "metric": metric, "stat": stat,
                "baseline": before, "current": after, "delta_percent": delta, "better": better,
            })
    only_current = sorted(key for key in current_keys if key not in previous)
    only_baseline = sorted((key for key in previous if key not in current_keys), key=str)
    return comparison, only_current, only_baseline


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------


def fmt(value, digits=2):
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "%.*f" % (digits, value)
    return str(value)


def plain(value):
    """A CSV cell: plain digits (never a thousands separator), empty for unknown."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = ("%.4f" % value).rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(value)


def _is_numeric_cell(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return cell == "n/a"


def _table(header, lines):
    """A Markdown table; columns whose cells are all numbers (or n/a) are right-aligned."""
    align = []
    for column in range(len(header)):
        numeric = all(_is_numeric_cell(cells[column]) for cells in lines) if lines else False
        align.append("---:" if numeric else "---")
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    out.extend("| " + " | ".join(cells) + " |" for cells in lines)
    return "\n".join(out)


def _stat(metrics, metric, stat):
    return fmt(measured(metrics, metric, stat))


def group_label(key, with_profile=True):
    model, engine, profile = key
    return "%s / %s / %s" % (model, engine, profile) if with_profile else "%s / %s" % (model, engine)


SUMMARY_HEADER = [
    "Concurrency", "Requests", "TTFT avg (ms)", "TTFT p50 (ms)", "TTFT p99 (ms)", "ITL avg (ms)", "ITL p50 (ms)",
    "ITL p99 (ms)", "Latency avg (ms)", "Latency p99 (ms)", "Output tok/s", "Req/s", "Goodput (req/s)",
    "$ per M output tok",
]


def summary_tables(rows):
    """One table per model/engine/profile, one line per concurrency (genai-perf's summary metrics)."""
    parts = []
    for key, members in groups(rows):
        lines = []
        for row in members:
            m = row["metrics"]
            lines.append([
                str(row["concurrency"]), fmt(m.get("request_count")),
                _stat(m, "time_to_first_token_ms", "avg"), _stat(m, "time_to_first_token_ms", "p50"),
                _stat(m, "time_to_first_token_ms", "p99"),
                _stat(m, "inter_token_latency_ms", "avg"), _stat(m, "inter_token_latency_ms", "p50"),
                _stat(m, "inter_token_latency_ms", "p99"),
                _stat(m, "request_latency_ms", "avg"), _stat(m, "request_latency_ms", "p99"),
                fmt(number(m.get("output_token_throughput_per_s"))), fmt(number(m.get("request_throughput_per_s"))),
                fmt(number(m.get("request_goodput_per_s"))), fmt(number(m.get("usd_per_million_output_tokens"))),
            ])
        parts.append("### %s\n\n%s" % (group_label(key), _table(SUMMARY_HEADER, lines)))
    return "\n\n".join(parts)


def _run_info(rows):
    lines = []
    for key, members in groups(rows):
        first = members[0]["metrics"]
        runners = sorted(set("%s %s" % (r["metrics"].get("runner"), r["metrics"].get("runner_version") or "")
                             for r in members))
        streamed = first.get("streaming")
        if streamed and any(r["metrics"].get("not_streamed") for r in members):
            streamed = "requested, NOT streamed at %s (TTFT = latency)" % ", ".join(
                str(r["concurrency"]) for r in members if r["metrics"].get("not_streamed"))
        lines.append([
            key[0], key[1], key[2], ", ".join(r.strip() for r in runners), fmt(first.get("endpoint_type")),
            fmt(streamed), ", ".join(str(r["concurrency"]) for r in members),
            # each run's own lengths, in the order of the concurrencies
            ", ".join(fmt(number(r["metrics"].get("input_sequence_length_avg")), 1) for r in members),
            ", ".join(fmt(number(r["metrics"].get("output_sequence_length_avg")), 1) for r in members),
        ])
    header = ["Model", "Engine", "Profile", "Runner", "Endpoint", "Streaming", "Concurrency", "ISL avg (each run)",
              "OSL avg (each run)"]
    return _table(header, lines)


def comparison_table(rows):
    lines = []
    ordered = sorted(rows, key=lambda r: (r["profile"], r["concurrency"], r["model"], r["engine"]))
    for row in ordered:
        m = row["metrics"]
        lines.append([
            row["profile"], str(row["concurrency"]), row["model"], row["engine"],
            fmt(number(m.get("output_token_throughput_per_s"))), fmt(number(m.get("request_throughput_per_s"))),
            _stat(m, "time_to_first_token_ms", "p99"), _stat(m, "inter_token_latency_ms", "p99"),
            _stat(m, "request_latency_ms", "p99"),
        ])
    header = ["Profile", "Concurrency", "Model", "Engine", "Output tok/s", "Req/s", "TTFT p99 (ms)", "ITL p99 (ms)",
              "Latency p99 (ms)"]
    return _table(header, lines)


def metric_label(metric, stat):
    return metric if stat is None else "%s %s" % (metric, stat)


def baseline_table(comparison):
    lines = []
    for c in comparison:
        if c["delta_percent"] is None:
            change = "n/a"
        else:
            change = "%+.1f %%" % c["delta_percent"]
        verdict = {True: "better", False: "worse", None: "same" if c["delta_percent"] == 0 else "n/a"}[c["better"]]
        lines.append([c["model"], c["engine"], c["profile"], str(c["concurrency"]), metric_label(c["metric"], c["stat"]),
                      fmt(c["baseline"]), fmt(c["current"]), change, verdict])
    header = ["Model", "Engine", "Profile", "Concurrency", "Metric", "Baseline", "Current", "Change", "Verdict"]
    return _table(header, lines)


def _limit(evaluation):
    return "%s %s" % ("<=" if evaluation["bound"] == "max" else ">=", fmt(evaluation["limit"]))


def slo_table(evaluations, failures_only=False):
    lines = []
    for e in evaluations:
        if failures_only and e["passed"]:
            continue
        result = "PASS" if e["passed"] else "FAIL" + (" (%s)" % e["reason"] if e["reason"] else "")
        lines.append([str(e["gate"]), metric_label(e["metric"], e["stat"]), fmt(e["model"]), fmt(e["engine"]),
                      fmt(e["profile"]), fmt(e["concurrency"]), _limit(e), fmt(e["measured"]), result])
    header = ["Gate", "Metric", "Model", "Engine", "Profile", "Concurrency", "Limit", "Measured", "Result"]
    return _table(header, lines)


def render_markdown(title, rows, evaluations, baseline, plots, skipped_plots):
    keys = [key for key, _members in groups(rows)]
    out = ["# %s" % title, "", "## Runs", "", _run_info(rows), "", "## Results", "", summary_tables(rows)]
    if len(keys) > 1:
        out += ["", "## Comparison", "", comparison_table(rows)]
    if baseline is not None:
        out += ["", "## Compared with the baseline", "", "Baseline: `%s`" % baseline["path"], ""]
        out.append(baseline_table(baseline["comparison"]) if baseline["comparison"] else "No result of this run is in the baseline.")
        for label, entries in (("Not in the baseline", baseline["only_current"]),
                               ("In the baseline but not in this run", baseline["only_baseline"])):
            if entries:
                out += ["", "%s: %s" % (label, "; ".join("%s / %s / %s at concurrency %s" % tuple(k) for k in entries))]
    out += ["", "## SLO gates", ""]
    if evaluations:
        failed = len([e for e in evaluations if not e["passed"]])
        out += ["%d of %d checks passed." % (len(evaluations) - failed, len(evaluations)), "", slo_table(evaluations)]
    else:
        out.append("No SLO gates were given.")
    if plots or skipped_plots:
        out += ["", "## Plots", ""]
        for name, caption in plots:
            out += ["![%s](%s)" % (caption, name), ""]
        out += ["%s" % note for note in skipped_plots]
    return "\n".join(out).rstrip("\n") + "\n"


def _csv_columns():
    """(column, source): source None = the row's own key, a tuple = (metric, stat), else a metrics key."""
    columns = [("model", None), ("engine", None), ("profile", None), ("concurrency", None)]
    columns += [(key, key) for key in ("runner", "endpoint_type", "streaming", "request_count")]
    for metric in DISTRIBUTIONS:
        base, unit = (metric[:-3], "_ms") if metric.endswith("_ms") else (metric, "")
        columns += [("%s_%s%s" % (base, stat, unit), (metric, stat)) for stat in STATS]
    columns += [(key, key) for key in SCALAR_METRICS]
    columns += [(key, key) for key in ("input_sequence_length_avg", "output_sequence_length_avg", "source")]
    return columns


CSV_COLUMNS = _csv_columns()


def render_csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([name for name, _source in CSV_COLUMNS])
    for _key, members in groups(rows):
        for row in members:
            cells = []
            for name, source in CSV_COLUMNS:
                if source is None:
                    value = row[name]
                elif isinstance(source, tuple):
                    value = measured(row["metrics"], source[0], source[1])
                else:
                    value = row["metrics"].get(source)
                cells.append(plain(value))
            writer.writerow(cells)
    return buffer.getvalue()


def render_json(title, rows, slos, evaluations, baseline, plot_names):
    document = {
        "format": REPORT_FORMAT,
        "format_version": REPORT_FORMAT_VERSION,
        "title": title,
        "metadata": {
            "models": sorted(set(r["model"] for r in rows)),
            "engines": sorted(set(r["engine"] for r in rows)),
            "profiles": sorted(set(r["profile"] for r in rows)),
            "concurrency_levels": sorted(set(r["concurrency"] for r in rows)),
            "runners": sorted(set(str(r["metrics"].get("runner")) for r in rows)),
            "plots": plot_names,
        },
        "results": [dict(row) for _key, members in groups(rows) for row in members],
        "slos": slos,
        "slo_results": evaluations,
        "slo_failures": len([e for e in evaluations if not e["passed"]]),
        "baseline": None if baseline is None else {
            "path": baseline["path"],
            "comparison": baseline["comparison"],
            "only_current": [list(k) for k in baseline["only_current"]],
            "only_baseline": [list(k) for k in baseline["only_baseline"]],
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


# ---------------------------------------------------------------------------------------------
# Plots (matplotlib is imported by the caller's request only: it is an optional dependency)
# ---------------------------------------------------------------------------------------------

# file name, caption, why it can be missing
PLOTS = (
    ("throughput_vs_concurrency.png", "Output token throughput vs concurrency", "no run measured output tokens/s"),
    ("ttft_vs_concurrency.png", "Time to first token p50/p99 vs concurrency", "no run streamed (TTFT needs streaming)"),
    ("itl_vs_concurrency.png", "Inter-token latency p50/p99 vs concurrency", "no run streamed (ITL needs streaming)"),
    ("throughput_vs_latency.png", "Output token throughput vs p99 latency", "no run measured output tokens/s"),
)


def import_matplotlib():
    """(Figure, FigureCanvasAgg); raises ImportError when matplotlib is not installed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    return Figure, FigureCanvasAgg


def _series(members, metric, stat):
    points = [(row["concurrency"], measured(row["metrics"], metric, stat)) for row in members]
    return [p for p in points if p[1] is not None]


def _concurrency_axis(axes, rows):
    levels = sorted(set(row["concurrency"] for row in rows))
    if levels[-1] >= 8 * levels[0]:
        axes.set_xscale("log", base=2)
    axes.set_xticks(levels)
    axes.set_xticklabels([str(level) for level in levels])
    axes.set_xlabel("Concurrency")
    axes.set_ylim(bottom=0)
    axes.grid(True, which="major", alpha=0.3)


def _png(figure, canvas_class):
    canvas_class(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _labels(rows):
    with_profile = len(set(row["profile"] for row in rows)) > 1
    return dict((key, group_label(key, with_profile)) for key, _members in groups(rows))


def _colors(rows):
    """One colour per model/engine/profile, the same in every panel and every plot of a report."""
    return dict((key, "C%d" % (index % 10)) for index, (key, _members) in enumerate(groups(rows)))


def _concurrency_plot(rows, lines, title, ylabel, matplotlib_classes):
    """One line per model/engine/profile and (metric, stat, line style, marker, label suffix) in `lines`."""
    figure_class, canvas_class = matplotlib_classes
    labels, colors = _labels(rows), _colors(rows)
    figure = figure_class(figsize=(8, 5))
    axes = figure.add_subplot(1, 1, 1)
    drawn = False
    for key, members in groups(rows):
        for metric, stat, style, marker, suffix in lines:
            points = _series(members, metric, stat)
            if points:
                drawn = True
                axes.plot([p[0] for p in points], [p[1] for p in points], style, marker=marker,
                          color=colors[key], label=labels[key] + suffix)
    if not drawn:
        return None
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    _concurrency_axis(axes, rows)
    axes.legend(fontsize="small")
    figure.tight_layout()
    return _png(figure, canvas_class)


def _percentiles(metric):
    return [(metric, "p50", "-", "o", " p50"), (metric, "p99", "--", "s", " p99")]


def _tradeoff_plot(rows, matplotlib_classes):
    """Throughput vs p99 request latency, and vs p99 TTFT when measured; points labelled by concurrency."""
    figure_class, canvas_class = matplotlib_classes
    labels, colors = _labels(rows), _colors(rows)
    panels = [("request_latency_ms", "p99 request latency (ms)")]
    if any(measured(r["metrics"], "time_to_first_token_ms", "p99") is not None for r in rows):
        panels.append(("time_to_first_token_ms", "p99 time to first token (ms)"))
    figure = figure_class(figsize=(6 * len(panels), 5))
    drawn = False
    for position, (metric, xlabel) in enumerate(panels, 1):
        axes = figure.add_subplot(1, len(panels), position)
        for series, (key, members) in enumerate(groups(rows)):
            points = [(measured(r["metrics"], metric, "p99"), number(r["metrics"].get("output_token_throughput_per_s")),
                       r["concurrency"]) for r in members]
            points = [p for p in points if p[0] is not None and p[1] is not None]
            if not points:
                continue
            drawn = True
            axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", color=colors[key], label=labels[key])
            for point, (x, y, level) in enumerate(points):
                # alternate above/below and shift per series, so labels of neighbouring points do not overlap
                offset = (4, (6 + 7 * (series % 3)) * (1 if point % 2 == 0 else -1) - (0 if point % 2 == 0 else 6))
                axes.annotate("c%d" % level, (x, y), textcoords="offset points", xytext=offset, fontsize="x-small",
                              color=colors[key])
        axes.set_xlabel(xlabel)
        axes.set_ylabel("Output tokens/s")
        axes.set_ylim(bottom=0)
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
    if not drawn:
        return None
    figure.suptitle("Output token throughput vs p99 latency")
    figure.tight_layout()
    return _png(figure, canvas_class)


def render_plots(rows, matplotlib_classes):
    """([(file name, PNG bytes, caption)], [notes on the plots left out for lack of data])."""
    images = [
        _concurrency_plot(rows, [("output_token_throughput_per_s", None, "-", "o", "")], PLOTS[0][1], "Output tokens/s",
                          matplotlib_classes),
        _concurrency_plot(rows, _percentiles("time_to_first_token_ms"), PLOTS[1][1], "ms", matplotlib_classes),
        _concurrency_plot(rows, _percentiles("inter_token_latency_ms"), PLOTS[2][1], "ms", matplotlib_classes),
        _tradeoff_plot(rows, matplotlib_classes),
    ]
    plots = [(name, image, caption) for (name, caption, _why), image in zip(PLOTS, images) if image is not None]
    skipped = ["%s: not drawn, %s." % (caption, why) for (_name, caption, why), image in zip(PLOTS, images)
               if image is None]
    return plots, skipped
