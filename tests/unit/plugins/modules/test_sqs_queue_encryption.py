# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.sqs_queue_encryption: reading the mode, and the calls that change it."""

import boto3
import pytest
from moto import mock_aws

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.eks_llm.inference.plugins.modules import sqs_queue_encryption as module_under_test

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
class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


@pytest.fixture
def sqs(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                "AWS_REGION", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json(self, **kwargs):
        raise ModuleFail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def run(args, check_mode=False):
    with patch_module_args(dict(args, region=REGION, _ansible_check_mode=check_mode, _ansible_diff=True)):
        with pytest.raises((ModuleExit, ModuleFail)) as info:
            module_under_test.main()
    return info.value.result


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
