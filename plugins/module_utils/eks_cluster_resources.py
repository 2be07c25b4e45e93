# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Helpers for the resources that live inside an EKS cluster: add-ons, access entries, pod identity associations.

Shared by the modules eks_addon, eks_access_entry and eks_pod_identity_association (the cluster itself and its
node groups: eks_cluster_utils), and by eks_cluster_resources_drift_info, which must decide exactly as they do
whether they would change something: the reads and comparisons of each resource live here, once.

These three resources have the same shape on the EKS API: a describe call that raises
``ResourceNotFoundException`` when the resource is absent, an ARN that takes ``tag_resource``/``untag_resource``,
and list calls paginated by botocore (common.list_all).
"""

import json
import re

try:
    import yaml

    HAS_YAML = True
except ImportError:
    HAS_YAML = False

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import list_all
from ansible_collections.eks_llm.inference.plugins.module_utils.common import tags_changed_by
from ansible_collections.eks_llm.inference.plugins.module_utils.eks_cluster_utils import reconcile_tags


class EKSErrorHandler(NotFoundErrorHandler):
    """The error handler of the EKS modules: NotFoundErrorHandler's "missing" codes.

    As with every amazon.aws ``AWSErrorHandler`` (whose ``_CUSTOM_EXCEPTION`` is AnsibleAWSError), its decorators turn
    any other botocore error into :class:`AnsibleAWSError` ("Failed to <description>", the botocore error attached);
    the modules catch it in ``main()`` and report it with ``module.fail_json_aws_error``.
    """


def resource_to_ansible(resource, extra_ignore=()):
    """snake_case copy of an EKS resource, keeping tag keys as they are."""
    if not resource:
        return {}
    return camel_dict_to_snake_dict(resource, ignore_list=["tags"] + list(extra_ignore))


@EKSErrorHandler.common_error_handler("update tags")
def ensure_tags(client, check_mode, arn, current, wanted, purge):
    """Bring the tags of ``arn`` to ``wanted``; ``wanted=None`` leaves them alone.

    Returns ``(changed, tags_after)``.
    """
    current = dict(current or {})
    if wanted is None:
        return False, current
    to_set, to_remove = compare_aws_tags(current, wanted, purge_tags=purge)
    if not to_set and not to_remove:
        return False, current
    if not check_mode:
        reconcile_tags(client, arn, to_set, to_remove)
    return True, tags_changed_by(current, to_set, to_remove)


# ------------------------------------------------------- add-on versions


def version_key(version):
    """Sort key of an add-on version: its numbers, ``v1.19.2-eksbuild.3`` -> (1, 19, 2, 3)."""
    return tuple(int(n) for n in re.findall(r"\d+", version))


def compatible_versions(addon_infos, addon_name, cluster_version):
    """``[(version, is_default)]`` of ``addon_name`` compatible with ``cluster_version``.

    ``addon_infos`` is the ``addons`` list of DescribeAddonVersions.
    """
    found = []
    for info in addon_infos:
        if info.get("addonName") != addon_name:
            continue
        for version_info in info.get("addonVersions") or []:
            for compat in version_info.get("compatibilities") or []:
                if compat.get("clusterVersion") == cluster_version:
                    found.append((version_info["addonVersion"], bool(compat.get("defaultVersion"))))
                    break
    return found


def resolve_addon_version(requested, addon_name, cluster_version, addon_infos):
    """The concrete version for ``requested`` (``default``, ``latest`` or a version).

    Raises ValueError when nothing, or not the requested version, is compatible
    with Kubernetes ``cluster_version``.
    """
    found = compatible_versions(addon_infos, addon_name, cluster_version)
    if not found:
        raise ValueError(
            "add-on %s has no version compatible with Kubernetes %s" % (addon_name, cluster_version)
        )
    ordered = sorted((v for v, dummy in found), key=version_key, reverse=True)
    if requested == "latest":
        return ordered[0]
    if requested == "default":
        defaults = sorted((v for v, is_default in found if is_default), key=version_key, reverse=True)
        if not defaults:
            raise ValueError(
                "add-on %s has no default version for Kubernetes %s; use addon_version=latest or one of: %s"
                % (addon_name, cluster_version, ", ".join(ordered))
            )
        return defaults[0]
    if requested in ordered:
        return requested
    raise ValueError(
        "add-on %s version %s is not compatible with Kubernetes %s; compatible versions: %s"
        % (addon_name, requested, cluster_version, ", ".join(ordered))
    )


@EKSErrorHandler.common_error_handler("look up add-on versions")
def lookup_addon_versions(client, cluster_name, addon_name):
    """``(cluster_version, addons)`` for resolving a version of ``addon_name``."""
    cluster_version = client.describe_cluster(name=cluster_name, aws_retry=True)["cluster"]["version"]
    addons = list_all(client, "describe_addon_versions", "addons", addonName=addon_name, kubernetesVersion=cluster_version)
    return cluster_version, addons


# ------------------------------------------------- add-on configuration


def parse_configuration(text):
    """The configuration values EKS holds (JSON, or YAML) as a Python value.

    Empty means ``{}``. Raises ValueError when the text can't be read.
    """
    if text is None or not text.strip():
        return {}
    try:
        return json.loads(text)
    except ValueError:
        if not HAS_YAML:
            raise ValueError("configuration values are not JSON and PyYAML is not installed") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError("configuration values are neither JSON nor YAML: %s" % e) from None


def normalize_configuration(value):
    """A JSON round trip, so values compare the way EKS would store them."""
    return json.loads(json.dumps(value))


def configuration_differs(current_text, wanted):
    """Whether ``wanted`` (a dict) differs by value from the configuration text of EKS."""
    try:
        current = parse_configuration(current_text)
    except ValueError:
        return True
    return normalize_configuration(wanted) != current


def configuration_to_json(value):
    return json.dumps(value, sort_keys=True)


# -------------------------------------- add-on pod identity associations


def association_pairs(associations):
    """Sorted ``(service_account, role_arn)`` pairs from the option's list."""
    return sorted(set((a["service_account"], a["role_arn"]) for a in associations or []))


def pairs_to_api(pairs):
    return [dict(serviceAccount=sa, roleArn=role) for sa, role in pairs]


def pairs_to_ansible(pairs):
    return [dict(service_account=sa, role_arn=role) for sa, role in pairs]


@EKSErrorHandler.common_error_handler("describe the pod identity associations of the add-on")
def current_association_pairs(client, cluster_name, association_arns):
    """Sorted ``(service_account, role_arn)`` of the associations an add-on owns."""
    pairs = set()
    for arn in association_arns or []:
        association_id = arn.rsplit("/", 1)[-1]
        association = client.describe_pod_identity_association(
            clusterName=cluster_name, associationId=association_id, aws_retry=True
        )["association"]
        pairs.add((association["serviceAccount"], association["roleArn"]))
    return sorted(pairs)


# ------------------------------------------------------------------ add-on


@EKSErrorHandler.list_error_handler("describe add-on")
def describe_addon(client, cluster_name, addon_name):
    return client.describe_addon(clusterName=cluster_name, addonName=addon_name, aws_retry=True)["addon"]


def addon_version_to_install(requested, current_version, resolved):
    """The version eks_addon installs: ``resolved`` (what ``requested`` resolves to), except that ``default`` and
    ``latest`` are floors for an existing add-on - one already newer stays as it is (no downgrade)."""
    keyword = requested in ("default", "latest")
    if keyword and current_version and version_key(current_version) >= version_key(resolved):
        return current_version
    return resolved


def wanted_addon_version(client, cluster_name, addon_name, requested, current):
    """The concrete version to install, or None to leave it to EKS / as it is.

    Raises ValueError when ``requested`` cannot be resolved for the cluster's Kubernetes version.
    """
    if not requested:
        return None
    current_version = (current or {}).get("addonVersion")
    if requested == current_version:
        return requested
    cluster_version, addons = lookup_addon_versions(client, cluster_name, addon_name)
    return addon_version_to_install(requested, current_version, resolve_addon_version(requested, addon_name, cluster_version, addons))


def addon_update_request(current, version, params, current_pairs):
    """The UpdateAddon arguments that bring the existing add-on ``current`` to ``params`` (empty when none).

    ``version`` is :func:`wanted_addon_version`'s; ``current_pairs`` are the Pod Identity associations of
    ``current`` when ``params`` manages them, else None.
    """
    request = {}
    if version and version != current.get("addonVersion"):
        request["addonVersion"] = version
    wanted_config = params["configuration_values"]
    if wanted_config is not None and configuration_differs(current.get("configurationValues"), wanted_config):
        request["configurationValues"] = configuration_to_json(wanted_config)
    wanted_role = params["service_account_role_arn"]
    if wanted_role and wanted_role != current.get("serviceAccountRoleArn"):
        request["serviceAccountRoleArn"] = wanted_role
    if current_pairs is not None:
        wanted_pairs = association_pairs(params["pod_identity_associations"])
        if wanted_pairs != current_pairs:
            request["podIdentityAssociations"] = pairs_to_api(wanted_pairs)
    return request


# ---------------------------------------------------------- access entries


# The CreateAccessEntry `type` values listed by botocore's EKS service model
# (the model documents them in prose, it has no enum shape for them).
ACCESS_ENTRY_TYPES = ("STANDARD", "EC2", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "HYPERPOD_LINUX")

# Types for which EKS refuses kubernetesGroups and access policy associations
# (EKS grants the node permissions itself).
TYPES_WITHOUT_RBAC = ("EC2_LINUX", "EC2_WINDOWS")

POLICY_ARN_TEMPLATE = "arn:{partition}:eks::aws:cluster-access-policy/{name}"


def partition_of(arn):
    """The partition of an ARN (``aws``, ``aws-cn``, ``aws-us-gov`` ...), ``aws`` if unknown."""
    parts = (arn or "").split(":")
    if len(parts) > 2 and parts[0] == "arn" and parts[1]:
        return parts[1]
    return "aws"


def expand_policy_arn(policy, partition="aws"):
    """Turn a short access policy name into its ARN; ARNs pass through."""
    if policy.startswith("arn:"):
        return policy
    return POLICY_ARN_TEMPLATE.format(partition=partition, name=policy)


def normalize_scope(scope):
    """A comparable ``{"type", "namespaces"}`` scope from user input or the API.

    Raises ValueError for an invalid scope.
    """
    scope = scope or {}
    scope_type = scope.get("type") or "cluster"
    namespaces = scope.get("namespaces") or []
    if scope_type == "namespace":
        if not namespaces:
            raise ValueError("an access scope of type 'namespace' needs at least one namespace")
        return {"type": "namespace", "namespaces": sorted(set(namespaces))}
    if namespaces:
        raise ValueError("namespaces are only allowed in an access scope of type 'namespace'")
    return {"type": scope_type, "namespaces": []}


def wanted_policies(access_policies, partition="aws"):
    """``{policy_arn: scope}`` from the ``access_policies`` option.

    Raises ValueError on a duplicate policy or an invalid scope.
    """
    wanted = {}
    for item in access_policies:
        arn = expand_policy_arn(item["policy_arn"], partition)
        if arn in wanted:
            raise ValueError("access policy %s is listed more than once" % arn)
        try:
            wanted[arn] = normalize_scope(item.get("access_scope"))
        except ValueError as e:
            raise ValueError("access policy %s: %s" % (arn, e))
    return wanted


def current_policies(associated):
    """``{policy_arn: scope}`` from ListAssociatedAccessPolicies results."""
    return {p["policyArn"]: normalize_scope(p.get("accessScope")) for p in associated}


def policy_diff(current, wanted, purge):
    """What to (re)associate and what to disassociate.

    ``current`` and ``wanted`` are ``{policy_arn: scope}`` dicts. Returns
    ``(to_associate, to_disassociate)``: a sorted list of ``(arn, scope)`` for
    missing policies and policies whose scope differs, and a sorted list of ARNs.
    """
    to_associate = sorted((arn, scope) for arn, scope in wanted.items() if current.get(arn) != scope)
    to_disassociate = sorted(arn for arn in current if arn not in wanted) if purge else []
    return to_associate, to_disassociate


def rbac_restriction_error(entry_type, kubernetes_groups, access_policies):
    """Message when ``entry_type`` cannot carry the requested groups or policies, else None."""
    if entry_type not in TYPES_WITHOUT_RBAC:
        return None
    refused = []
    if kubernetes_groups:
        refused.append("kubernetes_groups")
    if access_policies:
        refused.append("access_policies")
    if not refused:
        return None
    return (
        "EKS does not accept %s on an access entry of type %s: EKS grants the node "
        "permissions of such entries itself. Remove %s, or use type STANDARD."
        % (" or ".join(refused), entry_type, " and ".join(refused))
    )


@EKSErrorHandler.list_error_handler("describe access entry")
def describe_access_entry(client, cluster_name, principal_arn):
    return client.describe_access_entry(clusterName=cluster_name, principalArn=principal_arn, aws_retry=True)[
        "accessEntry"
    ]


@EKSErrorHandler.list_error_handler("list associated access policies", default_value=[])
def list_associated_policies(client, cluster_name, principal_arn):
    return list_all(
        client,
        "list_associated_access_policies",
        "associatedAccessPolicies",
        clusterName=cluster_name,
        principalArn=principal_arn,
    )


def entry_changes(current, params):
    """The UpdateAccessEntry arguments that bring ``current`` to ``params``."""
    changes = {}
    groups = params["kubernetes_groups"]
    if groups is not None and sorted(set(groups)) != sorted(set(current.get("kubernetesGroups") or [])):
        changes["kubernetesGroups"] = groups
    if params["username"] is not None and params["username"] != current.get("username"):
        changes["username"] = params["username"]
    return changes


# ----------------------------------------------- pod identity associations


@EKSErrorHandler.list_error_handler("find pod identity association")
def find_association(client, cluster_name, namespace, service_account):
    """The association of (namespace, service_account), described, or None."""
    summaries = list_all(
        client,
        "list_pod_identity_associations",
        "associations",
        clusterName=cluster_name,
        namespace=namespace,
        serviceAccount=service_account,
    )
    # The filters are exact on EKS; match again so a loose server can't fool us.
    for summary in summaries:
        if summary.get("namespace") == namespace and summary.get("serviceAccount") == service_account:
            return client.describe_pod_identity_association(
                clusterName=cluster_name, associationId=summary["associationId"], aws_retry=True
            )["association"]
    return None


def association_changes(current, params):
    """The UpdatePodIdentityAssociation arguments that bring ``current`` to ``params``."""
    changes = {}
    if params["role_arn"] and params["role_arn"] != current.get("roleArn"):
        changes["roleArn"] = params["role_arn"]
    if params["target_role_arn"] is not None and params["target_role_arn"] != (current.get("targetRoleArn") or ""):
        changes["targetRoleArn"] = params["target_role_arn"]
    wanted_disable = params["disable_session_tags"]
    if wanted_disable is not None and wanted_disable != bool(current.get("disableSessionTags")):
        changes["disableSessionTags"] = wanted_disable
    return changes
