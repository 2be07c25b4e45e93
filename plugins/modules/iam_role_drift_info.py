#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: iam_role_drift_info
short_description: Tell which IAM roles amazon.aws.iam_role and amazon.aws.iam_policy would change, reading them in one run
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Compares each wanted role, described by the options given to M(amazon.aws.iam_role) and the inline policies given
    to M(amazon.aws.iam_policy), with the role in IAM, the way those two modules decide whether to act, and returns
    what differs. Run them only for what differs - a re-run that changes nothing then costs this one module run
    instead of one run per role and one per inline policy.
  - The role drifts (RV(roles[].role_drifted)) when M(amazon.aws.iam_role) would create or change it - it does not
    exist, or its trust policy (amazon.aws's C(compare_policies)), description, tags (C(compare_aws_tags) with
    O(roles[].purge_tags)), managed policies (with O(roles[].purge_policies)), maximum session duration, permissions
    boundary or instance profile differ. An option left unset is not compared, as M(amazon.aws.iam_role) leaves that
    part of the role alone.
  - An inline policy drifts (RV(roles[].inline_policies_drifted)) when M(amazon.aws.iam_policy) would put it - the
    role has no inline policy of that name, has another document under it (C(compare_policies)), or it cannot be
    read. Inline policies the role has but O(roles[].inline_policies) does not name are not drift, since neither
    module removes them.
  - Conservative - whatever cannot be shown equal counts as drift, so that the maintained modules decide. A
    different O(roles[].path) is drift although M(amazon.aws.iam_role) cannot change it (it warns, every run).
  - Never returns policy documents; RV(roles[].reasons) says which part differs.
  - Read-only; never changes anything.
options:
  roles:
    description: The wanted roles, each with the options passed to M(amazon.aws.iam_role) and its inline policies.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the role.
        type: str
        required: true
      path:
        description: Path of the role, as M(amazon.aws.iam_role)'s O(amazon.aws.iam_role#module:path). Not compared when unset.
        type: str
      description:
        description: Description of the role. Not compared when unset.
        type: str
      assume_role_policy_document:
        description: The trust policy, as a JSON document or string.
        type: json
        required: true
      managed_policies:
        description:
          - ARNs (or names, then looked up as M(amazon.aws.iam_role) does) of the managed policies to attach.
          - Not compared when unset; V([]) with O(roles[].purge_policies=true) means none.
        type: list
        elements: str
      purge_policies:
        description: Whether attached managed policies not in O(roles[].managed_policies) are drift (they would be detached).
        type: bool
        default: true
      max_session_duration:
        description: Maximum session duration in seconds. Not compared when unset.
        type: int
      boundary:
        description: ARN of the permissions boundary; V('') means none. Not compared when unset.
        type: str
      tags:
        description: Tags of the role. Not compared when unset.
        type: dict
      purge_tags:
        description:
          - Whether tags not in O(roles[].tags) are drift (they would be removed), as M(amazon.aws.iam_role)'s
            O(amazon.aws.iam_role#module:purge_tags), which defaults to V(true). Tags starting with C(aws:) never are.
        type: bool
        default: true
      create_instance_profile:
        description:
          - Whether the role should have an instance profile of its name, as M(amazon.aws.iam_role) creates unless
            told V(false).
        type: bool
        default: true
      inline_policies:
        description:
          - The inline policies, policy name to document (a dict or a JSON string), each as passed to
            M(amazon.aws.iam_policy) with O(amazon.aws.iam_policy#module:iam_type=role).
        type: dict
        default: {}
notes:
  - Supports check mode.
  - Needs C(iam:GetRole), C(iam:ListAttachedRolePolicies), C(iam:GetRolePolicy) and, for a role with
    O(roles[].create_instance_profile=true), C(iam:ListInstanceProfilesForRole) - what the two modules read.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Which roles would amazon.aws change
  eks_llm.inference.iam_role_drift_info:
    roles:
      - name: demo-eks-cluster
        description: EKS control plane
        assume_role_policy_document:
          Version: "2012-10-17"
          Statement: [{Effect: Allow, Principal: {Service: eks.amazonaws.com}, Action: sts:AssumeRole}]
        managed_policies: [arn:aws:iam::aws:policy/AmazonEKSClusterPolicy]
        create_instance_profile: false
        tags: {eks-llm:deployment: demo}
        inline_policies:
          logs-write: "{{ lookup('ansible.builtin.file', 'logs-write.json') }}"
  register: iam_drift

- name: Create or update only the roles that differ
  amazon.aws.iam_role:
    name: "{{ item.name }}"
    assume_role_policy_document: "{{ lookup('ansible.builtin.file', 'eks-trust.json') }}"
    managed_policies: [arn:aws:iam::aws:policy/AmazonEKSClusterPolicy]
    create_instance_profile: false
    tags: {eks-llm:deployment: demo}
  loop: "{{ iam_drift.roles | selectattr('role_drifted') | list }}"
"""

RETURN = r"""
roles:
  description: One entry per wanted role, in the order of O(roles).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the role.
      type: str
      sample: demo-eks-cluster
    arn:
      description: ARN of the role; null when it does not exist.
      type: str
      sample: arn:aws:iam::123456789012:role/demo-eks-cluster
    drifted:
      description: Whether M(amazon.aws.iam_role) or M(amazon.aws.iam_policy) would change anything of the role.
      type: bool
      sample: true
    role_drifted:
      description: Whether M(amazon.aws.iam_role) would create or change the role.
      type: bool
      sample: false
    inline_policies_drifted:
      description: Names of the inline policies M(amazon.aws.iam_policy) would put (every one when the role is missing).
      type: list
      elements: str
      sample: [logs-write]
    reasons:
      description: What differs, in short phrases; empty when nothing does. Never a policy document.
      type: list
      elements: str
      sample: ["managed policy AmazonEKSVPCResourceController not attached", "tag team differs", "inline policy logs-write differs"]
drifted:
  description: Names of the drifting roles, in the order of O(roles).
  returned: always
  type: list
  elements: str
  sample: [demo-eks-cluster]
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.iam import convert_managed_policy_names_to_arns
from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_role
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_instance_profiles
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_role_attached_policies
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule

ROLE_SPEC = dict(
    name=dict(type="str", required=True),
    path=dict(type="str"),
    description=dict(type="str"),
    assume_role_policy_document=dict(type="json", required=True),
    managed_policies=dict(type="list", elements="str"),
    purge_policies=dict(type="bool", default=True),
    max_session_duration=dict(type="int"),
    boundary=dict(type="str"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
    create_instance_profile=dict(type="bool", default=True),
    inline_policies=dict(type="dict", default={}),
)


def policy_document(value):
    """A policy document given as dict or JSON string, as a dict (what the amazon.aws modules compare)."""
    return json.loads(value) if isinstance(value, str) else value


def short_policy_name(arn):
    """``service-role/AmazonEFSCSIDriverPolicy`` for its ARN: enough to say which policy, and short."""
    return arn.split(":policy/", 1)[-1]


def attribute_drift(wanted, role):
    """What amazon.aws.iam_role's update_basic_role would change on the role itself (tags apart)."""
    reasons = []
    if wanted["path"] is not None and wanted["path"] != role.get("Path"):
        reasons.append("path differs (amazon.aws.iam_role cannot change it)")
    # compare_policies is true when the documents differ
    if compare_policies(role.get("AssumeRolePolicyDocument"), policy_document(wanted["assume_role_policy_document"])):
        reasons.append("trust policy differs")
    if wanted["description"] is not None and wanted["description"] != role.get("Description"):
        reasons.append("description differs")
    if wanted["max_session_duration"] is not None and wanted["max_session_duration"] != role.get("MaxSessionDuration"):
        reasons.append("max session duration differs")
    boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", "")
    if wanted["boundary"] is not None and wanted["boundary"] != boundary:
        reasons.append("permissions boundary differs")
    return reasons


def tag_drift(wanted, role):
    if wanted["tags"] is None:
        return []
    current = boto3_tag_list_to_ansible_dict(role.get("Tags", []))
    to_set, to_remove = compare_aws_tags(current, wanted["tags"], purge_tags=wanted["purge_tags"])
    return (["tag %s %s" % (key, "differs" if key in current else "missing") for key in sorted(to_set)]
            + ["tag %s not wanted" % key for key in sorted(to_remove)])


def managed_policy_drift(client, wanted):
    if wanted["managed_policies"] is None:
        return []
    try:
        wanted_arns = set(convert_managed_policy_names_to_arns(client, wanted["managed_policies"]))
    except AnsibleIAMError:
        # an unknown name: amazon.aws.iam_role will say which
        return ["managed policies cannot all be found"]
    attached = set(policy["PolicyArn"] for policy in list_iam_role_attached_policies(client, wanted["name"]))
    reasons = ["managed policy %s not attached" % short_policy_name(arn) for arn in sorted(wanted_arns - attached)]
    if wanted["purge_policies"]:
        reasons += ["managed policy %s attached, not wanted" % short_policy_name(arn) for arn in sorted(attached - wanted_arns)]
    return reasons


def instance_profile_drift(client, wanted):
    if not wanted["create_instance_profile"]:
        return []
    profiles = list_iam_instance_profiles(client, role=wanted["name"])
    if any(profile["InstanceProfileName"] == wanted["name"] for profile in profiles):
        return []
    return ["instance profile missing"]


def inline_policy_drift(client, wanted):
    """(names of the inline policies amazon.aws.iam_policy would put, reasons)."""
    drifted, reasons = [], []
    for policy_name, document in wanted["inline_policies"].items():
        try:
            current = client.get_role_policy(aws_retry=True, RoleName=wanted["name"], PolicyName=policy_name)["PolicyDocument"]
        except is_boto3_error_code(["NoSuchEntity", "AccessDenied"]) as error:
            # AccessDenied: amazon.aws.iam_policy reads it as no policy and puts the wanted one
            state = "missing" if error.response["Error"]["Code"] == "NoSuchEntity" else "cannot be read"
            drifted.append(policy_name)
            reasons.append("inline policy %s %s" % (policy_name, state))
            continue
        if compare_policies(current, policy_document(document)):
            drifted.append(policy_name)
            reasons.append("inline policy %s differs" % policy_name)
    return drifted, reasons


def drift_of(client, wanted):
    """The result entry of one wanted role."""
    role = get_iam_role(client, wanted["name"])
    if role is None:
        return dict(name=wanted["name"], arn=None, drifted=True, role_drifted=True,
                    inline_policies_drifted=list(wanted["inline_policies"]), reasons=["missing"])
    role_reasons = (attribute_drift(wanted, role) + tag_drift(wanted, role) + managed_policy_drift(client, wanted)
                    + instance_profile_drift(client, wanted))
    inline_drifted, inline_reasons = inline_policy_drift(client, wanted)
    return dict(name=wanted["name"], arn=role["Arn"], drifted=bool(role_reasons or inline_reasons),
                role_drifted=bool(role_reasons), inline_policies_drifted=inline_drifted, reasons=role_reasons + inline_reasons)


def unreadable_documents(roles):
    """``role: option`` of every policy document that is not JSON (the amazon.aws modules would fail on it)."""
    unreadable = []
    for role in roles:
        documents = [("assume_role_policy_document", role["assume_role_policy_document"])]
        documents += [("inline policy " + name, document) for name, document in role["inline_policies"].items()]
        for what, document in documents:
            try:
                parsed = policy_document(document)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                unreadable.append("%s: %s" % (role["name"], what))
    return unreadable


@IAMErrorHandler.common_error_handler("read the IAM roles")
def read_roles(client, roles):
    return [drift_of(client, wanted) for wanted in roles]


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(roles=dict(type="list", elements="dict", required=True, options=ROLE_SPEC)),
        supports_check_mode=True,
    )
    roles = module.params["roles"]
    unreadable = unreadable_documents(roles)
    if unreadable:
        module.fail_json(msg="these policy documents are not JSON objects: %s" % "; ".join(unreadable))
    client = module.retrying_client("iam")
    try:
        results = read_roles(client, roles)
    except AnsibleIAMError as error:
        module.fail_json_aws_error(error)
    module.exit_json(changed=False, roles=results, drifted=[result["name"] for result in results if result["drifted"]])


if __name__ == "__main__":
    main()
