# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Unit tests of eks_llm.inference.capacity_reservation_info (moto has no capacity reservations: a botocore Stubber)."""
import datetime

import pytest

from ansible_collections.eks_llm.inference.plugins.modules import capacity_reservation_info as cri
from ansible_collections.eks_llm.inference.tests.unit.plugins.modules.utils import ModuleRunner

RUN = ModuleRunner(cri.main, region="us-west-2")
BLOCK_ID = "cr-0a1b2c3d4e5f60718"
ODCR_ID = "cr-0123456789abcdef0"
GONE_ID = "cr-0000000000000dead"


def reservation(rid, instance_type="g5.xlarge", zone="us-west-2a", state="active", kind="default", tags=None, **extra):
    found = {"CapacityReservationId": rid, "OwnerId": "123456789012", "InstanceType": instance_type, "InstancePlatform": "Linux/UNIX",
             "AvailabilityZone": zone, "State": state, "ReservationType": kind, "TotalInstanceCount": 2, "AvailableInstanceCount": 2,
             "InstanceMatchCriteria": "targeted", "Tags": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())]}
    found.update(extra)
    return found


BLOCK = reservation(BLOCK_ID, "p5.48xlarge", state="scheduled", kind="capacity-block",
                    StartDate=datetime.datetime(2026, 12, 10, 11, 30, tzinfo=datetime.timezone.utc),
                    EndDate=datetime.datetime(2026, 12, 17, 11, 30, tzinfo=datetime.timezone.utc))


@pytest.fixture
def stubbed(stubbed_client):
    return stubbed_client("ec2")[1]


def not_found(stubber, ids):
    stubber.add_client_error("describe_capacity_reservations", service_error_code="InvalidCapacityReservationId.NotFound",
                             service_message="The capacity reservation ID '%s' does not exist" % ids[-1], http_status_code=400,
                             expected_params={"CapacityReservationIds": ids})


def test_ids_in_one_call_and_tag_terms_page_by_page(stubbed):
    stubbed.add_response("describe_capacity_reservations", {"CapacityReservations": [BLOCK]},
                         {"CapacityReservationIds": [BLOCK_ID]})
    tag_filters = [{"Name": "tag-key", "Values": ["purpose"]}, {"Name": "tag:team", "Values": ["ml"]},
                   {"Name": "owner-id", "Values": ["123456789012"]}]
    stubbed.add_response("describe_capacity_reservations", {"CapacityReservations": [reservation(ODCR_ID, tags={"team": "ml"})],
                                                            "NextToken": "page-2"}, {"Filters": tag_filters})
    stubbed.add_response("describe_capacity_reservations", {"CapacityReservations": [reservation("cr-0123456789abcdef1")]},
                         {"Filters": tag_filters, "NextToken": "page-2"})
    result = RUN({"selector_terms": [{"id": BLOCK_ID}, {"tags": {"team": "ml", "purpose": "*"}, "owner_id": "123456789012"}]},
                 check_mode=True)
    assert result["changed"] is False
    assert [t["capacity_reservation_ids"] for t in result["selector_terms"]] == [[BLOCK_ID], [ODCR_ID, "cr-0123456789abcdef1"]]
    assert all(t["found"] for t in result["selector_terms"])
    block = result["capacity_reservations"][BLOCK_ID]
    assert block["reservation_type"] == "capacity-block" and block["state"] == "scheduled" and block["instance_type"] == "p5.48xlarge"
    assert block["start_date"] == "2026-12-10T11:30:00+00:00" and block["tags"] == {}
    assert result["capacity_reservations"][ODCR_ID]["tags"] == {"team": "ml"}
    stubbed.assert_no_pending_responses()


def test_a_missing_id_is_reported_not_failed_and_the_others_still_read(stubbed):
    not_found(stubbed, [GONE_ID, BLOCK_ID])
    not_found(stubbed, [GONE_ID])
    stubbed.add_response("describe_capacity_reservations", {"CapacityReservations": [BLOCK]}, {"CapacityReservationIds": [BLOCK_ID]})
    result = RUN({"selector_terms": [{"id": GONE_ID}, {"id": BLOCK_ID}]})
    assert [(t["term"]["id"], t["found"]) for t in result["selector_terms"]] == [(GONE_ID, False), (BLOCK_ID, True)]
    assert list(result["capacity_reservations"]) == [BLOCK_ID]
    stubbed.assert_no_pending_responses()


def test_a_tag_term_that_selects_nothing_is_not_found(stubbed):
    stubbed.add_response("describe_capacity_reservations", {"CapacityReservations": []},
                         {"Filters": [{"Name": "tag:team", "Values": ["nobody"]}]})
    result = RUN({"selector_terms": [{"tags": {"team": "nobody"}}]})
    assert result["selector_terms"][0]["found"] is False and result["capacity_reservations"] == {}


def test_other_errors_fail_with_the_aws_message(stubbed):
    stubbed.add_client_error("describe_capacity_reservations", service_error_code="UnauthorizedOperation",
                             service_message="You are not authorized to perform this operation.", http_status_code=403)
    result = RUN.failing({"selector_terms": [{"id": BLOCK_ID}]})
    assert result["msg"].startswith("Failed to describe the capacity reservations: ") and "not authorized" in result["msg"]
    assert result["error"]["code"] == "UnauthorizedOperation"


@pytest.mark.parametrize("term, message", [
    ({"id": BLOCK_ID, "tags": {"team": "ml"}}, "id cannot be combined with tags or owner_id"),
    ({"owner_id": "123456789012"}, "give id, or tags"),
])
def test_terms_karpenter_would_refuse_are_refused_before_any_call(stubbed, term, message):
    result = RUN.failing({"selector_terms": [term]})
    assert message in result["msg"]
    stubbed.assert_no_pending_responses()
