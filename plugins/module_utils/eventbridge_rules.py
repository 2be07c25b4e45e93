# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""How an EventBridge rule and its targets are compared with the options of eks_llm.inference.eventbridge_rule.

Shared by the module that changes rules (eventbridge_rule) and the one that only tells whether it would
(interruption_queue_drift_info), so that both decide the same way.
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler
from ansible_collections.eks_llm.inference.plugins.module_utils.common import list_all

# the argument spec of a rule's target (eventbridge_rule's targets)
TARGET_OPTIONS = dict(
    id=dict(type="str", required=True),
    arn=dict(type="str", required=True),
    input=dict(type="str"),
)


@NotFoundErrorHandler.list_error_handler("describe rule", default_value=None)
def describe_rule(client, name, bus):
    rule = client.describe_rule(Name=name, EventBusName=bus, aws_retry=True)
    rule.pop("ResponseMetadata", None)
    return rule


@NotFoundErrorHandler.list_error_handler("list targets of rule", default_value=[])
def list_targets(client, name, bus):
    return list_all(client, "list_targets_by_rule", "Targets", Rule=name, EventBusName=bus)


@NotFoundErrorHandler.list_error_handler("list tags of rule", default_value={})
def list_tags(client, arn):
    tags = client.list_tags_for_resource(ResourceARN=arn, aws_retry=True).get("Tags") or []
    return boto3_tag_list_to_ansible_dict(tags)


def parse_pattern(text):
    """The event pattern EventBridge holds, as a dict (None when the rule has none)."""
    if not text:
        return None
    return json.loads(text)


def same_json_text(current, wanted):
    """Whether two optional JSON texts are equal by value (by text when not JSON)."""
    if current is None or wanted is None:
        return current is None and wanted is None
    try:
        return json.loads(current) == json.loads(wanted)
    except ValueError:
        return current == wanted


def rule_differs(current, params):
    """Whether the settings of the existing rule ``current`` differ from ``params``."""
    if params["event_pattern"] is not None:
        if parse_pattern(current.get("EventPattern")) != params["event_pattern"]:
            return True
    elif current.get("EventPattern") or current.get("ScheduleExpression") != params["schedule_expression"]:
        return True
    if current.get("State") != params["rule_state"]:
        return True
    if params["description"] is not None and (current.get("Description") or "") != params["description"]:
        return True
    return False


def target_differs(current, wanted):
    """Whether the AWS target ``current`` must be put again to become ``wanted``."""
    if current.get("Arn") != wanted["arn"]:
        return True
    if not same_json_text(current.get("Input"), wanted.get("input")):
        return True
    return bool(current.get("InputPath") or current.get("InputTransformer"))


def targets_plan(current, wanted):
    """(targets to put as AWS dicts, ids to remove) that turn ``current`` into ``wanted``."""
    by_id = dict((target["Id"], target) for target in current)
    to_put = []
    for target in wanted:
        existing = by_id.get(target["id"])
        if existing is None or target_differs(existing, target):
            request = dict(Id=target["id"], Arn=target["arn"])
            if target.get("input") is not None:
                request["Input"] = target["input"]
            to_put.append(request)
    wanted_ids = set(target["id"] for target in wanted)
    to_remove = [target["Id"] for target in current if target["Id"] not in wanted_ids]
    return to_put, to_remove
