#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE); compatible with GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: helm_release_drift_info
short_description: Tell which of several Helm releases differ from what is deployed, reading the cluster once
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Compares each wanted release with the cluster, the way M(kubernetes.core.helm) decides whether to act when the
    helm-diff plugin is absent - the deployed chart's name and version and the user-supplied values - and returns the
    releases it would change. Run M(kubernetes.core.helm) only for those; the others are left alone.
  - One C(helm list --all-namespaces --all) for every release, then C(helm get values) for each release whose chart
    matches. M(kubernetes.core.helm) runs five helm commands per release, one of which (C(helm show chart)) downloads
    the chart repository's index, so a re-run that changes nothing costs a module run and a download per release.
  - A release drifts when it is wanted C(present) and is not installed, is not in status C(deployed) (failed or
    pending - helm is left to recover it), runs another chart or chart version, or has other values; or when it is
    wanted C(absent) and exists in any status.
  - The chart's name is the last path element of O(releases[].chart_ref) (a repository chart name, or C(oci://)
    reference), or the C(name) in C(Chart.yaml) for a chart directory, whose C(version) is used when
    O(releases[].chart_version) is empty. A release whose chart cannot be known without fetching it (an archive URL,
    or no version) always drifts, so M(kubernetes.core.helm) decides.
  - Same chart name and version are taken to mean the same C(appVersion) (a published chart version is immutable).
  - Never returns values (they may hold credentials); RV(releases[].reasons) says which part differs.
  - Read-only; never changes anything.
options:
  releases:
    description: The wanted releases, as passed to M(kubernetes.core.helm).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Release name.
        type: str
        required: true
      namespace:
        description: Release namespace.
        type: str
        required: true
      state:
        description: Whether the release should be installed.
        type: str
        choices: [present, absent]
        default: present
      chart_ref:
        description: The chart, as M(kubernetes.core.helm)'s C(chart_ref). Needed when O(releases[].state=present).
        type: str
      chart_version:
        description: The chart version, as M(kubernetes.core.helm)'s C(chart_version).
        type: str
      values:
        description: The values, as M(kubernetes.core.helm)'s C(values).
        type: dict
        default: {}
      chart_repo_url:
        description:
          - Accepted so that a release can be described by one dict for both modules; not compared (the chart's name
            and version are).
        type: str
      create_namespace:
        description: Accepted for the same reason; not compared (it does not change a deployed release).
        type: bool
      wait:
        description: Accepted for the same reason; not compared.
        type: bool
      timeout:
        description: Accepted for the same reason; not compared.
        type: raw
  all_releases:
    description:
      - Also read every release of the cluster (any namespace, any status) and return them as RV(deployed), so that
        later releases of the same play can be compared without another read (the role C(eks_llm.inference.helm_release)
        does this with the filters C(eks_llm.inference.helm_release_drift) and C(eks_llm.inference.helm_release_applied)).
      - Costs one C(helm get values) per release of the cluster.
    type: bool
    default: false
extends_documentation_fragment:
  - kubernetes.core.helm_common_options
requirements:
  - helm (https://github.com/helm/helm/releases)
  - PyYAML
"""

EXAMPLES = r"""
- name: Which releases would helm change
  eks_llm.inference.helm_release_drift_info:
    kubeconfig: ~/.kube/demo/kubeconfig
    releases:
      - name: kube-prometheus-stack
        namespace: monitoring
        chart_ref: kube-prometheus-stack
        chart_version: 79.0.1
        values: {grafana: {enabled: true}}
      - {name: nim-operator, namespace: nim-operator, state: absent}
  register: drift

- name: Apply only those
  kubernetes.core.helm:
    name: "{{ item.name }}"
    release_namespace: "{{ item.namespace }}"
    chart_ref: kube-prometheus-stack
  loop: "{{ drift.releases | selectattr('drift') | list }}"
"""

RETURN = r"""
releases:
  description: One entry per wanted release, in the order of O(releases).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Release name.
      type: str
      sample: kube-prometheus-stack
    namespace:
      description: Release namespace.
      type: str
      sample: monitoring
    drift:
      description: Whether M(kubernetes.core.helm) would act on the release.
      type: bool
      sample: false
    reasons:
      description: Why the release drifts (empty when it does not); never the values themselves.
      type: list
      elements: str
      sample: ["values differ from the deployed release"]
    deployed_chart:
      description: The chart of the deployed release as C(name-version), or null when it is not installed.
      type: str
      sample: kube-prometheus-stack-79.0.1
    status:
      description: The deployed release's status, or null when it is not installed.
      type: str
      sample: deployed
deployed:
  description:
    - Every release of the cluster, keyed C(namespace/name), with its chart (C(name-version)), status and a SHA-256
      digest of its user-supplied values (never the values).
  returned: when O(all_releases=true)
  type: dict
  sample: {"monitoring/kube-prometheus-stack": {"chart": "kube-prometheus-stack-79.0.1", "status": "deployed",
           "values_digest": "3f1c..."}}
drifted:
  description: C(namespace/name) of every drifting release, in the order of O(releases).
  returned: always
  type: list
  elements: str
  sample: [monitoring/kube-prometheus-stack]
"""

import copy
import json
import re

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.kubernetes.core.plugins.module_utils.helm import AnsibleHelmModule
from ansible_collections.kubernetes.core.plugins.module_utils.helm_args_common import (
    HELM_AUTH_ARG_SPEC,
    HELM_AUTH_MUTUALLY_EXCLUSIVE,
)
from ansible_collections.eks_llm.inference.plugins.module_utils.helm_drift import (
    YAML_IMPORT_ERROR,
    drift_report,
    release_key,
    values_digest,
)

RELEASE_SPEC = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    chart_ref=dict(type="str"),
    chart_version=dict(type="str"),
    values=dict(type="dict", default={}),
    # accepted, not compared: one release dict serves both this module and kubernetes.core.helm
    chart_repo_url=dict(type="str"),
    create_namespace=dict(type="bool"),
    wait=dict(type="bool"),
    timeout=dict(type="raw"),
)


def main():
    argument_spec = copy.deepcopy(HELM_AUTH_ARG_SPEC)
    argument_spec.update(releases=dict(type="list", elements="dict", required=True, options=RELEASE_SPEC),
                         all_releases=dict(type="bool", default=False))
    module = AnsibleHelmModule(argument_spec=argument_spec, mutually_exclusive=HELM_AUTH_MUTUALLY_EXCLUSIVE,
                               supports_check_mode=True)
    if YAML_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyYAML"), exception=YAML_IMPORT_ERROR)
    releases = module.params["releases"]
    for release in releases:
        if release["state"] == "present" and not release.get("chart_ref"):
            module.fail_json(msg="release %s/%s: chart_ref is required when state is present" % (release["namespace"], release["name"]))

    helm = module.get_helm_binary()
    command = [helm, "list", "--all-namespaces", "--all", "--output", "json"]
    if not module.params["all_releases"]:
        # only our release names, in every namespace and every status
        command[-2:-2] = ["--filter", "^(%s)$" % "|".join(re.escape(name) for name in sorted(set(r["name"] for r in releases)))]
    dummy, out, dummy_err = module.run_helm_command(command)
    listed = json.loads(out or "[]")
    installed = dict((release_key(r["namespace"], r["name"]),
                      dict(name=r["name"], namespace=r["namespace"], chart=r["chart"], status=r["status"])) for r in listed)

    def read_digest(deployed):
        if "values_digest" not in deployed:
            name, namespace = deployed["name"], deployed["namespace"]
            dummy_rc, values, dummy_err = module.run_helm_command(
                [helm, "get", "values", name, "--namespace", namespace, "--output", "json"])
            deployed["values_digest"] = values_digest(json.loads(values))  # helm prints null for no values
        return deployed["values_digest"]

    result = drift_report(releases, installed, read_digest)
    extra = {}
    if module.params["all_releases"]:
        extra["deployed"] = dict((key, dict(chart=d["chart"], status=d["status"], values_digest=read_digest(d)))
                                 for key, d in sorted(installed.items()))
    module.exit_json(changed=False, releases=result,
                     drifted=["%s/%s" % (r["namespace"], r["name"]) for r in result if r["drift"]], **extra)


if __name__ == "__main__":
    main()
