"""The EFS CSI driver's dynamic provisioning, for the local Kubernetes stand-in.

On EKS the aws-efs-csi-driver add-on watches PersistentVolumeClaims of a StorageClass with
provisioner ``efs.csi.aws.com`` and ``provisioningMode: efs-ap``: it creates an EFS access point on
the class's file system and a PersistentVolume bound to the claim; when the volume is released and
the class's reclaim policy is Delete, it deletes the access point. KWOK runs no CSI driver, so this
thread does the same against the AWS stand-in's EFS (moto) and the local API server. It runs inside
the AWS stand-in process while ``kube_admin_kubeconfig`` is configured.

It also stands in for the node side (the kubelet's volume manager with the EFS CSI node plugin): a pod
scheduled with claims of the driver is mounted only when the file system policy lets the mount's
identity in (efs_policy.decide). With the ``iam`` mount option that identity is the IAM role of the
node (a managed node group's nodeRole; for a Karpenter node the ``role`` of the EC2NodeClass its
NodePool names, for an EKS Auto Mode node the one of its NodeClass); without it the mount is anonymous.
The verdict is the pod annotation MOUNT_ANNOTATION ("mounted" or "denied"); the cluster's KWOK pod-ready stage (k8s/cluster.py) only readies a pod with
claims once it says "mounted", so a refused pod stays Pending with a FailedMount event, as on EKS.
"""
import datetime
import logging

from . import auto_mode_ext, efs_policy
from .kube_controller import Controller

LOG = logging.getLogger(__name__)
DRIVER = "efs.csi.aws.com"
MOUNT_ANNOTATION = "standin.eks-llm/volumes"
REASON_ANNOTATION = "standin.eks-llm/volumes-reason"


def _efs(region):
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.efs.models import efs_backends  # pylint: disable=import-outside-toplevel

    return efs_backends[DEFAULT_ACCOUNT_ID][region]


def _region_of(file_system_id):
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.efs.models import efs_backends  # pylint: disable=import-outside-toplevel

    for region in list(efs_backends[DEFAULT_ACCOUNT_ID]):
        if file_system_id in efs_backends[DEFAULT_ACCOUNT_ID][region].file_systems_by_id:
            return region
    return None


def _provision(core, claim, storage_class):
    params = storage_class.parameters or {}
    file_system_id = params.get("fileSystemId", "")
    region = _region_of(file_system_id)
    if params.get("provisioningMode") != "efs-ap" or region is None:
        LOG.warning("cannot provision %s/%s: file system %r not found or mode not efs-ap",
                    claim.metadata.namespace, claim.metadata.name, file_system_id)
        return
    efs = _efs(region)
    file_system = efs.file_systems_by_id[file_system_id]
    # the add-on is configured (controller.tags) to tag access points like the rest of the deployment
    tags = [{"Key": "efs.csi.aws.com/cluster", "Value": "true"}]
    tags += [tag for tag in efs.list_tags_for_resource(file_system_id) if tag["Key"].startswith("eks-llm:")]
    gid = int(params.get("gidRangeStart", "50000"))
    base = params.get("basePath", "").rstrip("/")
    pv_name = "pvc-%s" % claim.metadata.uid
    access_point = efs.create_access_point(
        client_token=pv_name, tags=tags + [{"Key": "Name", "Value": pv_name}], file_system_id=file_system.file_system_id,
        posix_user={"Uid": gid, "Gid": gid},
        root_directory={"Path": "%s/%s" % (base, pv_name), "CreationInfo": {
            "OwnerUid": gid, "OwnerGid": gid, "Permissions": params.get("directoryPerms", "700")}})
    volume = {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": DRIVER}},
        "spec": {
            "capacity": {"storage": claim.spec.resources.requests["storage"]},
            "accessModes": claim.spec.access_modes,
            "persistentVolumeReclaimPolicy": storage_class.reclaim_policy or "Delete",
            "storageClassName": storage_class.metadata.name,
            "volumeMode": "Filesystem",
            # the external-provisioner copies the class's mount options onto the volume
            "mountOptions": list(storage_class.mount_options or []),
            "csi": {"driver": DRIVER, "volumeHandle": "%s::%s" % (file_system_id, access_point.access_point_id)},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": claim.metadata.namespace,
                         "name": claim.metadata.name, "uid": claim.metadata.uid},
        },
    }
    core.create_persistent_volume(volume)


def _reclaim(core, volume):
    handle = volume.spec.csi.volume_handle if volume.spec.csi else ""
    if "::" in handle:
        file_system_id, access_point_id = handle.split("::", 1)
        region = _region_of(file_system_id)
        if region is not None:
            _efs(region).delete_access_point(access_point_id)
    core.delete_persistent_volume(volume.metadata.name)


def _account_region_backends(region):
    from moto.core import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.eks.models import eks_backends  # pylint: disable=import-outside-toplevel
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    return eks_backends[DEFAULT_ACCOUNT_ID][region], iam_backends[DEFAULT_ACCOUNT_ID]["global"]


def _node_role(custom, node, region):
    """(role ARN, identity policy documents) of the node's instance profile, or raise LookupError saying why not."""
    labels = node.metadata.labels or {}
    eks, iam = _account_region_backends(region)
    role_ref = None
    if "eks.amazonaws.com/nodegroup" in labels:
        name = labels["eks.amazonaws.com/nodegroup"]
        found = [c.nodegroups[name] for c in eks.clusters.values() if name in c.nodegroups]
        if not found:
            raise LookupError("node %s: node group %s not found" % (node.metadata.name, name))
        role_ref = found[0].node_role
    elif "karpenter.sh/nodepool" in labels:
        pool = custom.get_cluster_custom_object("karpenter.sh", "v1", "nodepools", labels["karpenter.sh/nodepool"])
        twin_of = (pool["metadata"].get("labels") or {}).get(auto_mode_ext.TWIN_LABEL)
        if twin_of:  # an EKS Auto Mode node: the role is the one of the NodeClass of the NodePool it stands for
            pool = custom.get_cluster_custom_object("karpenter.sh", "v1", "nodepools", twin_of)
        ref = pool["spec"]["template"]["spec"]["nodeClassRef"]
        if ref["group"] == auto_mode_ext.GROUP:
            kind, node_class = "NodeClass", custom.get_cluster_custom_object(auto_mode_ext.GROUP, auto_mode_ext.VERSION, auto_mode_ext.PLURAL,
                                                                             ref["name"])
        else:
            # locally the NodePool may point at the KWOKNodeClass twin; the role is in the EC2NodeClass of that name
            kind, node_class = "EC2NodeClass", custom.get_cluster_custom_object("karpenter.k8s.aws", "v1", "ec2nodeclasses", ref["name"])
        role_ref = (node_class.get("spec") or {}).get("role")
        if not role_ref:
            raise LookupError("node %s: %s %s has no role" % (node.metadata.name, kind, ref["name"]))
    else:
        raise LookupError("node %s belongs to no node group or NodePool" % node.metadata.name)
    role_name = role_ref.rsplit("/", 1)[-1]
    role = [r for r in iam.roles.values() if r.name == role_name]
    if not role:
        raise LookupError("node %s: IAM role %s not found" % (node.metadata.name, role_name))
    documents = list(role[0].policies.values())
    for policy in role[0].managed_policies.values():
        documents += [v.document for v in policy.versions if v.is_default]
    return role[0].arn, documents


def _mount_verdict(custom, pod, claims, volumes_by_name, nodes):
    """None while a claim is unbound, else (allowed, reason) for all the pod's claims."""
    for volume in pod.spec.volumes or []:
        if volume.persistent_volume_claim is None:
            continue
        claim = claims.get((pod.metadata.namespace, volume.persistent_volume_claim.claim_name))
        pv = volumes_by_name.get(claim.spec.volume_name) if claim is not None and claim.spec.volume_name else None
        if pv is None:
            return None
        if pv.spec.csi is None or pv.spec.csi.driver != DRIVER:
            continue
        file_system_id = pv.spec.csi.volume_handle.split("::", 1)[0]
        region = _region_of(file_system_id)
        if region is None:
            return False, "file system %s not found" % file_system_id
        file_system = _efs(region).file_systems_by_id[file_system_id]
        options = set(pv.spec.mount_options or [])
        read_only = bool(volume.persistent_volume_claim.read_only) or set(pv.spec.access_modes or []) == {"ReadOnlyMany"}
        actions = efs_policy.CLIENT_ACTIONS[:1] if read_only else efs_policy.CLIENT_ACTIONS[:2]
        principal, documents = None, []
        if "iam" in options:
            try:
                principal, documents = _node_role(custom, nodes[pod.spec.node_name], region)
            except (LookupError, KeyError) as exc:
                return False, "cannot tell the mount's IAM identity: %s" % exc
        try:
            allowed, reason = efs_policy.decide(file_system.file_system_policy, documents, file_system.file_system_arn,
                                                principal, actions, tls="tls" in options)
        except efs_policy.Unsupported as exc:
            allowed, reason = False, "the stand-in cannot evaluate the file system policy (%s): refused" % exc
        if not allowed:
            return False, "volume %s (%s): EFS mount denied by the file system policy of %s: %s" % (
                volume.name, pv.metadata.name, file_system_id, reason)
    return True, "mounted"


def _judge_mounts(core, custom):
    """The node side: decide the mounts of scheduled pods with claims (retrying refused ones, as kubelet does)."""
    pods = [p for p in core.list_pod_for_all_namespaces().items
            if p.spec.node_name and p.metadata.deletion_timestamp is None
            and any(v.persistent_volume_claim is not None for v in p.spec.volumes or [])
            and (p.metadata.annotations or {}).get(MOUNT_ANNOTATION) != "mounted"]
    if not pods:
        return
    claims = dict(((c.metadata.namespace, c.metadata.name), c) for c in core.list_persistent_volume_claim_for_all_namespaces().items)
    volumes_by_name = dict((v.metadata.name, v) for v in core.list_persistent_volume().items)
    nodes = dict((n.metadata.name, n) for n in core.list_node().items)
    for pod in pods:
        verdict = _mount_verdict(custom, pod, claims, volumes_by_name, nodes)
        if verdict is None:
            continue
        allowed, reason = verdict
        annotations = pod.metadata.annotations or {}
        if annotations.get(MOUNT_ANNOTATION) == ("mounted" if allowed else "denied") and annotations.get(REASON_ANNOTATION) == reason:
            continue
        core.patch_namespaced_pod(pod.metadata.name, pod.metadata.namespace, {"metadata": {"annotations": {
            MOUNT_ANNOTATION: "mounted" if allowed else "denied", REASON_ANNOTATION: reason}}})
        if not allowed:
            LOG.warning("pod %s/%s: %s", pod.metadata.namespace, pod.metadata.name, reason)
            now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            core.create_namespaced_event(pod.metadata.namespace, {
                "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "FailedMount",
                "metadata": {"generateName": pod.metadata.name + ".", "namespace": pod.metadata.namespace},
                "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod.metadata.name,
                                   "namespace": pod.metadata.namespace, "uid": pod.metadata.uid},
                "message": "MountVolume.SetUp failed: mount.nfs4: access denied by server (%s)" % reason,
                "source": {"component": "kubelet", "host": pod.spec.node_name},
                "firstTimestamp": now, "lastTimestamp": now, "count": 1})


def reconcile(api_client):
    """One pass: provision pending claims of efs-ap classes, delete released volumes of Delete classes."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core, storage = client.CoreV1Api(api_client), client.StorageV1Api(api_client)
    _judge_mounts(core, client.CustomObjectsApi(api_client))
    classes = dict((sc.metadata.name, sc) for sc in storage.list_storage_class().items if sc.provisioner == DRIVER)
    if not classes:
        return
    volumes = core.list_persistent_volume().items
    bound_claims = set(v.spec.claim_ref.uid for v in volumes if v.spec.claim_ref is not None)
    for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
        if (claim.spec.storage_class_name in classes and claim.status.phase == "Pending" and not claim.spec.volume_name
                and claim.metadata.uid not in bound_claims and claim.metadata.deletion_timestamp is None):
            _provision(core, claim, classes[claim.spec.storage_class_name])
    for volume in volumes:
        released = volume.status.phase == "Released" or (volume.status.phase == "Failed" and volume.spec.claim_ref is not None)
        if (released and volume.spec.csi is not None and volume.spec.csi.driver == DRIVER
                and volume.spec.persistent_volume_reclaim_policy == "Delete"):
            _reclaim(core, volume)


CONTROLLER = Controller("efs-csi", reconcile)
install = CONTROLLER.install
