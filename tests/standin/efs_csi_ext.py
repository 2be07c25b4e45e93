"""The EFS CSI driver's dynamic provisioning, for the local Kubernetes stand-in.

On EKS the aws-efs-csi-driver add-on watches PersistentVolumeClaims of a StorageClass with
provisioner ``efs.csi.aws.com`` and ``provisioningMode: efs-ap``: it creates an EFS access point on
the class's file system and a PersistentVolume bound to the claim; when the volume is released and
the class's reclaim policy is Delete, it deletes the access point. KWOK runs no CSI driver, so this
thread does the same against the AWS stand-in's EFS (moto) and the local API server. It runs inside
the AWS stand-in process while ``kube_admin_kubeconfig`` is configured.
"""
import logging

from .kube_controller import Controller

LOG = logging.getLogger(__name__)
DRIVER = "efs.csi.aws.com"


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


def reconcile(api_client):
    """One pass: provision pending claims of efs-ap classes, delete released volumes of Delete classes."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core, storage = client.CoreV1Api(api_client), client.StorageV1Api(api_client)
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
