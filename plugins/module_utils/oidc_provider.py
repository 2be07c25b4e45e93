# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The reads and comparisons of an IAM OIDC provider, shared by iam_oidc_provider (which acts on them) and
eks_cluster_resources_drift_info (which must decide exactly as it does whether it would change something)."""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

THUMBPRINT_RE = re.compile(r"^[0-9a-fA-F]{40}$")


def bare_url(url):
    return re.sub(r"^https://", "", url.strip()).rstrip("/")


def find_oidc_provider(client, url):
    """(arn, description) of the provider for the bare `url`, or (None, None). ``client`` is a retrying IAM client."""
    listed = client.list_open_id_connect_providers(aws_retry=True).get("OpenIDConnectProviderList", [])
    for entry in listed:
        arn = entry["Arn"]
        if arn.split(":oidc-provider/", 1)[-1] == url:
            try:
                return arn, client.get_open_id_connect_provider(aws_retry=True, OpenIDConnectProviderArn=arn)
            except is_boto3_error_code("NoSuchEntity"):
                return None, None
    return None, None


def oidc_provider_state(described):
    """The compared parts of a GetOpenIDConnectProvider answer (None for no provider)."""
    if not described:
        return None
    return dict(client_ids=sorted(described.get("ClientIDList", [])),
                thumbprints=sorted(described.get("ThumbprintList", [])),
                tags=boto3_tag_list_to_ansible_dict(described.get("Tags", [])))


def oidc_provider_changes(before, client_ids, thumbprints, tags, purge_tags):
    """What iam_oidc_provider changes on the existing provider ``before`` (an :func:`oidc_provider_state`).

    ``thumbprints`` or ``tags`` None leaves them alone. Returns a dict: ``add_client_ids`` and ``remove_client_ids``
    (sorted lists), ``thumbprints`` (the sorted new list, or None), ``tags_to_set`` (dict), ``tags_to_remove`` (list);
    nothing to change when every value is empty.
    """
    wanted_clients = set(client_ids)
    changes = dict(add_client_ids=sorted(wanted_clients - set(before["client_ids"])),
                   remove_client_ids=sorted(set(before["client_ids"]) - wanted_clients),
                   thumbprints=None, tags_to_set={}, tags_to_remove=[])
    if thumbprints is not None and sorted(thumbprints) != before["thumbprints"]:
        changes["thumbprints"] = sorted(thumbprints)
    if tags is not None:
        changes["tags_to_set"], changes["tags_to_remove"] = compare_aws_tags(before["tags"], tags, purge_tags=purge_tags)
    return changes
