# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Wiring checks: do the objects we applied actually reach each other?

A ServiceMonitor whose selector matches no Service, a Prometheus that does not select our
ServiceMonitors or rules, an adapter without the metric an HPA asks for, a GPU DaemonSet that
cannot land on a GPU pool: the API server accepts all of these, and nothing fails until someone
looks at an empty dashboard. These functions resolve the selectors against what the cluster
holds and describe every mismatch: which object, what it asked for, what was there.

``read(api_version, kind, namespace=None, name=None)`` returns a list of objects (dicts); the
module passes a Kubernetes client, the unit tests a list of objects. It raises ``KindNotServed``
when the API server does not serve the kind.
"""

import re

from ansible_collections.eks_llm.inference.plugins.module_utils.monitoring import MONITORING_API_VERSION

try:
    import yaml

    HAS_YAML = True
    YAMLError = yaml.YAMLError
except ImportError:  # PyYAML comes with ansible-core; guarded for ansible-test's bare import check
    HAS_YAML = False
    YAMLError = ValueError

MAX_LISTED = 8


class KindNotServed(Exception):
    """The API server does not serve this kind (its CRD is not installed)."""


def _labels(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def _ref(obj):
    meta = obj.get("metadata") or {}
    return "%s/%s" % (meta.get("namespace"), meta.get("name")) if meta.get("namespace") else meta.get("name")


def _fmt_labels(labels):
    return "{%s}" % ", ".join("%s=%s" % item for item in sorted((labels or {}).items()))


def _fmt_selector(selector):
    if selector is None:
        return "<none>"
    parts = ["%s=%s" % item for item in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        parts.append("%s %s (%s)" % (expression.get("key"), expression.get("operator"), ", ".join(expression.get("values") or [])))
    return "{%s}" % ", ".join(parts) if parts else "{} (everything)"


def selector_matches(selector, labels):
    """A metav1.LabelSelector against labels: {} matches everything, None nothing."""
    if selector is None:
        return False
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def parse_selector_string(text):
    """'a=b,c=d' (equality only, as our roles write them) -> matchLabels selector."""
    match = {}
    for part in [p for p in (text or "").split(",") if p.strip()]:
        key, dummy, value = part.partition("=")
        match[key.strip()] = value.strip()
    return {"matchLabels": match}


def monitor_namespaces(monitor, all_namespaces):
    """Namespaces a ServiceMonitor looks in: any, matchNames, or (default) its own."""
    selector = (monitor.get("spec") or {}).get("namespaceSelector") or {}
    if selector.get("any"):
        return sorted(all_namespaces)
    if selector.get("matchNames"):
        return list(selector["matchNames"])
    return [monitor["metadata"]["namespace"]]


def _port_matches(endpoint, service):
    ports = (service.get("spec") or {}).get("ports") or []
    if endpoint.get("port"):
        return any(p.get("name") == endpoint["port"] for p in ports), "port named %r" % endpoint["port"]
    if endpoint.get("targetPort") is not None:
        wanted = endpoint["targetPort"]
        return any(p.get("targetPort", p.get("port")) == wanted for p in ports), "targetPort %r" % (wanted,)
    return False, "an endpoint without port or targetPort"


def _fmt_ports(service):
    ports = (service.get("spec") or {}).get("ports") or []
    return ", ".join("%s:%s" % (p.get("name") or "<unnamed>", p.get("port")) for p in ports) or "none"


def check_service_monitor(monitor, read, all_namespaces):
    """Problems of one ServiceMonitor: it selects no Service, or a selected Service lacks an endpoint's port."""
    problems = []
    spec = monitor.get("spec") or {}
    selector = spec.get("selector")
    namespaces = monitor_namespaces(monitor, all_namespaces)
    candidates = []
    for namespace in namespaces:
        candidates.extend(read("v1", "Service", namespace=namespace))
    selected = [s for s in candidates if selector_matches(selector, _labels(s))]
    where = "ServiceMonitor %s" % _ref(monitor)
    if not selected:
        seen = "; ".join("%s %s" % (_ref(s), _fmt_labels(_labels(s))) for s in candidates[:MAX_LISTED]) or "no Services at all"
        if len(candidates) > MAX_LISTED:
            seen += "; ... (%d Services)" % len(candidates)
        problems.append("%s selects no Service: selector %s in namespace(s) %s matches none of: %s"
                        % (where, _fmt_selector(selector), ", ".join(namespaces), seen))
        return problems, []
    for service in selected:
        for endpoint in spec.get("endpoints") or []:
            found, wanted = _port_matches(endpoint, service)
            if not found:
                problems.append("%s selects Service %s, which has no %s (its ports: %s)"
                                % (where, _ref(service), wanted, _fmt_ports(service)))
    return problems, [_ref(s) for s in selected]


def prometheus_selects(prometheus, selector_field, namespace_selector_field, obj, namespace_labels):
    """Whether a Prometheus CR picks up a ServiceMonitor/PrometheusRule (nil selector = nothing, nil namespace selector = own)."""
    spec = prometheus.get("spec") or {}
    if not selector_matches(spec.get(selector_field), _labels(obj)):
        return False, "its %s %s does not match the labels %s" % (selector_field, _fmt_selector(spec.get(selector_field)), _fmt_labels(_labels(obj)))
    namespace = obj["metadata"]["namespace"]
    namespace_selector = spec.get(namespace_selector_field)
    if namespace_selector is None:
        if namespace != prometheus["metadata"]["namespace"]:
            return False, "its %s is not set, so it only looks in %s" % (namespace_selector_field, prometheus["metadata"]["namespace"])
        return True, ""
    if not selector_matches(namespace_selector, namespace_labels.get(namespace) or {}):
        return False, "its %s %s does not match namespace %s %s" % (namespace_selector_field, _fmt_selector(namespace_selector),
                                                                    namespace, _fmt_labels(namespace_labels.get(namespace)))
    return True, ""


def tolerates(tolerations, taint):
    for toleration in tolerations or []:
        if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
            continue
        if not toleration.get("key"):
            if toleration.get("operator") == "Exists":
                return True
            continue
        if toleration["key"] != taint["key"]:
            continue
        if toleration.get("operator") == "Exists" or toleration.get("value", "") == taint.get("value", ""):
            return True
    return False


def _node_affinity_matches(pod_spec, labels):
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    return any(selector_matches({"matchExpressions": term.get("matchExpressions") or []}, labels) for term in terms)


def pod_fits(pod_spec, labels, taints):
    """Whether a pod template may land on a node with these labels and taints; else why not."""
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False, "nodeSelector %s=%s (the node has %s)" % (key, value, _fmt_labels(labels))
    if not _node_affinity_matches(pod_spec, labels):
        return False, "its required node affinity does not match %s" % _fmt_labels(labels)
    for taint in taints or []:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod_spec.get("tolerations"), taint):
            return False, "no toleration for taint %s=%s:%s" % (taint["key"], taint.get("value", ""), taint["effect"])
    return True, ""


def check_daemonsets(wanted, read, node_pools):
    """Every DaemonSet must land on every GPU pool; gpu_nodes_only ones must stay off nodes without the GPU labels."""
    problems = []
    checked = []
    for entry in wanted:
        name = entry.get("name")
        found = read("apps/v1", "DaemonSet", namespace=entry["namespace"], name=name) if name else \
            [d for d in read("apps/v1", "DaemonSet", namespace=entry["namespace"])
             if selector_matches(parse_selector_string(entry.get("label_selector")), _labels(d))]
        if not found:
            problems.append("DaemonSet %s in namespace %s does not exist" % (name or "with labels %s" % entry.get("label_selector"),
                                                                             entry["namespace"]))
            continue
        for daemonset in found:
            pod_spec = ((daemonset.get("spec") or {}).get("template") or {}).get("spec") or {}
            for pool in node_pools:
                fits, why = pod_fits(pod_spec, pool.get("labels") or {}, pool.get("taints") or [])
                if not fits:
                    problems.append("DaemonSet %s cannot run on node pool %s: %s" % (_ref(daemonset), pool["name"], why))
            if entry.get("gpu_nodes_only"):
                fits, dummy = pod_fits(pod_spec, {}, [])
                if fits:
                    problems.append("DaemonSet %s would also run on nodes without GPUs: it needs a nodeSelector on the GPU node label"
                                    % _ref(daemonset))
            checked.append(_ref(daemonset))
    return problems, checked


def adapter_metrics(config_text):
    """Metric names the prometheus-adapter configuration exposes (custom rules' name.as)."""
    if not HAS_YAML:
        raise ValueError("the PyYAML library is required to read the prometheus-adapter configuration")
    config = yaml.safe_load(config_text or "") or {}
    return sorted(set((rule.get("name") or {}).get("as") or "" for rule in config.get("rules") or []) - set([""]))


def rules_that_cannot_name(config_text):
    """Custom rules whose name.matches does not match the series their seriesQuery names: prometheus-adapter skips every
    such series ("did not match expected pattern"), so the rule's metric never exists. Only literal series names are judged."""
    config = yaml.safe_load(config_text or "") or {}
    problems = []
    for rule in config.get("rules") or []:
        series = re.match(r"\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(\{|$)", rule.get("seriesQuery") or "")
        matches = (rule.get("name") or {}).get("matches") or ""
        if series and matches and not re.search(matches, series.group(1)):
            problems.append("rule %s: name.matches %r does not match its series %s, so the adapter never serves it"
                            % ((rule.get("name") or {}).get("as") or "<unnamed>", matches, series.group(1)))
    return problems


def check_adapter(adapter, read):
    problems = []
    found = read("v1", "ConfigMap", namespace=adapter["namespace"], name=adapter["name"])
    where = "prometheus-adapter ConfigMap %s/%s" % (adapter["namespace"], adapter["name"])
    if not found:
        return ["%s does not exist (is the prometheus-adapter release installed?)" % where], []
    data = (found[0].get("data") or {}).get(adapter.get("data_entry") or "config.yaml")
    if data is None:
        return ["%s has no key %s" % (where, adapter.get("data_entry") or "config.yaml")], []
    try:
        exposed = adapter_metrics(data)
        problems.extend("%s: %s" % (where, problem) for problem in rules_that_cannot_name(data))
    except (ValueError, YAMLError) as error:
        return ["%s: config.yaml could not be read (%s)" % (where, error)], []
    wanted = sorted(set(adapter["metrics"]))
    missing = [m for m in wanted if m not in exposed]
    extra = [m for m in exposed if m not in wanted]
    if missing:
        problems.append("%s exposes no rule for %s, which the models' HPAs use (it exposes: %s)"
                        % (where, ", ".join(missing), ", ".join(exposed) or "nothing"))
    if extra:
        problems.append("%s exposes %s, which no HPA of the inference layer uses (expected exactly: %s)"
                        % (where, ", ".join(extra), ", ".join(wanted)))
    return problems, exposed


def check_services(wanted, read):
    problems = []
    for entry in wanted:
        found = read("v1", "Service", namespace=entry["namespace"], name=entry["name"])
        what = " (%s)" % entry["purpose"] if entry.get("purpose") else ""
        if not found:
            problems.append("Service %s/%s%s does not exist" % (entry["namespace"], entry["name"], what))
        elif entry.get("port") and not any(p.get("port") == entry["port"] for p in found[0]["spec"].get("ports") or []):
            problems.append("Service %s/%s%s has no port %s (its ports: %s)"
                            % (entry["namespace"], entry["name"], what, entry["port"], _fmt_ports(found[0])))
    return problems


def _read_named(read, kind, refs, label_selector):
    """The ServiceMonitors/PrometheusRules to check: named ones (each must exist) plus those matching a label selector."""
    problems, objects, seen = [], [], set()
    for ref in refs:
        found = read(MONITORING_API_VERSION, kind, namespace=ref["namespace"], name=ref["name"])
        if not found:
            problems.append("%s %s/%s does not exist" % (kind, ref["namespace"], ref["name"]))
        for obj in found:
            seen.add(_ref(obj))
            objects.append(obj)
    if label_selector:
        selector = parse_selector_string(label_selector)
        for obj in read(MONITORING_API_VERSION, kind):
            if _ref(obj) not in seen and selector_matches(selector, _labels(obj)):
                objects.append(obj)
    return problems, objects


def check(params, read):
    """All checks the parameters ask for. Returns (problems, checked) - checked says what was looked at."""
    problems = []
    checked = {}
    try:
        namespaces = read("v1", "Namespace")
        namespace_labels = dict((n["metadata"]["name"], _labels(n)) for n in namespaces)
        monitor_problems, monitors = _read_named(read, "ServiceMonitor", params.get("service_monitors") or [],
                                                 params.get("service_monitor_selector"))
        problems.extend(monitor_problems)
        rule_problems, rules = _read_named(read, "PrometheusRule", params.get("prometheus_rules") or [],
                                           params.get("prometheus_rule_selector"))
        problems.extend(rule_problems)
        checked["service_monitors"] = {}
        for monitor in monitors:
            found, selected = check_service_monitor(monitor, read, namespace_labels.keys())
            problems.extend(found)
            checked["service_monitors"][_ref(monitor)] = selected
        prometheus_ref = params.get("prometheus")
        if prometheus_ref:
            found = read(MONITORING_API_VERSION, "Prometheus", namespace=prometheus_ref["namespace"], name=prometheus_ref["name"])
            if not found:
                problems.append("Prometheus %s/%s does not exist (is the kube-prometheus-stack release installed?)"
                                % (prometheus_ref["namespace"], prometheus_ref["name"]))
            else:
                for kind, objects, fields in (("ServiceMonitor", monitors, ("serviceMonitorSelector", "serviceMonitorNamespaceSelector")),
                                              ("PrometheusRule", rules, ("ruleSelector", "ruleNamespaceSelector"))):
                    for obj in objects:
                        selected, why = prometheus_selects(found[0], fields[0], fields[1], obj, namespace_labels)
                        if not selected:
                            problems.append("Prometheus %s/%s does not pick up %s %s: %s"
                                            % (prometheus_ref["namespace"], prometheus_ref["name"], kind, _ref(obj), why))
                checked["prometheus"] = _ref(found[0])
        checked["prometheus_rules"] = [_ref(r) for r in rules]
        problems.extend(check_services(params.get("services") or [], read))
        checked["services"] = ["%s/%s" % (s["namespace"], s["name"]) for s in params.get("services") or []]
        if params.get("adapter"):
            found, exposed = check_adapter(params["adapter"], read)
            problems.extend(found)
            checked["adapter_metrics"] = exposed
        found, daemonsets = check_daemonsets(params.get("daemonsets") or [], read, params.get("node_pools") or [])
        problems.extend(found)
        checked["daemonsets"] = daemonsets
    except KindNotServed as error:
        problems.append("the API server does not serve %s: install its CRDs (the Prometheus Operator's for monitoring.coreos.com)" % error)
    return problems, checked


def node_pools(platform, pools):
    """The labels and taints every node of each GPU NodePool carries (the platform contract)."""
    taint = platform["gpu_taint"]
    return [{"name": pool["name"],
             "labels": {platform["gpu_node_label"]: "true", platform["pool_label"]: pool["name"]},
             "taints": [{"key": taint["key"], "value": taint["value"], "effect": taint["effect"]}]} for pool in pools]
