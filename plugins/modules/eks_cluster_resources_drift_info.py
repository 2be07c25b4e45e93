#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_cluster_resources_drift_info
short_description: Tell which node group, add-ons, access entries, OIDC provider and pod identities of a cluster would change
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Compares what the C(eks_cluster) role ensures in a cluster - a managed node group, managed add-ons, access
    entries, the cluster's IAM OIDC provider and pod identity associations - with what exists, with the same reads
    and comparisons as M(eks_llm.inference.eks_nodegroup), M(eks_llm.inference.eks_addon),
    M(eks_llm.inference.eks_access_entry), M(eks_llm.inference.iam_oidc_provider) and
    M(eks_llm.inference.eks_pod_identity_association) (their defaults included; those that wait as with C(wait=false)), and
    returns which would change, with the statuses a later wait needs. Run them only for what differs - a re-run that
    changes nothing then costs this one module run instead of one per resource.
  - Conservative - whatever cannot be shown equal counts as drift, so that the write module runs and decides - a
    missing resource, one being deleted or failed, a wanted change the write module would refuse, an add-on version
    that cannot be resolved.
  - Read-only; never changes anything.
options:
  cluster_name:
    description: Name of the EKS cluster.
    type: str
    required: true
  tags:
    description:
      - Tags of every resource compared (the role gives all of them the same). Not compared when not set.
    type: dict
  purge_tags:
    description: Whether tags not in O(tags) are drift (the write modules would remove them). Tags starting with C(aws:) never are.
    type: bool
    default: true
  nodegroup:
    description:
      - The managed node group, with the options of M(eks_llm.inference.eks_nodegroup); one not set is not compared.
    type: dict
    suboptions:
      name:
        description: Name of the node group.
        type: str
        required: true
      node_role_arn:
        description: ARN of the nodes' IAM role.
        type: str
      subnets:
        description: Subnet ids of the nodes.
        type: list
        elements: str
      instance_types:
        description: Instance types.
        type: list
        elements: str
      ami_type:
        description: AMI type.
        type: str
      capacity_type:
        description: Capacity type.
        type: str
        choices: [ON_DEMAND, SPOT, CAPACITY_BLOCK]
      disk_size:
        description: Root volume size in GiB.
        type: int
      scaling_config:
        description: Scaling; the desired size is compared as M(eks_llm.inference.eks_nodegroup) sets it (only when out of bounds).
        type: dict
        suboptions:
          min_size:
            description: Minimum number of nodes.
            type: int
          max_size:
            description: Maximum number of nodes.
            type: int
          desired_size:
            description: Desired number of nodes.
            type: int
      labels:
        description: Kubernetes labels of the nodes.
        type: dict
      taints:
        description: Kubernetes taints of the nodes.
        type: list
        elements: dict
        suboptions:
          key:
            description: Taint key.
            type: str
            required: true
          value:
            description: Taint value.
            type: str
          effect:
            description: Taint effect.
            type: str
            required: true
            choices: [NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE]
  addons:
    description:
      - Managed add-ons that should be installed, each as an entry of M(eks_llm.inference.eks_addon)'s
        O(eks_llm.inference.eks_addon#module:addons).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the add-on.
        type: str
        required: true
      addon_version:
        description: Version, or V(default) or V(latest). Not compared when not set.
        type: str
      configuration_values:
        description: Configuration, compared by value. Not compared when not set.
        type: dict
      service_account_role_arn:
        description: IAM role of the add-on's service account. Not compared when not set.
        type: str
      pod_identity_associations:
        description: The Pod Identity associations the add-on owns (all of them). Not compared when not set.
        type: list
        elements: dict
        suboptions:
          service_account:
            description: Service account of the add-on.
            type: str
            required: true
          role_arn:
            description: ARN of the IAM role it gets.
            type: str
            required: true
  access_entries:
    description: Access entries, each with the options of M(eks_llm.inference.eks_access_entry).
    type: list
    elements: dict
    default: []
    suboptions:
      principal_arn:
        description: ARN of the IAM principal.
        type: str
        required: true
      type:
        description: Type of the entry. Not compared when not set.
        type: str
        choices: [STANDARD, EC2, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, HYPERPOD_LINUX]
      kubernetes_groups:
        description: Kubernetes groups. Not compared when not set.
        type: list
        elements: str
      username:
        description: Kubernetes user name. Not compared when not set.
        type: str
      access_policies:
        description: Access policies (short names or ARNs) with their scopes. Not compared when not set.
        type: list
        elements: dict
        suboptions:
          policy_arn:
            description: Name or ARN of the access policy.
            type: str
            required: true
          access_scope:
            description: Scope of the policy.
            type: dict
            suboptions:
              type:
                description: V(cluster) or V(namespace).
                type: str
                default: cluster
                choices: [cluster, namespace]
              namespaces:
                description: Namespaces of a V(namespace) scope.
                type: list
                elements: str
      purge_access_policies:
        description: Whether associated policies not in O(access_entries[].access_policies) are drift.
        type: bool
        default: true
  oidc_provider:
    description: The cluster's IAM OIDC provider, with the options of M(eks_llm.inference.iam_oidc_provider).
    type: dict
    suboptions:
      url:
        description: Issuer URL of the cluster.
        type: str
        required: true
      client_ids:
        description: Audiences.
        type: list
        elements: str
        default: [sts.amazonaws.com]
      thumbprints:
        description: Thumbprints. Not compared when not set.
        type: list
        elements: str
      state:
        description: Whether the provider should exist.
        type: str
        default: present
        choices: [present, absent]
  pod_identity_associations:
    description: Pod identity associations, each with the options of M(eks_llm.inference.eks_pod_identity_association).
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace of the service account.
        type: str
        required: true
      service_account:
        description: Name of the service account.
        type: str
        required: true
      role_arn:
        description: ARN of the IAM role the service account gets.
        type: str
        required: true
notes:
  - Supports check mode.
  - Reads with the EKS describe and list calls of the five write modules, and C(iam:ListOpenIDConnectProviders) and
    C(iam:GetOpenIDConnectProvider).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Which of the cluster's resources would the write tasks change
  eks_llm.inference.eks_cluster_resources_drift_info:
    cluster_name: demo
    tags: {eks-llm:deployment: demo}
    nodegroup:
      name: demo-core
      instance_types: [m6i.large]
      scaling_config: {min_size: 2, max_size: 4, desired_size: 2}
      labels: {eks-llm/node-role: core}
    addons:
      - name: coredns
        addon_version: default
    access_entries:
      - principal_arn: arn:aws:iam::123456789012:role/demo-karpenter-node
        type: EC2_LINUX
        access_policies: []
    oidc_provider:
      url: https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
      state: absent
    pod_identity_associations:
      - namespace: karpenter
        service_account: karpenter
        role_arn: arn:aws:iam::123456789012:role/demo-karpenter-controller
  register: resources

- name: Update the node group only when it differs
  eks_llm.inference.eks_nodegroup:
    cluster_name: demo
    name: demo-core
    instance_types: [m6i.large]
    scaling_config: {min_size: 2, max_size: 4, desired_size: 2}
    labels: {eks-llm/node-role: core}
    tags: {eks-llm:deployment: demo}
  when: resources.nodegroup.drifted
"""

RETURN = r"""
drifted:
  description: Whether anything would change.
  returned: always
  type: bool
  sample: false
nodegroup:
  description: The node group.
  returned: when O(nodegroup) is given
  type: dict
  contains:
    drifted:
      description: Whether M(eks_llm.inference.eks_nodegroup) would create, update, re-tag or refuse it.
      type: bool
      sample: false
    status:
      description: Its status; empty when it does not exist.
      type: str
      sample: ACTIVE
    reasons:
      description: What differs, in short phrases.
      type: list
      elements: str
      sample: ["scaling differs"]
addons:
  description: One entry per add-on, in the order of O(addons).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the add-on.
      type: str
      sample: coredns
    drifted:
      description: Whether M(eks_llm.inference.eks_addon) would create, update or re-tag it.
      type: bool
      sample: false
    status:
      description: Its status; empty when it does not exist.
      type: str
      sample: ACTIVE
    reasons:
      description: What differs, in short phrases.
      type: list
      elements: str
      sample: ["configuration differs"]
access_entries:
  description: One entry per access entry, in the order of O(access_entries).
  returned: always
  type: list
  elements: dict
  contains:
    principal_arn:
      description: The principal.
      type: str
      sample: arn:aws:iam::123456789012:role/demo-karpenter-node
    drifted:
      description: Whether M(eks_llm.inference.eks_access_entry) would create, change or refuse it.
      type: bool
      sample: false
    reasons:
      description: What differs, in short phrases.
      type: list
      elements: str
      sample: ["access policy arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy not associated"]
oidc_provider:
  description: The OIDC provider.
  returned: when O(oidc_provider) is given
  type: dict
  contains:
    drifted:
      description: Whether M(eks_llm.inference.iam_oidc_provider) would create, change or delete it.
      type: bool
      sample: false
    arn:
      description: Its ARN, as M(eks_llm.inference.iam_oidc_provider) returns it; null when it does not exist or is wanted absent.
      type: str
      sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
    reasons:
      description: What differs, in short phrases.
      type: list
      elements: str
      sample: ["client id example not wanted"]
pod_identity_associations:
  description: One entry per association, in the order of O(pod_identity_associations).
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the service account.
      type: str
      sample: karpenter
    service_account:
      description: The service account.
      type: str
      sample: karpenter
    drifted:
      description: Whether M(eks_llm.inference.eks_pod_identity_association) would create or change it.
      type: bool
      sample: false
    reasons:
      description: What differs, in short phrases.
      type: list
      elements: str
      sample: ["role differs"]
"""


from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import tag_differences
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import ACCESS_ENTRY_TYPES
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import addon_update_request
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import association_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import current_association_pairs
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import current_policies
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import describe_access_entry
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import describe_addon
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import entry_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import find_association
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import list_associated_policies
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import partition_of
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import policy_diff
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import rbac_restriction_error
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import wanted_addon_version
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import wanted_policies
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import describe_nodegroup
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import known_ami_types
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import plan_nodegroup_updates
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import THUMBPRINT_RE
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import bare_url
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import find_oidc_provider
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import oidc_provider_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import oidc_provider_state

NODEGROUP_SPEC = dict(
    name=dict(type="str", required=True),
    node_role_arn=dict(type="str"),
    subnets=dict(type="list", elements="str"),
    instance_types=dict(type="list", elements="str"),
    ami_type=dict(type="str"),
    capacity_type=dict(type="str", choices=["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]),
    disk_size=dict(type="int"),
    scaling_config=dict(type="dict", options=dict(min_size=dict(type="int"), max_size=dict(type="int"), desired_size=dict(type="int"))),
    labels=dict(type="dict"),
    taints=dict(type="list", elements="dict", options=dict(
        key=dict(type="str", required=True, no_log=False),
        value=dict(type="str"),
        effect=dict(type="str", required=True, choices=["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"]),
    )),
)
ADDON_SPEC = dict(
    name=dict(type="str", required=True),
    addon_version=dict(type="str"),
    configuration_values=dict(type="dict"),
    service_account_role_arn=dict(type="str"),
    pod_identity_associations=dict(type="list", elements="dict", options=dict(
        service_account=dict(type="str", required=True),
        role_arn=dict(type="str", required=True),
    )),
)
ACCESS_ENTRY_SPEC = dict(
    principal_arn=dict(type="str", required=True),
    type=dict(type="str", choices=list(ACCESS_ENTRY_TYPES)),
    kubernetes_groups=dict(type="list", elements="str"),
    username=dict(type="str"),
    access_policies=dict(type="list", elements="dict", options=dict(
        policy_arn=dict(type="str", required=True),
        access_scope=dict(type="dict", options=dict(
            type=dict(type="str", default="cluster", choices=["cluster", "namespace"]),
            namespaces=dict(type="list", elements="str"),
        )),
    )),
    purge_access_policies=dict(type="bool", default=True),
)
OIDC_PROVIDER_SPEC = dict(
    url=dict(type="str", required=True),
    client_ids=dict(type="list", elements="str", default=["sts.amazonaws.com"]),
    thumbprints=dict(type="list", elements="str"),
    state=dict(type="str", default="present", choices=["present", "absent"]),
)
POD_IDENTITY_SPEC = dict(
    namespace=dict(type="str", required=True),
    service_account=dict(type="str", required=True),
    role_arn=dict(type="str", required=True),
)
# node group states eks_nodegroup refuses to work on (it fails, naming them)
NODEGROUP_REFUSED_STATES = ("DELETING", "CREATE_FAILED", "DELETE_FAILED")
# the parts of a node group eks_nodegroup's config update changes, by their name in the call
NODEGROUP_CONFIG_PARTS = (("scalingConfig", "scaling differs"), ("labels", "labels differ"), ("taints", "taints differ"),
                          ("updateConfig", "update config differs"))


class ResourcesDrift:
    """Compares each wanted resource with EKS and IAM; every ``*_drift`` method returns one result entry."""

    def __init__(self, module, eks, iam):
        self.params = module.params
        self.cluster_name = module.params["cluster_name"]
        self.eks = eks
        self.iam = iam

    def tag_reasons(self, current):
        if self.params["tags"] is None:
            return []
        to_set, to_remove = compare_aws_tags(current or {}, self.params["tags"], purge_tags=self.params["purge_tags"])
        return tag_differences(current, to_set, to_remove)

    def nodegroup_drift(self, wanted):
        """As eks_nodegroup's present with wait=false."""
        known = known_ami_types(self.eks)
        if wanted["ami_type"] is not None and known and wanted["ami_type"] not in known:
            return dict(drifted=True, status="", reasons=["AMI type %s unknown" % wanted["ami_type"]])
        nodegroup = describe_nodegroup(self.eks, self.cluster_name, wanted["name"])
        if nodegroup is None:
            return dict(drifted=True, status="", reasons=["missing"])
        reasons = []
        if nodegroup.get("status") in NODEGROUP_REFUSED_STATES:
            reasons.append("status %s" % nodegroup["status"])
        errors, plan = plan_nodegroup_updates(self.cluster_name, wanted["name"], nodegroup, dict(wanted, force_desired_size=False))
        reasons += ["cannot be reconciled: %s" % error for error in errors]
        for update in plan:
            parts = [label for key, label in NODEGROUP_CONFIG_PARTS if key in update["kwargs"]]
            reasons += parts or [update["type"]]
        reasons += self.tag_reasons(nodegroup.get("tags"))
        return dict(drifted=bool(reasons), status=nodegroup.get("status", ""), reasons=reasons)

    def addon_drift(self, wanted):
        """As eks_addon's run with state=present and wait=false."""
        result = dict(name=wanted["name"], drifted=True, status="", reasons=[])
        current = describe_addon(self.eks, self.cluster_name, wanted["name"])
        try:
            version = wanted_addon_version(self.eks, self.cluster_name, wanted["name"], wanted["addon_version"], current)
        except ValueError as error:
            result["reasons"].append("version cannot be resolved: %s" % error)
            version = None
        if current is None:
            result["reasons"].append("missing")
            return result
        result["status"] = current.get("status", "")
        if current.get("status") == "DELETING":
            result["reasons"].append("status DELETING")
        pairs = None
        if wanted["pod_identity_associations"] is not None:
            pairs = current_association_pairs(self.eks, self.cluster_name, current.get("podIdentityAssociations"))
        phrases = dict(addonVersion="version differs", configurationValues="configuration differs",
                       serviceAccountRoleArn="service account role differs", podIdentityAssociations="pod identity associations differ")
        result["reasons"] += [phrases[key] for key in sorted(addon_update_request(current, version, wanted, pairs))]
        result["reasons"] += self.tag_reasons(current.get("tags"))
        result["drifted"] = bool(result["reasons"])
        return result

    def access_entry_drift(self, wanted):
        """As eks_access_entry's run with state=present."""
        result = dict(principal_arn=wanted["principal_arn"], drifted=True, reasons=[])
        policies = None
        if wanted["access_policies"] is not None:
            try:
                policies = wanted_policies(wanted["access_policies"], partition_of(wanted["principal_arn"]))
            except ValueError as error:
                result["reasons"].append(str(error))
                return result
        refused = rbac_restriction_error(wanted["type"], wanted["kubernetes_groups"], policies)
        if refused:
            result["reasons"].append(refused)
            return result
        current = describe_access_entry(self.eks, self.cluster_name, wanted["principal_arn"])
        if current is None:
            result["reasons"].append("missing")
            return result
        if wanted["type"] and wanted["type"] != current.get("type"):
            result["reasons"].append("type %s, wanted %s" % (current.get("type"), wanted["type"]))
        refused = rbac_restriction_error(current.get("type"), wanted["kubernetes_groups"], policies)
        if refused:
            result["reasons"].append(refused)
        result["reasons"] += ["%s differs" % key for key in sorted(entry_changes(current, wanted))]
        result["reasons"] += self.tag_reasons(current.get("tags"))
        if policies is not None:
            associated = list_associated_policies(self.eks, self.cluster_name, wanted["principal_arn"])
            to_associate, to_disassociate = policy_diff(current_policies(associated), policies, wanted["purge_access_policies"])
            result["reasons"] += ["access policy %s not associated as wanted" % arn for arn, dummy in to_associate]
            result["reasons"] += ["access policy %s associated, not wanted" % arn for arn in to_disassociate]
        result["drifted"] = bool(result["reasons"])
        return result

    def oidc_provider_drift(self, wanted):
        """As iam_oidc_provider's run; the arn is the one it returns."""
        url = bare_url(wanted["url"])
        bad = [t for t in wanted["thumbprints"] or [] if not THUMBPRINT_RE.match(t)]
        if bad or not url:
            # iam_oidc_provider refuses these: let it say why
            return dict(drifted=True, arn=None, reasons=["thumbprints or url refused"])
        arn, described = find_oidc_provider(self.iam, url)
        before = oidc_provider_state(described)
        if wanted["state"] == "absent":
            return dict(drifted=before is not None, arn=None, reasons=["exists, not wanted"] if before is not None else [])
        if before is None:
            return dict(drifted=True, arn=None, reasons=["missing"])
        changes = oidc_provider_changes(before, wanted["client_ids"], wanted["thumbprints"], self.params["tags"], self.params["purge_tags"])
        reasons = (["client id %s missing" % client_id for client_id in changes["add_client_ids"]]
                   + ["client id %s not wanted" % client_id for client_id in changes["remove_client_ids"]]
                   + (["thumbprints differ"] if changes["thumbprints"] is not None else [])
                   + tag_differences(before["tags"], changes["tags_to_set"], changes["tags_to_remove"]))
        return dict(drifted=bool(reasons), arn=arn, reasons=reasons)

    def pod_identity_drift(self, wanted):
        """As eks_pod_identity_association's run with state=present (no target role, session tags as EKS has them)."""
        result = dict(namespace=wanted["namespace"], service_account=wanted["service_account"], drifted=True, reasons=[])
        current = find_association(self.eks, self.cluster_name, wanted["namespace"], wanted["service_account"])
        if current is None:
            result["reasons"].append("missing")
            return result
        changes = association_changes(current, dict(wanted, target_role_arn=None, disable_session_tags=None))
        result["reasons"] += ["%s differs" % key for key in sorted(changes)] + self.tag_reasons(current.get("tags"))
        result["drifted"] = bool(result["reasons"])
        return result


def read_resources(drift, params):
    result = dict(changed=False)
    if params["nodegroup"] is not None:
        result["nodegroup"] = drift.nodegroup_drift(params["nodegroup"])
    result["addons"] = [drift.addon_drift(wanted) for wanted in params["addons"]]
    result["access_entries"] = [drift.access_entry_drift(wanted) for wanted in params["access_entries"]]
    if params["oidc_provider"] is not None:
        result["oidc_provider"] = drift.oidc_provider_drift(params["oidc_provider"])
    result["pod_identity_associations"] = [drift.pod_identity_drift(wanted) for wanted in params["pod_identity_associations"]]
    return result


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            cluster_name=dict(type="str", required=True),
            tags=dict(type="dict"),
            purge_tags=dict(type="bool", default=True),
            nodegroup=dict(type="dict", options=NODEGROUP_SPEC),
            addons=dict(type="list", elements="dict", default=[], options=ADDON_SPEC),
            access_entries=dict(type="list", elements="dict", default=[], options=ACCESS_ENTRY_SPEC),
            oidc_provider=dict(type="dict", options=OIDC_PROVIDER_SPEC),
            pod_identity_associations=dict(type="list", elements="dict", default=[], options=POD_IDENTITY_SPEC),
        ),
        supports_check_mode=True,
    )
    params = module.params
    drift = ResourcesDrift(module, module.retrying_client("eks"), module.retrying_client("iam"))
    read = NotFoundErrorHandler.common_error_handler("read the resources of cluster %s" % params["cluster_name"])(read_resources)
    try:
        result = read(drift, params)
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    entries = [result.get("nodegroup"), result.get("oidc_provider")] + result["addons"] + result["access_entries"]
    result["drifted"] = any(entry["drifted"] for entry in entries + result["pod_identity_associations"] if entry)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
