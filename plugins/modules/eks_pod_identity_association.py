#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eks_pod_identity_association
short_description: Manage EKS Pod Identity associations
version_added: 0.1.0
description:
  - Create, update or delete an Amazon EKS Pod Identity association, which gives
    the pods of one Kubernetes service account the credentials of an IAM role.
  - An association is identified by its cluster, O(namespace) and O(service_account);
    the association id that EKS generates is looked up with
    C(ListPodIdentityAssociations).
  - The C(eks-pod-identity-agent) add-on must run in the cluster for pods to receive
    the credentials (see M(eks_llm.inference.eks_addon)).
author:
  - eks_llm maintainers (@eks-llm)
options:
  cluster_name:
    description:
      - Name of the EKS cluster.
    type: str
    required: true
  namespace:
    description:
      - Kubernetes namespace of the service account.
      - Cannot be changed; a different namespace is a different association.
    type: str
    required: true
  service_account:
    description:
      - Name of the Kubernetes service account.
      - Cannot be changed; a different service account is a different association.
    type: str
    required: true
  role_arn:
    description:
      - ARN of the IAM role the pods of the service account assume.
      - Its trust policy must allow C(pods.eks.amazonaws.com) to call
        C(sts:AssumeRole) and C(sts:TagSession).
      - Required when O(state=present).
    type: str
  target_role_arn:
    description:
      - ARN of a second IAM role, possibly in another account, that EKS assumes with
        the credentials of O(role_arn) (role chaining).
      - Only sent to EKS and compared when set. An empty string removes the target
        role from an existing association.
    type: str
  disable_session_tags:
    description:
      - Whether EKS stops adding its session tags (cluster name, namespace, service
        account, ...) when it assumes O(role_arn).
      - Only sent to EKS and compared when set; EKS adds the session tags by default.
    type: bool
  state:
    description:
      - Whether the association should exist.
    type: str
    choices: ['present', 'absent']
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - Pod Identity associations are eventually consistent; pods may need a few
    seconds after a change before they receive the new credentials.
"""

EXAMPLES = r"""
- name: Give the Karpenter controller its IAM role
  eks_llm.inference.eks_pod_identity_association:
    cluster_name: llm
    namespace: kube-system
    service_account: karpenter
    role_arn: arn:aws:iam::123456789012:role/llm-karpenter-controller
    tags:
      app.kubernetes.io/part-of: eks-llm-inference

- name: Let the EFS CSI controller reach a file system in another account
  eks_llm.inference.eks_pod_identity_association:
    cluster_name: llm
    namespace: kube-system
    service_account: efs-csi-controller-sa
    role_arn: arn:aws:iam::123456789012:role/llm-efs-csi
    target_role_arn: arn:aws:iam::210987654321:role/shared-efs-access
    disable_session_tags: true

- name: Remove the association
  eks_llm.inference.eks_pod_identity_association:
    cluster_name: llm
    namespace: kube-system
    service_account: karpenter
    state: absent
"""

RETURN = r"""
association:
  description:
    - The association as EKS describes it, with snake_case keys.
    - Empty when the association does not exist (O(state=absent), or a creation in check mode).
  returned: always
  type: dict
  contains:
    cluster_name:
      description: Name of the cluster.
      type: str
      sample: llm
    namespace:
      description: Kubernetes namespace of the service account.
      type: str
      sample: kube-system
    service_account:
      description: Name of the service account.
      type: str
      sample: karpenter
    role_arn:
      description: IAM role the pods assume.
      type: str
      sample: arn:aws:iam::123456789012:role/llm-karpenter-controller
    target_role_arn:
      description: Target IAM role assumed through O(role_arn), if any.
      type: str
      sample: arn:aws:iam::210987654321:role/shared-efs-access
    disable_session_tags:
      description: Whether EKS session tags are disabled.
      type: bool
      sample: false
    external_id:
      description: External id EKS passes when it assumes the target role.
      type: str
      sample: 0d7bd5a6-7c7e-4c0f-8f8b-5a4f6d3e2b1a
    association_arn:
      description: ARN of the association.
      type: str
      sample: arn:aws:eks:us-west-2:123456789012:podidentityassociation/llm/a-abcdefghijklmnop1
    association_id:
      description: Id of the association.
      type: str
      sample: a-abcdefghijklmnop1
    owner_arn:
      description: ARN of the add-on that owns the association, if an add-on created it.
      type: str
      sample: arn:aws:eks:us-west-2:123456789012:addon/llm/aws-efs-csi-driver/a1b2c3d4
    tags:
      description: Tags of the association.
      type: dict
      sample: {"app.kubernetes.io/part-of": "eks-llm-inference"}
    created_at:
      description: When the association was created.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
    modified_at:
      description: When the association was last modified.
      type: str
      sample: "2025-01-01T12:00:00+00:00"
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import EKSErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import association_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import ensure_tags
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import find_association
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_resources import resource_to_ansible


def create_association(client, params):
    request = dict(
        clusterName=params["cluster_name"],
        namespace=params["namespace"],
        serviceAccount=params["service_account"],
        roleArn=params["role_arn"],
    )
    if params["target_role_arn"]:
        request["targetRoleArn"] = params["target_role_arn"]
    if params["disable_session_tags"] is not None:
        request["disableSessionTags"] = params["disable_session_tags"]
    if params["tags"]:
        request["tags"] = params["tags"]
    return client.create_pod_identity_association(aws_retry=True, **request)["association"]


@EKSErrorHandler.common_error_handler("update pod identity association")
def update_association(client, cluster_name, association_id, changes):
    return client.update_pod_identity_association(
        clusterName=cluster_name, associationId=association_id, aws_retry=True, **changes
    )["association"]


@EKSErrorHandler.deletion_error_handler("delete pod identity association")
def delete_association(client, cluster_name, association_id):
    client.delete_pod_identity_association(clusterName=cluster_name, associationId=association_id, aws_retry=True)
    return True


def comparable(association):
    """The user-managed fields of an association, for ``diff``."""
    if not association:
        return {}
    return dict(
        namespace=association.get("namespace"),
        service_account=association.get("serviceAccount"),
        role_arn=association.get("roleArn"),
        target_role_arn=association.get("targetRoleArn"),
        disable_session_tags=association.get("disableSessionTags"),
        tags=association.get("tags") or {},
    )


def ensure_present(module, client, current):
    params = module.params
    if current is None:
        if module.check_mode:
            predicted = dict(
                clusterName=params["cluster_name"],
                namespace=params["namespace"],
                serviceAccount=params["service_account"],
                roleArn=params["role_arn"],
                tags=params["tags"] or {},
            )
            if params["target_role_arn"]:
                predicted["targetRoleArn"] = params["target_role_arn"]
            if params["disable_session_tags"] is not None:
                predicted["disableSessionTags"] = params["disable_session_tags"]
            return True, None, predicted
        created = create_association(client, params)
        return True, created, created

    changed = False
    after = dict(current)
    changes = association_changes(current, params)
    if changes:
        changed = True
        if module.check_mode:
            after.update(changes)
            if changes.get("targetRoleArn") == "":
                after.pop("targetRoleArn")
        else:
            after = update_association(client, params["cluster_name"], current["associationId"], changes)

    tags_changed, tags_after = ensure_tags(
        client, module.check_mode, current["associationArn"], current.get("tags"), params["tags"], params["purge_tags"]
    )
    if tags_changed:
        changed = True
        after["tags"] = tags_after
    return changed, after, after


def run(module, client):
    params = module.params
    current = find_association(client, params["cluster_name"], params["namespace"], params["service_account"])
    if params["state"] == "absent":
        changed = current is not None
        if changed and not module.check_mode:
            delete_association(client, params["cluster_name"], current["associationId"])
        returned = after = None
    else:
        changed, returned, after = ensure_present(module, client, current)

    result = dict(changed=changed, association=resource_to_ansible(returned))
    if module._diff:
        result["diff"] = dict(before=comparable(current), after=comparable(after))
    return result


def main():
    argument_spec = dict(
        cluster_name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        service_account=dict(type="str", required=True),
        role_arn=dict(type="str"),
        target_role_arn=dict(type="str"),
        disable_session_tags=dict(type="bool"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleEKSModule(
        argument_spec=argument_spec,
        required_if=[("state", "present", ["role_arn"])],
        supports_check_mode=True,
    )
    client = module.retrying_client("eks")
    try:
        module.exit_json(**run(module, client))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
