# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""k8s_objects_info's listing over a dynamic client (the module itself runs against the local API server in
tests/system: every layer's stale-object removal goes through it)."""

import pytest

pytest.importorskip("kubernetes")

from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError  # noqa: E402

from ansible_collections.eks_llm.inference.plugins.modules import k8s_objects_info  # noqa: E402

SELECTOR = "app.kubernetes.io/managed-by=eks_llm.inference"


class Listed:
    def __init__(self, items):
        self.items = items

    def to_dict(self):
        return {"items": [dict(item) for item in self.items]}


class Resource:
    def __init__(self, kind, namespaced):
        self.kind = kind
        self.namespaced = namespaced


class FakeClient:
    """Serves the given {(api_version, kind): (namespaced, [objects])}; records each list call."""

    def __init__(self, served, gone=()):
        self.served = served
        self.gone = gone  # kinds discovery still lists but whose list answers 404 (CRD just deleted)
        self.calls = []

    def resource(self, kind, api_version):
        if (api_version, kind) not in self.served:
            raise ResourceNotFoundError("no %s" % kind)
        return Resource(kind, self.served[(api_version, kind)][0])

    def get(self, resource, namespace=None, label_selector=None):
        self.calls.append((resource.kind, namespace, label_selector))
        if resource.kind in self.gone:
            raise NotFoundError(Gone())
        for (dummy_version, kind), (dummy_namespaced, items) in self.served.items():
            if kind == resource.kind:
                return Listed([i for i in items if namespace is None or i["metadata"].get("namespace") == namespace])
        return Listed([])


class Gone:
    status, reason, body, headers = 404, "Not Found", "", {}


def obj(name, namespace=None, **fields):
    meta = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return dict(fields, metadata=meta)


def test_lists_every_kind_in_order_and_names_those_not_served():
    client = FakeClient({
        ("apps/v1", "Deployment"): (True, [obj("opt-350m", "triton", spec={"replicas": 1}), obj("llama", "nim")]),
        ("v1", "Namespace"): (False, [obj("triton")]),
    })
    kinds = [{"api_version": "apps.nvidia.com/v1alpha1", "kind": "NIMService"},
             {"api_version": "apps/v1", "kind": "Deployment"}, {"api_version": "v1", "kind": "Namespace"}]
    objects, not_served = k8s_objects_info.list_objects(client, kinds, [SELECTOR])
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("Deployment", "opt-350m"), ("Deployment", "llama"), ("Namespace", "triton")]
    assert objects[0]["apiVersion"] == "apps/v1" and objects[0]["spec"] == {"replicas": 1}
    assert not_served == ["apps.nvidia.com/v1alpha1/NIMService"]
    assert all(selector == SELECTOR for dummy_kind, dummy_ns, selector in client.calls)


def test_namespace_limits_namespaced_kinds_only():
    client = FakeClient({
        ("apps/v1", "Deployment"): (True, [obj("opt-350m", "triton"), obj("llama", "nim")]),
        ("v1", "Namespace"): (False, [obj("triton"), obj("nim")]),
    })
    kinds = [{"api_version": "apps/v1", "kind": "Deployment"}, {"api_version": "v1", "kind": "Namespace"}]
    objects, dummy = k8s_objects_info.list_objects(client, kinds, [SELECTOR], namespace="triton")
    assert [o["metadata"]["name"] for o in objects] == ["opt-350m", "triton", "nim"]
    assert client.calls == [("Deployment", "triton", SELECTOR), ("Namespace", None, SELECTOR)]


def test_secret_contents_never_come_back_and_hidden_fields_go():
    applied = '{"data": {"HF_TOKEN": "aGZfc2VjcmV0"}}'
    secret = obj("hf-token", "triton", data={"HF_TOKEN": "aGZfc2VjcmV0"}, stringData={"x": "y"}, type="Opaque")
    secret["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": applied, "keep": "me"}
    client = FakeClient({("v1", "Secret"): (True, [secret]),
                         ("v1", "ConfigMap"): (True, [obj("dash", "monitoring", data={"a": "b"}, status={})])})
    kinds = [{"api_version": "v1", "kind": "Secret"}, {"api_version": "v1", "kind": "ConfigMap"}]
    objects, dummy = k8s_objects_info.list_objects(client, kinds, [SELECTOR], hidden=["status", "metadata", "kind"])
    listed_secret, listed_map = objects
    assert "data" not in listed_secret and "stringData" not in listed_secret
    assert listed_secret["metadata"]["annotations"] == {"keep": "me"}
    assert listed_secret["type"] == "Opaque" and listed_secret["kind"] == "Secret"
    assert listed_map["data"] == {"a": "b"} and "status" not in listed_map
    assert "aGZfc2VjcmV0" not in repr(objects)


def test_a_kind_whose_list_answers_404_is_not_served():
    client = FakeClient({("apps.nvidia.com/v1alpha1", "NIMCache"): (True, []), ("v1", "Service"): (True, [obj("a", "b")])},
                        gone=("NIMCache",))
    kinds = [{"api_version": "apps.nvidia.com/v1alpha1", "kind": "NIMCache"}, {"api_version": "v1", "kind": "Service"}]
    objects, not_served = k8s_objects_info.list_objects(client, kinds, [SELECTOR])
    assert [o["metadata"]["name"] for o in objects] == ["a"]
    assert not_served == ["apps.nvidia.com/v1alpha1/NIMCache"]


def test_a_kind_can_have_its_own_namespace_and_selectors_and_list_all_of_its_namespace():
    client = FakeClient({
        ("apps/v1", "DaemonSet"): (True, [obj("nvidia-device-plugin", "nvidia"), obj("fluent-bit", "logging")]),
        ("karpenter.sh/v1", "NodePool"): (False, [obj("gpu-g5")]),
    })
    kinds = [{"api_version": "apps/v1", "kind": "DaemonSet", "namespace": "nvidia", "label_selectors": []},
             {"api_version": "karpenter.sh/v1", "kind": "NodePool", "label_selectors": ["eks-llm/pool-kind=gpu", " "]}]
    objects, dummy = k8s_objects_info.list_objects(client, kinds, [SELECTOR, "x=y"], namespace="elsewhere")
    assert [o["metadata"]["name"] for o in objects] == ["nvidia-device-plugin", "gpu-g5"]
    assert client.calls == [("DaemonSet", "nvidia", None), ("NodePool", None, "eks-llm/pool-kind=gpu")]


@pytest.mark.parametrize("kinds, selectors", [
    ([{"api_version": "v1", "kind": "Secret"}], ["", " "]),
    ([{"api_version": "v1", "kind": "Secret", "label_selectors": []}], [SELECTOR]),
    ([{"api_version": "v1", "kind": "Secret", "namespace": "llm"}], []),
])
def test_listing_a_kind_across_the_cluster_without_a_selector_is_refused_before_any_call(kinds, selectors):
    client = FakeClient({("v1", "Secret"): (True, [obj("hf-token", "llm")])})
    with pytest.raises(ValueError, match="v1/Secret: label_selectors must select something"):
        k8s_objects_info.list_objects(client, kinds, selectors, namespace="llm")
    assert client.calls == []
