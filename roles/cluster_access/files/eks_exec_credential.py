#!/usr/bin/env python
"""Kubernetes exec credential plugin for EKS, for kubeconfigs that must work without the AWS CLI.

Prints an ExecCredential whose token is what `aws eks get-token` produces: k8s-aws-v1. followed by
the URL-safe base64 (no padding) of a presigned STS GetCallerIdentity URL that signs the
x-k8s-aws-id header (the cluster name). Needs botocore only; credentials come from the usual chain.

Usage: eks_exec_credential.py CLUSTER_NAME REGION [STS_ENDPOINT_URL]
"""
import base64
import datetime
import json
import sys

import botocore.session

EXPIRES = 60


def token(cluster_name, region, endpoint_url=None):
    session = botocore.session.Session()
    session.set_config_variable("sts_regional_endpoints", "regional")
    sts = session.create_client("sts", region_name=region, endpoint_url=endpoint_url or None)

    def add_cluster_header(request, **kwargs):  # pylint: disable=unused-argument
        request.headers["x-k8s-aws-id"] = cluster_name

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=EXPIRES, HttpMethod="GET")
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write(__doc__)
        return 2
    # Tokens live 15 minutes; ask clients to come back well before that.
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
    credential = {
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "spec": {},
        "status": {"expirationTimestamp": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "token": token(argv[1], argv[2], argv[3] if len(argv) == 4 else None)},
    }
    sys.stdout.write(json.dumps(credential))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
