#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: eventbridge_rule
short_description: Manage Amazon EventBridge rules, their targets and their tags
version_added: 0.1.0
description:
  - Create, update or delete an Amazon EventBridge rule, reconcile the exact list of
    its targets and the tags of the rule.
  - Unlike M(amazon.aws.cloudwatchevent_rule), this module tags the rule, so that
    the teardown of a deployment can find it by its deployment tag.
  - Karpenter uses five such rules to send EC2 and AWS Health interruption events
    to its SQS interruption queue.
  - Changes are computed first and applied only where the rule differs, so a
    repeated run reports no change.
  - With O(rules), one call manages several rules of the bus in turn, each exactly as
    a call with its options would (one module run instead of one per rule).
author:
  - eks_llm maintainers (@eks-llm)
options:
  name:
    description:
      - Name of the rule, unique on its event bus.
      - Required unless O(rules) is given.
    type: str
  rules:
    description:
      - Several rules of the event bus, managed one after the other in a single module run.
      - Each entry takes the per-rule options O(name), O(state), O(description),
        O(event_pattern), O(schedule_expression), O(rule_state) and O(targets), with the
        same meaning; an entry without O(state), O(rule_state) or O(targets) uses the
        module's. O(event_bus_name), O(tags) and O(purge_tags) apply to every rule.
      - Mutually exclusive with O(name), O(description), O(event_pattern) and O(schedule_expression).
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the rule.
        type: str
        required: true
      state:
        description: Whether the rule should exist; the module's O(state) when not set.
        type: str
        choices: ['present', 'absent']
      description:
        description: As O(description).
        type: str
      event_pattern:
        description: As O(event_pattern).
        type: dict
      schedule_expression:
        description: As O(schedule_expression).
        type: str
      rule_state:
        description: As O(rule_state); the module's O(rule_state) when not set.
        type: str
        choices: ['ENABLED', 'DISABLED']
      targets:
        description: As O(targets); the module's O(targets) when not set.
        type: list
        elements: dict
        suboptions:
          id:
            description: Id of the target, unique within the rule.
            type: str
            required: true
          arn:
            description: ARN of the target.
            type: str
            required: true
          input:
            description: JSON text sent to the target instead of the matched event.
            type: str
  state:
    description:
      - Whether the rule should exist.
      - V(absent) removes every target of the rule, then deletes the rule.
        A rule that does not exist is left alone.
    type: str
    choices: ['present', 'absent']
    default: present
  description:
    description:
      - Description of the rule.
      - When not set, the current description of an existing rule is kept.
        An empty string removes it.
    type: str
  event_bus_name:
    description:
      - Name or ARN of the event bus of the rule.
    type: str
    default: default
  event_pattern:
    description:
      - Event pattern the rule matches, as a dictionary (a JSON string is accepted too).
      - Compared by value with the pattern EventBridge holds, so a different key order
        or spacing is not a change.
      - Mutually exclusive with O(schedule_expression); one of the two is required
        when O(state=present).
    type: dict
  schedule_expression:
    description:
      - Schedule of the rule, for example V(rate(5 minutes)) or V(cron(0 12 * * ? *)).
      - Mutually exclusive with O(event_pattern); one of the two is required
        when O(state=present).
    type: str
  rule_state:
    description:
      - Whether the rule is enabled.
    type: str
    choices: ['ENABLED', 'DISABLED']
    default: ENABLED
  targets:
    description:
      - The targets of the rule; the rule ends up with exactly these targets.
      - Targets are matched by O(targets[].id). A new target, or one whose ARN or input
        differs, is put; a target of the rule not listed here is removed.
      - A target is put with its id, ARN and input only; other settings of an existing
        target (input path, input transformer, role, retry policy, dead-letter queue)
        are not kept when the target is put again, and a target that has an input
        path or an input transformer is put again.
      - When not set, the targets of the rule are not changed. An empty list removes
        every target.
    type: list
    elements: dict
    suboptions:
      id:
        description:
          - Id of the target, unique within the rule.
        type: str
        required: true
      arn:
        description:
          - ARN of the target, for example an SQS queue.
        type: str
        required: true
      input:
        description:
          - JSON text sent to the target instead of the matched event.
          - Compared by value with the input EventBridge holds when both are valid JSON.
          - When not set, the matched event is sent.
        type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
notes:
  - An SQS target queue needs a queue policy that lets C(events.amazonaws.com) call
    C(sqs:SendMessage); EventBridge does not report a missing permission when the
    target is put.
  - Rules managed by another AWS service (with a C(ManagedBy) field) cannot be
    changed or deleted by this module.
  - Updating a rule with C(PutRule) replaces all its settings; this module sends the
    current description and role of the rule again, so they are kept.
"""

EXAMPLES = r"""
- name: Send EC2 Spot interruption warnings to the Karpenter interruption queue
  eks_llm.inference.eventbridge_rule:
    name: llm-karpenter-spot-interruption
    description: Karpenter - EC2 Spot Instance Interruption Warning
    event_pattern:
      source:
        - aws.ec2
      detail-type:
        - EC2 Spot Instance Interruption Warning
    targets:
      - id: karpenter-interruption-queue
        arn: arn:aws:sqs:us-west-2:123456789012:llm-karpenter
    tags:
      eks-llm/deployment: llm

- name: The other three Karpenter interruption rules
  eks_llm.inference.eventbridge_rule:
    name: "llm-karpenter-{{ item.name }}"
    event_pattern: "{{ item.pattern }}"
    targets:
      - id: karpenter-interruption-queue
        arn: arn:aws:sqs:us-west-2:123456789012:llm-karpenter
    tags:
      eks-llm/deployment: llm
  loop:
    - name: rebalance
      pattern: {source: [aws.ec2], detail-type: [EC2 Instance Rebalance Recommendation]}
    - name: instance-state-change
      pattern: {source: [aws.ec2], detail-type: [EC2 Instance State-change Notification]}
    - name: scheduled-change
      pattern: {source: [aws.health], detail-type: [AWS Health Event]}

- name: Disable a nightly rule without touching its targets or tags
  eks_llm.inference.eventbridge_rule:
    name: llm-nightly-report
    schedule_expression: cron(0 2 * * ? *)
    rule_state: DISABLED

- name: Remove the rule and its targets
  eks_llm.inference.eventbridge_rule:
    name: llm-karpenter-spot-interruption
    state: absent
"""

RETURN = r"""
rules:
  description:
    - With O(rules), the result of each entry, in the order given.
  returned: when O(rules) is given
  type: list
  elements: dict
  contains:
    name:
      description: Name of the rule.
      type: str
      sample: llm-karpenter-spot-interruption
    changed:
      description: Whether this rule changed.
      type: bool
      sample: false
    rule:
      description: The rule as RV(rule) describes it.
      type: dict
      sample: {"name": "llm-karpenter-spot-interruption", "state": "ENABLED"}
rule:
  description:
    - The rule, its targets and its tags.
    - Empty when the rule does not exist (O(state=absent)).
    - After a creation in check mode, RV(rule.arn) is V(null).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the rule.
      type: str
      sample: llm-karpenter-spot-interruption
    arn:
      description: ARN of the rule.
      type: str
      sample: arn:aws:events:us-west-2:123456789012:rule/llm-karpenter-spot-interruption
    event_bus_name:
      description: Event bus of the rule.
      type: str
      sample: default
    event_pattern:
      description: Event pattern of the rule, as a dictionary; V(null) for a scheduled rule.
      type: dict
      sample: {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}
    schedule_expression:
      description: Schedule of the rule; V(null) for a rule with an event pattern.
      type: str
      sample: rate(5 minutes)
    state:
      description: Whether the rule is enabled.
      type: str
      sample: ENABLED
    description:
      description: Description of the rule.
      type: str
      sample: Karpenter - EC2 Spot Instance Interruption Warning
    targets:
      description: Targets of the rule.
      type: list
      elements: dict
      contains:
        id:
          description: Id of the target.
          type: str
          sample: karpenter-interruption-queue
        arn:
          description: ARN of the target.
          type: str
          sample: arn:aws:sqs:us-west-2:123456789012:llm-karpenter
        input:
          description: JSON text sent instead of the event; V(null) when the event is sent.
          type: str
          sample: '{"cluster": "llm"}'
    tags:
      description: Tags of the rule.
      type: dict
      sample: {"eks-llm/deployment": "llm"}
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import run_entries
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import TARGET_OPTIONS
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import describe_rule
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import list_tags
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import list_targets
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import parse_pattern
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import rule_differs
from ansible_collections.eks_llm.inference.plugins.module_utils.eventbridge_rules import targets_plan

# PutTargets and RemoveTargets take at most ten entries per call.
TARGET_BATCH = 10


# ---------------------------------------------------------------------------
# AWS calls
# ---------------------------------------------------------------------------


@NotFoundErrorHandler.common_error_handler("put rule")
def put_rule(client, request):
    return client.put_rule(aws_retry=True, **request)["RuleArn"]


def _raise_failed_entries(action, response):
    if response.get("FailedEntryCount"):
        failures = [
            "%s: %s (%s)" % (entry.get("TargetId"), entry.get("ErrorMessage"), entry.get("ErrorCode"))
            for entry in response.get("FailedEntries") or []
        ]
        raise AnsibleAWSError(message="Failed to %s: %s" % (action, "; ".join(failures)))


@NotFoundErrorHandler.common_error_handler("put targets")
def put_targets(client, name, bus, targets):
    for start in range(0, len(targets), TARGET_BATCH):
        response = client.put_targets(
            Rule=name, EventBusName=bus, Targets=targets[start:start + TARGET_BATCH], aws_retry=True
        )
        _raise_failed_entries("put targets", response)


@NotFoundErrorHandler.common_error_handler("remove targets")
def remove_targets(client, name, bus, ids):
    for start in range(0, len(ids), TARGET_BATCH):
        response = client.remove_targets(Rule=name, EventBusName=bus, Ids=ids[start:start + TARGET_BATCH], aws_retry=True)
        _raise_failed_entries("remove targets", response)


@NotFoundErrorHandler.common_error_handler("tag rule")
def tag_rule(client, arn, tags):
    client.tag_resource(ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True)


@NotFoundErrorHandler.common_error_handler("untag rule")
def untag_rule(client, arn, keys):
    client.untag_resource(ResourceARN=arn, TagKeys=keys, aws_retry=True)


@NotFoundErrorHandler.deletion_error_handler("delete rule")
def delete_rule(client, name, bus):
    client.delete_rule(Name=name, EventBusName=bus, aws_retry=True)
    return True


# ---------------------------------------------------------------------------
# Comparisons (pure functions)
# ---------------------------------------------------------------------------


def rule_request(params, current):
    """The PutRule arguments for the wanted rule, keeping what the module does not manage."""
    current = current or {}
    request = dict(Name=params["name"], EventBusName=params["event_bus_name"], State=params["rule_state"])
    if params["event_pattern"] is not None:
        request["EventPattern"] = json.dumps(params["event_pattern"])
    else:
        request["ScheduleExpression"] = params["schedule_expression"]
    description = params["description"]
    if description is None:
        description = current.get("Description")
    if description is not None:
        request["Description"] = description
    if current.get("RoleArn"):
        request["RoleArn"] = current["RoleArn"]
    return request


def target_to_ansible(target):
    return dict(id=target["Id"], arn=target.get("Arn"), input=target.get("Input"))


def rule_to_ansible(rule, targets, tags):
    """The ``rule`` return value (``{}`` for a rule that does not exist)."""
    if rule is None:
        return {}
    return dict(
        name=rule.get("Name"),
        arn=rule.get("Arn"),
        event_bus_name=rule.get("EventBusName"),
        event_pattern=parse_pattern(rule.get("EventPattern")),
        schedule_expression=rule.get("ScheduleExpression"),
        state=rule.get("State"),
        description=rule.get("Description"),
        targets=[target_to_ansible(target) for target in targets],
        tags=dict(tags or {}),
    )


def comparable(rule):
    """The managed fields of a ``rule`` return value, for ``diff``."""
    if not rule:
        return {}
    return dict(
        description=rule["description"],
        event_pattern=rule["event_pattern"],
        schedule_expression=rule["schedule_expression"],
        state=rule["state"],
        targets=rule["targets"],
        tags=rule["tags"],
    )


# ---------------------------------------------------------------------------
# Reconciliation
# ---------------------------------------------------------------------------


def ensure_present(module, client, current, current_targets, current_tags):
    """Create or update the rule; return (changed, rule after, targets after, tags after)."""
    params = module.params
    check_mode = module.check_mode
    name, bus = params["name"], params["event_bus_name"]
    changed = False

    request = rule_request(params, current)
    if current is None:
        changed = True
        tags_after = dict(params["tags"] or {})
        if params["tags"]:
            request["Tags"] = ansible_dict_to_boto3_tag_list(params["tags"])
        arn = None if check_mode else put_rule(client, request)
        after = dict(request, Arn=arn)
        after.pop("Tags", None)
    else:
        after = dict(current)
        tags_after = dict(current_tags)
        if rule_differs(current, params):
            changed = True
            if not check_mode:
                put_rule(client, request)
            for key in ("EventPattern", "ScheduleExpression", "Description"):
                after.pop(key, None)
            after.update((key, value) for key, value in request.items() if key not in ("Name", "EventBusName"))

        if params["tags"] is not None:
            to_set, to_remove = compare_aws_tags(current_tags, params["tags"], purge_tags=params["purge_tags"])
            if to_set or to_remove:
                changed = True
                if not check_mode:
                    if to_remove:
                        untag_rule(client, current["Arn"], to_remove)
                    if to_set:
                        tag_rule(client, current["Arn"], to_set)
                for key in to_remove:
                    tags_after.pop(key, None)
                tags_after.update(to_set)

    targets_after = current_targets
    if params["targets"] is not None:
        to_put, to_remove = targets_plan(current_targets, params["targets"])
        if to_put or to_remove:
            changed = True
            if not check_mode:
                if to_remove:
                    remove_targets(client, name, bus, to_remove)
                if to_put:
                    put_targets(client, name, bus, to_put)
        targets_after = [
            dict(Id=target["id"], Arn=target["arn"], Input=target.get("input")) for target in params["targets"]
        ]
    return changed, after, targets_after, tags_after


def ensure_absent(module, client, current, current_targets):
    if current is None:
        return False
    if not module.check_mode:
        name, bus = module.params["name"], module.params["event_bus_name"]
        if current_targets:
            remove_targets(client, name, bus, [target["Id"] for target in current_targets])
        delete_rule(client, name, bus)
    return True


def run(module, client):
    params = module.params
    name, bus = params["name"], params["event_bus_name"]
    current = describe_rule(client, name, bus)
    current_targets = list_targets(client, name, bus) if current else []
    current_tags = list_tags(client, current["Arn"]) if current else {}
    before = rule_to_ansible(current, current_targets, current_tags)

    if params["state"] == "absent":
        changed = ensure_absent(module, client, current, current_targets)
        after = {}
    else:
        changed, rule, targets, tags = ensure_present(module, client, current, current_targets, current_tags)
        after = rule_to_ansible(rule, targets, tags)

    result = dict(changed=changed, rule=after)
    if module._diff:
        result["diff"] = dict(before=comparable(before), after=comparable(after))
    return result


def rule_problem(entry, shared):
    """What is wrong with one rule's options (an entry of O(rules) or the module's own), or None."""
    state = entry.get("state") or shared["state"]
    if entry.get("event_pattern") is not None and entry.get("schedule_expression") is not None:
        return "rule %s: parameters are mutually exclusive: event_pattern|schedule_expression" % entry["name"]
    if state == "present" and entry.get("event_pattern") is None and entry.get("schedule_expression") is None:
        return "rule %s: state is present but any of the following are missing: event_pattern, schedule_expression" % entry["name"]
    targets = entry.get("targets") if entry.get("targets") is not None else shared["targets"] or []
    ids = [target["id"] for target in targets]
    duplicates = sorted(set(target_id for target_id in ids if ids.count(target_id) > 1))
    if duplicates:
        return "Target ids must be unique; repeated: %s" % ", ".join(duplicates)
    return None


def main():
    argument_spec = dict(
        name=dict(type="str"),
        rules=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"]),
            description=dict(type="str"),
            event_pattern=dict(type="dict"),
            schedule_expression=dict(type="str"),
            rule_state=dict(type="str", choices=["ENABLED", "DISABLED"]),
            targets=dict(type="list", elements="dict", options=TARGET_OPTIONS),
        )),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        description=dict(type="str"),
        event_bus_name=dict(type="str", default="default"),
        event_pattern=dict(type="dict"),
        schedule_expression=dict(type="str"),
        rule_state=dict(type="str", default="ENABLED", choices=["ENABLED", "DISABLED"]),
        targets=dict(type="list", elements="dict", options=TARGET_OPTIONS),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleEKSModule(
        argument_spec=argument_spec,
        required_one_of=[("name", "rules")],
        mutually_exclusive=[("event_pattern", "schedule_expression")]
        + [("rules", option) for option in ("name", "description", "event_pattern", "schedule_expression")],
        supports_check_mode=True,
    )
    entries = module.params["rules"] if module.params["rules"] is not None else [module.params]
    for entry in entries:
        problem = rule_problem(entry, module.params)
        if problem:
            module.fail_json(msg=problem, entry=entry["name"])

    client = module.retrying_client("events")
    try:
        if module.params["rules"] is not None:
            module.exit_json(**run_entries(module, client, run, "rules", "rule", inherited=("state", "rule_state", "targets")))
        module.exit_json(**run(module, client))
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)


if __name__ == "__main__":
    main()
