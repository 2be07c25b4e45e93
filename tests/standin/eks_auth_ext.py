"""EKS authentication for the local Kubernetes stand-in: the part of EKS that turns a token into a user.

A real EKS API server accepts ``k8s-aws-v1.<base64url of a presigned STS GetCallerIdentity URL>``
(what ``aws eks get-token`` and the exec credential plugin of our kubeconfig produce,
roles/cluster_access/files/eks_exec_credential.py), calls that URL
to learn who signed it, and maps the IAM principal through the cluster's access entries. The local
kube-apiserver delegates the same decision to this TokenReview webhook
(``--authentication-token-webhook-config-file``), so the collection's token code path is exercised
for real. Authorisation stays with the API server's RBAC: a principal whose access entry carries
AmazonEKSClusterAdminPolicy is put in ``system:masters``; other known principals get their
access entry's Kubernetes groups; unknown principals are refused, as EKS does.
"""
import base64
import datetime
import re
import urllib.parse
import urllib.request

from moto.eks.models import eks_backends

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
MAX_TOKEN_AGE = datetime.timedelta(minutes=15)


class Refused(Exception):
    """The token does not authenticate anyone; the message goes into TokenReview status.error."""


def _presigned_url(token):
    if not token.startswith(TOKEN_PREFIX):
        raise Refused("not an EKS token (expected the k8s-aws-v1. prefix)")
    encoded = token[len(TOKEN_PREFIX):]
    try:
        url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise Refused("token payload is not base64url: %s" % exc) from exc
    parsed = urllib.parse.urlparse(url)
    query = dict(urllib.parse.parse_qsl(parsed.query))
    if query.get("Action") != "GetCallerIdentity":
        raise Refused("token is not a presigned GetCallerIdentity request")
    if "x-k8s-aws-id" not in query.get("X-Amz-SignedHeaders", "").split(";"):
        raise Refused("token does not sign the x-k8s-aws-id header (the cluster name)")
    try:
        signed_at = datetime.datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except (KeyError, ValueError) as exc:
        raise Refused("token has no valid X-Amz-Date") from exc
    if datetime.datetime.now(datetime.timezone.utc) - signed_at > MAX_TOKEN_AGE:
        raise Refused("token expired (signed at %s)" % signed_at.isoformat())
    return url


def _caller_arn(url):
    """Who signed the URL: what STS GetCallerIdentity answers for the signing key (moto does not check
    signatures, so asking its STS backend directly is the same answer without a self-request)."""
    from moto.sts.models import sts_backends  # pylint: disable=import-outside-toplevel

    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(url).query))
    try:
        access_key, dummy_date, region = query["X-Amz-Credential"].split("/")[:3]
    except (KeyError, ValueError) as exc:
        raise Refused("token has no X-Amz-Credential") from exc
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel

    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return sts_backends[DEFAULT_ACCOUNT_ID][partition].get_caller_identity(access_key, region)[1]


def _principal(arn):
    """The IAM principal an access entry names for an STS caller ARN."""
    role = re.match(r"arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/", arn)
    if role:
        return "arn:%s:iam::%s:role/%s" % role.groups()
    user = re.match(r"arn:([^:]+):sts::(\d+):user/moto$", arn)  # moto's caller for keys it does not know
    if user:
        return "arn:%s:iam::%s:root" % user.groups()
    return arn.replace(":sts::", ":iam::")


def _clusters():
    for account in list(eks_backends):
        for region in list(eks_backends[account]):
            yield from list(eks_backends[account][region].clusters.values())


def _entry_for(principal):
    for cluster in _clusters():
        entry = cluster.__dict__.get("_standin", {}).get("entries", {}).get(principal)
        if entry is not None:
            return cluster, entry
    return None, None


def review(token):
    """TokenReview status for a bearer token."""
    try:
        url = _presigned_url(token)
        clusters = [cluster.name for cluster in _clusters()]
        if not clusters:
            raise Refused("no EKS cluster exists in the stand-in")
        arn = _caller_arn(url)
        principal = _principal(arn)
        cluster, entry = _entry_for(principal)
        if entry is None:
            raise Refused("%s has no access entry on any cluster" % principal)
        groups = list(entry.get("kubernetesGroups") or [])
        if any(policy.endswith("/" + CLUSTER_ADMIN_POLICY) for policy in entry.get("_policies", {})):
            groups.append("system:masters")
        username = entry.get("username") or principal
        if "{{SessionName}}" in username:
            username = arn  # the assumed-role ARN is the template with the session name filled in
        return {"authenticated": True, "user": {"username": username, "uid": "aws-iam-authenticator:" + principal,
                                                "groups": groups + ["system:authenticated"],
                                                "extra": {"arn": [arn], "cluster": [cluster.name]}}}
    except Refused as exc:
        return {"authenticated": False, "error": str(exc)}


def handle(body):
    """Answer a TokenReview (authentication.k8s.io/v1) request body."""
    token = ((body or {}).get("spec") or {}).get("token") or ""
    return {"apiVersion": body.get("apiVersion", "authentication.k8s.io/v1"), "kind": "TokenReview", "status": review(token)}
