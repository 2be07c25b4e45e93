# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters turning the normalised configuration into GPU quota checks (see gpu_catalog)."""

from ansible_collections.eks_llm.inference.plugins.module_utils import gpu_catalog


def gpu_quota_requirements(config):
    """[{quota_code, quota_group, capacity_type, minimum_vcpus, ceiling_vcpus, pools}] for eks_llm."""
    return gpu_catalog.quota_requirements(config["gpu_node_pools"], config["models"])


def gpu_quota_shortfalls(requirements, quotas):
    """{errors: [...], warnings: [...]} comparing requirements with service_quota_info's `quotas`."""
    errors, warnings = gpu_catalog.quota_shortfalls(requirements, quotas)
    return {"errors": errors, "warnings": warnings}


class FilterModule(object):
    def filters(self):
        return {
            "gpu_quota_requirements": gpu_quota_requirements,
            "gpu_quota_shortfalls": gpu_quota_shortfalls,
        }
