# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""helm_release_drift_info against a helm executable that answers like helm 3 from a recorded cluster state.

The fake helm is a real process (the module runs it through run_command, as it runs helm): it prints `helm list -o json`
and `helm get values -o json` the way helm does (null for a release without user-supplied values) and records every
command line, so the tests also see how many helm calls a pass costs.
"""
import json
import os
import stat
import sys

import pytest

from ansible_collections.eks_llm.inference.plugins.filter import helm_releases
from ansible_collections.eks_llm.inference.plugins.module_utils import helm_drift
from ansible_collections.eks_llm.inference.plugins.modules import helm_release_drift_info
from tests.unit.plugins.modules.utils import ModuleRunner

FAKE_HELM = r'''#!%(python)s
import json, re, sys
state = json.load(open(%(state)r))
with open(%(calls)r, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
args = sys.argv[1:]
def flag(name):
    return args[args.index(name) + 1] if name in args else None
if args[:1] == ["list"]:
    wanted = re.compile(flag("--filter") or ".*")
    print(json.dumps([dict((k, v) for k, v in r.items() if k != "values") for r in state
                      if wanted.search(r["name"]) and (r["status"] == "deployed" or "--all" in args)]))
elif args[:2] == ["get", "values"]:
    found = [r for r in state if r["name"] == args[2] and r["namespace"] == flag("--namespace")]
    if not found:
        sys.stderr.write("Error: release: not found\n")
        sys.exit(1)
    print(json.dumps(found[0].get("values")))
else:
    sys.stderr.write("unexpected helm call %%r\n" %% (args,))
    sys.exit(2)
'''

PROMETHEUS = {"name": "kube-prometheus-stack", "namespace": "monitoring", "chart_ref": "kube-prometheus-stack",
              "chart_version": "79.0.1", "chart_repo_url": "https://prometheus-community.github.io/helm-charts",
              "values": {"grafana": {"enabled": True}, "prometheus": {"retention": "15d"}}, "wait": True, "timeout": 600,
              "create_namespace": True}
KARPENTER = {"name": "karpenter", "namespace": "karpenter", "chart_ref": "oci://public.ecr.aws/karpenter/karpenter",
             "chart_version": "1.14.3", "values": {}}


def deployed(name, namespace, chart, values, status="deployed"):
    return {"name": name, "namespace": namespace, "revision": "1", "updated": "2026-12-04 10:00:00", "status": status,
            "chart": chart, "app_version": "1.0", "values": values}


@pytest.fixture
def helm(tmp_path):
    """A function (cluster state) -> (run(args) -> result or failure, calls())."""
    def make(state):
        (tmp_path / "state.json").write_text(json.dumps(state))
        binary = tmp_path / "helm"
        binary.write_text(FAKE_HELM % {"python": sys.executable, "state": str(tmp_path / "state.json"),
                                       "calls": str(tmp_path / "calls.log")})
        binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
        runner = ModuleRunner(helm_release_drift_info.main, binary_path=str(binary))

        def calls():
            if not os.path.exists(tmp_path / "calls.log"):
                return []
            return [json.loads(line) for line in (tmp_path / "calls.log").read_text().splitlines()]
        return runner, calls
    return make


def test_releases_as_deployed_do_not_drift_and_cost_one_list_plus_one_get_values_each(helm):
    run, calls = helm([deployed("kube-prometheus-stack", "monitoring", "kube-prometheus-stack-79.0.1", PROMETHEUS["values"]),
                       deployed("karpenter", "karpenter", "karpenter-1.14.3", None)])  # helm prints null: no values
    result = run({"releases": [PROMETHEUS, KARPENTER]})
    assert result["drifted"] == [] and [r["drift"] for r in result["releases"]] == [False, False]
    assert result["changed"] is False
    assert [c[:2] for c in calls()] == [["list", "--all-namespaces"], ["get", "values"], ["get", "values"]]
    assert calls()[0][calls()[0].index("--filter") + 1] == "^(karpenter|kube\\-prometheus\\-stack)$"


@pytest.mark.parametrize("change, reason", [
    ({"values": {"grafana": {"enabled": False}, "prometheus": {"retention": "15d"}}}, "values differ from the deployed release"),
    ({"values": {"grafana": {"enabled": True}}}, "values differ from the deployed release"),  # a value removed
    ({"chart_version": "79.1.0"}, "chart kube-prometheus-stack-79.0.1 deployed, kube-prometheus-stack-79.1.0 wanted"),
    ({"chart_ref": "https://example.com/charts/kube-prometheus-stack-79.0.1.tgz"},
     "chart https://example.com/charts/kube-prometheus-stack-79.0.1.tgz cannot be compared without fetching it"),
    ({"chart_version": ""}, "chart kube-prometheus-stack cannot be compared without fetching it"),
])
def test_a_release_drifts_when_its_chart_or_values_differ(helm, change, reason):
    run, dummy_calls = helm([deployed("kube-prometheus-stack", "monitoring", "kube-prometheus-stack-79.0.1", PROMETHEUS["values"])])
    result = run({"releases": [dict(PROMETHEUS, **change)]})
    assert result["drifted"] == ["monitoring/kube-prometheus-stack"]
    assert result["releases"][0]["reasons"] == [reason]
    assert "15d" not in json.dumps(result)  # values are never returned


def test_missing_failed_and_unwanted_releases_drift_and_a_release_elsewhere_is_not_ours(helm):
    run, dummy_calls = helm([deployed("karpenter", "kube-system", "karpenter-1.14.3", None),  # same name, other namespace
                             deployed("kube-prometheus-stack", "monitoring", "kube-prometheus-stack-79.0.1", PROMETHEUS["values"], "failed"),
                             deployed("nim-operator", "nim-operator", "k8s-nim-operator-v3.0.2", None, "pending-upgrade")])
    result = run({"releases": [KARPENTER, PROMETHEUS, {"name": "nim-operator", "namespace": "nim-operator", "state": "absent"},
                               {"name": "gpu-operator", "namespace": "gpu-system", "state": "absent"}]})
    reasons = dict((r["name"], r["reasons"]) for r in result["releases"])
    assert reasons == {"karpenter": ["not installed"], "kube-prometheus-stack": ["status failed, not deployed"],
                       "nim-operator": ["installed (status pending-upgrade) but wanted absent"], "gpu-operator": []}
    assert result["drifted"] == ["karpenter/karpenter", "monitoring/kube-prometheus-stack", "nim-operator/nim-operator"]


def test_a_chart_directory_is_compared_by_its_chart_yaml(helm, tmp_path):
    chart = tmp_path / "standin-chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: kube-prometheus-stack\nversion: 79.0.1-standin\n")
    run, dummy_calls = helm([deployed("kube-prometheus-stack", "monitoring", "kube-prometheus-stack-79.0.1-standin", {})])
    wanted = dict(PROMETHEUS, chart_ref=str(chart), chart_version="", values={})
    assert run({"releases": [wanted]})["drifted"] == []
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: kube-prometheus-stack\nversion: 79.0.2-standin\n")
    assert run({"releases": [wanted]})["releases"][0]["reasons"] == [
        "chart kube-prometheus-stack-79.0.1-standin deployed, kube-prometheus-stack-79.0.2-standin wanted"]


def test_a_present_release_needs_its_chart_and_a_helm_failure_fails_the_module(helm):
    run, dummy_calls = helm([])
    assert "chart_ref is required" in run.failing({"releases": [{"name": "x", "namespace": "y"}]})["msg"]
    run, dummy_calls = helm([deployed("karpenter", "karpenter", "karpenter-1.14.3", None)])
    with open(run.defaults["binary_path"]) as handle:
        broken = handle.read().replace('if args[:1] == ["list"]:', 'if args[:1] == ["list"]:\n    sys.exit(3)')
    with open(run.defaults["binary_path"], "w") as handle:
        handle.write(broken)
    assert "Failure when executing Helm command. Exited 3" in run.failing({"releases": [KARPENTER]})["msg"]


def test_all_releases_returns_every_release_as_a_digest_and_the_filters_agree_with_the_module(helm):
    nim = deployed("nim-operator", "nim-operator", "k8s-nim-operator-v3.0.2", {"operator": {"token": "s3cret"}})
    run, calls = helm([deployed("kube-prometheus-stack", "monitoring", "kube-prometheus-stack-79.0.1", PROMETHEUS["values"]),
                       deployed("karpenter", "karpenter", "karpenter-1.14.3", None), nim])
    result = run({"releases": [KARPENTER], "all_releases": True})
    assert sorted(result["deployed"]) == ["karpenter/karpenter", "monitoring/kube-prometheus-stack", "nim-operator/nim-operator"]
    assert result["deployed"]["karpenter/karpenter"]["values_digest"] == helm_drift.values_digest({})
    assert "s3cret" not in json.dumps(result) and "15d" not in json.dumps(result)
    # the whole cluster in one list, then one get values per release (any name, so no --filter)
    assert [c[:2] for c in calls()] == [["list", "--all-namespaces"]] + [["get", "values"]] * 3
    assert "--filter" not in calls()[0]
    # the play's later releases compared with that read give what the module gives for them
    later = [PROMETHEUS, dict(PROMETHEUS, name="other", values={"a": 1}), {"name": "nim-operator", "namespace": "nim-operator", "state": "absent"}]
    assert helm_releases.helm_release_drift(later, result["deployed"]) == run({"releases": later})["releases"]


def test_a_release_recorded_as_applied_no_longer_drifts_and_an_archive_always_does():
    record = {"nim-operator/nim-operator": {"chart": "k8s-nim-operator-v3.0.2", "status": "deployed", "values_digest": "x"}}
    archive = dict(KARPENTER, name="archived", chart_ref="https://example.com/charts/archived-1.0.0.tgz")
    applied = [PROMETHEUS, archive, {"name": "nim-operator", "namespace": "nim-operator", "state": "absent"}]
    after = helm_releases.helm_release_applied(record, applied)
    assert sorted(after) == ["karpenter/archived", "monitoring/kube-prometheus-stack"]
    assert [r["drift"] for r in helm_releases.helm_release_drift(applied, after)] == [False, True, False]
    assert record["nim-operator/nim-operator"]  # the earlier record is not changed in place


@pytest.mark.parametrize("wanted, deployed_values, same", [
    ({"replicas": 2.0}, {"replicas": 2}, True),  # helm gives JSON numbers back
    ({}, None, True),  # helm prints null for no values
    ({"a": {"b": [1, "x"]}}, {"a": {"b": [1, "x"]}}, True),
    ({"a": {"b": [1, "x"]}}, {"a": {"b": ["x", 1]}}, False),
    ({"enabled": True}, {"enabled": "true"}, False),
])
def test_values_are_compared_as_helm_stores_them(wanted, deployed_values, same):
    assert (helm_drift.values_digest(wanted) == helm_drift.values_digest(deployed_values)) is same
