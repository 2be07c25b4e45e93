#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eventbridge_delivery_info
short_description: Check that Amazon EventBridge rules can deliver to their Amazon SQS queues
version_added: 0.1.0
description:
  - Reads the EventBridge rules whose names start with O(name_prefix), their SQS targets, the queue policy and
    encryption of each target queue and, for an SSE-KMS queue, the KMS key, and says for every rule whether
    EventBridge can deliver to the queue, and if not why.
  - EventBridge needs a queue policy that lets the service principal C(events.amazonaws.com) C(sqs:SendMessage)
    for the rule (conditions on C(aws:SourceArn) and C(aws:SourceAccount) are evaluated), and, for an SSE-KMS
    queue, a customer managed key whose key policy lets C(events.amazonaws.com) C(kms:GenerateDataKey) and
    C(kms:Decrypt). AWS managed keys (C(alias/aws/sqs)) never do. Otherwise every event is dropped and counted as
    a failed invocation of the rule.
  - Also reads the C(AWS/Events) C(FailedInvocations) metric of every rule since the queue was last changed (at most
    O(metric_hours) back), so a delivery problem this module cannot see in the configuration still shows.
  - Sends nothing (no test event, no message), so Karpenter and other readers of the queue see no difference.
  - Only reads; never reports a change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  name_prefix:
    description:
      - Prefix of the names of the rules to check, on the default event bus.
    type: str
    required: true
  queue_name:
    description:
      - Name of the queue every rule must have as a target. A rule without an SQS target on this queue is a problem.
      - When not set, every SQS target of the rules is checked and a rule without one is a problem.
    type: str
  metric_hours:
    description:
      - How far back to read C(FailedInvocations), in hours; never before the queue's last change.
      - V(0) skips the metric.
    type: int
    default: 24
notes:
  - Supports check mode.
  - Needs C(events:ListRules), C(events:ListTargetsByRule), C(sqs:GetQueueUrl), C(sqs:GetQueueAttributes),
    C(kms:DescribeKey) and C(kms:GetKeyPolicy) (SSE-KMS queues only) and C(cloudwatch:GetMetricStatistics).
  - Policy evaluation covers what queue and key policies use (Allow/Deny, principals C(*) and services, wildcards,
    the String, Arn, Bool and Null condition operators); a statement with another operator is taken as not applying.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Check that Karpenter's interruption rules can deliver to its queue
  eks_llm.inference.eventbridge_delivery_info:
    name_prefix: llm-prod-karpenter-
    queue_name: llm-prod-karpenter
  register: delivery

- name: Fail with the reasons
  ansible.builtin.assert:
    that: delivery.problems | length == 0
    fail_msg: "{{ delivery.problems | join('; ') }}"
"""

RETURN = r"""
problems:
  description:
    - One sentence per problem, C(EventBridge rule <name> cannot deliver to queue <queue> - <why>) (with a colon), or naming a rule
      without a target on the queue, or none found. Empty when every rule can deliver.
  returned: always
  type: list
  elements: str
  sample:
    - "EventBridge rule llm-karpenter-spot-interruption cannot deliver to queue llm-karpenter: the queue is encrypted
      with the AWS managed KMS key alias/aws/sqs, whose key policy cannot let events.amazonaws.com use it"
rules:
  description: Every rule found, with its SQS targets.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the rule.
      type: str
    arn:
      description: ARN of the rule.
      type: str
    state:
      description: V(ENABLED) or V(DISABLED).
      type: str
    failed_invocations:
      description: Sum of C(AWS/Events) C(FailedInvocations) of the rule over the window read; V(null) when not read.
      type: float
    targets:
      description: The SQS targets of the rule.
      type: list
      elements: dict
      contains:
        id:
          description: Target id.
          type: str
        queue_name:
          description: Name of the target queue.
          type: str
        encryption:
          description: V(sse-sqs), V(sse-kms) or V(none).
          type: str
        kms_key:
          description: KMS key of an SSE-KMS queue as the queue names it.
          type: str
        problem:
          description: Why EventBridge cannot deliver to this queue; V(null) when it can.
          type: str
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import list_all
from ansible_collections.eks_llm.inference.plugins.module_utils import delivery


def _queue(sqs, arn):
    parts = arn.split(":")
    try:
        url = sqs.get_queue_url(aws_retry=True, QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
    except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
        return None
    return sqs.get_queue_attributes(aws_retry=True, QueueUrl=url, AttributeNames=["All"])["Attributes"]


def _key_problem(kms, key_ref, account):
    try:
        metadata = kms.describe_key(aws_retry=True, KeyId=key_ref)["KeyMetadata"]
    except is_boto3_error_code("NotFoundException"):
        return "the queue's KMS key %s does not exist" % key_ref
    policy = None
    if metadata.get("KeyManager") != "AWS":
        policy = kms.get_key_policy(aws_retry=True, KeyId=metadata["KeyId"], PolicyName="default")["Policy"]
    return delivery.key_refusal(key_ref, metadata, policy, account)


def _failed_invocations(cloudwatch, rule, since, now):
    points = cloudwatch.get_metric_statistics(
        aws_retry=True, Namespace="AWS/Events", MetricName="FailedInvocations", Dimensions=[{"Name": "RuleName", "Value": rule}],
        StartTime=since, EndTime=now, Period=3600, Statistics=["Sum"])["Datapoints"]
    return sum(point.get("Sum", 0.0) for point in points)


@AWSErrorHandler.common_error_handler("read the EventBridge rules, their queues, keys or delivery metrics")
def check(module, clients, now):
    events, sqs, kms, cloudwatch = clients
    params = module.params
    problems, rules, queues = [], [], {}
    found = list_all(events, "list_rules", "Rules", NamePrefix=params["name_prefix"])
    if not found:
        problems.append("No EventBridge rule named %s* on the default event bus" % params["name_prefix"])
    for rule in found:
        account = rule["Arn"].split(":")[4]
        record = dict(name=rule["Name"], arn=rule["Arn"], state=rule.get("State"), targets=[], failed_invocations=None)
        earliest = now - datetime.timedelta(hours=params["metric_hours"])
        for target in list_all(events, "list_targets_by_rule", "Targets", Rule=rule["Name"]):
            arn = target["Arn"]
            if ":sqs:" not in arn:
                continue
            queue_name = arn.split(":")[5]
            if params["queue_name"] and queue_name != params["queue_name"]:
                continue
            if arn not in queues:
                queues[arn] = _queue(sqs, arn)
            attributes = queues[arn]
            entry = dict(id=target["Id"], queue_name=queue_name, kms_key=None, encryption="none", problem=None)
            if attributes is None:
                entry["problem"] = "the queue does not exist"
            else:
                entry["kms_key"] = attributes.get("KmsMasterKeyId") or None
                entry["encryption"] = "sse-kms" if entry["kms_key"] else ("sse-sqs" if attributes.get("SqsManagedSseEnabled") == "true" else "none")
                entry["problem"] = delivery.queue_refusal(attributes, rule["Arn"], account)
                if entry["problem"] is None and entry["kms_key"]:
                    entry["problem"] = _key_problem(kms, entry["kms_key"], account)
                changed = datetime.datetime.fromtimestamp(float(attributes.get("LastModifiedTimestamp") or 0), datetime.timezone.utc)
                earliest = max(earliest, changed)
            if entry["problem"]:
                problems.append("EventBridge rule %s cannot deliver to queue %s: %s" % (rule["Name"], queue_name, entry["problem"]))
            record["targets"].append(entry)
        if not record["targets"]:
            problems.append("EventBridge rule %s has no target on queue %s" % (rule["Name"], params["queue_name"] or "(any SQS queue)"))
        if rule.get("State") != "ENABLED":
            problems.append("EventBridge rule %s is %s" % (rule["Name"], rule.get("State")))
        if params["metric_hours"] > 0 and earliest < now:
            record["failed_invocations"] = _failed_invocations(cloudwatch, rule["Name"], earliest, now)
            if record["failed_invocations"] and not any(entry["problem"] for entry in record["targets"]):
                problems.append("EventBridge rule %s failed %s invocation(s) since %s (AWS/Events FailedInvocations)"
                                % (rule["Name"], record["failed_invocations"], earliest.strftime("%Y-%m-%dT%H:%M:%SZ")))
        rules.append(record)
    return dict(changed=False, problems=problems, rules=rules)


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            name_prefix=dict(type="str", required=True),
            queue_name=dict(type="str"),
            metric_hours=dict(type="int", default=24),
        ),
        supports_check_mode=True,
    )
    if module.params["metric_hours"] < 0:
        module.fail_json(msg="metric_hours must be 0 or more")
    clients = [module.retrying_client(service) for service in ("events", "sqs", "kms", "cloudwatch")]
    try:
        result = check(module, clients, datetime.datetime.now(datetime.timezone.utc))
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
