#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE); compatible with GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_wiring_info
short_description: Check that monitoring objects reach what they are meant to reach
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Reads the cluster and resolves selectors for real. Reports, for every mismatch, the object and what did not match.
  - Every ServiceMonitor checked must select at least one Service (label selector and namespaceSelector resolved
    against the Services that exist), and every Service it selects must have each endpoint's named port.
  - The Prometheus custom resource must pick up every ServiceMonitor and PrometheusRule checked (its selectors and
    namespace selectors against their labels and their namespaces' labels).
  - prometheus-adapter's configuration must expose exactly the given custom metrics.
  - Services given must exist with the given port (e.g. the Prometheus URL the adapter uses).
  - Each DaemonSet given must be able to run on every node pool given (nodeSelector, required node affinity,
    tolerations against the pool's labels and taints); with O(daemonsets[].gpu_nodes_only) it must not run on a node
    without those labels.
  - Read-only; never changes anything. The module does not fail on problems; the caller decides.
options:
  service_monitors:
    description: ServiceMonitors that must exist and be checked.
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace.
        type: str
        required: true
      name:
        description: Name.
        type: str
        required: true
  service_monitor_selector:
    description: Also check every ServiceMonitor (any namespace) with these labels, e.g. C(app.kubernetes.io/managed-by=eks_llm.inference).
    type: str
  prometheus_rules:
    description: PrometheusRules that must exist and be picked up by O(prometheus).
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace.
        type: str
        required: true
      name:
        description: Name.
        type: str
        required: true
  prometheus_rule_selector:
    description: Also check every PrometheusRule (any namespace) with these labels.
    type: str
  prometheus:
    description: The Prometheus custom resource that must select the ServiceMonitors and rules.
    type: dict
    suboptions:
      namespace:
        description: Namespace.
        type: str
        required: true
      name:
        description: Name.
        type: str
        required: true
  services:
    description: Services that must exist with a port.
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace.
        type: str
        required: true
      name:
        description: Name.
        type: str
        required: true
      port:
        description: Port number the Service must expose.
        type: int
      purpose:
        description: What uses it, for the message.
        type: str
  adapter:
    description: The prometheus-adapter ConfigMap and the metrics its rules must expose (exactly).
    type: dict
    suboptions:
      namespace:
        description: Namespace.
        type: str
        required: true
      name:
        description: ConfigMap name (the release's fullname).
        type: str
        required: true
      data_entry:
        description: Key of the configuration in the ConfigMap.
        type: str
        default: config.yaml
      metrics:
        description: Custom metric names the rules must expose.
        type: list
        elements: str
        required: true
  daemonsets:
    description: DaemonSets that must be able to run on every node pool of O(node_pools).
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace.
        type: str
        required: true
      name:
        description: Name (or use O(daemonsets[].label_selector)).
        type: str
      label_selector:
        description: Equality label selector C(k=v,k2=v2) that finds the DaemonSet(s).
        type: str
      gpu_nodes_only:
        description: The DaemonSet must not fit a node without the pools' labels.
        type: bool
        default: false
  node_pools:
    description: Labels and taints of the nodes of each node pool.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Pool name.
        type: str
        required: true
      labels:
        description: Labels every node of the pool carries.
        type: dict
        default: {}
      taints:
        description: Taints (C(key), C(value), C(effect)) every node of the pool carries.
        type: list
        elements: dict
        default: []
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
  - PyYAML
"""

EXAMPLES = r"""
- name: Check the monitoring wiring
  eks_llm.inference.k8s_wiring_info:
    service_monitors:
      - {namespace: gpu-system, name: dcgm-exporter}
    service_monitor_selector: app.kubernetes.io/managed-by=eks_llm.inference
    prometheus: {namespace: monitoring, name: kube-prometheus-stack-prometheus}
    adapter:
      namespace: monitoring
      name: prometheus-adapter
      metrics: [llm_requests_waiting, triton_requests_waiting]
    daemonsets:
      - {namespace: gpu-system, label_selector: app.kubernetes.io/name=dcgm-exporter, gpu_nodes_only: true}
    node_pools:
      - name: gpu-g5
        labels: {eks-llm/gpu: "true", eks-llm/node-pool: gpu-g5}
        taints: [{key: nvidia.com/gpu, value: "true", effect: NoSchedule}]
  register: wiring

- name: Fail with every problem at once
  ansible.builtin.assert:
    that: wiring.problems | length == 0
    fail_msg: "{{ wiring.problems }}"
"""

RETURN = r"""
problems:
  description: One sentence per mismatch, naming the object and what did not match. Empty when everything is wired.
  returned: always
  type: list
  elements: str
  sample: ["ServiceMonitor gpu-system/dcgm-exporter selects no Service: selector {app=dcgm} in namespace(s) gpu-system matches none of: ..."]
checked:
  description: What was looked at.
  returned: always
  type: dict
  contains:
    service_monitors:
      description: Each ServiceMonitor checked and the Services it selects.
      type: dict
      returned: always
    prometheus:
      description: The Prometheus checked.
      type: str
      returned: when O(prometheus) is given and found
    prometheus_rules:
      description: The PrometheusRules checked.
      type: list
      returned: always
    services:
      description: The Services checked.
      type: list
      returned: always
    adapter_metrics:
      description: The custom metrics prometheus-adapter's rules expose.
      type: list
      returned: when O(adapter) is given
    daemonsets:
      description: The DaemonSets checked.
      type: list
      returned: always
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.ansiblemodule import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

from ansible_collections.eks_llm.inference.plugins.module_utils import wiring

try:
    from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError
except ImportError:  # reported by AnsibleK8SModule (requires kubernetes)
    NotFoundError = ResourceNotFoundError = Exception

_REF = dict(namespace=dict(type="str", required=True), name=dict(type="str", required=True))


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        service_monitors=dict(type="list", elements="dict", default=[], options=_REF),
        service_monitor_selector=dict(type="str"),
        prometheus_rules=dict(type="list", elements="dict", default=[], options=_REF),
        prometheus_rule_selector=dict(type="str"),
        prometheus=dict(type="dict", options=_REF),
        services=dict(type="list", elements="dict", default=[], options=dict(
            _REF, port=dict(type="int"), purpose=dict(type="str"))),
        adapter=dict(type="dict", options=dict(
            _REF, data_entry=dict(type="str", default="config.yaml"), metrics=dict(type="list", elements="str", required=True))),
        daemonsets=dict(type="list", elements="dict", default=[], options=dict(
            namespace=dict(type="str", required=True), name=dict(type="str"), label_selector=dict(type="str"),
            gpu_nodes_only=dict(type="bool", default=False))),
        node_pools=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True), labels=dict(type="dict", default={}),
            taints=dict(type="list", elements="dict", default=[]))),
    )
    return spec


def reader(client):
    """read(api_version, kind, namespace=None, name=None) -> [objects] over the dynamic client."""
    def read(api_version, kind, namespace=None, name=None):
        try:
            resource = client.resource(kind, api_version)
        except ResourceNotFoundError:
            raise wiring.KindNotServed("%s (%s)" % (kind, api_version))
        try:
            result = client.get(resource, namespace=namespace, name=name).to_dict()
        except NotFoundError:
            return []
        return [result] if name else result.get("items") or []
    return read


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argspec(), supports_check_mode=True)
    for entry in module.params["daemonsets"]:
        if not entry.get("name") and not entry.get("label_selector"):
            module.fail_json(msg="daemonsets: give name or label_selector for the DaemonSet(s) in %s" % entry["namespace"])
    try:
        client = get_api_client(module)
        problems, checked = wiring.check(module.params, reader(client))
    except CoreException as error:
        module.fail_from_exception(error)
    module.exit_json(changed=False, problems=problems, checked=checked)


if __name__ == "__main__":
    main()
