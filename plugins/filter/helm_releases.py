# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""Filters comparing wanted Helm releases with the releases one helm_release_drift_info read found, so the helm_release
role reads the cluster once per play (plugins/module_utils/helm_drift.py holds the comparison the module uses too)."""

from ansible_collections.eks_llm.inference.plugins.module_utils import helm_drift


def helm_release_drift(releases, deployed):
    """Per wanted release (kubernetes.core.helm options merged over defaults): name, namespace, drift, reasons,
    deployed_chart and status, compared with the deployed map (helm_release_drift_info's deployed)."""
    return helm_drift.drift_report(releases, deployed)


def helm_release_applied(deployed, releases):
    """The deployed map once the given releases are applied (present ones installed as wanted, absent ones gone)."""
    return helm_drift.after_apply(deployed, releases)


class FilterModule(object):
    def filters(self):
        return {
            "helm_release_drift": helm_release_drift,
            "helm_release_applied": helm_release_applied,
        }
