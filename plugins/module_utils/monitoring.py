# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The observability layer as data: Helm values, ServiceMonitor, adapter rules, alert rules, dashboards.

Pure functions of the settings the ``monitoring`` and ``logging`` roles are given (their defaults read
the fact ``eks_llm``): no API calls, no secrets. The roles apply what these functions return; the
wiring check (``k8s_wiring_info``) is given the expectations computed here, so what is applied and
what is checked cannot drift apart.

Metric names differ between servers, and the queries cover all of them:

* NIM 1.x (vLLM V0 names, no prefix): ``num_requests_waiting``, ``gpu_cache_usage_perc``,
  ``time_to_first_token_seconds``, ``time_per_output_token_seconds``, ``request_failure_total`` ...
* vLLM V1 (``vllm:`` prefix): ``vllm:kv_cache_usage_perc``, ``vllm:inter_token_latency_seconds`` ...
* Triton: ``nv_inference_*`` and ``nv_gpu_*``; its vLLM backend adds ``vllm:*`` counters and histograms per model
  (labels ``model``, ``version``) - no gauges: no ``vllm:num_requests_waiting``, no KV-cache usage. Its requests pass
  through Triton's queue and "compute" at once (the backend's execute() hands them to vLLM and returns), so
  ``nv_inference_queue_duration_us`` / ``..._compute_infer_duration_us`` / ``nv_inference_pending_request_count`` stay near 0
  under any load; vLLM's queue shows in ``vllm:time_to_first_token_seconds``. The names the pinned image serves are kept
  in tests/upstream/triton_vllm_metrics.json, and a unit test checks every query below against them.
"""

import json
import re

LAYER_LABEL = "eks-llm/layer"
COMPONENT_LABEL = "app.kubernetes.io/component"
# The prometheus-operator's API: ServiceMonitor, PrometheusRule, Prometheus (wiring.py reads the same kinds).
MONITORING_API_VERSION = "monitoring.coreos.com/v1"
GRAFANA_ADMIN_SECRET = "grafana-admin"
GRAFANA_USER_KEY = "admin-user"
GRAFANA_PASSWORD_KEY = "admin-password"
PROMETHEUS_PORT = 9090
DCGM_PORT_NAME = "metrics"
# the node label kube-state-metrics exports for our pool label (kube_node_labels{label_eks_llm_node_pool=...})
NODE_LABELS_ALLOWLIST = ("eks-llm/gpu", "eks-llm/node-pool", "node.kubernetes.io/instance-type", "karpenter.sh/capacity-type")

# Series name patterns (PromQL regexes are anchored) that cover NIM 1.x, vLLM V1 and Triton's vLLM backend.
LLM = {
    "waiting": "(vllm:)?num_requests_waiting",
    "running": "(vllm:)?num_requests_running",
    "kv_cache": "(vllm:)?(gpu|kv)_cache_usage_perc",
    "ttft_bucket": "(vllm:)?time_to_first_token_seconds_bucket",
    "itl_bucket": "(vllm:)?(time_per_output_token|inter_token_latency)_seconds_bucket",
    "e2e_bucket": "(vllm:)?e2e_request_latency_seconds_bucket",
    "prompt_tokens": "(vllm:)?prompt_tokens_total",
    "generation_tokens": "(vllm:)?generation_tokens_total",
    "success": "(vllm:)?request_success_total",
    "failure": "(vllm:)?request_failure_total",
}

# Triton's vLLM backend: requests that arrived and have not got their first token yet, per pod, by Little's law (below)
TRITON_TTFT_SUM = "vllm:time_to_first_token_seconds_sum"
# the backend labels its series {model, version}; vLLM's own OpenAI server labels the same names {model_name}
TRITON_BACKEND_MATCHER = 'model!="",version!=""'


def triton_awaiting_first_token(matchers, by, window):
    """Mean number of requests waiting for their first token (vLLM's queue + prefill) over `window`.

    Little's law: requests spend TTFT seconds each before their first token, so the TTFT seconds accrued per second -
    the rate of the histogram's _sum - is the mean number of requests in that phase. TTFT runs from the request's
    arrival, so it includes the wait for a batch slot: the number rises with the backlog like num_requests_waiting,
    in the same unit (requests), which lets one HPA `target` mean the same for every engine. Chosen over the mean TTFT
    (a target in seconds, which depends on the prompt length) and over in-flight requests from the e2e latency (which
    grows with the output length when nothing waits). It counts a request when its first token leaves, so it lags a
    growing queue by about one TTFT."""
    return "sum by (%s) (rate(%s{%s}[%s]))" % (by, TRITON_TTFT_SUM, matchers, window)


def label_selector(labels):
    """'k=v,k2=v2' (sorted) for k8s_info and teardown."""
    return ",".join("%s=%s" % item for item in sorted(labels.items()))


def layer_labels(settings, layer, component=None):
    result = dict(settings["labels"])
    result[LAYER_LABEL] = layer
    if component:
        result[COMPONENT_LABEL] = component
    return result


def _meta(name, namespace, labels):
    return {"name": name, "namespace": namespace, "labels": labels}


def _series(pattern, matchers=""):
    return '{__name__=~"%s"%s}' % (pattern, ("," + matchers) if matchers else "")


# --- Helm values ---------------------------------------------------------------------------------------

def prometheus_service(settings):
    """Name, namespace and port of the Service kube-prometheus-stack puts in front of Prometheus."""
    chart = settings["charts"]["kube-prometheus-stack"]
    return {"name": "%s-prometheus" % _fullname(chart["release"], "kube-prometheus-stack"), "namespace": chart["namespace"],
            "port": PROMETHEUS_PORT}


def prometheus_url(settings):
    service = prometheus_service(settings)
    return "http://%s.%s.svc" % (service["name"], service["namespace"])


def _fullname(release, chart_name):
    """The charts' fullname rule: the release name when it contains the chart name, else release-chart."""
    return release if chart_name in release else "%s-%s" % (release, chart_name)


def retention_size(storage_size):
    """85% of the volume (Prometheus deletes old blocks before the disk is full): '50Gi' -> '42GiB'."""
    match = re.match(r"^([0-9]+)(Mi|Gi|Ti)$", storage_size or "")
    if not match:
        return ""
    number, unit = int(match.group(1)), match.group(2)
    scaled = number * 85 // 100
    if scaled == 0:
        smaller = {"Gi": "Mi", "Ti": "Gi"}.get(unit)
        return "%d%sB" % (number * 1024 * 85 // 100, smaller) if smaller else ""
    return "%d%sB" % (scaled, unit)


def kube_prometheus_stack_values(settings):
    """Prometheus (retention, volume, selectors that take every ServiceMonitor and rule), Grafana, kube-state-metrics."""
    spec = {
        "retention": settings["prometheus_retention"],
        # empty selectors with NilUsesHelmValues off select every ServiceMonitor/PodMonitor/rule in every namespace,
        # not only those labelled release=kube-prometheus-stack (the inference layer's live in the model namespaces)
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "serviceMonitorSelector": {},
        "serviceMonitorNamespaceSelector": {},
        "podMonitorSelectorNilUsesHelmValues": False,
        "podMonitorSelector": {},
        "podMonitorNamespaceSelector": {},
        "ruleSelectorNilUsesHelmValues": False,
        "ruleSelector": {},
        "ruleNamespaceSelector": {},
    }
    size = settings["prometheus_storage_size"]
    if size:
        claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
        if settings["prometheus_storage_class"]:
            claim["storageClassName"] = settings["prometheus_storage_class"]
        spec["storageSpec"] = {"volumeClaimTemplate": {"spec": claim}}
        spec["retentionSize"] = retention_size(size)
    grafana = {"enabled": bool(settings["grafana_enabled"])}
    if settings["grafana_enabled"]:
        dashboard_label = settings["platform"]["dashboard_label"]
        grafana.update({
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": GRAFANA_USER_KEY, "passwordKey": GRAFANA_PASSWORD_KEY},
            "sidecar": {"dashboards": {"enabled": True, "label": dashboard_label["key"], "labelValue": dashboard_label["value"],
                                       "searchNamespace": "ALL"}},
        })
    return {
        "prometheus": {"prometheusSpec": spec},
        "grafana": grafana,
        "kube-state-metrics": {"metricLabelsAllowlist": ["nodes=[%s]" % ",".join(NODE_LABELS_ALLOWLIST)]},
        # EKS runs these on its control plane, out of Prometheus' reach: their ServiceMonitors would select nothing
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
    }


def gpu_placement(settings):
    """nodeSelector and tolerations that put a DaemonSet on every GPU node (and on GPU nodes only)."""
    platform = settings["platform"]
    taint = platform["gpu_taint"]
    return {platform["gpu_node_label"]: "true"}, [{"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}]


def dcgm_service_labels(settings):
    """The labels the dcgm-exporter chart puts on its Service (name = chart name, instance = release)."""
    return {"app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": settings["charts"]["dcgm-exporter"]["release"]}


def dcgm_exporter_values(settings):
    node_selector, tolerations = gpu_placement(settings)
    return {
        "nodeSelector": node_selector,
        "tolerations": tolerations,
        # our ServiceMonitor (below) replaces the chart's: it adds the node label the dashboards join on
        "serviceMonitor": {"enabled": False},
    }


def adapter_rules(settings):
    """prometheus-adapter custom rules: exactly the per-pod metrics the models' HPAs name."""
    names = settings["platform"]["autoscaling_metrics"]
    per_pod = {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
    waiting = LLM["waiting"]
    return [
        {
            # NIM 1.x: num_requests_waiting; vLLM: vllm:num_requests_waiting
            "seriesQuery": _series(waiting, 'namespace!="",pod!=""'),
            "resources": {"overrides": per_pod},
            "name": {"matches": "^%s$" % waiting, "as": names["openai"]},
            "metricsQuery": "max by (<<.GroupBy>>) (%s)" % _series(waiting, "<<.LabelMatchers>>"),
        },
        {
            # Triton + vLLM backend: requests waiting for their first token per pod over the last minute (Little's law on
            # vllm:time_to_first_token_seconds, see triton_awaiting_first_token). Not Triton's queue/compute times: the
            # backend's execute() returns at once, so they stay near 0 whatever vLLM's backlog.
            "seriesQuery": '%s{namespace!="",pod!=""}' % TRITON_TTFT_SUM,
            "resources": {"overrides": per_pod},
            "name": {"matches": "^%s$" % TRITON_TTFT_SUM, "as": names["triton"]},
            "metricsQuery": triton_awaiting_first_token("<<.LabelMatchers>>", "<<.GroupBy>>", "1m"),
        },
    ]


def prometheus_adapter_values(settings):
    service = prometheus_service(settings)
    return {
        "prometheus": {"url": prometheus_url(settings), "port": service["port"], "path": ""},
        "rules": {"default": False, "custom": adapter_rules(settings)},
    }


def fluent_bit_values(settings):
    """aws-for-fluent-bit: container logs of every node (GPU nodes included) to the workload log group."""
    taint = settings["platform"]["gpu_taint"]
    repository, tag = settings["image"].rsplit(":", 1)
    return {
        "fullnameOverride": settings["service_account"],
        # the chart's default image predates EKS Pod Identity (workload_identity.WORKLOADS["fluent_bit"])
        "image": {"repository": repository, "tag": tag},
        # EKS Pod Identity: the association names this service account; IRSA: the annotation names the role
        "serviceAccount": {"create": True, "name": settings["service_account"],
                           "annotations": dict(settings.get("service_account_annotations") or {})},
        "cloudWatch": {"enabled": False},
        "cloudWatchLogs": {
            "enabled": True,
            "region": settings["region"],
            "logGroupName": settings["log_group"],
            # the chart's default template sends each namespace to its own group, which we neither own nor may write
            "logGroupTemplate": "",
            "logStreamPrefix": "fluentbit-",
            "logStreamTemplate": "$kubernetes['namespace_name'].$kubernetes['pod_name'].$kubernetes['container_name']",
            "autoCreateGroup": False,
        },
        "firehose": {"enabled": False},
        "kinesis": {"enabled": False},
        "elasticsearch": {"enabled": False},
        "tolerations": [{"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}],
    }


def _release(settings, key, values):
    chart = settings["charts"][key]
    return {
        "key": key,
        "name": chart["release"],
        "namespace": chart["namespace"],
        "chart_ref": chart["chart_ref"],
        "chart_repo_url": chart["repo_url"],
        "chart_version": chart["version"],
        "values": values,
    }


# --- our objects ---------------------------------------------------------------------------------------

def dcgm_service_monitor(settings):
    chart = settings["charts"]["dcgm-exporter"]
    return {
        "apiVersion": MONITORING_API_VERSION, "kind": "ServiceMonitor",
        "metadata": _meta("dcgm-exporter", chart["namespace"], layer_labels(settings, "monitoring", "dcgm-exporter")),
        "spec": {
            "selector": {"matchLabels": dcgm_service_labels(settings)},
            "namespaceSelector": {"matchNames": [chart["namespace"]]},
            "endpoints": [{
                "port": DCGM_PORT_NAME, "path": "/metrics", "interval": "15s",
                # DCGM's Hostname label is the exporter pod's name; the node is what dashboards and alerts need
                "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node", "action": "replace"}],
            }],
        },
    }


def _alert(name, expr, duration, severity, summary, description):
    return {"alert": name, "expr": expr, "for": duration, "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": description}}


def gpu_alerts(settings):
    limits = settings["thresholds"]
    memory_used = "DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)"
    return [
        _alert("GPUXidError", "DCGM_FI_DEV_XID_ERRORS > 0", "0m", "critical",
               "GPU {{ $labels.gpu }} on {{ $labels.node }} reported XID error {{ $value }}",
               "The driver reported an XID error (value = the last XID code). Codes 48, 63, 64, 74, 79, 94, 95 usually"
               " mean the GPU or node needs to be drained and replaced."),
        _alert("GPUTemperatureHigh", "DCGM_FI_DEV_GPU_TEMP > %d" % limits["gpu_temperature_celsius"], "10m", "warning",
               "GPU {{ $labels.gpu }} on {{ $labels.node }} at {{ $value }} C",
               "Above %d C for 10 minutes: the GPU throttles its clocks." % limits["gpu_temperature_celsius"]),
        _alert("GPUMemoryNearlyFull", "%s > %s" % (memory_used, limits["gpu_memory_used_ratio"]), "15m", "warning",
               "GPU {{ $labels.gpu }} on {{ $labels.node }}: {{ $value | humanizePercentage }} of its memory used",
               "More than the inference engines reserve (gpu_memory_utilization): another process uses the GPU,"
               " or a replica will fail to allocate."),
    ]


def _regex(values):
    return "|".join(re.escape(v) for v in sorted(set(values))) or "^$"


def inference_alerts(settings):
    limits = settings["thresholds"]
    models = settings["models"]
    namespaces = _regex(m["namespace"] for m in models)
    names = _regex(m["name"] for m in models)
    workload = 'namespace=~"%s"' % namespaces
    by = "namespace, service"
    openai_errors = ("sum by (%s) (rate(%s[5m])) / sum by (%s) (rate(%s[5m]))"
                     % (by, _series(LLM["failure"]), by, _series("(vllm:)?request_(success|failure)_total")))
    triton_errors = ("sum by (%s, model) (rate(nv_inference_request_failure[5m]))"
                     " / sum by (%s, model) (rate({__name__=~\"nv_inference_request_(success|failure)\"}[5m]))" % (by, by))
    waiting = "sum by (%s) (%s)" % (by, _series(LLM["waiting"]))
    triton_waiting = triton_awaiting_first_token(TRITON_BACKEND_MATCHER, by + ", model", "5m")
    return [
        _alert("LLMNoReadyReplica",
               "(kube_deployment_status_replicas_available{%s,deployment=~\"%s\"} == 0)"
               " or (kube_statefulset_status_replicas_ready{%s,statefulset=~\"%s\"} == 0)" % (workload, names, workload, names),
               "10m", "critical", "{{ $labels.namespace }}: model workload has no ready replica",
               "No replica has been ready for 10 minutes: the endpoint refuses every request."),
        _alert("LLMQueueGrowing",
               "(%s > %d) and on (%s) (sum by (%s) (deriv(%s[10m])) > 0)" % (waiting, limits["waiting_requests"], by, by, _series(LLM["waiting"])),
               "10m", "warning", "{{ $labels.namespace }}/{{ $labels.service }}: {{ $value }} requests waiting, and growing",
               "More than %d requests wait for a batch slot and the queue still grows: add replicas or GPUs."
               % limits["waiting_requests"]),
        _alert("TritonRequestsWaiting", "%s > %d" % (triton_waiting, limits["waiting_requests"]), "10m", "warning",
               "{{ $labels.namespace }}/{{ $labels.model }}: {{ $value | humanize }} requests waiting for their first token",
               "On average more than %d requests waited for their first token (vLLM's queue and prefill; the rate of"
               " vllm:time_to_first_token_seconds_sum over 5 minutes) for 10 minutes: add replicas or GPUs." % limits["waiting_requests"]),
        _alert("LLMHighErrorRate", "(%s > %s) or (%s > %s)" % (openai_errors, limits["error_ratio"], triton_errors, limits["error_ratio"]),
               "10m", "critical", "{{ $labels.namespace }}/{{ $labels.service }}: {{ $value | humanizePercentage }} of requests fail",
               "More than %s of the requests failed over 10 minutes." % limits["error_ratio"]),
        _alert("LLMTimeToFirstTokenHigh",
               "histogram_quantile(0.99, sum by (%s, le) (rate(%s[5m]))) > %s" % (by, _series(LLM["ttft_bucket"]), limits["ttft_p99_seconds"]),
               "10m", "warning", "{{ $labels.namespace }}/{{ $labels.service }}: TTFT p99 {{ $value | humanizeDuration }}",
               "The 99th percentile of the time to first token has been above %ss for 10 minutes." % limits["ttft_p99_seconds"]),
    ]


def prometheus_rules(settings):
    namespace = settings["charts"]["kube-prometheus-stack"]["namespace"]
    groups = (("gpu", "eks-llm-gpu", gpu_alerts(settings)), ("inference", "eks-llm-inference", inference_alerts(settings)))
    return [{
        "apiVersion": MONITORING_API_VERSION, "kind": "PrometheusRule",
        "metadata": _meta(name, namespace, layer_labels(settings, "monitoring", "alerts")),
        "spec": {"groups": [{"name": name, "rules": rules}]},
    } for dummy, name, rules in groups]


# --- dashboards ----------------------------------------------------------------------------------------

def _target(expr, legend, ref):
    return {"expr": expr, "legendFormat": legend, "refId": ref, "datasource": {"type": "prometheus", "uid": "${datasource}"}}


def _panel(index, title, targets, unit, description, kind="timeseries", width=12):
    x = 0 if width == 24 else (index % 2) * 12
    panel = {
        "id": index + 1, "type": kind, "title": title, "description": description,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": width, "x": x, "y": (index // 2) * 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]}},
        "targets": [_target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(targets)],
    }
    return panel


def _query_variable(name, label, query):
    return {"name": name, "label": label, "type": "query", "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": query, "refId": "%s-var" % name}, "definition": query, "refresh": 2,
            "includeAll": True, "multi": True, "allValue": ".*", "current": {"text": "All", "value": "$__all"}, "sort": 1}


def _dashboard(uid, title, tags, variables, panels):
    datasource = {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
                  "current": {"text": "Prometheus", "value": "prometheus"}}
    return {
        "uid": uid, "title": title, "tags": ["eks-llm"] + tags, "editable": False, "schemaVersion": 39,
        "time": {"from": "now-3h", "to": "now"}, "refresh": "30s", "timezone": "browser",
        "templating": {"list": [datasource] + variables},
        "panels": [_panel(i, *p) for i, p in enumerate(panels)],
    }


def gpu_dashboard():
    pool_join = ' * on (node) group_left (label_eks_llm_node_pool) kube_node_labels{label_eks_llm_node_pool=~"$pool"}'
    sel = 'node=~"$node"'

    def by_gpu(metric, scale=""):
        return ("%s{%s}%s" % (metric, sel, scale)) + pool_join

    def by_pool(metric, agg):
        return "%s by (label_eks_llm_node_pool) (%s{%s}%s)" % (agg, metric, sel, pool_join)

    gpu_legend = "{{node}} GPU {{gpu}} ({{label_eks_llm_node_pool}})"
    memory_ratio = "DCGM_FI_DEV_FB_USED{%s} / (DCGM_FI_DEV_FB_USED{%s} + DCGM_FI_DEV_FB_FREE{%s})" % (sel, sel, sel)
    panels = [
        ("GPU utilization per GPU", [(by_gpu("DCGM_FI_DEV_GPU_UTIL"), gpu_legend)], "percent",
         "DCGM_FI_DEV_GPU_UTIL: share of time a kernel ran, per GPU."),
        ("GPU utilization per pool", [(by_pool("DCGM_FI_DEV_GPU_UTIL", "avg"), "{{label_eks_llm_node_pool}}")], "percent",
         "Average over the GPUs of each Karpenter node pool."),
        ("GPU memory used per GPU", [("(%s)%s" % (memory_ratio, pool_join), gpu_legend)], "percentunit",
         "Frame buffer used / total. vLLM and NIM reserve gpu_memory_utilization of it at start-up."),
        ("GPU memory used per pool", [(by_pool("DCGM_FI_DEV_FB_USED", "sum") + " * 1048576", "{{label_eks_llm_node_pool}}")], "bytes",
         "Sum of the frame buffer in use on each node pool."),
        ("Power draw per GPU", [(by_gpu("DCGM_FI_DEV_POWER_USAGE"), gpu_legend)], "watt", "DCGM_FI_DEV_POWER_USAGE."),
        ("Power draw per pool", [(by_pool("DCGM_FI_DEV_POWER_USAGE", "sum"), "{{label_eks_llm_node_pool}}")], "watt",
         "Sum over the GPUs of each node pool."),
        ("Temperature per GPU", [(by_gpu("DCGM_FI_DEV_GPU_TEMP"), gpu_legend)], "celsius", "DCGM_FI_DEV_GPU_TEMP."),
        ("XID errors", [(by_gpu("DCGM_FI_DEV_XID_ERRORS"), gpu_legend)], "none",
         "Last XID error code per GPU (0 = none); an alert fires on any."),
        ("GPUs per node", [('count by (node, label_eks_llm_node_pool) (DCGM_FI_DEV_GPU_UTIL{%s}%s)' % (sel, pool_join),
                            "{{node}} ({{label_eks_llm_node_pool}})")], "none", "GPUs DCGM reports on each node."),
    ]
    variables = [
        _query_variable("pool", "Node pool", "label_values(kube_node_labels{label_eks_llm_gpu=\"true\"}, label_eks_llm_node_pool)"),
        _query_variable("node", "Node", "label_values(DCGM_FI_DEV_GPU_UTIL, node)"),
    ]
    return _dashboard("eks-llm-gpu", "EKS LLM / GPUs (DCGM)", ["gpu", "dcgm"], variables, panels)


def llm_dashboard():
    sel = 'namespace=~"$namespace",service=~"$service"'
    by = "namespace, service"
    legend = "{{namespace}}/{{service}}"

    def quantile(q, bucket):
        return "histogram_quantile(%s, sum by (%s, le) (rate(%s[$__rate_interval])))" % (q, by, _series(bucket, sel))

    def total_rate(pattern):
        return "sum by (%s) (rate(%s[$__rate_interval]))" % (by, _series(pattern, sel))

    panels = [
        ("Time to first token", [(quantile(0.5, LLM["ttft_bucket"]), "p50 " + legend), (quantile(0.99, LLM["ttft_bucket"]), "p99 " + legend)],
         "s", "time_to_first_token_seconds (NIM) / vllm:time_to_first_token_seconds: queueing + prefill."),
        ("Inter-token latency", [(quantile(0.5, LLM["itl_bucket"]), "p50 " + legend), (quantile(0.99, LLM["itl_bucket"]), "p99 " + legend)],
         "s", "time_per_output_token_seconds (NIM, Triton vLLM backend) / vllm:inter_token_latency_seconds (vLLM V1)."),
        ("Generated tokens per second", [(total_rate(LLM["generation_tokens"]), legend)], "short", "Output tokens per second."),
        ("Prompt tokens per second", [(total_rate(LLM["prompt_tokens"]), legend)], "short", "Prefill tokens per second."),
        ("KV cache usage", [("max by (%s) (%s)" % (by, _series(LLM["kv_cache"], sel)), legend)], "percentunit",
         "gpu_cache_usage_perc (NIM 1.x) / vllm:kv_cache_usage_perc (vLLM V1); 1 = full, requests get preempted."),
        ("Requests running and waiting", [("sum by (%s) (%s)" % (by, _series(LLM["running"], sel)), "running " + legend),
                                          ("sum by (%s) (%s)" % (by, _series(LLM["waiting"], sel)), "waiting " + legend)],
         "short", "num_requests_running / num_requests_waiting; waiting per pod drives the HPA (llm_requests_waiting)."),
        ("Request latency (end to end)", [(quantile(0.5, LLM["e2e_bucket"]), "p50 " + legend), (quantile(0.99, LLM["e2e_bucket"]), "p99 " + legend)],
         "s", "e2e_request_latency_seconds."),
        ("Finished and failed requests per second", [
            ("sum by (%s, finished_reason) (rate(%s[$__rate_interval]))" % (by, _series(LLM["success"], sel)), "{{finished_reason}} " + legend),
            (total_rate(LLM["failure"]), "failed " + legend)], "reqps", "request_success_total by finished_reason; request_failure_total (NIM)."),
    ]
    variables = [
        _query_variable("namespace", "Namespace", 'label_values({__name__=~"%s"}, namespace)' % LLM["running"]),
        _query_variable("service", "Service", 'label_values({__name__=~"%s",namespace=~"$namespace"}, service)' % LLM["running"]),
    ]
    return _dashboard("eks-llm-nim-vllm", "EKS LLM / NIM and vLLM", ["nim", "vllm"], variables, panels)


def triton_dashboard():
    sel = 'namespace=~"$namespace",model=~"$model"'
    by = "namespace, model"
    legend = "{{namespace}}/{{model}}"

    def rate(metric, extra_by=""):
        return "sum by (%s%s) (rate(%s{%s}[$__rate_interval]))" % (by, extra_by, metric, sel)

    def quantile(q, family):
        return "histogram_quantile(%s, sum by (%s, le) (rate(%s_bucket{%s}[$__rate_interval])))" % (q, by, family, sel)

    panels = [
        ("Requests waiting for their first token (autoscaling metric)", [
            (triton_awaiting_first_token(sel, "namespace, pod", "$__rate_interval"), "{{namespace}}/{{pod}}")], "short",
         "Rate of vllm:time_to_first_token_seconds_sum per pod = mean requests in vLLM's queue or prefill (Little's law), as"
         " prometheus-adapter computes the HPA's metric (over 1m). Triton's own queue time and pending count stay near 0 with"
         " the vLLM backend, which takes every request at once."),
        ("Time to first token", [(quantile(0.5, "vllm:time_to_first_token_seconds"), "p50 " + legend),
                                 (quantile(0.99, "vllm:time_to_first_token_seconds"), "p99 " + legend)], "s",
         "vllm:time_to_first_token_seconds: vLLM's queue + prefill."),
        ("Requests in flight", [(rate("vllm:e2e_request_latency_seconds_sum"), legend)], "short",
         "Rate of vllm:e2e_request_latency_seconds_sum = mean requests in the engine (Little's law), counted when they finish."),
        ("Generated tokens per second", [(rate("vllm:generation_tokens_total"), legend)], "short", "vllm:generation_tokens_total."),
        ("Triton queue and hand-off time per request", [
            ("%s / %s / 1000" % (rate("nv_inference_queue_duration_us"), rate("nv_inference_request_success")), "queue " + legend),
            ("%s / %s / 1000" % (rate("nv_inference_compute_infer_duration_us"), rate("nv_inference_request_success")), "hand-off " + legend)],
         "ms", "Triton's queue and compute time per request. With the vLLM backend they cover only the hand-off to vLLM (its"
         " execute() returns at once): near 0 unless Triton's Python backend itself is stuck. Not a load signal."),
        ("Requests handed to vLLM and failed per second", [
            (rate("nv_inference_request_success"), "handed over " + legend),
            (rate("nv_inference_request_failure", ", reason"), "failure {{reason}} " + legend)], "reqps",
         "nv_inference_request_success counts a request when the backend has taken it (before it is generated);"
         " nv_inference_request_failure by reason."),
        ("GPU utilization", [('max by (namespace, pod, gpu_uuid) (nv_gpu_utilization{namespace=~"$namespace"})', "{{pod}} {{gpu_uuid}}")],
         "percentunit", "nv_gpu_utilization reported by Triton (--allow-gpu-metrics)."),
        ("GPU memory used", [('max by (namespace, pod, gpu_uuid) (nv_gpu_memory_used_bytes{namespace=~"$namespace"})', "{{pod}} {{gpu_uuid}}")],
         "bytes", "nv_gpu_memory_used_bytes."),
        ("GPU power", [('max by (namespace, pod, gpu_uuid) (nv_gpu_power_usage{namespace=~"$namespace"})', "{{pod}} {{gpu_uuid}}")],
         "watt", "nv_gpu_power_usage."),
    ]
    variables = [
        _query_variable("namespace", "Namespace", "label_values(nv_inference_count, namespace)"),
        _query_variable("model", "Model", 'label_values(nv_inference_count{namespace=~"$namespace"}, model)'),
    ]
    return _dashboard("eks-llm-triton", "EKS LLM / Triton", ["triton"], variables, panels)


def dashboards(settings):
    """The dashboards as ConfigMaps Grafana's sidecar loads (label from eks_llm.platform.dashboard_label)."""
    namespace = settings["charts"]["kube-prometheus-stack"]["namespace"]
    label = settings["platform"]["dashboard_label"]
    result = []
    for board in (gpu_dashboard(), llm_dashboard(), triton_dashboard()):
        labels = layer_labels(settings, "monitoring", "dashboard")
        labels[label["key"]] = label["value"]
        result.append({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": _meta("%s-dashboard" % board["uid"], namespace, labels),
            "data": {"%s.json" % board["uid"]: json.dumps(board, sort_keys=True, indent=1)},
        })
    return result


# --- the plan the roles apply ---------------------------------------------------------------------------

def plan(settings):
    """What the monitoring role applies, in order, and what its wiring check expects."""
    monitoring_namespace = settings["charts"]["kube-prometheus-stack"]["namespace"]
    releases = [_release(settings, "kube-prometheus-stack", kube_prometheus_stack_values(settings))]
    objects = []
    service_monitors = []
    daemonsets = []
    if settings["dcgm_exporter_enabled"]:
        releases.append(_release(settings, "dcgm-exporter", dcgm_exporter_values(settings)))
        monitor = dcgm_service_monitor(settings)
        objects.append(monitor)
        service_monitors.append({"namespace": monitor["metadata"]["namespace"], "name": monitor["metadata"]["name"]})
        daemonsets.append({"namespace": settings["charts"]["dcgm-exporter"]["namespace"], "label_selector": label_selector(dcgm_service_labels(settings)),
                           "gpu_nodes_only": True})
    releases.append(_release(settings, "prometheus-adapter", prometheus_adapter_values(settings)))
    if settings["grafana_enabled"]:
        objects.extend(dashboards(settings))
    rules = prometheus_rules(settings) if settings["alerts_enabled"] else []
    objects.extend(rules)
    adapter = settings["charts"]["prometheus-adapter"]
    return {
        "namespaces": [{"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": monitoring_namespace, "labels": layer_labels(settings, "monitoring")}}],
        "releases": releases,
        "objects": objects,
        "selector": label_selector(layer_labels(settings, "monitoring")),
        "wiring": {
            "service_monitors": service_monitors,
            "prometheus_rules": [{"namespace": r["metadata"]["namespace"], "name": r["metadata"]["name"]} for r in rules],
            "prometheus": {"namespace": monitoring_namespace, "name": prometheus_service(settings)["name"]},
            "services": [dict(prometheus_service(settings), purpose="prometheus-adapter's Prometheus URL")],
            "adapter": {"namespace": adapter["namespace"], "name": _fullname(adapter["release"], "prometheus-adapter"),
                        "metrics": sorted(settings["platform"]["autoscaling_metrics"].values())},
            "daemonsets": daemonsets,
        },
    }


def logging_plan(settings):
    chart = settings["charts"]["fluent-bit"]
    return {
        "namespaces": [{"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": chart["namespace"], "labels": layer_labels(settings, "logging")}}],
        "releases": [_release(settings, "fluent-bit", fluent_bit_values(settings))],
        "daemonsets": [{"namespace": chart["namespace"], "label_selector": "app.kubernetes.io/name=aws-for-fluent-bit",
                        "gpu_nodes_only": False}],
    }
