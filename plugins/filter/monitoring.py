# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters exposing the observability layer's object model (plugins/module_utils/monitoring.py) to the roles."""

from ansible_collections.eks_llm.inference.plugins.module_utils import monitoring
from ansible_collections.eks_llm.inference.plugins.module_utils import wiring


def monitoring_plan(settings):
    """Releases, objects and wiring expectations of the monitoring role, from its settings."""
    return monitoring.plan(settings)


def logging_plan(settings):
    """The Fluent Bit release of the logging role, from its settings."""
    return monitoring.logging_plan(settings)


def layer_selector(labels, layer):
    """Label selector (string) of the objects a layer (monitoring, logging) created: the common labels + eks-llm/layer."""
    return monitoring.label_selector(monitoring.layer_labels({"labels": labels}, layer))


def wiring_node_pools(platform, pools):
    """Labels and taints of the nodes of every GPU node pool (eks_llm.platform, eks_llm.gpu_node_pools)."""
    return wiring.node_pools(platform, pools)


class FilterModule(object):
    def filters(self):
        return {
            "monitoring_plan": monitoring_plan,
            "logging_plan": logging_plan,
            "layer_selector": layer_selector,
            "wiring_node_pools": wiring_node_pools,
        }
