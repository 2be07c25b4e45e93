# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The StorageClasses of the platform layer: EBS for block volumes (roles/ebs_storage), EFS access points for the
shared model cache (roles/efs_storage). Pure functions of the roles' inputs, applied as returned."""

EBS_PROVISIONERS = ("ebs.csi.aws.com", "ebs.csi.eks.amazonaws.com")


def _class(name, labels, provisioner):
    return {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": name, "labels": dict(labels or {})},
            "provisioner": provisioner, "reclaimPolicy": "Delete"}


def ebs(name, labels, provisioner, volume_tags=None):
    """gp3, encrypted, bound where the pod lands (an EBS volume lives in one zone), expandable. volume_tags go on
    every volume as the CSI driver's tagSpecification_<n> parameters ("<key>=<value>", numbered from 1 in key
    order so the object does not change between runs)."""
    if provisioner not in EBS_PROVISIONERS:
        raise ValueError("EBS provisioner %r is not one of %s" % (provisioner, ", ".join(EBS_PROVISIONERS)))
    parameters = {"type": "gp3", "encrypted": "true"}
    for number, key in enumerate(sorted(volume_tags or {}), start=1):
        parameters["tagSpecification_%d" % number] = "%s=%s" % (key, volume_tags[key])
    storage_class = _class(name, labels, provisioner)
    storage_class.update({"volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": True,
                          "parameters": parameters})
    return storage_class


def efs(name, labels, file_system_id, gid_range, base_path):
    """Dynamic EFS access points: one directory per claim under base_path, owned by a GID from gid_range, mounted
    over TLS with the pod's IAM identity (the file system policy refuses anything else)."""
    low, high = (int(bound) for bound in gid_range)
    if not file_system_id or not 0 < low <= high:
        raise ValueError("EFS StorageClass %s needs a file system id and a GID range low <= high (got %r, %r)"
                         % (name, file_system_id, list(gid_range)))
    storage_class = _class(name, labels, "efs.csi.aws.com")
    storage_class.update({
        "volumeBindingMode": "Immediate", "allowVolumeExpansion": False, "mountOptions": ["tls", "iam"],
        "parameters": {"provisioningMode": "efs-ap", "fileSystemId": file_system_id, "directoryPerms": "700",
                       "gidRangeStart": str(low), "gidRangeEnd": str(high), "basePath": base_path,
                       "ensureUniqueDirectory": "true"}})
    return storage_class
