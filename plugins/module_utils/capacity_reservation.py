# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.
"""Reserved GPU capacity: the rules of a pool's capacity reservation selector terms and the preflight comparison of
the reservations they select with the pool.

A GPU pool with capacity type ``reserved`` launches into On-Demand Capacity Reservations or Capacity Blocks that its
node class selects (Karpenter's EC2NodeClass ``capacityReservationSelectorTerms``: a term is either an ``id`` alone,
or ``tags`` with an optional ``ownerID``). The limits below are those of the EC2NodeClass CRD of the pinned Karpenter
(aws/karpenter-provider-aws v1.14.3, pkg/apis/v1/ec2nodeclass.go).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# The CRD's patterns and limits
ID_RE = re.compile(r"^cr-[0-9a-z]+$")
OWNER_ID_RE = re.compile(r"^[0-9]{12}$")
MAX_TERMS = 30
MAX_TAGS = 20
# Karpenter lists reservations with the filter state=active (pkg/providers/capacityreservation/types.go) and launches
# only into those; a Capacity Block bought for later is `scheduled` until its start date.
USABLE_STATE = "active"
CAPACITY_BLOCK = "capacity-block"
# The node images the collection uses (AL2023, Bottlerocket) run as Linux/UNIX: a reservation for another platform
# never matches their instances.
PLATFORM = "Linux/UNIX"


def selector_terms(reservations):
    """The inventory's capacity_reservations in the EC2NodeClass's form (capacityReservationSelectorTerms)."""
    terms = []
    for entry in reservations or []:
        if entry.get("id"):
            terms.append({"id": entry["id"]})
        else:
            term = {"tags": dict((str(k), str(v)) for k, v in (entry.get("tags") or {}).items())}
            if entry.get("owner_id"):
                term["ownerID"] = entry["owner_id"]
            terms.append(term)
    return terms


def check_terms(problems, where, reservations):
    """Every rule the CRD (and EC2) enforce on the terms, as problems 'where[i]: ...'."""
    if len(reservations) > MAX_TERMS:
        problems.add(where, "%d terms given; Karpenter's EC2NodeClass allows at most %d" % (len(reservations), MAX_TERMS))
    seen = set()
    for index, entry in enumerate(reservations):
        at = "%s[%d]" % (where, index)
        rid, tags, owner = entry.get("id") or "", entry.get("tags") or {}, entry.get("owner_id") or ""
        if rid and (tags or owner):
            problems.add(at, "give either id, or tags (with an optional owner_id); an id selects exactly one reservation and"
                         " cannot be combined with other keys")
        elif not rid and not tags:
            problems.add(at, "give id (cr-...) or tags (with an optional owner_id)%s"
                         % ("; owner_id alone selects nothing" if owner else ""))
        if rid and not ID_RE.match(rid):
            problems.add(at + ".id", "%r is not a capacity reservation id: 'cr-' followed by lowercase letters and digits,"
                         " e.g. cr-0123456789abcdef0" % rid)
        if rid and rid in seen:
            problems.add(at + ".id", "%s is listed twice" % rid)
        seen.add(rid or None)
        if owner and not OWNER_ID_RE.match(str(owner)):
            problems.add(at + ".owner_id", "%r is not an AWS account id (12 digits)" % (owner,))
        if len(tags) > MAX_TAGS:
            problems.add(at + ".tags", "%d tags given; at most %d per term" % (len(tags), MAX_TAGS))
        empty = sorted(str(k) for k, v in tags.items() if str(k) == "" or v is None or str(v) == "")
        if empty:
            problems.add(at + ".tags", "empty tag keys or values are not supported (%s); use '*' to select any value of a key"
                         % ", ".join(repr(k) for k in empty))


def term_label(term):
    """A term as a person reads it: cr-..., or tags k=v (owner n)."""
    if term.get("id"):
        return term["id"]
    tags = ", ".join("%s=%s" % (k, v) for k, v in sorted((term.get("tags") or {}).items()))
    owner = term.get("owner_id") or term.get("ownerID")
    return "tags %s%s" % (tags, " (owner %s)" % owner if owner else "")


def _fits(pool, reservation, zones):
    """What keeps the pool from launching into the reservation, as reasons; [] when it can."""
    reasons = []
    state, kind = reservation.get("state"), reservation.get("reservation_type") or "default"
    if state != USABLE_STATE and not (state == "scheduled" and kind == CAPACITY_BLOCK):
        reasons.append("is %s (Karpenter launches only into active reservations)" % state)
    if reservation.get("instance_type") not in pool["resolved_instance_types"]:
        reasons.append("reserves %s, which is not one of the pool's instance types (%s)"
                       % (reservation.get("instance_type"), ", ".join(pool["resolved_instance_types"])))
    if zones and reservation.get("availability_zone") not in zones:
        reasons.append("is in %s, where the deployment has no subnet (zones: %s)"
                       % (reservation.get("availability_zone"), ", ".join(zones)))
    if reservation.get("instance_platform") and reservation["instance_platform"] != PLATFORM:
        reasons.append("is for platform %s; the nodes run %s" % (reservation["instance_platform"], PLATFORM))
    return reasons


def _describe(reservation):
    kind = "Capacity Block" if reservation.get("reservation_type") == CAPACITY_BLOCK else "On-Demand Capacity Reservation"
    return "%s (%s, %s, %s x %s in %s)" % (reservation["capacity_reservation_id"], kind, reservation.get("state"),
                                           reservation.get("total_instance_count"), reservation.get("instance_type"),
                                           reservation.get("availability_zone"))


def check(pools, lookup, zones):
    """Compare each reserved pool with the reservations its terms select.

    ``lookup`` is what capacity_reservation_info returns (``selector_terms``: per term the ids it found or whether the
    id exists; ``capacity_reservations``: the reservations by id); ``zones`` are the zones of the deployment's
    private subnets. Returns (errors, warnings), each a list of sentences naming the pool and the reservation.
    """
    errors, warnings = [], []
    found = dict((term_label(entry["term"]), entry) for entry in lookup.get("selector_terms") or [])
    reservations = lookup.get("capacity_reservations") or {}
    for pool in pools:
        for term in pool.get("capacity_reservations") or []:
            label = term_label(term)
            entry = found.get(label)
            where = "GPU node pool %s, capacity reservation %s" % (pool["name"], label)
            if entry is None:
                errors.append("%s: not looked up" % where)
                continue
            if not entry.get("capacity_reservation_ids"):
                errors.append("%s: %s" % (where, "does not exist in this account and region (EC2: InvalidCapacityReservationId.NotFound)"
                                          if term.get("id") else "selects no capacity reservation in this region"))
                continue
            usable, unfit = 0, []
            for rid in entry["capacity_reservation_ids"]:
                reservation = reservations[rid]
                reasons = _fits(pool, reservation, zones)
                if reasons:
                    unfit.append("%s %s" % (_describe(reservation), "; ".join(reasons)))
                    continue
                usable += 1
                if reservation.get("state") == "scheduled":
                    fallback = [c for c in pool["capacity_types"] if c != "reserved"]
                    warnings.append("GPU node pool %s: Capacity Block %s is scheduled, not active yet: Karpenter launches into"
                                    " it from %s (until then the pool %s)" % (
                                        pool["name"], rid, reservation.get("start_date"),
                                        "uses %s capacity" % " or ".join(fallback) if fallback else "gets no nodes"))
            if term.get("id") or not usable:
                # an id names a reservation for this pool; a tag term must select at least one the pool can use
                errors.extend("%s: %s" % (where, sentence) for sentence in unfit)
            else:
                # a tag term may also select reservations meant for other pools: Karpenter skips those
                warnings.extend("%s: skipped by Karpenter: %s" % (where, sentence) for sentence in unfit)
    return errors, warnings
