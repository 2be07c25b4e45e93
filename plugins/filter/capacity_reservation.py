# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
from ansible_collections.eks_llm.inference.plugins.module_utils import capacity_reservation


def capacity_reservation_problems(pools, lookup, zones):
    """{errors: [...], warnings: [...]} comparing each reserved GPU pool with the reservations its terms select.

    pools are eks_llm.gpu_node_pools, lookup what capacity_reservation_info returned for their capacity_reservations,
    zones the availability zones of the deployment's private subnets. An error names the pool and the reservation:
    an id that does not exist, a reservation that is not active (a scheduled Capacity Block is a warning), of an
    instance type the pool does not have, in a zone without a subnet, or for another platform than Linux/UNIX.
    """
    errors, warnings = capacity_reservation.check(pools, lookup, zones)
    return {"errors": errors, "warnings": warnings}


class FilterModule(object):
    def filters(self):
        return {"capacity_reservation_problems": capacity_reservation_problems}
