#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_addon
short_description: Manage Amazon EKS add-ons
version_added: 0.1.0
description:
  - Create, update or delete an Amazon EKS add-on such as C(vpc-cni), C(coredns),
    C(kube-proxy), C(eks-pod-identity-agent) or C(aws-efs-csi-driver).
  - The add-on is updated when its version, configuration values, service account
    role or Pod Identity associations differ from the requested ones.
  - O(addon_version) accepts the keywords V(default) and V(latest), resolved against
    the Kubernetes version of the cluster.
  - With O(addons), one call manages several add-ons of the cluster in turn, each
    exactly as a call with its options would (one module run instead of one per add-on).
author:
  - eks_llm maintainers (@eks-llm)
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    type: str
    required: true
  name:
    description:
      - Name of the add-on, as C(aws eks describe-addon-versions) lists it.
      - Required unless O(addons) is given.
    type: str
    aliases: ['addon_name']
  addons:
    description:
      - Several add-ons of the cluster, managed one after the other in a single module run.
      - Each entry takes the per-add-on options O(name), O(state), O(addon_version),
        O(configuration_values), O(service_account_role_arn), O(pod_identity_associations)
        and O(preserve), with the same meaning; an entry without O(state) or O(preserve)
        uses the module's. O(cluster_name), O(resolve_conflicts), O(tags), O(purge_tags),
        O(wait) and O(wait_timeout) apply to every entry (the timeout per add-on).
      - Mutually exclusive with O(name) and the other per-add-on options.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the add-on.
        type: str
        required: true
      state:
        description: Whether the add-on should be installed; the module's O(state) when not set.
        type: str
        choices: ['present', 'absent']
      addon_version:
        description: As O(addon_version).
        type: str
      configuration_values:
        description: As O(configuration_values).
        type: dict
      service_account_role_arn:
        description: As O(service_account_role_arn).
        type: str
      pod_identity_associations:
        description: As O(pod_identity_associations).
        type: list
        elements: dict
        suboptions:
          service_account:
            description: Name of the Kubernetes service account of the add-on.
            type: str
            required: true
          role_arn:
            description: ARN of the IAM role the service account gets.
            type: str
            required: true
      preserve:
        description: As O(preserve); the module's O(preserve) when not set.
        type: bool
  state:
    description:
      - Whether the add-on should be installed.
    type: str
    choices: ['present', 'absent']
    default: present
  addon_version:
    description:
      - Version of the add-on, for example V(v1.19.2-eksbuild.1).
      - V(default) is the version EKS marks as default for the Kubernetes version of
        the cluster; V(latest) is the newest version compatible with it.
      - With V(default) or V(latest), an existing add-on that is already newer than
        the resolved version is left as it is; the keywords never downgrade.
      - An explicit version must be compatible with the Kubernetes version of the
        cluster, or the module fails listing the compatible versions.
      - When not set, EKS installs its default version on creation and the module
        leaves the version of an existing add-on as it is.
    type: str
  configuration_values:
    description:
      - Configuration of the add-on, as a dictionary that follows the schema of
        C(aws eks describe-addon-configuration). It is sent to EKS as JSON.
      - Compared with the current configuration by value, so key order and
        formatting do not cause updates.
      - V({}) removes a custom configuration. When not set, the configuration is left
        as it is.
    type: dict
  resolve_conflicts:
    description:
      - How EKS resolves conflicts with field values changed in the cluster.
      - V(OVERWRITE) resets them to the EKS defaults, V(NONE) leaves them and may fail,
        V(PRESERVE) keeps them.
    type: str
    choices: ['NONE', 'OVERWRITE', 'PRESERVE']
    default: OVERWRITE
  service_account_role_arn:
    description:
      - ARN of an IAM role for the service account of the add-on (IAM roles for
        service accounts, needs an OIDC provider for the cluster).
      - When not set, the role is left as it is.
    type: str
  pod_identity_associations:
    description:
      - EKS Pod Identity associations owned by the add-on, each mapping one of its
        service accounts to an IAM role.
      - The list replaces the associations of the add-on; order does not matter.
        V([]) removes them all. When not set, they are left as they are.
    type: list
    elements: dict
    suboptions:
      service_account:
        description:
          - Name of the Kubernetes service account of the add-on.
        type: str
        required: true
      role_arn:
        description:
          - ARN of the IAM role the service account gets.
        type: str
        required: true
  preserve:
    description:
      - On O(state=absent), keep the Kubernetes objects of the add-on in the cluster;
        EKS only stops managing them.
    type: bool
    default: false
  wait:
    description:
      - Wait until the add-on is C(ACTIVE) after a creation or update (or when it is
        not C(ACTIVE) yet), or gone after a deletion.
      - The module fails when the add-on ends in C(CREATE_FAILED) or C(DEGRADED), or
        its update fails, reporting the health issues EKS gives.
      - Some add-ons (for example C(coredns)) stay C(DEGRADED) until the cluster has
        nodes; install them with O(wait=false) before the nodes exist.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait with O(wait=true).
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Install the Pod Identity agent at the default version of the cluster
  eks_llm.inference.eks_addon:
    cluster_name: llm
    name: eks-pod-identity-agent
    addon_version: default

- name: Keep the VPC CNI on its newest version, with prefix delegation
  eks_llm.inference.eks_addon:
    cluster_name: llm
    name: vpc-cni
    addon_version: latest
    configuration_values:
      env:
        ENABLE_PREFIX_DELEGATION: "true"
    resolve_conflicts: OVERWRITE
    tags:
      app.kubernetes.io/part-of: eks-llm-inference

- name: EFS CSI driver with its IAM role given through Pod Identity
  eks_llm.inference.eks_addon:
    cluster_name: llm
    name: aws-efs-csi-driver
    addon_version: v2.1.4-eksbuild.1
    pod_identity_associations:
      - service_account: efs-csi-controller-sa
        role_arn: arn:aws:iam::123456789012:role/llm-efs-csi

- name: CoreDNS before any node exists (it stays DEGRADED until pods can run)
  eks_llm.inference.eks_addon:
    cluster_name: llm
    name: coredns
    wait: false

- name: The cluster's add-ons in one run, started without waiting (awaited by a later call)
  eks_llm.inference.eks_addon:
    cluster_name: llm
    addons:
      - name: eks-pod-identity-agent
        addon_version: default
      - name: coredns
        addon_version: latest
      - name: aws-efs-csi-driver
        pod_identity_associations:
          - service_account: efs-csi-controller-sa
            role_arn: arn:aws:iam::123456789012:role/llm-efs-csi
    wait: false

- name: Stop managing kube-proxy with EKS but keep it running
  eks_llm.inference.eks_addon:
    cluster_name: llm
    name: kube-proxy
    state: absent
    preserve: true
"""

RETURN = r"""
addons:
  description:
    - With O(addons), the result of each entry, in the order given.
  returned: when O(addons) is given
  type: list
  elements: dict
  contains:
    name:
      description: Name of the add-on.
      type: str
      sample: coredns
    changed:
      description: Whether this add-on changed.
      type: bool
      sample: false
    addon:
      description: The add-on as RV(addon) describes it.
      type: dict
      sample: {"addon_name": "coredns", "status": "ACTIVE"}
addon:
  description:
    - The add-on as EKS describes it, with snake_case keys.
    - Empty when the add-on does not exist (O(state=absent), or a creation in check mode).
  returned: when O(name) is given
  type: dict
  contains:
    addon_name:
      description: Name of the add-on.
      type: str
      sample: vpc-cni
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: llm
    addon_version:
      description: Installed version.
      type: str
      sample: v1.19.2-eksbuild.1
    status:
      description: Status of the add-on.
      type: str
      sample: ACTIVE
    health:
      description: Health of the add-on.
      type: dict
      contains:
        issues:
          description: Health issues, each with C(code), C(message) and C(resource_ids).
          type: list
          elements: dict
          sample: []
    addon_arn:
      description: ARN of the add-on.
      type: str
      sample: arn:aws:eks:us-west-2:123456789012:addon/llm/vpc-cni/a1b2c3d4-0000-1111-2222-333344445555
    configuration_values:
      description: Configuration values of the add-on, as the JSON (or YAML) text EKS stores.
      type: str
      sample: '{"env": {"ENABLE_PREFIX_DELEGATION": "true"}}'
    service_account_role_arn:
      description: IAM role of the service account of the add-on.
      type: str
      sample: arn:aws:iam::123456789012:role/llm-vpc-cni
    pod_identity_associations:
      description: ARNs of the Pod Identity associations owned by the add-on.
      type: list
      elements: str
      sample: ["arn:aws:eks:us-west-2:123456789012:podidentityassociation/llm/a-abcdefghijklmnop1"]
    publisher:
      description: Publisher of the add-on.
      type: str
      sample: eks
    owner:
      description: Owner of the add-on.
      type: str
      sample: aws
    tags:
      description: Tags of the add-on.
      type: dict
      sample: {"app.kubernetes.io/part-of": "eks-llm-inference"}
    created_at:
      description: When the add-on was created.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
    modified_at:
      description: When the add-on was last modified.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
"""

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import WaitTimeout
from ansible_collections.eks_llm.inference.plugins.module_utils.common import run_entries
from ansible_collections.eks_llm.inference.plugins.module_utils.common import wait_until
from ansible_collections.eks_llm.inference.plugins.module_utils.common import waiter_config
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import EKSErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import addon_update_request
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import association_pairs
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import configuration_to_json
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import current_association_pairs
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import describe_addon
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import ensure_tags
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import pairs_to_ansible
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import pairs_to_api
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import parse_configuration
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import resource_to_ansible
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import wanted_addon_version

WAIT_DELAY = 10
ASSOCIATION_OPTIONS = dict(
    service_account=dict(type="str", required=True),
    role_arn=dict(type="str", required=True),
)
BUSY_STATES = ("CREATING", "UPDATING")


@EKSErrorHandler.common_error_handler("create add-on")
def create_addon(client, request):
    return client.create_addon(aws_retry=True, **request)["addon"]


@EKSErrorHandler.common_error_handler("update add-on")
def update_addon(client, request):
    return client.update_addon(aws_retry=True, **request)["update"]


@EKSErrorHandler.deletion_error_handler("delete add-on")
def delete_addon(client, cluster_name, addon_name, preserve):
    client.delete_addon(clusterName=cluster_name, addonName=addon_name, preserve=preserve, aws_retry=True)
    return True


@EKSErrorHandler.common_error_handler("describe add-on update")
def describe_update(client, cluster_name, addon_name, update_id):
    return client.describe_update(name=cluster_name, updateId=update_id, addonName=addon_name, aws_retry=True)[
        "update"
    ]


def health_summary(addon):
    """One line per health issue of an add-on."""
    issues = ((addon or {}).get("health") or {}).get("issues") or []
    lines = []
    for issue in issues:
        line = "%s: %s" % (issue.get("code"), issue.get("message"))
        if issue.get("resourceIds"):
            line += " (%s)" % ", ".join(issue["resourceIds"])
        lines.append(line)
    return lines


class AddonWaiter:
    """Waits on an add-on with one deadline for every stage; fails the module on trouble."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.cluster_name = module.params["cluster_name"]
        self.addon_name = module.params["name"]
        self.deadline = time.monotonic() + module.params["wait_timeout"]

    def remaining(self):
        return max(1, int(self.deadline - time.monotonic()))

    def _fail(self, addon, what):
        addon = addon or describe_addon(self.client, self.cluster_name, self.addon_name) or {}
        issues = health_summary(addon)
        msg = "Add-on %s of cluster %s %s (status %s)" % (
            self.addon_name,
            self.cluster_name,
            what,
            addon.get("status", "unknown"),
        )
        if issues:
            msg += "; health issues: " + "; ".join(issues)
        self.module.fail_json(msg=msg, addon=resource_to_ansible(addon), health_issues=issues)

    def _wait(self, name):
        waiter = self.client.get_waiter(name)
        try:
            waiter.wait(
                clusterName=self.cluster_name,
                addonName=self.addon_name,
                WaiterConfig=waiter_config(self.remaining(), WAIT_DELAY),
            )
        except botocore.exceptions.WaiterError as e:
            reason = e.kwargs.get("reason") or ""
            last_response = e.last_response if isinstance(e.last_response, dict) else {}
            if reason.startswith("Max attempts exceeded"):
                goal = "ACTIVE" if name == "addon_active" else "deleted"
                self._fail(
                    last_response.get("addon"),
                    "did not become %s within %ss" % (goal, self.module.params["wait_timeout"]),
                )
            if "Error" in last_response:
                raise AnsibleAWSError(message="Failed waiting for add-on %s" % self.addon_name, exception=e) from e
            self._fail(last_response.get("addon"), "failed")

    def active(self):
        self._wait("addon_active")
        return describe_addon(self.client, self.cluster_name, self.addon_name)

    def deleted(self):
        self._wait("addon_deleted")

    def update(self, update):
        """Poll DescribeUpdate until the update ends, then wait for ACTIVE."""

        def failed(value):
            if value["status"] in ("Failed", "Cancelled"):
                errors = ["%s: %s" % (err.get("errorCode"), err.get("errorMessage")) for err in value.get("errors") or []]
                return "update %s of add-on %s %s: %s" % (
                    value["id"], self.addon_name, value["status"].lower(), "; ".join(errors) or "no details"
                )
            return None

        try:
            wait_until(
                lambda: describe_update(self.client, self.cluster_name, self.addon_name, update["id"]),
                lambda value: value["status"] == "Successful",
                self.remaining(),
                delay=WAIT_DELAY,
                failed=failed,
            )
        except WaitTimeout as e:
            self.module.fail_json(msg=str(e), update=resource_to_ansible(update))
        return self.active()


def comparable(addon, pairs=None):
    """The user-managed state of an add-on, for ``diff``."""
    if not addon:
        return {}
    try:
        configuration = parse_configuration(addon.get("configurationValues"))
    except ValueError:
        configuration = addon.get("configurationValues")
    state = dict(
        addon_version=addon.get("addonVersion"),
        configuration_values=configuration,
        service_account_role_arn=addon.get("serviceAccountRoleArn"),
        tags=addon.get("tags") or {},
    )
    if pairs is not None:
        state["pod_identity_associations"] = pairs_to_ansible(pairs)
    return state


def wanted_version(module, client, current):
    """The concrete version to install, or None to leave it to EKS / as it is (fails the module when the requested
    version cannot be resolved)."""
    params = module.params
    try:
        return wanted_addon_version(client, params["cluster_name"], params["name"], params["addon_version"], current)
    except ValueError as e:
        module.fail_json(msg=str(e))


def create(module, client, version):
    params = module.params
    request = dict(
        clusterName=params["cluster_name"], addonName=params["name"], resolveConflicts=params["resolve_conflicts"]
    )
    if version:
        request["addonVersion"] = version
    if params["configuration_values"]:
        request["configurationValues"] = configuration_to_json(params["configuration_values"])
    if params["service_account_role_arn"]:
        request["serviceAccountRoleArn"] = params["service_account_role_arn"]
    wanted_pairs = association_pairs(params["pod_identity_associations"])
    if wanted_pairs:
        request["podIdentityAssociations"] = pairs_to_api(wanted_pairs)
    if params["tags"]:
        request["tags"] = params["tags"]

    predicted = dict(
        addonName=params["name"],
        clusterName=params["cluster_name"],
        addonVersion=version,
        configurationValues=request.get("configurationValues"),
        serviceAccountRoleArn=request.get("serviceAccountRoleArn"),
        tags=params["tags"] or {},
    )
    if module.check_mode:
        return None, predicted
    addon = create_addon(client, request)
    if params["wait"]:
        addon = AddonWaiter(module, client).active()
    return addon, addon


def update(module, client, current, version, current_pairs):
    """Update and re-tag an existing add-on. Returns ``(changed, addon, after)``.

    ``current_pairs`` are the Pod Identity associations of ``current`` when the
    module manages them, else None.
    """
    params = module.params
    request = addon_update_request(current, version, params, current_pairs)

    changed = bool(request)
    addon = after = dict(current)
    waiter = AddonWaiter(module, client) if params["wait"] else None
    if request:
        if module.check_mode:
            after = dict(current)
            after.update({k: v for k, v in request.items() if k != "podIdentityAssociations"})
            addon = after
        else:
            if waiter and current.get("status") in BUSY_STATES:
                # EKS refuses an update while the add-on is still busy.
                waiter.active()
            request.update(
                clusterName=params["cluster_name"],
                addonName=params["name"],
                resolveConflicts=params["resolve_conflicts"],
            )
            started = update_addon(client, request)
            if waiter:
                addon = after = waiter.update(started)
            else:
                addon = after = describe_addon(client, params["cluster_name"], params["name"]) or current
    elif waiter and current.get("status") != "ACTIVE" and not module.check_mode:
        addon = after = waiter.active()

    tags_changed, tags_after = ensure_tags(
        client, module.check_mode, current["addonArn"], current.get("tags"), params["tags"], params["purge_tags"]
    )
    if tags_changed:
        changed = True
        addon = dict(addon, tags=tags_after)
        after = dict(after, tags=tags_after)
    return changed, addon, after


def run(module, client):
    params = module.params
    current = describe_addon(client, params["cluster_name"], params["name"])
    manage_pairs = params["state"] == "present" and params["pod_identity_associations"] is not None
    before_pairs = None
    if manage_pairs and current is not None:
        before_pairs = current_association_pairs(client, params["cluster_name"], current.get("podIdentityAssociations"))

    if params["state"] == "absent":
        returned = after = None
        changed = current is not None and current.get("status") != "DELETING"
        if current is not None and not module.check_mode:
            if changed:
                delete_addon(client, params["cluster_name"], params["name"], params["preserve"])
            if params["wait"]:
                AddonWaiter(module, client).deleted()
    else:
        version = wanted_version(module, client, current)
        if current is not None and current.get("status") == "DELETING":
            if module.check_mode:
                current = None
            elif params["wait"]:
                AddonWaiter(module, client).deleted()
                current = None
            else:
                module.fail_json(msg="Add-on %s is being deleted; run again with wait=true to re-create it" % params["name"])
        if current is None:
            changed = True
            returned, after = create(module, client, version)
        else:
            changed, returned, after = update(module, client, current, version, before_pairs)

    result = dict(changed=changed, addon=resource_to_ansible(returned))
    if module._diff:
        after_pairs = association_pairs(params["pod_identity_associations"]) if manage_pairs else None
        result["diff"] = dict(
            before=comparable(current, before_pairs if current is not None else None),
            after=comparable(after, after_pairs),
        )
    return result


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        name=dict(type="str", aliases=["addon_name"]),
        addons=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"]),
            addon_version=dict(type="str"),
            configuration_values=dict(type="dict"),
            service_account_role_arn=dict(type="str"),
            pod_identity_associations=dict(type="list", elements="dict", options=ASSOCIATION_OPTIONS),
            preserve=dict(type="bool"),
        )),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        addon_version=dict(type="str"),
        configuration_values=dict(type="dict"),
        resolve_conflicts=dict(type="str", default="OVERWRITE", choices=["NONE", "OVERWRITE", "PRESERVE"]),
        service_account_role_arn=dict(type="str"),
        pod_identity_associations=dict(type="list", elements="dict", options=ASSOCIATION_OPTIONS),
        preserve=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleEKSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("name", "addons")],
        mutually_exclusive=[("addons", option) for option in ("name", "addon_version", "configuration_values",
                                                              "service_account_role_arn", "pod_identity_associations")],
    )
    client = module.retrying_client("eks")
    try:
        if module.params["addons"] is not None:
            module.exit_json(**run_entries(module, client, run, "addons", "addon", inherited=("state", "preserve")))
        module.exit_json(**run(module, client))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
