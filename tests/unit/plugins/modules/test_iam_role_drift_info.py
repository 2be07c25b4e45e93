# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""iam_role_drift_info in-process against moto.

Every case is also put to amazon.aws.iam_role and amazon.aws.iam_policy in check mode: the drift module must say
"drifted" exactly when one of them would change something (the path apart, which iam_role cannot change), so that
the iam role can skip them whenever it says "not drifted".
"""

import datetime
import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.modules import iam_policy
from ansible_collections.amazon.aws.plugins.modules import iam_role
from ansible_collections.eks_llm.inference.plugins.modules import iam_role_drift_info as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

ACCOUNT = "123456789012"
NAME = "demo-karpenter-controller"
POLICY_ARN = "arn:aws:iam::%s:policy/%%s" % ACCOUNT
TRUST = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
INLINE = {"Version": "2012-10-17",
          "Statement": [{"Sid": "ReadModels", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                         "Resource": ["arn:aws:s3:::demo-models", "arn:aws:s3:::demo-models/*"]}]}
OTHER_DOCUMENT = {"Version": "2012-10-17",
                  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}

DRIFT = ModuleRunner(module_under_test.main, region=REGION)
IAM_ROLE = ModuleRunner(iam_role.main, region=REGION)
IAM_POLICY = ModuleRunner(iam_policy.main, region=REGION)


def wanted(**changes):
    """A role as roles/iam gives it to amazon.aws.iam_role, with its inline policy as it gives it to iam_policy."""
    role = {"name": NAME, "description": "Karpenter controller (demo)", "assume_role_policy_document": TRUST,
            "managed_policies": [POLICY_ARN % "demo-read", POLICY_ARN % "demo-write"], "purge_policies": True,
            "create_instance_profile": False, "tags": {"eks-llm:deployment": "demo", "team": "ml"},
            "inline_policies": {"karpenter_controller": INLINE}}
    role.update(changes)
    return role


@pytest.fixture(autouse=True)
def iam(monkeypatch):
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda seconds: None)
    with mock_aws():
        client = boto3.client("iam", region_name=REGION)
        for name in ("demo-read", "demo-write", "demo-extra"):
            client.create_policy(PolicyName=name, PolicyDocument=json.dumps(OTHER_DOCUMENT))
        yield client


def iam_role_options(role):
    return {key: value for key, value in role.items() if key != "inline_policies"}


def apply_with_amazon_aws(role):
    """What the iam role's write tasks do: amazon.aws.iam_role, then amazon.aws.iam_policy per inline policy."""
    IAM_ROLE(iam_role_options(role))
    for policy_name, document in role["inline_policies"].items():
        IAM_POLICY({"iam_type": "role", "iam_name": role["name"], "policy_name": policy_name, "policy_json": document})


def amazon_aws_would_change(role, iam):
    """Whether amazon.aws.iam_role or amazon.aws.iam_policy, in check mode, would change anything."""
    if IAM_ROLE(iam_role_options(role), check_mode=True)["changed"]:
        return True
    return any(IAM_POLICY({"iam_type": "role", "iam_name": role["name"], "policy_name": policy_name, "policy_json": document},
                          check_mode=True)["changed"]
               for policy_name, document in role["inline_policies"].items())


def drift(role, check_mode=False):
    result = DRIFT({"roles": [role]}, check_mode=check_mode)
    assert result["changed"] is False
    [entry] = result["roles"]
    assert result["drifted"] == ([role["name"]] if entry["drifted"] else [])
    return entry


def test_a_missing_role_drifts_with_every_inline_policy(iam):
    entry = drift(wanted())
    assert entry == {"name": NAME, "arn": None, "drifted": True, "role_drifted": True,
                     "inline_policies_drifted": ["karpenter_controller"], "reasons": ["missing"]}
    assert amazon_aws_would_change(wanted(), iam) is True


def test_a_role_as_amazon_aws_leaves_it_does_not_drift_and_has_its_arn(iam):
    apply_with_amazon_aws(wanted())
    entry = drift(wanted(), check_mode=True)
    assert entry == {"name": NAME, "arn": iam.get_role(RoleName=NAME)["Role"]["Arn"], "drifted": False,
                     "role_drifted": False, "inline_policies_drifted": [], "reasons": []}
    assert amazon_aws_would_change(wanted(), iam) is False


def _attach_extra(iam):
    iam.attach_role_policy(RoleName=NAME, PolicyArn=POLICY_ARN % "demo-extra")


def _detach_write(iam):
    iam.detach_role_policy(RoleName=NAME, PolicyArn=POLICY_ARN % "demo-write")


def _other_trust(iam):
    trust = json.loads(json.dumps(TRUST))
    trust["Statement"][0]["Principal"]["Service"] = "ec2.amazonaws.com"
    iam.update_assume_role_policy(RoleName=NAME, PolicyDocument=json.dumps(trust))


def _other_description(iam):
    iam.update_role(RoleName=NAME, Description="edited by hand")


def _other_tag_value(iam):
    iam.tag_role(RoleName=NAME, Tags=[{"Key": "team", "Value": "web"}])


def _tag_removed(iam):
    iam.untag_role(RoleName=NAME, TagKeys=["team"])


def _tag_added(iam):
    iam.tag_role(RoleName=NAME, Tags=[{"Key": "owner", "Value": "someone"}])


def _inline_policy_deleted(iam):
    iam.delete_role_policy(RoleName=NAME, PolicyName="karpenter_controller")


def _inline_policy_rewritten(iam):
    iam.put_role_policy(RoleName=NAME, PolicyName="karpenter_controller", PolicyDocument=json.dumps(OTHER_DOCUMENT))


def _longer_sessions(iam):
    # moto's UpdateRole clears a description it is not given
    iam.update_role(RoleName=NAME, MaxSessionDuration=7200, Description=wanted()["description"])


def _boundary_set(iam):
    iam.put_role_permissions_boundary(RoleName=NAME, PermissionsBoundary=POLICY_ARN % "demo-extra")


# (what happens to the role after amazon.aws made it, what is wanted then, the one reason, role or inline drift)
SINGLE_DIFFERENCES = {
    "trust policy": (_other_trust, {}, "trust policy differs", "role"),
    "extra managed policy": (_attach_extra, {}, "managed policy demo-extra attached, not wanted", "role"),
    "missing managed policy": (_detach_write, {}, "managed policy demo-write not attached", "role"),
    "wanted managed policy added": (None, {"managed_policies": [POLICY_ARN % "demo-read", POLICY_ARN % "demo-write",
                                                                POLICY_ARN % "demo-extra"]},
                                    "managed policy demo-extra not attached", "role"),
    "description": (_other_description, {}, "description differs", "role"),
    "tag value": (_other_tag_value, {}, "tag team differs", "role"),
    "tag removed": (_tag_removed, {}, "tag team missing", "role"),
    "tag added, purged": (_tag_added, {}, "tag owner not wanted", "role"),
    "tag wanted": (None, {"tags": {"eks-llm:deployment": "demo", "team": "ml", "cost-center": "42"}}, "tag cost-center missing", "role"),
    "max session duration": (_longer_sessions, {"max_session_duration": 3600}, "max session duration differs", "role"),
    "permissions boundary set": (_boundary_set, {"boundary": ""}, "permissions boundary differs", "role"),
    "permissions boundary wanted": (None, {"boundary": POLICY_ARN % "demo-extra"}, "permissions boundary differs", "role"),
    "instance profile wanted": (None, {"create_instance_profile": True}, "instance profile missing", "role"),
    "inline policy missing": (_inline_policy_deleted, {}, "inline policy karpenter_controller missing", "inline"),
    "inline policy different": (_inline_policy_rewritten, {}, "inline policy karpenter_controller differs", "inline"),
    "inline policy wanted": (None, {"inline_policies": {"karpenter_controller": INLINE, "logs": OTHER_DOCUMENT}},
                             "inline policy logs missing", "inline"),
}


@pytest.mark.parametrize("case", sorted(SINGLE_DIFFERENCES))
def test_each_single_difference_drifts_and_is_named(iam, case):
    change, wanted_changes, reason, part = SINGLE_DIFFERENCES[case]
    apply_with_amazon_aws(wanted())
    if change:
        change(iam)
    role = wanted(**wanted_changes)
    entry = drift(role)
    assert entry["drifted"] is True and entry["reasons"] == [reason], entry
    assert entry["arn"] == iam.get_role(RoleName=NAME)["Role"]["Arn"]
    assert entry["role_drifted"] is (part == "role")
    assert entry["inline_policies_drifted"] == ([reason.split()[2]] if part == "inline" else [])
    # and amazon.aws agrees that it has something to do
    assert amazon_aws_would_change(role, iam) is True


# (what happens to the role after amazon.aws made it, what is wanted then): nothing either module would change
NO_DIFFERENCE = {
    "extra inline policy (neither module removes it)":
        (lambda iam: iam.put_role_policy(RoleName=NAME, PolicyName="by-hand", PolicyDocument=json.dumps(OTHER_DOCUMENT)), {}),
    "extra tag, purge_tags false": (_tag_added, {"purge_tags": False}),
    "extra managed policy, purge_policies false": (_attach_extra, {"purge_policies": False}),
    "options left unset are not compared": (_other_description, {"description": None, "tags": None, "managed_policies": None}),
    "same documents written differently": (
        lambda iam: iam.put_role_policy(RoleName=NAME, PolicyName="karpenter_controller", PolicyDocument=json.dumps(
            dict(INLINE, Statement=dict(INLINE["Statement"][0], Action=list(reversed(INLINE["Statement"][0]["Action"])))))),
        {"assume_role_policy_document": json.dumps(TRUST, indent=2)}),
}


@pytest.mark.parametrize("case", sorted(NO_DIFFERENCE))
def test_what_amazon_aws_would_leave_alone_does_not_drift(iam, case):
    change, wanted_changes = NO_DIFFERENCE[case]
    apply_with_amazon_aws(wanted())
    if change:
        change(iam)
    role = wanted(**wanted_changes)
    assert amazon_aws_would_change(role, iam) is False
    assert drift(role)["reasons"] == []


def test_a_path_that_differs_drifts_although_iam_role_cannot_change_it(iam):
    apply_with_amazon_aws(wanted())
    entry = drift(wanted(path="/eks/"))
    assert entry["drifted"] and entry["reasons"] == ["path differs (amazon.aws.iam_role cannot change it)"]


def test_several_roles_in_one_run_keep_their_order_and_differences(iam):
    apply_with_amazon_aws(wanted())
    _other_description(iam)
    missing = wanted(name="demo-triton-model-reader", inline_policies={})
    result = DRIFT({"roles": [missing, wanted(), wanted(name=NAME, description="edited by hand")]})
    assert [(r["name"], r["reasons"]) for r in result["roles"]] == [
        ("demo-triton-model-reader", ["missing"]), (NAME, ["description differs"]), (NAME, [])]
    assert result["drifted"] == ["demo-triton-model-reader", NAME]


def test_never_returns_a_policy_document(iam):
    apply_with_amazon_aws(wanted())
    _inline_policy_rewritten(iam)
    _other_trust(iam)
    printed = json.dumps(DRIFT({"roles": [wanted()]}))
    for fragment in ("s3:GetObject", "s3:*", "pods.eks.amazonaws.com", "ec2.amazonaws.com", "Statement"):
        assert fragment not in printed, printed


def test_a_document_that_is_not_json_fails_before_any_call(iam):
    failed = DRIFT.failing({"roles": [wanted(inline_policies={"karpenter_controller": "{not json"})]})
    assert failed["msg"] == "these policy documents are not JSON objects: %s: inline policy karpenter_controller" % NAME


def test_an_inline_policy_that_cannot_be_read_drifts(stubbed_client):
    """iam_policy takes an AccessDenied read as no policy and puts it: the drift module must not call it equal."""
    dummy_client, stubber = stubbed_client("iam")
    role = {"Path": "/", "RoleName": NAME, "RoleId": "AROAEXAMPLEEXAMPLE01", "Arn": "arn:aws:iam::%s:role/%s" % (ACCOUNT, NAME),
            "CreateDate": datetime.datetime(2026, 12, 1), "AssumeRolePolicyDocument": json.dumps(TRUST)}
    stubber.add_response("get_role", {"Role": role}, {"RoleName": NAME})
    stubber.add_response("list_attached_role_policies", {"AttachedPolicies": []}, {"RoleName": NAME})
    stubber.add_client_error("get_role_policy", service_error_code="AccessDenied", http_status_code=403,
                             expected_params={"RoleName": NAME, "PolicyName": "karpenter_controller"})
    entry = drift(wanted(description=None, tags=None, managed_policies=[]))
    assert entry["drifted"] and entry["reasons"] == ["inline policy karpenter_controller cannot be read"]
    assert entry["inline_policies_drifted"] == ["karpenter_controller"] and entry["role_drifted"] is False


def test_a_read_that_fails_otherwise_fails_the_module(stubbed_client):
    dummy_client, stubber = stubbed_client("iam")
    stubber.add_client_error("get_role", service_error_code="AccessDenied", http_status_code=403, expected_params={"RoleName": NAME})
    failed = DRIFT.failing({"roles": [wanted()]})
    assert "get role" in failed["msg"] and "AccessDenied" in json.dumps(failed)
