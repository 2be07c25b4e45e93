# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""common.list_all: botocore's paginator over every page, the listing retried as a whole on throttling."""
import time

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.eks_llm.inference.plugins.module_utils import common


@pytest.fixture
def events(monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    client = botocore.session.get_session().create_client(
        "events", region_name="us-west-2", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, common.aws_retry()), stubber
        stubber.assert_no_pending_responses()


def target(number):
    return {"Id": "t%d" % number, "Arn": "arn:aws:sqs:us-west-2:123456789012:q%d" % number}


def test_every_page_is_read_and_a_throttled_listing_is_retried_from_its_start(events):
    client, stubber = events
    wanted = {"Rule": "demo-karpenter-spot", "EventBusName": "default"}
    stubber.add_response("list_targets_by_rule", {"Targets": [target(1)], "NextToken": "page2"}, wanted)
    stubber.add_client_error("list_targets_by_rule", service_error_code="ThrottlingException", http_status_code=400)
    stubber.add_response("list_targets_by_rule", {"Targets": [target(1)], "NextToken": "page2"}, wanted)
    stubber.add_response("list_targets_by_rule", {"Targets": [target(2)]}, dict(wanted, NextToken="page2"))
    assert common.list_all(client, "list_targets_by_rule", "Targets", **wanted) == [target(1), target(2)]


def test_an_error_that_is_not_transient_is_raised_at_once(events):
    client, stubber = events
    stubber.add_client_error("list_targets_by_rule", service_error_code="AccessDeniedException", http_status_code=400)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        common.list_all(client, "list_targets_by_rule", "Targets", Rule="r")
