# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests for eks_pod_identity_association.

moto does not implement the EKS Pod Identity API, so the module runs against a
real botocore EKS client wrapped in a Stubber: every request is checked against
the EKS service model and against the parameters the test expects.
"""

import datetime

from ansible_collections.eks_llm.inference.plugins.module_utils import eks_cluster_resources
from ansible_collections.eks_llm.inference.plugins.modules import eks_pod_identity_association as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

CLUSTER = "llm"
ROLE = "arn:aws:iam::123456789012:role/karpenter"
OTHER_ROLE = "arn:aws:iam::123456789012:role/karpenter-v2"
TARGET_ROLE = "arn:aws:iam::210987654321:role/target"
ASSOC_ID = "a-abcdefghijklmnop1"
ASSOC_ARN = "arn:aws:eks:us-west-2:123456789012:podidentityassociation/llm/" + ASSOC_ID
NOW = datetime.datetime(2025, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)


RUN = ModuleRunner(module_under_test.main, region=REGION)


def run_module(client, args, check_mode=False, diff=False):  # pylint: disable=unused-argument
    """(result, failed); ``client`` is the stubbed one the eks fixture already gave the module."""
    return RUN.outcome(args, check_mode, diff)


def association(**overrides):
    value = dict(
        clusterName=CLUSTER,
        namespace="kube-system",
        serviceAccount="karpenter",
        roleArn=ROLE,
        associationArn=ASSOC_ARN,
        associationId=ASSOC_ID,
        tags={"team": "ml"},
        createdAt=NOW,
        modifiedAt=NOW,
        disableSessionTags=False,
    )
    value.update(overrides)
    return value


def expect_lookup(stubber, found=None):
    summaries = []
    if found is not None:
        summaries = [
            dict(
                clusterName=CLUSTER,
                namespace=found["namespace"],
                serviceAccount=found["serviceAccount"],
                associationArn=found["associationArn"],
                associationId=found["associationId"],
            )
        ]
    stubber.add_response(
        "list_pod_identity_associations",
        {"associations": summaries},
        {"clusterName": CLUSTER, "namespace": "kube-system", "serviceAccount": "karpenter"},
    )
    if found is not None:
        stubber.add_response(
            "describe_pod_identity_association",
            {"association": found},
            {"clusterName": CLUSTER, "associationId": ASSOC_ID},
        )


BASE_ARGS = dict(cluster_name=CLUSTER, namespace="kube-system", service_account="karpenter", role_arn=ROLE)


def test_create_sends_only_given_optional_fields(eks):
    client, stubber = eks
    expect_lookup(stubber)
    stubber.add_response(
        "create_pod_identity_association",
        {"association": association()},
        {
            "clusterName": CLUSTER,
            "namespace": "kube-system",
            "serviceAccount": "karpenter",
            "roleArn": ROLE,
            "tags": {"team": "ml"},
        },
    )
    result, failed = run_module(client, dict(BASE_ARGS, tags={"team": "ml"}))
    assert not failed, result
    assert result["changed"] is True
    assert result["association"]["association_id"] == ASSOC_ID
    assert result["association"]["service_account"] == "karpenter"


def test_create_with_target_role_and_session_tags(eks):
    client, stubber = eks
    expect_lookup(stubber)
    stubber.add_response(
        "create_pod_identity_association",
        {"association": association(targetRoleArn=TARGET_ROLE, disableSessionTags=True)},
        {
            "clusterName": CLUSTER,
            "namespace": "kube-system",
            "serviceAccount": "karpenter",
            "roleArn": ROLE,
            "targetRoleArn": TARGET_ROLE,
            "disableSessionTags": True,
        },
    )
    result, failed = run_module(client, dict(BASE_ARGS, target_role_arn=TARGET_ROLE, disable_session_tags=True))
    assert not failed, result
    assert result["changed"] is True
    assert result["association"]["target_role_arn"] == TARGET_ROLE


def test_second_run_is_unchanged(eks):
    client, stubber = eks
    expect_lookup(stubber, association())
    result, failed = run_module(client, dict(BASE_ARGS, tags={"team": "ml"}, disable_session_tags=False), diff=True)
    assert not failed, result
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["association"]["role_arn"] == ROLE


def test_update_role(eks):
    client, stubber = eks
    expect_lookup(stubber, association())
    stubber.add_response(
        "update_pod_identity_association",
        {"association": association(roleArn=OTHER_ROLE)},
        {"clusterName": CLUSTER, "associationId": ASSOC_ID, "roleArn": OTHER_ROLE},
    )
    result, failed = run_module(client, dict(BASE_ARGS, role_arn=OTHER_ROLE), diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["association"]["role_arn"] == OTHER_ROLE
    assert result["diff"]["before"]["role_arn"] == ROLE
    assert result["diff"]["after"]["role_arn"] == OTHER_ROLE


def test_remove_target_role_with_empty_string(eks):
    client, stubber = eks
    expect_lookup(stubber, association(targetRoleArn=TARGET_ROLE))
    stubber.add_response(
        "update_pod_identity_association",
        {"association": association()},
        {"clusterName": CLUSTER, "associationId": ASSOC_ID, "targetRoleArn": ""},
    )
    result, failed = run_module(client, dict(BASE_ARGS, target_role_arn=""))
    assert not failed, result
    assert result["changed"] is True


def test_tags_are_reconciled_and_purged(eks):
    client, stubber = eks
    expect_lookup(stubber, association(tags={"team": "ml", "old": "x", "aws:managed": "y"}))
    stubber.add_response("untag_resource", {}, {"resourceArn": ASSOC_ARN, "tagKeys": ["old"]})
    stubber.add_response("tag_resource", {}, {"resourceArn": ASSOC_ARN, "tags": {"team": "infra"}})
    result, failed = run_module(client, dict(BASE_ARGS, tags={"team": "infra"}))
    assert not failed, result
    assert result["changed"] is True
    assert result["association"]["tags"] == {"team": "infra", "aws:managed": "y"}


def test_check_mode_makes_no_changes(eks):
    client, stubber = eks
    expect_lookup(stubber)
    result, failed = run_module(client, BASE_ARGS, check_mode=True, diff=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["association"] == {}
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["role_arn"] == ROLE


def test_check_mode_update(eks):
    client, stubber = eks
    expect_lookup(stubber, association())
    result, failed = run_module(client, dict(BASE_ARGS, role_arn=OTHER_ROLE), check_mode=True)
    assert not failed, result
    assert result["changed"] is True
    assert result["association"]["role_arn"] == OTHER_ROLE


def test_delete(eks):
    client, stubber = eks
    expect_lookup(stubber, association())
    stubber.add_response(
        "delete_pod_identity_association",
        {"association": association()},
        {"clusterName": CLUSTER, "associationId": ASSOC_ID},
    )
    result, failed = run_module(client, dict(BASE_ARGS, state="absent"))
    assert not failed, result
    assert result["changed"] is True
    assert result["association"] == {}


def test_delete_missing_is_unchanged(eks):
    client, stubber = eks
    expect_lookup(stubber)
    result, failed = run_module(
        client, dict(cluster_name=CLUSTER, namespace="kube-system", service_account="karpenter", state="absent")
    )
    assert not failed, result
    assert result["changed"] is False


def test_role_arn_required_when_present(eks):
    client, dummy = eks
    result, failed = run_module(client, dict(cluster_name=CLUSTER, namespace="kube-system", service_account="karpenter"))
    assert failed
    assert "role_arn" in result["msg"]


def test_aws_error_is_reported(eks):
    client, stubber = eks
    stubber.add_client_error(
        "list_pod_identity_associations",
        service_error_code="AccessDeniedException",
        service_message="not allowed",
        http_status_code=403,
    )
    result, failed = run_module(client, BASE_ARGS)
    assert failed
    assert "find pod identity association" in result["msg"]
    assert "not allowed" in result["msg"]


def test_association_changes_only_compares_given_fields():
    current = association(targetRoleArn=TARGET_ROLE, disableSessionTags=True)
    params = dict(role_arn=ROLE, target_role_arn=None, disable_session_tags=None)
    assert eks_cluster_resources.association_changes(current, params) == {}
    params = dict(role_arn=ROLE, target_role_arn=TARGET_ROLE, disable_session_tags=False)
    assert eks_cluster_resources.association_changes(current, params) == {"disableSessionTags": False}
