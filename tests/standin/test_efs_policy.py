"""The EFS mount policy evaluation of the stand-in, with the policy our model_storage role renders."""
import json
import os

import jinja2
import pytest

from .efs_policy import Unsupported, decide

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(ROOT, "roles", "model_storage", "templates", "efs-tls-only.json.j2")
FS_ARN = "arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/fs-0123456789abcdef0"
NODE_ROLE = "arn:aws:iam::123456789012:role/demo-eks-node"
# the AWS managed policies the node roles hold (roles/iam/vars/main.yml): none grants an EFS client action
NODE_POLICIES = [{"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ec2:Describe*", "ecr:GetAuthorizationToken", "ecr:BatchGetImage", "eks:DescribeCluster"], "Resource": "*"}]}]
RW = ("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite")


def _rendered():
    with open(TEMPLATE, encoding="utf-8") as handle:
        return json.loads(jinja2.Template(handle.read()).render())


def test_the_rendered_policy_lets_the_node_role_mount_read_write_over_tls():
    allowed, reason = decide(_rendered(), NODE_POLICIES, FS_ARN, NODE_ROLE, RW, tls=True)
    assert allowed, reason


def test_the_rendered_policy_refuses_a_mount_without_tls():
    allowed, reason = decide(_rendered(), NODE_POLICIES, FS_ARN, NODE_ROLE, RW, tls=False)
    assert not allowed and "explicit Deny" in reason


def test_the_rendered_policy_refuses_access_not_through_a_mount_target():
    allowed, dummy = decide(_rendered(), NODE_POLICIES, FS_ARN, NODE_ROLE, RW, tls=True, via_mount_target=False)
    assert not allowed


def test_a_deny_only_policy_refuses_the_node_role():
    deny_only = {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyUnencryptedTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    allowed, reason = decide(deny_only, NODE_POLICIES, FS_ARN, NODE_ROLE, RW, tls=True)
    assert not allowed and "no Allow" in reason


def test_no_policy_allows_everyone_and_an_identity_allow_is_enough():
    assert decide(None, [], FS_ARN, None, RW, tls=False)[0]
    deny_only = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    client = {"Statement": [{"Effect": "Allow", "Action": "elasticfilesystem:Client*", "Resource": FS_ARN}]}
    assert decide(deny_only, [client], FS_ARN, NODE_ROLE, RW, tls=True)[0]
    # an anonymous mount (no ``iam`` option) cannot use the role's identity policies
    assert not decide(deny_only, [client], FS_ARN, None, RW, tls=True)[0]
    other_fs = {"Statement": [{"Effect": "Allow", "Action": "elasticfilesystem:Client*", "Resource": FS_ARN[:-1] + "1"}]}
    assert not decide(deny_only, [other_fs], FS_ARN, NODE_ROLE, RW, tls=True)[0]


def test_unsupported_policy_grammar_refuses_loudly():
    odd = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}
    with pytest.raises(Unsupported):
        decide(odd, [], FS_ARN, NODE_ROLE, RW, tls=True)
