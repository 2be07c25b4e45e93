# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Helpers shared by the eks_cluster and eks_nodegroup modules.

The functions here split into two groups:

* pure planning functions (no AWS calls) that turn "what describe_* returned"
  and "what the task asked for" into a list of errors and a list of update
  calls, in the order EKS accepts them. They are unit tested on their own;
* thin AWS wrappers (describe, list, wait for an update) that raise
  :class:`AnsibleAWSError` and are used by both modules.
"""

import time

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import WaitTimeout
from ansible_collections.eks_llm.inference.plugins.module_utils.common import aws_retry
from ansible_collections.eks_llm.inference.plugins.module_utils.common import tags_after
from ansible_collections.eks_llm.inference.plugins.module_utils.common import wait_until
from ansible_collections.eks_llm.inference.plugins.module_utils.common import waiter_config

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

# Seconds between polls of the cluster and node group modules (botocore waiters, describe_update); the unit tests
# lower them through the modules' names.
WAITER_DELAY = 30
UPDATE_POLL_DELAY = 15

# EKS defaults reported for clusters whose description omits the field.
DEFAULT_ENDPOINT_PUBLIC_ACCESS = True
DEFAULT_ENDPOINT_PRIVATE_ACCESS = False
DEFAULT_PUBLIC_ACCESS_CIDRS = ["0.0.0.0/0"]
DEFAULT_AUTHENTICATION_MODE = "CONFIG_MAP"

# The only authentication mode changes EKS performs; anything else is refused.
# CONFIG_MAP -> API goes through API_AND_CONFIG_MAP (two updates).
AUTHENTICATION_MODE_STEPS = {
    ("CONFIG_MAP", "API_AND_CONFIG_MAP"): ["API_AND_CONFIG_MAP"],
    ("API_AND_CONFIG_MAP", "API"): ["API"],
    ("CONFIG_MAP", "API"): ["API_AND_CONFIG_MAP", "API"],
}

# The argument specs of the cluster's settings, shared by eks_cluster and eks_control_plane_drift_info (which must read
# them as eks_cluster does).
CLUSTER_SETTINGS_SPEC = dict(
    version=dict(type="str"),
    role_arn=dict(type="str"),
    subnets=dict(type="list", elements="str"),
    endpoint_public_access=dict(type="bool"),
    endpoint_private_access=dict(type="bool"),
    public_access_cidrs=dict(type="list", elements="str"),
    logging=dict(type="list", elements="str", choices=LOG_TYPES),
    authentication_mode=dict(type="str", choices=["API", "API_AND_CONFIG_MAP", "CONFIG_MAP"]),
    bootstrap_cluster_creator_admin_permissions=dict(type="bool"),
    auto_mode=dict(type="dict", options=dict(
        enabled=dict(type="bool", required=True),
        node_pools=dict(type="list", elements="str", default=[], choices=["general-purpose", "system"]),
        node_role_arn=dict(type="str"),
    )),
)

UPDATE_DONE = "Successful"
UPDATE_FAILED = ("Failed", "Cancelled")


class PlanError(Exception):
    """A wanted change that EKS cannot make; the message says what to do."""


# ---------------------------------------------------------------------------
# Small value helpers
# ---------------------------------------------------------------------------


def parse_k8s_version(value):
    """'1.33' (or '1.33.2', 'v1.33') -> (1, 33)."""
    text = str(value).strip().lstrip("vV")
    parts = text.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise PlanError("'%s' is not a Kubernetes version of the form MAJOR.MINOR (for example '1.33')" % value)


def format_version(parsed):
    return "%d.%d" % parsed


def sorted_or_none(values):
    if values is None:
        return None
    return sorted(values)


def to_int_or_none(value):
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def describe_to_ansible(resource, ignore_list=None):
    """describe_* output -> snake_case dict with plain JSON types."""
    if not resource:
        return {}
    return camel_dict_to_snake_dict(normalize_boto3_result(resource), ignore_list=ignore_list or [])


def cluster_to_ansible(cluster):
    """A describe_cluster result as eks_cluster returns it (snake_case, tag keys kept)."""
    return describe_to_ansible(cluster, ignore_list=["tags"])


def known_ami_types(client):
    """The AMITypes enum of the installed botocore (None if the model has no such shape)."""
    try:
        return list(client.meta.service_model.shape_for("AMITypes").enum)
    except Exception:  # pylint: disable=broad-except
        return None


def format_update_errors(update):
    errors = update.get("errors") or []
    if not errors:
        return "no error details reported"
    return "; ".join(
        "%s: %s%s"
        % (
            err.get("errorCode", "Unknown"),
            err.get("errorMessage", ""),
            " (resources: %s)" % ", ".join(err["resourceIds"]) if err.get("resourceIds") else "",
        )
        for err in errors
    )


# ---------------------------------------------------------------------------
# Cluster planning
# ---------------------------------------------------------------------------


def version_step(current, wanted, what="cluster"):
    """Return the version to upgrade to, or None when nothing changes.

    EKS upgrades a control plane one minor version at a time and never
    downgrades it; anything else raises PlanError saying what to do.
    """
    if wanted is None or current is None:
        return None
    cur = parse_k8s_version(current)
    want = parse_k8s_version(wanted)
    if want == cur:
        return None
    if want < cur:
        raise PlanError(
            "version: the %s runs Kubernetes %s and cannot be downgraded to %s; EKS has no downgrade. "
            "Keep version '%s' or create a new %s with version %s"
            % (what, format_version(cur), format_version(want), format_version(cur), what, format_version(want))
        )
    if want[0] != cur[0] or want[1] != cur[1] + 1:
        next_step = format_version((cur[0], cur[1] + 1))
        raise PlanError(
            "version: cannot upgrade the %s from %s to %s in one step; EKS upgrades one minor version at a "
            "time. Set version '%s', run again, and repeat one minor version at a time up to %s "
            "(upgrade the node groups to each version in between)"
            % (what, format_version(cur), format_version(want), next_step, format_version(want))
        )
    return format_version(want)


def enabled_log_types(logging_config):
    """describe_cluster logging -> sorted list of enabled log types."""
    enabled = set()
    for group in (logging_config or {}).get("clusterLogging", []) or []:
        if group.get("enabled"):
            enabled.update(group.get("types") or [])
    return sorted(enabled)


def logging_payload(wanted_types):
    """Wanted enabled log types -> the logging structure EKS expects (the rest disabled)."""
    wanted = [t for t in LOG_TYPES if t in set(wanted_types)]
    disabled = [t for t in LOG_TYPES if t not in set(wanted_types)]
    groups = []
    if wanted:
        groups.append({"types": wanted, "enabled": True})
    if disabled:
        groups.append({"types": disabled, "enabled": False})
    return {"clusterLogging": groups}


def authentication_mode_steps(current, wanted):
    """Authentication modes to go through, in order (empty when unchanged)."""
    if wanted is None or current == wanted:
        return []
    current = current or DEFAULT_AUTHENTICATION_MODE
    if current == wanted:
        return []
    steps = AUTHENTICATION_MODE_STEPS.get((current, wanted))
    if steps is None:
        raise PlanError(
            "authentication_mode: cannot change from %s to %s; EKS only moves one way, "
            "CONFIG_MAP -> API_AND_CONFIG_MAP -> API. Keep authentication_mode '%s' "
            "or create a new cluster" % (current, wanted, current)
        )
    return list(steps)


def encryption_key_arn(encryption_config):
    """describe_cluster encryptionConfig -> the KMS key used for secrets (or None)."""
    for entry in encryption_config or []:
        if "secrets" in (entry.get("resources") or []):
            return (entry.get("provider") or {}).get("keyArn")
    return None


def encryption_config_payload(key_arn):
    return [{"resources": ["secrets"], "provider": {"keyArn": key_arn}}]


def auto_mode_summary(cluster):
    """EKS Auto Mode as a cluster reports it: {enabled, node_pools, node_role_arn}.

    ``enabled`` is true when compute, block storage and load balancing are all on, false when all are off, and None
    when they disagree (EKS refuses that on purpose; such a cluster is never equal to a wanted state).
    """
    compute = cluster.get("computeConfig") or {}
    flags = {
        bool(compute.get("enabled")),
        bool(((cluster.get("storageConfig") or {}).get("blockStorage") or {}).get("enabled")),
        bool(((cluster.get("kubernetesNetworkConfig") or {}).get("elasticLoadBalancing") or {}).get("enabled")),
    }
    return {
        "enabled": flags.pop() if len(flags) == 1 else None,
        "node_pools": sorted(compute.get("nodePools") or []),
        "node_role_arn": compute.get("nodeRoleArn") or None,
    }


def wanted_auto_mode(params):
    """The auto_mode option in auto_mode_summary's shape (None = not managed); when off, only ``enabled`` counts."""
    auto = params.get("auto_mode")
    if auto is None:
        return None
    if not auto["enabled"]:
        return {"enabled": False}
    return {"enabled": True, "node_pools": sorted(auto.get("node_pools") or []), "node_role_arn": auto.get("node_role_arn") or None}


def auto_mode_errors(wanted, current=None):
    """What EKS refuses in a wanted Auto Mode (and, on an existing cluster, in the change to it)."""
    if not wanted or not wanted["enabled"]:
        return []
    errors = []
    if wanted["node_pools"] and not wanted["node_role_arn"]:
        errors.append("auto_mode.node_pools %s need auto_mode.node_role_arn (EKS: the built-in node pools run with that role)"
                      % ", ".join(wanted["node_pools"]))
    if wanted["node_role_arn"] and not wanted["node_pools"]:
        errors.append("auto_mode.node_role_arn is only accepted with built-in auto_mode.node_pools; without them the role belongs in"
                      " your NodeClass (spec.role) and its EC2 access entry")
    if current and current.get("enabled") and current.get("node_role_arn") and wanted["node_role_arn"] \
            and wanted["node_role_arn"] != current["node_role_arn"]:
        errors.append("auto_mode.node_role_arn cannot be changed once Auto Mode compute is enabled (current: %s, wanted: %s)"
                      % (current["node_role_arn"], wanted["node_role_arn"]))
    return errors


def auto_mode_payload(wanted):
    """computeConfig, storageConfig and kubernetesNetworkConfig.elasticLoadBalancing: EKS takes the three together."""
    compute = {"enabled": wanted["enabled"]}
    if wanted["enabled"]:
        compute["nodePools"] = list(wanted["node_pools"])
        if wanted["node_role_arn"]:
            compute["nodeRoleArn"] = wanted["node_role_arn"]
    return {
        "computeConfig": compute,
        "storageConfig": {"blockStorage": {"enabled": wanted["enabled"]}},
        "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": wanted["enabled"]}},
    }


def auto_mode_equal(current, wanted):
    if wanted is None:
        return True
    if not wanted["enabled"]:
        return current.get("enabled") is False
    return current == wanted


def cluster_summary(cluster):
    """The fields eks_cluster compares, from a describe_cluster result (None -> {})."""
    if not cluster:
        return {}
    vpc = cluster.get("resourcesVpcConfig") or {}
    access = cluster.get("accessConfig") or {}
    network = cluster.get("kubernetesNetworkConfig") or {}
    public_access = vpc.get("endpointPublicAccess")
    private_access = vpc.get("endpointPrivateAccess")
    cidrs = vpc.get("publicAccessCidrs")
    return {
        "version": cluster.get("version"),
        "role_arn": cluster.get("roleArn"),
        "subnets": sorted_or_none(vpc.get("subnetIds")),
        "security_groups": sorted_or_none(vpc.get("securityGroupIds")),
        "endpoint_public_access": DEFAULT_ENDPOINT_PUBLIC_ACCESS if public_access is None else public_access,
        "endpoint_private_access": DEFAULT_ENDPOINT_PRIVATE_ACCESS if private_access is None else private_access,
        "public_access_cidrs": sorted(DEFAULT_PUBLIC_ACCESS_CIDRS if cidrs is None else cidrs),
        "logging": enabled_log_types(cluster.get("logging")),
        "authentication_mode": access.get("authenticationMode") or DEFAULT_AUTHENTICATION_MODE,
        "bootstrap_cluster_creator_admin_permissions": access.get("bootstrapClusterCreatorAdminPermissions"),
        "encryption_kms_key_arn": encryption_key_arn(cluster.get("encryptionConfig")),
        "service_ipv4_cidr": network.get("serviceIpv4Cidr"),
        "upgrade_policy": (cluster.get("upgradePolicy") or {}).get("supportType"),
        "auto_mode": auto_mode_summary(cluster),
        "tags": dict(cluster.get("tags") or {}),
    }


CLUSTER_COMPARED_FIELDS = [
    "version",
    "role_arn",
    "subnets",
    "security_groups",
    "endpoint_public_access",
    "endpoint_private_access",
    "public_access_cidrs",
    "logging",
    "authentication_mode",
    "bootstrap_cluster_creator_admin_permissions",
    "encryption_kms_key_arn",
    "service_ipv4_cidr",
    "upgrade_policy",
    "auto_mode",
]

CLUSTER_CREATE_ONLY = {
    "role_arn": "EKS cannot change the cluster IAM role; create a new cluster to use another role",
    "service_ipv4_cidr": "the service CIDR is fixed at creation; create a new cluster to use another range",
    "bootstrap_cluster_creator_admin_permissions": (
        "it only applies when the cluster is created; manage admins with access entries instead"
    ),
}


def wanted_cluster_summary(params):
    """Module params -> the same shape as cluster_summary (None = not managed)."""
    return {
        "version": params.get("version"),
        "role_arn": params.get("role_arn"),
        "subnets": sorted_or_none(params.get("subnets")),
        "security_groups": sorted_or_none(params.get("security_groups")),
        "endpoint_public_access": params.get("endpoint_public_access"),
        "endpoint_private_access": params.get("endpoint_private_access"),
        "public_access_cidrs": sorted_or_none(params.get("public_access_cidrs")),
        "logging": sorted_or_none(params.get("logging")),
        "authentication_mode": params.get("authentication_mode"),
        "bootstrap_cluster_creator_admin_permissions": params.get("bootstrap_cluster_creator_admin_permissions"),
        "encryption_kms_key_arn": params.get("encryption_kms_key_arn"),
        "service_ipv4_cidr": params.get("service_ipv4_cidr"),
        "upgrade_policy": params.get("upgrade_policy"),
        "auto_mode": wanted_auto_mode(params),
    }


def cluster_diff(before, params):
    """before/after of the compared fields (after = before + what the task sets)."""
    wanted = wanted_cluster_summary(params)
    before_view = {k: before.get(k) for k in CLUSTER_COMPARED_FIELDS} if before else {}
    after = dict(before_view)
    for key in CLUSTER_COMPARED_FIELDS:
        if wanted[key] is not None:
            after[key] = wanted[key]
    if before:
        before_view["tags"] = dict(before.get("tags") or {})
    after["tags"] = tags_after(before.get("tags") if before else {}, params.get("tags"), params.get("purge_tags"))
    return {"before": before_view, "after": after}


def plan_cluster_updates(name, current, params):
    """Compare a cluster_summary with the module params.

    Returns ``(errors, updates)``. ``errors`` lists every wanted change that EKS
    cannot make (all of them, so the user fixes them at once). ``updates`` is
    the ordered list of calls, one update type each as EKS requires:
    ``{"type": ..., "method": ..., "kwargs": {...}}``.
    """
    wanted = wanted_cluster_summary(params)
    errors = []
    updates = []

    for field, advice in CLUSTER_CREATE_ONLY.items():
        want = wanted[field]
        have = current.get(field)
        if want is not None and have is not None and want != have:
            errors.append(
                "%s cannot be changed on an existing cluster (current: %s, wanted: %s): %s" % (field, have, want, advice)
            )

    try:
        for mode in authentication_mode_steps(current.get("authentication_mode"), wanted["authentication_mode"]):
            updates.append(
                {
                    "type": "AccessConfigUpdate",
                    "method": "update_cluster_config",
                    "kwargs": {"name": name, "accessConfig": {"authenticationMode": mode}},
                }
            )
    except PlanError as e:
        errors.append(str(e))

    want_key = wanted["encryption_kms_key_arn"]
    have_key = current.get("encryption_kms_key_arn")
    if want_key is not None:
        if have_key is None:
            updates.append(
                {
                    "type": "AssociateEncryptionConfig",
                    "method": "associate_encryption_config",
                    "kwargs": {"clusterName": name, "encryptionConfig": encryption_config_payload(want_key)},
                }
            )
        elif have_key != want_key:
            errors.append(
                "encryption_kms_key_arn cannot be changed once secrets encryption is enabled (current: %s, wanted: %s):"
                " EKS cannot switch or remove the key; keep the current key or create a new cluster" % (have_key, want_key)
            )

    if wanted["logging"] is not None and wanted["logging"] != current.get("logging"):
        updates.append(
            {
                "type": "LoggingUpdate",
                "method": "update_cluster_config",
                "kwargs": {"name": name, "logging": logging_payload(wanted["logging"])},
            }
        )

    endpoint = {}
    for field, api_key in (
        ("endpoint_public_access", "endpointPublicAccess"),
        ("endpoint_private_access", "endpointPrivateAccess"),
        ("public_access_cidrs", "publicAccessCidrs"),
    ):
        if wanted[field] is not None and wanted[field] != current.get(field):
            endpoint[api_key] = wanted[field]
    if endpoint:
        public = endpoint.get("endpointPublicAccess", current.get("endpoint_public_access"))
        private = endpoint.get("endpointPrivateAccess", current.get("endpoint_private_access"))
        if not public and not private:
            errors.append("endpoint_public_access and endpoint_private_access cannot both be false")
        if "publicAccessCidrs" in endpoint and not public:
            errors.append("public_access_cidrs needs endpoint_public_access=true")
        updates.append(
            {
                "type": "EndpointAccessUpdate",
                "method": "update_cluster_config",
                "kwargs": {"name": name, "resourcesVpcConfig": endpoint},
            }
        )

    vpc = {}
    if wanted["subnets"] is not None and wanted["subnets"] != current.get("subnets"):
        vpc["subnetIds"] = list(params.get("subnets"))
    if wanted["security_groups"] is not None and wanted["security_groups"] != current.get("security_groups"):
        vpc["securityGroupIds"] = list(params.get("security_groups"))
    if vpc:
        updates.append(
            {"type": "VpcConfigUpdate", "method": "update_cluster_config", "kwargs": {"name": name, "resourcesVpcConfig": vpc}}
        )

    if wanted["upgrade_policy"] is not None and wanted["upgrade_policy"] != current.get("upgrade_policy"):
        updates.append(
            {
                "type": "UpgradePolicyUpdate",
                "method": "update_cluster_config",
                "kwargs": {"name": name, "upgradePolicy": {"supportType": wanted["upgrade_policy"]}},
            }
        )

    current_auto = current.get("auto_mode") or {"enabled": False, "node_pools": [], "node_role_arn": None}
    if not auto_mode_equal(current_auto, wanted["auto_mode"]):
        problems = auto_mode_errors(wanted["auto_mode"], current_auto)
        errors.extend(problems)
        if not problems:
            # one AutoModeUpdate: EKS switches compute, block storage and load balancing together
            updates.append({"type": "AutoModeUpdate", "method": "update_cluster_config",
                            "kwargs": dict(auto_mode_payload(wanted["auto_mode"]), name=name)})

    try:
        target = version_step(current.get("version"), wanted["version"])
    except PlanError as e:
        errors.append(str(e))
        target = None
    if target is not None:
        # Last: the slowest update, and the one most likely to need the others done.
        updates.append(
            {"type": "VersionUpdate", "method": "update_cluster_version", "kwargs": {"name": name, "version": target}}
        )

    return errors, updates


def cluster_create_request(params):
    """Module params -> create_cluster keyword arguments."""
    vpc = {"subnetIds": list(params["subnets"])}
    if params.get("security_groups") is not None:
        vpc["securityGroupIds"] = list(params["security_groups"])
    if params.get("endpoint_public_access") is not None:
        vpc["endpointPublicAccess"] = params["endpoint_public_access"]
    if params.get("endpoint_private_access") is not None:
        vpc["endpointPrivateAccess"] = params["endpoint_private_access"]
    if params.get("public_access_cidrs") is not None:
        vpc["publicAccessCidrs"] = list(params["public_access_cidrs"])
    request = {"name": params["name"], "roleArn": params["role_arn"], "resourcesVpcConfig": vpc}
    if params.get("version") is not None:
        request["version"] = format_version(parse_k8s_version(params["version"]))
    if params.get("logging") is not None:
        request["logging"] = logging_payload(params["logging"])
    access = {}
    if params.get("authentication_mode") is not None:
        access["authenticationMode"] = params["authentication_mode"]
    if params.get("bootstrap_cluster_creator_admin_permissions") is not None:
        access["bootstrapClusterCreatorAdminPermissions"] = params["bootstrap_cluster_creator_admin_permissions"]
    if access:
        request["accessConfig"] = access
    if params.get("encryption_kms_key_arn") is not None:
        request["encryptionConfig"] = encryption_config_payload(params["encryption_kms_key_arn"])
    if params.get("service_ipv4_cidr") is not None:
        request["kubernetesNetworkConfig"] = {"serviceIpv4Cidr": params["service_ipv4_cidr"]}
    auto = wanted_auto_mode(params)
    if auto is not None:
        problems = auto_mode_errors(auto)
        if problems:
            raise PlanError("; ".join(problems))
        payload = auto_mode_payload(auto)
        request["computeConfig"] = payload["computeConfig"]
        request["storageConfig"] = payload["storageConfig"]
        request.setdefault("kubernetesNetworkConfig", {}).update(payload["kubernetesNetworkConfig"])
    if params.get("upgrade_policy") is not None:
        request["upgradePolicy"] = {"supportType": params["upgrade_policy"]}
    if params.get("tags"):
        request["tags"] = dict(params["tags"])
    return request


# ---------------------------------------------------------------------------
# Node group planning
# ---------------------------------------------------------------------------

NODEGROUP_IMMUTABLE = ["node_role_arn", "subnets", "instance_types", "ami_type", "capacity_type", "disk_size"]


def _taint_key(taint):
    return (taint.get("key"), taint.get("effect"))


def normalize_taints(taints):
    """List of taints -> sorted list of {key, value, effect} (value None dropped)."""
    result = []
    for taint in taints or []:
        item = {"key": taint.get("key"), "effect": taint.get("effect")}
        if taint.get("value") is not None:
            item["value"] = taint.get("value")
        result.append(item)
    return sorted(result, key=lambda t: (t["key"] or "", t["effect"] or "", t.get("value") or ""))


def labels_diff(current, wanted):
    """Return the updateNodegroupConfig labels payload, or None when equal."""
    if wanted is None:
        return None
    current = current or {}
    add = {k: str(v) for k, v in wanted.items() if current.get(k) != str(v)}
    remove = sorted(k for k in current if k not in wanted)
    payload = {}
    if add:
        payload["addOrUpdateLabels"] = add
    if remove:
        payload["removeLabels"] = remove
    return payload or None


def taints_diff(current, wanted):
    """Return the updateNodegroupConfig taints payload, or None when equal.

    A taint is identified by (key, effect), as in Kubernetes; a new value is an update.
    """
    if wanted is None:
        return None
    current_by_key = {_taint_key(t): t for t in normalize_taints(current)}
    wanted_by_key = {_taint_key(t): t for t in normalize_taints(wanted)}
    add = [t for k, t in wanted_by_key.items() if current_by_key.get(k) != t]
    remove = [t for k, t in current_by_key.items() if k not in wanted_by_key]
    payload = {}
    if add:
        payload["addOrUpdateTaints"] = add
    if remove:
        payload["removeTaints"] = remove
    return payload or None


def scaling_plan(current, wanted, force_desired=False):
    """Return the scalingConfig to send, or None when nothing changes.

    minSize and maxSize follow the task. desiredSize belongs to the autoscaler:
    it is only sent when the current value falls outside the new [min, max]
    (then the task's desired_size is used when it fits, else the nearest
    bound), or when ``force_desired`` is set.
    """
    if wanted is None:
        return None
    current = current or {}
    cur_min = to_int_or_none(current.get("minSize"))
    cur_max = to_int_or_none(current.get("maxSize"))
    cur_desired = to_int_or_none(current.get("desiredSize"))
    new_min = wanted.get("min_size") if wanted.get("min_size") is not None else cur_min
    new_max = wanted.get("max_size") if wanted.get("max_size") is not None else cur_max
    want_desired = wanted.get("desired_size")
    if new_min is not None and new_max is not None and new_min > new_max:
        raise PlanError("scaling_config: min_size %s is larger than max_size %s" % (new_min, new_max))

    def fits(value):
        return value is not None and (new_min is None or value >= new_min) and (new_max is None or value <= new_max)

    desired = None
    if force_desired and want_desired is not None:
        if not fits(want_desired):
            raise PlanError(
                "scaling_config: desired_size %s is outside [min_size %s, max_size %s]" % (want_desired, new_min, new_max)
            )
        if want_desired != cur_desired:
            desired = want_desired
    elif cur_desired is None or not fits(cur_desired):
        if fits(want_desired):
            desired = want_desired
        elif cur_desired is not None:
            desired = min(max(cur_desired, new_min), new_max)
        else:
            desired = new_min

    payload = {}
    if new_min is not None and new_min != cur_min:
        payload["minSize"] = new_min
    if new_max is not None and new_max != cur_max:
        payload["maxSize"] = new_max
    if desired is not None and desired != cur_desired:
        payload["desiredSize"] = desired
    if not payload:
        return None
    # EKS checks the triple, so send min and max together with any change.
    payload.setdefault("minSize", new_min)
    payload.setdefault("maxSize", new_max)
    return {k: v for k, v in payload.items() if v is not None}


def update_config_plan(current, wanted):
    if wanted is None:
        return None
    current = current or {}
    if wanted.get("max_unavailable") is not None:
        if to_int_or_none(current.get("maxUnavailable")) != wanted["max_unavailable"]:
            return {"maxUnavailable": wanted["max_unavailable"]}
    elif wanted.get("max_unavailable_percentage") is not None:
        if to_int_or_none(current.get("maxUnavailablePercentage")) != wanted["max_unavailable_percentage"]:
            return {"maxUnavailablePercentage": wanted["max_unavailable_percentage"]}
    return None


def nodegroup_summary(nodegroup):
    """The fields eks_nodegroup compares, from a describe_nodegroup result (None -> {})."""
    if not nodegroup:
        return {}
    scaling = nodegroup.get("scalingConfig") or {}
    update_config = nodegroup.get("updateConfig") or {}
    template = nodegroup.get("launchTemplate") or {}
    return {
        "node_role_arn": nodegroup.get("nodeRole"),
        "subnets": sorted_or_none(nodegroup.get("subnets")),
        "instance_types": sorted_or_none(nodegroup.get("instanceTypes")),
        "ami_type": nodegroup.get("amiType"),
        "capacity_type": nodegroup.get("capacityType"),
        "disk_size": to_int_or_none(nodegroup.get("diskSize")),
        "scaling_config": {
            "min_size": to_int_or_none(scaling.get("minSize")),
            "max_size": to_int_or_none(scaling.get("maxSize")),
            "desired_size": to_int_or_none(scaling.get("desiredSize")),
        },
        "labels": dict(nodegroup.get("labels") or {}),
        "taints": normalize_taints(nodegroup.get("taints")),
        "update_config": {
            "max_unavailable": to_int_or_none(update_config.get("maxUnavailable")),
            "max_unavailable_percentage": to_int_or_none(update_config.get("maxUnavailablePercentage")),
        },
        "version": nodegroup.get("version"),
        "release_version": nodegroup.get("releaseVersion"),
        "launch_template": {
            "id": template.get("id"),
            "name": template.get("name"),
            "version": template.get("version"),
        }
        if template
        else None,
        "tags": dict(nodegroup.get("tags") or {}),
    }


def wanted_nodegroup_summary(params):
    return {
        "node_role_arn": params.get("node_role_arn"),
        "subnets": sorted_or_none(params.get("subnets")),
        "instance_types": sorted_or_none(params.get("instance_types")),
        "ami_type": params.get("ami_type"),
        "capacity_type": params.get("capacity_type"),
        "disk_size": params.get("disk_size"),
    }


def nodegroup_immutable_errors(current, params):
    """Every immutable field the task wants different, as messages naming both values."""
    wanted = wanted_nodegroup_summary(params)
    errors = []
    for field in NODEGROUP_IMMUTABLE:
        if wanted[field] is not None and wanted[field] != current.get(field):
            errors.append(
                "%s cannot be changed on an existing node group (current: %s, wanted: %s)"
                % (field, current.get(field), wanted[field])
            )
    template = params.get("launch_template")
    if template:
        have = current.get("launch_template")
        if not have:
            errors.append(
                "launch_template cannot be added to a node group created without one (current: none, wanted: %s)"
                % (template.get("id") or template.get("name"))
            )
        else:
            for key in ("id", "name"):
                if template.get(key) is not None and have.get(key) is not None and template[key] != have[key]:
                    errors.append(
                        "launch_template.%s cannot be changed on an existing node group (current: %s, wanted: %s);"
                        " only its version can" % (key, have[key], template[key])
                    )
    return errors


def plan_nodegroup_updates(cluster_name, name, current_ng, params):
    """Compare a describe_nodegroup result with the module params.

    Returns ``(errors, updates)`` like :func:`plan_cluster_updates`: at most one
    update_nodegroup_config call (labels, taints, scaling, update strategy) and
    one update_nodegroup_version call (version, release version, launch
    template version).
    """
    current = nodegroup_summary(current_ng)
    errors = nodegroup_immutable_errors(current, params)
    if errors:
        errors = [
            e + "; create a new node group with the wanted value, move the workloads, then delete this one"
            for e in errors
        ]
    updates = []
    ids = {"clusterName": cluster_name, "nodegroupName": name}

    config = {}
    try:
        scaling = scaling_plan(current_ng.get("scalingConfig"), params.get("scaling_config"), params.get("force_desired_size"))
    except PlanError as e:
        errors.append(str(e))
        scaling = None
    if scaling:
        config["scalingConfig"] = scaling
    labels = labels_diff(current_ng.get("labels"), params.get("labels"))
    if labels:
        config["labels"] = labels
    taints = taints_diff(current_ng.get("taints"), params.get("taints"))
    if taints:
        config["taints"] = taints
    update_config = update_config_plan(current_ng.get("updateConfig"), params.get("update_config"))
    if update_config:
        config["updateConfig"] = update_config
    if config:
        kwargs = dict(ids)
        kwargs.update(config)
        updates.append({"type": "ConfigUpdate", "method": "update_nodegroup_config", "kwargs": kwargs})

    version = {}
    want_version = params.get("version")
    if want_version is not None and current.get("version") is not None:
        try:
            have = parse_k8s_version(current["version"])
            want = parse_k8s_version(want_version)
        except PlanError as e:
            errors.append(str(e))
        else:
            if want < have:
                errors.append(
                    "version: the node group runs Kubernetes %s and cannot be downgraded to %s; "
                    "create a new node group with version %s" % (format_version(have), format_version(want), format_version(want))
                )
            elif want > have:
                version["version"] = format_version(want)
    want_release = params.get("release_version")
    if want_release is not None and want_release != current.get("release_version"):
        version["releaseVersion"] = want_release
    template = params.get("launch_template")
    have_template = current.get("launch_template")
    if template and have_template and template.get("version") is not None:
        want_lt_version = str(template["version"])
        # $Latest / $Default are resolved to a number by EKS at creation; only numbers compare.
        if not want_lt_version.startswith("$") and want_lt_version != str(have_template.get("version")):
            lt = {"version": want_lt_version}
            if have_template.get("id"):
                lt["id"] = have_template["id"]
            else:
                lt["name"] = have_template["name"]
            version["launchTemplate"] = lt
    if version:
        kwargs = dict(ids)
        kwargs.update(version)
        updates.append({"type": "VersionUpdate", "method": "update_nodegroup_version", "kwargs": kwargs})

    return errors, updates


NODEGROUP_COMPARED_FIELDS = [
    "node_role_arn",
    "subnets",
    "instance_types",
    "ami_type",
    "capacity_type",
    "disk_size",
    "scaling_config",
    "labels",
    "taints",
    "update_config",
    "version",
    "release_version",
    "launch_template",
    "tags",
]


def nodegroup_diff(before, params, updates):
    """before/after of the compared node group fields, after reflecting the planned calls."""
    before_view = {k: before.get(k) for k in NODEGROUP_COMPARED_FIELDS} if before else {}
    if not before:
        after = {
            "node_role_arn": params.get("node_role_arn"),
            "subnets": sorted_or_none(params.get("subnets")),
            "instance_types": sorted_or_none(params.get("instance_types")),
            "ami_type": params.get("ami_type"),
            "capacity_type": params.get("capacity_type"),
            "disk_size": params.get("disk_size"),
            "scaling_config": params.get("scaling_config"),
            "labels": params.get("labels"),
            "taints": normalize_taints(params.get("taints")) if params.get("taints") is not None else None,
            "update_config": params.get("update_config"),
            "version": params.get("version"),
            "release_version": params.get("release_version"),
            "launch_template": params.get("launch_template"),
            "tags": dict(params.get("tags") or {}),
        }
        return {"before": before_view, "after": {k: v for k, v in after.items() if v is not None}}
    after = {
        k: (dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v) for k, v in before_view.items()
    }
    for update in updates:
        kwargs = update["kwargs"]
        scaling = kwargs.get("scalingConfig")
        if scaling:
            after["scaling_config"].update(
                {
                    key: scaling[api]
                    for key, api in (("min_size", "minSize"), ("max_size", "maxSize"), ("desired_size", "desiredSize"))
                    if api in scaling
                }
            )
        if kwargs.get("labels"):
            after["labels"] = {str(k): str(v) for k, v in params["labels"].items()}
        if kwargs.get("taints"):
            after["taints"] = normalize_taints(params["taints"])
        update_config = kwargs.get("updateConfig")
        if update_config:
            after["update_config"] = {
                "max_unavailable": update_config.get("maxUnavailable"),
                "max_unavailable_percentage": update_config.get("maxUnavailablePercentage"),
            }
        if "version" in kwargs and update["method"] == "update_nodegroup_version":
            after["version"] = kwargs["version"]
        if "releaseVersion" in kwargs:
            after["release_version"] = kwargs["releaseVersion"]
        if "launchTemplate" in kwargs and after.get("launch_template"):
            after["launch_template"]["version"] = kwargs["launchTemplate"]["version"]
    after["tags"] = tags_after(before.get("tags"), params.get("tags"), params.get("purge_tags"))
    return {"before": before_view, "after": after}


def nodegroup_create_request(params):
    """Module params -> create_nodegroup keyword arguments."""
    request = {
        "clusterName": params["cluster_name"],
        "nodegroupName": params["name"],
        "nodeRole": params["node_role_arn"],
        "subnets": list(params["subnets"]),
    }
    scaling = params.get("scaling_config")
    if scaling:
        config = {}
        if scaling.get("min_size") is not None:
            config["minSize"] = scaling["min_size"]
        if scaling.get("max_size") is not None:
            config["maxSize"] = scaling["max_size"]
        desired = scaling.get("desired_size")
        if desired is None:
            desired = scaling.get("min_size")
        if desired is not None:
            config["desiredSize"] = desired
        request["scalingConfig"] = config
    simple = (
        ("instance_types", "instanceTypes"),
        ("ami_type", "amiType"),
        ("capacity_type", "capacityType"),
        ("disk_size", "diskSize"),
        ("version", "version"),
        ("release_version", "releaseVersion"),
    )
    for option, api in simple:
        if params.get(option) is not None:
            request[api] = params[option]
    if params.get("version") is not None:
        request["version"] = format_version(parse_k8s_version(params["version"]))
    if params.get("labels"):
        request["labels"] = {str(k): str(v) for k, v in params["labels"].items()}
    if params.get("taints"):
        request["taints"] = normalize_taints(params["taints"])
    update_config = update_config_plan({}, params.get("update_config"))
    if update_config:
        request["updateConfig"] = update_config
    template = params.get("launch_template")
    if template:
        lt = {k: str(template[k]) for k in ("id", "name", "version") if template.get(k) is not None}
        request["launchTemplate"] = lt
    if params.get("tags"):
        request["tags"] = dict(params["tags"])
    return request


# ---------------------------------------------------------------------------
# AWS calls
# ---------------------------------------------------------------------------


@NotFoundErrorHandler.list_error_handler("describe cluster")
@aws_retry()
def describe_cluster(client, name):
    return client.describe_cluster(name=name)["cluster"]


@NotFoundErrorHandler.list_error_handler("describe node group")
@aws_retry()
def describe_nodegroup(client, cluster_name, name):
    return client.describe_nodegroup(clusterName=cluster_name, nodegroupName=name)["nodegroup"]


@NotFoundErrorHandler.list_error_handler("list node groups", default_value=[])
@aws_retry()
def list_nodegroups(client, cluster_name):
    paginator = client.get_paginator("list_nodegroups")
    return paginator.paginate(clusterName=cluster_name).build_full_result().get("nodegroups", [])


@NotFoundErrorHandler.list_error_handler("list Fargate profiles", default_value=[])
@aws_retry()
def list_fargate_profiles(client, cluster_name):
    paginator = client.get_paginator("list_fargate_profiles")
    return paginator.paginate(clusterName=cluster_name).build_full_result().get("fargateProfileNames", [])


@NotFoundErrorHandler.common_error_handler("describe update")
def describe_update(client, **kwargs):
    return client.describe_update(aws_retry=True, **kwargs)["update"]


@NotFoundErrorHandler.common_error_handler("update tags")
def reconcile_tags(client, arn, to_set, to_remove):
    if to_remove:
        client.untag_resource(resourceArn=arn, tagKeys=list(to_remove), aws_retry=True)
    if to_set:
        client.tag_resource(resourceArn=arn, tags=dict(to_set), aws_retry=True)


def call_api(client, method, description, **kwargs):
    """``client.<method>(**kwargs)`` with retries, in amazon.aws's error handler: a botocore error raises
    AnsibleAWSError("Failed to <description>")."""
    return NotFoundErrorHandler.common_error_handler(description)(getattr(client, method))(aws_retry=True, **kwargs)


def fail_with(module, error, **extra):
    """``module.fail_json_aws_error(error)`` with ``extra`` keys in the failure result, which fail_json_aws_error
    cannot carry (eks_cluster and eks_nodegroup return the ``updates`` done before the failure)."""
    if error.exception is not None:
        module.fail_json_aws(error.exception, msg=error.message, **extra)
    module.fail_json(msg=error.message or str(error), **extra)


def update_record(update, planned_type=None):
    """The entry returned in ``updates`` for an update (or a planned one in check mode)."""
    if planned_type is not None:
        return {"id": None, "type": planned_type, "status": "Planned", "params": []}
    return {
        "id": update.get("id"),
        "type": update.get("type"),
        "status": update.get("status"),
        "params": update.get("params") or [],
    }


def run_updates(client, plan, deadline, delay, describe_kwargs, records, what):
    """Start each planned update and follow it to completion, appending to ``records``.

    Raises AnsibleAWSError (message prefixed with ``what``) when a call is
    refused or an update fails; ``records`` then holds what was done so far.
    """
    for item in plan:
        response = call_api(client, item["method"], "start %s of %s" % (item["type"], what), **item["kwargs"])
        update = response.get("update") or {}
        record = update_record(update)
        record["type"] = record["type"] or item["type"]
        records.append(record)
        try:
            final = wait_for_update(client, update, deadline, delay, describe_kwargs)
        except AnsibleAWSError as e:
            record["status"] = (e.kwargs.get("update") or {}).get("status", record["status"])
            e.message = "%s: %s" % (what, e.message)
            raise
        record["status"] = final.get("status", record["status"])
        record["params"] = final.get("params", record["params"])
    return records


def remaining(deadline, clock=time.monotonic):
    return max(0.0, deadline - clock())


def run_waiter(client, waiter_name, deadline, delay, **kwargs):
    """Run a botocore waiter until ``deadline``; raises AnsibleAWSError on timeout or failure."""
    waiter = client.get_waiter(waiter_name)
    try:
        waiter.wait(WaiterConfig=waiter_config(remaining(deadline), delay), **kwargs)
    except botocore.exceptions.WaiterError as e:
        raise AnsibleAWSError(message="Timeout or failure waiting (%s)" % waiter_name, exception=e)


def wait_for_update(client, update, deadline, delay, describe_kwargs, sleep=None):
    """Poll describe_update until the update succeeds.

    ``update`` is the update returned by the update_* call. An update that is
    already terminal in that response is not polled (and an answer without an
    id, from an API stand-in, is taken as done). Raises AnsibleAWSError naming
    the update, with EKS's error details, when it fails, is cancelled, or
    outlives the deadline.
    """
    if not update or not update.get("id"):
        return update or {}
    label = "update %s (%s)" % (update["id"], update.get("type", "unknown type"))
    if update.get("status") == UPDATE_DONE:
        return update
    if update.get("status") in UPDATE_FAILED:
        raise AnsibleAWSError(message="%s %s: %s" % (label, update["status"], format_update_errors(update)), update=update)

    last = [update]

    def fetch():
        last.append(describe_update(client, updateId=update["id"], **describe_kwargs))
        return last[-1]

    def done(value):
        return value.get("status") == UPDATE_DONE

    def failed(value):
        if value.get("status") in UPDATE_FAILED:
            return "%s %s: %s" % (label, value["status"], format_update_errors(value))
        return None

    timeout = remaining(deadline)
    try:
        return wait_until(fetch, done, timeout, delay=delay, failed=failed, sleep=sleep or time.sleep)
    except WaitTimeout as e:
        if last[-1].get("status") in UPDATE_FAILED:
            raise AnsibleAWSError(message=str(e), update=last[-1])
        raise AnsibleAWSError(
            message="%s still in progress after %d seconds; raise wait_timeout, or run the task again once it has"
            " finished (EKS accepts no other update meanwhile)" % (label, int(timeout)),
            update=last[-1],
        )
