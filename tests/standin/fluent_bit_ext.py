"""AWS for Fluent Bit's CloudWatch Logs output, for the local Kubernetes stand-in.

STAND-IN (local tests only). KWOK runs no containers, so nothing ships logs. This thread does what each running
aws-for-fluent-bit pod does on EKS - with the same ways to fail - against the AWS stand-in's CloudWatch Logs:

- credentials: an ``eks.amazonaws.com/role-arn`` annotation on the pod's service account means IRSA (the role must
  trust the cluster's OIDC provider for exactly that service account); otherwise EKS Pod Identity, which needs an
  association for the service account AND an image that reads Pod Identity's variables: aws-for-fluent-bit
  2.32.5 or later (aws/aws-for-fluent-bit release 2.32.5, PR #888, 2025-01-07). Without credentials the pod
  ships nothing (on our nodes instance metadata is closed to pods).
- permission: the role's policies must allow ``logs:PutLogEvents`` (and ``logs:CreateLogStream``) on the log group
  named in the pod's configuration; with ``auto_create_group false`` the group must exist.

A pod that can ship writes one line every SHIP_EVERY seconds to ``<log_stream_prefix><pod name>``; one that cannot
gets a Warning event saying why, as Fluent Bit's own log would.
"""
import json
import logging
import re
import time

from . import sts_ext
from .efs_policy import Unsupported, _effects
from .kube_controller import Controller

LOG = logging.getLogger(__name__)
APP_LABEL = "app.kubernetes.io/name=aws-for-fluent-bit"
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
POD_IDENTITY_FROM = (2, 32, 5)
SHIP_EVERY = 15.0
_shipped = {}  # pod uid -> time of the last line
_warned = {}  # pod uid -> reason already reported


def _version(image):
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "")
    return tuple(int(p) for p in match.groups()) if match else None


def _output_settings(core, pod):
    """log_group_name, log_stream_prefix, auto_create_group of the pod's [OUTPUT] cloudwatch_logs section."""
    for volume in pod.spec.volumes or []:
        if volume.config_map is None:
            continue
        data = core.read_namespaced_config_map(volume.config_map.name, pod.metadata.namespace).data or {}
        text = data.get("fluent-bit.conf", "")
        if "cloudwatch_logs" in text:
            settings = dict(re.findall(r"^\s*(log_group_name|log_stream_prefix|auto_create_group)\s+(\S+)", text, re.M))
            return settings
    return None


def _cluster_backends():
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.eks.models import eks_backends  # pylint: disable=import-outside-toplevel

    for region in list(eks_backends[DEFAULT_ACCOUNT_ID]):
        for cluster in list(eks_backends[DEFAULT_ACCOUNT_ID][region].clusters.values()):
            yield region, cluster


def _role(arn):
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    account = arn.split(":")[4]
    for backend in iam_backends[account].values():
        try:
            return backend.get_role(arn.split("/")[-1])
        except Exception:  # pylint: disable=broad-except  # moto's IAMNotFoundException
            continue
    return None


def _credentials(core, pod, cluster):
    """(role, why not): the role the pod's AWS SDK would get, or None and the reason."""
    namespace, account = pod.metadata.namespace, pod.spec.service_account_name or "default"
    service_account = core.read_namespaced_service_account(account, namespace)
    irsa_role = (service_account.metadata.annotations or {}).get(ROLE_ANNOTATION)
    if irsa_role:
        role = _role(irsa_role)
        issuer = ((cluster.identity or {}).get("oidc") or {}).get("issuer", "")
        try:
            provider = sts_ext._provider(irsa_role.split(":")[4], issuer)  # pylint: disable=protected-access
        except sts_ext.Refused as refused:
            return None, "IRSA: %s" % refused.message
        claims = {"sub": "system:serviceaccount:%s:%s" % (namespace, account), "aud": "sts.amazonaws.com"}
        if role is None or not sts_ext._trust_allows(role.assume_role_policy_document, provider, claims):  # pylint: disable=protected-access
            return None, "IRSA: not authorized to perform sts:AssumeRoleWithWebIdentity on %s" % irsa_role
        return role, ""
    association = [a for a in cluster.__dict__.get("_standin", {}).get("pods", {}).values()
                   if a["namespace"] == namespace and a["serviceAccount"] == account]
    if not association:
        return None, "no EKS Pod Identity association and no IRSA annotation for %s/%s" % (namespace, account)
    image = pod.spec.containers[0].image
    version = _version(image)
    if version is None or version < POD_IDENTITY_FROM:
        return None, ("[aws_credentials] no credentials: %s does not read EKS Pod Identity (AWS_CONTAINER_CREDENTIALS_FULL_URI);"
                      " aws-for-fluent-bit >= 2.32.5 does" % image)
    return _role(association[0]["roleArn"]), ""


def _may(role, action, resource):
    documents = list(role.policies.values()) + [p.document for p in role.managed_policies.values()]
    effects = []
    for document in documents:
        try:
            effects += [effect for effect, dummy in _effects(document, action, resource, None, {}, False)]
        except Unsupported:
            continue
    return "Allow" in effects and "Deny" not in effects


def _warn(core, pod, reason):
    if _warned.get(pod.metadata.uid) == reason:
        return
    _warned[pod.metadata.uid] = reason
    LOG.info("fluent-bit %s/%s ships nothing: %s", pod.metadata.namespace, pod.metadata.name, reason)
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    core.create_namespaced_event(pod.metadata.namespace, client.CoreV1Event(
        metadata=client.V1ObjectMeta(generate_name=pod.metadata.name + "."), type="Warning", reason="NoLogsShipped",
        message="stand-in aws-for-fluent-bit: " + reason, first_timestamp=now, last_timestamp=now, count=1,
        involved_object=client.V1ObjectReference(kind="Pod", name=pod.metadata.name, namespace=pod.metadata.namespace,
                                                 uid=pod.metadata.uid)))


def _ship(core, pod, region, cluster):
    from moto.logs.models import logs_backends  # pylint: disable=import-outside-toplevel

    settings = _output_settings(core, pod)
    if not settings or "log_group_name" not in settings:
        return _warn(core, pod, "no cloudwatch_logs output with a log_group_name in its configuration")
    role, why_not = _credentials(core, pod, cluster)
    if role is None:
        return _warn(core, pod, why_not)
    group_name = settings["log_group_name"]
    group_arn = "arn:aws:logs:%s:%s:log-group:%s" % (region, role.account_id, group_name)
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        if not (_may(role, action, group_arn + ":*") or _may(role, action, group_arn + ":log-stream:*")):
            return _warn(core, pod, "AccessDeniedException: %s is not authorized to perform %s on %s" % (role.arn, action, group_arn))
    backend = logs_backends[role.account_id][region]
    group = backend.groups.get(group_name)
    if group is None:
        if settings.get("auto_create_group", "false").lower() != "true":
            return _warn(core, pod, "ResourceNotFoundException: log group %s does not exist (auto_create_group false)" % group_name)
        return _warn(core, pod, "auto_create_group is on: the collection never lets Fluent Bit create groups")
    stream = settings.get("log_stream_prefix", "") + pod.metadata.name
    if stream not in group.streams:
        group.create_log_stream(stream)
    message = json.dumps({"log": "stand-in container log line", "kubernetes": {"pod_name": pod.metadata.name,
                                                                               "host": pod.spec.node_name}})
    group.put_log_events(stream, [{"timestamp": int(time.time() * 1000), "message": message}])
    _warned.pop(pod.metadata.uid, None)
    return None


def reconcile(api_client):
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core = client.CoreV1Api(api_client)
    pods = [p for p in core.list_pod_for_all_namespaces(label_selector=APP_LABEL).items
            if p.status.phase == "Running" and p.metadata.deletion_timestamp is None]
    if not pods:
        return
    clusters = list(_cluster_backends())
    if not clusters:
        return
    region, cluster = clusters[0]
    now = time.time()
    for pod in pods:
        if now - _shipped.get(pod.metadata.uid, 0) < SHIP_EVERY:
            continue
        _shipped[pod.metadata.uid] = now
        _ship(core, pod, region, cluster)


CONTROLLER = Controller("fluent-bit", reconcile, poll_seconds=5.0)
install = CONTROLLER.install
