# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE), which is compatible with the
# GNU General Public License v3.0 that Ansible itself is distributed under.
"""How each workload that calls AWS gets its credentials, decided by what its image can do.

A pod gets AWS credentials in one of two ways on EKS:

- ``pod_identity``: EKS Pod Identity. The agent injects ``AWS_CONTAINER_CREDENTIALS_FULL_URI`` and
  ``AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE``; only recent AWS SDKs read them (AWS EKS user guide, "Use pod
  identity with the AWS SDK": minimum versions per SDK). An older SDK finds no credentials at all on our
  nodes (instance metadata is closed to pods: hop limit 1).
- ``irsa``: IAM roles for service accounts. The service account is annotated with a role ARN, the pod gets a
  projected token, and the SDK calls ``sts:AssumeRoleWithWebIdentity``; every SDK of the last years can.
  It needs the cluster's IAM OIDC provider and a role that trusts exactly that service account.

WORKLOADS is the one table: workload -> image (key in versions.IMAGES or a chart) -> the SDK each image
version carries -> the mechanisms it supports. The inventory may ask for a mechanism
(``eks_llm_workload_credentials``); ``auto`` takes the first the image supports in PREFERENCE. A workload
whose image cannot use the asked mechanism is refused before anything is created.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

POD_IDENTITY = "pod_identity"
IRSA = "irsa"
MECHANISMS = (POD_IDENTITY, IRSA)
# Pod Identity first: no OIDC provider, no per-cluster trust policy, and the association is an EKS resource.
PREFERENCE = (POD_IDENTITY, IRSA)
CHOICES = ("auto",) + MECHANISMS

# The audience EKS's pod identity webhook puts in IRSA tokens, and the one our OIDC provider allows.
IRSA_AUDIENCE = "sts.amazonaws.com"
IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


def _tag_version(pattern):
    """A function turning an image tag into a comparable tuple of ints, or None when the tag does not match."""
    compiled = re.compile(pattern)

    def parse(tag):
        match = compiled.match(tag or "")
        return tuple(int(part) for part in match.groups()) if match else None
    return parse


# Each workload: how to find its image, how to read a version from the tag, and the image releases whose SDK is
# known (newest first). ``pod_identity_from``: the first version whose SDK reads Pod Identity's variables; a
# version below it supports IRSA only. A tag that cannot be read is treated as IRSA only: nothing is known about
# its SDK, and IRSA works with every SDK these images have ever carried.
WORKLOADS = {
    "triton": {
        "image": "triton_vllm",
        "description": "Triton Inference Server reading its model repository from S3",
        "version": _tag_version(r"^(\d+)\.(\d+)-"),
        # triton-inference-server/third_party CMakeLists.txt builds aws-sdk-cpp GIT_TAG 1.11.60 from 23.05 on
        # (unchanged through r25.10); Pod Identity needs aws-sdk-cpp >= 1.11.263. No Triton release is known to
        # carry a newer SDK, so no tag reaches pod identity.
        "sdk": "aws-sdk-cpp 1.11.60",
        "pod_identity_needs": "aws-sdk-cpp >= 1.11.263",
        "pod_identity_from": None,
    },
    "vllm": {
        "image": "vllm",
        "description": "vLLM streaming its weights from the model bucket (Run:ai Model Streamer)",
        "version": _tag_version(r"^v?(\d+)\.(\d+)\.(\d+)"),
        # vllm-project/vllm PR #10192 (merged 2024-12) streams s3:// models through runai-model-streamer[s3], which
        # takes its credentials from boto3 by default (run-ai/runai-model-streamer docs/src/usage.md, "S3
        # authentication"); the vllm-openai image installs boto3 unpinned beside it (docker/Dockerfile, stage
        # vllm-openai-base), so every image that can stream from S3 carries a boto3 newer than 1.34.41, the first
        # to read Pod Identity's variables. v0.7.0 is the first release known to stream from S3 in that image.
        "sdk": "boto3 (through runai-model-streamer)",
        "pod_identity_needs": "vllm/vllm-openai >= v0.7.0",
        "pod_identity_from": (0, 7, 0),
    },
    "fluent_bit": {
        "image": "fluent_bit",
        "description": "AWS for Fluent Bit shipping container logs to CloudWatch",
        "version": _tag_version(r"^(\d+)\.(\d+)\.(\d+)"),
        # aws/aws-for-fluent-bit release 2.32.5 (PR #888, 2025-01-07) added Pod Identity to the cloudwatch_logs
        # output (it did not read AWS_CONTAINER_CREDENTIALS_FULL_URI before).
        "sdk": "Fluent Bit's own AWS credential chain",
        "pod_identity_needs": "aws-for-fluent-bit >= 2.32.5",
        "pod_identity_from": (2, 32, 5),
    },
    "karpenter_controller": {
        "image": "karpenter",
        "description": "Karpenter's controller launching and terminating nodes",
        "version": _tag_version(r"^v?(\d+)\.(\d+)\.(\d+)"),
        # aws-sdk-go-v2 reads Pod Identity since 2023-11; Karpenter documents Pod Identity from v0.35 (v1.x: default).
        "sdk": "aws-sdk-go-v2",
        "pod_identity_needs": "Karpenter >= 0.35.0",
        "pod_identity_from": (0, 35, 0),
    },
}


def image_tag(image):
    """The tag of an image reference (``repo/name:tag`` or ``repo/name:tag@sha256:...``), '' when none."""
    name = (image or "").split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[1] if ":" in name else ""


def supported(workload, image):
    """(mechanisms the image supports in PREFERENCE order, why pod identity is missing or '')."""
    entry = WORKLOADS[workload]
    version = entry["version"](image_tag(image))
    if version is None:
        return (IRSA,), "cannot tell which AWS SDK %s carries (tag not recognised); %s" % (image, entry["pod_identity_needs"])
    if entry["pod_identity_from"] is None or version < entry["pod_identity_from"]:
        return (IRSA,), "%s carries %s; EKS Pod Identity needs %s" % (image, entry["sdk"], entry["pod_identity_needs"])
    return PREFERENCE, ""


def choose(workload, image, wanted="auto"):
    """(mechanism, problem): the mechanism to use for the workload, or None and why the wanted one cannot work."""
    mechanisms, why_not = supported(workload, image)
    if wanted in ("auto", None, ""):
        return mechanisms[0], ""
    if wanted in mechanisms:
        return wanted, ""
    return None, "%s cannot use %s: %s; supported: %s" % (workload, wanted, why_not, ", ".join(mechanisms))


def role_arn(partition, account_id, role_name):
    return "arn:%s:iam::%s:role/%s" % (partition, account_id, role_name)


def service_account_annotations(entry, partition, account_id):
    """The annotations a workload's service account needs: the role ARN under IRSA, nothing under Pod Identity
    (the association names the service account)."""
    if entry.get("credentials") != IRSA:
        return {}
    return {IRSA_ROLE_ANNOTATION: role_arn(partition, account_id, entry["role_name"])}


def oidc_provider_url(issuer):
    """IAM names an OIDC provider by its issuer without the scheme (and in condition keys)."""
    return re.sub(r"^https://", "", issuer or "").rstrip("/")


def irsa_trust_policy(provider_arn, issuer, subjects):
    """Trust exactly the given service accounts (system:serviceaccount:<ns>:<name>) with the STS audience."""
    url = oidc_provider_url(issuer)
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                url + ":sub": sorted(subjects) if len(subjects) > 1 else subjects[0],
                url + ":aud": IRSA_AUDIENCE,
            }},
        }],
    }
