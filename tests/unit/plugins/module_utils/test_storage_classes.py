"""The platform layer's StorageClasses (plugins/module_utils/storage_classes.py)."""
import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import storage_classes

LABELS = {"app.kubernetes.io/managed-by": "eks_llm.inference"}


def test_ebs_class_is_encrypted_gp3_bound_where_the_pod_lands():
    made = storage_classes.ebs("gp3", LABELS, "ebs.csi.aws.com")
    assert made["metadata"] == {"name": "gp3", "labels": LABELS}
    assert made["provisioner"] == "ebs.csi.aws.com"
    assert made["volumeBindingMode"] == "WaitForFirstConsumer" and made["allowVolumeExpansion"] is True
    assert made["parameters"] == {"type": "gp3", "encrypted": "true"}


def test_ebs_volume_tags_are_numbered_in_key_order_whatever_order_they_come_in():
    one = storage_classes.ebs("gp3", LABELS, "ebs.csi.eks.amazonaws.com", {"team": "ml", "eks-llm:deployment": "demo"})
    other = storage_classes.ebs("gp3", LABELS, "ebs.csi.eks.amazonaws.com", {"eks-llm:deployment": "demo", "team": "ml"})
    assert one == other  # StorageClass parameters are immutable: the same tags must give the same object
    assert one["parameters"]["tagSpecification_1"] == "eks-llm:deployment=demo"
    assert one["parameters"]["tagSpecification_2"] == "team=ml"


def test_ebs_refuses_a_provisioner_that_is_not_an_ebs_driver():
    with pytest.raises(ValueError, match="efs.csi.aws.com"):
        storage_classes.ebs("gp3", LABELS, "efs.csi.aws.com")


def test_efs_class_makes_access_points_mounted_with_tls_and_iam():
    made = storage_classes.efs("efs-models", LABELS, "fs-0123456789abcdef0", [50000, 59999], "/eks-llm")
    assert made["provisioner"] == "efs.csi.aws.com"
    assert made["mountOptions"] == ["tls", "iam"]  # the file system policy refuses unencrypted or anonymous mounts
    assert made["parameters"] == {"provisioningMode": "efs-ap", "fileSystemId": "fs-0123456789abcdef0",
                                  "directoryPerms": "700", "gidRangeStart": "50000", "gidRangeEnd": "59999",
                                  "basePath": "/eks-llm", "ensureUniqueDirectory": "true"}
    assert all(isinstance(value, str) for value in made["parameters"].values())  # the API takes strings only


@pytest.mark.parametrize("file_system_id, gid_range", [("", [50000, 59999]), ("fs-1", [60000, 50000]), ("fs-1", [0, 10])])
def test_efs_refuses_a_missing_file_system_or_a_bad_gid_range(file_system_id, gid_range):
    with pytest.raises(ValueError, match="efs-models"):
        storage_classes.efs("efs-models", LABELS, file_system_id, gid_range, "/eks-llm")
