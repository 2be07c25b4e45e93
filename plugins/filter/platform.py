# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters for the platform layer: the Karpenter objects (plugins/module_utils/karpenter.py), the StorageClasses
(plugins/module_utils/storage_classes.py) and the wiring checks."""

from ansible_collections.eks_llm.inference.plugins.module_utils import karpenter, storage_classes


def karpenter_plan(settings):
    """Node classes and NodePools the karpenter role applies, with the names its cleanup uses.

    The objects come in the order they are applied (node classes first: NodePools name them), built by
    plugins/module_utils/karpenter.py. settings: {name, node_role, gpu_node_pools, karpenter, platform, tags,
    ami_aliases} (the role's inputs). Returns {objects, node_classes, node_pools, gpu_node_pools, wanted_names,
    managed_kinds, selector}.
    """
    return karpenter.plan(settings)


def ebs_storage_class(name, labels, provisioner, volume_tags=None):
    """The EBS StorageClass the ebs_storage role applies: gp3, encrypted, WaitForFirstConsumer, expandable.

    provisioner: ebs.csi.aws.com (the add-on) or ebs.csi.eks.amazonaws.com (EKS Auto Mode). volume_tags (dict): put
    on every volume the class creates (tagSpecification_<n> parameters, numbered in key order).
    """
    return storage_classes.ebs(name, labels, provisioner, volume_tags)


def efs_storage_class(name, labels, file_system_id, gid_range, base_path):
    """The EFS StorageClass the efs_storage role applies: one access point per claim under base_path, owned by a GID
    from gid_range ([low, high]), mounted with TLS and IAM."""
    return storage_classes.efs(name, labels, file_system_id, gid_range, base_path)


def _tolerates(tolerations, taint):
    for toleration in tolerations or []:
        key, operator = toleration.get("key"), toleration.get("operator", "Equal")
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        if operator == "Exists" and (key is None or key == taint.get("key")):
            return True
        if operator == "Equal" and key == taint.get("key") and str(toleration.get("value", "")) == str(taint.get("value", "")):
            return True
    return False


def _selects(pod_spec, labels):
    """Whether nodeSelector and required node affinity of a pod spec accept a node with these labels."""
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    terms = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
             .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or []
    if not terms:
        return True
    for term in terms:
        if all(_matches(expression, labels) for expression in term.get("matchExpressions") or []):
            return True
    return False


def _matches(expression, labels):
    key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt"):
        try:
            number, limit = int(labels.get(key)), int(values[0])
        except (TypeError, ValueError, IndexError):
            return False
        return number > limit if operator == "Gt" else number < limit
    return False


def daemonset_coverage(daemonsets, nodepools):
    """Problems (strings) for every GPU NodePool a DaemonSet could not land on.

    A DaemonSet lands on a pool's nodes when its pod template tolerates every taint of the pool and
    its node selection accepts the labels every node of the pool carries (the NodePool template's
    labels plus the single-valued In requirements).
    """
    problems = []
    for pool in nodepools:
        template = pool["spec"]["template"]
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels["karpenter.sh/nodepool"] = pool["metadata"]["name"]
        for requirement in template["spec"].get("requirements") or []:
            if requirement.get("operator") == "In" and len(requirement.get("values") or []) == 1:
                labels[requirement["key"]] = requirement["values"][0]
        taints = template["spec"].get("taints") or []
        for daemonset in daemonsets:
            pod_spec = daemonset["spec"]["template"]["spec"]
            where = "DaemonSet %s/%s on NodePool %s" % (daemonset["metadata"]["namespace"], daemonset["metadata"]["name"], pool["metadata"]["name"])
            untolerated = [t for t in taints if not _tolerates(pod_spec.get("tolerations"), t)]
            if untolerated:
                problems.append("%s: does not tolerate taint(s) %s" % (where, ", ".join(
                    "%s=%s:%s" % (t["key"], t.get("value", ""), t["effect"]) for t in untolerated)))
            elif not _selects(pod_spec, labels):
                problems.append("%s: its node selection %s does not match the pool's node labels %s" % (
                    where, (pod_spec.get("nodeSelector") or {}) or (pod_spec.get("affinity") or {}).get("nodeAffinity"), labels))
    return problems


class FilterModule(object):
    def filters(self):
        return {
            "karpenter_plan": karpenter_plan,
            "daemonset_coverage": daemonset_coverage,
            "ebs_storage_class": ebs_storage_class,
            "efs_storage_class": efs_storage_class,
        }
