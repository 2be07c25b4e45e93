#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_access_entry
short_description: Manage EKS access entries and their access policies
version_added: 0.1.0
description:
  - Create, update or delete an Amazon EKS access entry, which lets an IAM principal
    authenticate to the Kubernetes API of a cluster (the replacement for the
    C(aws-auth) ConfigMap).
  - Associates and disassociates the EKS access policies of the entry, each with a
    cluster-wide or namespaced scope.
  - The cluster's authentication mode must be C(API) or C(API_AND_CONFIG_MAP).
author:
  - eks_llm maintainers (@eks-llm)
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    type: str
    required: true
  principal_arn:
    description:
      - ARN of the IAM role or user the entry is for. It identifies the entry.
      - Node types (see O(type)) accept IAM roles only.
    type: str
    required: true
  type:
    description:
      - Type of the access entry. Use V(EC2_LINUX) or V(EC2_WINDOWS) for the node role
        of self-managed or Karpenter nodes, V(EC2) for EKS Auto Mode nodes,
        V(FARGATE_LINUX), V(HYBRID_LINUX) and V(HYPERPOD_LINUX) for those node kinds,
        and V(STANDARD) for people and automation.
      - When not set, EKS creates a V(STANDARD) entry.
      - The type of an existing entry cannot change; the module fails instead of
        replacing the entry.
      - EKS refuses O(kubernetes_groups) and O(access_policies) on V(EC2_LINUX) and
        V(EC2_WINDOWS) entries; the module fails before calling AWS when they are set.
    type: str
    choices: ['STANDARD', 'EC2', 'EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX', 'HYBRID_LINUX', 'HYPERPOD_LINUX']
  kubernetes_groups:
    description:
      - Kubernetes groups the principal belongs to, for Kubernetes RBAC bindings.
      - The list replaces the groups of the entry; order does not matter.
        V([]) removes every group.
      - When not set, the groups are left as they are.
    type: list
    elements: str
  username:
    description:
      - Kubernetes user name of the principal.
      - When not set, EKS chooses one on creation and the module leaves it as it is.
    type: str
  access_policies:
    description:
      - EKS access policies to associate with the entry.
      - When not set, the associated policies are left as they are.
      - A policy already associated with a different scope is associated again with the
        new scope.
    type: list
    elements: dict
    suboptions:
      policy_arn:
        description:
          - ARN of the access policy, or its short name such as
            V(AmazonEKSClusterAdminPolicy) or V(AmazonEKSViewPolicy), which is expanded to
            C(arn:<partition>:eks::aws:cluster-access-policy/<name>) (the partition is
            taken from O(principal_arn)).
        type: str
        required: true
      access_scope:
        description:
          - Where the policy applies. Defaults to the whole cluster.
        type: dict
        suboptions:
          type:
            description:
              - V(cluster) for the whole cluster, V(namespace) for the namespaces listed
                in O(access_policies[].access_scope.namespaces).
            type: str
            choices: ['cluster', 'namespace']
            default: cluster
          namespaces:
            description:
              - Namespaces the policy applies to. Required, and only allowed, with
                O(access_policies[].access_scope.type=namespace).
            type: list
            elements: str
  purge_access_policies:
    description:
      - When O(access_policies) is set, disassociate the policies of the entry that
        are not listed.
    type: bool
    default: true
  state:
    description:
      - Whether the access entry should exist. Deleting an entry also removes its
        policy associations.
    type: str
    choices: ['present', 'absent']
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Cluster administrator role
  eks_llm.inference.eks_access_entry:
    cluster_name: llm
    principal_arn: arn:aws:iam::123456789012:role/llm-admin
    access_policies:
      - policy_arn: AmazonEKSClusterAdminPolicy

- name: Read-only access to two namespaces, plus an RBAC group
  eks_llm.inference.eks_access_entry:
    cluster_name: llm
    principal_arn: arn:aws:iam::123456789012:role/llm-viewer
    kubernetes_groups:
      - llm-viewers
    access_policies:
      - policy_arn: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        access_scope:
          type: namespace
          namespaces:
            - nim
            - triton
    tags:
      app.kubernetes.io/part-of: eks-llm-inference

- name: Let nodes launched by Karpenter join the cluster
  eks_llm.inference.eks_access_entry:
    cluster_name: llm
    principal_arn: arn:aws:iam::123456789012:role/llm-karpenter-node
    type: EC2_LINUX

- name: Remove the entry and its policy associations
  eks_llm.inference.eks_access_entry:
    cluster_name: llm
    principal_arn: arn:aws:iam::123456789012:role/llm-viewer
    state: absent
"""

RETURN = r"""
access_entry:
  description:
    - The access entry as EKS describes it, with snake_case keys.
    - Empty when the entry does not exist (O(state=absent), or a creation in check mode).
  returned: always
  type: dict
  contains:
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: llm
    principal_arn:
      description: ARN of the IAM principal.
      type: str
      sample: arn:aws:iam::123456789012:role/llm-admin
    type:
      description: Type of the entry.
      type: str
      sample: STANDARD
    kubernetes_groups:
      description: Kubernetes groups of the principal.
      type: list
      elements: str
      sample: ["llm-viewers"]
    username:
      description: Kubernetes user name of the principal.
      type: str
      sample: arn:aws:sts::123456789012:assumed-role/llm-admin/{{SessionName}}
    access_entry_arn:
      description: ARN of the access entry.
      type: str
      sample: arn:aws:eks:us-west-2:123456789012:access-entry/llm/role/123456789012/llm-admin/1234abcd
    tags:
      description: Tags of the entry.
      type: dict
      sample: {"app.kubernetes.io/part-of": "eks-llm-inference"}
    created_at:
      description: When the entry was created.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
    modified_at:
      description: When the entry was last modified.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
access_policies:
  description:
    - The access policies associated with the entry, with snake_case keys, sorted by ARN.
    - Empty when the entry does not exist.
  returned: always
  type: list
  elements: dict
  contains:
    policy_arn:
      description: ARN of the access policy.
      type: str
      sample: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
    access_scope:
      description: Scope of the association.
      type: dict
      contains:
        type:
          description: V(cluster) or V(namespace).
          type: str
          sample: namespace
        namespaces:
          description: Namespaces of a namespaced scope.
          type: list
          elements: str
          sample: ["nim", "triton"]
    associated_at:
      description: When the policy was associated.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
    modified_at:
      description: When the association was last modified.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import ACCESS_ENTRY_TYPES
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import EKSErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import current_policies
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import describe_access_entry
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import ensure_tags
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import entry_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import list_associated_policies
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import partition_of
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import policy_diff
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import rbac_restriction_error
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import resource_to_ansible
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import wanted_policies


def api_scope(scope):
    """The AccessScope request structure for a normalized scope."""
    if scope["type"] == "namespace":
        return {"type": "namespace", "namespaces": list(scope["namespaces"])}
    return {"type": scope["type"]}


@EKSErrorHandler.common_error_handler("create access entry")
def create_access_entry(client, params):
    request = dict(clusterName=params["cluster_name"], principalArn=params["principal_arn"])
    if params["kubernetes_groups"]:
        request["kubernetesGroups"] = params["kubernetes_groups"]
    if params["username"]:
        request["username"] = params["username"]
    if params["type"]:
        request["type"] = params["type"]
    if params["tags"]:
        request["tags"] = params["tags"]
    return client.create_access_entry(aws_retry=True, **request)["accessEntry"]


@EKSErrorHandler.common_error_handler("update access entry")
def update_access_entry(client, cluster_name, principal_arn, changes):
    return client.update_access_entry(
        clusterName=cluster_name, principalArn=principal_arn, aws_retry=True, **changes
    )["accessEntry"]


@EKSErrorHandler.deletion_error_handler("delete access entry")
def delete_access_entry(client, cluster_name, principal_arn):
    client.delete_access_entry(clusterName=cluster_name, principalArn=principal_arn, aws_retry=True)
    return True


@EKSErrorHandler.common_error_handler("associate access policy")
def associate_policy(client, cluster_name, principal_arn, policy_arn, scope):
    return client.associate_access_policy(
        clusterName=cluster_name,
        principalArn=principal_arn,
        policyArn=policy_arn,
        accessScope=api_scope(scope),
        aws_retry=True,
    )["associatedAccessPolicy"]


@EKSErrorHandler.deletion_error_handler("disassociate access policy")
def disassociate_policy(client, cluster_name, principal_arn, policy_arn):
    client.disassociate_access_policy(
        clusterName=cluster_name, principalArn=principal_arn, policyArn=policy_arn, aws_retry=True
    )
    return True


def comparable(entry, policies):
    """The user-managed state of an entry and its policies, for ``diff``."""
    if not entry:
        return {}
    return dict(
        type=entry.get("type"),
        kubernetes_groups=sorted(entry.get("kubernetesGroups") or []),
        username=entry.get("username"),
        tags=entry.get("tags") or {},
        access_policies=[
            dict(policy_arn=arn, access_scope=scope) for arn, scope in sorted(current_policies(policies).items())
        ],
    )


def sorted_policies(policies_by_arn):
    return [policies_by_arn[arn] for arn in sorted(policies_by_arn)]


def ensure_policies(module, client, associated, wanted):
    """Associate/disassociate policies. Returns ``(changed, associated_after)``."""
    params = module.params
    current = current_policies(associated)
    to_associate, to_disassociate = policy_diff(current, wanted, params["purge_access_policies"])
    if not to_associate and not to_disassociate:
        return False, sorted(associated, key=lambda p: p["policyArn"])

    after = {p["policyArn"]: p for p in associated}
    # Grant before revoking, so that swapping policies never leaves the principal without access.
    for arn, scope in to_associate:
        if module.check_mode:
            after[arn] = dict(policyArn=arn, accessScope=api_scope(scope))
        else:
            after[arn] = associate_policy(client, params["cluster_name"], params["principal_arn"], arn, scope)
    for arn in to_disassociate:
        if not module.check_mode:
            disassociate_policy(client, params["cluster_name"], params["principal_arn"], arn)
        after.pop(arn, None)
    return True, sorted_policies(after)


def ensure_present(module, client, current, associated, wanted):
    """Create or update the entry and its policies.

    Returns ``(changed, entry_returned, policies_returned, entry_after, policies_after)``.
    """
    params = module.params
    if current is None:
        predicted = dict(
            clusterName=params["cluster_name"],
            principalArn=params["principal_arn"],
            type=params["type"] or "STANDARD",
            kubernetesGroups=params["kubernetes_groups"] or [],
            tags=params["tags"] or {},
        )
        if params["username"]:
            predicted["username"] = params["username"]
        if module.check_mode:
            dummy, policies_after = ensure_policies(module, client, [], wanted or {})
            return True, None, [], predicted, policies_after
        created = create_access_entry(client, params)
        dummy, policies_after = ensure_policies(module, client, [], wanted or {})
        return True, created, policies_after, created, policies_after

    changed = False
    after = dict(current)
    changes = entry_changes(current, params)
    if changes:
        changed = True
        if module.check_mode:
            after.update(changes)
        else:
            after = update_access_entry(client, params["cluster_name"], params["principal_arn"], changes)

    tags_changed, tags_after = ensure_tags(
        client, module.check_mode, current["accessEntryArn"], current.get("tags"), params["tags"], params["purge_tags"]
    )
    if tags_changed:
        changed = True
        after["tags"] = tags_after

    policies_after = associated
    if wanted is not None:
        policies_changed, policies_after = ensure_policies(module, client, associated, wanted)
        changed = changed or policies_changed
    return changed, after, policies_after, after, policies_after


def run(module, client):
    params = module.params
    wanted = None
    if params["state"] == "present":
        if params["access_policies"] is not None:
            try:
                wanted = wanted_policies(params["access_policies"], partition_of(params["principal_arn"]))
            except ValueError as e:
                module.fail_json(msg=str(e))
        # Fail before any AWS call when the requested type can't carry RBAC settings.
        message = rbac_restriction_error(params["type"], params["kubernetes_groups"], wanted)
        if message:
            module.fail_json(msg=message)

    current = describe_access_entry(client, params["cluster_name"], params["principal_arn"])
    associated = []
    if current is not None:
        associated = list_associated_policies(client, params["cluster_name"], params["principal_arn"])

    if params["state"] == "absent":
        changed = current is not None
        if changed and not module.check_mode:
            delete_access_entry(client, params["cluster_name"], params["principal_arn"])
        entry_returned, policies_returned, entry_after, policies_after = None, [], None, []
    else:
        if current is not None:
            if params["type"] and params["type"] != current.get("type"):
                module.fail_json(
                    msg="The type of an access entry cannot change: %s is %s, type=%s was requested. "
                    "Delete the entry (state=absent) and create it again to change it."
                    % (params["principal_arn"], current.get("type"), params["type"])
                )
            message = rbac_restriction_error(current.get("type"), params["kubernetes_groups"], wanted)
            if message:
                module.fail_json(msg=message)
        changed, entry_returned, policies_returned, entry_after, policies_after = ensure_present(
            module, client, current, associated, wanted
        )

    result = dict(
        changed=changed,
        access_entry=resource_to_ansible(entry_returned),
        access_policies=[resource_to_ansible(p) for p in policies_returned],
    )
    if module._diff:
        result["diff"] = dict(before=comparable(current, associated), after=comparable(entry_after, policies_after))
    return result


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        principal_arn=dict(type="str", required=True),
        type=dict(type="str", choices=list(ACCESS_ENTRY_TYPES)),
        kubernetes_groups=dict(type="list", elements="str"),
        username=dict(type="str"),
        access_policies=dict(
            type="list",
            elements="dict",
            options=dict(
                policy_arn=dict(type="str", required=True),
                access_scope=dict(
                    type="dict",
                    options=dict(
                        type=dict(type="str", default="cluster", choices=["cluster", "namespace"]),
                        namespaces=dict(type="list", elements="str"),
                    ),
                ),
            ),
        ),
        purge_access_policies=dict(type="bool", default=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleEKSModule(argument_spec=argument_spec, supports_check_mode=True)
    client = module.retrying_client("eks")
    try:
        module.exit_json(**run(module, client))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
