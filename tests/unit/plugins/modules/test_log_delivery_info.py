# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.log_delivery_info against a botocore Stubber: a missing group is an answer, a refused
read a failure naming the group and AWS's error."""

from ansible_collections.eks_llm.inference.plugins.modules import log_delivery_info as module_under_test
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

RUN = ModuleRunner(module_under_test.main, region="us-west-2")
GROUP = "/aws/eks/demo/workloads"


def test_a_missing_group_is_reported_not_failed(stubbed_client):
    stubber = stubbed_client("logs")[1]
    stubber.add_client_error("filter_log_events", service_error_code="ResourceNotFoundException", service_message="gone",
                             http_status_code=400)
    result = RUN({"log_group_name": GROUP})
    assert result["exists"] is False and result["recent_events"] == 0


def test_a_refused_read_fails_naming_the_group_and_the_aws_error(stubbed_client):
    stubber = stubbed_client("logs")[1]
    stubber.add_client_error("filter_log_events", service_error_code="AccessDeniedException", service_message="not authorized",
                             http_status_code=400)
    failed = RUN.failing({"log_group_name": GROUP})
    assert failed["msg"].startswith("Failed to read the events of %s: " % GROUP) and "not authorized" in failed["msg"]
    assert failed["error"]["code"] == "AccessDeniedException"
