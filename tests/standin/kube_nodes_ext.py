"""Managed node groups join the local Kubernetes stand-in, as their EC2 instances join a real cluster.

When the stand-in is pointed at a local API server (setting ``kube_admin_kubeconfig``), creating a
node group registers ``desiredSize`` KWOK nodes labelled the way EKS labels managed nodes, and
deleting it removes them. KWOK marks the nodes Ready; system pods (Karpenter, monitoring) schedule
on them exactly as they would on the core node group in AWS.
"""
import hashlib
import logging

from . import config

LOG = logging.getLogger(__name__)
# vCPU, GiB of the instance types a core node group is likely to use
SIZES = {"large": (2, 8), "xlarge": (4, 16), "2xlarge": (8, 32), "4xlarge": (16, 64)}


def _api():
    path = config.get("kube_admin_kubeconfig")
    if not path:
        return None
    from kubernetes import client, config as kube_config  # pylint: disable=import-outside-toplevel

    return client.CoreV1Api(kube_config.new_client_from_config(config_file=path))


def _node(nodegroup, region, index, zones):
    instance_type = (nodegroup.instance_types or ["m6i.large"])[0]
    vcpus, memory = SIZES.get(instance_type.split(".")[-1], (2, 8))
    digest = hashlib.sha1(("%s/%d" % (nodegroup.arn, index)).encode()).digest()
    name = "ip-10-0-%d-%d.%s.compute.internal" % (digest[0], digest[1], region)
    labels = dict(nodegroup.labels or {})
    labels.update({
        "eks.amazonaws.com/nodegroup": nodegroup.nodegroup_name,
        "eks.amazonaws.com/capacityType": nodegroup.capacity_type or "ON_DEMAND",
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": zones[index % len(zones)],
        "kubernetes.io/arch": "arm64" if "ARM" in (nodegroup.ami_type or "") else "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        "type": "kwok",
    })
    allocatable = {"cpu": str(vcpus), "memory": "%dGi" % memory, "pods": "110", "ephemeral-storage": "50Gi"}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "annotations": {"kwok.x-k8s.io/node": "fake"}},
        "spec": {"taints": [{"key": t["key"], "value": t.get("value"), "effect": t["effect"].title().replace("_", "")}
                            for t in (nodegroup.taints or [])],
                 "providerID": "aws:///%s/i-%s" % (zones[index % len(zones)], digest.hex()[:17])},
        "status": {"allocatable": allocatable, "capacity": allocatable},
    }


def joined(nodegroup, region, zones):
    """Register the node group's nodes (called when the node group becomes ACTIVE)."""
    api = _api()
    if api is None:
        return
    from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel

    for index in range(int((nodegroup.scaling_config or {}).get("desiredSize", 1))):
        try:
            api.create_node(_node(nodegroup, region, index, zones))
        except ApiException as exc:
            if exc.status != 409:
                LOG.warning("could not register node %d of %s: %s", index, nodegroup.nodegroup_name, exc)


def left(nodegroup):
    """Remove the node group's nodes (called when the node group is deleted)."""
    api = _api()
    if api is None:
        return
    from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel

    try:
        for node in api.list_node(label_selector="eks.amazonaws.com/nodegroup=%s" % nodegroup.nodegroup_name).items:
            api.delete_node(node.metadata.name)
    except ApiException as exc:
        LOG.warning("could not remove the nodes of %s: %s", nodegroup.nodegroup_name, exc)
