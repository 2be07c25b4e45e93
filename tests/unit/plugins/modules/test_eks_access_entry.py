# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests for eks_access_entry.

moto does not implement EKS access entries, so the module runs against a real
botocore EKS client wrapped in a Stubber: every request is checked against the
EKS service model and against the parameters the test expects.
"""

import datetime
import re

import botocore.session
import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import eks_cluster_resources
from ansible_collections.eks_llm.inference.plugins.modules import eks_access_entry as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

CLUSTER = "llm"
PRINCIPAL = "arn:aws:iam::123456789012:role/llm-admin"
ENTRY_ARN = "arn:aws:eks:us-west-2:123456789012:access-entry/llm/role/123456789012/llm-admin/1234abcd"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
EDIT = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
NOW = datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)


RUN = ModuleRunner(module_under_test.main, region=REGION)


def run_module(client, args, check_mode=False, diff=False):  # pylint: disable=unused-argument
    """(result, failed); ``client`` is the stubbed one the eks fixture already gave the module."""
    return RUN.outcome(args, check_mode, diff)


def entry(**overrides):
    value = dict(
        clusterName=CLUSTER,
        principalArn=PRINCIPAL,
        kubernetesGroups=[],
        accessEntryArn=ENTRY_ARN,
        createdAt=NOW,
        modifiedAt=NOW,
        tags={},
        username="arn:aws:sts::123456789012:assumed-role/llm-admin/{{SessionName}}",
        type="STANDARD",
    )
    value.update(overrides)
    return value


def policy(arn, scope_type="cluster", namespaces=None):
    scope = {"type": scope_type}
    if namespaces:
        scope["namespaces"] = namespaces
    return dict(policyArn=arn, accessScope=scope, associatedAt=NOW, modifiedAt=NOW)


KEYS = {"clusterName": CLUSTER, "principalArn": PRINCIPAL}


def expect_describe(stubber, found=None, policies=None):
    if found is None:
        stubber.add_client_error(
            "describe_access_entry",
            service_error_code="ResourceNotFoundException",
            http_status_code=404,
            expected_params=KEYS,
        )
        return
    stubber.add_response("describe_access_entry", {"accessEntry": found}, KEYS)
    stubber.add_response(
        "list_associated_access_policies",
        dict(KEYS, associatedAccessPolicies=policies or []),
        KEYS,
    )


# ------------------------------------------------------------------ helpers


def test_short_policy_names_are_expanded():
    assert eks_cluster_resources.expand_policy_arn("AmazonEKSClusterAdminPolicy") == ADMIN
    assert eks_cluster_resources.expand_policy_arn(VIEW) == VIEW
    assert (
        eks_cluster_resources.expand_policy_arn("AmazonEKSViewPolicy", "aws-cn")
        == "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
    )


def test_partition_comes_from_the_principal():
    assert eks_cluster_resources.partition_of("arn:aws-us-gov:iam::123456789012:role/x") == "aws-us-gov"
    assert eks_cluster_resources.partition_of(PRINCIPAL) == "aws"
    assert eks_cluster_resources.partition_of("not-an-arn") == "aws"


def test_wanted_policies_normalizes_scopes():
    wanted = eks_cluster_resources.wanted_policies(
        [
            {"policy_arn": "AmazonEKSClusterAdminPolicy", "access_scope": None},
            {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["b", "a", "b"]}},
        ]
    )
    assert wanted == {
        ADMIN: {"type": "cluster", "namespaces": []},
        VIEW: {"type": "namespace", "namespaces": ["a", "b"]},
    }


@pytest.mark.parametrize(
    "policies, message",
    [
        ([{"policy_arn": VIEW}, {"policy_arn": "AmazonEKSViewPolicy"}], "more than once"),
        ([{"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": []}}], "at least one namespace"),
        ([{"policy_arn": VIEW, "access_scope": {"type": "cluster", "namespaces": ["a"]}}], "only allowed"),
    ],
)
def test_wanted_policies_rejects_bad_input(policies, message):
    with pytest.raises(ValueError, match=message):
        eks_cluster_resources.wanted_policies(policies)


def test_policy_diff():
    cluster = {"type": "cluster", "namespaces": []}
    ns_a = {"type": "namespace", "namespaces": ["a"]}
    ns_ab = {"type": "namespace", "namespaces": ["a", "b"]}
    current = {ADMIN: cluster, VIEW: ns_a, EDIT: cluster}
    wanted = {ADMIN: cluster, VIEW: ns_ab}
    assert eks_cluster_resources.policy_diff(current, wanted, purge=True) == ([(VIEW, ns_ab)], [EDIT])
    assert eks_cluster_resources.policy_diff(current, wanted, purge=False) == ([(VIEW, ns_ab)], [])
    assert eks_cluster_resources.policy_diff(current, dict(current), purge=True) == ([], [])


def test_current_policies_ignores_namespace_order():
    current = eks_cluster_resources.current_policies([policy(VIEW, "namespace", ["b", "a"])])
    assert current == {VIEW: {"type": "namespace", "namespaces": ["a", "b"]}}


def test_rbac_restriction():
    assert eks_cluster_resources.rbac_restriction_error("STANDARD", ["g"], {ADMIN: {}}) is None
    assert eks_cluster_resources.rbac_restriction_error("EC2_LINUX", None, None) is None
    assert eks_cluster_resources.rbac_restriction_error("EC2_LINUX", [], {}) is None
    message = eks_cluster_resources.rbac_restriction_error("EC2_LINUX", ["g"], {ADMIN: {}})
    assert "kubernetes_groups or access_policies" in message and "EC2_LINUX" in message


def test_type_choices_follow_the_botocore_model():
    """The model documents the valid types in prose; keep our choices in step with it."""
    model = botocore.session.get_session().get_service_model("eks")
    doc = model.operation_model("CreateAccessEntry").input_shape.members["type"].documentation
    sentence = re.search(r"Valid values are (.*?)\.\s", doc).group(1)
    documented = set(re.findall(r"<code>([A-Z0-9_]+)</code>", sentence))
    assert documented == set(eks_cluster_resources.ACCESS_ENTRY_TYPES)


# ------------------------------------------------------------- module runs


def test_create_with_policies(eks):
    client, stubber = eks
    expect_describe(stubber)
    stubber.add_response(
        "create_access_entry",
        {"accessEntry": entry(kubernetesGroups=["llm-admins"], tags={"team": "ml"})},
        dict(KEYS, kubernetesGroups=["llm-admins"], tags={"team": "ml"}),
    )
    stubber.add_response(
        "associate_access_policy",
        dict(KEYS, associatedAccessPolicy=policy(ADMIN)),
        dict(KEYS, policyArn=ADMIN, accessScope={"type": "cluster"}),
    )
    stubber.add_response(
        "associate_access_policy",
        dict(KEYS, associatedAccessPolicy=policy(VIEW, "namespace", ["nim", "triton"])),
        dict(KEYS, policyArn=VIEW, accessScope={"type": "namespace", "namespaces": ["nim", "triton"]}),
    )
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            principal_arn=PRINCIPAL,
            kubernetes_groups=["llm-admins"],
            tags={"team": "ml"},
            access_policies=[
                {"policy_arn": "AmazonEKSClusterAdminPolicy"},
                {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["triton", "nim"]}},
            ],
        ),
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["access_entry"]["kubernetes_groups"] == ["llm-admins"]
    assert [p["policy_arn"] for p in result["access_policies"]] == [ADMIN, VIEW]
    assert result["access_policies"][1]["access_scope"]["namespaces"] == ["nim", "triton"]


def test_second_run_is_unchanged(eks):
    client, stubber = eks
    expect_describe(
        stubber,
        entry(kubernetesGroups=["llm-admins"], tags={"team": "ml"}),
        [policy(VIEW, "namespace", ["triton", "nim"]), policy(ADMIN)],
    )
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            principal_arn=PRINCIPAL,
            type="STANDARD",
            kubernetes_groups=["llm-admins"],
            tags={"team": "ml"},
            access_policies=[
                {"policy_arn": "AmazonEKSClusterAdminPolicy"},
                {"policy_arn": VIEW, "access_scope": {"type": "namespace", "namespaces": ["nim", "triton"]}},
            ],
        ),
        diff=True,
    )
    assert not failed, result
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]
    assert [p["policy_arn"] for p in result["access_policies"]] == [ADMIN, VIEW]


def test_update_groups_username_and_policies(eks):
    client, stubber = eks
    expect_describe(stubber, entry(kubernetesGroups=["old"]), [policy(VIEW, "namespace", ["nim"]), policy(EDIT)])
    stubber.add_response(
        "update_access_entry",
        {"accessEntry": entry(kubernetesGroups=["new"], username="admin")},
        dict(KEYS, kubernetesGroups=["new"], username="admin"),
    )
    stubber.add_response(
        "associate_access_policy",
        dict(KEYS, associatedAccessPolicy=policy(ADMIN)),
        dict(KEYS, policyArn=ADMIN, accessScope={"type": "cluster"}),
    )
    stubber.add_response(
        "associate_access_policy",
        dict(KEYS, associatedAccessPolicy=policy(VIEW, "namespace", ["nim", "triton"])),
        dict(KEYS, policyArn=VIEW, accessScope={"type": "namespace", "namespaces": ["nim", "triton"]}),
    )
    stubber.add_response("disassociate_access_policy", {}, dict(KEYS, policyArn=EDIT))
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            principal_arn=PRINCIPAL,
            kubernetes_groups=["new"],
            username="admin",
            access_policies=[
                {"policy_arn": "AmazonEKSClusterAdminPolicy", "access_scope": {"type": "cluster"}},
                {"policy_arn": "AmazonEKSViewPolicy", "access_scope": {"type": "namespace", "namespaces": ["nim", "triton"]}},
            ],
        ),
        diff=True,
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["access_entry"]["username"] == "admin"
    assert [p["policy_arn"] for p in result["access_policies"]] == [ADMIN, VIEW]
    assert [p["policy_arn"] for p in result["diff"]["before"]["access_policies"]] == [EDIT, VIEW]
    assert [p["policy_arn"] for p in result["diff"]["after"]["access_policies"]] == [ADMIN, VIEW]


def test_no_purge_keeps_other_policies(eks):
    client, stubber = eks
    expect_describe(stubber, entry(), [policy(EDIT)])
    stubber.add_response(
        "associate_access_policy",
        dict(KEYS, associatedAccessPolicy=policy(VIEW)),
        dict(KEYS, policyArn=VIEW, accessScope={"type": "cluster"}),
    )
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            principal_arn=PRINCIPAL,
            purge_access_policies=False,
            access_policies=[{"policy_arn": "AmazonEKSViewPolicy"}],
        ),
    )
    assert not failed, result
    assert result["changed"] is True
    assert [p["policy_arn"] for p in result["access_policies"]] == [EDIT, VIEW]


def test_policies_left_alone_when_not_given(eks):
    client, stubber = eks
    expect_describe(stubber, entry(), [policy(EDIT)])
    result, failed = run_module(client, dict(cluster_name=CLUSTER, principal_arn=PRINCIPAL))
    assert not failed, result
    assert result["changed"] is False
    assert [p["policy_arn"] for p in result["access_policies"]] == [EDIT]


def test_type_is_immutable(eks):
    client, stubber = eks
    expect_describe(stubber, entry())
    result, failed = run_module(client, dict(cluster_name=CLUSTER, principal_arn=PRINCIPAL, type="EC2_LINUX"))
    assert failed
    assert "type" in result["msg"] and "STANDARD" in result["msg"] and "EC2_LINUX" in result["msg"]


def test_ec2_linux_refuses_groups_before_calling_aws(eks):
    client, dummy = eks  # nothing stubbed: any AWS call would fail the test differently
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            principal_arn=PRINCIPAL,
            type="EC2_LINUX",
            kubernetes_groups=["system:nodes"],
            access_policies=[{"policy_arn": "AmazonEKSClusterAdminPolicy"}],
        ),
    )
    assert failed
    assert "EC2_LINUX" in result["msg"]
    assert "kubernetes_groups or access_policies" in result["msg"]


def test_existing_ec2_linux_entry_refuses_policies(eks):
    client, stubber = eks
    expect_describe(stubber, entry(type="EC2_LINUX", kubernetesGroups=["system:nodes"]))
    result, failed = run_module(
        client,
        dict(cluster_name=CLUSTER, principal_arn=PRINCIPAL, access_policies=[{"policy_arn": "AmazonEKSViewPolicy"}]),
    )
    assert failed
    assert "access_policies" in result["msg"] and "EC2_LINUX" in result["msg"]


def test_create_ec2_linux_node_entry(eks):
    client, stubber = eks
    expect_describe(stubber)
    stubber.add_response(
        "create_access_entry",
        {"accessEntry": entry(type="EC2_LINUX", kubernetesGroups=["system:nodes"])},
        dict(KEYS, type="EC2_LINUX"),
    )
    result, failed = run_module(client, dict(cluster_name=CLUSTER, principal_arn=PRINCIPAL, type="EC2_LINUX"))
    assert not failed, result
    assert result["changed"] is True
    assert result["access_entry"]["type"] == "EC2_LINUX"
    assert result["access_policies"] == []


def test_check_mode_create(eks):
    client, stubber = eks
    expect_describe(stubber)
    result, failed = run_module(
        client,
        dict(cluster_name=CLUSTER, principal_arn=PRINCIPAL, access_policies=[{"policy_arn": "AmazonEKSViewPolicy"}]),
        check_mode=True,
        diff=True,
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["access_entry"] == {}
    assert result["diff"]["after"]["access_policies"] == [
        {"policy_arn": VIEW, "access_scope": {"type": "cluster", "namespaces": []}}
    ]


def test_check_mode_update(eks):
    client, stubber = eks
    expect_describe(stubber, entry(), [policy(EDIT)])
    result, failed = run_module(
        client,
        dict(
            cluster_name=CLUSTER,
            principal_arn=PRINCIPAL,
            kubernetes_groups=["g"],
            access_policies=[{"policy_arn": "AmazonEKSViewPolicy"}],
        ),
        check_mode=True,
    )
    assert not failed, result
    assert result["changed"] is True
    assert result["access_entry"]["kubernetes_groups"] == ["g"]
    assert [p["policy_arn"] for p in result["access_policies"]] == [VIEW]


def test_delete(eks):
    client, stubber = eks
    expect_describe(stubber, entry(), [policy(ADMIN)])
    stubber.add_response("delete_access_entry", {}, KEYS)
    result, failed = run_module(client, dict(cluster_name=CLUSTER, principal_arn=PRINCIPAL, state="absent"), diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["access_entry"] == {}
    assert result["diff"]["after"] == {}


def test_delete_missing_is_unchanged(eks):
    client, stubber = eks
    expect_describe(stubber)
    result, failed = run_module(client, dict(cluster_name=CLUSTER, principal_arn=PRINCIPAL, state="absent"))
    assert not failed, result
    assert result["changed"] is False
