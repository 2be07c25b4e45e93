"""EventBridge -> SQS delivery through boto3 against the stand-in: queue policy, SSE-KMS key policy, metrics."""
import datetime
import json
import urllib.request
import uuid

import pytest

SPOT = {"source": ["aws.ec2"], "detail-type": ["EC2 Spot Instance Interruption Warning"]}


def _failed(aws, rule, metric="FailedInvocations"):
    now = datetime.datetime.now(datetime.timezone.utc)
    points = aws("cloudwatch").get_metric_statistics(
        Namespace="AWS/Events", MetricName=metric, Dimensions=[{"Name": "RuleName", "Value": rule}],
        StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(minutes=5), Period=3600, Statistics=["Sum"])["Datapoints"]
    return sum(point["Sum"] for point in points)


def _queue_policy(arn, source_arn=None, deny_http=True):
    allow = {"Sid": "EventBridge", "Effect": "Allow", "Principal": {"Service": ["events.amazonaws.com", "sqs.amazonaws.com"]},
             "Action": "sqs:SendMessage", "Resource": arn}
    if source_arn:
        allow["Condition"] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    deny = {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    return json.dumps({"Version": "2012-10-17", "Statement": [allow] + ([deny] if deny_http else [])})


def _setup(aws, attributes, policy=lambda arn, rule_arn: _queue_policy(arn)):
    sqs, events = aws("sqs"), aws("events")
    name = "q-" + uuid.uuid4().hex[:8]
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule_arn = events.put_rule(Name=name + "-spot", EventPattern=json.dumps(SPOT))["RuleArn"]
    events.put_targets(Rule=name + "-spot", Targets=[{"Id": "queue", "Arn": arn}])
    made = policy(arn, rule_arn)
    if made:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": made})
    return url, name + "-spot"


def _emit(standin):
    entry = standin.emit_event("aws.ec2", "EC2 Spot Instance Interruption Warning", {"instance-id": "i-0123456789abcdef0"})
    assert "EventId" in entry


def _received(aws, url):
    return aws("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])


def test_sse_sqs_queue_with_an_eventbridge_policy_receives(aws, aws_standin):
    url, rule = _setup(aws, {"SqsManagedSseEnabled": "true"})
    _emit(aws_standin)
    messages = _received(aws, url)
    assert len(messages) == 1 and json.loads(messages[0]["Body"])["detail-type"] == "EC2 Spot Instance Interruption Warning"
    assert _failed(aws, rule) == 0 and _failed(aws, rule, "Invocations") == 1


def test_aws_managed_sqs_key_refuses_eventbridge(aws, aws_standin):
    url, rule = _setup(aws, {"KmsMasterKeyId": "alias/aws/sqs"})
    attributes = aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs" and attributes["SqsManagedSseEnabled"] == "false"
    assert aws("kms").describe_key(KeyId="alias/aws/sqs")["KeyMetadata"]["KeyManager"] == "AWS"
    _emit(aws_standin)
    assert _received(aws, url) == []
    assert _failed(aws, rule) == 1


@pytest.mark.parametrize("grant_events", [True, False])
def test_customer_key_needs_a_policy_for_eventbridge(aws, aws_standin, grant_events):
    statements = [{"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]
    if grant_events:
        statements.append({"Sid": "EventBridge", "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                           "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"})
    key = aws("kms").create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))["KeyMetadata"]["Arn"]
    url, rule = _setup(aws, {"KmsMasterKeyId": key})
    _emit(aws_standin)
    assert len(_received(aws, url)) == (1 if grant_events else 0)
    assert _failed(aws, rule) == (0 if grant_events else 1)


@pytest.mark.parametrize("policy, delivered", [
    (lambda arn, rule_arn: None, False),
    (lambda arn, rule_arn: _queue_policy(arn, source_arn=rule_arn), True),
    (lambda arn, rule_arn: _queue_policy(arn, source_arn=rule_arn + "-other"), False),
    (lambda arn, rule_arn: json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                                                     "Action": "sqs:SendMessage", "Resource": arn}]}), False),
    (lambda arn, rule_arn: json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:*", "Resource": "*"},
        {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn,
         "Condition": {"StringNotEquals": {"aws:SourceAccount": "111122223333"}}}]}), False),
], ids=["no-policy", "source-arn", "other-source-arn", "other-service", "deny"])
def test_queue_policy_decides(aws, aws_standin, policy, delivered):
    url, rule = _setup(aws, {}, policy=policy)
    _emit(aws_standin)
    assert len(_received(aws, url)) == (1 if delivered else 0)
    assert _failed(aws, rule) == (0 if delivered else 1)


def test_sse_modes_are_exclusive(aws):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="q-" + uuid.uuid4().hex[:8], Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"SqsManagedSseEnabled": "true"})
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["SqsManagedSseEnabled"] == "true" and "KmsMasterKeyId" not in attributes


def test_put_events_refuses_aws_sources_and_the_control_endpoint_emits(aws, aws_standin):
    entries = aws("events").put_events(Entries=[
        {"Source": "aws.ec2", "DetailType": "EC2 Spot Instance Interruption Warning", "Detail": "{}"},
        {"Source": "com.example.test", "DetailType": "test", "Detail": "{}"}])["Entries"]
    assert entries[0]["ErrorCode"] == "NotAuthorizedForSourceException" and "EventId" in entries[1]
    url, rule = _setup(aws, {})
    body = json.dumps({"source": "aws.ec2", "detail-type": "EC2 Spot Instance Interruption Warning", "detail": {}}).encode()
    request = urllib.request.Request(aws_standin.endpoint_url + "/_standin/events/emit", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "EventId" in json.load(response)
    assert len(_received(aws, url)) == 1 and _failed(aws, rule) == 0
