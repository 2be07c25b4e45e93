"""DescribeCapacityReservations of the stand-in, through boto3: EC2's shape, its refusals, its filters and pages."""
import datetime

import pytest
from botocore.exceptions import ClientError

from tests.standin.helpers import error_code

ODCR = {"id": "cr-0a1b2c3d4e5f60718", "instance_type": "g5.xlarge", "availability_zone": "us-west-2a", "total_instance_count": 2,
        "tags": {"team": "ml"}}
BLOCK = {"id": "cr-0ffee00000000b10c", "instance_type": "p5.48xlarge", "availability_zone": "us-west-2b", "state": "scheduled",
         "reservation_type": "capacity-block", "start_date": "2026-12-10T11:30:00Z", "end_date": "2026-12-17T11:30:00Z",
         "tags": {"team": "ml", "kind": "block"}}
ELSEWHERE = {"id": "cr-0123456789abcdef0", "instance_type": "g5.xlarge", "availability_zone": "eu-west-1a"}


def test_by_id_in_ec2s_shape_and_only_in_its_region(aws, aws_standin):
    aws_standin.configure(capacity_reservations=[ODCR, BLOCK, ELSEWHERE])
    ec2 = aws("ec2")
    found = ec2.describe_capacity_reservations(CapacityReservationIds=[ODCR["id"]])["CapacityReservations"]
    assert len(found) == 1
    odcr = found[0]
    assert odcr["InstanceType"] == "g5.xlarge" and odcr["AvailabilityZone"] == "us-west-2a" and odcr["State"] == "active"
    assert odcr["ReservationType"] == "default" and odcr["InstancePlatform"] == "Linux/UNIX" and odcr["EndDateType"] == "unlimited"
    assert odcr["TotalInstanceCount"] == 2 and odcr["AvailableInstanceCount"] == 2 and odcr["OwnerId"] == "123456789012"
    assert odcr["CapacityReservationArn"] == "arn:aws:ec2:us-west-2:123456789012:capacity-reservation/" + ODCR["id"]
    assert odcr["Tags"] == [{"Key": "team", "Value": "ml"}]
    block = ec2.describe_capacity_reservations(CapacityReservationIds=[BLOCK["id"]])["CapacityReservations"][0]
    assert block["ReservationType"] == "capacity-block" and block["State"] == "scheduled" and block["EndDateType"] == "limited"
    assert block["StartDate"] == datetime.datetime(2026, 12, 10, 11, 30, tzinfo=datetime.timezone.utc)
    # a reservation of another region is not there, as on EC2
    with pytest.raises(ClientError) as missing:
        ec2.describe_capacity_reservations(CapacityReservationIds=[ODCR["id"], ELSEWHERE["id"]])
    assert error_code(missing) == "InvalidCapacityReservationId.NotFound" and ELSEWHERE["id"] in str(missing.value)
    assert [r["CapacityReservationId"] for r in aws("ec2", region_name="eu-west-1").describe_capacity_reservations()[
        "CapacityReservations"]] == [ELSEWHERE["id"]]


def test_refusals_as_ec2(aws, aws_standin):
    aws_standin.configure(capacity_reservations=[ODCR])
    ec2 = aws("ec2")
    for kwargs, code in (({"CapacityReservationIds": ["cr-zzz"]}, "InvalidCapacityReservationId.Malformed"),
                         ({"CapacityReservationIds": [ODCR["id"]], "MaxResults": 5}, "InvalidParameterCombination"),
                         ({"Filters": [{"Name": "colour", "Values": ["red"]}]}, "InvalidParameterValue")):
        with pytest.raises(ClientError) as refused:
            ec2.describe_capacity_reservations(**kwargs)
        assert error_code(refused) == code, kwargs
    with pytest.raises(ValueError):
        aws_standin.configure(capacity_reservations=[{"id": "cr-1", "instance_type": "g5.xlarge", "availability_zone": "us-west-2a"}])
    with pytest.raises(ValueError):
        aws_standin.configure(capacity_reservations=[dict(BLOCK, end_date="")])


def test_filters_and_pages(aws, aws_standin):
    others = [{"id": "cr-%017x" % n, "instance_type": "g6.xlarge", "availability_zone": "us-west-2c", "tags": {"team": "ml"}}
              for n in range(1, 6)]
    aws_standin.configure(capacity_reservations=[ODCR, BLOCK] + others)
    ec2 = aws("ec2")

    def ids(**kwargs):
        pages = ec2.get_paginator("describe_capacity_reservations").paginate(**kwargs)
        return [r["CapacityReservationId"] for page in pages for r in page["CapacityReservations"]]

    assert ids(Filters=[{"Name": "tag:kind", "Values": ["block"]}]) == [BLOCK["id"]]
    assert ids(Filters=[{"Name": "tag-key", "Values": ["kind"]}]) == [BLOCK["id"]]
    assert ids(Filters=[{"Name": "state", "Values": ["active"]}, {"Name": "instance-type", "Values": ["g5.xlarge"]}]) == [ODCR["id"]]
    assert ids(Filters=[{"Name": "owner-id", "Values": ["999999999999"]}]) == []
    every = ids(Filters=[{"Name": "tag:team", "Values": ["ml"]}], PaginationConfig={"PageSize": 2})
    assert every == [ODCR["id"], BLOCK["id"]] + [o["id"] for o in others]
    first = ec2.describe_capacity_reservations(MaxResults=3)
    assert len(first["CapacityReservations"]) == 3 and first["NextToken"]
