# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Preflight's comparison of reserved GPU pools with the reservations capacity_reservation_info read."""
import copy

from ansible_collections.eks_llm.inference.plugins.filter.capacity_reservation import capacity_reservation_problems
from ansible_collections.eks_llm.inference.plugins.module_utils import inventory_model

ZONES = ["us-west-2a", "us-west-2b"]
ODCR = "cr-0a1b2c3d4e5f60718"
BLOCK = "cr-0ffee00000000b10c"


def pool(capacity_types=("reserved", "on-demand"), terms=({"id": ODCR},), **changes):
    """A GPU pool as the validator normalises it."""
    config, problems, dummy = inventory_model.validate({
        "eks_llm_name": "demo", "eks_llm_region": "us-west-2",
        "eks_llm_gpu_node_pools": [dict({"name": "gpu-g5", "instance_types": ["g5.xlarge", "g5.2xlarge"],
                                         "capacity_types": list(capacity_types), "capacity_reservations": list(terms)}, **changes)]})
    assert problems == []
    return config["gpu_node_pools"][0]


def reservation(rid, instance_type="g5.xlarge", zone="us-west-2a", state="active", kind="default", platform="Linux/UNIX", **extra):
    return dict({"capacity_reservation_id": rid, "instance_type": instance_type, "availability_zone": zone, "state": state,
                 "reservation_type": kind, "instance_platform": platform, "total_instance_count": 2}, **extra)


def lookup(*entries):
    """capacity_reservation_info's answer: entries are (term, [reservations])."""
    terms = [{"term": dict({"id": "", "tags": {}, "owner_id": ""}, **term), "found": bool(found),
              "capacity_reservation_ids": [r["capacity_reservation_id"] for r in found]} for term, found in entries]
    return {"selector_terms": terms, "capacity_reservations": dict((r["capacity_reservation_id"], r) for dummy, found in entries for r in found)}


def test_a_matching_active_reservation_passes():
    report = capacity_reservation_problems([pool()], lookup(({"id": ODCR}, [reservation(ODCR)])), ZONES)
    assert report == {"errors": [], "warnings": []}


def test_a_missing_id_names_pool_and_reservation():
    report = capacity_reservation_problems([pool()], lookup(({"id": ODCR}, [])), ZONES)
    assert report["errors"] == ["GPU node pool gpu-g5, capacity reservation %s: does not exist in this account and region"
                                " (EC2: InvalidCapacityReservationId.NotFound)" % ODCR]


def test_every_mismatch_is_said_at_once():
    wrong = reservation(ODCR, instance_type="g6.xlarge", zone="us-west-2c", state="expired", platform="Windows")
    errors = capacity_reservation_problems([pool()], lookup(({"id": ODCR}, [wrong])), ZONES)["errors"]
    assert len(errors) == 1
    text = errors[0]
    assert text.startswith("GPU node pool gpu-g5, capacity reservation %s: %s (On-Demand Capacity Reservation, expired, 2 x g6.xlarge"
                           " in us-west-2c)" % (ODCR, ODCR))
    for reason in ("is expired (Karpenter launches only into active reservations)",
                   "reserves g6.xlarge, which is not one of the pool's instance types (g5.xlarge, g5.2xlarge)",
                   "is in us-west-2c, where the deployment has no subnet (zones: us-west-2a, us-west-2b)",
                   "is for platform Windows; the nodes run Linux/UNIX"):
        assert reason in text


def test_a_scheduled_capacity_block_passes_with_its_start_but_a_scheduled_odcr_does_not():
    block = reservation(BLOCK, state="scheduled", kind="capacity-block", start_date="2026-12-10T11:30:00+00:00")
    reserved_only = pool(capacity_types=["reserved"], terms=[{"id": BLOCK}])
    report = capacity_reservation_problems([reserved_only], lookup(({"id": BLOCK}, [block])), ZONES)
    assert report["errors"] == []
    assert report["warnings"] == ["GPU node pool gpu-g5: Capacity Block %s is scheduled, not active yet: Karpenter launches into it"
                                  " from 2026-12-10T11:30:00+00:00 (until then the pool gets no nodes)" % BLOCK]
    fallback = capacity_reservation_problems([pool(terms=[{"id": BLOCK}])], lookup(({"id": BLOCK}, [block])), ZONES)["warnings"]
    assert "(until then the pool uses on-demand capacity)" in fallback[0]
    odcr = capacity_reservation_problems([pool()], lookup(({"id": ODCR}, [reservation(ODCR, state="scheduled")])), ZONES)
    assert "is scheduled (Karpenter launches only into active reservations)" in odcr["errors"][0]


def test_a_tag_term_needs_one_usable_reservation_and_lists_the_ones_karpenter_skips():
    term = {"tags": {"team": "ml"}}
    tagged = pool(terms=[term])
    usable, other = reservation(ODCR), reservation(BLOCK, instance_type="p5.48xlarge")
    report = capacity_reservation_problems([tagged], lookup((term, [usable, other])), ZONES)
    assert report["errors"] == []
    assert len(report["warnings"]) == 1 and "capacity reservation tags team=ml: skipped by Karpenter: %s" % BLOCK in report["warnings"][0]
    none_usable = capacity_reservation_problems([tagged], lookup((term, [other])), ZONES)
    assert len(none_usable["errors"]) == 1 and "reserves p5.48xlarge" in none_usable["errors"][0]
    nothing = capacity_reservation_problems([tagged], lookup((term, [])), ZONES)
    assert nothing["errors"] == ["GPU node pool gpu-g5, capacity reservation tags team=ml: selects no capacity reservation in this region"]


def test_pools_without_reservations_are_not_looked_at():
    plain = copy.deepcopy(pool())
    plain.update(capacity_types=["on-demand"], capacity_reservations=[])
    assert capacity_reservation_problems([plain], lookup(), ZONES) == {"errors": [], "warnings": []}
