"""EKS Auto Mode's IAM roles (roles/iam, eks_llm_cluster.compute_mode auto_mode) against the facts kept in
tests/upstream/eks_auto_mode.json: the cluster role's policies and trust, the node role's policies, the roles left out."""
import json
import os

import yaml

from tests.unit.roles.iam.test_karpenter_policy import REPO, ROLE, render

FACTS = json.load(open(os.path.join(REPO, "tests", "upstream", "eks_auto_mode.json"), encoding="utf-8"))


def iam_vars():
    with open(os.path.join(ROLE, "vars", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_cluster_role_gets_auto_modes_policies_only_in_auto_mode():
    policies = iam_vars()["__iam_cluster_policies"]
    assert sorted(policies["auto_mode"]) == sorted(FACTS["cluster_role"]["managed_policies"])
    assert "AmazonEKSComputePolicy" not in policies["karpenter"]


def test_cluster_trust_allows_tag_session_in_auto_mode():
    roles = {r["key"]: r for r in iam_vars()["__iam_roles"]}
    auto = render("trust.json.j2", item=dict(roles["cluster"], tag_session=True))["Statement"][0]
    assert auto["Principal"] == {"Service": FACTS["cluster_role"]["trust_service"]}
    assert sorted(auto["Action"]) == sorted(FACTS["cluster_role"]["trust_actions"])
    assert render("trust.json.j2", item=dict(roles["cluster"], tag_session=False))["Statement"][0]["Action"] == ["sts:AssumeRole"]


def test_auto_node_role_and_the_roles_left_out():
    given = iam_vars()
    node = {r["key"]: r for r in given["__iam_roles"]}["auto_node"]
    assert sorted(node["managed"]) == sorted(FACTS["node_role"]["managed_policies"])
    assert node["trust"] == FACTS["node_role"]["trust_service"]
    assert given["__iam_mode_keys_left_out"]["karpenter"] == ["auto_node"]
    assert sorted(given["__iam_mode_keys_left_out"]["auto_mode"]) == ["ebs_csi", "karpenter_controller", "karpenter_node", "node"]


def test_tagging_policy_is_scoped_to_the_cluster():
    policy = render("auto-mode-tags.json.j2")
    for statement in policy["Statement"]:
        assert statement["Condition"]["StringEquals"]["aws:RequestTag/eks:eks-cluster-name"] == "llm-demo"
    tagging = [s for s in policy["Statement"] if s["Action"] == "ec2:CreateTags"][0]
    assert all(":123456789012:" in arn for arn in tagging["Resource"])
