"""Selector, namespace, port and placement resolution of the wiring check (the rules the API server's consumers apply)."""
import pytest
import yaml

from ansible_collections.eks_llm.inference.plugins.module_utils import wiring


@pytest.mark.parametrize("selector, labels, expected", [
    ({}, {"a": "1"}, True),
    (None, {"a": "1"}, False),
    ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
    ({"matchLabels": {"a": "1"}}, {"a": "2"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}]}, {"a": "2"}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {}, True),
    ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}, {"a": "1"}, False),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {}, False),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {"b": "1"}, True),
])
def test_selector_matches(selector, labels, expected):
    assert wiring.selector_matches(selector, labels) is expected


def monitor(namespace_selector=None, port="metrics", selector=None):
    spec = {"selector": selector if selector is not None else {"matchLabels": {"app": "x"}}, "endpoints": [{"port": port}]}
    if namespace_selector is not None:
        spec["namespaceSelector"] = namespace_selector
    return {"metadata": {"name": "m", "namespace": "mon"}, "spec": spec}


def service(namespace, labels, ports=(("metrics", 9400),)):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": namespace, "labels": labels},
            "spec": {"ports": [{"name": n, "port": p} for n, p in ports]}}


def reader(objects):
    def read(api_version, kind, namespace=None, name=None):
        return [o for o in objects if o.get("kind", "Service") == kind and (namespace is None or o["metadata"]["namespace"] == namespace)
                and (name is None or o["metadata"]["name"] == name)]
    return read


def test_namespace_selector_defaults_to_own_namespace():
    problems, selected = wiring.check_service_monitor(monitor(), reader([service("other", {"app": "x"})]), ["mon", "other"])
    assert selected == [] and "in namespace(s) mon" in problems[0] and "other/s {app=x}" not in problems[0]
    problems, selected = wiring.check_service_monitor(monitor({"any": True}), reader([service("other", {"app": "x"})]), ["mon", "other"])
    assert problems == [] and selected == ["other/s"]


def test_selected_service_must_have_the_named_port():
    problems, dummy = wiring.check_service_monitor(monitor({"matchNames": ["gpu"]}, port="http-metrics"),
                                                   reader([service("gpu", {"app": "x"})]), ["gpu"])
    assert problems == ["ServiceMonitor mon/m selects Service gpu/s, which has no port named 'http-metrics' (its ports: metrics:9400)"]


def test_prometheus_nil_namespace_selector_only_sees_its_own_namespace():
    prometheus = {"metadata": {"name": "p", "namespace": "mon"}, "spec": {"serviceMonitorSelector": {}}}
    obj = {"metadata": {"name": "m", "namespace": "gpu", "labels": {}}}
    selected, why = wiring.prometheus_selects(prometheus, "serviceMonitorSelector", "serviceMonitorNamespaceSelector", obj, {"gpu": {}})
    assert not selected and "only looks in mon" in why
    prometheus["spec"]["serviceMonitorNamespaceSelector"] = {}
    assert wiring.prometheus_selects(prometheus, "serviceMonitorSelector", "serviceMonitorNamespaceSelector", obj, {"gpu": {}})[0]


@pytest.mark.parametrize("tolerations, expected", [
    ([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}], True),
    ([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true"}], True),
    ([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "false"}], False),
    ([{"operator": "Exists"}], True),
    ([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}], False),
    ([], False),
])
def test_tolerations(tolerations, expected):
    assert wiring.tolerates(tolerations, {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}) is expected


def test_required_node_affinity_is_honoured():
    spec = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "eks-llm/node-pool", "operator": "In", "values": ["g5"]}]}]}}}}
    assert wiring.pod_fits(spec, {"eks-llm/node-pool": "g5"}, [])[0]
    fits, why = wiring.pod_fits(spec, {"eks-llm/node-pool": "g6"}, [])
    assert not fits and "affinity" in why


def test_missing_objects_and_unserved_kinds_are_problems():
    def read(api_version, kind, namespace=None, name=None):
        if kind == "ServiceMonitor":
            raise wiring.KindNotServed("ServiceMonitor (monitoring.coreos.com/v1)")
        return []
    problems, dummy = wiring.check({"service_monitors": [{"namespace": "a", "name": "b"}]}, read)
    assert problems == ["the API server does not serve ServiceMonitor (monitoring.coreos.com/v1): install its CRDs"
                        " (the Prometheus Operator's for monitoring.coreos.com)"]
    problems, dummy = wiring.check({"services": [{"namespace": "monitoring", "name": "p", "port": 9090, "purpose": "adapter"}],
                                    "adapter": {"namespace": "monitoring", "name": "prometheus-adapter", "metrics": ["x"]},
                                    "daemonsets": [{"namespace": "gpu", "label_selector": "app=d"}]}, read)
    assert problems == ["Service monitoring/p (adapter) does not exist",
                        "prometheus-adapter ConfigMap monitoring/prometheus-adapter does not exist (is the prometheus-adapter release installed?)",
                        "DaemonSet with labels app=d in namespace gpu does not exist"]


def test_adapter_rule_whose_name_pattern_misses_its_series_is_a_problem():
    good = {"seriesQuery": 'vllm:time_to_first_token_seconds_sum{namespace!="",pod!=""}',
            "name": {"matches": "^vllm:time_to_first_token_seconds_sum$", "as": "triton_requests_waiting"}}
    bad = {"seriesQuery": 'vllm:time_to_first_token_seconds_sum{namespace!="",pod!=""}',
           "name": {"matches": "^nv_inference_queue_duration_us$", "as": "triton_requests_waiting"}}
    regex = {"seriesQuery": '{__name__=~"(vllm:)?num_requests_waiting",pod!=""}', "name": {"matches": "^x$", "as": "y"}}
    assert wiring.rules_that_cannot_name(yaml.safe_dump({"rules": [good, regex]})) == []
    assert wiring.rules_that_cannot_name(yaml.safe_dump({"rules": [bad]})) == [
        "rule triton_requests_waiting: name.matches '^nv_inference_queue_duration_us$' does not match its series"
        " vllm:time_to_first_token_seconds_sum, so the adapter never serves it"]
    config_map = {"metadata": {"namespace": "monitoring", "name": "prometheus-adapter"}, "data": {"config.yaml": yaml.safe_dump({"rules": [bad]})}}
    problems, exposed = wiring.check_adapter({"namespace": "monitoring", "name": "prometheus-adapter", "metrics": ["triton_requests_waiting"]},
                                             lambda *args, **kwargs: [config_map])
    assert exposed == ["triton_requests_waiting"] and len(problems) == 1 and "never serves it" in problems[0]
