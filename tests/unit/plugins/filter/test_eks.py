# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
from ansible_collections.eks_llm.inference.plugins.filter.eks import eks_addon_requests

ADDONS = {
    "vpc-cni": {"version": "v1.19.2-eksbuild.1", "configuration": {}},
    "aws-ebs-csi-driver": {"version": "latest", "configuration": {"controller": {"replicaCount": 1}}},
    "aws-efs-csi-driver": {"version": "default", "configuration": {}},
}
OURS = {"aws-ebs-csi-driver": {"controller": {"extraVolumeTags": {"owner": "llm"}}}}
IDENTITIES = {"aws-efs-csi-driver": [{"service_account": "efs-csi-controller-sa", "role_arn": "arn:aws:iam::1:role/efs"}]}


def test_inventory_order_our_configuration_under_the_inventorys_and_identities():
    requests = eks_addon_requests(ADDONS, OURS, IDENTITIES)
    assert [r["name"] for r in requests] == ["vpc-cni", "aws-ebs-csi-driver", "aws-efs-csi-driver"]
    assert requests[0] == {"name": "vpc-cni", "addon_version": "v1.19.2-eksbuild.1", "configuration_values": None,
                           "pod_identity_associations": None}
    assert requests[1]["configuration_values"] == {"controller": {"extraVolumeTags": {"owner": "llm"}, "replicaCount": 1}}
    assert requests[2]["pod_identity_associations"] == IDENTITIES["aws-efs-csi-driver"]
    assert OURS == {"aws-ebs-csi-driver": {"controller": {"extraVolumeTags": {"owner": "llm"}}}}  # not changed


def test_the_inventory_wins_over_our_configuration():
    requests = eks_addon_requests({"aws-ebs-csi-driver": {"version": "latest", "configuration": {
        "controller": {"extraVolumeTags": {"owner": "me"}}}}}, OURS)
    assert requests[0]["configuration_values"] == {"controller": {"extraVolumeTags": {"owner": "me"}}}


def test_a_waiting_pass_asks_only_for_add_ons_not_active_yet():
    settled = {"vpc-cni": "ACTIVE", "aws-ebs-csi-driver": "CREATING"}
    assert [r["name"] for r in eks_addon_requests(ADDONS, settled=settled)] == ["aws-ebs-csi-driver", "aws-efs-csi-driver"]
    assert eks_addon_requests(ADDONS, settled=dict.fromkeys(ADDONS, "ACTIVE")) == []
