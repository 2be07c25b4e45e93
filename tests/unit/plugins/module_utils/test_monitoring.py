"""The observability object model: adapter rules, alert rules, dashboards, Helm values, and that they
wire up with the stand-in charts rendered by helm (the same values keys the upstream charts take)."""
import copy
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model
from ansible_collections.eks_llm.inference.plugins.module_utils import monitoring
from ansible_collections.eks_llm.inference.plugins.module_utils import wiring

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
CHARTS = os.path.join(REPO, "tests", "standin", "charts")
HELM = shutil.which("helm") or os.path.join(REPO, ".venv", "bin", "helm")

INVENTORY = {
    "eks_llm_name": "demo",
    "eks_llm_region": "us-west-2",
    "eks_llm_gpu_node_pools": [{"name": "g5", "instance_families": ["g5"]}, {"name": "g6", "instance_families": ["g6"]}],
    "eks_llm_models": [
        {"name": "llama3-8b", "engine": "nim_chart", "parameters_billion": 8, "node_pool": "g5", "namespace": "nim",
         "nim": {"image": "nvcr.io/nim/meta/llama3-8b-instruct", "tag": "1.0.3"}},
        {"name": "opt-350m", "engine": "triton_vllm", "parameters_billion": 0.35, "precision": "fp16", "node_pool": "g6",
         "vllm": {"model_id": "facebook/opt-350m"}},
    ],
    "eks_llm_ngc_api_key": "nvapi-test-key",
}


def config(**changes):
    given = copy.deepcopy(INVENTORY)
    given.update(changes)
    result, problems, dummy = inventory_model.validate(given)
    assert problems == []
    return result


def settings(cfg=None, **changes):
    """What the monitoring role passes to monitoring_plan (defaults/main.yml, from eks_llm)."""
    cfg = cfg or config()
    mon = cfg["monitoring"]
    result = {
        "labels": cfg["platform"]["labels"], "platform": cfg["platform"], "charts": cfg["charts"], "models": cfg["models"],
        "prometheus_retention": mon["prometheus_retention"], "prometheus_storage_size": mon["prometheus_storage_size"],
        "prometheus_storage_class": mon["prometheus_storage_class"], "grafana_enabled": mon["grafana_enabled"],
        "dcgm_exporter_enabled": mon["dcgm_exporter"], "alerts_enabled": mon["alerts"], "thresholds": mon["thresholds"],
        "region": cfg["region"], "log_group": "/aws/eks/%s/workloads" % cfg["name"],
        "service_account": cfg["service_accounts"]["fluent_bit"]["service_account"],
        "service_account_annotations": {}, "image": cfg["images"]["fluent_bit"],
    }
    result.update(changes)
    return result


# --- inventory --------------------------------------------------------------------------------------------

def test_monitoring_defaults_are_published():
    mon = config()["monitoring"]
    assert mon["enabled"] and mon["grafana_enabled"] and mon["dcgm_exporter"] and mon["alerts"]
    assert mon["prometheus_retention"] == "15d" and mon["prometheus_storage_size"] == "50Gi"
    cfg = config()
    assert mon["prometheus_storage_class"] == cfg["platform"]["block_storage_class"] == "gp3"
    assert "aws-ebs-csi-driver" in cfg["cluster"]["addons"]


def test_no_volume_means_no_storage_class():
    mon = config(eks_llm_monitoring={"prometheus_storage_size": ""})["monitoring"]
    assert mon["prometheus_storage_size"] == "" and mon["prometheus_storage_class"] == ""


def test_the_gp3_class_needs_the_ebs_csi_driver_add_on():
    given = copy.deepcopy(INVENTORY)
    given["eks_llm_cluster"] = {"addons": {"aws-ebs-csi-driver": None}}
    result, problems, dummy = inventory_model.validate(given)
    assert result is None
    assert any("eks_llm_monitoring.prometheus_storage_class" in p and "aws-ebs-csi-driver" in p for p in problems), problems
    # without a volume, or with a class of the user's, the add-on is not needed
    for monitoring_settings in ({"prometheus_storage_size": ""}, {"prometheus_storage_class": "io2-retain"}):
        given["eks_llm_monitoring"] = monitoring_settings
        result, problems, dummy = inventory_model.validate(given)
        assert problems == [] and "aws-ebs-csi-driver" not in result["cluster"]["addons"]


@pytest.mark.parametrize("changes, where", [
    ({"prometheus_retention": "15 days"}, "prometheus_retention"),
    ({"prometheus_storage_size": "50GB"}, "prometheus_storage_size"),
    ({"prometheus_storage_size": "", "prometheus_storage_class": "gp3"}, "prometheus_storage_class"),
    ({"thresholds": {"gpu_memory_used_ratio": 0.85}}, "gpu_memory_used_ratio"),
    ({"thresholds": {"error_ratio": 1.5}}, "error_ratio"),
    ({"thresholds": {"gpu_temperature_celsius": 200}}, "gpu_temperature_celsius"),
])
def test_bad_monitoring_settings_are_named(changes, where):
    given = copy.deepcopy(INVENTORY)
    given["eks_llm_monitoring"] = changes
    result, problems, dummy = inventory_model.validate(given)
    assert result is None
    assert any(("eks_llm_monitoring" in p and where in p) for p in problems), problems


def test_memory_threshold_must_exceed_what_the_engines_reserve():
    given = copy.deepcopy(INVENTORY)
    given["eks_llm_models"][0]["gpu_memory_utilization"] = 0.95
    given["eks_llm_monitoring"] = {"thresholds": {"gpu_memory_used_ratio": 0.95}}
    dummy, problems, dummy_warnings = inventory_model.validate(given)
    assert any("gpu_memory_used_ratio" in p and "0.95" in p for p in problems)


# --- adapter ----------------------------------------------------------------------------------------------

def test_adapter_exposes_exactly_the_platform_metrics_per_pod():
    cfg = config()
    rules = monitoring.adapter_rules(settings(cfg))
    names = sorted(r["name"]["as"] for r in rules)
    assert names == sorted(cfg["platform"]["autoscaling_metrics"].values())
    for rule in rules:
        assert rule["resources"]["overrides"] == {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
        assert "<<.LabelMatchers>>" in rule["metricsQuery"] and "<<.GroupBy>>" in rule["metricsQuery"]


def test_llm_waiting_rule_covers_nim_and_vllm_names():
    rule = [r for r in monitoring.adapter_rules(settings()) if r["name"]["as"] == "llm_requests_waiting"][0]
    pattern = re.compile("^%s$" % rule["name"]["matches"].strip("^$"))
    assert pattern.match("num_requests_waiting") and pattern.match("vllm:num_requests_waiting")
    assert not pattern.match("num_requests_running")


def test_triton_rule_is_requests_awaiting_their_first_token_not_tritons_queue_time():
    rule = [r for r in monitoring.adapter_rules(settings()) if r["name"]["as"] == "triton_requests_waiting"][0]
    assert rule["seriesQuery"] == 'vllm:time_to_first_token_seconds_sum{namespace!="",pod!=""}'
    assert re.fullmatch(rule["name"]["matches"], "vllm:time_to_first_token_seconds_sum")
    # Little's law: TTFT seconds accrued per second = mean requests before their first token; no division (no NaN when idle)
    assert rule["metricsQuery"] == "sum by (<<.GroupBy>>) (rate(vllm:time_to_first_token_seconds_sum{<<.LabelMatchers>>}[1m]))"
    assert "nv_inference" not in rule["metricsQuery"]  # the vLLM backend's requests pass Triton's queue at once


def test_adapter_values_point_at_the_prometheus_service():
    values = monitoring.prometheus_adapter_values(settings())
    assert values["prometheus"]["url"] == "http://kube-prometheus-stack-prometheus.monitoring.svc"
    assert values["prometheus"]["port"] == 9090 and values["rules"]["default"] is False


# --- Prometheus / Grafana values ----------------------------------------------------------------------------

def test_prometheus_selects_every_servicemonitor_and_rule_and_keeps_disk_headroom():
    spec = monitoring.kube_prometheus_stack_values(settings())["prometheus"]["prometheusSpec"]
    for kind in ("serviceMonitor", "podMonitor", "rule"):
        assert spec["%sSelectorNilUsesHelmValues" % kind] is False and spec["%sSelector" % kind] == {}
        assert spec["%sNamespaceSelector" % kind] == {}
    assert spec["retention"] == "15d"
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "50Gi"
    # the platform's gp3 class (EBS CSI driver): EKS 1.30+ has no default StorageClass to fall back on
    assert spec["storageSpec"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3"
    assert spec["retentionSize"] == "42GiB"


def test_an_empty_storage_class_means_the_cluster_default():
    cfg = config(eks_llm_monitoring={"prometheus_storage_class": ""})
    spec = monitoring.kube_prometheus_stack_values(settings(cfg))["prometheus"]["prometheusSpec"]
    assert "storageClassName" not in spec["storageSpec"]["volumeClaimTemplate"]["spec"]


@pytest.mark.parametrize("size, expected", [("50Gi", "42GiB"), ("1Gi", "870MiB"), ("2Ti", "1TiB"), ("", "")])
def test_retention_size(size, expected):
    assert monitoring.retention_size(size) == expected


def test_no_volume_without_size():
    spec = monitoring.kube_prometheus_stack_values(settings(prometheus_storage_size=""))["prometheus"]["prometheusSpec"]
    assert "storageSpec" not in spec and "retentionSize" not in spec


def test_grafana_uses_the_admin_secret_and_the_platform_dashboard_label():
    grafana = monitoring.kube_prometheus_stack_values(settings())["grafana"]
    assert grafana["admin"] == {"existingSecret": "grafana-admin", "userKey": "admin-user", "passwordKey": "admin-password"}
    assert grafana["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    assert grafana["sidecar"]["dashboards"]["labelValue"] == "1"
    assert "adminPassword" not in grafana


# --- DCGM ---------------------------------------------------------------------------------------------------

def test_dcgm_runs_on_every_gpu_node_and_its_monitor_selects_the_chart_service_labels():
    cfg = config()
    values = monitoring.dcgm_exporter_values(settings(cfg))
    assert values["nodeSelector"] == {cfg["platform"]["gpu_node_label"]: "true"}
    for pool in wiring.node_pools(cfg["platform"], cfg["gpu_node_pools"]):
        assert wiring.pod_fits(values, pool["labels"], pool["taints"])[0]
    monitor = monitoring.dcgm_service_monitor(settings(cfg))
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "dcgm-exporter",
                                                          "app.kubernetes.io/instance": "dcgm-exporter"}
    assert monitor["spec"]["endpoints"][0]["relabelings"][0]["targetLabel"] == "node"


def test_gpu_operator_mode_leaves_out_the_dcgm_release_and_monitor():
    plan = monitoring.plan(settings(dcgm_exporter_enabled=False))
    assert "dcgm-exporter" not in [r["key"] for r in plan["releases"]]
    assert not [o for o in plan["objects"] if o["kind"] == "ServiceMonitor"]
    assert plan["wiring"]["service_monitors"] == [] and plan["wiring"]["daemonsets"] == []


# --- alerts -------------------------------------------------------------------------------------------------

def _alerts(plan):
    rules = [o for o in plan["objects"] if o["kind"] == "PrometheusRule"]
    return dict((r["alert"], r) for o in rules for g in o["spec"]["groups"] for r in g["rules"])


def test_alerts_cover_gpu_and_inference_health_with_the_inventory_thresholds():
    cfg = config(eks_llm_monitoring={"thresholds": {"gpu_temperature_celsius": 80, "ttft_p99_seconds": 1.5}})
    alerts = _alerts(monitoring.plan(settings(cfg)))
    assert set(alerts) == {"GPUXidError", "GPUTemperatureHigh", "GPUMemoryNearlyFull", "LLMNoReadyReplica",
                           "LLMQueueGrowing", "TritonRequestsWaiting", "LLMHighErrorRate", "LLMTimeToFirstTokenHigh"}
    assert "DCGM_FI_DEV_XID_ERRORS" in alerts["GPUXidError"]["expr"]
    assert alerts["GPUTemperatureHigh"]["expr"].endswith("> 80")
    assert alerts["LLMTimeToFirstTokenHigh"]["expr"].endswith("> 1.5")
    assert 'namespace=~"llm|nim"' in alerts["LLMNoReadyReplica"]["expr"]
    assert 'deployment=~"llama3\\-8b|opt\\-350m"' in alerts["LLMNoReadyReplica"]["expr"]
    for alert in alerts.values():
        assert alert["labels"]["severity"] in ("warning", "critical") and alert["annotations"]["summary"]


def test_alerts_off_means_no_rules():
    plan = monitoring.plan(settings(alerts_enabled=False))
    assert not _alerts(plan) and plan["wiring"]["prometheus_rules"] == []


# --- dashboards ---------------------------------------------------------------------------------------------

def _exprs(board):
    return [t["expr"] for p in board["panels"] for t in p["targets"]]


def _names(expr):
    """Every metric name a query can match: literal names and {__name__=~"..."} alternatives expanded."""
    names = set(re.findall(r"\b((?:nv|DCGM|kube)_[A-Za-z0-9_]+)", expr))
    for pattern in re.findall(r'__name__=~"([^"]+)"', expr):
        names.add(pattern)
    return names


@pytest.mark.parametrize("name", [
    "num_requests_waiting", "vllm:num_requests_waiting", "num_requests_running", "vllm:num_requests_running",
    "gpu_cache_usage_perc", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc",
    "time_to_first_token_seconds_bucket", "vllm:time_to_first_token_seconds_bucket",
    "time_per_output_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket",
    "generation_tokens_total", "vllm:generation_tokens_total",
])
def test_llm_dashboard_matches_nim_and_vllm_names(name):
    patterns = [p for e in _exprs(monitoring.llm_dashboard()) for p in re.findall(r'__name__=~"([^"]+)"', e)]
    assert any(re.fullmatch(p, name) for p in patterns), name


def test_dashboards_show_what_the_issue_asks_for():
    gpu = " ".join(_exprs(monitoring.gpu_dashboard()))
    for metric in ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_GPU_TEMP"):
        assert metric in gpu
    assert "label_eks_llm_node_pool" in gpu and "node" in gpu
    triton = " ".join(_exprs(monitoring.triton_dashboard()))
    for metric in ("vllm:time_to_first_token_seconds_sum", "vllm:time_to_first_token_seconds_bucket", "nv_inference_queue_duration_us",
                   "nv_inference_compute_infer_duration_us", "nv_inference_request_success", "nv_inference_request_failure",
                   "nv_gpu_utilization"):
        assert metric in triton


def test_dashboard_configmaps_carry_the_sidecar_label_and_valid_json():
    cfg = config()
    maps = monitoring.dashboards(settings(cfg))
    assert len(maps) == 3
    uids = set()
    for item in maps:
        assert item["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert item["metadata"]["namespace"] == "monitoring"
        (key, text), = item["data"].items()
        board = json.loads(text)
        uids.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        for panel in board["panels"]:
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])
            assert panel["datasource"]["uid"] == "${datasource}"
    assert len(uids) == 3


# --- logging ------------------------------------------------------------------------------------------------

def test_fluent_bit_ships_to_our_log_group_with_pod_identity_on_gpu_nodes_too():
    cfg = config()
    values = monitoring.fluent_bit_values(settings(cfg))
    out = values["cloudWatchLogs"]
    assert out["logGroupName"] == "/aws/eks/demo/workloads" and out["region"] == "us-west-2"
    assert out["autoCreateGroup"] is False and out["logGroupTemplate"] == ""
    assert values["serviceAccount"] == {"create": True, "name": "fluent-bit", "annotations": {}}
    # the chart's own default (2.32.2.20240516) cannot read EKS Pod Identity credentials
    assert values["image"] == {"repository": "public.ecr.aws/aws-observability/aws-for-fluent-bit", "tag": "2.34.1.20251112"}
    for pool in wiring.node_pools(cfg["platform"], cfg["gpu_node_pools"]):
        assert wiring.pod_fits(values, pool["labels"], pool["taints"])[0]


# --- the stand-in charts, rendered by helm with our values, wire up -------------------------------------------

def helm_template(key, chart_dir, release, namespace, values, tmp_path):
    values_file = tmp_path / ("%s.yaml" % key)
    values_file.write_text(yaml.safe_dump(values))
    out = subprocess.run([HELM, "template", release, os.path.join(CHARTS, chart_dir), "-n", namespace, "-f", str(values_file)],
                         check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    for doc in docs:
        doc["metadata"].setdefault("namespace", namespace)
    return docs


class Cluster(object):
    """A read() over a list of objects, as wiring.check expects from the API server."""

    def __init__(self, objects):
        self.objects = objects

    def read(self, api_version, kind, namespace=None, name=None):
        return [o for o in self.objects if o["apiVersion"] == api_version and o["kind"] == kind
                and (namespace is None or o["metadata"].get("namespace") == namespace)
                and (name is None or o["metadata"]["name"] == name)]


STANDIN = {"kube-prometheus-stack": "kube-prometheus-stack", "dcgm-exporter": "dcgm-exporter",
           "prometheus-adapter": "prometheus-adapter", "fluent-bit": "aws-for-fluent-bit"}


def rendered_cluster(tmp_path, s):
    plan = monitoring.plan(s)
    objects = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": {}}}
               for n in ("monitoring", "gpu-system", "logging", "llm")]
    for release in plan["releases"] + monitoring.logging_plan(s)["releases"]:
        objects.extend(helm_template(release["key"], STANDIN[release["key"]], release["name"], release["namespace"],
                                     release["values"], tmp_path))
    objects.extend(plan["objects"])
    return plan, objects


def wiring_params(plan, cfg, **changes):
    params = dict(plan["wiring"], service_monitor_selector=plan["selector"],
                  node_pools=wiring.node_pools(cfg["platform"], cfg["gpu_node_pools"]))
    params.update(changes)
    return params


needs_helm = pytest.mark.skipif(not os.path.exists(HELM), reason="helm is installed by make setup")


@needs_helm
def test_standin_charts_with_our_values_are_wired(tmp_path):
    cfg = config()
    plan, objects = rendered_cluster(tmp_path, settings(cfg))
    problems, checked = wiring.check(wiring_params(plan, cfg), Cluster(objects).read)
    assert problems == []
    assert checked["service_monitors"] == {"gpu-system/dcgm-exporter": ["gpu-system/dcgm-exporter"]}
    assert checked["adapter_metrics"] == ["llm_requests_waiting", "triton_requests_waiting"]
    assert checked["prometheus"] == "monitoring/kube-prometheus-stack-prometheus"
    assert len(checked["prometheus_rules"]) == 2 and checked["daemonsets"] == ["gpu-system/dcgm-exporter"]
    kinds = set((o["apiVersion"], o["kind"]) for o in objects if o["metadata"].get("labels", {}).get("eks-llm/stand-in"))
    assert not [k for k in kinds if k[1] == "CustomResourceDefinition" or k[1] == "APIService"]


@needs_helm
def test_fluent_bit_standin_daemonset_lands_on_gpu_pools(tmp_path):
    cfg = config()
    s = settings(cfg)
    objects = [o for r in monitoring.logging_plan(s)["releases"]
               for o in helm_template(r["key"], STANDIN[r["key"]], r["name"], r["namespace"], r["values"], tmp_path)]
    params = {"daemonsets": monitoring.logging_plan(s)["daemonsets"], "node_pools": wiring.node_pools(cfg["platform"], cfg["gpu_node_pools"])}
    problems, checked = wiring.check(params, Cluster(objects).read)
    assert problems == [] and checked["daemonsets"] == ["logging/fluent-bit"]
    config_text = [o for o in objects if o["kind"] == "ConfigMap"][0]["data"]["fluent-bit.conf"]
    assert "log_group_name    /aws/eks/demo/workloads" in config_text and "log_group_template" not in config_text
    sa = [o for o in objects if o["kind"] == "ServiceAccount"][0]
    assert sa["metadata"]["name"] == "fluent-bit" and not sa["metadata"].get("annotations")


@needs_helm
def test_a_broken_label_is_reported_by_name(tmp_path):
    cfg = config()
    plan, objects = rendered_cluster(tmp_path, settings(cfg))
    service = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == "dcgm-exporter"][0]
    service["metadata"]["labels"]["app.kubernetes.io/name"] = "nvidia-dcgm-exporter"
    problems, dummy = wiring.check(wiring_params(plan, cfg), Cluster(objects).read)
    assert len(problems) == 1
    assert problems[0].startswith("ServiceMonitor gpu-system/dcgm-exporter selects no Service")
    assert "app.kubernetes.io/name=dcgm-exporter" in problems[0] and "gpu-system/dcgm-exporter" in problems[0]


@needs_helm
def test_default_chart_selectors_would_miss_our_monitors_and_rules(tmp_path):
    """With upstream's default (only release=kube-prometheus-stack), Prometheus ignores our objects: the check says so."""
    cfg = config()
    s = settings(cfg)
    plan, objects = rendered_cluster(tmp_path, s)
    prometheus = [o for o in objects if o["kind"] == "Prometheus"][0]
    prometheus["spec"]["serviceMonitorSelector"] = {"matchLabels": {"release": "kube-prometheus-stack"}}
    prometheus["spec"]["ruleSelector"] = {"matchLabels": {"release": "kube-prometheus-stack"}}
    problems, dummy = wiring.check(wiring_params(plan, cfg), Cluster(objects).read)
    assert any("does not pick up ServiceMonitor gpu-system/dcgm-exporter" in p and "release=kube-prometheus-stack" in p for p in problems)
    assert sum("does not pick up PrometheusRule" in p for p in problems) == 2


@needs_helm
def test_adapter_without_the_triton_metric_and_gpu_daemonset_without_toleration(tmp_path):
    cfg = config()
    plan, objects = rendered_cluster(tmp_path, settings(cfg))
    adapter = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "prometheus-adapter"][0]
    rules = yaml.safe_load(adapter["data"]["config.yaml"])
    rules["rules"][1]["name"]["as"] = "nv_inference_queue_duration_ms"
    adapter["data"]["config.yaml"] = yaml.safe_dump(rules)
    daemonset = [o for o in objects if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "dcgm-exporter"][0]
    daemonset["spec"]["template"]["spec"].pop("tolerations")
    problems, dummy = wiring.check(wiring_params(plan, cfg), Cluster(objects).read)
    assert any("exposes no rule for triton_requests_waiting" in p for p in problems)
    assert any("exposes nv_inference_queue_duration_ms, which no HPA" in p for p in problems)
    assert sum("DaemonSet gpu-system/dcgm-exporter cannot run on node pool" in p and "nvidia.com/gpu" in p for p in problems) == 2
