# -*- coding: utf-8 -*-
# Copyright: contributors to eks_llm.inference
# Apache License 2.0 (see LICENSE)
"""The objects the verify role starts in the cluster: its Namespace, the LLM probe (a ConfigMap with the probe, its
prompts and spec, and a Job running it) and the storage probes (a ConfigMap with the write/read script, and per GPU
pool a claim and a Job pinned to the pool). Pure functions of the role's inputs, applied as returned.

Every Job runs as nobody with a read-only root, no capabilities, no service account token and a deadline: it talks to
the models' Services or writes one file, nothing else."""

import json

COMPONENT_LABEL = "app.kubernetes.io/component"
STORAGE_PROBE_LABEL = "eks-llm/storage-probe"
PROBE_MOUNT = "/probe"


def _labels(labels, component, **more):
    merged = dict(labels or {})
    merged[COMPONENT_LABEL] = component
    merged.update(more)
    return merged


def _meta(name, namespace, labels):
    return {"name": name, "namespace": namespace, "labels": labels}


def namespace(name, labels):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": _labels(labels, "verify")}}


def _config_map(name, namespace_name, labels, files):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, namespace_name, labels), "data": dict(files)}


def _job(name, namespace_name, labels, image, command, deadline_s, resources, volumes, mounts, env=None, ttl_s=None, **pod):
    """A Job of one non-root container, run once (backoffLimit 0) within deadline_s seconds. pod: more pod spec keys
    (nodeSelector, tolerations); env: the container's variables; ttl_s: how long the finished Job stays."""
    container = {
        "name": "probe", "image": image, "imagePullPolicy": "IfNotPresent", "command": list(command),
        "resources": resources,
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                            "capabilities": {"drop": ["ALL"]}},
        "volumeMounts": mounts,
    }
    if env:
        container["env"] = [{"name": key, "value": value} for key, value in sorted(env.items())]
    spec = {
        "restartPolicy": "Never", "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container], "volumes": volumes,
    }
    spec.update({key: value for key, value in pod.items() if value is not None})
    job_spec = {"backoffLimit": 0, "activeDeadlineSeconds": int(deadline_s),
                "template": {"metadata": {"labels": labels}, "spec": spec}}
    if ttl_s:
        job_spec["ttlSecondsAfterFinished"] = int(ttl_s)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": _meta(name, namespace_name, labels), "spec": job_spec}


def llm_probe(settings):
    """The LLM probe of one verify run. settings: {run, namespace, labels, image, deadline_s, probe (llm_probe.py's
    text), prompts (the prompt file's text), spec (the probe's input, dict)}. Returns {name, config_map, job}: both
    named llm-probe-<run> (lower case), the Job mounting the ConfigMap at /probe."""
    name = "llm-probe-" + str(settings["run"]).lower()
    labels = _labels(settings["labels"], "verify")
    files = {"llm_probe.py": settings["probe"], "prompts.txt": settings["prompts"],
             "spec.json": json.dumps(settings["spec"], sort_keys=True)}
    job = _job(name, settings["namespace"], labels, settings["image"],
               ["python3", PROBE_MOUNT + "/llm_probe.py", "--spec", PROBE_MOUNT + "/spec.json",
                "--prompts", PROBE_MOUNT + "/prompts.txt"],
               settings["deadline_s"], {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
               [{"name": "probe", "configMap": {"name": name}}],
               [{"name": "probe", "mountPath": PROBE_MOUNT, "readOnly": True}],
               env={"PYTHONDONTWRITEBYTECODE": "1"}, ttl_s=86400)
    return {"name": name, "config_map": _config_map(name, settings["namespace"], labels, files), "job": job}


def storage_probes(probes, settings):
    """The storage probes' objects. probes: verify_storage_probes' list ({name, pool, storage_class, node_selector,
    tolerations}); settings: {namespace, labels, image, timeout_s, script (storage_probe.py's text)}. Returns
    {config_map, claims, jobs}: one shared script, and per probe a 1 GiB ReadWriteMany claim of its class and a Job
    on its pool (tolerating the GPU taint, requesting no GPU) writing and reading back a file on it. The Jobs'
    deadline outlasts the role's wait by two minutes, so their pods are still there to be judged."""
    labels = _labels(settings["labels"], "verify-storage")
    namespace_name = settings["namespace"]
    claims, jobs = [], []
    for probe in probes:
        own = dict(labels, **{STORAGE_PROBE_LABEL: probe["name"]})
        claims.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(probe["name"], namespace_name, own),
                       "spec": {"accessModes": ["ReadWriteMany"], "storageClassName": probe["storage_class"],
                                "resources": {"requests": {"storage": "1Gi"}}}})
        jobs.append(_job(probe["name"], namespace_name, own, settings["image"],
                         ["python3", PROBE_MOUNT + "/storage_probe.py", "/data"], int(settings["timeout_s"]) + 120,
                         {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "64Mi"}},
                         [{"name": "probe", "configMap": {"name": "storage-probe"}},
                          {"name": "data", "persistentVolumeClaim": {"claimName": probe["name"]}}],
                         [{"name": "probe", "mountPath": PROBE_MOUNT, "readOnly": True}, {"name": "data", "mountPath": "/data"}],
                         nodeSelector=probe["node_selector"], tolerations=probe["tolerations"]))
    config_map = _config_map("storage-probe", namespace_name, labels, {"storage_probe.py": settings["script"]})
    return {"config_map": config_map, "claims": claims, "jobs": jobs}
