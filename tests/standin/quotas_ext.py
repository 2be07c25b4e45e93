"""Service Quotas for EC2 instance vCPU limits (moto only knows ServiceCode=vpc).

Applied values come from configure(quotas={code: value}); defaults otherwise.
"""
import json

from moto.servicequotas import urls as quota_urls
from moto.servicequotas.exceptions import NoSuchResource
from moto.servicequotas.responses import ServiceQuotasResponse

from . import config

# code -> (quota name, AWS default, usage class)
EC2_QUOTAS = {
    "L-1216C47A": ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 1152.0, "Standard/OnDemand"),
    "L-34B43A08": ("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", 1152.0, "Standard/Spot"),
    "L-DB2E81BA": ("Running On-Demand G and VT instances", 64.0, "G/OnDemand"),
    "L-3819A6DF": ("All G and VT Spot Instance Requests", 64.0, "G/Spot"),
    "L-417A185B": ("Running On-Demand P instances", 64.0, "P/OnDemand"),
    "L-7212CCBC": ("All P Spot Instance Requests", 64.0, "P/Spot"),
}


class StandinServiceQuotasResponse(ServiceQuotasResponse):
    def _ec2_quota(self, code, applied):
        if code not in EC2_QUOTAS:
            raise NoSuchResource()
        name, default, usage_class = EC2_QUOTAS[code]
        account = self.current_account if applied else ""  # AWS default quotas have no account in the ARN
        return {
            "ServiceCode": "ec2", "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
            "QuotaArn": f"arn:{self.partition}:servicequotas:{self.region}:{account}:ec2/{code}",
            "QuotaCode": code, "QuotaName": name,
            "Value": config.get("quotas").get(code, default) if applied else default,
            "Unit": "None", "Adjustable": True, "GlobalQuota": False, "QuotaAppliedAtLevel": "ACCOUNT",
            "UsageMetric": {"MetricNamespace": "AWS/Usage", "MetricName": "ResourceCount", "MetricStatisticRecommendation": "Maximum",
                            "MetricDimensions": {"Class": usage_class, "Resource": "vCPU", "Service": "EC2", "Type": "Resource"}},
        }

    def _params(self):
        return json.loads(self.body or "{}")

    def get_service_quota(self):
        params = self._params()
        if params.get("ServiceCode") != "ec2":
            return super().get_service_quota()
        return json.dumps({"Quota": self._ec2_quota(params.get("QuotaCode"), applied=True)})

    def get_aws_default_service_quota(self):
        params = self._params()
        if params.get("ServiceCode") == "vpc":
            return json.dumps({"Quota": self.backend.get_service_quota("vpc", params.get("QuotaCode"))})
        if params.get("ServiceCode") != "ec2":
            raise NoSuchResource()
        return json.dumps({"Quota": self._ec2_quota(params.get("QuotaCode"), applied=False)})

    def list_service_quotas(self):
        params = self._params()
        if params.get("ServiceCode") == "vpc":
            return json.dumps({"Quotas": self.backend.list_aws_default_service_quotas("vpc")})
        if params.get("ServiceCode") != "ec2":
            raise NoSuchResource()
        return json.dumps({"Quotas": [self._ec2_quota(code, applied=True) for code in EC2_QUOTAS]})

    def list_aws_default_service_quotas(self):
        params = self._params()
        if params.get("ServiceCode") != "ec2":
            return super().list_aws_default_service_quotas()
        return json.dumps({"Quotas": [self._ec2_quota(code, applied=False) for code in EC2_QUOTAS]})


def install():
    for path in quota_urls.url_paths:
        quota_urls.url_paths[path] = StandinServiceQuotasResponse.dispatch
