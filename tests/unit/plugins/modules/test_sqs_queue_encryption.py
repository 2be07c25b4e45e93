# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.sqs_queue_encryption: reading the mode, and the calls that change it."""

import boto3
import pytest
from moto import mock_aws

from ansible_collections.eks_llm.inference.plugins.modules import sqs_queue_encryption as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

REGION = "us-west-2"
SQS = {"encryption": "sse-sqs", "kms_master_key_id": None}
NONE = {"encryption": "none", "kms_master_key_id": None}


def kms(key):
    return {"encryption": "sse-kms", "kms_master_key_id": key}


@pytest.mark.parametrize("attributes, mode", [
    ({"SqsManagedSseEnabled": "true"}, SQS),
    ({"SqsManagedSseEnabled": "false", "KmsMasterKeyId": "alias/aws/sqs"}, kms("alias/aws/sqs")),
    ({"SqsManagedSseEnabled": "false"}, NONE),
    ({}, NONE),
])
def test_current(attributes, mode):
    assert module_under_test.current(attributes) == mode


@pytest.mark.parametrize("before, after, calls", [
    (SQS, SQS, []),
    (kms("alias/aws/sqs"), SQS, [{"KmsMasterKeyId": ""}, {"SqsManagedSseEnabled": "true"}]),
    (SQS, kms("alias/k"), [{"SqsManagedSseEnabled": "false"}, {"KmsMasterKeyId": "alias/k"}]),
    (kms("alias/a"), kms("alias/b"), [{"KmsMasterKeyId": "alias/b"}]),
    (NONE, SQS, [{"SqsManagedSseEnabled": "true"}]),
    (SQS, NONE, [{"SqsManagedSseEnabled": "false"}]),
])
def test_steps(before, after, calls):
    assert module_under_test.steps(before, after) == calls


# ---- main() in-process against moto: the upgrade of a queue an older release encrypted with alias/aws/sqs ----------
RUN = ModuleRunner(module_under_test.main, region=REGION)


@pytest.fixture
def sqs():
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def run(args, check_mode=False):
    """The module's result, whether it succeeded or failed."""
    result, dummy = RUN.outcome(args, check_mode, diff=True)
    return result


def test_switches_an_aws_managed_key_queue_to_sse_sqs_once(sqs):
    url = sqs.create_queue(QueueName="llm-karpenter", Attributes={"KmsMasterKeyId": "alias/aws/sqs"})["QueueUrl"]
    checked = run({"name": "llm-karpenter"}, check_mode=True)
    assert checked["changed"] and checked["diff"]["before"] == kms("alias/aws/sqs")
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])["Attributes"]["KmsMasterKeyId"] == "alias/aws/sqs"
    first = run({"name": "llm-karpenter"})
    assert first["changed"] and first["encryption"] == "sse-sqs" and first["diff"]["after"] == SQS
    now = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert now["SqsManagedSseEnabled"] == "true" and not now.get("KmsMasterKeyId")
    assert run({"name": "llm-karpenter"})["changed"] is False


def test_missing_queue_and_key_without_sse_kms_fail(sqs):
    assert "does not exist" in run({"name": "nope"})["msg"]
    sqs.create_queue(QueueName="q")
    assert "only allowed with encryption=sse-kms" in run({"name": "q", "kms_master_key_id": "alias/k"})["msg"]


def test_a_refused_call_fails_naming_the_queue_and_the_aws_error(stubbed_client):
    stubber = stubbed_client("sqs")[1]
    stubber.add_response("get_queue_url", {"QueueUrl": "https://sqs.us-west-2.amazonaws.com/123456789012/q"})
    stubber.add_client_error("get_queue_attributes", service_error_code="AccessDenied", service_message="not authorized", http_status_code=403)
    failed = RUN.failing({"name": "q"})
    assert failed["msg"].startswith("Failed to read or set the encryption of queue q: ") and "not authorized" in failed["msg"]
    assert failed["error"]["code"] == "AccessDenied"
