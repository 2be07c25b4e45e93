#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
---
module: workload_identity_info
short_description: Prove that a service account's IRSA role works - token, STS exchange, and a read of its S3 data
version_added: 0.1.0
description:
  - For each service account, does what the AWS SDK in a pod using IAM roles for service accounts (IRSA) does -
    asks the API server for the service account's token (TokenRequest, audience C(sts.amazonaws.com)), exchanges
    it with STS C(AssumeRoleWithWebIdentity) for the role named in the account's C(eks.amazonaws.com/role-arn)
    annotation, then lists and reads one object under O(prefix) of O(bucket) with those credentials.
  - Each failing step is reported in words, with AWS's or the API server's answer - a missing annotation, no OIDC
    provider for the cluster's issuer, a trust policy that does not name the account, a role that may not read the
    bucket - so the check that would have shown a broken data path on a real cluster says why.
  - Read-only; nothing is created except a short-lived token that is never returned.
options:
  service_accounts:
    description:
      - The service accounts to check, each a dict with C(namespace), C(service_account) and optionally C(prefix), the
        key prefix this account must read instead of O(prefix) (other keys, such as those of
        C(eks_llm.service_accounts), are ignored).
    type: list
    elements: dict
    required: true
  bucket:
    description: The S3 bucket the role must be able to read.
    type: str
    required: true
  prefix:
    description: The key prefix to list and read (for example C(triton/model_repository/)), unless the entry of
      O(service_accounts) names its own.
    type: str
    default: ''
  audience:
    description: Audience of the requested token (what the EKS pod identity webhook projects for IRSA).
    type: str
    default: sts.amazonaws.com
  region:
    description: AWS region for STS and S3.
    type: str
    required: true
  endpoint_url:
    description: URL of an AWS-compatible endpoint to use instead of AWS (the local stand-in).
    type: str
author:
  - eks_llm maintainers (@eks-llm)
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
requirements:
  - kubernetes >= 24.2.0
  - boto3
"""

EXAMPLES = r"""
- name: Triton's service accounts can read the model repository
  eks_llm.inference.workload_identity_info:
    kubeconfig: ~/.kube/eks_llm-demo/kubeconfig
    region: us-west-2
    service_accounts:
      - {namespace: llm, service_account: triton}
    bucket: demo-models-123456789012-us-west-2
    prefix: triton/model_repository/
  register: identity
"""

RETURN = r"""
results:
  description: One entry per service account, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: Namespace of the service account.
      type: str
    service_account:
      description: Name of the service account.
      type: str
    prefix:
      description: The key prefix the account's own entry named ('' when it used O(prefix)).
      type: str
    role_arn:
      description: The role its annotation names ('' when none).
      type: str
    ok:
      description: Whether the token was exchanged and an object read.
      type: bool
    step:
      description: The step that failed (V(annotation), V(token), V(sts), V(s3)), or V(done).
      type: str
    message:
      description: What happened, in words.
      type: str
  sample: [{"namespace": "llm", "service_account": "triton", "ok": true, "step": "done",
            "role_arn": "arn:aws:iam::123456789012:role/demo-triton-model-reader",
            "message": "assumed demo-triton-model-reader and read triton/model_repository/opt-350m/config.pbtxt"}]
"""

import copy

from ansible_collections.kubernetes.core.plugins.module_utils.ansiblemodule import AnsibleModule
from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException

try:
    import boto3
    import botocore
    from botocore.config import Config
except ImportError:  # reported below
    boto3 = None

try:
    from kubernetes.dynamic.exceptions import DynamicApiError
except ImportError:  # reported by AnsibleK8SModule (requires kubernetes)
    DynamicApiError = Exception

from ansible_collections.eks_llm.inference.plugins.module_utils.workload_identity import IRSA_ROLE_ANNOTATION

TOKEN_SECONDS = 600  # the API server's minimum is 10 minutes


def argspec():
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(
        service_accounts=dict(type="list", elements="dict", required=True),
        bucket=dict(type="str", required=True),
        prefix=dict(type="str", default=""),
        audience=dict(type="str", default="sts.amazonaws.com"),
        region=dict(type="str", required=True),
        endpoint_url=dict(type="str"),
    )
    return spec


def _aws_error(error):
    if isinstance(error, botocore.exceptions.ClientError):
        details = error.response.get("Error", {})
        return "%s: %s" % (details.get("Code", "?"), details.get("Message", str(error)))
    return str(error)


def service_account_token(kube, namespace, name, audience):
    """A short-lived token of the service account, as the kubelet projects it into IRSA pods."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"audiences": [audience], "expirationSeconds": TOKEN_SECONDS}}
    answer = kube.request("post", "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (namespace, name), body=body)
    return answer.to_dict()["status"]["token"]


def check_one(kube, aws, entry, params):
    result = dict(entry, role_arn="", ok=False)
    where = "%s/%s" % (entry["namespace"], entry["service_account"])
    try:
        account = kube.request("get", "/api/v1/namespaces/%s/serviceaccounts/%s" % (entry["namespace"], entry["service_account"])).to_dict()
    except DynamicApiError as error:
        return dict(result, step="annotation", message="service account %s cannot be read: %s %s" % (where, error.status, error.reason))
    role_arn = ((account.get("metadata") or {}).get("annotations") or {}).get(IRSA_ROLE_ANNOTATION, "")
    if not role_arn:
        return dict(result, step="annotation", message="service account %s has no %s annotation: its pods get no IRSA credentials"
                    % (where, IRSA_ROLE_ANNOTATION))
    result["role_arn"] = role_arn
    try:
        token = service_account_token(kube, entry["namespace"], entry["service_account"], params["audience"])
    except DynamicApiError as error:
        return dict(result, step="token", message="no token for %s: %s %s" % (where, error.status, error.reason))
    try:
        credentials = aws["sts"].assume_role_with_web_identity(
            RoleArn=role_arn, RoleSessionName="eks-llm-verify", WebIdentityToken=token, DurationSeconds=900)["Credentials"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return dict(result, step="sts", message="STS refused %s's token for %s: %s" % (where, role_arn, _aws_error(error)))
    s3 = aws["session"](credentials).client("s3", region_name=params["region"], endpoint_url=params["endpoint_url"], config=aws["config"])
    prefix = entry.get("prefix") or params["prefix"]
    try:
        listed = s3.list_objects_v2(Bucket=params["bucket"], Prefix=prefix, MaxKeys=1).get("Contents", [])
        if not listed:
            return dict(result, step="s3", message="%s may list s3://%s/%s but it holds nothing" % (role_arn, params["bucket"], prefix))
        s3.get_object(Bucket=params["bucket"], Key=listed[0]["Key"], Range="bytes=0-0")["Body"].read()
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        return dict(result, step="s3", message="%s cannot read s3://%s/%s: %s" % (role_arn, params["bucket"], prefix, _aws_error(error)))
    return dict(result, ok=True, step="done", message="assumed %s and read %s" % (role_arn.rsplit("/", 1)[-1], listed[0]["Key"]))


def main():
    module = AnsibleK8SModule(module_class=AnsibleModule, argument_spec=argspec(), supports_check_mode=True)
    if boto3 is None:
        module.fail_json(msg="boto3 is required for workload_identity_info")
    params = module.params
    accounts = [dict(namespace=str(e.get("namespace") or ""), service_account=str(e.get("service_account") or ""), prefix=str(e.get("prefix") or ""))
                for e in params["service_accounts"]]
    if not all(a["namespace"] and a["service_account"] for a in accounts):
        module.fail_json(msg="every service_accounts entry needs namespace and service_account; got %s" % params["service_accounts"])
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    # AssumeRoleWithWebIdentity is unsigned: the token is the credential, as in the pod
    sts = boto3.session.Session().client("sts", region_name=params["region"], endpoint_url=params["endpoint_url"],
                                         config=config.merge(Config(signature_version=botocore.UNSIGNED)))

    def session(credentials):
        return boto3.session.Session(aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
                                     aws_session_token=credentials["SessionToken"])
    try:
        kube = get_api_client(module).client
    except CoreException as error:
        module.fail_from_exception(error)
    results = [check_one(kube, {"sts": sts, "session": session, "config": config}, entry, params) for entry in accounts]
    module.exit_json(changed=False, results=results)


if __name__ == "__main__":
    main()
