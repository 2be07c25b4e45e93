#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: benchmark_report
version_added: 0.1.0
short_description: Write the report of an LLM benchmark sweep and gate it on SLOs
description:
  - Takes the results of a benchmark sweep (the RV(eks_llm.inference.benchmark_results_info#module:metrics) of
    each run, labelled with model, engine, sweep profile and concurrency) and writes to O(output_dir)
    C(report.md), C(results.csv), C(report.json) and PNG plots.
  - C(report.md) has the runs, one table per model/engine/profile with a line per concurrency (the
    summary metrics of genai-perf), a side-by-side comparison when several models or engines ran, the
    changes against O(baseline) when given, and every SLO gate with PASS or FAIL and the measured value.
  - C(results.csv) has one line per run, plain numbers (no thousands separators), empty cells for metrics
    a run did not measure.
  - C(report.json) is the machine-readable report (results, SLO evaluations, baseline comparison and
    metadata); a later run reads it as its O(baseline).
  - "Plots (matplotlib, drawn without a display): C(throughput_vs_concurrency.png) (one line per
    model/engine/profile), C(ttft_vs_concurrency.png) and C(itl_vs_concurrency.png) (p50 solid, p99
    dashed), C(throughput_vs_latency.png) (output tokens/s against p99 request latency and p99 TTFT,
    points labelled by concurrency). A latency plot no run measured (non-streaming runs only) is left
    out and the report says so."
  - "A gate is checked against every result it applies to. A gate whose metric a run did not measure
    (for example TTFT of a run that did not stream), or that applies to no result at all, fails: it is
    never taken as passed."
  - Writes a file only when its content changes, so a second run on the same results reports no change.
author:
  - eks_llm maintainers (@eks-llm)
requirements:
  - matplotlib (on the controller), unless O(plots=false)
options:
  results:
    description:
      - One entry per benchmark run.
    type: list
    elements: dict
    required: true
    suboptions:
      model:
        description:
          - Model name shown in the report; defaults to the model in O(results[].metrics).
        type: str
      engine:
        description:
          - How the model was served, for example V(nim) or V(triton_vllm).
        type: str
        required: true
      profile:
        description:
          - Name of the sweep profile the run belongs to, for example V(isl128-osl128).
        type: str
        required: true
      concurrency:
        description:
          - Concurrency of the run; defaults to the concurrency in O(results[].metrics).
        type: int
      metrics:
        description:
          - The RV(eks_llm.inference.benchmark_results_info#module:metrics) of the run.
        type: dict
        required: true
  output_dir:
    description:
      - Directory the report is written to; created when missing.
    type: path
    required: true
  title:
    description:
      - Title of C(report.md) and C(report.json).
    type: str
    default: LLM inference benchmark
  slos:
    description:
      - SLO gates. Each one is checked against every result it applies to; set O(slos[].max), O(slos[].min)
        or both.
    type: list
    elements: dict
    default: []
    suboptions:
      metric:
        description:
          - The metric, as named in RV(eks_llm.inference.benchmark_results_info#module:metrics). Times in ms,
            throughputs per second.
        type: str
        required: true
        choices:
          - time_to_first_token_ms
          - inter_token_latency_ms
          - request_latency_ms
          - output_token_throughput_per_user
          - output_token_throughput_per_s
          - request_throughput_per_s
          - request_goodput_per_s
          - usd_per_million_output_tokens
      stat:
        description:
          - Statistic of a distribution to check. Ignored for V(output_token_throughput_per_s),
            V(request_throughput_per_s), V(request_goodput_per_s) and V(usd_per_million_output_tokens), which are
            one number per run.
        type: str
        choices: [avg, p50, p90, p99]
        default: p99
      max:
        description:
          - The measured value must be at most this.
        type: float
      min:
        description:
          - The measured value must be at least this.
        type: float
      concurrency:
        description:
          - Check only results of this concurrency.
        type: int
      model:
        description:
          - Check only results of this model.
        type: str
      engine:
        description:
          - Check only results of this engine.
        type: str
      profile:
        description:
          - Check only results of this sweep profile.
        type: str
  costs:
    description:
      - What the nodes serving each model cost per hour. Each result of a model listed here gets
        C(usd_per_million_output_tokens) - O(costs[].usd_per_hour) divided by the measured output tokens per
        hour, times a million - in its metrics (tables, CSV, JSON, and as an SLO metric, smaller is better).
    type: list
    elements: dict
    default: []
    suboptions:
      model:
        description: The model, as in O(results[].model).
        type: str
        required: true
      usd_per_hour:
        description: USD per hour of the nodes the model's replicas run on.
        type: float
        required: true
      nodes:
        description: How many nodes that is (shown with the cost).
        type: int
      instance_type:
        description: Their instance type (shown with the cost).
        type: str
      capacity_type:
        description: V(spot) or V(on-demand) (shown with the cost).
        type: str
  baseline:
    description:
      - C(report.json) of an earlier run to compare with. Results are matched by model, engine, profile
        and concurrency; C(report.md) shows the change in percent of the throughputs and of the p50/p99
        latencies, and whether it is better or worse.
      - Point it at a copy kept from the earlier run, not at O(output_dir)/report.json, which this run
        overwrites.
    type: path
  fail_on_slo:
    description:
      - Fail when any SLO check fails, after writing the report. The message has a table of the checks
        that missed (metric, model, engine, profile, concurrency, limit, measured).
    type: bool
    default: true
  plots:
    description:
      - Draw the PNG plots (needs matplotlib on the controller).
    type: bool
    default: true
notes:
  - Supports check mode (computes the report and whether a file would change, writes nothing) and diff
    mode (text files line by line, PNGs by size).
seealso:
  - module: eks_llm.inference.benchmark_results_info
"""

EXAMPLES = r"""
- name: Report a NIM and a Triton + vLLM sweep, gated on latency targets
  eks_llm.inference.benchmark_report:
    output_dir: /results/report
    title: Llama 3.1 8B on g5.2xlarge
    results: "{{ bench_results }}"  # [{model, engine, profile, concurrency, metrics}, ...]
    slos:
      - metric: time_to_first_token_ms
        stat: p99
        max: 500
      - metric: inter_token_latency_ms
        stat: p50
        max: 30
      - metric: output_token_throughput_per_s
        min: 2000
        concurrency: 64
        model: meta/llama-3.1-8b-instruct
    baseline: /results/previous/report.json

- name: Write the report even when gates fail, and decide later
  eks_llm.inference.benchmark_report:
    output_dir: /results/report
    results: "{{ bench_results }}"
    slos:
      - metric: request_latency_ms
        max: 2000
    fail_on_slo: false
  register: report

- name: Show what missed
  ansible.builtin.debug:
    msg: "{{ report.slo_results | rejectattr('passed') | list }}"
  when: report.slo_failures > 0
"""

RETURN = r"""
files:
  description: Paths of the report files (written, or unchanged), C(report.md) first.
  returned: always
  type: list
  elements: str
  sample:
    - /results/report/report.md
    - /results/report/results.csv
    - /results/report/report.json
    - /results/report/throughput_vs_concurrency.png
    - /results/report/ttft_vs_concurrency.png
    - /results/report/itl_vs_concurrency.png
    - /results/report/throughput_vs_latency.png
slo_results:
  description: One check per gate, bound (max or min) and result the gate applies to.
  returned: always
  type: list
  elements: dict
  contains:
    gate:
      description: Position of the gate in O(slos), from 1.
      type: int
      sample: 1
    metric:
      description: The metric checked.
      type: str
      sample: time_to_first_token_ms
    stat:
      description: The statistic checked; V(null) for the per-run throughputs.
      type: str
      sample: p99
    bound:
      description: V(max) or V(min).
      type: str
      sample: max
    limit:
      description: The limit.
      type: float
      sample: 500.0
    measured:
      description: The measured value; V(null) when the run did not measure the metric.
      type: float
      sample: 605.0
    passed:
      description: Whether the check passed.
      type: bool
      sample: false
    reason:
      description: Why a check failed without a measured value (metric not measured, no matching result).
      type: str
      sample: null
    model:
      description: Model of the result checked.
      type: str
      sample: meta/llama-3.1-8b-instruct
    engine:
      description: Engine of the result checked.
      type: str
      sample: nim
    profile:
      description: Sweep profile of the result checked.
      type: str
      sample: isl128-osl128
    concurrency:
      description: Concurrency of the result checked.
      type: int
      sample: 64
slo_failures:
  description: Number of failed checks in RV(slo_results).
  returned: always
  type: int
  sample: 1
slo_failure_message:
  description:
    - What a failed gate says (the count and the table of the checks that missed), the message the module fails with
      when O(fail_on_slo=true). Empty when every check passed. With O(fail_on_slo=false) a caller can copy the report
      elsewhere first and fail with this message afterwards.
  returned: always
  type: str
  sample: "1 of 2 SLO checks failed: ..."
summary_markdown:
  description: The results tables of C(report.md), one per model/engine/profile.
  returned: always
  type: str
  sample: |-
    ### meta/llama-3.1-8b-instruct / nim / isl128-osl128

    | Concurrency | Requests | TTFT avg (ms) | TTFT p50 (ms) | TTFT p99 (ms) | ...
    |---|---:|---:|---:|---:| ...
    | 64 | 256 | 189.27 | 165.00 | 605.00 | ...
baseline_comparison:
  description: Changes against O(baseline), one entry per matched result and metric; empty without a baseline.
  returned: always
  type: list
  elements: dict
  sample:
    - model: meta/llama-3.1-8b-instruct
      engine: nim
      profile: isl128-osl128
      concurrency: 64
      metric: output_token_throughput_per_s
      stat: null
      baseline: 3600.0
      current: 3982.5
      delta_percent: 10.625
      better: true
"""

import os
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark


def _describe(content, path):
    if path.endswith(".png"):
        return "(PNG image, %d bytes)\n" % len(content)
    return content.decode("utf-8")


def sync_files(module, directory, files):
    """Write the files whose content differs (not in check mode). Returns (changed, diffs)."""
    diffs = []
    changed = False
    if not os.path.isdir(directory):
        if os.path.exists(directory):
            module.fail_json(msg="output_dir %s exists and is not a directory" % directory)
        changed = True
        if not module.check_mode:
            os.makedirs(directory)
    for name, content in files:
        path = os.path.join(directory, name)
        before = None
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                before = handle.read()
        if before == content:
            continue
        changed = True
        diffs.append({
            "before_header": path if before is not None else "%s (absent)" % path,
            "after_header": path,
            "before": "" if before is None else _describe(before, path),
            "after": _describe(content, path),
        })
        if not module.check_mode:
            partial = path + ".partial"
            with open(partial, "wb") as handle:
                handle.write(content)
            os.replace(partial, path)
    return changed, diffs


def main():
    module = AnsibleModule(
        argument_spec=dict(
            results=dict(
                type="list", elements="dict", required=True,
                options=dict(
                    model=dict(type="str"),
                    engine=dict(type="str", required=True),
                    profile=dict(type="str", required=True),
                    concurrency=dict(type="int"),
                    metrics=dict(type="dict", required=True),
                ),
            ),
            output_dir=dict(type="path", required=True),
            title=dict(type="str", default="LLM inference benchmark"),
            slos=dict(
                type="list", elements="dict", default=[],
                options=dict(
                    metric=dict(type="str", required=True, choices=list(benchmark.SLO_METRICS)),
                    stat=dict(type="str", choices=list(benchmark.SLO_STATS), default="p99"),
                    max=dict(type="float"),
                    min=dict(type="float"),
                    concurrency=dict(type="int"),
                    model=dict(type="str"),
                    engine=dict(type="str"),
                    profile=dict(type="str"),
                ),
                required_one_of=[["max", "min"]],
            ),
            costs=dict(
                type="list", elements="dict", default=[],
                options=dict(
                    model=dict(type="str", required=True),
                    usd_per_hour=dict(type="float", required=True),
                    nodes=dict(type="int"),
                    instance_type=dict(type="str"),
                    capacity_type=dict(type="str"),
                ),
            ),
            baseline=dict(type="path"),
            fail_on_slo=dict(type="bool", default=True),
            plots=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    title = params["title"]
    slos = [dict(slo) for slo in params["slos"]]
    try:
        rows = benchmark.normalize_results(benchmark.serving_costs(params["results"], params["costs"]))
        evaluations = benchmark.evaluate_slos(rows, slos)
        baseline = None
        if params["baseline"]:
            previous = benchmark.load_json(params["baseline"], "baseline")
            comparison, only_current, only_baseline = benchmark.compare_baseline(rows, previous, params["baseline"])
            baseline = dict(path=params["baseline"], comparison=comparison, only_current=only_current,
                            only_baseline=only_baseline)
    except benchmark.BenchmarkError as e:
        module.fail_json(msg=str(e))

    plots, skipped = [], []
    if params["plots"]:
        try:
            matplotlib_classes = benchmark.import_matplotlib()
        except ImportError:
            module.fail_json(msg=missing_required_lib("matplotlib"), exception=traceback.format_exc())
        plots, skipped = benchmark.render_plots(rows, matplotlib_classes)

    markdown = benchmark.render_markdown(title, rows, evaluations, baseline,
                                         [(name, caption) for name, _png, caption in plots], skipped)
    files = [
        ("report.md", markdown.encode("utf-8")),
        ("results.csv", benchmark.render_csv(rows).encode("utf-8")),
        ("report.json", benchmark.render_json(title, rows, slos, evaluations, baseline,
                                              [name for name, _png, _caption in plots]).encode("utf-8")),
    ] + [(name, png) for name, png, _caption in plots]
    try:
        changed, diffs = sync_files(module, params["output_dir"], files)
    except (IOError, OSError) as e:
        module.fail_json(msg="cannot write the report to %s: %s" % (params["output_dir"], e),
                         exception=traceback.format_exc())

    failures = [e for e in evaluations if not e["passed"]]
    failure_message = ""
    if failures:
        failure_message = "%d of %d SLO checks failed:\n%s" % (len(failures), len(evaluations),
                                                               benchmark.slo_table(failures, failures_only=True))
    result = dict(
        changed=changed,
        files=[os.path.join(params["output_dir"], name) for name, _content in files],
        slo_results=evaluations,
        slo_failures=len(failures),
        slo_failure_message=failure_message,
        summary_markdown=benchmark.summary_tables(rows),
        baseline_comparison=baseline["comparison"] if baseline else [],
    )
    if module._diff:
        result["diff"] = diffs
    if failures and params["fail_on_slo"]:
        module.fail_json(msg=failure_message, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
