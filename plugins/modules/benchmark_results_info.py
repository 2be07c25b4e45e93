#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: benchmark_results_info
version_added: 0.1.0
short_description: Read the results of a genai-perf or AIPerf benchmark run
description:
  - Reads the JSON export of one LLM benchmark run and returns its metrics in one shape, whichever
    tool wrote it, for M(eks_llm.inference.benchmark_report) and for assertions in playbooks.
  - "Reads genai-perf 0.0.16 C(profile_export_genai_perf.json) (or C(<name>_genai_perf.json) when
    C(--profile-export-file <name>.json) was given) for the OpenAI C(chat) and C(completions) endpoints
    of NIM or vLLM and for Triton (C(kserve) over gRPC, C(generate) over HTTP); and AIPerf 0.13.0
    C(profile_export_aiperf.json)."
  - "Never reads the CSV exports: genai-perf writes values of 1000 and more with a thousands separator
    (C(\"6,740.76\"))."
  - TTFT, ITL and the per-user throughput are only measured when the run streamed. For a run that did
    not, they are returned as V(null), never as V(0) (genai-perf writes a TTFT equal to the request
    latency there; it is discarded).
  - Runs on the controller and only reads files; never reports a change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  path:
    description:
      - An export file, or a directory searched recursively for one (genai-perf's C(--artifact-dir),
        which always gets a sub-directory such as C(meta_llama-3.1-8b-instruct-openai-chat-concurrency8/)
        appended, or AIPerf's C(--artifact-dir)).
      - In a directory, files named C(profile_export_aiperf.json) or C(*_genai_perf.json) are
        candidates; AIPerf's per-phase copies under C(phases/<phase>/) are not. More than one candidate
        is an error that lists them (for example the C(concurrency_N/) runs of an AIPerf sweep); name
        one of them.
    type: path
    required: true
  expected_model:
    description:
      - Fail unless the run benchmarked this model (as passed to C(-m/--model), for example
        V(meta/llama-3.1-8b-instruct)), so that results of another model are never reported under
        this one's name.
    type: str
  goodput:
    description:
      - "SLO thresholds of a good request, by the metric names of genai-perf's and AIPerf's C(--goodput):
        V(time_to_first_token), V(inter_token_latency), V(request_latency) in ms (good at or below) and
        V(output_token_throughput_per_user) in tokens/s (good at or above)."
      - With an AIPerf export that has its per-request records beside it (C(profile_export.jsonl)),
        RV(metrics.request_goodput_per_s) is computed from them with these thresholds, as AIPerf does
        (requests/s that met every threshold) and RV(metrics.goodput_source) is V(computed).
      - Otherwise (genai-perf keeps no per-request metrics) the goodput in the export, if the run was
        made with C(--goodput), is returned with a warning, and RV(metrics.goodput_slos) says which
        thresholds the tool used.
    type: dict
notes:
  - Supports check mode.
  - Formerly C(eks_llm.inference.genai_perf_results); the old name redirects here (C(meta/runtime.yml)).
seealso:
  - module: eks_llm.inference.benchmark_report
"""

EXAMPLES = r"""
- name: Read the genai-perf run of concurrency 8
  eks_llm.inference.benchmark_results_info:
    path: /results/llama3-8b/isl128-osl128/c8
    expected_model: meta/llama-3.1-8b-instruct
  register: c8

- name: The run streamed and met its TTFT target
  ansible.builtin.assert:
    that:
      - c8.metrics.streaming
      - c8.metrics.time_to_first_token_ms.p99 <= 500

- name: Read every level of an AIPerf sweep, with goodput computed from the per-request records
  eks_llm.inference.benchmark_results_info:
    path: "/results/mistral-7b/concurrency_{{ item }}/profile_export_aiperf.json"
    expected_model: mistralai/Mistral-7B-Instruct-v0.3
    goodput:
      time_to_first_token: 300
      inter_token_latency: 25
  loop: [1, 2, 4, 8, 16]
  register: sweep

- name: Collect them as results of the report
  ansible.builtin.set_fact:
    bench_results: >-
      {{ bench_results | default([]) + [{'model': item.metrics.model, 'engine': 'triton_vllm',
         'profile': 'isl128-osl128', 'concurrency': item.metrics.concurrency, 'metrics': item.metrics}] }}
  loop: "{{ sweep.results }}"
  loop_control:
    label: "{{ item.metrics.concurrency }}"

- name: Report them
  eks_llm.inference.benchmark_report:
    output_dir: /results/report
    title: Mistral 7B on Triton + vLLM
    results: "{{ bench_results }}"
"""

RETURN = r"""
path:
  description: The export file that was read.
  returned: always
  type: str
  sample: /results/c8/meta_llama-3.1-8b-instruct-openai-chat-concurrency8/profile_export_genai_perf.json
metrics:
  description:
    - The run's metrics. Times are in ms. A distribution is a dict of V(avg), V(p50), V(p90), V(p99),
      V(min) and V(max); a metric the run did not measure is V(null).
  returned: always
  type: dict
  contains:
    model:
      description: The benchmarked model (the first, when the run benchmarked several).
      type: str
      sample: meta/llama-3.1-8b-instruct
    models:
      description: All models of the run.
      type: list
      elements: str
      sample: [meta/llama-3.1-8b-instruct]
    runner:
      description: The tool that wrote the export.
      type: str
      choices: [genai_perf, aiperf]
      sample: genai_perf
    runner_version:
      description: Version of the tool, when the export records it (AIPerf does, genai-perf does not).
      type: str
      sample: 0.13.0
    endpoint_type:
      description:
        - The C(--endpoint-type) of the run, V(chat), V(completions), V(generate) (Triton HTTP) or
          V(kserve) (Triton gRPC), or another type the tool knows.
      type: str
      sample: chat
    backend:
      description: The Triton backend of a V(kserve) run (V(vllm) or V(tensorrtllm)); V(null) otherwise.
      type: str
      sample: vllm
    streaming:
      description: Whether the run streamed tokens; TTFT and ITL exist only then.
      type: bool
      sample: true
    concurrency:
      description: Concurrent requests of the run; V(null) for a request-rate run.
      type: int
      sample: 8
    request_rate:
      description: Requests/s of a request-rate run; V(null) for a concurrency run.
      type: float
      sample: null
    request_count:
      description: Successful requests measured.
      type: int
      sample: 256
    error_count:
      description: Failed requests (AIPerf reports them; V(null) for genai-perf).
      type: int
      sample: 0
    time_to_first_token_ms:
      description: Time to first token (ms); V(null) when the run did not stream.
      type: dict
      sample: {avg: 189.3, p50: 165.0, p90: 255.0, p99: 605.0, min: 150.0, max: 615.0}
    inter_token_latency_ms:
      description: Inter-token latency (ms), excluding the first token; V(null) when the run did not stream.
      type: dict
      sample: {avg: 13.5, p50: 13.5, p90: 15.0, p99: 15.0, min: 12.0, max: 15.0}
    request_latency_ms:
      description: End-to-end request latency (ms).
      type: dict
      sample: {avg: 1943.6, p50: 1924.5, p90: 2145.0, p99: 2556.8, min: 1674.0, max: 2595.0}
    output_token_throughput_per_user:
      description: Output tokens/s seen by one request (tokens/s); V(null) when the run did not stream.
      type: dict
      sample: {avg: 74.6, p50: 74.1, p90: 83.3, p99: 83.3, min: 66.7, max: 83.3}
    output_token_throughput_per_s:
      description: Output tokens/s of the whole system.
      type: float
      sample: 3982.5
    request_throughput_per_s:
      description: Requests/s of the whole system.
      type: float
      sample: 31.1
    request_goodput_per_s:
      description: Requests/s that met every goodput threshold; V(null) when no thresholds were known.
      type: float
      sample: 28.68
    goodput_source:
      description: V(export) when the goodput is the tool's, V(computed) when this module computed it.
      type: str
      sample: export
    goodput_slos:
      description: The thresholds the goodput was computed with.
      type: dict
      sample: {time_to_first_token: 250.0, inter_token_latency: 15.0}
    input_sequence_length_avg:
      description: Mean input tokens per request.
      type: float
      sample: 128.0
    output_sequence_length_avg:
      description: Mean output tokens per request.
      type: float
      sample: 128.0
    source:
      description: The export file that was read.
      type: str
      sample: /results/c8/meta_llama-3.1-8b-instruct-openai-chat-concurrency8/profile_export_genai_perf.json
    not_streamed:
      description:
        - Why a run that asked for streaming measured no TTFT/ITL (its time to first token equals the request latency
          for every request, e.g. a non-streaming route); C(null) otherwise. The streaming metrics are then C(null),
          the report marks the run and no SLO gate is judged on them.
      type: str
      sample: null
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eks_llm.inference.plugins.module_utils.benchmark import BenchmarkError
from ansible_collections.eks_llm.inference.plugins.module_utils.benchmark import read_results


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            expected_model=dict(type="str"),
            goodput=dict(type="dict"),
        ),
        supports_check_mode=True,
    )
    try:
        metrics, warnings = read_results(module.params["path"], module.params["expected_model"],
                                         module.params["goodput"])
    except BenchmarkError as e:
        module.fail_json(msg=str(e))
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, path=metrics["source"], metrics=metrics)


if __name__ == "__main__":
    main()
