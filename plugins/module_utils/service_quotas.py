# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.
"""Reading Service Quotas: the applied value of the account, else the AWS default.

One implementation for the modules that read quotas (service_quota_info, account_preflight_info). Read errors raise
AnsibleAWSError (module.fail_json_aws_error); a quota AWS knows neither way is returned as unknown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eks_llm.inference.plugins.module_utils.common import NotFoundErrorHandler

# The EC2 quotas (in vCPUs) that bound GPU capacity; also documented in service_quota_info's DOCUMENTATION and EXAMPLES.
EC2_GPU_QUOTA_CODES = {
    "L-DB2E81BA": "Running On-Demand G and VT instances",
    "L-3819A6DF": "All G and VT Spot Instance Requests",
    "L-417A185B": "Running On-Demand P instances",
    "L-7212CCBC": "All P Spot Instance Requests",
}


@NotFoundErrorHandler.list_error_handler("get service quota", default_value=None)
def get_applied_quota(client, service_code, quota_code):
    return client.get_service_quota(ServiceCode=service_code, QuotaCode=quota_code, aws_retry=True)["Quota"]


@NotFoundErrorHandler.list_error_handler("get AWS default service quota", default_value=None)
def get_default_quota(client, service_code, quota_code):
    return client.get_aws_default_service_quota(ServiceCode=service_code, QuotaCode=quota_code, aws_retry=True)[
        "Quota"
    ]


def describe_quota(quota, source):
    return {
        "name": quota.get("QuotaName"),
        "value": quota.get("Value"),
        "unit": quota.get("Unit"),
        "adjustable": quota.get("Adjustable"),
        "source": source,
    }


def read_quota(client, service_code, quota_code):
    """The quota as returned in `quotas`, or None when AWS knows no such quota."""
    quota = get_applied_quota(client, service_code, quota_code)
    if quota is not None:
        return describe_quota(quota, "applied")
    quota = get_default_quota(client, service_code, quota_code)
    if quota is not None:
        return describe_quota(quota, "default")
    return None


def read_quotas(client, service_code, quota_codes):
    """(quotas keyed by code, codes AWS knows neither way); a code already read is not read again. Raises AnsibleAWSError."""
    quotas = {}
    unknown = []
    for quota_code in quota_codes:
        if quota_code in quotas:
            continue
        quota = read_quota(client, service_code, quota_code)
        if quota is None:
            unknown.append(quota_code)
        else:
            quotas[quota_code] = quota
    return quotas, unknown


def unknown_quotas_message(unknown, service_code, region):
    return "Service Quotas knows no quota %s of service %s in %s (neither applied nor default)" % (
        ", ".join(unknown), service_code, region)
