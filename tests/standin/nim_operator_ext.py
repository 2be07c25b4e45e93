"""The NVIDIA NIM Operator's reconciliation, for the local Kubernetes stand-in.

STAND-IN (local tests only). On EKS the k8s-nim-operator chart runs NVIDIA's operator, which turns a NIMCache
into a claim filled by a caching Job, and a NIMService into a Deployment, a Service (and an HPA when it
scales) that serve the cached model, and reports both in their status. Locally the stand-in chart
(tests/standin/charts/k8s-nim-operator) installs the CRDs and an operator Deployment that runs nothing on
KWOK nodes, and KWOK cannot drive the status of kinds whose CRD appears after it started. So this thread
plays the operator, while the operator's Deployment is available (no operator installed: nothing happens):

- NIMCache: creates the claim ``<name>-pvc`` (``spec.storage.pvc``; the EFS CSI stand-in binds it), then the
  caching Job ``<name>-job`` placed like the real one (v3.0.2 internal/controller/nimcache_controller.go
  constructJob): ``spec.nodeSelector``, or when the NIMCache has none the Node Feature Discovery label
  ``feature.node.kubernetes.io/pci-10de.present: "true"`` (api/apps/v1alpha1/nimcache_types.go
  GetNodeSelectors), and only ``spec.tolerations``. The scheduler, Karpenter and KWOK run it (KWOK completes
  Job pods); a cluster whose GPU nodes lack the label never runs it, as on EKS. The states and conditions are
  the real ones: ``PVC-Created`` (NIM_CACHE_PVC_CREATED), ``Started`` (NIM_CACHE_JOB_CREATED), ``InProgress``
  while the Job is active (NIM_CACHE_JOB_PENDING False/JobRunning: a pod that cannot be placed stays here),
  ``Ready`` once it succeeded (NIM_CACHE_JOB_COMPLETED), ``Failed`` if it failed. Nothing is downloaded.
- NIMService: once its NIMCache is Ready, creates the Deployment and Service (and the HPA of ``spec.scale``)
  the operator would, owned by the NIMService (deleting it deletes them), with its labels, image, pull
  secrets, resources, node selector and tolerations, so the scheduler, Karpenter and KWOK place the pods
  on the GPU pool; reports ``state: Ready`` with the condition ``Ready`` once the Deployment is available,
  ``NotReady`` (Ready False, NIMCacheNotReady) while its cache is not Ready, ``Failed`` when the cache failed or
  does not exist (v3.0.2 internal/controller/platform/standalone/nimservice.go, internal/conditions).

It runs inside the AWS stand-in process while ``kube_admin_kubeconfig`` is configured (like efs_csi_ext).
"""
import copy
import datetime
import logging

from .kube_controller import Controller

LOG = logging.getLogger(__name__)
GROUP, VERSION = "apps.nvidia.com", "v1alpha1"
OPERATOR_SELECTOR = "app.kubernetes.io/name=k8s-nim-operator"
GENERATION_ANNOTATION = "nim-operator-standin/generation"
MESSAGE = "simulated by the local NIM Operator stand-in (tests/standin/nim_operator_ext.py)"
# The node selector of the caching Job of a NIMCache without spec.nodeSelector (NIM Operator v3.0.2
# api/apps/v1alpha1/nimcache_types.go GetNodeSelectors): GPU nodes as Node Feature Discovery labels them.
NFD_NVIDIA_PCI_LABEL = "feature.node.kubernetes.io/pci-10de.present"


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner(obj):
    meta = obj["metadata"]
    return [{"apiVersion": "%s/%s" % (GROUP, VERSION), "kind": obj["kind"], "name": meta["name"], "uid": meta["uid"],
             "controller": True, "blockOwnerDeletion": True}]


def _operator_running(apps):
    return any((d.status.available_replicas or 0) > 0
               for d in apps.list_deployment_for_all_namespaces(label_selector=OPERATOR_SELECTOR).items)


def _list(custom, plural):
    from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel

    try:
        return custom.list_cluster_custom_object(GROUP, VERSION, plural)["items"]
    except ApiException as exc:
        if exc.status == 404:  # the CRDs are not installed
            return []
        raise


def _same(current, wanted):
    """Status equality that ignores transition times."""
    def strip(status):
        status = copy.deepcopy(status or {})
        for condition in status.get("conditions") or []:
            condition.pop("lastTransitionTime", None)
        return status
    return strip(current) == strip(wanted)


def _set_status(custom, obj, plural, status):
    if _same(obj.get("status"), status):
        return
    for condition in status.get("conditions") or []:
        condition["lastTransitionTime"] = _now()
    meta = obj["metadata"]
    custom.patch_namespaced_custom_object_status(GROUP, VERSION, meta["namespace"], plural, meta["name"], {"status": status})


def _condition(kind, status, reason):
    return {"type": kind, "status": status, "reason": reason, "message": MESSAGE}


def _read(reader, name, namespace):
    from kubernetes.client.rest import ApiException  # pylint: disable=import-outside-toplevel

    try:
        return reader(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def cache_job(cache, claim):
    """The caching Job the v3.0.2 operator creates for an NGC NIMCache (placement, volume, owner; no download)."""
    meta, spec = cache["metadata"], cache["spec"]
    ngc = spec["source"].get("ngc") or {}
    job_labels = {"app": "k8s-nim-operator", "app.kubernetes.io/name": meta["name"], "app.kubernetes.io/managed-by": "k8s-nim-operator"}
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": meta["name"] + "-job", "namespace": meta["namespace"], "ownerReferences": _owner(cache)},
        "spec": {"backoffLimit": 5, "ttlSecondsAfterFinished": 600, "template": {
            "metadata": {"labels": job_labels},
            "spec": {
                "restartPolicy": "Never",
                "nodeSelector": spec.get("nodeSelector") or {NFD_NVIDIA_PCI_LABEL: "true"},
                "tolerations": spec.get("tolerations") or [],
                "imagePullSecrets": [{"name": ngc["pullSecret"]}] if ngc.get("pullSecret") else [],
                "containers": [{"name": "nim-cache", "image": ngc.get("modelPuller", "nim-cache"), "command": ["download-to-cache"],
                                "volumeMounts": [{"name": "nim-cache-volume", "mountPath": "/model-store"}]}],
                "volumes": [{"name": "nim-cache-volume", "persistentVolumeClaim": {"claimName": claim}}],
            }}},
    }


def cache_status(job_status, claim):
    """State and conditions of a NIMCache from its caching Job's status, as the v3.0.2 reconciler reports them
    (job_status None: the Job was just created)."""
    conditions = [_condition("NIM_CACHE_PVC_CREATED", "True", "PVCCreated"), _condition("NIM_CACHE_JOB_CREATED", "True", "JobCreated")]
    if job_status is None:
        state = "Started"
    elif (job_status.succeeded or 0) > 0:
        state = "Ready"
        conditions.append(_condition("NIM_CACHE_JOB_COMPLETED", "True", "JobCompleted"))
    elif (job_status.failed or 0) > 0:
        state = "Failed"
        conditions.append(_condition("NIM_CACHE_JOB_COMPLETED", "False", "JobFailed"))
    elif (job_status.active or 0) > 0:  # a pod no node can take stays active (Pending) for ever
        state = "InProgress"
        conditions.append(_condition("NIM_CACHE_JOB_PENDING", "False", "JobRunning"))
    else:
        state = "Pending"
        conditions.append(_condition("NIM_CACHE_JOB_PENDING", "True", "JobPending"))
    return {"state": state, "pvc": claim, "conditions": conditions}


def reconcile_cache(clients, cache):
    """Claim, then the caching Job; the state follows the Job (Ready stays Ready, like the real reconciler)."""
    core, batch, custom = clients
    meta, pvc = cache["metadata"], cache["spec"]["storage"].get("pvc") or {}
    if meta.get("deletionTimestamp") or (cache.get("status") or {}).get("state") == "Ready":
        return
    name = pvc.get("name") or meta["name"] + "-pvc"
    claim = _read(core.read_namespaced_persistent_volume_claim, name, meta["namespace"])
    if claim is None and pvc.get("create"):
        core.create_namespaced_persistent_volume_claim(meta["namespace"], {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": meta["namespace"], "ownerReferences": _owner(cache),
                         "annotations": pvc.get("annotations") or {}},
            "spec": {"accessModes": [pvc.get("volumeAccessMode") or "ReadWriteOnce"], "storageClassName": pvc.get("storageClass"),
                     "resources": {"requests": {"storage": pvc["size"]}}}})
    if claim is None:
        _set_status(custom, cache, "nimcaches", {"state": "PVC-Created", "conditions": [_condition("NIM_CACHE_PVC_CREATED", "True", "PVCCreated")]})
        return
    job = _read(batch.read_namespaced_job, meta["name"] + "-job", meta["namespace"])
    if job is None:
        batch.create_namespaced_job(meta["namespace"], cache_job(cache, name))
    _set_status(custom, cache, "nimcaches", cache_status(job.status if job is not None else None, name))


def _deployment(service, claim):
    meta, spec = service["metadata"], service["spec"]
    pod_labels = dict(spec.get("labels") or {}, app=meta["name"])
    scale = spec.get("scale") or {}
    replicas = ((scale.get("hpa") or {}).get("minReplicas") or 1) if scale.get("enabled") else spec.get("replicas", 1)
    image = spec["image"]
    container = {
        "name": meta["name"], "image": "%s:%s" % (image["repository"], image["tag"]),
        "imagePullPolicy": image.get("pullPolicy") or "IfNotPresent",
        "env": [{"name": "NIM_CACHE_PATH", "value": "/model-store"},
                {"name": "NGC_API_KEY", "valueFrom": {"secretKeyRef": {"name": spec["authSecret"], "key": "NGC_API_KEY"}}}],
        "ports": [{"name": "api", "containerPort": (spec.get("expose") or {}).get("service", {}).get("port", 8000)}],
        "resources": spec.get("resources") or {},
        "volumeMounts": [{"name": "model-store", "mountPath": "/model-store"}],
    }
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        if (spec.get(probe) or {}).get("enabled"):
            container[probe] = spec[probe]["probe"]
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": pod_labels, "ownerReferences": _owner(service),
                     "annotations": {GENERATION_ANNOTATION: str(meta["generation"])}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": meta["name"]}},
            "template": {"metadata": {"labels": pod_labels}, "spec": {
                "nodeSelector": spec.get("nodeSelector") or {},
                "tolerations": spec.get("tolerations") or [],
                "imagePullSecrets": [{"name": s} for s in image.get("pullSecrets") or []],
                "containers": [container],
                "volumes": [{"name": "model-store", "persistentVolumeClaim": {"claimName": claim}}],
            }},
        },
    }


def _service_objects(service, claim):
    meta, spec = service["metadata"], service["spec"]
    expose = (spec.get("expose") or {}).get("service") or {}
    object_labels = dict(spec.get("labels") or {}, app=meta["name"])
    generation = {GENERATION_ANNOTATION: str(meta["generation"])}
    owned = {"namespace": meta["namespace"], "labels": object_labels, "ownerReferences": _owner(service), "annotations": generation}
    objects = [_deployment(service, claim), {
        "apiVersion": "v1", "kind": "Service",
        "metadata": dict(owned, name=meta["name"], annotations=dict(expose.get("annotations") or {}, **generation)),
        "spec": {"type": expose.get("type") or "ClusterIP", "selector": {"app": meta["name"]},
                 "ports": [{"name": "api", "port": expose.get("port", 8000), "targetPort": "api"}]}}]
    scale = spec.get("scale") or {}
    if scale.get("enabled"):
        hpa = copy.deepcopy(scale["hpa"])
        hpa["scaleTargetRef"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"]}
        objects.append({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                        "metadata": dict(owned, name=meta["name"]), "spec": hpa})
    return objects


def reconcile_service(clients, service, caches):
    """Deployment, Service (and HPA) once the cache is Ready; Ready once the Deployment is available."""
    core, apps, autoscaling, custom = clients
    meta = service["metadata"]
    if meta.get("deletionTimestamp"):
        return
    cache = caches.get((meta["namespace"], ((service["spec"].get("storage") or {}).get("nimCache") or {}).get("name")))
    cache_status = (cache or {}).get("status") or {}
    if cache is None or cache_status.get("state") == "Failed":  # v3.0.2 standalone/nimservice.go: Failed
        reason = "NIMCacheNotFound" if cache is None else "NIMCacheFailed"
        _set_status(custom, service, "nimservices", {"state": "Failed", "conditions": [
            _condition("Ready", "False", "Failed"), _condition("Failed", "True", reason)]})
        return
    if cache_status.get("state") != "Ready":
        _set_status(custom, service, "nimservices", {"state": "NotReady", "conditions": [
            _condition("Ready", "False", "NIMCacheNotReady"), _condition("Failed", "False", "Ready")]})
        return
    api = {"Deployment": (apps.read_namespaced_deployment, apps.create_namespaced_deployment, apps.replace_namespaced_deployment),
           "Service": (core.read_namespaced_service, core.create_namespaced_service, None),
           "HorizontalPodAutoscaler": (autoscaling.read_namespaced_horizontal_pod_autoscaler,
                                       autoscaling.create_namespaced_horizontal_pod_autoscaler,
                                       autoscaling.replace_namespaced_horizontal_pod_autoscaler)}
    deployment = None
    for obj in _service_objects(service, cache_status["pvc"]):
        read, create, replace = api[obj["kind"]]
        current = _read(read, obj["metadata"]["name"], meta["namespace"])
        if current is None:
            create(meta["namespace"], obj)
        elif replace is not None and (current.metadata.annotations or {}).get(GENERATION_ANNOTATION) != str(meta["generation"]):
            obj["metadata"]["resourceVersion"] = current.metadata.resource_version
            replace(obj["metadata"]["name"], meta["namespace"], obj)
        if obj["kind"] == "Deployment":
            deployment = current
    available = (deployment.status.available_replicas or 0) if deployment is not None else 0
    if available > 0:
        status = {"state": "Ready", "availableReplicas": available,
                  "conditions": [_condition("Ready", "True", "Ready"), _condition("Failed", "False", "Ready")]}
    else:
        status = {"state": "NotReady", "conditions": [_condition("Ready", "False", "NotReady"), _condition("Failed", "False", "Ready")]}
    _set_status(custom, service, "nimservices", status)


def reconcile(api_client):
    """One pass over every NIMCache and NIMService, while the operator is installed."""
    from kubernetes import client  # pylint: disable=import-outside-toplevel

    core, apps, custom = client.CoreV1Api(api_client), client.AppsV1Api(api_client), client.CustomObjectsApi(api_client)
    if not _operator_running(apps):
        return
    caches = {}
    for cache in _list(custom, "nimcaches"):
        reconcile_cache((core, client.BatchV1Api(api_client), custom), cache)
        caches[(cache["metadata"]["namespace"], cache["metadata"]["name"])] = cache
    if not caches:
        return
    caches = dict(((c["metadata"]["namespace"], c["metadata"]["name"]), c) for c in _list(custom, "nimcaches"))
    clients = (core, apps, client.AutoscalingV2Api(api_client), custom)
    for service in _list(custom, "nimservices"):
        reconcile_service(clients, service, caches)


CONTROLLER = Controller("nim-operator", reconcile)
install = CONTROLLER.install
