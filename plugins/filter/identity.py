# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.
"""Filters for workload credentials (EKS Pod Identity or IRSA), built by module_utils.workload_identity."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.eks_llm.inference.plugins.module_utils import workload_identity


def _accounts(accounts):
    return list(accounts) if isinstance(accounts, (list, tuple)) else [accounts]


def workload_trust_policy(accounts, mechanism, oidc_provider=None):
    """Trust policy of a workload's role: EKS Pod Identity's service principal, or (IRSA) the cluster's OIDC
    provider for exactly the workload's service accounts."""
    if mechanism == workload_identity.POD_IDENTITY:
        return {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]}]}
    if mechanism != workload_identity.IRSA:
        raise AnsibleFilterError("workload_trust_policy: unknown mechanism %r" % (mechanism,))
    if not (oidc_provider or {}).get("arn"):
        raise AnsibleFilterError("workload_trust_policy: IRSA needs the cluster's OIDC provider (arn, issuer)")
    subjects = ["system:serviceaccount:%s:%s" % (a["namespace"], a["service_account"]) for a in _accounts(accounts)]
    if not subjects:
        raise AnsibleFilterError("workload_trust_policy: IRSA needs at least one service account to trust")
    return workload_identity.irsa_trust_policy(oidc_provider["arn"], oidc_provider["issuer"], subjects)


def service_account_annotations(entry, partition, account_id):
    """Annotations of a workload's service account (the role ARN under IRSA, none under Pod Identity)."""
    return workload_identity.service_account_annotations(entry, partition, account_id)


class FilterModule(object):
    def filters(self):
        return {
            "workload_trust_policy": workload_trust_policy,
            "service_account_annotations": service_account_annotations,
        }
