#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: iam_oidc_provider
short_description: Manage an IAM OpenID Connect identity provider (e.g. an EKS cluster's, for IRSA)
version_added: 0.1.0
description:
  - Creates, updates or deletes the IAM OIDC identity provider for an issuer URL, such as the issuer of an EKS
    cluster (C(cluster.identity.oidc.issuer)), so that roles can trust the cluster's service accounts
    (IAM roles for service accounts, IRSA).
  - The provider is found by its URL; its client IDs (audiences) and tags are reconciled, so a repeated run
    reports no change. Neither amazon.aws nor community.aws has a module for OIDC providers.
  - Thumbprints are optional - IAM verifies the certificates of well-known issuers such as EKS with its own trusted
    root CAs - and reconciled only when O(thumbprints) is given.
author:
  - eks_llm maintainers (@eks-llm)
options:
  url:
    description:
      - Issuer URL of the identity provider, with or without C(https://); a trailing C(/) is ignored.
    type: str
    required: true
  client_ids:
    description:
      - Audiences the provider accepts; C(sts.amazonaws.com) for IRSA.
    type: list
    elements: str
    default: ['sts.amazonaws.com']
  thumbprints:
    description:
      - SHA-1 thumbprints (40 hex characters) of the issuer's certificate chain. Not reconciled when omitted.
    type: list
    elements: str
  tags:
    description:
      - Tags of the provider. With O(purge_tags=true) other tags are removed.
    type: dict
    aliases: ['resource_tags']
  purge_tags:
    description:
      - Remove tags not in O(tags). Ignored when O(tags) is not given.
    type: bool
    default: true
  state:
    description:
      - V(present) ensures the provider, V(absent) deletes it.
    type: str
    choices: ['present', 'absent']
    default: present
notes:
  - Supports check mode and diff mode.
  - IAM is global; the provider's ARN is C(arn:<partition>:iam::<account>:oidc-provider/<url without https://>).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the cluster
  eks_llm.inference.eks_cluster_info:
    name: llm
  register: cluster

- name: Let IAM trust the cluster's service account tokens
  eks_llm.inference.iam_oidc_provider:
    url: "{{ cluster.cluster.identity.oidc.issuer }}"
    client_ids: [sts.amazonaws.com]
    tags:
      eks-llm:deployment: llm

- name: Remove it
  eks_llm.inference.iam_oidc_provider:
    url: "{{ cluster.cluster.identity.oidc.issuer }}"
    state: absent
"""

RETURN = r"""
arn:
  description: ARN of the provider; V(null) when absent.
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
url:
  description: The provider's URL as IAM stores it (no scheme).
  returned: always
  type: str
  sample: oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
client_ids:
  description: Audiences after the run.
  returned: when state is present
  type: list
  elements: str
tags:
  description: Tags after the run.
  returned: when state is present
  type: dict
diff:
  description: Client IDs, thumbprints and tags before and after, with C(--diff).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import THUMBPRINT_RE
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import bare_url
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import find_oidc_provider
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import oidc_provider_changes
from ansible_collections.eks_llm.inference.plugins.module_utils.oidc_provider import oidc_provider_state


def ensure_present(module, client, url, arn, before):
    params = module.params
    wanted_clients = sorted(set(params["client_ids"]))
    if before is None:
        after = dict(client_ids=wanted_clients, thumbprints=sorted(params["thumbprints"] or []), tags=params["tags"] or {})
        if not module.check_mode:
            request = dict(Url="https://" + url, ClientIDList=wanted_clients,
                           Tags=ansible_dict_to_boto3_tag_list(params["tags"] or {}))
            if params["thumbprints"]:
                request["ThumbprintList"] = params["thumbprints"]
            arn = client.create_open_id_connect_provider(aws_retry=True, **request)["OpenIDConnectProviderArn"]
        return True, arn, after
    changes = oidc_provider_changes(before, params["client_ids"], params["thumbprints"], params["tags"], params["purge_tags"])
    changed = any(changes.values())
    if not module.check_mode:
        for client_id in changes["add_client_ids"]:
            client.add_client_id_to_open_id_connect_provider(aws_retry=True, OpenIDConnectProviderArn=arn, ClientID=client_id)
        for client_id in changes["remove_client_ids"]:
            client.remove_client_id_from_open_id_connect_provider(aws_retry=True, OpenIDConnectProviderArn=arn, ClientID=client_id)
        if changes["thumbprints"] is not None:
            client.update_open_id_connect_provider_thumbprint(aws_retry=True, OpenIDConnectProviderArn=arn,
                                                              ThumbprintList=changes["thumbprints"])
        if changes["tags_to_remove"]:
            client.untag_open_id_connect_provider(aws_retry=True, OpenIDConnectProviderArn=arn, TagKeys=changes["tags_to_remove"])
        if changes["tags_to_set"]:
            client.tag_open_id_connect_provider(aws_retry=True, OpenIDConnectProviderArn=arn,
                                                Tags=ansible_dict_to_boto3_tag_list(changes["tags_to_set"]))
    thumbprints = before["thumbprints"] if changes["thumbprints"] is None else changes["thumbprints"]
    tags = dict((k, v) for k, v in before["tags"].items() if k not in changes["tags_to_remove"])
    tags.update(changes["tags_to_set"])
    return changed, arn, dict(client_ids=wanted_clients, thumbprints=thumbprints, tags=tags)


def run(module, client):
    params = module.params
    url = bare_url(params["url"])
    arn, described = find_oidc_provider(client, url)
    before = oidc_provider_state(described)
    if params["state"] == "absent":
        if before is not None and not module.check_mode:
            client.delete_open_id_connect_provider(aws_retry=True, OpenIDConnectProviderArn=arn)
        result = dict(changed=before is not None, arn=None, url=url)
        after = None
    else:
        changed, arn, after = ensure_present(module, client, url, arn, before)
        result = dict(changed=changed, arn=arn, url=url, client_ids=after["client_ids"], tags=after["tags"])
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {})
    return result


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            client_ids=dict(type="list", elements="str", default=["sts.amazonaws.com"]),
            thumbprints=dict(type="list", elements="str"),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    bad = [t for t in module.params["thumbprints"] or [] if not THUMBPRINT_RE.match(t)]
    if bad:
        module.fail_json(msg="thumbprints must be 40 hexadecimal characters (SHA-1); got %s" % ", ".join(bad))
    if not bare_url(module.params["url"]):
        module.fail_json(msg="url must name the issuer, e.g. https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE")
    client = module.retrying_client("iam")
    read_or_change = IAMErrorHandler.common_error_handler("read or change the OIDC provider for %s" % module.params["url"])(run)
    try:
        result = read_or_change(module, client)
    except AnsibleIAMError as error:
        module.fail_json_aws_error(error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
