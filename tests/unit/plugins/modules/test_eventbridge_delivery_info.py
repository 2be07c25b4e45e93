# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.eventbridge_delivery_info against a botocore Stubber: a missing rule is a problem
reported, a refused read a failure with AWS's error."""

from ansible_collections.eks_llm.inference.plugins.modules import eventbridge_delivery_info as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

RUN = ModuleRunner(module_under_test.main, region="us-west-2")


def test_no_rule_is_a_problem_not_a_failure(stubbed_client):
    stubber = stubbed_client("events")[1]
    stubber.add_response("list_rules", {"Rules": []}, {"NamePrefix": "demo-karpenter"})
    result = RUN({"name_prefix": "demo-karpenter"})
    assert result["problems"] == ["No EventBridge rule named demo-karpenter* on the default event bus"] and result["rules"] == []


def test_a_refused_read_fails_with_the_aws_error(stubbed_client):
    stubber = stubbed_client("events")[1]
    stubber.add_client_error("list_rules", service_error_code="AccessDeniedException", service_message="not authorized",
                             http_status_code=400)
    failed = RUN.failing({"name_prefix": "demo-karpenter"})
    assert failed["msg"].startswith("Failed to read the EventBridge rules, their queues, keys or delivery metrics: ")
    assert "not authorized" in failed["msg"] and failed["error"]["code"] == "AccessDeniedException"
