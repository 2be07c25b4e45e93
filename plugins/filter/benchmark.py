# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters of the benchmark role: the sweep planned into runs, a run as a Kubernetes Job, its export read back
from the Job's log, and the parsed runs labelled for benchmark_report."""

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_llm.inference.plugins.module_utils import benchmark_plan
from ansible_collections.eks_llm.inference.plugins.module_utils import cost_estimate


def benchmark_runs(bench, runs_dir, run_id):
    """eks_llm.benchmark -> [{model, engine, namespace, profile, concurrency, argv, env, job_name, export_file, ...}]."""
    return benchmark_plan.plan_runs(bench, runs_dir, run_id)


def benchmark_image(config):
    """The pinned image of the in-cluster benchmark Jobs (see benchmark_plan.job_image)."""
    return benchmark_plan.job_image(config)


def benchmark_job(run, settings):
    """One run -> its batch/v1 Job (see benchmark_plan.job_manifest for ``settings``)."""
    return benchmark_plan.job_manifest(run, settings)


def benchmark_collected(runs, logs):
    """Runs and the logs of their Jobs (same order) -> [{run, export}], export None when the Job printed none."""
    if len(runs) != len(logs):
        raise AnsibleFilterError("benchmark_collected: %d runs but %d logs" % (len(runs), len(logs)))
    return [{"run": run, "export": benchmark_plan.export_from_log(log)} for run, log in zip(runs, logs)]


def benchmark_missing(collected, job_states):
    """Lines naming every run whose Job printed no export, with how the Job ended."""
    lines = []
    for item, state in zip(collected, job_states):
        if item["export"] is None:
            run = item["run"]
            lines.append("%s/%s (model %s, profile %s, concurrency %d): %s, and no export between %s and %s in its log"
                         % (run["namespace"], run["job_name"], run["model"], run["profile"], run["concurrency"], state,
                            benchmark_plan.EXPORT_BEGIN, benchmark_plan.EXPORT_END))
    return lines


def benchmark_job_state(job):
    """A Job object -> 'Complete', 'Failed: <reason>' or 'not finished'."""
    for condition in ((job or {}).get("status") or {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Complete", "Failed"):
            if condition["type"] == "Failed":
                return "Failed: %s" % (condition.get("reason") or condition.get("message") or "unknown")
            return "Complete"
    return "not finished"


def benchmark_results(runs, parsed):
    """Runs and benchmark_results_info's registered results (same order) -> results for benchmark_report."""
    if len(runs) != len(parsed):
        raise AnsibleFilterError("benchmark_results: %d runs but %d parsed exports" % (len(runs), len(parsed)))
    results = []
    for run, result in zip(runs, parsed):
        if "metrics" not in result:
            raise AnsibleFilterError("benchmark_results: no metrics for %s/%s c%d" % (run["model"], run["profile"], run["concurrency"]))
        results.append({"model": run["model"], "engine": run["engine"], "profile": run["profile"],
                        "concurrency": run["concurrency"], "metrics": result["metrics"]})
    return results


def benchmark_costs(models, estimate):
    """Per model, the nodes its minimum replicas take and their USD per hour, from the preflight estimate's priced pools (preflight_cost); [] without one.

    The benchmark report turns them and the measured output tokens per second into USD per million output tokens.
    """
    return cost_estimate.serving_costs(models, (estimate or {}).get("pools") or [])


class FilterModule(object):
    def filters(self):
        return {
            "benchmark_runs": benchmark_runs,
            "benchmark_image": benchmark_image,
            "benchmark_job": benchmark_job,
            "benchmark_collected": benchmark_collected,
            "benchmark_missing": benchmark_missing,
            "benchmark_job_state": benchmark_job_state,
            "benchmark_results": benchmark_results,
            "benchmark_costs": benchmark_costs,
        }
