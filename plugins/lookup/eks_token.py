# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.

DOCUMENTATION = r"""
name: eks_token
version_added: 0.1.0
author:
  - eks_llm maintainers (@eks-llm)
short_description: Bearer token for the Kubernetes API server of an EKS cluster
description:
  - Returns a token that authenticates the current AWS identity to the
    Kubernetes API server of an Amazon EKS cluster, the same token that
    C(aws eks get-token) and C(aws-iam-authenticator) produce, computed in
    Python with botocore (no AWS CLI needed).
  - The token is C(k8s-aws-v1.) followed by the URL-safe base64 encoding,
    without padding, of a presigned STS C(GetCallerIdentity) URL whose
    signature covers the header C(x-k8s-aws-id) set to the cluster name.
  - EKS accepts the token for 15 minutes; generate it in the play that uses
    it rather than caching it.
  - The token is a credential. Every task that uses it, or that receives it
    in a variable, must set C(no_log=true).
  - Nothing is sent to AWS; the credentials are only used to sign the URL, so
    wrong credentials surface as C(401 Unauthorized) from the API server.
  - This lookup runs on the controller, so credentials and environment
    variables are read from the controller.
options:
  _terms:
    description: The name of the EKS cluster. One token is returned per name.
    required: true
    type: list
    elements: str
  region:
    description:
      - The region of the cluster. The token is signed for the regional STS
        endpoint of this region.
      - When not set, the region of O(profile) or of the AWS configuration
        files is used.
      - C(AWS_REGION) takes precedence over C(AWS_DEFAULT_REGION).
    type: str
    aliases: [aws_region]
    env:
      - name: AWS_DEFAULT_REGION
      - name: AWS_REGION
  endpoint_url:
    description:
      - STS endpoint to sign the URL for instead of the regional AWS endpoint,
        for example a local stand-in of AWS.
      - C(AWS_ENDPOINT_URL_STS) takes precedence over C(AWS_ENDPOINT_URL).
    type: str
    aliases: [aws_endpoint_url]
    env:
      - name: AWS_ENDPOINT_URL
      - name: AWS_ENDPOINT_URL_STS
  profile:
    description:
      - A named AWS profile to sign with.
      - Mutually exclusive with O(access_key), O(secret_key) and O(session_token).
    type: str
    aliases: [aws_profile]
    env:
      - name: AWS_PROFILE
  access_key:
    description:
      - AWS access key ID. Requires O(secret_key).
      - When neither keys nor a profile are given, the usual botocore chain
        applies (C(AWS_ACCESS_KEY_ID) and C(AWS_SECRET_ACCESS_KEY), the shared
        credentials file, SSO, container and instance roles).
    type: str
    aliases: [aws_access_key_id, aws_access_key]
  secret_key:
    description: AWS secret access key. Requires O(access_key).
    type: str
    aliases: [aws_secret_access_key, aws_secret_key]
  session_token:
    description: AWS STS session token, for temporary credentials.
    type: str
    aliases: [aws_session_token]
notes:
  - The presigned URL expires after 60 seconds (C(X-Amz-Expires=60)), as with
    C(aws eks get-token); the API server nevertheless honours the token for
    15 minutes after it was signed.
seealso:
  - name: EKS cluster authentication
    description: How EKS turns AWS identities into Kubernetes identities.
    link: https://docs.aws.amazon.com/eks/latest/userguide/cluster-auth.html
"""

EXAMPLES = r"""
- name: List the nodes of the cluster
  kubernetes.core.k8s_info:
    host: "{{ eks_endpoint }}"
    ca_cert: "{{ eks_ca_file }}"
    api_key: "{{ lookup('eks_llm.inference.eks_token', 'demo', region='us-west-2') }}"
    kind: Node
  no_log: true
  register: nodes

- name: Keep the token in a fact for the tasks of this play (15 minutes at most)
  ansible.builtin.set_fact:
    eks_api_key: "{{ lookup('eks_llm.inference.eks_token', eks_cluster_name, profile='deploy') }}"
  no_log: true

- name: Token signed for a local stand-in of STS
  ansible.builtin.set_fact:
    eks_api_key: >-
      {{ lookup('eks_llm.inference.eks_token', 'demo', region='us-east-1',
                endpoint_url='http://localhost:5000',
                access_key='testing', secret_key='testing') }}
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One bearer token per cluster name, C(k8s-aws-v1.<url-safe base64 of the presigned URL>).
    - A credential, to be used in tasks with C(no_log=true) only.
  type: list
  elements: str
  sample: ["k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTU"]
"""

import base64

try:
    import botocore.session
    from botocore.exceptions import BotoCoreError

    HAS_BOTOCORE = True
except ImportError:
    HAS_BOTOCORE = False

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
# Lifetime of the presigned URL, as aws-iam-authenticator and the AWS CLI sign it.
URL_EXPIRES = 60


def encode_token(url):
    """k8s-aws-v1. + URL-safe base64 of the URL, without '=' padding."""
    encoded = base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii")
    return TOKEN_PREFIX + encoded.rstrip("=")


def presigned_identity_url(sts, cluster_name):
    """Presign sts:GetCallerIdentity with x-k8s-aws-id covered by the signature."""

    def add_cluster_header(request, **_kwargs):
        request.headers[CLUSTER_HEADER] = cluster_name

    event = "before-sign.sts.GetCallerIdentity"
    sts.meta.events.register(event, add_cluster_header, unique_id="eks-llm-cluster-header")
    try:
        return sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=URL_EXPIRES, HttpMethod="GET")
    finally:
        sts.meta.events.unregister(event, unique_id="eks-llm-cluster-header")


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if not HAS_BOTOCORE:
            raise AnsibleLookupError("the eks_token lookup requires the botocore Python library on the controller")
        self.set_options(var_options=variables, direct=kwargs)

        names = [to_native(term).strip() for term in terms]
        if not names or not all(names):
            raise AnsibleLookupError("eks_token needs the name of the EKS cluster, e.g. lookup('eks_llm.inference.eks_token', 'demo')")

        sts = self._sts_client()
        try:
            return [encode_token(presigned_identity_url(sts, name)) for name in names]
        except BotoCoreError as e:
            raise AnsibleLookupError("eks_token: could not sign the STS request: %s" % to_native(e)) from e

    def _sts_client(self):
        profile = self.get_option("profile") or None
        access_key = self.get_option("access_key") or None
        secret_key = self.get_option("secret_key") or None
        session_token = self.get_option("session_token") or None
        if profile and (access_key or secret_key or session_token):
            raise AnsibleLookupError("eks_token: profile and access_key/secret_key/session_token are mutually exclusive")
        if bool(access_key) != bool(secret_key):
            raise AnsibleLookupError("eks_token: access_key and secret_key must be given together")

        try:
            session = botocore.session.Session(profile=profile)
            # Sign for sts.<region>.amazonaws.com even where configuration still says "legacy".
            session.set_config_variable("sts_regional_endpoints", "regional")
            if access_key:
                session.set_credentials(access_key, secret_key, session_token)
            region = self.get_option("region") or session.get_config_variable("region")
            if not region:
                raise AnsibleLookupError(
                    "eks_token: no AWS region; set the region option, AWS_REGION or a region in the AWS profile"
                )
            credentials = session.get_credentials()
            if credentials is None:
                raise AnsibleLookupError(
                    "eks_token: no AWS credentials found; set access_key/secret_key or profile, the AWS_ACCESS_KEY_ID"
                    " and AWS_SECRET_ACCESS_KEY environment variables, or run where an instance or container role is available"
                )
            return session.create_client(
                "sts",
                region_name=region,
                endpoint_url=self.get_option("endpoint_url") or None,
            )
        except BotoCoreError as e:
            raise AnsibleLookupError("eks_token: cannot set up AWS credentials: %s" % to_native(e)) from e
