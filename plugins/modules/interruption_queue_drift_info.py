#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: interruption_queue_drift_info
short_description: Tell whether an SQS queue, its encryption and the EventBridge rules feeding it differ, in one run
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
description:
  - Reads the Karpenter interruption queue and the EventBridge rules that send events to it once, and says which of
    the three tasks that set them up - M(community.aws.sqs_queue), M(eks_llm.inference.sqs_queue_encryption) and
    M(eks_llm.inference.eventbridge_rule) - would change anything. The C(karpenter_prereqs) role runs only those; a
    re-run that changes nothing costs this one module run instead of three.
  - The queue drifts (RV(queue_drifted)) when M(community.aws.sqs_queue) with O(queue) would create or change it - it
    does not exist, its policy differs (amazon.aws's C(compare_policies)), its message retention period differs,
    or its tags differ (C(compare_aws_tags) with O(queue.purge_tags)). An option left unset is not compared, as that
    module leaves that part of the queue alone.
  - The encryption drifts (RV(encryption_drifted)) when M(eks_llm.inference.sqs_queue_encryption) with O(encryption)
    and O(kms_master_key_id) would change it (the same comparison), or the queue does not exist.
  - The rules drift (RV(rules_drifted)) when M(eks_llm.inference.eventbridge_rule) with O(rules), O(targets),
    O(rule_tags) and O(purge_rule_tags) would create or change any of them (the same comparisons) - a rule is
    missing, its pattern, schedule, state or description differs, a target is missing, points elsewhere or has
    another input, a target not in O(targets) is there, or its tags differ.
  - Conservative - whatever cannot be shown equal counts as drift, so that the modules decide; tags that cannot be
    read, for instance.
  - Read-only; never changes anything.
options:
  queue:
    description: The options given to M(community.aws.sqs_queue) (a standard queue, O(community.aws.sqs_queue#module:state=present)).
    type: dict
    required: true
    suboptions:
      name:
        description: Name of the queue.
        type: str
        required: true
      message_retention_period:
        description: Seconds a message is kept. Not compared when unset.
        type: int
      policy:
        description: The queue policy. Not compared when unset.
        type: dict
      tags:
        description: Tags of the queue. Not compared when unset.
        type: dict
      purge_tags:
        description: Whether tags not in O(queue.tags) are drift (they would be removed), as M(community.aws.sqs_queue)'s default.
        type: bool
        default: true
  encryption:
    description: The encryption given to M(eks_llm.inference.sqs_queue_encryption).
    type: str
    choices: ['sse-sqs', 'sse-kms', 'none']
    default: sse-sqs
  kms_master_key_id:
    description: The KMS key given to M(eks_llm.inference.sqs_queue_encryption) with O(encryption=sse-kms).
    type: str
  rules:
    description:
      - The rules given to M(eks_llm.inference.eventbridge_rule)'s O(eks_llm.inference.eventbridge_rule#module:rules),
        all present.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the rule.
        type: str
        required: true
      description:
        description: Description of the rule. Not compared when unset.
        type: str
      event_pattern:
        description: The event pattern. Exactly one of O(rules[].event_pattern) and O(rules[].schedule_expression).
        type: dict
      schedule_expression:
        description: The schedule.
        type: str
      rule_state:
        description: Whether the rule is enabled.
        type: str
        choices: ['ENABLED', 'DISABLED']
        default: ENABLED
  event_bus_name:
    description: The event bus of the rules.
    type: str
    default: default
  targets:
    description: The targets of every rule, as M(eks_llm.inference.eventbridge_rule)'s O(eks_llm.inference.eventbridge_rule#module:targets).
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: Id of the target, as the one given to M(eks_llm.inference.eventbridge_rule).
        required: true
        type: str
      arn:
        description: ARN the target sends to.
        required: true
        type: str
      input:
        description: JSON text for the target in place of the event; a target with other input drifts.
        type: str
  rule_tags:
    description: Tags of every rule, as M(eks_llm.inference.eventbridge_rule)'s O(eks_llm.inference.eventbridge_rule#module:tags). Not compared when unset.
    type: dict
  purge_rule_tags:
    description: Whether rule tags not in O(rule_tags) are drift (they would be removed).
    type: bool
    default: true
notes:
  - Supports check mode.
  - Needs C(sqs:GetQueueUrl), C(sqs:GetQueueAttributes), C(sqs:ListQueueTags), C(events:DescribeRule),
    C(events:ListTargetsByRule) and C(events:ListTagsForResource).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Compare the interruption queue and its rules with the wanted ones
  eks_llm.inference.interruption_queue_drift_info:
    queue:
      name: demo-karpenter
      message_retention_period: 300
      tags: {eks-llm:deployment: demo}
    encryption: sse-sqs
    rules:
      - name: demo-karpenter-spot-interruption
        event_pattern: {source: [aws.ec2], detail-type: [EC2 Spot Instance Interruption Warning]}
    targets:
      - id: karpenter-interruption-queue
        arn: arn:aws:sqs:us-west-2:123456789012:demo-karpenter
    rule_tags: {eks-llm:deployment: demo}
  register: queue_drift

- name: Create or update the queue only when it differs
  community.aws.sqs_queue:
    name: demo-karpenter
    message_retention_period: 300
    tags: {eks-llm:deployment: demo}
  when: queue_drift.queue_drifted
"""

RETURN = r"""
drifted:
  description: Whether any of the three modules would change anything.
  returned: always
  type: bool
  sample: true
queue_drifted:
  description: Whether M(community.aws.sqs_queue) would create or change the queue.
  returned: always
  type: bool
  sample: false
encryption_drifted:
  description: Whether M(eks_llm.inference.sqs_queue_encryption) would change the queue's encryption.
  returned: always
  type: bool
  sample: false
rules_drifted:
  description: Whether M(eks_llm.inference.eventbridge_rule) would create or change any rule.
  returned: always
  type: bool
  sample: true
differences:
  description: What differs, in short phrases; empty when nothing does. Never a policy document.
  returned: always
  type: list
  elements: str
  sample: ["queue: message retention period is 600, wanted 300", "rule demo-karpenter-rebalance: missing"]
queue_url:
  description: URL of the queue; null when it does not exist.
  returned: always
  type: str
  sample: https://sqs.us-west-2.amazonaws.com/123456789012/demo-karpenter
queue_arn:
  description: ARN of the queue; null when it does not exist.
  returned: always
  type: str
  sample: arn:aws:sqs:us-west-2:123456789012:demo-karpenter
"""

import json

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import TARGET_OPTIONS
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import describe_rule
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import list_tags
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import list_targets
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import rule_differs
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import targets_plan
from ansible_collections.eks_llm.inference.plugins.module_utils.sqs_encryption import current as current_encryption
from ansible_collections.eks_llm.inference.plugins.module_utils.sqs_encryption import steps as encryption_steps

QUEUE_SPEC = dict(
    name=dict(type="str", required=True),
    message_retention_period=dict(type="int"),
    policy=dict(type="dict"),
    tags=dict(type="dict"),
    purge_tags=dict(type="bool", default=True),
)
RULE_SPEC = dict(
    name=dict(type="str", required=True),
    description=dict(type="str"),
    event_pattern=dict(type="dict"),
    schedule_expression=dict(type="str"),
    rule_state=dict(type="str", choices=["ENABLED", "DISABLED"], default="ENABLED"),
)


def tag_differences(what, to_set, to_remove, current):
    return (["%s: tag %s %s" % (what, key, "differs" if key in current else "missing") for key in sorted(to_set)]
            + ["%s: tag %s not wanted" % (what, key) for key in sorted(to_remove)])


def queue_attribute_differences(wanted, attributes):
    """What community.aws.sqs_queue's update_sqs_queue would set (policy and retention, the options given)."""
    found = []
    # it compares the policy with {} when the queue has none
    if wanted["policy"] is not None and compare_policies(json.loads(attributes.get("Policy", "{}")), wanted["policy"]):
        found.append("queue: policy differs")
    retention = attributes.get("MessageRetentionPeriod")
    # it compares as text, and only attributes the queue reports
    if wanted["message_retention_period"] is not None and retention is not None and str(retention) != str(wanted["message_retention_period"]):
        found.append("queue: message retention period is %s, wanted %s" % (retention, wanted["message_retention_period"]))
    return found


def queue_tag_differences(client, url, wanted):
    if wanted["tags"] is None:
        return []
    try:
        current = client.list_queue_tags(QueueUrl=url, aws_retry=True).get("Tags") or {}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
        # community.aws.sqs_queue takes an unreadable tag set as empty and tags again
        return ["queue: tags cannot be read"]
    to_set, to_remove = compare_aws_tags(current, wanted["tags"], purge_tags=wanted["purge_tags"])
    return tag_differences("queue", to_set, to_remove, current)


def rule_differences(client, params, entry):
    """What eventbridge_rule would change on one rule of O(rules), as a list of phrases."""
    what = "rule %s" % entry["name"]
    bus = params["event_bus_name"]
    rule = describe_rule(client, entry["name"], bus)
    if rule is None:
        return ["%s: missing" % what]
    found = []
    if rule_differs(rule, entry):
        found.append("%s: pattern, schedule, state or description differs" % what)
    if params["rule_tags"] is not None:
        current = list_tags(client, rule["Arn"])
        to_set, to_remove = compare_aws_tags(current, params["rule_tags"], purge_tags=params["purge_rule_tags"])
        found += tag_differences(what, to_set, to_remove, current)
    to_put, to_remove = targets_plan(list_targets(client, entry["name"], bus), params["targets"])
    found += ["%s: target %s missing or different" % (what, target["Id"]) for target in to_put]
    found += ["%s: target %s not wanted" % (what, target_id) for target_id in to_remove]
    return found


def read_drift(sqs, events, params):
    """The module result (changed apart)."""
    wanted = params["queue"]
    result = dict(queue_url=None, queue_arn=None, differences=[])
    try:
        url = sqs.get_queue_url(QueueName=wanted["name"], aws_retry=True)["QueueUrl"]
    except is_boto3_error_code(["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]):
        url = None
    if url is None:
        result.update(queue_drifted=True, encryption_drifted=True)
        result["differences"].append("queue: missing")
    else:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"], aws_retry=True)["Attributes"]
        queue_found = queue_attribute_differences(wanted, attributes) + queue_tag_differences(sqs, url, wanted)
        wanted_encryption = dict(encryption=params["encryption"],
                                 kms_master_key_id=params["kms_master_key_id"] if params["encryption"] == "sse-kms" else None)
        before = current_encryption(attributes)
        encryption_found = []
        if encryption_steps(before, wanted_encryption):
            encryption_found.append("queue: encryption is %s, wanted %s" % (before["encryption"], params["encryption"]))
        result.update(queue_url=url, queue_arn=attributes.get("QueueArn"), queue_drifted=bool(queue_found),
                      encryption_drifted=bool(encryption_found))
        result["differences"] += queue_found + encryption_found
    rules_found = []
    for entry in params["rules"]:
        rules_found += rule_differences(events, params, entry)
    result["rules_drifted"] = bool(rules_found)
    result["differences"] += rules_found
    result["drifted"] = bool(result["differences"])
    return result


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            queue=dict(type="dict", required=True, options=QUEUE_SPEC),
            encryption=dict(type="str", default="sse-sqs", choices=["sse-sqs", "sse-kms", "none"]),
            kms_master_key_id=dict(type="str"),
            rules=dict(type="list", elements="dict", default=[], options=RULE_SPEC,
                       mutually_exclusive=[("event_pattern", "schedule_expression")],
                       required_one_of=[("event_pattern", "schedule_expression")]),
            event_bus_name=dict(type="str", default="default"),
            targets=dict(type="list", elements="dict", default=[], options=TARGET_OPTIONS),
            rule_tags=dict(type="dict"),
            purge_rule_tags=dict(type="bool", default=True),
        ),
        required_if=[("encryption", "sse-kms", ("kms_master_key_id",))],
        supports_check_mode=True,
    )
    read = NotFoundErrorHandler.common_error_handler("read the queue %s or its rules" % module.params["queue"]["name"])(read_drift)
    try:
        result = read(module.retrying_client("sqs"), module.retrying_client("events"), module.params)
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
