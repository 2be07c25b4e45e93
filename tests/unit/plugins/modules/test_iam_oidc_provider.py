# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.iam_oidc_provider in-process against moto: create, reconcile, delete, check mode."""

import boto3
import pytest
from moto import mock_aws

from ansible_collections.eks_llm.inference.plugins.modules import iam_oidc_provider as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner
from tests.standin import iam_ext

iam_ext.install()  # moto lacks Add/RemoveClientID*OpenIDConnectProvider

REGION = "us-west-2"
ISSUER = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
TAGS = {"eks-llm:deployment": "demo"}


RUN = ModuleRunner(module_under_test.main, region=REGION)


@pytest.fixture
def iam():
    with mock_aws():
        yield boto3.client("iam", region_name=REGION)


def run(args, check_mode=False):
    """The module's result; a failure carries failed=True, as the controller shows it."""
    result, failed = RUN.outcome(args, check_mode, diff=True)
    return dict(result, failed=True) if failed else result


def providers(iam):
    return [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]


def test_creates_once_then_reports_no_change(iam):
    checked = run({"url": ISSUER, "tags": TAGS}, check_mode=True)
    assert checked["changed"] and providers(iam) == []
    first = run({"url": ISSUER, "tags": TAGS})
    assert first["changed"] and first["arn"].endswith(":oidc-provider/" + ISSUER[len("https://"):])
    assert first["url"] == ISSUER[len("https://"):] and first["client_ids"] == ["sts.amazonaws.com"]
    described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=first["arn"])
    assert described["ClientIDList"] == ["sts.amazonaws.com"]
    assert {"Key": "eks-llm:deployment", "Value": "demo"} in described["Tags"]
    again = run({"url": ISSUER + "/", "tags": TAGS})  # a trailing slash names the same issuer
    assert again["changed"] is False and providers(iam) == [first["arn"]]


def test_reconciles_audiences_and_tags(iam):
    arn = run({"url": ISSUER, "tags": TAGS})["arn"]
    changed = run({"url": ISSUER, "client_ids": ["sts.amazonaws.com", "example"], "tags": {"team": "ml"}})
    assert changed["changed"] and changed["diff"]["before"]["tags"] == TAGS and changed["tags"] == {"team": "ml"}
    described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert sorted(described["ClientIDList"]) == ["example", "sts.amazonaws.com"]
    assert described["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_absent_deletes_and_is_idempotent(iam):
    run({"url": ISSUER, "tags": TAGS})
    assert run({"url": ISSUER, "state": "absent"}, check_mode=True)["changed"] and len(providers(iam)) == 1
    assert run({"url": ISSUER, "state": "absent"})["changed"] and providers(iam) == []
    assert run({"url": ISSUER, "state": "absent"})["changed"] is False


def test_bad_thumbprints_are_refused_before_any_call(iam):
    failed = run({"url": ISSUER, "thumbprints": ["abc"]})
    assert failed["failed"] and "40 hexadecimal" in failed["msg"] and providers(iam) == []


def test_a_refused_call_fails_naming_the_provider_and_the_aws_error(stubbed_client):
    stubber = stubbed_client("iam")[1]
    stubber.add_client_error("list_open_id_connect_providers", service_error_code="AccessDenied", service_message="not authorized",
                             http_status_code=403)
    failed = run({"url": ISSUER})
    assert failed["failed"] and failed["msg"].startswith("Failed to read or change the OIDC provider for %s: " % ISSUER)
    assert "not authorized" in failed["msg"] and failed["error"]["code"] == "AccessDenied"
