# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""interruption_queue_drift_info in-process against moto.

Every case is also put to the module the drift names - community.aws.sqs_queue, sqs_queue_encryption or
eventbridge_rule - in check mode: it must want to change something exactly when the drift module says that part
drifts, so that karpenter_prereqs can skip it whenever it says "not drifted".
"""

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.community.aws.plugins.modules import sqs_queue
from ansible_collections.eks_llm.inference.plugins.modules import eventbridge_rule
from ansible_collections.eks_llm.inference.plugins.modules import interruption_queue_drift_info as module_under_test
from ansible_collections.eks_llm.inference.plugins.modules import sqs_queue_encryption
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import REGION, ModuleRunner

ACCOUNT = "123456789012"
NAME = "demo-karpenter"
ARN = "arn:aws:sqs:%s:%s:%s" % (REGION, ACCOUNT, NAME)
TAGS = {"eks-llm:deployment": "demo", "team": "ml"}
POLICY = {"Version": "2012-10-17",
          "Statement": [{"Sid": "EventBridgeAndSqsOnly", "Effect": "Allow",
                         "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
                         "Action": "sqs:SendMessage", "Resource": ARN}]}
RULES = [{"name": "demo-karpenter-spot-interruption", "description": "spot",
          "event_pattern": {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}},
         {"name": "demo-karpenter-scheduled-change", "description": "health",
          "event_pattern": {"source": ["aws.health"], "detail-type": ["AWS Health Event"]}}]
TARGETS = [{"id": "karpenter-interruption-queue", "arn": ARN}]

DRIFT = ModuleRunner(module_under_test.main, region=REGION)
SQS_QUEUE = ModuleRunner(sqs_queue.main, region=REGION)
ENCRYPTION = ModuleRunner(sqs_queue_encryption.main, region=REGION)
EVENTBRIDGE_RULE = ModuleRunner(eventbridge_rule.main, region=REGION)


def queue_options(**changes):
    """What karpenter_prereqs gives community.aws.sqs_queue."""
    return dict({"name": NAME, "message_retention_period": 300, "policy": POLICY, "tags": TAGS}, **changes)


def rule_options(**changes):
    """What karpenter_prereqs gives eventbridge_rule."""
    return dict({"rules": RULES, "targets": TARGETS, "tags": TAGS}, **changes)


def drift_options(queue=None, rules=None):
    queue, rules = queue or queue_options(), rules or rule_options()
    return {"queue": queue, "encryption": "sse-sqs", "rules": rules["rules"], "targets": rules["targets"],
            "rule_tags": rules["tags"]}


@pytest.fixture(autouse=True)
def aws(monkeypatch):
    monkeypatch.setattr("ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep", lambda seconds: None)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION), boto3.client("events", region_name=REGION)


def deploy():
    """The role's three write tasks."""
    SQS_QUEUE(queue_options())
    ENCRYPTION({"name": NAME, "encryption": "sse-sqs"})
    EVENTBRIDGE_RULE(rule_options())


def would_change(queue=None, rules=None):
    """{part: whether its module, in check mode, would change anything}."""
    return {"queue": SQS_QUEUE(queue or queue_options(), check_mode=True)["changed"],
            "encryption": ENCRYPTION({"name": NAME, "encryption": "sse-sqs"}, check_mode=True)["changed"],
            "rules": EVENTBRIDGE_RULE(rules or rule_options(), check_mode=True)["changed"]}


def drifted_parts(result):
    return {part: result["%s_drifted" % part] for part in ("queue", "encryption", "rules")}


def test_nothing_deployed_drifts_everywhere():
    result = DRIFT(drift_options())
    assert result["changed"] is False and result["drifted"] is True
    assert drifted_parts(result) == {"queue": True, "encryption": True, "rules": True}
    assert result["queue_url"] is None and result["queue_arn"] is None
    assert "queue: missing" in result["differences"]
    assert "rule demo-karpenter-spot-interruption: missing" in result["differences"]


def test_as_the_modules_left_it_nothing_drifts_and_the_queue_facts_are_returned(aws):
    sqs, dummy = aws
    deploy()
    result = DRIFT(drift_options(), check_mode=True)
    assert result["differences"] == [] and result["drifted"] is False
    assert drifted_parts(result) == {"queue": False, "encryption": False, "rules": False}
    assert result["queue_url"] == sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
    assert result["queue_arn"] == ARN
    assert would_change() == {"queue": False, "encryption": False, "rules": False}


def _set_attribute(**attributes):
    def change(aws):
        sqs, dummy = aws
        url = sqs.get_queue_url(QueueName=NAME)["QueueUrl"]
        # moto's SetQueueAttributes drops a policy it is not given
        attributes.setdefault("Policy", sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"])
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return change


def _queue_tagged(**tags):
    def change(aws):
        sqs, dummy = aws
        sqs.tag_queue(QueueUrl=sqs.get_queue_url(QueueName=NAME)["QueueUrl"], Tags=tags)
    return change


def _queue_untagged(aws):
    sqs, dummy = aws
    sqs.untag_queue(QueueUrl=sqs.get_queue_url(QueueName=NAME)["QueueUrl"], TagKeys=["team"])


def _rule_edited(aws):
    dummy, events = aws
    events.put_rule(Name=RULES[0]["name"], EventPattern=json.dumps({"source": ["aws.ec2"]}), State="ENABLED",
                    Description="spot")


def _rule_disabled(aws):
    dummy, events = aws
    events.disable_rule(Name=RULES[0]["name"])


def _rule_deleted(aws):
    dummy, events = aws
    events.remove_targets(Rule=RULES[1]["name"], Ids=["karpenter-interruption-queue"])
    events.delete_rule(Name=RULES[1]["name"])


def _target_removed(aws):
    dummy, events = aws
    events.remove_targets(Rule=RULES[0]["name"], Ids=["karpenter-interruption-queue"])


def _target_elsewhere(aws):
    dummy, events = aws
    events.put_targets(Rule=RULES[0]["name"], Targets=[{"Id": "karpenter-interruption-queue", "Arn": ARN + "-other"}])


def _target_added(aws):
    dummy, events = aws
    events.put_targets(Rule=RULES[0]["name"], Targets=[{"Id": "extra", "Arn": ARN + "-other"}])


def _rule_tag_value(aws):
    dummy, events = aws
    arn = events.describe_rule(Name=RULES[0]["name"])["Arn"]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "web"}])


def _rule_tag_added(aws):
    dummy, events = aws
    arn = events.describe_rule(Name=RULES[0]["name"])["Arn"]
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "owner", "Value": "someone"}])


OTHER_POLICY = dict(POLICY, Statement=[dict(POLICY["Statement"][0], Action="sqs:*")])
RULE = "rule %s" % RULES[0]["name"]

# (what happens after the modules deployed it, queue options then, rule options then, the one difference, the part)
SINGLE_DIFFERENCES = {
    "queue policy": (_set_attribute(Policy=json.dumps(OTHER_POLICY)), None, None, "queue: policy differs", "queue"),
    "queue policy removed": (_set_attribute(Policy=""), None, None, "queue: policy differs", "queue"),
    "queue retention": (_set_attribute(MessageRetentionPeriod="600"), None, None,
                        "queue: message retention period is 600, wanted 300", "queue"),
    "queue retention wanted": (None, queue_options(message_retention_period=900), None,
                               "queue: message retention period is 300, wanted 900", "queue"),
    "queue tag value": (_queue_tagged(team="web"), None, None, "queue: tag team differs", "queue"),
    "queue tag removed": (_queue_untagged, None, None, "queue: tag team missing", "queue"),
    "queue tag added, purged": (_queue_tagged(owner="someone"), None, None, "queue: tag owner not wanted", "queue"),
    "queue encryption off": (_set_attribute(SqsManagedSseEnabled="false"), None, None,
                             "queue: encryption is none, wanted sse-sqs", "encryption"),
    "queue encryption with the AWS managed key": (_set_attribute(KmsMasterKeyId="alias/aws/sqs"), None, None,
                                                  "queue: encryption is sse-kms, wanted sse-sqs", "encryption"),
    "rule pattern": (_rule_edited, None, None, RULE + ": pattern, schedule, state or description differs", "rules"),
    "rule disabled": (_rule_disabled, None, None, RULE + ": pattern, schedule, state or description differs", "rules"),
    "rule description wanted": (None, None, rule_options(rules=[dict(RULES[0], description="other"), RULES[1]]),
                                RULE + ": pattern, schedule, state or description differs", "rules"),
    "rule missing": (_rule_deleted, None, None, "rule %s: missing" % RULES[1]["name"], "rules"),
    "rule target missing": (_target_removed, None, None, RULE + ": target karpenter-interruption-queue missing or different", "rules"),
    "rule target elsewhere": (_target_elsewhere, None, None, RULE + ": target karpenter-interruption-queue missing or different", "rules"),
    "rule target not wanted": (_target_added, None, None, RULE + ": target extra not wanted", "rules"),
    "rule tag value": (_rule_tag_value, None, None, RULE + ": tag team differs", "rules"),
    "rule tag added, purged": (_rule_tag_added, None, None, RULE + ": tag owner not wanted", "rules"),
}


@pytest.mark.parametrize("case", sorted(SINGLE_DIFFERENCES))
def test_each_single_difference_drifts_and_is_named(aws, case):
    change, queue, rules, difference, part = SINGLE_DIFFERENCES[case]
    deploy()
    if change:
        change(aws)
    result = DRIFT(drift_options(queue, rules))
    assert result["differences"] == [difference], result
    expected = {"queue": False, "encryption": False, "rules": False}
    expected[part] = True
    assert drifted_parts(result) == expected and result["drifted"] is True
    assert result["queue_arn"] == ARN
    # and exactly the module of that part has something to do
    assert would_change(queue, rules) == expected


# (what happens after the modules deployed it, queue options then, rule options then): nothing to change
NO_DIFFERENCE = {
    "extra queue tag, purge_tags false": (_queue_tagged(owner="someone"), queue_options(purge_tags=False), None),
    "options left unset are not compared": (_set_attribute(MessageRetentionPeriod="600"),
                                            queue_options(message_retention_period=None, policy=None, tags=None), None),
    "same policy written differently": (_set_attribute(Policy=json.dumps(dict(POLICY, Statement=[dict(
        POLICY["Statement"][0], Principal={"Service": list(reversed(POLICY["Statement"][0]["Principal"]["Service"]))})]))),
        None, None),
    "rule description unset": (None, None, rule_options(rules=[dict(RULES[0], description=None), RULES[1]])),
}


@pytest.mark.parametrize("case", sorted(NO_DIFFERENCE))
def test_what_the_modules_would_leave_alone_does_not_drift(aws, case):
    change, queue, rules = NO_DIFFERENCE[case]
    deploy()
    if change:
        change(aws)
    result = DRIFT(drift_options(queue, rules))
    assert result["differences"] == [] and result["drifted"] is False
    assert would_change(queue, rules) == {"queue": False, "encryption": False, "rules": False}


def test_queue_tags_that_cannot_be_read_drift(stubbed_client):
    sqs, stubber = stubbed_client("sqs")
    url = "https://sqs.%s.amazonaws.com/%s/%s" % (REGION, ACCOUNT, NAME)
    stubber.add_response("get_queue_url", {"QueueUrl": url}, {"QueueName": NAME})
    stubber.add_response("get_queue_attributes", {"Attributes": {"QueueArn": ARN, "MessageRetentionPeriod": "300",
                                                                 "SqsManagedSseEnabled": "true", "Policy": json.dumps(POLICY)}},
                         {"QueueUrl": url, "AttributeNames": ["All"]})
    stubber.add_client_error("list_queue_tags", service_error_code="AccessDenied", http_status_code=403,
                             expected_params={"QueueUrl": url})
    result = DRIFT(drift_options(rules=rule_options(rules=[])))
    assert result["differences"] == ["queue: tags cannot be read"] and drifted_parts(result)["queue"] is True
    assert sqs is not None


def test_a_read_that_fails_otherwise_fails_the_module(stubbed_client):
    dummy, stubber = stubbed_client("sqs")
    stubber.add_client_error("get_queue_url", service_error_code="AccessDenied", http_status_code=403,
                             expected_params={"QueueName": NAME})
    failed = DRIFT.failing(drift_options())
    assert "Failed to read the queue %s" % NAME in failed["msg"]
