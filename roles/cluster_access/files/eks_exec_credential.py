#!/usr/bin/env python
"""Kubernetes exec credential plugin for EKS, for kubeconfigs that must work without the AWS CLI.

Prints an ExecCredential whose token is what `aws eks get-token` produces: k8s-aws-v1. followed by
the URL-safe base64 (no padding) of a presigned STS GetCallerIdentity URL that signs the
x-k8s-aws-id header (the cluster name). Needs botocore only; credentials come from the usual chain.

Every Kubernetes client process (each Ansible task, each helm or kubectl command) runs this plugin, and loading
botocore costs about a second per run on a small controller. So a token is kept for CACHE_SECONDS in a file
beside this script (mode 0600, in the kubeconfig's 0700 directory), the way gke-gcloud-auth-plugin caches its
tokens: a cache hit imports nothing but the standard library. EKS accepts a token for 15 minutes; the cached one is
handed out for at most 10, with that expiry, so clients come back for a fresh one in time. The cache is keyed by the
cluster, region, STS endpoint and the environment variables that choose the AWS identity, so switching
AWS_PROFILE or credentials never reuses another identity's token. EKS_LLM_TOKEN_CACHE=off turns it off.

Usage: eks_exec_credential.py CLUSTER_NAME REGION [STS_ENDPOINT_URL]
"""
import base64
import datetime
import hashlib
import json
import os
import sys
import time

EXPIRES = 60
CACHE_SECONDS = 600
CACHE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "token-cache")
# Environment variables that select which AWS identity botocore's credential chain resolves.
IDENTITY_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN",
                      "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
                      "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                      "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")


def token(cluster_name, region, endpoint_url=None):
    # imported on a cache miss only: loading botocore is the slow part
    import botocore.session  # pylint: disable=import-outside-toplevel

    session = botocore.session.Session()
    session.set_config_variable("sts_regional_endpoints", "regional")
    sts = session.create_client("sts", region_name=region, endpoint_url=endpoint_url or None)

    def add_cluster_header(request, **kwargs):  # pylint: disable=unused-argument
        request.headers["x-k8s-aws-id"] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=EXPIRES, HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def cache_path(cluster_name, region, endpoint_url, environ):
    """The cache file for this cluster and AWS identity selection (a hash: the file name reveals neither)."""
    key = [cluster_name, region, endpoint_url or ""] + ["%s=%s" % (name, environ.get(name, "")) for name in IDENTITY_VARIABLES]
    return os.path.join(CACHE_DIR, hashlib.sha256("\0".join(key).encode()).hexdigest() + ".json")


def cached_token(path, now):
    """(token, expiry epoch) from the cache file when it is still good for a minute, else None."""
    try:
        with open(path, encoding="utf-8") as handle:
            entry = json.load(handle)
        if float(entry["expires"]) - now > 60:
            return entry["token"], float(entry["expires"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def store_token(path, value, expires):
    """Write the cache entry atomically, readable by its owner only; a cache that cannot be written is no error."""
    import tempfile  # pylint: disable=import-outside-toplevel

    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:  # mkstemp creates it 0600
            json.dump({"token": value, "expires": expires}, handle)
        os.replace(temporary, path)
    except OSError:
        pass


def credential(cluster_name, region, endpoint_url=None, environ=None, now=None):
    """The ExecCredential document, from the cache when it holds a token for this cluster and identity."""
    environ = os.environ if environ is None else environ
    now = time.time() if now is None else now
    use_cache = environ.get("EKS_LLM_TOKEN_CACHE", "on").lower() not in ("off", "false", "0", "no")
    path = cache_path(cluster_name, region, endpoint_url, environ)
    hit = cached_token(path, now) if use_cache else None
    if hit:
        value, expires = hit
    else:
        value, expires = token(cluster_name, region, endpoint_url), now + CACHE_SECONDS
        if use_cache:
            store_token(path, value, expires)
    stamp = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1beta1", "spec": {},
            "status": {"expirationTimestamp": stamp, "token": value}}


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    sys.stdout.write(json.dumps(credential(argv[1], argv[2], argv[3] if len(argv) == 4 else None)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
