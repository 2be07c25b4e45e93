"""EC2 DescribeCapacityReservations - moto 5.2.5 has no capacity reservations at all.

An account's On-Demand Capacity Reservations and Capacity Blocks are bought outside the collection (which only reads
them), so they are settings, not state: configure(capacity_reservations=[{...}]), one mapping per reservation with

    id (cr- + 17 hex digits), instance_type, availability_zone (the region is its prefix)      required
    state (active), reservation_type (default | capacity-block), total_instance_count (1),
    available_instance_count (= total), instance_platform (Linux/UNIX), instance_match_criteria (open),
    owner_id (the caller's account), tags ({}), start_date / end_date (ISO 8601; a Capacity Block has both)

DescribeCapacityReservations answers as EC2 does: only the reservations of the request's region; CapacityReservationIds
must all exist there (InvalidCapacityReservationId.NotFound names the first that does not; a malformed id is
InvalidCapacityReservationId.Malformed); MaxResults (1-1000) cannot be combined with ids; filters state,
instance-type, availability-zone, owner-id, instance-platform, tenancy, end-date-type, instance-match-criteria,
tag:<key> and tag-key (an unknown filter is InvalidParameterValue); results in pages with NextToken.
"""
import datetime
import re

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.responses import EC2Response
from moto.core.responses import ActionResult

from . import config

ID_RE = re.compile(r"^cr-[0-9a-f]{17}$")
ZONE_RE = re.compile(r"^([a-z]{2}(-[a-z]+)+-[0-9])[a-z]$")
STATES = ("active", "expired", "cancelled", "pending", "failed", "scheduled", "payment-pending", "payment-failed",
          "assessing", "delayed", "unsupported", "cancelling", "unavailable")
TYPES = ("default", "capacity-block")
# filter name -> the reservation's field it compares
FILTERS = {"state": "state", "instance-type": "instance_type", "availability-zone": "availability_zone", "owner-id": "owner_id",
           "instance-platform": "instance_platform", "tenancy": "tenancy", "end-date-type": "end_date_type",
           "instance-match-criteria": "instance_match_criteria"}
REQUIRED = ("id", "instance_type", "availability_zone")
KNOWN = REQUIRED + ("state", "reservation_type", "total_instance_count", "available_instance_count", "instance_platform",
                    "instance_match_criteria", "owner_id", "tags", "start_date", "end_date", "tenancy")


def validate(reservations):
    """The configure() value, checked and with defaults; raises ValueError on a reservation EC2 could not have."""
    checked = []
    for entry in reservations or []:
        missing = [key for key in REQUIRED if not entry.get(key)]
        unknown = sorted(set(entry) - set(KNOWN))
        if missing or unknown:
            raise ValueError("capacity_reservations: %r: missing %s, unknown %s; known keys: %s" % (entry, missing, unknown, ", ".join(KNOWN)))
        if not ID_RE.match(entry["id"]) or not ZONE_RE.match(entry["availability_zone"]):
            raise ValueError("capacity_reservations: %s / %s: an id is cr- and 17 hex digits, a zone like us-west-2a"
                             % (entry["id"], entry["availability_zone"]))
        reservation = dict({"state": "active", "reservation_type": "default", "total_instance_count": 1, "instance_platform": "Linux/UNIX",
                            "instance_match_criteria": "open", "owner_id": "", "tags": {}, "start_date": "", "end_date": "",
                            "tenancy": "default"}, **entry)
        reservation.setdefault("available_instance_count", reservation["total_instance_count"])
        if reservation["state"] not in STATES or reservation["reservation_type"] not in TYPES:
            raise ValueError("capacity_reservations: %s: state one of %s, reservation_type one of %s" % (entry["id"], STATES, TYPES))
        if reservation["reservation_type"] == "capacity-block" and not (reservation["start_date"] and reservation["end_date"]):
            raise ValueError("capacity_reservations: %s: a Capacity Block has a start_date and an end_date" % entry["id"])
        checked.append(reservation)
    return checked


def _date(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _shape(reservation, region, account, partition):
    """The reservation as EC2's CapacityReservation."""
    owner = reservation["owner_id"] or account
    found = {
        "CapacityReservationId": reservation["id"],
        "OwnerId": owner,
        "CapacityReservationArn": "arn:%s:ec2:%s:%s:capacity-reservation/%s" % (partition, region, owner, reservation["id"]),
        "AvailabilityZoneId": "%s-az%d" % (region.split("-")[0] + region.split("-")[1][0] + region[-1], ord(reservation["availability_zone"][-1]) - 96),
        "InstanceType": reservation["instance_type"],
        "InstancePlatform": reservation["instance_platform"],
        "AvailabilityZone": reservation["availability_zone"],
        "Tenancy": reservation["tenancy"],
        "TotalInstanceCount": reservation["total_instance_count"],
        "AvailableInstanceCount": reservation["available_instance_count"],
        "EbsOptimized": True,
        "EphemeralStorage": False,
        "State": reservation["state"],
        "EndDateType": "limited" if reservation["end_date"] else "unlimited",
        "InstanceMatchCriteria": reservation["instance_match_criteria"],
        "CreateDate": _date(reservation["start_date"]) or datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc),
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(reservation["tags"].items())],
        "ReservationType": reservation["reservation_type"],
    }
    if reservation["start_date"]:
        found["StartDate"] = _date(reservation["start_date"])
    if reservation["end_date"]:
        found["EndDate"] = _date(reservation["end_date"])
    if reservation["reservation_type"] == "capacity-block":
        found["CapacityBlockId"] = "cb-" + reservation["id"][3:]
    return found


def _matches(reservation, filters, account):
    for name, values in filters.items():
        if name.startswith("tag:"):
            if reservation["tags"].get(name[4:]) not in values:
                return False
        elif name == "tag-key":
            if not set(values) & set(reservation["tags"]):
                return False
        elif name == "owner-id":
            if (reservation["owner_id"] or account) not in values:
                return False
        elif name == "end-date-type":
            if ("limited" if reservation["end_date"] else "unlimited") not in values:
                return False
        elif reservation[FILTERS[name]] not in values:
            return False
    return True


def describe_capacity_reservations(self):
    ids = self._get_param("CapacityReservationIds", [])
    filters = self._filters_from_querystring()
    limit = self._get_param("MaxResults")
    token = self._get_param("NextToken")
    for name in filters:
        if name not in FILTERS and name != "tag-key" and not name.startswith("tag:"):
            raise EC2ClientError("InvalidParameterValue", "The filter '%s' is invalid" % name)
    if ids and limit is not None:
        raise EC2ClientError("InvalidParameterCombination", "The parameter CapacityReservationIds cannot be used with the parameter MaxResults")
    if limit is not None and not 1 <= int(limit) <= 1000:
        raise EC2ClientError("InvalidParameterValue", "Value ( %s ) for parameter maxResults is invalid. Expecting a value between 1 and 1000." % limit)
    region = self.region
    in_region = [r for r in config.get("capacity_reservations") if ZONE_RE.match(r["availability_zone"]).group(1) == region]
    for rid in ids:
        if not re.match(r"^cr-[0-9a-f]+$", rid):
            raise EC2ClientError("InvalidCapacityReservationId.Malformed", "Invalid id: \"%s\"" % rid)
        if rid not in [r["id"] for r in in_region]:
            raise EC2ClientError("InvalidCapacityReservationId.NotFound", "The capacity reservation ID '%s' does not exist" % rid)
    chosen = [r for r in in_region if (not ids or r["id"] in ids) and _matches(r, filters, self.current_account)]
    start = int(token or 0)
    end = start + int(limit) if limit is not None else len(chosen)
    result = {"CapacityReservations": [_shape(r, region, self.current_account, self.partition) for r in chosen[start:end]]}
    if end < len(chosen):
        result["NextToken"] = str(end)
    return ActionResult(result)


def install():
    if not getattr(getattr(EC2Response, "describe_capacity_reservations", None), "standin", False):
        describe_capacity_reservations.standin = True
        EC2Response.describe_capacity_reservations = describe_capacity_reservations
