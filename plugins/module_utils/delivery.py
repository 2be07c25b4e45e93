# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Can an AWS service principal write to a resource? Reading of resource policies (SQS queue policies, KMS key
policies) and of SQS encryption, for the checks that EventBridge can deliver to a queue.

Only the parts of the policy language those policies use are read: Allow/Deny, Principal ("*", AWS "*", Service),
Action and Resource with wildcards, and the String*/Arn*/Bool/Null condition operators (with IfExists). A statement
with an operator not read here is taken as not applying, which for an Allow means no permission is assumed.
"""

import fnmatch
import json

EVENTS = "events.amazonaws.com"
KMS_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def _list(value):
    return value if isinstance(value, list) else [value]


def _like(patterns, value, fold=False):
    value = value.lower() if fold else value
    return any(fnmatch.fnmatchcase(value, pattern.lower() if fold else pattern) for pattern in _list(patterns))


def _holds(operator, key, expected, context):
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[:-len("IfExists")]
    actual = next((value for name, value in context.items() if name.lower() == key.lower()), None)
    expected = [str(value) for value in _list(expected)]
    if operator == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    if actual is None:
        return if_exists
    actual = str(actual)
    if operator in ("StringEquals", "ArnEquals"):
        return actual in expected
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return actual not in expected
    if operator in ("StringLike", "ArnLike"):
        return _like(expected, actual)
    if operator in ("StringNotLike", "ArnNotLike"):
        return not _like(expected, actual)
    if operator in ("StringEqualsIgnoreCase", "Bool"):
        return actual.lower() in [value.lower() for value in expected]
    return False


def _applies(statement, service, action, resource, context):
    principal = statement.get("Principal")
    if principal != "*":
        if not isinstance(principal, dict):
            return False
        if "*" not in _list(principal.get("AWS", [])) and service not in _list(principal.get("Service", [])):
            return False
    if not _like(statement.get("Action", []), action, fold=True) or not _like(statement.get("Resource", "*"), resource):
        return False
    return all(_holds(operator, key, expected, context)
               for operator, block in (statement.get("Condition") or {}).items() for key, expected in block.items())


def policy_refusal(policy, service, action, resource, context):
    """None when the resource policy lets `service` do `action` on `resource` in `context`, else why not, in words."""
    if not policy:
        return "it has no policy"
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = _list(document.get("Statement", []))
    for statement in statements:
        if statement.get("Effect") == "Deny" and _applies(statement, service, action, resource, context):
            return "statement %s denies %s %s" % (statement.get("Sid", "(no Sid)"), service, action)
    for statement in statements:
        if statement.get("Effect") == "Allow" and _applies(statement, service, action, resource, context):
            return None
    return "no statement allows %s %s" % (service, action)


def queue_refusal(attributes, rule_arn, account):
    """Why EventBridge rule `rule_arn` cannot send to the queue with these attributes (queue policy part), or None."""
    context = {"aws:SourceArn": rule_arn, "aws:SourceAccount": account, "aws:SecureTransport": "true"}
    reason = policy_refusal(attributes.get("Policy"), EVENTS, "sqs:SendMessage", attributes.get("QueueArn", ""), context)
    return None if reason is None else "the queue policy: " + reason


def key_refusal(key_ref, metadata, key_policy, account):
    """Why EventBridge cannot use the queue's KMS key (DescribeKey metadata, default key policy), or None."""
    if metadata.get("KeyManager") == "AWS":
        return ("the queue is encrypted with the AWS managed KMS key %s, whose key policy cannot let %s use it; "
                "use SQS-managed encryption (SqsManagedSseEnabled) or a customer managed key" % (key_ref, EVENTS))
    if metadata.get("KeyState", "Enabled") != "Enabled":
        return "the queue's KMS key %s is %s" % (key_ref, metadata.get("KeyState"))
    for action in KMS_ACTIONS:
        reason = policy_refusal(key_policy, EVENTS, action, metadata.get("Arn", "*"), {"aws:SourceAccount": account, "aws:SecureTransport": "true"})
        if reason:
            return "the key policy of the queue's KMS key %s: %s" % (key_ref, reason)
    return None
