"""Filters of the benchmark role: Job outcome, exports matched to runs, runs labelled for the report."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.eks_llm.inference.plugins.filter import benchmark
from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark_plan

RUN = {"model": "opt-350m", "engine": "triton_vllm", "profile": "isl128-osl128", "concurrency": 8, "namespace": "llm", "job_name": "llm-bench-x-0"}


def test_job_state():
    assert benchmark.benchmark_job_state({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}) == "Complete"
    assert benchmark.benchmark_job_state({"status": {"conditions": [
        {"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]}}) == "Failed: DeadlineExceeded"
    assert benchmark.benchmark_job_state({"status": {"active": 1}}) == "not finished"


def test_missing_exports_name_the_job_and_how_it_ended():
    log = "%s\n{\"a\": 1}\n%s\n" % (benchmark_plan.EXPORT_BEGIN, benchmark_plan.EXPORT_END)
    collected = benchmark.benchmark_collected([RUN, dict(RUN, concurrency=16, job_name="llm-bench-x-1")], [log, ""])
    assert collected[0]["export"] == '{"a": 1}\n' and collected[1]["export"] is None
    lines = benchmark.benchmark_missing(collected, ["Complete", "Complete"])
    assert lines == ["llm/llm-bench-x-1 (model opt-350m, profile isl128-osl128, concurrency 16): Complete, and no export between "
                     "EKS_LLM_BENCHMARK_EXPORT_BEGIN and EKS_LLM_BENCHMARK_EXPORT_END in its log"]
    with pytest.raises(AnsibleFilterError):
        benchmark.benchmark_collected([RUN], [])


def test_results_for_the_report():
    results = benchmark.benchmark_results([RUN], [{"metrics": {"concurrency": 8}, "item": RUN}])
    assert results == [{"model": "opt-350m", "engine": "triton_vllm", "profile": "isl128-osl128", "concurrency": 8,
                        "metrics": {"concurrency": 8}}]
    with pytest.raises(AnsibleFilterError, match="no metrics for opt-350m/isl128-osl128 c8"):
        benchmark.benchmark_results([RUN], [{"failed": True}])
