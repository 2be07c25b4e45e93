# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""roles/karpenter_prereqs against the interruption queue and rules of upstream Karpenter's CloudFormation template."""

import os

import yaml

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "karpenter_prereqs")

# Facts from aws/karpenter-provider-aws v1.14.1,
# website/content/en/docs/getting-started/getting-started-with-karpenter/cloudformation.yaml:
# the (source, detail-type) of every rule targeting KarpenterInterruptionQueue, and that queue's encryption/policy.
UPSTREAM_RULES = {
    ("aws.health", "AWS Health Event"),                                   # ScheduledChangeRule
    ("aws.ec2", "EC2 Spot Instance Interruption Warning"),                # SpotInterruptionRule
    ("aws.ec2", "EC2 Instance Rebalance Recommendation"),                 # RebalanceRule
    ("aws.ec2", "EC2 Instance State-change Notification"),                # InstanceStateChangeRule
    ("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning"),  # CapacityReservationInterruptionRule
}
UPSTREAM_QUEUE = {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 300}
UPSTREAM_DENY_HTTP = {"Sid": "DenyHTTP", "Effect": "Deny", "Action": "sqs:*", "Principal": "*",
                      "Condition": {"Bool": {"aws:SecureTransport": False}}}


def load(*path):
    with open(os.path.join(ROLE, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def task(module):
    return next(t for t in load("tasks", "main.yml") if module in t)


def test_the_same_rules_as_upstream():
    rules = load("vars", "main.yml")["__karpenter_prereqs_rules"]
    ours = {(source, detail_type) for rule in rules
            for source in rule["event_pattern"]["source"] for detail_type in rule["event_pattern"]["detail-type"]}
    assert ours == UPSTREAM_RULES
    assert len(set(rule["name"] for rule in rules)) == len(rules)


def queue_options():
    """The queue options the role gives community.aws.sqs_queue (and its drift read): vars/main.yml, taken whole."""
    args = task("community.aws.sqs_queue")["community.aws.sqs_queue"]
    assert args == dict((key, "{{ __karpenter_prereqs_queue_options.%s }}" % key) for key in args), args
    options = load("vars", "main.yml")["__karpenter_prereqs_queue_options"]
    assert sorted(args) == sorted(options)
    return options


def test_queue_encrypted_as_upstream_so_eventbridge_can_deliver():
    queue = queue_options()
    assert "kms_master_key_id" not in queue, "SSE-KMS with alias/aws/sqs: EventBridge cannot use the AWS managed key"
    assert queue["message_retention_period"] == UPSTREAM_QUEUE["MessageRetentionPeriod"]
    encryption = task("eks_llm.inference.sqs_queue_encryption")["eks_llm.inference.sqs_queue_encryption"]
    assert encryption["encryption"] == "sse-sqs"


def test_queue_policy_denies_plain_http_as_upstream():
    statements = queue_options()["policy"]["Statement"]
    deny = [s for s in statements if s.get("Sid") == "DenyHTTP"]
    assert len(deny) == 1
    # IAM reads the Bool condition value "false" and false alike; the role writes the string (what AWS gives back)
    assert {key: deny[0][key] for key in UPSTREAM_DENY_HTTP if key != "Condition"} == {
        key: value for key, value in UPSTREAM_DENY_HTTP.items() if key != "Condition"}
    assert str(deny[0]["Condition"]["Bool"]["aws:SecureTransport"]).lower() == "false"
    assert deny[0]["Resource"] == next(s for s in statements if s["Effect"] == "Allow")["Resource"]
