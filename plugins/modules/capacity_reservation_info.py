#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: capacity_reservation_info
version_added: 0.1.0
short_description: Read the EC2 capacity reservations that Karpenter capacity reservation selector terms select
description:
  - Reads On-Demand Capacity Reservations and Capacity Blocks with EC2 C(DescribeCapacityReservations), term by term
    as Karpenter's EC2NodeClass C(capacityReservationSelectorTerms) select them - for example in a preflight, before
    a GPU pool with capacity type C(reserved) is deployed.
  - A term with O(selector_terms[].id) names one reservation. All such ids are read in one call; when EC2 answers
    C(InvalidCapacityReservationId.NotFound) each is read on its own, so that every missing id is reported (in
    RV(selector_terms[].found)) instead of failing the module.
  - A term with O(selector_terms[].tags) (and optionally O(selector_terms[].owner_id)) selects every reservation
    with those tags, read page by page.
  - Unlike Karpenter, reservations are read in every state (not only C(active)), so that a caller can say why one
    cannot be used (expired, cancelled, a Capacity Block still C(scheduled)).
  - Only reads; never reports a change.
author:
  - eks_llm maintainers (@eks-llm)
options:
  selector_terms:
    description:
      - The terms, each either an id alone, or tags with an optional owner.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description:
          - Id of one capacity reservation (C(cr-...)). Cannot be combined with O(selector_terms[].tags) or
            O(selector_terms[].owner_id).
        type: str
      tags:
        description:
          - Tags every selected reservation has (EC2 filters C(tag:<key>)); the value C(*) selects any value of the key
            (filter C(tag-key)).
        type: dict
      owner_id:
        description:
          - With O(selector_terms[].tags), only reservations owned by this AWS account (filter C(owner-id)), for
            reservations shared with the caller's account.
        type: str
notes:
  - Supports check mode.
  - Reservations are per region; set O(region) to the region of the cluster.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read a Capacity Block and every ODCR of the ML team
  eks_llm.inference.capacity_reservation_info:
    region: us-west-2
    selector_terms:
      - id: cr-0a1b2c3d4e5f60718
      - tags:
          team: ml-platform
        owner_id: "123456789012"
  register: reservations

- name: Fail when the Capacity Block does not exist
  ansible.builtin.assert:
    that: reservations.selector_terms[0].found
    fail_msg: cr-0a1b2c3d4e5f60718 does not exist in us-west-2

- name: Show what each ODCR of the team reserves
  ansible.builtin.debug:
    msg: >-
      {{ item }}: {{ reservations.capacity_reservations[item].total_instance_count }} x
      {{ reservations.capacity_reservations[item].instance_type }} in
      {{ reservations.capacity_reservations[item].availability_zone }}
      ({{ reservations.capacity_reservations[item].state }})
  loop: "{{ reservations.selector_terms[1].capacity_reservation_ids }}"
"""

RETURN = r"""
selector_terms:
  description: One entry per term of O(selector_terms), in the same order.
  returned: always
  type: list
  elements: dict
  contains:
    term:
      description: The term as given (id, tags, owner_id; unset keys empty).
      returned: always
      type: dict
      sample: {"id": "cr-0a1b2c3d4e5f60718", "tags": {}, "owner_id": ""}
    found:
      description: Whether the term selects at least one reservation (for an id term, whether the id exists).
      returned: always
      type: bool
      sample: true
    capacity_reservation_ids:
      description: Ids of the reservations the term selects, keys of RV(capacity_reservations).
      returned: always
      type: list
      elements: str
      sample: ["cr-0a1b2c3d4e5f60718"]
capacity_reservations:
  description: Every reservation a term selects, keyed by id (EC2's CapacityReservation in snake_case).
  returned: always
  type: dict
  sample:
    cr-0a1b2c3d4e5f60718:
      capacity_reservation_id: cr-0a1b2c3d4e5f60718
      instance_type: p5.48xlarge
      availability_zone: us-west-2a
      state: scheduled
      reservation_type: capacity-block
      total_instance_count: 2
      available_instance_count: 2
      start_date: "2026-12-10T11:30:00+00:00"
      end_date: "2026-12-17T11:30:00+00:00"
      tags: {team: ml-platform}
  contains:
    capacity_reservation_id:
      description: Id of the reservation.
      returned: always
      type: str
      sample: cr-0a1b2c3d4e5f60718
    owner_id:
      description: AWS account that owns the reservation.
      returned: always
      type: str
      sample: "123456789012"
    instance_type:
      description: The instance type the reservation reserves.
      returned: always
      type: str
      sample: p5.48xlarge
    instance_platform:
      description: The platform (operating system) the reservation is for, e.g. C(Linux/UNIX).
      returned: always
      type: str
      sample: Linux/UNIX
    availability_zone:
      description: The zone of the reservation.
      returned: always
      type: str
      sample: us-west-2a
    state:
      description: C(active), C(scheduled) (a Capacity Block before its start), C(expired), C(cancelled), C(pending), ...
      returned: always
      type: str
      sample: active
    reservation_type:
      description: C(default) (On-Demand Capacity Reservation) or C(capacity-block).
      returned: always
      type: str
      sample: capacity-block
    instance_match_criteria:
      description: C(open) or C(targeted).
      returned: always
      type: str
      sample: targeted
    total_instance_count:
      description: Instances the reservation holds.
      returned: always
      type: int
      sample: 2
    available_instance_count:
      description: Instances that can still be launched into it.
      returned: always
      type: int
      sample: 2
    start_date:
      description: When the reservation starts (ISO 8601), if EC2 gives it.
      returned: when known
      type: str
      sample: "2026-12-10T11:30:00+00:00"
    end_date:
      description: When the reservation ends (ISO 8601); none for an ODCR without end.
      returned: when limited
      type: str
      sample: "2026-12-17T11:30:00+00:00"
    tags:
      description: The reservation's tags as a dict.
      returned: always
      type: dict
      sample: {team: ml-platform}
"""

import datetime

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.eks_llm.inference.plugins.module_utils.common import AnsibleEKSModule
from ansible_collections.eks_llm.inference.plugins.module_utils.common import aws_retry

NOT_FOUND = "InvalidCapacityReservationId.NotFound"


def describe_by_ids(client, ids):
    """{id: reservation} of the ids that exist. EC2 refuses the whole call for one unknown id, so a refused batch is
    read again one id at a time. (MaxResults cannot be combined with ids: one page.)"""
    try:
        found = client.describe_capacity_reservations(CapacityReservationIds=ids, aws_retry=True)["CapacityReservations"]
        return dict((r["CapacityReservationId"], r) for r in found)
    except is_boto3_error_code(NOT_FOUND):
        if len(ids) == 1:
            return {}
    result = {}
    for one in ids:
        result.update(describe_by_ids(client, [one]))
    return result


def tag_filters(term):
    """EC2 filters of a tags (+ owner) term, as Karpenter builds them."""
    filters = []
    for key, value in sorted((term.get("tags") or {}).items()):
        if value == "*":
            filters.append({"Name": "tag-key", "Values": [key]})
        else:
            filters.append({"Name": "tag:%s" % key, "Values": [str(value)]})
    if term.get("owner_id"):
        filters.append({"Name": "owner-id", "Values": [term["owner_id"]]})
    return filters


@aws_retry()
def describe_by_tags(client, term):
    paginator = client.get_paginator("describe_capacity_reservations")
    return paginator.paginate(Filters=tag_filters(term)).build_full_result()["CapacityReservations"]


def shape(reservation):
    """EC2's CapacityReservation in snake_case, tags as a dict, dates as ISO 8601 text."""
    tags = boto3_tag_list_to_ansible_dict(reservation.get("Tags") or [])
    plain = dict((key, value.isoformat() if isinstance(value, datetime.datetime) else value)
                 for key, value in reservation.items() if key != "Tags")
    return dict(camel_dict_to_snake_dict(plain), tags=tags)


@AWSErrorHandler.common_error_handler("describe the capacity reservations")
def select(client, terms):
    """(reservations keyed by id, one selection per term) of the terms, as Karpenter selects them."""
    ids = sorted(set(t["id"] for t in terms if t["id"]))
    by_id = describe_by_ids(client, ids) if ids else {}
    reservations, selected = dict(by_id), []
    for term in terms:
        if term["id"]:
            chosen = [term["id"]] if term["id"] in by_id else []
        else:
            found = describe_by_tags(client, term)
            reservations.update((r["CapacityReservationId"], r) for r in found)
            chosen = [r["CapacityReservationId"] for r in found]
        selected.append({"term": term, "found": bool(chosen), "capacity_reservation_ids": chosen})
    return reservations, selected


def validate_terms(module, terms):
    for index, term in enumerate(terms):
        if term.get("id") and (term.get("tags") or term.get("owner_id")):
            module.fail_json(msg="selector_terms[%d]: id cannot be combined with tags or owner_id" % index)
        if not term.get("id") and not term.get("tags"):
            module.fail_json(msg="selector_terms[%d]: give id, or tags (with an optional owner_id)" % index)


def main():
    module = AnsibleEKSModule(
        argument_spec=dict(
            selector_terms=dict(type="list", elements="dict", required=True, options=dict(
                id=dict(type="str"),
                tags=dict(type="dict"),
                owner_id=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    terms = [{"id": t.get("id") or "", "tags": t.get("tags") or {}, "owner_id": t.get("owner_id") or ""}
             for t in module.params["selector_terms"]]
    validate_terms(module, terms)
    try:
        reservations, selected = select(module.retrying_client("ec2"), terms)
    except AnsibleAWSError as error:
        module.fail_json_aws_error(error)
    module.exit_json(changed=False, selector_terms=selected,
                     capacity_reservations=dict((rid, shape(r)) for rid, r in reservations.items()))


if __name__ == "__main__":
    main()
