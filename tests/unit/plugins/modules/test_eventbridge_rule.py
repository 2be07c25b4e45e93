# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.eventbridge_rule.

main() runs in-process against moto; every EventBridge operation the module's
client sends is recorded, so the tests can tell which calls were made (none that
mutate in check mode; targets removed before the rule is deleted). The results
are read back with a separate boto3 client.
"""

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from ansible_collections.eks_llm.inference.plugins.module_utils import common
from ansible_collections.eks_llm.inference.plugins.module_utils import eventbridge_rules
from ansible_collections.eks_llm.inference.plugins.modules import eventbridge_rule as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

REGION = "us-west-2"
RULE = "llm-karpenter-spot-interruption"
SPOT_PATTERN = {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}
# The same pattern with its keys in another order.
SPOT_PATTERN_REORDERED = {"detail-type": ["EC2 Spot Instance Interruption Warning"], "source": ["aws.ec2"]}
REBALANCE_PATTERN = {"source": ["aws.ec2"], "detail-type": ["EC2 Instance Rebalance Recommendation"]}
DEPLOYMENT_TAGS = {"eks-llm/deployment": "llm", "team": "ml"}
MUTATING = {"PutRule", "PutTargets", "RemoveTargets", "TagResource", "UntagResource", "DeleteRule"}


RUN = ModuleRunner(module_under_test.main, region=REGION)


@pytest.fixture
def calls(monkeypatch):
    """Moto-backed AWS; returns the list of EventBridge operations the module sends."""
    recorded = []
    original = common.AnsibleEKSModule.retrying_client

    def recording_client(self, service):
        wrapped = original(self, service)
        wrapped.client.meta.events.register(
            "before-call.events.*", lambda model, **kwargs: recorded.append(model.name)
        )
        return wrapped

    monkeypatch.setattr(common.AnsibleEKSModule, "retrying_client", recording_client)
    with mock_aws():
        yield recorded


@pytest.fixture
def events(calls):
    return boto3.client("events", region_name=REGION)


@pytest.fixture
def queue_arn(calls):
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="llm-karpenter")["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def run(args, check_mode=False, diff=True):
    """Run the module, which must succeed; return its result."""
    return RUN(args, check_mode, diff)


def run_failing(args):
    """Run the module, which must fail; return its result."""
    return RUN.failing(args)


def spot_args(queue_arn, **overrides):
    args = dict(
        name=RULE,
        description="Karpenter spot interruption",
        event_pattern=SPOT_PATTERN,
        targets=[dict(id="queue", arn=queue_arn)],
        tags=dict(DEPLOYMENT_TAGS),
    )
    args.update(overrides)
    return args


def aws_rule(events):
    rule = events.describe_rule(Name=RULE)
    rule.pop("ResponseMetadata")
    targets = events.list_targets_by_rule(Rule=RULE)["Targets"]
    tags = {tag["Key"]: tag["Value"] for tag in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]}
    return rule, sorted(targets, key=lambda target: target["Id"]), tags


def rule_exists(events, name=RULE):
    try:
        events.describe_rule(Name=name)
    except events.exceptions.ResourceNotFoundException:
        return False
    return True


# ---------------------------------------------------------------------------
# Creation and idempotence
# ---------------------------------------------------------------------------


def test_create_with_pattern_sqs_target_and_tags(events, queue_arn, calls):
    result = run(spot_args(queue_arn))

    assert result["changed"] is True
    rule, targets, tags = aws_rule(events)
    assert json.loads(rule["EventPattern"]) == SPOT_PATTERN
    assert rule["State"] == "ENABLED"
    assert rule["Description"] == "Karpenter spot interruption"
    assert targets == [{"Id": "queue", "Arn": queue_arn}]
    assert tags == DEPLOYMENT_TAGS

    returned = result["rule"]
    assert returned["name"] == RULE
    assert returned["arn"] == rule["Arn"]
    assert returned["event_pattern"] == SPOT_PATTERN
    assert returned["schedule_expression"] is None
    assert returned["state"] == "ENABLED"
    assert returned["description"] == "Karpenter spot interruption"
    assert returned["targets"] == [{"id": "queue", "arn": queue_arn, "input": None}]
    assert returned["tags"] == DEPLOYMENT_TAGS
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["event_pattern"] == SPOT_PATTERN
    assert "DeleteRule" not in calls


def test_identical_rerun_is_unchanged(events, queue_arn, calls):
    first = run(spot_args(queue_arn))
    del calls[:]

    second = run(spot_args(queue_arn))

    assert second["changed"] is False
    assert not MUTATING.intersection(calls), calls
    assert second["diff"]["before"] == second["diff"]["after"]
    assert second["rule"] == first["rule"]


def test_pattern_key_order_is_not_a_change(events, queue_arn, calls):
    run(spot_args(queue_arn))
    # Another writer stored the same pattern with other spacing and key order.
    events.put_rule(
        Name=RULE,
        EventPattern='{"detail-type":["EC2 Spot Instance Interruption Warning"],  "source":["aws.ec2"]}',
        Description="Karpenter spot interruption",
    )
    del calls[:]

    result = run(spot_args(queue_arn, event_pattern=SPOT_PATTERN_REORDERED))

    assert result["changed"] is False
    assert not MUTATING.intersection(calls), calls


def test_event_pattern_as_json_string(events, queue_arn):
    run(spot_args(queue_arn))

    result = run(spot_args(queue_arn, event_pattern=json.dumps(SPOT_PATTERN_REORDERED)))

    assert result["changed"] is False


# ---------------------------------------------------------------------------
# Updates
# ---------------------------------------------------------------------------


def test_change_pattern_keeps_description_targets_and_tags(events, queue_arn, calls):
    run(spot_args(queue_arn))
    del calls[:]

    result = run(dict(name=RULE, event_pattern=REBALANCE_PATTERN))

    assert result["changed"] is True
    assert calls.count("PutRule") == 1
    assert not {"PutTargets", "RemoveTargets", "TagResource", "UntagResource"}.intersection(calls), calls
    rule, targets, tags = aws_rule(events)
    assert json.loads(rule["EventPattern"]) == REBALANCE_PATTERN
    # PutRule replaces every setting: the module must send the description again.
    assert rule["Description"] == "Karpenter spot interruption"
    assert targets == [{"Id": "queue", "Arn": queue_arn}]
    assert tags == DEPLOYMENT_TAGS
    assert result["diff"]["before"]["event_pattern"] == SPOT_PATTERN
    assert result["diff"]["after"]["event_pattern"] == REBALANCE_PATTERN
    assert result["rule"]["event_pattern"] == REBALANCE_PATTERN
    assert result["rule"]["description"] == "Karpenter spot interruption"


def test_change_state_and_description(events, queue_arn):
    run(spot_args(queue_arn))

    disabled = run(spot_args(queue_arn, rule_state="DISABLED"))

    assert disabled["changed"] is True
    rule, dummy, dummy = aws_rule(events)
    assert rule["State"] == "DISABLED"
    assert rule["Description"] == "Karpenter spot interruption"
    assert json.loads(rule["EventPattern"]) == SPOT_PATTERN
    assert disabled["diff"]["before"]["state"] == "ENABLED"
    assert disabled["diff"]["after"]["state"] == "DISABLED"
    assert disabled["rule"]["state"] == "DISABLED"

    described = run(spot_args(queue_arn, rule_state="DISABLED", description="paused"))

    assert described["changed"] is True
    rule, dummy, dummy = aws_rule(events)
    assert rule["State"] == "DISABLED"
    assert rule["Description"] == "paused"
    assert described["diff"]["after"]["description"] == "paused"
    assert run(spot_args(queue_arn, rule_state="DISABLED", description="paused"))["changed"] is False


def test_schedule_rule_and_switch_to_pattern(events, queue_arn):
    created = run(dict(name=RULE, schedule_expression="rate(5 minutes)"))
    assert created["changed"] is True
    assert events.describe_rule(Name=RULE)["ScheduleExpression"] == "rate(5 minutes)"
    assert created["rule"]["event_pattern"] is None
    assert run(dict(name=RULE, schedule_expression="rate(5 minutes)"))["changed"] is False

    switched = run(dict(name=RULE, event_pattern=SPOT_PATTERN))

    assert switched["changed"] is True
    rule = events.describe_rule(Name=RULE)
    assert json.loads(rule["EventPattern"]) == SPOT_PATTERN
    assert not rule.get("ScheduleExpression")
    assert switched["rule"]["schedule_expression"] is None


def test_targets_add_change_input_and_remove(events, queue_arn, calls):
    other = queue_arn.replace("llm-karpenter", "llm-audit")
    run(spot_args(queue_arn))

    added = run(spot_args(queue_arn, targets=[dict(id="queue", arn=queue_arn), dict(id="audit", arn=other)]))
    assert added["changed"] is True
    assert aws_rule(events)[1] == [{"Id": "audit", "Arn": other}, {"Id": "queue", "Arn": queue_arn}]
    assert added["diff"]["before"]["targets"] == [{"id": "queue", "arn": queue_arn, "input": None}]
    assert len(added["diff"]["after"]["targets"]) == 2

    del calls[:]
    with_input = run(
        spot_args(queue_arn, targets=[dict(id="queue", arn=queue_arn), dict(id="audit", arn=other, input='{"a": 1}')])
    )
    assert with_input["changed"] is True
    assert calls.count("PutTargets") == 1 and "RemoveTargets" not in calls
    assert aws_rule(events)[1][0] == {"Id": "audit", "Arn": other, "Input": '{"a": 1}'}

    # Same input by value, other spacing: no change.
    same = run(
        spot_args(queue_arn, targets=[dict(id="queue", arn=queue_arn), dict(id="audit", arn=other, input='{"a":1}')])
    )
    assert same["changed"] is False

    changed_input = run(
        spot_args(queue_arn, targets=[dict(id="queue", arn=queue_arn), dict(id="audit", arn=other, input='{"a": 2}')])
    )
    assert changed_input["changed"] is True
    assert aws_rule(events)[1][0]["Input"] == '{"a": 2}'

    dropped_input = run(
        spot_args(queue_arn, targets=[dict(id="queue", arn=queue_arn), dict(id="audit", arn=other)])
    )
    assert dropped_input["changed"] is True
    assert "Input" not in aws_rule(events)[1][0]

    removed = run(spot_args(queue_arn, targets=[dict(id="audit", arn=other)]))
    assert removed["changed"] is True
    assert aws_rule(events)[1] == [{"Id": "audit", "Arn": other}]
    assert removed["rule"]["targets"] == [{"id": "audit", "arn": other, "input": None}]


def test_target_arn_change_is_put(events, queue_arn):
    other = queue_arn.replace("llm-karpenter", "llm-audit")
    run(spot_args(queue_arn))

    result = run(spot_args(queue_arn, targets=[dict(id="queue", arn=other)]))

    assert result["changed"] is True
    assert aws_rule(events)[1] == [{"Id": "queue", "Arn": other}]


def test_targets_omitted_are_left_alone_and_empty_list_removes_all(events, queue_arn):
    run(spot_args(queue_arn))

    untouched = run(dict(name=RULE, event_pattern=SPOT_PATTERN))
    assert untouched["changed"] is False
    assert aws_rule(events)[1] == [{"Id": "queue", "Arn": queue_arn}]
    assert untouched["rule"]["targets"] == [{"id": "queue", "arn": queue_arn, "input": None}]

    emptied = run(dict(name=RULE, event_pattern=SPOT_PATTERN, targets=[]))
    assert emptied["changed"] is True
    assert aws_rule(events)[1] == []
    assert emptied["rule"]["targets"] == []


def test_tags_purged_by_default(events, queue_arn, calls):
    run(spot_args(queue_arn))
    del calls[:]

    result = run(spot_args(queue_arn, tags={"eks-llm/deployment": "llm2"}))

    assert result["changed"] is True
    assert aws_rule(events)[2] == {"eks-llm/deployment": "llm2"}
    assert result["rule"]["tags"] == {"eks-llm/deployment": "llm2"}
    assert result["diff"]["before"]["tags"] == DEPLOYMENT_TAGS
    assert result["diff"]["after"]["tags"] == {"eks-llm/deployment": "llm2"}
    assert "PutRule" not in calls
    assert calls.count("UntagResource") == 1 and calls.count("TagResource") == 1


def test_tags_kept_without_purge(events, queue_arn, calls):
    run(spot_args(queue_arn))
    del calls[:]

    result = run(spot_args(queue_arn, tags={"extra": "x"}, purge_tags=False))

    assert result["changed"] is True
    assert aws_rule(events)[2] == dict(DEPLOYMENT_TAGS, extra="x")
    assert result["rule"]["tags"] == dict(DEPLOYMENT_TAGS, extra="x")
    assert "UntagResource" not in calls
    assert run(spot_args(queue_arn, tags={"extra": "x"}, purge_tags=False))["changed"] is False


def test_tags_omitted_are_left_alone(events, queue_arn):
    run(spot_args(queue_arn))

    args = spot_args(queue_arn)
    del args["tags"]
    result = run(args)

    assert result["changed"] is False
    assert aws_rule(events)[2] == DEPLOYMENT_TAGS


# ---------------------------------------------------------------------------
# Check mode
# ---------------------------------------------------------------------------


def test_check_mode_create_changes_nothing(events, queue_arn, calls):
    predicted = run(spot_args(queue_arn), check_mode=True)

    assert predicted["changed"] is True
    assert not MUTATING.intersection(calls), calls
    assert not rule_exists(events)
    assert predicted["diff"]["before"] == {}

    applied = run(spot_args(queue_arn))
    assert predicted["diff"]["after"] == applied["diff"]["after"]
    assert dict(predicted["rule"], arn=None) == dict(applied["rule"], arn=None)
    assert predicted["rule"]["arn"] is None


def test_check_mode_update_changes_nothing(events, queue_arn, calls):
    other = queue_arn.replace("llm-karpenter", "llm-audit")
    run(spot_args(queue_arn))
    before = aws_rule(events)
    del calls[:]
    changes = spot_args(
        queue_arn,
        event_pattern=REBALANCE_PATTERN,
        rule_state="DISABLED",
        targets=[dict(id="audit", arn=other, input='{"a": 1}')],
        tags={"eks-llm/deployment": "llm", "new": "y"},
    )

    predicted = run(changes, check_mode=True)

    assert predicted["changed"] is True
    assert not MUTATING.intersection(calls), calls
    assert aws_rule(events) == before
    applied = run(changes)
    assert applied["changed"] is True
    assert predicted["rule"] == applied["rule"]
    assert predicted["diff"] == applied["diff"]


def test_check_mode_unchanged_rule(events, queue_arn):
    run(spot_args(queue_arn))

    assert run(spot_args(queue_arn), check_mode=True)["changed"] is False


def test_check_mode_absent_changes_nothing(events, queue_arn, calls):
    run(spot_args(queue_arn))
    del calls[:]

    result = run(dict(name=RULE, state="absent"), check_mode=True)

    assert result["changed"] is True
    assert not MUTATING.intersection(calls), calls
    assert rule_exists(events)
    assert aws_rule(events)[1] == [{"Id": "queue", "Arn": queue_arn}]


# ---------------------------------------------------------------------------
# Deletion
# ---------------------------------------------------------------------------


def test_absent_removes_targets_then_rule(events, queue_arn, calls):
    other = queue_arn.replace("llm-karpenter", "llm-audit")
    run(spot_args(queue_arn, targets=[dict(id="queue", arn=queue_arn), dict(id="audit", arn=other)]))
    del calls[:]

    result = run(dict(name=RULE, state="absent"))

    assert result["changed"] is True
    assert result["rule"] == {}
    assert result["diff"]["after"] == {}
    assert len(result["diff"]["before"]["targets"]) == 2
    assert not rule_exists(events)
    mutating = [call for call in calls if call in MUTATING]
    assert mutating == ["RemoveTargets", "DeleteRule"]

    again = run(dict(name=RULE, state="absent"))
    assert again["changed"] is False
    assert again["rule"] == {}
    assert again["diff"] == {"before": {}, "after": {}}


def test_absent_rule_without_targets(events, calls):
    run(dict(name=RULE, schedule_expression="rate(1 hour)", targets=[]))
    del calls[:]

    result = run(dict(name=RULE, state="absent"))

    assert result["changed"] is True
    assert [call for call in calls if call in MUTATING] == ["DeleteRule"]
    assert not rule_exists(events)


def test_absent_on_missing_rule_is_unchanged(events, calls):
    result = run(dict(name=RULE, state="absent"))

    assert result["changed"] is False
    assert result["rule"] == {}
    assert not MUTATING.intersection(calls), calls


def test_custom_event_bus(events, queue_arn):
    events.create_event_bus(Name="llm-bus")
    args = spot_args(queue_arn, event_bus_name="llm-bus")

    created = run(args)

    assert created["changed"] is True
    assert created["rule"]["event_bus_name"] == "llm-bus"
    assert not rule_exists(events)
    assert events.describe_rule(Name=RULE, EventBusName="llm-bus")["Name"] == RULE
    assert events.list_targets_by_rule(Rule=RULE, EventBusName="llm-bus")["Targets"] == [
        {"Id": "queue", "Arn": queue_arn}
    ]
    assert run(args)["changed"] is False
    assert run(dict(name=RULE, event_bus_name="llm-bus", state="absent"))["changed"] is True
    assert events.list_rules(EventBusName="llm-bus")["Rules"] == []


# ---------------------------------------------------------------------------
# Validation and errors
# ---------------------------------------------------------------------------


def test_pattern_and_schedule_are_mutually_exclusive(events, calls):
    result = run_failing(dict(name=RULE, event_pattern=SPOT_PATTERN, schedule_expression="rate(5 minutes)"))

    assert "mutually exclusive" in result["msg"]
    assert calls == []
    assert not rule_exists(events)


def test_present_needs_pattern_or_schedule(events, calls):
    result = run_failing(dict(name=RULE))

    assert "event_pattern" in result["msg"] and "schedule_expression" in result["msg"]
    assert calls == []


def test_duplicate_target_ids_fail(events, queue_arn, calls):
    result = run_failing(
        dict(name=RULE, event_pattern=SPOT_PATTERN, targets=[dict(id="q", arn=queue_arn), dict(id="q", arn=queue_arn)])
    )

    assert "q" in result["msg"] and "unique" in result["msg"]
    assert calls == []


def test_aws_error_is_reported(events):
    result = run_failing(dict(name=RULE, event_pattern=SPOT_PATTERN, event_bus_name="no-such-bus"))

    assert result["msg"].startswith("Failed to put rule")
    assert result["error"]["code"] == "ResourceNotFoundException"


def test_failed_target_entries_fail_the_module(events, queue_arn, monkeypatch):
    """PutTargets reports per-target failures in a successful response; they must not pass silently."""
    patched = common.AnsibleEKSModule.retrying_client

    def failing_put_targets(**kwargs):
        parsed = {
            "FailedEntryCount": 1,
            "FailedEntries": [{"TargetId": "queue", "ErrorCode": "ConcurrentModificationException", "ErrorMessage": "busy"}],
        }
        return AWSResponse("https://events.%s.amazonaws.com/" % REGION, 200, {}, None), parsed

    def client_with_failing_put_targets(self, service):
        wrapped = patched(self, service)
        wrapped.client.meta.events.register("before-call.events.PutTargets", failing_put_targets)
        return wrapped

    monkeypatch.setattr(common.AnsibleEKSModule, "retrying_client", client_with_failing_put_targets)

    result = run_failing(spot_args(queue_arn))

    assert result["msg"] == "Failed to put targets: queue: busy (ConcurrentModificationException)"


# ---------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------


def test_targets_plan():
    current = [
        {"Id": "same", "Arn": "arn:q1", "Input": '{"a": 1}'},
        {"Id": "moved", "Arn": "arn:q1"},
        {"Id": "transformed", "Arn": "arn:q1", "InputTransformer": {"InputTemplate": "x"}},
        {"Id": "gone", "Arn": "arn:q1"},
    ]
    wanted = [
        {"id": "same", "arn": "arn:q1", "input": '{ "a" : 1 }'},
        {"id": "moved", "arn": "arn:q2", "input": None},
        {"id": "transformed", "arn": "arn:q1", "input": None},
        {"id": "new", "arn": "arn:q3", "input": "not json"},
    ]

    to_put, to_remove = eventbridge_rules.targets_plan(current, wanted)

    assert to_put == [
        {"Id": "moved", "Arn": "arn:q2"},
        {"Id": "transformed", "Arn": "arn:q1"},
        {"Id": "new", "Arn": "arn:q3", "Input": "not json"},
    ]
    assert to_remove == ["gone"]


def test_same_json_text():
    same = eventbridge_rules.same_json_text
    assert same(None, None)
    assert not same(None, "{}")
    assert not same("{}", None)
    assert same('{"a": [1, 2]}', '{"a":[1,2]}')
    assert not same('{"a": [1, 2]}', '{"a": [2, 1]}')
    assert same("plain", "plain")
    assert not same("plain", "other")


def test_rule_request_keeps_unmanaged_settings():
    params = dict(
        name=RULE,
        event_bus_name="default",
        rule_state="ENABLED",
        event_pattern=SPOT_PATTERN,
        schedule_expression=None,
        description=None,
    )
    current = {"Description": "kept", "RoleArn": "arn:aws:iam::123456789012:role/events", "ScheduleExpression": "x"}

    request = module_under_test.rule_request(params, current)

    assert request["Description"] == "kept"
    assert request["RoleArn"] == "arn:aws:iam::123456789012:role/events"
    assert "ScheduleExpression" not in request
    assert json.loads(request["EventPattern"]) == SPOT_PATTERN
    assert "Description" not in module_under_test.rule_request(params, None)


# ---------------------------------------------------------------------------
# Several rules in one run
# ---------------------------------------------------------------------------


def test_rules_list_creates_reconciles_and_removes_each_rule(events, queue_arn, calls):
    shared = dict(targets=[dict(id="queue", arn=queue_arn)], tags=DEPLOYMENT_TAGS)
    rules = [
        dict(name=RULE, description="spot", event_pattern=SPOT_PATTERN),
        dict(name="llm-karpenter-rebalance", event_pattern=REBALANCE_PATTERN, rule_state="DISABLED"),
    ]
    created = run(dict(shared, rules=rules))

    assert created["changed"] is True
    assert [(entry["name"], entry["changed"]) for entry in created["rules"]] == [(RULE, True), ("llm-karpenter-rebalance", True)]
    assert [entry["before_header"] for entry in created["diff"]] == [RULE, "llm-karpenter-rebalance"]
    assert events.describe_rule(Name="llm-karpenter-rebalance")["State"] == "DISABLED"
    for name in (RULE, "llm-karpenter-rebalance"):
        assert events.list_targets_by_rule(Rule=name)["Targets"] == [{"Id": "queue", "Arn": queue_arn}]

    del calls[:]
    again = run(dict(shared, rules=[dict(rules[0], event_pattern=SPOT_PATTERN_REORDERED), rules[1]]))
    assert again["changed"] is False
    assert not MUTATING.intersection(calls), calls

    removed = run(dict(shared, rules=[dict(name="llm-karpenter-rebalance", state="absent"), rules[0]]))
    assert [(entry["name"], entry["changed"]) for entry in removed["rules"]] == [("llm-karpenter-rebalance", True), (RULE, False)]
    assert [rule["Name"] for rule in events.list_rules()["Rules"]] == [RULE]


def test_rules_list_entry_without_pattern_fails_before_any_call(events, calls):
    result = run_failing(dict(rules=[dict(name=RULE, event_pattern=SPOT_PATTERN), dict(name="llm-no-pattern")]))

    assert result["entry"] == "llm-no-pattern"
    assert "event_pattern, schedule_expression" in result["msg"]
    assert calls == []
    assert not rule_exists(events)


def test_rules_list_excludes_the_single_rule_options(events, calls):
    result = run_failing(dict(name=RULE, rules=[dict(name=RULE, event_pattern=SPOT_PATTERN)]))

    assert "mutually exclusive: rules|name" in result["msg"]
    assert calls == []
