# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of module_utils.delivery: can EventBridge write to a queue / use its key?"""

import json

import pytest

from ansible_collections.eks_llm.inference.plugins.module_utils import delivery

ACCOUNT = "123456789012"
QUEUE = "arn:aws:sqs:us-west-2:%s:llm-karpenter" % ACCOUNT
RULE = "arn:aws:events:us-west-2:%s:rule/llm-karpenter-spot-interruption" % ACCOUNT
ALLOW = {"Sid": "EventBridgeAndSqsOnly", "Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
         "Action": "sqs:SendMessage", "Resource": QUEUE}
DENY_HTTP = {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": QUEUE,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def attributes(*statements):
    return {"QueueArn": QUEUE, "Policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


@pytest.mark.parametrize("statements, reason", [
    ([ALLOW, DENY_HTTP], None),
    ([dict(ALLOW, Condition={"ArnEquals": {"aws:SourceArn": RULE}})], None),
    ([dict(ALLOW, Condition={"ArnLike": {"aws:SourceArn": RULE.rsplit("/", 1)[0] + "/llm-karpenter-*"}})], None),
    ([dict(ALLOW, Condition={"ArnEquals": {"aws:SourceArn": RULE + "-x"}})], "no statement allows events.amazonaws.com sqs:SendMessage"),
    ([dict(ALLOW, Principal={"Service": "sns.amazonaws.com"})], "no statement allows"),
    ([dict(ALLOW, Action="sqs:ReceiveMessage")], "no statement allows"),
    ([dict(ALLOW, Resource=QUEUE + "-other")], "no statement allows"),
    ([dict(ALLOW, Action="sqs:*"), dict(DENY_HTTP, Sid="DenyAll", Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})],
     "statement DenyAll denies"),
    ([dict(ALLOW, Condition={"NumericLessThan": {"aws:EpochTime": "1"}})], "no statement allows"),
])
def test_queue_policy(statements, reason):
    found = delivery.queue_refusal(attributes(*statements), RULE, ACCOUNT)
    assert (found is None) if reason is None else (reason in found), found


def test_queue_without_policy():
    assert delivery.queue_refusal({"QueueArn": QUEUE}, RULE, ACCOUNT) == "the queue policy: it has no policy"


def test_aws_managed_key_never_works():
    reason = delivery.key_refusal("alias/aws/sqs", {"KeyManager": "AWS", "KeyState": "Enabled"}, None, ACCOUNT)
    assert "AWS managed KMS key alias/aws/sqs" in reason


@pytest.mark.parametrize("actions, state, reason", [
    (["kms:GenerateDataKey*", "kms:Decrypt"], "Enabled", None),
    (["kms:Decrypt"], "Enabled", "no statement allows events.amazonaws.com kms:GenerateDataKey"),
    (["kms:*"], "Disabled", "is Disabled"),
])
def test_customer_key_policy(actions, state, reason):
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}, "Action": "kms:*", "Resource": "*"},
                            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": actions, "Resource": "*"}]}
    found = delivery.key_refusal("alias/mine", {"KeyManager": "CUSTOMER", "KeyState": state, "Arn": "arn:aws:kms:us-west-2:1:key/k"},
                                 json.dumps(policy), ACCOUNT)
    assert (found is None) if reason is None else (reason in found), found
