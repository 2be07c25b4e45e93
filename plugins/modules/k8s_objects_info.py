#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE); compatible with GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_objects_info
short_description: List the objects of several kinds that carry given labels, in one call
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Lists, across all namespaces (or one), every object of each given kind whose labels match the selectors. This is
    what a layer needs to find what it created earlier and remove what the inventory no longer asks for.
  - One module call with one API client for all kinds, where M(kubernetes.core.k8s_info) needs a task iteration (and a
    client) per kind.
  - A kind the API server does not serve (its CRD is not installed) has no objects; it is named in RV(not_served).
  - Never returns what a Secret holds - its C(data), C(stringData) and the C(last-applied-configuration) annotation
    (which repeats them) are always dropped - so the result can be registered and shown.
  - Read-only; never changes anything.
options:
  kinds:
    description: The kinds to list, in the order the objects are returned.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: API group and version, for example C(apps/v1) or C(karpenter.sh/v1).
        type: str
        required: true
      kind:
        description: Kind, for example C(Deployment).
        type: str
        required: true
      namespace:
        description: Only this namespace for this kind, instead of O(namespace).
        type: str
      label_selectors:
        description:
          - Label selectors for this kind, instead of O(label_selectors).
          - May be empty (every object of the kind) only together with O(kinds[].namespace), for example every
            DaemonSet a chart made in its own namespace.
        type: list
        elements: str
  label_selectors:
    description:
      - Label selectors the objects must all match (joined with commas), for every kind without its own
        O(kinds[].label_selectors).
      - An empty selector would list every object of a kind in the cluster, which is refused.
    type: list
    elements: str
    required: true
  namespace:
    description:
      - Only this namespace, for every kind without its own O(kinds[].namespace); all namespaces when omitted.
        Ignored for cluster-scoped kinds.
    type: str
  hidden_fields:
    description:
      - Top-level fields to drop from every object (for example C(data) of Secrets, or large C(spec)s) so that they
        never reach the output. C(metadata) and C(kind) are always kept.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Find what the inference layer created before
  eks_llm.inference.k8s_objects_info:
    kubeconfig: ~/.kube/eks_llm-demo/kubeconfig
    kinds:
      - {api_version: apps.nvidia.com/v1alpha1, kind: NIMService}
      - {api_version: apps/v1, kind: Deployment}
      - {api_version: v1, kind: Secret}
    label_selectors:
      - app.kubernetes.io/managed-by=eks_llm.inference
      - eks-llm/layer=inference
    hidden_fields: [data, spec, status]
  register: existing

- name: Every DaemonSet of the device plugin's namespace, and our GPU NodePools, in one call
  eks_llm.inference.k8s_objects_info:
    kinds:
      - {api_version: apps/v1, kind: DaemonSet, namespace: nvidia-device-plugin, label_selectors: []}
      - {api_version: karpenter.sh/v1, kind: NodePool}
    label_selectors: [app.kubernetes.io/part-of=eks_llm, eks-llm/pool-kind=gpu]
  register: gpu
"""

RETURN = r"""
resources:
  description: The objects, kind by kind in the order of O(kinds), each as the API server returned it (less O(hidden_fields)).
  returned: always
  type: list
  elements: dict
  sample: [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "opt-350m", "namespace": "triton"}}]
not_served:
  description: The kinds (C(api_version/kind)) the API server does not serve.
  returned: always
  type: list
  elements: str
  sample: ["apps.nvidia.com/v1alpha1/NIMService"]
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.ansiblemodule import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    from kubernetes.dynamic.exceptions import DynamicApiError, NotFoundError, ResourceNotFoundError
except ImportError:  # reported by AnsibleK8SModule (requires kubernetes)
    DynamicApiError = NotFoundError = ResourceNotFoundError = Exception

ALWAYS_KEPT = ("apiVersion", "kind", "metadata")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        kinds=dict(type="list", elements="dict", required=True, options=dict(
            api_version=dict(type="str", required=True), kind=dict(type="str", required=True),
            namespace=dict(type="str"), label_selectors=dict(type="list", elements="str"))),
        label_selectors=dict(type="list", elements="str", required=True),
        namespace=dict(type="str"),
        hidden_fields=dict(type="list", elements="str", default=[]),
    )
    return spec


def joined(selectors):
    return ",".join(s.strip() for s in selectors if s.strip())


def queries(kinds, selectors, namespace=None):
    """Per kind (entry, selector, namespace): its own selectors and namespace where it has them, else the shared ones.
    Raises ValueError for a query that would list a kind across the whole cluster with no selector."""
    result = []
    for entry in kinds:
        own = entry.get("label_selectors")
        selector = joined(own) if own is not None else joined(selectors)
        where = entry.get("namespace") or namespace
        if not selector and not (own is not None and entry.get("namespace")):
            raise ValueError("%s/%s: label_selectors must select something (an empty selector would list every object;"
                             " a kind's own empty label_selectors needs its own namespace)" % (entry["api_version"], entry["kind"]))
        result.append((entry, selector, where))
    return result


def list_objects(client, kinds, selectors, namespace=None, hidden=()):
    """(objects, not_served) for the kinds, in their order; each item carries apiVersion and kind."""
    objects, not_served = [], []
    for entry, selector, where in queries(kinds, selectors, namespace):
        try:
            resource = client.resource(entry["kind"], entry["api_version"])
            listed = client.get(resource, namespace=where if resource.namespaced else None, label_selector=selector or None).to_dict()
        except (ResourceNotFoundError, NotFoundError):
            # not in discovery, or (NotFoundError) discovery's cache still knows a kind whose CRD has just gone
            not_served.append("%s/%s" % (entry["api_version"], entry["kind"]))
            continue
        for item in listed.get("items") or []:
            # list items come without apiVersion/kind
            item.setdefault("apiVersion", entry["api_version"])
            item.setdefault("kind", entry["kind"])
            for field in hidden:
                if field not in ALWAYS_KEPT:
                    item.pop(field, None)
            if entry["kind"] == "Secret" and entry["api_version"] == "v1":
                item.pop("data", None)
                item.pop("stringData", None)
                (item["metadata"].get("annotations") or {}).pop(LAST_APPLIED, None)
            objects.append(item)
    return objects, not_served


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argspec(), supports_check_mode=True)
    try:
        queries(module.params["kinds"], module.params["label_selectors"], module.params["namespace"])
    except ValueError as error:
        module.fail_json(msg=str(error))
    try:
        client = get_api_client(module)
        objects, not_served = list_objects(client, module.params["kinds"], module.params["label_selectors"],
                                           module.params["namespace"], module.params["hidden_fields"])
    except CoreException as error:
        module.fail_from_exception(error)
    except DynamicApiError as error:
        module.fail_json(msg="listing failed: %s %s" % (error.status, error.reason), status=error.status)
    module.exit_json(changed=False, resources=objects, not_served=not_served)


if __name__ == "__main__":
    main()
